"""Treatment MDPs: a chronic-disease (glycaemic control) model and an ICU sepsis-style model.

Book: *RL for large language models* companion, "Healthcare" case study.

.. warning::
   These are **teaching models, not clinical tools**. Every number below is a
   round, plausible-looking choice made so that the trade-offs of the chapter
   (control versus side effects, survival versus treatment burden, subgroups
   that respond differently) are visible in a model small enough to solve
   exactly. None was fitted to patient data; none may inform the care of a
   real patient.

Both models are :class:`~rlcore.core.mdp.TabularMDP` s wrapped in a
:class:`TreatmentModel` that also keeps the *components* of the reward, so
the same dynamics can be re-weighted for multi-objective and constrained
planning::

    r(s, a, s') = w_outcome * outcome(s, a, s') - w_burden * burden(s, a, s')

    outcome   what the patient gains (quality-adjusted time alive; discharge/death)
    burden    side effects and treatment load (injections, hypoglycaemia, ...)
    adverse   expected count of adverse events on the transition (for constraints)

and a contraindication ``mask[s, a]`` (True = allowed) that every planner and
learner in rlcore honours. ``model.env()`` is the gymnasium view.

Chronic disease: :func:`chronic_disease_model`
    A quarterly cohort state-transition model in the spirit of the
    Sick-Sicker model used to teach health-economic Markov cohort analysis
    (healthy -> sick -> sicker -> dead, with utilities per state), extended
    with decisions: glucose band x complication level, five treatment
    intensities from lifestyle advice to intensive insulin.

ICU sepsis: :func:`sepsis_model`
    Same scale and structure as the sepsis simulator of Oberst & Sontag
    (2019, "Counterfactual off-policy evaluation with Gumbel-max structural
    causal models"): discretised heart rate, systolic blood pressure, oxygen
    saturation and glucose, diabetes status, and which of antibiotics,
    vasopressors and mechanical ventilation are on: 1,440 states plus death
    and discharge; 8 actions = the on/off combinations of the 3 treatments;
    discharge +1, death -1, horizon 20. The transition probabilities are our
    own choices (documented below), not a copy of theirs.

Patient subgroups (``subgroup=...``) change the dynamics but not the state
and action spaces, so policies transfer between them; :func:`pooled_model`
mixes subgroups into the population a one-size-fits-all policy is fitted to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rlcore.core.mdp import TabularMDP
from rlcore.envs.tabular import TabularEnv

__all__ = [
    "TreatmentModel", "chronic_disease_model", "sepsis_model", "pooled_model",
    "CHRONIC_SUBGROUPS", "SEPSIS_SUBGROUPS", "GLUCOSE_BANDS", "COMPLICATIONS", "CHRONIC_ACTIONS",
    "SEPSIS_ACTIONS", "SEPSIS_FACTORS", "sepsis_state", "DISCLAIMER", "chronic_disease_env", "sepsis_env",
]

DISCLAIMER = "Teaching model, not a clinical tool: parameters are illustrative, not fitted to patients."


# --------------------------------------------------------------------------- container
@dataclass(frozen=True)
class TreatmentModel:
    """A treatment MDP together with the pieces of its reward, its contraindications and its names.

    Attributes
    ----------
    name : ``"chronic"``, ``"sepsis"`` or ``"pooled(...)"``.
    subgroup : patient subgroup the dynamics describe.
    mdp : the :class:`~rlcore.core.mdp.TabularMDP` with reward ``outcome - burden_weight * burden``.
    outcome, burden, adverse : ``[S, A, K]`` arrays aligned with ``mdp.prob``: the outcome
        reward, the side-effect/treatment burden and the expected number of adverse events
        of each transition.
    mask : ``[S, A]`` bool, True where the action is allowed (not contraindicated).
    burden_weight : weight ``w_burden`` used in ``mdp``'s reward.
    factors : state factors and their level names, in the order of the state index.
    adverse_name : what one adverse event is (for tables and plot labels).
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
        arr = getattr(self, component) if isinstance(component, str) else np.asarray(component, dtype=float)
        return np.einsum("sak,sak->sa", self.mdp.prob, arr)

    def reward_mdp(self, w_outcome: float = 1.0, w_burden: float | None = None,
                   w_adverse: float = 0.0) -> TabularMDP:
        """Same dynamics, reward ``w_outcome * outcome - w_burden * burden - w_adverse * adverse``.

        ``w_burden=None`` keeps the model's own ``burden_weight``. Used by the
        Pareto sweep (vary the weights) and the Lagrangian (``w_adverse = lambda``).
        """
        wb = self.burden_weight if w_burden is None else float(w_burden)
        return self.mdp.with_reward(w_outcome * self.outcome - wb * self.burden - w_adverse * self.adverse)

    def component_mdp(self, component: str) -> TabularMDP:
        """Same dynamics with reward = one component, so that ``V^pi`` of it is its expected discounted total."""
        return self.mdp.with_reward(getattr(self, component))

    def env(self, max_episode_steps: int | None = None, render_mode: str | None = None):
        """The gymnasium ``Env`` view (seed it with ``reset(seed=...)``); horizon = ``mdp.horizon`` by default."""
        return TabularEnv(self.mdp, max_episode_steps=max_episode_steps, render_mode=render_mode)


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
    if len(models) < 1:
        raise ValueError("models must hold at least one TreatmentModel")
    S, A = models[0].n_states, models[0].n_actions
    for m in models:
        if (m.n_states, m.n_actions) != (S, A):
            raise ValueError(f"all subgroup models must share [S, A] = ({S}, {A}), got "
                             f"({m.n_states}, {m.n_actions}) for subgroup {m.subgroup!r}")
        if m.mdp.gamma != models[0].mdp.gamma:
            raise ValueError("all subgroup models must share gamma")
    w = np.full(len(models), 1.0 / len(models)) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (len(models),) or (w < 0).any() or abs(w.sum() - 1) > 1e-8:
        raise ValueError(f"weights must be {len(models)} non-negative shares summing to 1, got {np.asarray(weights)}")
    cat = lambda f: np.concatenate([f(m) for m in models], axis=2)  # noqa: E731
    prob = np.concatenate([wg * m.mdp.prob for wg, m in zip(w, models)], axis=2)
    first = models[0]
    mdp = TabularMDP(cat(lambda m: m.mdp.next_state), prob, cat(lambda m: m.mdp.reward), cat(lambda m: m.mdp.done),
                     gamma=first.mdp.gamma, terminal=np.logical_or.reduce([m.mdp.terminal for m in models]),
                     initial=sum(wg * m.mdp.initial for wg, m in zip(w, models)),
                     state_names=first.state_names, action_names=first.action_names, horizon=first.mdp.horizon)
    mask = np.logical_and.reduce([m.mask for m in models])
    mask[~mask.any(axis=1)] = True  # no common safe action: fall back to allowing all (reported by callers)
    return TreatmentModel(f"pooled({first.name})", "+".join(m.subgroup for m in models), mdp,
                          cat(lambda m: m.outcome), cat(lambda m: m.burden), cat(lambda m: m.adverse), mask,
                          first.burden_weight, first.factors, first.adverse_name)


