"""Clinical decision support as text: patient prompts, treatment words and a gold reward from the exact ``Q*``.

Book: *Healthcare*, "Where language models enter" (with *RLHF* for the training that follows).

!!! warning
    A teaching construction on the chronic-disease teaching model: not a clinical tool.

A patient of the chronic model ([`rlcore.envs.chronic.chronic_disease_model`][]) becomes a
four-character prompt, and a treatment recommendation becomes a short word:

| part | text | meaning |
|---|---|---|
| prompt ``x`` | ``"o31>"`` | subgroup (``a``dult, ``o``lder, c``k``d), glucose band 0-4, complications 0-2, ``>`` |
| completion ``y`` | ``life``, ``met``, ``su``, ``basal``, ``ins`` | the five ``CHRONIC_ACTIONS``, in order |
| invalid ``y`` | anything else | names no treatment: a refusal or a malformed answer |

The state is ``s = 3 g + c`` (the chronic model's index), so the 3 subgroups x 15 living states
give 45 prompts. The gold reward is exact, from value iteration on each subgroup's model with its
contraindication mask ``M_g``:

    r(x, y) = Q*_g(s, a) - V*_g(s) - violation_penalty [not M_g(s, a)]   if y names a,
    r(x, y) = invalid_reward                                              otherwise,

with ``V*_g(s) = max_{a: M_g(s, a)} Q*_g(s, a)`` and, for every action (masked ones too),
``Q*_g(s, a) = R_g(s, a) + gamma sum_s' P_g(s'|s, a) V*_g(s')``. An allowed action scores at most 0
(0 for the optimal one); the constitution's rule, "never name a contraindicated treatment", costs
``violation_penalty``. Subtracting ``V*`` changes no comparison between two answers to one prompt,
so Bradley-Terry labels are the same as with raw ``Q*``; it only puts every prompt on one scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rlcore.core.validation import (
    check_choice,
    check_instance,
    check_nonnegative_int,
    check_positive_int,
    check_real,
    check_unit_interval,
)
from rlcore.envs.chronic import CHRONIC_ACTIONS, CHRONIC_SUBGROUPS, COMPLICATIONS, GLUCOSE_BANDS, chronic_disease_model
from rlcore.envs.rewards import TextReward, from_function
from rlcore.envs.treatment import TreatmentModel
from rlcore.tabular.dp import value_iteration

__all__ = ["SUBGROUP_CODES", "TREATMENT_CODES", "SEPARATOR", "CLINICAL_CHARS", "PROMPT_LENGTH", "MAX_LEN",
           "encode_prompt", "decode_prompt", "parse_treatment", "ClinicalTask", "clinical_task",
           "clinician_policy", "clinician_corpus"]

SUBGROUP_CODES = {"adult": "a", "older": "o", "ckd": "k"}
"""One prompt character per subgroup of the chronic model."""
TREATMENT_CODES = ("life", "met", "su", "basal", "ins")
"""The word that names each of ``CHRONIC_ACTIONS`` (same order); first letters all differ."""
SEPARATOR = ">"
"""Ends every prompt: the model writes its answer after it."""
CLINICAL_CHARS = "".join(sorted(set("01234" + SEPARATOR + "".join(SUBGROUP_CODES.values())
                                    + "".join(TREATMENT_CODES))))
"""The vocabulary: 19 characters (digits, ``>``, subgroup letters and the letters of the words)."""
PROMPT_LENGTH = 4
"""Characters in a prompt: subgroup, band, complications, separator."""
MAX_LEN = PROMPT_LENGTH + max(len(w) for w in TREATMENT_CODES) + 1
"""Length limit of prompt + completion (10): every treatment word ends with EOS, one more character cuts."""

_N_COMP = len(COMPLICATIONS)
_N_LIVE = len(GLUCOSE_BANDS) * _N_COMP


def encode_prompt(subgroup: str, state: int) -> str:
    """``(subgroup, s)`` -> prompt ``code(subgroup) g c >`` with ``s = 3 g + c`` a living state (0..14)."""
    check_choice(subgroup, "subgroup", tuple(SUBGROUP_CODES))
    if isinstance(state, bool) or not isinstance(state, (int, np.integer)) or not 0 <= state < _N_LIVE:
        raise ValueError(f"state must be an integer in [0, {_N_LIVE}) (a living state), got {state!r}")
    g, c = divmod(int(state), _N_COMP)
    return f"{SUBGROUP_CODES[subgroup]}{g}{c}{SEPARATOR}"


def decode_prompt(prompt: str) -> tuple[str, int]:
    """Inverse of [`encode_prompt`][]: ``"o31>"`` -> ``("older", 10)``."""
    names = {v: k for k, v in SUBGROUP_CODES.items()}
    ok = (isinstance(prompt, str) and len(prompt) == PROMPT_LENGTH and prompt[0] in names
          and prompt[1] in "01234" and prompt[2] in "012" and prompt[3] == SEPARATOR)
    if not ok:
        raise ValueError(f"prompt must look like 'o31{SEPARATOR}' (subgroup letter in {tuple(names)}, band 0-4, "
                         f"complications 0-2, '{SEPARATOR}'), got {prompt!r}")
    return names[prompt[0]], int(prompt[1]) * _N_COMP + int(prompt[2])


def parse_treatment(completion: str) -> int | None:
    """The action a completion names (index into ``CHRONIC_ACTIONS``), or ``None`` when it names none.

    Only the exact word counts: ``"met"`` is metformin, ``"me"``, ``"metx"`` and ``""`` are invalid.
    """
    if not isinstance(completion, str):
        raise TypeError(f"completion must be a str, got {type(completion).__name__}")
    return TREATMENT_CODES.index(completion) if completion in TREATMENT_CODES else None


@dataclass(frozen=True)
class ClinicalTask:
    """The ground truth of the 45 prompts: exact ``Q*``, ``V*``, masks and the gold reward.

    | field | shape | meaning |
    |---|---|---|
    | ``Q`` | ``[G, 15, A]`` | ``Q*_g(s, a)``, one backup of the masked ``V*_g`` (masked actions too) |
    | ``V`` | ``[G, 15]`` | ``V*_g(s) = max_{a allowed} Q*_g(s, a)`` |
    | ``mask`` | ``[G, 15, A]`` | ``M_g(s, a)``, True = allowed |
    | ``optimal`` | ``[G, 15]`` | ``argmax_{a allowed} Q*_g(s, a)`` |

    ``G`` subgroups (``subgroups``), the 15 living states, ``A = 5`` treatments.
    """

    subgroups: tuple[str, ...]
    models: tuple[TreatmentModel, ...] = field(repr=False)
    Q: np.ndarray = field(repr=False)
    V: np.ndarray = field(repr=False)
    mask: np.ndarray = field(repr=False)
    optimal: np.ndarray = field(repr=False)
    violation_penalty: float = 2.0
    invalid_reward: float = -1.0

    @property
    def prompts(self) -> tuple[str, ...]:
        """Every prompt, subgroup by subgroup and state by state: ``prompts[15 i + s]``."""
        return tuple(encode_prompt(g, s) for g in self.subgroups for s in range(_N_LIVE))

    @property
    def gold_table(self) -> np.ndarray:
        """``[G, 15, A]``: the gold reward of naming each action, ``Q* - V* - penalty [masked]``."""
        return self.Q - self.V[..., None] - self.violation_penalty * ~self.mask

    def index(self, prompt: str) -> tuple[int, int]:
        """``(i, s)``: the prompt's subgroup position in ``subgroups`` and its state."""
        name, s = decode_prompt(prompt)
        if name not in self.subgroups:
            raise ValueError(f"prompt {prompt!r} is for subgroup {name!r}, not one of {self.subgroups}")
        return self.subgroups.index(name), s

    def reward(self, text: str) -> float:
        """Gold reward of one full text (prompt followed by completion)."""
        check_instance(text, "text", str)
        i, s = self.index(text[:PROMPT_LENGTH])
        a = parse_treatment(text[PROMPT_LENGTH:])
        return self.invalid_reward if a is None else float(self.gold_table[i, s, a])

    @property
    def gold(self) -> TextReward:
        """The gold reward as a batched [`TextReward`][rlcore.envs.rewards.TextReward] on full texts."""
        return from_function(self.reward, "clinical_gold")


