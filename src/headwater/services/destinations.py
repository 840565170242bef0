"""How SNS topics, S3 buckets and EventBridge buses take destination records (stream
mappings' on-failure records, asynchronous invocations' results).

Registered with ``LocalDestinations`` by the composition root. Each returns ``False``
(never raises) when the destination cannot take the record: it is missing, or of a kind
AWS does not deliver to (a FIFO topic); the caller counts a DestinationDeliveryFailure.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

import orjson

from headwater.core.arn import Arn
from headwater.core.errors import AwsError
from headwater.esm.streams.destinations import S3_KEY_FIELD
from headwater.services.base import RequestContext

if TYPE_CHECKING:
    from headwater.services.base import ServiceEnvironment

log = logging.getLogger(__name__)


def send_to_sns(env: ServiceEnvironment, arn: Arn, body: dict[str, Any]) -> bool:
    """Publish the record (JSON) to a standard topic."""
    return _publish(env, arn, orjson.dumps(body).decode())


def _publish(
    env: ServiceEnvironment,
    arn: Arn,
    message: str,
    attributes: Mapping[str, str | int] | None = None,
) -> bool:
    if arn.resource.endswith(".fifo"):
        log.warning("destination %s is a FIFO topic", arn)
        return False
    sns: Any = env.service("sns")
    try:
        sns.publish_message(str(arn), message, attributes=attributes)
    except AwsError as error:
        log.warning("delivery to %s failed: %s", arn, error.message)
        return False
    return True


def send_to_s3(env: ServiceEnvironment, arn: Arn, body: dict[str, Any]) -> bool:
    """Write the record as a JSON object into the bucket, under the key its sender chose."""
    record = dict(body)
    key = str(record.pop(S3_KEY_FIELD, "") or "")
    bucket = arn.resource
    if not key or not bucket or "/" in bucket:
        log.warning("on-failure destination %s: no object key or not a bucket", arn)
        return False
    s3: Any = env.service("s3")
    try:
        s3.put_object_bytes(bucket, key, orjson.dumps(record), content_type="application/json")
    except AwsError as error:
        log.warning("on-failure delivery to %s failed: %s", arn, error.message)
        return False
    return True


#: Services a stream mapping's on-failure destination may be (Kafka topics aside).
MAPPING_DESTINATION_SERVICES = frozenset({"sqs", "sns", "s3"})


#: Lambda's pattern for destination ARNs (its ValidationException quotes it).
DESTINATION_PATTERN = (
    r"$|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:"
    r"((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)"
)
_DESTINATION = re.compile(DESTINATION_PATTERN)


def check_destination_pattern(target: str, member: str) -> None:
    """Lambda's ValidationException for a destination that is not an ARN at all."""
    if _DESTINATION.fullmatch(target) is None:
        raise AwsError(
            "ValidationException",
            f"1 validation error detected: Value '{target}' at '{member}' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: {DESTINATION_PATTERN}",
        )


def check_mapping_destination(destination_config: dict[str, Any] | None) -> None:
    """Refuse, at create/update time, an on-failure destination no mapping delivers to."""
    on_failure = (destination_config or {}).get("OnFailure") or {}
    target = on_failure.get("Destination")
    if not target:
        return
    check_destination_pattern(str(target), "destinationConfig.onFailure.destination")
    arn = Arn.try_parse(str(target))
    if arn is None or arn.service not in MAPPING_DESTINATION_SERVICES or not arn.resource:
        raise AwsError(
            "InvalidParameterValueException",
            "The provided destination config DestinationConfig(onSuccess=null, "
            f"onFailure=OnFailure(destination={target})) is invalid.",
            fields={"Type": "User"},
        )


def send_to_sqs(env: ServiceEnvironment, arn: Arn, body: dict[str, Any]) -> bool:
    """Send the record (JSON) to a standard queue of this headwater."""
    return _send(env, arn, orjson.dumps(body).decode())


def _send(
    env: ServiceEnvironment,
    arn: Arn,
    message: str,
    attributes: Mapping[str, str | int] | None = None,
) -> bool:
    if arn.resource.endswith(".fifo"):
        log.warning("destination %s is a FIFO queue", arn)
        return False
    sqs: Any = env.service("sqs")
    resolved = sqs.resolve_arn(str(arn))
    if resolved is None:
        log.warning("destination %s: the queue does not exist", arn)
        return False
    params: dict[str, Any] = {"QueueUrl": sqs.queue_url(resolved.record), "MessageBody": message}
    if attributes:
        params["MessageAttributes"] = {
            name: {
                "DataType": "Number" if isinstance(value, int) else "String",
                "StringValue": str(value),
            }
            for name, value in attributes.items()
        }
    try:
        sqs.call("SendMessage", params, RequestContext(region=arn.region, account=arn.account))
    except AwsError as error:
        log.warning("delivery to %s failed: %s", arn, error.message)
        return False
    return True


def deliver_message(
    env: ServiceEnvironment, target: str, message: str, attributes: Mapping[str, str | int]
) -> bool:
    """Send ``message`` as it is, with String/Number message attributes, to an SQS queue or
    SNS topic (a function's dead-letter target); False if it could not (never raises)."""
    return _deliver(
        target,
        _MESSAGE_SENDERS,
        lambda arn: _MESSAGE_SENDERS[arn.service](env, arn, message, attributes),
    )


def deliver_record(env: ServiceEnvironment, destination: str, body: dict[str, Any]) -> bool:
    """Send a destination record to an SQS queue, SNS topic, S3 bucket or EventBridge bus;
    False if it could not be delivered (never raises)."""
    return _deliver(destination, _SENDERS, lambda arn: _SENDERS[arn.service](env, arn, body))


def _deliver(target: str, services: Collection[str], send: Callable[[Arn], bool]) -> bool:
    arn = Arn.try_parse(target)
    if arn is None or arn.service not in services:
        log.warning("destination %s: headwater cannot deliver there", target)
        return False
    try:
        return send(arn)
    except Exception as error:  # a broken destination fails the delivery, not the caller
        log.warning("delivery to %s failed: %s", target, error)
        return False


def send_to_events(env: ServiceEnvironment, arn: Arn, body: dict[str, Any]) -> bool:
    """Put an asynchronous invocation's record on an event bus, as Lambda does: source
    ``lambda``, detail-type ``Lambda Function Invocation Result - Success`` (or
    ``- Failure``), the record as the detail, the function's and the bus's ARNs as the
    resources."""
    context = body.get("requestContext") or {}
    outcome = "Success" if context.get("condition") == "Success" else "Failure"
    # the function's unqualified ARN: arn:aws:lambda:REGION:ACCOUNT:function:NAME
    function_arn = ":".join(str(context.get("functionArn", "")).split(":")[:7])
    events: Any = env.service("events")
    delivered: bool = events.put_event(
        str(arn),
        source="lambda",
        detail_type=f"Lambda Function Invocation Result - {outcome}",
        detail=body,
        resources=[function_arn, str(arn)],
    )
    return delivered


_SENDERS = {"sqs": send_to_sqs, "sns": send_to_sns, "s3": send_to_s3, "events": send_to_events}
_MESSAGE_SENDERS = {"sqs": _send, "sns": _publish}
