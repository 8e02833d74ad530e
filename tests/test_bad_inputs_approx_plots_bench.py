"""The bad-input sweep (issue 9) of rlcore.approx, rlcore.plots and rlcore.bench.

Every public function and class of these layers, given at least five bad inputs, must refuse
each at once with a ``ValueError``/``TypeError`` raised by rlcore and naming the argument (see
``tests/bad_inputs.py``). The bench cases must be refused before any benchmark starts: each one
returns in well under a second. Functions without arguments (``baird_features``, ``peak_rss_mb``,
``gold_reward``) have no input to refuse and are not listed.
"""

from __future__ import annotations

import importlib
from functools import cache

import gymnasium as gym
import matplotlib.pyplot as plt  # the backend is Agg (tests/conftest.py)
import numpy as np
import pytest
import torch
from bad_inputs import Bad, assert_refused, cases

from rlcore.approx import common, linear
from rlcore.approx import off_policy_td as optd
from rlcore.approx.a2c_config import A2CConfig, vector_env
from rlcore.approx.baird import Baird, BairdResult, projected_bellman_error, value_error
from rlcore.approx.common import ControlResult
from rlcore.approx.dqn_config import DQNConfig
from rlcore.approx.replay import ReplayBatch, ReplayBuffer
from rlcore.approx.tiles import TileCoder
from rlcore.bench import approx as b_approx
from rlcore.bench import language as b_lang
from rlcore.bench import rlhf as b_rlhf
from rlcore.bench import scale as b_scale
from rlcore.bench import tabular as b_tab
from rlcore.plots import approx as p_approx
from rlcore.plots import approx_triad as p_triad
from rlcore.plots import health as p_health
from rlcore.plots import lm as p_lm
from rlcore.plots import rlhf as p_rlhf
from rlcore.plots import tabular as p_tab

a2c_mod = importlib.import_module("rlcore.approx.a2c")  # rlcore.approx.a2c / .dqn are also the functions' names
dqn_mod = importlib.import_module("rlcore.approx.dqn")
pytestmark = pytest.mark.timeout(30)
NAN, INF = float("nan"), float("inf")


# ------------------------------------------------------------------ valid pieces the bad calls start from
@cache
def cartpole():
    return gym.make("CartPole-v1")


@cache
def frozen():
    return gym.make("FrozenLake-v1")


@cache
def mountain():
    return gym.make("MountainCar-v0")


@cache
def venv():
    return vector_env("CartPole-v1", 2)[0]


def coder(d=2):
    return TileCoder([0.0] * d, [1.0] * d, 4, 2)


def net(*sizes):
    return common.mlp(list(sizes), seed=0, dtype=torch.float32)


def ctrl(**kw):
    base = dict(episode_returns=np.array([1.0, 2.0]), episode_lengths=np.array([3, 4]),
                episode_end_steps=np.array([3, 7]), total_steps=7)
    return ControlResult(**{**base, **kw})


def rollout(**kw):
    T, N, d = 2, 2, 4
    base = dict(obs=torch.zeros(T, N, d), actions=torch.zeros(T, N, dtype=torch.long), rewards=torch.zeros(T, N),
                terminated=torch.zeros(T, N, dtype=torch.bool), truncated=torch.zeros(T, N, dtype=torch.bool),
                final_obs=torch.zeros(T, N, d), last_obs=torch.zeros(N, d))
    return a2c_mod.Rollout(**{**base, **kw})


def rbatch(**kw):
    base = dict(obs=np.zeros((2, 4), np.float32), actions=np.array([0, 1]), rewards=np.zeros(2, np.float32),
                next_obs=np.zeros((2, 4), np.float32), terminated=np.array([False, True]))
    return ReplayBatch(**{**base, **kw})


def buffer(n=2):
    b = ReplayBuffer(5, 4)
    for _ in range(n):
        b.add(np.zeros(4), 0, 0.0, np.zeros(4), False)
    return b


@cache
def baird_run():
    return optd.tdc(n_steps=3)


def bres(**kw):
    r = baird_run()
    base = dict(method="TDC", w=r.w, problem=r.problem, alpha=0.005, beta=0.05, v=r.v, states=r.states,
                actions=r.actions)
    return BairdResult(**{**base, **kw})


def pred(**kw):
    base = dict(w=np.zeros(3), episode_returns=np.zeros(2), episode_lengths=np.array([1, 2]), features=np.eye(3))
    return linear.PredictionResult(**{**base, **kw})


def tiled(**kw):
    c = coder()
    return linear.TiledQ(**{**dict(coder=c, w=np.zeros((3, c.n_features))), **kw})


def gridworld():
    from rlcore.envs.gridworld import GridWorld
    return GridWorld(["...", "..G"])


def subgroups(**kw):
    from rlcore.health.safety import SubgroupReport
    base = dict(subgroups=("a", "b"), weights=np.array([0.5, 0.5]), optimal_value=np.array([1.0, 2.0]),
                pooled_value=np.array([0.5, 1.0]), regret=np.array([0.5, 1.0]), relative_regret=np.array([0.5, 0.5]),
                agreement=np.array([1.0, 1.0]), optimal_policies=np.zeros((2, 3), int), pooled_policy=np.zeros(3, int))
    return SubgroupReport(**{**base, **kw})


def lsweep(**kw):
    from rlcore.health.constraints import LagrangianSweep
    base = dict(lambdas=np.array([0.0, 1.0]), values=np.array([2.0, 1.0]), costs=np.array([1.0, 0.5]),
                policies=np.zeros((2, 3), int))
    return LagrangianSweep(**{**base, **kw})


def pfront(**kw):
    from rlcore.health.constraints import ParetoFront
    base = dict(weights=np.array([0.0, 1.0]), outcome=np.array([2.0, 1.0]), burden=np.array([1.0, 0.5]),
                policies=np.zeros((2, 3), int), pareto=np.array([True, True]))
    return ParetoFront(**{**base, **kw})


def oconv(**kw):
    from rlcore.health.ope_study import OPEConvergence
    base = dict(methods=("IS", "WIS"), sizes=np.array([10, 20]), estimates=np.ones((2, 2, 3)), true_value=1.0)
    return OPEConvergence(**{**base, **kw})


def oest(**kw):
    from rlcore.health.ope import OPEEstimate
    return OPEEstimate(**{**dict(method="IS", value=1.0, ess=5.0, ci_low=0.5, ci_high=1.5, n_episodes=10), **kw})


def trap(**kw):
    from rlcore.health.ope_study import TrapResult
    base = dict(found=True, seed=0, wis_learned=1.0, wis_clinician=0.5, true_learned=0.2, true_clinician=0.5,
                ess_learned=2.0, n_tried=3, n_trap=1, n_episodes=50, learned_policy=np.zeros(3, int))
    return TrapResult(**{**base, **kw})


@cache
def chronic():
    from rlcore.envs.chronic import chronic_disease_model
    return chronic_disease_model()


def sweep_dict(**kw):
    base = dict(temperatures=np.array([0.5, 1.0]), top_ps=np.array([1.0]), reward=np.zeros((2, 1)),
                distinct=np.zeros((2, 1)), entropy_bits=np.zeros((2, 1)))
    return {**base, **kw}


def frontier(points=None):
    from rlcore.rlhf.frontier import Frontier, FrontierPoint
    return Frontier((FrontierPoint("DPO", 0.1, 0.5, 1.0),) if points is None else points)


def bench_row(**kw):
    base = dict(name="x", ours_s=1.0, other_s=2.0, ratio=2.0, target="> 1x", ok=True, detail="")
    return b_tab.BenchResult(**{**base, **kw})


@cache
def charlm(chars=None):
    from rlcore.lm import CharLM
    return CharLM(seed=0) if chars is None else CharLM(chars, embed_dim=4, hidden_dim=4, seed=0)


@cache
def prefs():
    from rlcore.envs.vocabulary import Vocabulary
    from rlcore.rlhf.preferences import PreferenceData
    return PreferenceData(("a", "b"), ("ab", "ba"), ("b", "a"), Vocabulary("ab"), 5)


@cache
def gpt2():
    from rlcore.bench.trl_peer import tiny_gpt2
    return tiny_gpt2("ab", n_embd=8)


@cache
def tok():
    from rlcore.bench.trl_peer import char_tokenizer
    return char_tokenizer("ab")


def trl():
    from rlcore.bench import trl_peer
    return trl_peer


def job(**kw):
    return {**dict(samples_per_second=10.0, seconds=1.0, peak_rss_mb_max=100.0, batch_size=4, iterations=2,
                   parameters=1000), **kw}


def ax2d():
    return plt.subplots()[1]