def _compress(next_state: np.ndarray, prob: np.ndarray, *comps: np.ndarray) -> tuple[np.ndarray, ...]:
    """Drop zero-probability slots: sort slots by probability (descending) and keep the widest row's count."""
    K = max(1, int((prob > 0).sum(axis=2).max()))
    order = np.argsort(-prob, axis=2, kind="stable")[:, :, :K]
    take = lambda x: np.take_along_axis(x, order, axis=2)  # noqa: E731
    return (take(next_state), take(prob)) + tuple(take(c) for c in comps)


# ------------------------------------------------------------------ chronic disease
GLUCOSE_BANDS = ("hypoglycaemia", "at target", "above target", "high", "very high")
COMPLICATIONS = ("no complications", "early complications", "advanced complications")
CHRONIC_ACTIONS = ("lifestyle advice", "metformin", "metformin + sulfonylurea", "basal insulin",
                   "intensive insulin")

#: Per-action parameters of the chronic model (index = action):
#: ``down`` P(glucose falls one band | no hypo), ``up`` P(rises one band | no hypo),
#: ``hypo`` base P(hypoglycaemic event) per quarter, ``burden`` treatment load per quarter.
_CHRONIC_ACTION_PARAMS = {
    # Lifestyle advice alone: modest effect, progression (beta-cell decline) dominates.
    "down": np.array([0.15, 0.35, 0.50, 0.60, 0.75]),
    # More potent treatment also slows the upward drift of the disease.
    "up": np.array([0.25, 0.15, 0.10, 0.08, 0.05]),
    # Metformin alone rarely causes hypoglycaemia; sulfonylureas and insulin do, intensive insulin most.
    "hypo": np.array([0.0, 0.005, 0.04, 0.06, 0.12]),
    # Visits, tablets (GI upset), injections and glucose monitoring: a small QoL cost per quarter.
    "burden": np.array([0.01, 0.02, 0.03, 0.05, 0.08]),
}

