"""Bad-input sweep of ``rlcore.lm`` (issue 9): every public function and class refuses bad input clearly.

Each case is one bad call; [`assert_refused`][bad_inputs.assert_refused] checks that it raises
``ValueError``/``TypeError`` from rlcore naming the argument. Models, envs and batches are tiny
and built once, lazily; no case trains (every one must be refused before any long work starts).
"""

from __future__ import annotations

import functools
import importlib
import math

import pytest
import torch
from bad_inputs import Bad, assert_refused, cases
from torch import nn

from rlcore.envs.language import CharLanguageEnv
from rlcore.envs.vocabulary import Vocabulary
from rlcore.lm.config import PPOConfig, ReinforceConfig, SamplingConfig, TrainerConfig
from rlcore.lm.model import CharLM, ModelConfig
from rlcore.lm.parallel import World

# the modules themselves (``rlcore.lm`` re-exports functions named ppo, pretrain, reinforce, ...)
(budget, checkpoint, config, exact, kl, losses, metrics, model, parallel, ppo, pretrain, reinforce, rewards, rollout,
 sweep, training) = (importlib.import_module(f"rlcore.lm.{m}") for m in (
    "budget", "checkpoint", "config", "exact", "kl", "losses", "metrics", "model", "parallel", "ppo", "pretrain",
    "reinforce", "rewards", "rollout", "sweep", "training"))
pytestmark = [pytest.mark.timeout(30), pytest.mark.usefixtures("one_torch_thread")]

NAN, INF = float("nan"), float("inf")


# ---------------------------------------------------------------- tiny shared objects, built lazily
@functools.cache
def M() -> CharLM:
    """The shared tiny model (never trained by a case)."""
    return CharLM("ab", embed_dim=4, hidden_dim=4, seed=0)


@functools.cache
def M_OTHER() -> CharLM:
    """A model over another vocabulary."""
    return CharLM("xy", embed_dim=4, hidden_dim=4, seed=0)


@functools.cache
def M_NOVALUE() -> CharLM:
    return CharLM("ab", embed_dim=4, hidden_dim=4, value_head=False, seed=0)


@functools.cache
def E() -> CharLanguageEnv:
    return CharLanguageEnv("ab", 3, delayed_reward=lambda t: float(t.count("a")))


@functools.cache
def E_OTHER() -> CharLanguageEnv:
    return CharLanguageEnv("xy", 3, delayed_reward=lambda t: 1.0)


def G() -> torch.Generator:
    return torch.Generator().manual_seed(0)


@functools.cache
def RO() -> rollout.Rollout:
    """A rollout of the env ``E`` (ends where the env ends)."""
    return rollout.sample(M(), ["", "a"], 2, 3, generator=G(), max_len=3)


@functools.cache
def RO_SHORT() -> rollout.Rollout:
    """A rollout cut before the env's length limit (no EOS, shorter than max_len)."""
    return rollout.rollout_from_texts(Vocabulary("ab"), ["", ""], ["a", "b"], 1)


def PCFG(**kw) -> PPOConfig:
    return PPOConfig(**({"n_iterations": 1, "batch_size": 4, "num_mini_batches": 2} | kw))


def RCFG(**kw) -> ReinforceConfig:
    return ReinforceConfig(**({"n_iterations": 1, "batch_size": 4} | kw))


@functools.cache
def BATCH() -> ppo.Batch:
    return ppo.collect(M(), E(), PCFG(), M(), G())


@functools.cache
def TR() -> training.Training:
    m = CharLM("ab", embed_dim=4, hidden_dim=4, seed=1)
    return training.start_training(m, E(), RCFG(), None)


def Z(*shape, dtype=torch.float32):
    return torch.zeros(*shape, dtype=dtype)


def MASK(*shape):
    return torch.ones(*shape, dtype=torch.bool)


def NANS(*shape):
    return torch.full(shape, NAN)


def OPT():
    return torch.optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)


def batch_with(**kw) -> ppo.Batch:
    b = BATCH()
    fields = dict(rollout=b.rollout, task_rewards=b.task_rewards, rewards=b.rewards, old_logprobs=b.old_logprobs,
                  old_values=b.old_values, ref_logprobs=b.ref_logprobs, advantages=b.advantages,
                  returns=b.returns, order=b.order)
    return ppo.Batch(**(fields | kw))


def rollout_with(**kw) -> rollout.Rollout:
    ro = RO()
    fields = {k: getattr(ro, k) for k in ("tokens", "completions", "mask", "logprobs", "values", "prompt_lengths",
                                          "lengths", "eos", "group_ids", "prompts", "vocab", "temperature",
                                          "top_k", "top_p")}
    return rollout.Rollout(**(fields | kw))


def training_with(**kw) -> training.Training:
    tr = TR()
    fields = dict(ref=tr.ref, opt=tr.opt, net=tr.net, generators=tr.generators, rows=tr.rows, world=tr.world)
    return training.Training(**(fields | kw))


def pgresult(**kw) -> training.PGResult:
    fields = dict(model=M(), history={"reward": [1.0]}, config=RCFG(), elapsed=1.0, samples=["a"])
    return training.PGResult(**(fields | kw))


def mb_loss(net, item):
    return torch.zeros((), requires_grad=True), {}


# checkpoint files live in a directory made once per module
_DIR: dict[str, object] = {}


@pytest.fixture(scope="module", autouse=True)
def _checkpoint_dir(tmp_path_factory):
    _DIR["path"] = tmp_path_factory.mktemp("ckpt")
    yield
    _DIR.clear()


def ckpt(kind: str):
    """A checkpoint file of some kind in the module's temporary directory."""
    from safetensors.torch import save_file

    d = _DIR["path"]
    p = d / f"{kind}.safetensors"
    if kind == "good":
        checkpoint.save(M(), p)
    elif kind == "garbage":
        p.write_bytes(b"\x00\x01 definitely not safetensors" * 10)
    elif kind == "empty":
        p.write_bytes(b"")
    elif kind == "nometa":
        save_file({"x": torch.zeros(2)}, str(p))
    elif kind == "huge":
        import json
        from dataclasses import asdict
        meta = asdict(ModelConfig("ab", 4, 10**6, 1, True))
        save_file({"x": torch.zeros(2)}, str(p), metadata={"rlcore.CharLM": json.dumps(meta)})
    elif kind == "badjson":
        save_file({"x": torch.zeros(2)}, str(p), metadata={"rlcore.CharLM": "{not json"})
    return p


BAD: list[Bad] = []


def add(prefix: str, items: list[tuple[str, object, str]]) -> None:
    BAD.extend(Bad(f"{prefix}:{label}", call, arg) for label, call, arg in items)


# ---------------------------------------------------------------- budget: sizes are finite counts >= 0
add("MemoryBudget", [
    ("weights-nan", lambda: budget.MemoryBudget(NAN, 0, 0), "weights"),
    ("gradients-negative", lambda: budget.MemoryBudget(1, -1, 0), "gradients"),
    ("optimizer-str", lambda: budget.MemoryBudget(1, 1, "8"), "optimizer"),
    ("activations-inf", lambda: budget.MemoryBudget(1, 1, 1, INF), "activations"),
    ("weights-none", lambda: budget.MemoryBudget(None, 1, 1), "weights"),
    ("add-not-budget", lambda: budget.MemoryBudget(1, 1, 1) + 3, "other"),
])
add("training_memory", [
    ("n_params-str", lambda: budget.training_memory("7e9"), "n_params"),
    ("n_params-nan", lambda: budget.training_memory(NAN), "n_params"),
    ("n_params-bool", lambda: budget.training_memory(True), "n_params"),
    ("dtype-unknown", lambda: budget.training_memory(1e9, dtype="fp8"), "dtype"),
    ("dtype-list", lambda: budget.training_memory(1e9, dtype=["bf16"]), "dtype"),
    ("optimizer-unknown", lambda: budget.training_memory(1e9, optimizer="adamw"), "optimizer"),
    ("trained-str", lambda: budget.training_memory(1e9, trained="no"), "trained"),
    ("master_weights-str", lambda: budget.training_memory(1e9, master_weights="no"), "master_weights"),
    ("activations-negative", lambda: budget.training_memory(1e9, activations=-1.0), "activations"),
])
add("rlhf_memory", [
    ("n_policy-none", lambda: budget.rlhf_memory(None), "n_policy"),
    ("n_policy-negative", lambda: budget.rlhf_memory(-1.0), "n_policy"),
    ("n_value-nan", lambda: budget.rlhf_memory(1e9, n_value=NAN), "n_value"),
    ("n_reference-str", lambda: budget.rlhf_memory(1e9, n_reference="1e9"), "n_reference"),
    ("n_reward-inf", lambda: budget.rlhf_memory(1e9, n_reward=INF), "n_reward"),
    ("dtype-unknown", lambda: budget.rlhf_memory(1e9, dtype="fp64"), "dtype"),
])
for _fn in ("training_flops", "generation_flops"):
    _f = getattr(budget, _fn)
    add(_fn, [
        ("n_params-str", lambda f=_f: f("1e9", 1), "n_params"),
        ("n_params-none", lambda f=_f: f(None, 1), "n_params"),
        ("n_params-negative", lambda f=_f: f(-5, 1), "n_params"),
        ("n_tokens-nan", lambda f=_f: f(1e9, NAN), "n_tokens"),
        ("n_tokens-inf", lambda f=_f: f(1e9, INF), "n_tokens"),
        ("n_tokens-list", lambda f=_f: f(1e9, [1, 2]), "n_tokens"),
    ])
