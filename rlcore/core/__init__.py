"""Layer 0, the ground everything stands on: MDP data, returns and GAE, exploration and sampling."""
