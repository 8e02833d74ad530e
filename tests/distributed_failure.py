"""Run under torchrun by tests/test_distributed.py: GRPO whose reward raises on rank 1 at its third call.

Rank 0 is then waiting in an all-reduce for a rank that is gone; the launcher must end the job.
"""

import torch.distributed as dist

from rlcore.envs.language import CharLanguageEnv
from rlcore.envs.rewards import from_function
from rlcore.lm import CharLM
from rlcore.lm.parallel import close_distributed, init_distributed
from rlcore.rlhf import GRPOConfig, grpo

calls = {"n": 0}


def reward(text: str) -> float:
    if dist.get_rank() == 1:
        calls["n"] += 1
        if calls["n"] > 2 * 8:  # the third micro-batch of 8 texts
            raise RuntimeError("injected failure on rank 1")
    return float("a" in text)


w = init_distributed()
env = CharLanguageEnv("ab", 6, delayed_reward=from_function(reward, "has_a"))
grpo(CharLM("ab", 8, 16, seed=0), env, GRPOConfig(n_iterations=20, batch_size=16, num_generations=4))
close_distributed()
