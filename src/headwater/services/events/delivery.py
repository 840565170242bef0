"""Sending an event to the targets of the rules it matched.

Every send is written inside the caller's transaction (PutEvents, a schedule's firing), as
S3 notifications are: queues get the message, topics publish it (their deliveries follow
SNS's outbox), and functions get an asynchronous (Event) invocation stored in the Lambda
service's durable event queue, started once the transaction has committed, so Lambda's
retries, dead-letter queue and destinations apply. A target that does not exist (or whose
service headwater lacks) loses the event, as on AWS, where the failure is only counted in
the rule's FailedInvocations metric; the rest of the event's targets still get it.

A CloudWatch Logs group target gets the event as one log event in a stream named by the
event's id, written once the transaction has committed (a log is not part of the event's
durable delivery, and the log service's own work stays outside the caller's transaction).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from headwater.core.arn import Arn
from headwater.core.errors import AwsError
from headwater.services.base import RequestContext
from headwater.services.events.store import RuleRecord
from headwater.services.events.target_input import target_input
from headwater.services.logs.group_operations import parse_group_arn
from headwater.services.sns.delivery import ClientSideFailure, send_to_queue

if TYPE_CHECKING:
    from headwater.services.base import ServiceEnvironment

log = logging.getLogger(__name__)

#: Target service -> the services a delivery to it looks up (an SNS topic sends to its
#: queue subscriptions inside the same transaction).
SERVICES_USED = {
    "lambda": ("lambda",),
    "sqs": ("sqs",),
    "sns": ("sns", "sqs"),
    "logs": ("logs",),
}


def ensure_target_services(env: ServiceEnvironment, rules: Iterable[RuleRecord]) -> None:
    """Create the services the targets of ``rules`` need, before a transaction is opened.

    A service is created holding the application's lock, and its creation may write to the
    database (its schema); looking one up for the first time while holding the database's
    write lock (inside ``send_to_targets``' transaction) could wait for a thread that holds
    the application's lock and waits for the database: a deadlock (the scheduler's first
    firing after a restart, while the engine is being built, did exactly that).
    """
    needed: set[str] = set()
    for rule in rules:
        for target in rule.targets:
            parsed = Arn.try_parse(str(target["Arn"]))
            if parsed is not None:
                needed.update(SERVICES_USED.get(parsed.service, ()))
    for name in sorted(needed):
        env.service(name)


@dataclass(slots=True)
class Sent:
    """What ``send_to_targets`` did: what to do once the transaction committed (start the
    function invocations it stored, write log events), and per rule how many targets got
    the event and how many not."""

    later: list[Callable[[], None]] = field(default_factory=list)
    #: (rule ARN, bus, targets sent to, targets that failed), one per rule.
    rules: list[tuple[str, str, int, int]] = field(default_factory=list)

    def after_commit(self, env: ServiceEnvironment) -> None:
        """Start the stored invocations, write the log events and count the rules' metrics
        (AWS/Events)."""
        for step in self.later:
            step()
        for rule_arn, bus, sent, failed in self.rules:
            env.telemetry.events_rule_triggered(rule_arn, bus, sent, failed)


def send_to_targets(
    env: ServiceEnvironment, event: dict[str, Any], rules: Iterable[RuleRecord], into: Sent
) -> None:
    """Send ``event`` to every target of ``rules`` inside the caller's transaction (whose
    services ``ensure_target_services`` made beforehand), noting in ``into`` what to do
    once it committed."""
    for rule in rules:
        sent = failed = 0
        for target in rule.targets:
            arn = str(target["Arn"])
            try:
                body = target_input(event, target, rule.arn)
                started = _send(env, arn, body, target, str(event["id"]))
            except (ClientSideFailure, AwsError, ValueError) as error:
                log.info("event %s to %s not delivered: %s", event["id"], arn, error)
                failed += 1
                continue
            sent += 1
            if started is not None:
                into.later.append(started)
        into.rules.append((rule.arn, rule.bus, sent, failed))


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


def _send(
    env: ServiceEnvironment, arn: str, body: str, target: dict[str, Any], event_id: str
) -> Callable[[], None] | None:
    parsed = Arn.try_parse(arn)
    service = parsed.service if parsed is not None else ""
    if service == "lambda":
        lambda_service: Any = env.service("lambda")
        started: Callable[[], None] = lambda_service.accept_event(arn, body.encode())
        return started
    if service == "sqs":
        params: dict[str, Any] = {"MessageBody": body}
        if arn.endswith(".fifo"):
            group = (target.get("SqsParameters") or {}).get("MessageGroupId")
            if group is not None:
                params["MessageGroupId"] = str(group)
            # EventBridge deduplicates FIFO messages by the event's id.
            params["MessageDeduplicationId"] = event_id
        send_to_queue(env, arn, params)
        return None
    if service == "sns":
        sns: Any = env.service("sns")
        sns.publish_message(arn, body)
        return None
    if service == "logs":
        return _log_writer(env, arn, body, event_id)
    raise ValueError(f"headwater does not deliver events to {service or 'this'} target")
