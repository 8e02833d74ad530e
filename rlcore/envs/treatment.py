"""A treatment MDP with the parts of its reward kept apart, its contraindications and its names.

Book: *Healthcare*, "Treatment as a Markov decision process".

!!! warning
    Teaching models, not clinical tools (see [`rlcore.envs.healthcare`][]).

The reward is ``r(s, a, s') = w_outcome * outcome(s, a, s') - w_burden * burden(s, a, s')``,
with ``adverse`` (expected adverse events per transition) kept for constraints and a
contraindication ``mask[s, a]`` (True = allowed) that every planner and learner honours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rlcore.core.mdp import TabularMDP
from rlcore.core.validation import check_array, check_choice, check_instance, check_mask, check_positive_int, check_real
from rlcore.envs.tabular import TabularEnv

__all__ = ['TreatmentModel', 'pooled_model', 'DISCLAIMER']


_COMPONENTS = ("outcome", "burden", "adverse")
DISCLAIMER = "Teaching model, not a clinical tool: parameters are illustrative, not fitted to patients."


# --------------------------------------------------------------------------- container
@dataclass(frozen=True)
class TreatmentModel:
    """A treatment MDP together with the pieces of its reward, its contraindications and its names.

    Attributes
    ----------
    name
        ``"chronic"``, ``"sepsis"`` or ``"pooled(...)"``.
    subgroup
        Patient subgroup the dynamics describe.
    mdp
        The [`TabularMDP`][rlcore.core.mdp.TabularMDP] with reward ``outcome - burden_weight * burden``.
    outcome
        ``[S, A, K]``, aligned with ``mdp.prob``: the outcome reward of each transition.
    burden
        ``[S, A, K]``: the side-effect/treatment burden of each transition.
    adverse
        ``[S, A, K]``: the expected number of adverse events of each transition.
    mask
        ``[S, A]`` bool, True where the action is allowed (not contraindicated).
    burden_weight
        Weight ``w_burden`` used in ``mdp``'s reward.
    factors
        State factors and their level names, in the order of the state index.
    adverse_name
        What one adverse event is (for tables and plot labels).
    horizon
        Length of a simulated stay or follow-up (20 ICU steps, 40 quarters): the default
        length of logged episodes and of ``env()`` episodes. It is a cut-off of the
        *simulation*, not of the task: ``mdp`` has no horizon (the discounted,
        infinite-horizon task every planner solves), the env reports the cut as
        ``truncated`` (learners bootstrap) and values over the window are asked for by
        name, ``true_value(model.mdp, pi, horizon=model.horizon)``.
    """

    name: str
    subgroup: str
    mdp: TabularMDP
    outcome: np.ndarray = field(repr=False)
    burden: np.ndarray = field(repr=False)
    adverse: np.ndarray = field(repr=False)
    mask: np.ndarray = field(repr=False)
    burden_weight: float = 1.0
    factors: dict = field(default_factory=dict, repr=False)
    adverse_name: str = "adverse event"
    disclaimer: str = DISCLAIMER
    horizon: int | None = None

    def __post_init__(self) -> None:
        shape = check_instance(self.mdp, "mdp", TabularMDP).prob.shape
        for name in _COMPONENTS:
            check_array(getattr(self, name), name, shape=shape)
        check_mask(self.mask, *shape[:2]), check_real(self.burden_weight, "burden_weight")
        check_positive_int(self.horizon, "horizon", none=True)

    @property
    def n_states(self) -> int:
        return self.mdp.n_states

    @property
    def n_actions(self) -> int:
        return self.mdp.n_actions

    @property
    def state_names(self) -> tuple[str, ...]:
        return self.mdp.state_names

    @property
    def action_names(self) -> tuple[str, ...]:
        return self.mdp.action_names

    def expected(self, component: str | np.ndarray) -> np.ndarray:
        """Expected one-step value ``c(s, a) = sum_k P_k(s, a) c_k(s, a)`` of a component, shape ``[S, A]``."""
        arr = getattr(self, check_choice(component, "component", _COMPONENTS)) if isinstance(component, str) \
            else check_array(component, "component", shape=self.mdp.prob.shape)
        return np.einsum("sak,sak->sa", self.mdp.prob, arr)

    def reward_mdp(self, w_outcome: float = 1.0, w_burden: float | None = None,
                   w_adverse: float = 0.0) -> TabularMDP:
        """Same dynamics, reward ``w_outcome * outcome - w_burden * burden - w_adverse * adverse``.

        ``w_burden=None`` keeps the model's own ``burden_weight``. Used by the
        Pareto sweep (vary the weights) and the Lagrangian (``w_adverse = lambda``).
        """
        w_outcome, w_adverse = check_real(w_outcome, "w_outcome", -np.inf), check_real(w_adverse, "w_adverse", -np.inf)
        wb = self.burden_weight if w_burden is None else check_real(w_burden, "w_burden", -np.inf)
        return self.mdp.with_reward(w_outcome * self.outcome - wb * self.burden - w_adverse * self.adverse)

    def component_mdp(self, component: str) -> TabularMDP:
        """Same dynamics with reward = one component, so that ``V^pi`` of it is its expected discounted total."""
        return self.mdp.with_reward(getattr(self, check_choice(component, "component", _COMPONENTS)))

    def env(self, max_episode_steps: int | None = None, render_mode: str | None = None):
        """The gymnasium ``Env`` view (seed it with ``reset(seed=...)``), truncated after ``horizon`` steps."""
        steps = self.horizon if max_episode_steps is None else max_episode_steps
        return TabularEnv(self.mdp, max_episode_steps=steps, render_mode=render_mode)


def pooled_model(models: list[TreatmentModel], weights: Any = None) -> TreatmentModel:
    """The population a single policy is fitted to: a mixture of subgroup models.

    With subgroup shares ``w_g`` (default equal) the pooled model has
    ``P(s'|s,a) = sum_g w_g P_g(s'|s,a)``, ``mu_0 = sum_g w_g mu_0^g`` and the
    rewards of each subgroup on its own transitions; its successor lists are
    the subgroups' lists side by side (``K = sum_g K_g``). The pooled mask is
    the *intersection* of the subgroup masks: one policy for everybody may
    only use actions that are safe for everybody.

    This is the model a planner would estimate from pooled records when the
    subgroup is not recorded (it weights subgroups by their population share
    in every state, which ignores that subgroups visit states at different
    rates: a stated simplification).
    """
    if not isinstance(models, (list, tuple)) or len(models) < 1:
        raise ValueError(f"models must be a list holding at least one TreatmentModel, got {type(models).__name__}")
    for i, m in enumerate(models):
        check_instance(m, f"models[{i}]", TreatmentModel)
    S, A = models[0].n_states, models[0].n_actions
    for m in models:
        if (m.n_states, m.n_actions) != (S, A):
            raise ValueError(f"all subgroup models must share [S, A] = ({S}, {A}), got "
                             f"({m.n_states}, {m.n_actions}) for subgroup {m.subgroup!r}")
        if m.mdp.gamma != models[0].mdp.gamma:
            raise ValueError("all subgroup models must share gamma")
    w = np.full(len(models), 1.0 / len(models)) if weights is None else check_array(weights, "weights")
    if w.shape != (len(models),) or (w < 0).any() or abs(w.sum() - 1) > 1e-8:
        raise ValueError(f"weights must be {len(models)} non-negative shares summing to 1, got {np.asarray(weights)}")
    cat = lambda f: np.concatenate([f(m) for m in models], axis=2)  # noqa: E731
    prob = np.concatenate([wg * m.mdp.prob for wg, m in zip(w, models)], axis=2)
    first = models[0]
    mdp = TabularMDP(cat(lambda m: m.mdp.next_state), prob, cat(lambda m: m.mdp.reward), cat(lambda m: m.mdp.done),
                     gamma=first.mdp.gamma, terminal=np.logical_or.reduce([m.mdp.terminal for m in models]),
                     initial=sum(wg * m.mdp.initial for wg, m in zip(w, models)),
                     state_names=first.state_names, action_names=first.action_names)
    mask = np.logical_and.reduce([m.mask for m in models])
    mask[~mask.any(axis=1)] = True  # no common safe action: fall back to allowing all (reported by callers)
    return TreatmentModel(f"pooled({first.name})", "+".join(m.subgroup for m in models), mdp,
                          cat(lambda m: m.outcome), cat(lambda m: m.burden), cat(lambda m: m.adverse), mask,
                          first.burden_weight, first.factors, first.adverse_name, horizon=first.horizon)


def _compress(next_state: np.ndarray, prob: np.ndarray, *comps: np.ndarray) -> tuple[np.ndarray, ...]:
    """Drop zero-probability slots: sort slots by probability (descending) and keep the widest row's count."""
    K = max(1, int((prob > 0).sum(axis=2).max()))
    order = np.argsort(-prob, axis=2, kind="stable")[:, :, :K]
    take = lambda x: np.take_along_axis(x, order, axis=2)  # noqa: E731
    return (take(next_state), take(prob)) + tuple(take(c) for c in comps)
