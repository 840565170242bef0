"""Queue attributes: validation and normalization of settable ones, and typed settings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from headwater.core.arn import Arn
from headwater.services.sqs.errors import (
    invalid_attribute_value,
    invalid_parameter,
    invalid_value,
    sqs_error,
    unknown_attribute,
)

#: Settable integer attributes: (minimum, maximum, default).
INTEGER_ATTRIBUTES: dict[str, tuple[int, int, int]] = {
    "DelaySeconds": (0, 900, 0),
    "MaximumMessageSize": (1024, 1_048_576, 1_048_576),
    "MessageRetentionPeriod": (60, 1_209_600, 345_600),
    "ReceiveMessageWaitTimeSeconds": (0, 20, 0),
    "VisibilityTimeout": (0, 43_200, 30),
    "KmsDataKeyReusePeriodSeconds": (60, 86_400, 300),
}
STANDARD_SETTABLE = frozenset(
    {
        *INTEGER_ATTRIBUTES,
        "Policy",
        "RedrivePolicy",
        "RedriveAllowPolicy",
        "KmsMasterKeyId",
        "SqsManagedSseEnabled",
    }
)
FIFO_SETTABLE = STANDARD_SETTABLE | {
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
}
COMPUTED = (
    "QueueArn",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
)
#: Every name GetQueueAttributes knows.
ALL_NAMES = frozenset({*FIFO_SETTABLE, *COMPUTED, "FifoQueue", "All"})
_BOOLEANS = ("true", "false")
#: FIFO-only attributes AWS rejects on a standard queue with their own text.
_FIFO_ONLY_SCOPES = ("DeduplicationScope", "FifoThroughputLimit")
MAX_REDRIVE_SOURCES = 10


@dataclass(frozen=True, slots=True)
class RedrivePolicy:
    dead_letter_target_arn: str
    max_receive_count: int


@dataclass(frozen=True, slots=True)
class QueueSettings:
    """A queue's effective attributes, typed (parsed once per queue version)."""

    fifo: bool
    delay_seconds: int
    maximum_message_size: int
    retention_seconds: int
    wait_seconds: int
    visibility_timeout: int
    redrive: RedrivePolicy | None
    content_based_dedup: bool
    dedup_per_group: bool
    redrive_allow: dict[str, Any] | None


def settings_of(attributes: Mapping[str, str], fifo: bool) -> QueueSettings:
    """Typed settings from stored (already validated) attributes."""

    def integer(name: str) -> int:
        raw = attributes.get(name)
        return INTEGER_ATTRIBUTES[name][2] if raw is None else int(raw)

    redrive = None
    if attributes.get("RedrivePolicy"):
        policy = json.loads(attributes["RedrivePolicy"])
        redrive = RedrivePolicy(policy["deadLetterTargetArn"], int(policy["maxReceiveCount"]))
    allow = None
    if attributes.get("RedriveAllowPolicy"):
        allow = json.loads(attributes["RedriveAllowPolicy"])
    return QueueSettings(
        fifo=fifo,
        delay_seconds=integer("DelaySeconds"),
        maximum_message_size=integer("MaximumMessageSize"),
        retention_seconds=integer("MessageRetentionPeriod"),
        wait_seconds=integer("ReceiveMessageWaitTimeSeconds"),
        visibility_timeout=integer("VisibilityTimeout"),
        redrive=redrive,
        content_based_dedup=attributes.get("ContentBasedDeduplication") == "true",
        dedup_per_group=attributes.get("DeduplicationScope") == "messageGroup",
        redrive_allow=allow,
    )


def normalize_attributes(attributes: Mapping[str, Any], fifo: bool) -> dict[str, str]:
    """Validate settable attributes; returns them normalized as SQS stores/echoes them.

    Raises the AWS error for the first bad name or value. ``FifoQueue`` is handled by
    the caller (create only).
    """
    allowed = FIFO_SETTABLE if fifo else STANDARD_SETTABLE
    normalized: dict[str, str] = {}
    for name, raw in attributes.items():
        if name not in allowed:
            if name in _FIFO_ONLY_SCOPES:
                raise sqs_error(
                    "InvalidAttributeName",
                    f"You can specify the {name} only when FifoQueue is set to true.",
                )
            raise unknown_attribute(name)
        value = str(raw)
        if name in INTEGER_ATTRIBUTES:
            low, high, _ = INTEGER_ATTRIBUTES[name]
            try:
                number = int(value)
            except ValueError:
                raise invalid_attribute_value(name) from None
            if not low <= number <= high:
                raise invalid_attribute_value(name)
            normalized[name] = str(number)
        elif name in ("ContentBasedDeduplication", "SqsManagedSseEnabled"):
            if value.lower() not in _BOOLEANS:
                raise invalid_attribute_value(name)
            normalized[name] = value.lower()
        elif name == "DeduplicationScope":
            if value not in ("messageGroup", "queue"):
                raise invalid_attribute_value(name)
            normalized[name] = value
        elif name == "FifoThroughputLimit":
            if value not in ("perQueue", "perMessageGroupId"):
                raise invalid_attribute_value(name)
            normalized[name] = value
        elif name == "RedrivePolicy":
            normalized[name] = _normalize_redrive_policy(value) if value else ""
        elif name == "RedriveAllowPolicy":
            normalized[name] = _normalize_redrive_allow_policy(value) if value else ""
        elif name == "Policy":
            if value:
                try:
                    json.loads(value)
                except ValueError:
                    raise invalid_attribute_value(name) from None
            normalized[name] = value
        else:
            normalized[name] = value
    if normalized.get("KmsMasterKeyId") and normalized.get("SqsManagedSseEnabled") == "true":
        raise sqs_error(
            "InvalidAttributeName",
            "You can use one type of server-side encryption (SSE) at one time. You can either "
            "enable KMS SSE or SQS SSE.",
        )
    if (
        normalized.get("FifoThroughputLimit") == "perMessageGroupId"
        and normalized.get("DeduplicationScope") == "queue"
    ):
        raise invalid_parameter(
            "The perMessageGroupId value is allowed only when the value for "
            "DeduplicationScope is messageGroup"
        )
    return normalized


