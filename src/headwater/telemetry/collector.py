"""Metrics that are measured rather than counted: queue depths and mapping counters.

Once a minute of headwater clock time (as SQS publishes its queue metrics), the
collector reads every queue's depth and age of oldest message, and turns each running
mapping's counters into the per-minute deltas AWS publishes under ``AWS/Lambda`` with the
``EventSourceMappingUUID`` dimension (for mappings whose ``MetricsConfig`` asks for
``EventCount``, as AWS requires) and ``IteratorAge`` per function. It also keeps a short
history per mapping and queue for the dashboard's sparklines.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from headwater.telemetry.recorder import Recorder, arn_parts

if TYPE_CHECKING:
    from headwater.esm.engine import EsmEngine
    from headwater.services.base import Service

log = logging.getLogger(__name__)

#: Clock seconds between samples.
SAMPLE_INTERVAL = 60.0
#: Samples kept per mapping / queue for sparklines.
HISTORY = 60

EVENT_COUNTS = (
    "PolledEventCount",
    "FilteredOutEventCount",
    "InvokedEventCount",
    "FailedInvokeEventCount",
    "DeletedEventCount",
    "DroppedEventCount",
    "OnFailureDestinationDeliveredEventCount",
)


@dataclass(frozen=True, slots=True)
class QueueDepth:
    arn: str
    name: str
    region: str
    visible: int
    not_visible: int
    delayed: int
    oldest_age: float
    dlq_arn: str | None
    is_dlq: bool


def queue_depths(sqs: Service, now: float) -> list[QueueDepth]:
    """Depth and age of every queue (for metrics, the dashboard and Prometheus)."""
    store: Any = getattr(sqs, "store", None)
    db: Any = getattr(sqs, "db", None)
    if store is None or db is None:
        return []
    found: list[QueueDepth] = []
    dlqs: set[str] = set()
    with db.transaction():
        queues = store.all_queues()
        for queue in queues:
            counts = store.counts(queue, now)
            oldest = store.oldest_sent_at(queue)
            arn = f"arn:aws:sqs:{queue.region}:{queue.account}:{queue.name}"
            redrive = _redrive_target(queue)
            if redrive:
                dlqs.add(redrive)
            found.append(
                QueueDepth(
                    arn,
                    queue.name,
                    queue.region,
                    counts.visible,
                    counts.not_visible,
                    counts.delayed,
                    0.0 if oldest is None else max(0.0, now - oldest),
                    redrive,
                    False,
                )
            )
    return [
        QueueDepth(**{**_fields(q), "is_dlq": q.arn in dlqs}) if q.arn in dlqs else q for q in found
    ]


def _fields(depth: QueueDepth) -> dict[str, Any]:
    return {name: getattr(depth, name) for name in depth.__dataclass_fields__}


def _redrive_target(queue: Any) -> str | None:
    attributes = getattr(queue, "attributes", None) or {}
    policy = attributes.get("RedrivePolicy") if isinstance(attributes, dict) else None
    if not policy:
        return None
    try:
        import orjson

        target = orjson.loads(policy).get("deadLetterTargetArn")
    except (ValueError, AttributeError):
        return None
    return str(target) if target else None


class Collector:
    """Samples gauges and mapping counters into the recorder every minute of clock time."""

    def __init__(
        self,
        recorder: Recorder,
        peek: Callable[[str], Service | None],
        engine: Callable[[], EsmEngine | None],
        account: str,
    ) -> None:
        self.recorder = recorder
        self.peek = peek
        self.engine = engine
        self.account = account
        self._last: dict[str, dict[str, float]] = {}
        self.mapping_history: dict[str, deque[tuple[float, dict[str, float]]]] = {}
        self.queue_history: dict[str, deque[tuple[float, int]]] = {}

    def sample(self, now: float) -> None:
        try:
            self._queues(now)
            self._mappings(now)
        except Exception:
            log.exception("sampling metrics failed")

    def _queues(self, now: float) -> None:
        sqs = self.peek("sqs")
        if sqs is None:
            return
        for depth in queue_depths(sqs, now):
            dims = (("QueueName", depth.name),)
            for name, value, unit in (
                ("ApproximateNumberOfMessagesVisible", depth.visible, "Count"),
                ("ApproximateNumberOfMessagesNotVisible", depth.not_visible, "Count"),
                ("ApproximateNumberOfMessagesDelayed", depth.delayed, "Count"),
                ("ApproximateAgeOfOldestMessage", depth.oldest_age, "Seconds"),
            ):
                metric = (depth.region, self.account, "AWS/SQS", name, dims)
                self.recorder.sample(metric, float(value), unit, now=now)
            history = self.queue_history.setdefault(depth.arn, deque(maxlen=HISTORY))
            history.append((now, depth.visible))

    def _mappings(self, now: float) -> None:
        engine = self.engine()
        lambda_service: Any = self.peek("lambda")
        if engine is None or lambda_service is None:
            return
        for uuid in engine.mapping_uuids():
            snapshot = engine.metrics(uuid)
            record = lambda_service.get_mapping_record(uuid)
            if snapshot is None or record is None:
                continue
            values = snapshot.as_dict()
            previous = self._last.get(uuid, {})
            deltas = {
                name: float(values.get(name) or 0) - previous.get(name, 0.0)
                for name in (*EVENT_COUNTS, "Invocations", "Errors", "Throttles")
            }
            self._last[uuid] = {k: float(v or 0) for k, v in values.items() if _number(v)}
            region, _, function = arn_parts(record.function_arn)
            opted_in = "EventCount" in record.config.metrics
            if opted_in:
                dims = (("EventSourceMappingUUID", uuid),)
                for name in EVENT_COUNTS:
                    if name in values:
                        metric = (region, self.account, "AWS/Lambda", name, dims)
                        self.recorder.sample(metric, deltas[name], "Count", now=now)
            iterator_age = values.get("IteratorAge")
            if isinstance(iterator_age, int | float):
                metric = (
                    region, self.account, "AWS/Lambda", "IteratorAge", (("FunctionName", function),)
                )  # fmt: skip
                self.recorder.sample(metric, float(iterator_age), "Milliseconds", now=now)
            history = self.mapping_history.setdefault(uuid, deque(maxlen=HISTORY))
            point = dict(deltas)
            age = values.get("ApproximateAgeOfOldestMessage")
            shown = iterator_age if isinstance(iterator_age, int | float) else age
            point["age"] = float(shown) if isinstance(shown, int | float) else 0.0
            history.append((now, point))


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