add("activation_bytes", [
    ("seq_len-fraction", lambda: budget.activation_bytes(2.5, 1, 8, 1, 1), "seq_len"),
    ("batch_size-zero", lambda: budget.activation_bytes(8, 0, 8, 1, 1), "batch_size"),
    ("hidden-zero", lambda: budget.activation_bytes(8, 1, 0, 1, 1), "hidden"),
    ("n_layers-bool", lambda: budget.activation_bytes(8, 1, 8, True, 1), "n_layers"),
    ("n_heads-negative", lambda: budget.activation_bytes(8, 1, 8, 1, -2), "n_heads"),
    ("seq_len-str", lambda: budget.activation_bytes("8", 1, 8, 1, 1), "seq_len"),
    ("hidden-nan", lambda: budget.activation_bytes(8, 1, NAN, 1, 1), "hidden"),
])
add("budget_table", [
    ("sizes-list", lambda: budget.budget_table([1e9]), "sizes"),
    ("sizes-str", lambda: budget.budget_table("7B"), "sizes"),
    ("sizes-nan", lambda: budget.budget_table({"x": NAN}), "sizes"),
    ("sizes-negative", lambda: budget.budget_table({"x": -1.0}), "sizes"),
    ("tokens-negative", lambda: budget.budget_table({"x": 1e9}, tokens=-1), "tokens"),
    ("tokens-str", lambda: budget.budget_table({"x": 1e9}, tokens="1e9"), "tokens"),
])

# ---------------------------------------------------------------- checkpoint: paths and corrupt files
add("save", [
    ("model-none", lambda: checkpoint.save(None, _DIR["path"] / "a.safetensors"), "model"),
    ("model-linear", lambda: checkpoint.save(nn.Linear(2, 2), _DIR["path"] / "b.safetensors"), "model"),
    ("path-none", lambda: checkpoint.save(M(), None), "path"),
    ("path-int", lambda: checkpoint.save(M(), 3), "path"),
    ("path-empty", lambda: checkpoint.save(M(), ""), "path"),
    ("path-directory", lambda: checkpoint.save(M(), _DIR["path"]), "path"),
    ("path-missing-folder", lambda: checkpoint.save(M(), _DIR["path"] / "no" / "such" / "x.st"), "path"),
])
add("load", [
    ("path-none", lambda: checkpoint.load(None), "path"),
    ("path-list", lambda: checkpoint.load(["a"]), "path"),
    ("path-directory", lambda: checkpoint.load(_DIR["path"]), "path"),
    ("garbage-file", lambda: checkpoint.load(ckpt("garbage")), "garbage"),
    ("empty-file", lambda: checkpoint.load(ckpt("empty")), "empty"),
    ("no-metadata", lambda: checkpoint.load(ckpt("nometa")), "nometa"),
    ("huge-architecture", lambda: checkpoint.load(ckpt("huge")), "hidden_dim"),
    ("metadata-not-json", lambda: checkpoint.load(ckpt("badjson")), "badjson"),
    ("model-str", lambda: checkpoint.load(ckpt("good"), model="x"), "model"),
    ("model-other-architecture", lambda: checkpoint.load(ckpt("good"), model=M_OTHER()), "chars"),
])

# ---------------------------------------------------------------- config: every field checked at construction
add("validate_config", [
    ("cfg-str", lambda: config.validate_config("x"), "cfg"),
    ("cfg-none", lambda: config.validate_config(None), "cfg"),
    ("cfg-class", lambda: config.validate_config(PPOConfig), "cfg"),
    ("rules-str", lambda: config.validate_config(PCFG(), rules="x"), "rules"),
    ("rules-empty", lambda: config.validate_config(PCFG(), rules={}), "rules"),
    ("rules-bad-entry", lambda: config.validate_config(PCFG(), rules={k: 3 for k in config.RULES}), "rules"),
])
add("SamplingConfig", [
    ("n_iterations-fraction", lambda: SamplingConfig(n_iterations=2.5), "n_iterations"),
    ("n_iterations-bool", lambda: SamplingConfig(n_iterations=True), "n_iterations"),
    ("batch_size-zero", lambda: SamplingConfig(batch_size=0), "batch_size"),
    ("learning_rate-nan", lambda: SamplingConfig(learning_rate=NAN), "learning_rate"),
    ("temperature-zero", lambda: SamplingConfig(temperature=0.0), "temperature"),
    ("top_p-above-one", lambda: SamplingConfig(top_p=1.5), "top_p"),
    ("top_k-zero", lambda: SamplingConfig(top_k=0), "top_k"),
    ("seed-negative", lambda: SamplingConfig(seed=-1), "seed"),
    ("max_grad_norm-negative", lambda: SamplingConfig(max_grad_norm=-1.0), "max_grad_norm"),
    ("time_limit-inf", lambda: SamplingConfig(time_limit=INF), "time_limit"),
    ("num_generations-not-divisor", lambda: SamplingConfig(batch_size=64, num_generations=3), "num_generations"),
])
add("TrainerConfig", [
    ("gamma-above-one", lambda: TrainerConfig(gamma=1.5), "gamma"),
    ("kl_estimator-unknown", lambda: TrainerConfig(kl_estimator="k9"), "kl_estimator"),
    ("kl_penalty-unknown", lambda: TrainerConfig(kl_penalty="both"), "kl_penalty"),
    ("loss_agg-unknown", lambda: TrainerConfig(loss_agg="bogus"), "loss_agg"),
    ("ent_coef-negative", lambda: TrainerConfig(ent_coef=-0.1), "ent_coef"),
    ("kl_coef-nan", lambda: TrainerConfig(kl_coef=NAN), "kl_coef"),
    ("kl_estimator-list", lambda: TrainerConfig(kl_estimator=["k1"]), "kl_estimator"),
])
add("ReinforceConfig", [
    ("baseline-unknown", lambda: ReinforceConfig(baseline="median"), "baseline"),
    ("vf_coef-negative", lambda: ReinforceConfig(vf_coef=-1.0), "vf_coef"),
    ("loss_agg-none", lambda: ReinforceConfig(loss_agg=None), "loss_agg"),
    ("gamma-nan", lambda: ReinforceConfig(gamma=NAN), "gamma"),
    ("temperature-negative", lambda: ReinforceConfig(temperature=-1.0), "temperature"),
    ("gradient_accumulation_steps-zero", lambda: ReinforceConfig(gradient_accumulation_steps=0),
     "gradient_accumulation_steps"),
])
add("PPOConfig", [
    ("cliprange-zero", lambda: PPOConfig(cliprange=0.0), "cliprange"),
    ("cliprange_value-negative", lambda: PPOConfig(cliprange_value=-0.1), "cliprange_value"),
    ("lam-above-one", lambda: PPOConfig(lam=2.0), "lam"),
    ("num_mini_batches-zero", lambda: PPOConfig(num_mini_batches=0), "num_mini_batches"),
    ("num_ppo_epochs-fraction", lambda: PPOConfig(num_ppo_epochs=2.5), "num_ppo_epochs"),
    ("target_kl-nan", lambda: PPOConfig(target_kl=NAN), "target_kl"),
    ("norm_adv-int", lambda: PPOConfig(norm_adv=1), "norm_adv"),
    ("kl_horizon-zero", lambda: PPOConfig(kl_horizon=0), "kl_horizon"),
    ("missing_eos_penalty-negative", lambda: PPOConfig(missing_eos_penalty=-1.0), "missing_eos_penalty"),
    ("kl_target-zero", lambda: PPOConfig(kl_target=0.0), "kl_target"),
])

