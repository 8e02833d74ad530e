"""Bad-input sweep (issue 9) of rlcore.advanced and rlcore.envs.rooms: every public function, the classes users
build and the methods they call refuse at least five bad inputs with a ValueError/TypeError naming the argument.

Left out on purpose: ``toy_constitution()`` and ``matching_pennies()`` take no argument, and the result records
(``PassAtK``, ``CQLResult``, ``ClinicalReport``, ``SMDPResult``, ``OptionLearningResult``, ``OfflineLMResult``,
``PlayHistory``, ``SelfPlayResult``, ``ReferentialEval``, ``ExactStats``, ``RLAIFResult``, ``PlanWriteResult``) and
the factory-built ``ArithmeticTask``, ``ClinicalTask`` and ``FourRooms`` are outputs, not inputs: their user-facing
methods are swept (``ClinicalTask.index``/``reward``, ``PlanWriteResult.samples_to_reach``), not their fields.
Tiny objects are built once, lazily; nothing here trains.
"""

from __future__ import annotations

import functools
import importlib
import math

import numpy as np
import pytest
import torch
from bad_inputs import Bad, assert_refused, cases

from rlcore.core.random_mdp import random_mdp
from rlcore.envs.rewards import from_function
from rlcore.envs.rooms import four_rooms
from rlcore.envs.vocabulary import Vocabulary
from rlcore.health.logs import collect_logs
from rlcore.lm.model import CharLM
from rlcore.lm.rollout import sample
from rlcore.rlhf.overoptimisation import ToyEvaluator

pytestmark = pytest.mark.timeout(30)
# by path: rlcore.advanced re-exports functions named like their modules (cql)
cp, cpr, con, cq, mg, ol, op, pw, rf, ra, sl, vf = (importlib.import_module(f"rlcore.advanced.{m}") for m in (
    "clinical_policy", "clinical_prompts", "constitution", "cql", "matrix_games", "offline_lm", "options",
    "plan_write", "referential", "rlaif", "smdp_learning", "verifiable"))
NAN, INF = math.nan, math.inf


def lm(chars, seed=0):
    return CharLM(chars, embed_dim=4, hidden_dim=4, seed=seed)


# ------------------------------------------------------------------ tiny objects, built on first use
@functools.cache
def arith():
    return vf.arithmetic_task(digits="01", operators="+", n_operators=1)


@functools.cache
def arith_lm():
    return lm(arith().env.vocab)


@functools.cache
def log_data():
    mdp = random_mdp(4, 2, gamma=0.9, seed=0)
    return collect_logs(mdp, np.full((4, 2), 0.5), 20, horizon=5, seed=0)


@functools.cache
def clinic():
    return cpr.clinical_task(("adult",))


@functools.cache
def clinic_lm():
    return lm(cpr.CLINICAL_CHARS)


@functools.cache
def rooms():
    return four_rooms()


@functools.cache
def opts():
    return op.hallway_options(rooms()) + op.primitive_options(rooms().mdp)


@functools.cache
def models():
    return op.option_models(rooms().mdp, op.primitive_options(rooms().mdp))


GOLD = from_function(lambda t: float(t[1:].count("b")), "gold")


@functools.cache
def ab_lm():
    return lm("ab")


@functools.cache
def tlog():
    return ol.TextLog(("a", "a", "b"), ("b", "ab", "a"), np.array([1.0, 0.0, 0.5]), Vocabulary("ab"), 4)


@functools.cache
def evaluator():
    return ToyEvaluator(ab_lm(), 4, ("a", "b"), {"gold": GOLD})


GAME = rf.ReferentialGame()


@functools.cache
def speaker():
    return lm(GAME.chars)


@functools.cache
def listener():
    return rf.Listener(GAME, 4, 4, seed=0)


@functools.cache
def messages():
    return sample(speaker(), ["RS", "GT"], 1, GAME.max_message_len, generator=torch.Generator().manual_seed(0))


CANDS = torch.tensor([[0, 4, 8], [1, 2, 3]])


@functools.cache
def toy_lm():
    return lm(con.TOY_CHARS)


@functools.cache
def toy_ev():
    return ra.toy_evaluator(toy_lm())


@functools.cache
def pw_task():
    return pw.plan_write_task(n_topics=2, length=3, letters="abc")


@functools.cache
def pw_lm():
    return lm(pw_task().env.vocab)


@functools.cache
def pw_result():
    return pw.PlanWriteResult(pw_lm(), None, {"samples": np.array([64]), "success": np.array([[0.1, 0.2]])},
                              np.zeros(2), pw.PlanWriteConfig())


def P(name="p"):
    return con.Principle(name, lambda t: True)


A2, B2 = np.array([[1.0, 1.0], [3.0, 0.0]]), np.array([[1.0, 3.0], [1.0, 0.0]])
HALF = [0.5, 0.5]
GEN = torch.Generator().manual_seed(0)

BAD: list[Bad] = []


def add(prefix, arg, **calls):
    """One Bad per keyword: ``label = prefix-arg-key``, all naming ``arg``."""
    BAD.extend(Bad(f"{prefix}-{arg}-{k}", c, arg) for k, c in calls.items())


# ------------------------------------------------------------------ verifiable
add("evaluate_expression", "expression", none=lambda: vf.evaluate_expression(None),
    int=lambda: vf.evaluate_expression(5), empty=lambda: vf.evaluate_expression(""),
    dangling=lambda: vf.evaluate_expression("1+"), unknown_char=lambda: vf.evaluate_expression("1a2"),
    doubled=lambda: vf.evaluate_expression("1++2"))
add("check_answer", "text", none=lambda: vf.check_answer(None), int=lambda: vf.check_answer(3),
    bytes=lambda: vf.check_answer(b"1+1=2"), list=lambda: vf.check_answer(["1=1"]),
    dict=lambda: vf.check_answer({"a": 1}))
add("arithmetic_task", "digits", empty=lambda: vf.arithmetic_task(digits=""),
    letter=lambda: vf.arithmetic_task(digits="0a"), none=lambda: vf.arithmetic_task(digits=None),
    repeated=lambda: vf.arithmetic_task(digits="00"))
add("arithmetic_task", "operators", minus=lambda: vf.arithmetic_task(operators="-"),
    empty=lambda: vf.arithmetic_task(operators=""))
add("arithmetic_task", "n_operators", zero=lambda: vf.arithmetic_task(n_operators=0),
    frac=lambda: vf.arithmetic_task(n_operators=2.5), bool=lambda: vf.arithmetic_task(n_operators=True),
    empty=lambda: vf.arithmetic_task(n_operators=[]), none=lambda: vf.arithmetic_task(n_operators=None),
    str=lambda: vf.arithmetic_task(n_operators="1"), dup=lambda: vf.arithmetic_task(n_operators=[1, 1]))
add("arithmetic_task", "n_prompts", zero=lambda: vf.arithmetic_task(n_prompts=0),
    huge=lambda: vf.arithmetic_task(n_prompts=10**6), frac=lambda: vf.arithmetic_task(n_prompts=2.5))
add("arithmetic_task", "seed", neg=lambda: vf.arithmetic_task(seed=-1))
add("supervised_lines", "task", none=lambda: vf.supervised_lines(None), str=lambda: vf.supervised_lines("task"))
add("supervised_lines", "n_per_prompt", zero=lambda: vf.supervised_lines(arith(), 0),
    frac=lambda: vf.supervised_lines(arith(), 2.5))
add("supervised_lines", "correct_fraction", big=lambda: vf.supervised_lines(arith(), correct_fraction=1.5),
    nan=lambda: vf.supervised_lines(arith(), correct_fraction=NAN))
add("supervised_lines", "seed", neg=lambda: vf.supervised_lines(arith(), seed=-1))
add("supervised_start", "task", none=lambda: vf.supervised_start(None))
add("supervised_start", "n_per_prompt", zero=lambda: vf.supervised_start(arith(), n_per_prompt=0))
add("supervised_start", "steps", neg=lambda: vf.supervised_start(arith(), steps=-1),
    frac=lambda: vf.supervised_start(arith(), steps=2.5))
add("supervised_start", "embed_dim", zero=lambda: vf.supervised_start(arith(), embed_dim=0))
add("supervised_start", "learning_rate", nan=lambda: vf.supervised_start(arith(), learning_rate=NAN),
    neg=lambda: vf.supervised_start(arith(), learning_rate=-1.0))
add("pass_probabilities", "model", none=lambda: vf.pass_probabilities(None, arith()),
    str=lambda: vf.pass_probabilities("lm", arith()),
    vocab=lambda: vf.pass_probabilities(lm("xyz"), arith()))
add("pass_probabilities", "task", none=lambda: vf.pass_probabilities(arith_lm(), None),
    dict=lambda: vf.pass_probabilities(arith_lm(), {}))
add("exact_pass_at_k", "p", empty=lambda: vf.exact_pass_at_k([], 1), nan=lambda: vf.exact_pass_at_k([NAN], 1),
    big=lambda: vf.exact_pass_at_k([1.5], 1), two_d=lambda: vf.exact_pass_at_k([[0.5]], 1),
    str=lambda: vf.exact_pass_at_k("abc", 1), none=lambda: vf.exact_pass_at_k(None, 1))
add("exact_pass_at_k", "k", zero=lambda: vf.exact_pass_at_k(HALF, 0), frac=lambda: vf.exact_pass_at_k(HALF, 2.5),
    empty=lambda: vf.exact_pass_at_k(HALF, []), str=lambda: vf.exact_pass_at_k(HALF, "5"),
    bool=lambda: vf.exact_pass_at_k(HALF, True))
