"""Options on four rooms: the grid, hallway options, option models, SMDP planning and the two learners.

References written here: the transition model by a loop over directions, the option model by
iterating its defining recursion state by state, value iteration as a plain loop, a plain
Q-learning loop drawing the same random numbers, and update rules worked by hand.
"""

import numpy as np
import pytest

from rlcore.advanced.options import (
    Option,
    hallway_options,
    option_model,
    option_models,
    primitive_options,
    smdp_value_iteration,
)
from rlcore.advanced.smdp_learning import (
    intra_option_q_learning,
    intra_option_update,
    smdp_q_learning,
    smdp_q_update,
)
from rlcore.envs.rooms import FOUR_ROOMS, four_rooms

DELTAS = ((-1, 0), (0, 1), (1, 0), (0, -1))


@pytest.fixture(scope="module")
def rooms():
    return four_rooms()


def plain_value_iteration(mdp, sweeps):
    """Iterates V_k of V(s) = max_a sum_k p (r + gamma (1 - done) V(s')), one state and action at a time."""
    V = np.zeros(mdp.n_states)
    out = [V.copy()]
    for _ in range(sweeps):
        new = np.zeros(mdp.n_states)
        for s in range(mdp.n_states):
            if mdp.terminal[s]:
                continue
            q = [sum(mdp.prob[s, a, k] * (mdp.reward[s, a, k] + mdp.gamma * (not mdp.done[s, a, k])
                                           * V[mdp.next_state[s, a, k]]) for k in range(mdp.n_successors))
                 for a in range(mdp.n_actions)]
            new[s] = max(q)
        V = new
        out.append(V.copy())
    return out


def test_layout_rooms_hallways_and_moves(rooms):
    grid = rooms.grid
    assert rooms.mdp.n_states == sum(row.count(".") for row in FOUR_ROOMS) == 104
    assert np.bincount(rooms.room_of[rooms.room_of >= 0]).tolist() == [25, 30, 25, 20]
    for h in rooms.hallways:  # a hallway touches exactly two rooms
        r, c = grid.positions[h]
        touching = {int(rooms.room_of[grid.state_of(r + dr, c + dc)]) for dr, dc in DELTAS
                    if FOUR_ROOMS[r + dr][c + dc] != "#"}
        assert len(touching - {-1}) == 2 and rooms.room_of[h] == -1
    mdp = rooms.mdp
    for s in (0, 17, rooms.hallways[0], 80):
        r, c = grid.positions[s]
        for a in range(4):
            expected = {}
            for b, (dr, dc) in enumerate(DELTAS):
                dest = s if FOUR_ROOMS[r + dr][c + dc] == "#" else grid.state_of(r + dr, c + dc)
                expected[dest] = expected.get(dest, 0.0) + (2 / 3 if b == a else 1 / 9)
            got = {}
            for k in range(mdp.n_successors):
                got[int(mdp.next_state[s, a, k])] = got.get(int(mdp.next_state[s, a, k]), 0.0) + mdp.prob[s, a, k]
            assert got.keys() == expected.keys() and all(got[x] == pytest.approx(expected[x]) for x in got)
    assert mdp.terminal.sum() == 1 and mdp.terminal[rooms.goal] and mdp.initial[grid.state_of(1, 1)] == 1.0
    for bad in ({"goal": (0, 0)}, {"goal": (3, 6.0)}, {"start": (7, 9)}, {"success": 1.5}):
        with pytest.raises(ValueError):
            four_rooms(**bad)


def test_hallway_options_walk_to_their_hallway(rooms):
    options = hallway_options(rooms)
    move = rooms.mdp.next_state[:, 0, :]
    # names read "room->(row,col)" with the target hallway's cell
    targets = [rooms.grid.state_of(*map(int, o.name.split("->")[1].strip("()").split(","))) for o in options]
    assert len(options) == 8 and sorted(targets) == sorted(list(rooms.hallways) * 2)
    for o, h in zip(options, targets):
        r = ("NW", "NE", "SW", "SE").index(o.name[:2])
        other = next(x for x in rooms.room_hallways[r] if x != h)
        # the option may start in its room and in the room's other hallway, unless that is the goal
        assert o.initiation.sum() == (rooms.room_of == r).sum() + (other != rooms.goal)
        for s in np.flatnonzero(o.initiation):
            path = [s]
            while path[-1] != h and len(path) < 20:
                path.append(int(move[path[-1], o.policy[path[-1]]]))
            assert path[-1] == h and all(o.initiation[x] for x in path[:-1])
        assert np.all(o.termination[~o.initiation] == 1.0) and np.all(o.termination[o.initiation] == 0.0)


