"""Managed policies: customer policies with versions, AWS managed ones by ARN, and their
attachments to roles, users and groups."""

from __future__ import annotations

from typing import Any

from headwater.core.values import as_datetime
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.iam import validation as check
from headwater.services.iam.aws_managed import (
    AWS_MANAGED_POLICIES,
    AwsManagedPolicy,
    is_aws_managed,
)
from headwater.services.iam.entities import (
    IamParts,
    check_path,
    encoded,
    new_id,
    page,
)
from headwater.store.iam import Entity

MAX_VERSIONS = 5

#: Owner kind -> the name member of its Attach/Detach/ListAttached operations.
_OWNERS = {"role": "RoleName", "user": "UserName", "group": "GroupName"}


class PolicyOperations(IamParts):
    """Managed policies and attachments (mixed into ``IamService``)."""

    def _policy_result(self, ctx: RequestContext, policy: Entity | AwsManagedPolicy) -> Result:
        if isinstance(policy, AwsManagedPolicy):
            return {
                "PolicyName": policy.name,
                "PolicyId": policy.policy_id,
                "Arn": policy.arn,
                "Path": policy.path,
                "DefaultVersionId": policy.version_id,
                "AttachmentCount": len(self.store.attachments_of(ctx.account, policy.arn)),
                "PermissionsBoundaryUsageCount": 0,
                "IsAttachable": True,
                "Description": policy.description,
                "CreateDate": as_datetime(policy.created),
                "UpdateDate": as_datetime(policy.updated),
            }
        arn = self._arn(ctx, policy)
        result: Result = {
            "PolicyName": policy.name,
            "PolicyId": policy.entity_id,
            "Arn": arn,
            "Path": policy.path,
            "DefaultVersionId": policy.body["DefaultVersionId"],
            "AttachmentCount": len(self.store.attachments_of(ctx.account, arn)),
            "PermissionsBoundaryUsageCount": 0,
            "IsAttachable": True,
            "CreateDate": self._created(policy),
            "UpdateDate": as_datetime(policy.body.get("Updated", policy.created)),
        }
        if policy.body.get("Description"):
            result["Description"] = policy.body["Description"]
        if policy.body.get("Tags"):
            result["Tags"] = list(policy.body["Tags"])
        return result

    def _customer_policy(self, ctx: RequestContext, arn: Any) -> Entity:
        policy = self._managed_policy(ctx, arn)
        if isinstance(policy, AwsManagedPolicy):
            raise check.invalid_input(
                f"ARN {policy.arn} is not valid: AWS managed policies cannot be modified."
            )
        return policy

    # -- policies -------------------------------------------------------------------------

    @operation("CreatePolicy")
    def create_policy(self, params: Params, ctx: RequestContext) -> Result:
        self._checked("CreatePolicy", params)
        path = check_path(params)
        document = params["PolicyDocument"]
        check.check_policy_document(document)
        tags = check.check_tags(params.get("Tags"))
        now = self._now()
        body: dict[str, Any] = {"DefaultVersionId": "v1", "NextVersion": 2, "Updated": now}
        if params.get("Description"):
            body["Description"] = params["Description"]
        if tags:
            body["Tags"] = tags
        policy = Entity("policy", params["PolicyName"], new_id("ANPA"), path, now, body)
        with self.store.transaction():
            if not self.store.insert(ctx.account, policy):
                raise check.already_exists(
                    f"A policy called {policy.name} already exists. Duplicate names are not "
                    "allowed."
                )
            self.store.put_version(ctx.account, policy.key, "v1", document, now)
        result = self._policy_result(ctx, policy)
        result.pop("Description", None)
        return {"Policy": result}

    @operation("GetPolicy")
    def get_policy(self, params: Params, ctx: RequestContext) -> Result:
        return {"Policy": self._policy_result(ctx, self._managed_policy(ctx, params["PolicyArn"]))}

    @operation("DeletePolicy")
    def delete_policy(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.transaction():
            policy = self._customer_policy(ctx, params["PolicyArn"])
            arn = self._arn(ctx, policy)
            if self.store.attachments_of(ctx.account, arn):
                raise check.delete_conflict("Cannot delete a policy attached to entities.")
            if len(self.store.versions(ctx.account, policy.key)) > 1:
                raise check.delete_conflict(
                    "This policy has more than one version. Before you delete a policy, you "
                    "must delete the policy's versions. The default version is deleted with "
                    "the policy."
                )
            self.store.delete_versions(ctx.account, policy.key)
            self.store.delete(ctx.account, "policy", policy.name)
        return {}

    @operation("ListPolicies")
    def list_policies(self, params: Params, ctx: RequestContext) -> Result:
        scope = params.get("Scope", "All")
        prefix = params.get("PathPrefix") or "/"
        found: list[Entity | AwsManagedPolicy] = []
        if scope in ("All", "AWS"):
            found.extend(p for p in AWS_MANAGED_POLICIES.values() if p.path.startswith(prefix))
        if scope in ("All", "Local"):
            found.extend(self.store.entities(ctx.account, "policy", prefix))
        results = [self._policy_result(ctx, p) for p in found]
        if params.get("OnlyAttached"):
            results = [r for r in results if r["AttachmentCount"]]
        for result in results:
            result.pop("Description", None)  # ListPolicies leaves descriptions out
            result.pop("Tags", None)
        return page(results, params, "Policies")

    # -- versions -------------------------------------------------------------------------

    @operation("CreatePolicyVersion")
    def create_policy_version(self, params: Params, ctx: RequestContext) -> Result:
        self._checked("CreatePolicyVersion", params)
        document = params["PolicyDocument"]
        check.check_policy_document(document)
        now = self._now()
        with self.store.transaction():
            policy = self._customer_policy(ctx, params["PolicyArn"])
            if len(self.store.versions(ctx.account, policy.key)) >= MAX_VERSIONS:
                raise check.limit_exceeded(
                    f"A managed policy can have up to {MAX_VERSIONS} versions. Before you "
                    "create a new version, you must delete an existing version."
                )
            number = int(policy.body.get("NextVersion", 2))
            version_id = f"v{number}"
            self.store.put_version(ctx.account, policy.key, version_id, document, now)
            changes: dict[str, Any] = {"NextVersion": number + 1}
            default = bool(params.get("SetAsDefault"))
            if default:
                changes.update(DefaultVersionId=version_id, Updated=now)
            self.store.replace(ctx.account, policy.with_body(**changes))
        return {
            "PolicyVersion": {
                "VersionId": version_id,
                "IsDefaultVersion": default,
                "CreateDate": as_datetime(now),
            }
        }

    def _versions(
        self, ctx: RequestContext, policy: Entity | AwsManagedPolicy
    ) -> tuple[str, list[tuple[str, str, float]]]:
        if isinstance(policy, AwsManagedPolicy):
            return policy.version_id, [(policy.version_id, policy.document, policy.updated)]
        return policy.body["DefaultVersionId"], self.store.versions(ctx.account, policy.key)

    @operation("GetPolicyVersion")
    def get_policy_version(self, params: Params, ctx: RequestContext) -> Result:
        policy = self._managed_policy(ctx, params["PolicyArn"])
        default, versions = self._versions(ctx, policy)
        wanted = params["VersionId"]
        for version_id, document, created in versions:
            if version_id == wanted:
                return {
                    "PolicyVersion": {
                        "Document": encoded(document),
                        "VersionId": version_id,
                        "IsDefaultVersion": version_id == default,
                        "CreateDate": as_datetime(created),
                    }
                }
        raise check.no_such_entity(
            f"Policy {params['PolicyArn']} version {wanted} does not exist or is not attachable."
        )

    @operation("ListPolicyVersions")
    def list_policy_versions(self, params: Params, ctx: RequestContext) -> Result:
        policy = self._managed_policy(ctx, params["PolicyArn"])
        default, versions = self._versions(ctx, policy)
        listed = [
            {
                "VersionId": version_id,
                "IsDefaultVersion": version_id == default,
                "CreateDate": as_datetime(created),
            }
            for version_id, _, created in versions
        ]
        return page(listed, params, "Versions")

    @operation("DeletePolicyVersion")
    def delete_policy_version(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.transaction():
            policy = self._customer_policy(ctx, params["PolicyArn"])
            wanted = params["VersionId"]
            if wanted == policy.body["DefaultVersionId"]:
                raise check.delete_conflict("Cannot delete the default version of a policy.")
            if not self.store.delete_version(ctx.account, policy.key, wanted):
                raise check.no_such_entity(
                    f"Policy {params['PolicyArn']} version {wanted} does not exist or is not "
                    "attachable."
                )
        return {}

    @operation("SetDefaultPolicyVersion")
    def set_default_policy_version(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.transaction():
            policy = self._customer_policy(ctx, params["PolicyArn"])
            wanted = params["VersionId"]
            if wanted not in {v for v, _, _ in self.store.versions(ctx.account, policy.key)}:
                raise check.no_such_entity(
                    f"Policy {params['PolicyArn']} version {wanted} does not exist or is not "
                    "attachable."
                )
            self.store.replace(
                ctx.account, policy.with_body(DefaultVersionId=wanted, Updated=self._now())
            )
        return {}

    # -- tags -----------------------------------------------------------------------------

    @operation("TagPolicy")
    def tag_policy(self, params: Params, ctx: RequestContext) -> Result:
        new = check.check_tags(params.get("Tags"))
        with self.store.transaction():
            policy = self._customer_policy(ctx, params["PolicyArn"])
            tags = check.merge_tags(self._tags_of(policy), new)
            check.check_tags(tags)
            self.store.replace(ctx.account, policy.with_body(Tags=tags))
        return {}

    @operation("UntagPolicy")
    def untag_policy(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.transaction():
            policy = self._customer_policy(ctx, params["PolicyArn"])
            tags = check.remove_tags(self._tags_of(policy), params.get("TagKeys") or [])
            self.store.replace(ctx.account, policy.with_body(Tags=tags))
        return {}

    @operation("ListPolicyTags")
    def list_policy_tags(self, params: Params, ctx: RequestContext) -> Result:
        return page(self._tags_of(self._customer_policy(ctx, params["PolicyArn"])), params, "Tags")

    # -- attachments ----------------------------------------------------------------------

    def _attach(self, kind: str, params: Params, ctx: RequestContext) -> Result:
        self._checked(f"Attach{kind.capitalize()}Policy", params)
        with self.store.transaction():
            owner = self._entity(ctx, kind, params.get(_OWNERS[kind]))
            arn = self._attachable(ctx, params.get("PolicyArn"))
            self.store.attach(ctx.account, owner, arn)
        return {}

    def _detach(self, kind: str, params: Params, ctx: RequestContext) -> Result:
        with self.store.transaction():
            owner = self._entity(ctx, kind, params.get(_OWNERS[kind]))
            arn = str(params.get("PolicyArn") or "")
            if not self.store.detach(ctx.account, owner, arn):
                self._managed_policy(ctx, arn)  # a policy that does not exist says so first
                raise check.no_such_entity(f"Policy {arn} was not found.")
        return {}

    def _list_attached(self, kind: str, params: Params, ctx: RequestContext) -> Result:
        owner = self._entity(ctx, kind, params.get(_OWNERS[kind]))
        prefix = params.get("PathPrefix") or "/"
        attached = []
        for arn in self.store.attached(ctx.account, owner):
            resource = arn.split(":", 5)[5][len("policy") :]
            if resource.rpartition("/")[0].startswith(prefix.rstrip("/")):
                attached.append({"PolicyName": arn.rsplit("/", 1)[1], "PolicyArn": arn})
        return page(attached, params, "AttachedPolicies")

    @operation("AttachRolePolicy")
    def attach_role_policy(self, params: Params, ctx: RequestContext) -> Result:
        return self._attach("role", params, ctx)

    @operation("DetachRolePolicy")
    def detach_role_policy(self, params: Params, ctx: RequestContext) -> Result:
        return self._detach("role", params, ctx)

    @operation("ListAttachedRolePolicies")
    def list_attached_role_policies(self, params: Params, ctx: RequestContext) -> Result:
        return self._list_attached("role", params, ctx)

    @operation("AttachUserPolicy")
    def attach_user_policy(self, params: Params, ctx: RequestContext) -> Result:
        return self._attach("user", params, ctx)

    @operation("DetachUserPolicy")
    def detach_user_policy(self, params: Params, ctx: RequestContext) -> Result:
        return self._detach("user", params, ctx)

    @operation("ListAttachedUserPolicies")
    def list_attached_user_policies(self, params: Params, ctx: RequestContext) -> Result:
        return self._list_attached("user", params, ctx)

    @operation("AttachGroupPolicy")
    def attach_group_policy(self, params: Params, ctx: RequestContext) -> Result:
        return self._attach("group", params, ctx)

    @operation("DetachGroupPolicy")
    def detach_group_policy(self, params: Params, ctx: RequestContext) -> Result:
        return self._detach("group", params, ctx)

    @operation("ListAttachedGroupPolicies")
    def list_attached_group_policies(self, params: Params, ctx: RequestContext) -> Result:
        return self._list_attached("group", params, ctx)

    @operation("ListEntitiesForPolicy")
    def list_entities_for_policy(self, params: Params, ctx: RequestContext) -> Result:
        arn = str(params["PolicyArn"])
        if not (
            # Any AWS managed policy may be attached, also one whose document headwater does
            # not know: where one is, its attachments are listed (terraform's
            # aws_iam_policy_attachment reads them back), as every AWS managed policy exists.
            is_aws_managed(arn)
            and arn not in AWS_MANAGED_POLICIES
            and self.store.attachments_of(ctx.account, arn)
        ):
            policy = self._managed_policy(ctx, arn)
            arn = policy.arn if isinstance(policy, AwsManagedPolicy) else self._arn(ctx, policy)
        wanted = params.get("EntityFilter")
        result: Result = {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": []}
        member = {"group": "PolicyGroups", "user": "PolicyUsers", "role": "PolicyRoles"}
        for kind, key in self.store.attachments_of(ctx.account, arn):
            if wanted and wanted.lower() != kind:
                continue
            entity = self.store.get(ctx.account, kind, key)
            if entity is not None:
                name_key = f"{kind.capitalize()}Name"
                id_key = f"{kind.capitalize()}Id"
                result[member[kind]].append({name_key: entity.name, id_key: entity.entity_id})
        result["IsTruncated"] = False
        return result


__all__ = ["PolicyOperations"]
