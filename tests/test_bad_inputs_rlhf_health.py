"""The bad-input sweep (issue 9) for ``rlcore.rlhf`` and ``rlcore.health``: every public call refuses clearly.

Each case is one bad call that must raise ``ValueError``/``TypeError`` from rlcore naming the
argument (see ``tests/bad_inputs.py``). Everything is refused before any long work: the
trainers get one-iteration configs so that an accepted bad input would show as a wrong
result, not as minutes of training. Result records (``DPOResult``, ``OPEEstimate``,
``TrapResult``, ...) are built by the library, not by users; their methods that take
arguments (``ExactOptimum.kl``, ``GaoFit.__call__``, ``ConstrainedResult.sample_policy``)
are swept. ``LoggedData`` is swept as a constructor: real records are loaded into it.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import replace
from functools import cache

import numpy as np
import pytest
import torch
from bad_inputs import Bad, assert_refused, cases

from rlcore import TabularMDP
from rlcore.envs import healthcare as hc
from rlcore.envs.language import CharLanguageEnv
from rlcore.envs.rewards import from_function
from rlcore.health import constraints, logs, offline, ope, ope_study, safety
from rlcore.lm import CharLM, PPOConfig
from rlcore.lm.exact import enumerate_completions
from rlcore.rlhf import config as rlhf_config
from rlcore.rlhf import exact, frontier, kl_study, overoptimisation, preferences, reward_model

# rlcore.rlhf re-exports functions named like these modules (best_of_n, dpo, grpo, rloo): import the modules.
bon, dpo_mod, grpo, rloo = (importlib.import_module(f"rlcore.rlhf.{m}") for m in ("best_of_n", "dpo", "grpo", "rloo"))

pytestmark = [pytest.mark.timeout(30), pytest.mark.usefixtures("one_torch_thread")]

NAN, INF = math.nan, math.inf
PROMPTS, MAX_LEN = ("a", "b"), 4
GOLD = from_function(lambda text: float(text.count("b")), "gold")


# ------------------------------------------------------------------ tiny objects, built once, lazily
@cache
def lm() -> CharLM:
    return CharLM("ab", embed_dim=4, hidden_dim=8, seed=0)


@cache
def lm_other() -> CharLM:
    """A model of another vocabulary: mixing it with ``lm()``'s data must be refused."""
    return CharLM("abc", embed_dim=4, hidden_dim=8, seed=0)


@cache
def lm_novalue() -> CharLM:
    return CharLM("ab", embed_dim=4, hidden_dim=8, value_head=False, seed=0)


@cache
def env() -> CharLanguageEnv:
    return CharLanguageEnv("ab", MAX_LEN, delayed_reward=GOLD, prompts=PROMPTS)


@cache
def every():
    return enumerate_completions(lm().vocab, MAX_LEN, PROMPTS)


@cache
def evaluator() -> overoptimisation.ToyEvaluator:
    return overoptimisation.ToyEvaluator(lm(), MAX_LEN, PROMPTS, {"gold": GOLD})


@cache
def optimum() -> exact.ExactOptimum:
    return exact.exact_optimum(lm(), GOLD, 1.0, MAX_LEN, PROMPTS)


@cache
def prefs() -> preferences.PreferenceData:
    return preferences.PreferenceData(("a", "a", "b", "b"), ("b", "bb", "b", "ab"), ("a", "", "a", "aa"),
                                      lm().vocab, MAX_LEN)


@cache
def prefs_other() -> preferences.PreferenceData:
    return preferences.PreferenceData(("a", "c"), ("c", "cc"), ("a", "b"), lm_other().vocab, MAX_LEN)


@cache
def rm() -> reward_model.RewardModel:
    return reward_model.RewardModel(CharLM("ab", embed_dim=4, hidden_dim=8, seed=1), MAX_LEN)


@cache
def gao() -> overoptimisation.GaoFit:
    return overoptimisation.fit_gao([0.1, 0.2, 0.3], [0.1, 0.15, 0.1], "bon")


def dpo_cfg() -> dpo_mod.DPOConfig:
    return dpo_mod.DPOConfig(num_train_epochs=1, batch_size=4)


def grpo_cfg() -> grpo.GRPOConfig:
    return grpo.GRPOConfig(n_iterations=1, batch_size=4, num_generations=2)


def rloo_cfg() -> rloo.RLOOConfig:
    return rloo.RLOOConfig(n_iterations=1, batch_size=4, num_generations=2)


def ppo_cfg() -> PPOConfig:
    return PPOConfig(n_iterations=1, batch_size=4, num_mini_batches=1, num_ppo_epochs=1)


@cache
def mdp(horizon: int | None = 5) -> TabularMDP:
    """Two decision states and a terminal one; action 1 ends the episode with a reward (``horizon=None``: the
    discounted task, which the constrained planners need)."""
    P = np.zeros((3, 2, 3))
    P[0, 0, 1] = P[1, 0, 0] = 1.0
    P[0, 1, 2] = P[1, 1, 2] = P[2, :, 2] = 1.0
    R = np.zeros((3, 2))
    R[0, 1], R[1, 1] = 1.0, 0.5
    return TabularMDP.from_dense(P, R, gamma=0.9, terminal=[2], horizon=horizon)


PI = np.array([1, 1, 0])


@cache
def behaviour() -> np.ndarray:
    return logs.soften_policy(PI, 2, 0.3)


@cache
def log() -> logs.LoggedData:
    return logs.collect_logs(mdp(), behaviour(), 20, seed=0)


@cache
def chronic() -> hc.TreatmentModel:
    return hc.chronic_disease_model()


def constrained_result() -> constraints.ConstrainedResult:
    a = np.zeros(3, dtype=int)
    return constraints.ConstrainedResult(1.0, 0.5, a, a, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, True, 1)


def bads(prefix: str, call, arg: str, values: dict) -> list[Bad]:
    """One case per ``label: value``, each calling ``call(value)``."""
    return [Bad(f"{prefix}-{label}", (lambda v=v: call(v)), arg) for label, v in values.items()]


def kw(prefix: str, call, items: list[tuple]) -> list[Bad]:
    """One case per ``(label, argument, value[, named])``: ``call(**{argument: value})`` must name ``named``
    (default: the argument)."""
    return [Bad(f"{prefix}-{label}", (lambda a=a, v=v: call(**{a: v})), named[0] if named else a)
            for label, a, v, *named in items]


T = torch.tensor
BAD: list[Bad] = []

# ======================================================================== rlhf.best_of_n
BAD += kw("best_of_n", lambda **k: bon.best_of_n(**({"model": lm(), "prompts": PROMPTS, "reward": GOLD, "n": 2,
                                                      "max_len": MAX_LEN} | k)), [
    ("model-str", "model", "abc"), ("model-none", "model", None), ("prompts-int", "prompts", 5),
    ("reward-none", "reward", None), ("reward-str", "reward", "gold"), ("temperature-zero", "temperature", 0.0),
    ("temperature-nan", "temperature", NAN), ("max_len-zero", "max_len", 0), ("max_len-float", "max_len", 2.5),
    ("generator-str", "generator", "abc")])
