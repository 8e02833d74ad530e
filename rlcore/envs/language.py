"""The character-level language MDP: writing text one character at a time.

Book: *RL for large language models*, "Text generation as an MDP".

========== ================================================================
MDP part   language MDP
========== ================================================================
state      ``s_t`` = the text written so far (prompt + ``t`` characters), or
           with ``window=k`` only its last ``k`` characters (not Markov!)
action     ``a_t`` = the next character, or the end token ``EOS``
transition deterministic: ``s_{t+1} = s_t + a_t``
reward     ``r_t = r_imm(s_{t+1}) + [episode ends at t] * r_end(final text)``
end        ``EOS`` -> *terminated*; reaching ``max_len`` characters -> *truncated*
========== ================================================================

Token ids (one id space shared with :mod:`rlcore.lm.nn`): the ``n`` characters
are ``0 .. n-1``, then ``EOS = n``, ``BOS = n+1``, ``PAD = n+2``. Actions are
``0 .. n`` (characters and ``EOS``), so an action id *is* a token id.

The length limit is part of the task: the delayed reward is paid at the
last step whether the text ended with ``EOS`` or hit ``max_len``, so there is
nothing left to bootstrap after a truncation (``V`` of a full-length text is 0).

Observations are, by default, the integer index of the state (a tabular view
for tiny instances, so :func:`rlcore.q_learning` runs unchanged). The number
of states is ``sum_{t=0}^{T} |V|^t``, which explodes with ``T``: that is the
book's argument for neural policies. ``observation="tokens"`` gives the padded
token ids instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

__all__ = [
    "Vocabulary", "CharLanguageEnv", "TextReward",
    "target_match", "pattern_match", "contains_word", "lexicon_score", "length_constraint", "char_reward",
    "weighted_sum", "state_count", "enumerate_states", "greedy_success_rate", "echo_task",
]

TextReward = Callable[[str], float]
"""A reward is any callable ``text -> float``."""


# ------------------------------------------------------------------ vocabulary
class Vocabulary:
    """Characters and the three special tokens, with ``stoi``/``itos`` maps.

    ``chars`` = the ``n`` characters (ids ``0 .. n-1``); ``EOS = n``, ``BOS = n+1``,
    ``PAD = n+2``; ``n_actions = n + 1`` (characters and EOS), ``n_tokens = n + 3``.
    """

    def __init__(self, chars: str | Sequence[str]) -> None:
        chars = list(chars)
        if len(chars) == 0:
            raise ValueError("vocabulary must contain at least one character, got an empty vocabulary")
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise ValueError(f"vocabulary entries must be single characters, got {c!r}")
        if len(set(chars)) != len(chars):
            dup = sorted({c for c in chars if chars.count(c) > 1})
            raise ValueError(f"vocabulary characters must be distinct, got duplicates {dup}")
        self.chars: tuple[str, ...] = tuple(chars)
        self.n_chars = len(chars)
        self.EOS = self.n_chars
        self.BOS = self.n_chars + 1
        self.PAD = self.n_chars + 2
        self.n_actions = self.n_chars + 1
        self.n_tokens = self.n_chars + 3
        self.stoi = {c: i for i, c in enumerate(chars)}
        self.itos = {i: c for i, c in enumerate(chars)}
        self.itos.update({self.EOS: "<eos>", self.BOS: "<bos>", self.PAD: "<pad>"})

    @classmethod
    def from_text(cls, text: str | Iterable[str]) -> Vocabulary:
        """The sorted set of characters in ``text`` (newlines excluded)."""
        if not isinstance(text, str):
            text = "".join(text)
        return cls(sorted(set(text) - {"\n", "\r"}))

    def check(self, text: str, name: str = "text") -> None:
        """Raise ``ValueError`` naming the characters of ``text`` not in the vocabulary."""
        bad = sorted({c for c in text if c not in self.stoi})
        if bad:
            raise ValueError(f"{name} {text!r} contains characters not in the vocabulary: {bad}; "
                             f"vocabulary is {''.join(self.chars)!r}")

    def encode(self, text: str) -> list[int]:
        """Character ids of ``text`` (no special tokens)."""
        self.check(text)
        return [self.stoi[c] for c in text]

    def decode(self, ids: Iterable[int]) -> str:
        """Text of a sequence of ids; stops at ``EOS``, skips ``BOS`` and ``PAD``."""
        out = []
        for i in ids:
            i = int(i)
            if i == self.EOS:
                break
            if i < self.n_chars:
                out.append(self.chars[i])
        return "".join(out)

    def __len__(self) -> int:
        return self.n_chars

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and other.chars == self.chars

    def __hash__(self) -> int:
        return hash(self.chars)

    def __repr__(self) -> str:
        return f"Vocabulary({''.join(self.chars)!r})"


# --------------------------------------------------------------------- rewards
def _named(fn: Callable[[str], float], name: str) -> Callable[[str], float]:
    fn.__name__ = name
    fn.__qualname__ = name
    return fn


def target_match(target: str, partial: bool = False) -> TextReward:
    """Target-word reward: ``R(x) = [x == target]``.

    With ``partial=True``, ``R(x) = (number of positions i with x_i == target_i) / max(|x|, |target|)``,
    a shaped version that is 1 only for the exact target.
    """
    def reward(text: str) -> float:
        if not partial:
            return float(text == target)
        n = max(len(text), len(target))
        if n == 0:
            return 1.0
        return sum(a == b for a, b in zip(text, target)) / n

    return _named(reward, f"target_match({target!r})")


def pattern_match(pattern: str, full: bool = True) -> TextReward:
    """Regular-expression reward: ``R(x) = [x matches pattern]``.

    ``full=True`` uses ``re.fullmatch`` (the whole text), otherwise ``re.search`` (anywhere).
    """
    rx = re.compile(pattern)
    match = rx.fullmatch if full else rx.search

    def reward(text: str) -> float:
        return float(match(text) is not None)

    return _named(reward, f"pattern_match({pattern!r})")


def contains_word(word: str) -> TextReward:
    """``R(x) = [word is one of the space-separated words of x]``."""
    def reward(text: str) -> float:
        return float(word in text.split())

    return _named(reward, f"contains_word({word!r})")


def lexicon_score(lexicon: Iterable[str], empty: float = 0.0) -> TextReward:
    """Lexicon reward: fraction of the words of ``x`` that are in the lexicon.

    ``R(x) = |{w in words(x) : w in L}| / |words(x)|``, and ``empty`` for a text without words.
    """
    lex = frozenset(lexicon)

    def reward(text: str) -> float:
        words = text.split()
        if not words:
            return empty
        return sum(w in lex for w in words) / len(words)

    return _named(reward, "lexicon_score")


def length_constraint(min_len: int, max_len: int, scale: float | None = None) -> TextReward:
    """Length reward: 1 inside ``[min_len, max_len]``, falling linearly outside.

    ``R(x) = max(0, 1 - d(|x|) / scale)`` with ``d`` the distance of ``|x|`` to the
    interval (``scale`` defaults to ``max(max_len, 1)``).
    """
    if min_len < 0 or max_len < min_len:
        raise ValueError(f"need 0 <= min_len <= max_len, got min_len={min_len}, max_len={max_len}")
    s = float(scale if scale is not None else max(max_len, 1))
    if not s > 0:
        raise ValueError(f"scale must be > 0, got {scale}")

    def reward(text: str) -> float:
        n = len(text)
        d = min_len - n if n < min_len else max(0, n - max_len)
        return max(0.0, 1.0 - d / s)

    return _named(reward, f"length_constraint({min_len}, {max_len})")


def char_reward(scores: Mapping[str, float]) -> TextReward:
    """Immediate (per-token) reward for the character just written: ``r_t = scores[x_t]`` (0 if absent).

    Used as ``immediate_reward``: it is called on the text *after* each character.
    """
    table = dict(scores)

    def reward(text: str) -> float:
        return float(table.get(text[-1], 0.0)) if text else 0.0

    return _named(reward, "char_reward")


def weighted_sum(terms: Mapping[TextReward, float] | Sequence[tuple[float, TextReward]]) -> TextReward:
    """Multi-objective reward: ``R(x) = sum_i w_i R_i(x)``.

    ``terms`` is ``{reward_fn: weight}`` or ``[(weight, reward_fn), ...]``. The
    returned callable has ``.components(text) -> {name: R_i(x)}`` for logging.
    """
    pairs = [(w, f) for f, w in terms.items()] if isinstance(terms, Mapping) else list(terms)
    if not pairs:
        raise ValueError("weighted_sum needs at least one (weight, reward) term")
    for w, f in pairs:
        if not callable(f) or not math.isfinite(float(w)):
            raise ValueError(f"each term must be (finite weight, callable), got ({w!r}, {f!r})")

    def reward(text: str) -> float:
        return sum(float(w) * float(f(text)) for w, f in pairs)

    def components(text: str) -> dict[str, float]:
        return {getattr(f, "__name__", repr(f)): float(f(text)) for _, f in pairs}

    reward.components = components  # type: ignore[attr-defined]
    reward.terms = pairs  # type: ignore[attr-defined]
    return _named(reward, "weighted_sum")


# ------------------------------------------------------------------ the MDP
def state_count(n_chars: int, max_len: int, window: int | None = None) -> int:
    """Number of states ``|S| = sum_{t=0}^{T} |V|^t`` (prefixes of length 0..T) with ``T = max_len``.

    With a window of ``k`` characters only the last ``min(t, k)`` are seen, so
    ``T = min(k, max_len)``. Exact Python integer (no overflow): for 27
    characters and ``T = 20`` it is about ``4.4e28``.
    """
    if n_chars < 1:
        raise ValueError(f"n_chars must be >= 1, got {n_chars}")
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    T = max_len if window is None else min(window, max_len)
    return sum(n_chars**t for t in range(T + 1))


class CharLanguageEnv(gym.Env):
    """Write a text character by character; the reward is a function of the text.

    Parameters
    ----------
    vocab : :class:`Vocabulary` or str
        The characters (``"abc"`` works).
    max_len : int >= 1
        Length limit ``T`` in characters (prompt included); reaching it truncates.
    delayed_reward : callable ``text -> float``, optional
        ``r_end``, paid once at the last step (EOS or length limit) on the final text.
    immediate_reward : callable ``text -> float``, optional
        ``r_imm``, paid after every *character* on the text written so far
        (the ``EOS`` action earns no immediate reward).
    window : int, optional
        Observe only the last ``window`` characters (a non-Markov state).
    prompts : sequence of str
        The episode starts from one of these, drawn uniformly at ``reset``
        (default: the empty text). ``reset(options={"prompt": p})`` forces one.
    observation : ``"auto"``, ``"index"`` or ``"tokens"``
        ``"index"``: ``Discrete`` state index (prefix encoded as an integer).
        ``"tokens"``: ``MultiDiscrete`` array ``[BOS, x_1, .., x_t, PAD, ..]`` of length ``T + 1``.
        ``"auto"`` (default): ``"index"`` when the state count fits in an int64, else ``"tokens"``.

    ``info`` carries ``"text"`` (and at the end ``"final_text"``).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, vocab: Vocabulary | str | Sequence[str], max_len: int,
                 delayed_reward: TextReward | None = None, immediate_reward: TextReward | None = None, *,
                 window: int | None = None, prompts: Sequence[str] = ("",), observation: str = "auto",
                 render_mode: str | None = None) -> None:
        self.vocab = vocab if isinstance(vocab, Vocabulary) else Vocabulary(vocab)
        if int(max_len) != max_len or max_len < 1:
            raise ValueError(f"max_len must be an integer >= 1, got {max_len!r}")
        if window is not None and (int(window) != window or window < 1):
            raise ValueError(f"window must be an integer >= 1 or None, got {window!r}")
        if observation not in ("auto", "index", "tokens"):
            raise ValueError(f"observation must be 'auto', 'index' or 'tokens', got {observation!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, "
                             f"got {render_mode!r}")
        for f, name in ((delayed_reward, "delayed_reward"), (immediate_reward, "immediate_reward")):
            if f is not None and not callable(f):
                raise ValueError(f"{name} must be a callable text -> float or None, got {f!r}")
        prompts = list(prompts)
        if not prompts:
            raise ValueError("prompts must contain at least one prompt (use [''] for none)")
        for p in prompts:
            self.vocab.check(p, "prompt")
            if len(p) >= max_len:
                raise ValueError(f"prompt {p!r} has length {len(p)}, must be shorter than max_len={max_len}")
        self.max_len = int(max_len)
        self.window = None if window is None else int(window)
        self.delayed_reward = delayed_reward
        self.immediate_reward = immediate_reward
        self.prompts = prompts
        self.render_mode = render_mode
        n = self.vocab.n_chars
        self.action_space = spaces.Discrete(self.vocab.n_actions)
        self.n_states = state_count(n, self.max_len, self.window)
        if observation == "auto":
            observation = "index" if self.n_states < 2**62 else "tokens"
        self.observation = observation
        if observation == "index":
            if self.n_states >= 2**62:
                raise ValueError(f"{self.n_states:.3e} states do not fit an integer index; use window=k "
                                 "or observation='tokens'")
            self.observation_space = spaces.Discrete(self.n_states)
        else:
            self.observation_space = spaces.MultiDiscrete([self.vocab.n_tokens] * (self.max_len + 1))
        T = self.max_len if self.window is None else min(self.window, self.max_len)
        self._offset = [sum(n**i for i in range(t)) for t in range(T + 2)]
        self.text = ""
        self._done = True

    # -- state encoding ---------------------------------------------------
    def observed(self, text: str) -> str:
        """The part of ``text`` the agent sees: all of it, or its last ``window`` characters."""
        return text if self.window is None else text[len(text) - min(len(text), self.window):]

    def state_index(self, text: str) -> int:
        """Integer index of the observed state: ``offset(t) + sum_i x_i n^(t-1-i)``, ``offset(t) = sum_{j<t} n^j``."""
        seen = self.observed(text)
        idx = 0
        n = self.vocab.n_chars
        for c in seen:
            idx = idx * n + self.vocab.stoi[c]
        return self._offset[len(seen)] + idx

    def state_text(self, index: int) -> str:
        """Inverse of :meth:`state_index` (the observed text of a state index)."""
        if not 0 <= index < self.n_states:
            raise ValueError(f"index must lie in [0, {self.n_states}), got {index}")
        t = max(i for i in range(len(self._offset)) if self._offset[i] <= index)
        rest = index - self._offset[t]
        n = self.vocab.n_chars
        chars = []
        for _ in range(t):
            rest, d = divmod(rest, n)
            chars.append(self.vocab.chars[d])
        return "".join(reversed(chars))

    def _obs(self) -> Any:
        if self.observation == "index":
            return self.state_index(self.text)
        v = self.vocab
        arr = np.full(self.max_len + 1, v.PAD, dtype=np.int64)
        arr[0] = v.BOS
        arr[1:1 + len(self.text)] = v.encode(self.text)
        return arr

    # -- rewards ----------------------------------------------------------
    def _check_reward(self, r: Any, name: str, text: str) -> float:
        r = float(r)
        if not math.isfinite(r):
            raise ValueError(f"{name} returned a non-finite reward {r} for text {text!r}")
        return r

    def reward(self, text: str, action: int, ended: bool) -> float:
        """Reward of the step that took ``action`` and produced ``text``.

        ``r_t = [a_t != EOS] r_imm(text) + [ended] r_end(text)``; ``text`` never contains ``EOS``.
        """
        r = 0.0
        if self.immediate_reward is not None and action != self.vocab.EOS:
            r += self._check_reward(self.immediate_reward(text), "immediate_reward", text)
        if ended and self.delayed_reward is not None:
            r += self._check_reward(self.delayed_reward(text), "delayed_reward", text)
        return r

    def reward_sequence(self, actions: Sequence[int], prompt: str = "") -> tuple[list[float], bool]:
        """Rewards ``[r_0, r_1, ..]`` the env pays for ``actions`` from ``prompt``, and whether it terminated.

        The same computation as :meth:`step`; batched neural rollouts call it so
        that both views agree by construction. Actions after the episode ends are ignored.
        """
        text = prompt
        out: list[float] = []
        for a in actions:
            a = int(a)
            if not 0 <= a < self.vocab.n_actions:
                raise ValueError(f"action must be in [0, {self.vocab.n_actions}), got {a}")
            if a == self.vocab.EOS:
                out.append(self.reward(text, a, True))
                return out, True
            text += self.vocab.chars[a]
            ended = len(text) >= self.max_len
            out.append(self.reward(text, a, ended))
            if ended:
                return out, False
        return out, False

    # -- gymnasium API ----------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if options and "prompt" in options:
            p = options["prompt"]
            self.vocab.check(p, "prompt")
            if len(p) >= self.max_len:
                raise ValueError(f"prompt {p!r} must be shorter than max_len={self.max_len}")
        elif len(self.prompts) == 1:
            p = self.prompts[0]
        else:
            p = self.prompts[int(self.np_random.integers(len(self.prompts)))]
        self.prompt = p
        self.text = p
        self._done = False
        return self._obs(), {"text": self.text, "prompt": p}

    def step(self, action: int):
        if self._done:
            raise RuntimeError("step() called on a finished episode; call reset() first")
        a = int(action)
        if not 0 <= a < self.vocab.n_actions:
            raise ValueError(f"action must be in [0, {self.vocab.n_actions}), got {action!r}")
        terminated = a == self.vocab.EOS
        if not terminated:
            self.text += self.vocab.chars[a]
        truncated = (not terminated) and len(self.text) >= self.max_len
        ended = terminated or truncated
        r = self.reward(self.text, a, ended)
        self._done = ended
        info: dict[str, Any] = {"text": self.text}
        if ended:
            info["final_text"] = self.text
        return self._obs(), r, terminated, truncated, info

    def render(self):
        if self.render_mode == "ansi":
            return self.text + ("" if not self._done else " <end>") + "\n"
        return None


