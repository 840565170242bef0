"""EventBridge Scheduler through the wire (boto3 over ``boto3_in_process``): schedule groups
and tags, schedules and their refusals, and firings on a ManualClock to queues, functions
and event buses, in a time zone, between StartDate and EndDate, once (``at``) with
ActionAfterCompletion DELETE, and to a dead-letter queue."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from headwater import Headwater, ManualClock
from tests.functional.eventbridge.wire import (
    ACCOUNT,
    REGION,
    START,
    Clients,
    dead_letters,
    drain,
    error_of,
    make_queue,
)
from tests.functional.recorders import make_recorder

ROLE = f"arn:aws:iam::{ACCOUNT}:role/scheduler"
OFF = {"Mode": "OFF"}


def target(arn: str, **extra: Any) -> dict[str, Any]:
    return {"Arn": arn, "RoleArn": ROLE, **extra}


# ---------------------------------------------------------------------------- groups


def test_schedule_groups_and_their_tags(scheduler: Any) -> None:
    arn = scheduler.create_schedule_group(Name="jobs", Tags=[{"Key": "team", "Value": "a"}])[
        "ScheduleGroupArn"
    ]
    assert arn == f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/jobs"
    got = scheduler.get_schedule_group(Name="jobs")
    assert (got["Name"], got["State"], got["CreationDate"].timestamp()) == ("jobs", "ACTIVE", START)
    assert scheduler.get_schedule_group(Name="default")["State"] == "ACTIVE"
    assert [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]] == [
        "default",
        "jobs",
    ]
    assert error_of(scheduler.create_schedule_group, Name="jobs") == {
        "Code": "ConflictException",
        "Message": "Schedule group jobs already exists.",
    }
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "team", "Value": "a"}
    ]
    scheduler.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}])
    scheduler.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "env", "Value": "dev"}
    ]
    scheduler.create_schedule(
        Name="nightly",
        GroupName="jobs",
        ScheduleExpression="rate(1 day)",
        FlexibleTimeWindow=OFF,
        Target=target(f"arn:aws:sqs:{REGION}:{ACCOUNT}:inbox"),
    )
    scheduler.delete_schedule_group(Name="jobs")  # and its schedules
    assert error_of(scheduler.get_schedule_group, Name="jobs")["Code"] == (
        "ResourceNotFoundException"
    )
    assert scheduler.list_schedules()["Schedules"] == []
    assert error_of(scheduler.delete_schedule_group, Name="default")["Code"] == (
        "ValidationException"
    )


# ---------------------------------------------------------------------------- schedules


def test_create_get_update_list_and_delete_schedules(scheduler: Any) -> None:
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:inbox"
    arn = scheduler.create_schedule(
        Name="tick",
        ScheduleExpression="rate(5 minutes)",
        FlexibleTimeWindow=OFF,
        Target=target(queue, Input='{"job": "tick"}'),
        Description="every five",
    )["ScheduleArn"]
    assert arn == f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/tick"
    got = scheduler.get_schedule(Name="tick")
    got.pop("ResponseMetadata")
    assert got == {
        "Arn": arn,
        "GroupName": "default",
        "Name": "tick",
        "ScheduleExpression": "rate(5 minutes)",
        "ScheduleExpressionTimezone": "UTC",
        "State": "ENABLED",
        "Description": "every five",
        "CreationDate": dt.datetime.fromtimestamp(START, dt.UTC),
        "LastModificationDate": dt.datetime.fromtimestamp(START, dt.UTC),
        "Target": {
            "Arn": queue,
            "RoleArn": ROLE,
            "Input": '{"job": "tick"}',
            "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185},
        },
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "NONE",
    }
    assert error_of(
        scheduler.create_schedule,
        Name="tick",
        ScheduleExpression="rate(5 minutes)",
        FlexibleTimeWindow=OFF,
        Target=target(queue),
    ) == {"Code": "ConflictException", "Message": "Schedule tick already exists."}
    scheduler.update_schedule(
        Name="tick",
        ScheduleExpression="cron(0 9 * * ? *)",
        ScheduleExpressionTimezone="Europe/Paris",
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
        State="DISABLED",
        Target=target(queue),
    )
    got = scheduler.get_schedule(Name="tick")
    assert (got["ScheduleExpression"], got["State"], "Description" in got) == (
        "cron(0 9 * * ? *)",
        "DISABLED",
        False,  # an update replaces every setting
    )
    listed = scheduler.list_schedules(State="DISABLED")["Schedules"]
    assert [(s["Name"], s["GroupName"], s["Target"]) for s in listed] == [
        ("tick", "default", {"Arn": queue})
    ]
    assert scheduler.list_schedules(NamePrefix="x")["Schedules"] == []
    scheduler.delete_schedule(Name="tick")
    assert error_of(scheduler.get_schedule, Name="tick") == {
        "Code": "ResourceNotFoundException",
        "Message": "Schedule tick does not exist.",
    }
    assert error_of(scheduler.delete_schedule, Name="tick")["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    "expression",
    ["rate(10 seconds)", "rate(10)", "cron(0 1 * * * *)", "at(2021-12-31T23:59:59Z)", "daily"],
)
def test_invalid_schedule_expressions_are_refused(scheduler: Any, expression: str) -> None:
    assert error_of(
        scheduler.create_schedule,
        Name="bad",
        ScheduleExpression=expression,
        FlexibleTimeWindow=OFF,
        Target=target(f"arn:aws:sqs:{REGION}:{ACCOUNT}:inbox"),
    ) == {"Code": "ValidationException", "Message": f"Invalid Schedule Expression {expression}."}


def test_other_refusals(scheduler: Any) -> None:
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:inbox"
    base = {"ScheduleExpression": "rate(1 hour)", "FlexibleTimeWindow": OFF}
    assert error_of(
        scheduler.create_schedule, Name="x", GroupName="nope", Target=target(queue), **base
    ) == {"Code": "ResourceNotFoundException", "Message": "Schedule group nope does not exist."}
    assert (
        error_of(
            scheduler.create_schedule,
            Name="x",
            ScheduleExpressionTimezone="Mars/Olympus",
            Target=target(queue),
            **base,
        )["Code"]
        == "ValidationException"
    )
    refused = error_of(
        scheduler.create_schedule,
        Name="x",
        Target=target(queue, RetryPolicy={"MaximumRetryAttempts": 200}),
        **base,
    )
    assert refused["Code"] == "ValidationException"
    assert "less than or equal to 185" in refused["Message"]
    assert scheduler.list_schedules()["Schedules"] == []


# ---------------------------------------------------------------------------- firing


def test_rate_schedule_sends_its_input_to_a_queue(
    scheduler: Any, client: Clients, clock: ManualClock
) -> None:
    url, queue = make_queue(client)
    arn = scheduler.create_schedule(
        Name="tick",
        ScheduleExpression="rate(5 minutes)",
        FlexibleTimeWindow=OFF,
        Target=target(
            queue,
            Input='{"schedule": "<aws.scheduler.schedule-arn>", '
            '"at": "<aws.scheduler.scheduled-time>"}',
        ),
    )["ScheduleArn"]
    clock.advance(299)
    assert drain(client, url) == []
    clock.advance(1)
    (body,) = drain(client, url)
    assert json.loads(body) == {"schedule": arn, "at": "2027-01-04T00:05:00Z"}
    clock.advance(300)
    assert len(drain(client, url)) == 1


def test_cron_schedule_fires_in_its_time_zone(
    scheduler: Any, client: Clients, clock: ManualClock
) -> None:
    url, queue = make_queue(client)
    scheduler.create_schedule(
        Name="morning",
        ScheduleExpression="cron(0 9 * * ? *)",
        ScheduleExpressionTimezone="America/New_York",
        FlexibleTimeWindow=OFF,
        Target=target(queue, Input='{"at": "<aws.scheduler.scheduled-time>"}'),
    )
    clock.advance(14 * 3600 - 1)  # 09:00 in New York in January is 14:00 UTC
    assert drain(client, url) == []
    clock.advance(1)
    (body,) = drain(client, url)
    assert json.loads(body) == {"at": "2027-01-04T14:00:00Z"}


def test_one_time_schedule_fires_once_and_deletes_itself(
    scheduler: Any, client: Clients, clock: ManualClock
) -> None:
    url, queue = make_queue(client)
    scheduler.create_schedule(
        Name="once",
        ScheduleExpression="at(2027-01-04T00:10:00)",
        FlexibleTimeWindow=OFF,
        ActionAfterCompletion="DELETE",
        Target=target(queue, Input='"hello"'),
    )
    scheduler.create_schedule(
        Name="kept",
        ScheduleExpression="at(2027-01-04T00:10:00)",
        FlexibleTimeWindow=OFF,
        Target=target(queue, Input='"kept"'),
    )
    clock.advance(600)
    assert sorted(drain(client, url)) == ['"hello"', '"kept"']
    assert [s["Name"] for s in scheduler.list_schedules()["Schedules"]] == ["kept"]
    clock.advance(3600)
    assert drain(client, url) == []


def test_start_and_end_dates_bound_the_firings(
    scheduler: Any, client: Clients, clock: ManualClock
) -> None:
    url, queue = make_queue(client)
    scheduler.create_schedule(
        Name="window",
        ScheduleExpression="cron(* * * * ? *)",
        StartDate=dt.datetime.fromtimestamp(START + 600, dt.UTC),
        EndDate=dt.datetime.fromtimestamp(START + 780, dt.UTC),
        FlexibleTimeWindow=OFF,
        Target=target(queue, Input='"<aws.scheduler.scheduled-time>"'),
    )
    for _ in range(20):
        clock.advance(60)
    assert [json.loads(body) for body in drain(client, url)] == [
        "2027-01-04T00:10:00Z",
        "2027-01-04T00:11:00Z",
        "2027-01-04T00:12:00Z",
        "2027-01-04T00:13:00Z",
    ]


def test_function_target_without_input_gets_an_empty_object(
    hw: Headwater, scheduler: Any, clock: ManualClock, tmp_path: Path
) -> None:
    function, out = make_recorder(hw, tmp_path)
    scheduler.create_schedule(
        Name="tick", ScheduleExpression="rate(1 minute)", FlexibleTimeWindow=OFF,
        Target=target(function),
    )  # fmt: skip
    clock.advance(60)
    assert hw.service("lambda").wait_for_event_invocations()
    assert [json.loads(line) for line in out.read_text().splitlines()] == [{}]


def test_event_bus_target_puts_an_event(
    scheduler: Any, client: Clients, clock: ManualClock
) -> None:
    url, queue = make_queue(client)
    events = client("events")
    events.put_rule(Name="from-scheduler", EventPattern='{"source": ["jobs"]}')
    events.put_targets(Rule="from-scheduler", Targets=[{"Id": "q", "Arn": queue}])
    arn = scheduler.create_schedule(
        Name="tick",
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow=OFF,
        Target=target(
            f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default",
            Input='{"job": 1}',
            EventBridgeParameters={"Source": "jobs", "DetailType": "Job Due"},
        ),
    )["ScheduleArn"]
    clock.advance(60)
    (body,) = drain(client, url)
    event = json.loads(body)
    assert (event["source"], event["detail-type"], event["detail"], event["resources"]) == (
        "jobs",
        "Job Due",
        {"job": 1},
        [arn],
    )


def test_missing_target_goes_to_the_dead_letter_queue(
    scheduler: Any, client: Clients, clock: ManualClock
) -> None:
    dlq_url, dlq = make_queue(client, "dlq")
    gone = f"arn:aws:sqs:{REGION}:{ACCOUNT}:gone"
    arn = scheduler.create_schedule(
        Name="tick",
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow=OFF,
        Target=target(gone, Input='{"job": 1}', DeadLetterConfig={"Arn": dlq}),
    )["ScheduleArn"]
    clock.advance(60)
    ((body, attributes),) = dead_letters(client, dlq_url)
    assert body == {"job": 1}  # the target's input
    assert attributes.pop("EXECUTION_ID")
    assert attributes.pop("ERROR_MESSAGE")
    assert attributes == {
        "ERROR_CODE": "NO_RESOURCE",
        "IS_PAYLOAD_TRUNCATED": "false",
        "RETRY_ATTEMPTS": "0",
        "SCHEDULED_TIME": "2027-01-04T00:01:00Z",
        "SCHEDULE_ARN": arn,
        "TARGET_ARN": gone,
    }


def test_schedules_fire_after_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    clock = ManualClock(START)
    with Headwater(data_dir=data, clock=clock, functions="inline") as first:
        url = first.sqs.create_queue(QueueName="inbox")["QueueUrl"]
        first.client("scheduler").create_schedule(
            Name="tick",
            ScheduleExpression="rate(1 minute)",
            FlexibleTimeWindow=OFF,
            Target=target(f"arn:aws:sqs:{REGION}:{ACCOUNT}:inbox", Input='"tick"'),
        )
    clock.advance(120)
    with Headwater(data_dir=data, clock=clock, functions="inline") as second:
        second.start()
        clock.advance(1)
        (message,) = second.sqs.receive_message(QueueUrl=url)["Messages"]
        assert message["Body"] == '"tick"'


def test_the_first_firing_after_a_restart_makes_the_services_it_sends_to(
    tmp_path: Path,
) -> None:
    """A fresh headwater firing a schedule, with a dead-letter queue, makes the services it
    sends to inside the firing's transaction (``test_service_creation_locks`` has why that
    is safe) and the event reaches the dead-letter queue."""
    data = tmp_path / "data"
    clock = ManualClock(START)
    with Headwater(data_dir=data, clock=clock, functions="inline") as first:
        first.sqs.create_queue(QueueName="dlq")
        first.client("scheduler").create_schedule(
            Name="tick",
            ScheduleExpression="rate(1 minute)",
            FlexibleTimeWindow=OFF,
            Target=target(
                f"arn:aws:sqs:{REGION}:{ACCOUNT}:gone",
                DeadLetterConfig={"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"},
            ),
        )
    with Headwater(data_dir=data, clock=clock, functions="inline") as hw:
        hw.service("scheduler")
        clock.advance(60)
        assert hw.existing_service("sqs") is not None
        (dead_letter,) = hw.sqs.receive_message(
            QueueUrl=hw.sqs.get_queue_url(QueueName="dlq")["QueueUrl"]
        )["Messages"]
    assert dead_letter["Body"] == "{}"
