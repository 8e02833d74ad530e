"""Function approximation, the bridge from tables to networks (book chapter 3, "From tables to networks").

One idea per module: ``common`` (the seeded MLP, the episode log every
control learner returns), ``tiles`` (tile coding), ``linear`` (semi-gradient
TD(0) and SARSA with linear values), ``baird`` (Baird's counterexample and its
error measures), ``off_policy_td`` (off-policy semi-gradient TD, its on-policy
and expected counterparts, TDC), ``replay`` (the replay buffer), ``dqn_config``
and ``dqn`` (deep Q-learning), ``a2c_config`` and ``a2c`` (the synchronous
advantage actor-critic). Importing this package imports torch.
"""

from rlcore.approx.a2c import a2c, a2c_loss, collect_rollout
from rlcore.approx.a2c_config import A2CConfig, vector_env
from rlcore.approx.baird import Baird, BairdResult, baird_features, projected_bellman_error, value_error
from rlcore.approx.common import ControlResult, greedy_returns, mlp, moving_average
from rlcore.approx.dqn import dqn, dqn_loss
from rlcore.approx.dqn_config import DQNConfig
from rlcore.approx.linear import PredictionResult, TiledQ, semi_gradient_sarsa, semi_gradient_td0
from rlcore.approx.off_policy_td import (
    expected_tdc,
    off_policy_semi_gradient_td,
    on_policy_semi_gradient_td,
    semi_gradient_dp,
    tdc,
)
from rlcore.approx.replay import ReplayBuffer
from rlcore.approx.tiles import TileCoder

__all__ = [
    "ControlResult", "mlp", "moving_average", "TileCoder", "PredictionResult", "TiledQ", "semi_gradient_td0",
    "semi_gradient_sarsa", "Baird", "BairdResult", "baird_features", "value_error", "projected_bellman_error",
    "off_policy_semi_gradient_td", "on_policy_semi_gradient_td", "semi_gradient_dp", "tdc", "expected_tdc",
    "ReplayBuffer", "DQNConfig", "dqn", "dqn_loss", "greedy_returns", "A2CConfig", "vector_env", "a2c", "a2c_loss",
    "collect_rollout",
]
