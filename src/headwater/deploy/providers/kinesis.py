"""AWS::Kinesis::Stream through the Kinesis client."""

from __future__ import annotations

from typing import Any

from headwater.deploy.providers.base import (
    ProviderResult,
    ResourceProvider,
    ResourceRequest,
    missing_is_deleted,
    retag,
    tags_dict,
)

#: Kinesis's longest stream name.
MAX_STREAM_NAME = 128
DEFAULT_RETENTION_HOURS = 24


def _on_demand(properties: dict[str, Any]) -> bool:
    mode = properties.get("StreamModeDetails") or {}
    return str(mode.get("StreamMode", "PROVISIONED")) == "ON_DEMAND"


class StreamProvider(ResourceProvider):
    type_name = "AWS::Kinesis::Stream"
    service = "kinesis"

    def create(self, request: ResourceRequest) -> ProviderResult:
        properties = request.properties
        kinesis = request.client("kinesis")
        name = str(properties.get("Name") or request.physical_name(MAX_STREAM_NAME))
        params: dict[str, Any] = {"StreamName": name}
        if _on_demand(properties):
            params["StreamModeDetails"] = {"StreamMode": "ON_DEMAND"}
        else:
            params["ShardCount"] = int(properties.get("ShardCount", 1))
        tags = tags_dict(properties.get("Tags"))
        if tags:
            params["Tags"] = tags
        kinesis.create_stream(**params)
        retention = int(properties.get("RetentionPeriodHours", DEFAULT_RETENTION_HOURS))
        if retention > DEFAULT_RETENTION_HOURS:
            kinesis.increase_stream_retention_period(
                StreamName=name, RetentionPeriodHours=retention
            )
        return ProviderResult(name, self._attributes(request, name))

    def _attributes(self, request: ResourceRequest, name: str) -> dict[str, Any]:
        summary = request.client("kinesis").describe_stream_summary(StreamName=name)
        return {"Arn": summary["StreamDescriptionSummary"]["StreamARN"]}

    def update(self, request: ResourceRequest) -> ProviderResult:
        name = str(request.physical_id)
        old, new = request.previous_properties, request.properties
        kinesis = request.client("kinesis")
        if _on_demand(old) != _on_demand(new):
            arn = request.previous_attributes.get("Arn") or self._attributes(request, name)["Arn"]
            mode = "ON_DEMAND" if _on_demand(new) else "PROVISIONED"
            kinesis.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": mode})
        if not _on_demand(new) and int(new.get("ShardCount", 1)) != int(old.get("ShardCount", 1)):
            kinesis.update_shard_count(
                StreamName=name,
                TargetShardCount=int(new.get("ShardCount", 1)),
                ScalingType="UNIFORM_SCALING",
            )
        old_hours = int(old.get("RetentionPeriodHours", DEFAULT_RETENTION_HOURS))
        new_hours = int(new.get("RetentionPeriodHours", DEFAULT_RETENTION_HOURS))
        if new_hours > old_hours:
            kinesis.increase_stream_retention_period(
                StreamName=name, RetentionPeriodHours=new_hours
            )
        elif new_hours < old_hours:
            kinesis.decrease_stream_retention_period(
                StreamName=name, RetentionPeriodHours=new_hours
            )
        retag(
            old.get("Tags"),
            new.get("Tags"),
            untag=lambda keys: kinesis.remove_tags_from_stream(StreamName=name, TagKeys=keys),
            tag=lambda tags: kinesis.add_tags_to_stream(StreamName=name, Tags=tags),
        )
        return ProviderResult(name, self._attributes(request, name))

    def delete(self, request: ResourceRequest) -> None:
        with missing_is_deleted():
            request.client("kinesis").delete_stream(
                StreamName=str(request.physical_id), EnforceConsumerDeletion=True
            )
