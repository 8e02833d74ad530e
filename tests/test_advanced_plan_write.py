"""Plan-then-write on the language MDP: a manager picks the first letter, a worker LM writes under it.

References written here: the patterns by hand, the rewards by enumerating every completion, the exact success as a
token-by-token product of the model's softmax, the manager's first Adam step from a plain loop over the batch, and
the flat learner against rlcore.lm.reinforce.
"""

import copy
import dataclasses
import itertools
import math

import numpy as np
import pytest
import torch

from rlcore.advanced.plan_write import (
    PlanPolicy,
    PlanWriteConfig,
    PlanWriteResult,
    exact_success,
    plan_pattern,
    plan_pg_loss,
    plan_write_task,
    skill_lines,
    skill_start,
    train_plan_write,
)
from rlcore.lm import CharLM
from rlcore.lm.config import ReinforceConfig
from rlcore.lm.reinforce import reinforce
from rlcore.lm.rollout import sample

pytestmark = pytest.mark.usefixtures("one_torch_thread")
HEADLINE_SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def small():
    task = plan_write_task(n_topics=2, length=4, letters="abc", seed=1)
    return task, skill_start(task, n_lines=64, steps=20, embed_dim=8, hidden_dim=8, seed=3)


def test_patterns_by_hand():
    assert [plan_pattern(c, 6) for c in "abcd"] == ["abcdab", "bdbdbd", "cbadcb", "dddddd"]
    assert plan_pattern("b", 4, "xbz") == "bxzb"  # j = 1, stride 2 through three letters


def test_rewards_against_enumeration():
    task = plan_write_task(n_topics=3, length=3, letters="abc", seed=2)
    assert sorted(task.plan_of) == ["a", "b", "c"] and task.env.max_len == 4
    for t, plan in zip(task.topics, task.plan_of):
        paid = [y for y in map("".join, itertools.product("abc", repeat=3)) if task.task_reward(t + y) == 1.0]
        goal = [y for y in map("".join, itertools.product("abc", repeat=3)) if task.goal_reward(t + y) == 1.0]
        assert paid == [plan_pattern(plan, 3, "abc")]
        assert sorted(goal) == sorted({"a": "abc", "b": "bac", "c": "ccc"}.values())
    assert task.task_reward("0ab") == 0.0 and task.goal_reward("0ab") == 0.0  # too short
    assert task.worker_env("task").delayed_reward(["0" + task.targets[0]])[0] == 1.0
    assert len(task.worker_env().prompts) == 9 and "PlanWriteTask(L=3" in repr(task)


def test_skill_lines_without_noise_are_patterns():
    task = plan_write_task()
    lines = skill_lines(task, n_lines=200, noise=0.0, seed=4)
    assert all(task.goal_reward(x) == 1.0 and x[0] in task.topics for x in lines)
    noisy = skill_lines(task, n_lines=200, noise=1.0, seed=4)
    assert all(x[0] in task.topics and set(x[1:]) <= set("abcd") and len(x) == 11 for x in noisy)
    assert sum(task.goal_reward(x) for x in noisy) < 20


def _token_by_token(model, prompt, completion):
    """P(completion | prompt) stepping the GRU one token at a time (no EOS: the text fills max_len)."""
    v, p, hidden = model.vocab, 1.0, None
    ids = [v.BOS] + v.encode(prompt + completion)
    for i in range(len(ids) - 1):
        logits, _, hidden = model.step(torch.tensor([[ids[i]]]), hidden)
        if i >= len(prompt):
            p *= float(torch.softmax(logits[0, 0].detach(), -1)[ids[i + 1]])
    return p


def test_exact_success_token_by_token(small):
    task, model = small
    flat = exact_success(task, model)
    for k, (t, y) in enumerate(zip(task.topics, task.targets)):
        assert math.isclose(flat[k], _token_by_token(model, t, y), rel_tol=1e-10)
    manager = PlanPolicy(2, 3)
    with torch.no_grad():
        manager.theta.copy_(torch.tensor([[0.3, -1.0, 2.0], [1.0, 0.0, 0.5]], dtype=torch.float64))
    managed = exact_success(task, model, manager)
    for k, (t, y) in enumerate(zip(task.topics, task.targets)):
        row = manager.theta[k].detach().numpy()
        pi_h = math.exp(row["abc".index(y[0])]) / sum(math.exp(x) for x in row)
        assert math.isclose(managed[k], pi_h * _token_by_token(model, t + y[0], y[1:]), rel_tol=1e-10)


def test_plan_pg_loss_gradient_by_hand():
    logits = torch.tensor([[0.0, 1.0, -1.0], [0.5, 0.5, 0.0]], dtype=torch.float64, requires_grad=True)
    plans, adv = torch.tensor([2, 0]), torch.tensor([1.5, -0.5], dtype=torch.float64)
    plan_pg_loss(logits, plans, adv).backward()
    for i in range(2):
        z = logits[i].detach().numpy()
        pi = np.exp(z) / np.exp(z).sum()
        expect = -(np.eye(3)[int(plans[i])] - pi) * float(adv[i]) / 2
        assert np.allclose(logits.grad[i].numpy(), expect, atol=1e-12)


def test_flat_run_is_reinforce(small):
    task, base = small
    a, b = copy.deepcopy(base), copy.deepcopy(base)
    res = train_plan_write(a, task, PlanWriteConfig(hierarchical=False, n_iterations=3, batch_size=8,
                                                     num_generations=4, seed=5))
    ref = reinforce(b, task.env, ReinforceConfig(n_iterations=3, batch_size=8, num_generations=4, seed=5))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert np.array_equal(res.history["reward"], ref.history["reward"])
    assert res.history["success"].shape == (3, 2) and np.array_equal(res.history["samples"], [8, 16, 24])
    assert np.array_equal(res.history["success"][-1], exact_success(task, a))


