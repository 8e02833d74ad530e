"""Exercises for chapter 3, *Sequential decision making*: exploration rules, TD targets and updates, GAE.

Companion notebook: notebooks/04_td_learning_and_exploration.ipynb.
Fill in each function body (replace the ``raise NotImplementedError``), then check your work with

    python -m pytest tests/exercises --student -k ex04
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (you will need it)


def epsilon_greedy_probs(q, epsilon: float):
    """Action probabilities of the epsilon-greedy policy in one state.

    ``pi(a|s) = epsilon / |A| + (1 - epsilon) * [a is greedy] / (number of greedy actions)``

    Parameters
    ----------
    q : ``[A]`` array, the action values ``Q(s, .)`` of one state.
    epsilon : exploration rate in ``[0, 1]``.

    Returns
    -------
    ``[A]`` array of probabilities summing to one; tied greedy actions share the greedy mass.
    """
    raise NotImplementedError("every action gets epsilon / |A|; the greedy actions share the remaining 1 - epsilon")


def boltzmann_probs(q, temperature: float):
    """Softmax (Boltzmann) policy in one state: ``pi(a|s) = exp(Q(s,a)/tau) / sum_b exp(Q(s,b)/tau)``.

    Parameters
    ----------
    q : ``[A]`` array of action values; temperature : ``tau > 0``.

    Returns
    -------
    ``[A]`` array of probabilities. Must not overflow for large ``q / tau`` (e.g. ``q = [1000, 0]``).
    """
    raise NotImplementedError("subtract max(q / temperature) before np.exp so nothing overflows")


def td_target(reward, next_value, gamma: float, terminated, truncated):
    """One-step TD target ``y = r + gamma * (1 - terminated) * V(s')``.

    Parameters
    ----------
    reward : float or ``[N]`` array, ``r``.
    next_value : float or ``[N]`` array, the current estimate ``V(s')`` (for Q-learning ``max_a' Q(s', a')``).
    gamma : discount factor.
    terminated : bool or ``[N]`` bool array, the episode really ended at ``s'``.
    truncated : bool or ``[N]`` bool array, the episode was cut off by a time limit at ``s'``.

    Returns
    -------
    float or ``[N]`` array, the target ``y``.
    """
    raise NotImplementedError("only `terminated` removes the bootstrap term; a truncated episode still bootstraps")


def q_learning_update(Q, s: int, a: int, r: float, s_next: int, terminated: bool, alpha: float, gamma: float):
    """One Q-learning update.

    ``Q(s,a) <- Q(s,a) + alpha * [ r + gamma * (1 - terminated) * max_a' Q(s',a') - Q(s,a) ]``

    Parameters
    ----------
    Q : ``[S, A]`` array of action values.
    s, a, r, s_next : the transition ``(s, a, r, s')``.
    terminated : whether ``s'`` ends the episode (then nothing is bootstrapped).
    alpha : step size; gamma : discount factor.

    Returns
    -------
    ``[S, A]`` array, the updated table (a new array; ``Q`` itself is left unchanged).
    """
    raise NotImplementedError("copy Q first (np.array(Q, dtype=float)); the target uses max over Q[s_next]")


def sarsa_update(Q, s: int, a: int, r: float, s_next: int, a_next: int, terminated: bool,
                 alpha: float, gamma: float):
    """One SARSA update, bootstrapping from the action actually taken next.

    ``Q(s,a) <- Q(s,a) + alpha * [ r + gamma * (1 - terminated) * Q(s',a') - Q(s,a) ]``

    Parameters
    ----------
    Q : ``[S, A]`` array; s, a, r, s_next, a_next : the quintuple ``(s, a, r, s', a')``;
    terminated : bool; alpha : step size; gamma : discount factor.

    Returns
    -------
    ``[S, A]`` array, the updated table (a new array; ``Q`` itself is left unchanged).
    """
    raise NotImplementedError("as Q-learning, but bootstrap from Q[s_next, a_next] instead of the max")


def gae_advantages(rewards, values, last_value: float, gamma: float, lam: float, terminated: bool):
    """Generalised advantage estimation for one episode fragment of length ``T``.

    ``delta_t = r_t + gamma * V(s_{t+1}) - V(s_t)``, with ``V(s_T) = last_value``, or 0 if ``terminated``;
    ``A_t = delta_t + gamma * lam * A_{t+1}``, computed backwards from ``A_T = 0``.

    Parameters
    ----------
    rewards : ``[T]`` array; values : ``[T]`` array, ``V(s_0) .. V(s_{T-1})``.
    last_value : ``V(s_T)``, the value after the last step (used only when not terminated).
    gamma, lam : discount factor and GAE parameter, both in ``[0, 1]``.
    terminated : whether the fragment ends with a real termination.

    Returns
    -------
    ``[T]`` array of advantages ``A_t``.
    """
    raise NotImplementedError("compute all delta_t, then A_t = delta_t + gamma * lam * A_{t+1} from t = T-1 down")