add("pass_counts", "model", none=lambda: vf.pass_counts(None, arith(), 2))
add("pass_counts", "task", none=lambda: vf.pass_counts(arith_lm(), None, 2))
add("pass_counts", "n_samples", zero=lambda: vf.pass_counts(arith_lm(), arith(), 0),
    frac=lambda: vf.pass_counts(arith_lm(), arith(), 2.5))
add("pass_counts", "seed", neg=lambda: vf.pass_counts(arith_lm(), arith(), 2, seed=-1))
add("pass_counts", "temperature", zero=lambda: vf.pass_counts(arith_lm(), arith(), 2, temperature=0),
    nan=lambda: vf.pass_counts(arith_lm(), arith(), 2, temperature=NAN),
    str=lambda: vf.pass_counts(arith_lm(), arith(), 2, temperature="hot"))
add("mean_pass_at_k", "counts", empty=lambda: vf.mean_pass_at_k([], 4, 1), frac=lambda: vf.mean_pass_at_k([1.5], 4, 1),
    two_d=lambda: vf.mean_pass_at_k([[1]], 4, 1), neg=lambda: vf.mean_pass_at_k([-1], 4, 1),
    above_n=lambda: vf.mean_pass_at_k([5], 3, 1), none=lambda: vf.mean_pass_at_k(None, 3, 1))
add("mean_pass_at_k", "n_samples", zero=lambda: vf.mean_pass_at_k([0], 0, 1),
    frac=lambda: vf.mean_pass_at_k([1], 2.5, 1), str=lambda: vf.mean_pass_at_k([1], "4", 1))
add("mean_pass_at_k", "k", zero=lambda: vf.mean_pass_at_k([1], 4, 0), above_n=lambda: vf.mean_pass_at_k([1], 4, 5))
add("evaluate_pass_at_k", "k", zero=lambda: vf.evaluate_pass_at_k(arith_lm(), arith(), 0),
    above_n=lambda: vf.evaluate_pass_at_k(arith_lm(), arith(), [200], n_samples=100))
add("evaluate_pass_at_k", "n_samples", zero=lambda: vf.evaluate_pass_at_k(arith_lm(), arith(), 1, n_samples=0))
add("evaluate_pass_at_k", "seed", neg=lambda: vf.evaluate_pass_at_k(arith_lm(), arith(), 1, 2, seed=-1))
add("evaluate_pass_at_k", "model", none=lambda: vf.evaluate_pass_at_k(None, arith(), 1, 2))
add("evaluate_pass_at_k", "task", none=lambda: vf.evaluate_pass_at_k(arith_lm(), None, 1, 2))

# ------------------------------------------------------------------ cql
Y, N = np.zeros((3, 2)), np.ones((3, 2))
add("cql_update", "Y", str=lambda: cq.cql_update("a", N, alpha_cql=1, q_min=-1),
    shape=lambda: cq.cql_update(np.zeros((2, 2)), N, alpha_cql=1, q_min=-1),
    nan=lambda: cq.cql_update(np.full((3, 2), NAN), N, alpha_cql=1, q_min=-1))
add("cql_update", "counts", none=lambda: cq.cql_update(Y, None, alpha_cql=1, q_min=-1),
    one_d=lambda: cq.cql_update(Y, np.ones(3), alpha_cql=1, q_min=-1),
    neg=lambda: cq.cql_update(Y, -N, alpha_cql=1, q_min=-1),
    nan=lambda: cq.cql_update(Y, N * NAN, alpha_cql=1, q_min=-1))
add("cql_update", "alpha_cql", neg=lambda: cq.cql_update(Y, N, alpha_cql=-1, q_min=-1),
    nan=lambda: cq.cql_update(Y, N, alpha_cql=NAN, q_min=-1),
    str=lambda: cq.cql_update(Y, N, alpha_cql="1", q_min=-1))
add("cql_update", "q_min", nan=lambda: cq.cql_update(Y, N, alpha_cql=1, q_min=NAN),
    none=lambda: cq.cql_update(Y, N, alpha_cql=1, q_min=None))
add("cql_update", "mask", shape=lambda: cq.cql_update(Y, N, alpha_cql=1, q_min=-1, mask=np.ones((2, 2), bool)),
    empty_row=lambda: cq.cql_update(Y, N, alpha_cql=1, q_min=-1, mask=np.array([[1, 1], [0, 0], [1, 1]], bool)))
add("cql_update", "push_up", str=lambda: cq.cql_update(Y, N, alpha_cql=1, q_min=-1, push_up="yes"))
add("cql_update", "Z0", shape=lambda: cq.cql_update(Y, N, alpha_cql=1, q_min=-1, Z0=np.zeros(1)),
    str=lambda: cq.cql_update(Y, N, alpha_cql=1, q_min=-1, Z0="a"))
add("cql", "data", none=lambda: cq.cql(None, alpha_cql=1), dict=lambda: cq.cql({}, alpha_cql=1))
add("cql", "alpha_cql", neg=lambda: cq.cql(log_data(), alpha_cql=-1), nan=lambda: cq.cql(log_data(), alpha_cql=NAN))
add("cql", "gamma", big=lambda: cq.cql(log_data(), alpha_cql=1, gamma=1.5),
    nan=lambda: cq.cql(log_data(), alpha_cql=1, gamma=NAN))
add("cql", "tol", zero=lambda: cq.cql(log_data(), alpha_cql=1, tol=0))
add("cql", "max_iterations", zero=lambda: cq.cql(log_data(), alpha_cql=1, max_iterations=0),
    frac=lambda: cq.cql(log_data(), alpha_cql=1, max_iterations=2.5))
add("cql", "progress", str=lambda: cq.cql(log_data(), alpha_cql=1, progress="no"))
add("cql", "mask", shape=lambda: cq.cql(log_data(), alpha_cql=1, mask=np.ones((2, 2), bool)))
add("cql", "q_min", nan=lambda: cq.cql(log_data(), alpha_cql=1, q_min=NAN))
add("cql", "push_up", str=lambda: cq.cql(log_data(), alpha_cql=1, push_up="no"))

# ------------------------------------------------------------------ constitution
add("Principle", "name", empty=lambda: con.Principle("", str.isalpha), none=lambda: con.Principle(None, str.isalpha),
    int=lambda: con.Principle(3, str.isalpha))
add("Principle", "check", none=lambda: con.Principle("p", None), str=lambda: con.Principle("p", "x"))
add("Principle", "fix", int=lambda: con.Principle("p", str.isalpha, fix=3))
add("Principle", "statement", int=lambda: con.Principle("p", str.isalpha, statement=3))
add("Principle.complies", "text", none=lambda: P().complies(None), int=lambda: P().complies(3),
    bytes=lambda: P().complies(b"x"), list=lambda: P().complies(["a"]), set=lambda: P().complies({"a"}))
add("Constitution", "principles", empty=lambda: con.Constitution(()), none=lambda: con.Constitution(None),
    strs=lambda: con.Constitution(("a",)), dup=lambda: con.Constitution((P(), P())),
    mixed=lambda: con.Constitution([P(), 3]), str=lambda: con.Constitution("abc"))
TC = con.toy_constitution()
add("Constitution.subset", "names", empty=lambda: TC.subset([]), str=lambda: TC.subset("full_stop"),
    bogus=lambda: TC.subset(["bogus"]), none=lambda: TC.subset(None), int=lambda: TC.subset(3))
add("Constitution.violations", "texts", str=lambda: TC.violations("ab"), none=lambda: TC.violations(None),
    int_item=lambda: TC.violations([3]), none_item=lambda: TC.violations([None]), int=lambda: TC.violations(5))
add("Constitution.complies", "texts", str=lambda: TC.complies("ab"), none=lambda: TC.complies(None),
    int_item=lambda: TC.complies([3]), bytes_item=lambda: TC.complies([b"a"]), int=lambda: TC.complies(5))
add("Constitution.violation_rate", "texts", empty=lambda: TC.violation_rate([]), str=lambda: TC.violation_rate("ab"),
    none=lambda: TC.violation_rate(None), int_item=lambda: TC.violation_rate([1]))
add("Constitution.violation_rate", "per_principle", str=lambda: TC.violation_rate(["a."], per_principle="yes"))
add("Constitution.critique", "text", none=lambda: TC.critique(None), int=lambda: TC.critique(3),
    list=lambda: TC.critique(["a"]), bytes=lambda: TC.critique(b"a"), float=lambda: TC.critique(2.5))
add("Constitution.revise", "max_len", zero=lambda: TC.revise("ab", max_len=0),
    frac=lambda: TC.revise("ab", max_len=2.5), short=lambda: TC.revise("abab", max_len=2))
add("Constitution.revise", "max_rounds", zero=lambda: TC.revise("ab", max_rounds=0),
    bool=lambda: TC.revise("ab", max_rounds=True))
add("Constitution.revise", "text", none=lambda: TC.revise(None), int=lambda: TC.revise(3))
add("no_repeats", "run", one=lambda: con.no_repeats(1), zero=lambda: con.no_repeats(0),
    frac=lambda: con.no_repeats(2.5), str=lambda: con.no_repeats("3"), none=lambda: con.no_repeats(None),
    bool=lambda: con.no_repeats(True))
