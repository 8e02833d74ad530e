"""A cooperative referential game learned by self-play, and the KL anchor that keeps its language readable.

Book: *Advanced techniques*, "Multi-agent RL for dialogue systems" ("Learning dynamics": self-play
drifts away from human language; anchoring to a model of human messages keeps it readable).

Objects are ``(colour, shape)`` pairs (default 3 x 3; the rules are a [`ReferentialGame`][], in
[`rlcore.advanced.referential_data`][]). Each round shows ``K = n_candidates`` distinct objects, one of
them the target. The **speaker** (a [`rlcore.lm.CharLM`][]) sees only the target, as the prompt ``"RS"``
(upper-case initials), and writes ``m ~ pi_theta(. | target)`` of at most
``max_message_len`` characters. The **listener** ([`Listener`][], a small GRU) scores the candidates,

    p_psi(k | m, c_1 .. c_K) = softmax_k( u_psi(m) . v_psi(c_k) ),   v(c) = E_colour[c] + E_shape[c],

with ``u`` the GRU state after the message, picks ``k ~ p_psi``, and both get ``R = [c_k = target]``.

The natural language is the lower-case initials, ``"rs"`` for the red square: the **reference**
``pi_ref`` is a CharLM pretrained ([`rlcore.lm.pretrain.pretrain`][]) on those descriptions, and the
speaker starts as a copy of it. Training (both players, one step per batch of games):

* speaker, REINFORCE with the leave-one-out baseline ``b_b = sum_{c != b} R_c / (B - 1)`` and the KL anchor,

      L_S = -(1/B) sum_b (R_b - b_b) log pi_theta(m_b | t_b) + kl_coef (1/B) sum_b sum_j k(log pi_theta, log pi_ref),

  ``k`` the per-token ``k2`` (or ``k3``) estimator of [`rlcore.lm.kl.kl_estimate`][]: in a loss they
  follow the gradient of the reverse (forward) KL, ``k1`` would be noise (the table of [`rlcore.lm.kl`][]);
* listener, by default supervised cross-entropy ``-log p_psi(target | m)`` (the round reveals the
  target; lower variance than REINFORCE), or with ``listener_update="reinforce"``
  ``-(R - b) log p_psi(k | m)`` on its own sampled choice ``k``.

Nothing in ``R`` prefers the reference language: any code both players share is as good. While the
fresh listener still guesses, ``R`` says nothing about the message, so the speaker's steps are noise;
the listener then learns whatever the speaker has come to say, and nothing pulls the speaker back.
Without the anchor the code drifts (the sequence KL to ``pi_ref`` grows, fewer messages are natural
names: ``"ccc"`` for the green circle, ``"bsT"`` for the blue square); with it every nat away from
``pi_ref`` costs ``kl_coef``.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from rlcore.advanced.referential_data import ReferentialGame  # noqa: F401 (re-exported)
from rlcore.core.validation import (
    check_flag,
    check_index_array,
    check_instance,
    check_nonnegative_int,
    check_positive_int,
    check_real,
    check_strings,
    check_tensor,
)
from rlcore.envs.vocabulary import Vocabulary
from rlcore.lm.kl import kl_to_reference
from rlcore.lm.losses import reinforce_loss
from rlcore.lm.model import CharLM
from rlcore.lm.pretrain import pretrain
from rlcore.lm.reinforce import leave_one_out_baseline
from rlcore.lm.rollout import Rollout, sample, score

__all__ = ["ReferentialGame", "Listener", "sample_rounds", "choice_probabilities", "game_reward", "kl_anchor",
           "readable_share", "reference_speaker", "SelfPlayResult", "self_play", "ReferentialEval",
           "evaluate_referential"]

_LISTENER_UPDATES = ("supervised", "reinforce")
_ANCHOR_ESTIMATORS = ("k2", "k3")


class Listener(nn.Module):
    """``forward(completions [B, L], lengths [B], candidates [B, K]) -> logits [B, K]`` (see the module docstring)."""

    def __init__(self, game: ReferentialGame, embed_dim: int = 16, hidden_dim: int = 32, seed: int | None = None):
        super().__init__()
        self.game = check_instance(game, "game", ReferentialGame)
        check_nonnegative_int(seed, "seed", none=True)
        n_tokens = Vocabulary(game.chars).n_tokens  # characters, EOS, BOS, PAD
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            self.embed = nn.Embedding(n_tokens, check_positive_int(embed_dim, "embed_dim"))
            self.gru = nn.GRU(embed_dim, check_positive_int(hidden_dim, "hidden_dim"), batch_first=True)
            self.colour = nn.Embedding(len(game.colours), hidden_dim)
            self.shape = nn.Embedding(len(game.shapes), hidden_dim)

    def encode_message(self, completions: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``u(m) [B, H]``: the GRU state after the message's last token (``EOS`` included)."""
        _check_ids(completions, "completions", self.embed.num_embeddings, (None, None))
        _check_ids(lengths, "lengths", completions.shape[1] + 1, (completions.shape[0],))
        if len(lengths) and lengths.min() < 1:
            raise ValueError(f"lengths must be >= 1 (EOS counts), got {lengths.tolist()}")
        out, _ = self.gru(self.embed(completions))
        return out[torch.arange(len(lengths)), lengths - 1]

    def encode_objects(self, objects: torch.Tensor) -> torch.Tensor:
        """``v(o) = E_colour[o // n_shapes] + E_shape[o % n_shapes]``, shape ``objects.shape + (H,)``."""
        _check_ids(objects, "objects", self.game.n_objects)
        n = len(self.game.shapes)
        return self.colour(objects // n) + self.shape(objects % n)

    def forward(self, completions: torch.Tensor, lengths: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
        u = self.encode_message(completions, lengths)
        _check_ids(candidates, "candidates", self.game.n_objects, (len(lengths), None))
        return torch.einsum("bh,bkh->bk", u, self.encode_objects(candidates))


def _check_ids(t: torch.Tensor, name: str, n: int, shape: tuple | None = None) -> None:
    """``t`` an integer tensor of indices in ``[0, n)`` (of ``shape``): torch would wrap -1 or fail deep inside."""
    check_index_array(check_tensor(t, name, kind="integer"), name, n, shape=shape)


def _check_speakers(game: ReferentialGame, **models: CharLM) -> None:
    check_instance(game, "game", ReferentialGame)
    for name, m in models.items():
        if check_instance(m, name, CharLM).vocab.chars != tuple(game.chars):
            raise ValueError(f"{name} must write the game's characters {game.chars!r}, got {''.join(m.vocab.chars)!r}")


def sample_rounds(game: ReferentialGame, batch_size: int, generator: torch.Generator
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(candidates [B, K], target_pos [B], targets [B])``: ``K`` distinct objects and a uniform target among them."""
    check_instance(game, "game", ReferentialGame), check_instance(generator, "generator", torch.Generator)
    B = check_positive_int(batch_size, "batch_size")
    candidates = torch.rand(B, game.n_objects, generator=generator).argsort(1)[:, :game.n_candidates]
    pos = torch.randint(game.n_candidates, (B,), generator=generator)
    return candidates, pos, candidates[torch.arange(B), pos]


def choice_probabilities(listener: Listener, rollout: Rollout, candidates: torch.Tensor) -> torch.Tensor:
    """``p_psi(k | m_b, c_b1 .. c_bK)`` for every round ``b``, shape ``[B, K]`` (rows sum to 1)."""
    check_instance(listener, "listener", Listener), check_instance(rollout, "rollout", Rollout)
    return torch.softmax(listener(rollout.completions, rollout.lengths, candidates), dim=-1)


def game_reward(candidates: torch.Tensor, targets: torch.Tensor, choices: torch.Tensor) -> torch.Tensor:
    """``R_b = [candidates[b, choices[b]] = targets[b]]`` as floats, shape ``[B]``: 1 when the listener is right."""
    B, K = check_tensor(candidates, "candidates", ndim=2).shape
    check_tensor(targets, "targets", shape=(B,)), _check_ids(choices, "choices", K, (B,))
    return (candidates.gather(1, choices[:, None]).squeeze(1) == targets).to(torch.get_default_dtype())


def kl_anchor(logp: torch.Tensor, ref_logp: torch.Tensor, mask: torch.Tensor, kl_coef: float,
              estimator: str = "k2") -> torch.Tensor:
    """``kl_coef (1/B) sum_b sum_j m_bj k(log pi_bj, log pi_ref_bj)``: the anchor term of the speaker's loss.

    The per-sequence sum is [`rlcore.lm.kl.kl_to_reference`][]; ``ref_logp`` is a constant.
    """
    if estimator not in _ANCHOR_ESTIMATORS:
        raise ValueError(f"estimator must be one of {_ANCHOR_ESTIMATORS} (k1 in a loss is noise), got {estimator!r}")
    return check_real(kl_coef, "kl_coef") * kl_to_reference(logp, ref_logp.detach(), mask, estimator).mean()


def reference_speaker(game: ReferentialGame, steps: int = 100, seed: int = 0, embed_dim: int = 16,
                      hidden_dim: int = 32, lr: float = 1e-2) -> CharLM:
    """``pi_ref``: a CharLM pretrained by maximum likelihood on ``game.corpus()`` (natural descriptions)."""
    check_instance(game, "game", ReferentialGame)
    model = CharLM(game.chars, embed_dim, hidden_dim, seed=seed)
    pretrain(model, game.corpus(), steps=steps, seed=seed, batch_size=64, lr=lr, max_len=2 + game.max_message_len)
    return model


def _messages(game: ReferentialGame, speaker: CharLM, targets: torch.Tensor, generator: torch.Generator) -> Rollout:
    return sample(speaker, [game.prompt(t) for t in targets.tolist()], 1, game.max_message_len, generator=generator)


def readable_share(game: ReferentialGame, messages: list[str], targets: torch.Tensor) -> float:
    """The share of messages that are their target's natural name, ``(1/B) sum_b [m_b = name(t_b)]``."""
    check_instance(game, "game", ReferentialGame)
    targets = check_index_array(targets, "targets", game.n_objects, shape=(len(check_strings(messages, "messages")),))
    return float(np.mean([m == game.name(t) for m, t in zip(messages, targets.tolist())]))


@dataclass(frozen=True)
class SelfPlayResult:
    """Trained players and ``history[key]`` per iteration: ``success`` (mean ``R``), ``kl`` (mean sequence ``k3``
    KL to the reference), ``readable`` (share of messages that are the target's natural name), ``length``."""

    speaker: CharLM = field(repr=False)
    listener: Listener = field(repr=False)
    history: dict[str, np.ndarray] = field(repr=False)
    kl_coef: float
    seed: int
    elapsed: float

    def __repr__(self) -> str:
        h = {k: float(np.mean(v[-max(1, len(v) // 10):])) for k, v in self.history.items()}
        return (f"SelfPlayResult(kl_coef={self.kl_coef:g}, seed={self.seed}, {len(self.history['success'])} "
                f"iterations in {self.elapsed:.1f} s, final success {h['success']:.3f}, kl {h['kl']:.3f}, "
                f"readable {h['readable']:.3f})")


def self_play(game: ReferentialGame, reference: CharLM, *, kl_coef: float = 0.0, n_iterations: int = 150,
              batch_size: int = 64, speaker_lr: float = 5e-2, listener_lr: float = 1e-2,
              listener_update: str = "supervised", estimator: str = "k2", seed: int = 0,
              progress: bool = False) -> SelfPlayResult:
    """Train a speaker (a copy of ``reference``) and a fresh [`Listener`][] together; see the module docstring.

    Each iteration plays ``batch_size`` rounds ([`sample_rounds`][]), then takes one Adam step for
    each player on ``L_S`` and ``L_L``. Every draw comes from ``torch.Generator().manual_seed(seed)``
    and the listener is initialised with ``seed``: a seed reproduces a run bit for bit. ``reference``
    is only read; everything runs on the CPU.
    """
    _check_speakers(game, reference=reference)
    kl_coef, n_iterations = check_real(kl_coef, "kl_coef"), check_positive_int(n_iterations, "n_iterations")
    if check_positive_int(batch_size, "batch_size") < 2:
        raise ValueError(f"batch_size must be >= 2 (the leave-one-out baseline), got {batch_size}")
    s_lr, l_lr = check_real(speaker_lr, "speaker_lr", open_low=True), check_real(listener_lr, "listener_lr", 0, True)
    for name, v, allowed in (("listener_update", listener_update, _LISTENER_UPDATES),
                             ("estimator", estimator, _ANCHOR_ESTIMATORS)):
        if v not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, got {v!r}")
    seed = check_nonnegative_int(seed, "seed")
    check_flag(progress, "progress")
    speaker = copy.deepcopy(reference)
    listener = Listener(game, reference.config.embed_dim, reference.config.hidden_dim, seed=seed).to(reference.dtype)
    s_opt, l_opt = torch.optim.Adam(speaker.parameters(), lr=s_lr), torch.optim.Adam(listener.parameters(), lr=l_lr)
    g = torch.Generator().manual_seed(seed)
    hist: dict[str, list[float]] = {k: [] for k in ("success", "kl", "readable", "length")}
    start = time.perf_counter()
    for _ in tqdm(range(n_iterations), disable=not progress, desc="self-play", leave=False):
        candidates, pos, targets = sample_rounds(game, batch_size, g)
        ro = _messages(game, speaker, targets, g)
        logits = listener(ro.completions, ro.lengths, candidates)
        choice = torch.multinomial(torch.softmax(logits.detach(), -1), 1, generator=g).squeeze(1)
        R = game_reward(candidates, targets, choice).to(reference.dtype)
        speaker.train()
        logp = score(speaker, ro)[0]
        with torch.no_grad():
            ref_logp = score(reference, ro)[0]
        G = R[:, None].expand_as(logp)
        s_loss = reinforce_loss(logp, G, leave_one_out_baseline(G), ro.mask) + kl_anchor(logp, ref_logp, ro.mask,
                                                                                          kl_coef, estimator)
        log_p = torch.log_softmax(logits, -1)
        if listener_update == "supervised":
            l_loss = -log_p.gather(1, pos[:, None]).mean()
        else:
            l_loss = -(log_p.gather(1, choice[:, None]).squeeze(1) * (R - leave_one_out_baseline(R))).mean()
        for opt, loss in ((s_opt, s_loss), (l_opt, l_loss)):
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        hist["success"].append(float(R.mean()))
        hist["kl"].append(float(kl_to_reference(logp.detach(), ref_logp, ro.mask, "k3").mean()))
        hist["readable"].append(readable_share(game, ro.texts, targets))
        hist["length"].append(float(ro.lengths.float().mean()))
    speaker.eval()
    return SelfPlayResult(speaker, listener, {k: np.asarray(v) for k, v in hist.items()}, kl_coef, seed,
                          time.perf_counter() - start)


@dataclass(frozen=True)
class ReferentialEval:
    """``success`` = mean ``p_psi(target | m)``, ``kl`` = mean sequence ``k3`` KL to the reference,
    ``readable`` = share of messages that are the target's natural name, over ``n_rounds`` fresh rounds."""

    success: float
    kl: float
    readable: float
    n_rounds: int

    def __repr__(self) -> str:
        return (f"ReferentialEval(success {self.success:.3f}, kl {self.kl:.3f}, readable {self.readable:.3f}, "
                f"{self.n_rounds} rounds)")


@torch.no_grad()
def evaluate_referential(game: ReferentialGame, speaker: CharLM, listener: Listener, reference: CharLM,
                         n_rounds: int = 1024, seed: int = 0) -> ReferentialEval:
    """Play ``n_rounds`` fresh rounds with sampled messages; success is the listener's expected reward
    ``E_m[p_psi(target | m)]``, the KL the unbiased, non-negative ``k3`` estimate of ``KL(pi_theta || pi_ref)``."""
    _check_speakers(game, speaker=speaker, reference=reference), check_instance(listener, "listener", Listener)
    g = torch.Generator().manual_seed(check_nonnegative_int(seed, "seed"))
    candidates, pos, targets = sample_rounds(game, check_positive_int(n_rounds, "n_rounds"), g)
    ro = _messages(game, speaker, targets, g)
    p = choice_probabilities(listener, ro, candidates).gather(1, pos[:, None])
    kl = kl_to_reference(score(speaker, ro)[0], score(reference, ro)[0], ro.mask, "k3")
    return ReferentialEval(float(p.mean()), float(kl.mean()), readable_share(game, ro.texts, targets), int(n_rounds))

