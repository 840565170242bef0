"""Kinesis mapping API responses and errors vs AWS's recordings (``esm-aws-observed.json``):
every recorded CreateEventSourceMapping response is replayed (parameters read back from the
response) and compared key for key, placeholders as wildcards; then the recorded errors,
and ``LastProcessingResult`` after a batch was processed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from tests.conformance.test_esm_kinesis_cli import same_shape
from tests.conftest import DATA

OBSERVED = json.loads((DATA / "conformance" / "esm-aws-observed.json").read_text("utf-8"))
CREATES = [
    e
    for e in OBSERVED
    if e["source"] == "kinesis"
    and e["kind"] == "api-response"
    and e["operation"] == "CreateEventSourceMapping"
]
ERRORS = [e for e in OBSERVED if e["source"] == "kinesis" and e["kind"] == "api-error"]
STREAM_ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/clicks"
QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:failures"
REQUEST_KEYS = (
    "BatchSize",
    "BisectBatchOnFunctionError",
    "FunctionResponseTypes",
    "MaximumBatchingWindowInSeconds",
    "MaximumRecordAgeInSeconds",
    "MaximumRetryAttempts",
    "ParallelizationFactor",
    "StartingPosition",
    "TumblingWindowInSeconds",
)
HANDLER = "def handler(event, context):\n    return None\n"


@pytest.fixture
def hw(tmp_path: Path) -> Iterator[Headwater]:
    app = Headwater(data_dir=None, clock=ManualClock(), functions="inline")
    code = tmp_path / "code"
    code.mkdir()
    (code / "noop_app.py").write_text(HANDLER)
    app.lambda_.create_function_from_directory("worker", code, "noop_app.handler")
    app.client("kinesis").create_stream(StreamName="clicks", ShardCount=1)
    app.client("sqs").create_queue(QueueName="failures")
    try:
        yield app
    finally:
        app.close()


def request_from(recorded: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {k: recorded[k] for k in REQUEST_KEYS if k in recorded}
    if recorded.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"):
        params["DestinationConfig"] = {"OnFailure": {"Destination": QUEUE_ARN}}
    if "FilterCriteria" in recorded:
        params["FilterCriteria"] = {
            "Filters": [
                {"Pattern": p if isinstance(p, str) else json.dumps(p)}
                for p in (f["Pattern"] for f in recorded["FilterCriteria"]["Filters"])
            ]
        }
    return params


def comparable(response: dict[str, Any]) -> dict[str, Any]:
    """Our response as the recording shows it (JSON-looking strings parsed, no metadata)."""
    shown: dict[str, Any] = {
        k: v.isoformat() if isinstance(v, datetime) else v
        for k, v in response.items()
        if k != "ResponseMetadata"
    }
    for entry in shown.get("FilterCriteria", {}).get("Filters", []):
        entry["Pattern"] = json.loads(entry["Pattern"])
    return shown


@pytest.mark.parametrize(
    "entry", CREATES, ids=[f"{e['test']}:{e['snapshot_key']}" for e in CREATES]
)
def test_create_response_matches_aws(hw: Headwater, entry: dict[str, Any]) -> None:
    recorded = {k: v for k, v in entry["data"].items() if k != "ResponseMetadata"}
    response = hw.client("lambda").create_event_source_mapping(
        FunctionName="worker", EventSourceArn=STREAM_ARN, **request_from(recorded)
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert same_shape(comparable(response), recorded) == []


def recorded_error(test: str, message_start: str) -> dict[str, Any]:
    (entry,) = [
        e
        for e in ERRORS
        if e["test"] == test and e["data"]["Error"]["Message"].startswith(message_start)
    ]
    error: dict[str, Any] = entry["data"]
    return error


def test_errors_match_aws(hw: Headwater) -> None:
    lam = hw.client("lambda")
    cases = [
        (
            {"EventSourceArn": STREAM_ARN + "-missing", "StartingPosition": "LATEST"},
            recorded_error(
                "TestKinesisSource::test_esm_with_not_existing_kinesis_stream", "Stream not"
            ),
        ),
        (
            {"EventSourceArn": STREAM_ARN},
            recorded_error(
                "TestLambdaEventSourceMappings::test_create_event_source_validation_kinesis",
                "1 validation error detected: Value null",
            ),
        ),
        (
            {"EventSourceArn": STREAM_ARN, "StartingPosition": "invalid"},
            recorded_error(
                "TestLambdaEventSourceMappings::test_create_event_source_validation_kinesis",
                "1 validation error detected: Value 'invalid'",
            ),
        ),
    ]
    for params, recorded in cases:
        with pytest.raises(ClientError) as raised:
            hw.client("lambda", validate=False).create_event_source_mapping(
                FunctionName="worker", **params
            )
        response = raised.value.response
        assert response["Error"]["Code"] == recorded["Error"]["Code"]
        assert (
            response["ResponseMetadata"]["HTTPStatusCode"]
            == (recorded["ResponseMetadata"]["HTTPStatusCode"])
        )
        message = recorded["Error"]["Message"]
        if message.startswith("Stream not found: "):  # the recorded ARN is masked
            message = f"Stream not found: {params['EventSourceArn']}"
        assert response["Error"]["Message"] == message
    lam.create_event_source_mapping(
        FunctionName="worker", EventSourceArn=STREAM_ARN, StartingPosition="LATEST"
    )
    duplicate = recorded_error("TestKinesisSource::test_duplicate_event_source_mappings", "The")
    with pytest.raises(ClientError) as raised:
        lam.create_event_source_mapping(
            FunctionName="worker", EventSourceArn=STREAM_ARN, StartingPosition="LATEST"
        )
    assert raised.value.response["Error"]["Code"] == duplicate["Error"]["Code"]
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_last_processing_result_after_a_processed_batch(hw: Headwater) -> None:
    (recorded,) = [
        e["data"]
        for e in OBSERVED
        if e["test"] == "TestKinesisSource::test_kinesis_empty_provided"
        and e["operation"] == "GetEventSourceMapping"
    ]
    lam = hw.client("lambda")
    uuid = lam.create_event_source_mapping(
        FunctionName="worker",
        EventSourceArn=STREAM_ARN,
        StartingPosition="TRIM_HORIZON",
        BatchSize=1,
        MaximumBatchingWindowInSeconds=1,
        MaximumRetryAttempts=2,
    )["UUID"]
    hw.client("kinesis").put_record(StreamName="clicks", Data=b"hello", PartitionKey="p")
    hw.start()
    deadline = time.monotonic() + 10
    got: dict[str, Any] = {}
    while time.monotonic() < deadline:
        got = lam.get_event_source_mapping(UUID=uuid)
        if got["LastProcessingResult"] == "OK":
            break
        assert isinstance(hw.clock, ManualClock)
        hw.clock.advance(1.0)  # the batching window
        time.sleep(0.01)
    expected = {k: v for k, v in recorded.items() if k != "ResponseMetadata"}
    assert same_shape(comparable(got), expected) == []
