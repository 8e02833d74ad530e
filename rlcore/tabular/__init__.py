"""Tabular methods (book chapters 2-3 and 8): dynamic programming and temporal-difference control."""
