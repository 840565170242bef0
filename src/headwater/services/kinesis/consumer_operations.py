"""Stream consumers (RegisterStreamConsumer & co.) and resource policies of Kinesis.

Consumers are registrations only: they are ACTIVE as soon as RegisterStreamConsumer
returns (AWS takes seconds), and SubscribeToShard (enhanced fan-out over HTTP/2 event
streams) is not implemented, so GetRecords remains the way to read.
"""

from __future__ import annotations

import json
from typing import Any

from headwater.core.arn import Arn
from headwater.core.errors import AwsError, validation_error
from headwater.core.values import as_datetime
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.kinesis.core import KinesisCore, StreamRef
from headwater.services.kinesis.validation import check_string, stream_name_from_arn
from headwater.store.streams.extras import ConsumerRow

MAX_CONSUMER_NAME = 128
MAX_POLICY_BYTES = 20_480


class ConsumerOperations:
    """Register/Describe/List/DeregisterStreamConsumer, Put/Get/DeleteResourcePolicy."""

    def __init__(self, core: KinesisCore) -> None:
        self.core = core

    def _stream_of(self, arn_value: Any) -> StreamRef:
        region, account, name = stream_name_from_arn(arn_value)
        ref = StreamRef(region, account, name)
        self.core.require_stream(ref)
        return ref

    def _consumer(self, params: Params) -> ConsumerRow:
        consumer_arn = params.get("ConsumerARN")
        if consumer_arn is not None:
            found = self.core.extras.consumer_by_arn(check_string(consumer_arn, "consumerARN"))
            if found is None:
                raise AwsError("ResourceNotFoundException", f"Consumer {consumer_arn} not found.")
            return found
        name = params.get("ConsumerName")
        if name is None or params.get("StreamARN") is None:
            raise AwsError(
                "InvalidArgumentException",
                "Either ConsumerARN or both ConsumerName and StreamARN must be provided.",
            )
        ref = self._stream_of(params["StreamARN"])
        for consumer in self.core.extras.consumers(ref.arn):
            if consumer.name == name:
                return consumer
        raise AwsError(
            "ResourceNotFoundException",
            f"Consumer {name} under stream {ref.name} not found for account {ref.account}.",
        )

    @operation("RegisterStreamConsumer")
    def register_stream_consumer(self, params: Params, ctx: RequestContext) -> Result:
        name = check_string(
            params.get("ConsumerName"), "consumerName", min_len=1, max_len=MAX_CONSUMER_NAME
        )
        with self.core.db.transaction():
            ref = self._stream_of(params.get("StreamARN"))
            if any(c.name == name for c in self.core.extras.consumers(ref.arn)):
                raise AwsError(
                    "ResourceInUseException",
                    f"Consumer {name} under stream {ref.name} already exists for account "
                    f"{ref.account}.",
                )
            now = float(int(self.core.env.clock.now()))
            consumer = ConsumerRow(ref.arn, name, f"{ref.arn}/consumer/{name}:{int(now)}", now)
            self.core.extras.add_consumer(consumer)
        return {"Consumer": {**_consumer_shape(consumer), "ConsumerStatus": "CREATING"}}

    @operation("DeregisterStreamConsumer")
    def deregister_stream_consumer(self, params: Params, ctx: RequestContext) -> Result:
        with self.core.db.transaction():
            self.core.extras.delete_consumer(self._consumer(params))
        return {}

    @operation("DescribeStreamConsumer")
    def describe_stream_consumer(self, params: Params, ctx: RequestContext) -> Result:
        with self.core.db.transaction():
            consumer = self._consumer(params)
        return {
            "ConsumerDescription": {**_consumer_shape(consumer), "StreamARN": consumer.stream_arn}
        }

    @operation("ListStreamConsumers")
    def list_stream_consumers(self, params: Params, ctx: RequestContext) -> Result:
        with self.core.db.transaction():
            ref = self._stream_of(params.get("StreamARN"))
            consumers = self.core.extras.consumers(ref.arn)
        return {"Consumers": [_consumer_shape(c) for c in consumers]}

    # -- resource policies --------------------------------------------------------------

    def _policy_resource(self, value: Any) -> str:
        """A stream or consumer ARN that exists."""
        text = check_string(value, "resourceARN", min_len=1, max_len=2048)
        arn = Arn.try_parse(text)
        if arn is None or arn.service != "kinesis" or not arn.resource.startswith("stream/"):
            raise validation_error(
                text,
                "resourceARN",
                "Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:.+",
            )
        if "/consumer/" in arn.resource:
            if self.core.extras.consumer_by_arn(text) is None:
                raise AwsError("ResourceNotFoundException", f"Consumer {text} not found.")
        else:
            self._stream_of(text)
        return text

    @operation("PutResourcePolicy")
    def put_resource_policy(self, params: Params, ctx: RequestContext) -> Result:
        policy = check_string(params.get("Policy"), "policy", min_len=1)
        if len(policy.encode("utf-8")) > MAX_POLICY_BYTES:
            raise AwsError("InvalidArgumentException", "Policy is too large.")
        try:
            parsed = json.loads(policy)
        except ValueError:
            raise AwsError("InvalidArgumentException", "Policy is not valid JSON.") from None
        if not isinstance(parsed, dict):
            raise AwsError("InvalidArgumentException", "Policy is not valid JSON.")
        with self.core.db.transaction():
            self.core.extras.put_policy(self._policy_resource(params.get("ResourceARN")), policy)
        return {}

    @operation("GetResourcePolicy")
    def get_resource_policy(self, params: Params, ctx: RequestContext) -> Result:
        with self.core.db.transaction():
            policy = self.core.extras.policy(self._policy_resource(params.get("ResourceARN")))
        return {"Policy": "{}" if policy is None else policy}

    @operation("DeleteResourcePolicy")
    def delete_resource_policy(self, params: Params, ctx: RequestContext) -> Result:
        with self.core.db.transaction():
            resource = self._policy_resource(params.get("ResourceARN"))
            if not self.core.extras.delete_policy(resource):
                raise AwsError(
                    "ResourceNotFoundException", f"No resource policy found for {resource}."
                )
        return {}


def _consumer_shape(consumer: ConsumerRow) -> dict[str, Any]:
    return {
        "ConsumerName": consumer.name,
        "ConsumerARN": consumer.consumer_arn,
        "ConsumerStatus": "ACTIVE",
        "ConsumerCreationTimestamp": as_datetime(consumer.created_at),
    }
