"""Data parallelism on ``torch.distributed``: ranks, micro-batches, the DDP wrapper and reduced metrics.

Book: *Practical considerations*, "Scaling out: data parallelism".

A batch of ``B`` rows is cut into ``M = world_size x gradient_accumulation_steps``
micro-batches of ``B / M`` rows. Micro-batch ``m`` is always drawn by the same
random stream (stream 0 is seeded with the config's ``seed`` itself, stream
``m > 0`` with ``SeedSequence(seed, m)``), and rank ``r`` owns the micro-batches
``m = r, r + N, r + 2N, ..`` of a world of ``N`` processes. Each micro-batch's
loss ``l_m`` is its own mean, and the step follows the gradient of

    L = (1 / M) sum_m l_m ,

which ``torch.nn.parallel.DistributedDataParallel`` computes by
averaging the ranks' gradients (an all-reduce) after each rank has summed
``l_m / gradient_accumulation_steps`` over its own micro-batches. So two
processes with one micro-batch each and one process with two accumulated
micro-batches take the same step on the same global batch. The gloo backend
runs on the CPU; nccl is chosen for CUDA models.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

__all__ = ["World", "world", "init_distributed", "close_distributed", "micro_batch_rows", "stream_generators",
           "DataParallelLM", "replicate", "reduce_mean", "reduce_sum", "reduce_max", "sync_context", "owned"]


@dataclass(frozen=True)
class World:
    """``rank`` of this process among ``size`` (``World(0, 1)`` outside ``torch.distributed``)."""

    rank: int = 0
    size: int = 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the only process that writes checkpoints, logs and progress bars."""
        return self.rank == 0


def world() -> World:
    """The current process group's rank and size, or a world of one process."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size())
    return World()


def init_distributed(backend: str | None = None, device: torch.device | str | None = None) -> World:
    """Join the process group ``torchrun`` describes (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` ...).

    ``backend`` defaults to ``"nccl"`` for a CUDA ``device`` and ``"gloo"``
    otherwise. Outside ``torchrun`` (no ``WORLD_SIZE`` in the environment) nothing
    is started and a world of one process is returned.
    """
    if dist.is_initialized() or "WORLD_SIZE" not in os.environ:
        return world()
    if backend is None:
        backend = "nccl" if torch.device(device or "cpu").type == "cuda" else "gloo"
    if backend not in ("gloo", "nccl", "mpi"):
        raise ValueError(f"backend must be 'gloo', 'nccl' or 'mpi', got {backend!r}")
    dist.init_process_group(backend)
    return world()


def close_distributed() -> None:
    """Leave the process group, if one was joined."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def micro_batch_rows(batch_size: int, accumulation: int, size: int, group: int = 1, what: str = "batch_size") -> int:
    """Rows per micro-batch, ``batch_size / (size * accumulation)``; ``ValueError`` unless it is a whole
    number of groups of ``group`` rows (GRPO's and RLOO's groups never straddle two micro-batches)."""
    m = size * accumulation
    if batch_size % m or (batch_size // m) % group:
        raise ValueError(f"{what}={batch_size} must split into {m} micro-batches (world size {size} x "
                         f"gradient_accumulation_steps {accumulation}) of whole groups of {group}")
    return batch_size // m


def stream_generators(seed: int, accumulation: int, w: World, device: torch.device | str = "cpu"
                      ) -> list[torch.Generator]:
    """The ``torch.Generator`` of each micro-batch this rank owns (streams ``rank + N j``, ``j < accumulation``)."""
    gens = []
    for j in range(accumulation):
        m = w.rank + w.size * j
        s = seed if m == 0 else int(np.random.SeedSequence(seed, spawn_key=(m,)).generate_state(1)[0])
        gens.append(torch.Generator(device=device).manual_seed(s))
    return gens


class DataParallelLM(DistributedDataParallel):
    """``DistributedDataParallel`` around a [`CharLM`][rlcore.lm.model.CharLM], which still reads as one.

    The trainers score through it (so the backward pass all-reduces the
    gradients) and ask it for ``vocab``, ``device`` and ``dtype`` as they ask the model
    (``device`` is DistributedDataParallel's own attribute).
    """

    @property
    def vocab(self):
        return self.module.vocab

    @property
    def dtype(self) -> torch.dtype:
        return self.module.dtype


def replicate(model: nn.Module, w: World | None = None, uses_value_head: bool = False) -> nn.Module:
    """The module to run gradient-carrying forward passes through: ``model`` itself in a world of
    one, a [`DataParallelLM`][] otherwise (parameters broadcast from rank 0). A value head that
    the loss does not use (GRPO, DPO) is declared, so the all-reduce does not wait for its gradient."""
    w = world() if w is None else w
    if w.size == 1:
        return model
    dev = next(model.parameters()).device
    ids = [dev.index if dev.index is not None else torch.cuda.current_device()] if dev.type == "cuda" else None
    unused = getattr(model, "value", None) is not None and not uses_value_head
    return DataParallelLM(model, device_ids=ids, find_unused_parameters=unused)


def sync_context(net: nn.Module, last: bool):
    """``net.no_sync()`` for every micro-batch but a rank's last: gradients are summed locally and
    all-reduced once per step."""
    if isinstance(net, DistributedDataParallel) and not last:
        return net.no_sync()
    return contextlib.nullcontext()


def _reduce(values: Sequence[float], device: torch.device | str, op: str) -> list[float]:
    w = world()
    if w.size == 1:
        return [float(v) for v in values]
    t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX if op == "max" else dist.ReduceOp.SUM)
    if op == "mean":
        t /= w.size
    return t.tolist()


def reduce_mean(values: Sequence[float], device: torch.device | str = "cpu") -> list[float]:
    """The mean of each value over the ranks (the values themselves in a world of one)."""
    return _reduce(values, device, "mean")


def reduce_sum(values: Sequence[float], device: torch.device | str = "cpu") -> list[float]:
    """The sum of each value over the ranks."""
    return _reduce(values, device, "sum")


def reduce_max(values: Sequence[float], device: torch.device | str = "cpu") -> list[float]:
    """The largest of each value over the ranks."""
    return _reduce(values, device, "max")


def owned(items: Sequence, w: World) -> Iterator:
    """The items ``w.rank, w.rank + w.size, ..`` of a sequence (the micro-batches a rank owns)."""
    return iter(items[w.rank::w.size])
