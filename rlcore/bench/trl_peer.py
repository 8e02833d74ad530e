"""Hugging Face TRL as a peer: the same toy, the same tensors, TRL's trainers.

Needs the ``trl`` extra (``pip install -e '.[trl]'``); nothing else in rlcore imports it.
Everything is built in memory: a character tokenizer whose ids are rlcore's
(characters ``0 .. n-1``, then ``<eos>``, ``<bos>``, ``<pad>``) and a tiny GPT-2 with
random weights, so no model or tokenizer is ever downloaded.

How rlcore's names map to TRL's (``trl.DPOConfig``, ``trl.GRPOConfig``):

| rlcore | TRL |
|---|---|
| ``DPOConfig(beta, loss_type)`` | ``DPOConfig(beta, loss_type=[...])`` |
| ``DPOConfig(learning_rate, batch_size)`` | ``learning_rate``, ``per_device_train_batch_size`` |
| ``DPOConfig(num_train_epochs)`` | ``num_train_epochs`` |
| ``PreferenceData(prompt, chosen, rejected)`` | a dataset with ``prompt``, ``chosen``, ``rejected`` |
| ``GRPOConfig(num_generations, beta, epsilon, epsilon_high, loss_type, scale_rewards)`` | the same names |
| ``max_new_tokens`` | ``max_completion_length`` |

One difference in meaning: TRL's ``ipo`` divides each log-ratio by the completion's
length before squaring; rlcore's ``ipo`` uses the summed log-ratio of Azar et al.
(pass per-token means to [`rlcore.rlhf.dpo_loss`][] to get TRL's number). And
TRL's GRPO multiplies its ``k3`` term by the importance ratio by default
(``use_bias_correction_kl``); rlcore's does not. The two agree whenever the batch
was sampled by the current policy (ratio 1), as on every first minibatch.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from rlcore.core.validation import (
    check_instance,
    check_nonnegative_int,
    check_positive_int,
    check_unit_interval,
)
from rlcore.envs.vocabulary import Vocabulary
from rlcore.lm.model import CharLM
from rlcore.rlhf.preferences import PreferenceData

__all__ = ["char_tokenizer", "tiny_gpt2", "preference_dataset", "dpo_trainer", "grpo_trainer",
           "hf_sequence_logprobs", "dpo_step_ratio"]

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here may reach the Hub
BOS_TEXT, EOS_TEXT, PAD_TEXT = "<bos>", "<eos>", "<pad>"


def _vocab(vocab: Any) -> Vocabulary:
    check_instance(vocab, "vocab", (Vocabulary, str), "a Vocabulary or a string of characters")
    return vocab if isinstance(vocab, Vocabulary) else Vocabulary(vocab)


def _texts(texts: Any, name: str) -> list[str]:
    if isinstance(texts, (str, bytes)) or not isinstance(texts, Sequence) or not texts \
            or not all(isinstance(t, str) for t in texts):
        raise TypeError(f"{name} must be a non-empty list of strings, got {texts!r}")
    return list(texts)


def _hf(model: Any, tokenizer: Any, name: str = "model") -> None:
    """``model`` is a transformers model, ``tokenizer`` a transformers tokenizer."""
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    check_instance(model, name, PreTrainedModel, "a transformers model")
    check_instance(tokenizer, "tokenizer", PreTrainedTokenizerBase, "a transformers tokenizer")


def _trainer_args(config_cls: Any, output_dir: Any, config: dict[str, Any]) -> None:
    check_instance(output_dir, "output_dir", (str, os.PathLike), "a directory path")
    known = {f.name for f in dataclasses.fields(config_cls)}
    unknown = sorted(set(config) - known)
    if unknown:
        raise TypeError(f"config: {config_cls.__name__} has no field(s) {', '.join(unknown)}")


def char_tokenizer(vocab: Vocabulary | str):
    """A ``PreTrainedTokenizerFast`` with one token per character and rlcore's ids for the specials."""
    vocab = _vocab(vocab)
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    ids = dict(vocab.stoi)
    ids.update({EOS_TEXT: vocab.EOS, BOS_TEXT: vocab.BOS, PAD_TEXT: vocab.PAD})
    core = Tokenizer(models.WordLevel(ids, unk_token=PAD_TEXT))
    core.pre_tokenizer = pre_tokenizers.Split(Regex(f"{BOS_TEXT}|{EOS_TEXT}|{PAD_TEXT}|."), behavior="isolated")
    return PreTrainedTokenizerFast(tokenizer_object=core, bos_token=BOS_TEXT, eos_token=EOS_TEXT,
                                   pad_token=PAD_TEXT, unk_token=PAD_TEXT)


