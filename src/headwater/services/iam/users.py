"""IAM users, groups, group membership, access keys and their inline policies."""

from __future__ import annotations

from typing import Any

from headwater.core.values import as_datetime
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.iam import validation as check
from headwater.services.iam.entities import (
    IamParts,
    check_path,
    encoded,
    new_id,
    new_secret,
    page,
)
from headwater.store.iam import AccessKey, Entity

#: Access keys a user may have at once.
MAX_ACCESS_KEYS = 2


class UserOperations(IamParts):
    """Users, groups and access keys (mixed into ``IamService``)."""

    def _user_result(self, ctx: RequestContext, user: Entity, *, tags: bool = True) -> Result:
        result: Result = {
            "Path": user.path,
            "UserName": user.name,
            "UserId": user.entity_id,
            "Arn": self._arn(ctx, user),
            "CreateDate": self._created(user),
        }
        if user.body.get("PermissionsBoundary"):
            result["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": user.body["PermissionsBoundary"],
            }
        if tags and user.body.get("Tags"):
            result["Tags"] = list(user.body["Tags"])
        return result

    def _group_result(self, ctx: RequestContext, group: Entity) -> Result:
        return {
            "Path": group.path,
            "GroupName": group.name,
            "GroupId": group.entity_id,
            "Arn": self._arn(ctx, group),
            "CreateDate": self._created(group),
        }

    # -- users ----------------------------------------------------------------------------

    @operation("CreateUser")
    def create_user(self, params: Params, ctx: RequestContext) -> Result:
        self._checked("CreateUser", params)
        body: dict[str, Any] = {}
        tags = check.check_tags(params.get("Tags"))
        if tags:
            body["Tags"] = tags
        if params.get("PermissionsBoundary"):
            body["PermissionsBoundary"] = params["PermissionsBoundary"]
        user = Entity(
            "user", params["UserName"], new_id("AIDA"), check_path(params), self._now(), body
        )
        if not self.store.insert(ctx.account, user):
            raise check.already_exists(f"User with name {user.name} already exists.")
        return {"User": self._user_result(ctx, user)}

    @operation("GetUser")
    def get_user(self, params: Params, ctx: RequestContext) -> Result:
        if params.get("UserName"):
            return {"User": self._user_result(ctx, self._entity(ctx, "user", params["UserName"]))}
        owner = self.store.access_key(ctx.access_key or "")
        if owner is not None and owner[0] == ctx.account:
            user = self.store.get(ctx.account, "user", owner[1].user_key)
            if user is not None:
                return {"User": self._user_result(ctx, user)}
        if ctx.access_key and self.store.session(ctx.access_key) is not None:
            raise check.validation_error(
                "Must specify userName when calling with non-User credentials"
            )
        # Anyone else (any access key works on headwater) is the account's root user.
        return {
            "User": {
                "Path": "/",
                "UserName": "root",
                "UserId": ctx.account,
                "Arn": f"arn:aws:iam::{ctx.account}:root",
                "CreateDate": as_datetime(0),
            }
        }

    @operation("ListUsers")
    def list_users(self, params: Params, ctx: RequestContext) -> Result:
        users = self.store.entities(ctx.account, "user", params.get("PathPrefix") or "/")
        return page([self._user_result(ctx, u, tags=False) for u in users], params, "Users")

    @operation("UpdateUser")
    def update_user(self, params: Params, ctx: RequestContext) -> Result:
        self._checked("UpdateUser", params)
        with self.store.transaction():
            user = self._entity(ctx, "user", params["UserName"])
            new_name = params.get("NewUserName") or user.name
            new_path = check_path(params, "NewPath") if params.get("NewPath") else user.path
            if new_name.lower() != user.key:
                if self.store.get(ctx.account, "user", new_name) is not None:
                    raise check.already_exists(f"User with name {new_name} already exists.")
                self._rename_user(ctx, user, new_name, new_path)
            else:
                moved = Entity("user", new_name, user.entity_id, new_path, user.created, user.body)
                self.store.replace(ctx.account, moved)
        return {}

    def _rename_user(self, ctx: RequestContext, user: Entity, name: str, path: str) -> None:
        """A new name is a new key: move the user's policies, keys and groups with it."""
        renamed = Entity("user", name, user.entity_id, path, user.created, user.body)
        account = ctx.account
        inline = {
            p: self.store.get_inline(account, user, p)
            for p in self.store.list_inline(account, user)
        }
        attached = self.store.attached(account, user)
        groups = self.store.parents(account, "group-member", user.key)
        keys = self.store.access_keys(account, user.key)
        self._remove_user_parts(ctx, user)
        self.store.delete(account, "user", user.name)
        self.store.insert(account, renamed)
        for policy_name, document in inline.items():
            self.store.put_inline(account, renamed, policy_name, document or "{}")
        for arn in attached:
            self.store.attach(account, renamed, arn)
        for group_key in groups:
            self.store.link(account, "group-member", group_key, renamed.key)
        for key in keys:
            self.store.add_access_key(
                account,
                AccessKey(key.access_key_id, renamed.key, key.secret, key.status, key.created),
            )

    def _remove_user_parts(self, ctx: RequestContext, user: Entity) -> None:
        account = ctx.account
        for policy_name in self.store.list_inline(account, user):
            self.store.delete_inline(account, user, policy_name)
        for arn in self.store.attached(account, user):
            self.store.detach(account, user, arn)
        for group_key in self.store.parents(account, "group-member", user.key):
            self.store.unlink(account, "group-member", group_key, user.key)
        for key in self.store.access_keys(account, user.key):
            self.store.delete_access_key(account, key.access_key_id)

    @operation("DeleteUser")
    def delete_user(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.transaction():
            user = self._entity(ctx, "user", params["UserName"])
            account = ctx.account
            if self.store.access_keys(account, user.key):
                raise check.delete_conflict("Cannot delete entity, must delete access keys first.")
            if self.store.attached(account, user):
                raise check.delete_conflict("Cannot delete entity, must detach all policies first.")
            if self.store.list_inline(account, user):
                raise check.delete_conflict("Cannot delete entity, must delete policies first.")
            if self.store.parents(account, "group-member", user.key):
                raise check.delete_conflict(
                    "Cannot delete entity, must remove users from group first."
                )
            self.store.delete(account, "user", user.name)
        return {}

    @operation("PutUserPermissionsBoundary")
    def put_user_permissions_boundary(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.transaction():
            user = self._entity(ctx, "user", params["UserName"])
            boundary = str(params["PermissionsBoundary"])
            if not boundary.startswith("arn:aws:iam::aws:policy/"):
                self._managed_policy(ctx, boundary)
            self.store.replace(ctx.account, user.with_body(PermissionsBoundary=boundary))
        return {}

    @operation("DeleteUserPermissionsBoundary")
    def delete_user_permissions_boundary(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.transaction():
            user = self._entity(ctx, "user", params["UserName"])
            self.store.replace(ctx.account, user.with_body(PermissionsBoundary=None))
        return {}

    @operation("TagUser")
    def tag_user(self, params: Params, ctx: RequestContext) -> Result:
        new = check.check_tags(params.get("Tags"))
        with self.store.transaction():
            user = self._entity(ctx, "user", params["UserName"])
            tags = check.merge_tags(self._tags_of(user), new)
            check.check_tags(tags)
            self.store.replace(ctx.account, user.with_body(Tags=tags))
        return {}

    @operation("UntagUser")
    def untag_user(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.transaction():
            user = self._entity(ctx, "user", params["UserName"])
            tags = check.remove_tags(self._tags_of(user), params.get("TagKeys") or [])
            self.store.replace(ctx.account, user.with_body(Tags=tags))
        return {}

    @operation("ListUserTags")
    def list_user_tags(self, params: Params, ctx: RequestContext) -> Result:
        return page(self._tags_of(self._entity(ctx, "user", params["UserName"])), params, "Tags")

    # -- groups ---------------------------------------------------------------------------

    @operation("CreateGroup")
    def create_group(self, params: Params, ctx: RequestContext) -> Result:
        self._checked("CreateGroup", params)
        group = Entity(
            "group", params["GroupName"], new_id("AGPA"), check_path(params), self._now()
        )
        if not self.store.insert(ctx.account, group):
            raise check.already_exists(f"Group with name {group.name} already exists.")
        return {"Group": self._group_result(ctx, group)}

    @operation("GetGroup")
    def get_group(self, params: Params, ctx: RequestContext) -> Result:
        group = self._entity(ctx, "group", params["GroupName"])
        users = []
        for key in self.store.children(ctx.account, "group-member", group.key):
            user = self.store.get(ctx.account, "user", key)
            if user is not None:
                users.append(self._user_result(ctx, user, tags=False))
        result = page(users, params, "Users")
        result["Group"] = self._group_result(ctx, group)
        return result

    @operation("ListGroups")
    def list_groups(self, params: Params, ctx: RequestContext) -> Result:
        groups = self.store.entities(ctx.account, "group", params.get("PathPrefix") or "/")
        return page([self._group_result(ctx, g) for g in groups], params, "Groups")

    @operation("DeleteGroup")
    def delete_group(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.transaction():
            group = self._entity(ctx, "group", params["GroupName"])
            if self.store.children(ctx.account, "group-member", group.key):
                raise check.delete_conflict(
                    "Cannot delete entity, must remove users from group first."
                )
            if self.store.attached(ctx.account, group):
                raise check.delete_conflict("Cannot delete entity, must detach all policies first.")
            if self.store.list_inline(ctx.account, group):
                raise check.delete_conflict("Cannot delete entity, must delete policies first.")
            self.store.delete(ctx.account, "group", group.name)
        return {}

    @operation("AddUserToGroup")
    def add_user_to_group(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.transaction():
            group = self._entity(ctx, "group", params["GroupName"])
            user = self._entity(ctx, "user", params["UserName"])
            self.store.link(ctx.account, "group-member", group.key, user.key)
        return {}

    @operation("RemoveUserFromGroup")
    def remove_user_from_group(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.transaction():
            group = self._entity(ctx, "group", params["GroupName"])
            user = self._entity(ctx, "user", params["UserName"])
            if not self.store.unlink(ctx.account, "group-member", group.key, user.key):
                raise check.no_such_entity(
                    f"The user with name {user.name} cannot be found in group {group.name}."
                )
        return {}

    @operation("ListGroupsForUser")
    def list_groups_for_user(self, params: Params, ctx: RequestContext) -> Result:
        user = self._entity(ctx, "user", params["UserName"])
        groups = []
        for key in self.store.parents(ctx.account, "group-member", user.key):
            group = self.store.get(ctx.account, "group", key)
            if group is not None:
                groups.append(self._group_result(ctx, group))
        return page(groups, params, "Groups")

    # -- inline policies of users and groups ----------------------------------------------

    def _put_inline(self, kind: str, params: Params, ctx: RequestContext) -> Result:
        self._checked(f"Put{kind.capitalize()}Policy", params)
        check.check_policy_document(params["PolicyDocument"])
        with self.store.transaction():
            owner = self._entity(ctx, kind, params[f"{kind.capitalize()}Name"])
            self.store.put_inline(
                ctx.account, owner, params["PolicyName"], params["PolicyDocument"]
            )
        return {}

    def _get_inline(self, kind: str, params: Params, ctx: RequestContext) -> Result:
        member = f"{kind.capitalize()}Name"
        owner = self._entity(ctx, kind, params[member])
        name = params["PolicyName"]
        document = self.store.get_inline(ctx.account, owner, name)
        if document is None:
            raise check.no_such_entity(f"The {kind} policy with name {name} cannot be found.")
        return {member: owner.name, "PolicyName": name, "PolicyDocument": encoded(document)}

    def _delete_inline(self, kind: str, params: Params, ctx: RequestContext) -> Result:
        owner = self._entity(ctx, kind, params[f"{kind.capitalize()}Name"])
        name = params["PolicyName"]
        if not self.store.delete_inline(ctx.account, owner, name):
            raise check.no_such_entity(f"The {kind} policy with name {name} cannot be found.")
        return {}

    def _list_inline(self, kind: str, params: Params, ctx: RequestContext) -> Result:
        owner = self._entity(ctx, kind, params[f"{kind.capitalize()}Name"])
        return page(self.store.list_inline(ctx.account, owner), params, "PolicyNames")

    @operation("PutUserPolicy")
    def put_user_policy(self, params: Params, ctx: RequestContext) -> Result:
        return self._put_inline("user", params, ctx)

    @operation("GetUserPolicy")
    def get_user_policy(self, params: Params, ctx: RequestContext) -> Result:
        return self._get_inline("user", params, ctx)

    @operation("DeleteUserPolicy")
    def delete_user_policy(self, params: Params, ctx: RequestContext) -> Result:
        return self._delete_inline("user", params, ctx)

    @operation("ListUserPolicies")
    def list_user_policies(self, params: Params, ctx: RequestContext) -> Result:
        return self._list_inline("user", params, ctx)

    @operation("PutGroupPolicy")
    def put_group_policy(self, params: Params, ctx: RequestContext) -> Result:
        return self._put_inline("group", params, ctx)

    @operation("GetGroupPolicy")
    def get_group_policy(self, params: Params, ctx: RequestContext) -> Result:
        return self._get_inline("group", params, ctx)

    @operation("DeleteGroupPolicy")
    def delete_group_policy(self, params: Params, ctx: RequestContext) -> Result:
        return self._delete_inline("group", params, ctx)

    @operation("ListGroupPolicies")
    def list_group_policies(self, params: Params, ctx: RequestContext) -> Result:
        return self._list_inline("group", params, ctx)

    # -- access keys ----------------------------------------------------------------------

    def _key_owner(self, ctx: RequestContext, params: Params) -> Entity:
        if params.get("UserName"):
            return self._entity(ctx, "user", params["UserName"])
        owner = self.store.access_key(ctx.access_key or "")
        if owner is not None and owner[0] == ctx.account:
            return self._entity(ctx, "user", owner[1].user_key)
        raise check.validation_error("Must specify userName when calling with non-User credentials")

    @operation("CreateAccessKey")
    def create_access_key(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.transaction():
            user = self._key_owner(ctx, params)
            if len(self.store.access_keys(ctx.account, user.key)) >= MAX_ACCESS_KEYS:
                raise check.limit_exceeded(
                    f"Cannot exceed quota for AccessKeysPerUser: {MAX_ACCESS_KEYS}"
                )
            key = AccessKey(new_id("AKIA", 16), user.key, new_secret(), "Active", self._now())
            self.store.add_access_key(ctx.account, key)
        return {
            "AccessKey": {
                "UserName": user.name,
                "AccessKeyId": key.access_key_id,
                "Status": key.status,
                "SecretAccessKey": key.secret,
                "CreateDate": as_datetime(key.created),
            }
        }

    @operation("ListAccessKeys")
    def list_access_keys(self, params: Params, ctx: RequestContext) -> Result:
        user = self._key_owner(ctx, params)
        keys = [
            {
                "UserName": user.name,
                "AccessKeyId": key.access_key_id,
                "Status": key.status,
                "CreateDate": as_datetime(key.created),
            }
            for key in self.store.access_keys(ctx.account, user.key)
        ]
        return page(keys, params, "AccessKeyMetadata")

    def _user_key(self, ctx: RequestContext, params: Params) -> tuple[Entity, str]:
        user = self._key_owner(ctx, params)
        key_id = str(params.get("AccessKeyId") or "")
        if key_id not in {k.access_key_id for k in self.store.access_keys(ctx.account, user.key)}:
            raise check.no_such_entity(f"The Access Key with id {key_id} cannot be found.")
        return user, key_id

    @operation("UpdateAccessKey")
    def update_access_key(self, params: Params, ctx: RequestContext) -> Result:
        status = params.get("Status")
        if status not in ("Active", "Inactive"):
            raise check.validation_error(
                f"1 validation error detected: Value '{status}' at 'status' failed to satisfy "
                "constraint: Member must satisfy enum value set: [Active, Inactive]"
            )
        with self.store.transaction():
            _, key_id = self._user_key(ctx, params)
            self.store.set_access_key_status(ctx.account, key_id, status)
        return {}

    @operation("DeleteAccessKey")
    def delete_access_key(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.transaction():
            _, key_id = self._user_key(ctx, params)
            self.store.delete_access_key(ctx.account, key_id)
        return {}

    @operation("GetAccessKeyLastUsed")
    def get_access_key_last_used(self, params: Params, ctx: RequestContext) -> Result:
        found = self.store.access_key(str(params.get("AccessKeyId") or ""))
        if found is None or found[0] != ctx.account:
            raise check.no_such_entity("The Access Key with id cannot be found.")
        user = self.store.get(ctx.account, "user", found[1].user_key)
        return {
            "UserName": user.name if user else found[1].user_key,
            "AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"},
        }
