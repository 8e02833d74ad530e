"""The tiny character LM: shapes, causality, sampling and its masks, filters, pretraining, checkpoints."""

from __future__ import annotations

import math

import pytest
import torch

from rlcore.core.policies import filter_logits, sample_logits
from rlcore.envs.language import Vocabulary
from rlcore.lm import (
    CharLM,
    count_parameters,
    enumerate_completions,
    generate,
    load,
    load_corpus,
    pretrain,
    sample,
    save,
    score,
    sequence_logprob,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny():
    return CharLM("ab", embed_dim=8, hidden_dim=16, seed=3)


def test_default_model_is_small_and_shapes_are_right():
    m = CharLM(seed=0)
    assert 3_000 <= count_parameters(m) <= 50_000
    tokens = torch.randint(0, m.vocab.n_tokens, (5, 7))
    logits, values = m(tokens)
    assert logits.shape == (5, 7, m.vocab.n_actions) and values.shape == (5, 7)


def test_seeded_init_is_reproducible_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b = CharLM("ab", seed=1), CharLM("ab", seed=1)
    assert torch.rand(1) == before
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


def test_outputs_are_causal(tiny):
    x = torch.tensor([[tiny.vocab.BOS, 0, 1, 0]])
    y = x.clone()
    y[0, 3] = 1
    lx, vx = tiny(x)
    ly, vy = tiny(y)
    assert torch.equal(lx[:, :3], ly[:, :3]) and torch.equal(vx[:, :3], vy[:, :3])


def test_bad_vocab_raises():
    with pytest.raises(ValueError, match="empty"):
        CharLM("")


# ------------------------------------------------------------------ sampling
def test_rollout_masks_pad_and_eos(tiny):
    v = tiny.vocab
    ro = sample(tiny, "", 200, 5, generator=torch.Generator().manual_seed(0))
    assert ro.tokens.shape == (200, 6) and ro.completions.shape == (200, 5)
    assert (ro.tokens[:, 0] == v.BOS).all()
    for b in range(200):
        n = int(ro.lengths[b])
        assert ro.mask[b, :n].all() and not ro.mask[b, n:].any()
        if ro.eos[b]:
            assert ro.completions[b, n - 1] == v.EOS  # EOS is inside the mask
            assert (ro.completions[b, : n - 1] < v.n_chars).all()
        else:
            assert n == 5 and (ro.completions[b] < v.n_chars).all()
        assert (ro.completions[b, n:] == v.PAD).all()  # PAD (not EOS) after the end
        assert (ro.logprobs[b, n:] == 0).all() and (ro.values[b, n:] == 0).all()
    assert ro.eos.any() and (~ro.eos).any()
    assert all(len(t) == int(n) - int(term) for t, n, term in zip(ro.texts, ro.lengths, ro.eos))


def test_sampling_is_seeded(tiny):
    a = sample(tiny, "", 16, 4, generator=torch.Generator().manual_seed(7))
    b = sample(tiny, "", 16, 4, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a.tokens, b.tokens) and torch.equal(a.logprobs, b.logprobs)


@pytest.mark.parametrize("kw", [{}, {"temperature": 0.7}, {"temperature": 1.5, "top_k": 2},
                                {"top_p": 0.8}, {"temperature": 0.9, "top_k": 2, "top_p": 0.9}])
def test_sampled_logprobs_equal_rescored(kw):
    m = CharLM("abc", embed_dim=8, hidden_dim=16, seed=1)
    ro = sample(m, "", 64, 6, generator=torch.Generator().manual_seed(1), **kw)
    lp, v, ent = score(m, ro)  # the unfiltered temperature distribution, whatever the filter
    torch.testing.assert_close(lp, ro.logprobs, atol=1e-5, rtol=0)
    torch.testing.assert_close(v, ro.values, atol=1e-5, rtol=0)
    assert torch.isfinite(lp).all() and (ent >= 0).all()


def test_sequence_probabilities_sum_to_one(tiny):
    every = enumerate_completions(tiny.vocab, 4)
    assert len(every) == 1 + 2 + 4 + 8 + 16
    for tau in (1.0, 0.5):
        with torch.no_grad():
            total = sequence_logprob(tiny, every, temperature=tau).exp().sum()
        assert float(total) == pytest.approx(1.0, abs=1e-5)


def test_empirical_frequencies_match_policy(tiny):
    """Texts of length <= 1: sampled frequencies vs exact pi(x), within 5 standard errors."""
    n = 20_000
    ro = sample(tiny, "", n, 1, temperature=0.8, generator=torch.Generator().manual_seed(5))
    every = enumerate_completions(tiny.vocab, 1)
    p = sequence_logprob(tiny, every, temperature=0.8).exp().detach()
    for i in range(len(every)):
        freq = float(((ro.completions[:, 0] == every.completions[i, 0])).float().mean())
        assert abs(freq - float(p[i])) < 5 * math.sqrt(p[i] * (1 - p[i]) / n)


# ------------------------------------------------------------------ filters
def test_filter_logits_top_k_top_p_temperature():
    z = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    assert torch.equal(filter_logits(z), z)
    torch.testing.assert_close(filter_logits(z, temperature=2.0), z / 2)
    k2 = filter_logits(z, top_k=2)
    assert torch.isinf(k2[0, 2:]).all() and torch.isfinite(k2[0, :2]).all()
    assert torch.isfinite(filter_logits(z, top_p=0.5)).sum() == 1      # 0.5 alone reaches 0.5
    assert torch.isfinite(filter_logits(z, top_p=0.51)).sum() == 2
    assert torch.isfinite(filter_logits(z, top_p=0.95)).sum() == 3
    assert torch.isfinite(filter_logits(z, top_p=1e-9)).sum() == 1     # the top action always survives
    a, lp = sample_logits(z.expand(1000, 4), top_k=1, generator=torch.Generator().manual_seed(0))
    assert (a == 0).all() and (lp == 0).all()


@pytest.mark.parametrize("kw, match", [({"top_p": 0.0}, "top_p"), ({"top_p": 1.5}, "top_p"),
                                       ({"top_p": -0.1}, "top_p"), ({"top_k": 0}, "top_k"),
                                       ({"temperature": 0.0}, "temperature")])
def test_filter_rejects_bad_settings(tiny, kw, match):
    with pytest.raises(ValueError, match=match):
        filter_logits(torch.zeros(1, 3), **kw)
    with pytest.raises(ValueError, match=match):
        sample(tiny, "", 2, 3, **kw)


@pytest.mark.parametrize("kw", [{"max_new_tokens": 0}, {"n_per_prompt": 0}, {"n_per_prompt": 1.5}, {"max_len": 0}])
def test_sample_rejects_bad_sizes(tiny, kw):
    args = {"n_per_prompt": 2, "max_new_tokens": 3} | kw
    with pytest.raises(ValueError, match=next(iter(kw))):
        sample(tiny, **args)


def test_batched_sampling_is_faster_per_token():
    from rlcore.bench.language import sampling_speedup

    m = CharLM(seed=0)
    assert sampling_speedup(m, max_len=12, batch_size=256, n_single=16)["speedup"] > 3


# --------------------------------------------------------------- pretraining
def test_pretraining_lowers_the_loss():
    m = CharLM(seed=0)
    res = pretrain(m, steps=60, seed=0, batch_size=32)
    assert res.losses[0] > 3.0 and res.final_loss < 2.6  # ln(28) = 3.33 nats at the start
    assert len(load_corpus()) >= 300


def test_pretraining_rejects_unknown_characters():
    with pytest.raises(ValueError, match="not in the vocabulary"):
        pretrain(CharLM("ab"), ["abc"], steps=1)


# --------------------------------------------------------------- checkpoints
def test_checkpoint_roundtrip_is_bit_identical(tmp_path):
    m = CharLM("abc", embed_dim=8, hidden_dim=16, seed=0)
    pretrain(m, ["abc", "cab", "ba"], steps=5, seed=0)
    path = tmp_path / "m.safetensors"
    save(m, path)
    m2 = load(path)
    m3 = load(path, CharLM("abc", embed_dim=8, hidden_dim=16, seed=9))
    for other in (m2, m3):
        assert other.config == m.config
        for (k, p), (_, q) in zip(m.state_dict().items(), other.state_dict().items()):
            assert torch.equal(p, q), k


@pytest.mark.parametrize("other", [dict(vocab="abc", embed_dim=8, hidden_dim=32),
                                   dict(vocab="abd", embed_dim=8, hidden_dim=16),
                                   dict(vocab="abc", embed_dim=8, hidden_dim=16, value_head=False)])
def test_loading_a_different_architecture_raises(tmp_path, other):
    path = tmp_path / "m.safetensors"
    save(CharLM("abc", embed_dim=8, hidden_dim=16), path)
    with pytest.raises(ValueError, match="architecture"):
        load(path, CharLM(**other))


def test_loading_a_foreign_file_raises(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "x.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(ValueError, match="not an rlcore"):
        load(path)


def _crafted(path, config, tensors):
    import json

    from safetensors.torch import save_file

    save_file(tensors, str(path), metadata={"rlcore.CharLM": json.dumps(config)})


def test_crafted_checkpoints_are_refused_before_anything_is_built(tmp_path, monkeypatch):
    import rlcore.lm.checkpoint as ck

    good = CharLM("ab", embed_dim=4, hidden_dim=8, seed=0)
    config = {"chars": "ab", "embed_dim": 4, "hidden_dim": 8, "num_layers": 1, "value_head": True}
    tensors = {k: v.clone() for k, v in good.state_dict().items()}
    built = []
    monkeypatch.setattr(ck.CharLM, "from_config", classmethod(lambda cls, c, *a, **k: built.append(c)))
    cases = [
        (dict(config, hidden_dim=1_000_000), tensors, "hidden_dim must lie in \\[1, 4096\\]"),  # asks for terabytes
        (dict(config, num_layers=10_000), tensors, "num_layers"),
        (dict(config, embed_dim="4"), tensors, "embed_dim must be int"),
        ({"chars": "ab"}, tensors, "must have the fields"),
        (dict(config, chars="aa"), tensors, "distinct"),
        (config, {**tensors, "head.bias": torch.zeros(7)}, "tensor head.bias has shape \\(7,\\)"),
        (config, {k: v for k, v in tensors.items() if k != "value.bias"}, "value.bias"),
    ]
    for i, (cfg, ts, match) in enumerate(cases):
        path = tmp_path / f"bad{i}.safetensors"
        _crafted(path, cfg, ts)
        with pytest.raises(ValueError, match=match) as info:
            load(path)
        assert str(path) in str(info.value)  # the file is named
    assert built == []  # no model was ever constructed from a bad file
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match="not a safetensors file"):
        load(tmp_path / "junk.safetensors")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.safetensors")
    for bad in (None, 3, ""):
        with pytest.raises(ValueError, match="path must be a file path"):
            save(good, bad)
        with pytest.raises(ValueError, match="path must be a file path"):
            load(bad)


def test_pretrained_helper_caches(tmp_path):
    from rlcore.lm import pretrained

    path = tmp_path / "sub" / "lm.safetensors"
    a = pretrained(steps=3, cache=path, embed_dim=8, hidden_dim=8)
    b = pretrained(steps=3, cache=path, embed_dim=8, hidden_dim=8)
    assert path.exists()
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    with pytest.raises(ValueError, match="architecture"):
        pretrained(cache=path, embed_dim=8, hidden_dim=16)


def test_vocabulary_object_is_accepted():
    m = CharLM(Vocabulary("xy"), embed_dim=4, hidden_dim=4)
    assert generate(m, "", 3, 4, seed=0) == generate(m, "", 3, 4, seed=0)
