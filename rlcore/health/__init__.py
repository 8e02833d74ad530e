"""Healthcare layer (book chapter 9): safety of treatment policies, off-policy evaluation, offline learning.

Teaching models, not clinical tools.
"""
