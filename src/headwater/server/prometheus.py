"""``GET /metrics``: headwater's built-in metrics for Prometheus (prometheus-client).

A custom collector reads everything at scrape time (queue depths, mapping counters from
the engine, the recorder's cumulative counters), so nothing is kept twice and scraping
costs the hot paths nothing. Names follow Prometheus conventions; the CloudWatch names
they correspond to are in each family's help text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from headwater.api.http import WireResponse
from headwater.telemetry.collector import queue_depths
from headwater.telemetry.recorder import arn_parts

if TYPE_CHECKING:
    from headwater.app import Headwater

PATH = "/metrics"

#: recorder counter -> (metric name, help)
COUNTERS = {
    "sqs_messages_sent": ("headwater_sqs_messages_sent", "AWS/SQS NumberOfMessagesSent"),
    "sqs_messages_received": (
        "headwater_sqs_messages_received",
        "AWS/SQS NumberOfMessagesReceived",
    ),
    "sqs_messages_deleted": ("headwater_sqs_messages_deleted", "AWS/SQS NumberOfMessagesDeleted"),
    "sqs_empty_receives": ("headwater_sqs_empty_receives", "AWS/SQS NumberOfEmptyReceives"),
    "lambda_invocations": ("headwater_lambda_invocations", "AWS/Lambda Invocations"),
    "lambda_errors": ("headwater_lambda_errors", "AWS/Lambda Errors"),
    "lambda_throttles": ("headwater_lambda_throttles", "AWS/Lambda Throttles"),
    "lambda_duration_ms": (
        "headwater_lambda_duration_milliseconds",
        "AWS/Lambda Duration, summed over invocations",
    ),
    "kinesis_incoming_records": (
        "headwater_kinesis_incoming_records",
        "AWS/Kinesis IncomingRecords",
    ),
    "kinesis_incoming_bytes": ("headwater_kinesis_incoming_bytes", "AWS/Kinesis IncomingBytes"),
}

#: label of each recorder counter family, by the counter's prefix
COUNTER_LABELS = {"sqs": "queuename", "lambda": "functionname", "kinesis": "streamname"}

#: mapping counter -> metric name suffix
MAPPING_COUNTERS = {
    "PolledEventCount": "polled_events",
    "FilteredOutEventCount": "filtered_out_events",
    "InvokedEventCount": "invoked_events",
    "FailedInvokeEventCount": "failed_invoke_events",
    "DeletedEventCount": "deleted_events",
    "DroppedEventCount": "dropped_events",
    "OnFailureDestinationDeliveredEventCount": "on_failure_destination_delivered_events",
    "Invocations": "invocations",
    "Errors": "errors",
    "Throttles": "throttles",
}


class HeadwaterCollector:
    """Yields the metric families of one ``Headwater`` at scrape time."""

    def __init__(self, hw: Headwater) -> None:
        self.hw = hw

    def collect(self) -> Iterator[Metric]:
        yield from self._queues()
        yield from self._mappings()
        yield from self._counters()
        yield from self._alarms()

    def _queues(self) -> Iterator[Metric]:
        sqs = self.hw.existing_service("sqs")
        if sqs is None:
            return
        labels = ["queue", "region"]
        families = {
            "visible": GaugeMetricFamily(
                "headwater_sqs_messages_visible", "AWS/SQS ApproximateNumberOfMessagesVisible",
                labels=labels,
            ),
            "in_flight": GaugeMetricFamily(
                "headwater_sqs_messages_not_visible",
                "AWS/SQS ApproximateNumberOfMessagesNotVisible", labels=labels,
            ),
            "delayed": GaugeMetricFamily(
                "headwater_sqs_messages_delayed", "AWS/SQS ApproximateNumberOfMessagesDelayed",
                labels=labels,
            ),
            "age": GaugeMetricFamily(
                "headwater_sqs_age_of_oldest_message_seconds",
                "AWS/SQS ApproximateAgeOfOldestMessage", labels=labels,
            ),
        }  # fmt: skip
        for depth in queue_depths(sqs, self.hw.clock.now()):
            values = [depth.name, depth.region]
            families["visible"].add_metric(values, depth.visible)
            families["in_flight"].add_metric(values, depth.not_visible)
            families["delayed"].add_metric(values, depth.delayed)
            families["age"].add_metric(values, depth.oldest_age)
        yield from families.values()

    def _mappings(self) -> Iterator[Metric]:
        engine = self.hw.existing_engine()
        lam: Any = self.hw.existing_service("lambda")
        if engine is None or lam is None:
            return
        labels = ["mapping", "function", "source"]
        counters = {
            key: CounterMetricFamily(f"headwater_esm_{suffix}", f"AWS/Lambda {key}", labels=labels)
            for key, suffix in MAPPING_COUNTERS.items()
        }
        concurrency = GaugeMetricFamily(
            "headwater_esm_concurrent_batches", "Batches in flight (ConcurrentExecutions)",
            labels=labels,
        )  # fmt: skip
        age = GaugeMetricFamily(
            "headwater_esm_iterator_age_milliseconds", "AWS/Lambda IteratorAge", labels=labels
        )
        for uuid in engine.mapping_uuids():
            snapshot = engine.metrics(uuid)
            record = lam.get_mapping_record(uuid)
            if snapshot is None or record is None:
                continue
            values = snapshot.as_dict()
            label_values = [uuid, record.function_name, arn_parts(record.source_arn)[2]]
            for key, family in counters.items():
                if key in values:
                    family.add_metric(label_values, float(values[key] or 0))
            concurrency.add_metric(label_values, float(values.get("ConcurrentExecutions") or 0))
            iterator_age = values.get("IteratorAge")
            if isinstance(iterator_age, int | float):
                age.add_metric(label_values, float(iterator_age))
        yield from counters.values()
        yield concurrency
        yield age

    def _counters(self) -> Iterator[Metric]:
        recorder = self.hw.observability.recorder
        if recorder is None:
            return
        families = {
            key: CounterMetricFamily(name, help_text, labels=[COUNTER_LABELS[key.split("_")[0]]])
            for key, (name, help_text) in COUNTERS.items()
        }
        for (key, dims), value in recorder.counter_values():
            families[key].add_metric([d[1] for d in dims], value)
        yield from families.values()

    def _alarms(self) -> Iterator[Metric]:
        cw: Any = self.hw.existing_service("cloudwatch")
        if cw is None:
            return
        family = GaugeMetricFamily(
            "headwater_alarm_in_alarm", "1 while a CloudWatch alarm is in ALARM",
            labels=["alarm", "region"],
        )  # fmt: skip
        for alarm in cw.alarms_overview():
            family.add_metric(
                [alarm["name"], alarm["region"]], 1.0 if alarm["state"] == "ALARM" else 0.0
            )
        yield family


class MetricsEndpoint:
    """Serves ``GET /metrics`` for one ``Headwater``."""

    def __init__(self, hw: Headwater) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(HeadwaterCollector(hw))

    def respond(self) -> WireResponse:
        return WireResponse(200, generate_latest(self.registry), CONTENT_TYPE_LATEST)
