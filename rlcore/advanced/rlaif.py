"""Constitutional AI in miniature: critique -> revision -> SFT, then RL from AI feedback, measured exactly.

Book: *Advanced techniques*, "Constitutional AI and self-supervision" (both phases of Bai et al., 2022).

The toy of [`rlcore.advanced.constitution`][]: answers of at most six characters over ``"ab ."`` to an empty
prompt, 5461 of them, so every rate below is a sum over all completions. Helpfulness counts words and content:

    h(y) = n_words(y) + 0.5 n_b(y)          (a word is a run of letters; ``b`` is content, ``a`` is filler),

so ``"b b b."`` (4.5) beats the complying ``"ab ab."`` (3.0): the vowel principle costs helpfulness, and a
full stop costs a character. A judge with principles ``C`` scores ``s_C(y) = h(y) - lam sum_{k in C} V_k(y)``;
the *gold* judge uses the whole constitution. The AI labeller (a judge on a subset of the principles, or
noisy) gives each pair the soft label

    p(y_1 > y_2) = (1 - eps) sigma(z) + eps (1 - sigma(z)),      z = (s_C(y_1) - s_C(y_2)) / T.

These judges and the [`AILabeller`][] are defined in [`rlcore.advanced.rlaif_judges`][].
Stage 1 revises a careless model's drafts ([`Constitution.revise`][]) and fine-tunes on them; stage 2 optimises
AI-labelled pairs by DPO or by PPO on a reward model. What the labeller does not check, the policy may break.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from rlcore.advanced.constitution import TOY_CHARS, TOY_MAX_LEN, Constitution, toy_constitution
from rlcore.advanced.offline_lm import online_ppo
from rlcore.advanced.rlaif_judges import (  # noqa: F401 (re-exported)
    PENALTY,
    AILabeller,
    gold_scores,
    helpfulness,
    judge_scores,
)
from rlcore.core.validation import (
    check_array,
    check_instance,
    check_nonnegative_int,
    check_positive_int,
    check_real,
    check_strings,
)
from rlcore.envs.rewards import from_function
from rlcore.envs.vocabulary import Vocabulary
from rlcore.lm.config import PPOConfig
from rlcore.lm.exact import enumerate_completions
from rlcore.lm.model import CharLM
from rlcore.lm.pretrain import pretrain
from rlcore.lm.rollout import sample
from rlcore.rlhf.dpo import DPOConfig, dpo
from rlcore.rlhf.overoptimisation import ToyEvaluator
from rlcore.rlhf.preferences import PreferenceData
from rlcore.rlhf.reward_model import RewardConfig, train_reward_model

__all__ = ["helpfulness", "judge_scores", "gold_scores", "AILabeller", "sample_pairs", "label_pairs", "agreement",
           "careless_model", "toy_evaluator", "ExactStats", "exact_stats", "supervised_stage", "rl_stage",
           "RLAIFResult", "run_rlaif", "kl_sweep"]


def sample_pairs(model: CharLM, n_pairs: int, max_len: int = TOY_MAX_LEN, seed: int = 0
                 ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``n_pairs`` pairs ``(y_1, y_2)`` of completions of the empty prompt, sampled from ``model`` (seeded)."""
    n, _ = check_positive_int(n_pairs, "n_pairs"), check_instance(model, "model", CharLM)
    check_positive_int(max_len, "max_len")
    g = torch.Generator(device=model.device).manual_seed(check_nonnegative_int(seed, "seed"))
    texts = sample(model, "", 2 * n, max_len, generator=g, max_len=max_len).texts
    return tuple(texts[0::2]), tuple(texts[1::2])


def label_pairs(labeller: AILabeller, first: Sequence[str], second: Sequence[str], vocab: Vocabulary,
                max_len: int = TOY_MAX_LEN) -> PreferenceData:
    """Soft-labelled pairs: the AI-preferred text (``p >= 1/2``) is ``chosen``, its label ``max(p, 1 - p)``.

    Pairs of two equal texts carry no preference and are dropped.
    """
    check_instance(labeller, "labeller", AILabeller)
    p = labeller.prob_first(first, second)
    keep = [i for i in range(len(p)) if first[i] != second[i]]
    if not keep:
        raise ValueError("first and second must differ in at least one pair, got only identical pairs")
    ch = tuple(first[i] if p[i] >= 0.5 else second[i] for i in keep)
    rj = tuple(second[i] if p[i] >= 0.5 else first[i] for i in keep)
    return PreferenceData(("",) * len(keep), ch, rj, vocab, int(max_len), np.maximum(p, 1 - p)[keep])