add("ends_with", "end", empty=lambda: con.ends_with(""), two=lambda: con.ends_with(".."),
    none=lambda: con.ends_with(None), int=lambda: con.ends_with(3), list=lambda: con.ends_with(["."]))
add("vowel_in_every_word", "vowels", empty=lambda: con.vowel_in_every_word(""),
    none=lambda: con.vowel_in_every_word(None), shared=lambda: con.vowel_in_every_word("a", "a"),
    int=lambda: con.vowel_in_every_word(3))
add("vowel_in_every_word", "separators", empty=lambda: con.vowel_in_every_word("a", ""),
    int=lambda: con.vowel_in_every_word("a", 3))

# ------------------------------------------------------------------ clinical_prompts
add("encode_prompt", "subgroup", bogus=lambda: cpr.encode_prompt("bogus", 0), none=lambda: cpr.encode_prompt(None, 0),
    list=lambda: cpr.encode_prompt(["adult"], 0))
add("encode_prompt", "state", neg=lambda: cpr.encode_prompt("adult", -1), big=lambda: cpr.encode_prompt("adult", 15),
    frac=lambda: cpr.encode_prompt("adult", 2.5), bool=lambda: cpr.encode_prompt("adult", True),
    str=lambda: cpr.encode_prompt("adult", "3"))
add("decode_prompt", "prompt", empty=lambda: cpr.decode_prompt(""), none=lambda: cpr.decode_prompt(None),
    subgroup=lambda: cpr.decode_prompt("x31>"), band=lambda: cpr.decode_prompt("a51>"),
    short=lambda: cpr.decode_prompt("a31"), int=lambda: cpr.decode_prompt(5))
add("parse_treatment", "completion", none=lambda: cpr.parse_treatment(None), int=lambda: cpr.parse_treatment(3),
    list=lambda: cpr.parse_treatment(["met"]), bytes=lambda: cpr.parse_treatment(b"met"),
    set=lambda: cpr.parse_treatment({"met"}))
add("ClinicalTask.index", "prompt", bogus=lambda: clinic().index("bogus"), none=lambda: clinic().index(None),
    other_group=lambda: clinic().index("o31>"), int=lambda: clinic().index(3), band=lambda: clinic().index("a91>"))
add("ClinicalTask.reward", "text", none=lambda: clinic().reward(None), int=lambda: clinic().reward(3),
    list=lambda: clinic().reward(["a31>met"]))
add("ClinicalTask.reward", "prompt", short=lambda: clinic().reward("a3"), bogus=lambda: clinic().reward("zz>met"))
add("clinical_task", "subgroups", empty=lambda: cpr.clinical_task(()), bogus=lambda: cpr.clinical_task(("bogus",)),
    dup=lambda: cpr.clinical_task(("adult", "adult")), none=lambda: cpr.clinical_task(None),
    int=lambda: cpr.clinical_task(3))
add("clinical_task", "gamma", big=lambda: cpr.clinical_task(gamma=1.5), nan=lambda: cpr.clinical_task(gamma=NAN))
add("clinical_task", "violation_penalty", neg=lambda: cpr.clinical_task(violation_penalty=-1),
    nan=lambda: cpr.clinical_task(violation_penalty=NAN))
add("clinical_task", "invalid_reward", inf=lambda: cpr.clinical_task(invalid_reward=INF))
add("clinical_task", "tol", zero=lambda: cpr.clinical_task(tol=0))
add("clinician_policy", "task", none=lambda: cpr.clinician_policy(None), dict=lambda: cpr.clinician_policy({}))
add("clinician_policy", "p_best", big=lambda: cpr.clinician_policy(clinic(), 1.5),
    nan=lambda: cpr.clinician_policy(clinic(), NAN), str=lambda: cpr.clinician_policy(clinic(), "0.5"),
    neg=lambda: cpr.clinician_policy(clinic(), -0.1))
add("clinician_corpus", "task", none=lambda: cpr.clinician_corpus(None))
add("clinician_corpus", "lines_per_prompt", zero=lambda: cpr.clinician_corpus(clinic(), 0),
    frac=lambda: cpr.clinician_corpus(clinic(), 2.5))
add("clinician_corpus", "p_typo", big=lambda: cpr.clinician_corpus(clinic(), p_typo=2))
add("clinician_corpus", "p_best", neg=lambda: cpr.clinician_corpus(clinic(), p_best=-1))
add("clinician_corpus", "seed", neg=lambda: cpr.clinician_corpus(clinic(), seed=-1))

# ------------------------------------------------------------------ clinical_policy
for fn in (cp.answer_probabilities, cp.evaluate_clinical_policy):
    add(fn.__name__, "model", none=lambda fn=fn: fn(None, clinic()), str=lambda fn=fn: fn("x", clinic()),
        vocab=lambda fn=fn: fn(lm("xyz"), clinic()))
    add(fn.__name__, "task", none=lambda fn=fn: fn(clinic_lm(), None), dict=lambda fn=fn: fn(clinic_lm(), {}))

# ------------------------------------------------------------------ options
S = 4
add("Option", "initiation", shape=lambda: op.Option("o", np.ones(3, bool), np.zeros(S, int), np.ones(S)),
    none=lambda: op.Option("o", None, np.zeros(S, int), np.ones(S)),
    frac=lambda: op.Option("o", np.full(S, 0.5), np.zeros(S, int), np.ones(S)))
add("Option", "policy", two_d=lambda: op.Option("o", np.ones(S, bool), np.zeros((S, 1), int), np.ones(S)),
    frac=lambda: op.Option("o", np.ones(S, bool), np.full(S, 2.5), np.ones(S)),
    neg=lambda: op.Option("o", np.ones(S, bool), np.full(S, -1), np.ones(S)))
add("Option", "termination", big=lambda: op.Option("o", np.ones(S, bool), np.zeros(S, int), np.full(S, 2.0)),
    nan=lambda: op.Option("o", np.ones(S, bool), np.zeros(S, int), np.full(S, NAN)),
    str=lambda: op.Option("o", np.ones(S, bool), np.zeros(S, int), "abcd"))
add("Option", "name", none=lambda: op.Option(None, np.ones(S, bool), np.zeros(S, int), np.ones(S)))
add("primitive_options", "mdp", none=lambda: op.primitive_options(None), str=lambda: op.primitive_options("x"),
    dict=lambda: op.primitive_options({}), rooms=lambda: op.primitive_options(rooms()),
    int=lambda: op.primitive_options(3))
add("hallway_options", "rooms", none=lambda: op.hallway_options(None), mdp=lambda: op.hallway_options(rooms().mdp),
    str=lambda: op.hallway_options("x"), int=lambda: op.hallway_options(3), dict=lambda: op.hallway_options({}))
SMALL = op.Option("o", np.ones(S, bool), np.zeros(S, int), np.ones(S))
add("option_model", "mdp", none=lambda: op.option_model(None, opts()[0]),
    rooms=lambda: op.option_model(rooms(), opts()[0]))
add("option_model", "option", none=lambda: op.option_model(rooms().mdp, None),
    size=lambda: op.option_model(rooms().mdp, SMALL),
    action=lambda: op.option_model(rooms().mdp, op.Option("o", np.ones(104, bool), np.full(104, 7), np.ones(104))))
add("option_model", "gamma", one=lambda: op.option_model(four_rooms(gamma=1.0).mdp, opts()[0]))
add("option_models", "options", empty=lambda: op.option_models(rooms().mdp, []),
    none=lambda: op.option_models(rooms().mdp, None), int_item=lambda: op.option_models(rooms().mdp, [3]),
    size=lambda: op.option_models(rooms().mdp, [SMALL]))
add("option_models", "mdp", none=lambda: op.option_models(None, opts()), str=lambda: op.option_models("x", opts()))
add("OptionModels", "options", empty=lambda: op.OptionModels((), np.zeros((0, 3)), np.zeros((0, 3, 3)),
                                                            np.zeros((0, 3), bool)))
add("OptionModels", "R", shape=lambda: op.OptionModels((SMALL,), np.zeros((1, 3)), np.zeros((1, S, S)),
                                                      np.ones((1, S), bool)),
    nan=lambda: op.OptionModels((SMALL,), np.full((1, S), NAN), np.zeros((1, S, S)), np.ones((1, S), bool)))
add("OptionModels", "P", shape=lambda: op.OptionModels((SMALL,), np.zeros((1, S)), np.zeros((1, S)),
                                                      np.ones((1, S), bool)))
add("OptionModels", "available", shape=lambda: op.OptionModels((SMALL,), np.zeros((1, S)), np.zeros((1, S, S)),
                                                              np.ones((2, S), bool)))
add("smdp_value_iteration", "models", none=lambda: op.smdp_value_iteration(None),
    dict=lambda: op.smdp_value_iteration({}))
add("smdp_value_iteration", "tol", zero=lambda: op.smdp_value_iteration(models(), tol=0),
    nan=lambda: op.smdp_value_iteration(models(), tol=NAN))
add("smdp_value_iteration", "max_iterations", zero=lambda: op.smdp_value_iteration(models(), max_iterations=0),
    frac=lambda: op.smdp_value_iteration(models(), max_iterations=2.5))

# ------------------------------------------------------------------ smdp_learning
Q2, AV = np.zeros((3, 2)), np.ones(2, bool)


def smdp_upd(**kw):
    args = dict(Q=Q2.copy(), s=0, o=0, G=1.0, k=1, s_next=1, ended=False, available_next=AV, alpha=0.5, gamma=0.9)
    return lambda: sl.smdp_q_update(**(args | kw))