# ---------------------------------------------------------------- exact: enumeration and exact sums
add("enumerate_completions", [
    ("vocab-str", lambda: exact.enumerate_completions("ab", 3), "vocab"),
    ("vocab-none", lambda: exact.enumerate_completions(None, 3), "vocab"),
    ("max_len-zero", lambda: exact.enumerate_completions(Vocabulary("ab"), 0), "max_len"),
    ("max_len-fraction", lambda: exact.enumerate_completions(Vocabulary("ab"), 2.5), "max_len"),
    ("max_len-bool", lambda: exact.enumerate_completions(Vocabulary("ab"), True), "max_len"),
    ("max_len-too-many", lambda: exact.enumerate_completions(Vocabulary("ab"), 40), "max_len"),
    ("prompts-int", lambda: exact.enumerate_completions(Vocabulary("ab"), 3, [1]), "prompt"),
    ("prompts-empty", lambda: exact.enumerate_completions(Vocabulary("ab"), 3, []), "prompts"),
    ("prompts-unknown-char", lambda: exact.enumerate_completions(Vocabulary("ab"), 3, "z"), "prompt"),
    ("device-bogus", lambda: exact.enumerate_completions(Vocabulary("ab"), 3, device="bogus"), "device"),
    ("device-cuda-absent", lambda: exact.enumerate_completions(Vocabulary("ab"), 3, device="cuda:7"), "device"),
])
add("exact_expected_reward", [
    ("model-str", lambda: exact.exact_expected_reward("x", E()), "model"),
    ("env-none", lambda: exact.exact_expected_reward(M(), None), "env"),
    ("env-other-vocab", lambda: exact.exact_expected_reward(M(), E_OTHER()), "vocabulary"),
    ("temperature-zero", lambda: exact.exact_expected_reward(M(), E(), 0.0), "temperature"),
    ("temperature-nan", lambda: exact.exact_expected_reward(M(), E(), NAN), "temperature"),
    ("temperature-str", lambda: exact.exact_expected_reward(M(), E(), "1"), "temperature"),
])
add("exact_kl", [
    ("model-none", lambda: exact.exact_kl(None, M(), 3), "model"),
    ("ref-str", lambda: exact.exact_kl(M(), "x", 3), "ref"),
    ("ref-other-vocab", lambda: exact.exact_kl(M(), M_OTHER(), 3), "ref"),
    ("max_len-zero", lambda: exact.exact_kl(M(), M(), 0), "max_len"),
    ("temperature-inf", lambda: exact.exact_kl(M(), M(), 3, temperature=INF), "temperature"),
    ("prompts-none-entry", lambda: exact.exact_kl(M(), M(), 3, prompts=[None]), "prompt"),
])

# ---------------------------------------------------------------- kl: estimators and the adaptive controller
add("kl_estimate", [
    ("estimator-unknown", lambda: kl.kl_estimate(Z(2, 3), Z(2, 3), "k9"), "estimator"),
    ("estimator-none", lambda: kl.kl_estimate(Z(2, 3), Z(2, 3), None), "estimator"),
    ("logp-str", lambda: kl.kl_estimate("x", Z(2, 3)), "logp"),
    ("ref_logp-list", lambda: kl.kl_estimate(Z(2, 3), [[0.0] * 3] * 2), "ref_logp"),
    ("shape-mismatch", lambda: kl.kl_estimate(Z(2, 3), Z(2, 4)), "ref_logp"),
    ("shape-broadcast", lambda: kl.kl_estimate(Z(2, 3), Z(3)), "ref_logp"),
    ("logp-nan", lambda: kl.kl_estimate(NANS(2, 3), Z(2, 3)), "logp"),
])
add("kl_to_reference", [
    ("mask-shape", lambda: kl.kl_to_reference(Z(2, 3), Z(2, 3), MASK(2, 4)), "mask"),
    ("mask-float", lambda: kl.kl_to_reference(Z(2, 3), Z(2, 3), Z(2, 3)), "mask"),
    ("mask-none", lambda: kl.kl_to_reference(Z(2, 3), Z(2, 3), None), "mask"),
    ("estimator-unknown", lambda: kl.kl_to_reference(Z(2, 3), Z(2, 3), MASK(2, 3), "k4"), "estimator"),
    ("logp-nan", lambda: kl.kl_to_reference(NANS(2, 3), Z(2, 3), MASK(2, 3)), "logp"),
    ("ref_logp-1d", lambda: kl.kl_to_reference(Z(2, 3), Z(3), MASK(2, 3)), "ref_logp"),
])
add("AdaptiveKLController", [
    ("kl_coef-str", lambda: kl.AdaptiveKLController("0.1", 6.0, 100), "kl_coef"),
    ("kl_coef-zero", lambda: kl.AdaptiveKLController(0.0, 6.0, 100), "kl_coef"),
    ("target-inf", lambda: kl.AdaptiveKLController(0.1, INF, 100), "target"),
    ("target-nan", lambda: kl.AdaptiveKLController(0.1, NAN, 100), "target"),
    ("horizon-fraction", lambda: kl.AdaptiveKLController(0.1, 6.0, 2.5), "horizon"),
    ("horizon-bool", lambda: kl.AdaptiveKLController(0.1, 6.0, True), "horizon"),
    ("update-kl-nan", lambda: kl.AdaptiveKLController(0.1, 6.0, 100).update(NAN, 4), "kl"),
    ("update-kl-str", lambda: kl.AdaptiveKLController(0.1, 6.0, 100).update("1", 4), "kl"),
    ("update-n_steps-zero", lambda: kl.AdaptiveKLController(0.1, 6.0, 100).update(1.0, 0), "n_steps"),
    ("update-n_steps-fraction", lambda: kl.AdaptiveKLController(0.1, 6.0, 100).update(1.0, 2.5), "n_steps"),
    ("update-kl-inf", lambda: kl.AdaptiveKLController(0.1, 6.0, 100).update(INF, 4), "kl"),
])

# ---------------------------------------------------------------- losses: per-token tensors [B, L] and a mask
add("aggregate", [
    ("mode-unknown", lambda: losses.aggregate(Z(2, 3), MASK(2, 3), "bogus"), "loss_agg"),
    ("mode-none", lambda: losses.aggregate(Z(2, 3), MASK(2, 3), None), "loss_agg"),
    ("x-str", lambda: losses.aggregate("x", MASK(2, 3)), "x"),
    ("mask-shape", lambda: losses.aggregate(Z(2, 3), MASK(2, 4)), "mask"),
    ("mask-float", lambda: losses.aggregate(Z(2, 3), Z(2, 3)), "mask"),
    ("x-empty", lambda: losses.aggregate(Z(0, 3), MASK(0, 3), "seq-mean-token-mean"), "x"),
    ("x-1d", lambda: losses.aggregate(Z(3), MASK(3), "seq-mean-token-sum"), "x"),
])
add("masked_mean", [
    ("x-none", lambda: losses.masked_mean(None, MASK(2, 3)), "x"),
    ("mask-list", lambda: losses.masked_mean(Z(2, 3), [[True] * 3] * 2), "mask"),
    ("mask-shape", lambda: losses.masked_mean(Z(2, 3), MASK(3, 2)), "mask"),
    ("mask-int", lambda: losses.masked_mean(Z(2, 3), torch.ones(2, 3, dtype=torch.long)), "mask"),
    ("x-empty", lambda: losses.masked_mean(Z(0, 3), MASK(0, 3)), "x"),
])
add("normalize_advantages", [
    ("adv-str", lambda: losses.normalize_advantages("x", MASK(2, 3)), "adv"),
    ("adv-nan", lambda: losses.normalize_advantages(NANS(2, 3), MASK(2, 3)), "adv"),
    ("mask-shape", lambda: losses.normalize_advantages(Z(2, 3), MASK(2, 2)), "mask"),
    ("eps-negative", lambda: losses.normalize_advantages(Z(2, 3), MASK(2, 3), eps=-1.0), "eps"),
    ("eps-nan", lambda: losses.normalize_advantages(Z(2, 3), MASK(2, 3), eps=NAN), "eps"),
    ("eps-str", lambda: losses.normalize_advantages(Z(2, 3), MASK(2, 3), eps="1e-8"), "eps"),
])
add("reinforce_loss", [
    ("returns-broadcast", lambda: losses.reinforce_loss(Z(2, 3), Z(2, 1), None, MASK(2, 3)), "returns"),
    ("baseline-shape", lambda: losses.reinforce_loss(Z(2, 3), Z(2, 3), Z(3, 3), MASK(2, 3)), "baseline"),
    ("baseline-str", lambda: losses.reinforce_loss(Z(2, 3), Z(2, 3), "mean", MASK(2, 3)), "baseline"),
    ("logp-nan", lambda: losses.reinforce_loss(NANS(2, 3), Z(2, 3), None, MASK(2, 3)), "logp"),
    ("returns-nan", lambda: losses.reinforce_loss(Z(2, 3), NANS(2, 3), None, MASK(2, 3)), "returns"),
    ("loss_agg-unknown", lambda: losses.reinforce_loss(Z(2, 3), Z(2, 3), None, MASK(2, 3), "sum"), "loss_agg"),
    ("mask-float", lambda: losses.reinforce_loss(Z(2, 3), Z(2, 3), None, Z(2, 3)), "mask"),
    ("logp-list", lambda: losses.reinforce_loss([[0.0] * 3] * 2, Z(2, 3), None, MASK(2, 3)), "logp"),
])
add("ppo_policy_loss", [
    ("cliprange-zero", lambda: losses.ppo_policy_loss(Z(2, 3), Z(2, 3), Z(2, 3), MASK(2, 3), 0.0), "cliprange"),
    ("cliprange-negative", lambda: losses.ppo_policy_loss(Z(2, 3), Z(2, 3), Z(2, 3), MASK(2, 3), -0.2),
     "cliprange"),
    ("cliprange-nan", lambda: losses.ppo_policy_loss(Z(2, 3), Z(2, 3), Z(2, 3), MASK(2, 3), NAN), "cliprange"),
    ("cliprange-str", lambda: losses.ppo_policy_loss(Z(2, 3), Z(2, 3), Z(2, 3), MASK(2, 3), "0.2"), "cliprange"),
    ("old_logp-shape", lambda: losses.ppo_policy_loss(Z(2, 3), Z(2, 4), Z(2, 3), MASK(2, 3)), "old_logp"),
    ("adv-broadcast", lambda: losses.ppo_policy_loss(Z(2, 3), Z(2, 3), Z(2, 1), MASK(2, 3)), "adv"),
    ("mask-shape", lambda: losses.ppo_policy_loss(Z(2, 3), Z(2, 3), Z(2, 3), MASK(1, 3)), "mask"),
    ("loss_agg-unknown", lambda: losses.ppo_policy_loss(Z(2, 3), Z(2, 3), Z(2, 3), MASK(2, 3), 0.2, "mean"),
     "loss_agg"),
    ("logp-nan", lambda: losses.ppo_policy_loss(NANS(2, 3), Z(2, 3), Z(2, 3), MASK(2, 3)), "logp"),
    ("adv-nan", lambda: losses.ppo_policy_loss(Z(2, 3), Z(2, 3), NANS(2, 3), MASK(2, 3)), "adv"),
])
add("clipped_value_loss", [
    ("cliprange_value-zero", lambda: losses.clipped_value_loss(Z(2, 3), Z(2, 3), Z(2, 3), MASK(2, 3), 0.0),
     "cliprange_value"),
    ("cliprange_value-negative", lambda: losses.clipped_value_loss(Z(2, 3), Z(2, 3), Z(2, 3), MASK(2, 3), -1.0),
     "cliprange_value"),
    ("cliprange_value-nan", lambda: losses.clipped_value_loss(Z(2, 3), Z(2, 3), Z(2, 3), MASK(2, 3), NAN),
     "cliprange_value"),
    ("cliprange_value-str", lambda: losses.clipped_value_loss(Z(2, 3), Z(2, 3), Z(2, 3), MASK(2, 3), "x"),
     "cliprange_value"),
    ("returns-shape", lambda: losses.clipped_value_loss(Z(2, 3), Z(2, 3), Z(2, 4), MASK(2, 3)), "returns"),
    ("old_values-broadcast", lambda: losses.clipped_value_loss(Z(2, 3), Z(1, 3), Z(2, 3), MASK(2, 3)),
     "old_values"),
    ("returns-nan", lambda: losses.clipped_value_loss(Z(2, 3), Z(2, 3), NANS(2, 3), MASK(2, 3)), "returns"),
    ("values-none", lambda: losses.clipped_value_loss(None, Z(2, 3), Z(2, 3), MASK(2, 3)), "values"),
])
add("explained_variance", [
    ("returns-shape", lambda: losses.explained_variance(Z(2, 3), Z(2, 4), MASK(2, 3)), "returns"),
    ("mask-float", lambda: losses.explained_variance(Z(2, 3), Z(2, 3), Z(2, 3)), "mask"),
    ("values-str", lambda: losses.explained_variance("v", Z(2, 3), MASK(2, 3)), "values"),
    ("returns-nan", lambda: losses.explained_variance(Z(2, 3), NANS(2, 3), MASK(2, 3)), "returns"),
    ("mask-shape", lambda: losses.explained_variance(Z(2, 3), Z(2, 3), MASK(2, 2)), "mask"),
    ("values-nan", lambda: losses.explained_variance(NANS(2, 3), Z(2, 3) + torch.arange(3.0), MASK(2, 3)),
     "values"),
])

