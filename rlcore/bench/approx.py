"""rlcore's DQN and A2C beside stable-baselines3's, on the same task, seeds and hyper-parameters.

Book: *Sequential decision making*, "From tables to networks". Run it with
``rlcore bench --suite approx`` (stable-baselines3 comes with the ``bench``
extra: ``pip install -e '.[bench]'``).

Each learner trains on gymnasium's ``CartPole-v1`` for a fixed budget of
environment steps. A run counts as solved when the mean undiscounted return
of its last 100 finished training episodes first reaches 475 (the task's own
threshold); the table reports, per learner, the episodes, environment steps
and wall-clock seconds that took on each seed, and the ratios rlcore / SB3
of the medians over the seeds both solved. Training episodes are used, not a
separate greedy evaluation, so both libraries are judged by the same numbers
and exploration noise counts against both. Each row also gives the mean
return of 20 greedy episodes of each final policy (starts seeded 1000 to
1019), the criterion the acceptance tests use for DQN, whose training
episodes keep the exploration rate's last 4% of random actions.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from rlcore.approx.a2c import A2CConfig, a2c
from rlcore.approx.common import ControlResult, greedy_returns
from rlcore.approx.dqn import DQNConfig, dqn
from rlcore.bench.tabular import BenchResult
from rlcore.core.validation import check_choice, check_flag, check_instance, check_nonnegative_int, check_positive_int

__all__ = ["SOLVED", "WINDOW", "sb3_run", "greedy_score", "compare", "run_approx"]

SOLVED = 475.0
WINDOW = 100
ENV_ID = "CartPole-v1"


def _algo(algo: Any, config: Any) -> None:
    """``algo`` is ``"dqn"`` or ``"a2c"`` and ``config`` its config class."""
    check_choice(algo, "algo", ("dqn", "a2c"))
    check_instance(config, "config", DQNConfig if algo == "dqn" else A2CConfig,
                   f"a {'DQNConfig' if algo == 'dqn' else 'A2CConfig'} for algo={algo!r}")


def _seeds(seeds: Any) -> tuple[int, ...]:
    if not isinstance(seeds, (tuple, list)) or not seeds:
        raise TypeError(f"seeds must be a non-empty tuple of seeds, got {seeds!r}")
    return tuple(check_nonnegative_int(s, "seeds[i]") for s in seeds)


def _sb3_kwargs(algo: str, config: Any) -> dict[str, Any]:
    """The stable-baselines3 constructor arguments that mean what ``config``'s fields mean."""
    if algo == "dqn":
        keys = ("learning_rate", "buffer_size", "learning_starts", "batch_size", "gamma", "train_freq",
                "gradient_steps", "target_update_interval", "exploration_fraction", "exploration_initial_eps",
                "exploration_final_eps", "max_grad_norm")
        kw = {k: getattr(config, k) for k in keys}
        kw["policy_kwargs"] = {"net_arch": list(config.hidden_sizes), "activation_fn": torch.nn.ReLU}
        return kw
    keys = ("n_steps", "learning_rate", "gamma", "gae_lambda", "ent_coef", "vf_coef", "max_grad_norm",
            "normalize_advantage", "use_rms_prop", "rms_prop_eps")
    kw = {k: getattr(config, k) for k in keys}
    kw["policy_kwargs"] = {"net_arch": {"pi": list(config.hidden_sizes), "vf": list(config.hidden_sizes)},
                           "activation_fn": torch.nn.Tanh if config.activation == "tanh" else torch.nn.ReLU}
    return kw


def sb3_run(algo: str, config: Any, seed: int = 0, stop_when_solved: bool = True) -> ControlResult:
    """Train stable-baselines3's ``DQN`` or ``A2C`` on CartPole-v1 with ``config``'s hyper-parameters.

    Every finished episode is recorded (return, length, environment steps and
    seconds so far), as rlcore's learners record theirs; with
    ``stop_when_solved`` training stops once the last 100 returns average 475.
    """
    _algo(algo, config)
    check_nonnegative_int(seed, "seed")
    check_flag(stop_when_solved, "stop_when_solved")
    from stable_baselines3 import A2C, DQN
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    log: dict[str, list[float]] = {"r": [], "l": [], "steps": [], "t": []}

    class _Record(BaseCallback):
        def _on_training_start(self) -> None:
            self.t0 = time.perf_counter()

        def _on_step(self) -> bool:
            for info in self.locals["infos"]:
                if "episode" in info:
                    log["r"].append(info["episode"]["r"])
                    log["l"].append(info["episode"]["l"])
                    log["steps"].append(self.num_timesteps)
                    log["t"].append(time.perf_counter() - self.t0)
            r = log["r"]
            return not (stop_when_solved and len(r) >= WINDOW and np.mean(r[-WINDOW:]) >= SOLVED)

    n_envs = getattr(config, "n_envs", 1)
    env = make_vec_env(ENV_ID, n_envs=n_envs, seed=seed)
    cls = DQN if algo == "dqn" else A2C
    model = cls("MlpPolicy", env, seed=seed, device="cpu", verbose=0, **_sb3_kwargs(algo, config))
    model.learn(total_timesteps=config.total_timesteps, callback=_Record())
    return ControlResult(np.asarray(log["r"], float), np.asarray(log["l"], int), np.asarray(log["steps"], int),
                         int(model.num_timesteps), model=model, episode_end_times=np.asarray(log["t"], float))