def intra_upd(**kw):
    args = dict(Q=Q2.copy(), s=0, a=0, r=1.0, s_next=1, ended=False, consistent=AV, zeta_next=np.ones(2),
                available_next=AV, alpha=0.5, gamma=0.9)
    return lambda: sl.intra_option_update(**(args | kw))


add("smdp_q_update", "Q", none=smdp_upd(Q=None), one_d=smdp_upd(Q=np.zeros(3)), nan=smdp_upd(Q=np.full((3, 2), NAN)))
add("smdp_q_update", "s", neg=smdp_upd(s=-1), big=smdp_upd(s=3), frac=smdp_upd(s=0.5))
add("smdp_q_update", "o", big=smdp_upd(o=2), bool=smdp_upd(o=True))
add("smdp_q_update", "s_next", big=smdp_upd(s_next=3))
add("smdp_q_update", "G", nan=smdp_upd(G=NAN), str=smdp_upd(G="1"))
add("smdp_q_update", "k", zero=smdp_upd(k=0), frac=smdp_upd(k=2.5))
add("smdp_q_update", "ended", str=smdp_upd(ended="no"))
add("smdp_q_update", "available_next", shape=smdp_upd(available_next=np.ones(3, bool)))
add("smdp_q_update", "alpha", big=smdp_upd(alpha=1.5), nan=smdp_upd(alpha=NAN))
add("smdp_q_update", "gamma", big=smdp_upd(gamma=1.5))
add("intra_option_update", "Q", none=intra_upd(Q=None), one_d=intra_upd(Q=np.zeros(3)))
add("intra_option_update", "s", neg=intra_upd(s=-1), big=intra_upd(s=3))
add("intra_option_update", "s_next", big=intra_upd(s_next=7))
add("intra_option_update", "a", frac=intra_upd(a=0.5), neg=intra_upd(a=-1))
add("intra_option_update", "r", nan=intra_upd(r=NAN))
add("intra_option_update", "ended", str=intra_upd(ended="no"))
add("intra_option_update", "consistent", shape=intra_upd(consistent=np.ones(3, bool)),
    float=intra_upd(consistent=np.array([0.5, 1.0])))
add("intra_option_update", "zeta_next", big=intra_upd(zeta_next=np.full(2, 2.0)),
    shape=intra_upd(zeta_next=np.ones(3)))
add("intra_option_update", "available_next", shape=intra_upd(available_next=np.ones(3, bool)))
add("intra_option_update", "alpha", neg=intra_upd(alpha=-0.1))
add("intra_option_update", "gamma", nan=intra_upd(gamma=NAN))
for fn in (sl.smdp_q_learning, sl.intra_option_q_learning):
    f = fn.__name__
    add(f, "mdp", none=lambda fn=fn: fn(None, opts()), rooms=lambda fn=fn: fn(rooms(), opts()))
    add(f, "options", empty=lambda fn=fn: fn(rooms().mdp, []), none=lambda fn=fn: fn(rooms().mdp, None),
        size=lambda fn=fn: fn(rooms().mdp, [SMALL]))
    add(f, "n_episodes", zero=lambda fn=fn: fn(rooms().mdp, opts(), 0), frac=lambda fn=fn: fn(rooms().mdp, opts(), 2.5))
    add(f, "alpha", big=lambda fn=fn: fn(rooms().mdp, opts(), alpha=1.5))
    add(f, "epsilon", nan=lambda fn=fn: fn(rooms().mdp, opts(), epsilon=NAN))
    add(f, "max_steps", frac=lambda fn=fn: fn(rooms().mdp, opts(), max_steps=2.5))
    add(f, "seed", neg=lambda fn=fn: fn(rooms().mdp, opts(), seed=-1))
    add(f, "progress", str=lambda fn=fn: fn(rooms().mdp, opts(), progress="no"))

# ------------------------------------------------------------------ offline_lm
V = Vocabulary("ab")
add("TextLog", "prompts", empty=lambda: ol.TextLog((), (), np.zeros(0), V, 4),
    none=lambda: ol.TextLog(None, ("a",), np.zeros(1), V, 4))
add("TextLog", "completions", short=lambda: ol.TextLog(("a", "a"), ("b",), np.zeros(2), V, 4))
add("TextLog", "rewards", nan=lambda: ol.TextLog(("a",), ("b",), np.array([NAN]), V, 4),
    str=lambda: ol.TextLog(("a",), ("b",), "a", V, 4))
add("TextLog", "max_len", zero=lambda: ol.TextLog(("a",), ("b",), np.zeros(1), V, 0),
    long=lambda: ol.TextLog(("a",), ("bbbb",), np.zeros(1), V, 4))
add("TextLog", "vocab", none=lambda: ol.TextLog(("a",), ("b",), np.zeros(1), None, 4),
    str=lambda: ol.TextLog(("a",), ("b",), np.zeros(1), "ab", 4))
add("TextLog", "entry", char=lambda: ol.TextLog(("a",), ("z",), np.zeros(1), V, 4))
add("collect_log", "ref", none=lambda: ol.collect_log(None, ["a"], GOLD, 2, 4))
add("collect_log", "prompts", empty=lambda: ol.collect_log(ab_lm(), [], GOLD, 2, 4))
add("collect_log", "reward", none=lambda: ol.collect_log(ab_lm(), ["a"], None, 2, 4))
add("collect_log", "n_per_prompt", zero=lambda: ol.collect_log(ab_lm(), ["a"], GOLD, 0, 4))
add("collect_log", "max_len", zero=lambda: ol.collect_log(ab_lm(), ["a"], GOLD, 2, 0))
add("collect_log", "noise", neg=lambda: ol.collect_log(ab_lm(), ["a"], GOLD, 2, 4, noise=-1),
    nan=lambda: ol.collect_log(ab_lm(), ["a"], GOLD, 2, 4, noise=NAN))
add("collect_log", "seed", neg=lambda: ol.collect_log(ab_lm(), ["a"], GOLD, 2, 4, seed=-1))
add("top_fraction_indices", "log", none=lambda: ol.top_fraction_indices(None, 0.5))
add("top_fraction_indices", "top_fraction", zero=lambda: ol.top_fraction_indices(tlog(), 0),
    big=lambda: ol.top_fraction_indices(tlog(), 1.5), nan=lambda: ol.top_fraction_indices(tlog(), NAN),
    str=lambda: ol.top_fraction_indices(tlog(), "0.5"))
add("top_fraction_indices", "per_prompt", str=lambda: ol.top_fraction_indices(tlog(), 0.5, "yes"))
add("awr_weights", "log", none=lambda: ol.awr_weights(None))
add("awr_weights", "temperature", zero=lambda: ol.awr_weights(tlog(), 0), nan=lambda: ol.awr_weights(tlog(), NAN),
    str=lambda: ol.awr_weights(tlog(), "x"))
add("awr_weights", "max_weight", zero=lambda: ol.awr_weights(tlog(), max_weight=0),
    neg=lambda: ol.awr_weights(tlog(), max_weight=-1))
W = np.ones(3)
add("weighted_nll", "model", none=lambda: ol.weighted_nll(None, tlog(), W))
add("weighted_nll", "log", none=lambda: ol.weighted_nll(ab_lm(), None, W))
add("weighted_nll", "weights", shape=lambda: ol.weighted_nll(ab_lm(), tlog(), np.ones(2)),
    nan=lambda: ol.weighted_nll(ab_lm(), tlog(), W * NAN), neg=lambda: ol.weighted_nll(ab_lm(), tlog(), -W))
add("weighted_nll", "idx", big=lambda: ol.weighted_nll(ab_lm(), tlog(), W, [5]),
    frac=lambda: ol.weighted_nll(ab_lm(), tlog(), W, [0.5]), neg=lambda: ol.weighted_nll(ab_lm(), tlog(), W, [-1]),
    empty=lambda: ol.weighted_nll(ab_lm(), tlog(), W, []))
add("fit_weighted", "epochs", zero=lambda: ol.fit_weighted(ab_lm(), tlog(), W, epochs=0))
add("fit_weighted", "batch_size", zero=lambda: ol.fit_weighted(ab_lm(), tlog(), W, batch_size=0))
add("fit_weighted", "learning_rate", zero=lambda: ol.fit_weighted(ab_lm(), tlog(), W, learning_rate=0))
add("fit_weighted", "weights", zeros=lambda: ol.fit_weighted(ab_lm(), tlog(), 0 * W),
    nan=lambda: ol.fit_weighted(ab_lm(), tlog(), W * NAN))
add("fit_weighted", "seed", neg=lambda: ol.fit_weighted(ab_lm(), tlog(), W, seed=-1))
add("fit_weighted", "model", none=lambda: ol.fit_weighted(None, tlog(), W))
add("log_preference_pairs", "log", none=lambda: ol.log_preference_pairs(None),
    no_pairs=lambda: ol.log_preference_pairs(ol.TextLog(("a", "a"), ("b", "a"), np.ones(2), V, 4)))
add("log_preference_pairs", "max_pairs_per_prompt", zero=lambda: ol.log_preference_pairs(tlog(), 0),
    frac=lambda: ol.log_preference_pairs(tlog(), 2.5))