#: Subgroups of the chronic model. Multipliers act on the base parameters; ``contraindicated``
#: actions are masked in every state of that subgroup.
CHRONIC_SUBGROUPS: dict[str, dict[str, Any]] = {
    # Adult without major comorbidity: the base parameters.
    "adult": dict(hypo_mult=1.0, mort_mult=1.0, prog_mult=1.0, contraindicated=()),
    # Frail older adult: hypoglycaemia 2.5x as likely and more often fatal, higher background
    # mortality (shorter horizon to benefit from tight control); guidelines avoid intensive insulin.
    "older": dict(hypo_mult=2.5, mort_mult=3.0, prog_mult=1.0, contraindicated=("intensive insulin",)),
    # Chronic kidney disease (eGFR < 30): metformin contraindicated (lactic acidosis), sulfonylureas
    # and insulin accumulate (hypoglycaemia 1.8x), complications progress faster.
    "ckd": dict(hypo_mult=1.8, mort_mult=2.0, prog_mult=1.5,
                contraindicated=("metformin", "metformin + sulfonylurea")),
}


def chronic_disease_model(subgroup: str = "adult", *, gamma: float = 0.97, horizon: int = 40,
                          burden_weight: float = 1.0) -> TreatmentModel:
    """Quarterly glycaemic-control MDP: glucose band x complication level, five treatment intensities.

    A decision version of a Sick-Sicker-style Markov cohort model (states
    with utilities, irreversible progression, an absorbing death state).
    **Teaching model, not a clinical tool.**

    States (``5 x 3 + 1 = 16``): ``(g, c)`` with glucose band ``g`` in
    :data:`GLUCOSE_BANDS` and complication level ``c`` in :data:`COMPLICATIONS`,
    index ``s = 3 g + c``; plus terminal ``"dead"`` (15). ``hypoglycaemia``
    means "a hypoglycaemic event occurred this quarter"; glucose is otherwise
    at target, so its onward dynamics are those of ``at target``.

    Actions (5): :data:`CHRONIC_ACTIONS`, increasing in glucose-lowering
    potency, hypoglycaemia risk and burden (:data:`_CHRONIC_ACTION_PARAMS`).

    One quarter, from ``(g, c)`` under action ``a`` (independent events):

    * hypoglycaemia with ``h = min(0.5, hypo_a * hypo_mult * band_factor[g])``,
      ``band_factor = (1.5, 1.5, 1.0, 0.6, 0.3)``: the lower glucose already is, the
      more a drug pushes it under; a hypo is fatal with ``f = 0.02`` (``0.05`` if older);
    * background death ``m = mort_mult * (0.003, 0.008, 0.03)[c]`` (per quarter,
      rising with complications);
    * ``P(dead) = 1 - (1 - m)(1 - h f)``, ``P(hypo, alive) = (1 - m) h (1 - f)``;
    * otherwise glucose moves down one band w.p. ``down_a`` (not below target),
      up w.p. ``up_a`` (not above very high), else stays;
    * complications progress ``c -> c + 1`` w.p. ``prog_mult * (0.015, 0.01, 0.02, 0.04, 0.07)[g]``
      (hyperglycaemia drives micro- and macrovascular damage; a hypo adds
      cardiovascular risk, hence 0.015 > 0.01), never regress.

    Reward components per quarter (quality-adjusted quarters, QALQ):
    ``outcome = (1.0, 0.85, 0.6)[c] - (0, 0, 0, 0.02, 0.05)[g]`` (utility of the
    complication level, minus symptoms of marked hyperglycaemia);
    ``burden = burden_a + 0.1 [hypo on this transition]`` (treatment load plus
    the disutility of a hypoglycaemic episode); ``adverse = 1`` on a
    hypoglycaemia transition (and the hypo share ``h f / P(dead)`` on the death
    transition). Reward ``= outcome - burden_weight * burden``.

    Contraindications (mask): intensive insulin right after a hypoglycaemic
    event (de-intensify first); plus the subgroup's list
    (:data:`CHRONIC_SUBGROUPS`). ``gamma = 0.97`` per quarter is about 3%/quarter
    discounting of future health (high for economics, chosen so a 10-year
    horizon matters); ``horizon = 40`` quarters limits simulated episodes.
    Start: newly referred patients, glucose above target/high/very high
    (0.4/0.4/0.2) and no/early complications (0.8/0.2).
    """
    if subgroup not in CHRONIC_SUBGROUPS:
        raise ValueError(f"subgroup must be one of {tuple(CHRONIC_SUBGROUPS)}, got {subgroup!r}")
    prm = CHRONIC_SUBGROUPS[subgroup]
    nG, nC, A = len(GLUCOSE_BANDS), len(COMPLICATIONS), len(CHRONIC_ACTIONS)
    S_live = nG * nC
    DEAD = S_live
    g, c = np.divmod(np.arange(S_live), nC)                    # [S_live]
    g, c = g[:, None], c[:, None]                               # broadcast against actions [1, A]
    p = {k: v[None, :] for k, v in _CHRONIC_ACTION_PARAMS.items()}

    band_factor = np.array([1.5, 1.5, 1.0, 0.6, 0.3])
    h = np.minimum(0.5, p["hypo"] * prm["hypo_mult"] * band_factor[g])          # [S_live, A]
    f = 0.05 if subgroup == "older" else 0.02
    m = prm["mort_mult"] * np.array([0.003, 0.008, 0.03])[c] + 0 * h
    p_dead = 1 - (1 - m) * (1 - h * f)
    p_hypo = (1 - m) * h * (1 - f)
    p_other = (1 - m) * (1 - h)
    ge = np.maximum(g, 1)                                       # a hypo state moves on like "at target"
    g_down, g_up = np.maximum(ge - 1, 1), np.minimum(ge + 1, nG - 1)
    prog = np.minimum(1.0, prm["prog_mult"] * np.array([0.015, 0.01, 0.02, 0.04, 0.07])[g]) * (c < nC - 1)
    c_next = np.minimum(c + 1, nC - 1)

    # Slots: dead, then (glucose outcome) x (complication stays / progresses).
    g_out = [np.zeros_like(ge), g_down, ge, g_up]               # hypo, down, stay, up
    p_out = [p_hypo, p_other * p["down"], p_other * (1 - p["down"] - p["up"]), p_other * p["up"]]
    shape = (S_live, A)
    nxt = [np.full(shape, DEAD)]
    prb = [p_dead]
    hypo_slot = [np.zeros(shape)]
    for k, (gk, pk) in enumerate(zip(g_out, p_out)):
        for cn, pc in ((c + 0 * gk, 1 - prog), (c_next + 0 * gk, prog)):
            nxt.append(np.broadcast_to(gk * nC + cn, shape))
            prb.append(np.broadcast_to(pk * pc, shape))
            hypo_slot.append(np.full(shape, float(k == 0)))
    next_state = np.stack(nxt, axis=2).astype(np.int64)
    prob = np.stack(prb, axis=2)
    is_hypo = np.stack(hypo_slot, axis=2)
    utility = np.array([1.0, 0.85, 0.6])[c] - np.array([0, 0, 0, 0.02, 0.05])[g]   # [S_live, 1]
    outcome = np.broadcast_to(utility[:, :, None], prob.shape).copy()
    burden = p["burden"][:, :, None] + 0.1 * is_hypo + 0 * prob
    adverse = is_hypo.copy()
    adverse[:, :, 0] = np.where(p_dead > 0, h * f / np.maximum(p_dead, 1e-300), 0.0)

    # Terminal row (dead): self-loop, zero everything.
    pad = lambda x, v: np.concatenate([x, np.full((1, A, x.shape[2]), v, dtype=x.dtype)], axis=0)  # noqa: E731
    next_state = pad(next_state, DEAD)
    prob = pad(prob, 0.0)
    prob[DEAD, :, 0] = 1.0
    outcome, burden, adverse = pad(outcome, 0.0), pad(burden, 0.0), pad(adverse, 0.0)
    next_state, prob, outcome, burden, adverse = _compress(next_state, prob, outcome, burden, adverse)

    names = [f"{GLUCOSE_BANDS[i // nC]}, {COMPLICATIONS[i % nC]}" for i in range(S_live)] + ["dead"]
    initial = np.zeros(S_live + 1)
    for gi, pg in ((2, 0.4), (3, 0.4), (4, 0.2)):
        for ci, pc in ((0, 0.8), (1, 0.2)):
            initial[gi * nC + ci] = pg * pc
    mask = np.ones((S_live + 1, A), dtype=bool)
    mask[0:nC, CHRONIC_ACTIONS.index("intensive insulin")] = False        # hypoglycaemia band
    for act in prm["contraindicated"]:
        mask[:S_live, CHRONIC_ACTIONS.index(act)] = False
    mdp = TabularMDP(next_state, prob, outcome - burden_weight * burden, gamma=gamma, terminal=[DEAD],
                     initial=initial, state_names=names, action_names=CHRONIC_ACTIONS, horizon=horizon)
    mask.setflags(write=False)
    return TreatmentModel("chronic", subgroup, mdp, outcome, burden, adverse, mask, float(burden_weight),
                          {"glucose": GLUCOSE_BANDS, "complications": COMPLICATIONS}, "hypoglycaemic event")


