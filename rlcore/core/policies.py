"""Compatibility re-exports: exploration now lives in [`rlcore.core.exploration`][],
logit filtering and sampling in [`rlcore.core.sampling`][]."""

from rlcore.core.exploration import *  # noqa: F401,F403
from rlcore.core.exploration import __all__ as _exploration_all
from rlcore.core.exploration import _greedy_mask, checked_schedule  # noqa: F401
from rlcore.core.sampling import _check_sampling, filter_logits, sample_logits  # noqa: F401

__all__ = [*_exploration_all, "filter_logits", "sample_logits"]
