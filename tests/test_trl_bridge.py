"""rlcore's DPO, GRPO and reward-model losses against TRL's own trainers, on the same tensors.

Each test lets a TRL trainer (DPOTrainer, GRPOTrainer, RewardTrainer) build its batch
and compute its loss; the rlcore side recomputes the log-probabilities (or rewards)
from the very same token tensors with a plain forward pass written here, feeds them to
``rlcore.rlhf`` and must agree to 1e-6. Models are tiny random GPT-2s built in memory.
"""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("trl")
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::UserWarning")

from rlcore.bench import trl_peer  # noqa: E402
from rlcore.envs.vocabulary import Vocabulary  # noqa: E402
from rlcore.rlhf import PreferenceData, bradley_terry_loss, dpo_loss, group_advantages, grpo_loss  # noqa: E402

VOCAB = Vocabulary("ab ")
TOL = 1e-6


def pairs() -> PreferenceData:
    return PreferenceData(("a", "b", "ab", "ba", "a", "bb"), ("ab", "a", "b", "aab", "bba", "a"),
                          ("b", "bb", "a ", "b", "a", "ab a"), VOCAB, max_len=12)


def completion_logps(model, input_ids, attention_mask, completion_mask, per_token_mean=False):
    """Plain reference: sum (or mean) of log pi(token) over the completion tokens, in float64."""
    with torch.no_grad():
        logits = model(input_ids=input_ids, attention_mask=attention_mask).logits.double()
    logp = torch.log_softmax(logits[:, :-1], -1).gather(-1, input_ids[:, 1:, None]).squeeze(-1)
    mask = completion_mask[:, 1:].double()
    total = (logp * mask).sum(-1)
    return total / mask.sum(-1) if per_token_mean else total


@pytest.mark.parametrize("loss_type", ["sigmoid", "ipo"])
def test_dpo_loss_matches_trl_dpo_trainer(tmp_path, loss_type):
    tok = trl_peer.char_tokenizer(VOCAB)
    model, ref = trl_peer.tiny_gpt2(VOCAB, seed=0), trl_peer.tiny_gpt2(VOCAB, seed=1)  # ref != policy: loss != log 2
    beta = 0.3
    trainer = trl_peer.dpo_trainer(model, ref, tok, pairs(), str(tmp_path), beta=beta, loss_type=[loss_type],
                                   per_device_train_batch_size=6)
    batch = next(iter(trainer.get_train_dataloader()))
    trainer.model.eval()  # no dropout on either side
    with torch.no_grad():
        theirs = float(trainer.compute_loss(trainer.model, batch))
    ipo = loss_type == "ipo"
    lp = completion_logps(trainer.model, batch["input_ids"], batch["attention_mask"], batch["completion_mask"], ipo)
    ref_lp = completion_logps(ref, batch["input_ids"], batch["attention_mask"], batch["completion_mask"], ipo)
    (c, r), (rc, rr) = lp.chunk(2), ref_lp.chunk(2)
    ours, _, _ = dpo_loss(c, r, rc, rr, beta=beta, loss_type=loss_type)
    assert abs(float(ours.mean()) - theirs) < TOL
    assert abs(theirs - 0.6931471805599453) > 1e-3  # a non-trivial point, not the value at the reference


def grpo_batch(tmp_path, loss_type, scale_rewards):
    """A GRPOTrainer's own sampled and scored batch, and the rewards its reward function returned."""
    seen: list[float] = []

    def reward(texts):
        r = [t.count("a") - 0.5 * t.count(" ") for t in texts]
        seen.extend(r)
        return r

    trainer = trl_peer.grpo_trainer(trl_peer.tiny_gpt2(VOCAB, seed=3), trl_peer.char_tokenizer(VOCAB),
                                    ["a", "b"] * 4, reward, str(tmp_path), per_device_train_batch_size=8,
                                    num_generations=4, max_completion_length=6, beta=0.1, epsilon=0.2,
                                    epsilon_high=0.28, loss_type=loss_type, scale_rewards=scale_rewards, seed=0,
                                    use_bias_correction_kl=False)  # rlcore's k3 term has no ratio weight
    trainer.ref_model.load_state_dict(trl_peer.tiny_gpt2(VOCAB, seed=4).state_dict())  # a reference != policy
    trainer.model.eval()
    batch = next(iter(trainer.get_train_dataloader()))
    with torch.no_grad():
        inputs = trainer._generate_and_score_completions(batch)
    return trainer, inputs, torch.tensor(seen, dtype=torch.float32)