add("log_preference_pairs", "seed", neg=lambda: ol.log_preference_pairs(tlog(), seed=-1))
add("filtered_bc", "top_fraction", zero=lambda: ol.filtered_bc(ab_lm(), tlog(), 0))
add("filtered_bc", "epochs", zero=lambda: ol.filtered_bc(ab_lm(), tlog(), epochs=0))
add("filtered_bc", "ref", none=lambda: ol.filtered_bc(None, tlog()))
add("filtered_bc", "learning_rate", nan=lambda: ol.filtered_bc(ab_lm(), tlog(), learning_rate=NAN))
add("filtered_bc", "batch_size", zero=lambda: ol.filtered_bc(ab_lm(), tlog(), batch_size=0))
add("filtered_bc", "log", none=lambda: ol.filtered_bc(ab_lm(), None))
add("awr", "temperature", zero=lambda: ol.awr(ab_lm(), tlog(), 0))
add("awr", "max_weight", zero=lambda: ol.awr(ab_lm(), tlog(), max_weight=0))
add("awr", "epochs", zero=lambda: ol.awr(ab_lm(), tlog(), epochs=0))
add("awr", "ref", none=lambda: ol.awr(None, tlog()))
add("awr", "log", none=lambda: ol.awr(ab_lm(), None))
add("offline_dpo", "beta", zero=lambda: ol.offline_dpo(ab_lm(), tlog(), 0),
    nan=lambda: ol.offline_dpo(ab_lm(), tlog(), NAN))
add("offline_dpo", "epochs", zero=lambda: ol.offline_dpo(ab_lm(), tlog(), epochs=0))
add("offline_dpo", "max_pairs_per_prompt", zero=lambda: ol.offline_dpo(ab_lm(), tlog(), max_pairs_per_prompt=0))
add("offline_dpo", "ref", none=lambda: ol.offline_dpo(None, tlog()))
add("offline_dpo", "learning_rate", neg=lambda: ol.offline_dpo(ab_lm(), tlog(), learning_rate=-1))
add("online_ppo", "ref", none=lambda: ol.online_ppo(None, GOLD, ["a"], 4))
add("online_ppo", "reward", none=lambda: ol.online_ppo(ab_lm(), None, ["a"], 4))
add("online_ppo", "prompts", empty=lambda: ol.online_ppo(ab_lm(), GOLD, [], 4))
add("online_ppo", "max_len", zero=lambda: ol.online_ppo(ab_lm(), GOLD, ["a"], 0))
add("online_ppo", "config", str=lambda: ol.online_ppo(ab_lm(), GOLD, ["a"], 4, config="x"))
add("online_ppo", "seed", neg=lambda: ol.online_ppo(ab_lm(), GOLD, ["a"], 4, seed=-1))
add("evaluate_method", "gold", bogus=lambda: ol.evaluate_method("m", ab_lm(), evaluator(), 3, gold="bogus"))
add("evaluate_method", "evaluator", none=lambda: ol.evaluate_method("m", ab_lm(), None, 3))
add("evaluate_method", "model", none=lambda: ol.evaluate_method("m", None, evaluator(), 3))
add("evaluate_method", "log_size", neg=lambda: ol.evaluate_method("m", ab_lm(), evaluator(), -1),
    frac=lambda: ol.evaluate_method("m", ab_lm(), evaluator(), 2.5))
add("evaluate_method", "fresh_samples", neg=lambda: ol.evaluate_method("m", ab_lm(), evaluator(), 3, -1))
add("evaluate_method", "method", none=lambda: ol.evaluate_method(None, ab_lm(), evaluator(), 3))


def compare(**kw):
    args = dict(ref=ab_lm(), log=tlog(), reward=GOLD, evaluator=evaluator()) | kw
    return lambda: ol.compare_offline(**args)


add("compare_offline", "evaluator", other=compare(evaluator=ToyEvaluator(ab_lm(), 3, ("a",), {"gold": GOLD})),
    none=compare(evaluator=None))
add("compare_offline", "log", none=compare(log=None))
add("compare_offline", "ref", none=compare(ref=None))
add("compare_offline", "top_fraction", zero=compare(top_fraction=0))
add("compare_offline", "temperature", zero=compare(temperature=0))
add("compare_offline", "max_weight", zero=compare(max_weight=0))
add("compare_offline", "beta", zero=compare(beta=0))
add("compare_offline", "ppo_config", str=compare(ppo_config="x"))
add("compare_offline", "gold", bogus=compare(gold="bogus"))
add("compare_offline", "seed", neg=compare(seed=-1))
add("compare_offline", "reward", none=compare(reward=None))

# ------------------------------------------------------------------ matrix_games
add("demand_game", "demands", one=lambda: mg.demand_game([1]), nan=lambda: mg.demand_game([NAN, 1]),
    neg=lambda: mg.demand_game([-1, 2]), str=lambda: mg.demand_game("ab"), none=lambda: mg.demand_game(None),
    two_d=lambda: mg.demand_game([[1, 2]]))
add("demand_game", "surplus", zero=lambda: mg.demand_game(surplus=0), nan=lambda: mg.demand_game(surplus=NAN),
    str=lambda: mg.demand_game(surplus="4"))
for fn in (mg.expected_payoffs, mg.exploitability):
    f = fn.__name__
    add(f, "A", str=lambda fn=fn: fn("x", B2, HALF, HALF), one_d=lambda fn=fn: fn([1, 2], [1, 2], HALF, HALF),
        shape=lambda fn=fn: fn(A2, np.zeros((2, 3)), HALF, HALF), nan=lambda fn=fn: fn(A2 * NAN, B2, HALF, HALF))
    add(f, "x", sum=lambda fn=fn: fn(A2, B2, [0.5, 0.6], HALF), none=lambda fn=fn: fn(A2, B2, None, HALF))
    add(f, "y", size=lambda fn=fn: fn(A2, B2, HALF, [1.0]), neg=lambda fn=fn: fn(A2, B2, HALF, [1.5, -0.5]))
add("pure_nash", "A", none=lambda: mg.pure_nash(None, B2), str=lambda: mg.pure_nash("x", B2),
    empty=lambda: mg.pure_nash(np.zeros((1, 0)), np.zeros((1, 0))), three_d=lambda: mg.pure_nash(np.zeros((2, 2, 2)),
                                                                                               np.zeros((2, 2, 2))),
    nan=lambda: mg.pure_nash(A2 * NAN, B2), shape=lambda: mg.pure_nash(A2, np.zeros((3, 2))))
add("pure_nash", "B", inf=lambda: mg.pure_nash(A2, B2 + INF))
add("nash_2x2", "A", three=lambda: mg.nash_2x2(np.zeros((3, 3)), np.zeros((3, 3))),
    no_mixed=lambda: mg.nash_2x2([[3, 0], [5, 1]], [[3, 5], [0, 1]]), nan=lambda: mg.nash_2x2(A2 * NAN, B2),
    one_d=lambda: mg.nash_2x2([1, 2], [1, 2]), str=lambda: mg.nash_2x2("x", B2),
    shape=lambda: mg.nash_2x2(A2, np.zeros((2, 3))))
add("independent_pg", "n_steps", zero=lambda: mg.independent_pg(A2, B2, n_steps=0),
    frac=lambda: mg.independent_pg(A2, B2, n_steps=2.5))
add("independent_pg", "lr", zero=lambda: mg.independent_pg(A2, B2, lr=0), nan=lambda: mg.independent_pg(A2, B2, lr=NAN))
add("independent_pg", "seed", neg=lambda: mg.independent_pg(A2, B2, seed=-1))
add("independent_pg", "baseline_rate", neg=lambda: mg.independent_pg(A2, B2, baseline_rate=-1),
    nan=lambda: mg.independent_pg(A2, B2, baseline_rate=NAN))
add("independent_pg", "gradient", bogus=lambda: mg.independent_pg(A2, B2, gradient="bogus"),
    list=lambda: mg.independent_pg(A2, B2, gradient=["exact"]))
add("independent_pg", "progress", str=lambda: mg.independent_pg(A2, B2, progress="no"))
add("independent_pg", "init_logits", shape=lambda: mg.independent_pg(A2, B2, init_logits=([0, 0, 0], [0, 0])),
    int=lambda: mg.independent_pg(A2, B2, init_logits=3), nan=lambda: mg.independent_pg(A2, B2, init_logits=([NAN, 0],
                                                                                                          [0, 0])),
    one=lambda: mg.independent_pg(A2, B2, init_logits=([0, 0],)),
    str=lambda: mg.independent_pg(A2, B2, init_logits=("ab", "cd")))
add("independent_pg", "A", str=lambda: mg.independent_pg("x", B2))
YS = np.full((3, 2), 0.5)
for fn in (mg.action_values, mg.best_response_switches):
    f = fn.__name__
    add(f, "A", str=lambda fn=fn: fn("x", YS), nan=lambda fn=fn: fn(A2 * NAN, YS), one_d=lambda fn=fn: fn([1, 2], YS))
    add(f, "y", width=lambda fn=fn: fn(A2, np.full((3, 3), 1 / 3)), three_d=lambda fn=fn: fn(A2, np.zeros((1, 3, 2))),
        nan=lambda fn=fn: fn(A2, YS * NAN), none=lambda fn=fn: fn(A2, None), str=lambda fn=fn: fn(A2, "ab"))
add("distance_to_nash", "x_star", shape=lambda: mg.distance_to_nash(YS, YS, [0.5], HALF),
    none=lambda: mg.distance_to_nash(YS, YS, None, HALF), nan=lambda: mg.distance_to_nash(YS, YS, [NAN, 0.5], HALF))
