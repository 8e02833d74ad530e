"""Random MDPs for tests, property checks, benchmarks and figures: one generator, seeded.

Book: *Mathematical foundations*, "Convergence guarantees" (claims that must hold for *every* MDP
are checked on many random ones).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rlcore.core.mdp import TabularMDP
from rlcore.core.validation import check_array, check_nonnegative_int, check_positive_int, check_unit_interval

__all__ = ["random_mdp"]


def random_mdp(n_states: int, n_actions: int, n_successors: int | None = None, *, gamma: float = 0.9,
               seed: int | np.random.Generator | None = None, reward: Any = "uniform", sparsity: float = 0.0,
               n_terminal: int = 0) -> TabularMDP:
    """A random ``TabularMDP`` with Dirichlet(1) transition probabilities.

    ``n_successors=K``: each ``(s, a)`` gets ``K`` successors drawn uniformly (with
    repetition) and Dirichlet(1) weights over them: the sparse model a large
    benchmark needs. ``n_successors=None``: a dense row over all states, with a
    fraction ``sparsity`` of entries zeroed (a row left empty moves to state 0).

    ``reward``: ``"uniform"`` (``U(0, 1)`` per transition), ``"normal"`` (``N(0, 1)``),
    or an array broadcast to ``[S, A, K]`` (``[S, A]`` works through ``[S, A, 1]``).
    The first ``n_terminal`` states are terminal.
    """
    S = check_positive_int(n_states, "n_states")
    A = check_positive_int(n_actions, "n_actions")
    check_unit_interval(sparsity, "sparsity")
    if check_nonnegative_int(n_terminal, "n_terminal") > S:
        raise ValueError(f"n_terminal must be an integer in [0, {S}], got {n_terminal!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(
        check_nonnegative_int(seed, "seed", none=True))
    if n_successors is None:
        K = S
        prob = rng.dirichlet(np.ones(S), size=(S, A))
        prob *= rng.random(prob.shape) >= sparsity if sparsity > 0 else 1.0
        prob[prob.sum(axis=2) == 0, 0] = 1.0
        prob /= prob.sum(axis=2, keepdims=True)
        next_state = np.broadcast_to(np.arange(S), (S, A, S)).copy()
    else:
        K = check_positive_int(n_successors, "n_successors")
        next_state = rng.integers(0, S, size=(S, A, K))
        prob = rng.dirichlet(np.ones(K), size=(S, A))
    shape = (S, A, K)
    if isinstance(reward, str):
        if reward not in ("uniform", "normal"):
            raise ValueError(f"reward must be 'uniform', 'normal' or an array, got {reward!r}")
        r = rng.random(shape) if reward == "uniform" else rng.normal(size=shape)
    else:
        r = check_array(reward, "reward")
        try:
            r = np.broadcast_to(r.reshape(*r.shape[:2], -1) if r.ndim == 2 else r, shape)
        except ValueError:
            raise ValueError(f"reward must broadcast to [S, A, K] = {shape}, got shape {r.shape}") from None
    terminal = list(range(n_terminal)) if n_terminal else None
    return TabularMDP(next_state, prob, r, gamma=gamma, terminal=terminal)