def agreement(first: Sequence[str], second: Sequence[str], p_first: np.ndarray, penalty: float = PENALTY) -> float:
    """Share of pairs with ``s_gold(y_1) != s_gold(y_2)`` where the AI prefers the gold-preferred text.

    The AI prefers ``y_1`` when ``p_first > 1/2``; a pair it rates ``1/2`` counts one half (a coin toss).
    """
    p, first, second = check_array(p_first, "p_first"), check_strings(first, "first"), check_strings(second, "second")
    if ((p < 0) | (p > 1)).any():
        raise ValueError(f"p_first must hold probabilities in [0, 1], got values in [{p.min():.4g}, {p.max():.4g}]")
    if len(first) != len(second) or p.shape != (len(first),):
        raise ValueError(f"first, second and p_first must have one entry per pair, got {len(first)}, "
                         f"{len(second)} and shape {p.shape}")
    d = gold_scores(first, penalty) - gold_scores(second, penalty)
    told = d != 0
    if not told.any():
        raise ValueError("first, second: the gold judge ties every pair: agreement is undefined")
    hit = np.where(p == 0.5, 0.5, ((p > 0.5) == (d > 0)).astype(np.float64))
    return float(hit[told].mean())


def careless_model(seed: int = 0, n_lines: int = 400, steps: int = 150, temperature: float = 1.0) -> CharLM:
    """A helpful-but-careless start: a small LM pretrained on ``n_lines`` texts drawn with ``P(y) ~ exp(h(y)/T)``
    from every answer of the toy, whatever the constitution says."""
    rng, T = np.random.default_rng(check_nonnegative_int(seed, "seed")), check_real(temperature, "temperature", True)
    check_positive_int(n_lines, "n_lines"), check_positive_int(steps, "steps")
    texts = [t for t in enumerate_completions(CharLM(TOY_CHARS).vocab, TOY_MAX_LEN).texts if t.strip()]
    w = np.exp(helpfulness(texts) / T)
    corpus = [texts[i] for i in rng.choice(len(texts), check_positive_int(n_lines, "n_lines"), p=w / w.sum())]
    model = CharLM(TOY_CHARS, embed_dim=16, hidden_dim=32, seed=seed)
    pretrain(model, corpus, steps=check_positive_int(steps, "steps"), seed=seed, lr=1e-2, max_len=TOY_MAX_LEN)
    return model


def toy_evaluator(ref: CharLM, constitution: Constitution | None = None) -> ToyEvaluator:
    """A [`ToyEvaluator`][] (KL to ``ref``) with rewards ``violation`` (any broken principle), one indicator per
    principle and ``helpfulness``."""
    check_instance(ref, "ref", CharLM)
    c = toy_constitution() if constitution is None else check_instance(constitution, "constitution", Constitution)
    rewards = {"violation": from_function(lambda t: float(c.violations([t]).any()), "violation"),
               "helpfulness": from_function(lambda t: float(helpfulness([t])[0]), "helpfulness")}
    for k, name in enumerate(c.names):
        rewards[name] = from_function(lambda t, k=k: float(c.violations([t])[0, k]), name)
    return ToyEvaluator(ref, TOY_MAX_LEN, ("",), rewards)


@dataclass(frozen=True)
class ExactStats:
    """Exact ``E_pi[1{any violation}]``, per-principle rates, ``E_pi[h]`` and ``KL(pi || pi_ref)`` of one model."""

    stage: str
    violation_rate: float
    per_principle: dict[str, float] = field(repr=False)
    helpfulness: float
    kl: float
    strength: float | None = None
    """the KL strength (beta or kl_coef) that gave this model ([`kl_sweep`][]), if any"""

    def __repr__(self) -> str:
        per = ", ".join(f"{k} {v:.3f}" for k, v in self.per_principle.items())
        return (f"ExactStats({self.stage}: violations {self.violation_rate:.3f} ({per}), "
                f"helpfulness {self.helpfulness:.3f}, KL {self.kl:.3f})")