# ---------------------------------------------------------------- metrics: texts are sequences of strings
add("distinct_n", [
    ("texts-str", lambda: metrics.distinct_n("the cat"), "texts"),
    ("texts-none", lambda: metrics.distinct_n(None), "texts"),
    ("texts-ints", lambda: metrics.distinct_n([1, 2]), "texts"),
    ("n-zero", lambda: metrics.distinct_n(["a b"], 0), "n"),
    ("n-fraction", lambda: metrics.distinct_n(["a b"], 2.5), "n"),
    ("n-bool", lambda: metrics.distinct_n(["a b"], True), "n"),
    ("n-none", lambda: metrics.distinct_n(["a b"], None), "n"),
    ("n-nan", lambda: metrics.distinct_n(["a b"], NAN), "n"),
])
add("bleu", [
    ("candidate-none", lambda: metrics.bleu(None, ["a b"]), "candidate"),
    ("candidate-int", lambda: metrics.bleu(3, ["a b"]), "candidate"),
    ("references-str", lambda: metrics.bleu("a b", "a b"), "references"),
    ("references-none-entry", lambda: metrics.bleu("a b", [None]), "references"),
    ("max_n-zero", lambda: metrics.bleu("a b", ["a b"], 0), "max_n"),
    ("max_n-fraction", lambda: metrics.bleu("a b", ["a b"], 2.5), "max_n"),
    ("max_n-inf", lambda: metrics.bleu("a b", ["a b"], INF), "max_n"),
])
add("self_bleu", [
    ("texts-str", lambda: metrics.self_bleu("ab cd"), "texts"),
    ("texts-one", lambda: metrics.self_bleu(["a b"]), "texts"),
    ("texts-none", lambda: metrics.self_bleu(None), "texts"),
    ("texts-ints", lambda: metrics.self_bleu([1, 2]), "texts"),
    ("max_n-zero", lambda: metrics.self_bleu(["a", "b"], 0), "max_n"),
])
add("perplexity", [
    ("model-str", lambda: metrics.perplexity("x", ["ab"]), "model"),
    ("texts-str", lambda: metrics.perplexity(M(), "ab"), "texts"),
    ("texts-empty", lambda: metrics.perplexity(M(), []), "texts"),
    ("texts-ints", lambda: metrics.perplexity(M(), [1]), "texts"),
    ("texts-unknown-char", lambda: metrics.perplexity(M(), ["zz"]), "texts"),
    ("prompts-length", lambda: metrics.perplexity(M(), ["a", "b"], prompts=[""]), "prompts"),
    ("max_len-zero", lambda: metrics.perplexity(M(), ["a"], max_len=0), "max_len"),
    ("max_len-fraction", lambda: metrics.perplexity(M(), ["a"], max_len=2.5), "max_len"),
])
add("win_rate", [
    ("lengths-differ", lambda: metrics.win_rate([1, 2], [1]), "reference_scores"),
    ("scores-empty", lambda: metrics.win_rate([], []), "scores"),
    ("scores-nan", lambda: metrics.win_rate([NAN], [1.0]), "scores"),
    ("reference_scores-nan", lambda: metrics.win_rate([1.0], [NAN]), "reference_scores"),
    ("scores-str", lambda: metrics.win_rate("ab", [1, 2]), "scores"),
    ("scores-2d", lambda: metrics.win_rate([[1.0]], [[1.0]]), "scores"),
    ("scores-none", lambda: metrics.win_rate(None, [1.0]), "scores"),
])
add("pass_at_k", [
    ("n-zero", lambda: metrics.pass_at_k(0, 0, 1), "n"),
    ("n-none", lambda: metrics.pass_at_k(None, 0, 1), "n"),
    ("n-nan", lambda: metrics.pass_at_k(NAN, 0, 1), "n"),
    ("c-above-n", lambda: metrics.pass_at_k(5, 6, 1), "c"),
    ("c-none", lambda: metrics.pass_at_k(5, None, 1), "c"),
    ("c-fraction", lambda: metrics.pass_at_k(5, 2.5, 1), "c"),
    ("k-zero", lambda: metrics.pass_at_k(5, 2, 0), "k"),
    ("k-fraction", lambda: metrics.pass_at_k(5, 2, 1.5), "k"),
    ("k-str", lambda: metrics.pass_at_k(5, 2, "3"), "k"),
    ("k-none", lambda: metrics.pass_at_k(5, 2, None), "k"),
])

