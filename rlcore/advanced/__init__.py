"""Advanced techniques (book chapters 5 and 7): constitutional AI, options, multi-agent dialogue.

Empty for now: its issue builds it on [`rlcore.rlhf`][].
"""
