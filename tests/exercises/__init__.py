"""Exercise checks: the same tests grade the student stubs and the reference solutions."""
