"""Figures for every layer. Plots draw results; they never run algorithms, and no layer imports them."""
