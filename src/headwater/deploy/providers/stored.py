"""Resources kept only in the stack, with AWS's identifiers and attributes.

``cdk bootstrap`` and SAM declare IAM roles and policies, a KMS key, an ECR repository and
an S3 bucket that headwater has (or had, before its IAM and S3 services) no service for.
These providers give each one the physical id and ``Fn::GetAtt`` attributes AWS would, so
templates that reference them deploy; nothing outside the stack changes. IAM types,
buckets and KMS keys and aliases go through their services (``providers/iam.py``,
``providers/s3.py``, ``providers/kms.py``) when those are on; the stored ones here are the
fallback for a Headwater without them.
"""

from __future__ import annotations

import string
import uuid
from collections.abc import Callable
from typing import Any

from headwater.deploy.providers.base import (
    ProviderResult,
    ResourceProvider,
    ResourceRequest,
    random_suffix,
)

_ID_ALPHABET = string.ascii_uppercase + string.digits

Describe = Callable[[ResourceRequest], ProviderResult]


def _iam_path(properties: dict[str, Any]) -> str:
    return str(properties.get("Path") or "/")


def _role(request: ResourceRequest) -> ProviderResult:
    name = str(request.properties.get("RoleName") or request.physical_name(64))
    arn = f"arn:aws:iam::{request.account}:role{_iam_path(request.properties)}{name}"
    role_id = request.previous_attributes.get("RoleId") or "AROA" + random_suffix(
        17, alphabet=_ID_ALPHABET
    )
    return ProviderResult(name, {"Arn": arn, "RoleId": role_id})


def _policy(request: ResourceRequest) -> ProviderResult:
    physical_id = request.physical_id or request.physical_name(128)
    return ProviderResult(physical_id, {"Id": physical_id})


def _managed_policy(request: ResourceRequest) -> ProviderResult:
    name = str(request.properties.get("ManagedPolicyName") or request.physical_name(128))
    arn = f"arn:aws:iam::{request.account}:policy{_iam_path(request.properties)}{name}"
    policy_id = request.previous_attributes.get("PolicyId") or "ANPA" + random_suffix(
        17, alphabet=_ID_ALPHABET
    )
    return ProviderResult(
        arn,
        {
            "PolicyArn": arn,
            "PolicyId": policy_id,
            "AttachmentCount": len(request.properties.get("Roles") or []),
            "DefaultVersionId": "v1",
            "IsAttachable": True,
            "PermissionsBoundaryUsageCount": 0,
        },
    )


def _kms_key(request: ResourceRequest) -> ProviderResult:
    key_id = request.physical_id or str(uuid.uuid4())
    arn = f"arn:aws:kms:{request.region}:{request.account}:key/{key_id}"
    return ProviderResult(key_id, {"Arn": arn, "KeyId": key_id})


def _kms_alias(request: ResourceRequest) -> ProviderResult:
    return ProviderResult(str(request.properties.get("AliasName")), {})


def _ecr_repository(request: ResourceRequest) -> ProviderResult:
    name = str(
        request.properties.get("RepositoryName") or request.physical_name(256, lowercase=True)
    )
    host = f"{request.account}.dkr.ecr.{request.region}.amazonaws.com"
    return ProviderResult(
        name,
        {
            "Arn": f"arn:aws:ecr:{request.region}:{request.account}:repository/{name}",
            "RepositoryUri": f"{host}/{name}",
        },
    )


def bucket_attributes(name: str, region: str) -> dict[str, Any]:
    """``Fn::GetAtt`` attributes of an S3 bucket named ``name``."""
    return {
        "Arn": f"arn:aws:s3:::{name}",
        "DomainName": f"{name}.s3.amazonaws.com",
        "RegionalDomainName": f"{name}.s3.{region}.amazonaws.com",
        "DualStackDomainName": f"{name}.s3.dualstack.{region}.amazonaws.com",
        "WebsiteURL": f"http://{name}.s3-website-{region}.amazonaws.com",
    }


def _bucket(request: ResourceRequest) -> ProviderResult:
    name = str(request.properties.get("BucketName") or request.physical_name(63, lowercase=True))
    return ProviderResult(name, bucket_attributes(name, request.region))


def _generated(request: ResourceRequest) -> ProviderResult:
    physical_id = request.physical_id or request.physical_name(128)
    return ProviderResult(physical_id, {})


def _wait_condition_handle(request: ResourceRequest) -> ProviderResult:
    physical_id = request.physical_id or (
        f"https://cloudformation-waitcondition-{request.region}.s3.amazonaws.com/"
        f"{request.stack_id}/{request.logical_id}"
    )
    return ProviderResult(physical_id, {})


class StoredProvider(ResourceProvider):
    """A resource whose whole state is its stack record."""

    service = None

    def __init__(self, type_name: str, describe: Describe) -> None:
        self.type_name = type_name  # type: ignore[misc]
        self._describe = describe

    def create(self, request: ResourceRequest) -> ProviderResult:
        return self._describe(request)

    def update(self, request: ResourceRequest) -> ProviderResult:
        return self._describe(request)

    def delete(self, request: ResourceRequest) -> None:
        return None


STORED_TYPES: dict[str, Describe] = {
    "AWS::IAM::Role": _role,
    "AWS::IAM::Policy": _policy,
    "AWS::IAM::ManagedPolicy": _managed_policy,
    "AWS::KMS::Key": _kms_key,
    "AWS::KMS::Alias": _kms_alias,
    "AWS::ECR::Repository": _ecr_repository,
    "AWS::S3::Bucket": _bucket,
    "AWS::S3::BucketPolicy": _generated,
    "AWS::CDK::Metadata": _generated,
    "AWS::CloudFormation::WaitConditionHandle": _wait_condition_handle,
}


def stored_providers() -> list[ResourceProvider]:
    return [StoredProvider(type_name, describe) for type_name, describe in STORED_TYPES.items()]
