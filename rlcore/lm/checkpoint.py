"""Checkpoints of the character LM: weights and architecture in one safetensors file (no pickle).

Book: *Implementation guide*, "Saving and loading models".
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from rlcore.core.validation import check_instance
from rlcore.lm.model import CharLM, ModelConfig

__all__ = ["save", "load"]

_META_KEY = "rlcore.CharLM"


MAX_DIM = 4096
"""Largest ``embed_dim`` / ``hidden_dim`` a checkpoint may ask for (far above anything this package trains)."""
MAX_LAYERS = 16
MAX_CHARS = 1024


def _check_path(path, name: str = "path") -> Path:
    if not isinstance(path, (str, Path)) or str(path) == "":
        raise ValueError(f"{name} must be a file path (str or Path), got {path!r}")
    return Path(path)


def save(model: CharLM, path: str | Path) -> None:
    """Write the weights and the [`ModelConfig`][] to a safetensors file (no pickle)."""
    from safetensors.torch import save_file

    path = _check_path(path)
    if not isinstance(model, CharLM):
        raise ValueError(f"model must be a CharLM, got {type(model).__name__}")
    if path.is_dir():
        raise ValueError(f"path {path} is a directory, not a file")
    if not path.parent.is_dir():
        raise ValueError(f"path {path}: the folder {path.parent} does not exist")
    state = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata={_META_KEY: json.dumps(asdict(model.config))})


def _config_from_metadata(raw: str, path: Path) -> ModelConfig:
    """Parse and bound the stored architecture before anything is allocated."""
    try:
        fields = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: the {_META_KEY!r} metadata is not JSON ({exc})") from None
    expected = {f: type(getattr(ModelConfig(), f)) for f in asdict(ModelConfig())}
    if not isinstance(fields, dict) or set(fields) != set(expected):
        got = sorted(fields) if isinstance(fields, dict) else type(fields).__name__
        raise ValueError(f"{path}: the architecture must have the fields {sorted(expected)}, got {got}")
    for name, kind in expected.items():
        value = fields[name]
        if type(value) is not kind:
            raise ValueError(f"{path}: architecture field {name} must be {kind.__name__}, got {value!r}")
    for name, high in (("embed_dim", MAX_DIM), ("hidden_dim", MAX_DIM), ("num_layers", MAX_LAYERS)):
        if not 1 <= fields[name] <= high:
            raise ValueError(f"{path}: architecture field {name} must lie in [1, {high}], got {fields[name]}")
    chars = fields["chars"]
    if not 1 <= len(chars) <= MAX_CHARS or len(set(chars)) != len(chars):
        raise ValueError(f"{path}: architecture field chars must be 1 to {MAX_CHARS} distinct characters, "
                         f"got {len(chars)} characters")
    return ModelConfig(**fields)


def _expected_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Parameter shapes of a CharLM of this architecture, computed without building it."""
    n_tok, n_act = len(config.chars) + 3, len(config.chars) + 1
    E, H = config.embed_dim, config.hidden_dim
    shapes = {"embed.weight": (n_tok, E), "head.weight": (n_act, H), "head.bias": (n_act,)}
    for k in range(config.num_layers):
        width = E if k == 0 else H
        shapes.update({f"gru.weight_ih_l{k}": (3 * H, width), f"gru.weight_hh_l{k}": (3 * H, H),
                       f"gru.bias_ih_l{k}": (3 * H,), f"gru.bias_hh_l{k}": (3 * H,)})
    if config.value_head:
        shapes.update({"value.weight": (1, H), "value.bias": (1,)})
    return shapes


def load(path: str | Path, model: CharLM | None = None) -> CharLM:
    """Load a checkpoint written by [`save`][], bit-identical.

    The stored architecture is parsed and bounded, and every tensor's name and shape
    is checked against it from the file's header, before any model is built or any
    tensor read; errors name the file and the tensor. Without ``model`` a new
    [`CharLM`][] is built from the stored config. With ``model``, its architecture
    must match the checkpoint's, else ``ValueError`` naming the differing fields.
    """
    from safetensors import safe_open

    path = _check_path(path)
    if model is not None:
        check_instance(model, "model", CharLM)
    if path.is_dir():
        raise ValueError(f"path {path} is a directory, not a checkpoint file")
    if not path.is_file():
        raise FileNotFoundError(f"No such file or directory: {path}")
    try:
        handle = safe_open(str(path), framework="pt")
    except Exception as exc:  # safetensors raises its own error types for a malformed header
        raise ValueError(f"{path} is not a safetensors file ({exc})") from None
    with handle as f:
        meta = f.metadata() or {}
        if _META_KEY not in meta:
            raise ValueError(f"{path} is not an rlcore CharLM checkpoint (no {_META_KEY!r} metadata)")
        config = _config_from_metadata(meta[_META_KEY], path)
        want = _expected_shapes(config)
        names = set(f.keys())
        if names != set(want):
            raise ValueError(f"{path}: tensors {sorted(names ^ set(want))} do not belong to the stored "
                             f"architecture (missing or unexpected)")
        for name, shape in want.items():
            got = tuple(f.get_slice(name).get_shape())
            if got != shape:
                raise ValueError(f"{path}: tensor {name} has shape {got}, the architecture needs {shape}")
        if model is None:
            model = CharLM.from_config(config)
        elif model.config != config:
            diff = {k: (getattr(config, k), getattr(model.config, k)) for k in asdict(config)
                    if getattr(config, k) != getattr(model.config, k)}
            raise ValueError("checkpoint architecture does not match the model: "
                             + ", ".join(f"{k}: checkpoint {a!r} vs model {b!r}" for k, (a, b) in diff.items()))
        state = {name: f.get_tensor(name) for name in want}
    model.load_state_dict(state)
    return model
