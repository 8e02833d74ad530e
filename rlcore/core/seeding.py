"""Seeds and generators: the one way a stochastic function turns its ``seed`` into a generator.

Book: *Implementation guide*, "Conventions" (every stochastic function takes a ``seed`` or a
``numpy.random.Generator`` and is reproducible bit for bit).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rlcore.core.validation import check_nonnegative_int

__all__ = ["as_generator"]


def as_generator(seed: Any, name: str = "seed") -> np.random.Generator:
    """``numpy.random.default_rng(seed)`` for ``None``, an ``int >= 0`` or a ``Generator`` (used as it is).

    A ``SeedSequence`` or ``BitGenerator`` is accepted too; floats, booleans, strings and negative
    integers are refused with a ``ValueError`` naming ``name`` (numpy would round or reject them
    with its own message).
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (np.random.SeedSequence, np.random.BitGenerator)):
        return np.random.default_rng(seed)
    return np.random.default_rng(check_nonnegative_int(seed, name, none=True))
