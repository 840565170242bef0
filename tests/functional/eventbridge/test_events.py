"""Amazon EventBridge through the wire (boto3 over ``boto3_in_process``): buses, rules,
targets, tags, PutEvents delivery to queues, topics and functions with Input, InputPath and
InputTransformer, and scheduled rules firing on a ManualClock."""

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
    drain,
    entry,
    error_of,
    make_queue,
)
from tests.functional.recorders import make_recorder

# ---------------------------------------------------------------------------- rules


def test_put_describe_list_and_delete_rules(events: Any) -> None:
    pattern = json.dumps({"source": ["shop.orders"]})
    arn = events.put_rule(Name="orders", EventPattern=pattern, Description="all orders")["RuleArn"]
    assert arn == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/orders"
    described = events.describe_rule(Name="orders")
    assert {k: described[k] for k in ("Name", "Arn", "EventPattern", "State", "EventBusName")} == {
        "Name": "orders",
        "Arn": arn,
        "EventPattern": pattern,
        "State": "ENABLED",
        "EventBusName": "default",
    }
    assert described["Description"] == "all orders"
    assert described["CreatedBy"] == ACCOUNT
    events.put_rule(Name="nightly", ScheduleExpression="cron(0 2 * * ? *)", State="DISABLED")
    events.put_rule(Name="often", ScheduleExpression="rate(5 minutes)")
    rules = events.list_rules()["Rules"]
    assert [rule["Name"] for rule in rules] == ["nightly", "often", "orders"]
    assert rules[0]["State"] == "DISABLED" and rules[0]["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert [r["Name"] for r in events.list_rules(NamePrefix="o")["Rules"]] == ["often", "orders"]
    first = events.list_rules(Limit=2)
    assert [r["Name"] for r in first["Rules"]] == ["nightly", "often"]
    second = events.list_rules(Limit=2, NextToken=first["NextToken"])
    assert [r["Name"] for r in second["Rules"]] == ["orders"] and "NextToken" not in second
    events.disable_rule(Name="orders")
    assert events.describe_rule(Name="orders")["State"] == "DISABLED"
    events.enable_rule(Name="orders")
    assert events.describe_rule(Name="orders")["State"] == "ENABLED"
    # PutRule on an existing rule replaces it (what it omits is not kept)
    events.put_rule(Name="orders", EventPattern=pattern)
    assert "Description" not in events.describe_rule(Name="orders")
    events.delete_rule(Name="orders")
    events.delete_rule(Name="orders")  # deleting what is gone succeeds, as on AWS
    error = error_of(events.describe_rule, Name="orders")
    assert error == {
        **error,
        "Code": "ResourceNotFoundException",
        "Message": "Rule orders does not exist on EventBus default.",
    }
    assert error_of(events.enable_rule, Name="orders")["Code"] == "ResourceNotFoundException"


def test_rule_input_errors(events: Any) -> None:
    error = error_of(events.put_rule, Name="bad", EventPattern='{"source": "x"}')
    assert error["Code"] == "InvalidEventPatternException"
    assert (
        error["Message"]
        == 'Event pattern is not valid. Reason: "source" must be an object or an array'
    )
    error = error_of(events.put_rule, Name="bad", EventPattern="{not json")
    assert error["Code"] == "InvalidEventPatternException"
    assert error["Message"].startswith("Event pattern is not valid. Reason: ")
    for expression in (
        "rate(5 minute)",
        "rate(1 minutes)",
        "cron(0 2 * * * *)",
        "cron(0 2 * *)",
        "daily",
    ):
        error = error_of(events.put_rule, Name="bad", ScheduleExpression=expression)
        assert error == {
            **error,
            "Code": "ValidationException",
            "Message": "Parameter ScheduleExpression is not valid.",
        }, expression
    error = error_of(events.put_rule, Name="bad")
    assert error["Code"] == "ValidationException"
    assert error["Message"] == "Parameter(s) EventPattern or ScheduleExpression must be specified."
    error = error_of(events.put_rule, Name="bad name", EventPattern='{"source": ["x"]}')
    assert error["Code"] == "ValidationException"
    error = error_of(
        events.put_rule, Name="r", EventPattern='{"source": ["x"]}', EventBusName="missing"
    )
    assert error == {
        **error,
        "Code": "ResourceNotFoundException",
        "Message": "Event bus missing does not exist.",
    }
    assert events.list_rules()["Rules"] == []


def test_targets_put_list_remove_and_delete_guard(events: Any, client: Clients) -> None:
    _, queue = make_queue(client)
    events.put_rule(Name="orders", EventPattern='{"source": ["shop.orders"]}')
    error = error_of(
        events.put_targets,
        Rule="orders",
        Targets=[
            {"Id": "q", "Arn": queue, "InputPath": "$.detail"},
            {"Id": "bad", "Arn": "not-an-arn"},
        ],
    )
    assert error == {
        **error,
        "Code": "ValidationException",
        "Message": (
            "Parameter not-an-arn is not valid. Reason: Provided Arn is not in correct format."
        ),
    }
    assert events.list_targets_by_rule(Rule="orders")["Targets"] == []  # nothing of it put
    answer = events.put_targets(
        Rule="orders", Targets=[{"Id": "q", "Arn": queue, "InputPath": "$.detail"}]
    )
    assert (answer["FailedEntryCount"], answer["FailedEntries"]) == (0, [])
    assert events.list_targets_by_rule(Rule="orders")["Targets"] == [
        {"Id": "q", "Arn": queue, "InputPath": "$.detail"}
    ]
    # putting an Id again replaces that target
    events.put_targets(Rule="orders", Targets=[{"Id": "q", "Arn": queue, "Input": '{"k": 1}'}])
    assert events.list_targets_by_rule(Rule="orders")["Targets"] == [
        {"Id": "q", "Arn": queue, "Input": '{"k": 1}'}
    ]
    error = error_of(events.delete_rule, Name="orders")
    assert error == {
        **error,
        "Code": "ValidationException",
        "Message": "Rule can't be deleted since it has targets.",
    }
    many = [{"Id": f"t{n}", "Arn": queue} for n in range(5)]
    assert error_of(events.put_targets, Rule="orders", Targets=many)["Code"] == (
        "LimitExceededException"
    )
    assert len(events.list_targets_by_rule(Rule="orders")["Targets"]) == 1
    error = error_of(
        events.put_targets,
        Rule="orders",
        Targets=[{"Id": "x", "Arn": queue, "Input": "{}", "InputPath": "$.detail"}],
    )
    assert (error["Code"], error["Message"]) == (
        "ValidationException",
        "Only one of Input, InputPath, or InputTransformer must be provided for target x.",
    )
    transformer = {"InputPathsMap": {"a": "$.detail.a"}, "InputTemplate": '"<a> <b>"'}
    error = error_of(
        events.put_targets,
        Rule="orders",
        Targets=[{"Id": "x", "Arn": queue, "InputTransformer": transformer}],
    )
    assert (error["Code"], error["Message"]) == (
        "ValidationException",
        "InputTemplate for target x contains invalid placeholder b.",
    )
    error = error_of(
        events.put_targets, Rule="orders", Targets=[{"Id": "x", "Arn": queue, "Input": "{"}]
    )
    assert error["Code"] == "ValidationException"
    error = error_of(events.put_targets, Rule="missing", Targets=[{"Id": "x", "Arn": queue}])
    assert error["Code"] == "ResourceNotFoundException"
    removed = events.remove_targets(Rule="orders", Ids=["q"])
    assert removed["FailedEntryCount"] == 0
    assert events.list_targets_by_rule(Rule="orders")["Targets"] == []
    events.delete_rule(Name="orders")
    assert events.list_rules()["Rules"] == []


def test_event_buses_and_tags(events: Any) -> None:
    arn = events.create_event_bus(Name="orders", Tags=[{"Key": "team", "Value": "shop"}])[
        "EventBusArn"
    ]
    assert arn == f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/orders"
    error = error_of(events.create_event_bus, Name="orders")
    assert error == {
        **error,
        "Code": "ResourceAlreadyExistsException",
        "Message": "Event bus orders already exists.",
    }
    assert events.describe_event_bus(Name="orders")["Arn"] == arn
    error = error_of(events.create_event_bus, Name="a/b")
    assert (error["Code"], error["Message"]) == (
        "ValidationException",
        "Event bus name must not contain '/'.",
    )
    default = events.describe_event_bus()
    assert default["Name"] == "default"
    assert [b["Name"] for b in events.list_event_buses()["EventBuses"]] == ["default", "orders"]
    assert [b["Name"] for b in events.list_event_buses(NamePrefix="or")["EventBuses"]] == ["orders"]
    rule = events.put_rule(Name="big", EventPattern='{"source": ["s"]}', EventBusName="orders")
    assert rule["RuleArn"] == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/orders/big"
    assert events.list_rules()["Rules"] == []  # the default bus's rules
    assert [r["Name"] for r in events.list_rules(EventBusName="orders")["Rules"]] == ["big"]
    assert events.describe_rule(Name="big", EventBusName=arn)["EventBusName"] == "orders"
    error = error_of(
        events.put_rule, Name="tick", ScheduleExpression="rate(1 hour)", EventBusName="orders"
    )
    assert error["Message"] == "ScheduleExpression is supported only on the default event bus."

    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "team", "Value": "shop"}
    ]
    events.tag_resource(ResourceARN=rule["RuleArn"], Tags=[{"Key": "a", "Value": "1"}])
    events.tag_resource(ResourceARN=rule["RuleArn"], Tags=[{"Key": "b", "Value": "2"}])
    events.untag_resource(ResourceARN=rule["RuleArn"], TagKeys=["a"])
    assert events.list_tags_for_resource(ResourceARN=rule["RuleArn"])["Tags"] == [
        {"Key": "b", "Value": "2"}
    ]
    missing = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/nope"
    assert error_of(events.list_tags_for_resource, ResourceARN=missing)["Code"] == (
        "ResourceNotFoundException"
    )
    assert error_of(events.delete_event_bus, Name="default")["Code"] == "ValidationException"
    events.delete_event_bus(Name="orders")
    events.delete_event_bus(Name="orders")
    assert error_of(events.describe_event_bus, Name="orders")["Message"] == (
        "Event bus orders does not exist."
    )
    assert [b["Name"] for b in events.list_event_buses()["EventBuses"]] == ["default"]