BAD += bads("best_of_n-n", lambda n: bon.best_of_n(lm(), PROMPTS, GOLD, n, MAX_LEN), "n must",
            {"zero": 0, "float": 2.5, "bool": True, "str": "2"})

LOGP, GROUPS = np.log([0.5, 0.5, 0.25, 0.75]), np.array([0, 0, 1, 1])
BAD += kw("normalize_per_prompt", lambda **k: bon.normalize_per_prompt(**({"logp": LOGP, "groups": GROUPS} | k)), [
    ("logp-str", "logp", "abc"), ("logp-none", "logp", None), ("logp-nan", "logp", [NAN, 0.0, 0.0, 0.0]),
    ("logp-posinf", "logp", [INF, 0.0, 0.0, 0.0]), ("logp-2d", "logp", LOGP[None]),
    ("groups-short", "groups", [0, 0, 1]), ("groups-frac", "groups", [0.5, 0, 1, 1]), ("groups-none", "groups", None)])
BAD += [Bad("normalize_per_prompt-empty", lambda: bon.normalize_per_prompt([], []), "logp")]

BAD += kw("best_of_n_distribution", lambda **k: bon.best_of_n_distribution(
    **({"logp": LOGP, "reward": [0.0, 1.0, 1.0, 0.0], "groups": GROUPS, "n": 2} | k)), [
    ("reward-nan", "reward", [NAN, 1.0, 1.0, 0.0]), ("reward-short", "reward", [0.0, 1.0]),
    ("reward-str", "reward", "abc"), ("logp-str", "logp", "abc"), ("groups-short", "groups", [0, 1])])
BAD += bads("best_of_n_distribution-n", lambda n: bon.best_of_n_distribution(LOGP, [0, 1, 1, 0], GROUPS, n),
            "n must", {"zero": 0, "float": 2.5, "bool": True})

BAD += kw("best_of_n_kl", lambda **k: bon.best_of_n_kl(**({"model": lm(), "reward": GOLD, "n": 2,
                                                            "max_len": MAX_LEN, "prompts": PROMPTS} | k)), [
    ("model-str", "model", "abc"), ("reward-none", "reward", None), ("max_len-zero", "max_len", 0),
    ("max_len-float", "max_len", 2.5), ("prompts-foreign", "prompts", ["zz"], "prompt"),
    ("temperature-neg", "temperature", -1.0)])
BAD += bads("best_of_n_kl-n", lambda n: bon.best_of_n_kl(lm(), GOLD, n, MAX_LEN, PROMPTS), "n must",
            {"zero": 0, "float": 2.5})
BAD += bads("best_of_n_kl_bound", bon.best_of_n_kl_bound, "n must",
            {"zero": 0, "neg": -1, "float": 2.5, "bool": True, "str": "3", "none": None, "nan": NAN})

# ======================================================================== rlhf.dpo
C2, R2 = T([-1.0, -2.0]), T([-1.5, -1.0])


def dpo_loss(**k):
    return dpo_mod.dpo_loss(**({"chosen_logps": C2, "rejected_logps": R2, "ref_chosen_logps": C2,
                                "ref_rejected_logps": R2} | k))


BAD += kw("dpo_loss", dpo_loss, [
    ("loss_type-bogus", "loss_type", "bogus"), ("loss_type-none", "loss_type", None), ("beta-zero", "beta", 0.0),
    ("beta-neg", "beta", -1.0), ("beta-nan", "beta", NAN), ("beta-inf", "beta", INF), ("beta-str", "beta", "0.1"),
    ("label_smoothing-big", "label_smoothing", 0.7), ("label_smoothing-neg", "label_smoothing", -0.1),
    ("label_smoothing-nan", "label_smoothing", NAN), ("chosen-list", "chosen_logps", [-1.0, -2.0]),
    ("chosen-nan", "chosen_logps", T([NAN, -1.0])), ("chosen-0d", "chosen_logps", T(-1.0)),
    ("rejected-long", "rejected_logps", T([-1.0, -1.0, -1.0])), ("ref_chosen-2d", "ref_chosen_logps", C2[:, None]),
    ("ref_rejected-none", "ref_rejected_logps", None), ("labels-big", "labels", T([1.5, 0.0])),
    ("labels-long", "labels", T([1.0, 1.0, 1.0])), ("labels-nan", "labels", T([NAN, 1.0]))])
BAD += [Bad("dpo_loss-empty", lambda: dpo_mod.dpo_loss(T([]), T([]), T([]), T([])), "chosen_logps")]

BAD += kw("DPOConfig", dpo_mod.DPOConfig, [
    ("beta-zero", "beta", 0.0), ("beta-neg", "beta", -0.1), ("beta-nan", "beta", NAN),
    ("loss_type-bogus", "loss_type", "bogus"), ("loss_type-grpo", "loss_type", "grpo"),
    ("label_smoothing-big", "label_smoothing", 0.6), ("num_train_epochs-float", "num_train_epochs", 2.5),
    ("num_train_epochs-zero", "num_train_epochs", 0), ("batch_size-bool", "batch_size", True),
    ("learning_rate-str", "learning_rate", "1e-3"), ("max_grad_norm-neg", "max_grad_norm", -1.0),
    ("seed-neg", "seed", -1), ("gradient_accumulation_steps-zero", "gradient_accumulation_steps", 0)])

BAD += kw("dpo", lambda **k: dpo_mod.dpo(**({"model": lm(), "data": prefs(), "config": dpo_cfg()} | k)), [
    ("model-str", "model", "abc"), ("model-none", "model", None), ("data-none", "data", None),
    ("data-str", "data", "abc"), ("config-dict", "config", {"beta": 1.0}), ("config-grpo", "config", grpo_cfg()),
    ("ref_model-str", "ref_model", "abc"), ("ref_model-vocab", "ref_model", lm_other()),
    ("progress-str", "progress", "yes"),
    ("config-accumulation", "config", dpo_mod.DPOConfig(gradient_accumulation_steps=8),
     "gradient_accumulation_steps")])
BAD += [Bad("dpo-data-vocab", lambda: dpo_mod.dpo(lm(), prefs_other(), dpo_cfg()), "vocabulary")]

# ======================================================================== rlhf.exact
BAD += kw("completion_logprobs", lambda **k: exact.completion_logprobs(**({"model": lm(), "every": every()} | k)), [
    ("model-str", "model", "abc"), ("model-none", "model", None), ("model-vocab", "model", lm_other()),
    ("every-str", "every", "abc"), ("every-list", "every", ["ab"]), ("every-none", "every", None),
    ("temperature-zero", "temperature", 0.0), ("temperature-nan", "temperature", NAN),
    ("temperature-str", "temperature", "1")])

