"""RLHF on the character LM (book chapter 4): preferences, reward models, DPO, GRPO.

Empty for now: its issue builds it on :mod:`rlcore.lm`.
"""
