"""Small language tasks and the limits of tables: the echo task, state enumeration, greedy success.

Book: *RL for large language models*, "Text generation as an MDP" (why tables stop scaling).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rlcore.envs.language import CharLanguageEnv
from rlcore.envs.rewards import from_function

__all__ = ["enumerate_states", "greedy_success_rate", "echo_task"]


def enumerate_states(env: CharLanguageEnv) -> int:
    """Count the distinct observations reachable in ``env`` by exhaustive search (small instances only).

    Depth-first over all action sequences from every prompt, replaying the
    env itself; tests compare the count with [`state_count`][rlcore.envs.language.state_count].
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

    return CharLanguageEnv(chars, gap + 2, delayed_reward=from_function(echo, "echo"), prompts=prompts, window=window)