BAD += kw("mean_over_prompts", lambda **k: exact.mean_over_prompts(**({"per_completion": [1.0, 2.0, 3.0, 4.0],
                                                                       "groups": GROUPS} | k)), [
    ("per_completion-str", "per_completion", "abc"), ("per_completion-none", "per_completion", None),
    ("per_completion-2d", "per_completion", [[1.0, 2.0, 3.0, 4.0]]), ("groups-short", "groups", [0, 1]),
    ("groups-none", "groups", None), ("groups-frac", "groups", [0, 0.5, 1, 1])])
BAD += [Bad("mean_over_prompts-empty", lambda: exact.mean_over_prompts([], []), "per_completion")]

BAD += kw("kl_between", lambda **k: exact.kl_between(**({"logp": LOGP, "other_logp": LOGP, "groups": GROUPS} | k)), [
    ("logp-nan", "logp", [NAN, 0.0, 0.0, 0.0]), ("logp-str", "logp", "abc"), ("logp-posinf", "logp", [INF, 0, 0, 0]),
    ("other_logp-nan", "other_logp", [NAN, 0.0, 0.0, 0.0]), ("other_logp-short", "other_logp", LOGP[:2]),
    ("other_logp-none", "other_logp", None), ("groups-short", "groups", [0, 1])])
BAD += [Bad("kl_between-empty", lambda: exact.kl_between([], [], []), "logp")]

BAD += kw("tilted_logprobs", lambda **k: exact.tilted_logprobs(**({"ref_logp": LOGP, "reward": [0.0, 1.0, 1.0, 0.0],
                                                                   "groups": GROUPS, "beta": 1.0} | k)), [
    ("beta-zero", "beta", 0.0), ("beta-neg", "beta", -1.0), ("beta-nan", "beta", NAN), ("beta-inf", "beta", INF),
    ("beta-str", "beta", "abc"), ("beta-none", "beta", None), ("reward-nan", "reward", [NAN, 1.0, 1.0, 0.0]),
    ("reward-short", "reward", [0.0, 1.0]), ("groups-neg", "groups", [-1, -1, 0, 0]),
    ("groups-gap", "groups", [0, 0, 2, 2]), ("ref_logp-nan", "ref_logp", [NAN, 0.0, 0.0, 0.0])])

BAD += kw("exact_optimum", lambda **k: exact.exact_optimum(**({"ref_model": lm(), "reward": GOLD, "beta": 1.0,
                                                               "max_len": MAX_LEN, "prompts": PROMPTS} | k)), [
    ("ref_model-str", "ref_model", "abc"), ("ref_model-none", "ref_model", None), ("reward-none", "reward", None),
    ("beta-zero", "beta", 0.0), ("beta-nan", "beta", NAN), ("beta-str", "beta", "abc"),
    ("max_len-zero", "max_len", 0), ("max_len-float", "max_len", 2.5), ("prompts-foreign", "prompts", ["zz"], "prompt"),
    ("prompts-int", "prompts", 5), ("temperature-zero", "temperature", 0.0)])
MODELS_BAD = {"none": None, "str": "abc", "dict": {"a": 1}, "int": 5, "vocab": "other"}


def _model(v):
    return lm_other() if v == "other" else v


BAD += bads("ExactOptimum.kl", lambda v: optimum().kl(_model(v)), "model", MODELS_BAD)
BAD += bads("ExactOptimum.objective", lambda v: optimum().objective(_model(v)), "model", MODELS_BAD)

# ======================================================================== rlhf.frontier
BAD += kw("reward_kl_frontier", lambda **k: frontier.reward_kl_frontier(
    **({"ref": lm(), "evaluator": evaluator(), "gold": GOLD, "betas": [1.0], "ppo_config": ppo_cfg(),
        "dpo_config": dpo_cfg()} | k)), [
    ("ref-str", "ref", "abc"), ("ref-vocab", "ref", lm_other()), ("evaluator-str", "evaluator", "abc"),
    ("gold-none", "gold", None), ("betas-zero", "betas", [0.0]), ("betas-nan", "betas", [NAN]),
    ("betas-str", "betas", "abc"), ("betas-none", "betas", None), ("ns-zero", "ns", [0]), ("ns-float", "ns", [2.5]),
    ("ns-str", "ns", "ab"), ("pairs-str", "pairs", "abc"), ("proxy-str", "proxy", "abc"),
    ("ppo_config-dpo", "ppo_config", dpo_cfg()), ("dpo_config-dict", "dpo_config", {"beta": 1.0}),
    ("exact_betas-neg", "exact_betas", [-1.0]), ("progress-str", "progress", "yes")])

# ======================================================================== rlhf.grpo
RW = T([1.0, 0.0, 1.0, 1.0])
BAD += kw("group_advantages", lambda **k: grpo.group_advantages(**({"rewards": RW, "num_generations": 2} | k)), [
    ("scale_rewards-bogus", "scale_rewards", "bogus"), ("num_generations-one", "num_generations", 1),
    ("num_generations-float", "num_generations", 2.5), ("num_generations-bool", "num_generations", True),
    ("num_generations-nodivide", "num_generations", 3), ("rewards-list", "rewards", [1.0, 0.0]),
    ("rewards-nan", "rewards", T([NAN, 0.0, 1.0, 1.0])), ("rewards-2d", "rewards", RW[:, None]),
    ("rewards-empty", "rewards", T([])), ("eps-neg", "eps", -1.0), ("eps-nan", "eps", NAN)])

LP, ADV, MASK = torch.full((2, 3), -0.5), T([1.0, -1.0]), torch.ones(2, 3, dtype=torch.bool)
BAD += kw("grpo_loss", lambda **k: grpo.grpo_loss(**({"logp": LP, "old_logp": LP, "ref_logp": LP, "advantages": ADV,
                                                      "mask": MASK} | k)), [
    ("loss_type-bogus", "loss_type", "bogus"), ("beta-neg", "beta", -0.1), ("beta-nan", "beta", NAN),
    ("epsilon-zero", "epsilon", 0.0), ("epsilon-nan", "epsilon", NAN), ("epsilon-str", "epsilon", "0.2"),
    ("epsilon_high-neg", "epsilon_high", -0.1), ("max_completion_length-zero", "max_completion_length", 0),
    ("max_completion_length-float", "max_completion_length", 2.5), ("old_logp-shape", "old_logp", LP[:, :2]),
    ("ref_logp-shape", "ref_logp", torch.zeros(3, 3)), ("advantages-long", "advantages", T([1.0, 0.0, 1.0])),
    ("mask-float", "mask", MASK.float()), ("mask-shape", "mask", MASK[:, :2]), ("logp-nan", "logp", LP * NAN),
    ("logp-1d", "logp", LP[0]), ("logp-list", "logp", [[-0.5] * 3] * 2)])

