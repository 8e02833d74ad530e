"""Plain-loop references shared by several test files (written for the tests, independent of rlcore's code)."""

import numpy as np
import torch


def token_by_token_logprob(model, prompt, completion):
    """log pi(completion EOS | prompt), feeding the network one token at a time and carrying its hidden state."""
    vocab = model.vocab
    ids = [vocab.BOS] + vocab.encode(prompt)
    logp, hidden = 0.0, None
    with torch.no_grad():
        for tok in vocab.encode(completion) + [vocab.EOS]:
            logits, _, hidden = model.step(torch.tensor([ids], device=model.device), hidden)
            logp += float(torch.log_softmax(logits[0, -1], -1)[tok])
            ids = [tok]
    return logp


def deterministic_policy_q(mdp, policy):
    """``(V, Q)`` of a deterministic policy: its chain built state by state, ``V`` by a linear solve, one backup."""
    P = np.zeros((mdp.n_states, mdp.n_states))
    r = np.zeros(mdp.n_states)
    for s in range(mdp.n_states):
        a = policy[s]
        for k in range(mdp.n_successors):
            p = mdp.prob[s, a, k]
            r[s] += p * mdp.reward[s, a, k]
            if not mdp.done[s, a, k]:
                P[s, mdp.next_state[s, a, k]] += p * mdp.gamma
    V = np.linalg.solve(np.eye(mdp.n_states) - P, r)
    Q = (mdp.prob * (mdp.reward + mdp.gamma * (1 - mdp.done) * V[mdp.next_state])).sum(axis=2)
    return V, Q