def clinical_task(subgroups: tuple[str, ...] = ("adult", "older", "ckd"), *, gamma: float = 0.97,
                  violation_penalty: float = 2.0, invalid_reward: float = -1.0, tol: float = 1e-12) -> ClinicalTask:
    """Solve each subgroup's chronic model with its mask and collect the ground truth of the prompts.

    ``V*`` is the discounted, infinite-horizon value under the model's ``gamma`` (the convention of
    [`rlcore.health.safety`][]; the model's ``horizon`` only limits simulated episodes), from
    [`rlcore.tabular.dp.value_iteration`][] with ``mask``. With the defaults every allowed answer
    (gold in ``[-0.53, 0]``) beats a refusal (``-1``), which beats every contraindicated one (``< -1.9``).
    """
    names = (subgroups,) if isinstance(subgroups, str) else tuple(subgroups) if hasattr(subgroups, "__iter__") else ()
    if not names or len(set(names)) != len(names) or any(g not in CHRONIC_SUBGROUPS for g in names):
        raise ValueError(f"subgroups must be distinct names from {tuple(CHRONIC_SUBGROUPS)}, got {subgroups!r}")
    check_unit_interval(gamma, "gamma")
    check_real(violation_penalty, "violation_penalty")
    invalid_reward = check_real(invalid_reward, "invalid_reward", low=-np.inf)
    check_real(tol, "tol", open_low=True)
    models, Q, V, mask, optimal = [], [], [], [], []
    for g in names:
        m = chronic_disease_model(g, gamma=gamma)
        res = value_iteration(m.mdp, mask=m.mask, tol=tol)
        models.append(m)
        Q.append(m.mdp.q_from_v(res.V)[:_N_LIVE])    # finite for masked actions as well
        V.append(res.V[:_N_LIVE])
        mask.append(np.asarray(m.mask[:_N_LIVE]))
        optimal.append(res.policy[:_N_LIVE])
    return ClinicalTask(names, tuple(models), np.stack(Q), np.stack(V), np.stack(mask), np.stack(optimal),
                        float(violation_penalty), float(invalid_reward))