# ---------------------------------------------------- limits of the tables
def enumerate_states(env: CharLanguageEnv) -> int:
    """Count the distinct observations reachable in ``env`` by exhaustive search (small instances only).

    Depth-first over all action sequences from every prompt, replaying the
    env itself; tests compare the count with :func:`state_count`.
    """
    seen: set = set()
    v = env.vocab

    def key(obs: Any) -> Any:
        return obs if env.observation == "index" else tuple(int(x) for x in obs)

    def visit(prompt: str, actions: list[int]) -> None:
        obs, _ = env.reset(options={"prompt": prompt})
        done = False
        for a in actions:
            obs, _, term, trunc, _ = env.step(a)
            done = term or trunc
        seen.add(key(obs))
        if done:
            return
        for c in range(v.n_chars):  # EOS leads back to the same (terminal) observation
            visit(prompt, actions + [c])

    for p in env.prompts:
        visit(p, [])
    return len(seen)


def greedy_success_rate(env: CharLanguageEnv, policy: Sequence[int] | np.ndarray, n_episodes: int = 200,
                        seed: int | None = None, threshold: float = 1.0) -> float:
    """Fraction of episodes in which the deterministic ``policy[s]`` earns a return ``>= threshold``.

    Prompts are drawn by the env, so with several prompts this measures
    whether the policy can tell them apart from what it observes.
    """
    policy = np.asarray(policy)
    wins = 0
    for ep in range(n_episodes):
        obs, _ = env.reset(seed=seed if ep == 0 else None)
        total, done = 0.0, False
        while not done:
            obs, r, term, trunc, _ = env.step(int(policy[obs]))
            total += r
            done = term or trunc
        wins += total >= threshold
    return wins / n_episodes


def echo_task(window: int | None = None, chars: str = "ab", gap: int = 1) -> CharLanguageEnv:
    """The echo task, where a window breaks the Markov property.

    The prompt is a random first character ``c`` followed by ``gap`` filler
    characters ``chars[0]``; the agent writes one character and is paid
    ``R(x) = [x_last == x_first]``. With the whole prefix (or ``window > gap``)
    the optimal policy always succeeds; with ``window <= gap`` every prompt
    looks the same, and the best any policy can do is chance, ``1 / len(chars)``.
    """
    if gap < 1:
        raise ValueError(f"gap must be >= 1, got {gap}")
    prompts = [c + chars[0] * gap for c in chars]

    def echo(text: str) -> float:
        return float(text[-1] == text[0])

    return CharLanguageEnv(chars, gap + 2, delayed_reward=_named(echo, "echo"), prompts=prompts, window=window)
