"""Sending an event to the targets of the rules it matched.

Every send is written inside the caller's transaction (PutEvents, a schedule's firing), as
S3 notifications are: queues get the message, topics publish it (their deliveries follow
SNS's outbox), and functions get an asynchronous (Event) invocation stored in the Lambda
service's durable event queue, started once the transaction has committed, so Lambda's
retries, dead-letter queue and destinations apply. A target that does not exist (or whose
service headwater lacks) loses the event, as on AWS, where the failure is only counted in
the rule's FailedInvocations metric; the rest of the event's targets still get it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from headwater.core.arn import Arn
from headwater.core.errors import AwsError
from headwater.services.events.store import RuleRecord
from headwater.services.events.target_input import target_input
from headwater.services.sns.delivery import ClientSideFailure, send_to_queue

if TYPE_CHECKING:
    from headwater.services.base import ServiceEnvironment

log = logging.getLogger(__name__)

#: Target services an event reaches in headwater.
DELIVERED_SERVICES = ("lambda", "sqs", "sns")


def send_to_targets(
    env: ServiceEnvironment, event: dict[str, Any], rules: Iterable[RuleRecord]
) -> list[Callable[[], None]]:
    """Send ``event`` to every target of ``rules`` inside the caller's transaction; returns
    what starts the stored function invocations, to call once it committed."""
    invocations: list[Callable[[], None]] = []
    for rule in rules:
        for target in rule.targets:
            arn = str(target["Arn"])
            try:
                body = target_input(event, target, rule.arn)
                started = _send(env, arn, body, target, str(event["id"]))
            except (ClientSideFailure, AwsError, ValueError) as error:
                log.info("event %s to %s not delivered: %s", event["id"], arn, error)
                continue
            if started is not None:
                invocations.append(started)
    return invocations


def start_invocations(invocations: list[Callable[[], None]]) -> None:
    """Start the function invocations ``send_to_targets`` stored (after its commit)."""
    for start in invocations:
        start()


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
    raise ValueError(f"headwater does not deliver events to {service or 'this'} target")
