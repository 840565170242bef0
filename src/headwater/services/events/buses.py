"""Event buses (the ``default`` bus always exists), names, ARNs and resource tags."""

from __future__ import annotations

import re
from typing import Any

from headwater.core.errors import AwsError
from headwater.core.paging import OffsetTokens
from headwater.core.tag_lists import tag_list
from headwater.core.values import as_datetime
from headwater.services.base import Params, RequestContext, Result, Service, operation
from headwater.services.events.retries import TargetDeliveries
from headwater.services.events.store import BusRecord, EventsStore, RuleRecord

DEFAULT_BUS = "default"
MAX_LIST = 100
_BUS_NAME = re.compile(r"^[/\.\-_A-Za-z0-9]{1,256}$")


def bus_arn(ctx: RequestContext, name: str) -> str:
    return f"arn:aws:events:{ctx.region}:{ctx.account}:event-bus/{name}"


def rule_arn(ctx: RequestContext, bus: str, name: str) -> str:
    """``rule/NAME`` on the default bus, ``rule/BUS/NAME`` on any other."""
    path = name if bus == DEFAULT_BUS else f"{bus}/{name}"
    return f"arn:aws:events:{ctx.region}:{ctx.account}:rule/{path}"


def bus_name(value: Any) -> str:
    """The bus an ``EventBusName`` parameter names (a name or a bus ARN; default if none)."""
    if value is None or value == "":
        return DEFAULT_BUS
    text = str(value)
    if text.startswith("arn:") and ":event-bus/" in text:
        return text.split(":event-bus/", 1)[1]
    return text


