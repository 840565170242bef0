"""Clocks: where every piece of headwater gets the time.

Semantics that depend on time (visibility timeouts, delays, batching windows,
retention, record age) read it from a ``Clock`` so tests can use ``ManualClock``
and move time forward instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from headwater.core.listeners import Listeners

#: 2023-11-14T22:13:20Z: a fixed, realistic start for manual clocks.
MANUAL_CLOCK_START = 1_700_000_000.0


@runtime_checkable
class Clock(Protocol):
    """Source of clock time (epoch seconds) and of how long to really wait for it."""

    def now(self) -> float:
        """Current clock time in epoch seconds."""
        ...

    def real_delay(self, clock_seconds: float) -> float | None:
        """Real seconds to wait for ``clock_seconds`` of clock time to pass.

        ``None`` means clock time only moves when someone advances it (``ManualClock``):
        wait until woken by a subscriber callback instead.
        """
        ...

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (from any thread) whenever time jumps; returns an unsubscribe."""
        ...


def _noop() -> None:
    return None


class SystemClock:
    """Wall-clock time."""

    def now(self) -> float:
        return time.time()

    def real_delay(self, clock_seconds: float) -> float | None:
        return max(0.0, clock_seconds)

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        return _noop


class ScaledClock:
    """Clock time that runs ``time_scale`` times faster than real time (``--time-scale``)."""

    def __init__(
        self, time_scale: float, origin: float | None = None, real_origin: float | None = None
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.time_scale = time_scale
        #: Clock time ``origin`` was read at real (wall-clock) time ``real_origin``.
        self.real_origin = time.time() if real_origin is None else real_origin
        self.origin = self.real_origin if origin is None else origin

    def now(self) -> float:
        return self.origin + (time.time() - self.real_origin) * self.time_scale

    def real_delay(self, clock_seconds: float) -> float | None:
        return max(0.0, clock_seconds) / self.time_scale

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        return _noop


class ManualClock:
    """A clock that only moves when told to: ``advance(seconds)`` or ``set(epoch)``.

    Waiters registered with ``subscribe`` are called after every move, so a long poll
    or a poller waiting for a visibility timeout wakes up as soon as the test advances
    time past its deadline.
    """

    def __init__(self, start: float = MANUAL_CLOCK_START) -> None:
        self._now = float(start)
        self._lock = threading.Lock()
        self._subscribers: Listeners[Callable[[], None]] = Listeners()

    def now(self) -> float:
        return self._now

    def real_delay(self, clock_seconds: float) -> float | None:
        return None

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds`` and wake every subscriber; returns the new time."""
        if seconds < 0:
            raise ValueError("a ManualClock cannot go backwards")
        return self.set(self._now + seconds)

    def set(self, epoch_seconds: float) -> float:
        """Jump to ``epoch_seconds`` (never backwards) and wake every subscriber."""
        with self._lock:
            if epoch_seconds < self._now:
                raise ValueError("a ManualClock cannot go backwards")
            self._now = float(epoch_seconds)
            callbacks = self._subscribers.snapshot()
        for callback in callbacks:
            callback()
        return self._now

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        return self._subscribers.add(callback)