add("distance_to_nash", "x", len=lambda: mg.distance_to_nash(YS[:2], YS, HALF, HALF),
    nan=lambda: mg.distance_to_nash(YS * NAN, YS, HALF, HALF), str=lambda: mg.distance_to_nash("a", YS, HALF, HALF),
    three_d=lambda: mg.distance_to_nash(np.zeros((1, 3, 2)), YS, HALF, HALF))
add("distance_to_nash", "y", str=lambda: mg.distance_to_nash(YS, "ab", HALF, HALF))

# ------------------------------------------------------------------ referential
add("ReferentialGame", "n_candidates", one=lambda: rf.ReferentialGame(n_candidates=1),
    big=lambda: rf.ReferentialGame(n_candidates=10), frac=lambda: rf.ReferentialGame(n_candidates=2.5))
add("ReferentialGame", "max_message_len", one=lambda: rf.ReferentialGame(max_message_len=1),
    frac=lambda: rf.ReferentialGame(max_message_len=2.5))
add("ReferentialGame", "colours", dup=lambda: rf.ReferentialGame(colours=("red", "rose")),
    none=lambda: rf.ReferentialGame(colours=None), str=lambda: rf.ReferentialGame(colours="red"),
    empty=lambda: rf.ReferentialGame(colours=()))
add("ReferentialGame", "shapes", int=lambda: rf.ReferentialGame(shapes=(3, 4)))
add("ReferentialGame", "extra_chars", int=lambda: rf.ReferentialGame(extra_chars=5),
    none=lambda: rf.ReferentialGame(extra_chars=None))
for meth in ("prompt", "name"):
    add(f"ReferentialGame.{meth}", "obj", neg=lambda m=meth: getattr(GAME, m)(-1),
        big=lambda m=meth: getattr(GAME, m)(9), frac=lambda m=meth: getattr(GAME, m)(2.5),
        none=lambda m=meth: getattr(GAME, m)(None), bool=lambda m=meth: getattr(GAME, m)(True))
add("ReferentialGame.corpus", "repeats", zero=lambda: GAME.corpus(0), frac=lambda: GAME.corpus(2.5),
    neg=lambda: GAME.corpus(-1), none=lambda: GAME.corpus(None), bool=lambda: GAME.corpus(True))
add("Listener", "game", none=lambda: rf.Listener(None), str=lambda: rf.Listener("game"))
add("Listener", "embed_dim", zero=lambda: rf.Listener(GAME, 0), frac=lambda: rf.Listener(GAME, 2.5))
add("Listener", "hidden_dim", zero=lambda: rf.Listener(GAME, 4, 0))
add("Listener", "seed", neg=lambda: rf.Listener(GAME, seed=-1), frac=lambda: rf.Listener(GAME, seed=2.5))
TOK, LEN = torch.tensor([[1, 2, 0], [3, 0, 0]]), torch.tensor([3, 2])
add("Listener.encode_message", "completions", float=lambda: listener().encode_message(TOK.double(), LEN),
    big=lambda: listener().encode_message(TOK + 100, LEN), one_d=lambda: listener().encode_message(TOK[0], LEN),
    none=lambda: listener().encode_message(None, LEN))
add("Listener.encode_message", "lengths", zero=lambda: listener().encode_message(TOK, torch.tensor([0, 2])),
    long=lambda: listener().encode_message(TOK, torch.tensor([4, 2])),
    size=lambda: listener().encode_message(TOK, torch.tensor([3])))
add("Listener.encode_objects", "objects", big=lambda: listener().encode_objects(torch.tensor([9])),
    neg=lambda: listener().encode_objects(torch.tensor([-1])),
    float=lambda: listener().encode_objects(torch.tensor([0.5])), none=lambda: listener().encode_objects(None),
    list=lambda: listener().encode_objects([0, 1]))
add("Listener.forward", "candidates", size=lambda: listener()(TOK, LEN, CANDS[:1]),
    big=lambda: listener()(TOK, LEN, CANDS + 9), one_d=lambda: listener()(TOK, LEN, CANDS[0]))
add("Listener.forward", "lengths", zero=lambda: listener()(TOK, LEN * 0, CANDS),
    size=lambda: listener()(TOK, LEN[:1], CANDS))
add("sample_rounds", "game", none=lambda: rf.sample_rounds(None, 2, GEN), str=lambda: rf.sample_rounds("g", 2, GEN))
add("sample_rounds", "batch_size", zero=lambda: rf.sample_rounds(GAME, 0, GEN),
    frac=lambda: rf.sample_rounds(GAME, 2.5, GEN))
add("sample_rounds", "generator", str=lambda: rf.sample_rounds(GAME, 2, "x"), int=lambda: rf.sample_rounds(GAME, 2, 3))
add("choice_probabilities", "listener", none=lambda: rf.choice_probabilities(None, messages(), CANDS),
    str=lambda: rf.choice_probabilities("x", messages(), CANDS))
add("choice_probabilities", "rollout", none=lambda: rf.choice_probabilities(listener(), None, CANDS))
add("choice_probabilities", "candidates", size=lambda: rf.choice_probabilities(listener(), messages(), CANDS[:1]),
    big=lambda: rf.choice_probabilities(listener(), messages(), CANDS + 9),
    float=lambda: rf.choice_probabilities(listener(), messages(), CANDS.double()))
T2, C2 = torch.tensor([4, 3]), torch.tensor([1, 0])
add("game_reward", "candidates", one_d=lambda: rf.game_reward(CANDS[0], T2, C2),
    none=lambda: rf.game_reward(None, T2, C2))
add("game_reward", "choices", big=lambda: rf.game_reward(CANDS, T2, torch.tensor([3, 0])),
    neg=lambda: rf.game_reward(CANDS, T2, torch.tensor([-1, 0])), float=lambda: rf.game_reward(CANDS, T2, C2.double()),
    size=lambda: rf.game_reward(CANDS, T2, C2[:1]))
add("game_reward", "targets", size=lambda: rf.game_reward(CANDS, torch.tensor([4]), C2),
    two_d=lambda: rf.game_reward(CANDS, CANDS, C2))
LP, MK = torch.zeros(2, 3), torch.ones(2, 3, dtype=torch.bool)
add("kl_anchor", "estimator", k1=lambda: rf.kl_anchor(LP, LP, MK, 0.1, "k1"),
    bogus=lambda: rf.kl_anchor(LP, LP, MK, 0.1, "bogus"))
add("kl_anchor", "kl_coef", neg=lambda: rf.kl_anchor(LP, LP, MK, -1), nan=lambda: rf.kl_anchor(LP, LP, MK, NAN),
    str=lambda: rf.kl_anchor(LP, LP, MK, "0.1"))
add("kl_anchor", "ref_logp", shape=lambda: rf.kl_anchor(LP, torch.zeros(2, 4), MK, 0.1))
add("kl_anchor", "mask", shape=lambda: rf.kl_anchor(LP, LP, MK[:, :2], 0.1))
add("kl_anchor", "logp", none=lambda: rf.kl_anchor(None, LP, MK, 0.1))
add("reference_speaker", "game", none=lambda: rf.reference_speaker(None))
add("reference_speaker", "steps", neg=lambda: rf.reference_speaker(GAME, steps=-1),
    frac=lambda: rf.reference_speaker(GAME, steps=2.5))
add("reference_speaker", "seed", neg=lambda: rf.reference_speaker(GAME, seed=-1))
add("reference_speaker", "embed_dim", zero=lambda: rf.reference_speaker(GAME, embed_dim=0))
add("reference_speaker", "lr", zero=lambda: rf.reference_speaker(GAME, lr=0),
    nan=lambda: rf.reference_speaker(GAME, lr=NAN))
add("readable_share", "messages", empty=lambda: rf.readable_share(GAME, [], torch.tensor([], dtype=torch.long)),
    str=lambda: rf.readable_share(GAME, "rs", T2),
    int_item=lambda: rf.readable_share(GAME, [1, 2], T2))
add("readable_share", "targets", size=lambda: rf.readable_share(GAME, ["rs"], T2),
    none=lambda: rf.readable_share(GAME, ["rs", "gt"], None),
    big=lambda: rf.readable_share(GAME, ["rs", "gt"], torch.tensor([9, 0])))
add("readable_share", "game", none=lambda: rf.readable_share(None, ["rs", "gt"], T2))


def play(**kw):
    args = dict(game=GAME, reference=speaker(), n_iterations=1, batch_size=2) | kw
    return lambda: rf.self_play(**args)


add("self_play", "reference", none=play(reference=None), vocab=play(reference=ab_lm()))
add("self_play", "game", none=play(game=None))
add("self_play", "kl_coef", neg=play(kl_coef=-1), nan=play(kl_coef=NAN))
add("self_play", "n_iterations", zero=play(n_iterations=0))
add("self_play", "batch_size", one=play(batch_size=1))
add("self_play", "speaker_lr", zero=play(speaker_lr=0))
add("self_play", "listener_lr", nan=play(listener_lr=NAN))
add("self_play", "listener_update", bogus=play(listener_update="bogus"))
add("self_play", "estimator", k1=play(estimator="k1"))
add("self_play", "seed", neg=play(seed=-1))
add("self_play", "progress", str=play(progress="x"))
add("evaluate_referential", "n_rounds", zero=lambda: rf.evaluate_referential(GAME, speaker(), listener(), speaker(), 0))
add("evaluate_referential", "seed", neg=lambda: rf.evaluate_referential(GAME, speaker(), listener(), speaker(), 2, -1))
add("evaluate_referential", "speaker", none=lambda: rf.evaluate_referential(GAME, None, listener(), speaker(), 2),
    vocab=lambda: rf.evaluate_referential(GAME, ab_lm(), listener(), speaker(), 2))
