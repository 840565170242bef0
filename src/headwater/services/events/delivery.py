"""Sending an event to the targets of the rules it matched.

Every send is decided inside the caller's transaction (PutEvents, a schedule's firing), as
S3 notifications are: queues get the message, topics publish it (their deliveries follow
SNS's outbox), streams get the record, and functions get an asynchronous (Event) invocation
stored in the Lambda service's durable event queue, started once the transaction has
committed, so Lambda's retries, dead-letter queue and destinations apply. State machines
and other event buses are sent to once the transaction committed, from a delivery stored
inside it (``retries``). A send that fails is retried, dead-lettered or dropped as the
target's RetryPolicy and DeadLetterConfig say (``retries.TargetDeliveries``); the rest of
the event's targets still get it.

A CloudWatch Logs group target gets the event as one log event in a stream named by the
event's id, written once the transaction has committed (a log is not part of the event's
durable delivery, and the log service's own work stays outside the caller's transaction).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from headwater.core.errors import AwsError
from headwater.core.ids import new_uuid
from headwater.services.base import RequestContext
from headwater.services.events.retries import (
    PendingDelivery,
    TargetCall,
    TargetDeliveries,
)
from headwater.services.events.store import RuleRecord
from headwater.services.events.target_input import select, target_input
from headwater.services.logs.group_operations import parse_group_arn

if TYPE_CHECKING:
    from headwater.services.base import ServiceEnvironment

log = logging.getLogger(__name__)

#: How many times an event is forwarded from bus to bus at most: EventBridge's guide says
#: it "can't route events received from a sender event bus to a third event bus".
MAX_BUS_HOPS = 1


@dataclass(slots=True)
class Sent:
    """What ``send_to_targets`` did: what to do once the transaction committed (start the
    function invocations it stored, write log events), and per rule how many targets got
    the event and how many not."""

    later: list[Callable[[], None]] = field(default_factory=list)
    #: (rule ARN, bus, log groups written to, targets headwater cannot send to), one per
    #: rule (the other targets' deliveries count their own metrics).
    rules: list[tuple[str, str, int, int]] = field(default_factory=list)

    def after_commit(self, env: ServiceEnvironment) -> None:
        """Start the stored invocations, write the log events and count the rules' metrics
        (AWS/Events)."""
        for step in self.later:
            step()
        for rule_arn, bus, sent, failed in self.rules:
            env.telemetry.events_rule_triggered(rule_arn, bus, sent, failed)


def send_to_targets(
    deliveries: TargetDeliveries,
    event: dict[str, Any],
    rules: Iterable[RuleRecord],
    into: Sent,
    hops: int = 0,
) -> None:
    """Send ``event`` to every target of ``rules`` inside the caller's transaction, noting
    in ``into`` what to do once it committed. ``hops``: how many buses forwarded the event
    here."""
    env = deliveries.env
    for rule in rules:
        sent = failed = 0
        for target in rule.targets:
            arn = str(target["Arn"])
            try:
                body = target_input(event, target, rule.arn)
                if arn.startswith("arn:aws:logs:"):
                    into.later.append(_log_writer(env, arn, body, str(event["id"])))
                    sent += 1
                    continue
                call = _target_call(arn, body, target, event, hops)
            except (AwsError, ValueError) as error:
                log.info("event %s to %s not delivered: %s", event["id"], arn, error)
                failed += 1
                continue
            delivery = PendingDelivery(
                id=new_uuid(),
                origin="events",
                origin_arn=rule.arn,
                call=asdict(call),
                retry_policy=dict(target.get("RetryPolicy") or {}),
                dead_letter_arn=(target.get("DeadLetterConfig") or {}).get("Arn") or None,
                dead_letter_body=orjson.dumps(event).decode(),
                dead_letter_attributes={"RULE_ARN": rule.arn},
                since=env.clock.now(),
                bus=rule.bus,
            )
            # Its Invocations (once it was sent or failed for good: not its retries),
            # FailedInvocations and dead-letter metrics count through the deliveries.
            deliveries.deliver(delivery, into.later)
        into.rules.append((rule.arn, rule.bus, sent, failed))


def _target_call(
    arn: str, body: str, target: dict[str, Any], event: dict[str, Any], hops: int
) -> TargetCall:
    """What sending ``body`` (the event as the target gets it) to ``arn`` calls; raises
    ValueError for a target headwater does not send to."""
    if arn.startswith("arn:aws:events:") and ":event-bus/" in arn:
        if hops >= MAX_BUS_HOPS:
            raise ValueError("an event another bus sent is not sent to a third bus")
        # The bus gets the event itself (not the target's input), as it was put.
        return TargetCall("events", arn, {"event": event, "hops": hops + 1})
    call = TargetCall.send(
        arn,
        body,
        group_id=(target.get("SqsParameters") or {}).get("MessageGroupId"),
        # EventBridge deduplicates FIFO messages by the event's id.
        deduplication_id=str(event["id"]),
        partition_key=(
            _partition_key(target, event) if arn.startswith("arn:aws:kinesis:") else None
        ),
    )
    if call is None:
        raise ValueError(f"headwater does not deliver events to {arn}")
    return call


def _partition_key(target: dict[str, Any], event: dict[str, Any]) -> str:
    """KinesisParameters.PartitionKeyPath's value in the event, or the event's id (as
    EventBridge does when there is no path). A path that finds nothing is refused."""
    path = (target.get("KinesisParameters") or {}).get("PartitionKeyPath")
    if not path:
        return str(event["id"])
    value = select(event, str(path))
    if isinstance(value, bool) or not isinstance(value, str | int | float) or value == "":
        raise ValueError(f"PartitionKeyPath {path} finds no partition key in the event")
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _log_writer(env: ServiceEnvironment, arn: str, body: str, event_id: str) -> Callable[[], None]:
    """What writes ``body`` to the log group ``arn`` (in a stream named ``event_id``) once the
    event's transaction committed; raises ValueError now if the group does not exist."""
    logs: Any = env.service("logs")
    located = parse_group_arn(arn)
    if located is None or logs.log_store.get_group(*located) is None:
        raise ValueError(f"log group {arn} does not exist")
    account, region, group = located
    ctx = RequestContext(region=region, account=account)

    def write() -> None:
        stamp = int(env.clock.now() * 1000)
        try:
            logs.call("CreateLogStream", {"logGroupName": group, "logStreamName": event_id}, ctx)
            logs.call(
                "PutLogEvents",
                {
                    "logGroupName": group,
                    "logStreamName": event_id,
                    "logEvents": [{"timestamp": stamp, "message": body}],
                },
                ctx,
            )
        except AwsError as error:
            log.info("event %s to %s not written: %s", event_id, arn, error)

    return write
