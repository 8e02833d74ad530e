"""Function approximation, the bridge from tables to networks (features, linear TD, DQN, actor-critic).

Empty for now: its issue builds it.
"""
