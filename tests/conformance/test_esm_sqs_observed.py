"""SQS event source mappings against what AWS really sent and answered
(``tests/data/conformance/esm-aws-observed.json``, a copy of the shared recording; source "sqs")."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from tests.conftest import DATA
from tests.functional.esm_fakes import FakeInvoker, PollerHarness, mapping, ok

OBSERVED = json.loads((DATA / "conformance" / "esm-aws-observed.json").read_text("utf-8"))
SQS = [e for e in OBSERVED if e["source"] == "sqs"]
PLACEHOLDER = re.compile(r"<[^>]+>")
REQUEST_KEYS = {
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "FunctionResponseTypes",
    "FilterCriteria",
    "ScalingConfig",
    "Enabled",
}

#: The keys of an SQS event record, in the order the function receives them.
RECORD_KEYS = [
    "messageId",
    "receiptHandle",
    "body",
    "attributes",
    "messageAttributes",
    "md5OfMessageAttributes",
    "md5OfBody",
    "eventSource",
    "eventSourceARN",
    "awsRegion",
]


def records_in(value: Any) -> Iterator[dict[str, Any]]:
    """Every SQS event record anywhere in a recorded value."""
    if isinstance(value, dict):
        if value.get("eventSource") == "aws:sqs":
            yield value
            return
        for item in value.values():
            yield from records_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from records_in(item)


OBSERVED_RECORDS = [r for e in SQS if e["kind"] in ("event", "on-failure") for r in records_in(e)]


@pytest.fixture
def hw(tmp_path: Path) -> Iterator[Headwater]:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text("def handler(event, context):\n    return None\n")
    app = Headwater.in_memory(clock=ManualClock(), functions="inline")
    app.lambda_.create_function_from_directory("worker", code, "app.handler")
    try:
        yield app
    finally:
        app.close()


def wildcard(expected: str) -> re.Pattern[str]:
    parts = PLACEHOLDER.split(expected.replace("111111111111", "<account>"))
    return re.compile(".+".join(re.escape(p) for p in parts) + r"\Z")


# ----------------------------------------------------------------------------- records


def deliver(hw: Headwater, queue: str, entries: list[dict[str, Any]], **config: Any) -> Any:
    """Send ``entries`` (SendMessage kwargs) and run a poller; returns the fake function."""
    sqs = hw.client("sqs")
    attributes = {"FifoQueue": "true"} if queue.endswith(".fifo") else {}
    url = sqs.create_queue(QueueName=queue, Attributes=attributes)["QueueUrl"]
    for entry in entries:
        sqs.send_message(QueueUrl=url, **entry)
    invoker = FakeInvoker()
    clock = hw.clock
    assert isinstance(clock, ManualClock)

    async def scenario() -> None:
        async with PollerHarness(hw, clock, mapping(queue, **config), invoker) as h:
            await h.settled()
            window = config.get("MaximumBatchingWindowInSeconds", 0)
            if window:
                await h.advance(window)

    asyncio.run(scenario())
    return invoker


def test_observed_records_have_our_key_set() -> None:
    assert len(OBSERVED_RECORDS) > 30
    top = {tuple(sorted(r)) for r in OBSERVED_RECORDS}
    ours = set(RECORD_KEYS)
    # some recordings omit md5OfMessageAttributes when there are no attributes (§3.8)
    assert top <= {tuple(sorted(ours)), tuple(sorted(ours - {"md5OfMessageAttributes"}))}
    for record in OBSERVED_RECORDS:
        assert all(isinstance(v, str) for v in record["attributes"].values())


def test_record_with_message_attributes_matches_aws_exactly(hw: Headwater) -> None:
    (entry,) = [
        e
        for e in SQS
        if e["test"] == "test_message_body_and_attributes_passed_correctly"
        and e["kind"] == "event"
        and "WeeksOn" in json.dumps(e["data"])
    ][:1]
    expected = next(r for r in records_in(entry["data"]) if r["messageAttributes"])
    sent = entry["params"]["input"][0]
    invoker = deliver(
        hw,
        "books",
        [{"MessageBody": expected["body"], "MessageAttributes": sent["MessageAttributes"]}],
        BatchSize=1,
    )
    (record,) = invoker.events[0]["Records"]
    assert list(record) == RECORD_KEYS
    assert record["messageAttributes"] == expected["messageAttributes"]
    assert record["md5OfMessageAttributes"] == expected["md5OfMessageAttributes"]
    assert list(record["attributes"]) == list(expected["attributes"])
    assert record["body"] == expected["body"]
    assert record["eventSource"] == "aws:sqs"
    assert record["awsRegion"] == "us-east-1"
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:000000000000:books"


def test_record_without_attributes_and_binary_attributes(hw: Headwater) -> None:
    invoker = deliver(
        hw,
        "plain",
        [
            {"MessageBody": "x"},
            {
                "MessageBody": "y",
                "MessageAttributes": {"blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}},
            },
        ],
    )
    plain, binary = invoker.events[0]["Records"]
    assert plain["messageAttributes"] == {}
    assert plain["md5OfMessageAttributes"] is None
    assert binary["messageAttributes"] == {
        "blob": {
            "binaryValue": "AAE=",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "Binary",
        }
    }
    assert isinstance(binary["md5OfMessageAttributes"], str)


def test_fifo_record_attributes(hw: Headwater) -> None:
    invoker = deliver(
        hw,
        "f.fifo",
        [{"MessageBody": "x", "MessageGroupId": "1", "MessageDeduplicationId": "dedup-1"}],
    )
    (record,) = invoker.events[0]["Records"]
    fifo_observed = [r for r in OBSERVED_RECORDS if "MessageGroupId" in r["attributes"]]
    assert fifo_observed
    assert set(record["attributes"]) == set(fifo_observed[0]["attributes"])
    assert record["attributes"]["MessageGroupId"] == "1"
    assert record["attributes"]["MessageDeduplicationId"] == "dedup-1"


FILTER_CASES = [
    e
    for e in SQS
    if e["test"].startswith("TestSQSEventSourceMapping::test_sqs_event_filter")
    and e["kind"] == "event"
]


@pytest.mark.parametrize("entry", FILTER_CASES, ids=[e["test"].split("[")[1] for e in FILTER_CASES])
def test_filter_cases_deliver_what_aws_delivered(hw: Headwater, entry: dict[str, Any]) -> None:
    esm = entry["params"]["esm"]
    entries = []
    for item in entry["params"]["input"]:
        body = item["MessageBody"]
        entries.append({"MessageBody": body if isinstance(body, str) else json.dumps(body)})
    invoker = deliver(
        hw,
        "filtered",
        entries,
        BatchSize=10,
        MaximumBatchingWindowInSeconds=1,
        FilterCriteria=esm["FilterCriteria"],
    )
    delivered = [r["body"] for event in invoker.events for r in event["Records"]]
    expected = [
        e["MessageBody"] if isinstance(e["MessageBody"], str) else json.dumps(e["MessageBody"])
        for e in entry["params"]["input"]
        if e.get("expected") == "delivered"
    ]
    assert delivered == expected
    # what AWS's function received, body for body (bodies recorded as parsed JSON)
    aws = [r["body"] for r in records_in(entry["data"])]
    assert [json.loads(b) if b.startswith("{") else b for b in delivered] == [
        b if not isinstance(b, str) or not b.startswith("{") else json.loads(b) for b in aws
    ]


# ----------------------------------------------------------------------------- API


def replayable(entry: dict[str, Any]) -> bool:
    esm = entry["params"].get("esm")
    return (
        entry["kind"] == "api-response"
        and entry.get("operation") == "CreateEventSourceMapping"
        and isinstance(esm, dict)
        and set(esm) <= REQUEST_KEYS
    )


CREATES = [e for e in SQS if replayable(e)]


def comparable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    if isinstance(value, str) and value.startswith("{"):
        return json.loads(value)  # the recorder turned JSON strings into objects
    return value


@pytest.mark.parametrize("entry", CREATES, ids=[e["test"].split("::")[-1] for e in CREATES])
def test_create_response_matches_aws(hw: Headwater, entry: dict[str, Any]) -> None:
    expected = {k: v for k, v in entry["data"].items() if k != "ResponseMetadata"}
    queue_attributes = {}
    queue = entry["params"].get("queue") or {}
    if queue.get("FifoQueue"):
        queue_attributes["FifoQueue"] = "true"
    name = "q.fifo" if queue_attributes else "q"
    hw.client("sqs").create_queue(QueueName=name, Attributes=queue_attributes)
    esm = dict(entry["params"]["esm"])
    if isinstance(esm.get("MaximumBatchingWindowInSeconds"), str):
        esm["MaximumBatchingWindowInSeconds"] = 10  # "10 on AWS (masked in the data)"
    created = hw.client("lambda").create_event_source_mapping(
        FunctionName="worker",
        EventSourceArn=f"arn:aws:sqs:us-east-1:000000000000:{name}",
        **esm,
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    created.pop("ResponseMetadata")
    assert set(created) == set(expected)
    for key, value in expected.items():
        masked = isinstance(value, str) and (
            PLACEHOLDER.search(value) or (isinstance(created[key], int) and "-" in value)
        )
        if masked or key == "LastModified":
            continue
        assert comparable(created[key]) == value, key


def test_update_and_get_responses_match_aws(hw: Headwater) -> None:
    for entry in SQS:
        if entry["kind"] != "api-response" or entry.get("operation") not in (
            "GetEventSourceMapping",
            "UpdateEventSourceMapping",
        ):
            continue
        expected = {k for k in entry["data"] if k != "ResponseMetadata"}
        assert expected >= {"UUID", "State", "StateTransitionReason", "FunctionResponseTypes"}
        assert expected <= {
            "UUID",
            "BatchSize",
            "EventSourceArn",
            "EventSourceMappingArn",
            "FilterCriteria",
            "FunctionArn",
            "FunctionResponseTypes",
            "LastModified",
            "MaximumBatchingWindowInSeconds",
            "ScalingConfig",
            "State",
            "StateTransitionReason",
        }
    hw.client("sqs").create_queue(QueueName="q")
    lam = hw.client("lambda")
    uuid = lam.create_event_source_mapping(
        FunctionName="worker",
        EventSourceArn="arn:aws:sqs:us-east-1:000000000000:q",
        MaximumBatchingWindowInSeconds=1,
    )["UUID"]
    updated = lam.update_event_source_mapping(UUID=uuid, FunctionName="worker")
    observed_update = next(
        e["data"]
        for e in SQS
        if e.get("operation") == "UpdateEventSourceMapping" and e["kind"] == "api-response"
    )
    assert set(updated) == set(observed_update)
    assert updated["State"] == observed_update["State"] == "Updating"
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 202


ERRORS = [e for e in SQS if e["kind"] == "api-error"]


def run_error_case(hw: Headwater, entry: dict[str, Any]) -> ClientError:
    lam = hw.client("lambda")
    sqs = hw.client("sqs")
    queue_arn = "arn:aws:sqs:us-east-1:000000000000:q"
    sqs.create_queue(QueueName="q")
    test = entry["test"]
    operation = entry["operation"]
    with pytest.raises(ClientError) as caught:
        if "invalid_event_filter" in test:
            lam.create_event_source_mapping(
                FunctionName="worker", EventSourceArn=queue_arn, **entry["params"]["esm"]
            )
        elif "default_batch_size" in test and operation == "UpdateEventSourceMapping":
            uuid = lam.create_event_source_mapping(FunctionName="worker", EventSourceArn=queue_arn)[
                "UUID"
            ]
            lam.update_event_source_mapping(UUID=uuid, BatchSize=11)
        elif "default_batch_size" in test:
            lam.create_event_source_mapping(
                FunctionName="worker", EventSourceArn=queue_arn, BatchSize=11
            )
        elif "duplicate" in test:
            lam.create_event_source_mapping(FunctionName="worker", EventSourceArn=queue_arn)
            lam.create_event_source_mapping(FunctionName="worker", EventSourceArn=queue_arn)
        elif "not_existing_sqs_queue" in test:
            lam.create_event_source_mapping(
                FunctionName="worker", EventSourceArn=queue_arn + "-missing", BatchSize=1
            )
        elif operation == "GetEventSourceMapping":
            lam.get_event_source_mapping(UUID="00000000-0000-4000-8000-000000000000")
        elif operation == "DeleteEventSourceMapping":
            lam.delete_event_source_mapping(UUID="00000000-0000-4000-8000-000000000000")
        elif operation == "UpdateEventSourceMapping":
            lam.update_event_source_mapping(
                UUID="00000000-0000-4000-8000-000000000000", Enabled=False
            )
        else:
            message = entry["data"]["Error"]["Message"]
            if message == "Unrecognized event source.":
                lam.create_event_source_mapping(FunctionName="doesnotexist")
            elif message == "Function does not exist":
                lam.create_event_source_mapping(
                    FunctionName="doesnotexist", EventSourceArn=queue_arn
                )
            else:
                lam.create_event_source_mapping(
                    FunctionName="doesnotexist",
                    EventSourceArn=queue_arn,
                    DestinationConfig={"OnSuccess": {"Destination": queue_arn}},
                )
    return caught.value


@pytest.mark.parametrize("entry", ERRORS, ids=[f"{e['test']}-{e['operation']}" for e in ERRORS])
def test_errors_match_aws(hw: Headwater, entry: dict[str, Any]) -> None:
    error = run_error_case(hw, entry)
    expected = entry["data"]
    response = error.response
    assert response["Error"]["Code"] == expected["Error"]["Code"]
    assert wildcard(expected["Error"]["Message"]).match(response["Error"]["Message"])
    assert (
        response["ResponseMetadata"]["HTTPStatusCode"]
        == expected["ResponseMetadata"]["HTTPStatusCode"]
    )
    for key in ("Type", "message", "Message"):
        if key in expected:
            assert wildcard(expected[key]).match(response[key]), key


def test_batching_with_reserved_concurrency_delivers_like_aws(hw: Headwater) -> None:
    """LS-AWS test_sqs_event_source_mapping_batching_reserved_concurrency: reserved 2,
    MaximumConcurrency 2, BatchSize 20, window 1, 30 queued messages -> 2 invocations."""
    (entry,) = [
        e
        for e in SQS
        if e["test"].endswith("test_sqs_event_source_mapping_batching_reserved_concurrency")
        and e["kind"] == "api-response"
    ]
    esm = entry["params"]["esm"]
    sqs = hw.client("sqs")
    url = sqs.create_queue(QueueName="batched")["QueueUrl"]
    for start in range(0, 30, 10):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(start, start + 10)],
        )
    invoker = FakeInvoker(reserved_concurrency=2)
    clock = hw.clock
    assert isinstance(clock, ManualClock)

    async def scenario() -> None:
        async with PollerHarness(hw, clock, mapping("batched", **esm), invoker) as h:
            await h.settled()
            await h.advance(esm["MaximumBatchingWindowInSeconds"])
            await h.settled()

    asyncio.run(scenario())
    assert sum(len(b) for b in invoker.bodies()) == 30
    assert len(invoker.events) == 2
    assert invoker.max_running <= 2


def test_fifo_partial_batch_failures_replayed_like_aws(hw: Headwater) -> None:
    """LS-AWS test_report_batch_item_failures: FIFO queue (visibility 8 s, maxReceiveCount 2,
    FIFO DLQ), a function reporting records whose fail_attempts >= receive count."""
    entries = [e for e in SQS if e["test"] == "test_report_batch_item_failures"]
    setup = entries[0]["params"]
    aws_events = {
        e["snapshot_key"]: [
            json.loads(r["body"]) if isinstance(r["body"], str) else r["body"]
            for r in records_in(e["data"])
        ]
        for e in entries
        if e["kind"] == "event"
    }
    aws_counts = {
        e["snapshot_key"]: [
            r["attributes"]["ApproximateReceiveCount"] for r in records_in(e["data"])
        ]
        for e in entries
        if e["kind"] == "event"
    }
    (dlq_entry,) = [e for e in entries if e["kind"] == "on-failure"]
    sqs = hw.client("sqs")
    dlq = sqs.create_queue(QueueName="dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    url = sqs.create_queue(
        QueueName="src.fifo",
        Attributes={
            "FifoQueue": "true",
            "VisibilityTimeout": str(setup["queue"]["VisibilityTimeout"]),
            "RedrivePolicy": json.dumps(
                {
                    "deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq.fifo",
                    "maxReceiveCount": setup["queue"]["RedrivePolicy"]["maxReceiveCount"],
                }
            ),
        },
    )["QueueUrl"]
    sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {**item, "MessageBody": json.dumps(item["MessageBody"])} for item in setup["input"]
        ],
    )

    def handler(event: dict[str, Any]) -> Any:
        failed = [
            {"itemIdentifier": r["messageId"]}
            for r in event["Records"]
            if json.loads(r["body"])["fail_attempts"]
            >= int(r["attributes"]["ApproximateReceiveCount"])
        ]
        return ok({"batchItemFailures": failed})

    invoker = FakeInvoker(handler)
    clock = hw.clock
    assert isinstance(clock, ManualClock)

    async def scenario() -> None:
        async with PollerHarness(hw, clock, mapping("src.fifo", **setup["esm"]), invoker) as h:
            for _ in range(4):
                await h.settled()
                await h.advance(setup["queue"]["VisibilityTimeout"])
            await h.settled()

    asyncio.run(scenario())
    ours = [[json.loads(r["body"]) for r in event["Records"]] for event in invoker.events]
    assert ours == [aws_events["first_invocation"], aws_events["second_invocation"]]
    counts = [
        [r["attributes"]["ApproximateReceiveCount"] for r in e["Records"]] for e in invoker.events
    ]
    assert counts == [aws_counts["first_invocation"], aws_counts["second_invocation"]]
    for event in invoker.events:
        for record in event["Records"]:
            assert set(record["attributes"]) == set(
                next(records_in(entries[1]["data"]))["attributes"]
            )
    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"]) for m in dead] == [
        m["Body"] for m in dlq_entry["data"]["Messages"]
    ]
