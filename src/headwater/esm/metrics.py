"""Per-mapping counters with CloudWatch's names (reference §8), readable from Python."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass


@dataclass(slots=True)
class MappingMetricsSnapshot:
    """A consistent copy of a mapping's counters."""

    PolledEventCount: int = 0
    FilteredOutEventCount: int = 0
    InvokedEventCount: int = 0
    FailedInvokeEventCount: int = 0
    DeletedEventCount: int = 0
    Invocations: int = 0
    Errors: int = 0
    Throttles: int = 0
    #: Batches in flight now, the most ever seen, and the current scaling target.
    ConcurrentExecutions: int = 0
    MaxConcurrentExecutions: int = 0
    TargetConcurrency: int = 0
    #: Seconds; from the source when asked (``None`` if unknown).
    ApproximateAgeOfOldestMessage: float | None = None

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


class MappingMetrics:
    """Counters one poller updates (on the engine loop) and anyone may read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = MappingMetricsSnapshot()

    def add(self, **increments: int) -> None:
        with self._lock:
            for name, amount in increments.items():
                setattr(self._values, name, getattr(self._values, name) + amount)

    def set_concurrency(self, in_flight: int, target: int) -> None:
        with self._lock:
            self._values.ConcurrentExecutions = in_flight
            self._values.TargetConcurrency = target
            values = self._values
            values.MaxConcurrentExecutions = max(values.MaxConcurrentExecutions, in_flight)

    def snapshot(self) -> MappingMetricsSnapshot:
        with self._lock:
            return MappingMetricsSnapshot(**asdict(self._values))
