"""AWS::KMS::Key and AWS::KMS::Alias through the KMS client.

A key's ``Ref`` is its key id, with ``Arn`` and ``KeyId`` attributes; deleting it schedules
its deletion (``PendingWindowInDays``, 30 by default), as CloudFormation does, so it lingers
as PendingDeletion on the headwater clock. An alias's ``Ref`` is its name; a new
``TargetKeyId`` repoints it in place.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from headwater.deploy.providers.base import (
    ProviderResult,
    ResourceProvider,
    ResourceRequest,
    tags_dict,
)


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _gone(error: ClientError) -> bool:
    return bool(
        error.response["Error"]["Code"] in ("NotFoundException", "KMSInvalidStateException")
    )


def _kms_tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"TagKey": key, "TagValue": value} for key, value in tags.items()]


class KeyProvider(ResourceProvider):
    type_name = "AWS::KMS::Key"
    service = "kms"
    operations = (
        "CreateKey",
        "ScheduleKeyDeletion",
        "EnableKey",
        "DisableKey",
        "EnableKeyRotation",
        "DisableKeyRotation",
        "PutKeyPolicy",
        "UpdateKeyDescription",
        "TagResource",
        "UntagResource",
    )

    def create(self, request: ResourceRequest) -> ProviderResult:
        properties = request.properties
        params: dict[str, Any] = {}
        for key in ("Description", "KeySpec", "KeyUsage", "Origin"):
            if properties.get(key) is not None:
                params[key] = str(properties[key])
        if properties.get("KeyPolicy") is not None:
            params["Policy"] = _policy_text(properties["KeyPolicy"])
        if properties.get("MultiRegion") is not None:
            params["MultiRegion"] = _flag(properties["MultiRegion"], False)
        tags = tags_dict(properties.get("Tags"))
        if tags:
            params["Tags"] = _kms_tags(tags)
        kms = request.client("kms")
        key_id = str(kms.create_key(**params)["KeyMetadata"]["KeyId"])
        self._settle(request, key_id, previous={})
        return self._result(request, key_id)

    def update(self, request: ResourceRequest) -> ProviderResult:
        key_id = str(request.physical_id)
        kms = request.client("kms")
        properties, previous = request.properties, request.previous_properties
        if properties.get("Description") != previous.get("Description"):
            kms.update_key_description(
                KeyId=key_id, Description=str(properties.get("Description") or "")
            )
        if properties.get("KeyPolicy") != previous.get("KeyPolicy") and properties.get("KeyPolicy"):
            kms.put_key_policy(
                KeyId=key_id, PolicyName="default", Policy=_policy_text(properties["KeyPolicy"])
            )
        old_tags, new_tags = tags_dict(previous.get("Tags")), tags_dict(properties.get("Tags"))
        removed = [k for k in old_tags if k not in new_tags]
        if removed:
            kms.untag_resource(KeyId=key_id, TagKeys=removed)
        if new_tags and new_tags != old_tags:
            kms.tag_resource(KeyId=key_id, Tags=_kms_tags(new_tags))
        self._settle(request, key_id, previous=previous)
        return self._result(request, key_id)

    @staticmethod
    def _settle(request: ResourceRequest, key_id: str, *, previous: dict[str, Any]) -> None:
        """Bring Enabled and EnableKeyRotation to the template's values."""
        kms = request.client("kms")
        properties = request.properties
        rotation = _flag(properties.get("EnableKeyRotation"), False)
        period = properties.get("RotationPeriodInDays")
        if rotation != _flag(previous.get("EnableKeyRotation"), False) or (
            rotation and period != previous.get("RotationPeriodInDays")
        ):
            if rotation:
                params: dict[str, Any] = {"KeyId": key_id}
                if period is not None:
                    params["RotationPeriodInDays"] = int(period)
                kms.enable_key_rotation(**params)
            elif previous:
                kms.disable_key_rotation(KeyId=key_id)
        enabled = _flag(properties.get("Enabled"), True)
        if enabled != _flag(previous.get("Enabled"), True) or (not previous and not enabled):
            if enabled:
                kms.enable_key(KeyId=key_id)
            else:
                kms.disable_key(KeyId=key_id)

    @staticmethod
    def _result(request: ResourceRequest, key_id: str) -> ProviderResult:
        arn = f"arn:aws:kms:{request.region}:{request.account}:key/{key_id}"
        return ProviderResult(key_id, {"Arn": arn, "KeyId": key_id})

    def delete(self, request: ResourceRequest) -> None:
        days = int(request.properties.get("PendingWindowInDays") or 30)
        try:
            request.client("kms").schedule_key_deletion(
                KeyId=str(request.physical_id), PendingWindowInDays=days
            )
        except ClientError as error:
            if not _gone(error):  # gone already, or its deletion already scheduled
                raise


def _policy_text(policy: Any) -> str:
    return policy if isinstance(policy, str) else json.dumps(policy)


class AliasProvider(ResourceProvider):
    type_name = "AWS::KMS::Alias"
    service = "kms"
    operations = ("CreateAlias", "UpdateAlias", "DeleteAlias")

    def create(self, request: ResourceRequest) -> ProviderResult:
        name = str(request.properties.get("AliasName"))
        request.client("kms").create_alias(
            AliasName=name, TargetKeyId=str(request.properties.get("TargetKeyId"))
        )
        return ProviderResult(name, {})

    def update(self, request: ResourceRequest) -> ProviderResult:
        name = str(request.physical_id)
        request.client("kms").update_alias(
            AliasName=name, TargetKeyId=str(request.properties.get("TargetKeyId"))
        )
        return ProviderResult(name, {})

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client("kms").delete_alias(AliasName=str(request.physical_id))
        except ClientError as error:
            if not _gone(error):
                raise