BAD += kw("GRPOConfig", grpo.GRPOConfig, [
    ("num_generations-one", "num_generations", 1), ("beta-neg", "beta", -0.1), ("epsilon-zero", "epsilon", 0.0),
    ("loss_type-sigmoid", "loss_type", "sigmoid"), ("scale_rewards-bogus", "scale_rewards", "bogus"),
    ("epsilon_high-neg", "epsilon_high", -1.0), ("batch_size-nomultiple", "batch_size", 10),
    ("top_p-zero", "top_p", 0.0), ("temperature-zero", "temperature", 0.0),
    ("n_iterations-float", "n_iterations", 2.5)])


def trainer_cases(name, fn, cfg, other_cfg):
    return kw(name, lambda **k: fn(**({"model": lm(), "env": env(), "config": cfg()} | k)), [
        ("model-str", "model", "abc"), ("model-none", "model", None), ("env-str", "env", "abc"),
        ("config-other", "config", other_cfg()), ("config-dict", "config", {"beta": 0.0}),
        ("ref_model-str", "ref_model", "abc"), ("ref_model-vocab", "ref_model", lm_other()),
        ("progress-str", "progress", "yes")]) + [
        Bad(f"{name}-model-vocab", lambda: fn(lm_other(), env(), cfg()), "vocabulary")]


BAD += trainer_cases("grpo", grpo.grpo, grpo_cfg, rloo_cfg)
BAD += kw("check_trainer_inputs", lambda **k: rlhf_config.check_trainer_inputs(
    **({"model": lm(), "env": env(), "ref_model": None, "progress": False} | k)), [
    ("model-str", "model", "abc"), ("env-none", "env", None), ("ref_model-str", "ref_model", "abc"),
    ("ref_model-vocab", "ref_model", lm_other()), ("progress-int", "progress", 1)])

# ======================================================================== rlhf.rloo
BAD += kw("rloo_advantages", lambda **k: rloo.rloo_advantages(**({"rewards": RW, "num_generations": 2} | k)), [
    ("num_generations-one", "num_generations", 1), ("num_generations-float", "num_generations", 2.5),
    ("num_generations-bool", "num_generations", True), ("num_generations-str", "num_generations", "4"),
    ("num_generations-nodivide", "num_generations", 3), ("rewards-list", "rewards", [1.0, 0.0]),
    ("rewards-nan", "rewards", T([NAN, 0.0, 1.0, 1.0])), ("rewards-empty", "rewards", T([])),
    ("rewards-2d", "rewards", RW[:, None])])
BAD += kw("RLOOConfig", rloo.RLOOConfig, [
    ("num_generations-one", "num_generations", 1), ("beta-neg", "beta", -1.0), ("beta-nan", "beta", NAN),
    ("batch_size-nomultiple", "batch_size", 6), ("learning_rate-zero", "learning_rate", 0.0),
    ("seed-neg", "seed", -1), ("top_k-zero", "top_k", 0)])
BAD += trainer_cases("rloo", rloo.rloo, rloo_cfg, grpo_cfg)

# ======================================================================== rlhf.kl_study
BAD += kw("kl_estimator_table", lambda **k: kl_study.kl_estimator_table(**({"model": lm(), "ref": lm(),
                                                                            "max_len": MAX_LEN, "prompts": PROMPTS}
                                                                           | k)), [
    ("model-str", "model", "abc"), ("ref-none", "ref", None), ("ref-vocab", "ref", lm_other()),
    ("max_len-zero", "max_len", 0), ("max_len-float", "max_len", 2.5),
    ("prompts-foreign", "prompts", ["zz"], "prompt")])

# ======================================================================== rlhf.overoptimisation
BAD += kw("ToyEvaluator", lambda **k: overoptimisation.ToyEvaluator(**({"ref": lm(), "max_len": MAX_LEN,
                                                                        "prompts": PROMPTS, "rewards": {"gold": GOLD}}
                                                                       | k)), [
    ("ref-str", "ref", "abc"), ("max_len-zero", "max_len", 0), ("max_len-float", "max_len", 2.5),
    ("prompts-foreign", "prompts", ["zz"], "prompt"), ("rewards-empty", "rewards", {}),
    ("rewards-none-value", "rewards", {"gold": None}), ("rewards-list", "rewards", [GOLD])])
def _evaluate_logp(v):
    ref = evaluator().ref_logp
    v = {"nan": np.where(np.arange(ref.size) == 0, NAN, ref), "2d": ref[None],
         "posinf": np.where(np.arange(ref.size) == 0, INF, ref)}.get(v, v) if isinstance(v, str) else v
    return evaluator().evaluate_logp(v)


BAD += bads("ToyEvaluator.evaluate_logp", _evaluate_logp, "logp", {
    "str": ["abc"], "none": None, "short": [0.0, 0.0], "nan": "nan", "2d": "2d", "posinf": "posinf"})
BAD += bads("ToyEvaluator.evaluate", lambda v: evaluator().evaluate(_model(v)), "model", MODELS_BAD)
BAD += bads("ToyEvaluator.best_of_n-n", lambda n: evaluator().best_of_n(n, "gold"), "n must",
            {"zero": 0, "float": 2.5, "bool": True, "str": "3"})
BAD += bads("ToyEvaluator.best_of_n-rank_by", lambda r: evaluator().best_of_n(2, r), "rank_by",
            {"bogus": "bogus", "none": None})

BAD += kw("gao_curve", lambda **k: overoptimisation.gao_curve(**({"d": [0.1, 0.2], "alpha": 1.0, "beta": 1.0,
                                                                  "form": "bon"} | k)), [
    ("form-bogus", "form", "bogus"), ("form-none", "form", None), ("alpha-nan", "alpha", NAN),
    ("alpha-str", "alpha", "x"), ("beta-inf", "beta", INF), ("beta-none", "beta", None)])
BAD += bads("gao_curve-d", lambda d: overoptimisation.gao_curve(d, 1.0, 1.0, "rl"), "d must",
            {"neg": [-0.1], "nan": [NAN], "str": "abc", "none": None})
BAD += bads("GaoFit.__call__", lambda d: gao()(d), "d must",
            {"neg": [-1.0], "nan": [NAN], "str": "abc", "none": None, "dict": {"a": 1}})
BAD += kw("fit_gao", lambda **k: overoptimisation.fit_gao(**({"d": [0.1, 0.2, 0.3], "gain": [0.1, 0.2, 0.1],
                                                              "form": "rl"} | k)), [
    ("form-bogus", "form", "bogus"), ("gain-short", "gain", [0.1, 0.2]), ("gain-nan", "gain", [NAN, 0.2, 0.1]),
    ("gain-str", "gain", "abc")])
BAD += bads("fit_gao-d", lambda d: overoptimisation.fit_gao(d, [0.1, 0.2, 0.1], "bon"), "d must",
            {"nan": [NAN, 0.2, 0.3], "2d": [[0.1, 0.2, 0.3]], "str": "abc", "one-point": [0.0, 0.0, 0.3]})
BAD += [Bad("fit_gao-empty", lambda: overoptimisation.fit_gao([], [], "bon"), "d must")]

