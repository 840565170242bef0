"""AWS::SQS::Queue and AWS::SQS::QueuePolicy through the SQS client."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from headwater.deploy.providers.base import (
    ProviderResult,
    ResourceProvider,
    ResourceRequest,
    retag,
    tags_dict,
)

#: Properties that are queue attributes (everything but the name and tags).
_NOT_ATTRIBUTES = frozenset({"QueueName", "Tags"})
#: JSON-valued attributes CloudFormation takes as objects.
_JSON_ATTRIBUTES = frozenset({"RedrivePolicy", "RedriveAllowPolicy", "Policy"})
#: What a removed property goes back to (SQS's defaults; "" clears a policy).
_DEFAULTS: dict[str, str] = {
    "DelaySeconds": "0",
    "MaximumMessageSize": "1048576",
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
    "KmsDataKeyReusePeriodSeconds": "300",
    "KmsMasterKeyId": "",
    "SqsManagedSseEnabled": "true",
    "RedrivePolicy": "",
    "RedriveAllowPolicy": "",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}
#: SQS's longest queue name.
MAX_QUEUE_NAME = 80


def _attribute_text(name: str, value: Any) -> str:
    if name in _JSON_ATTRIBUTES and isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _attributes(properties: dict[str, Any]) -> dict[str, str]:
    return {
        name: _attribute_text(name, value)
        for name, value in properties.items()
        if name not in _NOT_ATTRIBUTES
        # SQS rejects FifoQueue=false ("Unknown Attribute FifoQueue."); CloudFormation
        # accepts it on a standard queue and leaves it out.
        and not (name == "FifoQueue" and not _is_fifo(properties))
    }


def _is_fifo(properties: dict[str, Any]) -> bool:
    return str(properties.get("FifoQueue", "false")).lower() == "true"


class QueueProvider(ResourceProvider):
    type_name = "AWS::SQS::Queue"
    service = "sqs"

    def create(self, request: ResourceRequest) -> ProviderResult:
        properties = request.properties
        sqs = request.client("sqs")
        name = properties.get("QueueName")
        if name is None:
            fifo = _is_fifo(properties)
            name = request.physical_name(MAX_QUEUE_NAME - (5 if fifo else 0))
            if fifo:
                name += ".fifo"
        params: dict[str, Any] = {"QueueName": name, "Attributes": _attributes(properties)}
        tags = tags_dict(properties.get("Tags"))
        if tags:
            params["tags"] = tags
        url = sqs.create_queue(**params)["QueueUrl"]
        return ProviderResult(url, self._attributes_of(request, url))

    def _attributes_of(self, request: ResourceRequest, url: str) -> dict[str, Any]:
        found = request.client("sqs").get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"]
        )
        arn = found["Attributes"]["QueueArn"]
        return {"Arn": arn, "QueueName": arn.rsplit(":", 1)[1], "QueueUrl": url}

    def update(self, request: ResourceRequest) -> ProviderResult:
        url = str(request.physical_id)
        sqs = request.client("sqs")
        old, new = _attributes(request.previous_properties), _attributes(request.properties)
        changed = {name: value for name, value in new.items() if old.get(name) != value}
        for name in old.keys() - new.keys():
            if name in _DEFAULTS:
                changed[name] = _DEFAULTS[name]
        if changed:
            sqs.set_queue_attributes(QueueUrl=url, Attributes=changed)
        retag(
            request.previous_properties.get("Tags"),
            request.properties.get("Tags"),
            untag=lambda keys: sqs.untag_queue(QueueUrl=url, TagKeys=keys),
            tag=lambda tags: sqs.tag_queue(QueueUrl=url, Tags=tags),
        )
        return ProviderResult(url, self._attributes_of(request, url))

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client("sqs").delete_queue(QueueUrl=str(request.physical_id))
        except ClientError as error:
            if "NonExistentQueue" not in error.response["Error"]["Code"]:
                raise


class QueuePolicyProvider(ResourceProvider):
    """Sets the ``Policy`` attribute of each queue in ``Queues``."""

    type_name = "AWS::SQS::QueuePolicy"
    service = "sqs"

    def create(self, request: ResourceRequest) -> ProviderResult:
        self._apply(request, request.properties)
        return ProviderResult(request.physical_name(), {"Id": request.logical_id})

    def update(self, request: ResourceRequest) -> ProviderResult:
        old_queues = set(request.previous_properties.get("Queues") or [])
        new_queues = set(request.properties.get("Queues") or [])
        self._clear(request, old_queues - new_queues)
        self._apply(request, request.properties)
        return ProviderResult(str(request.physical_id), request.previous_attributes)

    def delete(self, request: ResourceRequest) -> None:
        self._clear(request, set(request.properties.get("Queues") or []))

    def _apply(self, request: ResourceRequest, properties: dict[str, Any]) -> None:
        policy = _attribute_text("Policy", properties.get("PolicyDocument", {}))
        for url in properties.get("Queues") or []:
            request.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})

    def _clear(self, request: ResourceRequest, queues: set[str]) -> None:
        for url in queues:
            try:
                request.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
            except ClientError:
                continue  # the queue is gone already
