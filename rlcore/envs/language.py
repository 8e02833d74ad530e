"""The character-level language MDP: writing text one character at a time.

Book: *RL for large language models*, "Text generation as an MDP".

| MDP part | language MDP |
|---|---|
| state | ``s_t`` = the text so far (prompt + ``t`` characters); with ``window=k`` only its last ``k`` (not Markov!) |
| action | ``a_t`` = the next character, or the end token ``EOS`` |
| transition | deterministic: ``s_{t+1} = s_t + a_t`` |
| reward | ``r_t = r_imm(s_{t+1}) + [episode ends at t] * r_end(final text)`` |
| end | ``EOS`` or reaching ``max_len`` characters -> *terminated* |

Token ids (one id space shared with [`rlcore.lm.model`][]): the ``n`` characters
are ``0 .. n-1``, then ``EOS = n``, ``BOS = n+1``, ``PAD = n+2``. Actions are
``0 .. n`` (characters and ``EOS``), so an action id *is* a token id.

The length limit is part of the task (a finite-horizon MDP): the delayed
reward is paid at the last step whether the text ended with ``EOS`` or hit
``max_len``, and a full-length text has no future (``V = 0``). So ``step``
reports ``terminated=True`` at ``max_len`` too, and TD learners, DP and PPO
all stop bootstrapping there. Gymnasium's ``truncated`` is never set by this
env; it is left for an external time limit (e.g. ``gymnasium.wrappers.TimeLimit``),
after which a learner *should* bootstrap. (Before, ``max_len`` was reported as
``truncated``; with a ``window`` the observed state at ``max_len`` aliases
shorter prefixes, and Q-learning bootstrapped through it.)

Rewards are [`TextReward`][rlcore.envs.rewards.TextReward] objects (plain callables
are wrapped with [`from_function`][rlcore.envs.rewards.from_function]). The env scores
one text at a time through the scalar path ``reward(text) -> float``; batched
neural code scores whole batches with ``reward(texts) -> [B]``.

Observations are, by default, the integer index of the state (a tabular view
for tiny instances, so [`rlcore.q_learning`][] runs unchanged). The number
of states is ``sum_{t=0}^{T} |V|^t``, which explodes with ``T``: that is the
book's argument for neural policies. ``observation="tokens"`` gives the padded
token ids instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rlcore.core import validation as cv
from rlcore.envs.rewards import (  # re-exported: the reward library lives in rlcore.envs.rewards
    TextReward,
    char_reward,
    contains_word,
    from_function,
    length_constraint,
    lexicon_score,
    pattern_match,
    target_match,
    weighted_sum,
)
from rlcore.envs.vocabulary import Vocabulary  # re-exported

__all__ = [
    "Vocabulary", "CharLanguageEnv", "TextReward", "from_function",
    "target_match", "pattern_match", "contains_word", "lexicon_score", "length_constraint", "char_reward",
    "weighted_sum", "state_count",
]


# ------------------------------------------------------------------ the MDP
def state_count(n_chars: int, max_len: int, window: int | None = None) -> int:
    """Number of states ``|S| = sum_{t=0}^{T} |V|^t`` (prefixes of length 0..T) with ``T = max_len``.

    With a window of ``k`` characters only the last ``min(t, k)`` are seen, so
    ``T = min(k, max_len)``. Exact Python integer (no overflow): for 27
    characters and ``T = 20`` it is about ``4.4e28``.
    """
    n_chars, max_len = cv.check_positive_int(n_chars, "n_chars"), cv.check_positive_int(max_len, "max_len")
    window = cv.check_positive_int(window, "window", none=True)
    T = max_len if window is None else min(window, max_len)
    # the geometric sum in closed form: one big-integer power instead of T + 1 of them
    return T + 1 if n_chars == 1 else (n_chars ** (T + 1) - 1) // (n_chars - 1)


class CharLanguageEnv(gym.Env):
    """Write a text character by character; the reward is a function of the text.

    ``info`` carries ``"text"`` (and at the end ``"final_text"``).

    Parameters
    ----------
    vocab : Vocabulary or str
        The characters (``"abc"`` works).
    max_len : int >= 1
        Length limit ``T`` in characters (prompt included); reaching it terminates the episode.
    delayed_reward : callable text -> float, optional
        ``r_end``, paid once at the last step (EOS or length limit) on the final text.
    immediate_reward : callable text -> float, optional
        ``r_imm``, paid after every *character* on the text written so far
        (the ``EOS`` action earns no immediate reward).
    window : int, optional
        Observe only the last ``window`` characters (a non-Markov state).
    prompts : sequence of str
        The episode starts from one of these, drawn uniformly at ``reset``
        (default: the empty text). ``reset(options={"prompt": p})`` forces one.
    observation : "auto", "index" or "tokens"
        ``"index"``: ``Discrete`` state index (prefix encoded as an integer).
        ``"tokens"``: ``MultiDiscrete`` array ``[BOS, x_1, .., x_t, PAD, ..]`` of length ``T + 1``.
        ``"auto"`` (default): ``"index"`` when the state count fits in an int64, else ``"tokens"``.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, vocab: Vocabulary | str | Sequence[str], max_len: int,
                 delayed_reward: TextReward | None = None, immediate_reward: TextReward | None = None, *,
                 window: int | None = None, prompts: Sequence[str] = ("",), observation: str = "auto",
                 render_mode: str | None = None) -> None:
        self.vocab = vocab if isinstance(vocab, Vocabulary) else Vocabulary(vocab)
        max_len, window = cv.check_positive_int(max_len, "max_len"), cv.check_positive_int(window, "window", none=True)
        if observation not in ("auto", "index", "tokens"):
            raise ValueError(f"observation must be 'auto', 'index' or 'tokens', got {observation!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, "
                             f"got {render_mode!r}")
        for f, name in ((delayed_reward, "delayed_reward"), (immediate_reward, "immediate_reward")):
            if f is not None and not callable(f):
                raise ValueError(f"{name} must be a callable text -> float or None, got {f!r}")
        if delayed_reward is not None:
            delayed_reward = from_function(delayed_reward, "delayed_reward")
        if immediate_reward is not None:
            immediate_reward = from_function(immediate_reward, "immediate_reward")
        prompts = list(cv.check_strings(prompts, "prompts", allow_empty=True))
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
        self._offset, power = [0], 1  # offset(t) = sum_{j<t} n^j, accumulated: linear, not cubic, in T
        for _ in range(T + 1):
            self._offset.append(self._offset[-1] + power)
            power *= n
        self.text = ""
        self._done = True

    # -- state encoding ---------------------------------------------------
    def observed(self, text: str) -> str:
        """The part of ``text`` the agent sees: all of it, or its last ``window`` characters."""
        cv.check_instance(text, "text", str)
        return text if self.window is None else text[len(text) - min(len(text), self.window):]

    def state_index(self, text: str) -> int:
        """Integer index of the observed state: ``offset(t) + sum_i x_i n^(t-1-i)``, ``offset(t) = sum_{j<t} n^j``."""
        self.vocab.check(text, "text")
        if len(text) > self.max_len:
            raise ValueError(f"text {text!r} is longer than max_len={self.max_len}")
        seen = self.observed(text)
        idx = 0
        n = self.vocab.n_chars
        for c in seen:
            idx = idx * n + self.vocab.stoi[c]
        return self._offset[len(seen)] + idx

    def state_text(self, index: int) -> str:
        """Inverse of [`state_index`][] (the observed text of a state index)."""
        if cv.check_nonnegative_int(index, "index") >= self.n_states:
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
        self.vocab.check(text, "text"), cv.check_flag(ended, "ended")
        if cv.check_nonnegative_int(action, "action") >= self.vocab.n_actions:
            raise ValueError(f"action must be in [0, {self.vocab.n_actions}), got {action!r}")
        r = 0.0
        if self.immediate_reward is not None and action != self.vocab.EOS:
            r += self._check_reward(self.immediate_reward(text), "immediate_reward", text)
        if ended and self.delayed_reward is not None:
            r += self._check_reward(self.delayed_reward(text), "delayed_reward", text)
        return r

    def reward_sequence(self, actions: Sequence[int], prompt: str = "") -> tuple[list[float], bool]:
        """Rewards ``[r_0, r_1, ..]`` the env pays for ``actions`` from ``prompt``, and whether ``EOS`` ended it.

        The flag is ``True`` only for an ``EOS`` ending (a text that reached
        ``max_len`` returns ``False``, although ``step`` reports it as
        terminated too): the neural rollouts compare it with their own ``EOS`` flag.

        The same computation as ``step``; batched neural rollouts call it so
        that both views agree by construction. Actions after the episode ends are ignored.
        """
        self.vocab.check(prompt, "prompt")
        if len(prompt) >= self.max_len:
            raise ValueError(f"prompt {prompt!r} must be shorter than max_len={self.max_len}")
        text = prompt
        out: list[float] = []
        for a in cv.check_array(actions, "actions", shape=(None,), allow_empty=True, integer=True).tolist():
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
        super().reset(seed=cv.check_nonnegative_int(seed, "seed", none=True))
        if cv.check_instance(options, "options", (dict, type(None))) and "prompt" in options:
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
        if (a := cv.check_nonnegative_int(action, "action")) >= self.vocab.n_actions:
            raise ValueError(f"action must be in [0, {self.vocab.n_actions}), got {action!r}")
        eos = a == self.vocab.EOS
        if not eos:
            self.text += self.vocab.chars[a]
        # The length limit ends the task (nothing follows it), so it is a termination, not a truncation.
        terminated = eos or len(self.text) >= self.max_len
        truncated = False
        ended = terminated
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

