"""Stream mapping counters: the SQS mapping's plus the stream ones (reference §8).

``IteratorAge`` is kept per shard (milliseconds between the arrival of a batch's last
record and its invocation, as of the latest invoke); the mapping's value is the largest.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field

from headwater.esm.metrics import MappingMetricsSnapshot


@dataclass(slots=True)
class StreamMetricsSnapshot(MappingMetricsSnapshot):
    """A consistent copy of a stream mapping's counters."""

    DroppedEventCount: int = 0
    OnFailureDestinationDeliveredEventCount: int = 0
    DestinationDeliveryFailures: int = 0
    #: Milliseconds; the largest over the mapping's shards (``None`` before any invoke).
    IteratorAge: float | None = None
    IteratorAgeByShard: dict[str, float] = field(default_factory=dict)


class StreamMetrics:
    """Counters one stream poller updates (on the engine loop) and anyone may read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = StreamMetricsSnapshot()

    def add(self, **increments: int) -> None:
        with self._lock:
            for name, amount in increments.items():
                setattr(self._values, name, getattr(self._values, name) + amount)

    def iterator_age(self, shard_id: str, age_ms: float) -> None:
        with self._lock:
            by_shard = self._values.IteratorAgeByShard
            by_shard[shard_id] = age_ms
            self._values.IteratorAge = max(by_shard.values())

    def concurrency(self, delta: int) -> None:
        with self._lock:
            values = self._values
            values.ConcurrentExecutions += delta
            values.MaxConcurrentExecutions = max(
                values.MaxConcurrentExecutions, values.ConcurrentExecutions
            )

    def snapshot(self) -> StreamMetricsSnapshot:
        with self._lock:
            values = asdict(self._values)
            values["IteratorAgeByShard"] = dict(self._values.IteratorAgeByShard)
            return StreamMetricsSnapshot(**values)
