"""``Recorder``: the Telemetry sink that turns hook calls into CloudWatch metrics and journeys.

Hooks run on hot paths (a send, a receive, an invocation), so they only append to
in-memory buffers under one lock: metric samples are aggregated per (metric, unit,
minute) right away (a Lambda invocation's are queued and aggregated in batches, at the
latest when flushed), journey steps are queued as tuples. ``flush`` (every half second of
real time, on every ManualClock move and before any CloudWatch read) moves both into the
store in one transaction each. Cumulative counters are also kept for Prometheus (a Lambda
invocation's are counted from its queued sample, at the latest when they are read).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import orjson

from headwater.core.telemetry import InvocationFacts, SentMessage, Telemetry
from headwater.services.cloudwatch.aggregate import Aggregate
from headwater.services.cloudwatch.metric_store import MetricId, MetricStore, bucket_start
from headwater.telemetry.journeys import JourneyLog, RawStep, Step

if TYPE_CHECKING:
    from headwater.services.base import ServiceEnvironment

Dims = tuple[tuple[str, str], ...]
#: (region, account, namespace, name, dimensions)
Metric = tuple[str, str, str, str, Dims]
#: (account, region, namespace, name, dimensions, unit, bucket start)
MetricKey = tuple[str, str, str, str, Dims, str, int]

#: Built-in metrics are stored at one-minute resolution, as AWS publishes them.
RESOLUTION = 60


def arn_parts(arn: str) -> tuple[str, str, str]:
    """(region, account, resource name) of an ARN (``queue``, ``function:name``...)."""
    parts = arn.split(":")
    if len(parts) < 6:
        return "", "", arn
    name = parts[-1] if parts[2] != "lambda" else parts[6]
    if parts[2] == "kinesis":
        name = parts[5].split("/", 1)[-1]
    return parts[3], parts[4], name


def _duration(result: InvocationFacts) -> float:
    return float(getattr(result, "duration_ms", 0.0))


def error_text(payload: bytes) -> str:
    """``errorType: errorMessage`` of a function error payload."""
    try:
        body = orjson.loads(payload) if payload else None
    except orjson.JSONDecodeError:
        return payload[:500].decode("utf-8", "replace")
    if isinstance(body, dict):
        kind, message = body.get("errorType"), body.get("errorMessage")
        if kind or message:
            return f"{kind}: {message}" if kind and message else str(kind or message)
    return payload[:500].decode("utf-8", "replace")


class Recorder(Telemetry):
    """Buffers hook calls; ``flush`` writes them to CloudWatch and the journey store."""

    enabled = True

    def __init__(
        self,
        env: ServiceEnvironment,
        metric_store: Callable[[], MetricStore],
        journey_store: JourneyLog | None,
        *,
        metrics: bool = True,
        journey_seconds: float = 3600.0,
    ) -> None:
        self.env = env
        self.clock = env.clock
        self._metric_store = metric_store
        self.journeys = journey_store
        self.metrics_on = metrics
        self.journey_seconds = journey_seconds
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._metrics: dict[MetricKey, Aggregate] = {}
        self._steps: list[RawStep] = []
        #: Cumulative counters since start, for Prometheus: (family, labels) -> value.
        self.counters: dict[tuple[str, Dims], float] = defaultdict(float)
        #: Invocations running now, per (region, account, function name) and per
        #: (region, account, ""): the ConcurrentExecutions gauge.
        self._running: dict[tuple[str, str, str], int] = {}
        #: function ARN -> its keys (the Lambda hooks run on every invocation).
        self._functions: dict[str, _FunctionMetrics] = {}
        #: (region, table, operation) -> (the ``_metrics`` buffer, minute, its latency
        #: aggregate there): see ``dynamodb_request``.
        self._dynamodb_latency: dict[
            tuple[str, str, str], tuple[dict[MetricKey, Aggregate], int, Aggregate]
        ] = {}
        #: Invocations not yet added to the counters and metrics, per function and minute,
        #: and how many they are.
        self._lambda_pending: dict[tuple[_FunctionMetrics, int], _PendingLambda] = {}
        self._lambda_queued = 0

    # ---- buffering ----

    def _count(
        self, metric: Metric, value: float, unit: str = "Count", *, now: float, count: float = 1.0
    ) -> Aggregate:
        """Add a sample of ``(region, account, namespace, name, dims)`` (lock held);
        returns the minute's aggregate it went to."""
        region, account, namespace, name, dims = metric
        key = (account, region, namespace, name, dims, unit, bucket_start(now, RESOLUTION))
        return _add_to(self._metrics, key, value, count)

    def _aggregate(self, metric: Metric, unit: str, now: float) -> Aggregate | None:
        """The buffered aggregate of ``metric`` for ``now``'s bucket, if any (lock held)."""
        region, account, namespace, name, dims = metric
        key = (account, region, namespace, name, dims, unit, bucket_start(now, RESOLUTION))
        return self._metrics.get(key)

    def _start(self, metric: Metric, value: float, unit: str, now: float) -> Aggregate:
        region, account, namespace, name, dims = metric
        key = (account, region, namespace, name, dims, unit, bucket_start(now, RESOLUTION))
        aggregate = self._metrics[key] = Aggregate.of_value(value)
        return aggregate

    def _step(self, record_id: str, now: float, kind: str, place: str, detail: Any) -> None:
        self._steps.append((record_id, now, kind, place, detail))

    # ---- SQS ----

    def sqs_sent(self, queue_arn: str, messages: Sequence[SentMessage]) -> None:
        if not messages:
            return
        region, account, name = arn_parts(queue_arn)
        dims = (("QueueName", name),)
        now = self.clock.now()
        with self._lock:
            self.counters[("sqs_messages_sent", dims)] += len(messages)
            if self.metrics_on:
                self._count(
                    (region, account, "AWS/SQS", "NumberOfMessagesSent", dims),
                    1.0,
                    now=now,
                    count=len(messages),
                )
                size_metric = (region, account, "AWS/SQS", "SentMessageSize", dims)
                sizes = self._aggregate(size_metric, "Bytes", now)
                for message in messages:
                    body = message.body
                    size = float(len(body) if body.isascii() else len(body.encode()))
                    if sizes is None:
                        sizes = self._start(size_metric, size, "Bytes", now)
                    else:
                        sizes.add(size)
            if self.journeys is not None:
                steps = self._steps
                for message in messages:
                    steps.append((message.message_id, now, "sent", queue_arn, None))

    def sqs_received(self, queue_arn: str, message_ids: Sequence[str]) -> None:
        region, account, name = arn_parts(queue_arn)
        dims = (("QueueName", name),)
        now = self.clock.now()
        with self._lock:
            if not message_ids:
                self.counters[("sqs_empty_receives", dims)] += 1
                if self.metrics_on:
                    self._count(
                        (region, account, "AWS/SQS", "NumberOfEmptyReceives", dims), 1.0, now=now
                    )
                return
            self.counters[("sqs_messages_received", dims)] += len(message_ids)
            if self.metrics_on:
                self._count(
                    (region, account, "AWS/SQS", "NumberOfMessagesReceived", dims),
                    1.0,
                    now=now,
                    count=len(message_ids),
                )
            if self.journeys is not None:
                steps = self._steps
                for message_id in message_ids:
                    steps.append((message_id, now, "received", queue_arn, None))

    def sqs_deleted(self, queue_arn: str, message_ids: Sequence[str]) -> None:
        if not message_ids:
            return
        region, account, name = arn_parts(queue_arn)
        dims = (("QueueName", name),)
        now = self.clock.now()
        with self._lock:
            self.counters[("sqs_messages_deleted", dims)] += len(message_ids)
            if self.metrics_on:
                self._count(
                    (region, account, "AWS/SQS", "NumberOfMessagesDeleted", dims),
                    1.0,
                    now=now,
                    count=len(message_ids),
                )
            if self.journeys is not None:
                steps = self._steps
                for message_id in message_ids:
                    steps.append((message_id, now, "deleted", queue_arn, None))

    def sqs_moved(
        self, source_arn: str, target_arn: str, message_ids: Sequence[str], reason: str
    ) -> None:
        if self.journeys is None or not message_ids:
            return
        now = self.clock.now()
        detail = {"to": target_arn}
        with self._lock:
            for message_id in message_ids:
                self._steps.append((message_id, now, reason, source_arn, detail))

    def sqs_visibility(self, queue_arn: str, message_ids: Sequence[str], seconds: int) -> None:
        if self.journeys is None or not message_ids:
            return
        now = self.clock.now()
        with self._lock:
            for message_id in message_ids:
                self._step(message_id, now, "visibility", queue_arn, {"seconds": seconds})

    # ---- Lambda ----

    def _function(self, function_arn: str) -> _FunctionMetrics:
        found = self._functions.get(function_arn)
        if found is None:
            if len(self._functions) >= MAX_CACHED_FUNCTIONS:
                self._functions.clear()
            found = self._functions[function_arn] = _FunctionMetrics(function_arn)
        return found

    def lambda_started(self, function_arn: str) -> _FunctionMetrics:
        function = self._function(function_arn)
        by_function, overall = function.running_keys
        with self._lock:
            running = self._running
            running[by_function] = running.get(by_function, 0) + 1
            running[overall] = running.get(overall, 0) + 1
        return function

    def lambda_ended(self, started: object, result: InvocationFacts | None) -> None:
        # Runs between two invocations on the invoking thread: it only queues the sample
        # (with the running counts of this moment, this invocation included); the
        # Prometheus counters and the minute's aggregates are worked out from the queue in
        # a batch (``_fold_lambda``).
        function = cast(_FunctionMetrics, started)
        by_function, overall = function.running_keys
        names: tuple[str, ...] | None = None
        duration: float | None = None
        if result is not None:
            status = result.status
            if status == "throttled":
                names = _THROTTLED
            elif status != "service_error":
                names = _FAILED if status != "ok" or result.function_error else _SUCCEEDED
                duration = _duration(result)
        now = self.clock.now()
        with self._lock:
            running = self._running
            here = running[by_function]
            everywhere = running[overall]
            if names is not None:
                group_key = (function, bucket_start(now, RESOLUTION))
                pending = self._lambda_pending.get(group_key)
                if pending is None:
                    pending = self._lambda_pending[group_key] = _PendingLambda()
                counts = pending.counts
                counts[names] = counts.get(names, 0) + 1
                if duration is not None:
                    pending.durations.append(duration)
                    by_count = pending.running_here
                    by_count[here] = by_count.get(here, 0) + 1
                    by_count = pending.running_everywhere
                    by_count[everywhere] = by_count.get(everywhere, 0) + 1
                self._lambda_queued += 1
                if self._lambda_queued >= MAX_LAMBDA_SAMPLES:
                    queued = self._take_lambda_pending()
                    self._fold_lambda(queued, self._metrics, lock_held=True)
            if here > 1:
                running[by_function] = here - 1
            else:
                del running[by_function]
            if everywhere > 1:
                running[overall] = everywhere - 1
            else:
                del running[overall]

    def _take_lambda_pending(self) -> dict[tuple[_FunctionMetrics, int], _PendingLambda]:
        """The queued invocations, the queue emptied (lock held)."""
        pending, self._lambda_pending = self._lambda_pending, {}
        self._lambda_queued = 0
        return pending

    def _fold_lambda(
        self,
        pending: dict[tuple[_FunctionMetrics, int], _PendingLambda],
        metrics: dict[MetricKey, Aggregate],
        *,
        lock_held: bool = False,
    ) -> None:
        """Add queued invocations to the Prometheus counters and (metrics on) to their
        minutes' aggregates in ``metrics``.

        Called by ``flush`` without the lock, on aggregates no hook sees any more, so the
        invoking threads never wait for it (past ``MAX_LAMBDA_SAMPLES`` without a flush an
        invoking thread folds, lock held). The invocations come grouped by function and
        minute, their counts and running counts counted: each is added once (``add(v,
        count=k)``: the same SampleCount, Sum, Minimum, Maximum and value table as ``k``
        adds of ``v``), the durations in one ``add_many``.
        """
        metrics_on = self.metrics_on
        counter_deltas: dict[tuple[str, Dims], float] = {}
        for (function, bucket), queued in pending.items():
            counts: dict[str, int] = {}
            for names, count in queued.counts.items():
                for metric in names:
                    counts[metric] = counts.get(metric, 0) + count
            for metric, count in counts.items():
                counter_key = function.counter_keys[metric]
                counter_deltas[counter_key] = counter_deltas.get(counter_key, 0.0) + count
            durations = queued.durations
            if durations:
                counter_key = function.duration_counter_key
                counter_deltas[counter_key] = counter_deltas.get(counter_key, 0.0) + sum(durations)
            if not metrics_on:
                continue
            keys = function.metric_keys(bucket)
            for metric, count in counts.items():
                for key in keys[metric]:
                    _add_to(metrics, key, 1.0, float(count))
            if not durations:
                continue
            for key in keys["Duration"]:
                found = metrics.get(key)
                if found is None:
                    found = metrics[key] = Aggregate.of_value(durations[0])
                    found.add_many(durations[1:])
                else:
                    found.add_many(durations)
            # As AWS: how many ran at once (this one included), read as Maximum.
            running = (queued.running_here, queued.running_everywhere)
            for key, by_count in zip(keys["ConcurrentExecutions"], running, strict=True):
                for value, count in by_count.items():
                    _add_to(metrics, key, float(max(value, 1)), float(count))
        if lock_held:
            self._add_counters(counter_deltas)
        else:
            with self._lock:
                self._add_counters(counter_deltas)

    def _add_counters(self, deltas: dict[tuple[str, Dims], float]) -> None:
        counters = self.counters
        for key, delta in deltas.items():
            counters[key] += delta

    # ---- mappings ----

    def esm_filtered(self, mapping_uuid: str, record_ids: Sequence[str]) -> None:
        if self.journeys is None or not record_ids:
            return
        now = self.clock.now()
        with self._lock:
            for record_id in record_ids:
                self._step(record_id, now, "filtered", mapping_uuid, None)

    def esm_invoked(
        self,
        mapping_uuid: str,
        function_arn: str,
        record_ids: Sequence[str],
        result: InvocationFacts,
        *,
        outcome: str,
        failed_ids: Sequence[str] = (),
    ) -> None:
        if self.journeys is None:
            return
        now = self.clock.now()
        failed = set(failed_ids)
        errored = outcome not in ("success", "partial_failure")
        error = error_text(result.payload) if errored and result.payload else None
        detail: dict[str, Any] = {
            "mapping": mapping_uuid,
            "function": function_arn,
            "request_id": getattr(result, "request_id", ""),
            "batch_size": len(record_ids),
            "outcome": outcome,
            "duration_ms": round(_duration(result), 2),
        }
        if error is not None:
            detail["error"] = error
        reported = {**detail, "reported_failed": True} if failed else detail
        with self._lock:
            steps = self._steps
            for record_id in record_ids:
                shown = reported if record_id in failed else detail
                steps.append((record_id, now, "invoked", function_arn, shown))

    # ---- DynamoDB ----

    def dynamodb_request(
        self, region: str, table: str, operation: str, latency_ms: float, returned: int | None
    ) -> None:
        if not self.metrics_on:
            return
        now = self.clock.now()
        # Two significant digits, as a latency histogram keeps them: exact sub-microsecond
        # floats would each be a distinct value of the minute's aggregate, which then keeps
        # compacting itself on the hot path.
        latency_ms = float(f"{latency_ms:.2g}")
        minute = bucket_start(now, RESOLUTION)
        with self._lock:
            # The latency aggregate of this table and operation for this minute, kept from
            # the previous request: building and hashing its seven-part key was most of
            # the cost of recording a GetItem or PutItem.
            latency = self._dynamodb_latency.get((region, table, operation))
            if latency is not None and latency[0] is self._metrics and latency[1] == minute:
                latency[2].add(latency_ms)
            else:
                self._start_dynamodb_latency(
                    region, table, operation, latency_ms, now=now, minute=minute
                )
            if returned is not None:
                dims = (("Operation", operation), ("TableName", table))
                account = self.env.account
                self._count((region, account, "AWS/DynamoDB", "ReturnedItemCount", dims),
                            float(returned), now=now)  # fmt: skip

    def _start_dynamodb_latency(
        self,
        region: str,
        table: str,
        operation: str,
        latency_ms: float,
        *,
        now: float,
        minute: int,
    ) -> None:
        """Add a latency sample through the metric key and remember its aggregate (lock
        held): valid while the buffer (``_metrics``, swapped by ``flush``) and the minute
        stay the same."""
        dims = (("Operation", operation), ("TableName", table))
        metric = (region, self.env.account, "AWS/DynamoDB", "SuccessfulRequestLatency", dims)
        aggregate = self._count(metric, latency_ms, "Milliseconds", now=now)
        if len(self._dynamodb_latency) >= MAX_CACHED_FUNCTIONS:
            self._dynamodb_latency.clear()
        self._dynamodb_latency[(region, table, operation)] = (self._metrics, minute, aggregate)

    # ---- Kinesis ----

    def kinesis_put(self, stream_arn: str, records: Sequence[tuple[str, int]]) -> None:
        if not records:
            return
        region, account, name = arn_parts(stream_arn)
        dims = (("StreamName", name),)
        now = self.clock.now()
        size = float(sum(s for _, s in records))
        with self._lock:
            self.counters[("kinesis_incoming_records", dims)] += len(records)
            self.counters[("kinesis_incoming_bytes", dims)] += size
            if self.metrics_on:
                self._count(
                    (region, account, "AWS/Kinesis", "IncomingRecords", dims),
                    float(len(records)),
                    now=now,
                )
                self._count(
                    (region, account, "AWS/Kinesis", "IncomingBytes", dims), size, "Bytes", now=now
                )
            if self.journeys is not None:
                for sequence, _ in records:
                    self._step(sequence, now, "put", stream_arn, None)

    def kinesis_throttled(self, stream_arn: str, records: int) -> None:
        region, account, name = arn_parts(stream_arn)
        dims = (("StreamName", name),)
        with self._lock:
            if self.metrics_on:
                self._count(
                    (region, account, "AWS/Kinesis", "WriteProvisionedThroughputExceeded", dims),
                    float(records),
                    now=self.clock.now(),
                )

    @staticmethod
    def _rule_dims(rule_arn: str, bus: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
        """Region, account and AWS/Events dimensions of a rule's metrics."""
        # arn:aws:events:REGION:ACCOUNT:rule/[BUS/]NAME; a custom bus's rules carry its name
        # as a dimension too, as AWS/Events does.
        _, _, _, region, account, resource = rule_arn.split(":", 5)
        name = resource.rsplit("/", 1)[-1]
        dims: tuple[tuple[str, str], ...] = (("RuleName", name),)
        if bus != "default":
            dims = (("EventBusName", bus), *dims)
        return region, account, dims

    def events_rule_triggered(self, rule_arn: str, bus: str, sent: int, failed: int) -> None:
        region, account, dims = self._rule_dims(rule_arn, bus)
        now = self.clock.now()
        with self._lock:
            if self.metrics_on:
                for metric, value in (
                    ("TriggeredRules", 1),
                    ("MatchedEvents", 1),
                    ("Invocations", sent),
                    ("FailedInvocations", failed),
                ):
                    if value:
                        self._count(
                            (region, account, "AWS/Events", metric, dims), float(value), now=now
                        )

    def events_target_outcome(self, rule_arn: str, bus: str, metric: str) -> None:
        region, account, dims = self._rule_dims(rule_arn, bus)
        with self._lock:
            if self.metrics_on:
                self._count(
                    (region, account, "AWS/Events", metric, dims), 1.0, now=self.clock.now()
                )

    def kinesis_read(self, stream_arn: str, records: int, behind_ms: float) -> None:
        region, account, name = arn_parts(stream_arn)
        dims = (("StreamName", name),)
        now = self.clock.now()
        with self._lock:
            if self.metrics_on:
                self._count(
                    (region, account, "AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", dims),
                    behind_ms,
                    "Milliseconds",
                    now=now,
                )
                self._count(
                    (region, account, "AWS/Kinesis", "GetRecords.Records", dims),
                    float(records),
                    now=now,
                )

    # ---- samples from collectors ----

    def sample(self, metric: Metric, value: float, unit: str, *, now: float) -> None:
        """A gauge or delta a collector measured (queue depth, mapping counters);
        ``metric`` is ``(region, account, namespace, name, dimensions)``."""
        if not self.metrics_on:
            return
        with self._lock:
            self._count(metric, value, unit, now=now)

    # ---- flushing ----

    def flush(self) -> None:
        """Write buffered metrics and journey steps to the store."""
        with self._flush_lock:
            with self._lock:
                lambda_pending = self._take_lambda_pending()
                metrics, self._metrics = self._metrics, {}
                steps, self._steps = self._steps, []
            # Outside the lock: the hooks of the invocations running meanwhile do not wait.
            self._fold_lambda(lambda_pending, metrics)
            now = self.clock.now()
            if metrics:
                items = [
                    (MetricId(account, region, ns, name, dims), RESOLUTION, ts, unit, aggregate)
                    for (account, region, ns, name, dims, unit, ts), aggregate in metrics.items()
                ]
                self._metric_store().put(items, now)
            if self.journeys is not None and steps:
                self.journeys.add(steps)

    def counter_values(self) -> list[tuple[tuple[str, Dims], float]]:
        """The cumulative counters (Prometheus), queued invocations included."""
        self.flush()
        with self._lock:
            return list(self.counters.items())

    def journey(self, record_id: str) -> list[Step]:
        """Every retained step of a message id or sequence number."""
        if self.journeys is None:
            return []
        self.flush()
        return self.journeys.journey(record_id)


def _add_to(
    metrics: dict[MetricKey, Aggregate], key: MetricKey, value: float, count: float
) -> Aggregate:
    """Add ``count`` samples of ``value`` to ``metrics[key]``; returns that aggregate."""
    found = metrics.get(key)
    if found is None:
        found = metrics[key] = Aggregate.of_value(value, count)
    else:
        found.add(value, count)
    return found


#: Lambda metrics an invocation adds to, by how it ended.
_SUCCEEDED: tuple[str, ...] = ("Invocations",)
_FAILED: tuple[str, ...] = ("Invocations", "Errors")
_THROTTLED: tuple[str, ...] = ("Throttles",)
_LAMBDA_METRICS = ("Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions")
#: Invocations queued before they are folded into the metrics without waiting for a flush.
MAX_LAMBDA_SAMPLES = 4096
#: Functions whose keys ``Recorder`` keeps worked out (more: it starts over).
MAX_CACHED_FUNCTIONS = 4096


class _PendingLambda:
    """One function's invocations of one minute not yet added to the counters and
    metrics: how many ended with each set of metric names, their durations, and how many
    ran at once (function, all functions) -> how many times, as ``lambda_ended`` saw."""

    __slots__ = ("counts", "durations", "running_everywhere", "running_here")

    def __init__(self) -> None:
        self.counts: dict[tuple[str, ...], int] = {}
        self.durations: list[float] = []
        self.running_here: dict[int, int] = {}
        self.running_everywhere: dict[int, int] = {}


class _FunctionMetrics:
    """What the Lambda hooks need of one function ARN, worked out once instead of on every
    invocation: its counter keys, its ConcurrentExecutions keys, and the metric keys of the
    current minute."""

    __slots__ = (
        "_metric_keys",
        "account",
        "counter_keys",
        "dims",
        "duration_counter_key",
        "region",
        "running_keys",
    )

    def __init__(self, function_arn: str) -> None:
        region, account, name = arn_parts(function_arn)
        self.region, self.account = region, account
        self.dims: Dims = (("FunctionName", name),)
        self.counter_keys = {
            metric: (f"lambda_{metric.lower()}", self.dims)
            for metric in ("Invocations", "Errors", "Throttles")
        }
        self.duration_counter_key = ("lambda_duration_ms", self.dims)
        self.running_keys = ((region, account, name), (region, account, ""))
        self._metric_keys: tuple[int, dict[str, tuple[MetricKey, MetricKey]]] = (-1, {})

    def metric_keys(self, bucket: int) -> dict[str, tuple[MetricKey, MetricKey]]:
        """metric name -> (key with the FunctionName dimension, key without) for ``bucket``."""
        # One attribute holds the bucket with its keys: a flush and an invoking thread may
        # both fold samples, and must not pair one minute with another's keys.
        cached_bucket, keys = self._metric_keys
        if cached_bucket != bucket:
            keys = {}
            for metric in _LAMBDA_METRICS:
                unit = "Milliseconds" if metric == "Duration" else "Count"
                keys[metric] = (
                    (self.account, self.region, "AWS/Lambda", metric, self.dims, unit, bucket),
                    (self.account, self.region, "AWS/Lambda", metric, (), unit, bucket),
                )
            self._metric_keys = (bucket, keys)
        return keys
