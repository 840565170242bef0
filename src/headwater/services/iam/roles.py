"""IAM roles: CRUD, trust policy, tags, permissions boundary, inline policies, and
service-linked roles."""

from __future__ import annotations

from typing import Any

from headwater.core.ids import new_uuid
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.iam import validation as check
from headwater.services.iam.aws_managed import is_aws_managed
from headwater.services.iam.entities import IamParts, check_path, encoded, new_id, page
from headwater.services.iam.service_linked_catalog import (
    SERVICE_LINKED_DESCRIPTIONS,
    SERVICE_LINKED_ROLES,
)
from headwater.store.iam import Entity

DEFAULT_MAX_SESSION = 3600
SERVICE_ROLE_POLICIES = "arn:aws:iam::aws:policy/aws-service-role/"


class RoleOperations(IamParts):
    """Roles and their inline policies (mixed into ``IamService``)."""

    def _role_result(self, ctx: RequestContext, role: Entity, view: str) -> Result:
        """A ``Role`` as CreateRole (``create``), GetRole (``get``) or ListRoles shows it."""
        body = role.body
        result: Result = {
            "Path": role.path,
            "RoleName": role.name,
            "RoleId": role.entity_id,
            "Arn": self._arn(ctx, role),
            "CreateDate": self._created(role),
            "AssumeRolePolicyDocument": encoded(body["AssumeRolePolicyDocument"]),
        }
        if body.get("Description"):
            result["Description"] = body["Description"]
        if view != "create":
            result["MaxSessionDuration"] = body.get("MaxSessionDuration", DEFAULT_MAX_SESSION)
        if view != "list" and body.get("PermissionsBoundary"):
            result["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": body["PermissionsBoundary"],
            }
        if view != "list" and body.get("Tags"):
            result["Tags"] = list(body["Tags"])
        if view == "get":
            result["RoleLastUsed"] = dict(body.get("RoleLastUsed") or {})
        return result

    def _role(self, ctx: RequestContext, params: Params) -> Entity:
        return self._entity(ctx, "role", params.get("RoleName"))

    # -- roles ----------------------------------------------------------------------------

    @operation("CreateRole")
    def create_role(self, params: Params, ctx: RequestContext) -> Result:
        self._checked("CreateRole", params)
        path = check_path(params)
        document = params["AssumeRolePolicyDocument"]
        check.check_policy_document(document, trust=True)
        tags = check.check_tags(params.get("Tags"))
        body: dict[str, Any] = {
            "AssumeRolePolicyDocument": document,
            "MaxSessionDuration": params.get("MaxSessionDuration", DEFAULT_MAX_SESSION),
        }
        if params.get("Description"):
            body["Description"] = params["Description"]
        if tags:
            body["Tags"] = tags
        if params.get("PermissionsBoundary"):
            body["PermissionsBoundary"] = self._boundary(ctx, params["PermissionsBoundary"])
        role = Entity("role", params["RoleName"], new_id("AROA"), path, self._now(), body)
        if not self.store.insert(ctx.account, role):
            raise check.already_exists(f"Role with name {role.name} already exists.")
        return {"Role": self._role_result(ctx, role, "create")}

    @operation("GetRole")
    def get_role(self, params: Params, ctx: RequestContext) -> Result:
        return {"Role": self._role_result(ctx, self._role(ctx, params), "get")}

    @operation("ListRoles")
    def list_roles(self, params: Params, ctx: RequestContext) -> Result:
        roles = self.store.entities(ctx.account, "role", params.get("PathPrefix") or "/")
        return page([self._role_result(ctx, r, "list") for r in roles], params, "Roles")

    @operation("UpdateRole")
    def update_role(self, params: Params, ctx: RequestContext) -> Result:
        self._checked("UpdateRole", params)
        with self.store.transaction():
            role = self._role(ctx, params)
            changes = {
                key: params[key] for key in ("Description", "MaxSessionDuration") if key in params
            }
            self.store.replace(ctx.account, role.with_body(**changes))
        return {}

    @operation("UpdateRoleDescription")
    def update_role_description(self, params: Params, ctx: RequestContext) -> Result:
        self._checked("UpdateRoleDescription", params)
        with self.store.transaction():
            role = self._role(ctx, params).with_body(Description=params["Description"])
            self.store.replace(ctx.account, role)
        return {"Role": self._role_result(ctx, role, "get")}

    @operation("UpdateAssumeRolePolicy")
    def update_assume_role_policy(self, params: Params, ctx: RequestContext) -> Result:
        self._checked("UpdateAssumeRolePolicy", params)
        check.check_policy_document(params["PolicyDocument"], trust=True)
        with self.store.transaction():
            role = self._role(ctx, params)
            self.store.replace(
                ctx.account, role.with_body(AssumeRolePolicyDocument=params["PolicyDocument"])
            )
        return {}

    @operation("DeleteRole")
    def delete_role(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.transaction():
            role = self._role(ctx, params)
            if self.store.parents(ctx.account, "profile-role", role.key):
                raise check.delete_conflict(
                    "Cannot delete entity, must remove roles from instance profile first."
                )
            if self.store.attached(ctx.account, role):
                raise check.delete_conflict("Cannot delete entity, must detach all policies first.")
            if self.store.list_inline(ctx.account, role):
                raise check.delete_conflict("Cannot delete entity, must delete policies first.")
            self.store.delete(ctx.account, "role", role.name)
        return {}

    def _boundary(self, ctx: RequestContext, arn: str) -> str:
        if not is_aws_managed(arn):
            self._managed_policy(ctx, arn)  # raises for a policy that does not exist
        return arn

    @operation("PutRolePermissionsBoundary")
    def put_role_permissions_boundary(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.transaction():
            role = self._role(ctx, params)
            boundary = self._boundary(ctx, params["PermissionsBoundary"])
            self.store.replace(ctx.account, role.with_body(PermissionsBoundary=boundary))
        return {}

    @operation("DeleteRolePermissionsBoundary")
    def delete_role_permissions_boundary(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.transaction():
            role = self._role(ctx, params)
            self.store.replace(ctx.account, role.with_body(PermissionsBoundary=None))
        return {}

    # -- tags -----------------------------------------------------------------------------

    @operation("TagRole")
    def tag_role(self, params: Params, ctx: RequestContext) -> Result:
        new = check.check_tags(params.get("Tags"))
        with self.store.transaction():
            role = self._role(ctx, params)
            tags = check.merge_tags(self._tags_of(role), new)
            check.check_tags(tags)
            self.store.replace(ctx.account, role.with_body(Tags=tags))
        return {}

    @operation("UntagRole")
    def untag_role(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.transaction():
            role = self._role(ctx, params)
            tags = check.remove_tags(self._tags_of(role), params.get("TagKeys") or [])
            self.store.replace(ctx.account, role.with_body(Tags=tags))
        return {}

    @operation("ListRoleTags")
    def list_role_tags(self, params: Params, ctx: RequestContext) -> Result:
        return page(self._tags_of(self._role(ctx, params)), params, "Tags")

    # -- inline policies ------------------------------------------------------------------

    @operation("PutRolePolicy")
    def put_role_policy(self, params: Params, ctx: RequestContext) -> Result:
        self._checked("PutRolePolicy", params)
        check.check_policy_document(params["PolicyDocument"])
        with self.store.transaction():
            role = self._role(ctx, params)
            self.store.put_inline(ctx.account, role, params["PolicyName"], params["PolicyDocument"])
        return {}

    @operation("GetRolePolicy")
    def get_role_policy(self, params: Params, ctx: RequestContext) -> Result:
        role = self._role(ctx, params)
        name = params["PolicyName"]
        document = self.store.get_inline(ctx.account, role, name)
        if document is None:
            raise check.no_such_entity(f"The role policy with name {name} cannot be found.")
        return {"RoleName": role.name, "PolicyName": name, "PolicyDocument": encoded(document)}

    @operation("DeleteRolePolicy")
    def delete_role_policy(self, params: Params, ctx: RequestContext) -> Result:
        role = self._role(ctx, params)
        name = params["PolicyName"]
        if not self.store.delete_inline(ctx.account, role, name):
            raise check.no_such_entity(f"The role policy with name {name} cannot be found.")
        return {}

    @operation("ListRolePolicies")
    def list_role_policies(self, params: Params, ctx: RequestContext) -> Result:
        role = self._role(ctx, params)
        return page(self.store.list_inline(ctx.account, role), params, "PolicyNames")

    # -- service-linked roles -------------------------------------------------------------

    @operation("CreateServiceLinkedRole")
    def create_service_linked_role(self, params: Params, ctx: RequestContext) -> Result:
        self._checked("CreateServiceLinkedRole", params)
        service = params["AWSServiceName"]
        known = SERVICE_LINKED_ROLES.get(service)
        if known is None:
            raise check.invalid_input(
                f"headwater does not know the service-linked role of {service}"
            )
        role_name, policy_name, suffix_allowed = known
        suffix = params.get("CustomSuffix")
        if suffix is not None:
            if not suffix_allowed:
                raise check.invalid_input(f"Custom suffix is not allowed for {service}")
            role_name = f"{role_name}_{suffix}"
        document = (
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
            f'{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}]}}'
        )
        body: dict[str, Any] = {
            "AssumeRolePolicyDocument": document,
            "MaxSessionDuration": DEFAULT_MAX_SESSION,
            "ServiceLinked": service,
        }
        description = params.get("Description") or SERVICE_LINKED_DESCRIPTIONS.get(service)
        if description:
            body["Description"] = description
        path = f"/aws-service-role/{service}/"
        role = Entity("role", role_name, new_id("AROA"), path, self._now(), body)
        with self.store.transaction():
            if not self.store.insert(ctx.account, role):
                raise check.invalid_input(
                    f"Service role name {role_name} has been taken in this account, please "
                    "try a different suffix."
                )
            self.store.attach(ctx.account, role, SERVICE_ROLE_POLICIES + policy_name)
        return {"Role": self._role_result(ctx, role, "create")}

    @operation("DeleteServiceLinkedRole")
    def delete_service_linked_role(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.transaction():
            role = self._role(ctx, params)
            service = role.body.get("ServiceLinked")
            if not service:
                raise check.validation_error(f"Role {role.name} is not a service-linked role")
            for arn in self.store.attached(ctx.account, role):
                self.store.detach(ctx.account, role, arn)
            self.store.delete(ctx.account, "role", role.name)
        task = f"task/aws-service-role/{service}/{role.name}/{new_uuid()}"
        return {"DeletionTaskId": task}

    @operation("GetServiceLinkedRoleDeletionStatus")
    def get_service_linked_role_deletion_status(
        self, params: Params, ctx: RequestContext
    ) -> Result:
        task = str(params.get("DeletionTaskId") or "")
        if not task.startswith("task/aws-service-role/"):
            raise check.invalid_input(f"Invalid deletion task id: {task}")
        # Deletion is immediate here, so every task headwater handed out has succeeded.
        return {"Status": "SUCCEEDED"}
