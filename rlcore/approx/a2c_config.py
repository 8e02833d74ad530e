"""What synchronous advantage actor-critic is given: its hyper-parameters (checked when built) and its vector env.

Book: *Sequential decision making*, "From tables to networks" (actor-critic).

Field names are stable-baselines3's (``n_envs``, ``n_steps``, ``gae_lambda``,
``ent_coef``, ``vf_coef``, ``max_grad_norm``, ``normalize_advantage``,
``use_rms_prop``, ``rms_prop_eps``), so a run can be repeated in SB3 with the
same numbers. The defaults solve ``CartPole-v1`` (see [`a2c`][rlcore.approx.a2c.a2c]).
[`vector_env`][rlcore.approx.a2c_config.vector_env] turns what the user passes
(an id, a factory, an env or a vector env) into ``n_envs`` synchronous copies
in gymnasium's ``SAME_STEP`` autoreset mode, where every step is a real transition.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from rlcore.approx.common import _gym_make, check_control_spaces, check_network
from rlcore.core.validation import check_flag, check_positive_int, check_real, check_unit_interval

__all__ = ["A2CConfig", "vector_env"]

SAME_STEP = gym.vector.AutoresetMode.SAME_STEP


@dataclass(frozen=True)
class A2CConfig:
    """Hyper-parameters of [`a2c`][rlcore.approx.a2c.a2c]; every field is checked when the config is built.

    One update uses ``n_envs * n_steps`` transitions, so ``total_timesteps`` buys
    ``ceil(total_timesteps / (n_envs * n_steps))`` gradient steps.

    The defaults are stable-baselines3's A2C defaults (RMSprop, ``gae_lambda = 1``:
    plain n-step returns, no advantage normalisation, ``vf_coef = 0.5``,
    ``max_grad_norm = 0.5``, ``ent_coef = 0``) with the RL-zoo's 8 copies for
    CartPole, but ``n_steps = 8`` instead of 5 and ``learning_rate = 1e-3``
    instead of 7e-4: on ``CartPole-v1`` that reached a mean training return of
    475 over 100 episodes in 125k-190k steps on each of seeds 0-5 (fewer
    updates, so faster per step, than SB3's 5 steps, which took 120k-220k).
    """

    n_envs: int = 8
    """parallel copies of the environment, stepped together (a batch of ``n_envs`` states per forward pass)"""
    n_steps: int = 8
    """steps taken in each copy per update: the rollout is ``[n_steps, n_envs]`` transitions"""
    learning_rate: float = 1e-3
    """optimiser step size (actor and critic share one optimiser)"""
    gamma: float = 0.99
    """discount factor"""
    gae_lambda: float = 1.0
    """GAE's lambda: 1.0 gives plain n-step returns ``G_t - V(s_t)`` cut at the rollout's end, 0.0 one-step TD"""
    ent_coef: float = 0.0
    """weight of the entropy bonus ``-ent_coef * H[pi(.|s)]`` in the loss"""
    vf_coef: float = 0.5
    """weight of the value loss ``vf_coef * (V(s) - G)^2``"""
    max_grad_norm: float | None = 0.5
    """clip the joint gradient norm of actor and critic to this (None: no clipping)"""
    normalize_advantage: bool = False
    """standardise the advantages of each update to mean 0, standard deviation 1"""
    use_rms_prop: bool = True
    """RMSprop (alpha 0.99, as in the original A2C and SB3's default) instead of Adam"""
    rms_prop_eps: float = 1e-5
    """the optimiser's epsilon (RMSprop's or Adam's)"""
    total_timesteps: int = 300_000
    """environment steps in all (over every copy)"""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """widths of the hidden layers of the actor and of the critic (two separate networks)"""
    activation: str = "tanh"
    """hidden-layer non-linearity, ``"tanh"`` or ``"relu"``"""
    stop_return: float | None = None
    """stop early once the mean return of the last ``stop_window`` finished episodes reaches this (None: never)"""
    stop_window: int = 100
    """episodes averaged for ``stop_return``"""

    def __post_init__(self) -> None:
        name = type(self).__name__
        for f in ("n_envs", "n_steps", "total_timesteps", "stop_window"):
            check_positive_int(getattr(self, f), f"{name}.{f}")
        for f in ("gamma", "gae_lambda"):
            check_unit_interval(getattr(self, f), f"{name}.{f}")
        for f in ("learning_rate", "rms_prop_eps"):
            check_real(getattr(self, f), f"{name}.{f}", open_low=True)
        for f in ("ent_coef", "vf_coef"):
            check_real(getattr(self, f), f"{name}.{f}")
        check_real(self.max_grad_norm, f"{name}.max_grad_norm", open_low=True, none=True)
        check_real(self.stop_return, f"{name}.stop_return", low=-math.inf, open_low=True, none=True)
        for f in ("normalize_advantage", "use_rms_prop"):
            check_flag(getattr(self, f), f"{name}.{f}")
        object.__setattr__(self, "hidden_sizes", check_network(self.hidden_sizes, self.activation, name))
        if self.normalize_advantage and self.n_envs * self.n_steps < 2:
            raise ValueError(f"{name}.normalize_advantage needs at least 2 transitions per update, got "
                             f"n_envs * n_steps = {self.n_envs * self.n_steps}")

    @property
    def batch_size(self) -> int:
        """Transitions per update, ``n_envs * n_steps``."""
        return self.n_envs * self.n_steps


def vector_env(env: Any, n_envs: int) -> tuple[gym.vector.VectorEnv, bool]:
    """``(vector env, made here)``: ``n_envs`` copies of ``env`` in a synchronous vector env, ``SAME_STEP`` autoreset.

    ``env`` is a registered id (``"CartPole-v1"``) or ``EnvSpec``, a function
    returning a fresh ``gym.Env``, a ``gym.Env`` made by ``gym.make`` (copied
    through its spec), or a ``gym.vector.VectorEnv`` already in ``SAME_STEP``
    mode with ``n_envs`` copies. Action spaces must be ``Discrete``,
    observation spaces ``Box``.
    """
    n_envs = check_positive_int(n_envs, "n_envs")
    made = not isinstance(env, gym.vector.VectorEnv)
    if not made:
        mode = env.metadata.get("autoreset_mode")
        if mode != SAME_STEP:
            raise ValueError(f"env: a vector env must use autoreset_mode=AutoresetMode.SAME_STEP (so that every "
                             f"step is a real transition), got autoreset_mode={mode!r}")
        if env.num_envs != n_envs:
            raise ValueError(f"env has {env.num_envs} copies but n_envs (config.n_envs) is {n_envs}")
        venv = env
    elif isinstance(env, (str, gym.Env, gym.envs.registration.EnvSpec)):
        if isinstance(env, gym.Env):
            if env.spec is None:
                raise TypeError("env: a gym.Env without a spec cannot be copied into n_envs copies; pass its "
                                "id, a function that makes one, or a SAME_STEP vector env")
            env = env.spec
        venv = _gym_make(gym.make_vec, env, num_envs=n_envs, vectorization_mode="sync",
                         vector_kwargs={"autoreset_mode": SAME_STEP})
    elif callable(env):
        venv = gym.vector.SyncVectorEnv([_checked_factory(env)] * n_envs, autoreset_mode=SAME_STEP)
    else:
        raise TypeError("env must be an environment id, an EnvSpec, a gym.Env, a function returning one, or a "
                        f"gym.vector.VectorEnv, got {type(env).__name__}")
    try:
        check_control_spaces(venv.single_action_space, venv.single_observation_space)
    except TypeError:
        if made:
            venv.close()
        raise
    return venv, made


def _checked_factory(factory: Callable[[], Any]) -> Callable[[], gym.Env]:
    def make() -> gym.Env:
        e = factory()
        if not isinstance(e, gym.Env):
            raise TypeError(f"env: the function passed as env must return a gym.Env, got {type(e).__name__}")
        return e
    return make
