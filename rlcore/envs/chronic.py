"""The chronic-disease (glycaemic control) teaching model: glucose band x complications, five treatments.

Book: *Healthcare*, "A chronic disease".

!!! warning
    A teaching model, not a clinical tool: every parameter is an illustrative round number.

A quarterly cohort state-transition model in the spirit of the Sick-Sicker model of
health-economic Markov cohort analysis, extended with decisions from lifestyle advice to
intensive insulin.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rlcore.core.mdp import TabularMDP
from rlcore.core.validation import check_choice, check_real
from rlcore.envs.treatment import TreatmentModel, _compress

__all__ = ["chronic_disease_model", "GLUCOSE_BANDS", "COMPLICATIONS", "CHRONIC_ACTIONS", "CHRONIC_SUBGROUPS"]


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
    ``GLUCOSE_BANDS`` and complication level ``c`` in ``COMPLICATIONS``,
    index ``s = 3 g + c``; plus terminal ``"dead"`` (15). ``hypoglycaemia``
    means "a hypoglycaemic event occurred this quarter"; glucose is otherwise
    at target, so its onward dynamics are those of ``at target``.

    Actions (5): ``CHRONIC_ACTIONS``, increasing in glucose-lowering
    potency, hypoglycaemia risk and burden (``_CHRONIC_ACTION_PARAMS``).

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
    (``CHRONIC_SUBGROUPS``). ``gamma = 0.97`` per quarter is about 3%/quarter
    discounting of future health (high for economics, chosen so a 10-year
    horizon matters); ``horizon = 40`` quarters limits simulated episodes and logs
    (``model.horizon``; the task itself has none: see [`TreatmentModel`][rlcore.envs.treatment.TreatmentModel]).
    Start: newly referred patients, glucose above target/high/very high
    (0.4/0.4/0.2) and no/early complications (0.8/0.2).
    """
    check_choice(subgroup, "subgroup", tuple(CHRONIC_SUBGROUPS))
    burden_weight = check_real(burden_weight, "burden_weight")
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
                     initial=initial, state_names=names, action_names=CHRONIC_ACTIONS)
    mask.setflags(write=False)
    return TreatmentModel("chronic", subgroup, mdp, outcome, burden, adverse, mask, float(burden_weight),
                          {"glucose": GLUCOSE_BANDS, "complications": COMPLICATIONS}, "hypoglycaemic event",
                          horizon=horizon)
