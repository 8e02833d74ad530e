"""Data-parallel pieces in one process: micro-batches, random streams, accumulated steps, devices.

The multi-process runs themselves are in ``test_distributed.py``.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rlcore.lm import CharLM, PPOConfig, score
from rlcore.lm.parallel import World, init_distributed, micro_batch_rows, owned, stream_generators, world
from rlcore.lm.rollout import rollout_from_texts
from rlcore.lm.training import accumulated_step
from rlcore.rlhf import DPOConfig, GRPOConfig, PreferenceData, dpo, dpo_loss


def test_outside_torchrun_the_world_is_one_process(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert world() == World(0, 1) and world().is_main
    assert init_distributed() == World(0, 1)


def test_micro_batches_hold_whole_groups():
    assert micro_batch_rows(16, 1, 2, group=4) == 8
    assert micro_batch_rows(16, 2, 2, group=4) == 4
    with pytest.raises(ValueError, match="batch_size=12 must split into 2 micro-batches"):
        micro_batch_rows(12, 1, 2, group=4)
    with pytest.raises(ValueError, match="3 micro-batches"):
        micro_batch_rows(10, 3, 1)


def test_streams_depend_on_the_micro_batch_not_on_how_it_is_placed():
    def draws(gens):
        return [torch.rand(3, generator=g) for g in gens]

    # stream 0 is the plain seed: one process without accumulation samples as before
    plain = torch.rand(3, generator=torch.Generator().manual_seed(7))
    assert torch.equal(draws(stream_generators(7, 1, World()))[0], plain)
    single = draws(stream_generators(7, 4, World(0, 1)))
    rank0, rank1 = draws(stream_generators(7, 2, World(0, 2))), draws(stream_generators(7, 2, World(1, 2)))
    # rank r of 2 owns the micro-batches r and r + 2
    for got, m in zip(rank0 + rank1, (0, 2, 1, 3)):
        assert torch.equal(got, single[m])
    assert len({tuple(d.tolist()) for d in single}) == 4
    assert list(owned(["m0", "m1", "m2", "m3"], World(1, 2))) == ["m1", "m3"]


def test_an_accumulated_step_follows_the_mean_gradient_of_the_micro_batches():
    torch.manual_seed(0)
    net = nn.Linear(3, 1, bias=False).double()
    w0 = net.weight.detach().clone()
    chunks = [(torch.randn(4, 3, dtype=torch.float64), torch.randn(4, dtype=torch.float64)) for _ in range(3)]
    # by hand: the gradient of mean_i (x_i . w - y_i)^2 over a chunk is (2 / n) X^T (X w - y)
    grads = [2 / len(y) * x.T @ (x @ w0[0] - y) for x, y in chunks]
    expected = torch.stack(grads).mean(0)
    opt = torch.optim.SGD(net.parameters(), lr=1.0)

    def loss_fn(m, chunk):
        x, y = chunk
        return ((m(x).squeeze(-1) - y) ** 2).mean(), {"n": len(y)}

    stats = accumulated_step(opt, net, chunks, loss_fn, None)
    assert [s["n"] for s in stats] == [4, 4, 4]
    torch.testing.assert_close(w0[0] - net.weight.detach()[0], expected, rtol=1e-12, atol=1e-12)
    # with clipping the step is the same direction, shortened to the clip norm
    net.weight.data.copy_(w0)
    accumulated_step(opt, net, chunks, loss_fn, 1e-3)
    step = w0[0] - net.weight.detach()[0]
    torch.testing.assert_close(step.norm(), torch.tensor(1e-3, dtype=torch.float64))
    torch.testing.assert_close(step / step.norm(), expected / expected.norm())


def _pairs(n: int) -> PreferenceData:
    g = torch.Generator().manual_seed(3)
    words = ["".join("ab"[i] for i in torch.randint(2, (k,), generator=g).tolist()) for k in range(1, n + 2)]
    return PreferenceData(tuple([""] * n), tuple(words[1:]), tuple(words[:-1]), CharLM("ab").vocab, n + 2)


def test_dpo_accumulation_is_the_same_batch_mean():
    # DPO's step follows the mean loss over the pairs of a batch, however the batch is cut
    data = _pairs(12)
    runs = []
    for acc in (1, 2, 4):
        model = CharLM("ab", 8, 16, seed=0, dtype=torch.float64)
        res = dpo(model, data, DPOConfig(num_train_epochs=3, batch_size=4, gradient_accumulation_steps=acc))
        runs.append((model.state_dict(), res.history["loss"]))
    for state, loss in runs[1:]:
        for k in state:
            torch.testing.assert_close(state[k], runs[0][0][k], rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(torch.as_tensor(loss), torch.as_tensor(runs[0][1]), rtol=1e-10, atol=1e-12)


def test_configs_check_the_accumulation():
    with pytest.raises(ValueError, match="gradient_accumulation_steps must be an integer >= 1, got 0"):
        PPOConfig(gradient_accumulation_steps=0)
    with pytest.raises(ValueError, match="gradient_accumulation_steps"):
        GRPOConfig(gradient_accumulation_steps=1.5)
    with pytest.raises(ValueError, match="non-empty micro-batches"):
        dpo(CharLM("ab", 8, 16, seed=0), _pairs(5), DPOConfig(batch_size=4, gradient_accumulation_steps=2))


def test_tensors_follow_the_model_device():
    # the meta device computes shapes without data: every output lands where the weights are
    model = CharLM("ab", 8, 16, seed=0, device="meta")
    ro = rollout_from_texts(model.vocab, ["a", ""], ["ab", "b"], 4, device="meta")
    logp, values, ent = score(model, ro)
    assert {t.device.type for t in (logp, values, ent)} == {"meta"}
    assert logp.shape == ro.mask.shape
    losses, rc, rr = dpo_loss(logp.sum(1), logp.sum(1), logp.sum(1).detach(), logp.sum(1).detach())
    assert losses.device.type == "meta"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine (CI has none)")
def test_training_runs_on_a_gpu():  # pragma: no cover - needs a GPU
    from rlcore.envs.language import CharLanguageEnv
    from rlcore.envs.rewards import from_function
    from rlcore.lm import ppo

    env = CharLanguageEnv("ab", 6, delayed_reward=from_function(lambda t: float("a" in t), "a"))
    model = CharLM("ab", 8, 16, seed=0, device="cuda")
    res = ppo(model, env, PPOConfig(n_iterations=2, batch_size=8))
    assert res.model.device.type == "cuda"
