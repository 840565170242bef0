"""Task tokens of ``.waitForTaskToken`` tasks: issued by the interpreter, answered by
SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat.

A token's state is a row (``StepFunctionsStore``), so an answer given through any process
or node reaches the waiting task; the waiting thread also has an in-process signal so an
answer given here wakes it at once rather than at its next look at the row.
"""

from __future__ import annotations

import secrets
import threading

from headwater.services.stepfunctions.store import StepFunctionsStore


class TaskTokens:
    def __init__(self, store: StepFunctionsStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._signals: dict[str, threading.Event] = {}

    def issue(self) -> str:
        """A new token: opaque text, as AWS's are (AWS's are longer)."""
        return secrets.token_urlsafe(96)

    def signal_of(self, token: str) -> threading.Event:
        with self._lock:
            return self._signals.setdefault(token, threading.Event())

    def forget(self, token: str) -> None:
        with self._lock:
            self._signals.pop(token, None)

    def wake(self, token: str) -> None:
        with self._lock:
            signal = self._signals.get(token)
        if signal is not None:
            signal.set()