BAD += kw("ppo_curve", lambda **k: overoptimisation.ppo_curve(**({"model": lm(), "env": env(),
                                                                  "evaluator": evaluator(), "config": ppo_cfg(),
                                                                  "n_chunks": 1} | k)), [
    ("n_chunks-zero", "n_chunks", 0), ("n_chunks-float", "n_chunks", 2.5), ("n_chunks-bool", "n_chunks", True),
    ("config-dpo", "config", dpo_cfg()), ("config-none", "config", None), ("evaluator-str", "evaluator", "abc"),
    ("model-str", "model", "abc"), ("env-str", "env", "abc"), ("ref_model-str", "ref_model", "abc"),
    ("progress-str", "progress", "yes")])

# ======================================================================== rlhf.preferences
PD = {"prompts": ("a", "b"), "chosen": ("b", "bb"), "rejected": ("a", "")}


def pref_data(**k):
    return preferences.PreferenceData(**({"vocab": lm().vocab, "max_len": MAX_LEN} | PD | k))


BAD += kw("PreferenceData", pref_data, [
    ("prompts-none", "prompts", None), ("chosen-short", "chosen", ("b",)), ("chosen-str", "chosen", "ab"),
    ("rejected-int", "rejected", ("a", 5)), ("vocab-str", "vocab", "ab"), ("max_len-float", "max_len", 2.5),
    ("max_len-zero", "max_len", 0), ("soft_label-big", "soft_label", [1.5, 0.5]),
    ("soft_label-nan", "soft_label", [NAN, 0.5]), ("soft_label-short", "soft_label", [0.5]),
    ("soft_label-str", "soft_label", "abc")])
BAD += [Bad("PreferenceData-empty", lambda: pref_data(prompts=(), chosen=(), rejected=()), "prompts")]
BAD += bads("PreferenceData.subset", lambda i: prefs().subset(i), "idx",
            {"out-of-range": [99], "neg": [-1], "frac": [0.5], "str": "a", "none": None, "empty": [], "2d": [[0]]})
BAD += kw("PreferenceData.split", lambda **k: prefs().split(**k), [
    ("held_out-zero", "held_out", 0.0), ("held_out-one", "held_out", 1.0), ("held_out-nan", "held_out", NAN),
    ("held_out-str", "held_out", "0.2"), ("held_out-none", "held_out", None), ("seed-neg", "seed", -1),
    ("seed-float", "seed", 2.5), ("seed-str", "seed", "0")])
BAD += bads("PreferenceData.encode", lambda s: prefs().encode(s), "side",
            {"bogus": "bogus", "none": None, "int": 1, "upper": "CHOSEN", "list": ["chosen"]})

BAD += kw("Labeller", preferences.Labeller, [
    ("temperature-zero", "temperature", 0.0), ("temperature-nan", "temperature", NAN),
    ("temperature-str", "temperature", "1"), ("temperature-none", "temperature", None),
    ("noise-big", "noise", 1.5), ("noise-nan", "noise", NAN), ("noise-neg", "noise", -0.1),
    ("length_bias-inf", "length_bias", INF), ("length_bias-str", "length_bias", "x"),
    ("length_bias-none", "length_bias", None)])
R1, L1 = np.array([1.0, 0.0]), np.array([1.0, 2.0])
BAD += kw("Labeller.prob_first", lambda **k: preferences.Labeller().prob_first(**({"r1": R1, "r2": R1, "len1": L1,
                                                                                   "len2": L1} | k)), [
    ("r1-str", "r1", "abc"), ("r2-long", "r2", [1.0, 0.0, 1.0]), ("r1-nan", "r1", [NAN, 0.0]),
    ("len1-neg", "len1", [-1.0, 2.0]), ("len2-none", "len2", None)])
BAD += [Bad("Labeller.prob_first-empty", lambda: preferences.Labeller().prob_first([], [], [], []), "r1")]

BAD += kw("simulate_preferences", lambda **k: preferences.simulate_preferences(
    **({"model": lm(), "prompts": PROMPTS, "gold": GOLD, "n_pairs": 2, "max_len": MAX_LEN} | k)), [
    ("model-str", "model", "abc"), ("prompts-int", "prompts", 5), ("gold-none", "gold", None),
    ("n_pairs-zero", "n_pairs", 0), ("n_pairs-float", "n_pairs", 2.5), ("n_pairs-bool", "n_pairs", True),
    ("max_len-zero", "max_len", 0), ("labeller-str", "labeller", "abc"), ("temperature-zero", "temperature", 0.0),
    ("seed-neg", "seed", -1), ("seed-float", "seed", 2.5)])

# ======================================================================== rlhf.reward_model
RC, RR = T([0.5, -0.2]), T([0.1, 0.3])
BAD += kw("bradley_terry_loss", lambda **k: reward_model.bradley_terry_loss(**({"r_chosen": RC, "r_rejected": RR}
                                                                               | k)), [
    ("r_chosen-list", "r_chosen", [0.5, -0.2]), ("r_rejected-long", "r_rejected", T([0.1, 0.3, 0.0])),
    ("r_chosen-nan", "r_chosen", T([NAN, 0.0])), ("r_chosen-2d", "r_chosen", RC[:, None]),
    ("labels-big", "labels", T([1.5, 0.0])), ("labels-long", "labels", T([1.0, 1.0, 1.0])),
    ("margin-nan", "margin", NAN), ("margin-str", "margin", "x"), ("margin-long", "margin", T([0.0, 0.0, 0.0])),
    ("center_coef-neg", "center_coef", -1.0), ("center_coef-nan", "center_coef", NAN)])
BAD += [Bad("bradley_terry_loss-empty", lambda: reward_model.bradley_terry_loss(T([]), T([])), "r_chosen")]

BAD += kw("expected_calibration_error", lambda **k: reward_model.expected_calibration_error(
    **({"p": [0.2, 0.8], "outcome": [0.0, 1.0]} | k)), [
    ("n_bins-zero", "n_bins", 0), ("n_bins-float", "n_bins", 2.5), ("n_bins-bool", "n_bins", True),
    ("p-big", "p", [1.5, 0.2]), ("p-nan", "p", [NAN, 0.2]), ("p-str", "p", "abc"),
    ("outcome-big", "outcome", [2.0, 0.0]), ("outcome-short", "outcome", [1.0])])
BAD += [Bad("expected_calibration_error-empty", lambda: reward_model.expected_calibration_error([], []), "p")]

BAD += kw("RewardModel", lambda **k: reward_model.RewardModel(**({"net": lm(), "max_len": MAX_LEN} | k)), [
    ("net-str", "net", "abc"), ("net-none", "net", None), ("net-novalue", "net", lm_novalue()),
    ("max_len-zero", "max_len", 0), ("max_len-float", "max_len", 2.5), ("max_len-none", "max_len", None),
    ("name-int", "name", 5)])