def _ours(algo: str, config: Any, seed: int) -> ControlResult:
    """rlcore's learner, stopping as SB3's run does once the training criterion is met."""
    return (dqn if algo == "dqn" else a2c)(ENV_ID, replace(config, stop_return=SOLVED), seed=seed)


class _SB3Greedy(torch.nn.Module):
    """SB3's deterministic action as a one-hot score vector.

    [`greedy_returns`][rlcore.approx.common.greedy_returns] can then run it like a Q-network.
    """

    def __init__(self, model: Any, n_actions: int):
        super().__init__()
        self.model, self.n_actions = model, n_actions

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        action, _ = self.model.predict(x.numpy(), deterministic=True)
        return torch.nn.functional.one_hot(torch.as_tensor(int(action)), self.n_actions)


def greedy_score(algo: str, run: ControlResult, ours: bool, n_episodes: int = 20) -> float:
    """Mean return of ``n_episodes`` greedy episodes of a finished run's policy (starts seeded 1000, 1001, ...)."""
    check_choice(algo, "algo", ("dqn", "a2c"))
    check_instance(run, "run", ControlResult)
    check_flag(ours, "ours")
    check_positive_int(n_episodes, "n_episodes")
    m = run.model
    ok = (isinstance(m, torch.nn.Module) if algo == "dqn" else isinstance(m, tuple) and len(m) == 2) if ours \
        else hasattr(m, "predict")
    what = ("a Q-network" if algo == "dqn" else "the pair (actor, critic)") if ours else "a stable-baselines3 model"
    if not ok:
        raise ValueError(f"run.model must be {what} for algo={algo!r}, ours={ours}, got {type(m).__name__}")
    net = (run.model if algo == "dqn" else run.model[0]) if ours else _SB3Greedy(run.model, 2)
    return float(greedy_returns(ENV_ID, net, n_episodes, seed=1000).mean())


def _cell(r: ControlResult, greedy: float) -> str:
    hit = r.solved_at(SOLVED, WINDOW)
    tail = f", greedy {greedy:.1f}"
    if hit is None:
        return f"not solved in {r.total_steps:,} steps{tail}"
    return f"{hit[0]} ep / {hit[1]:,} steps / {r.seconds_to(SOLVED, WINDOW):.1f} s{tail}"


def compare(algo: str, config: Any, seeds: tuple[int, ...] = (0, 1, 2)) -> BenchResult:
    """One table row: rlcore's ``algo`` and SB3's on the same seeds, with per-seed episodes, steps and seconds."""
    _algo(algo, config)
    seeds = _seeds(seeds)
    torch.set_num_threads(1)  # both libraries on one thread, so the wall-clock comparison is like for like
    ours = [_ours(algo, config, s) for s in seeds]
    theirs = [sb3_run(algo, config, s) for s in seeds]
    both = [i for i in range(len(seeds)) if ours[i].solved_at(SOLVED, WINDOW) and theirs[i].solved_at(SOLVED, WINDOW)]

    def med(runs: list[ControlResult], pick: Any) -> float:
        return float(np.median([pick(runs[i]) for i in both])) if both else math.nan

    t_ours = med(ours, lambda r: r.seconds_to(SOLVED, WINDOW))
    t_sb3 = med(theirs, lambda r: r.seconds_to(SOLVED, WINDOW))
    episodes = lambda r: r.solved_at(SOLVED, WINDOW)[0]  # noqa: E731
    ep_ratio = med(ours, episodes) / med(theirs, episodes)
    g_ours = [greedy_score(algo, r, True) for r in ours]
    g_sb3 = [greedy_score(algo, r, False) for r in theirs]
    per_seed = "; ".join(f"seed {s}: rlcore {_cell(a, ga)}, SB3 {_cell(b, gb)}"
                         for s, a, b, ga, gb in zip(seeds, ours, theirs, g_ours, g_sb3))
    solved = sum(r.solved_at(SOLVED, WINDOW) is not None or g >= SOLVED for r, g in zip(ours, g_ours))
    return BenchResult(f"{algo.upper()} on {ENV_ID} to mean return {SOLVED:g} (last {WINDOW} episodes)",
                       t_ours, t_sb3 if both else None, t_sb3 / t_ours if both else None,
                       "rlcore solves most seeds (training or greedy)", solved * 2 > len(seeds),
                       f"episodes rlcore/SB3 {ep_ratio:.2f}x (median of {len(both)} seeds both solved); {per_seed}")


def run_approx(quick: bool = False, seeds: tuple[int, ...] = (0, 1, 2)) -> list[BenchResult]:
    """The rows of ``rlcore bench --suite approx``; ``quick`` runs one seed on a tenth of the budget (a smoke test)."""
    check_flag(quick, "quick")
    seeds = _seeds(seeds)
    rows = []
    for algo, cfg in (("dqn", DQNConfig()), ("a2c", A2CConfig())):
        if quick:
            cfg = replace(cfg, total_timesteps=max(cfg.total_timesteps // 10, 2000))
        rows.append(compare(algo, cfg, seeds[:1] if quick else seeds))
    return rows