def test_test_event_pattern(events: Any) -> None:
    event = {
        "id": "1",
        "source": "shop.orders",
        "detail-type": "Order Placed",
        "account": ACCOUNT,
        "region": REGION,
        "time": "2027-01-04T00:00:00Z",
        "resources": [],
        "detail": {"amount": 12},
    }
    pattern = {"detail": {"amount": [{"numeric": [">", 10]}]}}
    assert events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(event))[
        "Result"
    ]
    pattern = {"detail": {"amount": [{"numeric": [">", 20]}]}}
    assert not events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(event))[
        "Result"
    ]
    error = error_of(events.test_event_pattern, EventPattern='{"a": 1}', Event=json.dumps(event))
    assert error["Code"] == "InvalidEventPatternException"
    # an event without one of its required fields (resources may be left out)
    del event["resources"]
    assert events.test_event_pattern(
        EventPattern='{"source": ["shop.orders"]}', Event=json.dumps(event)
    )["Result"]
    for field in ("id", "account", "source", "time", "region", "detail-type"):
        partial = {k: v for k, v in event.items() if k != field}
        error = error_of(
            events.test_event_pattern, EventPattern='{"a": [1]}', Event=json.dumps(partial)
        )
        assert (error["Code"], error["Message"]) == (
            "ValidationException",
            "Parameter Event is not valid.",
        ), field
    error = error_of(events.test_event_pattern, EventPattern='{"a": [1]}', Event="{bad")
    assert error["Message"] == "Parameter Event is not valid."


