"""What the approximate learners share: a seeded MLP, the episode log and its "solved" test.

Book: *Sequential decision making*, "From tables to networks".

[`make_env`][rlcore.approx.common.make_env] and
[`check_control_spaces`][rlcore.approx.common.check_control_spaces] accept the tasks the
network learners handle, [`greedy_returns`][rlcore.approx.common.greedy_returns] scores any
network that ranks actions (a Q-network or an actor), and every control learner returns a
[`ControlResult`][rlcore.approx.common.ControlResult]:
the undiscounted return and length of every finished episode, with the
number of environment steps taken when it finished, so learning curves can
be drawn against episodes or against steps, and two learners can be compared
on the same budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from rlcore.core.exploration import checked_schedule
from rlcore.core.validation import (
    check_array,
    check_choice,
    check_device,
    check_flag,
    check_instance,
    check_nonnegative_int,
    check_positive_int,
    check_real,
    check_unit_interval,
)

__all__ = ["ACTIVATIONS", "mlp", "check_network", "check_control_spaces", "make_env",
           "greedy_returns", "ControlResult", "moving_average"]

ACTIVATIONS = ("tanh", "relu")


def mlp(sizes: tuple[int, ...] | list[int], activation: str = "tanh", seed: int | None = None,
        device: Any = None, dtype: Any = None) -> Any:
    """A fully connected network ``sizes[0] -> ... -> sizes[-1]``, linear at the output.

    With ``seed`` the weights are drawn from their own seeded stream (the
    global torch generator is left as it was), so the same seed gives the
    same network bit for bit. Returns a ``torch.nn.Sequential`` (torch is imported here, on
    first use, so the numpy-only learners of this layer start without it).
    """
    import torch
    from torch import nn

    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise TypeError(f"sizes must be a list of layer widths, got {type(sizes).__name__}")
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output width, got {sizes!r}")
    for i, n in enumerate(sizes):
        check_positive_int(n, f"sizes[{i}]")
    check_choice(activation, "activation", ACTIVATIONS)
    check_nonnegative_int(seed, "seed", none=True)
    device = None if device is None else check_device(device, none=False)
    if dtype is not None and not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"dtype must be a floating torch dtype such as torch.float32 or None, got {dtype!r}")
    act = {"tanh": nn.Tanh, "relu": nn.ReLU}[activation]
    layers: list[nn.Module] = []
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(act())
    net = nn.Sequential(*layers)
    if device is not None or dtype is not None:
        net.to(device=device, dtype=dtype)
    return net


def check_network(hidden_sizes: Any, activation: Any, name: str) -> tuple[int, ...]:
    """A config's ``hidden_sizes`` as a tuple of ints ``>= 1``, after checking that ``activation`` is known."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"{name}.activation must be one of {ACTIVATIONS}, got {activation!r}")
    if isinstance(hidden_sizes, (str, bytes)) or not hasattr(hidden_sizes, "__iter__"):
        raise ValueError(f"{name}.hidden_sizes must be a sequence of positive integers, got {hidden_sizes!r}")
    return tuple(check_positive_int(n, f"{name}.hidden_sizes[{i}]") for i, n in enumerate(tuple(hidden_sizes)))


def check_control_spaces(action_space: Any, observation_space: Any) -> None:
    """The spaces the network learners handle: ``Discrete`` actions, ``Box`` observations (else ``TypeError``)."""
    if not isinstance(action_space, gym.spaces.Discrete) or not isinstance(observation_space, gym.spaces.Box):
        raise TypeError("env must have a Discrete action space and a Box observation space, got "
                        f"{type(action_space).__name__} and {type(observation_space).__name__} "
                        "(action_space and observation_space)")


def _gym_make(factory: Any, env_id: Any, **kwargs: Any) -> Any:
    """``factory(env_id, **kwargs)`` (``gym.make`` or ``gym.make_vec``), its errors as a ``ValueError`` on ``env``."""
    try:
        return factory(env_id, **kwargs)
    except gym.error.Error as e:
        raise ValueError(f"env: gymnasium cannot make {env_id!r}: {e}") from None


def _episodic_checks(env: Any, n_episodes: Any, alpha: Any, gamma: Any, max_steps: Any, seed: Any,
                     progress: Any) -> tuple[int, Any, float, int]:
    """The arguments the linear learners share, checked: ``(n_episodes, alpha schedule, gamma, step limit or -1)``."""
    check_instance(env, "env", gym.Env, "a gymnasium Env")
    check_nonnegative_int(seed, "seed", none=True)
    check_flag(progress, "progress")
    n_episodes = check_positive_int(n_episodes, "n_episodes")
    alpha_fn = checked_schedule(alpha, "alpha", 5e-324, math.inf, "(0, inf)")
    gamma = check_unit_interval(gamma, "gamma")
    max_steps = check_positive_int(max_steps, "max_steps", none=True)
    return n_episodes, alpha_fn, gamma, -1 if max_steps is None else max_steps


def make_env(env: Any) -> tuple[gym.Env, bool]:
    """``(env, made here)``: ``gym.make(env)`` for an id string, else ``env`` itself.

    Raises ``TypeError`` unless the environment has a ``Box`` observation space
    and a ``Discrete`` action space.
    """
    made = isinstance(env, str)
    if made:
        env = _gym_make(gym.make, env)
    elif not isinstance(env, gym.Env):
        raise TypeError(f"env must be a gymnasium environment id (e.g. 'CartPole-v1') or a gym.Env, "
                        f"got {type(env).__name__}")
    try:
        check_control_spaces(env.action_space, env.observation_space)
    except TypeError:
        if made:
            env.close()
        raise
    return env, made