def _json_map(value: str, attribute: str, not_a_map: str) -> dict[str, Any]:
    """A policy attribute's JSON object; ``not_a_map`` is SQS's message when it is not one."""
    try:
        policy = json.loads(value)
    except ValueError:
        raise invalid_value(value, attribute, not_a_map) from None
    if not isinstance(policy, dict):
        raise invalid_value(value, attribute, not_a_map)
    return policy


def _normalize_redrive_policy(value: str) -> str:
    policy = _json_map(value, "RedrivePolicy", "Redrive policy is not a valid JSON map.")
    unknown = set(policy) - {"deadLetterTargetArn", "maxReceiveCount"}
    if unknown:
        raise invalid_value(
            value,
            "RedrivePolicy",
            "Only following attributes are supported: [deadLetterTargetArn, maxReceiveCount]",
        )
    target = policy.get("deadLetterTargetArn")
    count = policy.get("maxReceiveCount")
    if not target:
        raise invalid_value(
            value,
            "RedrivePolicy",
            "Redrive policy does not contain mandatory attribute: deadLetterTargetArn.",
        )
    if count is None:
        raise invalid_value(
            value,
            "RedrivePolicy",
            "Redrive policy does not contain mandatory attribute: maxReceiveCount.",
        )
    try:
        number = int(count)
    except (TypeError, ValueError):
        number = 0
    if isinstance(count, bool) or not 1 <= number <= 1000:
        raise invalid_value(
            value,
            "RedrivePolicy",
            f"Invalid value for maxReceiveCount: {count}, valid values are from 1 to 1000 "
            "both inclusive.",
        )
    arn = Arn.try_parse(str(target))
    if arn is None or arn.service != "sqs":
        raise invalid_value(value, "RedrivePolicy", "Invalid value for deadLetterTargetArn.")
    return json.dumps(
        {"deadLetterTargetArn": str(target), "maxReceiveCount": number}, separators=(",", ":")
    )


def _normalize_redrive_allow_policy(value: str) -> str:
    policy = _json_map(value, "RedriveAllowPolicy", "Redrive allow policy is not a valid JSON map.")
    permission = policy.get("redrivePermission")
    if permission not in ("allowAll", "denyAll", "byQueue"):
        raise invalid_value(
            value,
            "RedriveAllowPolicy",
            "Invalid value for redrivePermission. Valid values are: allowAll, denyAll, byQueue.",
        )
    sources = policy.get("sourceQueueArns")
    if permission == "byQueue":
        if not isinstance(sources, list) or not sources:
            raise invalid_value(
                value,
                "RedriveAllowPolicy",
                "sourceQueueArns must be specified when redrivePermission is byQueue.",
            )
        if len(sources) > MAX_REDRIVE_SOURCES:
            raise invalid_value(
                value,
                "RedriveAllowPolicy",
                f"Number of source queues exceeds the maximum of {MAX_REDRIVE_SOURCES}.",
            )
    elif sources:
        raise invalid_value(
            value,
            "RedriveAllowPolicy",
            "sourceQueueArns can only be specified when redrivePermission is byQueue.",
        )
    normalized: dict[str, Any] = {"redrivePermission": permission}
    if sources:
        normalized["sourceQueueArns"] = [str(s) for s in sources]
    return json.dumps(normalized, separators=(",", ":"))


def allows_source(allow: dict[str, Any] | None, source_arn: str) -> bool:
    """Whether a RedriveAllowPolicy lets ``source_arn`` use the queue as its DLQ."""
    if allow is None:
        return True
    permission = allow.get("redrivePermission")
    if permission == "denyAll":
        return False
    if permission == "byQueue":
        return source_arn in allow.get("sourceQueueArns", [])
    return True


def effective_attributes(attributes: Mapping[str, str], fifo: bool) -> dict[str, str]:
    """Stored attributes plus AWS's defaults, as GetQueueAttributes shows them."""
    shown: dict[str, str] = {
        name: str(default)
        for name, (_, _, default) in INTEGER_ATTRIBUTES.items()
        if name != "KmsDataKeyReusePeriodSeconds"
    }
    shown["SqsManagedSseEnabled"] = "true"
    if fifo:
        shown.update(
            FifoQueue="true",
            ContentBasedDeduplication="false",
            DeduplicationScope="queue",
            FifoThroughputLimit="perQueue",
        )
    for name, value in attributes.items():
        if value == "":
            shown.pop(name, None)
        else:
            shown[name] = value
    if "KmsMasterKeyId" in attributes:
        shown["SqsManagedSseEnabled"] = "false"
        shown.setdefault("KmsDataKeyReusePeriodSeconds", "300")
    return shown