def exact_stats(stage: str, model: CharLM, evaluator: ToyEvaluator, strength: float | None = None) -> ExactStats:
    """``E_pi[f] = sum_y pi(y) f(y)`` over all 5461 answers for each statistic (see [`toy_evaluator`][])."""
    check_instance(stage, "stage", str), check_instance(model, "model", CharLM)
    check_real(strength, "strength", low=-np.inf, none=True)
    if not isinstance(evaluator, ToyEvaluator) or not {"violation", "helpfulness"} <= set(evaluator.scores):
        raise TypeError(f"evaluator must be a ToyEvaluator from toy_evaluator, got {evaluator!r}")
    if model.vocab != evaluator.ref.vocab:
        raise ValueError(f"model vocabulary {model.vocab!r} differs from the evaluator's {evaluator.ref.vocab!r}")
    s = evaluator.evaluate(model)
    names = [k for k in s if k not in ("kl", "d", "violation", "helpfulness")]
    return ExactStats(stage, s["violation"], {k: s[k] for k in names}, s["helpfulness"], s["kl"], strength)


def supervised_stage(start: CharLM, n_drafts: int = 256, steps: int = 150, seed: int = 0,
                     constitution: Constitution | None = None) -> tuple[CharLM, tuple[str, ...]]:
    """Stage 1: drafts ``y ~ pi_0``, revisions ``y' = revise(y)``, then a copy of ``pi_0`` fine-tuned by
    maximum likelihood on the revisions, ``max sum_i log pi(y'_i)``. Returns the SFT model and the revisions."""
    check_instance(start, "start", CharLM), check_positive_int(steps, "steps")
    c = toy_constitution() if constitution is None else check_instance(constitution, "constitution", Constitution)
    g = torch.Generator(device=start.device).manual_seed(check_nonnegative_int(seed, "seed"))
    drafts = sample(start, "", check_positive_int(n_drafts, "n_drafts"), TOY_MAX_LEN, generator=g,
                    max_len=TOY_MAX_LEN).texts
    revisions = tuple(c.revise(t, max_len=TOY_MAX_LEN) for t in drafts)
    model = copy.deepcopy(start)
    pretrain(model, revisions, steps=check_positive_int(steps, "steps"), seed=seed, lr=3e-3, max_len=TOY_MAX_LEN)
    return model, revisions


def rl_stage(sft: CharLM, labeller: AILabeller, n_pairs: int = 256, method: str = "dpo", strength: float = 0.3,
             seed: int = 0, epochs: int = 8, ppo_iterations: int = 15) -> tuple[CharLM, PreferenceData, float]:
    """Stage 2: AI-labelled pairs of the SFT model's samples, optimised by ``method``:

    * ``"dpo"``: minimise ``-q log sigma(beta h) - (1 - q) log sigma(-beta h)``, ``beta = strength``;
    * ``"ppo"``: a Bradley-Terry reward model ``r_phi`` on the pairs, then PPO on
      ``r_phi(y) - kl_coef sum_t log(pi / pi_sft)``, ``kl_coef = strength``.

    Returns the policy, the labelled pairs and the [`agreement`][] of the AI with the gold judge on them.
    """
    check_instance(sft, "sft", CharLM), _check_rl(labeller, method, strength, n_pairs)
    first, second = sample_pairs(sft, n_pairs, TOY_MAX_LEN, seed)
    data = label_pairs(labeller, first, second, sft.vocab, TOY_MAX_LEN)
    agree = agreement(first, second, labeller.prob_first(first, second), labeller.penalty)
    epochs, iterations = check_positive_int(epochs, "epochs"), check_positive_int(ppo_iterations, "ppo_iterations")
    if method == "dpo":
        model = copy.deepcopy(sft)
        dpo(model, data, DPOConfig(beta=strength, num_train_epochs=epochs, learning_rate=3e-3,
                                   batch_size=min(64, len(data)), seed=seed), ref_model=sft)
        return model, data, agree
    rm = train_reward_model(data, RewardConfig(num_train_epochs=epochs, seed=seed), init=sft).model
    rm.normalize(data.chosen + data.rejected)
    cfg = PPOConfig(n_iterations=iterations, batch_size=64, num_generations=8, kl_coef=strength, learning_rate=3e-3)
    return online_ppo(sft, rm, ("",), TOY_MAX_LEN, cfg, seed), data, agree