add("evaluate_referential", "listener", none=lambda: rf.evaluate_referential(GAME, speaker(), None, speaker(), 2))
add("evaluate_referential", "reference", vocab=lambda: rf.evaluate_referential(GAME, speaker(), listener(), ab_lm(), 2))
add("evaluate_referential", "game", none=lambda: rf.evaluate_referential(None, speaker(), listener(), speaker(), 2))

# ------------------------------------------------------------------ rlaif
add("helpfulness", "texts", str=lambda: ra.helpfulness("ab"), none=lambda: ra.helpfulness(None),
    int_item=lambda: ra.helpfulness([3]), none_item=lambda: ra.helpfulness([None]), int=lambda: ra.helpfulness(5))
add("judge_scores", "texts", str=lambda: ra.judge_scores("ab", TC))
add("judge_scores", "constitution", none=lambda: ra.judge_scores(["a."], None),
    str=lambda: ra.judge_scores(["a."], "x"))
add("judge_scores", "penalty", neg=lambda: ra.judge_scores(["a."], TC, -1),
    nan=lambda: ra.judge_scores(["a."], TC, NAN),
    str=lambda: ra.judge_scores(["a."], TC, "2"))
add("gold_scores", "texts", str=lambda: ra.gold_scores("ab"), int_item=lambda: ra.gold_scores([3]),
    none=lambda: ra.gold_scores(None))
add("gold_scores", "penalty", neg=lambda: ra.gold_scores(["a."], -1), nan=lambda: ra.gold_scores(["a."], NAN))
add("AILabeller", "constitution", none=lambda: ra.AILabeller(None), principle=lambda: ra.AILabeller(P()))
add("AILabeller", "temperature", zero=lambda: ra.AILabeller(temperature=0), nan=lambda: ra.AILabeller(temperature=NAN))
add("AILabeller", "noise", big=lambda: ra.AILabeller(noise=1.5))
add("AILabeller", "penalty", neg=lambda: ra.AILabeller(penalty=-1))
LAB = ra.AILabeller()
add("AILabeller.prob_first", "first", size=lambda: LAB.prob_first(["a."], ["a.", "b."]),
    str=lambda: LAB.prob_first("ab", ["a.", "b."]), none=lambda: LAB.prob_first(None, ["a."]),
    int_item=lambda: LAB.prob_first([3], ["a."]))
add("AILabeller.prob_first", "second", none_item=lambda: LAB.prob_first(["a."], [None]),
    none=lambda: LAB.prob_first(["a."], None))
add("sample_pairs", "model", none=lambda: ra.sample_pairs(None, 2))
add("sample_pairs", "n_pairs", zero=lambda: ra.sample_pairs(toy_lm(), 0), frac=lambda: ra.sample_pairs(toy_lm(), 2.5))
add("sample_pairs", "max_len", zero=lambda: ra.sample_pairs(toy_lm(), 2, 0))
add("sample_pairs", "seed", neg=lambda: ra.sample_pairs(toy_lm(), 2, seed=-1))
TV = Vocabulary(con.TOY_CHARS)
add("label_pairs", "labeller", none=lambda: ra.label_pairs(None, ["a."], ["b."], TV),
    str=lambda: ra.label_pairs("x", ["a."], ["b."], TV))
add("label_pairs", "first", size=lambda: ra.label_pairs(LAB, ["a.", "b"], ["b."], TV),
    same=lambda: ra.label_pairs(LAB, ["a."], ["a."], TV))
add("label_pairs", "vocab", none=lambda: ra.label_pairs(LAB, ["a."], ["b."], None))
add("label_pairs", "max_len", zero=lambda: ra.label_pairs(LAB, ["a."], ["b."], TV, 0),
    short=lambda: ra.label_pairs(LAB, ["aaaa."], ["b."], TV, 2))
add("agreement", "p_first", shape=lambda: ra.agreement(["a."], ["bbb"], [0.5, 0.5]),
    nan=lambda: ra.agreement(["a."], ["bbb"], [NAN]), big=lambda: ra.agreement(["a."], ["bbb"], [1.5]),
    str=lambda: ra.agreement(["a."], ["bbb"], "a"))
add("agreement", "first", size=lambda: ra.agreement(["a.", "b"], ["bbb"], [0.5]),
    ties=lambda: ra.agreement(["a."], ["a."], [0.5]), str=lambda: ra.agreement("a", "b", [0.5]))
add("agreement", "penalty", nan=lambda: ra.agreement(["a."], ["bbb"], [0.5], NAN))
add("careless_model", "seed", neg=lambda: ra.careless_model(-1))
add("careless_model", "n_lines", zero=lambda: ra.careless_model(n_lines=0))
add("careless_model", "steps", zero=lambda: ra.careless_model(steps=0), frac=lambda: ra.careless_model(steps=2.5))
add("careless_model", "temperature", zero=lambda: ra.careless_model(temperature=0),
    nan=lambda: ra.careless_model(temperature=NAN))
add("toy_evaluator", "ref", none=lambda: ra.toy_evaluator(None), str=lambda: ra.toy_evaluator("x"))
add("toy_evaluator", "constitution", int=lambda: ra.toy_evaluator(toy_lm(), 3),
    principle=lambda: ra.toy_evaluator(toy_lm(), P()), str=lambda: ra.toy_evaluator(toy_lm(), "x"))
add("exact_stats", "model", none=lambda: ra.exact_stats("s", None, toy_ev()),
    vocab=lambda: ra.exact_stats("s", ab_lm(), toy_ev()))
add("exact_stats", "evaluator", none=lambda: ra.exact_stats("s", toy_lm(), None),
    other=lambda: ra.exact_stats("s", ab_lm(), evaluator()))
add("exact_stats", "strength", nan=lambda: ra.exact_stats("s", toy_lm(), toy_ev(), NAN),
    str=lambda: ra.exact_stats("s", toy_lm(), toy_ev(), "x"))
add("exact_stats", "stage", int=lambda: ra.exact_stats(3, toy_lm(), toy_ev()))
add("supervised_stage", "start", none=lambda: ra.supervised_stage(None))
add("supervised_stage", "n_drafts", zero=lambda: ra.supervised_stage(toy_lm(), 0))
add("supervised_stage", "steps", zero=lambda: ra.supervised_stage(toy_lm(), 2, 0))
add("supervised_stage", "seed", neg=lambda: ra.supervised_stage(toy_lm(), 2, seed=-1))
add("supervised_stage", "constitution", str=lambda: ra.supervised_stage(toy_lm(), 2, 1, constitution="x"))
add("rl_stage", "method", bogus=lambda: ra.rl_stage(toy_lm(), LAB, 2, "bogus"))
add("rl_stage", "strength", zero=lambda: ra.rl_stage(toy_lm(), LAB, 2, strength=0))
add("rl_stage", "labeller", none=lambda: ra.rl_stage(toy_lm(), None, 2))
add("rl_stage", "n_pairs", zero=lambda: ra.rl_stage(toy_lm(), LAB, 0))
add("rl_stage", "epochs", zero=lambda: ra.rl_stage(toy_lm(), LAB, 2, epochs=0))
add("rl_stage", "ppo_iterations", zero=lambda: ra.rl_stage(toy_lm(), LAB, 2, "ppo", ppo_iterations=0))
add("rl_stage", "seed", neg=lambda: ra.rl_stage(toy_lm(), LAB, 2, seed=-1))
add("rl_stage", "sft", none=lambda: ra.rl_stage(None, LAB, 2))
add("run_rlaif", "labeller", str=lambda: ra.run_rlaif("x"))
add("run_rlaif", "method", bogus=lambda: ra.run_rlaif(method="bogus"))
add("run_rlaif", "strength", zero=lambda: ra.run_rlaif(strength=0))
add("run_rlaif", "n_pairs", zero=lambda: ra.run_rlaif(n_pairs=0))
add("run_rlaif", "seed", neg=lambda: ra.run_rlaif(seed=-1))
add("run_rlaif", "start", str=lambda: ra.run_rlaif(start="x"))
add("run_rlaif", "sft", str=lambda: ra.run_rlaif(start=toy_lm(), sft="x"))
add("kl_sweep", "strengths", empty=lambda: ra.kl_sweep(toy_lm(), LAB, []), zero=lambda: ra.kl_sweep(toy_lm(), LAB, [0]),
    nan=lambda: ra.kl_sweep(toy_lm(), LAB, [NAN]), none=lambda: ra.kl_sweep(toy_lm(), LAB, None),
    str=lambda: ra.kl_sweep(toy_lm(), LAB, "abc"))
add("kl_sweep", "method", bogus=lambda: ra.kl_sweep(toy_lm(), LAB, [0.3], "bogus"))
add("kl_sweep", "n_pairs", zero=lambda: ra.kl_sweep(toy_lm(), LAB, [0.3], n_pairs=0))
add("kl_sweep", "sft", none=lambda: ra.kl_sweep(None, LAB, [0.3]))
add("kl_sweep", "labeller", none=lambda: ra.kl_sweep(toy_lm(), None, [0.3]))