def test_unknown_operation_is_refused(events: Any) -> None:
    error = error_of(events.list_archives)
    assert error["Code"] == "UnknownOperationException"
    assert "ListArchives" in error["Message"]


# ---------------------------------------------------------------------------- PutEvents


def test_put_events_reaches_matching_rules_targets(events: Any, client: Clients) -> None:
    url, queue = make_queue(client)
    other_url, other_queue = make_queue(client, "other")
    events.put_rule(
        Name="big-orders",
        EventPattern=json.dumps(
            {"source": ["shop.orders"], "detail": {"amount": [{"numeric": [">=", 10]}]}}
        ),
    )
    events.put_targets(Rule="big-orders", Targets=[{"Id": "q", "Arn": queue}])
    events.put_rule(Name="off", EventPattern='{"source": ["shop.orders"]}', State="DISABLED")
    events.put_targets(Rule="off", Targets=[{"Id": "q", "Arn": other_queue}])
    answer = events.put_events(
        Entries=[
            entry(detail={"amount": 50}, Resources=["arn:aws:shop:::order/1"]),
            entry(detail={"amount": 5}),
            entry(source="shop.returns", detail={"amount": 50}),
            entry(detail={"amount": 11}, Time=dt.datetime(2026, 5, 1, 12, 30, 5, tzinfo=dt.UTC)),
        ]
    )
    assert answer["FailedEntryCount"] == 0
    ids = [e["EventId"] for e in answer["Entries"]]
    assert len(set(ids)) == 4
    delivered = [json.loads(body) for body in drain(client, url)]
    assert [e["id"] for e in delivered] == [ids[0], ids[3]]
    assert delivered[0] == {
        "version": "0",
        "id": ids[0],
        "detail-type": "Order Placed",
        "source": "shop.orders",
        "account": ACCOUNT,
        "time": "2027-01-04T00:00:00Z",
        "region": REGION,
        "resources": ["arn:aws:shop:::order/1"],
        "detail": {"amount": 50},
    }
    assert delivered[1]["time"] == "2026-05-01T12:30:05Z"
    assert drain(client, other_url) == []  # a disabled rule sends nothing


