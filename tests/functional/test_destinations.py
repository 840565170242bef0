"""On-failure destinations of stream mappings beyond SQS: an SNS topic (here subscribed by a
queue) and an S3 bucket; destinations headwater cannot deliver to are refused at create."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from tests.functional.test_stream_esm_engine import (
    STREAM_ARN,
    deploy,
    journal,
    put,
    wait_processed,
)

ACCOUNT = "000000000000"


@pytest.fixture
def hw_options() -> dict[str, Any]:
    return {"functions": "inline", "esm_stream_retry_backoff": 0.5}


def poison_mapping(hw: Headwater, destination: str) -> str:
    hw.client("kinesis").create_stream(StreamName="clicks", ShardCount=1)
    put(hw, "a", "poison-1")
    created = hw.client("lambda").create_event_source_mapping(
        FunctionName="worker",
        EventSourceArn=STREAM_ARN,
        StartingPosition="TRIM_HORIZON",
        BatchSize=10,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": destination}},
    )
    return str(created["UUID"])


def test_kinesis_poison_record_reaches_an_sns_topic_subscribed_by_a_queue(
    hw: Headwater, tmp_path: Path, clock: ManualClock
) -> None:
    path = deploy(hw, tmp_path)
    topic = hw.sns.create_topic(Name="failures")["TopicArn"]
    url = hw.sqs.create_queue(QueueName="failure-inbox")["QueueUrl"]
    hw.sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=f"arn:aws:sqs:us-east-1:{ACCOUNT}:failure-inbox",
    )
    uuid = poison_mapping(hw, topic)
    hw.start()
    wait_processed(hw, uuid, clock, lambda: len(journal(path)) >= 1)
    wait_processed(
        hw,
        uuid,
        clock,
        lambda: bool(hw.engine.metrics(uuid).OnFailureDestinationDeliveredEventCount),
    )  # type: ignore[union-attr]
    (message,) = hw.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    envelope = json.loads(message["Body"])
    assert envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == topic
    record = json.loads(envelope["Message"])
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["functionArn"].endswith(":function:worker")
    assert record["responseContext"]["functionError"] == "Unhandled"
    info = record["KinesisBatchInfo"]
    assert (info["batchSize"], info["streamArn"]) == (2, STREAM_ARN)
    assert "payload" not in record  # SNS gets the metadata only


def test_an_undeliverable_destination_is_counted(
    hw: Headwater, tmp_path: Path, clock: ManualClock
) -> None:
    deploy(hw, tmp_path)
    uuid = poison_mapping(hw, f"arn:aws:sns:us-east-1:{ACCOUNT}:never-created")
    hw.start()
    wait_processed(
        hw,
        uuid,
        clock,
        lambda: bool(hw.engine.metrics(uuid).DestinationDeliveryFailures),  # type: ignore[union-attr]
    )
    metrics: Any = hw.engine.metrics(uuid)
    assert metrics.DestinationDeliveryFailures == 1
    assert metrics.OnFailureDestinationDeliveredEventCount == 0


@pytest.mark.parametrize(
    "destination",
    [
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:other",
        f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t",
        "not-an-arn",
    ],
)
def test_a_destination_no_mapping_delivers_to_is_refused_at_create(
    hw: Headwater, tmp_path: Path, destination: str
) -> None:
    deploy(hw, tmp_path)
    hw.client("kinesis").create_stream(StreamName="clicks", ShardCount=1)
    lam = hw.client("lambda")
    with pytest.raises(ClientError) as refused:
        lam.create_event_source_mapping(
            FunctionName="worker",
            EventSourceArn=STREAM_ARN,
            StartingPosition="LATEST",
            DestinationConfig={"OnFailure": {"Destination": destination}},
        )
    error = refused.value.response["Error"]
    if destination.startswith("arn:"):
        assert error["Code"] == "InvalidParameterValueException"
        assert error["Message"] == (
            "The provided destination config DestinationConfig(onSuccess=null, "
            f"onFailure=OnFailure(destination={destination})) is invalid."
        )
    else:
        assert error["Code"] == "ValidationException"
        assert error["Message"].startswith(
            f"1 validation error detected: Value '{destination}' at "
            "'destinationConfig.onFailure.destination' failed to satisfy constraint"
        )
    uuid = lam.create_event_source_mapping(
        FunctionName="worker", EventSourceArn=STREAM_ARN, StartingPosition="LATEST"
    )["UUID"]
    with pytest.raises(ClientError):
        lam.update_event_source_mapping(
            UUID=uuid, DestinationConfig={"OnFailure": {"Destination": destination}}
        )


def test_kinesis_poison_record_becomes_an_aws_shaped_s3_object(
    hw: Headwater, tmp_path: Path, clock: ManualClock
) -> None:
    path = deploy(hw, tmp_path)
    hw.s3.create_bucket(Bucket="failures")
    uuid = poison_mapping(hw, "arn:aws:s3:::failures")
    hw.start()
    wait_processed(hw, uuid, clock, lambda: len(journal(path)) >= 1)
    wait_processed(
        hw,
        uuid,
        clock,
        lambda: bool(hw.engine.metrics(uuid).OnFailureDestinationDeliveredEventCount),  # type: ignore[union-attr]
    )
    (listed,) = hw.s3.list_objects_v2(Bucket="failures")["Contents"]
    key = listed["Key"]
    moment = dt.datetime.fromtimestamp(clock.now(), dt.UTC)
    prefix = f"aws/lambda/{uuid}/shardId-000000000000/{moment:%Y/%m/%d}/"
    assert key.startswith(prefix)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d\.\d\d\.\d\d-[0-9a-f-]{36}", key[len(prefix) :]), key
    record = json.loads(hw.s3.get_object(Bucket="failures", Key=key)["Body"].read())
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["KinesisBatchInfo"]["batchSize"] == 2
    # S3 records also carry the invocation's payload, as a JSON string
    payload = json.loads(record["payload"])
    datas = [base64.b64decode(r["kinesis"]["data"]).decode() for r in payload["Records"]]
    assert datas == ["a", "poison-1"]
    assert set(record) == {
        "requestContext",
        "responseContext",
        "version",
        "timestamp",
        "KinesisBatchInfo",
        "payload",
    }


def test_a_missing_bucket_is_a_delivery_failure(
    hw: Headwater, tmp_path: Path, clock: ManualClock
) -> None:
    deploy(hw, tmp_path)
    uuid = poison_mapping(hw, "arn:aws:s3:::no-such-bucket")
    hw.start()
    wait_processed(
        hw,
        uuid,
        clock,
        lambda: bool(hw.engine.metrics(uuid).DestinationDeliveryFailures),  # type: ignore[union-attr]
    )
    assert hw.engine.metrics(uuid).DroppedEventCount == 2  # type: ignore[union-attr]
