"""Exercises for chapter 6: the memory of mixed-precision Adam and of ZeRO's stages, micro-batch weights
for gradient accumulation, and the interquartile mean with a bootstrap interval over seeds.

Companion code: rlcore/lm/budget.py and notebooks/13_practical_considerations.ipynb (the tests check your
answers against published numbers, closed forms and what torch really allocates).
Fill in each function body (replace the ``raise NotImplementedError``), then check your work with

    python -m pytest tests/exercises --student -k ex13
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (you will need it)


def adam_training_bytes(n_params: float, weight_bytes: int = 2) -> float:
    """Bytes needed to train ``n_params`` parameters with Adam, activations not counted (ZeRO's accounting).

    With ``b = weight_bytes`` (2 for bf16 or fp16, 4 for fp32):

    ``bytes = N (b + b + 8 + 4 [b < 4])``

    the weights and their gradients in the training format (``b`` bytes each), Adam's two moment
    estimates in fp32 (4 bytes each), and an fp32 master copy of the weights (4 bytes) whenever the
    training format is narrower than fp32. Mixed precision (``b = 2``) and plain fp32 both come to
    16 bytes per parameter.

    Parameters
    ----------
    n_params : number of trained parameters ``N``.
    weight_bytes : bytes per number of the training format.

    Returns
    -------
    float, the bytes.
    """
    raise NotImplementedError("N times: weights b + gradients b + Adam's m, v (8) + fp32 master (4) only if b < 4")


def zero_bytes_per_device(n_params: float, n_devices: int, stage: int) -> float:
    """Memory per device of mixed-precision Adam training under ZeRO (Rajbhandari et al., 2020).

    With ``P = n_params``, ``D = n_devices`` and ``K = 12`` bytes of fp32 optimiser state per
    parameter (master copy and two Adam moments), weights and gradients in 2-byte formats:

    * stage 0 (plain data parallelism, nothing sharded): ``(2 + 2 + K) P``;
    * stage 1, optimiser states sharded:                  ``(2 + 2) P + K P / D``;
    * stage 2, gradients sharded too:                      ``2 P + (2 + K) P / D``;
    * stage 3, weights sharded too:                        ``(2 + 2 + K) P / D``.

    Parameters
    ----------
    n_params : parameters of the model.
    n_devices : data-parallel devices the state is sharded over.
    stage : 0, 1, 2 or 3.

    Returns
    -------
    float, bytes per device.
    """
    raise NotImplementedError("K = 12; divide by D: optimiser states from stage 1, gradients from 2, weights at 3")


def micro_batch_weights(sizes):
    """Weights ``w_m`` that turn the mean losses of unequal micro-batches into the batch's mean loss.

    A batch of ``B = sum_m n_m`` rows is cut into micro-batches of ``n_m`` rows, and micro-batch
    ``m`` reports the mean ``lbar_m`` of its rows' losses. The accumulated loss must equal the
    batch mean:

    ``(1/B) sum_i l_i = sum_m w_m lbar_m``,  so  ``w_m = n_m / B``.

    (Averaging the micro-batch means, ``w_m = 1/M``, is right only when all sizes are equal.)

    Parameters
    ----------
    sizes : ``[M]`` positive integers, the rows of each micro-batch.

    Returns
    -------
    ``[M]`` float array of weights (they sum to 1).
    """
    raise NotImplementedError("w_m = n_m / sum(n): a row counts the same whichever micro-batch it lands in")


def interquartile_mean(scores) -> float:
    """Interquartile mean (IQM) of the final scores of ``n`` runs (Agarwal et al., 2021).

    Sort the scores, ``x_(0) <= ... <= x_(n-1)``, drop the ``k = floor(n / 4)`` lowest and the
    ``k`` highest, and average what is left:

    ``IQM = (1 / (n - 2k)) sum_{i=k}^{n-k-1} x_(i)``.

    For ``n < 4`` nothing is dropped and the IQM is the mean.

    Parameters
    ----------
    scores : ``[n]`` array, one score per run (any order).

    Returns
    -------
    float.
    """
    raise NotImplementedError("np.sort the scores, k = n // 4, then the mean of x[k : n - k]")


def bootstrap_ci(scores, statistic, n_boot: int = 2000, confidence: float = 0.95, seed: int = 0):
    """Percentile bootstrap confidence interval of ``statistic`` over runs.

    Draw ``n_boot`` resamples of the ``n`` scores, each of size ``n`` and *with replacement*, using
    ``np.random.default_rng(seed)``; compute ``t_j = statistic(resample_j)`` for each; return the
    ``(1 - c) / 2`` and ``(1 + c) / 2`` quantiles of ``t_1, ..., t_{n_boot}`` (``np.quantile``),
    with ``c = confidence``.

    Parameters
    ----------
    scores : ``[n]`` array, one score per run.
    statistic : function of a 1-d array returning a float (for example ``np.mean`` or an IQM).
    n_boot : number of resamples.
    confidence : ``c`` in (0, 1).
    seed : seeds the resampling.

    Returns
    -------
    tuple ``(low, high)`` of floats.
    """
    raise NotImplementedError("rng = np.random.default_rng(seed); rng.integers(0, n, n) is one resample; np.quantile")
