"""IAM instance profiles: the container of (at most) one role for EC2-style consumers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.iam import validation as check
from headwater.services.iam.entities import IamParts, check_path, new_id, page
from headwater.store.iam import Entity

#: Roles an instance profile may hold.
MAX_ROLES = 1


class InstanceProfileOperations(IamParts):
    """Instance profiles (mixed into ``IamService``)."""

    if TYPE_CHECKING:

        def _role_result(self, ctx: RequestContext, role: Entity, view: str) -> Result: ...

    def _profile_result(self, ctx: RequestContext, profile: Entity, *, tags: bool = True) -> Result:
        roles = []
        for key in self.store.children(ctx.account, "profile-role", profile.key):
            role = self.store.get(ctx.account, "role", key)
            if role is not None:
                roles.append(self._role_result(ctx, role, "list"))
        result: Result = {
            "Path": profile.path,
            "InstanceProfileName": profile.name,
            "InstanceProfileId": profile.entity_id,
            "Arn": self._arn(ctx, profile),
            "CreateDate": self._created(profile),
            "Roles": roles,
        }
        if tags and profile.body.get("Tags"):
            result["Tags"] = list(profile.body["Tags"])
        return result

    def _profile(self, ctx: RequestContext, params: Params) -> Entity:
        return self._entity(ctx, "instance-profile", params.get("InstanceProfileName"))

    @operation("CreateInstanceProfile")
    def create_instance_profile(self, params: Params, ctx: RequestContext) -> Result:
        self._checked("CreateInstanceProfile", params)
        tags = check.check_tags(params.get("Tags"))
        profile = Entity(
            "instance-profile",
            params["InstanceProfileName"],
            new_id("AIPA"),
            check_path(params),
            self._now(),
            {"Tags": tags} if tags else {},
        )
        if not self.store.insert(ctx.account, profile):
            raise check.already_exists(f"Instance Profile {profile.name} already exists.")
        return {"InstanceProfile": self._profile_result(ctx, profile)}

    @operation("GetInstanceProfile")
    def get_instance_profile(self, params: Params, ctx: RequestContext) -> Result:
        return {"InstanceProfile": self._profile_result(ctx, self._profile(ctx, params))}

    @operation("ListInstanceProfiles")
    def list_instance_profiles(self, params: Params, ctx: RequestContext) -> Result:
        profiles = self.store.entities(
            ctx.account, "instance-profile", params.get("PathPrefix") or "/"
        )
        listed = [self._profile_result(ctx, p, tags=False) for p in profiles]
        return page(listed, params, "InstanceProfiles")

    @operation("DeleteInstanceProfile")
    def delete_instance_profile(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.transaction():
            profile = self._profile(ctx, params)
            if self.store.children(ctx.account, "profile-role", profile.key):
                raise check.delete_conflict(
                    "Cannot delete entity, must remove roles from instance profile first."
                )
            self.store.delete(ctx.account, "instance-profile", profile.name)
        return {}

    @operation("AddRoleToInstanceProfile")
    def add_role_to_instance_profile(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.transaction():
            profile = self._profile(ctx, params)
            role = self._entity(ctx, "role", params.get("RoleName"))
            if len(self.store.children(ctx.account, "profile-role", profile.key)) >= MAX_ROLES:
                raise check.limit_exceeded(
                    f"Cannot exceed quota for InstanceSessionsPerInstanceProfile: {MAX_ROLES}"
                )
            self.store.link(ctx.account, "profile-role", profile.key, role.key)
        return {}

    @operation("RemoveRoleFromInstanceProfile")
    def remove_role_from_instance_profile(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.transaction():
            profile = self._profile(ctx, params)
            role = self._entity(ctx, "role", params.get("RoleName"))
            if not self.store.unlink(ctx.account, "profile-role", profile.key, role.key):
                raise check.no_such_entity(
                    f"The role with name {role.name} cannot be found in instance profile "
                    f"{profile.name}."
                )
        return {}

    @operation("ListInstanceProfilesForRole")
    def list_instance_profiles_for_role(self, params: Params, ctx: RequestContext) -> Result:
        role = self._entity(ctx, "role", params.get("RoleName"))
        profiles = []
        for key in self.store.parents(ctx.account, "profile-role", role.key):
            profile = self.store.get(ctx.account, "instance-profile", key)
            if profile is not None:
                profiles.append(self._profile_result(ctx, profile, tags=False))
        return page(profiles, params, "InstanceProfiles")

    @operation("TagInstanceProfile")
    def tag_instance_profile(self, params: Params, ctx: RequestContext) -> Result:
        new = check.check_tags(params.get("Tags"))
        with self.store.transaction():
            profile = self._profile(ctx, params)
            tags = check.merge_tags(self._tags_of(profile), new)
            check.check_tags(tags)
            self.store.replace(ctx.account, profile.with_body(Tags=tags))
        return {}

    @operation("UntagInstanceProfile")
    def untag_instance_profile(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.transaction():
            profile = self._profile(ctx, params)
            tags = check.remove_tags(self._tags_of(profile), params.get("TagKeys") or [])
            self.store.replace(ctx.account, profile.with_body(Tags=tags))
        return {}

    @operation("ListInstanceProfileTags")
    def list_instance_profile_tags(self, params: Params, ctx: RequestContext) -> Result:
        return page(self._tags_of(self._profile(ctx, params)), params, "Tags")
