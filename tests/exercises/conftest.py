"""Two ways to run the exercise checks.

* ``python -m pytest tests/exercises`` (default, used by CI): *solutions mode*. Every check runs
  against the reference solutions in ``tests/exercises/solutions/`` and every failure is real. The
  meta-tests also prove that the untouched stubs fail those same checks and contain no solution.
* ``python -m pytest tests/exercises --student``: *student mode*. The checks run against your
  files in ``notebooks/exercises/``. A function you have not started (it still raises
  ``NotImplementedError``) is reported as ``XFAIL not started``; a wrong answer fails with a short
  "expected ..., got ...; hint: ..." message instead of a traceback. A summary table closes the run.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--student", action="store_true", default=False,
                     help="check your own exercises in notebooks/exercises/ instead of the reference solutions")


def is_student_mode(config: pytest.Config) -> bool:
    return bool(config.getoption("--student", default=False))


@pytest.fixture
def student_mode(request: pytest.FixtureRequest) -> bool:
    return is_student_mode(request.config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # In student mode the maintainers' meta-tests (stubs must fail, stubs hold no solution) are irrelevant.
    if not is_student_mode(config):
        return
    meta = [item for item in items if item.get_closest_marker("meta") is not None]
    if meta:
        config.hook.pytest_deselected(items=meta)
        items[:] = [item for item in items if item.get_closest_marker("meta") is None]


_RESULTS: dict[str, str] = {}  # check id -> "passed" | "not started" | "wrong"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "meta: checks on the exercise stubs themselves (skipped with --student)")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "test_exercise[" not in report.nodeid or report.when != "call":
        return
    check = report.nodeid.split("test_exercise[", 1)[1].rstrip("]")
    if hasattr(report, "wasxfail"):
        _RESULTS[check] = "not started"
    elif report.passed:
        _RESULTS[check] = "passed"
    elif report.failed:
        _RESULTS[check] = "wrong"


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    results = _RESULTS
    if not results or not is_student_mode(config):
        return
    per_function: dict[str, list[str]] = {}
    for check, status in results.items():
        function = check.rsplit(":", 1)[0]
        per_function.setdefault(function, []).append(status)
    tr = terminalreporter
    tr.section("exercises (notebooks/exercises/)")
    done = 0
    for function, statuses in per_function.items():
        if all(s == "passed" for s in statuses):
            mark, done = "done       ", done + 1
        elif all(s == "not started" for s in statuses):
            mark = "not started"
        else:
            mark = f"{statuses.count('passed')}/{len(statuses)} checks "
        tr.write_line(f"  {mark}  {function}")
    tr.write_line(f"  {done} of {len(per_function)} functions complete")