def test_put_events_entry_failures(events: Any) -> None:
    answer = events.put_events(
        Entries=[
            {"DetailType": "x", "Detail": "{}"},
            {"Source": "s", "Detail": "{}"},
            {"Source": "s", "DetailType": "x"},
            {"Source": "s", "DetailType": "x", "Detail": "[1]"},
            {"Source": "s", "DetailType": "x", "Detail": "{bad"},
            {"Source": "aws.ec2", "DetailType": "x", "Detail": "{}"},
            {"Source": "s", "DetailType": "x", "Detail": "{}", "EventBusName": "nope"},
            {"Source": "s", "DetailType": "x", "Detail": "{}"},
        ]
    )
    assert answer["FailedEntryCount"] == 7
    codes = [(e.get("ErrorCode"), e.get("ErrorMessage")) for e in answer["Entries"]]
    assert codes[:3] == [
        (
            "InvalidArgument",
            "Parameter Source is not valid. Reason: Source is a required argument.",
        ),
        (
            "InvalidArgument",
            "Parameter DetailType is not valid. Reason: DetailType is a required argument.",
        ),
        (
            "InvalidArgument",
            "Parameter Detail is not valid. Reason: Detail is a required argument.",
        ),
    ]
    assert codes[3] == codes[4] == ("MalformedDetail", "Detail is malformed.")
    assert codes[5][0] == "NotAuthorizedForSourceException"
    assert codes[6] == ("ResourceNotFoundException", "Event bus nope does not exist.")
    assert "EventId" in answer["Entries"][7]
    error = error_of(events.put_events, Entries=[entry()] * 11)
    assert error["Code"] == "ValidationException"
    big = entry(detail={"text": "x" * (130 * 1024)})
    error = error_of(events.put_events, Entries=[big, big])
    assert (error["Code"], error["Message"]) == (
        "ValidationException",
        "Total size of the entries in the request is over the limit.",
    )
    assert events.put_events(Entries=[big])["FailedEntryCount"] == 0


def test_custom_bus_events_reach_only_its_rules(events: Any, client: Clients) -> None:
    url, queue = make_queue(client)
    bus = events.create_event_bus(Name="shop")["EventBusArn"]
    events.put_rule(Name="r", EventPattern='{"source": ["shop.orders"]}', EventBusName="shop")
    events.put_targets(Rule="r", EventBusName="shop", Targets=[{"Id": "q", "Arn": queue}])
    events.put_events(Entries=[entry()])  # the default bus: no rule
    events.put_events(Entries=[entry(EventBusName=bus)])
    events.put_events(Entries=[entry(EventBusName="shop")])
    assert len(drain(client, url)) == 2


