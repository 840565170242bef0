"""AWS::IAM::Role, AWS::IAM::Policy and AWS::IAM::ManagedPolicy through the IAM client.

What CloudFormation does with each, done through headwater's IAM service so that the
roles and policies a stack declares exist there (``aws iam get-role`` finds them, policy
simulation reads them): a role's inline ``Policies`` and ``ManagedPolicyArns`` are put and
attached after the role is created and detached and deleted before it is deleted (IAM
refuses to delete a role with policies); an ``AWS::IAM::Policy`` is one inline policy put
on each of its roles, users and groups; a managed policy's new document becomes a new
default version (the oldest non-default version makes room when five exist, as
CloudFormation does).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from headwater.client import ServiceClient
from headwater.core.tag_lists import tag_list
from headwater.deploy.providers.base import (
    ProviderResult,
    ResourceProvider,
    ResourceRequest,
    retag,
    tags_dict,
)

MAX_ROLE_NAME = 64
MAX_POLICY_NAME = 128
#: IAM keeps at most five versions of a managed policy.
MAX_POLICY_VERSIONS = 5
#: (IAM operation suffix, parameter naming the entity) per kind of policy holder.
_HOLDERS = {
    "Roles": ("Role", "RoleName"),
    "Users": ("User", "UserName"),
    "Groups": ("Group", "GroupName"),
}


def _document(value: Any) -> str:
    """A policy document as the IAM API takes it (CloudFormation accepts JSON or text)."""
    return value if isinstance(value, str) else json.dumps(value)


def _names(value: Any) -> list[str]:
    return [str(item) for item in value or []]


def _ignore_missing(call: Any, **params: Any) -> None:
    """Call an IAM operation; what is already gone is fine (a delete that ran twice)."""
    try:
        call(**params)
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchEntity":
            raise


def _inline(properties: dict[str, Any]) -> dict[str, Any]:
    """A role's ``Policies``: policy name -> document."""
    return {str(p["PolicyName"]): p.get("PolicyDocument") for p in properties.get("Policies") or []}


