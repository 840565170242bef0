"""Rules and their targets: PutRule, DescribeRule, ListRules, DeleteRule, Enable/DisableRule,
PutTargets, ListTargetsByRule and RemoveTargets."""

from __future__ import annotations

import re
from typing import Any

import orjson

from headwater.core.arn import Arn
from headwater.core.errors import AwsError
from headwater.filtering import InvalidPatternError, Matcher, compile_pattern
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.events.buses import (
    DEFAULT_BUS,
    BusOperations,
    bus_name,
    check_limit,
    page,
    rule_arn,
    validation,
)
from headwater.services.events.schedule import parse_schedule
from headwater.services.events.store import RuleRecord
from headwater.services.events.target_input import PREDEFINED, check_path, placeholders

STATES = ("ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
#: The most targets one rule has (an EventBridge quota).
MAX_TARGETS = 5
_NAME = re.compile(r"^[\.\-_A-Za-z0-9]{1,64}$")
_TARGET_ID = re.compile(r"^[\.\-_A-Za-z0-9]{1,64}$")
#: The members of a target headwater answers back as they were put.
_TARGET_MEMBERS = (
    "Id",
    "Arn",
    "RoleArn",
    "Input",
    "InputPath",
    "InputTransformer",
    "SqsParameters",
    "KinesisParameters",
    "HttpParameters",
    "DeadLetterConfig",
    "RetryPolicy",
)


def compile_rule_pattern(pattern: str) -> Matcher:
    """EventBridge's InvalidEventPatternException for a pattern it would refuse."""
    try:
        return compile_pattern(pattern)
    except InvalidPatternError as error:
        raise AwsError("InvalidEventPatternException", str(error)) from None


def _member_error(value: Any, where: str, constraint: str) -> AwsError:
    return validation(
        f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy "
        f"constraint: {constraint}"
    )


def _check_target(index: int, target: dict[str, Any]) -> None:
    """EventBridge's refusals of one target of PutTargets (the whole call fails)."""
    where = f"targets.{index}.member"
    if not _TARGET_ID.match(str(target["Id"])):
        raise _member_error(
            target["Id"],
            f"{where}.id",
            r"Member must satisfy regular expression pattern: [\.\-_A-Za-z0-9]+",
        )
    arn = str(target["Arn"])
    if Arn.try_parse(arn) is None:
        raise validation(
            f"Parameter {arn} is not valid. Reason: Provided Arn is not in correct format."
        )
    if ":sqs:" in arn and arn.endswith(".fifo") and not target.get("SqsParameters"):
        raise validation(
            f"Parameter(s) SqsParameters must be specified for target: {target['Id']}."
        )
    retry = target.get("RetryPolicy") or {}
    for member, low, high in (
        ("MaximumRetryAttempts", 0, 185),
        ("MaximumEventAgeInSeconds", 60, 86400),
    ):
        value = retry.get(member)
        if value is not None and not low <= int(value) <= high:
            bound = (
                f"greater than or equal to {low}"
                if int(value) < low
                else (f"less than or equal to {high}")
            )
            raise _member_error(
                value,
                f"{where}.retryPolicy.{member[0].lower()}{member[1:]}",
                f"Member must have value {bound}",
            )
    given = [key for key in ("Input", "InputPath", "InputTransformer") if target.get(key)]
    if len(given) > 1:
        raise validation(
            "Only one of Input, InputPath, or InputTransformer must be provided for target "
            f"{target['Id']}."
        )
    if target.get("Input") is not None:
        try:
            orjson.loads(target["Input"])
        except orjson.JSONDecodeError:
            raise validation(f"Target {target['Id']}: Input is not valid JSON text.") from None
    if target.get("InputPath") is not None:
        check_path(str(target["InputPath"]), "InputPath")
    transformer = target.get("InputTransformer")
    if transformer is not None:
        paths = transformer.get("InputPathsMap") or {}
        for name, path in paths.items():
            check_path(str(path), f"InputPathsMap[{name}]")
        for name in placeholders(str(transformer["InputTemplate"])):
            if name not in paths and name not in PREDEFINED:
                raise validation(
                    f"InputTemplate for target {target['Id']} contains invalid placeholder {name}."
                )


class RuleOperations(BusOperations):
    """Rule and target operations over the events store."""

    def next_firing(self, rule: RuleRecord, after: float) -> float | None:
        """When an enabled scheduled rule next fires after ``after`` (``None``: never)."""
        if rule.schedule is None or not rule.enabled:
            return None
        anchor = rule.scheduled_since if rule.scheduled_since is not None else rule.created
        return parse_schedule(rule.schedule).next_after(after, anchor)

    @operation("PutRule")
    def put_rule(self, params: Params, ctx: RequestContext) -> Result:
        name = str(params["Name"])
        if not _NAME.match(name):
            raise _member_error(
                name,
                "name",
                r"Member must satisfy regular expression pattern: [\.\-_A-Za-z0-9]+",
            )
        bus = bus_name(params.get("EventBusName"))
        pattern = params.get("EventPattern")
        schedule = params.get("ScheduleExpression")
        if not pattern and not schedule:
            raise validation("Parameter(s) EventPattern or ScheduleExpression must be specified.")
        if pattern:
            compile_rule_pattern(str(pattern))
        if schedule:
            parse_schedule(str(schedule))
            if bus != DEFAULT_BUS:
                raise validation("ScheduleExpression is supported only on the default event bus.")
        state = str(params.get("State") or "ENABLED")
        if state not in STATES:
            raise _member_error(
                state, "state", f"Member must satisfy enum value set: [{', '.join(STATES)}]"
            )
        now = self.env.clock.now()
        with self.env.database.transaction():
            self.bus(ctx, bus)
            old = self.store.get_rule(ctx.account, ctx.region, bus, name)
            rule = RuleRecord(
                name=name,
                bus=bus,
                arn=rule_arn(ctx, bus, name),
                created=now if old is None else old.created,
                state=state,
                event_pattern=str(pattern) if pattern else None,
                schedule=str(schedule) if schedule else None,
                description=params.get("Description"),
                role_arn=params.get("RoleArn"),
                # PutRule on an existing rule leaves its tags as they are (TagResource
                # changes them), and keeps its targets.
                tags=(
                    {t["Key"]: t["Value"] for t in params.get("Tags") or []}
                    if old is None
                    else old.tags
                ),
                targets=[] if old is None else old.targets,
            )
            # A rate counts its periods from when the schedule was put (kept while the
            # expression is unchanged, so an update does not shift its firings).
            if old is not None and old.schedule == rule.schedule:
                rule.scheduled_since = old.scheduled_since
            elif rule.schedule is not None:
                rule.scheduled_since = now
            self.store.put_rule(ctx.account, ctx.region, rule, self.next_firing(rule, now))
        return {"RuleArn": rule.arn}

    @operation("DescribeRule")
    def describe_rule(self, params: Params, ctx: RequestContext) -> Result:
        rule = self.rule(ctx, params)
        view = self._rule_view(rule)
        view["CreatedBy"] = ctx.account
        return view

    @staticmethod
    def _rule_view(rule: RuleRecord) -> Result:
        view: Result = {
            "Name": rule.name,
            "Arn": rule.arn,
            "State": rule.state,
            "EventBusName": rule.bus,
        }
        optional = {
            "EventPattern": rule.event_pattern,
            "ScheduleExpression": rule.schedule,
            "Description": rule.description,
            "RoleArn": rule.role_arn,
            "ManagedBy": rule.managed_by,
        }
        view.update({key: value for key, value in optional.items() if value is not None})
        return view

    @operation("ListRules")
    def list_rules(self, params: Params, ctx: RequestContext) -> Result:
        bus = bus_name(params.get("EventBusName"))
        self.bus(ctx, bus)
        prefix = str(params.get("NamePrefix") or "")
        rules = [
            rule
            for rule in self.store.rules(ctx.account, ctx.region, bus)
            if rule.name.startswith(prefix)
        ]
        shown, token = page(rules, params.get("NextToken"), check_limit(params.get("Limit")))
        result: Result = {"Rules": [self._rule_view(rule) for rule in shown]}
        if token is not None:
            result["NextToken"] = token
        return result

    @operation("ListRuleNamesByTarget")
    def list_rule_names_by_target(self, params: Params, ctx: RequestContext) -> Result:
        bus = bus_name(params.get("EventBusName"))
        self.bus(ctx, bus)
        arn = str(params["TargetArn"])
        names = [
            rule.name
            for rule in self.store.rules(ctx.account, ctx.region, bus)
            if any(target["Arn"] == arn for target in rule.targets)
        ]
        shown, token = page(names, params.get("NextToken"), check_limit(params.get("Limit")))
        result: Result = {"RuleNames": shown}
        if token is not None:
            result["NextToken"] = token
        return result

    @operation("DeleteRule")
    def delete_rule(self, params: Params, ctx: RequestContext) -> Result:
        bus = bus_name(params.get("EventBusName"))
        name = str(params["Name"])
        with self.env.database.transaction():
            rule = self.store.get_rule(ctx.account, ctx.region, bus, name)
            if rule is None:
                return {}  # deleting a rule that does not exist succeeds, as on AWS
            if rule.targets:
                raise validation("Rule can't be deleted since it has targets.")
            self.store.delete_rule(ctx.account, ctx.region, bus, name)
        return {}

    def _set_state(self, params: Params, ctx: RequestContext, state: str) -> Result:
        with self.env.database.transaction():
            rule = self.rule(ctx, params)
            if rule.state != state:
                rule.state = state
                now = self.env.clock.now()
                self.store.put_rule(ctx.account, ctx.region, rule, self.next_firing(rule, now))
        return {}

    @operation("EnableRule")
    def enable_rule(self, params: Params, ctx: RequestContext) -> Result:
        return self._set_state(params, ctx, "ENABLED")

    @operation("DisableRule")
    def disable_rule(self, params: Params, ctx: RequestContext) -> Result:
        return self._set_state(params, ctx, "DISABLED")

    # ---- targets ----

    @operation("PutTargets")
    def put_targets(self, params: Params, ctx: RequestContext) -> Result:
        given: list[dict[str, Any]] = list(params["Targets"])
        for index, target in enumerate(given, start=1):
            _check_target(index, target)
        with self.env.database.transaction():
            rule = self.rule(ctx, params, "Rule")
            targets = {target["Id"]: target for target in rule.targets}
            for target in given:
                targets[target["Id"]] = {
                    key: target[key] for key in _TARGET_MEMBERS if target.get(key) is not None
                }
            if len(targets) > MAX_TARGETS:
                raise AwsError(
                    "LimitExceededException",
                    "The requested resource exceeds the maximum number allowed.",
                )
            rule.targets = list(targets.values())
            self.store.update_rule_body(ctx.account, ctx.region, rule)
        # Every refusal headwater knows fails the whole call (as EventBridge's validation
        # does), so no entry is left to fail on its own.
        return {"FailedEntryCount": 0, "FailedEntries": []}

    @operation("ListTargetsByRule")
    def list_targets_by_rule(self, params: Params, ctx: RequestContext) -> Result:
        rule = self.rule(ctx, params, "Rule")
        shown, token = page(rule.targets, params.get("NextToken"), check_limit(params.get("Limit")))
        result: Result = {"Targets": shown}
        if token is not None:
            result["NextToken"] = token
        return result

    @operation("RemoveTargets")
    def remove_targets(self, params: Params, ctx: RequestContext) -> Result:
        ids = {str(target_id) for target_id in params["Ids"]}
        with self.env.database.transaction():
            rule = self.rule(ctx, params, "Rule")
            rule.targets = [target for target in rule.targets if target["Id"] not in ids]
            self.store.update_rule_body(ctx.account, ctx.region, rule)
        return {"FailedEntryCount": 0, "FailedEntries": []}