def test_input_input_path_and_input_transformer(events: Any, client: Clients) -> None:
    urls = {}
    targets = []
    shapes: dict[str, dict[str, Any]] = {
        "constant": {"Input": '{"fixed": true}'},
        "path": {"InputPath": "$.detail.customer"},
        "transformed": {
            "InputTransformer": {
                "InputPathsMap": {
                    "name": "$.detail.customer.name",
                    "amount": "$.detail.amount",
                    "items": "$.detail.items",
                    "first": "$.detail.items[0]",
                    "none": "$.detail.missing",
                },
                "InputTemplate": (
                    '{"text": "<name> paid <amount>", "amount": <amount>, "items": <items>,'
                    ' "first": "<first>", "missing": <none>, "rule": "<aws.events.rule-name>",'
                    ' "quoted": "say \\"<name>\\""}'
                ),
            }
        },
        "sentence": {
            "InputTransformer": {
                "InputPathsMap": {"name": "$.detail.customer.name"},
                "InputTemplate": '"<name> placed an order"',
            }
        },
        "predefined": {
            "InputTransformer": {
                "InputTemplate": (
                    '{"event": <aws.events.event>, "whole": <aws.events.event.json>,'
                    ' "text": "<aws.events.rule-arn> at <aws.events.event.ingestion-time>"}'
                )
            }
        },
    }
    for name, shape in shapes.items():
        urls[name], arn = make_queue(client, name)
        targets.append({"Id": name, "Arn": arn, **shape})
    events.put_rule(Name="orders", EventPattern='{"source": ["shop.orders"]}')
    events.put_targets(Rule="orders", Targets=targets)
    detail = {"customer": {"name": 'Ann "A"', "id": 7}, "amount": 12.5, "items": ["a", "b"]}
    events.put_events(Entries=[entry(detail=detail)])
    assert drain(client, urls["constant"]) == ['{"fixed": true}']
    assert [json.loads(b) for b in drain(client, urls["path"])] == [{"name": 'Ann "A"', "id": 7}]
    (transformed,) = drain(client, urls["transformed"])
    assert json.loads(transformed) == {
        "text": 'Ann "A" paid 12.5',
        "amount": 12.5,
        "items": ["a", "b"],
        "first": "a",
        "missing": "",  # as AWS delivers a missing value outside a string
        "rule": "orders",
        "quoted": 'say "Ann "A""',
    }
    assert [json.loads(b) for b in drain(client, urls["sentence"])] == ['Ann "A" placed an order']
    (predefined,) = [json.loads(b) for b in drain(client, urls["predefined"])]
    whole = predefined["whole"]
    assert whole["detail"] == detail
    # <aws.events.event> is the event without its detail, detail-type named detailType
    assert predefined["event"] == {
        "id": whole["id"],
        "account": ACCOUNT,
        "detailType": "Order Placed",
        "time": whole["time"],
        "source": "shop.orders",
        "region": REGION,
        "resources": [],
        "version": "0",
    }
    rule_arn = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/orders"
    assert predefined["text"] == f"{rule_arn} at {whole['time']}"


def test_event_reaches_a_topic(events: Any, client: Clients) -> None:
    url, queue = make_queue(client)
    sns = client("sns")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue, Attributes={"RawMessageDelivery": "true"}
    )
    events.put_rule(Name="orders", EventPattern='{"source": ["shop.orders"]}')
    events.put_targets(Rule="orders", Targets=[{"Id": "t", "Arn": topic}])
    event_id = events.put_events(Entries=[entry()])["Entries"][0]["EventId"]
    (body,) = drain(client, url)
    assert json.loads(body)["id"] == event_id