# ---------------------------------------------------------------- model: the architecture and its forward pass
add("ModelConfig", [
    ("chars-empty", lambda: ModelConfig(chars=""), "chars"),
    ("chars-list", lambda: ModelConfig(chars=["a", "b"]), "chars"),
    ("chars-duplicate", lambda: ModelConfig(chars="aa"), "chars"),
    ("embed_dim-zero", lambda: ModelConfig(embed_dim=0), "embed_dim"),
    ("hidden_dim-fraction", lambda: ModelConfig(hidden_dim=2.5), "hidden_dim"),
    ("num_layers-bool", lambda: ModelConfig(num_layers=True), "num_layers"),
    ("value_head-str", lambda: ModelConfig(value_head="yes"), "value_head"),
])
add("CharLM", [
    ("vocab-none", lambda: CharLM(None), "vocab"),
    ("vocab-int", lambda: CharLM(3), "vocab"),
    ("embed_dim-zero", lambda: CharLM("ab", embed_dim=0), "embed_dim"),
    ("hidden_dim-none", lambda: CharLM("ab", hidden_dim=None), "hidden_dim"),
    ("num_layers-bool", lambda: CharLM("ab", num_layers=True), "num_layers"),
    ("embed_dim-str", lambda: CharLM("ab", embed_dim="32"), "embed_dim"),
    ("value_head-str", lambda: CharLM("ab", value_head="yes"), "value_head"),
    ("seed-negative", lambda: CharLM("ab", seed=-1), "seed"),
    ("seed-fraction", lambda: CharLM("ab", seed=2.5), "seed"),
    ("device-bogus", lambda: CharLM("ab", device="bogus"), "device"),
    ("device-cuda-absent", lambda: CharLM("ab", device="cuda"), "device"),
    ("dtype-int", lambda: CharLM("ab", dtype=torch.int64), "dtype"),
    ("dtype-str", lambda: CharLM("ab", dtype="float32"), "dtype"),
    ("forward-float-tokens", lambda: M()(Z(2, 3)), "tokens"),
    ("forward-list", lambda: M()([[0, 1]]), "tokens"),
    ("forward-1d", lambda: M()(torch.zeros(3, dtype=torch.long)), "tokens"),
    ("forward-out-of-range", lambda: M()(torch.full((1, 3), 99)), "tokens"),
    ("forward-negative-id", lambda: M()(torch.full((1, 3), -1)), "tokens"),
    ("step-hidden-shape", lambda: M().step(torch.zeros(2, 1, dtype=torch.long), Z(1, 5, 4)), "hidden"),
    ("step-hidden-str", lambda: M().step(torch.zeros(2, 1, dtype=torch.long), "h"), "hidden"),
    ("step-empty", lambda: M().step(torch.zeros(0, 1, dtype=torch.long)), "tokens"),
])
add("count_parameters", [
    ("model-str", lambda: model.count_parameters("x"), "model"),
    ("model-none", lambda: model.count_parameters(None), "model"),
    ("model-list", lambda: model.count_parameters([nn.Linear(2, 2)]), "model"),
    ("model-tensor", lambda: model.count_parameters(Z(3)), "model"),
    ("model-int", lambda: model.count_parameters(3), "model"),
])

# ---------------------------------------------------------------- parallel: ranks, micro-batches, reductions
add("World", [
    ("rank-negative", lambda: World(-1, 1), "rank"),
    ("size-zero", lambda: World(0, 0), "size"),
    ("rank-not-below-size", lambda: World(2, 2), "rank"),
    ("rank-fraction", lambda: World(0.5, 2), "rank"),
    ("size-str", lambda: World(0, "2"), "size"),
    ("size-bool", lambda: World(0, True), "size"),
])
add("init_distributed", [
    ("backend-unknown", lambda: parallel.init_distributed("bogus"), "backend"),
    ("backend-int", lambda: parallel.init_distributed(3), "backend"),
    ("backend-empty", lambda: parallel.init_distributed(""), "backend"),
    ("device-bogus", lambda: parallel.init_distributed(None, "bogus"), "device"),
    ("device-int-list", lambda: parallel.init_distributed(None, [0]), "device"),
])
add("micro_batch_rows", [
    ("batch_size-zero", lambda: parallel.micro_batch_rows(0, 1, 1), "batch_size"),
    ("batch_size-fraction", lambda: parallel.micro_batch_rows(2.5, 1, 1), "batch_size"),
    ("accumulation-zero", lambda: parallel.micro_batch_rows(4, 0, 1), "accumulation"),
    ("size-zero", lambda: parallel.micro_batch_rows(4, 1, 0), "size"),
    ("group-zero", lambda: parallel.micro_batch_rows(4, 1, 1, 0), "group"),
    ("size-bool", lambda: parallel.micro_batch_rows(4, 1, True), "size"),
    ("batch_size-negative", lambda: parallel.micro_batch_rows(-4, 1, 1), "batch_size"),
])
add("stream_generators", [
    ("seed-negative", lambda: parallel.stream_generators(-1, 1, World()), "seed"),
    ("seed-fraction", lambda: parallel.stream_generators(2.5, 1, World()), "seed"),
    ("accumulation-zero", lambda: parallel.stream_generators(0, 0, World()), "accumulation"),
    ("w-str", lambda: parallel.stream_generators(0, 1, "world"), "w"),
    ("device-bogus", lambda: parallel.stream_generators(0, 1, World(), "bogus"), "device"),
    ("seed-none", lambda: parallel.stream_generators(None, 1, World()), "seed"),
])
add("DataParallelLM", [
    ("module-str", lambda: parallel.DataParallelLM("x"), "module"),
    ("module-none", lambda: parallel.DataParallelLM(None), "module"),
    ("module-int", lambda: parallel.DataParallelLM(3), "module"),
    ("module-no-vocab", lambda: parallel.DataParallelLM(nn.Linear(2, 2)), "module"),
    ("no-process-group", lambda: parallel.DataParallelLM(M()), "process group"),
])
add("replicate", [
    ("model-str", lambda: parallel.replicate("x"), "model"),
    ("model-none", lambda: parallel.replicate(None), "model"),
    ("w-str", lambda: parallel.replicate(M(), "world"), "w"),
    ("w-tuple", lambda: parallel.replicate(M(), (0, 1)), "w"),
    ("uses_value_head-str", lambda: parallel.replicate(M(), None, "yes"), "uses_value_head"),
])
add("sync_context", [
    ("net-str", lambda: parallel.sync_context("x", True), "net"),
    ("net-none", lambda: parallel.sync_context(None, False), "net"),
    ("last-str", lambda: parallel.sync_context(M(), "yes"), "last"),
    ("last-none", lambda: parallel.sync_context(M(), None), "last"),
    ("last-int", lambda: parallel.sync_context(M(), 1), "last"),
])
for _fn in ("reduce_mean", "reduce_sum", "reduce_max"):
    _f = getattr(parallel, _fn)
    add(_fn, [
        ("values-str", lambda f=_f: f("abc"), "values"),
        ("values-none", lambda f=_f: f(None), "values"),
        ("values-scalar", lambda f=_f: f(3.0), "values"),
        ("values-ragged", lambda f=_f: f([1.0, [2.0]]), "values"),
        ("values-strings", lambda f=_f: f(["a", "b"]), "values"),
        ("device-bogus", lambda f=_f: f([1.0], "bogus"), "device"),
    ])
add("owned", [
    ("items-none", lambda: list(parallel.owned(None, World())), "items"),
    ("items-int", lambda: list(parallel.owned(3, World())), "items"),
    ("items-set", lambda: list(parallel.owned({1, 2}, World())), "items"),
    ("w-str", lambda: list(parallel.owned([1, 2], "world")), "w"),
    ("w-none", lambda: list(parallel.owned([1, 2], None)), "w"),
])