class RoleProvider(ResourceProvider):
    type_name = "AWS::IAM::Role"
    service = "iam"
    operations = (
        "CreateRole",
        "DeleteRole",
        "PutRolePolicy",
        "DeleteRolePolicy",
        "AttachRolePolicy",
        "DetachRolePolicy",
    )

    def create(self, request: ResourceRequest) -> ProviderResult:
        properties = request.properties
        name = str(properties.get("RoleName") or request.physical_name(MAX_ROLE_NAME))
        params: dict[str, Any] = {
            "RoleName": name,
            "AssumeRolePolicyDocument": _document(properties.get("AssumeRolePolicyDocument")),
            "Path": str(properties.get("Path") or "/"),
        }
        if properties.get("Description") is not None:
            params["Description"] = str(properties["Description"])
        if properties.get("MaxSessionDuration") is not None:
            params["MaxSessionDuration"] = int(properties["MaxSessionDuration"])
        if properties.get("PermissionsBoundary"):
            params["PermissionsBoundary"] = str(properties["PermissionsBoundary"])
        tags = tags_dict(properties.get("Tags"))
        if tags:
            params["Tags"] = tag_list(tags)
        iam = request.client("iam")
        role = iam.create_role(**params)["Role"]
        try:
            self._policies(iam, name, {}, properties)
        except Exception:
            self._delete_role(iam, name)  # a failed create leaves nothing behind
            raise
        return ProviderResult(name, {"Arn": role["Arn"], "RoleId": role["RoleId"]})

    def update(self, request: ResourceRequest) -> ProviderResult:
        name = str(request.physical_id)
        old, new = request.previous_properties, request.properties
        iam = request.client("iam")
        trust = _document(new.get("AssumeRolePolicyDocument"))
        if trust != _document(old.get("AssumeRolePolicyDocument")):
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust)
        changes: dict[str, Any] = {}
        if new.get("Description") != old.get("Description"):
            changes["Description"] = str(new.get("Description") or "")
        if new.get("MaxSessionDuration") != old.get("MaxSessionDuration"):
            changes["MaxSessionDuration"] = int(new.get("MaxSessionDuration") or 3600)
        if changes:
            iam.update_role(RoleName=name, **changes)
        boundary = new.get("PermissionsBoundary")
        if boundary != old.get("PermissionsBoundary"):
            if boundary:
                iam.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=str(boundary))
            else:
                _ignore_missing(iam.delete_role_permissions_boundary, RoleName=name)
        retag(
            old.get("Tags"),
            new.get("Tags"),
            untag=lambda keys: iam.untag_role(RoleName=name, TagKeys=keys),
            tag=lambda tags: iam.tag_role(RoleName=name, Tags=tag_list(tags)),
        )
        self._policies(iam, name, old, new)
        role = iam.get_role(RoleName=name)["Role"]
        return ProviderResult(name, {"Arn": role["Arn"], "RoleId": role["RoleId"]})

    def delete(self, request: ResourceRequest) -> None:
        self._delete_role(request.client("iam"), str(request.physical_id))

    @staticmethod
    def _policies(iam: ServiceClient, name: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        """Bring the role's inline and attached policies from ``old`` to ``new``."""
        old_inline = {
            str(p["PolicyName"]): p.get("PolicyDocument") for p in old.get("Policies") or []
        }
        new_inline = {
            str(p["PolicyName"]): p.get("PolicyDocument") for p in new.get("Policies") or []
        }
        for policy_name, document in new_inline.items():
            if policy_name not in old_inline or old_inline[policy_name] != document:
                iam.put_role_policy(
                    RoleName=name, PolicyName=policy_name, PolicyDocument=_document(document)
                )
        for policy_name in old_inline.keys() - new_inline.keys():
            _ignore_missing(iam.delete_role_policy, RoleName=name, PolicyName=policy_name)
        old_arns, new_arns = (
            _names(old.get("ManagedPolicyArns")),
            _names(new.get("ManagedPolicyArns")),
        )
        for arn in new_arns:
            if arn not in old_arns:
                iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        for arn in old_arns:
            if arn not in new_arns:
                _ignore_missing(iam.detach_role_policy, RoleName=name, PolicyArn=arn)

    @staticmethod
    def _delete_role(iam: ServiceClient, name: str) -> None:
        """Detach and delete the role's policies, then the role (what IAM requires)."""
        try:
            attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
            inline = iam.list_role_policies(RoleName=name)["PolicyNames"]
        except ClientError as error:
            if error.response["Error"]["Code"] == "NoSuchEntity":
                return
            raise
        for policy in attached:
            _ignore_missing(iam.detach_role_policy, RoleName=name, PolicyArn=policy["PolicyArn"])
        for policy_name in inline:
            _ignore_missing(iam.delete_role_policy, RoleName=name, PolicyName=policy_name)
        _ignore_missing(iam.delete_role, RoleName=name)


def _holders(properties: dict[str, Any]) -> Iterable[tuple[str, str, str]]:
    """(operation suffix, name parameter, name) of every role, user and group listed."""
    for key, (suffix, parameter) in _HOLDERS.items():
        for name in _names(properties.get(key)):
            yield suffix, parameter, name


class PolicyProvider(ResourceProvider):
    """An inline policy put on each of its roles, users and groups."""

    type_name = "AWS::IAM::Policy"
    service = "iam"
    operations = ("PutRolePolicy", "DeleteRolePolicy", "PutUserPolicy", "PutGroupPolicy")

    def create(self, request: ResourceRequest) -> ProviderResult:
        physical_id = request.physical_name(MAX_POLICY_NAME)
        self._put(request.client("iam"), request.properties)
        return ProviderResult(physical_id, {"Id": physical_id})

    def update(self, request: ResourceRequest) -> ProviderResult:
        iam = request.client("iam")
        old, new = request.previous_properties, request.properties
        self._put(iam, new)
        kept = set(_holders(new)) if old.get("PolicyName") == new.get("PolicyName") else set()
        self._remove(iam, old, [h for h in _holders(old) if h not in kept])
        physical_id = str(request.physical_id)
        return ProviderResult(physical_id, {"Id": physical_id})

    def delete(self, request: ResourceRequest) -> None:
        self._remove(request.client("iam"), request.properties, list(_holders(request.properties)))

    @staticmethod
    def _put(iam: ServiceClient, properties: dict[str, Any]) -> None:
        document = _document(properties.get("PolicyDocument"))
        for suffix, parameter, name in _holders(properties):
            getattr(iam, f"put_{suffix.lower()}_policy")(
                **{parameter: name},
                PolicyName=str(properties.get("PolicyName")),
                PolicyDocument=document,
            )

    @staticmethod
    def _remove(
        iam: ServiceClient, properties: dict[str, Any], holders: list[tuple[str, str, str]]
    ) -> None:
        for suffix, parameter, name in holders:
            _ignore_missing(
                getattr(iam, f"delete_{suffix.lower()}_policy"),
                **{parameter: name},
                PolicyName=str(properties.get("PolicyName")),
            )


class ManagedPolicyProvider(ResourceProvider):
    type_name = "AWS::IAM::ManagedPolicy"
    service = "iam"
    operations = ("CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "AttachRolePolicy")

    def create(self, request: ResourceRequest) -> ProviderResult:
        properties = request.properties
        name = str(properties.get("ManagedPolicyName") or request.physical_name(MAX_POLICY_NAME))
        params: dict[str, Any] = {
            "PolicyName": name,
            "PolicyDocument": _document(properties.get("PolicyDocument")),
            "Path": str(properties.get("Path") or "/"),
        }
        if properties.get("Description"):
            params["Description"] = str(properties["Description"])
        iam = request.client("iam")
        arn = str(iam.create_policy(**params)["Policy"]["Arn"])
        try:
            self._attach(iam, arn, {}, properties)
        except Exception:
            self._delete_policy(iam, arn)
            raise
        return ProviderResult(arn, self._attributes(iam, arn))

    def update(self, request: ResourceRequest) -> ProviderResult:
        arn = str(request.physical_id)
        old, new = request.previous_properties, request.properties
        iam = request.client("iam")
        document = _document(new.get("PolicyDocument"))
        if document != _document(old.get("PolicyDocument")):
            versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
            if len(versions) >= MAX_POLICY_VERSIONS:
                oldest = min(
                    (v for v in versions if not v["IsDefaultVersion"]),
                    key=lambda v: v["CreateDate"],
                )
                iam.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])
            iam.create_policy_version(PolicyArn=arn, PolicyDocument=document, SetAsDefault=True)
        self._attach(iam, arn, old, new)
        return ProviderResult(arn, self._attributes(iam, arn))

    def delete(self, request: ResourceRequest) -> None:
        self._delete_policy(request.client("iam"), str(request.physical_id))

    @staticmethod
    def _attributes(iam: ServiceClient, arn: str) -> dict[str, Any]:
        policy = iam.get_policy(PolicyArn=arn)["Policy"]
        return {
            "PolicyArn": arn,
            "PolicyId": policy["PolicyId"],
            "AttachmentCount": policy["AttachmentCount"],
            "DefaultVersionId": policy["DefaultVersionId"],
            "IsAttachable": policy["IsAttachable"],
            "PermissionsBoundaryUsageCount": policy.get("PermissionsBoundaryUsageCount", 0),
        }

    @staticmethod
    def _attach(iam: ServiceClient, arn: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        before, after = set(_holders(old)), set(_holders(new))
        for suffix, parameter, name in _holders(new):
            if (suffix, parameter, name) not in before:
                getattr(iam, f"attach_{suffix.lower()}_policy")(**{parameter: name}, PolicyArn=arn)
        for suffix, parameter, name in _holders(old):
            if (suffix, parameter, name) not in after:
                _ignore_missing(
                    getattr(iam, f"detach_{suffix.lower()}_policy"),
                    **{parameter: name},
                    PolicyArn=arn,
                )

    @staticmethod
    def _delete_policy(iam: ServiceClient, arn: str) -> None:
        """Detach the policy everywhere, drop its other versions, then delete it."""
        try:
            entities = iam.list_entities_for_policy(PolicyArn=arn)
            versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
        except ClientError as error:
            if error.response["Error"]["Code"] == "NoSuchEntity":
                return
            raise
        for key, (suffix, parameter) in _HOLDERS.items():
            for entity in entities.get(f"Policy{key}", []):
                _ignore_missing(
                    getattr(iam, f"detach_{suffix.lower()}_policy"),
                    **{parameter: entity[parameter]},
                    PolicyArn=arn,
                )
        for version in versions:
            if not version["IsDefaultVersion"]:
                _ignore_missing(
                    iam.delete_policy_version, PolicyArn=arn, VersionId=version["VersionId"]
                )
        _ignore_missing(iam.delete_policy, PolicyArn=arn)
