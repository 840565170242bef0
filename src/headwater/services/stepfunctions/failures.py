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
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"


class StatesError(Exception):
    """A state failed with ``error`` (its name) and ``cause`` (its text)."""

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


def error_matches(patterns: list[str], error: str) -> bool:
    """Whether a Retrier's or Catcher's ``ErrorEquals`` covers ``error``: the name itself,
    ``States.ALL``, or ``States.TaskFailed`` (every error but States.Timeout); States.Runtime
    and States.DataLimitExceeded are terminal, matched by nothing."""
    if error in (RUNTIME, DATA_LIMIT_EXCEEDED):
        return False  # neither can be retried or caught (AWS docs: States.ALL skips them)
    if error in patterns or STATES_ALL in patterns:
        return True
    return TASK_FAILED in patterns and error != TIMEOUT