# ------------------------------------------------------------------ plan_write
add("plan_pattern", "plan", other=lambda: pw.plan_pattern("z", 3), empty=lambda: pw.plan_pattern("", 3),
    none=lambda: pw.plan_pattern(None, 3))
add("plan_pattern", "length", zero=lambda: pw.plan_pattern("a", 0), frac=lambda: pw.plan_pattern("a", 2.5))
add("plan_pattern", "letters", empty=lambda: pw.plan_pattern("a", 3, ""), dup=lambda: pw.plan_pattern("a", 3, "aa"))
add("PlanWriteTask", "topics", none=lambda: pw.PlanWriteTask(None, "ab", ("a",), 3),
    letter=lambda: pw.PlanWriteTask(("x",), "ab", ("a",), 3), dup=lambda: pw.PlanWriteTask(("0", "0"), "ab",
                                                                                         ("a", "b"), 3))
add("PlanWriteTask", "letters", dup=lambda: pw.PlanWriteTask(("0",), "aa", ("a",), 3),
    digit=lambda: pw.PlanWriteTask(("0",), "a1", ("a",), 3))
add("PlanWriteTask", "plan_of", other=lambda: pw.PlanWriteTask(("0",), "ab", ("z",), 3),
    size=lambda: pw.PlanWriteTask(("0",), "ab", ("a", "b"), 3))
add("PlanWriteTask", "length", one=lambda: pw.PlanWriteTask(("0",), "ab", ("a",), 1),
    frac=lambda: pw.PlanWriteTask(("0",), "ab", ("a",), 2.5))
add("PlanWriteTask.worker_env", "reward", bogus=lambda: pw_task().worker_env("bogus"),
    none=lambda: pw_task().worker_env(None), int=lambda: pw_task().worker_env(3),
    list=lambda: pw_task().worker_env(["goal"]), upper=lambda: pw_task().worker_env("GOAL"))
for meth in ("task_reward", "goal_reward"):
    add(f"PlanWriteTask.{meth}", "text", none=lambda m=meth: getattr(pw_task(), m)(None),
        int=lambda m=meth: getattr(pw_task(), m)(3), list=lambda m=meth: getattr(pw_task(), m)(["0abc"]),
        bytes=lambda m=meth: getattr(pw_task(), m)(b"0abc"), float=lambda m=meth: getattr(pw_task(), m)(2.5))
add("plan_write_task", "n_topics", zero=lambda: pw.plan_write_task(0), frac=lambda: pw.plan_write_task(2.5),
    big=lambda: pw.plan_write_task(5))
add("plan_write_task", "length", one=lambda: pw.plan_write_task(length=1), zero=lambda: pw.plan_write_task(length=0))
add("plan_write_task", "letters", digit=lambda: pw.plan_write_task(2, letters="ab1"),
    empty=lambda: pw.plan_write_task(letters=""), none=lambda: pw.plan_write_task(letters=None))
add("plan_write_task", "seed", neg=lambda: pw.plan_write_task(seed=-1))
add("skill_lines", "task", none=lambda: pw.skill_lines(None))
add("skill_lines", "n_lines", zero=lambda: pw.skill_lines(pw_task(), 0))
add("skill_lines", "noise", big=lambda: pw.skill_lines(pw_task(), 4, 1.5),
    nan=lambda: pw.skill_lines(pw_task(), 4, NAN))
add("skill_lines", "seed", neg=lambda: pw.skill_lines(pw_task(), 4, seed=-1))
add("skill_start", "task", none=lambda: pw.skill_start(None))
add("skill_start", "n_lines", zero=lambda: pw.skill_start(pw_task(), 0))
add("skill_start", "noise", big=lambda: pw.skill_start(pw_task(), noise=2))
add("skill_start", "steps", neg=lambda: pw.skill_start(pw_task(), steps=-1), frac=lambda: pw.skill_start(pw_task(),
                                                                                                        steps=2.5))
add("skill_start", "embed_dim", zero=lambda: pw.skill_start(pw_task(), embed_dim=0))
add("skill_start", "seed", neg=lambda: pw.skill_start(pw_task(), seed=-1))
add("PlanPolicy", "n_topics", zero=lambda: pw.PlanPolicy(0, 2), frac=lambda: pw.PlanPolicy(2.5, 2),
    bool=lambda: pw.PlanPolicy(True, 2), none=lambda: pw.PlanPolicy(None, 2))
add("PlanPolicy", "n_plans", zero=lambda: pw.PlanPolicy(2, 0), str=lambda: pw.PlanPolicy(2, "3"))
LG, PL, AD = torch.zeros(2, 3), torch.tensor([0, 2]), torch.ones(2)
add("plan_pg_loss", "logits", one_d=lambda: pw.plan_pg_loss(LG[0], PL, AD), none=lambda: pw.plan_pg_loss(None, PL, AD),
    numpy=lambda: pw.plan_pg_loss(np.zeros((2, 3)), PL, AD), nan=lambda: pw.plan_pg_loss(LG * NAN, PL, AD))
add("plan_pg_loss", "plans", size=lambda: pw.plan_pg_loss(LG, PL[:1], AD),
    big=lambda: pw.plan_pg_loss(LG, torch.tensor([0, 3]), AD),
    neg=lambda: pw.plan_pg_loss(LG, torch.tensor([0, -1]), AD),
    float=lambda: pw.plan_pg_loss(LG, PL.double(), AD))
add("plan_pg_loss", "advantages", size=lambda: pw.plan_pg_loss(LG, PL, AD[:1]),
    nan=lambda: pw.plan_pg_loss(LG, PL, AD * NAN))
add("exact_success", "task", none=lambda: pw.exact_success(None, pw_lm()))
add("exact_success", "model", none=lambda: pw.exact_success(pw_task(), None),
    vocab=lambda: pw.exact_success(pw_task(), ab_lm()))
add("exact_success", "manager", shape=lambda: pw.exact_success(pw_task(), pw_lm(), pw.PlanPolicy(3, 3)),
    str=lambda: pw.exact_success(pw_task(), pw_lm(), "x"))
add("PlanWriteConfig", "n_iterations", zero=lambda: pw.PlanWriteConfig(n_iterations=0))
add("PlanWriteConfig", "batch_size", zero=lambda: pw.PlanWriteConfig(batch_size=0),
    indivisible=lambda: pw.PlanWriteConfig(batch_size=10, num_generations=4))
add("PlanWriteConfig", "learning_rate", zero=lambda: pw.PlanWriteConfig(learning_rate=0))
add("PlanWriteConfig", "worker_reward", bogus=lambda: pw.PlanWriteConfig(worker_reward="bogus"))
add("PlanWriteConfig", "hierarchical", str=lambda: pw.PlanWriteConfig(hierarchical="yes"))
add("PlanWriteConfig", "plan_learning_rate", nan=lambda: pw.PlanWriteConfig(plan_learning_rate=NAN))
add("PlanWriteConfig", "num_generations", frac=lambda: pw.PlanWriteConfig(num_generations=2.5))
add("PlanWriteResult.samples_to_reach", "threshold", big=lambda: pw_result().samples_to_reach(1.5),
    nan=lambda: pw_result().samples_to_reach(NAN), str=lambda: pw_result().samples_to_reach("x"),
    none=lambda: pw_result().samples_to_reach(None), neg=lambda: pw_result().samples_to_reach(-0.1))
add("train_plan_write", "config", str=lambda: pw.train_plan_write(pw_lm(), pw_task(), "x"))
add("train_plan_write", "task", none=lambda: pw.train_plan_write(pw_lm(), None))
add("train_plan_write", "model", vocab=lambda: pw.train_plan_write(ab_lm(), pw_task()),
    none=lambda: pw.train_plan_write(None, pw_task()))
add("train_plan_write", "progress", str=lambda: pw.train_plan_write(pw_lm(), pw_task(), progress="x"))
add("train_plan_write", "manager", flat=lambda: pw.train_plan_write(pw_lm(), pw_task(),
                                                                    pw.PlanWriteConfig(hierarchical=False),
                                                                    pw.PlanPolicy(2, 3)),
    shape=lambda: pw.train_plan_write(pw_lm(), pw_task(), manager=pw.PlanPolicy(3, 3)))

# ------------------------------------------------------------------ envs.rooms
add("four_rooms", "goal", wall=lambda: four_rooms(goal=(0, 0)), none=lambda: four_rooms(goal=None),
    neg=lambda: four_rooms(goal=(-1, 9)), frac=lambda: four_rooms(goal=(7, 9.5)),
    bool=lambda: four_rooms(goal=(True, 9)),
    big=lambda: four_rooms(goal=(99, 9)))
add("four_rooms", "start", same=lambda: four_rooms(start=(7, 9)), wall=lambda: four_rooms(start=(0, 0)),
    str=lambda: four_rooms(start="a1"))
add("four_rooms", "success", big=lambda: four_rooms(success=1.5), nan=lambda: four_rooms(success=NAN))
add("four_rooms", "goal_reward", nan=lambda: four_rooms(goal_reward=NAN))
add("four_rooms", "gamma", big=lambda: four_rooms(gamma=1.5), str=lambda: four_rooms(gamma="x"))


@pytest.mark.parametrize("case", cases(BAD))
def test_bad_input_is_refused(case):
    assert_refused(case)


def test_every_public_object_has_five_cases():
    per: dict[str, int] = {}
    for b in BAD:
        key = b.label.split("-", 1)[0]
        per[key] = per.get(key, 0) + 1
    assert not {k: n for k, n in per.items() if n < 5}