TEXTS_BAD = {"none": None, "str": "ab", "ints": [1, 2], "empty": [], "foreign": ["zz"], "long": ["ababab"]}
BAD += bads("RewardModel.raw", lambda t: rm().raw(t), "texts", TEXTS_BAD)
BAD += bads("RewardModel.score", lambda t: rm().score(t), "texts", TEXTS_BAD)
BAD += bads("RewardModel.normalize", lambda t: rm().normalize(t), "reference_texts", TEXTS_BAD)

BAD += kw("RewardConfig", reward_model.RewardConfig, [
    ("num_train_epochs-zero", "num_train_epochs", 0), ("batch_size-float", "batch_size", 2.5),
    ("learning_rate-neg", "learning_rate", -1.0), ("margin-nan", "margin", NAN),
    ("center_rewards_coefficient-neg", "center_rewards_coefficient", -1.0),
    ("max_grad_norm-zero", "max_grad_norm", 0.0), ("seed-neg", "seed", -1)])

BAD += kw("evaluate_pairs", lambda **k: reward_model.evaluate_pairs(**({"rm": rm(), "data": prefs()} | k)), [
    ("rm-str", "rm", "abc"), ("rm-none", "rm", None), ("data-none", "data", None), ("data-str", "data", "abc"),
    ("data-vocab", "data", prefs_other()), ("seed-neg", "seed", -1), ("seed-float", "seed", 2.5),
    ("seed-str", "seed", "0")])

BAD += kw("train_reward_model", lambda **k: reward_model.train_reward_model(
    **({"data": prefs(), "config": reward_model.RewardConfig(num_train_epochs=1)} | k)), [
    ("data-none", "data", None), ("data-str", "data", "abc"), ("config-dpo", "config", dpo_cfg()),
    ("config-dict", "config", {"x": 1}), ("init-str", "init", "abc"), ("init-novalue", "init", lm_novalue()),
    ("init-vocab", "init", lm_other()), ("held_out-str", "held_out", "abc"),
    ("held_out-vocab", "held_out", prefs_other()), ("progress-str", "progress", "yes")])

# ======================================================================== health.constraints
BAD += kw("lagrangian_front", lambda **k: constraints.lagrangian_front(**({"mdp": mdp(None), "cost": np.zeros((3, 2)),
                                                                           "lambdas": [0.0, 1.0]} | k)), [
    ("mdp-str", "mdp", "abc"), ("mdp-none", "mdp", None), ("cost-shape", "cost", np.zeros((2, 2))),
    ("cost-nan", "cost", np.full((3, 2), NAN)), ("cost-str", "cost", "abc"), ("cost-none", "cost", None),
    ("lambdas-neg", "lambdas", [-1.0]), ("lambdas-nan", "lambdas", [NAN]), ("lambdas-2d", "lambdas", [[1.0]]),
    ("lambdas-str", "lambdas", "abc"), ("lambdas-empty", "lambdas", []), ("mask-shape", "mask", np.ones((2, 2))),
    ("tol-zero", "tol", 0.0), ("tol-nan", "tol", NAN), ("tol-str", "tol", "x")])
BAD += kw("lagrangian_sweep", lambda **k: constraints.lagrangian_sweep(**({"model": chronic()} | k)), [
    ("model-str", "model", "abc"), ("model-none", "model", None), ("lambdas-neg", "lambdas", [-1.0]),
    ("lambdas-inf", "lambdas", [INF]), ("lambdas-empty", "lambdas", []), ("lambdas-str", "lambdas", "abc")])
BAD += [Bad("lagrangian_sweep-model-mdp", lambda: constraints.lagrangian_sweep(mdp()), "model")]
BAD += kw("constrained_policy", lambda **k: constraints.constrained_policy(**({"model": chronic(), "budget": 0.5}
                                                                             | k)), [
    ("model-str", "model", "abc"), ("budget-nan", "budget", NAN), ("budget-str", "budget", "x"),
    ("budget-none", "budget", None), ("budget-inf", "budget", INF), ("lam_max-zero", "lam_max", 0.0),
    ("lam_max-neg", "lam_max", -1.0), ("lam_max-nan", "lam_max", NAN), ("rel_tol-neg", "rel_tol", -1.0),
    ("rel_tol-nan", "rel_tol", NAN), ("max_iterations-zero", "max_iterations", 0),
    ("max_iterations-float", "max_iterations", 2.5), ("max_iterations-bool", "max_iterations", True)])
BAD += [Bad("constrained_policy-model-mdp", lambda: constraints.constrained_policy(mdp(), 0.5), "model")]
BAD += kw("constrained_lp", lambda **k: constraints.constrained_lp(**({"model": chronic(), "budget": 0.5} | k)), [
    ("model-str", "model", "abc"), ("budget-nan", "budget", NAN), ("budget-str", "budget", "x"),
    ("budget-none", "budget", None), ("budget-inf", "budget", INF)])
BAD += [Bad("constrained_lp-model-mdp", lambda: constraints.constrained_lp(mdp(), 0.5), "model")]
BAD += bads("ConstrainedResult.sample_policy", lambda r: constrained_result().sample_policy(r), "rng",
            {"str": "x", "neg": -1, "float": 2.5, "bool": True, "dict": {}})
BAD += kw("pareto_sweep", lambda **k: constraints.pareto_sweep(**({"model": chronic()} | k)), [
    ("model-str", "model", "abc"), ("weights-big", "weights", [1.5]), ("weights-nan", "weights", [NAN]),
    ("weights-2d", "weights", [[0.5]]), ("weights-str", "weights", "abc"), ("weights-empty", "weights", [])])

# ======================================================================== health.logs
N_EP, H = 20, 5
BAD += kw("LoggedData", lambda **k: replace(log(), **k), [
    ("states-shape", "states", np.zeros((N_EP, H - 1), dtype=int)),
    ("states-range", "states", np.full((N_EP, H), 3)), ("states-str", "states", "abc"),
    ("actions-range", "actions", np.full((N_EP, H), 2)), ("actions-frac", "actions", np.full((N_EP, H), 0.5)),
    ("next_states-neg", "next_states", np.full((N_EP, H), -1)), ("rewards-nan", "rewards", np.full((N_EP, H), NAN)),
    ("terminated-shape", "terminated", np.zeros((N_EP, 2), dtype=bool)),
    ("valid-int", "valid", np.full((N_EP, H), 2)), ("behaviour_probs-zero", "behaviour_probs", np.zeros((N_EP, H))),
    ("behaviour_probs-big", "behaviour_probs", np.full((N_EP, H), 1.5)),
    ("behaviour-shape", "behaviour", np.ones((2, 2)) / 2), ("gamma-big", "gamma", 1.5), ("gamma-nan", "gamma", NAN),
    ("horizon-mismatch", "horizon", 7), ("n_states-zero", "n_states", 0), ("n_actions-float", "n_actions", 2.5),
    ("terminal-shape", "terminal", np.zeros(2, dtype=bool))])
BAD += bads("LoggedData.subset", lambda e: log().subset(e), "episodes",
            {"out-of-range": [99], "neg": [-1], "float": 2.5, "none": None, "str": "a", "empty": [], "frac": [0.5]})

