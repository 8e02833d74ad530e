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

from rlcore.core.validation import (
    check_array,
    check_choice,
    check_device,
    check_flag,
    check_instance,
    check_nonnegative_int,
    check_positive_int,
)

__all__ = ["World", "world", "init_distributed", "close_distributed", "micro_batch_rows", "stream_generators",
           "DataParallelLM", "replicate", "reduce_mean", "reduce_sum", "reduce_max", "sync_context", "owned"]


@dataclass(frozen=True)
class World:
    """``rank`` of this process among ``size`` (``World(0, 1)`` outside ``torch.distributed``)."""

    rank: int = 0
    size: int = 1

    def __post_init__(self) -> None:
        check_nonnegative_int(self.rank, "rank")
        check_nonnegative_int(self.size, "size")
        if self.size < 1 or self.rank >= self.size:
            raise ValueError(f"rank must lie in [0, size) and size must be >= 1, got rank {self.rank}, "
                             f"size {self.size}")

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
    if backend is not None:
        check_choice(backend, "backend", ("gloo", "nccl", "mpi"))
    device = check_device(device, "device")
    if dist.is_initialized() or "WORLD_SIZE" not in os.environ:
        return world()
    if backend is None:
        backend = "nccl" if (device or torch.device("cpu")).type == "cuda" else "gloo"
    dist.init_process_group(backend)
    return world()


def close_distributed() -> None:
    """Leave the process group, if one was joined."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def micro_batch_rows(batch_size: int, accumulation: int, size: int, group: int = 1, what: str = "batch_size") -> int:
    """Rows per micro-batch, ``batch_size / (size * accumulation)``; ``ValueError`` unless it is a whole
    number of groups of ``group`` rows (GRPO's and RLOO's groups never straddle two micro-batches)."""
    check_positive_int(batch_size, what)
    check_positive_int(accumulation, "accumulation")
    check_positive_int(size, "size")
    check_positive_int(group, "group")
    m = size * accumulation
    if batch_size % m or (batch_size // m) % group:
        raise ValueError(f"{what}={batch_size} must split into {m} micro-batches (world size {size} x "
                         f"gradient_accumulation_steps {accumulation}) of whole groups of {group}")
    return batch_size // m


def stream_generators(seed: int, accumulation: int, w: World, device: torch.device | str = "cpu"
                      ) -> list[torch.Generator]:
    """The ``torch.Generator`` of each micro-batch this rank owns (streams ``rank + N j``, ``j < accumulation``)."""
    check_nonnegative_int(seed, "seed")
    check_positive_int(accumulation, "accumulation")
    check_instance(w, "w", World)
    check_device(device, "device", none=False)
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

    def __init__(self, module: nn.Module, *args, **kwargs) -> None:
        check_instance(module, "module", nn.Module)
        if not hasattr(module, "vocab"):
            raise TypeError(f"module must be a CharLM (a module with a vocab), got {type(module).__name__}")
        if not (dist.is_available() and dist.is_initialized()):
            raise ValueError("DataParallelLM(module) needs an initialised torch.distributed process group "
                             "(run under torchrun and call init_distributed first)")
        super().__init__(module, *args, **kwargs)

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
    check_instance(model, "model", nn.Module)
    w = world() if w is None else check_instance(w, "w", World)
    check_flag(uses_value_head, "uses_value_head")
    if w.size == 1:
        return model
    dev = next(model.parameters()).device
    ids = [dev.index if dev.index is not None else torch.cuda.current_device()] if dev.type == "cuda" else None
    unused = getattr(model, "value", None) is not None and not uses_value_head
    return DataParallelLM(model, device_ids=ids, find_unused_parameters=unused)


def sync_context(net: nn.Module, last: bool):
    """``net.no_sync()`` for every micro-batch but a rank's last: gradients are summed locally and
    all-reduced once per step."""
    check_instance(net, "net", nn.Module)
    check_flag(last, "last")
    if isinstance(net, DistributedDataParallel) and not last:
        return net.no_sync()
    return contextlib.nullcontext()


def _reduce(values: Sequence[float], device: torch.device | str, op: str) -> list[float]:
    if isinstance(values, (int, float)):
        raise TypeError(f"values must be a sequence of numbers, got a single {type(values).__name__}")
    check_array(values, "values", ndim=1, finite=False, allow_empty=True)
    check_device(device, "device", none=False)
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
    check_instance(items, "items", (Sequence, torch.Tensor), "a sequence (list, tuple) of items")
    check_instance(w, "w", World)
    return iter(items[w.rank::w.size])
