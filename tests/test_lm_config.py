"""Trainer configs: every field documented and validated; bad values raise naming the field."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import math

import pytest

from rlcore.lm import RULES, PPOConfig, ReinforceConfig, TrainerConfig

CONFIGS = [TrainerConfig, ReinforceConfig, PPOConfig]


def documented_fields(cls) -> set[str]:
    """Fields followed by a string literal in the class body (the attribute docstring)."""
    names = set()
    for klass in cls.__mro__:
        if not dataclasses.is_dataclass(klass):
            continue
        body = ast.parse(inspect.getsource(klass)).body[0].body
        for node, nxt in zip(body, body[1:]):
            if isinstance(node, ast.AnnAssign) and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant) \
                    and isinstance(nxt.value.value, str) and nxt.value.value.strip():
                names.add(node.target.id)
    return names


@pytest.mark.parametrize("cls", CONFIGS)
def test_every_field_is_documented_and_has_a_rule(cls):
    names = {f.name for f in dataclasses.fields(cls)}
    assert names <= documented_fields(cls)
    assert names <= set(RULES)
    cls()  # the defaults are valid


def test_names_follow_trl_where_trl_has_the_concept():
    ppo = {f.name for f in dataclasses.fields(PPOConfig)}
    assert {"kl_coef", "cliprange", "cliprange_value", "vf_coef", "gamma", "lam", "num_generations",
            "num_ppo_epochs", "num_mini_batches", "kl_estimator"} <= ppo
    shared = {f.name for f in dataclasses.fields(TrainerConfig)}
    assert shared <= ppo and shared <= {f.name for f in dataclasses.fields(ReinforceConfig)}


BAD = [
    ("max_grad_norm", -1.0), ("max_grad_norm", 0.0), ("max_grad_norm", math.nan),
    ("num_mini_batches", 0), ("num_mini_batches", 1.5), ("num_ppo_epochs", 0),
    ("cliprange_value", -1.0), ("cliprange", 0.0), ("target_kl", math.nan), ("target_kl", -0.1),
    ("learning_rate", 0.0), ("learning_rate", math.inf), ("gamma", 1.5), ("lam", -0.1), ("gamma", math.nan),
    ("kl_coef", -0.1), ("vf_coef", -1.0), ("ent_coef", math.nan), ("temperature", 0.0),
    ("top_k", 0), ("top_p", 0.0), ("top_p", 1.5), ("batch_size", 0), ("n_iterations", True),
    ("kl_estimator", "k4"), ("kl_penalty", "both"), ("loss_agg", "sum"), ("norm_adv", 1), ("seed", -1),
    ("time_limit", 0.0), ("num_generations", 0),
]


@pytest.mark.parametrize("field, value", BAD, ids=[f"{f}={v!r}" for f, v in BAD])
def test_bad_values_raise_naming_the_field(field, value):
    with pytest.raises(ValueError, match=rf"PPOConfig\.{field} must be .*got {value!r}"
                       .replace("(", r"\(").replace(")", r"\)")):
        PPOConfig(**{field: value})


@pytest.mark.parametrize("field, value", [("baseline", "median"), ("max_grad_norm", -1.0), ("gamma", -0.5)])
def test_reinforce_config_is_checked_by_the_same_rules(field, value):
    with pytest.raises(ValueError, match=rf"ReinforceConfig\.{field}"):
        ReinforceConfig(**{field: value})


def test_group_size_must_divide_the_batch():
    with pytest.raises(ValueError, match="multiple of num_generations"):
        PPOConfig(batch_size=10, num_generations=4)


def test_configs_are_frozen_so_a_checked_config_stays_checked():
    cfg = PPOConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.max_grad_norm = -1.0
    assert dataclasses.replace(cfg, cliprange=0.1).cliprange == 0.1
    with pytest.raises(ValueError, match="cliprange"):
        dataclasses.replace(cfg, cliprange=-0.1)


def test_a_field_without_a_rule_is_refused():
    @dataclasses.dataclass(frozen=True)
    class Odd(TrainerConfig):
        mystery: float = 1.0

    with pytest.raises(ValueError, match="no validation rule"):
        Odd()