BAD += kw("soften_policy", lambda **k: logs.soften_policy(**({"policy": PI, "n_actions": 2, "epsilon": 0.1} | k)), [
    ("policy-frac", "policy", [0.5, 0.0, 0.0]), ("policy-none", "policy", None), ("policy-2d", "policy", [[1]]),
    ("policy-neg", "policy", [-1, 0, 0]), ("n_actions-zero", "n_actions", 0), ("n_actions-float", "n_actions", 2.5),
    ("n_actions-bool", "n_actions", True), ("epsilon-big", "epsilon", 1.5), ("epsilon-nan", "epsilon", NAN),
    ("epsilon-str", "epsilon", "x"), ("epsilon-none", "epsilon", None), ("mask-shape", "mask", np.ones((2, 2)))])

BAD += kw("collect_logs", lambda **k: logs.collect_logs(**({"mdp": mdp(), "behaviour": behaviour(),
                                                            "n_episodes": 5} | k)), [
    ("mdp-str", "mdp", "abc"), ("mdp-none", "mdp", None), ("behaviour-shape", "behaviour", np.ones((2, 2)) / 2),
    ("behaviour-nan", "behaviour", np.full((3, 2), NAN)), ("behaviour-none", "behaviour", None),
    ("n_episodes-zero", "n_episodes", 0), ("n_episodes-float", "n_episodes", 2.5),
    ("n_episodes-bool", "n_episodes", True), ("n_episodes-str", "n_episodes", "3"), ("horizon-zero", "horizon", 0),
    ("horizon-float", "horizon", 2.5), ("horizon-bool", "horizon", True), ("seed-neg", "seed", -1),
    ("seed-float", "seed", 2.5), ("seed-str", "seed", "x")])

BAD += kw("finite_horizon_values", lambda **k: logs.finite_horizon_values(**({"mdp": mdp(), "pi": PI, "horizon": 3}
                                                                             | k)), [
    ("mdp-str", "mdp", "abc"), ("pi-shape", "pi", [0, 1]), ("pi-nan", "pi", np.full((3, 2), NAN)),
    ("horizon-neg", "horizon", -1), ("horizon-float", "horizon", 2.5), ("horizon-bool", "horizon", True),
    ("horizon-str", "horizon", "3")])
BAD += kw("true_value", lambda **k: logs.true_value(**({"mdp": mdp(), "pi": PI} | k)), [
    ("mdp-str", "mdp", "abc"), ("pi-range", "pi", [5, 0, 0]), ("initial-nan", "initial", [NAN] * 3),
    ("initial-unnormalised", "initial", [5 / 16] * 3), ("initial-str", "initial", "abc"),
    ("initial-short", "initial", [0.5, 0.5]), ("horizon-neg", "horizon", -1), ("horizon-float", "horizon", 2.5)])

B_DET, PI_TAB = np.eye(2)[[1, 1, 0]], np.eye(2)[[0, 0, 0]]
BAD += kw("check_support", lambda **k: logs.check_support(**({"behaviour": B_DET, "pi": PI_TAB} | k)), [
    ("behaviour-str", "behaviour", "abc"), ("behaviour-nan", "behaviour", np.full((3, 2), NAN)),
    ("pi-shape", "pi", np.ones((2, 2)) / 2), ("pi-none", "pi", None), ("terminal-shape", "terminal", [True]),
    ("state_names-short", "state_names", ["x"]), ("action_names-short", "action_names", ["y"])])
BAD += [Bad("check_support-1d", lambda: logs.check_support([0.5, 0.5], [0.0, 1.0]), "behaviour")]

# ======================================================================== health.offline
BAD += kw("default_q_min", lambda **k: offline.default_q_min(**({"data": log()} | k)), [
    ("data-none", "data", None), ("data-str", "data", "abc"), ("data-dict", "data", {"a": 1}),
    ("gamma-big", "gamma", 1.5), ("gamma-nan", "gamma", NAN), ("gamma-str", "gamma", "x")])
BAD += kw("fitted_q_iteration", lambda **k: offline.fitted_q_iteration(**({"data": log()} | k)), [
    ("data-str", "data", "abc"), ("mask-shape", "mask", np.ones((2, 2))), ("pessimistic-str", "pessimistic", "yes"),
    ("unseen_q-nan", "unseen_q", NAN), ("unseen_q-str", "unseen_q", "x"), ("penalty-neg", "penalty", -1.0),
    ("penalty-str", "penalty", "x"), ("tol-zero", "tol", 0.0), ("max_iterations-zero", "max_iterations", 0),
    ("max_iterations-bool", "max_iterations", True)])
BAD += kw("behaviour_cloning", lambda **k: offline.behaviour_cloning(**({"data": log()} | k)), [
    ("data-none", "data", None), ("mask-shape", "mask", np.ones((2, 2))),
    ("mask-empty-row", "mask", np.array([[True, True], [False, False], [True, True]])),
    ("smoothing-neg", "smoothing", -1.0), ("smoothing-nan", "smoothing", NAN), ("smoothing-str", "smoothing", "x"),
    ("smoothing-inf", "smoothing", INF)])

# ======================================================================== health.ope
BAD += kw("importance_sampling", lambda **k: ope.importance_sampling(**({"data": log(), "pi": PI,
                                                                         "n_bootstrap": 5} | k)), [
    ("data-str", "data", "abc"), ("pi-shape", "pi", [0, 1]), ("method-bogus", "method", "bogus"),
    ("method-none", "method", None), ("n_bootstrap-neg", "n_bootstrap", -1), ("n_bootstrap-float", "n_bootstrap", 2.5),
    ("n_bootstrap-bool", "n_bootstrap", True), ("confidence-big", "confidence", 1.5),
    ("confidence-zero", "confidence", 0.0), ("confidence-nan", "confidence", NAN), ("seed-neg", "seed", -1),
    ("seed-str", "seed", "x")])
BAD += kw("fitted_q_evaluation", lambda **k: ope.fitted_q_evaluation(**({"data": log(), "pi": PI,
                                                                         "n_bootstrap": 5} | k)), [
    ("data-none", "data", None), ("pi-nan", "pi", np.full((3, 2), NAN)), ("unseen_q-nan", "unseen_q", NAN),
    ("unseen_q-str", "unseen_q", "x"), ("n_bootstrap-neg", "n_bootstrap", -1), ("confidence-one", "confidence", 1.0),
    ("seed-float", "seed", 2.5)])
BAD += kw("doubly_robust", lambda **k: ope.doubly_robust(**({"data": log(), "pi": PI, "n_bootstrap": 5} | k)), [
    ("data-str", "data", "abc"), ("pi-shape", "pi", [0, 1]), ("unseen_q-inf", "unseen_q", INF),
    ("weighted-str", "weighted", "yes"), ("n_bootstrap-float", "n_bootstrap", 2.5),
    ("confidence-neg", "confidence", -0.5), ("seed-str", "seed", "x")])
