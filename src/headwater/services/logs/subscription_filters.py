"""Subscription filters: PutSubscriptionFilter, DescribeSubscriptionFilters,
DeleteSubscriptionFilter, and the deliveries they make.

Each event stored in a group (PutLogEvents, and Lambda's own function logs) is matched
against the group's subscription filters (at most two) with the filter-pattern engine
FilterLogEvents uses. The matching events of one write to one stream go, per filter, to the
filter's destination as one message, as CloudWatch Logs sends them: the JSON document
``{"messageType": "DATA_MESSAGE", "owner", "logGroup", "logStream", "subscriptionFilters",
"logEvents": [{"id", "timestamp", "message"}]}``, gzipped; a Lambda function gets it base64
encoded in ``{"awslogs": {"data": ...}}`` as an asynchronous (Event) invocation, a Kinesis
data stream or a Firehose delivery stream gets it as one record. Deliveries are stored
inside the transaction that stores the events (the invocation in Lambda's durable event
queue, the record in the stream or the delivery stream's buffer), so a process that dies
between the two loses neither; function invocations start once it has
committed. Filters are cached per process and re-read when any process changes one (the
store's definition version), so storing events in a group with no filter costs no query.

A function's own log events are never delivered to that function: a function subscribed to
its own log group would otherwise invoke itself for every line it logs, forever (AWS warns
of this loop and leaves it to the user).
"""

from __future__ import annotations

import base64
import gzip
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from headwater.core.arn import Arn
from headwater.core.errors import AwsError
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.logs.filter_pattern import Matcher, PatternError, compile_pattern
from headwater.services.logs.group_operations import check_limit, invalid_parameter
from headwater.services.logs.metric_filters import (
    FILTER_TOKENS,
    MAX_FILTER_NAME,
    MAX_FILTER_PATTERN,
    MetricFilterOperations,
    check_length,
)
from headwater.services.logs.store import SUBSCRIPTION_FILTERS_VERSION, LogGroup

log = logging.getLogger(__name__)

#: CloudWatch Logs' quota of subscription filters per log group.
MAX_SUBSCRIPTION_FILTERS_PER_GROUP = 2
DISTRIBUTIONS = ("Random", "ByLogStream")
#: The largest delivery (a function's whole ``awslogs`` payload, a stream's record data):
#: within Lambda's asynchronous payload limit and a Kinesis record's (1 MiB each, the
#: record's with its partition key). A batch whose delivery is larger is split in halves
#: until each fits, as AWS sends several.
MAX_DELIVERY_BYTES = 1_000_000

#: Starts what a delivery stored, once the transaction that stored it has committed.
AfterCommit = Callable[[], None]


@dataclass(frozen=True, slots=True)
class CompiledSubscription:
    """A stored subscription filter, ready to match events."""

    name: str
    matches: Matcher
    destination: Arn
    distribution: str

    @property
    def function_name(self) -> str | None:
        """The destination function's name (without a qualifier), for a Lambda destination."""
        if self.destination.service != "lambda":
            return None
        return self.destination.resource.split(":")[1]


def compile_subscription(body: dict[str, Any]) -> CompiledSubscription:
    """A stored filter ``body`` (as DescribeSubscriptionFilters shows it) ready to match."""
    return CompiledSubscription(
        name=str(body["filterName"]),
        matches=compile_pattern(body.get("filterPattern")),
        destination=Arn.parse(str(body["destinationArn"])),
        distribution=str(body.get("distribution") or "ByLogStream"),
    )


def data_message(
    account: str, group: str, stream: str, filter_name: str, events: Sequence[dict[str, Any]]
) -> bytes:
    """The gzipped JSON document CloudWatch Logs delivers for ``events`` (each ``{"id",
    "timestamp", "message"}``) of one stream matched by one filter."""
    document = {
        "messageType": "DATA_MESSAGE",
        "owner": account,
        "logGroup": group,
        "logStream": stream,
        "subscriptionFilters": [filter_name],
        "logEvents": list(events),
    }
    return gzip.compress(orjson.dumps(document), mtime=0)


