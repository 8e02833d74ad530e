"""Shared fixtures for the rlcore test suite."""

from __future__ import annotations

import os

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from rlcore import TabularMDP  # noqa: E402


def random_mdp(seed: int, n_states: int = 6, n_actions: int = 3, gamma: float = 0.9,
               sparsity: float = 0.5, n_terminal: int = 0) -> TabularMDP:
    """A random dense MDP: Dirichlet rows with some zeros, Gaussian rewards."""
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(n_states), size=(n_states, n_actions))
    P = P * (rng.random(P.shape) > sparsity)
    P[..., rng.integers(n_states, size=(n_states, n_actions))] += 0  # keep shape
    empty = P.sum(axis=2) == 0
    P[empty, 0] = 1.0
    P /= P.sum(axis=2, keepdims=True)
    R = rng.normal(size=(n_states, n_actions, n_states))
    terminal = list(range(n_terminal)) if n_terminal else None
    return TabularMDP.from_dense(P, R, gamma=gamma, terminal=terminal)


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
