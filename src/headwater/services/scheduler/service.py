"""``SchedulerService``: Amazon EventBridge Scheduler (``scheduler``, restJson) on the
headwater clock.

Schedules (``at(...)``, ``rate(...)``, ``cron(...)`` in a ``ScheduleExpressionTimezone``,
between ``StartDate`` and ``EndDate``) live in schedule groups (``default`` always exists)
and send their target's ``Input`` when they fire, through the same deliveries as
EventBridge rules' targets (``events.retries``): Lambda functions (an Event invocation),
SQS queues, SNS topics, Kinesis streams, Step Functions state machines and event buses
(PutEvents with ``EventBridgeParameters``), with the target's ``RetryPolicy`` and
``DeadLetterConfig`` applied. The schedule expressions are EventBridge's (``events.schedule``).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import asdict
from typing import Any, ClassVar

from headwater.core.arn import Arn
from headwater.core.errors import AwsError
from headwater.core.ids import new_uuid
from headwater.core.tag_lists import tag_list
from headwater.core.values import as_datetime, as_epoch_seconds
from headwater.services.base import (
    Params,
    RequestContext,
    Result,
    Service,
    ServiceEnvironment,
    operation,
)
from headwater.services.events.buses import page
from headwater.services.events.retries import (
    PendingDelivery,
    TargetCall,
    TargetDeliveries,
)
from headwater.services.events.schedule import Schedule, parse_one_time, parse_schedule
from headwater.services.events.service import schedule_check_interval
from headwater.services.scheduler.store import (
    DueSchedule,
    GroupRecord,
    ScheduleRecord,
    SchedulerStore,
)
from headwater.services.ticker import ClockTicker

DEFAULT_GROUP = "default"
MAX_RESULTS = 100
_NAME = re.compile(r"^[0-9a-zA-Z\-_.]{1,64}$")
#: The Scheduler's default retry policy, answered back when a target sets none.
DEFAULT_RETRY_POLICY = {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
#: What a templated target gets when its schedule has no Input (AWS documents "a default
#: notification" without its shape: headwater sends an empty JSON object).
DEFAULT_INPUT = "{}"
#: Context attributes the Scheduler replaces in a target's Input.
_CONTEXT = (
    "aws.scheduler.schedule-arn",
    "aws.scheduler.scheduled-time",
    "aws.scheduler.execution-id",
    "aws.scheduler.attempt-number",
)


def validation(message: str) -> AwsError:
    return AwsError("ValidationException", message)


def schedule_not_found(name: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Schedule {name} does not exist.")


def group_not_found(name: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Schedule group {name} does not exist.")


def _check_name(value: Any, where: str) -> str:
    text = str(value)
    if not _NAME.match(text):
        raise validation(
            f"1 validation error detected: Value '{text}' at '{where}' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [0-9a-zA-Z-_.]+"
        )
    return text


def _check_enum(value: Any, where: str, allowed: tuple[str, ...]) -> str:
    text = str(value)
    if text not in allowed:
        raise validation(
            f"1 validation error detected: Value '{text}' at '{where}' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{', '.join(allowed)}]"
        )
    return text


def _check_range(value: Any, where: str, low: int, high: int) -> None:
    if value is not None and not low <= int(value) <= high:
        bound = (
            f"greater than or equal to {low}"
            if int(value) < low
            else f"less than or equal to {high}"
        )
        raise validation(
            f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy "
            f"constraint: Member must have value {bound}"
        )


def parse_expression(text: str) -> Schedule:
    """An ``at``, ``rate`` or ``cron`` expression, or the Scheduler's ValidationException."""
    one_time = parse_one_time(text)
    if one_time is not None:
        return one_time
    try:
        return parse_schedule(text)
    except AwsError:
        raise validation(f"Invalid Schedule Expression {text}.") from None


