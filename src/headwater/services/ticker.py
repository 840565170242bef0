"""``ClockTicker``: run a callback every N seconds of headwater clock time.

Sweepers (alarm evaluation, metric roll-up, journey pruning) run on the headwater clock,
so ``--time-scale`` speeds them up and a ``ManualClock`` drives them by hand: with a
clock that only moves when advanced, the callback runs synchronously in the thread that
advanced it (deterministic tests); otherwise a daemon thread sleeps the real delay.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from headwater.core.clock import Clock

log = logging.getLogger(__name__)

#: Longest real sleep between checks (a stop or a clock change is noticed by then).
MAX_REAL_SLEEP = 1.0


class ClockTicker:
    """Calls ``callback(now)`` at most once per ``interval`` clock seconds."""

    def __init__(
        self,
        clock: Clock,
        interval: float,
        callback: Callable[[float], object],
        *,
        name: str,
        real_interval_max: float | None = None,
    ) -> None:
        self.clock = clock
        self.interval = interval
        self.callback = callback
        self.name = name
        #: Also tick after this many real seconds even if the clock moved less (flushes).
        self.real_interval_max = real_interval_max
        self._last = clock.now()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> ClockTicker:
        if self.clock.real_delay(0.0) is None:
            self._unsubscribe = self.clock.subscribe(self._clock_moved)
        else:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        return self

    def _clock_moved(self) -> None:
        now = self.clock.now()
        if now - self._last >= self.interval:
            self._tick(now)

    def _tick(self, now: float) -> None:
        with self._lock:
            self._last = now
            try:
                self.callback(now)
            except Exception:
                log.exception("%s failed", self.name)

    def _run(self) -> None:
        while not self._stop.is_set():
            due = self._last + self.interval
            delay = self.clock.real_delay(due - self.clock.now()) or 0.0
            if self.real_interval_max is not None:
                rim = self.real_interval_max
                delay = rim if self.interval <= 0 else min(delay, rim)
            if self._stop.wait(min(max(delay, 0.01), MAX_REAL_SLEEP)):
                return
            now = self.clock.now()
            if now >= due or self.real_interval_max is not None:
                self._tick(now)

    def stop(self) -> None:
        self._stop.set()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self._thread = None
