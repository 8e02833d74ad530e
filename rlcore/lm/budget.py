"""The practical chapter's arithmetic as functions: memory and compute budgets of training runs.

Book: *Practical considerations*, "Memory: four models and an optimiser".

Bytes per parameter (the ZeRO paper's accounting, Rajbhandari et al. 2020):

* trained with Adam in mixed precision: 2 (16-bit weights) + 2 (16-bit gradients)
  + 12 (fp32 master weights and the two moments) = 16;
* trained with Adam in fp32: 4 + 4 + 8 (the two moments) = 16;
* trained with plain SGD in 16-bit, fp32 master kept: 2 + 2 + 4 = 8;
* frozen: 2 in 16-bit, 4 in fp32.

Compute: a forward pass costs about ``2 N`` FLOPs per token for ``N`` parameters and a
backward pass twice that, so training on ``D`` tokens costs ``6 N D`` (Kaplan et al. 2020).
Activations of a transformer layer without recomputation take
``s b h (34 + 5 a s / h)`` bytes in 16-bit (Korthikanti et al. 2022), for sequence length
``s``, batch ``b``, hidden size ``h`` and ``a`` attention heads.
"""

from __future__ import annotations

from dataclasses import dataclass

from rlcore.core.validation import check_choice, check_flag, check_instance, check_positive_int, check_real

__all__ = ["BYTES_PER_DTYPE", "OPTIMIZERS", "MemoryBudget", "training_memory", "rlhf_memory", "training_flops",
           "generation_flops", "activation_bytes", "budget_table"]

BYTES_PER_DTYPE = {"fp32": 4, "bf16": 2, "fp16": 2, "int8": 1}
"""Bytes per number of each storage type."""
OPTIMIZERS = {"adam": 2, "sgd": 0, "none": 0}
"""fp32 moment estimates each optimiser keeps per trained parameter."""


def _count(value: float, name: str) -> float:
    return check_real(value, name, 0.0)


@dataclass(frozen=True)
class MemoryBudget:
    """Bytes of one model in training: ``weights + gradients + optimizer + activations = total``."""

    weights: float
    gradients: float
    optimizer: float
    activations: float = 0.0

    def __post_init__(self) -> None:
        for name in ("weights", "gradients", "optimizer", "activations"):
            _count(getattr(self, name), name)

    @property
    def total(self) -> float:
        return self.weights + self.gradients + self.optimizer + self.activations

    def __add__(self, other: MemoryBudget) -> MemoryBudget:
        check_instance(other, "other", MemoryBudget)
        return MemoryBudget(self.weights + other.weights, self.gradients + other.gradients,
                            self.optimizer + other.optimizer, self.activations + other.activations)

    def gb(self) -> float:
        """The total in (decimal) gigabytes, as the book counts them."""
        return self.total / 1e9

    def __repr__(self) -> str:
        parts = ", ".join(f"{k} {getattr(self, k) / 1e9:.3g} GB"
                          for k in ("weights", "gradients", "optimizer", "activations") if getattr(self, k))
        return f"MemoryBudget({self.gb():.4g} GB: {parts or 'nothing'})"


def training_memory(n_params: float, dtype: str = "bf16", optimizer: str = "adam", trained: bool = True,
                    master_weights: bool | None = None, activations: float = 0.0) -> MemoryBudget:
    """Memory of one model of ``n_params`` parameters stored in ``dtype`` (see the module table).

    A trained model also holds a gradient per weight, ``OPTIMIZERS[optimizer]`` fp32
    moments and, when ``master_weights`` (default: whenever ``dtype`` is not fp32), an fp32
    master copy of the weights. ``activations`` (bytes) is added as given, see [`activation_bytes`][].
    """
    n = _count(n_params, "n_params")
    check_choice(dtype, "dtype", sorted(BYTES_PER_DTYPE))
    check_choice(optimizer, "optimizer", sorted(OPTIMIZERS))
    check_flag(trained, "trained")
    if master_weights is not None:
        check_flag(master_weights, "master_weights")
    width = BYTES_PER_DTYPE[dtype]
    act = _count(activations, "activations")
    if not trained:
        return MemoryBudget(n * width, 0.0, 0.0, act)
    master = (dtype != "fp32") if master_weights is None else bool(master_weights)
    states = 4 * OPTIMIZERS[optimizer] + (4 if master else 0)
    return MemoryBudget(n * width, n * width, n * states, act)


def rlhf_memory(n_policy: float, n_value: float | None = None, n_reference: float | None = None,
                n_reward: float | None = None, dtype: str = "bf16") -> dict[str, MemoryBudget]:
    """The four models of a PPO-RLHF step: policy and value trained with Adam, reference and reward frozen.

    Sizes default to the policy's; pass 0 for a model that is not there (for example a
    value head on the policy's trunk). The ``"total"`` entry sums the four.
    """
    _count(n_policy, "n_policy")
    for name, n in (("n_value", n_value), ("n_reference", n_reference), ("n_reward", n_reward)):
        check_real(n, name, 0.0, none=True)
    check_choice(dtype, "dtype", sorted(BYTES_PER_DTYPE))
    sizes = {"policy": n_policy, "value": n_policy if n_value is None else n_value,
             "reference": n_policy if n_reference is None else n_reference,
             "reward": n_policy if n_reward is None else n_reward}
    out = {name: training_memory(n, dtype, trained=name in ("policy", "value")) for name, n in sizes.items()}
    total = MemoryBudget(0.0, 0.0, 0.0)
    for b in out.values():
        total = total + b
    out["total"] = total
    return out


def training_flops(n_params: float, n_tokens: float) -> float:
    """``6 N D`` for ``D`` tokens: forward (``2 N D``) plus backward (``4 N D``) floating-point operations."""
    return 6.0 * _count(n_params, "n_params") * _count(n_tokens, "n_tokens")


def generation_flops(n_params: float, n_tokens: float) -> float:
    """``2 N D`` for ``D`` generated tokens: one forward pass each (attention over the context ignored)."""
    return 2.0 * _count(n_params, "n_params") * _count(n_tokens, "n_tokens")


def activation_bytes(seq_len: int, batch_size: int, hidden: int, n_layers: int, n_heads: int) -> float:
    """``L s b h (34 + 5 a s / h)``: 16-bit activations of ``L`` transformer layers kept for the backward pass."""
    s, b, h, L, a = (float(check_positive_int(v, k)) for v, k in (
        (seq_len, "seq_len"), (batch_size, "batch_size"), (hidden, "hidden"), (n_layers, "n_layers"),
        (n_heads, "n_heads")))
    return L * s * b * h * (34 + 5 * a * s / h)


def budget_table(sizes: dict[str, float], tokens: float = 1e9) -> list[tuple[str, ...]]:
    """Rows ``(model, parameters, train GB, RLHF GB, training PFLOP for tokens)``, header first."""
    check_instance(sizes, "sizes", dict, "a dict of model name -> parameter count")
    for name, n in sizes.items():
        check_real(n, f"sizes[{name!r}]", 0.0)
    check_real(tokens, "tokens", 0.0)
    rows = [("model", "parameters", "trained, Adam (GB)", "PPO-RLHF, 4 models (GB)",
             f"training FLOP on {tokens:.0e} tokens")]
    for name, n in sizes.items():
        rows.append((name, f"{n:.3g}", f"{training_memory(n).gb():.4g}", f"{rlhf_memory(n)['total'].gb():.4g}",
                     f"{training_flops(n, tokens):.3g}"))
    return rows
