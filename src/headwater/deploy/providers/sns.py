"""AWS::SNS::Topic, AWS::SNS::Subscription and AWS::SNS::TopicPolicy through the SNS client."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from headwater.core.tag_lists import tag_list
from headwater.deploy.providers.base import (
    ProviderResult,
    ResourceProvider,
    ResourceRequest,
    retag,
    tags_dict,
)

MAX_TOPIC_NAME = 256
#: Topic properties that are topic attributes, and how CloudFormation names them.
_TOPIC_ATTRIBUTES = {
    "DisplayName": "DisplayName",
    "KmsMasterKeyId": "KmsMasterKeyId",
    "ContentBasedDeduplication": "ContentBasedDeduplication",
    "FifoTopic": "FifoTopic",
    "SignatureVersion": "SignatureVersion",
    "TracingConfig": "TracingConfig",
    "ArchivePolicy": "ArchivePolicy",
    "DataProtectionPolicy": "DataProtectionPolicy",
    "FifoThroughputScope": "FifoThroughputScope",
}
#: Subscription properties that are subscription attributes.
_SUBSCRIPTION_ATTRIBUTES = (
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "SubscriptionRoleArn",
    "ReplayPolicy",
)


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _is_fifo(properties: dict[str, Any]) -> bool:
    return _text(properties.get("FifoTopic", "false")).lower() == "true"


class TopicProvider(ResourceProvider):
    type_name = "AWS::SNS::Topic"
    service = "sns"

    def create(self, request: ResourceRequest) -> ProviderResult:
        properties = request.properties
        sns = request.client("sns")
        name = properties.get("TopicName")
        if name is None:
            fifo = _is_fifo(properties)
            name = request.physical_name(MAX_TOPIC_NAME - (5 if fifo else 0))
            if fifo:
                name += ".fifo"
        attributes = {
            api: _text(properties[prop])
            for prop, api in _TOPIC_ATTRIBUTES.items()
            if prop in properties
        }
        params: dict[str, Any] = {"Name": str(name), "Attributes": attributes}
        tags = tags_dict(properties.get("Tags"))
        if tags:
            params["Tags"] = tag_list(tags)
        arn = sns.create_topic(**params)["TopicArn"]
        for subscription in properties.get("Subscription") or []:
            sns.subscribe(
                TopicArn=arn,
                Protocol=str(subscription["Protocol"]),
                Endpoint=str(subscription["Endpoint"]),
            )
        return ProviderResult(arn, {"TopicArn": arn, "TopicName": arn.rsplit(":", 1)[1]})

    def update(self, request: ResourceRequest) -> ProviderResult:
        arn = str(request.physical_id)
        sns = request.client("sns")
        old, new = request.previous_properties, request.properties
        for prop, api in _TOPIC_ATTRIBUTES.items():
            if prop in ("FifoTopic",) or old.get(prop) == new.get(prop):
                continue
            sns.set_topic_attributes(
                TopicArn=arn, AttributeName=api, AttributeValue=_text(new.get(prop, ""))
            )
        retag(
            old.get("Tags"),
            new.get("Tags"),
            untag=lambda keys: sns.untag_resource(ResourceArn=arn, TagKeys=keys),
            tag=lambda tags: sns.tag_resource(ResourceArn=arn, Tags=tag_list(tags)),
        )
        return ProviderResult(arn, request.previous_attributes)

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client("sns").delete_topic(TopicArn=str(request.physical_id))
        except ClientError as error:
            if error.response["Error"]["Code"] != "NotFound":
                raise


class SubscriptionProvider(ResourceProvider):
    type_name = "AWS::SNS::Subscription"
    service = "sns"

    def create(self, request: ResourceRequest) -> ProviderResult:
        properties = request.properties
        attributes = {
            key: _text(properties[key]) for key in _SUBSCRIPTION_ATTRIBUTES if key in properties
        }
        params: dict[str, Any] = {
            "TopicArn": str(properties["TopicArn"]),
            "Protocol": str(properties["Protocol"]),
            "Endpoint": str(properties.get("Endpoint", "")),
            "ReturnSubscriptionArn": True,
        }
        if attributes:
            params["Attributes"] = attributes
        arn = request.client("sns").subscribe(**params)["SubscriptionArn"]
        return ProviderResult(arn, {"Arn": arn})

    def update(self, request: ResourceRequest) -> ProviderResult:
        arn = str(request.physical_id)
        old, new = request.previous_properties, request.properties
        for key in _SUBSCRIPTION_ATTRIBUTES:
            if old.get(key) != new.get(key):
                request.client("sns").set_subscription_attributes(
                    SubscriptionArn=arn,
                    AttributeName=key,
                    AttributeValue=_text(new.get(key, "")),
                )
        return ProviderResult(arn, {"Arn": arn})

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client("sns").unsubscribe(SubscriptionArn=str(request.physical_id))
        except ClientError as error:
            if error.response["Error"]["Code"] != "NotFound":
                raise


class TopicPolicyProvider(ResourceProvider):
    """Sets the ``Policy`` attribute of each topic in ``Topics``."""

    type_name = "AWS::SNS::TopicPolicy"
    service = "sns"

    def create(self, request: ResourceRequest) -> ProviderResult:
        self._apply(request, request.properties.get("Topics") or [])
        physical_id = request.physical_name(128)
        return ProviderResult(physical_id, {"Id": physical_id})

    def update(self, request: ResourceRequest) -> ProviderResult:
        removed = set(request.previous_properties.get("Topics") or []) - set(
            request.properties.get("Topics") or []
        )
        self._reset(request, removed)
        self._apply(request, request.properties.get("Topics") or [])
        return ProviderResult(str(request.physical_id), request.previous_attributes)

    def delete(self, request: ResourceRequest) -> None:
        self._reset(request, set(request.properties.get("Topics") or []))

    def _apply(self, request: ResourceRequest, topics: list[str]) -> None:
        policy = _text(request.properties.get("PolicyDocument", {}))
        for arn in topics:
            request.client("sns").set_topic_attributes(
                TopicArn=arn, AttributeName="Policy", AttributeValue=policy
            )

    def _reset(self, request: ResourceRequest, topics: set[str]) -> None:
        """Remove the policy: SNS gives a topic without one its default policy back."""
        for arn in topics:
            try:
                request.client("sns").set_topic_attributes(
                    TopicArn=arn, AttributeName="Policy", AttributeValue=""
                )
            except ClientError:
                continue  # the topic is gone already