def bus_not_found(name: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Event bus {name} does not exist.")


def rule_not_found(name: str, bus: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Rule {name} does not exist on EventBus {bus}.")


def validation(message: str) -> AwsError:
    return AwsError("ValidationException", message)


def check_limit(value: Any) -> int:
    if value is None:
        return MAX_LIST
    if not 1 <= int(value) <= MAX_LIST:
        raise validation(
            f"1 validation error detected: Value '{value}' at 'limit' failed to satisfy "
            f"constraint: Member must have value between 1 and {MAX_LIST}"
        )
    return int(value)


_TOKENS = OffsetTokens(invalid=lambda _: validation("The NextToken provided is invalid."))


def page(items: list[Any], token: Any, limit: int) -> tuple[list[Any], str | None]:
    """One page of ``items`` from ``NextToken`` (an offset), and the next page's token."""
    return _TOKENS.page(items, token, limit)


class BusOperations(Service):
    """CreateEventBus, DescribeEventBus, ListEventBuses, DeleteEventBus and the tag calls."""

    store: EventsStore
    deliveries: TargetDeliveries

    def bus(self, ctx: RequestContext, name: str) -> BusRecord:
        """The bus ``name``; raises ResourceNotFoundException if there is none."""
        found = self.store.get_bus(ctx.account, ctx.region, name)
        if found is not None:
            return found
        if name == DEFAULT_BUS:
            return BusRecord(name, bus_arn(ctx, name), 0.0, 0.0)
        raise bus_not_found(name)

    def rule(self, ctx: RequestContext, params: Params, key: str = "Name") -> RuleRecord:
        """The rule a call names (``Name`` or ``Rule``, on ``EventBusName``)."""
        bus = bus_name(params.get("EventBusName"))
        self.bus(ctx, bus)
        name = str(params[key])
        found = self.store.get_rule(ctx.account, ctx.region, bus, name)
        if found is None:
            raise rule_not_found(name, bus)
        return found

    @operation("CreateEventBus")
    def create_event_bus(self, params: Params, ctx: RequestContext) -> Result:
        name = str(params["Name"])
        if params.get("EventSourceName"):
            raise validation("headwater does not support partner event buses")
        if "/" in name:
            raise validation("Event bus name must not contain '/'.")
        if not _BUS_NAME.match(name) or name.startswith("aws."):
            raise validation(f"Event bus name {name} is not valid.")  # plausible AWS text
        now = self.env.clock.now()
        bus = BusRecord(
            name,
            bus_arn(ctx, name),
            now,
            now,
            description=params.get("Description"),
            tags={t["Key"]: t["Value"] for t in params.get("Tags") or []},
        )
        if name == DEFAULT_BUS or not self.store.insert_bus(ctx.account, ctx.region, bus):
            raise AwsError("ResourceAlreadyExistsException", f"Event bus {name} already exists.")
        result: Result = {"EventBusArn": bus.arn}
        if bus.description is not None:
            result["Description"] = bus.description
        return result

    @operation("UpdateEventBus")
    def update_event_bus(self, params: Params, ctx: RequestContext) -> Result:
        name = bus_name(params.get("Name"))
        with self.env.database.transaction():
            bus = self.bus(ctx, name)
            if "Description" in params:
                bus.description = params["Description"] or None
            bus.modified = self.env.clock.now()
            self.store.put_bus(ctx.account, ctx.region, bus)
        result: Result = {"Arn": bus.arn, "Name": bus.name}
        if bus.description is not None:
            result["Description"] = bus.description
        return result

    @operation("DescribeEventBus")
    def describe_event_bus(self, params: Params, ctx: RequestContext) -> Result:
        bus = self.bus(ctx, bus_name(params.get("Name")))
        return self._bus_view(bus)

    @staticmethod
    def _bus_view(bus: BusRecord) -> Result:
        view: Result = {"Name": bus.name, "Arn": bus.arn}
        if bus.description is not None:
            view["Description"] = bus.description
        if bus.created:
            view["CreationTime"] = as_datetime(bus.created)
            view["LastModifiedTime"] = as_datetime(bus.modified)
        return view

    @operation("ListEventBuses")
    def list_event_buses(self, params: Params, ctx: RequestContext) -> Result:
        prefix = str(params.get("NamePrefix") or "")
        buses = {bus.name: bus for bus in self.store.buses(ctx.account, ctx.region)}
        buses.setdefault(DEFAULT_BUS, self.bus(ctx, DEFAULT_BUS))
        found = [buses[name] for name in sorted(buses) if name.startswith(prefix)]
        shown, token = page(found, params.get("NextToken"), check_limit(params.get("Limit")))
        result: Result = {"EventBuses": [self._bus_view(bus) for bus in shown]}
        if token is not None:
            result["NextToken"] = token
        return result

    @operation("DeleteEventBus")
    def delete_event_bus(self, params: Params, ctx: RequestContext) -> Result:
        name = bus_name(params["Name"])
        if name == DEFAULT_BUS:
            raise validation("Cannot delete event bus default.")
        # Deleting a bus that does not exist succeeds, as on AWS.
        self.store.delete_bus(ctx.account, ctx.region, name)
        return {}

    # ---- tags ----

    def _tagged(self, ctx: RequestContext, arn: str) -> BusRecord | RuleRecord:
        prefix = f"arn:aws:events:{ctx.region}:{ctx.account}:"
        resource = arn[len(prefix) :] if arn.startswith(prefix) else ""
        if resource.startswith("event-bus/"):
            return self.bus(ctx, resource[len("event-bus/") :])
        if resource.startswith("rule/"):
            path = resource[len("rule/") :]
            bus, _, name = path.rpartition("/")
            return self.rule(ctx, {"Name": name, "EventBusName": bus or DEFAULT_BUS})
        raise AwsError("ResourceNotFoundException", f"Resource {arn} does not exist.")

    def _store_tags(self, ctx: RequestContext, item: BusRecord | RuleRecord) -> None:
        if isinstance(item, BusRecord):
            self.store.put_bus(ctx.account, ctx.region, item)
        else:
            self.store.update_rule_body(ctx.account, ctx.region, item)

    @operation("TagResource")
    def tag_resource(self, params: Params, ctx: RequestContext) -> Result:
        with self.env.database.transaction():
            item = self._tagged(ctx, str(params["ResourceARN"]))
            item.tags.update({t["Key"]: t["Value"] for t in params["Tags"]})
            self._store_tags(ctx, item)
        return {}

    @operation("UntagResource")
    def untag_resource(self, params: Params, ctx: RequestContext) -> Result:
        with self.env.database.transaction():
            item = self._tagged(ctx, str(params["ResourceARN"]))
            for key in params["TagKeys"]:
                item.tags.pop(key, None)
            self._store_tags(ctx, item)
        return {}

    @operation("ListTagsForResource")
    def list_tags_for_resource(self, params: Params, ctx: RequestContext) -> Result:
        item = self._tagged(ctx, str(params["ResourceARN"]))
        return {"Tags": tag_list(item.tags)}