@pytest.mark.parametrize("scale_rewards", ["group", "batch", "none"])
def test_grpo_advantages_match_trl(tmp_path, scale_rewards):
    _, inputs, rewards = grpo_batch(tmp_path, "grpo", scale_rewards)
    ours, _ = group_advantages(rewards, 4, scale_rewards)
    assert rewards.std() > 0
    assert torch.allclose(ours, inputs["advantages"].float(), atol=TOL, rtol=0)


@pytest.mark.parametrize("loss_type", ["grpo", "dr_grpo", "dapo"])
def test_grpo_loss_matches_trl(tmp_path, loss_type):
    trainer, inputs, _ = grpo_batch(tmp_path, loss_type, "group")
    ids = torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], 1)
    attn = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], 1)
    P = inputs["prompt_ids"].shape[1]
    mask = inputs["completion_mask"].bool()
    with torch.no_grad():
        logits = trainer.model(input_ids=ids, attention_mask=attn).logits[:, P - 1:-1]
        logp = torch.log_softmax(logits, -1).gather(-1, inputs["completion_ids"][..., None]).squeeze(-1)
        ref_logits = trainer.ref_model(input_ids=ids, attention_mask=attn).logits[:, P - 1:-1]
        ref_logp = torch.log_softmax(ref_logits, -1).gather(-1, inputs["completion_ids"][..., None]).squeeze(-1)
    # the policy that sampled: move it off the current one so that some ratios leave [1 - eps, 1 + eps_high]
    old = logp + 0.4 * torch.sin(torch.arange(logp.numel(), dtype=logp.dtype).reshape(logp.shape))
    inputs = dict(inputs, old_per_token_logps=old)
    with torch.no_grad():
        theirs = float(trainer._compute_loss(trainer.model, inputs))
    ours, stats = grpo_loss(logp, old, ref_logp, inputs["advantages"], mask, beta=0.1, epsilon=0.2,
                            epsilon_high=0.28, loss_type=loss_type, max_completion_length=6)
    assert stats["clip_ratio"] > 0 and stats["kl"] > 0
    assert abs(float(ours) - theirs) < TOL


def test_bradley_terry_loss_matches_trl_reward_trainer(tmp_path):
    from transformers import GPT2Config, GPT2ForSequenceClassification
    from trl import RewardConfig, RewardTrainer

    tok = trl_peer.char_tokenizer(VOCAB)
    config = GPT2Config(vocab_size=VOCAB.n_tokens, n_positions=32, n_embd=32, n_layer=1, n_head=2, num_labels=1,
                        bos_token_id=VOCAB.BOS, eos_token_id=VOCAB.EOS, pad_token_id=VOCAB.PAD)
    torch.manual_seed(5)
    model = GPT2ForSequenceClassification(config)
    data = pairs()
    from datasets import Dataset

    dataset = Dataset.from_dict({"chosen": [trl_peer.BOS_TEXT + p + c for p, c in zip(data.prompts, data.chosen)],
                                 "rejected": [trl_peer.BOS_TEXT + p + r for p, r in zip(data.prompts, data.rejected)]})
    args = RewardConfig(output_dir=str(tmp_path), report_to="none", use_cpu=True, bf16=False,
                        per_device_train_batch_size=6, center_rewards_coefficient=0.01)
    trainer = RewardTrainer(model=model, args=args, train_dataset=dataset, processing_class=tok)
    batch = next(iter(trainer.get_train_dataloader()))
    trainer.model.eval()
    with torch.no_grad():
        theirs = float(trainer.compute_loss(trainer.model, dict(batch)))
        # the score of a text is the head's output at its last real token (EOS), read off the hidden states
        hidden = trainer.model.transformer(input_ids=batch["input_ids"],
                                           attention_mask=batch["attention_mask"]).last_hidden_state
        last = batch["attention_mask"].sum(-1) - 1
        scores = trainer.model.score(hidden[torch.arange(len(last)), last]).squeeze(-1).double()
    assert (batch["input_ids"][torch.arange(len(last)), last] == VOCAB.EOS).all()
    c, r = scores.chunk(2)
    ours = bradley_terry_loss(c, r, center_coef=0.01)
    assert abs(float(ours) - theirs) < TOL
