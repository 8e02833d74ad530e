"""Advanced techniques and case studies (book chapters 5 and 7), on the layers beneath.

``verifiable`` (arithmetic prompts graded by a checker; pass@k exact and estimated),
``cql`` (tabular conservative Q-learning solved exactly on a log) and ``constitution``
(principles a program can check, a critic and a reviser). Importing this package imports torch.
"""

from rlcore.advanced.constitution import (
    TOY_CHARS,
    TOY_MAX_LEN,
    Constitution,
    Principle,
    ends_with,
    no_repeats,
    toy_constitution,
    vowel_in_every_word,
)
from rlcore.advanced.cql import CQLResult, cql, cql_update, default_q_min
from rlcore.advanced.verifiable import (
    ArithmeticTask,
    PassAtK,
    arithmetic_task,
    check_answer,
    evaluate_expression,
    evaluate_pass_at_k,
    exact_pass_at_k,
    mean_pass_at_k,
    pass_counts,
    pass_probabilities,
    supervised_lines,
    supervised_start,
)

__all__ = ["TOY_CHARS", "TOY_MAX_LEN", "Constitution", "Principle", "ends_with", "no_repeats", "toy_constitution",
           "vowel_in_every_word", "CQLResult", "cql", "cql_update", "default_q_min", "ArithmeticTask", "PassAtK",
           "arithmetic_task", "check_answer", "evaluate_expression", "evaluate_pass_at_k", "exact_pass_at_k",
           "mean_pass_at_k", "pass_counts", "pass_probabilities", "supervised_lines", "supervised_start"]
