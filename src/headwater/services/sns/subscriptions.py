"""Subscription operations: Subscribe, ConfirmSubscription, Unsubscribe, lists, attributes."""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from typing import Any

from headwater.core.arn import Arn
from headwater.core.errors import AwsError
from headwater.core.ids import new_uuid
from headwater.core.values import JAVA_LONG
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.sns.attributes import check_subscription_attribute
from headwater.services.sns.errors import (
    check_arn,
    invalid_parameter,
    subscription_not_found,
    topic_not_found,
)
from headwater.services.sns.topics import TopicOperations
from headwater.store.topics import SubscriptionRecord

PROTOCOLS = frozenset(
    {"http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose"}
)
#: Protocols whose subscriptions wait for the endpoint's owner to confirm.
NEEDS_CONFIRMATION = frozenset({"http", "https", "email", "email-json"})
PENDING = "PendingConfirmation"
MAX_LIST = 100
_SMS = re.compile(r"\+?[0-9]+(?:-[0-9]+)*")
_TOKEN = re.compile(r"[0-9a-f]{64,512}")


def _check_endpoint(protocol: str, endpoint: str, topic_fifo: bool) -> None:
    if protocol not in PROTOCOLS:
        raise invalid_parameter(f"Amazon SNS does not support this protocol string: {protocol}")
    if topic_fifo and protocol not in ("sqs", "lambda", "firehose"):
        raise invalid_parameter(f"Invalid protocol type: {protocol}")
    if protocol == "sqs":
        arn = Arn.try_parse(endpoint)
        if arn is None or arn.service != "sqs" or not arn.resource:
            raise invalid_parameter("SQS endpoint ARN")
        if arn.resource.endswith(".fifo") and not topic_fifo:
            raise invalid_parameter(
                "Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to "
                "standard SNS topics"
            )
    elif protocol == "lambda":
        arn = Arn.try_parse(endpoint)
        if arn is None or arn.service != "lambda":
            raise invalid_parameter("Lambda endpoint ARN")
    elif protocol in ("http", "https"):
        if not endpoint.lower().startswith(f"{protocol}://"):
            raise invalid_parameter("Endpoint must match the specified protocol")
    elif protocol in ("email", "email-json"):
        if "@" not in endpoint:
            raise invalid_parameter("Email address")
    elif protocol == "sms" and (
        not _SMS.fullmatch(endpoint) or sum(ch.isdigit() for ch in endpoint) > 15
    ):
        raise AwsError("InvalidParameter", f"Invalid SMS endpoint: {endpoint}")


def _listed(sub: SubscriptionRecord) -> dict[str, str]:
    return {
        "SubscriptionArn": sub.arn if sub.confirmed else PENDING,
        "Owner": sub.owner,
        "Protocol": sub.protocol,
        "Endpoint": sub.endpoint,
        "TopicArn": sub.topic_arn,
    }