# ------------------------------------------------------------------------ ICU sepsis
#: State factors of the sepsis model, in index order (last factor varies fastest).
SEPSIS_FACTORS: dict[str, tuple[str, ...]] = {
    "hr": ("low", "normal", "high"),                     # heart rate
    "bp": ("low", "normal", "high"),                     # systolic blood pressure
    "o2": ("low", "normal"),                             # oxygen saturation
    "glucose": ("very low", "low", "normal", "high", "very high"),
    "diabetic": ("no", "yes"),
    "antibiotics": ("off", "on"),
    "vasopressors": ("off", "on"),
    "ventilation": ("off", "on"),
}
_NORMAL = {"hr": 1, "bp": 1, "o2": 1, "glucose": 2}
#: Action ``a`` switches antibiotics on iff bit 2 is set, vasopressors bit 1, ventilation bit 0.
SEPSIS_ACTIONS = tuple(
    "+".join(n for n, bit in (("antibiotics", 4), ("vasopressors", 2), ("ventilation", 1)) if a & bit) or "none"
    for a in range(8))

#: Subgroups of the sepsis model (unobserved in the state): ``drift`` P(a normal vital moves one
#: level away) per step, ``recover`` P(an abnormal vital moves back one level by homeostasis),
#: ``vaso_effect`` multiplier on vasopressor response, ``relapse`` multiplier on deterioration
#: after a treatment is withdrawn.
SEPSIS_SUBGROUPS: dict[str, dict[str, float]] = {
    "adult": dict(drift=0.10, recover=0.2, vaso_effect=1.0, relapse=1.0),
    # Older patients: less physiological reserve (vitals wander more), blunted response to
    # vasopressors, and they deteriorate more often when support is withdrawn.
    "older": dict(drift=0.15, recover=0.1, vaso_effect=0.7, relapse=2.0),
}


