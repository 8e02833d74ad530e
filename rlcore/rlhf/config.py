"""Validation rules for the RLHF configs: the language-model rules plus the fields RLHF adds.

Book: *RLHF* (every config field named as TRL names it, and checked when the config is built).
"""

from __future__ import annotations

from typing import Any

from rlcore.core.validation import check_flag, check_instance
from rlcore.envs.language import CharLanguageEnv
from rlcore.lm.config import RULES, _choice, _integer, _real
from rlcore.lm.model import CharLM

__all__ = ["RLHF_RULES", "GROUP_RULES", "check_trainer_inputs"]

RLHF_RULES = dict(RULES) | {
    "beta": _real(0, open_low=True),
    "loss_type": _choice(("sigmoid", "ipo", "grpo", "dr_grpo", "dapo")),
    "epsilon": _real(0, open_low=True),
    "epsilon_high": _real(0, open_low=True, none=True),
    "scale_rewards": _choice(("group", "batch", "none")),
    "label_smoothing": _real(0, 0.5),
    "num_train_epochs": _integer(1),
    "margin": _real(-1e9),
    "center_rewards_coefficient": _real(0),
}
"""``field -> (check, what is allowed)`` for [`rlcore.rlhf`][] configs."""

GROUP_RULES = RLHF_RULES | {"beta": _real(0)}
"""For GRPO and RLOO, where ``beta = 0`` (no KL term) is a valid choice."""


def check_trainer_inputs(model: Any, env: Any, ref_model: Any, progress: Any) -> None:
    """What every RLHF trainer checks before its first step: the model, the env, the reference and ``progress``."""
    check_instance(model, "model", CharLM)
    check_instance(env, "env", CharLanguageEnv)
    check_flag(progress, "progress")
    if ref_model is not None and check_instance(ref_model, "ref_model", CharLM).vocab != model.vocab:
        raise ValueError(f"ref_model vocabulary {ref_model.vocab!r} differs from the model's {model.vocab!r}")