def tiny_gpt2(vocab: Vocabulary | str, n_embd: int = 32, n_layer: int = 1, n_head: int = 2, n_positions: int = 32,
              seed: int = 0, dropout: float = 0.0):
    """A randomly initialised ``GPT2LMHeadModel`` over rlcore's token ids (seeded, global RNG untouched).

    Dropout is off by default, as in rlcore's models, so that a training step is a plain gradient step.
    """
    vocab = _vocab(vocab)
    for name, v in (("n_embd", n_embd), ("n_layer", n_layer), ("n_head", n_head), ("n_positions", n_positions)):
        check_positive_int(v, name)
    if n_embd % n_head:
        raise ValueError(f"n_embd must be a multiple of n_head ({n_head}), got {n_embd}")
    check_nonnegative_int(seed, "seed")
    if check_unit_interval(dropout, "dropout") >= 1:
        raise ValueError(f"dropout must be < 1, got {dropout}")
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(vocab_size=vocab.n_tokens, n_positions=n_positions, n_embd=n_embd, n_layer=n_layer,
                        n_head=n_head, bos_token_id=vocab.BOS, eos_token_id=vocab.EOS, pad_token_id=vocab.PAD,
                        resid_pdrop=dropout, embd_pdrop=dropout, attn_pdrop=dropout)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return GPT2LMHeadModel(config)


def preference_dataset(data: PreferenceData):
    """``PreferenceData`` as TRL's preference format; each prompt starts with ``<bos>``, as rlcore's do."""
    check_instance(data, "data", PreferenceData)
    import datasets
    from datasets import Dataset

    datasets.disable_progress_bars()  # TRL maps over these few rows several times; the bars say nothing here

    return Dataset.from_dict({"prompt": [BOS_TEXT + p for p in data.prompts],
                              "chosen": list(data.chosen), "rejected": list(data.rejected)})


def _quiet_args(config_cls, output_dir: str, **kwargs):
    # float32 throughout: TRL would otherwise autocast to bfloat16 on a CPU that supports it
    return config_cls(output_dir=output_dir, report_to="none", use_cpu=True, bf16=False, logging_strategy="no",
                      save_strategy="no", disable_tqdm=True, dataloader_num_workers=0, **kwargs)


def dpo_trainer(model, ref_model, tokenizer, data: PreferenceData, output_dir: str, **config: Any):
    """A ``trl.DPOTrainer`` on ``data``; ``config`` goes to ``trl.DPOConfig`` (TRL's names)."""
    _hf(model, tokenizer)
    if ref_model is not None:
        _hf(ref_model, tokenizer, "ref_model")
    check_instance(data, "data", PreferenceData)
    from trl import DPOConfig, DPOTrainer

    _trainer_args(DPOConfig, output_dir, config)

    with warnings.catch_warnings():  # transformers' deprecation notices about its own defaults
        warnings.simplefilter("ignore", FutureWarning)
        args = _quiet_args(DPOConfig, output_dir, **config)
        trainer = DPOTrainer(model=model, ref_model=ref_model, args=args, train_dataset=preference_dataset(data),
                             processing_class=tokenizer)
    return _without_printer(trainer)


def _without_printer(trainer):
    """Drop the callback that prints the metrics dictionary once tqdm is off (the caller logs what it needs)."""
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    return trainer


def grpo_trainer(model, tokenizer, prompts: Sequence[str], reward: Callable[[list[str]], list[float]],
                 output_dir: str, **config: Any):
    """A ``trl.GRPOTrainer`` sampling from ``model``; ``reward`` maps completion texts to floats.

    TRL builds its reference model from a path, so ``model`` is saved to ``output_dir`` first.
    """
    _hf(model, tokenizer)
    prompts = _texts(prompts, "prompts")
    if not callable(reward):
        raise TypeError(f"reward must be a function completions -> rewards, got {type(reward).__name__}")
    import datasets
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    _trainer_args(GRPOConfig, output_dir, config)

    datasets.disable_progress_bars()

    path = os.path.join(output_dir, "policy")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    args = _quiet_args(GRPOConfig, output_dir, **config)
    dataset = Dataset.from_dict({"prompt": [BOS_TEXT + p for p in prompts]})

    def reward_func(completions, **_):
        return [float(v) for v in reward(list(completions))]

    trainer = GRPOTrainer(model=path, reward_funcs=reward_func, args=args, train_dataset=dataset,
                          processing_class=tokenizer)
    trainer.current_gradient_accumulation_steps = 1  # set by Trainer.train(); needed to call the loss directly
    return _without_printer(trainer)