def _shift(n: int, frm: int, to: int, p: float) -> np.ndarray:
    """Kernel moving level ``frm`` to ``to`` with probability ``p`` (other levels unchanged), ``[n, n]``."""
    K = np.eye(n)
    K[frm, frm] -= p
    K[frm, to] += p
    return K


def _drift(n: int, p: float, normal: int, recover: float) -> np.ndarray:
    """Homeostatic random walk, ``[n, n]``: from the normal level move up or down one level
    with ``p/2`` each; from an abnormal level move one level back towards normal with
    ``recover`` and one level further away with ``p/2`` (staying put at the ends)."""
    K = np.zeros((n, n))
    for i in range(n):
        if i == normal:
            moves = ((i - 1, p / 2), (i + 1, p / 2))
        else:
            toward = i + (1 if i < normal else -1)
            away = i + (-1 if i < normal else 1)
            moves = ((toward, recover), (away, p / 2))
        for j, q in moves:
            K[i, min(max(j, 0), n - 1)] += q
        K[i, i] += 1 - sum(q for _, q in moves)
    return K


def sepsis_model(subgroup: str = "adult", *, gamma: float = 0.99, horizon: int = 20,
                 burden_weight: float = 0.0) -> TreatmentModel:
    """ICU sepsis-style MDP with the scale and structure of Oberst & Sontag's (2019) simulator.

    **Teaching model, not a clinical tool.** Our own parameters, documented here.

    State: ``(hr, bp, o2, glucose, diabetic, antibiotics, vasopressors, ventilation)`` with
    ``3 x 3 x 2 x 5 x 2 x 2 x 2 x 2 = 1440`` combinations (:data:`SEPSIS_FACTORS`, index by
    ``np.ravel_multi_index``), plus terminal ``"death"`` (1440) and ``"discharge"`` (1441).
    The treatment flags record what was given at the previous step, so withdrawing
    a treatment can be modelled. Action ``a`` in ``0..7`` (:data:`SEPSIS_ACTIONS`) sets the
    treatments for the next step: bit 4 antibiotics, bit 2 vasopressors, bit 1 ventilation.

    Each vital moves independently given ``(state, action)``; its kernel is the product of
    the treatment effects (applied in the order antibiotics, vasopressors, ventilation) and a
    homeostatic drift (a normal vital moves one level up or down with ``drift/2`` each; an
    abnormal one returns one level towards normal with ``recover`` and worsens with ``drift/2``):

    * antibiotics on: ``hr high -> normal`` 0.4, ``bp high -> normal`` 0.3 (treating the
      infection settles the hyperdynamic response); withdrawn while needed:
      ``hr normal -> high`` 0.15, ``bp normal -> high`` 0.2 (x ``relapse``);
    * vasopressors on: ``bp low -> normal`` 0.7 and overshoot ``normal -> high`` 0.4 (x
      ``vaso_effect``); in diabetics the response is erratic (``low -> normal`` 0.5,
      ``low -> high`` 0.3, ``normal -> high`` 0.6) and they raise glucose one level w.p. 0.4;
      withdrawn: ``bp normal -> low`` 0.2 (x ``relapse``), ``high -> normal`` 0.2;
    * ventilation on: ``o2 low -> normal`` 0.7; withdrawn: ``o2 normal -> low`` 0.15 (x ``relapse``);
    * ``drift = 0.10``, ``recover = 0.2`` for adults (0.15 and 0.1 for older patients) for
      hr, bp and o2; glucose ``drift = 0.1``, or ``0.3`` with ``recover = 0.15`` in diabetics
      (poorer glycaemic regulation).

    Outcome (the reward, as in Oberst & Sontag): a transition into a state with
    3 or more abnormal vitals (of hr, bp, o2, glucose) is death, ``-1``; into a
    state with all four normal *and* no treatment chosen is discharge, ``+1``;
    otherwise ``0``. ``gamma = 0.99``, ``horizon = 20`` steps.

    Burden (``0`` weight by default, so the default reward is the outcome alone):
    ``0.02`` antibiotics, ``0.05`` vasopressors, ``0.05`` ventilation per step (line
    care, sedation, monitoring). Adverse events: expected complications per step,
    ``0.01`` antibiotics (C. difficile, kidney injury), ``0.04`` vasopressors
    (arrhythmia, ischaemia), ``0.03`` ventilation (ventilator-associated pneumonia);
    they do not change the dynamics (kept simple on purpose).

    Contraindication (mask): vasopressors when blood pressure is already high.

    Start: treatments off; diabetic w.p. 0.2; vitals independent with
    hr (0.1, 0.5, 0.4), bp (0.3, 0.5, 0.2), o2 (0.4, 0.6), glucose non-diabetic
    (0.05, 0.15, 0.6, 0.15, 0.05) / diabetic (0.05, 0.1, 0.35, 0.3, 0.2), conditioned on
    1 or 2 abnormal vitals (sick on admission, not yet dying).
    """
    if subgroup not in SEPSIS_SUBGROUPS:
        raise ValueError(f"subgroup must be one of {tuple(SEPSIS_SUBGROUPS)}, got {subgroup!r}")
    prm = SEPSIS_SUBGROUPS[subgroup]
    dims = tuple(len(v) for v in SEPSIS_FACTORS.values())     # (3, 3, 2, 5, 2, 2, 2, 2)
    S_live = int(np.prod(dims))
    DEATH, DISCHARGE = S_live, S_live + 1
    A = 8
    hr, bp, o2, glu, diab, p_abx, p_vaso, p_vent = (x[:, None] for x in np.unravel_index(np.arange(S_live), dims))
    act = np.arange(A)[None, :]
    n_abx, n_vaso, n_vent = (act >> 2) & 1, (act >> 1) & 1, act & 1
    rel, ve = prm["relapse"], prm["vaso_effect"]

    # Per-vital kernels indexed by (previous flag, new flag[, diabetic]): tiny tables, then gathered.
    I3, I2, I5 = np.eye(3), np.eye(2), np.eye(5)
    K_hr = np.empty((2, 2, 3, 3))
    K_o2 = np.empty((2, 2, 2, 2))
    K_bp = np.empty((2, 2, 2, 2, 2, 3, 3))       # [prev abx, new abx, prev vaso, new vaso, diab]
    K_glu = np.empty((2, 2, 5, 5))               # [new vaso, diab]
    D3 = _drift(3, prm["drift"], 1, prm["recover"])
    D2 = _drift(2, prm["drift"], 1, prm["recover"])
    for pa in (0, 1):
        for na in (0, 1):
            abx = _shift(3, 2, 1, 0.4) if na else (_shift(3, 1, 2, min(1.0, 0.15 * rel)) if pa else I3)
            K_hr[pa, na] = abx @ D3
            abx_bp = _shift(3, 2, 1, 0.3) if na else (_shift(3, 1, 2, min(1.0, 0.2 * rel)) if pa else I3)
            for pv in (0, 1):
                for nv in (0, 1):
                    for d in (0, 1):
                        if nv and not d:
                            vaso = np.array([[1 - 0.7 * ve, 0.7 * ve, 0], [0, 1 - 0.4 * ve, 0.4 * ve], [0, 0, 1.0]])
                        elif nv and d:
                            vaso = np.array([[1 - 0.8 * ve, 0.5 * ve, 0.3 * ve], [0, 1 - 0.6 * ve, 0.6 * ve],
                                             [0, 0, 1.0]])
                        elif pv:
                            drop = min(1.0, 0.2 * rel)
                            vaso = np.array([[1.0, 0, 0], [drop, 1 - drop, 0], [0, 0.2, 0.8]])
                        else:
                            vaso = I3
                        K_bp[pa, na, pv, nv, d] = abx_bp @ vaso @ D3
        for nv in (0, 1):
            vent = _shift(2, 0, 1, 0.7) if nv else (_shift(2, 1, 0, min(1.0, 0.15 * rel)) if pa else I2)
            K_o2[pa, nv] = vent @ D2
    for nv in (0, 1):
        for d in (0, 1):
            up = (np.eye(5, k=1) * 0.4 + np.diag([0.6, 0.6, 0.6, 0.6, 1.0])) if (nv and d) else I5
            K_glu[nv, d] = up @ _drift(5, 0.3 if d else 0.1, 2, 0.15 if d else prm["recover"])

    # Next-level distributions of every vital for every (state, action): [S_live, A, n_level].
    P_hr = K_hr[p_abx, n_abx, hr]
    P_bp = K_bp[p_abx, n_abx, p_vaso, n_vaso, diab, bp]
    P_o2 = K_o2[p_vent, n_vent, o2]
    P_glu = K_glu[n_vaso, diab, glu]
    joint = (P_hr[:, :, :, None, None, None] * P_bp[:, :, None, :, None, None]
             * P_o2[:, :, None, None, :, None] * P_glu[:, :, None, None, None, :]).reshape(S_live, A, 90)
    # Each of the 90 next-vital combinations: its abnormal count and its live state index.
    v_hr, v_bp, v_o2, v_glu = np.unravel_index(np.arange(90), (3, 3, 2, 5))
    abnormal = (v_hr != 1).astype(int) + (v_bp != 1) + (v_o2 != 1) + (v_glu != 2)
    live_next = np.ravel_multi_index((v_hr[None, None, :], v_bp[None, None, :], v_o2[None, None, :],
                                      v_glu[None, None, :], diab[:, :, None], n_abx[:, :, None],
                                      n_vaso[:, :, None], n_vent[:, :, None]), dims)   # [S_live, A, 90]
    dies = abnormal >= 3
    discharged = (abnormal == 0)[None, None, :] & (act == 0)[:, :, None]
    ends = dies[None, None, :] | discharged
    p_death = (joint * dies).sum(axis=2)
    p_discharge = (joint * discharged).sum(axis=2)
    prob = np.concatenate([np.where(ends, 0.0, joint), p_death[:, :, None], p_discharge[:, :, None]], axis=2)
    next_state = np.concatenate([np.broadcast_to(live_next, (S_live, A, 90)),
                                 np.full((S_live, A, 1), DEATH), np.full((S_live, A, 1), DISCHARGE)], axis=2)
    outcome = np.zeros(prob.shape)
    outcome[:, :, 90] = -1.0
    outcome[:, :, 91] = 1.0
    burden = np.broadcast_to((0.02 * n_abx + 0.05 * n_vaso + 0.05 * n_vent)[:, :, None], prob.shape).astype(float)
    adverse = np.broadcast_to((0.01 * n_abx + 0.04 * n_vaso + 0.03 * n_vent)[:, :, None], prob.shape).astype(float)

    # Terminal rows (death, discharge): self-loops with zero reward.
    def pad(x: np.ndarray, values: tuple) -> np.ndarray:
        return np.concatenate([x, np.broadcast_to(np.asarray(values, dtype=x.dtype)[:, None, None],
                                                  (2, A, x.shape[2]))], axis=0)
    next_state = pad(next_state, (DEATH, DISCHARGE))
    prob = pad(prob, (0.0, 0.0))
    prob[S_live:, :, 0] = 1.0
    outcome, burden, adverse = (pad(x, (0.0, 0.0)) for x in (outcome, burden, adverse))
    next_state, prob, outcome, burden, adverse = _compress(next_state, prob, outcome, burden, adverse)

    levels = list(SEPSIS_FACTORS.values())
    idx = np.unravel_index(np.arange(S_live), dims)
    names = []
    for s in range(S_live):
        lv = [levels[f][idx[f][s]] for f in range(8)]
        tx = "+".join(n for n, on in zip(("abx", "vaso", "vent"), lv[5:]) if on == "on") or "none"
        names.append(f"HR {lv[0]}, BP {lv[1]}, O2 {lv[2]}, glucose {lv[3]}, "
                     f"{'diabetic' if lv[4] == 'yes' else 'non-diabetic'}, on {tx}")
    names += ["death", "discharge"]

    # Start distribution: treatments off, independent vitals, 1-2 abnormal.
    p_v = [np.array([0.1, 0.5, 0.4]), np.array([0.3, 0.5, 0.2]), np.array([0.4, 0.6])]
    p_g = np.array([[0.05, 0.15, 0.6, 0.15, 0.05], [0.05, 0.1, 0.35, 0.3, 0.2]])
    p_d = np.array([0.8, 0.2])
    init = (p_v[0][idx[0]] * p_v[1][idx[1]] * p_v[2][idx[2]] * p_g[idx[4], idx[3]] * p_d[idx[4]]
            * (idx[5] == 0) * (idx[6] == 0) * (idx[7] == 0))
    n_abn = (idx[0] != 1).astype(int) + (idx[1] != 1) + (idx[2] != 1) + (idx[3] != 2)
    init = init * ((n_abn >= 1) & (n_abn <= 2))
    initial = np.concatenate([init / init.sum(), [0.0, 0.0]])

    mask = np.ones((S_live + 2, A), dtype=bool)
    mask[:S_live] = ~((bp == 2) & (n_vaso == 1))
    mask.setflags(write=False)
    mdp = TabularMDP(next_state, prob, outcome - burden_weight * burden, gamma=gamma, terminal=[DEATH, DISCHARGE],
                     initial=initial, state_names=names, action_names=SEPSIS_ACTIONS, horizon=horizon)
    return TreatmentModel("sepsis", subgroup, mdp, outcome, burden, adverse, mask, float(burden_weight),
                          dict(SEPSIS_FACTORS), "treatment complication")