def invocations(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []


def test_event_invokes_a_function_asynchronously(
    hw: Headwater, events: Any, tmp_path: Path
) -> None:
    function, out = make_recorder(hw, tmp_path)
    events.put_rule(Name="orders", EventPattern='{"detail-type": ["Order Placed"]}')
    events.put_targets(Rule="orders", Targets=[{"Id": "f", "Arn": function}])
    event_id = events.put_events(Entries=[entry()])["Entries"][0]["EventId"]
    assert hw.service("lambda").wait_for_event_invocations()
    (received,) = invocations(out)
    assert received["id"] == event_id
    assert received["detail"] == {"amount": 5}


# ---------------------------------------------------------------------------- schedules


def test_rate_schedule_fires_every_period_from_creation(
    hw: Headwater, events: Any, client: Clients, clock: ManualClock
) -> None:
    url, queue = make_queue(client)
    clock.advance(30)  # created at 00:00:30: fires at 00:05:30, 00:10:30, ...
    rule = events.put_rule(Name="often", ScheduleExpression="rate(5 minutes)")["RuleArn"]
    events.put_targets(Rule="often", Targets=[{"Id": "q", "Arn": queue}])
    for _ in range(12 * 60):  # twelve minutes, a second at a time
        clock.advance(1)
    fired = [json.loads(body) for body in drain(client, url)]
    assert [e["time"] for e in fired] == ["2027-01-04T00:05:30Z", "2027-01-04T00:10:30Z"]
    assert fired[0] == {
        **fired[0],
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "resources": [rule],
        "detail": {},
        "account": ACCOUNT,
        "region": REGION,
        "version": "0",
    }
    events.disable_rule(Name="often")
    for _ in range(20):
        clock.advance(60)
    assert drain(client, url) == []
    events.enable_rule(Name="often")
    for _ in range(5):
        clock.advance(60)  # 00:37:30 now: 00:35:30 fired
    assert [json.loads(b)["time"] for b in drain(client, url)] == ["2027-01-04T00:35:30Z"]


def test_cron_schedule_fires_at_matching_minutes(
    hw: Headwater, events: Any, client: Clients, clock: ManualClock
) -> None:
    url, queue = make_queue(client)
    events.put_rule(Name="quarter", ScheduleExpression="cron(0/15 1-2 ? * MON *)")
    events.put_targets(Rule="quarter", Targets=[{"Id": "q", "Arn": queue}])
    for _ in range(3 * 60):  # Monday 00:00 to 03:00, a minute at a time
        clock.advance(60)
    times = [json.loads(body)["time"][11:16] for body in drain(client, url)]
    assert times == ["01:00", "01:15", "01:30", "01:45", "02:00", "02:15", "02:30", "02:45"]


def test_missed_firings_are_not_replayed(
    hw: Headwater, events: Any, client: Clients, clock: ManualClock
) -> None:
    url, queue = make_queue(client)
    events.put_rule(Name="minutely", ScheduleExpression="rate(1 minute)")
    events.put_targets(Rule="minutely", Targets=[{"Id": "q", "Arn": queue}])
    clock.advance(3600)  # one jump over sixty firings: one catch-up
    assert len(drain(client, url)) == 1
    clock.advance(60)
    assert len(drain(client, url)) == 1


def test_scheduled_function_runs_and_schedule_survives_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    clock = ManualClock(START)
    with Headwater(data_dir=data, clock=clock, functions="inline") as first:
        function, out = make_recorder(first, tmp_path)
        first.events.put_rule(Name="tick", ScheduleExpression="rate(2 minutes)")
        first.events.put_targets(Rule="tick", Targets=[{"Id": "f", "Arn": function}])
        clock.advance(120)
        assert first.service("lambda").wait_for_event_invocations()
        assert len(invocations(out)) == 1
    second_clock = ManualClock(START + 120)
    with Headwater(data_dir=data, clock=second_clock, functions="inline") as second:
        second.start()
        second_clock.advance(120)
        assert second.service("lambda").wait_for_event_invocations()
        fired = invocations(out)
        assert [e["time"] for e in fired] == ["2027-01-04T00:02:00Z", "2027-01-04T00:04:00Z"]
        assert fired[1]["detail-type"] == "Scheduled Event"


def test_function_event_is_stored_with_put_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Event invocation is written in PutEvents' transaction: a process that dies after
    answering, before starting the invocation, leaves it stored, and the next process on
    the data directory runs it."""
    from headwater.services.events.delivery import Sent

    data = tmp_path / "data"
    with monkeypatch.context() as patch:
        # the process "dies" between the commit and starting what it stored
        patch.setattr(Sent, "after_commit", lambda self, env: None)
        with Headwater(data_dir=data, clock=ManualClock(START), functions="inline") as first:
            function, out = make_recorder(first, tmp_path)
            first.events.put_rule(Name="orders", EventPattern='{"source": ["shop.orders"]}')
            first.events.put_targets(Rule="orders", Targets=[{"Id": "f", "Arn": function}])
            event_id = first.events.put_events(Entries=[entry()])["Entries"][0]["EventId"]
            assert first.service("lambda").wait_for_event_invocations()
            assert not out.exists()
    with Headwater(data_dir=data, clock=ManualClock(START), functions="inline") as second:
        assert second.service("lambda").wait_for_event_invocations()
    assert [event["id"] for event in invocations(out)] == [event_id]


def test_fifo_queue_target_gets_group_and_deduplication(events: Any, client: Clients) -> None:
    sqs = client("sqs")
    url = sqs.create_queue(QueueName="orders.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name="orders", EventPattern='{"source": ["shop.orders"]}')
    error = error_of(events.put_targets, Rule="orders", Targets=[{"Id": "fifo", "Arn": arn}])
    assert error["Message"] == "Parameter(s) SqsParameters must be specified for target: fifo."
    events.put_targets(
        Rule="orders",
        Targets=[{"Id": "q", "Arn": arn, "SqsParameters": {"MessageGroupId": "shop"}}],
    )
    event_id = events.put_events(Entries=[entry()])["Entries"][0]["EventId"]
    (message,) = sqs.receive_message(QueueUrl=url, AttributeNames=["All"], MaxNumberOfMessages=10)[
        "Messages"
    ]
    assert message["Attributes"]["MessageGroupId"] == "shop"
    assert message["Attributes"]["MessageDeduplicationId"] == event_id
    assert json.loads(message["Body"])["id"] == event_id


def test_the_first_delivery_after_a_restart_makes_the_target_services(tmp_path: Path) -> None:
    """The first delivery after a restart (a schedule's firing, PutEvents) makes its
    targets' services inside its transaction (``test_service_creation_locks`` has why that
    is safe: it deadlocked with a thread building the engine once)."""
    data = tmp_path / "data"
    clock = ManualClock(START)
    with Headwater(data_dir=data, clock=clock, functions="inline") as first:
        function, _ = make_recorder(first, tmp_path)
        first.sqs.create_queue(QueueName="inbox")
        topic = first.sns.create_topic(Name="notices")["TopicArn"]
        first.kinesis.create_stream(StreamName="orders", ShardCount=1)
        targets = [
            {"Id": "f", "Arn": function},
            {
                "Id": "q",
                "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:inbox",
                "DeadLetterConfig": {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"},
            },
            {"Id": "t", "Arn": topic},
            {"Id": "k", "Arn": f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/orders"},
        ]
        first.events.put_rule(Name="tick", ScheduleExpression="rate(1 minute)")
        first.events.put_targets(Rule="tick", Targets=targets)
        first.events.put_rule(Name="orders", EventPattern='{"source": ["shop.orders"]}')
        first.events.put_targets(Rule="orders", Targets=targets)
    for deliver in ("schedule", "put_events"):
        with Headwater(data_dir=data, clock=clock, functions="inline") as hw:
            hw.service("events")
            if deliver == "schedule":
                clock.advance(60)
            else:
                hw.events.put_events(Entries=[entry()])
            assert all(hw.existing_service(name) for name in ("lambda", "sqs", "sns", "kinesis"))
            inbox = hw.sqs.get_queue_url(QueueName="inbox")["QueueUrl"]
            received = hw.sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10)
            assert len(received["Messages"]) == 1, deliver
            hw.sqs.delete_message(
                QueueUrl=inbox, ReceiptHandle=received["Messages"][0]["ReceiptHandle"]
            )
