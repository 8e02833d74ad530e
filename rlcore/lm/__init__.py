"""The language-model layer (book chapter 3): a tiny character LM, sampling and scoring, REINFORCE, PPO."""