def _zone(name: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        # Plausible AWS-style text: the Scheduler's wording is not recorded.
        raise validation(f"Invalid ScheduleExpressionTimezone {name}.") from None


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SchedulerService(Service):
    """Every EventBridge Scheduler operation headwater serves; schedules fire on the clock."""

    service_name: ClassVar[str] = "scheduler"

    def __init__(self, env: ServiceEnvironment) -> None:
        super().__init__(env)
        self.store = SchedulerStore(env.database)
        self.deliveries = TargetDeliveries(env, "scheduler")
        self._ticker = ClockTicker(
            env.clock, schedule_check_interval(env.clock), self._tick, name="scheduler"
        ).start()

    def close(self) -> None:
        self._ticker.stop()
        super().close()

    def _tick(self, now: float) -> None:
        self.fire_due(now)
        self.deliveries.retry_due(now)

    # ---- groups ----

    @staticmethod
    def _group_arn(ctx: RequestContext, name: str) -> str:
        return f"arn:aws:scheduler:{ctx.region}:{ctx.account}:schedule-group/{name}"

    def group(self, ctx: RequestContext, name: str) -> GroupRecord:
        """The group ``name`` (``default`` always exists); ResourceNotFoundException."""
        found = self.store.get_group(ctx.account, ctx.region, name)
        if found is not None:
            return found
        if name == DEFAULT_GROUP:
            return GroupRecord(name, self._group_arn(ctx, name), 0.0, 0.0)
        raise group_not_found(name)

    @staticmethod
    def _group_view(group: GroupRecord) -> Result:
        view: Result = {"Arn": group.arn, "Name": group.name, "State": "ACTIVE"}
        if group.created:
            view["CreationDate"] = as_datetime(group.created)
            view["LastModificationDate"] = as_datetime(group.modified)
        return view

    @operation("CreateScheduleGroup")
    def create_schedule_group(self, params: Params, ctx: RequestContext) -> Result:
        name = _check_name(params["Name"], "name")
        now = self.env.clock.now()
        tags = {str(t["Key"]): str(t["Value"]) for t in params.get("Tags") or []}
        group = GroupRecord(name, self._group_arn(ctx, name), now, now, tags)
        with self.env.database.transaction():
            if name == DEFAULT_GROUP or self.store.get_group(ctx.account, ctx.region, name):
                raise AwsError("ConflictException", f"Schedule group {name} already exists.")
            self.store.put_group(ctx.account, ctx.region, group)
        return {"ScheduleGroupArn": group.arn}

    @operation("GetScheduleGroup")
    def get_schedule_group(self, params: Params, ctx: RequestContext) -> Result:
        return self._group_view(self.group(ctx, _check_name(params["Name"], "name")))

    @operation("ListScheduleGroups")
    def list_schedule_groups(self, params: Params, ctx: RequestContext) -> Result:
        prefix = str(params.get("NamePrefix") or "")
        groups = {g.name: g for g in self.store.groups(ctx.account, ctx.region)}
        groups.setdefault(DEFAULT_GROUP, self.group(ctx, DEFAULT_GROUP))
        found = [groups[name] for name in sorted(groups) if name.startswith(prefix)]
        shown, token = page(found, params.get("NextToken"), self._max_results(params))
        result: Result = {"ScheduleGroups": [self._group_view(g) for g in shown]}
        if token is not None:
            result["NextToken"] = token
        return result

    @operation("DeleteScheduleGroup")
    def delete_schedule_group(self, params: Params, ctx: RequestContext) -> Result:
        name = _check_name(params["Name"], "name")
        if name == DEFAULT_GROUP:
            # Plausible AWS-style text: the default group cannot be deleted.
            raise validation("Cannot delete the default schedule group.")
        with self.env.database.transaction():
            self.group(ctx, name)
            # AWS deletes the group's schedules as it deletes the group (asynchronously,
            # the group DELETING meanwhile); headwater does both at once.
            self.store.delete_group(ctx.account, ctx.region, name)
        return {}

    @staticmethod
    def _max_results(params: Params) -> int:
        value = params.get("MaxResults")
        _check_range(value, "maxResults", 1, MAX_RESULTS)
        return MAX_RESULTS if value is None else int(value)

    # ---- schedules ----

    def _schedule_from(
        self, params: Params, ctx: RequestContext, old: ScheduleRecord | None
    ) -> ScheduleRecord:
        """A schedule from CreateSchedule's or UpdateSchedule's parameters (an update
        replaces every setting, as AWS's does; omitted ones take their defaults)."""
        name = _check_name(params["Name"], "name")
        group = _check_name(params.get("GroupName") or DEFAULT_GROUP, "groupName")
        expression = str(params["ScheduleExpression"])
        parse_expression(expression)
        timezone = str(params.get("ScheduleExpressionTimezone") or "UTC")
        _zone(timezone)
        state = _check_enum(params.get("State") or "ENABLED", "state", ("ENABLED", "DISABLED"))
        action = _check_enum(
            params.get("ActionAfterCompletion") or "NONE",
            "actionAfterCompletion",
            ("NONE", "DELETE"),
        )
        window = dict(params["FlexibleTimeWindow"])
        _check_enum(window.get("Mode"), "flexibleTimeWindow.mode", ("OFF", "FLEXIBLE"))
        _check_range(
            window.get("MaximumWindowInMinutes"),
            "flexibleTimeWindow.maximumWindowInMinutes",
            1,
            1440,
        )
        if window["Mode"] == "FLEXIBLE" and window.get("MaximumWindowInMinutes") is None:
            # Plausible AWS-style text (not recorded).
            raise validation("MaximumWindowInMinutes must be specified when Mode is FLEXIBLE.")
        target = dict(params["Target"])
        if Arn.try_parse(str(target.get("Arn"))) is None:
            raise validation(f"Invalid target arn {target.get('Arn')}.")  # plausible text
        retry = dict(target.get("RetryPolicy") or {})
        _check_range(
            retry.get("MaximumEventAgeInSeconds"),
            "target.retryPolicy.maximumEventAgeInSeconds",
            60,
            86400,
        )
        _check_range(
            retry.get("MaximumRetryAttempts"), "target.retryPolicy.maximumRetryAttempts", 0, 185
        )
        target["RetryPolicy"] = {**DEFAULT_RETRY_POLICY, **retry}
        start = params.get("StartDate")
        end = params.get("EndDate")
        start_at = None if start is None else as_epoch_seconds(start)
        end_at = None if end is None else as_epoch_seconds(end)
        if start_at is not None and end_at is not None and end_at <= start_at:
            raise validation("The EndDate must be after the StartDate.")  # plausible text
        now = self.env.clock.now()
        return ScheduleRecord(
            name=name,
            group=group,
            arn=f"arn:aws:scheduler:{ctx.region}:{ctx.account}:schedule/{group}/{name}",
            created=now if old is None else old.created,
            modified=now,
            expression=expression,
            timezone=timezone,
            state=state,
            target=target,
            flexible_window=window,
            action_after_completion=action,
            description=params.get("Description"),
            start=start_at,
            end=end_at,
            kms_key=params.get("KmsKeyArn"),
        )

    def next_firing(self, schedule: ScheduleRecord, after: float) -> float | None:
        """When an enabled schedule next fires after ``after`` (``None``: never again).

        A flexible time window's schedule fires at the window's start (headwater does not
        spread firings over the window)."""
        if not schedule.enabled:
            return None
        parsed = parse_expression(schedule.expression)
        lower = after
        if schedule.start is not None and schedule.start > after:
            lower = schedule.start - 1e-6  # a firing at StartDate itself is due
        anchor = schedule.start if schedule.start is not None else schedule.created
        following = parsed.next_after(lower, anchor, _zone(schedule.timezone))
        if following is not None and schedule.end is not None and following > schedule.end:
            return None
        return following

    def schedule(self, ctx: RequestContext, params: Params) -> ScheduleRecord:
        name = _check_name(params["Name"], "name")
        group = _check_name(params.get("GroupName") or DEFAULT_GROUP, "groupName")
        found = self.store.get_schedule(ctx.account, ctx.region, group, name)
        if found is None:
            self.group(ctx, group)
            raise schedule_not_found(name)
        return found

    @operation("CreateSchedule")
    def create_schedule(self, params: Params, ctx: RequestContext) -> Result:
        schedule = self._schedule_from(params, ctx, None)
        with self.env.database.transaction():
            self.group(ctx, schedule.group)
            if self.store.get_schedule(ctx.account, ctx.region, schedule.group, schedule.name):
                raise AwsError("ConflictException", f"Schedule {schedule.name} already exists.")
            next_fire = self.next_firing(schedule, self.env.clock.now())
            self.store.put_schedule(ctx.account, ctx.region, schedule, next_fire)
        return {"ScheduleArn": schedule.arn}

    @operation("UpdateSchedule")
    def update_schedule(self, params: Params, ctx: RequestContext) -> Result:
        with self.env.database.transaction():
            old = self.schedule(ctx, params)
            schedule = self._schedule_from(params, ctx, old)
            next_fire = self.next_firing(schedule, self.env.clock.now())
            self.store.put_schedule(ctx.account, ctx.region, schedule, next_fire)
        return {"ScheduleArn": schedule.arn}

    @operation("GetSchedule")
    def get_schedule(self, params: Params, ctx: RequestContext) -> Result:
        s = self.schedule(ctx, params)
        view: Result = {
            "Arn": s.arn,
            "GroupName": s.group,
            "Name": s.name,
            "ScheduleExpression": s.expression,
            "ScheduleExpressionTimezone": s.timezone,
            "State": s.state,
            "CreationDate": as_datetime(s.created),
            "LastModificationDate": as_datetime(s.modified),
            "Target": s.target,
            "FlexibleTimeWindow": s.flexible_window,
            "ActionAfterCompletion": s.action_after_completion,
        }
        if s.description is not None:
            view["Description"] = s.description
        if s.start is not None:
            view["StartDate"] = as_datetime(s.start)
        if s.end is not None:
            view["EndDate"] = as_datetime(s.end)
        if s.kms_key is not None:
            view["KmsKeyArn"] = s.kms_key
        return view

    @operation("DeleteSchedule")
    def delete_schedule(self, params: Params, ctx: RequestContext) -> Result:
        with self.env.database.transaction():
            s = self.schedule(ctx, params)
            self.store.delete_schedule(ctx.account, ctx.region, s.group, s.name)
        return {}

    @operation("ListSchedules")
    def list_schedules(self, params: Params, ctx: RequestContext) -> Result:
        group = params.get("GroupName")
        if group is not None:
            self.group(ctx, _check_name(group, "groupName"))
        prefix = str(params.get("NamePrefix") or "")
        state = params.get("State")
        found = [
            s
            for s in self.store.schedules(ctx.account, ctx.region)
            if (group is None or s.group == group)
            and s.name.startswith(prefix)
            and (state is None or s.state == state)
        ]
        shown, token = page(found, params.get("NextToken"), self._max_results(params))
        result: Result = {
            "Schedules": [
                {
                    "Arn": s.arn,
                    "Name": s.name,
                    "GroupName": s.group,
                    "State": s.state,
                    "CreationDate": as_datetime(s.created),
                    "LastModificationDate": as_datetime(s.modified),
                    "Target": {"Arn": s.target["Arn"]},
                }
                for s in shown
            ]
        }
        if token is not None:
            result["NextToken"] = token
        return result

    # ---- tags (schedule groups carry them) ----

    def _tagged(self, ctx: RequestContext, arn: Any) -> GroupRecord:
        prefix = f"arn:aws:scheduler:{ctx.region}:{ctx.account}:schedule-group/"
        text = str(arn)
        if not text.startswith(prefix):
            raise AwsError("ResourceNotFoundException", f"Resource {text} does not exist.")
        return self.group(ctx, text[len(prefix) :])

    @operation("TagResource")
    def tag_resource(self, params: Params, ctx: RequestContext) -> Result:
        with self.env.database.transaction():
            group = self._tagged(ctx, params["ResourceArn"])
            group.tags.update({str(t["Key"]): str(t["Value"]) for t in params["Tags"]})
            if not group.created:  # the default group, stored from its first change
                group.created = group.modified = self.env.clock.now()
            self.store.put_group(ctx.account, ctx.region, group)
        return {}

    @operation("UntagResource")
    def untag_resource(self, params: Params, ctx: RequestContext) -> Result:
        with self.env.database.transaction():
            group = self._tagged(ctx, params["ResourceArn"])
            for key in params["TagKeys"]:
                group.tags.pop(str(key), None)
            if group.created:
                self.store.put_group(ctx.account, ctx.region, group)
        return {}

    @operation("ListTagsForResource")
    def list_tags_for_resource(self, params: Params, ctx: RequestContext) -> Result:
        return {"Tags": tag_list(self._tagged(ctx, params["ResourceArn"]).tags)}

    # ---- firing ----

    def fire_due(self, now: float) -> int:
        """Fire every schedule whose time has come; returns how many fired.

        As scheduled EventBridge rules: one firing however many of its times passed since
        the last look (while headwater was stopped), the next one after ``now``. A schedule
        with no firing left is deleted when its ActionAfterCompletion is DELETE.
        """
        fired = 0
        for due in self.store.due(now):
            s = due.schedule
            later: list[Any] = []
            with self.env.database.transaction():
                following = self.next_firing(s, now)
                if not self.store.claim_firing(due, following):
                    continue
                if following is None and s.action_after_completion == "DELETE":
                    self.store.delete_schedule(due.account, due.region, s.group, s.name)
                self.deliveries.deliver(self._delivery(due), later)
            for step in later:
                step()
            fired += 1
        return fired

    def _delivery(self, due: DueSchedule) -> PendingDelivery:
        s = due.schedule
        target = s.target
        execution = new_uuid()
        scheduled = _iso(due.next_fire)
        body = str(target.get("Input") or DEFAULT_INPUT)
        context = dict(zip(_CONTEXT, (s.arn, scheduled, execution, "1"), strict=True))
        for name, value in context.items():
            body = body.replace(f"<{name}>", value)
        return PendingDelivery(
            id=new_uuid(),
            origin="scheduler",
            origin_arn=s.arn,
            call=asdict(_target_call(target, body, execution, s.arn)),
            retry_policy=dict(target.get("RetryPolicy") or {}),
            dead_letter_arn=(target.get("DeadLetterConfig") or {}).get("Arn") or None,
            dead_letter_body=body,
            dead_letter_attributes={
                "EXECUTION_ID": execution,
                "IS_PAYLOAD_TRUNCATED": "false",
                "SCHEDULED_TIME": scheduled,
                "SCHEDULE_ARN": s.arn,
            },
            since=self.env.clock.now(),
        )


def _target_call(
    target: dict[str, Any], body: str, execution: str, schedule_arn: str
) -> TargetCall:
    """What a schedule's templated target is sent (a target of a service headwater does not
    send to fails its delivery as NO_RESOURCE)."""
    arn = str(target["Arn"])
    call = TargetCall.send(
        arn,
        body,
        group_id=(target.get("SqsParameters") or {}).get("MessageGroupId"),
        deduplication_id=execution,
        partition_key=(target.get("KinesisParameters") or {}).get("PartitionKey") or execution,
    )
    if call is not None:
        return call
    parsed = Arn.try_parse(arn)
    service = parsed.service if parsed is not None else ""
    if service == "events":
        parameters = target.get("EventBridgeParameters") or {}
        entry = {
            "Source": parameters.get("Source"),
            "DetailType": parameters.get("DetailType"),
            "Detail": body,
            "Resources": [schedule_arn],
        }
        return TargetCall(service, arn, {"entry": entry})
    return TargetCall(service, arn, {})
