"""Reference solutions to the exercises in notebooks/exercises/ (same module and function names)."""