def lambda_payload(message: bytes) -> bytes:
    """The event a subscribed function gets: the gzipped message, base64 encoded."""
    return orjson.dumps({"awslogs": {"data": base64.b64encode(message).decode()}})


def _batches(
    events: list[dict[str, Any]], encode: Callable[[list[dict[str, Any]]], bytes]
) -> list[bytes]:
    """``encode(events)``, split in halves (recursively) until each part fits a delivery."""
    encoded = encode(events)
    if len(encoded) <= MAX_DELIVERY_BYTES or len(events) == 1:
        return [encoded]
    middle = len(events) // 2
    return _batches(events[:middle], encode) + _batches(events[middle:], encode)


class SubscriptionFilterOperations(MetricFilterOperations):
    """The subscription filter half of CloudWatch Logs."""

    _subscription_cache: tuple[int, dict[str, list[CompiledSubscription]]] | None = None
    _subscription_cache_lock = threading.Lock()

    def _subscriptions_by_group(self) -> dict[str, list[CompiledSubscription]]:
        """Every group's compiled subscription filters (cached until any changes)."""
        version = self.log_store.db.version(SUBSCRIPTION_FILTERS_VERSION)
        cache = self._subscription_cache
        if cache is None or cache[0] != version:
            with self._subscription_cache_lock:
                by_group: dict[str, list[CompiledSubscription]] = {}
                for key, body in self.log_store.subscription_filters():
                    by_group.setdefault(key, []).append(compile_subscription(body))
                cache = self._subscription_cache = (version, by_group)
        return cache[1]

    def _subscriptions_of(self, group: LogGroup) -> list[CompiledSubscription]:
        """The compiled subscription filters of ``group``."""
        return self._subscriptions_by_group().get(group.key, [])

    def has_subscription_filters(self, group: LogGroup) -> bool:
        """Whether events stored in ``group`` are delivered anywhere."""
        return bool(self._subscriptions_of(group))

    def deliver_to_subscriptions(
        self,
        group: LogGroup,
        stream: str,
        events: Sequence[tuple[int, str]],
        first_seq: int,
        *,
        from_function: str | None = None,
    ) -> list[AfterCommit]:
        """Deliver the stored ``events`` (``(timestamp ms, message)``, numbered from
        ``first_seq``) of ``stream`` to the group's subscription filters' destinations,
        inside the caller's transaction; returns what starts the function invocations
        stored, to call once it has committed. ``from_function`` names the function whose
        own logs these are: they are not delivered to it."""
        started: list[AfterCommit] = []
        subscriptions = self._subscriptions_of(group)
        if not subscriptions or not events:
            return started
        for subscription in subscriptions:
            if from_function is not None and subscription.function_name == from_function:
                continue  # a function's own logs would invoke it again for each line it logs
            matched = [
                {"id": f"{first_seq + offset:056d}", "timestamp": stamp, "message": message}
                for offset, (stamp, message) in enumerate(events)
                if subscription.matches(message)
            ]
            if not matched:
                continue

            to_function = subscription.destination.service == "lambda"

            def encode(
                part: list[dict[str, Any]],
                name: str = subscription.name,
                to_function: bool = to_function,
            ) -> bytes:
                message = data_message(group.account, group.name, stream, name, part)
                return lambda_payload(message) if to_function else message

            for delivery in _batches(matched, encode):
                start = self._deliver(subscription, stream, delivery)
                if start is not None:
                    started.append(start)
        return started

    def _deliver(
        self, subscription: CompiledSubscription, stream: str, delivery: bytes
    ) -> AfterCommit | None:
        # A destination removed since the filter was put loses the events, as on AWS; the
        # events stay stored.
        destination = str(subscription.destination)
        try:
            if subscription.destination.service == "lambda":
                lambda_service: Any = self.env.service("lambda")
                start: AfterCommit = lambda_service.accept_event(destination, delivery)
                return start
            if subscription.destination.service == "firehose":
                # The gzipped document itself is the record, as CloudWatch Logs sends it.
                firehose: Any = self.env.service("firehose")
                flush: AfterCommit | None = firehose.accept_records(destination, [delivery])[1]
                return flush
            # A partition key is at most 256 characters; a stream name up to 512.
            partition_key = stream[:256] if subscription.distribution == "ByLogStream" else None
            kinesis: Any = self.env.service("kinesis")
            kinesis.call(
                "PutRecord",
                {
                    "StreamARN": destination,
                    "Data": delivery,
                    "PartitionKey": partition_key or uuid.uuid4().hex,
                },
                RequestContext(
                    region=subscription.destination.region,
                    account=subscription.destination.account,
                ),
            )
        except AwsError as error:
            log.info("log events to %s not delivered: %s", destination, error.message)
        except RuntimeError as error:  # the Lambda service closed (headwater stopping)
            log.info("log events to %s not delivered: %s", destination, error)
        return None

    @staticmethod
    def after_commit(started: list[AfterCommit]) -> None:
        """Start the function invocations ``deliver_to_subscriptions`` stored."""
        for start in started:
            start()

    # ---- operations ----

    @operation("PutSubscriptionFilter")
    def put_subscription_filter(self, params: Params, ctx: RequestContext) -> Result:
        name = params.get("filterName") or ""
        check_length(name, "filterName", MAX_FILTER_NAME)
        pattern = params.get("filterPattern")
        check_length(pattern, "filterPattern", MAX_FILTER_PATTERN)
        destination = params.get("destinationArn")
        role = params.get("roleArn")
        distribution = params.get("distribution") or "ByLogStream"
        if not isinstance(pattern, str | None) or not isinstance(destination, str):
            # botocore's validation refuses these before they are sent; a raw request may not
            raise invalid_parameter("filterPattern and destinationArn are malformed.")
        if distribution not in DISTRIBUTIONS:
            raise invalid_parameter(
                f"1 validation error detected: Value '{distribution}' at 'distribution' failed "
                "to satisfy constraint: Member must satisfy enum value set: [Random, ByLogStream]"
            )
        try:
            compile_pattern(pattern)
        except PatternError as error:
            raise invalid_parameter(f"Invalid subscription filter pattern: {error}") from None
        arn = self._destination_kind(destination, role, ctx)
        group = self.require_group(params, ctx)
        self._check_destination_exists(arn, ctx)
        existing = [body for key, body in self.log_store.subscription_filters() if key == group.key]
        if len(existing) >= MAX_SUBSCRIPTION_FILTERS_PER_GROUP and all(
            body["filterName"] != name for body in existing
        ):
            raise AwsError("LimitExceededException", "Resource limit exceeded.")
        body: dict[str, Any] = {
            "filterName": name,
            "logGroupName": group.name,
            "filterPattern": pattern if pattern is not None else "",
            "destinationArn": destination,
            "distribution": distribution,
            "applyOnTransformedLogs": bool(params.get("applyOnTransformedLogs", False)),
            "creationTime": self.now_ms(),
        }
        if role is not None:
            body["roleArn"] = role
        # Kept and described, not applied: headwater sends every event's fields as they are.
        for member in ("fieldSelectionCriteria", "emitSystemFields"):
            if params.get(member) is not None:
                body[member] = params[member]
        self.log_store.put_subscription_filter(group, name, body)
        return {}

    def _destination_kind(self, destination: str, role: Any, ctx: RequestContext) -> Arn:
        """CloudWatch Logs' checks of the destination ARN itself, made before it looks for
        the log group (AWS answers a cross-account function before a missing group: the
        conformance recording)."""
        arn = Arn.try_parse(destination)
        service = arn.service if arn is not None else ""
        if arn is None or service not in ("lambda", "kinesis", "firehose", "logs"):
            # Not seen from AWS; worded as its other destinationArn errors are.
            raise invalid_parameter(f"Invalid destinationArn: {destination}")
        if service == "lambda":
            if role is not None:
                # Not recorded from AWS; the text other AWS emulations answer.
                raise invalid_parameter(
                    "destinationArn for vendor lambda cannot be used with roleArn"
                )
            if arn.account != ctx.account:
                raise AwsError(
                    "AccessDeniedException",
                    "Cross-account lambda invocation passing is not allowed. You must use "
                    "DestinationPolicies to create cross account lambda triggers.",
                )
        elif service in ("kinesis", "firehose"):
            if role is None:
                raise invalid_parameter(
                    f"destinationArn for vendor {service} cannot be used without roleArn"
                )
        else:
            # headwater has no cross-account Logs destinations (PutDestination): refused,
            # never stored to deliver nothing.
            raise invalid_parameter(
                "headwater does not support CloudWatch Logs destination subscription filter "
                f"destinations ({destination}); use a Lambda function, a Kinesis data stream "
                "or a Firehose delivery stream."
            )
        return arn

    def _check_destination_exists(self, arn: Arn, ctx: RequestContext) -> None:
        """CloudWatch Logs' check that it can deliver to the destination (AWS tries: a test
        invocation or record), made once the log group is found."""
        destination = str(arn)
        if arn.service == "lambda":
            lambda_service: Any = self.env.service("lambda")
            try:
                lambda_service.resolve_function(destination, region=ctx.region)
            except AwsError:
                raise invalid_parameter(
                    "Could not execute the lambda function. Make sure you have given "
                    "CloudWatch Logs permission to execute your function."
                ) from None
            return
        if arn.service == "firehose":
            check: tuple[str, str, dict[str, str]] = (
                "DescribeDeliveryStream",
                "Firehose",
                {"DeliveryStreamName": arn.resource.split("/", 1)[-1]},
            )
        else:
            check = ("DescribeStreamSummary", "Kinesis", {"StreamARN": destination})
        operation_name, kind, params = check
        service: Any = self.env.service(arn.service)
        try:
            service.call(
                operation_name, params, RequestContext(region=arn.region, account=arn.account)
            )
        except AwsError:
            # The text AWS answers when its test record cannot be written to a Kinesis
            # stream (the Terraform provider retries on its start); Firehose's is a guess
            # worded the same.
            lowered = "kinesis" if kind == "Kinesis" else kind
            raise invalid_parameter(
                f"Could not deliver test message to specified {kind} stream. Check if the "
                f"given {lowered} stream is in ACTIVE state."
            ) from None

    @operation("DescribeSubscriptionFilters")
    def describe_subscription_filters(self, params: Params, ctx: RequestContext) -> Result:
        prefix = params.get("filterNamePrefix")
        check_length(prefix, "filterNamePrefix", MAX_FILTER_NAME)
        limit = check_limit(params.get("limit"), 50) or 50
        group = self.require_group(params, ctx)
        found = [
            body
            for key, body in self.log_store.subscription_filters()
            if key == group.key and (not prefix or str(body["filterName"]).startswith(prefix))
        ]
        page, token = FILTER_TOKENS.page(found, params.get("nextToken"), limit)
        result: Result = {"subscriptionFilters": page}
        if token:
            result["nextToken"] = token
        return result

    @operation("DeleteSubscriptionFilter")
    def delete_subscription_filter(self, params: Params, ctx: RequestContext) -> Result:
        name = params.get("filterName") or ""
        check_length(name, "filterName", MAX_FILTER_NAME)
        group = self.require_group(params, ctx)
        if not self.log_store.delete_subscription_filter(group, name):
            raise AwsError(
                "ResourceNotFoundException", "The specified subscription filter does not exist."
            )
        return {}
