"""Record journeys: what happened to one message or stream record, in order.

Steps are kept in memory, bounded in time (``journey_retention_seconds`` of clock time)
and in number (``MAX_STEPS``, oldest dropped first): recording one costs an append, which
keeps the mapping engine's throughput within a few percent of running without journeys
(benchmarks/esm_sqs.py). Writing each step to the database cost 15-20 us, as much as the
engine spends on a message. ``headwater trace`` asks the running server for them.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: Most steps kept (about 200 bytes each).
MAX_STEPS = 2_000_000


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a record's journey."""

    record_id: str
    at: float
    kind: str
    #: The queue, stream, mapping or function it happened at (ARN or name).
    place: str
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at, "kind": self.kind, "place": self.place, **self.detail}


#: A step as buffered: (record id, clock time, kind, place, detail or None).
RawStep = tuple[str, float, str, str, Any]


class JourneyLog:
    """Steps by record id, oldest first; thread-safe."""

    def __init__(self, retention_seconds: float, max_steps: int = MAX_STEPS) -> None:
        self.retention_seconds = retention_seconds
        self.max_steps = max_steps
        self._lock = threading.Lock()
        self._by_record: dict[str, list[RawStep]] = {}
        #: (clock time, record id) of every step, in arrival order, for pruning.
        self._order: deque[tuple[float, str]] = deque()
        self._recent: deque[RawStep] = deque(maxlen=500)

    def add(self, steps: Sequence[RawStep]) -> None:
        if not steps:
            return
        with self._lock:
            by_record = self._by_record
            order = self._order
            for step in steps:
                found = by_record.get(step[0])
                if found is None:
                    by_record[step[0]] = [step]
                else:
                    found.append(step)
                order.append((step[1], step[0]))
            self._recent.extend(s for s in steps if s[2] in ("dead-letter", "invoked", "redrive"))
            self._prune_locked(steps[-1][1])

    def _prune_locked(self, now: float) -> None:
        cutoff = now - self.retention_seconds
        order, by_record = self._order, self._by_record
        while order and (order[0][0] < cutoff or len(order) > self.max_steps):
            _, record_id = order.popleft()
            steps = by_record.get(record_id)
            if steps:
                steps.pop(0)
                if not steps:
                    del by_record[record_id]

    def journey(self, record_id: str) -> list[Step]:
        """Every retained step of ``record_id``, oldest first."""
        with self._lock:
            raw = list(self._by_record.get(record_id, ()))
        return [_step(s) for s in raw]

    def recent(self, limit: int = 50, kinds: Sequence[str] | None = None) -> list[Step]:
        """The newest steps (of some kinds), newest first."""
        with self._lock:
            raw = list(self._recent)
        found = [s for s in reversed(raw) if kinds is None or s[2] in kinds]
        return [_step(s) for s in found[:limit]]

    def __len__(self) -> int:
        return len(self._order)


def _step(raw: RawStep) -> Step:
    record_id, at, kind, place, detail = raw
    return Step(record_id, at, kind, place, dict(detail) if detail else {})
