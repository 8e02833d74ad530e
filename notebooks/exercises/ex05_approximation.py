"""Exercises for chapter 3, *Sequential decision making* ("From tables to networks"): tiles and linear TD.

Companion notebook: notebooks/05_linear_function_approximation.ipynb.
Fill in each function body (replace the ``raise NotImplementedError``), then check your work with

    python -m pytest tests/exercises --student -k ex05

numpy only: no rlcore learners and no ``TileCoder``.
"""

from __future__ import annotations

import math  # noqa: F401  (you may need it)

import numpy as np  # noqa: F401  (you will need it)


def tile_indices(x, low, high, tiles_per_dim: int, n_tilings: int):
    """The active tile of each tiling for one 2-d state: ``rlcore.approx.tiles.TileCoder``'s convention.

    With ``T = tiles_per_dim`` tiles across the box in each dimension:

    1. scale: ``z_i = (x_i - low_i) * s_i`` with ``s_i = T / (high_i - low_i)`` (compute ``s_i`` first),
       so that one tile is one unit wide;
    2. offsets: tiling ``k`` (``k = 0 .. n_tilings - 1``) is shifted by
       ``o[k, i] = ((k * d_i) mod n_tilings) / n_tilings`` tile widths, with the asymmetric
       displacement ``d = (1, 3)`` (``d_0 = 1`` for the first coordinate, ``d_1 = 3`` for the second);
    3. tile coordinates: ``c_i = floor(z_i + o[k, i])``, an integer in ``0 .. T`` (each tiling holds
       ``T + 1`` tiles per dimension, so the shifted grid still covers the whole box);
    4. index: ``k * (T + 1)**2 + c_0 * (T + 1) + c_1`` (each tiling owns a block of ``(T + 1)**2``
       indices; inside it the second coordinate runs fastest).

    Parameters
    ----------
    x : ``[2]`` state inside the box (its edges included).
    low, high : ``[2]`` corners of the box, ``high > low``.
    tiles_per_dim : ``T``, tiles across the box per dimension.
    n_tilings : number of tilings.

    Returns
    -------
    ``[n_tilings]`` integer array, entry ``k`` the index of the active tile of tiling ``k``.
    """
    raise NotImplementedError("scale x to tile units, add tiling k's offset ((k * (1, 3)) mod n) / n, take "
                              "the floor, then flatten (c_0, c_1) into tiling k's block of (T + 1)**2 indices")


def semi_gradient_td0_update(w, x, r: float, x_next, terminated: bool, truncated: bool, alpha: float,
                             gamma: float):
    """One step of linear semi-gradient TD(0): the new weights after the transition ``(x, r, x_next)``.

    With ``v(s, w) = w . x(s)`` the gradient of the value is the feature vector itself, and the
    bootstrapped target is held fixed (that is the *semi* in semi-gradient):

    ``delta = r + gamma * (1 - terminated) * w . x_next - w . x``
    ``w_new = w + alpha * delta * x``

    ``terminated`` and ``truncated`` are the two flags of gymnasium's ``env.step``. Only a real
    termination drops the bootstrap term; a step cut by a time limit still bootstraps.

    Parameters
    ----------
    w : ``[n]`` weights (do not modify it in place).
    x, x_next : ``[n]`` features of the state and of the next state.
    r : reward of the transition.
    terminated, truncated : the episode ended in a terminal state / was cut by a time limit.
    alpha : step size, ``> 0``.
    gamma : discount factor in ``[0, 1]``.

    Returns
    -------
    ``[n]`` float array, the updated weights.
    """
    raise NotImplementedError("delta = r + gamma * (1 - terminated) * w @ x_next - w @ x; return w + alpha * delta * x "
                              "(truncated does not cut the bootstrap)")


def baird_td_update(w, s: int, a: int, s_next: int, alpha: float, gamma: float = 0.99):
    """One off-policy semi-gradient TD(0) step on Baird's counterexample (Sutton & Barto, Example 11.1).

    Seven states: ``0 .. 5`` are the upper states, ``6`` the lower one. Eight weights (the book's
    ``w_1 .. w_8`` are ``w[0] .. w[7]``), features ``x(s)``:

    - upper state ``i``: ``2`` at index ``i``, ``1`` at index ``7`` (value ``2 w[i] + w[7]``);
    - lower state ``6``: ``1`` at index ``6``, ``2`` at index ``7`` (value ``w[6] + 2 w[7]``).

    Action ``a = 0`` is *dashed*, ``a = 1`` is *solid*. The behaviour policy ``b`` picks solid with
    probability ``1/7``, the target policy ``pi`` always picks solid; every reward is 0. With the
    importance ratio ``rho = pi(a|s) / b(a|s)``:

    ``delta = gamma * w . x(s_next) - w . x(s)``
    ``w_new = w + alpha * rho * delta * x(s)``

    Parameters
    ----------
    w : ``[8]`` weights (do not modify it in place).
    s, s_next : state and next state, integers in ``0 .. 6``.
    a : the action ``b`` took in ``s`` (0 dashed, 1 solid).
    alpha : step size, ``> 0``; gamma : discount factor.

    Returns
    -------
    ``[8]`` float array, the updated weights.
    """
    raise NotImplementedError("build the [7, 8] feature matrix, rho = 7 for solid and 0 for dashed, then the TD(0) "
                              "step along x(s) scaled by rho")
