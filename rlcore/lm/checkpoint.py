"""Checkpoints of the character LM: weights and architecture in one safetensors file (no pickle).

Book: *Implementation guide*, "Saving and loading models".
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from rlcore.lm.model import CharLM, ModelConfig

__all__ = ["save", "load"]

_META_KEY = "rlcore.CharLM"


def save(model: CharLM, path: str | Path) -> None:
    """Write the weights and the :class:`ModelConfig` to a safetensors file (no pickle)."""
    from safetensors.torch import save_file

    state = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata={_META_KEY: json.dumps(asdict(model.config))})


def load(path: str | Path, model: CharLM | None = None) -> CharLM:
    """Load a checkpoint written by :func:`save`, bit-identical.

    Without ``model`` a new :class:`CharLM` is built from the stored config. With
    ``model``, its architecture must match the checkpoint's, else ``ValueError``
    naming the differing fields.
    """
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    if _META_KEY not in meta:
        raise ValueError(f"{path} is not an rlcore CharLM checkpoint (no {_META_KEY!r} metadata)")
    config = ModelConfig(**json.loads(meta[_META_KEY]))
    if model is None:
        model = CharLM.from_config(config)
    elif model.config != config:
        diff = {k: (getattr(config, k), getattr(model.config, k)) for k in asdict(config)
                if getattr(config, k) != getattr(model.config, k)}
        raise ValueError("checkpoint architecture does not match the model: "
                         + ", ".join(f"{k}: checkpoint {a!r} vs model {b!r}" for k, (a, b) in diff.items()))
    state = load_file(str(path))
    own = model.state_dict()
    if set(state) != set(own) or any(state[k].shape != own[k].shape for k in own):
        raise ValueError(f"checkpoint tensors do not match the model's parameters ({path})")
    model.load_state_dict(state)
    return model
