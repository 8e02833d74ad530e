"""Advanced techniques and case studies (book chapters 5 and 7), on the layers beneath.

``verifiable`` (arithmetic prompts graded by a checker; pass@k exact and estimated),
``cql`` (tabular conservative Q-learning solved exactly on a log), ``constitution``
(principles a program can check, a critic and a reviser), ``clinical_prompts`` and
``clinical_policy`` (a language model as a treatment policy, scored against the exact ``Q*``),
``options`` and ``smdp_learning`` (hallway options on four rooms, SMDP planning and learning),
``offline_lm`` (filtered cloning, AWR and offline DPO from a fixed log, against online PPO),
``matrix_games`` and ``referential`` (independent learners in small games; a referential game
learned by self-play, with a KL anchor to a reference language), ``rlaif`` (critique, revision
and RL from a partial AI labeller) and ``plan_write`` (a manager picks a plan, a worker writes it).
Importing this package imports torch.
"""

from rlcore.advanced.clinical_policy import ClinicalReport, answer_probabilities, evaluate_clinical_policy
from rlcore.advanced.clinical_prompts import (
    CLINICAL_CHARS,
    TREATMENT_CODES,
    ClinicalTask,
    clinical_task,
    clinician_corpus,
    clinician_policy,
    decode_prompt,
    encode_prompt,
    parse_treatment,
)
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
from rlcore.advanced.cql import CQLResult, cql, cql_update
from rlcore.advanced.matrix_games import (
    PlayHistory,
    action_values,
    best_response_switches,
    demand_game,
    distance_to_nash,
    expected_payoffs,
    exploitability,
    independent_pg,
    matching_pennies,
    nash_2x2,
    pure_nash,
)
from rlcore.advanced.offline_lm import (
    OfflineLMResult,
    TextLog,
    awr,
    awr_weights,
    collect_log,
    compare_offline,
    filtered_bc,
    log_preference_pairs,
    offline_dpo,
    online_ppo,
    top_fraction_indices,
    weighted_nll,
)
from rlcore.advanced.options import (
    Option,
    OptionModels,
    SMDPResult,
    hallway_options,
    option_model,
    option_models,
    primitive_options,
    smdp_value_iteration,
)
from rlcore.advanced.plan_write import (
    PlanPolicy,
    PlanWriteConfig,
    PlanWriteResult,
    PlanWriteTask,
    exact_success,
    plan_pattern,
    plan_pg_loss,
    plan_write_task,
    skill_lines,
    skill_start,
    train_plan_write,
)
from rlcore.advanced.referential import (
    Listener,
    ReferentialEval,
    ReferentialGame,
    SelfPlayResult,
    choice_probabilities,
    evaluate_referential,
    game_reward,
    kl_anchor,
    readable_share,
    reference_speaker,
    sample_rounds,
    self_play,
)
from rlcore.advanced.rlaif import (
    AILabeller,
    ExactStats,
    RLAIFResult,
    agreement,
    careless_model,
    exact_stats,
    gold_scores,
    helpfulness,
    judge_scores,
    kl_sweep,
    label_pairs,
    rl_stage,
    run_rlaif,
    sample_pairs,
    supervised_stage,
    toy_evaluator,
)
from rlcore.advanced.smdp_learning import (
    OptionLearningResult,
    intra_option_q_learning,
    intra_option_update,
    smdp_q_learning,
    smdp_q_update,
)
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

__all__ = ["ClinicalReport", "answer_probabilities", "evaluate_clinical_policy", "CLINICAL_CHARS", "TREATMENT_CODES",
           "ClinicalTask", "clinical_task", "clinician_corpus", "clinician_policy", "decode_prompt", "encode_prompt",
           "parse_treatment", "TOY_CHARS", "TOY_MAX_LEN", "Constitution", "Principle", "ends_with", "no_repeats",
           "toy_constitution", "vowel_in_every_word", "CQLResult", "cql", "cql_update",
           "ArithmeticTask", "PassAtK", "arithmetic_task", "check_answer", "evaluate_expression", "evaluate_pass_at_k",
           "exact_pass_at_k", "mean_pass_at_k", "pass_counts", "pass_probabilities", "supervised_lines",
           "supervised_start", "Option", "OptionModels", "SMDPResult", "hallway_options", "option_model",
           "option_models", "primitive_options", "smdp_value_iteration", "OptionLearningResult",
           "intra_option_q_learning", "intra_option_update", "smdp_q_learning", "smdp_q_update", "OfflineLMResult",
           "TextLog", "awr", "awr_weights", "collect_log", "compare_offline", "filtered_bc", "log_preference_pairs",
           "offline_dpo", "online_ppo", "top_fraction_indices", "weighted_nll", "matching_pennies", "demand_game",
           "expected_payoffs", "pure_nash", "nash_2x2", "exploitability", "PlayHistory", "independent_pg",
           "action_values", "best_response_switches", "distance_to_nash", "ReferentialGame", "Listener",
           "sample_rounds", "choice_probabilities", "game_reward", "kl_anchor", "readable_share", "reference_speaker",
           "SelfPlayResult", "self_play", "ReferentialEval", "evaluate_referential", "helpfulness", "judge_scores",
           "gold_scores", "AILabeller", "sample_pairs", "label_pairs", "agreement", "careless_model", "toy_evaluator",
           "ExactStats", "exact_stats", "supervised_stage", "rl_stage", "RLAIFResult", "run_rlaif", "kl_sweep",
           "plan_pattern", "PlanWriteTask", "plan_write_task", "skill_lines", "skill_start", "PlanPolicy",
           "plan_pg_loss", "exact_success", "PlanWriteConfig", "PlanWriteResult", "train_plan_write"]
