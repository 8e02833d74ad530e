"""Shared fixtures for the rlcore test suite."""

from __future__ import annotations

import os

import matplotlib
import pytest

matplotlib.use("Agg")

from rlcore import TabularMDP  # noqa: E402
from rlcore.core.random_mdp import random_mdp as library_random_mdp  # noqa: E402


def random_mdp(seed: int, n_states: int = 6, n_actions: int = 3, gamma: float = 0.9,
               sparsity: float = 0.5, n_terminal: int = 0) -> TabularMDP:
    """A random dense MDP (the library's generator): Dirichlet rows with some zeros, Gaussian rewards."""
    return library_random_mdp(n_states, n_actions, gamma=gamma, seed=seed, reward="normal", sparsity=sparsity,
                              n_terminal=n_terminal)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny torch models run fastest on one thread, and do not stall when other processes share the CPU."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def mdp_factory():
    return random_mdp


def pytest_configure(config):
    # Hypothesis: a fixed, modest budget so CI time is predictable.
    from hypothesis import HealthCheck, settings

    settings.register_profile("rlcore", max_examples=40, deadline=None, derandomize=True,
                              suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "rlcore"))