# ---------------------------------------------------------------- ppo: batches, the loss, the trainer
add("Batch", [
    ("rollout-str", lambda: batch_with(rollout="x"), "rollout"),
    ("task_rewards-shape", lambda: batch_with(task_rewards=Z(1, 1)), "task_rewards"),
    ("rewards-none", lambda: batch_with(rewards=None), "rewards"),
    ("advantages-list", lambda: batch_with(advantages=[[0.0]]), "advantages"),
    ("order-length", lambda: batch_with(order=torch.arange(99)), "order"),
    ("returns-3d", lambda: batch_with(returns=Z(4, 3, 1)), "returns"),
])
add("collect", [
    ("cfg-reinforce", lambda: ppo.collect(M(), E(), RCFG(), M(), G()), "cfg"),
    ("cfg-none", lambda: ppo.collect(M(), E(), None, M(), G()), "cfg"),
    ("ref-str", lambda: ppo.collect(M(), E(), PCFG(), "x", G()), "ref"),
    ("ref-other-vocab", lambda: ppo.collect(M(), E(), PCFG(), M_OTHER(), G()), "ref"),
    ("generator-none", lambda: ppo.collect(M(), E(), PCFG(), M(), None), "generator"),
    ("generator-int", lambda: ppo.collect(M(), E(), PCFG(), M(), 0), "generator"),
    ("kl_coef-nan", lambda: ppo.collect(M(), E(), PCFG(), M(), G(), kl_coef=NAN), "kl_coef"),
    ("kl_coef-negative", lambda: ppo.collect(M(), E(), PCFG(), M(), G(), kl_coef=-1.0), "kl_coef"),
    ("rows-zero", lambda: ppo.collect(M(), E(), PCFG(), M(), G(), rows=0), "rows"),
    ("rows-fraction", lambda: ppo.collect(M(), E(), PCFG(), M(), G(), rows=2.5), "rows"),
    ("env-other-vocab", lambda: ppo.collect(M(), E_OTHER(), PCFG(), M(), G()), "vocabulary"),
    ("model-none", lambda: ppo.collect(None, E(), PCFG(), M(), G()), "model"),
])
add("ppo_loss", [
    ("batch-str", lambda: ppo.ppo_loss(M(), "x", torch.arange(2), PCFG()), "batch"),
    ("idx-out-of-range", lambda: ppo.ppo_loss(M(), BATCH(), torch.tensor([0, 99]), PCFG()), "idx"),
    ("idx-float", lambda: ppo.ppo_loss(M(), BATCH(), torch.tensor([0.5]), PCFG()), "idx"),
    ("idx-list", lambda: ppo.ppo_loss(M(), BATCH(), [0, 1], PCFG()), "idx"),
    ("cfg-reinforce", lambda: ppo.ppo_loss(M(), BATCH(), torch.arange(2), RCFG()), "cfg"),
    ("kl_coef-nan", lambda: ppo.ppo_loss(M(), BATCH(), torch.arange(2), PCFG(), NAN), "kl_coef"),
    ("model-str", lambda: ppo.ppo_loss("m", BATCH(), torch.arange(2), PCFG()), "model"),
    ("idx-empty", lambda: ppo.ppo_loss(M(), BATCH(), torch.arange(0), PCFG()), "idx"),
])
add("ppo", [
    ("config-reinforce", lambda: ppo.ppo(M(), E(), RCFG()), "config"),
    ("config-str", lambda: ppo.ppo(M(), E(), "fast"), "config"),
    ("ref_model-str", lambda: ppo.ppo(M(), E(), PCFG(), ref_model="x"), "ref_model"),
    ("ref_model-other-vocab", lambda: ppo.ppo(M(), E(), PCFG(), ref_model=M_OTHER()), "ref_model"),
    ("progress-str", lambda: ppo.ppo(M(), E(), PCFG(), progress="yes"), "progress"),
    ("env-other-vocab", lambda: ppo.ppo(M(), E_OTHER(), PCFG()), "vocabulary"),
    ("model-none", lambda: ppo.ppo(None, E(), PCFG()), "model"),
    ("model-no-value-head", lambda: ppo.ppo(M_NOVALUE(), E(), PCFG()), "value head"),
    ("kl_target-without-kl_coef", lambda: ppo.ppo(M(), E(), PCFG(kl_target=1.0)), "kl_target"),
])

# ---------------------------------------------------------------- pretrain: the corpus and the MLE loop
add("load_corpus", [
    ("name-missing", lambda: pretrain.load_corpus("missing.txt"), "name"),
    ("name-none", lambda: pretrain.load_corpus(None), "name"),
    ("name-int", lambda: pretrain.load_corpus(3), "name"),
    ("name-empty", lambda: pretrain.load_corpus(""), "name"),
    ("name-traversal", lambda: pretrain.load_corpus("../__init__.py"), "name"),
])
add("PretrainResult", [
    ("losses-str", lambda: pretrain.PretrainResult("x"), "losses"),
    ("losses-none", lambda: pretrain.PretrainResult(None), "losses"),
    ("losses-2d", lambda: pretrain.PretrainResult([[1.0, 2.0]]), "losses"),
    ("losses-ragged", lambda: pretrain.PretrainResult([1.0, [2.0]]), "losses"),
    ("losses-dict", lambda: pretrain.PretrainResult({"a": 1.0}), "losses"),
])
add("pretrain", [
    ("model-str", lambda: pretrain.pretrain("x", ["ab"], steps=1), "model"),
    ("corpus-int", lambda: pretrain.pretrain(M(), 3, steps=1), "corpus"),
    ("corpus-ints", lambda: pretrain.pretrain(M(), [1, 2], steps=1), "corpus"),
    ("corpus-unknown-char", lambda: pretrain.pretrain(M(), ["zz"], steps=1), "corpus"),
    ("steps-bool", lambda: pretrain.pretrain(M(), ["ab"], steps=True), "steps"),
    ("steps-negative", lambda: pretrain.pretrain(M(), ["ab"], steps=-1), "steps"),
    ("steps-nan", lambda: pretrain.pretrain(M(), ["ab"], steps=NAN), "steps"),
    ("seed-negative", lambda: pretrain.pretrain(M(), ["ab"], steps=1, seed=-1), "seed"),
    ("seed-fraction", lambda: pretrain.pretrain(M(), ["ab"], steps=1, seed=2.5), "seed"),
    ("batch_size-zero", lambda: pretrain.pretrain(M(), ["ab"], steps=1, batch_size=0), "batch_size"),
    ("lr-negative", lambda: pretrain.pretrain(M(), ["ab"], steps=1, lr=-1.0), "lr"),
    ("lr-nan", lambda: pretrain.pretrain(M(), ["ab"], steps=1, lr=NAN), "lr"),
    ("max_len-zero", lambda: pretrain.pretrain(M(), ["ab"], steps=1, max_len=0), "max_len"),
    ("progress-str", lambda: pretrain.pretrain(M(), ["ab"], steps=1, progress="yes"), "progress"),
])
add("pretrained", [
    ("steps-bool", lambda: pretrain.pretrained(steps=True, embed_dim=4, hidden_dim=4), "steps"),
    ("steps-fraction", lambda: pretrain.pretrained(steps=2.5, embed_dim=4, hidden_dim=4), "steps"),
    ("seed-negative", lambda: pretrain.pretrained(steps=1, seed=-1, embed_dim=4, hidden_dim=4), "seed"),
    ("cache-int", lambda: pretrain.pretrained(steps=1, cache=3), "cache"),
    ("cache-empty", lambda: pretrain.pretrained(steps=1, cache=""), "cache"),
    ("cache-directory", lambda: pretrain.pretrained(steps=1, cache=_DIR["path"]), "cache"),
    ("cache-corrupt", lambda: pretrain.pretrained(steps=1, cache=ckpt("garbage")), "cache"),
    ("kwargs-unknown", lambda: pretrain.pretrained(steps=1, bogus=1), "bogus"),
])

# ---------------------------------------------------------------- reinforce: the baseline and the trainer
add("leave_one_out_baseline", [
    ("G-str", lambda: reinforce.leave_one_out_baseline("x"), "G"),
    ("G-scalar", lambda: reinforce.leave_one_out_baseline(torch.tensor(1.0)), "G"),
    ("G-empty", lambda: reinforce.leave_one_out_baseline(Z(0, 3)), "G"),
    ("G-nan", lambda: reinforce.leave_one_out_baseline(NANS(4, 3)), "G"),
    ("group_size-zero", lambda: reinforce.leave_one_out_baseline(Z(4, 3), 0), "group_size"),
    ("group_size-fraction", lambda: reinforce.leave_one_out_baseline(Z(4, 3), 2.5), "group_size"),
    ("group_size-bool", lambda: reinforce.leave_one_out_baseline(Z(4, 3), True), "group_size"),
    ("group_size-not-divisor", lambda: reinforce.leave_one_out_baseline(Z(4, 3), 3), "group_size"),
])
add("reinforce", [
    ("config-ppo", lambda: reinforce.reinforce(M(), E(), PCFG()), "config"),
    ("config-str", lambda: reinforce.reinforce(M(), E(), "fast"), "config"),
    ("baseline-value-without-head", lambda: reinforce.reinforce(M_NOVALUE(), E(), RCFG(baseline="value")),
     "baseline"),
    ("ref_model-str", lambda: reinforce.reinforce(M(), E(), RCFG(), ref_model="x"), "ref_model"),
    ("ref_model-other-vocab", lambda: reinforce.reinforce(M(), E(), RCFG(), ref_model=M_OTHER()), "ref_model"),
    ("progress-str", lambda: reinforce.reinforce(M(), E(), RCFG(), progress="yes"), "progress"),
    ("model-none", lambda: reinforce.reinforce(None, E(), RCFG()), "model"),
    ("env-none", lambda: reinforce.reinforce(M(), None, RCFG()), "env"),
])
add("baseline_variance_ratio", [
    ("n_batches-one", lambda: reinforce.baseline_variance_ratio(M(), E(), n_batches=1), "n_batches"),
    ("n_batches-fraction", lambda: reinforce.baseline_variance_ratio(M(), E(), n_batches=2.5), "n_batches"),
    ("batch_size-zero", lambda: reinforce.baseline_variance_ratio(M(), E(), batch_size=0), "batch_size"),
    ("seed-negative", lambda: reinforce.baseline_variance_ratio(M(), E(), seed=-1), "seed"),
    ("env-other-vocab", lambda: reinforce.baseline_variance_ratio(M(), E_OTHER()), "vocabulary"),
    ("model-str", lambda: reinforce.baseline_variance_ratio("x", E()), "model"),
])