class SubscriptionOperations(TopicOperations):
    """Subscriptions of topics, with HTTP/S's confirmation handshake."""

    def _validated_attributes(
        self, given: dict[str, Any], protocol: str, fifo: bool, prefix: str
    ) -> dict[str, str]:
        attributes = {k: str(v) for k, v in given.items()}
        scope = attributes.get("FilterPolicyScope", "MessageAttributes")
        for name, value in attributes.items():
            attributes[name] = check_subscription_attribute(
                name, value, protocol=protocol, scope=scope, fifo_topic=fifo, reason_prefix=prefix
            )
        if attributes.get("FilterPolicy") and "FilterPolicyScope" not in attributes:
            attributes["FilterPolicyScope"] = "MessageAttributes"
        return attributes

    @operation("Subscribe")
    def subscribe(self, params: Params, ctx: RequestContext) -> Result:
        topic_arn = self._topic_arn(params, ctx)
        protocol = str(params.get("Protocol") or "")
        endpoint = str(params.get("Endpoint") or "")
        with self.store.db.transaction():
            topic = self._require_topic(topic_arn)
            _check_endpoint(protocol, endpoint, topic.fifo)
            attributes = self._validated_attributes(
                params.get("Attributes") or {}, protocol, topic.fifo, "Attributes Reason: "
            )
            for existing in self.store.subscriptions_of(topic_arn):
                if existing.protocol == protocol and existing.endpoint == endpoint:
                    if any(existing.attributes.get(k) != v for k, v in attributes.items()):
                        raise invalid_parameter(
                            "Attributes Reason: Subscription already exists with different "
                            "attributes"
                        )
                    return {"SubscriptionArn": self._shown_arn(existing, params)}
            confirmed = protocol not in NEEDS_CONFIRMATION
            sub = self.store.add_subscription(
                SubscriptionRecord(
                    arn=f"{topic_arn}:{new_uuid()}",
                    topic_arn=topic_arn,
                    protocol=protocol,
                    endpoint=endpoint,
                    owner=ctx.account,
                    attributes=attributes,
                    confirmed=confirmed,
                    token=None if confirmed else secrets.token_hex(64),
                    created=self.env.clock.now(),
                )
            )
            if protocol in ("http", "https"):
                assert sub.token is not None
                self.deliverer.enqueue_confirmation(sub, sub.token)
            self._changed()
        if protocol in ("http", "https"):
            self.deliverer.kick()
        return {"SubscriptionArn": self._shown_arn(sub, params)}

    @staticmethod
    def _shown_arn(sub: SubscriptionRecord, params: Params) -> str:
        if sub.confirmed or params.get("ReturnSubscriptionArn"):
            return sub.arn
        return "pending confirmation"

    @operation("ConfirmSubscription")
    def confirm_subscription(self, params: Params, ctx: RequestContext) -> Result:
        if ctx.access_key is None:  # the SubscribeURL link, unsigned: the topic's region
            topic_arn = str(check_arn(params.get("TopicArn"), "TopicArn"))
        else:
            topic_arn = self._topic_arn(params, ctx)
        token = str(params.get("Token") or "")
        with self.store.db.transaction():
            if self.store.get_topic(topic_arn) is None:
                raise topic_not_found()
            if not _TOKEN.fullmatch(token):
                raise AwsError("InvalidParameter", "Invalid token")
            sub = self.store.subscription_by_token(token)
            if sub is None or sub.topic_arn != topic_arn:
                raise invalid_parameter("Token")
            if not sub.confirmed:
                sub = replace(sub, confirmed=True)
                self.store.update_subscription(sub)
                self._changed()
        return {"SubscriptionArn": sub.arn}

    def _subscription_arn(self, params: Params) -> str:
        value = params.get("SubscriptionArn")
        if not value:
            raise invalid_parameter("SubscriptionArn Reason: no value for required parameter")
        arn = check_arn(value, "SubscriptionArn")
        if ":" not in arn.resource:
            raise invalid_parameter("SubscriptionId")
        return str(arn)

    @operation("Unsubscribe")
    def unsubscribe(self, params: Params, ctx: RequestContext) -> Result:
        arn = self._subscription_arn(params)
        with self.store.db.transaction():
            if self.store.delete_subscription(arn):
                self._changed()
        return {}

    @operation("ListSubscriptions")
    def list_subscriptions(self, params: Params, ctx: RequestContext) -> Result:
        after = _token_seq(params.get("NextToken"))
        with self.store.db.transaction():
            subs = self.store.list_subscriptions(ctx.account, ctx.region, after, MAX_LIST + 1)
        return _page(subs)

    @operation("ListSubscriptionsByTopic")
    def list_subscriptions_by_topic(self, params: Params, ctx: RequestContext) -> Result:
        topic_arn = self._topic_arn(params, ctx)
        after = _token_seq(params.get("NextToken"))
        with self.store.db.transaction():
            self._require_topic(topic_arn)
            subs = [s for s in self.store.subscriptions_of(topic_arn) if s.seq > after]
        return _page(subs[: MAX_LIST + 1])

    def _require_subscription(self, params: Params) -> SubscriptionRecord:
        arn = self._subscription_arn(params)
        sub = self.store.get_subscription(arn)
        if sub is None:
            raise subscription_not_found()
        return sub

    @operation("GetSubscriptionAttributes")
    def get_subscription_attributes(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.db.transaction():
            sub = self._require_subscription(params)
        attributes = {
            "ConfirmationWasAuthenticated": "true" if sub.confirmed else "false",
            "Endpoint": sub.endpoint,
            "Owner": sub.owner,
            "PendingConfirmation": "false" if sub.confirmed else "true",
            "Protocol": sub.protocol,
            "RawMessageDelivery": "false",
            "SubscriptionArn": sub.arn,
            "SubscriptionPrincipal": f"arn:aws:iam::{sub.owner}:user/headwater",
            "TopicArn": sub.topic_arn,
        }
        attributes.update(sub.attributes)
        if sub.protocol in ("http", "https"):
            from headwater.services.sns.attributes import effective_delivery_policy

            attributes["EffectiveDeliveryPolicy"] = effective_delivery_policy(
                sub.attributes.get("DeliveryPolicy")
            )
        return {"Attributes": dict(sorted(attributes.items()))}

    @operation("SetSubscriptionAttributes")
    def set_subscription_attributes(self, params: Params, ctx: RequestContext) -> Result:
        name = str(params.get("AttributeName") or "")
        value = str(params.get("AttributeValue") or "")
        with self.store.db.transaction():
            sub = self._require_subscription(params)
            topic = self.store.get_topic(sub.topic_arn)
            scope = sub.attributes.get("FilterPolicyScope", "MessageAttributes")
            if name == "FilterPolicy":
                scope = sub.attributes.get("FilterPolicyScope", "MessageAttributes")
            elif name == "FilterPolicyScope":
                scope = value
            stored = check_subscription_attribute(
                name,
                value,
                protocol=sub.protocol,
                scope=scope,
                fifo_topic=bool(topic and topic.fifo),
            )
            attributes = dict(sub.attributes)
            if name == "FilterPolicyScope" and attributes.get("FilterPolicy"):
                check_subscription_attribute(
                    "FilterPolicy",
                    attributes["FilterPolicy"],
                    protocol=sub.protocol,
                    scope=stored,
                    fifo_topic=bool(topic and topic.fifo),
                )
            if stored == "" and name != "RawMessageDelivery":
                attributes.pop(name, None)
                if name == "FilterPolicy":
                    attributes.pop("FilterPolicyScope", None)
            else:
                attributes[name] = stored
                if name == "FilterPolicy":
                    attributes.setdefault("FilterPolicyScope", "MessageAttributes")
            self.store.update_subscription(sub.with_attributes(attributes))
            self._changed()
        return {}


def _token_seq(token: Any) -> int:
    if not token:
        return 0
    try:
        seq = int(str(token))
    except ValueError:
        raise invalid_parameter("NextToken") from None
    # Tokens are the sequence numbers SQLite stores; a number past 64 bits overflowed its
    # query parameter (OverflowError).
    if not 0 <= seq <= JAVA_LONG[-1]:
        raise invalid_parameter("NextToken")
    return seq


def _page(subs: list[SubscriptionRecord]) -> Result:
    result: Result = {"Subscriptions": [_listed(s) for s in subs[:MAX_LIST]]}
    if len(subs) > MAX_LIST:
        result["NextToken"] = str(subs[MAX_LIST - 1].seq)
    return result