def _check_rl(labeller: AILabeller, method: str, strength: float, n_pairs: int) -> None:
    """Stage 2's arguments, checked before anything trains."""
    check_instance(labeller, "labeller", AILabeller)
    if method not in ("dpo", "ppo"):
        raise ValueError(f"method must be 'dpo' or 'ppo', got {method!r}")
    check_real(strength, "strength", open_low=True), check_positive_int(n_pairs, "n_pairs")


@dataclass(frozen=True)
class RLAIFResult:
    """Exact statistics of the careless start, the SFT model and the RLAIF policy, and the AI's agreement."""

    start: ExactStats
    sft: ExactStats
    rl: ExactStats
    agreement: float
    n_pairs: int
    models: tuple[CharLM, CharLM, CharLM] = field(repr=False, compare=False)

    def __repr__(self) -> str:
        return (f"RLAIFResult(violations {self.start.violation_rate:.3f} -> SFT {self.sft.violation_rate:.3f} -> "
                f"RL {self.rl.violation_rate:.3f}; helpfulness {self.start.helpfulness:.3f} -> "
                f"{self.sft.helpfulness:.3f} -> {self.rl.helpfulness:.3f}; agreement {self.agreement:.3f})")


def run_rlaif(labeller: AILabeller | None = None, seed: int = 0, method: str = "dpo", strength: float = 0.3,
              n_pairs: int = 256, start: CharLM | None = None, sft: CharLM | None = None) -> RLAIFResult:
    """Both stages from ``seed``: [`careless_model`][], [`supervised_stage`][], [`rl_stage`][]; start and SFT
    are judged with KL to the start, the RL policy with KL to the SFT model (its anchor)."""
    labeller = AILabeller() if labeller is None else labeller
    _check_rl(labeller, method, strength, n_pairs), check_nonnegative_int(seed, "seed")
    for name, m in (("start", start), ("sft", sft)):
        check_instance(m, name, (CharLM, type(None)))
    start = start if start is not None else careless_model(seed)
    if sft is None:
        sft, _ = supervised_stage(start, seed=seed)
    ev0, ev1 = toy_evaluator(start), toy_evaluator(sft)
    rl, data, agree = rl_stage(sft, labeller, n_pairs, method, strength, seed)
    return RLAIFResult(exact_stats("start", start, ev0), exact_stats("sft", sft, ev0), exact_stats("rl", rl, ev1),
                       agree, len(data), (start, sft, rl))


def kl_sweep(sft: CharLM, labeller: AILabeller, strengths: Sequence[float], method: str = "dpo",
             n_pairs: int = 256, seed: int = 0) -> tuple[ExactStats, ...]:
    """Per ``beta`` (DPO) or ``kl_coef`` (PPO) in ``strengths``: ``(E_pi[violation], E_pi[h])``, KL to the SFT
    model. The same labelled pairs (one ``seed``) serve every strength; the points of a Pareto plot."""
    if isinstance(strengths, str) or not hasattr(strengths, "__iter__"):
        raise TypeError(f"strengths must be a sequence of numbers, got {type(strengths).__name__}")
    vals = [check_real(s, "strengths entry", open_low=True) for s in strengths]
    if not vals:
        raise ValueError("strengths must hold at least one value, got none")
    check_instance(sft, "sft", CharLM), _check_rl(labeller, method, vals[0], n_pairs)
    ev, out = toy_evaluator(sft), []
    for s in vals:
        model, _, _ = rl_stage(sft, labeller, n_pairs, method, s, seed)
        out.append(exact_stats(f"{method} strength {s:g}", model, ev, s))
    return tuple(out)

