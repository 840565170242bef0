"""AWS::Scheduler::Schedule and AWS::Scheduler::ScheduleGroup through the Scheduler client.

A schedule's ``Ref`` is its name and ``Fn::GetAtt Arn`` its ARN; a change updates it in
place (UpdateSchedule replaces every setting, as the template's properties are the whole
schedule), a new ``Name`` or ``GroupName`` replaces it. A group's ``Ref`` is its name, with
``Arn``, ``CreationDate``, ``LastModificationDate`` and ``State`` attributes.
"""

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

MAX_NAME = 64


class ScheduleProvider(ResourceProvider):
    type_name = "AWS::Scheduler::Schedule"
    service = "scheduler"
    operations = ("CreateSchedule", "UpdateSchedule", "DeleteSchedule")

    def create(self, request: ResourceRequest) -> ProviderResult:
        name = str(request.properties.get("Name") or request.physical_name(MAX_NAME))
        params = self._params(request, name)
        arn = str(request.client("scheduler").create_schedule(**params)["ScheduleArn"])
        return ProviderResult(name, {"Arn": arn})

    def update(self, request: ResourceRequest) -> ProviderResult:
        name = str(request.physical_id)
        params = self._params(request, name)
        arn = str(request.client("scheduler").update_schedule(**params)["ScheduleArn"])
        return ProviderResult(name, {"Arn": arn})

    @staticmethod
    def _params(request: ResourceRequest, name: str) -> dict[str, Any]:
        params = to_params("scheduler", "CreateSchedule", dict(request.properties))
        params["Name"] = name
        return params

    def delete(self, request: ResourceRequest) -> None:
        group = str(request.properties.get("GroupName") or "default")
        with missing_is_deleted():
            request.client("scheduler").delete_schedule(
                Name=str(request.physical_id), GroupName=group
            )


class ScheduleGroupProvider(ResourceProvider):
    type_name = "AWS::Scheduler::ScheduleGroup"
    service = "scheduler"
    operations = ("CreateScheduleGroup", "GetScheduleGroup", "DeleteScheduleGroup")

    def create(self, request: ResourceRequest) -> ProviderResult:
        name = str(request.properties.get("Name") or request.physical_name(MAX_NAME))
        params: dict[str, Any] = {"Name": name}
        tags = tags_dict(request.properties.get("Tags"))
        if tags:
            params["Tags"] = tag_list(tags)
        request.client("scheduler").create_schedule_group(**params)
        return ProviderResult(name, self._attributes(request, name))

    @staticmethod
    def _attributes(request: ResourceRequest, name: str) -> dict[str, Any]:
        group = request.client("scheduler").get_schedule_group(Name=name)
        return {
            "Arn": group["Arn"],
            "State": group["State"],
            "CreationDate": group["CreationDate"].isoformat(),
            "LastModificationDate": group["LastModificationDate"].isoformat(),
        }

    def update(self, request: ResourceRequest) -> ProviderResult:
        name = str(request.physical_id)
        scheduler = request.client("scheduler")
        arn = scheduler.get_schedule_group(Name=name)["Arn"]
        retag(
            request.previous_properties.get("Tags"),
            request.properties.get("Tags"),
            untag=lambda keys: scheduler.untag_resource(ResourceArn=arn, TagKeys=keys),
            tag=lambda tags: scheduler.tag_resource(ResourceArn=arn, Tags=tag_list(tags)),
        )
        return ProviderResult(name, self._attributes(request, name))

    def delete(self, request: ResourceRequest) -> None:
        with missing_is_deleted():
            request.client("scheduler").delete_schedule_group(Name=str(request.physical_id))