BAD = [
    # ============================================================ rlcore.approx.a2c / a2c_config
    # Rollout: torch tensors, time first, shapes that agree
    Bad("Rollout-obs-numpy", lambda: rollout(obs=np.zeros((2, 2, 4))), "obs"),
    Bad("Rollout-obs-2d", lambda: rollout(obs=torch.zeros(2, 4)), "obs"),
    Bad("Rollout-actions-shape", lambda: rollout(actions=torch.zeros(3, 2, dtype=torch.long)), "actions"),
    Bad("Rollout-actions-float", lambda: rollout(actions=torch.zeros(2, 2)), "actions"),
    Bad("Rollout-rewards-nan", lambda: rollout(rewards=torch.full((2, 2), NAN)), "rewards"),
    Bad("Rollout-terminated-float", lambda: rollout(terminated=torch.zeros(2, 2)), "terminated"),
    Bad("Rollout-last_obs-shape", lambda: rollout(last_obs=torch.zeros(2, 3)), "last_obs"),
    Bad("Rollout-final_obs-shape", lambda: rollout(final_obs=torch.zeros(2, 2, 3)), "final_obs"),
    # collect_rollout: a vector env, an actor, matching observations, a count, a generator
    Bad("collect-envs-single", lambda: a2c_mod.collect_rollout(cartpole(), net(4, 2), np.zeros((2, 4)), 2,
                                                               torch.Generator()), "envs"),
    Bad("collect-actor-str", lambda: a2c_mod.collect_rollout(venv(), "actor", np.zeros((2, 4)), 2,
                                                             torch.Generator()), "actor"),
    Bad("collect-obs-shape", lambda: a2c_mod.collect_rollout(venv(), net(4, 2), np.zeros((3, 4)), 2,
                                                             torch.Generator()), "obs"),
    Bad("collect-n_steps-0", lambda: a2c_mod.collect_rollout(venv(), net(4, 2), np.zeros((2, 4)), 0,
                                                             torch.Generator()), "n_steps"),
    Bad("collect-n_steps-float", lambda: a2c_mod.collect_rollout(venv(), net(4, 2), np.zeros((2, 4)), 2.5,
                                                                 torch.Generator()), "n_steps"),
    Bad("collect-generator-none", lambda: a2c_mod.collect_rollout(venv(), net(4, 2), np.zeros((2, 4)), 2, None),
        "generator"),
    Bad("collect-actor-width", lambda: a2c_mod.collect_rollout(venv(), net(3, 2), np.zeros((2, 4)), 2,
                                                               torch.Generator()), "actor"),
    # a2c_loss: networks, a Rollout, an A2CConfig
    Bad("a2c_loss-actor-none", lambda: a2c_mod.a2c_loss(None, net(4, 1), rollout(), A2CConfig()), "actor"),
    Bad("a2c_loss-critic-str", lambda: a2c_mod.a2c_loss(net(4, 2), "critic", rollout(), A2CConfig()), "critic"),
    Bad("a2c_loss-batch-dict", lambda: a2c_mod.a2c_loss(net(4, 2), net(4, 1), {}, A2CConfig()), "batch"),
    Bad("a2c_loss-config-none", lambda: a2c_mod.a2c_loss(net(4, 2), net(4, 1), rollout(), None), "config"),
    Bad("a2c_loss-config-dqn", lambda: a2c_mod.a2c_loss(net(4, 2), net(4, 1), rollout(), DQNConfig()), "config"),
    Bad("a2c_loss-actor-width", lambda: a2c_mod.a2c_loss(net(3, 2), net(4, 1), rollout(), A2CConfig()), "actor"),
    Bad("a2c_loss-critic-2-outputs", lambda: a2c_mod.a2c_loss(net(4, 2), net(4, 2), rollout(), A2CConfig()),
        "critic"),
    # a2c: env, config, seed, device, progress (all refused before training)
    Bad("a2c-env-unknown-id", lambda: a2c_mod.a2c("NoSuchEnv-v0"), "env"),
    Bad("a2c-env-int", lambda: a2c_mod.a2c(5), "env"),
    Bad("a2c-env-discrete-obs", lambda: a2c_mod.a2c("FrozenLake-v1"), "env"),
    Bad("a2c-config-dict", lambda: a2c_mod.a2c("CartPole-v1", {}), "config"),
    Bad("a2c-seed-negative", lambda: a2c_mod.a2c("CartPole-v1", seed=-1), "seed"),
    Bad("a2c-seed-float", lambda: a2c_mod.a2c("CartPole-v1", seed=2.5), "seed"),
    Bad("a2c-device-bogus", lambda: a2c_mod.a2c("CartPole-v1", device="gpu9"), "device"),
    Bad("a2c-progress-str", lambda: a2c_mod.a2c("CartPole-v1", progress="yes"), "progress"),
    # A2CConfig: every field
    Bad("A2CConfig-n_envs-0", lambda: A2CConfig(n_envs=0), "n_envs"),
    Bad("A2CConfig-n_steps-float", lambda: A2CConfig(n_steps=2.5), "n_steps"),
    Bad("A2CConfig-gamma-1.5", lambda: A2CConfig(gamma=1.5), "gamma"),
    Bad("A2CConfig-gae_lambda-nan", lambda: A2CConfig(gae_lambda=NAN), "gae_lambda"),
    Bad("A2CConfig-learning_rate-0", lambda: A2CConfig(learning_rate=0.0), "learning_rate"),
    Bad("A2CConfig-ent_coef-negative", lambda: A2CConfig(ent_coef=-1.0), "ent_coef"),
    Bad("A2CConfig-max_grad_norm-0", lambda: A2CConfig(max_grad_norm=0.0), "max_grad_norm"),
    Bad("A2CConfig-hidden_sizes-str", lambda: A2CConfig(hidden_sizes="64"), "hidden_sizes"),
    Bad("A2CConfig-activation-bogus", lambda: A2CConfig(activation="bogus"), "activation"),
    Bad("A2CConfig-normalize_advantage-str", lambda: A2CConfig(normalize_advantage="yes"), "normalize_advantage"),
    Bad("A2CConfig-stop_window-bool", lambda: A2CConfig(stop_window=True), "stop_window"),
    Bad("A2CConfig-total_timesteps-none", lambda: A2CConfig(total_timesteps=None), "total_timesteps"),
    # vector_env: an env-like thing and a positive count that agree
    Bad("vector_env-env-none", lambda: vector_env(None, 2), "env"),
    Bad("vector_env-env-unknown-id", lambda: vector_env("NoSuchEnv-v0", 2), "env"),
    Bad("vector_env-n_envs-0", lambda: vector_env("CartPole-v1", 0), "n_envs"),
    Bad("vector_env-n_envs-float", lambda: vector_env("CartPole-v1", 2.5), "n_envs"),
    Bad("vector_env-n_envs-bool", lambda: vector_env("CartPole-v1", True), "n_envs"),
    Bad("vector_env-n_envs-mismatch", lambda: vector_env(venv(), 3), "n_envs"),
    Bad("vector_env-factory-returns-str", lambda: vector_env(lambda: "CartPole-v1", 2), "env"),

    # ============================================================ rlcore.approx.baird
    # Baird: gamma in [0, 1), b_solid in (0, 1), pi_solid in [0, 1], X [7, d], w0 [d]
    Bad("Baird-gamma-1", lambda: Baird(gamma=1.0), "gamma"),
    Bad("Baird-gamma-str", lambda: Baird(gamma="x"), "gamma"),
    Bad("Baird-b_solid-0", lambda: Baird(b_solid=0.0), "b_solid"),
    Bad("Baird-b_solid-1.5", lambda: Baird(b_solid=1.5), "b_solid"),
    Bad("Baird-pi_solid-nan", lambda: Baird(pi_solid=NAN), "pi_solid"),
    Bad("Baird-X-6-rows", lambda: Baird(X=np.zeros((6, 8))), "X"),
    Bad("Baird-X-str", lambda: Baird(X="abc"), "X"),
    Bad("Baird-w0-shape", lambda: Baird(w0=np.zeros(3)), "w0"),
    Bad("Baird-w0-nan", lambda: Baird(w0=np.full(8, NAN)), "w0"),
    # Baird.next_state_probs: a probability
    Bad("next_state_probs-1.5", lambda: Baird().next_state_probs(1.5), "p_solid"),
    Bad("next_state_probs-negative", lambda: Baird().next_state_probs(-0.1), "p_solid"),
    Bad("next_state_probs-nan", lambda: Baird().next_state_probs(NAN), "p_solid"),
    Bad("next_state_probs-str", lambda: Baird().next_state_probs("x"), "p_solid"),
    Bad("next_state_probs-none", lambda: Baird().next_state_probs(None), "p_solid"),
    # Baird.sample: a positive count and a Generator
    Bad("sample-n_steps-0", lambda: Baird().sample(0, np.random.default_rng(0)), "n_steps"),
    Bad("sample-n_steps-float", lambda: Baird().sample(2.5, np.random.default_rng(0)), "n_steps"),
    Bad("sample-n_steps-bool", lambda: Baird().sample(True, np.random.default_rng(0)), "n_steps"),
    Bad("sample-rng-none", lambda: Baird().sample(5, None), "rng"),
    Bad("sample-rng-int", lambda: Baird().sample(5, 0), "rng"),
    Bad("sample-rng-legacy", lambda: Baird().sample(5, np.random.RandomState(0)), "rng"),
    # BairdResult: a weight history that fits its problem
    Bad("BairdResult-method-none", lambda: bres(method=None), "method"),
    Bad("BairdResult-w-1d", lambda: bres(w=np.zeros(8)), "w"),
    Bad("BairdResult-w-width", lambda: bres(w=np.zeros((4, 3))), "w"),
    Bad("BairdResult-problem-str", lambda: bres(problem="baird"), "problem"),
    Bad("BairdResult-alpha-nan", lambda: bres(alpha=NAN), "alpha"),
    Bad("BairdResult-v-shape", lambda: bres(v=np.zeros((2, 8))), "v"),
    Bad("BairdResult-states-length", lambda: bres(states=np.zeros(9, int)), "states"),
    Bad("BairdResult-actions-length", lambda: bres(actions=np.zeros(9, int)), "actions"),
    # value_error / projected_bellman_error: weights [..., d] and a Baird
    *[Bad(f"{fn.__name__}-{lab}", (lambda fn=fn, a=a, k=k: fn(*a, **k)), arg) for fn in
      (value_error, projected_bellman_error) for lab, a, k, arg in (
          ("w-str", ("abc",), {}, "w"), ("w-width", (np.zeros(3),), {}, "w"), ("w-scalar", (1.0,), {}, "w"),
          ("w-empty", ([],), {}, "w"), ("w-dict", ({},), {}, "w"), ("problem-str", (np.zeros(8), "x"), {}, "problem"))],

    # ============================================================ rlcore.approx.off_policy_td
    *[Bad(f"{fn.__name__}-{lab}", (lambda fn=fn, k=k: fn(**k)), arg)
      for fn in (optd.off_policy_semi_gradient_td, optd.on_policy_semi_gradient_td) for lab, k, arg in (
          ("n_steps-0", dict(n_steps=0), "n_steps"), ("n_steps-float", dict(n_steps=2.5), "n_steps"),
          ("alpha-0", dict(alpha=0.0), "alpha"), ("alpha-nan", dict(alpha=NAN), "alpha"),
          ("seed-negative", dict(seed=-1), "seed"), ("seed-float", dict(seed=2.5), "seed"),
          ("problem-str", dict(problem="baird"), "problem"), ("progress-str", dict(progress="yes"), "progress"))],
    Bad("semi_gradient_dp-n_sweeps-0", lambda: optd.semi_gradient_dp(0), "n_sweeps"),
    Bad("semi_gradient_dp-alpha-negative", lambda: optd.semi_gradient_dp(10, -1.0), "alpha"),
    Bad("semi_gradient_dp-mu-short", lambda: optd.semi_gradient_dp(10, mu=[1 / 6] * 6), "mu"),
    Bad("semi_gradient_dp-mu-nan", lambda: optd.semi_gradient_dp(10, mu=[NAN] * 7), "mu"),
    Bad("semi_gradient_dp-mu-sum-2", lambda: optd.semi_gradient_dp(10, mu=[2 / 7] * 7), "mu"),
    Bad("semi_gradient_dp-problem-class", lambda: optd.semi_gradient_dp(10, problem=Baird), "problem"),
    Bad("tdc-beta-0", lambda: optd.tdc(beta=0.0), "beta"),
    Bad("tdc-beta-inf", lambda: optd.tdc(beta=INF), "beta"),
    Bad("tdc-alpha-str", lambda: optd.tdc(alpha="x"), "alpha"),
    Bad("tdc-n_steps-bool", lambda: optd.tdc(n_steps=True), "n_steps"),
    Bad("tdc-seed-str", lambda: optd.tdc(seed="0"), "seed"),
    Bad("tdc-problem-dict", lambda: optd.tdc(problem={}), "problem"),
    Bad("tdc-progress-int", lambda: optd.tdc(progress=1), "progress"),
    Bad("expected_tdc-n_sweeps-float", lambda: optd.expected_tdc(2.5), "n_sweeps"),
    Bad("expected_tdc-alpha-inf", lambda: optd.expected_tdc(10, INF), "alpha"),
    Bad("expected_tdc-beta-negative", lambda: optd.expected_tdc(10, beta=-0.1), "beta"),
    Bad("expected_tdc-mu-negative", lambda: optd.expected_tdc(10, mu=[-1.0, 2, 0, 0, 0, 0, 0]), "mu"),
    Bad("expected_tdc-mu-str", lambda: optd.expected_tdc(10, mu="uniform"), "mu"),
    Bad("expected_tdc-problem-int", lambda: optd.expected_tdc(10, problem=3), "problem"),

    # ============================================================ rlcore.approx.common
    # mlp: widths, a known activation, a seed, a device and a float dtype
    Bad("mlp-sizes-one", lambda: common.mlp([4]), "sizes"),
    Bad("mlp-sizes-zero", lambda: common.mlp([4, 0]), "sizes"),
    Bad("mlp-sizes-float", lambda: common.mlp([4, 2.5]), "sizes"),
    Bad("mlp-sizes-none", lambda: common.mlp(None), "sizes"),
    Bad("mlp-activation-bogus", lambda: common.mlp([4, 2], "bogus"), "activation"),
    Bad("mlp-seed-negative", lambda: common.mlp([4, 2], seed=-1), "seed"),
    Bad("mlp-seed-float", lambda: common.mlp([4, 2], seed=2.5), "seed"),
    Bad("mlp-device-bogus", lambda: common.mlp([4, 2], device="gpu9"), "device"),
    Bad("mlp-dtype-str", lambda: common.mlp([4, 2], dtype="float"), "dtype"),
    Bad("mlp-dtype-int", lambda: common.mlp([4, 2], dtype=torch.int64), "dtype"),
    # check_network: hidden widths and an activation
    Bad("check_network-none", lambda: common.check_network(None, "tanh", "cfg"), "hidden_sizes"),
    Bad("check_network-str", lambda: common.check_network("64", "tanh", "cfg"), "hidden_sizes"),
    Bad("check_network-zero", lambda: common.check_network((0,), "tanh", "cfg"), "hidden_sizes"),
    Bad("check_network-float", lambda: common.check_network((2.5,), "tanh", "cfg"), "hidden_sizes"),
    Bad("check_network-bool", lambda: common.check_network((True,), "tanh", "cfg"), "hidden_sizes"),
    Bad("check_network-activation", lambda: common.check_network((8,), "bogus", "cfg"), "activation"),
    # check_control_spaces: Discrete actions, Box observations
    Bad("spaces-action-box", lambda: common.check_control_spaces(cartpole().observation_space,
                                                                 cartpole().observation_space), "action_space"),
    Bad("spaces-obs-discrete", lambda: common.check_control_spaces(cartpole().action_space,
                                                                   cartpole().action_space), "observation_space"),
    Bad("spaces-action-none", lambda: common.check_control_spaces(None, cartpole().observation_space),
        "action_space"),
    Bad("spaces-obs-str", lambda: common.check_control_spaces(cartpole().action_space, "Box(4)"),
        "observation_space"),
    Bad("spaces-obs-none", lambda: common.check_control_spaces(cartpole().action_space, None), "observation_space"),
    # check_device (core's, as the approx learners call it: None refused): a device torch knows
    *[Bad(f"check_device-{lab}", (lambda d=d: common.check_device(d, none=False)), "device") for lab, d in (
        ("bogus", "gpu9"), ("none", None), ("float", 2.5), ("dict", {}), ("empty", ""), ("negative", -1))],
    # make_env: an id or a gym.Env with the right spaces
    Bad("make_env-none", lambda: common.make_env(None), "env"),
    Bad("make_env-int", lambda: common.make_env(5), "env"),
    Bad("make_env-unknown-id", lambda: common.make_env("NoSuchEnv-v0"), "env"),
    Bad("make_env-discrete-obs-env", lambda: common.make_env(frozen()), "env"),
    Bad("make_env-discrete-obs-id", lambda: common.make_env("FrozenLake-v1"), "env"),
    Bad("make_env-dict", lambda: common.make_env({"id": "CartPole-v1"}), "env"),
    # greedy_returns: an env, a network that fits it, counts, a device
    Bad("greedy_returns-net-none", lambda: common.greedy_returns("CartPole-v1", None), "q_network"),
    Bad("greedy_returns-n_episodes-0", lambda: common.greedy_returns("CartPole-v1", net(4, 2), 0), "n_episodes"),
    Bad("greedy_returns-seed-negative", lambda: common.greedy_returns("CartPole-v1", net(4, 2), seed=-1), "seed"),
    Bad("greedy_returns-env-none", lambda: common.greedy_returns(None, net(4, 2)), "env"),
    Bad("greedy_returns-device-bogus", lambda: common.greedy_returns("CartPole-v1", net(4, 2), device="gpu9"),
        "device"),
    Bad("greedy_returns-net-input-width", lambda: common.greedy_returns("CartPole-v1", net(3, 2)), "q_network"),
    Bad("greedy_returns-net-3-actions", lambda: common.greedy_returns("CartPole-v1", net(4, 3)), "q_network"),
    # moving_average: a finite 1-d series and a positive window
    Bad("moving_average-window-0", lambda: common.moving_average([1.0, 2.0], 0), "window"),
    Bad("moving_average-window-float", lambda: common.moving_average([1.0, 2.0], 2.5), "window"),
    Bad("moving_average-x-2d", lambda: common.moving_average(np.zeros((2, 2)), 2), "x"),
    Bad("moving_average-x-str", lambda: common.moving_average("abc", 2), "x"),
    Bad("moving_average-x-nan", lambda: common.moving_average([1.0, NAN], 2), "x"),
    Bad("moving_average-x-none", lambda: common.moving_average(None, 2), "x"),
    # ControlResult: 1-d logs of one length; solved_at / seconds_to: a threshold and a window
    Bad("ControlResult-returns-2d", lambda: ctrl(episode_returns=np.zeros((2, 2))), "episode_returns"),
    Bad("ControlResult-lengths-mismatch", lambda: ctrl(episode_lengths=np.array([3])), "episode_lengths"),
    Bad("ControlResult-end_steps-nan", lambda: ctrl(episode_end_steps=np.array([3, NAN])), "episode_end_steps"),
    Bad("ControlResult-total_steps-negative", lambda: ctrl(total_steps=-1), "total_steps"),
    Bad("ControlResult-total_steps-float", lambda: ctrl(total_steps=2.5), "total_steps"),
    Bad("ControlResult-info-list", lambda: ctrl(info=[1, 2]), "info"),
    Bad("ControlResult-end_times-length", lambda: ctrl(episode_end_times=np.zeros(3)), "episode_end_times"),
    *[Bad(f"ControlResult.{m}-{lab}", (lambda m=m, a=a: getattr(ctrl(), m)(*a)), arg)
      for m in ("solved_at", "seconds_to") for lab, a, arg in (
          ("threshold-nan", (NAN,), "threshold"), ("threshold-str", ("475",), "threshold"),
          ("threshold-none", (None,), "threshold"), ("window-0", (1.0, 0), "window"),
          ("window-float", (1.0, 2.5), "window"), ("window-bool", (1.0, True), "window"))],

    # ============================================================ rlcore.approx.dqn / dqn_config
    # epsilon_schedule: a DQNConfig
    *[Bad(f"epsilon_schedule-{lab}", (lambda c=c: dqn_mod.epsilon_schedule(c)), "config") for lab, c in (
        ("none", None), ("dict", {}), ("a2c-config", A2CConfig()), ("float", 0.5), ("str", "dqn"))],
    # dqn_loss: two networks, a ReplayBatch that fits them, gamma, a device
    Bad("dqn_loss-gamma-1.5", lambda: dqn_mod.dqn_loss(net(4, 2), net(4, 2), rbatch(), 1.5), "gamma"),
    Bad("dqn_loss-gamma-nan", lambda: dqn_mod.dqn_loss(net(4, 2), net(4, 2), rbatch(), NAN), "gamma"),
    Bad("dqn_loss-batch-dict", lambda: dqn_mod.dqn_loss(net(4, 2), net(4, 2), {}, 0.9), "batch"),
    Bad("dqn_loss-q-none", lambda: dqn_mod.dqn_loss(None, net(4, 2), rbatch(), 0.9), "q_network"),
    Bad("dqn_loss-target-str", lambda: dqn_mod.dqn_loss(net(4, 2), "t", rbatch(), 0.9), "target_network"),
    Bad("dqn_loss-device-bogus", lambda: dqn_mod.dqn_loss(net(4, 2), net(4, 2), rbatch(), 0.9, "gpu9"), "device"),
    Bad("dqn_loss-q-input-width", lambda: dqn_mod.dqn_loss(net(3, 2), net(3, 2), rbatch(), 0.9), "q_network"),
    Bad("dqn_loss-action-out-of-range", lambda: dqn_mod.dqn_loss(net(4, 2), net(4, 2),
                                                                 rbatch(actions=np.array([0, 5])), 0.9), "batch"),
    # dqn: refused before training
    Bad("dqn-env-none", lambda: dqn_mod.dqn(None), "env"),
    Bad("dqn-env-unknown-id", lambda: dqn_mod.dqn("NoSuchEnv-v0"), "env"),
    Bad("dqn-config-a2c", lambda: dqn_mod.dqn("CartPole-v1", A2CConfig()), "config"),
    Bad("dqn-seed-negative", lambda: dqn_mod.dqn("CartPole-v1", seed=-1), "seed"),
    Bad("dqn-device-bogus", lambda: dqn_mod.dqn("CartPole-v1", device="gpu9"), "device"),
    Bad("dqn-progress-int", lambda: dqn_mod.dqn("CartPole-v1", progress=1), "progress"),
    # DQNConfig: every field
    Bad("DQNConfig-buffer_size-0", lambda: DQNConfig(buffer_size=0), "buffer_size"),
    Bad("DQNConfig-learning_starts-negative", lambda: DQNConfig(learning_starts=-1), "learning_starts"),
    Bad("DQNConfig-batch_size-float", lambda: DQNConfig(batch_size=2.5), "batch_size"),
    Bad("DQNConfig-gamma-1.5", lambda: DQNConfig(gamma=1.5), "gamma"),
    Bad("DQNConfig-exploration_fraction-nan", lambda: DQNConfig(exploration_fraction=NAN), "exploration_fraction"),
    Bad("DQNConfig-final_eps-2", lambda: DQNConfig(exploration_final_eps=2.0), "exploration_final_eps"),
    Bad("DQNConfig-learning_rate-0", lambda: DQNConfig(learning_rate=0.0), "learning_rate"),
    Bad("DQNConfig-max_grad_norm-negative", lambda: DQNConfig(max_grad_norm=-1.0), "max_grad_norm"),
    Bad("DQNConfig-activation-bogus", lambda: DQNConfig(activation="bogus"), "activation"),
    Bad("DQNConfig-target_network-str", lambda: DQNConfig(target_network="yes"), "target_network"),
    Bad("DQNConfig-batch-exceeds-buffer", lambda: DQNConfig(batch_size=64, buffer_size=10), "batch_size"),
    Bad("DQNConfig-stop_return-nan", lambda: DQNConfig(stop_return=NAN), "stop_return"),

    # ============================================================ rlcore.approx.linear
    # PredictionResult: weights, logs of one length; value(): valid state indices
    Bad("PredictionResult-w-2d", lambda: pred(w=np.zeros((3, 1))), "w"),
    Bad("PredictionResult-w-nan", lambda: pred(w=np.full(3, NAN)), "w"),
    Bad("PredictionResult-lengths-mismatch", lambda: pred(episode_lengths=np.array([1])), "episode_lengths"),
    Bad("PredictionResult-returns-str", lambda: pred(episode_returns="abc"), "episode_returns"),
    Bad("PredictionResult-w_history-shape", lambda: pred(w_history=np.zeros((2, 5))), "w_history"),
    Bad("PredictionResult.value-negative-index", lambda: pred().value(-1), "states"),
    Bad("PredictionResult.value-index-too-big", lambda: pred().value(3), "states"),
    Bad("PredictionResult.value-float-index", lambda: pred().value(1.5), "states"),
    Bad("PredictionResult.value-str", lambda: pred().value("a"), "states"),
    Bad("PredictionResult.value-no-features", lambda: pred(features=None).value(0), "features"),
    Bad("PredictionResult.value-tiles-shape", lambda: pred(w=np.zeros(coder().n_features),
                                                           features=coder()).value([0.5]), "states"),
    # TiledQ: a coder and weights [A, n_features]; its methods take states [.., d]
    Bad("TiledQ-coder-str", lambda: tiled(coder="x"), "coder"),
    Bad("TiledQ-w-1d", lambda: tiled(w=np.zeros(5)), "w"),
    Bad("TiledQ-w-width", lambda: tiled(w=np.zeros((3, 5))), "w"),
    Bad("TiledQ-w-nan", lambda: tiled(w=np.full((3, coder().n_features), NAN)), "w"),
    Bad("TiledQ-w-empty", lambda: tiled(w=np.zeros((0, coder().n_features))), "w"),
    *[Bad(f"TiledQ.{m}-{lab}", (lambda m=m, s=s: getattr(tiled(), m)(s)), "states")
      for m in ("__call__", "cost_to_go", "greedy") for lab, s in (
          ("shape", [0.5]), ("nan", [NAN, 0.5]), ("str", "ab"), ("none", None), ("dict", {}))],
    # semi_gradient_td0: an env, a policy and features that fit it, counts, step sizes, flags
    Bad("td0-env-str", lambda: linear.semi_gradient_td0("FrozenLake-v1", np.zeros(16, int), np.eye(16)), "env"),
    Bad("td0-n_episodes-0", lambda: linear.semi_gradient_td0(frozen(), np.zeros(16, int), np.eye(16), 0),
        "n_episodes"),
    Bad("td0-alpha-0", lambda: linear.semi_gradient_td0(frozen(), np.zeros(16, int), np.eye(16), alpha=0.0),
        "alpha"),
    Bad("td0-alpha-nan", lambda: linear.semi_gradient_td0(frozen(), np.zeros(16, int), np.eye(16), alpha=NAN),
        "alpha"),
    Bad("td0-gamma-1.5", lambda: linear.semi_gradient_td0(frozen(), np.zeros(16, int), np.eye(16), gamma=1.5),
        "gamma"),
    Bad("td0-seed-negative", lambda: linear.semi_gradient_td0(frozen(), np.zeros(16, int), np.eye(16), seed=-1),
        "seed"),
    Bad("td0-max_steps-float", lambda: linear.semi_gradient_td0(frozen(), np.zeros(16, int), np.eye(16),
                                                                max_steps=2.5), "max_steps"),
    Bad("td0-policy-action-7", lambda: linear.semi_gradient_td0(frozen(), np.full(16, 7), np.eye(16)), "policy"),
    Bad("td0-policy-probs", lambda: linear.semi_gradient_td0(frozen(), np.full((16, 4), 0.5), np.eye(16)),
        "policy"),
    Bad("td0-features-rows", lambda: linear.semi_gradient_td0(frozen(), np.zeros(16, int), np.eye(15)),
        "features"),
    Bad("td0-w0-shape", lambda: linear.semi_gradient_td0(frozen(), np.zeros(16, int), np.eye(16), w0=np.zeros(3)),
        "w0"),
    Bad("td0-record_weights-str", lambda: linear.semi_gradient_td0(frozen(), np.zeros(16, int), np.eye(16),
                                                                   record_weights="yes"), "record_weights"),
    Bad("td0-progress-int", lambda: linear.semi_gradient_td0(frozen(), np.zeros(16, int), np.eye(16), progress=1),
        "progress"),
    # semi_gradient_sarsa: an env, a TileCoder over its observations, counts, step sizes
    Bad("sarsa-coder-str", lambda: linear.semi_gradient_sarsa(mountain(), "coder"), "coder"),
    Bad("sarsa-coder-3d", lambda: linear.semi_gradient_sarsa(mountain(), coder(3)), "coder"),
    Bad("sarsa-epsilon-1.5", lambda: linear.semi_gradient_sarsa(mountain(), coder(), epsilon=1.5), "epsilon"),
    Bad("sarsa-alpha-negative", lambda: linear.semi_gradient_sarsa(mountain(), coder(), alpha=-1.0), "alpha"),
    Bad("sarsa-n_episodes-float", lambda: linear.semi_gradient_sarsa(mountain(), coder(), 2.5), "n_episodes"),
    Bad("sarsa-gamma-nan", lambda: linear.semi_gradient_sarsa(mountain(), coder(), gamma=NAN), "gamma"),
    Bad("sarsa-seed-negative", lambda: linear.semi_gradient_sarsa(mountain(), coder(), seed=-1), "seed"),
    Bad("sarsa-max_steps-0", lambda: linear.semi_gradient_sarsa(mountain(), coder(), max_steps=0), "max_steps"),
    Bad("sarsa-env-none", lambda: linear.semi_gradient_sarsa(None, coder()), "env"),
    Bad("sarsa-progress-str", lambda: linear.semi_gradient_sarsa(mountain(), coder(), progress="no"), "progress"),

    # ============================================================ rlcore.approx.replay
    # ReplayBatch: arrays of one length, obs and next_obs of one shape
    Bad("ReplayBatch-obs-str", lambda: rbatch(obs="abc"), "obs"),
    Bad("ReplayBatch-actions-length", lambda: rbatch(actions=np.array([0, 1, 1])), "actions"),
    Bad("ReplayBatch-next_obs-shape", lambda: rbatch(next_obs=np.zeros((2, 3), np.float32)), "next_obs"),
    Bad("ReplayBatch-rewards-nan", lambda: rbatch(rewards=np.array([0.0, NAN], np.float32)), "rewards"),
    Bad("ReplayBatch-terminated-float", lambda: rbatch(terminated=np.array([0.0, 1.0])), "terminated"),
    Bad("ReplayBatch-actions-float", lambda: rbatch(actions=np.array([0.5, 1.0])), "actions"),
    # ReplayBuffer: a capacity, an observation shape, a number dtype
    Bad("ReplayBuffer-capacity-0", lambda: ReplayBuffer(0, 4), "capacity"),
    Bad("ReplayBuffer-capacity-float", lambda: ReplayBuffer(2.5, 4), "capacity"),
    Bad("ReplayBuffer-obs_shape-str", lambda: ReplayBuffer(5, "4"), "obs_shape"),
    Bad("ReplayBuffer-obs_shape-zero", lambda: ReplayBuffer(5, (0,)), "obs_shape"),
    Bad("ReplayBuffer-obs_shape-float", lambda: ReplayBuffer(5, (2.5,)), "obs_shape"),
    Bad("ReplayBuffer-obs_dtype-bogus", lambda: ReplayBuffer(5, 4, "bogus"), "obs_dtype"),
    Bad("ReplayBuffer-obs_dtype-str", lambda: ReplayBuffer(5, 4, str), "obs_dtype"),
    # ReplayBuffer.add: one transition or a batch, matching shapes, finite numbers
    Bad("add-obs-shape", lambda: buffer().add(np.zeros(3), 0, 0.0, np.zeros(3), False), "obs"),
    Bad("add-obs-str", lambda: buffer().add("abcd", 0, 0.0, np.zeros(4), False), "obs"),
    Bad("add-obs-nan", lambda: buffer().add(np.full(4, NAN), 0, 0.0, np.zeros(4), False), "obs"),
    Bad("add-next_obs-shape", lambda: buffer().add(np.zeros(4), 0, 0.0, np.zeros(5), False), "next_obs"),
    Bad("add-action-negative", lambda: buffer().add(np.zeros(4), -1, 0.0, np.zeros(4), False), "action"),
    Bad("add-action-float", lambda: buffer().add(np.zeros(4), 2.5, 0.0, np.zeros(4), False), "action"),
    Bad("add-reward-nan", lambda: buffer().add(np.zeros(4), 0, NAN, np.zeros(4), False), "reward"),
    Bad("add-terminated-int", lambda: buffer().add(np.zeros(4), 0, 0.0, np.zeros(4), 1), "terminated"),
    # ReplayBuffer.sample / recent
    Bad("buffer.sample-batch_size-0", lambda: buffer().sample(0, np.random.default_rng(0)), "batch_size"),
    Bad("buffer.sample-rng-none", lambda: buffer().sample(2, None), "rng"),
    Bad("buffer.sample-replace-str", lambda: buffer().sample(2, np.random.default_rng(0), "no"), "replace"),
    Bad("buffer.sample-too-many", lambda: buffer().sample(3, np.random.default_rng(0), False), "batch_size"),
    Bad("buffer.sample-batch_size-float", lambda: buffer().sample(2.5, np.random.default_rng(0)), "batch_size"),
    Bad("buffer.recent-0", lambda: buffer().recent(0), "n"),
    Bad("buffer.recent-float", lambda: buffer().recent(2.5), "n"),
    Bad("buffer.recent-too-many", lambda: buffer().recent(3), "n"),
    Bad("buffer.recent-bool", lambda: buffer().recent(True), "n"),
    Bad("buffer.recent-none", lambda: buffer().recent(None), "n"),

    # ============================================================ rlcore.approx.tiles
    # TileCoder: a finite box, positive tile counts, displacements and hash size
    Bad("TileCoder-low-str", lambda: TileCoder("ab", [1.0, 1.0]), "low"),
    Bad("TileCoder-high-below-low", lambda: TileCoder([0.0, 0.0], [1.0, -1.0]), "high"),
    Bad("TileCoder-low-nan", lambda: TileCoder([NAN, 0.0], [1.0, 1.0]), "low"),
    Bad("TileCoder-high-shape", lambda: TileCoder([0.0, 0.0], [1.0]), "high"),
    Bad("TileCoder-tiles-0", lambda: TileCoder([0.0], [1.0], 0), "tiles_per_dim"),
    Bad("TileCoder-tiles-length", lambda: TileCoder([0.0, 0.0], [1.0, 1.0], [2, 2, 2]), "tiles_per_dim"),
    Bad("TileCoder-n_tilings-float", lambda: TileCoder([0.0], [1.0], 4, 2.5), "n_tilings"),
    Bad("TileCoder-displacement-length", lambda: TileCoder([0.0, 0.0], [1.0, 1.0], displacement=[1]),
        "displacement"),
    Bad("TileCoder-hash_size-0", lambda: TileCoder([0.0], [1.0], hash_size=0), "hash_size"),
    Bad("TileCoder-seed-negative", lambda: TileCoder([0.0], [1.0], hash_size=16, seed=-1), "seed"),
    Bad("TileCoder-seed-str", lambda: TileCoder([0.0], [1.0], seed="0"), "seed"),
    # TileCoder.active / features / active_list: states [d] (or [B, d] for the first two)
    *[Bad(f"TileCoder.{m}-{lab}", (lambda m=m, x=x: getattr(coder(), m)(x)), "x")
      for m in ("active", "features", "active_list") for lab, x in (
          ("str", "ab"), ("none", None), ("width", np.zeros(3)), ("nan", [NAN, 0.0]), ("dict", {"a": 1, "b": 2}))],
    Bad("TileCoder.active_list-batch", lambda: coder().active_list([[0.0, 0.0], [1.0, 1.0]]), "x"),

    # ============================================================ rlcore.plots.approx
    # plot_steps_per_episode: a non-empty mapping label -> ControlResult(s) with episodes
    Bad("steps_per_episode-empty", lambda: p_approx.plot_steps_per_episode({}), "results"),
    Bad("steps_per_episode-result", lambda: p_approx.plot_steps_per_episode(ctrl()), "results"),
    Bad("steps_per_episode-str-run", lambda: p_approx.plot_steps_per_episode({"a": "x"}), "results"),
    Bad("steps_per_episode-no-runs", lambda: p_approx.plot_steps_per_episode({"a": []}), "results"),
    Bad("steps_per_episode-no-episodes", lambda: p_approx.plot_steps_per_episode(
        {"a": ctrl(episode_returns=np.zeros(0), episode_lengths=np.zeros(0, int), episode_end_steps=np.zeros(0, int),
                   total_steps=0)}), "results"),
    Bad("steps_per_episode-ax-str", lambda: p_approx.plot_steps_per_episode({"a": ctrl()}, ax="x"), "ax"),
    Bad("steps_per_episode-log-str", lambda: p_approx.plot_steps_per_episode({"a": ctrl()}, log="yes"), "log"),
    # plot_step_size_sweep: label -> {step size: runs or a number}
    Bad("step_size_sweep-empty", lambda: p_approx.plot_step_size_sweep({}), "sweep"),
    Bad("step_size_sweep-empty-line", lambda: p_approx.plot_step_size_sweep({"a": {}}), "sweep"),
    Bad("step_size_sweep-first-0", lambda: p_approx.plot_step_size_sweep({"a": {0.5: ctrl()}}, first=0), "first"),
    Bad("step_size_sweep-first-too-many", lambda: p_approx.plot_step_size_sweep({"a": {0.5: ctrl()}}), "first"),
    Bad("step_size_sweep-x-str", lambda: p_approx.plot_step_size_sweep({"a": {"big": 3.0}}), "sweep"),
    Bad("step_size_sweep-y-nan", lambda: p_approx.plot_step_size_sweep({"a": {0.5: NAN}}), "sweep"),
    Bad("step_size_sweep-ax-int", lambda: p_approx.plot_step_size_sweep({"a": {0.5: 3.0}}, ax=5), "ax"),
    # plot_cost_to_go: a 2-d coder with weights [A, n_features], a box, a resolution, an axes
    Bad("cost_to_go-coder-str", lambda: p_approx.plot_cost_to_go("coder"), "coder"),
    Bad("cost_to_go-w-shape", lambda: p_approx.plot_cost_to_go(coder(), np.zeros((3, 5))), "w"),
    Bad("cost_to_go-w-none", lambda: p_approx.plot_cost_to_go(coder(), None), "w"),
    Bad("cost_to_go-resolution-1", lambda: p_approx.plot_cost_to_go(tiled(), resolution=1), "resolution"),
    Bad("cost_to_go-resolution-float", lambda: p_approx.plot_cost_to_go(tiled(), resolution=2.5), "resolution"),
    Bad("cost_to_go-low-short", lambda: p_approx.plot_cost_to_go(tiled(), low=[0.0]), "low"),
    Bad("cost_to_go-low-str", lambda: p_approx.plot_cost_to_go(tiled(), low="ab"), "low"),
    Bad("cost_to_go-high-below-low", lambda: p_approx.plot_cost_to_go(tiled(), high=[-1.0, -1.0]), "high"),
    Bad("cost_to_go-coder-3d", lambda: p_approx.plot_cost_to_go(coder(3), np.zeros((2, coder(3).n_features))),
        "coder"),
    Bad("cost_to_go-labels-short", lambda: p_approx.plot_cost_to_go(tiled(), labels=("x",)), "labels"),
    Bad("cost_to_go-surface-str", lambda: p_approx.plot_cost_to_go(tiled(), surface="yes"), "surface"),
    Bad("cost_to_go-ax-2d-for-surface", lambda: p_approx.plot_cost_to_go(tiled(), ax=ax2d()), "ax"),
    # plot_learning_curves (approx): results, x, window, threshold, band, ax
    Bad("approx_curves-x-time", lambda: p_approx.plot_learning_curves({"a": ctrl()}, x="time"), "x"),
    Bad("approx_curves-band-std", lambda: p_approx.plot_learning_curves({"a": ctrl()}, band="std"), "band"),
    Bad("approx_curves-window-0", lambda: p_approx.plot_learning_curves({"a": ctrl()}, window=0), "window"),
    Bad("approx_curves-threshold-nan", lambda: p_approx.plot_learning_curves({"a": ctrl()}, threshold=NAN),
        "threshold"),
    Bad("approx_curves-threshold-str", lambda: p_approx.plot_learning_curves({"a": ctrl()}, threshold="high"),
        "threshold"),
    Bad("approx_curves-results-empty", lambda: p_approx.plot_learning_curves({}), "results"),
    Bad("approx_curves-ax-str", lambda: p_approx.plot_learning_curves({"a": ctrl()}, ax="x"), "ax"),

    # ============================================================ rlcore.plots.approx_triad
    Bad("baird_weights-none", lambda: p_triad.plot_baird_weights(None), "history"),
    Bad("baird_weights-str", lambda: p_triad.plot_baird_weights("abc"), "history"),
    Bad("baird_weights-1d", lambda: p_triad.plot_baird_weights(np.zeros(5)), "history"),
    Bad("baird_weights-empty", lambda: p_triad.plot_baird_weights(np.zeros((0, 8))), "history"),
    Bad("baird_weights-title-int", lambda: p_triad.plot_baird_weights(baird_run(), 5), "title"),
    Bad("baird_weights-log-str", lambda: p_triad.plot_baird_weights(baird_run(), log="yes"), "log"),
    Bad("baird_weights-ax-str", lambda: p_triad.plot_baird_weights(baird_run(), ax="x"), "ax"),
    *[Bad(f"baird_errors-{lab}", (lambda r=r: p_triad.plot_baird_errors(r)), "result") for lab, r in (
        ("none", None), ("array", np.zeros((3, 8))), ("str", "x"), ("dict", {}), ("control-result", ctrl()))],
    Bad("baird_errors-ax-int", lambda: p_triad.plot_baird_errors(baird_run(), ax=5), "ax"),
    Bad("triad-empty", lambda: p_triad.plot_triad([]), "results"),
    Bad("triad-str", lambda: p_triad.plot_triad("abc"), "results"),
    Bad("triad-none-value", lambda: p_triad.plot_triad({"a": None}), "results"),
    Bad("triad-int-title", lambda: p_triad.plot_triad({5: baird_run()}), "results"),
    Bad("triad-errors-str", lambda: p_triad.plot_triad([baird_run()], errors="yes"), "errors"),
    Bad("triad-log-str", lambda: p_triad.plot_triad([baird_run()], log="no"), "log"),
    Bad("triad-figsize-zero", lambda: p_triad.plot_triad([baird_run()], figsize=(0, 3)), "figsize"),

    # ============================================================ rlcore.plots.health
    *[Bad(f"{fn.__name__}-{lab}", (lambda fn=fn, v=v: fn(v)), arg) for fn, arg in (
        (p_health.plot_subgroups, "report"), (p_health.plot_tradeoff, "sweep"), (p_health.plot_pareto, "front"),
        (p_health.plot_ope_convergence, "conv"), (p_health.plot_trap, "trap"))
      for lab, v in (("none", None), ("str", "x"), ("dict", {}), ("int", 3), ("other-result", ctrl()))],
    Bad("plot_subgroups-mismatch", lambda: p_health.plot_subgroups(subgroups(pooled_value=np.zeros(1))), "report"),
    Bad("plot_subgroups-empty", lambda: p_health.plot_subgroups(subgroups(
        subgroups=(), weights=np.zeros(0), optimal_value=np.zeros(0), pooled_value=np.zeros(0), regret=np.zeros(0),
        relative_regret=np.zeros(0), agreement=np.zeros(0))), "report"),
    Bad("plot_subgroups-nan", lambda: p_health.plot_subgroups(subgroups(optimal_value=np.array([NAN, 1.0]))),
        "report"),
    Bad("plot_subgroups-ax-str", lambda: p_health.plot_subgroups(subgroups(), ax="x"), "ax"),
    Bad("plot_tradeoff-mismatch", lambda: p_health.plot_tradeoff(lsweep(values=np.zeros(3))), "sweep"),
    Bad("plot_tradeoff-empty", lambda: p_health.plot_tradeoff(lsweep(lambdas=np.zeros(0), values=np.zeros(0),
                                                                     costs=np.zeros(0))), "sweep"),
    Bad("plot_tradeoff-nan", lambda: p_health.plot_tradeoff(lsweep(costs=np.array([NAN, 1.0]))), "sweep"),
    Bad("plot_tradeoff-constrained-str", lambda: p_health.plot_tradeoff(lsweep(), "x"), "constrained"),
    Bad("plot_tradeoff-ax-str", lambda: p_health.plot_tradeoff(lsweep(), ax="x"), "ax"),
    Bad("plot_pareto-mismatch", lambda: p_health.plot_pareto(pfront(burden=np.zeros(3))), "front"),
    Bad("plot_pareto-empty", lambda: p_health.plot_pareto(pfront(weights=np.zeros(0), outcome=np.zeros(0),
                                                                 burden=np.zeros(0), pareto=np.zeros(0, bool))),
        "front"),
    Bad("plot_pareto-mask-int", lambda: p_health.plot_pareto(pfront(pareto=np.array([0, 1]))), "front"),
    Bad("plot_pareto-ax-str", lambda: p_health.plot_pareto(pfront(), ax="x"), "ax"),
    Bad("plot_ope_convergence-shape", lambda: p_health.plot_ope_convergence(oconv(estimates=np.ones((3, 2, 3)))),
        "conv"),
    Bad("plot_ope_convergence-empty", lambda: p_health.plot_ope_convergence(oconv(
        sizes=np.zeros(0, int), estimates=np.ones((2, 0, 3)))), "conv"),
    Bad("plot_ope_convergence-sizes-negative", lambda: p_health.plot_ope_convergence(oconv(sizes=np.array([-1, 2]))),
        "conv"),
    Bad("plot_ope_convergence-title-int", lambda: p_health.plot_ope_convergence(oconv(), title=5), "title"),
    Bad("plot_ope_estimates-empty", lambda: p_health.plot_ope_estimates({}), "estimates"),
    Bad("plot_ope_estimates-list", lambda: p_health.plot_ope_estimates([oest()]), "estimates"),
    Bad("plot_ope_estimates-float-value", lambda: p_health.plot_ope_estimates({"IS": 3.0}), "estimates"),
    Bad("plot_ope_estimates-none", lambda: p_health.plot_ope_estimates(None), "estimates"),
    Bad("plot_ope_estimates-true-str", lambda: p_health.plot_ope_estimates({"IS": oest()}, "x"), "true_value"),
    Bad("plot_ope_estimates-true-nan", lambda: p_health.plot_ope_estimates({"IS": oest()}, NAN), "true_value"),
    Bad("plot_ope_estimates-ax-str", lambda: p_health.plot_ope_estimates({"IS": oest()}, ax="x"), "ax"),
    Bad("plot_trap-ax-str", lambda: p_health.plot_trap(trap(), ax="x"), "ax"),
    Bad("plot_trap-wis-str", lambda: p_health.plot_trap(trap(wis_learned="high")), "trap"),
    Bad("plot_trap-true-nan", lambda: p_health.plot_trap(trap(true_learned=NAN)), "trap"),
    Bad("chronic_policy-model-none", lambda: p_health.plot_chronic_policy(None, np.zeros(16, int)), "model"),
    Bad("chronic_policy-model-str", lambda: p_health.plot_chronic_policy("chronic", np.zeros(16, int)), "model"),
    Bad("chronic_policy-policy-short", lambda: p_health.plot_chronic_policy(chronic(), np.zeros(5, int)), "policy"),
    Bad("chronic_policy-policy-action-9", lambda: p_health.plot_chronic_policy(chronic(), np.full(16, 9)), "policy"),
    Bad("chronic_policy-policy-negative", lambda: p_health.plot_chronic_policy(chronic(), np.full(16, -1)),
        "policy"),
    Bad("chronic_policy-policy-float", lambda: p_health.plot_chronic_policy(chronic(), np.full(16, 0.5)), "policy"),
    Bad("chronic_policy-V-short", lambda: p_health.plot_chronic_policy(chronic(), np.zeros(16, int), np.zeros(3)),
        "V"),
    Bad("chronic_policy-ax-str", lambda: p_health.plot_chronic_policy(chronic(), np.zeros(16, int), ax="x"), "ax"),

    # ============================================================ rlcore.plots.lm
    Bad("sampling_sweep-empty", lambda: p_lm.plot_sampling_sweep({}), "sweep"),
    Bad("sampling_sweep-none", lambda: p_lm.plot_sampling_sweep(None), "sweep"),
    Bad("sampling_sweep-list", lambda: p_lm.plot_sampling_sweep([1, 2]), "sweep"),
    Bad("sampling_sweep-no-reward", lambda: p_lm.plot_sampling_sweep(
        {k: v for k, v in sweep_dict().items() if k != "reward"}), "sweep"),
    Bad("sampling_sweep-shape", lambda: p_lm.plot_sampling_sweep(sweep_dict(reward=np.zeros((3, 1)))), "sweep"),
    Bad("sampling_sweep-diversity", lambda: p_lm.plot_sampling_sweep(sweep_dict(), diversity="bogus"), "diversity"),
    Bad("pg_history-x-bogus", lambda: p_lm.plot_pg_history({"a": {"reward": [1.0]}}, x="bogus"), "x"),
    Bad("pg_history-keys-empty", lambda: p_lm.plot_pg_history({"a": {"reward": [1.0]}}, ()), "keys"),
    Bad("pg_history-keys-str", lambda: p_lm.plot_pg_history({"a": {"reward": [1.0]}}, "reward"), "keys"),
    Bad("pg_history-window-0", lambda: p_lm.plot_pg_history({"a": {"reward": [1.0]}}, window=0), "window"),
    Bad("pg_history-window-float", lambda: p_lm.plot_pg_history({"a": {"reward": [1.0]}}, window=2.5), "window"),
    Bad("pg_history-histories-empty", lambda: p_lm.plot_pg_history({}), "histories"),
    Bad("pg_history-histories-none", lambda: p_lm.plot_pg_history(None), "histories"),
    Bad("pg_history-no-time", lambda: p_lm.plot_pg_history({"a": {"reward": [1.0]}}, x="time"), "histories"),

    # ============================================================ rlcore.plots.rlhf
    Bad("frontier-none", lambda: p_rlhf.plot_frontier(None), "frontier"),
    Bad("frontier-str", lambda: p_rlhf.plot_frontier("x"), "frontier"),
    Bad("frontier-dict", lambda: p_rlhf.plot_frontier({}), "frontier"),
    Bad("frontier-empty", lambda: p_rlhf.plot_frontier(frontier(())), "frontier"),
    Bad("frontier-ax-str", lambda: p_rlhf.plot_frontier(frontier(), ax="x"), "ax"),
    Bad("overopt-empty", lambda: p_rlhf.plot_overoptimisation({}), "curves"),
    Bad("overopt-none", lambda: p_rlhf.plot_overoptimisation(None), "curves"),
    Bad("overopt-no-points", lambda: p_rlhf.plot_overoptimisation({"a": []}), "curves"),
    Bad("overopt-missing-key", lambda: p_rlhf.plot_overoptimisation({"a": [{"d": 0.0}]}), "curves"),
    Bad("overopt-fit-int", lambda: p_rlhf.plot_overoptimisation({"a": [{"d": 0.0, "gold": 0.0, "proxy": 0.0}]},
                                                                {"a": 3}), "fits"),
    Bad("overopt-ax-str", lambda: p_rlhf.plot_overoptimisation({"a": [{"d": 0.0, "gold": 0.0, "proxy": 0.0}]},
                                                               ax="x"), "ax"),

    # ============================================================ rlcore.plots.tabular
    Bad("new_axes-ax-str", lambda: p_tab.new_axes("x", (3, 3)), "ax"),
    Bad("new_axes-ax-int", lambda: p_tab.new_axes(5, (3, 3)), "ax"),
    Bad("new_axes-figsize-str", lambda: p_tab.new_axes(None, "big"), "figsize"),
    Bad("new_axes-figsize-zero", lambda: p_tab.new_axes(None, (0, 3)), "figsize"),
    Bad("new_axes-figsize-nan", lambda: p_tab.new_axes(None, (NAN, 3)), "figsize"),
    Bad("new_axes-figsize-3", lambda: p_tab.new_axes(None, (1, 2, 3)), "figsize"),
    *[Bad(f"check_figsize-{lab}", (lambda f=f: p_tab.check_figsize(f)), "figsize") for lab, f in (
        ("str", "big"), ("none", None), ("negative", (-1, 3)), ("inf", (INF, 3)), ("one", (3,)), ("dict", {}))],
    Bad("plot_grid-env-none", lambda: p_tab.plot_grid(None), "env"),
    Bad("plot_grid-env-class", lambda: p_tab.plot_grid(type(gridworld())), "env"),
    Bad("plot_grid-V-short", lambda: p_tab.plot_grid(gridworld(), np.zeros(3)), "V"),
    Bad("plot_grid-V-str", lambda: p_tab.plot_grid(gridworld(), "abc"), "V"),
    Bad("plot_grid-policy-short", lambda: p_tab.plot_grid(gridworld(), policy=np.zeros(2, int)), "policy"),
    Bad("plot_grid-policy-action-5", lambda: p_tab.plot_grid(gridworld(), policy=np.full(6, 5)), "policy"),
    Bad("plot_grid-policy-negative", lambda: p_tab.plot_grid(gridworld(), policy=np.full(6, -1)), "policy"),
    Bad("plot_grid-agent-negative", lambda: p_tab.plot_grid(gridworld(), agent=-1), "agent"),
    Bad("plot_grid-agent-too-big", lambda: p_tab.plot_grid(gridworld(), agent=100), "agent"),
    Bad("plot_grid-agent-float", lambda: p_tab.plot_grid(gridworld(), agent=2.5), "agent"),
    Bad("plot_grid-cmap-bogus", lambda: p_tab.plot_grid(gridworld(), np.zeros(6), cmap="bogus"), "cmap"),
    Bad("plot_grid-annotate-str", lambda: p_tab.plot_grid(gridworld(), annotate="yes"), "annotate"),
    Bad("plot_grid-ax-str", lambda: p_tab.plot_grid(gridworld(), ax="x"), "ax"),
    Bad("smooth-window-0", lambda: p_tab.smooth(np.zeros(3), 0), "window"),
    Bad("smooth-window-float", lambda: p_tab.smooth(np.zeros(3), 2.5), "window"),
    Bad("smooth-window-str", lambda: p_tab.smooth(np.zeros(3), "3"), "window"),
    Bad("smooth-window-bool", lambda: p_tab.smooth(np.zeros(3), True), "window"),
    Bad("smooth-x-str", lambda: p_tab.smooth("abc", 2), "x"),
    Bad("smooth-x-none", lambda: p_tab.smooth(None, 2), "x"),
    Bad("smooth-x-nan", lambda: p_tab.smooth([1.0, NAN], 2), "x"),
    Bad("convergence-empty-mapping", lambda: p_tab.plot_convergence({}), "histories"),
    Bad("convergence-str", lambda: p_tab.plot_convergence("abc"), "histories"),
    Bad("convergence-2d", lambda: p_tab.plot_convergence({"a": np.ones((2, 2))}), "histories"),
    Bad("convergence-empty-history", lambda: p_tab.plot_convergence({"a": []}), "histories"),
    Bad("convergence-nan", lambda: p_tab.plot_convergence({"a": [1.0, NAN]}), "histories"),
    Bad("convergence-negative", lambda: p_tab.plot_convergence({"a": [1.0, -1.0]}), "histories"),
    Bad("convergence-ax-str", lambda: p_tab.plot_convergence({"a": [1.0]}, ax="x"), "ax"),
    Bad("tab_curves-band-bogus", lambda: p_tab.plot_learning_curves({"a": np.ones((2, 3))}, band="bogus"), "band"),
    Bad("tab_curves-empty", lambda: p_tab.plot_learning_curves({}), "curves"),
    Bad("tab_curves-str-runs", lambda: p_tab.plot_learning_curves({"a": "abc"}), "curves"),
    Bad("tab_curves-3d", lambda: p_tab.plot_learning_curves({"a": np.ones((2, 3, 4))}), "curves"),
    Bad("tab_curves-empty-runs", lambda: p_tab.plot_learning_curves({"a": []}), "curves"),
    Bad("tab_curves-window-0", lambda: p_tab.plot_learning_curves({"a": np.ones((2, 3))}, window=0), "window"),
    Bad("tab_curves-window-float", lambda: p_tab.plot_learning_curves({"a": np.ones((2, 3))}, window=2.5),
        "window"),
    Bad("tab_curves-ylim-str", lambda: p_tab.plot_learning_curves({"a": np.ones((2, 3))}, ylim="ab"), "ylim"),
    Bad("tab_curves-none", lambda: p_tab.plot_learning_curves(None), "curves"),
    *[Bad(f"figure_to_array-{lab}", (lambda f=f: p_tab.figure_to_array(f)), "fig") for lab, f in (
        ("none", None), ("str", "x"), ("array", np.zeros((2, 2))), ("dict", {}), ("int", 3))],
    Bad("figure_to_array-axes", lambda: p_tab.figure_to_array(ax2d()), "fig"),

    # ============================================================ rlcore.bench.tabular
    Bad("BenchResult-name-none", lambda: bench_row(name=None), "name"),
    Bad("BenchResult-ours_s-str", lambda: bench_row(ours_s="fast"), "ours_s"),
    Bad("BenchResult-ours_s-negative", lambda: bench_row(ours_s=-1.0), "ours_s"),
    Bad("BenchResult-other_s-str", lambda: bench_row(other_s="x"), "other_s"),
    Bad("BenchResult-ratio-str", lambda: bench_row(ratio="2x"), "ratio"),
    Bad("BenchResult-ok-str", lambda: bench_row(ok="yes"), "ok"),
    Bad("BenchResult-detail-int", lambda: bench_row(detail=5), "detail"),
    Bad("BenchResult-target-none", lambda: bench_row(target=None), "target"),
    *[Bad(f"{fn.__name__}-{lab}", (lambda fn=fn, a=a: fn(*a)), arg)
      for fn in (b_tab.bench_vs_mdptoolbox, b_tab.bench_vs_numpy_floor) for lab, a, arg in (
          ("size-0", (0,), "size"), ("size-1", (1,), "size"), ("size-float", (2.5,), "size"),
          ("size-str", ("50",), "size"), ("repeat-0", (10, 0), "repeat"), ("repeat-bool", (10, True), "repeat"))],
    *[Bad(f"bench_million-{lab}", (lambda n=n: b_tab.bench_million(n)), "n") for lab, n in (
        ("0", 0), ("1", 1), ("negative", -5), ("float", 2.5), ("str", "1000"), ("bool", True))],
    *[Bad(f"bench_cliff_td-{lab}", (lambda a=a: b_tab.bench_cliff_td(*a)), arg) for lab, a, arg in (
        ("n_episodes-0", (0,), "n_episodes"), ("n_episodes-float", (2.5,), "n_episodes"),
        ("n_seeds-negative", (5, -1), "n_seeds"), ("n_seeds-none", (5, None), "n_seeds"),
        ("n_seeds-bool", (5, True), "n_seeds"))],
    *[Bad(f"{fn.__name__}-quick-{lab}", (lambda fn=fn, q=q: fn(q)), "quick")
      for fn in (b_tab.run_all, b_approx.run_approx, b_rlhf.run_rlhf, b_scale.run_scale)
      for lab, q in (("str", "yes"), ("none", None), ("int", 1), ("float", 0.0), ("empty-str", ""))],
    *[Bad(f"{fn.__name__}-{lab}", (lambda fn=fn, r=r: fn(r)), "results") for fn in (b_tab.format_table, b_tab.as_json)
      for lab, r in (("none", None), ("str", "abc"), ("ints", [1, 2]), ("dicts", [{"name": "x"}]),
                     ("single", bench_row()))],

    # ============================================================ rlcore.bench.approx
    Bad("sb3_run-algo-ppo", lambda: b_approx.sb3_run("ppo", DQNConfig()), "algo"),
    Bad("sb3_run-algo-none", lambda: b_approx.sb3_run(None, DQNConfig()), "algo"),
    Bad("sb3_run-config-none", lambda: b_approx.sb3_run("dqn", None), "config"),
    Bad("sb3_run-config-mismatch", lambda: b_approx.sb3_run("dqn", A2CConfig()), "config"),
    Bad("sb3_run-seed-negative", lambda: b_approx.sb3_run("dqn", DQNConfig(), -1), "seed"),
    Bad("sb3_run-stop-str", lambda: b_approx.sb3_run("dqn", DQNConfig(), 0, "yes"), "stop_when_solved"),
    Bad("greedy_score-algo", lambda: b_approx.greedy_score("ppo", ctrl(model=net(4, 2)), True), "algo"),
    Bad("greedy_score-run-none", lambda: b_approx.greedy_score("dqn", None, True), "run"),
    Bad("greedy_score-ours-str", lambda: b_approx.greedy_score("dqn", ctrl(model=net(4, 2)), "yes"), "ours"),
    Bad("greedy_score-n_episodes-0", lambda: b_approx.greedy_score("dqn", ctrl(model=net(4, 2)), True, 0),
        "n_episodes"),
    Bad("greedy_score-no-model", lambda: b_approx.greedy_score("dqn", ctrl(), True), "run"),
    Bad("greedy_score-a2c-model-not-pair", lambda: b_approx.greedy_score("a2c", ctrl(model=net(4, 2)), True), "run"),
    Bad("compare-algo", lambda: b_approx.compare("x", DQNConfig()), "algo"),
    Bad("compare-config-none", lambda: b_approx.compare("dqn", None), "config"),
    Bad("compare-config-mismatch", lambda: b_approx.compare("a2c", DQNConfig()), "config"),
    Bad("compare-seeds-empty", lambda: b_approx.compare("dqn", DQNConfig(), ()), "seeds"),
    Bad("compare-seeds-negative", lambda: b_approx.compare("dqn", DQNConfig(), (-1,)), "seeds"),
    Bad("compare-seeds-float", lambda: b_approx.compare("dqn", DQNConfig(), (0.5,)), "seeds"),
    Bad("run_approx-seeds-empty", lambda: b_approx.run_approx(True, ()), "seeds"),
    Bad("run_approx-seeds-int", lambda: b_approx.run_approx(True, 5), "seeds"),
    Bad("run_approx-seeds-none", lambda: b_approx.run_approx(True, None), "seeds"),
    Bad("run_approx-seeds-str", lambda: b_approx.run_approx(True, "012"), "seeds"),

    # ============================================================ rlcore.bench.language
    *[Bad(f"benchmark_env-{lab}", (lambda t=t: b_lang.benchmark_env(t)), "task") for lab, t in (
        ("nope", "nope"), ("none", None), ("int", 5), ("list", ["easy"]), ("empty", ""))],
    Bad("sampling_speedup-model-none", lambda: b_lang.sampling_speedup(None), "model"),
    Bad("sampling_speedup-model-str", lambda: b_lang.sampling_speedup("lm"), "model"),
    Bad("sampling_speedup-max_len-0", lambda: b_lang.sampling_speedup(charlm(), 0), "max_len"),
    Bad("sampling_speedup-batch_size-negative", lambda: b_lang.sampling_speedup(charlm(), batch_size=-1),
        "batch_size"),
    Bad("sampling_speedup-n_single-float", lambda: b_lang.sampling_speedup(charlm(), n_single=2.5), "n_single"),
    Bad("sampling_speedup-seed-negative", lambda: b_lang.sampling_speedup(charlm(), seed=-1), "seed"),
    Bad("sampling_speedup-repeat-0", lambda: b_lang.sampling_speedup(charlm(), repeat=0), "repeat"),
    Bad("run_benchmark-time_budget-0", lambda: b_lang.run_benchmark(0.0), "time_budget"),
    Bad("run_benchmark-time_budget-nan", lambda: b_lang.run_benchmark(NAN), "time_budget"),
    Bad("run_benchmark-pretrain_steps-negative", lambda: b_lang.run_benchmark(pretrain_steps=-1), "pretrain_steps"),
    Bad("run_benchmark-pretrain_steps-float", lambda: b_lang.run_benchmark(pretrain_steps=2.5), "pretrain_steps"),
    Bad("run_benchmark-seed-negative", lambda: b_lang.run_benchmark(seed=-1), "seed"),
    Bad("run_benchmark-task", lambda: b_lang.run_benchmark(task="nope"), "task"),
    Bad("run_benchmark-progress-str", lambda: b_lang.run_benchmark(progress="yes"), "progress"),
    Bad("run_benchmark-ppo_config-dict", lambda: b_lang.run_benchmark(ppo_config={}), "ppo_config"),
    Bad("run_benchmark-reinforce_config-int", lambda: b_lang.run_benchmark(reinforce_config=3), "reinforce_config"),
    Bad("run_benchmark-num_threads-0", lambda: b_lang.run_benchmark(num_threads=0), "num_threads"),
    Bad("run_language-tasks-empty", lambda: b_lang.run_language(tasks=()), "tasks"),
    Bad("run_language-tasks-unknown", lambda: b_lang.run_language(tasks=("nope",)), "tasks"),
    Bad("run_language-tasks-str", lambda: b_lang.run_language(tasks="easy"), "tasks"),
    Bad("run_language-time_budget-0", lambda: b_lang.run_language(0.0), "time_budget"),
    Bad("run_language-pretrain_steps-negative", lambda: b_lang.run_language(pretrain_steps=-1), "pretrain_steps"),
    Bad("run_language-seed-float", lambda: b_lang.run_language(seed=2.5), "seed"),

    # ============================================================ rlcore.bench.rlhf
    Bad("evaluate-model-none", lambda: b_rlhf.evaluate(None, charlm(), b_rlhf.gold_reward()), "model"),
    Bad("evaluate-sft-str", lambda: b_rlhf.evaluate(charlm(), "sft", b_rlhf.gold_reward()), "sft"),
    Bad("evaluate-gold-int", lambda: b_rlhf.evaluate(charlm(), charlm(), 5), "gold"),
    Bad("evaluate-n-0", lambda: b_rlhf.evaluate(charlm(), charlm(), b_rlhf.gold_reward(), 0), "n"),
    Bad("evaluate-seed-negative", lambda: b_rlhf.evaluate(charlm(), charlm(), b_rlhf.gold_reward(), 4, -1), "seed"),
    Bad("evaluate-vocab-mismatch", lambda: b_rlhf.evaluate(charlm(), charlm("ab"), b_rlhf.gold_reward()), "sft"),
    Bad("run_pipeline-seed-negative", lambda: b_rlhf.run_pipeline(-1), "seed"),
    Bad("run_pipeline-pretrain_steps-negative", lambda: b_rlhf.run_pipeline(pretrain_steps=-1), "pretrain_steps"),
    Bad("run_pipeline-n_pairs-1", lambda: b_rlhf.run_pipeline(n_pairs=1), "n_pairs"),
    Bad("run_pipeline-ppo_iterations-float", lambda: b_rlhf.run_pipeline(ppo_iterations=2.5), "ppo_iterations"),
    Bad("run_pipeline-progress-str", lambda: b_rlhf.run_pipeline(progress="yes"), "progress"),
    Bad("run_pipeline-num_threads-0", lambda: b_rlhf.run_pipeline(num_threads=0), "num_threads"),
    Bad("toy-method", lambda: b_rlhf.toy_time_to_optimum("sft"), "method"),
    Bad("toy-threshold-0", lambda: b_rlhf.toy_time_to_optimum("dpo", 0.0), "threshold"),
    Bad("toy-threshold-nan", lambda: b_rlhf.toy_time_to_optimum("dpo", NAN), "threshold"),
    Bad("toy-budget-negative", lambda: b_rlhf.toy_time_to_optimum("dpo", budget=-1.0), "budget"),
    Bad("toy-budget-str", lambda: b_rlhf.toy_time_to_optimum("dpo", budget="60"), "budget"),
    Bad("toy-seed-negative", lambda: b_rlhf.toy_time_to_optimum("dpo", seed=-1), "seed"),
    Bad("run_rlhf-seed-negative", lambda: b_rlhf.run_rlhf(True, -1), "seed"),
    Bad("run_rlhf-seed-float", lambda: b_rlhf.run_rlhf(True, 2.5), "seed"),
    Bad("summary_table-none", lambda: b_rlhf.summary_table(None), "out"),
    Bad("summary_table-empty", lambda: b_rlhf.summary_table({}), "out"),
    Bad("summary_table-scores-list", lambda: b_rlhf.summary_table({"scores": []}), "out"),
    Bad("summary_table-missing-key", lambda: b_rlhf.summary_table({"scores": {"SFT": {"gold": 1.0}}}), "out"),
    Bad("summary_table-str-number", lambda: b_rlhf.summary_table(
        {"scores": {"SFT": {"gold": "x", "kl": 1.0, "win_rate": 0.5}}}), "out"),

    # ============================================================ rlcore.bench.scale
    Bad("train_job-trainer", lambda: b_scale.train_job("sft", 1, 2, 4), "trainer"),
    Bad("train_job-nproc-0", lambda: b_scale.train_job("ppo", 0, 2, 4), "nproc"),
    Bad("train_job-iterations-float", lambda: b_scale.train_job("ppo", 1, 2.5, 4), "iterations"),
    Bad("train_job-batch_size-negative", lambda: b_scale.train_job("ppo", 1, 2, -4), "batch_size"),
    Bad("train_job-threads-0", lambda: b_scale.train_job("ppo", 1, 2, 4, threads=0), "threads"),
    Bad("train_job-hidden_dim-0", lambda: b_scale.train_job("ppo", 1, 2, 4, hidden_dim=0), "hidden_dim"),
    Bad("train_job-pretrain_steps-negative", lambda: b_scale.train_job("ppo", 1, 2, 4, pretrain_steps=-1),
        "pretrain_steps"),
    Bad("train_job-seed-negative", lambda: b_scale.train_job("ppo", 1, 2, 4, seed=-1), "seed"),
    Bad("train_job-timeout-0", lambda: b_scale.train_job("ppo", 1, 2, 4, timeout=0), "timeout"),
    Bad("scaling_row-trainer-int", lambda: b_scale.scaling_row(5, job(), job()), "trainer"),
    Bad("scaling_row-one-empty", lambda: b_scale.scaling_row("ppo", {}, job()), "one"),
    Bad("scaling_row-one-none", lambda: b_scale.scaling_row("ppo", None, job()), "one"),
    Bad("scaling_row-one-zero-rate", lambda: b_scale.scaling_row("ppo", job(samples_per_second=0.0), job()), "one"),
    Bad("scaling_row-two-zero-seconds", lambda: b_scale.scaling_row("ppo", job(), job(seconds=0.0)), "two"),
    Bad("scaling_row-threaded-str", lambda: b_scale.scaling_row("ppo", job(), job(), "x"), "threaded"),
    Bad("scaling_row-two-str-rate", lambda: b_scale.scaling_row("ppo", job(), job(samples_per_second="x")), "two"),

    # ============================================================ rlcore.bench.trl_peer
    *[Bad(f"char_tokenizer-{lab}", (lambda v=v: trl().char_tokenizer(v)), "vocab") for lab, v in (
        ("none", None), ("int", 5), ("empty", ""), ("duplicates", "aa"), ("words", ["ab", "c"]))],
    Bad("tiny_gpt2-vocab-none", lambda: trl().tiny_gpt2(None), "vocab"),
    Bad("tiny_gpt2-n_embd-0", lambda: trl().tiny_gpt2("ab", n_embd=0), "n_embd"),
    Bad("tiny_gpt2-n_embd-indivisible", lambda: trl().tiny_gpt2("ab", n_embd=33), "n_embd"),
    Bad("tiny_gpt2-n_layer-float", lambda: trl().tiny_gpt2("ab", n_layer=2.5), "n_layer"),
    Bad("tiny_gpt2-n_head-0", lambda: trl().tiny_gpt2("ab", n_head=0), "n_head"),
    Bad("tiny_gpt2-n_positions-negative", lambda: trl().tiny_gpt2("ab", n_positions=-1), "n_positions"),
    Bad("tiny_gpt2-seed-negative", lambda: trl().tiny_gpt2("ab", seed=-1), "seed"),
    Bad("tiny_gpt2-dropout-1.5", lambda: trl().tiny_gpt2("ab", dropout=1.5), "dropout"),
    *[Bad(f"preference_dataset-{lab}", (lambda d=d: trl().preference_dataset(d)), "data") for lab, d in (
        ("none", None), ("str", "x"), ("dict", {}), ("tuples", [("a", "ab", "b")]), ("int", 3))],
    Bad("dpo_trainer-model-none", lambda: trl().dpo_trainer(None, gpt2(), tok(), prefs(), "/tmp/x"), "model"),
    Bad("dpo_trainer-ref-str", lambda: trl().dpo_trainer(gpt2(), "ref", tok(), prefs(), "/tmp/x"), "ref_model"),
    Bad("dpo_trainer-tokenizer-none", lambda: trl().dpo_trainer(gpt2(), gpt2(), None, prefs(), "/tmp/x"),
        "tokenizer"),
    Bad("dpo_trainer-data-dict", lambda: trl().dpo_trainer(gpt2(), gpt2(), tok(), {}, "/tmp/x"), "data"),
    Bad("dpo_trainer-output_dir-int", lambda: trl().dpo_trainer(gpt2(), gpt2(), tok(), prefs(), 5), "output_dir"),
    Bad("dpo_trainer-config-unknown", lambda: trl().dpo_trainer(gpt2(), gpt2(), tok(), prefs(), "/tmp/x",
                                                                bogus_key=1), "bogus_key"),
    Bad("grpo_trainer-model-none", lambda: trl().grpo_trainer(None, tok(), ["a"], len, "/tmp/x"), "model"),
    Bad("grpo_trainer-tokenizer-str", lambda: trl().grpo_trainer(gpt2(), "tok", ["a"], len, "/tmp/x"), "tokenizer"),
    Bad("grpo_trainer-prompts-empty", lambda: trl().grpo_trainer(gpt2(), tok(), [], len, "/tmp/x"), "prompts"),
    Bad("grpo_trainer-prompts-str", lambda: trl().grpo_trainer(gpt2(), tok(), "ab", len, "/tmp/x"), "prompts"),
    Bad("grpo_trainer-reward-int", lambda: trl().grpo_trainer(gpt2(), tok(), ["a"], 5, "/tmp/x"), "reward"),
    Bad("grpo_trainer-output_dir-none", lambda: trl().grpo_trainer(gpt2(), tok(), ["a"], len, None), "output_dir"),
    Bad("grpo_trainer-config-unknown", lambda: trl().grpo_trainer(gpt2(), tok(), ["a"], len, "/tmp/x",
                                                                  bogus_key=1), "bogus_key"),
    Bad("hf_logprobs-mismatch", lambda: trl().hf_sequence_logprobs(gpt2(), tok(), ["a", "b"], ["a"]), "completions"),
    Bad("hf_logprobs-empty", lambda: trl().hf_sequence_logprobs(gpt2(), tok(), [], []), "prompts"),
    Bad("hf_logprobs-prompts-str", lambda: trl().hf_sequence_logprobs(gpt2(), tok(), "ab", ["a", "b"]), "prompts"),
    Bad("hf_logprobs-ended-length", lambda: trl().hf_sequence_logprobs(gpt2(), tok(), ["a"], ["b"], [True, False]),
        "ended"),
    Bad("hf_logprobs-ended-str", lambda: trl().hf_sequence_logprobs(gpt2(), tok(), ["a"], ["b"], "y"), "ended"),
    Bad("hf_logprobs-unknown-chars", lambda: trl().hf_sequence_logprobs(gpt2(), tok(), ["a"], ["zz"]), "completions"),
    Bad("hf_logprobs-model-none", lambda: trl().hf_sequence_logprobs(None, tok(), ["a"], ["b"]), "model"),
    Bad("dpo_step_ratio-data-none", lambda: trl().dpo_step_ratio(None), "data"),
    Bad("dpo_step_ratio-batch_size-0", lambda: trl().dpo_step_ratio(prefs(), 0), "batch_size"),
    Bad("dpo_step_ratio-steps-float", lambda: trl().dpo_step_ratio(prefs(), steps=2.5), "steps"),
    Bad("dpo_step_ratio-repeat-0", lambda: trl().dpo_step_ratio(prefs(), repeat=0), "repeat"),
    Bad("dpo_step_ratio-seed-negative", lambda: trl().dpo_step_ratio(prefs(), seed=-1), "seed"),
]


TRL_PEER = ("char_tokenizer", "tiny_gpt2", "preference_dataset", "dpo_trainer", "grpo_trainer", "hf_logprobs",
            "dpo_step_ratio")


def _params() -> list:
    """The cases; those of trl_peer may pay the first import of transformers and TRL (seconds on a busy machine)."""
    slow = pytest.mark.timeout(120)
    return [pytest.param(*p.values, id=p.id, marks=[slow]) if p.id.startswith(TRL_PEER) else p for p in cases(BAD)]


@pytest.mark.parametrize("case", _params())
def test_bad_input_is_refused(case):
    try:
        assert_refused(case)
    finally:
        plt.close("all")