# ---------------------------------------------------------------- rewards: the env's rewards of a rollout
add("rollout_rewards", [
    ("env-str", lambda: rewards.rollout_rewards("x", RO()), "env"),
    ("rollout-str", lambda: rewards.rollout_rewards(E(), "x"), "rollout"),
    ("rollout-other-vocab", lambda: rewards.rollout_rewards(E_OTHER(), RO()), "rollout"),
    ("rollout-cut-short", lambda: rewards.rollout_rewards(E(), RO_SHORT()), "rollout"),
    ("dtype-int", lambda: rewards.rollout_rewards(E(), RO(), dtype=torch.int64), "dtype"),
    ("dtype-str", lambda: rewards.rollout_rewards(E(), RO(), dtype="float64"), "dtype"),
    ("dtype-bool", lambda: rewards.rollout_rewards(E(), RO(), dtype=torch.bool), "dtype"),
])

# ---------------------------------------------------------------- rollout: sampling, scoring, the Rollout record
add("Rollout", [
    ("tokens-str", lambda: rollout_with(tokens="x"), "tokens"),
    ("mask-shape", lambda: rollout_with(mask=MASK(1, 1)), "mask"),
    ("mask-float", lambda: rollout_with(mask=RO().mask.float()), "mask"),
    ("lengths-shape", lambda: rollout_with(lengths=torch.zeros(99, dtype=torch.long)), "lengths"),
    ("prompts-length", lambda: rollout_with(prompts=("",)), "prompts"),
    ("vocab-str", lambda: rollout_with(vocab="ab"), "vocab"),
    ("temperature-zero", lambda: rollout_with(temperature=0.0), "temperature"),
    ("index-str", lambda: RO().index("x"), "idx"),
    ("index-out-of-range", lambda: RO().index(torch.tensor([99])), "idx"),
    ("index-float", lambda: RO().index(torch.tensor([0.5])), "idx"),
    ("index-mask-length", lambda: RO().index(torch.tensor([True])), "idx"),
])
add("sample", [
    ("model-str", lambda: rollout.sample("x"), "model"),
    ("prompts-none", lambda: rollout.sample(M(), None), "prompts"),
    ("prompts-int", lambda: rollout.sample(M(), [1]), "prompts"),
    ("prompts-unknown-char", lambda: rollout.sample(M(), "z"), "prompt"),
    ("n_per_prompt-bool", lambda: rollout.sample(M(), "", True), "n_per_prompt"),
    ("max_new_tokens-zero", lambda: rollout.sample(M(), "", 1, 0), "max_new_tokens"),
    ("temperature-str", lambda: rollout.sample(M(), temperature="1"), "temperature"),
    ("temperature-nan", lambda: rollout.sample(M(), temperature=NAN), "temperature"),
    ("temperature-negative", lambda: rollout.sample(M(), temperature=-1.0), "temperature"),
    ("top_k-bool", lambda: rollout.sample(M(), top_k=True), "top_k"),
    ("top_k-fraction", lambda: rollout.sample(M(), top_k=2.5), "top_k"),
    ("top_k-str", lambda: rollout.sample(M(), top_k="2"), "top_k"),
    ("top_p-zero", lambda: rollout.sample(M(), top_p=0.0), "top_p"),
    ("top_p-str", lambda: rollout.sample(M(), top_p="0.9"), "top_p"),
    ("top_p-nan", lambda: rollout.sample(M(), top_p=NAN), "top_p"),
    ("generator-str", lambda: rollout.sample(M(), generator="g"), "generator"),
    ("max_len-prompt-too-long", lambda: rollout.sample(M(), "ab", max_len=2), "max_len"),
])
add("score", [
    ("model-str", lambda: rollout.score("x", RO()), "model"),
    ("tokens-list", lambda: rollout.score(M(), [[0, 1]], MASK(1, 1)), "tokens"),
    ("mask-none", lambda: rollout.score(M(), RO().tokens), "mask"),
    ("mask-rows", lambda: rollout.score(M(), RO().tokens, MASK(1, 2)), "mask"),
    ("mask-float", lambda: rollout.score(M(), RO().tokens, RO().mask.float()), "mask"),
    ("prompt_lengths-shape", lambda: rollout.score(M(), RO().tokens, RO().mask, 1.0, torch.zeros(99)),
     "prompt_lengths"),
    ("prompt_lengths-negative", lambda: rollout.score(M(), RO().tokens, RO().mask, 1.0,
                                                      torch.full((len(RO()),), -5)), "prompt_lengths"),
    ("temperature-zero", lambda: rollout.score(M(), RO(), temperature=0.0), "temperature"),
    ("tokens-1d", lambda: rollout.score(M(), torch.zeros(4, dtype=torch.long), MASK(4)), "tokens"),
    ("tokens-float", lambda: rollout.score(M(), RO().tokens.float(), RO().mask), "tokens"),
    ("mask-wider-than-tokens", lambda: rollout.score(M(), RO().tokens, MASK(len(RO()), 50)), "mask"),
])
add("sequence_logprob", [
    ("model-none", lambda: rollout.sequence_logprob(None, RO()), "model"),
    ("tokens-str", lambda: rollout.sequence_logprob(M(), "ab", MASK(1, 1)), "tokens"),
    ("mask-none", lambda: rollout.sequence_logprob(M(), RO().tokens), "mask"),
    ("mask-rows", lambda: rollout.sequence_logprob(M(), RO().tokens, MASK(1, 2)), "mask"),
    ("temperature-inf", lambda: rollout.sequence_logprob(M(), RO(), temperature=INF), "temperature"),
    ("temperature-str", lambda: rollout.sequence_logprob(M(), RO(), temperature="hot"), "temperature"),
])
add("generate", [
    ("seed-negative", lambda: rollout.generate(M(), seed=-1), "seed"),
    ("seed-fraction", lambda: rollout.generate(M(), seed=2.5), "seed"),
    ("seed-str", lambda: rollout.generate(M(), seed="0"), "seed"),
    ("temperature-zero", lambda: rollout.generate(M(), temperature=0.0), "temperature"),
    ("top_p-above-one", lambda: rollout.generate(M(), top_p=2.0), "top_p"),
    ("n_per_prompt-zero", lambda: rollout.generate(M(), n_per_prompt=0), "n_per_prompt"),
    ("model-str", lambda: rollout.generate("x"), "model"),
])
add("rollout_from_texts", [
    ("vocab-str", lambda: rollout.rollout_from_texts("ab", [""], ["a"], 3), "vocab"),
    ("prompts-str", lambda: rollout.rollout_from_texts(Vocabulary("ab"), "ab", "ba", 3), "prompts"),
    ("prompts-none", lambda: rollout.rollout_from_texts(Vocabulary("ab"), None, ["a"], 3), "prompts"),
    ("completions-ints", lambda: rollout.rollout_from_texts(Vocabulary("ab"), [""], [1], 3), "completion"),
    ("max_len-zero", lambda: rollout.rollout_from_texts(Vocabulary("ab"), [""], [""], 0), "max_len"),
    ("max_len-fraction", lambda: rollout.rollout_from_texts(Vocabulary("ab"), [""], ["a"], 2.5), "max_len"),
    ("max_len-str", lambda: rollout.rollout_from_texts(Vocabulary("ab"), [""], ["a"], "3"), "max_len"),
    ("device-bogus", lambda: rollout.rollout_from_texts(Vocabulary("ab"), [""], ["a"], 3, device="bogus"),
     "device"),
    ("lengths-differ", lambda: rollout.rollout_from_texts(Vocabulary("ab"), ["", ""], ["a"], 3), "completions"),
])

# ---------------------------------------------------------------- sweep: the sampling grid
add("sampling_sweep", [
    ("temperatures-empty", lambda: sweep.sampling_sweep(M(), E(), []), "temperatures"),
    ("temperatures-zero", lambda: sweep.sampling_sweep(M(), E(), [0.0]), "temperatures"),
    ("temperatures-scalar", lambda: sweep.sampling_sweep(M(), E(), 0.5), "temperatures"),
    ("temperatures-nan", lambda: sweep.sampling_sweep(M(), E(), [NAN]), "temperatures"),
    ("top_ps-above-one", lambda: sweep.sampling_sweep(M(), E(), [1.0], [1.5]), "top_ps"),
    ("top_ps-str", lambda: sweep.sampling_sweep(M(), E(), [1.0], "x"), "top_ps"),
    ("n-zero", lambda: sweep.sampling_sweep(M(), E(), [1.0], n=0), "n"),
    ("n-fraction", lambda: sweep.sampling_sweep(M(), E(), [1.0], n=2.5), "n"),
    ("seed-negative", lambda: sweep.sampling_sweep(M(), E(), [1.0], n=2, seed=-1), "seed"),
    ("env-other-vocab", lambda: sweep.sampling_sweep(M(), E_OTHER(), [1.0]), "vocabulary"),
])

