"""Seeing other processes' commits: ``ChangeWatch`` calls back when the database changed.

In-process commits wake pollers at once (services notify their listeners); commits by
another process or node cannot. A ``ChangeWatch`` fills that gap for one database: a
daemon thread checks a cheap change token (SQLite's ``PRAGMA data_version``) every
``interval`` real seconds and calls every watcher when it moved, so a write from another
process is seen within ``interval``. PostgreSQL feeds it from LISTEN/NOTIFY as well
(``signal``), keeping the periodic check as the fallback for missed notifications.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from headwater.core.listeners import Listeners

log = logging.getLogger(__name__)

#: Called (on the watch thread) with the changed resource's name, or ``None`` when only
#: "something changed" is known.
Watcher = Callable[[str | None], None]


class ChangeWatch:
    """Calls watchers when ``probe()`` returns a new token, checked every ``interval`` s."""

    def __init__(
        self,
        probe: Callable[[], object],
        interval: float,
        *,
        name: str = "headwater-watch",
        always: bool = False,
    ) -> None:
        self._probe = probe
        self.interval = max(0.01, interval)
        self._name = name
        #: Call watchers at every check, changed or not (a pure poll fallback).
        self._always = always
        self._watchers: Listeners[Watcher] = Listeners()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def add(self, watcher: Watcher) -> Callable[[], None]:
        """Call ``watcher`` on changes from now on; returns the unsubscribe function."""
        unsubscribe = self._watchers.add(watcher)
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
        return unsubscribe

    def signal(self, resource: str | None) -> None:
        """Tell every watcher that ``resource`` changed (a notification arrived)."""
        for watcher in self._watchers.snapshot():
            try:
                watcher(resource)
            except Exception:  # one broken watcher must not starve the others
                log.exception("change watcher failed")

    def _run(self) -> None:
        try:
            token = self._probe()
        except Exception:
            token = None
        while not self._stop.wait(self.interval):
            if not self._watchers.snapshot():
                continue
            try:
                current = self._probe()
            except Exception:  # closing, or the database is briefly unavailable
                if self._stop.is_set():
                    return
                current = object()
            if self._always or current != token:
                token = current
                self.signal(None)

    def close(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)
