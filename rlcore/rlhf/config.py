"""Validation rules for the RLHF configs: the language-model rules plus the fields RLHF adds.

Book: *RLHF* (every config field named as TRL names it, and checked when the config is built).
"""

from __future__ import annotations

from rlcore.lm.config import RULES, _choice, _integer, _real

__all__ = ["RLHF_RULES", "GROUP_RULES"]

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
