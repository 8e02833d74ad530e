"""Small language tasks and the limits of tables: the echo task, state enumeration, greedy success.

Book: *RL for large language models*, "Text generation as an MDP" (why tables stop scaling).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rlcore.core.validation import (
    check_index_array,
    check_instance,
    check_nonnegative_int,
    check_positive_int,
    check_real,
)
from rlcore.envs.language import CharLanguageEnv, state_count
from rlcore.envs.rewards import from_function

__all__ = ["enumerate_states", "greedy_success_rate", "echo_task"]


def enumerate_states(env: CharLanguageEnv) -> int:
    """Count the distinct observations reachable in ``env`` by exhaustive search (small instances only).

    Depth-first over all action sequences from every prompt, replaying the
    env itself; tests compare the count with [`state_count`][rlcore.envs.language.state_count].
    """
    check_instance(env, "env", CharLanguageEnv)
    if state_count(env.vocab.n_chars, env.max_len) * len(env.prompts) > 10**6:  # the action sequences to replay
        raise ValueError(f"env is too large to enumerate: about {state_count(env.vocab.n_chars, env.max_len):.3g} "
                         "action sequences per prompt (more than 1e6); count with state_count instead")
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
    if check_instance(env, "env", CharLanguageEnv).observation != "index":
        raise ValueError("env must have observation='index' for a tabular policy[s], got 'tokens'")
    policy = check_index_array(policy, "policy", env.vocab.n_actions, shape=(env.n_states,))
    n_episodes, seed = check_positive_int(n_episodes, "n_episodes"), check_nonnegative_int(seed, "seed", none=True)
    threshold = check_real(threshold, "threshold", low=-np.inf)
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
    gap = check_positive_int(gap, "gap")
    if not isinstance(chars, str) or not chars or len(set(chars)) != len(chars):
        raise ValueError(f"chars must be a non-empty string of distinct characters, got {chars!r}")
    prompts = [c + chars[0] * gap for c in chars]

    def echo(text: str) -> float:
        return float(text[-1] == text[0])

    return CharLanguageEnv(chars, gap + 2, delayed_reward=from_function(echo, "echo"), prompts=prompts, window=window)
