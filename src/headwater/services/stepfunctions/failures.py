"""``StatesError``: a failure inside an execution, named as the States Language names them.

A state fails with an error name (``States.TaskFailed``, ``States.Timeout``, a function's
``errorType``...) and a cause; Retry and Catch match the name, and an uncaught failure
ends the execution FAILED with both.
"""

from __future__ import annotations

#: Error names every ``States.ALL`` matches, and the ones ``States.TaskFailed`` does not.
STATES_ALL = "States.ALL"
TASK_FAILED = "States.TaskFailed"
TIMEOUT = "States.Timeout"
RUNTIME = "States.Runtime"


class StatesError(Exception):
    """A state failed with ``error`` (its name) and ``cause`` (its text)."""

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


def error_matches(patterns: list[str], error: str) -> bool:
    """Whether a Retrier's or Catcher's ``ErrorEquals`` covers ``error``: the name itself,
    ``States.ALL``, or ``States.TaskFailed`` (every error but States.Timeout and the
    runtime errors, which no retrier can retry as AWS documents)."""
    if error in patterns:
        return True
    if error == RUNTIME:
        return False  # States.Runtime cannot be retried or caught (AWS docs)
    if STATES_ALL in patterns:
        return True
    return TASK_FAILED in patterns and error != TIMEOUT