def greedy_returns(env: Any, q_network: Any, n_episodes: int = 10, seed: int = 0, device: Any = "cpu") -> np.ndarray:
    """Undiscounted returns of ``n_episodes`` episodes acting greedily, ``a = argmax_a Q(s, a)``.

    Episode ``i`` starts from ``env.reset(seed=seed + i)``, so the same seed
    gives the same starts; episodes end at termination or truncation. ``q_network``
    is any torch module scoring the actions: a Q-network, or an actor's logits.
    """
    import torch

    n_episodes = check_positive_int(n_episodes, "n_episodes")
    seed = check_nonnegative_int(seed, "seed")
    check_instance(q_network, "q_network", torch.nn.Module, "a torch nn.Module")
    device = check_device(device, none=False)
    env, made = make_env(env)
    out = np.zeros(n_episodes)
    n_actions, first = int(env.action_space.n), True
    try:
        for i in range(n_episodes):
            obs, _ = env.reset(seed=seed + i)
            done = False
            while not done:
                with torch.no_grad():
                    x = torch.as_tensor(np.asarray(obs, np.float32).reshape(-1), device=device)
                    if first:  # one checked call: the network must score this env's actions
                        try:
                            scores = q_network(x)
                        except RuntimeError as e:
                            raise ValueError(f"q_network cannot take this env's observations {tuple(x.shape)}: "
                                             f"{e}") from None
                        if tuple(scores.shape) != (n_actions,):
                            raise ValueError(f"q_network must give {n_actions} action scores per observation, got "
                                             f"shape {tuple(scores.shape)}")
                        first = False
                    else:
                        scores = q_network(x)
                    a = int(scores.argmax())
                obs, r, terminated, truncated, _ = env.step(a)
                out[i] += float(r)
                done = terminated or truncated
    finally:
        if made:
            env.close()
    return out


def moving_average(x: Any, window: int) -> np.ndarray:
    """Trailing mean ``m_i = mean(x[max(0, i - window + 1) : i + 1])``: the first entries average fewer points."""
    window = check_positive_int(window, "window")
    x = check_array(x, "x", ndim=1, allow_empty=True)
    c = np.concatenate([[0.0], np.cumsum(x)])
    i = np.arange(1, len(x) + 1)
    lo = np.maximum(i - window, 0)
    return (c[i] - c[lo]) / (i - lo)


@dataclass(frozen=True)
class ControlResult:
    """Outcome of a run of an approximate control learner.

    Attributes
    ----------
    episode_returns
        ``[n]`` undiscounted sum of rewards of each finished episode, in the order they finished.
    episode_lengths
        ``[n]`` steps of each finished episode.
    episode_end_steps
        ``[n]`` total environment steps taken (over all parallel copies) when each episode finished.
    total_steps
        Environment steps taken in all.
    model
        What was learned: a weight vector, a network, or a tuple of them (see each learner).
    info
        Per-update diagnostics (losses, epsilon, ...), arrays keyed by name.
    episode_end_times
        ``[n]`` seconds since the start of training when each episode finished (``None`` if not timed).
    """

    episode_returns: np.ndarray
    episode_lengths: np.ndarray
    episode_end_steps: np.ndarray
    total_steps: int
    model: Any = field(repr=False, default=None)
    info: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    episode_end_times: np.ndarray | None = field(repr=False, default=None)

    def __post_init__(self) -> None:
        n = len(check_array(self.episode_returns, "episode_returns", ndim=1, allow_empty=True))
        for f in ("episode_lengths", "episode_end_steps", "episode_end_times"):
            if f != "episode_end_times" or self.episode_end_times is not None:
                check_array(getattr(self, f), f, shape=(n,), allow_empty=True)
        check_nonnegative_int(self.total_steps, "total_steps")
        check_instance(self.info, "info", dict)

    def solved_at(self, threshold: float, window: int = 100) -> tuple[int, int] | None:
        """``(episodes, steps)`` when the mean return of the last ``window`` episodes first reached ``threshold``.

        Only full windows count; ``None`` when it never did.
        """
        window = check_positive_int(window, "window")
        check_real(threshold, "threshold", low=-math.inf, open_low=True)
        r = np.asarray(self.episode_returns, dtype=float)
        if len(r) < window:
            return None
        c = np.concatenate([[0.0], np.cumsum(r)])
        means = (c[window:] - c[:-window]) / window
        hit = np.flatnonzero(means >= threshold)
        if len(hit) == 0:
            return None
        k = int(hit[0]) + window  # episodes finished
        return k, int(self.episode_end_steps[k - 1])

    def seconds_to(self, threshold: float, window: int = 100) -> float | None:
        """Wall-clock seconds until [`solved_at`][rlcore.approx.common.ControlResult.solved_at] was reached.

        ``None`` when the threshold was never reached or the run was not timed.
        """
        hit = self.solved_at(threshold, window)
        if hit is None or self.episode_end_times is None:
            return None
        return float(self.episode_end_times[hit[0] - 1])

    def __repr__(self) -> str:
        n = len(self.episode_returns)
        last = self.episode_returns[-min(n, 100):]
        tail = f"mean return of the last {len(last)}: {last.mean():.4g}" if n else "no finished episode"
        return f"ControlResult({n} episodes, {self.total_steps} steps, {tail})"