def test_manager_first_step_from_a_plain_loop(small):
    task, base = small
    cfg = PlanWriteConfig(n_iterations=1, batch_size=8, num_generations=4, plan_learning_rate=0.05, seed=7)
    res = train_plan_write(copy.deepcopy(base), task, cfg)
    # redraw the batch with the same stream: topics, then plans, then the worker's characters
    gen = torch.Generator().manual_seed(7)
    topic = torch.randint(2, (2,), generator=gen).repeat_interleave(4)
    plan = torch.multinomial(torch.full((8, 3), 1 / 3, dtype=torch.float64), 1, generator=gen).squeeze(-1)
    prompts = [task.topics[t] + "abc"[c] for t, c in zip(topic.tolist(), plan.tolist())]
    texts = sample(copy.deepcopy(base), prompts, 1, 3, generator=gen, max_len=5).full_texts
    R = [task.task_reward(x) for x in texts]
    grad = np.zeros((2, 3))
    for i in range(8):
        group = range(4 * (i // 4), 4 * (i // 4) + 4)
        adv = R[i] - sum(R[k] for k in group if k != i) / 3
        grad[int(topic[i])] -= (np.eye(3)[int(plan[i])] - 1 / 3) * adv / 8
    expect = -0.05 * grad / (np.abs(grad) + 1e-8)  # Adam's first step, bias-corrected
    assert np.allclose(res.manager.theta.detach().numpy(), expect, atol=1e-12)
    assert res.history["reward"][0] == np.mean(R)


def test_runs_are_reproducible_and_result_reads(small):
    task, base = small
    cfg = PlanWriteConfig(n_iterations=4, batch_size=8, num_generations=4, worker_reward="goal", seed=2)
    r1 = train_plan_write(copy.deepcopy(base), task, cfg, progress=True)
    r2 = train_plan_write(copy.deepcopy(base), task, cfg)
    assert all(np.array_equal(r1.history[k], r2.history[k]) for k in r1.history)
    assert np.array_equal(r1.history["success"][-1], exact_success(task, r1.model, r1.manager))
    hist = {"samples": np.array([10, 20, 30]), "success": np.array([[0.1, 0.3], [0.5, 0.3], [0.9, 0.7]])}
    fake = PlanWriteResult(r1.model, None, hist, np.array([0.0, 0.2]), PlanWriteConfig(hierarchical=False))
    assert [fake.samples_to_reach(x) for x in (0.1, 0.2, 0.4, 0.8, 0.95)] == [0, 10, 20, 30, None]
    assert repr(fake) == "PlanWriteResult(flat, 30 texts: mean exact success 0.100 -> 0.800)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        fake.history = {}  # frozen


def test_headline_hierarchy_needs_fewer_samples():
    for seed in HEADLINE_SEEDS:
        task = plan_write_task(seed=seed)
        base = skill_start(task, seed=seed)
        flat, hier = (train_plan_write(copy.deepcopy(base), task, PlanWriteConfig(hierarchical=h, n_iterations=30,
                                                                                  seed=seed)) for h in (False, True))
        n_flat, n_hier = flat.samples_to_reach(0.25), hier.samples_to_reach(0.25)
        assert n_flat is not None and n_hier is not None and 1.5 * n_hier <= n_flat, (seed, n_flat, n_hier)
        assert hier.history["success"][-1].mean() >= flat.history["success"][-1].mean() + 0.15
        assert flat.history["success"][-1].mean() >= flat.initial_success.mean() + 0.2  # the flat one learns too


def test_bad_inputs(small):
    task, model = small
    for call, arg in [(lambda: plan_pattern("z", 3), "plan"), (lambda: plan_pattern("a", 3, "aa"), "letters"),
                      (lambda: plan_pattern("a", 0), "length"), (lambda: plan_write_task(n_topics=5), "n_topics"),
                      (lambda: plan_write_task(length=1), "length"),
                      (lambda: plan_write_task(letters="ab1"), "letters"),
                      (lambda: plan_write_task(seed=-1), "seed"), (lambda: skill_lines(task, noise=1.5), "noise"),
                      (lambda: PlanWriteConfig(worker_reward="both"), "worker_reward"),
                      (lambda: PlanWriteConfig(plan_learning_rate=0.0), "plan_learning_rate"),
                      (lambda: PlanWriteConfig(batch_size=10, num_generations=4), "batch_size"),
                      (lambda: PlanWriteConfig(hierarchical=1), "hierarchical"),
                      (lambda: PlanPolicy(0, 3), "n_topics"), (lambda: task.worker_env("x"), "reward"),
                      (lambda: train_plan_write(model, task, PlanWriteConfig(hierarchical=False), PlanPolicy(2, 3)),
                       "manager"),
                      (lambda: train_plan_write(model, task, manager=PlanPolicy(3, 3)), "manager"),
                      (lambda: train_plan_write(model, task, config=ReinforceConfig()), "config"),
                      (lambda: train_plan_write(model, task, progress="yes"), "progress"),
                      (lambda: train_plan_write(CharLM("ab", 4, 4), task), "vocabulary"),
                      (lambda: plan_pg_loss(torch.zeros(2, 3), torch.zeros(3, dtype=torch.long), torch.zeros(2)),
                       "logits")]:
        with pytest.raises(ValueError, match=arg):
            call()