def test_option_model_solves_its_recursion(rooms):
    mdp, option = rooms.mdp, hallway_options(rooms)[3]
    R, P = option_model(mdp, option)
    R_ref, P_ref = np.zeros(mdp.n_states), np.zeros((mdp.n_states, mdp.n_states))
    zeta = option.termination
    for _ in range(400):  # R(s) = sum_k p [r + gamma (1 - zeta(s')) R(s')] over non-ending transitions
        R_new, P_new = np.zeros_like(R_ref), np.zeros_like(P_ref)
        for s in np.flatnonzero(~mdp.terminal):
            a = option.policy[s]
            for k in range(mdp.n_successors):
                p, x, r = mdp.prob[s, a, k], mdp.next_state[s, a, k], mdp.reward[s, a, k]
                R_new[s] += p * r
                if not mdp.done[s, a, k]:
                    R_new[s] += p * mdp.gamma * (1 - zeta[x]) * R_ref[x]
                    P_new[s] += p * mdp.gamma * (1 - zeta[x]) * P_ref[x]
                    P_new[s, x] += p * mdp.gamma * zeta[x]
        R_ref, P_ref = R_new, P_new
    np.testing.assert_allclose(R, R_ref, atol=1e-12)
    np.testing.assert_allclose(P, P_ref, atol=1e-12)
    # this option walks to the goal hallway: R is E[gamma^tau; it got there], P's rows E[gamma^tau; it slipped out]
    start = np.flatnonzero(option.initiation)
    total = R[start] + P[start].sum(axis=1)
    assert np.all(R[start] > 0) and np.all(total <= 1.0) and np.all(P[:, rooms.goal] == 0.0)
    with pytest.raises(ValueError, match="gamma < 1"):
        option_model(four_rooms(gamma=1.0).mdp, option)


def test_smdp_value_iteration_with_primitives_is_value_iteration(rooms):
    ref = plain_value_iteration(rooms.mdp, 300)
    flat = smdp_value_iteration(option_models(rooms.mdp, primitive_options(rooms.mdp)), tol=1e-12)
    for k in (1, 2, 5, 20):
        np.testing.assert_allclose(flat.history["V"][k], ref[k], atol=1e-12)
    both = smdp_value_iteration(option_models(rooms.mdp, primitive_options(rooms.mdp) + hallway_options(rooms)),
                                tol=1e-12)
    np.testing.assert_allclose(both.V, ref[-1], atol=1e-9)
    np.testing.assert_allclose(flat.V, ref[-1], atol=1e-9)
    # hallway options alone can only stop in hallways: a lower bound on V*, strictly below it somewhere
    only = smdp_value_iteration(option_models(rooms.mdp, hallway_options(rooms)), tol=1e-12)
    assert np.all(only.V <= ref[-1] + 1e-9) and np.any(only.V < ref[-1] - 1e-3)
    # options carry value across the grid in two sweeps; primitive moves reach a handful of cells
    assert (both.history["V"][2] > 0).sum() >= 100 and (flat.history["V"][2] > 0).sum() <= 10
    assert "SMDPResult" in repr(both) and both.converged


def test_update_rules_by_hand():
    Q = np.array([[0.0, 1.0], [2.0, 5.0]])
    delta = smdp_q_update(Q, 0, 1, G=0.5, k=3, s_next=1, ended=False, available_next=np.array([True, False]),
                          alpha=0.5, gamma=0.9)
    assert delta == pytest.approx(0.5 + 0.9 ** 3 * 2.0 - 1.0) and Q[0, 1] == pytest.approx(1.0 + 0.5 * delta)
    Q = np.array([[0.0, 1.0], [2.0, 5.0]])
    smdp_q_update(Q, 0, 0, G=0.5, k=2, s_next=1, ended=True, available_next=np.array([True, True]),
                  alpha=1.0, gamma=0.9)
    assert Q[0, 0] == 0.5
    Q = np.array([[1.0, 1.0, 0.0], [2.0, 4.0, 3.0]])
    intra_option_update(Q, 0, 2, r=1.0, s_next=1, ended=False, consistent=np.array([True, True, False]),
                        zeta_next=np.array([1.0, 0.25, 0.0]), available_next=np.array([True, False, True]),
                        alpha=0.5, gamma=0.5)
    # best available at s' is 3; U = [3, 0.75 * 4 + 0.25 * 3, .]
    assert Q[0].tolist() == pytest.approx([1.0 + 0.5 * (1 + 0.5 * 3 - 1), 1.0 + 0.5 * (1 + 0.5 * 3.75 - 1), 0.0])