@torch.no_grad()
def hf_sequence_logprobs(model, tokenizer, prompts: Sequence[str], completions: Sequence[str],
                         ended: Sequence[bool] | None = None) -> np.ndarray:
    """``log pi(y|x)`` under a transformers causal LM, float64 ``[N]``: the sum over the completion's tokens.

    ``ended[i]`` (default all true) says whether completion ``i`` closes with ``<eos>``.
    """
    _hf(model, tokenizer)
    prompts, completions = _texts(prompts, "prompts"), _texts(completions, "completions")
    if len(completions) != len(prompts):
        raise ValueError(f"completions must have one entry per prompt ({len(prompts)}), got {len(completions)}")
    if ended is not None and (isinstance(ended, (str, bytes)) or not isinstance(ended, Sequence) or len(ended) !=
                              len(prompts) or not all(isinstance(e, (bool, np.bool_)) for e in ended)):
        raise ValueError(f"ended must hold one True/False per prompt ({len(prompts)}), got {ended!r}")
    known = tokenizer.get_vocab()
    for name, texts in (("prompts", prompts), ("completions", completions)):
        bad = sorted({ch for t in texts for ch in t if ch not in known})
        if bad:
            raise ValueError(f"{name} hold characters the tokenizer does not know: {bad}")
    ended = [True] * len(prompts) if ended is None else list(ended)
    rows, starts = [], []
    for p, c, e in zip(prompts, completions, ended):
        ids = tokenizer(BOS_TEXT + p + c + (EOS_TEXT if e else ""), add_special_tokens=False).input_ids
        rows.append(ids)
        starts.append(1 + len(p))
    width = max(map(len, rows))
    pad = tokenizer.pad_token_id
    tokens = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
    lengths = torch.tensor([len(r) for r in rows])
    logp = torch.log_softmax(model(tokens, attention_mask=(torch.arange(width) < lengths[:, None]).long()
                                   ).logits[:, :-1].double(), -1)
    per_token = logp.gather(-1, tokens[:, 1:, None]).squeeze(-1)
    pos = torch.arange(1, width)[None, :]
    mask = (pos >= torch.tensor(starts)[:, None]) & (pos < lengths[:, None])
    return (per_token * mask).sum(-1).numpy()


def _matching_gpt2(vocab: Vocabulary, n_params: int, seed: int):
    """The tiny GPT-2 (one layer, two heads) whose parameter count is closest to ``n_params``."""
    from rlcore.lm.model import count_parameters

    sizes = {d: count_parameters(tiny_gpt2(vocab, n_embd=d, seed=seed)) for d in range(8, 129, 2)}
    best = min(sizes, key=lambda d: abs(sizes[d] - n_params))
    return tiny_gpt2(vocab, n_embd=best, seed=seed)


def dpo_step_ratio(data: PreferenceData, batch_size: int = 64, steps: int = 20, repeat: int = 3,
                   seed: int = 0) -> dict[str, Any]:
    """Seconds per DPO optimiser step: rlcore (GRU ``CharLM``) and TRL (tiny GPT-2 of about the same size).

    Both sides are warmed up once; each figure is the best of ``repeat`` runs of
    ``steps`` steps. rlcore's time covers the whole [`dpo`][rlcore.rlhf.dpo] call
    (encoding the pairs and the reference log-probs included); TRL's covers
    ``Trainer.train`` from its first step to its last (its tokenisation happens earlier).
    """
    check_instance(data, "data", PreferenceData)
    for name, v in (("batch_size", batch_size), ("steps", steps), ("repeat", repeat)):
        check_positive_int(v, name)
    check_nonnegative_int(seed, "seed")
    from transformers import TrainerCallback

    from rlcore.lm.model import count_parameters
    from rlcore.rlhf.dpo import DPOConfig, dpo

    data = data.subset(np.arange(batch_size * steps) % len(data))
    ours = CharLM(data.vocab, embed_dim=32, hidden_dim=64, value_head=False, seed=seed)
    config = DPOConfig(beta=0.1, batch_size=batch_size, num_train_epochs=1, seed=seed)
    rlcore_times = []
    for _ in range(repeat + 1):
        start = time.perf_counter()
        dpo(ours, data, config)
        rlcore_times.append((time.perf_counter() - start) / steps)

    class Clock(TrainerCallback):
        def on_train_begin(self, *args, **kwargs):
            self.start = time.perf_counter()

        def on_train_end(self, *args, **kwargs):
            self.seconds = time.perf_counter() - self.start

    theirs = _matching_gpt2(data.vocab, count_parameters(ours), seed)
    ref = _matching_gpt2(data.vocab, count_parameters(ours), seed)
    tokenizer, trl_times = char_tokenizer(data.vocab), []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(repeat + 1):
            clock = Clock()
            trainer = dpo_trainer(theirs, ref, tokenizer, data, out, beta=0.1, max_steps=steps,
                                  per_device_train_batch_size=batch_size, seed=seed)
            trainer.add_callback(clock)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                trainer.train()
            trl_times.append(clock.seconds / steps)
    rlcore_step, trl_step = min(rlcore_times[1:]), min(trl_times[1:])
    return {"rlcore_s_per_step": rlcore_step, "trl_s_per_step": trl_step, "ratio": trl_step / rlcore_step,
            "rlcore_params": count_parameters(ours), "trl_params": count_parameters(theirs),
            "batch_size": batch_size, "steps": steps}
