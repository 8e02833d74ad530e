"""Sampling settings against reward and diversity: the temperature / top-p trade-off, measured.

Book: *RL for large language models*, "Sampling: temperature, top-k, top-p".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from rlcore.core.validation import check_array, check_nonnegative_int, check_positive_int
from rlcore.envs.language import CharLanguageEnv
from rlcore.lm.model import CharLM
from rlcore.lm.rewards import rollout_rewards
from rlcore.lm.rollout import sample
from rlcore.lm.training import check_model_env

__all__ = ["sampling_sweep"]


@torch.no_grad()
def sampling_sweep(model: CharLM, env: CharLanguageEnv, temperatures: Sequence[float] = (0.3, 0.7, 1.0, 1.5),
                   top_ps: Sequence[float] = (1.0,), n: int = 256, seed: int = 0) -> dict[str, np.ndarray]:
    """Mean reward and diversity of ``n`` samples (per prompt of the env) for every (temperature, top_p) pair.

    Returns arrays of shape ``[len(temperatures), len(top_ps)]``: ``reward`` (mean
    ``R(x)``), ``distinct`` (fraction of distinct texts) and ``entropy_bits``
    (``-sum_x p_hat(x) log2 p_hat(x)`` of the empirical text distribution), plus the
    grids ``temperatures`` and ``top_ps``. Plot with [`rlcore.plots.lm.plot_sampling_sweep`][].
    """
    check_model_env(model, env)
    taus, ps = check_array(temperatures, "temperatures", ndim=1), check_array(top_ps, "top_ps", ndim=1)
    if (taus <= 0).any():
        raise ValueError(f"temperatures must all be > 0, got {taus.tolist()}")
    if ((ps <= 0) | (ps > 1)).any():
        raise ValueError(f"top_ps must all lie in (0, 1], got {ps.tolist()}")
    check_positive_int(n, "n")
    check_nonnegative_int(seed, "seed")
    shape = (len(temperatures), len(top_ps))
    out = {k: np.zeros(shape) for k in ("reward", "distinct", "entropy_bits")}
    for i, tau in enumerate(temperatures):
        for j, p in enumerate(top_ps):
            g = torch.Generator(device=model.device).manual_seed(seed)
            ro = sample(model, env.prompts, n, env.max_len, tau, None, p, generator=g, max_len=env.max_len)
            out["reward"][i, j] = float(rollout_rewards(env, ro).sum(1).mean())
            _, counts = np.unique(np.asarray(ro.texts, dtype=object), return_counts=True)
            q = counts / counts.sum()
            out["distinct"][i, j] = len(counts) / len(ro)
            out["entropy_bits"][i, j] = float(-(q * np.log2(q)).sum())
    out["temperatures"] = np.asarray(temperatures, dtype=float)
    out["top_ps"] = np.asarray(top_ps, dtype=float)
    return out
