"""Checks of torch arguments (tensors and devices), cheap enough for the hot loss functions.

Book: *Implementation guide*, "Conventions" (errors that say what was given and what was expected).
Re-exported by [`rlcore.core.validation`][], the one place the other layers import checks from.
"""

from __future__ import annotations

from typing import Any

__all__ = ["check_tensor", "check_device"]


def check_tensor(value: Any, name: str, ndim: int | None = None, shape: tuple[int | None, ...] | None = None,
                 kind: str | None = None, finite: bool = False) -> Any:
    """``value`` if it is a torch tensor of this ndim/shape/kind ("bool", "integer", "floating"); no copy, cheap."""
    import torch

    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if ndim is not None and value.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got {value.ndim} (shape {tuple(value.shape)})")
    if shape is not None and (value.ndim != len(shape) or any(w is not None and w != g
                                                               for w, g in zip(shape, value.shape))):
        want = "(" + ", ".join("*" if w is None else str(w) for w in shape) + ")"
        raise ValueError(f"{name} must have shape {want}, got {tuple(value.shape)}")
    if kind is not None:
        ok = {"bool": value.dtype == torch.bool, "floating": value.is_floating_point(),
              "integer": not value.is_floating_point() and not value.is_complex() and value.dtype != torch.bool}
        if not ok[kind]:
            raise TypeError(f"{name} must be a tensor of {kind} dtype, got dtype {value.dtype}")
    if finite and value.numel() and not value.is_meta and not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} must be finite, found NaN or inf")
    return value


def check_device(value: Any, name: str = "device", none: bool = True) -> Any:
    """``value`` as a ``torch.device`` that exists on this machine (``None`` passes when ``none``)."""
    import torch

    if none and value is None:
        return None
    if not isinstance(value, (str, torch.device)):
        raise TypeError(f"{name} must be a device name or torch.device, got {type(value).__name__}")
    try:
        dev = torch.device(value)
    except (RuntimeError, ValueError):
        raise ValueError(f"{name} must be a device such as 'cpu' or 'cuda:0', got {value!r}") from None
    if dev.type == "cuda" and (not torch.cuda.is_available() or (dev.index or 0) >= torch.cuda.device_count()):
        raise ValueError(f"{name} {value!r} is not available on this machine "
                         f"({torch.cuda.device_count()} CUDA device(s))")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"{name} {value!r} is not available on this machine")
    return dev
