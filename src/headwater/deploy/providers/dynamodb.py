"""AWS::DynamoDB::Table through the DynamoDB client."""

from __future__ import annotations

from typing import Any

from headwater.core.tag_lists import tag_list
from headwater.deploy.providers.base import (
    ProviderResult,
    ResourceProvider,
    ResourceRequest,
    missing_is_deleted,
    retag,
    tags_dict,
    to_params,
)

MAX_TABLE_NAME = 255


def _stream(properties: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's StreamSpecification (a view type) as the API's."""
    view = (properties.get("StreamSpecification") or {}).get("StreamViewType")
    return {"StreamEnabled": True, "StreamViewType": view} if view else {"StreamEnabled": False}


def _sse(properties: dict[str, Any]) -> dict[str, Any] | None:
    sse = properties.get("SSESpecification")
    if not sse:
        return None
    converted: dict[str, Any] = {"Enabled": str(sse.get("SSEEnabled", False)).lower() == "true"}
    if sse.get("SSEType"):
        converted["SSEType"] = sse["SSEType"]
    if sse.get("KMSMasterKeyId"):
        converted["KMSMasterKeyId"] = sse["KMSMasterKeyId"]
    return converted


class TableProvider(ResourceProvider):
    type_name = "AWS::DynamoDB::Table"
    service = "dynamodb"

    def create(self, request: ResourceRequest) -> ProviderResult:
        properties = request.properties
        dynamodb = request.client("dynamodb")
        name = str(properties.get("TableName") or request.physical_name(MAX_TABLE_NAME))
        values = {
            key: value
            for key, value in properties.items()
            if key not in ("StreamSpecification", "SSESpecification", "Tags", "TableName")
        }
        params = to_params("dynamodb", "CreateTable", values)
        params["TableName"] = name
        params.setdefault("BillingMode", "PROVISIONED")
        stream = _stream(properties)
        if stream["StreamEnabled"]:
            params["StreamSpecification"] = stream
        if (sse := _sse(properties)) is not None:
            params["SSESpecification"] = sse
        tags = tags_dict(properties.get("Tags"))
        if tags:
            params["Tags"] = tag_list(tags)
        dynamodb.create_table(**params)
        self._time_to_live(request, name, None, properties.get("TimeToLiveSpecification"))
        self._point_in_time_recovery(
            request, name, None, properties.get("PointInTimeRecoverySpecification")
        )
        return ProviderResult(name, self._attributes(request, name))

    def _attributes(self, request: ResourceRequest, name: str) -> dict[str, Any]:
        table = request.client("dynamodb").describe_table(TableName=name)["Table"]
        attributes = {"Arn": table["TableArn"]}
        if table.get("LatestStreamArn"):
            attributes["StreamArn"] = table["LatestStreamArn"]
        return attributes

    def _time_to_live(self, request: ResourceRequest, name: str, old: Any, new: Any) -> None:
        if old == new or (not new and not old):
            return
        spec = new or {"AttributeName": (old or {}).get("AttributeName"), "Enabled": False}
        request.client("dynamodb").update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={
                "AttributeName": str(spec["AttributeName"]),
                "Enabled": str(spec.get("Enabled", False)).lower() == "true",
            },
        )

    def _point_in_time_recovery(
        self, request: ResourceRequest, name: str, old: Any, new: Any
    ) -> None:
        """PointInTimeRecoverySpecification is not a CreateTable/UpdateTable member: it is
        set with UpdateContinuousBackups (turned off again when removed from the template)."""
        if old == new or (not new and not old):
            return
        spec = new or {"PointInTimeRecoveryEnabled": False}
        wanted: dict[str, Any] = {
            "PointInTimeRecoveryEnabled": str(spec.get("PointInTimeRecoveryEnabled", False)).lower()
            == "true"
        }
        if wanted["PointInTimeRecoveryEnabled"] and spec.get("RecoveryPeriodInDays") is not None:
            wanted["RecoveryPeriodInDays"] = int(spec["RecoveryPeriodInDays"])
        request.client("dynamodb").update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification=wanted
        )

    def update(self, request: ResourceRequest) -> ProviderResult:
        name = str(request.physical_id)
        old, new = request.previous_properties, request.properties
        dynamodb = request.client("dynamodb")
        changes: dict[str, Any] = {}
        for key in (
            "BillingMode",
            "ProvisionedThroughput",
            "TableClass",
            "DeletionProtectionEnabled",
        ):
            if new.get(key) != old.get(key) and new.get(key) is not None:
                changes[key] = new[key]
        params = to_params("dynamodb", "UpdateTable", changes)
        if _stream(old) != _stream(new):
            if _stream(old)["StreamEnabled"] and _stream(new)["StreamEnabled"]:
                dynamodb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
            params["StreamSpecification"] = _stream(new)
        index_updates = _index_updates(old, new)
        if index_updates:
            params["GlobalSecondaryIndexUpdates"] = index_updates
            params["AttributeDefinitions"] = to_params(
                "dynamodb", "UpdateTable", {"AttributeDefinitions": new["AttributeDefinitions"]}
            )["AttributeDefinitions"]
        if params:
            dynamodb.update_table(TableName=name, **params)
        self._time_to_live(
            request, name, old.get("TimeToLiveSpecification"), new.get("TimeToLiveSpecification")
        )
        self._point_in_time_recovery(
            request,
            name,
            old.get("PointInTimeRecoverySpecification"),
            new.get("PointInTimeRecoverySpecification"),
        )
        old_tags, new_tags = tags_dict(old.get("Tags")), tags_dict(new.get("Tags"))
        if old_tags != new_tags:
            arn = request.previous_attributes.get("Arn") or self._attributes(request, name)["Arn"]
            retag(
                old_tags,
                new_tags,
                untag=lambda keys: dynamodb.untag_resource(ResourceArn=arn, TagKeys=keys),
                tag=lambda tags: dynamodb.tag_resource(ResourceArn=arn, Tags=tag_list(tags)),
            )
        return ProviderResult(name, self._attributes(request, name))

    def delete(self, request: ResourceRequest) -> None:
        with missing_is_deleted():
            request.client("dynamodb").delete_table(TableName=str(request.physical_id))


def _index_updates(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    before = {i["IndexName"]: i for i in old.get("GlobalSecondaryIndexes") or []}
    after = {i["IndexName"]: i for i in new.get("GlobalSecondaryIndexes") or []}
    updates: list[dict[str, Any]] = []
    for name in before.keys() - after.keys():
        updates.append({"Delete": {"IndexName": name}})
    for name in after.keys() - before.keys():
        created = to_params("dynamodb", "CreateTable", {"GlobalSecondaryIndexes": [after[name]]})[
            "GlobalSecondaryIndexes"
        ][0]
        updates.append({"Create": created})
    return updates
