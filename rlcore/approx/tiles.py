"""Tile coding: many coarse, offset grids over a box, giving sparse binary features.

Book: *Sequential decision making*, "From tables to networks" (features for
linear values); the construction is the one of Sutton & Barto, section 9.5.4.

Scale the box ``low..high`` so that one tile is one unit wide in every
dimension: ``z_i = (x_i - low_i) / width_i`` with
``width_i = (high_i - low_i) / tiles_per_dim_i``. A *tiling* is a grid of unit
tiles; tiling ``k`` is shifted towards ``low`` by

``offset[k, i] = ((k * displacement_i) mod n_tilings) / n_tilings`` tile widths,

so the tile of ``x`` in tiling ``k`` has coordinates
``c_i = floor(z_i + offset[k, i])``. Each tiling has one tile more than the
box needs in every dimension (``tiles_per_dim_i + 1``), so however it is
shifted every state of the box lies in exactly one of its tiles.

The default displacement is ``(1, 3, 5, ...)`` (the first odd numbers): with
``n_tilings`` a power of two each dimension then sees its tile boundaries at
all ``n_tilings`` distinct fractions of a width, and the tilings are not all
shifted along the main diagonal. Equal displacements ``(1, 1, ...)`` shift every
tiling along the diagonal, which makes generalisation reach further along it
than across it (the artefact the odd displacement avoids).

A state activates one tile per tiling, ``n_tilings`` in all. Tile ``c`` of
tiling ``k`` has feature index ``k * tiles_per_tiling + ravel(c)`` (C order,
last dimension fastest). With ``hash_size`` that index is mapped by a seeded
multiply-shift hash into ``[0, hash_size)``; different tiles may then share a
feature (a collision), which [`features`][rlcore.approx.tiles.TileCoder.features]
counts, so that ``w @ features(x) == w[active(x)].sum()`` always holds.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rlcore.core.validation import check_array, check_nonnegative_int, check_positive_int

__all__ = ["TileCoder"]

_MASK64 = (1 << 64) - 1


class TileCoder:
    """``n_tilings`` offset grid tilings over the box ``low..high`` (``d`` dimensions).

    Parameters
    ----------
    low, high : array [d]
        Corners of the box; finite, with ``high > low`` in every dimension.
        States outside the box are clipped to it (their features are those of
        the nearest point of the box), so a coder built on an env's observation
        bounds never fails on a state at the edge.
    tiles_per_dim : int or sequence of d ints
        Tiles that span the box in each dimension (tile width
        ``(high - low) / tiles_per_dim``); each tiling holds one more.
    n_tilings : int
        Number of tilings, i.e. of active features per state. A power of two
        at least ``4 d`` is the classic choice.
    displacement : sequence of d positive ints, optional
        Relative shift of successive tilings per dimension, in units of
        ``width / n_tilings``. Default ``(1, 3, 5, ...)``.
    hash_size : int, optional
        If given, hash tile indices into this many features (seeded, deterministic).
    seed : int
        Seed of the hash (ignored without ``hash_size``).

    Attributes
    ----------
    n_features : int
        Length of the feature vector.
    offsets : array [n_tilings, d]
        Shift of each tiling towards ``low``, in tile widths, each in ``[0, 1)``.
    tiles_per_tiling : int
        ``prod(tiles_per_dim + 1)``.
    """

    def __init__(self, low: Any, high: Any, tiles_per_dim: Any = 8, n_tilings: int = 8, *,
                 displacement: Any = None, hash_size: int | None = None, seed: int = 0) -> None:
        low = check_array(low, "low", finite=False, allow_empty=True)
        high = check_array(high, "high", finite=False, allow_empty=True)
        if low.ndim != 1 or low.size == 0 or high.shape != low.shape:
            raise ValueError(f"low and high must be vectors [d] of one shape, got shapes {low.shape} and {high.shape}")
        if not (np.isfinite(low).all() and np.isfinite(high).all()):
            raise ValueError(f"low and high must be finite, got low={low.tolist()}, high={high.tolist()}")
        if not (high > low).all():
            raise ValueError(f"high must exceed low in every dimension, got low={low.tolist()}, high={high.tolist()}")
        d = low.size
        tiles = np.broadcast_to(np.asarray(tiles_per_dim, dtype=object), (d,)) \
            if np.ndim(tiles_per_dim) == 0 else np.asarray(tiles_per_dim, dtype=object)
        if tiles.shape != (d,):
            raise ValueError(f"tiles_per_dim must be an int or {d} ints, got {tiles_per_dim!r}")
        tiles = np.array([check_positive_int(t, f"tiles_per_dim[{i}]") for i, t in enumerate(tiles)])
        n_tilings = check_positive_int(n_tilings, "n_tilings")
        if displacement is None:
            displacement = 2 * np.arange(d) + 1
        disp = np.asarray(displacement)
        if disp.shape != (d,):
            raise ValueError(f"displacement must hold {d} positive ints, got {displacement!r}")
        disp = np.array([check_positive_int(v, f"displacement[{i}]") for i, v in enumerate(disp.tolist())])
        hash_size = check_positive_int(hash_size, "hash_size", none=True)
        check_nonnegative_int(seed, "seed")

        self.low, self.high, self.d = low, high, d
        self.tiles_per_dim = tiles
        self.n_tilings = n_tilings
        self.displacement = disp
        self.hash_size = hash_size
        self.seed = seed
        self.scale = tiles / (high - low)  # tile widths per unit of x
        self.offsets = (np.arange(n_tilings)[:, None] * disp[None, :] % n_tilings) / n_tilings
        sizes = tiles + 1
        self.tiles_per_tiling = math.prod(int(s) for s in sizes)
        if n_tilings * self.tiles_per_tiling >= 2**62:
            raise ValueError(f"{n_tilings} tilings of {self.tiles_per_tiling} tiles overflow int64; pass hash_size")
        self.strides = np.array([math.prod(int(s) for s in sizes[i + 1:]) for i in range(d)], dtype=np.int64)
        self.n_features = hash_size if hash_size is not None else n_tilings * self.tiles_per_tiling
        if hash_size is not None:
            a, b = np.random.default_rng(seed).integers(0, 2**63, size=2, dtype=np.uint64)
            self._a, self._b = int(a) * 2 + 1, int(b)  # an odd multiplier
        # plain-Python copies for the single-state fast path used inside the learners' loops
        self._low_l = low.tolist()
        self._scale_l = self.scale.tolist()
        self._top_l = tiles.astype(float).tolist()
        self._rows = [(k * self.tiles_per_tiling, self.offsets[k].tolist()) for k in range(n_tilings)]
        self._strides_l = self.strides.tolist()

    def __repr__(self) -> str:
        hashed = f", hashed into {self.hash_size}" if self.hash_size is not None else ""
        return (f"TileCoder({self.d}-d, {self.n_tilings} tilings of {'x'.join(str(t + 1) for t in self.tiles_per_dim)} "
                f"tiles, {self.n_features} features{hashed})")

    # ------------------------------------------------------------ vectorised
    def _scaled(self, x: Any, name: str = "x") -> np.ndarray:
        """``z = clip((x - low) / width, 0, tiles_per_dim)`` as ``[..., d]`` float64."""
        x = check_array(x, name, finite=False, allow_empty=True)
        if x.ndim == 0 or x.shape[-1] != self.d:
            raise ValueError(f"{name} must have shape [{self.d}] or [B, {self.d}] (last axis = the {self.d} "
                             f"state dimensions), got shape {x.shape}")
        if np.isnan(x).any():
            raise ValueError(f"{name} must not contain NaN, got {int(np.isnan(x).sum())} NaN value(s)")
        return np.clip((x - self.low) * self.scale, 0.0, self.tiles_per_dim.astype(np.float64))

    def _hash(self, idx: np.ndarray) -> np.ndarray:
        """Multiply-shift hash ``((a * idx + b) mod 2**64) >> 32``, then ``mod hash_size``."""
        h = idx.astype(np.uint64) * np.uint64(self._a) + np.uint64(self._b)  # wraps mod 2**64 by design
        return ((h >> np.uint64(32)) % np.uint64(self.hash_size)).astype(np.int64)

    def active(self, x: Any) -> np.ndarray:
        """Indices of the active tiles: ``[n_tilings]`` for a state ``[d]``, ``[B, n_tilings]`` for ``[B, d]``.

        Entry ``k`` is the tile of tiling ``k`` (unhashed: it lies in
        ``[k * tiles_per_tiling, (k + 1) * tiles_per_tiling)``). States outside
        the box are clipped to it; NaN raises ``ValueError``.
        """
        return self._active(x, "x")

    def _active(self, x: Any, name: str) -> np.ndarray:
        z = self._scaled(x, name)
        c = np.floor(z[..., None, :] + self.offsets).astype(np.int64)  # [..., n_tilings, d]
        idx = c @ self.strides + np.arange(self.n_tilings, dtype=np.int64) * self.tiles_per_tiling
        return idx if self.hash_size is None else self._hash(idx)

    def features(self, x: Any) -> np.ndarray:
        """The feature vector(s) ``x(s)``: ``[n_features]`` or ``[B, n_features]``, ``n_tilings`` ones each.

        With hashing, a feature two tilings collide on holds 2 (a count), so
        ``w @ features(x)`` equals ``w[active(x)].sum()``.
        """
        idx = self.active(x)
        flat = idx.reshape(-1, self.n_tilings)
        out = np.zeros((flat.shape[0], self.n_features))
        np.add.at(out, (np.repeat(np.arange(flat.shape[0]), self.n_tilings), flat.ravel()), 1.0)
        return out.reshape(*idx.shape[:-1], self.n_features)

    # ------------------------------------------------------ one-state fast path
    def active_list(self, x: Any) -> list[int]:
        """[`active`][rlcore.approx.tiles.TileCoder.active] of one state as a Python list, without numpy.

        The same numbers, computed with plain floats: a few times faster
        for a single state, which is what a learner needs at every step.
        """
        try:
            xs = x.tolist() if hasattr(x, "tolist") else list(x)
        except TypeError:
            xs = [x]
        if not isinstance(xs, list) or len(xs) != self.d or isinstance(x, (str, bytes, dict)):
            raise ValueError(f"x must be one state of {self.d} number(s), got {x!r}")
        z = []
        for v, lo, sc, top in zip(xs, self._low_l, self._scale_l, self._top_l):
            try:
                v = float(v)
            except (TypeError, ValueError):
                raise TypeError(f"x must be one state of {self.d} number(s), got {x!r}") from None
            if v != v:
                raise ValueError("x must not contain NaN")
            u = (v - lo) * sc
            z.append(0.0 if u < 0.0 else top if u > top else u)
        out = []
        strides = self._strides_l
        for base, off in self._rows:
            i = base
            for zi, oi, st in zip(z, off, strides):
                i += int(zi + oi) * st  # zi + oi >= 0, so int() is floor()
            out.append(i)
        if self.hash_size is not None:
            a, b, n = self._a, self._b, self.hash_size
            out = [(((a * i + b) & _MASK64) >> 32) % n for i in out]
        return out
