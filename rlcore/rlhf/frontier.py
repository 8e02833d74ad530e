"""The reward-KL frontier on the toy: gold reward against exact KL for every method, over beta (or n).

Book: *RLHF*, "The KL-regularised objective" and "Reward hacking and over-optimisation".

For each ``beta`` the exact optimum ``pi*_beta`` of the *gold* reward is the best
any policy can do at its KL, so the curve ``(KL(pi*_beta || pi_ref), E_{pi*_beta}[gold])``
is the frontier itself; every trained method lands on or below it. Best-of-``n`` is
placed by ``n`` instead of ``beta``.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from tqdm.auto import tqdm

from rlcore.core.validation import check_array, check_callable, check_flag, check_instance, check_positive_int
from rlcore.envs.language import CharLanguageEnv
from rlcore.envs.rewards import TextReward
from rlcore.lm.model import CharLM
from rlcore.lm.ppo import PPOConfig, ppo
from rlcore.rlhf.dpo import DPOConfig, dpo
from rlcore.rlhf.exact import exact_optimum
from rlcore.rlhf.overoptimisation import ToyEvaluator
from rlcore.rlhf.preferences import PreferenceData

__all__ = ["FrontierPoint", "Frontier", "reward_kl_frontier"]


@dataclass(frozen=True)
class FrontierPoint:
    """One trained (or exact) policy: its method, the knob (``beta`` or ``n``), exact KL and rewards."""

    method: str
    knob: float
    kl: float
    gold: float
    proxy: float | None = None


@dataclass(frozen=True)
class Frontier:
    """All points of a sweep; ``by_method()`` groups them for plotting ([`rlcore.plots.rlhf.plot_frontier`][])."""

    points: tuple[FrontierPoint, ...] = field(repr=False)
    elapsed: float = 0.0

    def by_method(self) -> dict[str, list[FrontierPoint]]:
        out: dict[str, list[FrontierPoint]] = {}
        for p in self.points:
            out.setdefault(p.method, []).append(p)
        return out

    def table(self) -> list[tuple[str, str, str, str]]:
        """Rows ``(method, knob, KL, gold)`` as strings, header first."""
        rows = [("method", "beta / n", "KL (nats)", "gold reward")]
        rows += [(p.method, f"{p.knob:g}", f"{p.kl:.3f}", f"{p.gold:.3f}") for p in self.points]
        return rows

    def __repr__(self) -> str:
        groups = self.by_method()
        return "Frontier(" + ", ".join(f"{m}: {len(v)} points" for m, v in groups.items()) + f"; {self.elapsed:.1f} s)"


def reward_kl_frontier(ref: CharLM, evaluator: ToyEvaluator, gold: TextReward, betas: Sequence[float],
                       ns: Sequence[int] = (), pairs: PreferenceData | None = None, proxy: TextReward | None = None,
                       ppo_config: PPOConfig | None = None, dpo_config: DPOConfig | None = None,
                       exact_betas: Sequence[float] | None = None, progress: bool = False) -> Frontier:
    """Sweep ``betas`` for ``pi*`` (exact), PPO on the gold reward, PPO on ``proxy`` and DPO on ``pairs``.

    Each run starts from a copy of ``ref``, which is also the KL anchor; PPO's
    ``kl_coef`` and DPO's ``beta`` are set to each ``beta`` in turn. Best-of-``n``
    over ``ref`` (ranked by ``proxy`` when given, else by ``gold``) adds one point per
    ``n``. ``evaluator`` must score rewards named ``"gold"`` (and ``"proxy"``). The exact
    ``pi*`` is computed at ``exact_betas`` too (a dense grid draws the frontier as a curve; it costs
    no training).
    """
    start = time.perf_counter()
    check_instance(ref, "ref", CharLM)
    check_instance(evaluator, "evaluator", ToyEvaluator)
    if ref.vocab != evaluator.ref.vocab:
        raise ValueError(f"ref vocabulary {ref.vocab!r} differs from the evaluator's {evaluator.ref.vocab!r}")
    check_callable(gold, "gold")
    if proxy is not None:
        check_callable(proxy, "proxy")
    if pairs is not None:
        check_instance(pairs, "pairs", PreferenceData)
    if ppo_config is not None:
        check_instance(ppo_config, "ppo_config", PPOConfig)
    if dpo_config is not None:
        check_instance(dpo_config, "dpo_config", DPOConfig)
    check_flag(progress, "progress")
    ns = [check_positive_int(n, "ns") for n in check_array(ns, "ns", ndim=1, allow_empty=True, finite=False)]
    if "gold" not in evaluator.scores:
        raise ValueError(f"evaluator must score a reward named 'gold', has {sorted(evaluator.scores)}")
    if proxy is not None and "proxy" not in evaluator.scores:
        raise ValueError("evaluator must score a reward named 'proxy' when a proxy is given")
    betas = check_array(betas, "betas", ndim=1, allow_empty=True, finite=False).tolist()
    if exact_betas is None:
        exact_betas = ()
    exact_betas = check_array(exact_betas, "exact_betas", ndim=1, allow_empty=True, finite=False)
    star_betas = sorted(set(betas) | {float(b) for b in exact_betas})
    if any(not np.isfinite(b) or b <= 0 for b in star_betas):
        raise ValueError(f"betas and exact_betas must be finite and > 0, got {star_betas}")
    points: list[FrontierPoint] = []
    has_proxy = "proxy" in evaluator.scores

    def point(method: str, knob: float, stats: dict[str, float]) -> FrontierPoint:
        return FrontierPoint(method, knob, stats["kl"], stats["gold"], stats["proxy"] if has_proxy else None)

    ppo_cfg = ppo_config or PPOConfig(n_iterations=20, batch_size=128, learning_rate=3e-3)
    envs = {"PPO (gold)": CharLanguageEnv(ref.vocab, evaluator.max_len, delayed_reward=gold,
                                          prompts=evaluator.prompts)}
    if proxy is not None:
        envs["PPO (reward model)"] = CharLanguageEnv(ref.vocab, evaluator.max_len, delayed_reward=proxy,
                                                     prompts=evaluator.prompts)
    for beta in star_betas:
        best = exact_optimum(ref, gold, beta, evaluator.max_len, evaluator.prompts)
        points.append(point("pi* (gold, exact)", beta, evaluator.evaluate_logp(best.log_pi_star)))
    for beta in tqdm(betas, disable=not progress, desc="beta", leave=False):
        for name, env in envs.items():
            model = copy.deepcopy(ref)
            ppo(model, env, replace(ppo_cfg, kl_coef=beta), ref_model=ref)
            points.append(point(name, beta, evaluator.evaluate(model)))
        if pairs is not None:
            model = copy.deepcopy(ref)
            dpo(model, pairs, replace(dpo_config or DPOConfig(num_train_epochs=5, batch_size=256,
                                                              learning_rate=3e-3), beta=beta), ref_model=ref)
            points.append(point("DPO", beta, evaluator.evaluate(model)))
    rank_by = "proxy" if proxy is not None else "gold"
    for n in ns:
        points.append(point(f"best-of-n ({'reward model' if proxy is not None else 'gold'})", n,
                            evaluator.best_of_n(n, rank_by)))
    return Frontier(tuple(points), time.perf_counter() - start)