# ---------------------------------------------------------------- training: what the trainers share
add("PGResult", [
    ("model-str", lambda: pgresult(model="x"), "model"),
    ("history-str", lambda: pgresult(history="x"), "history"),
    ("history-none", lambda: pgresult(history=None), "history"),
    ("elapsed-nan", lambda: pgresult(elapsed=NAN), "elapsed"),
    ("elapsed-negative", lambda: pgresult(elapsed=-1.0), "elapsed"),
    ("samples-str", lambda: pgresult(samples="abc"), "samples"),
    ("history-no-reward", lambda: pgresult(history={"loss": [1.0]}), "history"),
])
add("check_model_env", [
    ("model-str", lambda: training.check_model_env("x", E()), "model"),
    ("model-none", lambda: training.check_model_env(None, E()), "model"),
    ("env-none", lambda: training.check_model_env(M(), None), "env"),
    ("env-str", lambda: training.check_model_env(M(), "env"), "env"),
    ("vocab-mismatch", lambda: training.check_model_env(M(), E_OTHER()), "vocabulary"),
])
add("frozen_copy", [
    ("model-str", lambda: training.frozen_copy("x"), "model"),
    ("model-none", lambda: training.frozen_copy(None), "model"),
    ("model-int", lambda: training.frozen_copy(3), "model"),
    ("model-list", lambda: training.frozen_copy([M()]), "model"),
    ("model-tensor", lambda: training.frozen_copy(Z(2)), "model"),
])
add("sample_batch", [
    ("cfg-str", lambda: training.sample_batch(M(), E(), "cfg", G()), "cfg"),
    ("generator-none", lambda: training.sample_batch(M(), E(), RCFG(), None), "generator"),
    ("rows-zero", lambda: training.sample_batch(M(), E(), RCFG(), G(), 0), "rows"),
    ("rows-fraction", lambda: training.sample_batch(M(), E(), RCFG(), G(), 2.5), "rows"),
    ("rows-not-multiple", lambda: training.sample_batch(M(), E(), RCFG(num_generations=2), G(), 3), "rows"),
    ("env-other-vocab", lambda: training.sample_batch(M(), E_OTHER(), RCFG(), G()), "vocabulary"),
])
add("token_kl", [
    ("estimator-unknown", lambda: training.token_kl(Z(2, 3), Z(2, 3), MASK(2, 3), "k0"), "estimator"),
    ("mask-shape", lambda: training.token_kl(Z(2, 3), Z(2, 3), MASK(2, 1), "k1"), "mask"),
    ("mask-float", lambda: training.token_kl(Z(2, 3), Z(2, 3), Z(2, 3), "k1"), "mask"),
    ("logp-nan", lambda: training.token_kl(NANS(2, 3), Z(2, 3), MASK(2, 3), "k1"), "logp"),
    ("ref_logp-shape", lambda: training.token_kl(Z(2, 3), Z(1, 3), MASK(2, 3), "k1"), "ref_logp"),
    ("logp-str", lambda: training.token_kl("x", Z(2, 3), MASK(2, 3), "k1"), "logp"),
])
add("optimizer_step", [
    ("opt-str", lambda: training.optimizer_step("adam", nn.Linear(2, 1), torch.zeros((), requires_grad=True),
                                                None), "opt"),
    ("model-str", lambda: training.optimizer_step(OPT(), "m", torch.zeros((), requires_grad=True), None), "model"),
    ("loss-str", lambda: training.optimizer_step(OPT(), nn.Linear(2, 1), "loss", None), "loss"),
    ("loss-not-scalar", lambda: training.optimizer_step(OPT(), nn.Linear(2, 1), torch.zeros(3, requires_grad=True),
                                                        None), "loss"),
    ("loss-nan", lambda: training.optimizer_step(OPT(), nn.Linear(2, 1), torch.tensor(NAN, requires_grad=True),
                                                 None), "loss"),
    ("max_grad_norm-negative", lambda: training.optimizer_step(OPT(), nn.Linear(2, 1),
                                                               torch.zeros((), requires_grad=True), -1.0),
     "max_grad_norm"),
    ("max_grad_norm-nan", lambda: training.optimizer_step(OPT(), nn.Linear(2, 1),
                                                          torch.zeros((), requires_grad=True), NAN), "max_grad_norm"),
])
add("generator_for", [
    ("seed-negative", lambda: training.generator_for(M(), -1), "seed"),
    ("seed-fraction", lambda: training.generator_for(M(), 2.5), "seed"),
    ("seed-none", lambda: training.generator_for(M(), None), "seed"),
    ("seed-str", lambda: training.generator_for(M(), "0"), "seed"),
    ("model-str", lambda: training.generator_for("x", 0), "model"),
])
add("Training", [
    ("ref-str", lambda: training_with(ref="x"), "ref"),
    ("opt-none", lambda: training_with(opt=None), "opt"),
    ("generators-empty", lambda: training_with(generators=[]), "generators"),
    ("rows-zero", lambda: training_with(rows=0), "rows"),
    ("world-tuple", lambda: training_with(world=(0, 1)), "world"),
    ("mean-empty", lambda: TR().mean([]), "values"),
    ("mean-str", lambda: TR().mean("ab"), "values"),
    ("mean_stats-empty", lambda: TR().mean_stats([]), "stats"),
    ("mean_stats-str", lambda: TR().mean_stats("ab"), "stats"),
    ("sample-cfg-str", lambda: TR().sample(M(), E(), "cfg"), "cfg"),
])
add("start_training", [
    ("cfg-str", lambda: training.start_training(M(), E(), "cfg", None), "cfg"),
    ("cfg-none", lambda: training.start_training(M(), E(), None, None), "cfg"),
    ("ref_model-str", lambda: training.start_training(M(), E(), RCFG(), "x"), "ref_model"),
    ("ref_model-other-vocab", lambda: training.start_training(M(), E(), RCFG(), M_OTHER()), "ref_model"),
    ("adam_eps-negative", lambda: training.start_training(M(), E(), RCFG(), None, adam_eps=-1.0), "adam_eps"),
    ("adam_eps-nan", lambda: training.start_training(M(), E(), RCFG(), None, adam_eps=NAN), "adam_eps"),
    ("uses_value_head-str", lambda: training.start_training(M(), E(), RCFG(), None, uses_value_head="yes"),
     "uses_value_head"),
])
add("accumulated_step", [
    ("items-empty", lambda: training.accumulated_step(OPT(), nn.Linear(2, 1), [], mb_loss, None), "items"),
    ("loss_fn-str", lambda: training.accumulated_step(OPT(), nn.Linear(2, 1), [None], "loss", None), "loss_fn"),
    ("loss_fn-returns-float", lambda: training.accumulated_step(OPT(), nn.Linear(2, 1), [None],
                                                                lambda n, i: (0.5, {}), None), "loss"),
    ("max_grad_norm-negative", lambda: training.accumulated_step(OPT(), nn.Linear(2, 1), [None], mb_loss, -1.0),
     "max_grad_norm"),
    ("opt-str", lambda: training.accumulated_step("adam", nn.Linear(2, 1), [None], mb_loss, None), "opt"),
    ("net-none", lambda: training.accumulated_step(OPT(), None, [None], mb_loss, None), "net"),
    ("items-none", lambda: training.accumulated_step(OPT(), nn.Linear(2, 1), None, mb_loss, None), "items"),
])
add("train_per_batch", [
    ("tr-str", lambda: training.train_per_batch(M(), E(), RCFG(), "tr", mb_loss, ["time"], "x", False), "tr"),
    ("micro_batch_loss-int", lambda: training.train_per_batch(M(), E(), RCFG(), TR(), 3, ["time"], "x", False),
     "micro_batch_loss"),
    ("keys-str", lambda: training.train_per_batch(M(), E(), RCFG(), TR(), mb_loss, "time", "x", False), "keys"),
    ("keys-ints", lambda: training.train_per_batch(M(), E(), RCFG(), TR(), mb_loss, [1], "x", False), "keys"),
    ("progress-str", lambda: training.train_per_batch(M(), E(), RCFG(), TR(), mb_loss, ["time"], "x", "yes"),
     "progress"),
    ("cfg-str", lambda: training.train_per_batch(M(), E(), "cfg", TR(), mb_loss, ["time"], "x", False), "cfg"),
    ("desc-int", lambda: training.train_per_batch(M(), E(), RCFG(), TR(), mb_loss, ["time"], 3, False), "desc"),
])


@pytest.mark.parametrize("case", cases(BAD))
def test_refused(case):
    assert_refused(case)


def test_every_public_object_is_swept():
    """Every public function and class of every ``rlcore.lm`` module has at least five cases."""
    import inspect

    mods = (budget, checkpoint, config, exact, kl, losses, metrics, model, parallel, ppo, pretrain, reinforce,
            rewards, rollout, sweep, training)
    # no-argument functions cannot be given a bad input
    no_args = {"world", "close_distributed"}
    counts: dict[str, int] = {}
    for b in BAD:
        counts[b.label.split(":")[0]] = counts.get(b.label.split(":")[0], 0) + 1
    missing = []
    for mod in mods:
        for name, obj in vars(mod).items():
            if name.startswith("_") or name in no_args or getattr(obj, "__module__", None) != mod.__name__:
                continue
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and counts.get(name, 0) < 5:
                missing.append(f"{mod.__name__}.{name} ({counts.get(name, 0)})")
    assert not missing, f"fewer than five bad inputs: {missing}"
    assert math.isfinite(len(BAD))
