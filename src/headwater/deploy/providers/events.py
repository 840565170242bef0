"""AWS::Events::Rule and AWS::Events::EventBus through the EventBridge client.

A rule's ``Ref`` is its name, or ``BUS|NAME`` for a rule on another bus than the default
(as CloudFormation answers it); ``Fn::GetAtt Arn`` is its ARN. Its ``Targets`` are put
with it and reconciled on update (targets whose Id is gone are removed, the others put
again), and removed before the rule is deleted, since EventBridge refuses to delete a rule
that has targets.
"""

from __future__ import annotations

import json
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

MAX_RULE_NAME = 64
DEFAULT_BUS = "default"


def _bus_of(properties: dict[str, Any]) -> str:
    """The bus name a rule's ``EventBusName`` (a name or an ARN) gives."""
    bus = str(properties.get("EventBusName") or DEFAULT_BUS)
    return bus.split(":event-bus/", 1)[1] if bus.startswith("arn:") else bus


def _split_id(physical_id: str) -> tuple[str, str]:
    """(bus, name) of a rule's physical id."""
    bus, _, name = physical_id.rpartition("|")
    return bus or DEFAULT_BUS, name


class RuleProvider(ResourceProvider):
    type_name = "AWS::Events::Rule"
    service = "events"
    operations = ("PutRule", "PutTargets", "RemoveTargets", "DeleteRule", "ListTargetsByRule")

    def create(self, request: ResourceRequest) -> ProviderResult:
        name = str(request.properties.get("Name") or request.physical_name(MAX_RULE_NAME))
        bus = _bus_of(request.properties)
        tags = tags_dict(request.properties.get("Tags"))
        arn = self._put(request, bus, name, tags)
        self._put_targets(request, bus, name, [])
        physical_id = name if bus == DEFAULT_BUS else f"{bus}|{name}"
        return ProviderResult(physical_id, {"Arn": arn})

    def update(self, request: ResourceRequest) -> ProviderResult:
        bus, name = _split_id(str(request.physical_id))
        arn = self._put(request, bus, name, {})
        events = request.client("events")
        retag(
            request.previous_properties.get("Tags"),
            request.properties.get("Tags"),
            untag=lambda keys: events.untag_resource(ResourceARN=arn, TagKeys=keys),
            tag=lambda tags: events.tag_resource(ResourceARN=arn, Tags=tag_list(tags)),
        )
        old_ids = [str(t.get("Id")) for t in request.previous_properties.get("Targets") or []]
        self._put_targets(request, bus, name, old_ids)
        return ProviderResult(str(request.physical_id), {"Arn": arn})

    def _put(self, request: ResourceRequest, bus: str, name: str, tags: dict[str, str]) -> str:
        properties = request.properties
        params: dict[str, Any] = {"Name": name, "EventBusName": bus}
        pattern = properties.get("EventPattern")
        if pattern is not None:
            params["EventPattern"] = (
                pattern if isinstance(pattern, str) else json.dumps(pattern, separators=(",", ":"))
            )
        for key in ("ScheduleExpression", "State", "Description", "RoleArn"):
            if properties.get(key) is not None:
                params[key] = str(properties[key])
        if tags:
            params["Tags"] = tag_list(tags)
        arn: str = request.client("events").put_rule(**params)["RuleArn"]
        return arn

    def _put_targets(
        self, request: ResourceRequest, bus: str, name: str, old_ids: list[str]
    ) -> None:
        targets = to_params(
            "events", "PutTargets", {"Targets": request.properties.get("Targets") or []}
        ).get("Targets", [])
        events = request.client("events")
        new_ids = {str(target["Id"]) for target in targets}
        gone = [target_id for target_id in old_ids if target_id not in new_ids]
        if gone:
            events.remove_targets(Rule=name, EventBusName=bus, Ids=gone)
        if targets:
            answer = events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
            if answer.get("FailedEntryCount"):
                failed = answer["FailedEntries"][0]
                raise ValueError(f"Target {failed.get('TargetId')}: {failed.get('ErrorMessage')}")

    def delete(self, request: ResourceRequest) -> None:
        bus, name = _split_id(str(request.physical_id))
        events = request.client("events")
        with missing_is_deleted():
            targets = events.list_targets_by_rule(Rule=name, EventBusName=bus)["Targets"]
            if targets:
                events.remove_targets(
                    Rule=name, EventBusName=bus, Ids=[target["Id"] for target in targets]
                )
            events.delete_rule(Name=name, EventBusName=bus)


class EventBusProvider(ResourceProvider):
    type_name = "AWS::Events::EventBus"
    service = "events"
    operations = ("CreateEventBus", "UpdateEventBus", "DeleteEventBus")

    def create(self, request: ResourceRequest) -> ProviderResult:
        properties = request.properties
        name = str(properties["Name"])
        params: dict[str, Any] = {"Name": name}
        if properties.get("Description") is not None:
            params["Description"] = str(properties["Description"])
        tags = tags_dict(properties.get("Tags"))
        if tags:
            params["Tags"] = tag_list(tags)
        arn = request.client("events").create_event_bus(**params)["EventBusArn"]
        return ProviderResult(name, self._attributes(arn, name))

    @staticmethod
    def _attributes(arn: str, name: str) -> dict[str, Any]:
        return {"Arn": arn, "Name": name}

    def update(self, request: ResourceRequest) -> ProviderResult:
        name = str(request.physical_id)
        events = request.client("events")
        description = request.properties.get("Description")
        arn = events.update_event_bus(Name=name, Description=str(description or ""))["Arn"]
        retag(
            request.previous_properties.get("Tags"),
            request.properties.get("Tags"),
            untag=lambda keys: events.untag_resource(ResourceARN=arn, TagKeys=keys),
            tag=lambda tags: events.tag_resource(ResourceARN=arn, Tags=tag_list(tags)),
        )
        return ProviderResult(name, self._attributes(arn, name))

    def delete(self, request: ResourceRequest) -> None:
        request.client("events").delete_event_bus(Name=str(request.physical_id))
