"""Topic and subscription attributes: names SNS accepts, defaults it shows, checks it makes."""

from __future__ import annotations

import re
from typing import Any

import orjson

from headwater.core.arn import Arn
from headwater.services.sns.errors import invalid_parameter
from headwater.services.sns.filter_policy import FilterPolicy, compile_filter_policy

_FEEDBACK = [
    f"{kind}{what}"
    for kind in ("Application", "HTTP", "Lambda", "SQS", "Firehose")
    for what in ("SuccessFeedbackRoleArn", "SuccessFeedbackSampleRate", "FailureFeedbackRoleArn")
]
#: Attributes SetTopicAttributes / CreateTopic accept (FifoTopic only at create).
TOPIC_SETTABLE = frozenset(
    {
        "DeliveryPolicy",
        "DisplayName",
        "Policy",
        "TracingConfig",
        "KmsMasterKeyId",
        "SignatureVersion",
        "ContentBasedDeduplication",
        "ArchivePolicy",
        "FifoThroughputScope",
        "DataProtectionPolicy",
        *_FEEDBACK,
    }
)
SUBSCRIPTION_SETTABLE = frozenset(
    {
        "DeliveryPolicy",
        "FilterPolicy",
        "FilterPolicyScope",
        "RawMessageDelivery",
        "RedrivePolicy",
        "SubscriptionRoleArn",
        "ReplayPolicy",
    }
)
_HTTP_RETRY_DEFAULTS = {
    "minDelayTarget": 20,
    "maxDelayTarget": 20,
    "numRetries": 3,
    "numMaxDelayRetries": 0,
    "numNoDelayRetries": 0,
    "numMinDelayRetries": 0,
    "backoffFunction": "linear",
}
TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")


def check_topic_name(name: str, fifo: bool) -> None:
    base = name[: -len(".fifo")] if fifo and name.endswith(".fifo") else name
    if fifo and not name.endswith(".fifo"):
        raise invalid_parameter("Topic Name")
    if not TOPIC_NAME.fullmatch(base) or len(name) > 256:
        raise invalid_parameter("Topic Name")


def default_policy(topic_arn: str, account: str) -> str:
    policy = {
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [
            {
                "Sid": "__default_statement_ID",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": [
                    "SNS:GetTopicAttributes",
                    "SNS:SetTopicAttributes",
                    "SNS:AddPermission",
                    "SNS:RemovePermission",
                    "SNS:DeleteTopic",
                    "SNS:Subscribe",
                    "SNS:ListSubscriptionsByTopic",
                    "SNS:Publish",
                ],
                "Resource": topic_arn,
                "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
            }
        ],
    }
    return orjson.dumps(policy).decode()


def effective_delivery_policy(delivery_policy: str | None) -> str:
    """The topic's ``EffectiveDeliveryPolicy``: its DeliveryPolicy over SNS's defaults."""
    given: dict[str, Any] = {}
    if delivery_policy:
        try:
            given = orjson.loads(delivery_policy).get("http", {}) or {}
        except (orjson.JSONDecodeError, AttributeError):
            given = {}
    retry = {**_HTTP_RETRY_DEFAULTS, **(given.get("defaultHealthyRetryPolicy") or {})}
    request = given.get("defaultRequestPolicy") or {
        "headerContentType": "text/plain; charset=UTF-8"
    }
    http = {
        "defaultHealthyRetryPolicy": retry,
        "disableSubscriptionOverrides": bool(given.get("disableSubscriptionOverrides", False)),
        "defaultRequestPolicy": request,
    }
    for key in ("defaultThrottlePolicy",):
        if key in given:
            http[key] = given[key]
    return orjson.dumps({"http": http}).decode()