def clinician_policy(task: ClinicalTask, p_best: float = 0.6) -> np.ndarray:
    """``[G, 15, A]``: the imperfect clinician who treats for outcomes and forgets the contraindications.

    ``pi_c(a|s) = p_best [a = argmax_a Q*_g,unmasked(s, a)] + (1 - p_best) / A``: with probability
    ``p_best`` the action that is optimal when *no* action is masked (value iteration without the
    mask), otherwise any of the ``A`` treatments uniformly. Where the unmasked optimum is
    contraindicated (metformin for ckd, intensive insulin for older patients) the clinician's most
    frequent answer is a violation.
    """
    check_instance(task, "task", ClinicalTask)
    p_best = check_unit_interval(p_best, "p_best")
    A = len(CHRONIC_ACTIONS)
    pi = np.full(task.mask.shape, (1.0 - p_best) / A)
    for i, m in enumerate(task.models):
        best = value_iteration(m.mdp, tol=1e-12).policy[:_N_LIVE]
        pi[i, np.arange(_N_LIVE), best] += p_best
    return pi


def clinician_corpus(task: ClinicalTask, lines_per_prompt: int = 20, p_best: float = 0.6, p_typo: float = 0.05,
                     seed: int = 0) -> list[str]:
    """Supervised lines ``prompt + word`` drawn from [`clinician_policy`][], a few with a typo.

    Each prompt gets ``lines_per_prompt`` lines; each word is mistyped with probability ``p_typo``
    (its last letter dropped or one letter of the vocabulary appended, even odds), so the corpus
    also holds invalid answers, as real records hold unreadable entries.
    """
    check_instance(task, "task", ClinicalTask)
    n = check_positive_int(lines_per_prompt, "lines_per_prompt")
    p_typo = check_unit_interval(p_typo, "p_typo")
    rng = np.random.default_rng(check_nonnegative_int(seed, "seed"))
    pi = clinician_policy(task, p_best)
    letters = sorted(set("".join(TREATMENT_CODES)))
    lines = []
    for prompt in task.prompts:
        i, s = task.index(prompt)
        for a in rng.choice(len(TREATMENT_CODES), size=n, p=pi[i, s]):
            word = TREATMENT_CODES[a]
            if rng.random() < p_typo:
                word = word[:-1] if rng.random() < 0.5 else word + letters[rng.integers(len(letters))]
            lines.append(prompt + word)
    return lines