def sepsis_state(**levels: str) -> int:
    """State index of the sepsis model from level names, e.g. ``sepsis_state(hr="high", bp="low", ...)``.

    Unspecified factors take their first level except vitals, which default to normal.
    """
    unknown = set(levels) - set(SEPSIS_FACTORS)
    if unknown:
        raise ValueError(f"unknown sepsis factor(s) {sorted(unknown)}; expected {list(SEPSIS_FACTORS)}")
    coords = []
    for name, lv in SEPSIS_FACTORS.items():
        value = levels.get(name, lv[_NORMAL.get(name, 0)])
        if value not in lv:
            raise ValueError(f"{name} must be one of {lv}, got {value!r}")
        coords.append(lv.index(value))
    return int(np.ravel_multi_index(tuple(coords), tuple(len(v) for v in SEPSIS_FACTORS.values())))


def chronic_disease_env(subgroup: str = "adult", max_episode_steps: int | None = None, **kwargs: Any):
    """Gymnasium view of :func:`chronic_disease_model` (an entry point for ``gymnasium.register``)."""
    return chronic_disease_model(subgroup, **kwargs).env(max_episode_steps=max_episode_steps)


def sepsis_env(subgroup: str = "adult", max_episode_steps: int | None = None, **kwargs: Any):
    """Gymnasium view of :func:`sepsis_model` (an entry point for ``gymnasium.register``)."""
    return sepsis_model(subgroup, **kwargs).env(max_episode_steps=max_episode_steps)
