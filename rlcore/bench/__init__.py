"""Benchmarks, one module per suite (``rlcore bench --suite ...``). Nothing in the library imports them."""
