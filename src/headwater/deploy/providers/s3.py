"""AWS::S3::Bucket and AWS::S3::BucketPolicy through the S3 client.

Bucket settings S3 keeps (versioning, tags, notifications, CORS, encryption, public access
block, ownership controls, lifecycle rules, policy) are applied when the service implements
the operation, so they read back as configured.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore import xform_name
from botocore.exceptions import ClientError

from headwater.core.tag_lists import tag_list
from headwater.deploy.providers.base import (
    ProviderResult,
    ResourceProvider,
    ResourceRequest,
    tags_dict,
    to_params,
)
from headwater.deploy.providers.stored import bucket_attributes

MAX_BUCKET_NAME = 63


def _has(request: ResourceRequest, operation: str) -> bool:
    client = request.client("s3")
    service = getattr(client, "_service", None)
    return service is None or operation in service.operation_names()


class BucketProvider(ResourceProvider):
    type_name = "AWS::S3::Bucket"
    service = "s3"
    operations = ("CreateBucket", "DeleteBucket")

    def create(self, request: ResourceRequest) -> ProviderResult:
        properties = request.properties
        name = str(
            properties.get("BucketName") or request.physical_name(MAX_BUCKET_NAME, lowercase=True)
        )
        params: dict[str, Any] = {"Bucket": name}
        if request.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": request.region}
        request.client("s3").create_bucket(**params)
        self._configure(request, name, {}, properties)
        return ProviderResult(name, bucket_attributes(name, request.region))

    def update(self, request: ResourceRequest) -> ProviderResult:
        name = str(request.physical_id)
        self._configure(request, name, request.previous_properties, request.properties)
        return ProviderResult(name, bucket_attributes(name, request.region))

    def _configure(
        self, request: ResourceRequest, name: str, old: dict[str, Any], new: dict[str, Any]
    ) -> None:
        s3 = request.client("s3")
        versioning = new.get("VersioningConfiguration")
        if versioning != old.get("VersioningConfiguration") and _has(
            request, "PutBucketVersioning"
        ):
            status = (versioning or {}).get("Status", "Suspended")
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": status})
        tags = tags_dict(new.get("Tags"))
        if tags != tags_dict(old.get("Tags")) and _has(request, "PutBucketTagging"):
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tag_list(tags)})
        notifications = new.get("NotificationConfiguration")
        if notifications != old.get("NotificationConfiguration") and _has(
            request, "PutBucketNotificationConfiguration"
        ):
            configuration = to_params(
                "s3",
                "PutBucketNotificationConfiguration",
                {"NotificationConfiguration": _notifications(notifications or {})},
            )["NotificationConfiguration"]
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration=configuration
            )
        for setting in _SETTINGS:
            value = new.get(setting.property)
            if value == old.get(setting.property):
                continue
            if value:
                if _has(request, setting.put):
                    shaped = to_params(
                        "s3", setting.put, {setting.parameter: setting.convert(value)}
                    )
                    getattr(s3, xform_name(setting.put))(Bucket=name, **shaped)
            elif setting.delete is not None and _has(request, setting.delete):
                getattr(s3, xform_name(setting.delete))(Bucket=name)

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client("s3").delete_bucket(Bucket=str(request.physical_id))
        except ClientError as error:
            if error.response["Error"]["Code"] != "NoSuchBucket":
                raise


def _notifications(config: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's notification properties as the API's (Queue/Topic/Function, and
    ``EventBridgeConfiguration.EventBridgeEnabled`` as an EventBridgeConfiguration)."""
    renamed: dict[str, Any] = {}
    for cfn_key, api_key, target in (
        ("QueueConfigurations", "QueueConfigurations", ("Queue", "QueueArn")),
        ("TopicConfigurations", "TopicConfigurations", ("Topic", "TopicArn")),
        ("LambdaConfigurations", "LambdaFunctionConfigurations", ("Function", "LambdaFunctionArn")),
    ):
        entries = []
        for entry in config.get(cfn_key) or []:
            converted: dict[str, Any] = {target[1]: entry[target[0]], "Events": [entry["Event"]]}
            if entry.get("Filter"):
                rules = entry["Filter"].get("S3Key", {}).get("Rules", [])
                converted["Filter"] = {"Key": {"FilterRules": rules}}
            entries.append(converted)
        if entries:
            renamed[api_key] = entries
    if (config.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled") in (True, "true"):
        renamed["EventBridgeConfiguration"] = {}
    return renamed


def _renamed(value: Any, names: dict[str, str]) -> Any:
    """``value`` with CloudFormation's member names turned into the API's, at any depth."""
    if isinstance(value, list):
        return [_renamed(item, names) for item in value]
    if isinstance(value, dict):
        return {names.get(key, key): _renamed(item, names) for key, item in value.items()}
    return value


def _cors(config: dict[str, Any]) -> dict[str, Any]:
    names = {"Id": "ID", "ExposedHeaders": "ExposeHeaders", "MaxAge": "MaxAgeSeconds"}
    return {"CORSRules": _renamed(config.get("CorsRules") or [], names)}


def _encryption(config: dict[str, Any]) -> dict[str, Any]:
    names = {"ServerSideEncryptionByDefault": "ApplyServerSideEncryptionByDefault"}
    return {"Rules": _renamed(config.get("ServerSideEncryptionConfiguration") or [], names)}


def _lifecycle(config: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's flat lifecycle rules as the API's (Filter, Expiration, Days...)."""
    rules = []
    for rule in config.get("Rules") or []:
        converted: dict[str, Any] = {"Status": rule.get("Status")}
        if rule.get("Id"):
            converted["ID"] = rule["Id"]
        conditions: dict[str, Any] = {}
        if rule.get("Prefix") is not None:
            conditions["Prefix"] = rule["Prefix"]
        if rule.get("TagFilters"):
            conditions["Tags"] = rule["TagFilters"]
        for size in ("ObjectSizeGreaterThan", "ObjectSizeLessThan"):
            if rule.get(size) is not None:
                conditions[size] = rule[size]
        if len(conditions) > 1 or len(conditions.get("Tags") or []) > 1:
            converted["Filter"] = {"And": conditions}
        elif "Tags" in conditions:
            converted["Filter"] = {"Tag": conditions["Tags"][0]}
        else:
            converted["Filter"] = conditions
        expiration = {
            api: rule[cfn]
            for cfn, api in (
                ("ExpirationInDays", "Days"),
                ("ExpirationDate", "Date"),
                ("ExpiredObjectDeleteMarker", "ExpiredObjectDeleteMarker"),
            )
            if rule.get(cfn) is not None
        }
        if expiration:
            converted["Expiration"] = expiration
        transition_names = {"TransitionInDays": "Days", "TransitionDate": "Date"}
        if rule.get("Transitions"):
            converted["Transitions"] = _renamed(rule["Transitions"], transition_names)
        if rule.get("NoncurrentVersionTransitions"):
            converted["NoncurrentVersionTransitions"] = _renamed(
                rule["NoncurrentVersionTransitions"], {"TransitionInDays": "NoncurrentDays"}
            )
        noncurrent = rule.get("NoncurrentVersionExpiration") or (
            {"NoncurrentDays": rule["NoncurrentVersionExpirationInDays"]}
            if rule.get("NoncurrentVersionExpirationInDays") is not None
            else None
        )
        if noncurrent:
            converted["NoncurrentVersionExpiration"] = noncurrent
        if rule.get("AbortIncompleteMultipartUpload"):
            converted["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
        rules.append(converted)
    return {"Rules": rules}


def _as_is(config: dict[str, Any]) -> dict[str, Any]:
    return config


@dataclass(frozen=True)
class _Setting:
    """A bucket property applied with one Put operation (and removed with one Delete)."""

    property: str
    put: str
    parameter: str
    convert: Callable[[dict[str, Any]], dict[str, Any]]
    #: None where S3 has no delete: removing the property then leaves the setting.
    delete: str | None


_SETTINGS = (
    _Setting("CorsConfiguration", "PutBucketCors", "CORSConfiguration", _cors, "DeleteBucketCors"),
    _Setting(
        "BucketEncryption",
        "PutBucketEncryption",
        "ServerSideEncryptionConfiguration",
        _encryption,
        "DeleteBucketEncryption",
    ),
    _Setting(
        "PublicAccessBlockConfiguration",
        "PutPublicAccessBlock",
        "PublicAccessBlockConfiguration",
        _as_is,
        "DeletePublicAccessBlock",
    ),
    _Setting(
        "OwnershipControls",
        "PutBucketOwnershipControls",
        "OwnershipControls",
        _as_is,
        "DeleteBucketOwnershipControls",
    ),
    _Setting(
        "LifecycleConfiguration",
        "PutBucketLifecycleConfiguration",
        "LifecycleConfiguration",
        _lifecycle,
        "DeleteBucketLifecycle",
    ),
)


class BucketPolicyProvider(ResourceProvider):
    type_name = "AWS::S3::BucketPolicy"
    service = "s3"
    operations = ("PutBucketPolicy", "DeleteBucketPolicy")

    def create(self, request: ResourceRequest) -> ProviderResult:
        self._put(request)
        return ProviderResult(request.physical_name(128), {})

    def update(self, request: ResourceRequest) -> ProviderResult:
        self._put(request)
        return ProviderResult(str(request.physical_id), {})

    def _put(self, request: ResourceRequest) -> None:
        document = request.properties.get("PolicyDocument", {})
        policy = document if isinstance(document, str) else json.dumps(document)
        request.client("s3").put_bucket_policy(
            Bucket=str(request.properties["Bucket"]), Policy=policy
        )

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client("s3").delete_bucket_policy(Bucket=str(request.properties["Bucket"]))
        except ClientError as error:
            if error.response["Error"]["Code"] != "NoSuchBucket":
                raise