def check_topic_attribute(name: str, value: str, *, fifo: bool, at_create: bool) -> str:
    """The stored value of one topic attribute; raises SNS's error for a bad one."""
    if name == "FifoTopic" and at_create:
        if value.lower() not in ("true", "false"):
            raise invalid_parameter("Attributes Reason: FifoTopic: Invalid value")
        return value.lower()
    if name not in TOPIC_SETTABLE:
        raise invalid_parameter("AttributeName")
    if name == "ContentBasedDeduplication":
        if not fifo:
            raise invalid_parameter(
                "Attributes Reason: Content-based deduplication can only be set for FIFO topics"
            )
        if value.lower() not in ("true", "false"):
            raise invalid_parameter("ContentBasedDeduplication")
        return value.lower()
    if name == "FifoThroughputScope" and not fifo:
        raise invalid_parameter("Attributes Reason: FifoThroughputScope is only for FIFO topics")
    if name in ("DeliveryPolicy", "Policy", "ArchivePolicy", "DataProtectionPolicy") and value:
        try:
            orjson.loads(value)
        except orjson.JSONDecodeError:
            raise invalid_parameter(f"Attributes Reason: {name}: failed to parse JSON.") from None
    if name == "SignatureVersion" and value not in ("1", "2"):
        raise invalid_parameter("Attributes Reason: SignatureVersion: Invalid value")
    return value


# ---- subscriptions ----


def _boolean(name: str, value: str) -> str:
    if value.lower() not in ("true", "false"):
        raise invalid_parameter(f"{name}: Invalid value [{value}]. Must be true or false.")
    return value.lower()


def check_subscription_attribute(
    name: str,
    value: str,
    *,
    protocol: str,
    scope: str,
    fifo_topic: bool,
    reason_prefix: str = "",
) -> str:
    """Validate one subscription attribute (``reason_prefix`` is "Attributes Reason: " when
    the attribute came with Subscribe); returns the value to store."""
    if name not in SUBSCRIPTION_SETTABLE:
        raise invalid_parameter("AttributeName")
    try:
        if name == "RawMessageDelivery":
            if protocol not in ("sqs", "http", "https", "firehose"):
                raise invalid_parameter(
                    "Delivery protocol [" + protocol + "] does not support raw message delivery."
                )
            return _boolean(name, value)
        if name == "FilterPolicyScope":
            if value not in ("MessageAttributes", "MessageBody"):
                raise invalid_parameter(
                    f"FilterPolicyScope: Invalid value [{value}]. Please use either MessageBody "
                    "or MessageAttributes"
                )
            return value
        if name == "FilterPolicy":
            if value:
                compile_filter_policy(value, scope)
            return value
        if name == "RedrivePolicy":
            return _check_redrive(value, fifo_topic)
        if name == "DeliveryPolicy" and value:
            try:
                orjson.loads(value)
            except orjson.JSONDecodeError:
                raise invalid_parameter("DeliveryPolicy: failed to parse JSON.") from None
        return value
    except Exception as error:
        message = getattr(error, "message", "")
        if reason_prefix and message.startswith("Invalid parameter: ") and name != "AttributeName":
            raise invalid_parameter(reason_prefix + message[len("Invalid parameter: ") :]) from None
        raise


def _check_redrive(value: str, fifo_topic: bool) -> str:
    if not value:
        return value
    try:
        policy = orjson.loads(value)
    except orjson.JSONDecodeError as error:
        raise invalid_parameter(f"RedrivePolicy: failed to parse JSON. {error}") from None
    target = policy.get("deadLetterTargetArn") if isinstance(policy, dict) else None
    arn = Arn.try_parse(str(target or ""))
    if arn is None or arn.service != "sqs":
        raise invalid_parameter("RedrivePolicy: deadLetterTargetArn is an invalid arn")
    if fifo_topic and not arn.resource.endswith(".fifo"):
        raise invalid_parameter(
            "RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic."
        )
    return value


def subscription_filter(attributes: dict[str, str]) -> FilterPolicy | None:
    """The compiled filter policy of a subscription (``None``: every message)."""
    policy = attributes.get("FilterPolicy")
    if not policy:
        return None
    return compile_filter_policy(policy, attributes.get("FilterPolicyScope", "MessageAttributes"))


def dead_letter_arn(attributes: dict[str, str]) -> str | None:
    policy = attributes.get("RedrivePolicy")
    if not policy:
        return None
    try:
        target = orjson.loads(policy).get("deadLetterTargetArn")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return str(target) if target else None