BAD += kw("evaluate_offline", lambda **k: ope.evaluate_offline(**({"data": log(), "pi": PI, "n_bootstrap": 5} | k)), [
    ("data-none", "data", None), ("pi-shape", "pi", [0, 1]),
    ("methods-bogus", "methods", ("wis", "bogus"), "OPE method"), ("methods-str", "methods", "wis"),
    ("methods-empty", "methods", ()), ("methods-none", "methods", None),
    ("n_bootstrap-neg", "n_bootstrap", -1), ("confidence-big", "confidence", 2.0), ("unseen_q-nan", "unseen_q", NAN),
    ("seed-neg", "seed", -1)])

# ======================================================================== health.ope_study
BAD += kw("ope_convergence", lambda **k: ope_study.ope_convergence(**({"mdp": mdp(), "behaviour": behaviour(),
                                                                       "pi": PI, "sizes": (5, 10), "n_repeats": 2}
                                                                      | k)), [
    ("mdp-str", "mdp", "abc"), ("behaviour-shape", "behaviour", np.ones((2, 2)) / 2), ("pi-shape", "pi", [0, 1]),
    ("sizes-zero", "sizes", [0]), ("sizes-frac", "sizes", [2.5]), ("sizes-str", "sizes", "abc"),
    ("sizes-empty", "sizes", []), ("sizes-2d", "sizes", [[5]]), ("n_repeats-zero", "n_repeats", 0),
    ("n_repeats-float", "n_repeats", 2.5), ("n_repeats-bool", "n_repeats", True),
    ("methods-bogus", "methods", ("wis", "bogus"), "OPE method"), ("methods-str", "methods", "wis"),
    ("seed-neg", "seed", -1), ("seed-str", "seed", "x")])
BAD += kw("find_wis_trap", lambda **k: ope_study.find_wis_trap(**({"mdp": mdp(), "behaviour": behaviour(),
                                                                   "n_episodes": 10, "seeds": [0]} | k)), [
    ("mdp-str", "mdp", "abc"), ("behaviour-shape", "behaviour", np.ones((2, 2)) / 2),
    ("n_episodes-zero", "n_episodes", 0), ("n_episodes-float", "n_episodes", 2.5),
    ("mask-shape", "mask", np.ones((2, 2))), ("pessimistic-str", "pessimistic", "no"), ("seeds-empty", "seeds", []),
    ("seeds-frac", "seeds", [2.5]), ("seeds-str", "seeds", "ab"), ("seeds-neg", "seeds", [-1]),
    ("seeds-none", "seeds", None)])

# ======================================================================== health.safety
BAD += kw("policy_component_values", lambda **k: safety.policy_component_values(**({"model": chronic(),
                                                                                     "pi": np.zeros(16, int)} | k)), [
    ("model-str", "model", "abc"), ("model-none", "model", None), ("pi-shape", "pi", [0, 1]),
    ("pi-nan", "pi", np.full((16, 5), NAN)), ("pi-none", "pi", None)])
BAD += [Bad("policy_component_values-model-mdp", lambda: safety.policy_component_values(mdp(), PI), "model")]
MASK3 = np.ones((3, 2), dtype=bool)
BAD += kw("mask_violations", lambda **k: safety.mask_violations(**({"policy": PI, "mask": MASK3} | k)), [
    ("policy-neg", "policy", [-1, 0, 0]), ("policy-range", "policy", [5, 0, 0]),
    ("policy-frac", "policy", [0.5, 0.0, 0.0]), ("policy-none", "policy", None), ("policy-long", "policy", [0] * 4),
    ("policy-nan", "policy", np.full((3, 2), NAN)), ("mask-str", "mask", "abc"), ("mask-values", "mask", MASK3 * 2),
    ("terminal-shape", "terminal", [True, False])])
BAD += kw("treatment_table", lambda **k: safety.treatment_table(**({"model": mdp(None), "pi": PI} | k)), [
    ("model-str", "model", "abc"), ("model-none", "model", None), ("pi-shape", "pi", [0, 1]),
    ("sort_by-bogus", "sort_by", "bogus"), ("sort_by-none", "sort_by", None), ("V-shape", "V", [0.0, 1.0]),
    ("V-nan", "V", [NAN] * 3), ("V-str", "V", "abc"), ("states-range", "states", [99]), ("states-neg", "states", [-1]),
    ("states-frac", "states", [0.5]), ("states-str", "states", "abc"), ("limit-neg", "limit", -1),
    ("limit-float", "limit", 2.5), ("limit-bool", "limit", True), ("title-int", "title", 5)])
BAD += kw("subgroup_analysis", lambda **k: safety.subgroup_analysis(**({"models": [chronic(), chronic()]} | k)), [
    ("models-empty", "models", []), ("models-str", "models", "abc"), ("models-none", "models", None),
    ("weights-nan", "weights", [NAN, NAN]), ("weights-unnormalised", "weights", [0.3, 0.3]),
    ("weights-short", "weights", [1.0]), ("weights-str", "weights", "abc"), ("weights-neg", "weights", [1.5, -0.5])])
BAD += [Bad("subgroup_analysis-models-mdp", lambda: safety.subgroup_analysis([mdp()]), "models"),
        Bad("subgroup_analysis-models-single", lambda: safety.subgroup_analysis(chronic()), "models")]


@pytest.mark.parametrize("case", cases(BAD))
def test_refused(case: Bad) -> None:
    assert_refused(case)


def test_every_public_object_is_swept() -> None:
    """Every public function and class of the two layers appears in some case label (records excepted)."""
    import inspect
    import pkgutil

    import rlcore.health
    import rlcore.rlhf

    records = {"DPOResult", "ExactOptimum", "FrontierPoint", "Frontier", "EstimatorRow", "GaoFit", "RewardResult",
               "LagrangianSweep", "ConstrainedResult", "ParetoFront", "OfflineResult", "OPEEstimate",
               "NoSupportWarning", "OPEConvergence", "TrapResult", "TreatmentRow", "TreatmentTable", "SubgroupReport"}
    labels = {b.label.split("-")[0].split(".")[0] for b in BAD}
    missing = []
    for pkg in (rlcore.rlhf, rlcore.health):
        for m in pkgutil.iter_modules(pkg.__path__):
            mod = importlib.import_module(f"{pkg.__name__}.{m.name}")
            for name, obj in vars(mod).items():
                if name.startswith("_") or name in records or getattr(obj, "__module__", None) != mod.__name__:
                    continue
                if (inspect.isfunction(obj) or inspect.isclass(obj)) and name not in labels:
                    missing.append(f"{mod.__name__}.{name}")
    assert not missing, f"public objects without a sweep case: {missing}"
    counts = {}
    for b in BAD:
        key = b.label.split("-")[0]
        counts[key] = counts.get(key, 0) + 1
    assert min(counts.values()) >= 5, {k: v for k, v in counts.items() if v < 5}
