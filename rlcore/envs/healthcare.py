"""Treatment MDPs: a chronic-disease (glycaemic control) model and an ICU sepsis-style model (one import for both).

Book: *RL for large language models* companion, "Healthcare" case study.

!!! warning
    These are **teaching models, not clinical tools**. Every number below is a
    round, plausible-looking choice made so that the trade-offs of the chapter
    (control versus side effects, survival versus treatment burden, subgroups
    that respond differently) are visible in a model small enough to solve
    exactly. None was fitted to patient data; none may inform the care of a
    real patient.

Both models are [`TabularMDP`][rlcore.core.mdp.TabularMDP] objects wrapped in a
[`TreatmentModel`][] that also keeps the *components* of the reward, so
the same dynamics can be re-weighted for multi-objective and constrained
planning:

    r(s, a, s') = w_outcome * outcome(s, a, s') - w_burden * burden(s, a, s')

    outcome   what the patient gains (quality-adjusted time alive; discharge/death)
    burden    side effects and treatment load (injections, hypoglycaemia, ...)
    adverse   expected count of adverse events on the transition (for constraints)

and a contraindication ``mask[s, a]`` (True = allowed) that every planner and
learner in rlcore honours. ``model.env()`` is the gymnasium view.

Chronic disease: [`chronic_disease_model`][]
:   A quarterly cohort state-transition model in the spirit of the
    Sick-Sicker model used to teach health-economic Markov cohort analysis
    (healthy -> sick -> sicker -> dead, with utilities per state), extended
    with decisions: glucose band x complication level, five treatment
    intensities from lifestyle advice to intensive insulin.

ICU sepsis: [`sepsis_model`][]
:   Same scale and structure as the sepsis simulator of Oberst & Sontag
    (2019, "Counterfactual off-policy evaluation with Gumbel-max structural
    causal models"): discretised heart rate, systolic blood pressure, oxygen
    saturation and glucose, diabetes status, and which of antibiotics,
    vasopressors and mechanical ventilation are on: 1,440 states plus death
    and discharge; 8 actions = the on/off combinations of the 3 treatments;
    discharge +1, death -1, horizon 20. The transition probabilities are our
    own choices (documented below), not a copy of theirs.

Patient subgroups (``subgroup=...``) change the dynamics but not the state
and action spaces, so policies transfer between them; [`pooled_model`][]
mixes subgroups into the population a one-size-fits-all policy is fitted to.
"""

from __future__ import annotations

from typing import Any

from rlcore.envs.chronic import (  # noqa: F401 (re-exported)
    CHRONIC_ACTIONS,
    CHRONIC_SUBGROUPS,
    COMPLICATIONS,
    GLUCOSE_BANDS,
    chronic_disease_model,
)
from rlcore.envs.sepsis import SEPSIS_ACTIONS, SEPSIS_FACTORS, SEPSIS_SUBGROUPS, sepsis_model, sepsis_state  # noqa: F401
from rlcore.envs.treatment import DISCLAIMER, TreatmentModel, pooled_model  # noqa: F401 (re-exported)

__all__ = [
    "TreatmentModel", "chronic_disease_model", "sepsis_model", "pooled_model",
    "CHRONIC_SUBGROUPS", "SEPSIS_SUBGROUPS", "GLUCOSE_BANDS", "COMPLICATIONS", "CHRONIC_ACTIONS",
    "SEPSIS_ACTIONS", "SEPSIS_FACTORS", "sepsis_state", "DISCLAIMER", "chronic_disease_env", "sepsis_env",
]


def chronic_disease_env(subgroup: str = "adult", max_episode_steps: int | None = None, **kwargs: Any):
    """Gymnasium view of [`chronic_disease_model`][] (an entry point for ``gymnasium.register``)."""
    return chronic_disease_model(subgroup, **kwargs).env(max_episode_steps=max_episode_steps)


def sepsis_env(subgroup: str = "adult", max_episode_steps: int | None = None, **kwargs: Any):
    """Gymnasium view of [`sepsis_model`][] (an entry point for ``gymnasium.register``)."""
    return sepsis_model(subgroup, **kwargs).env(max_episode_steps=max_episode_steps)