def test_primitive_smdp_q_learning_is_q_learning(rooms):
    """A plain Q-learning loop that draws the documented random numbers in the same order gives the same Q."""
    mdp = rooms.mdp
    res = smdp_q_learning(mdp, primitive_options(mdp), 5, alpha=0.2, epsilon=0.3, seed=4)
    rng = np.random.default_rng(4)
    Q = np.zeros((mdp.n_states, 4))
    start = int(np.flatnonzero(mdp.initial)[0])
    for _ in range(5):
        assert rng.random() < 1.0  # the start draw (a single start cell)
        s, ended = start, False
        while not ended:
            greedy = Q[s] == Q[s].max()
            probs = 0.3 / 4 + 0.7 * greedy / greedy.sum()
            a = min(int(np.searchsorted(np.cumsum(probs), rng.random() * probs.sum(), side="right")), 3)
            cum = np.cumsum(mdp.prob[s, a])
            j = min(int(np.searchsorted(cum, rng.random() * cum[-1], side="right")), mdp.n_successors - 1)
            r, s2, ended = mdp.reward[s, a, j], mdp.next_state[s, a, j], mdp.done[s, a, j]
            if not ended:
                rng.random()  # the termination test of a primitive option (always stops)
            Q[s, a] += 0.2 * (r + (0.0 if ended else mdp.gamma * Q[s2].max()) - Q[s, a])
            s = s2
    np.testing.assert_allclose(res.Q, Q, atol=1e-15)


def test_options_reach_the_goal_in_fewer_steps_than_primitive_actions(rooms):
    """Seeds 0-9, 30 episodes each: with the hallway options beside the primitive actions, SMDP
    Q-learning needs on every seed less than half the primitive steps of Q-learning, and so
    does intra-option Q-learning."""
    mdp, A, H = rooms.mdp, primitive_options(rooms.mdp), hallway_options(rooms)
    for seed in range(10):
        flat = smdp_q_learning(mdp, A, 30, seed=seed).episode_steps.mean()
        smdp = smdp_q_learning(mdp, A + H, 30, seed=seed).episode_steps.mean()
        intra = intra_option_q_learning(mdp, A + H, 30, seed=seed).episode_steps.mean()
        assert smdp < 0.5 * flat and intra < 0.5 * flat, (seed, flat, smdp, intra)


def test_learners_are_reproducible_and_refuse_bad_input(rooms):
    mdp, opts = rooms.mdp, primitive_options(rooms.mdp) + hallway_options(rooms)
    a, b = intra_option_q_learning(mdp, opts, 5, seed=1), intra_option_q_learning(mdp, opts, 5, seed=1)
    c = intra_option_q_learning(mdp, opts, 5, seed=2)
    assert np.array_equal(a.Q, b.Q) and np.array_equal(a.episode_steps, b.episode_steps)
    assert not np.array_equal(a.episode_steps, c.episode_steps)
    assert "intra-option, 5 episodes" in repr(a)
    wrong_size = Option("x", np.ones(3, bool), np.zeros(3, int), np.ones(3))
    for kwargs, match in [({"options": []}, "options"), ({"options": [wrong_size]}, "states"),
                          ({"n_episodes": 0}, "n_episodes"), ({"alpha": 1.5}, "alpha"),
                          ({"epsilon": -0.1}, "epsilon"), ({"max_steps": 0}, "max_steps"), ({"seed": -1}, "seed")]:
        args = {"options": opts, "n_episodes": 2, **kwargs}
        with pytest.raises((ValueError, TypeError), match=match):
            smdp_q_learning(mdp, **args)
    with pytest.raises(ValueError, match="termination"):
        Option("bad", np.ones(2, bool), np.zeros(2, int), np.array([0.5, 1.5]))
    with pytest.raises(TypeError, match="FourRooms"):
        hallway_options(mdp)
    with pytest.raises(ValueError, match="options"):
        option_models(mdp, [])
