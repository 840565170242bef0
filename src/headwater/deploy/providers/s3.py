"""AWS::S3::Bucket and AWS::S3::BucketPolicy through the S3 client.

Bucket settings S3 keeps (versioning, tags, notifications, policy) are applied when the
service implements the operation; settings that change nothing headwater does (encryption,
public access blocks, lifecycle and ownership rules) are kept in the stack only.
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
            s3.put_bucket_tagging(
                Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
            )
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

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client("s3").delete_bucket(Bucket=str(request.physical_id))
        except ClientError as error:
            if error.response["Error"]["Code"] != "NoSuchBucket":
                raise


def _notifications(config: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's notification properties as the API's (Queue/Topic/Function)."""
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
    return renamed


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
