"""Event source mappings as Lambda resources: Create/Get/List/Update/Delete, validation."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock

ACCOUNT = "000000000000"
QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"
FIFO_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders.fifo"
STREAM_ARN = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/clicks"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:worker"
SQS_KEYS = {
    "UUID",
    "BatchSize",
    "EventSourceArn",
    "EventSourceMappingArn",
    "FunctionArn",
    "FunctionResponseTypes",
    "LastModified",
    "MaximumBatchingWindowInSeconds",
    "State",
    "StateTransitionReason",
}


def deploy(hw: Headwater, code: Path) -> None:
    code.mkdir(exist_ok=True)
    (code / "app.py").write_text("def handler(event, context):\n    return None\n")
    hw.lambda_.create_function_from_directory("worker", code, "app.handler", timeout=3)
    hw.lambda_.create_function_from_directory("helper", code, "app.handler", timeout=3)
    hw.lambda_.create_function_from_directory("slow", code, "app.handler", timeout=60)
    sqs = hw.client("sqs")
    sqs.create_queue(QueueName="orders")
    sqs.create_queue(QueueName="other")
    sqs.create_queue(QueueName="orders.fifo", Attributes={"FifoQueue": "true"})


@pytest.fixture
def lam(hw: Headwater, tmp_path: Path) -> Iterator[Any]:
    deploy(hw, tmp_path / "code")
    yield hw.client("lambda")


def error_of(call: Any, **kwargs: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    message = response.get("message") or response.get("Message") or response["Error"]["Message"]
    assert message == response["Error"]["Message"]
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def invalid(message: str) -> tuple[str, str, int]:
    return ("InvalidParameterValueException", message, 400)


# ----------------------------------------------------------------------------- create/get


def test_create_answers_202_creating_with_aws_key_set(lam: Any, clock: ManualClock) -> None:
    created = lam.create_event_source_mapping(FunctionName="worker", EventSourceArn=QUEUE_ARN)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    created.pop("ResponseMetadata")
    assert set(created) == SQS_KEYS
    assert created["State"] == "Creating"
    assert created["StateTransitionReason"] == "USER_INITIATED"
    assert created["BatchSize"] == 10
    assert created["MaximumBatchingWindowInSeconds"] == 0
    assert created["FunctionResponseTypes"] == []
    assert created["FunctionArn"] == FUNCTION_ARN
    assert len(created["UUID"]) == 36
    assert created["EventSourceMappingArn"] == (
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:event-source-mapping:{created['UUID']}"
    )
    assert created["LastModified"] == dt.datetime.fromtimestamp(clock.now(), tz=dt.UTC)
    got = lam.get_event_source_mapping(UUID=created["UUID"])
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert got["State"] == "Enabled"
    assert set(got) - {"ResponseMetadata"} == SQS_KEYS


def test_create_disabled_is_disabled_at_once(lam: Any) -> None:
    created = lam.create_event_source_mapping(
        FunctionName="worker", EventSourceArn=QUEUE_ARN, Enabled=False
    )
    assert created["State"] == "Disabled"
    assert lam.get_event_source_mapping(UUID=created["UUID"])["State"] == "Disabled"


def test_optional_fields_are_echoed_only_when_set(lam: Any) -> None:
    pattern = json.dumps({"body": {"kind": ["order"]}})
    created = lam.create_event_source_mapping(
        FunctionName="worker",
        EventSourceArn=QUEUE_ARN,
        BatchSize=20,
        MaximumBatchingWindowInSeconds=1,
        ScalingConfig={"MaximumConcurrency": 2},
        FilterCriteria={"Filters": [{"Pattern": pattern}]},
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    assert created["ScalingConfig"] == {"MaximumConcurrency": 2}
    assert created["FilterCriteria"] == {"Filters": [{"Pattern": pattern}]}
    assert created["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert created["BatchSize"] == 20
    empty = lam.create_event_source_mapping(
        FunctionName="worker",
        EventSourceArn=QUEUE_ARN.replace("orders", "other"),
        FilterCriteria={"Filters": []},
        ScalingConfig={},
    )
    assert "FilterCriteria" not in empty
    assert "ScalingConfig" not in empty


def test_function_references_resolve_to_arns(lam: Any) -> None:
    by_arn = lam.create_event_source_mapping(FunctionName=FUNCTION_ARN, EventSourceArn=QUEUE_ARN)
    assert by_arn["FunctionArn"] == FUNCTION_ARN
    latest = lam.create_event_source_mapping(
        FunctionName=f"{ACCOUNT}:function:worker:$LATEST",
        EventSourceArn=QUEUE_ARN.replace("orders", "other"),
    )
    assert latest["FunctionArn"] == FUNCTION_ARN + ":$LATEST"


# ----------------------------------------------------------------------------- list


def test_list_by_function_and_source_with_paging(lam: Any) -> None:
    uuids = [
        lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn)["UUID"]
        for name, arn in [
            ("worker", QUEUE_ARN),
            ("worker", QUEUE_ARN.replace("orders", "other")),
            ("helper", QUEUE_ARN.replace("orders", "other")),
        ]
    ]
    listed = lam.list_event_source_mappings()["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == uuids

    by_function = lam.list_event_source_mappings(FunctionName="worker")["EventSourceMappings"]
    assert [m["UUID"] for m in by_function] == uuids[:2]
    by_arn = lam.list_event_source_mappings(FunctionName=FUNCTION_ARN)["EventSourceMappings"]
    assert [m["UUID"] for m in by_arn] == uuids[:2]
    by_source = lam.list_event_source_mappings(EventSourceArn=QUEUE_ARN)["EventSourceMappings"]
    assert [m["UUID"] for m in by_source] == uuids[:1]
    assert lam.list_event_source_mappings(FunctionName="nobody")["EventSourceMappings"] == []

    first = lam.list_event_source_mappings(MaxItems=1)
    assert [m["UUID"] for m in first["EventSourceMappings"]] == uuids[:1]
    rest = lam.list_event_source_mappings(MaxItems=2, Marker=first["NextMarker"])
    assert [m["UUID"] for m in rest["EventSourceMappings"]] == uuids[1:]
    assert "NextMarker" not in rest


# ----------------------------------------------------------------------------- update/delete


def test_update_states_and_partial_update(lam: Any, clock: ManualClock) -> None:
    uuid = lam.create_event_source_mapping(
        FunctionName="worker", EventSourceArn=QUEUE_ARN, ScalingConfig={"MaximumConcurrency": 5}
    )["UUID"]
    clock.advance(10)
    updated = lam.update_event_source_mapping(
        UUID=uuid, BatchSize=50, MaximumBatchingWindowInSeconds=2
    )
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert updated["State"] == "Updating"
    assert updated["ScalingConfig"] == {"MaximumConcurrency": 5}  # omitted fields kept
    assert updated["LastModified"] == dt.datetime.fromtimestamp(clock.now(), tz=dt.UTC)
    assert lam.update_event_source_mapping(UUID=uuid, Enabled=False)["State"] == "Disabling"
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"
    assert lam.update_event_source_mapping(UUID=uuid, Enabled=False)["State"] == "Updating"
    assert lam.update_event_source_mapping(UUID=uuid, Enabled=True)["State"] == "Enabling"
    cleared = lam.update_event_source_mapping(UUID=uuid, ScalingConfig={})
    assert "ScalingConfig" not in cleared
    got = lam.get_event_source_mapping(UUID=uuid)
    assert (got["State"], got["BatchSize"], got["MaximumBatchingWindowInSeconds"]) == (
        "Enabled",
        50,
        2,
    )
    moved = lam.update_event_source_mapping(UUID=uuid, FunctionName="helper")
    assert moved["FunctionArn"].endswith(":function:helper")


def test_delete_answers_deleting_then_not_found(lam: Any) -> None:
    uuid = lam.create_event_source_mapping(FunctionName="worker", EventSourceArn=QUEUE_ARN)["UUID"]
    deleted = lam.delete_event_source_mapping(UUID=uuid)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert deleted["State"] == "Deleting"
    for call in (lam.get_event_source_mapping, lam.delete_event_source_mapping):
        assert error_of(call, UUID=uuid) == (
            "ResourceNotFoundException",
            "The resource you requested does not exist.",
            404,
        )
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as caught:
        lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    assert caught.value.response["Message"] == "The resource you requested does not exist."
    assert caught.value.response["Type"] == "User"


# ----------------------------------------------------------------------------- validation


def test_validation_messages_and_order(lam: Any) -> None:
    create = lam.create_event_source_mapping
    missing_queue = QUEUE_ARN.replace("orders", "missing")
    assert error_of(create, FunctionName="worker") == invalid("Unrecognized event source.")
    assert error_of(
        create,
        FunctionName="nobody",
        EventSourceArn=missing_queue,
        DestinationConfig={"OnSuccess": {"Destination": QUEUE_ARN}},
    ) == invalid("Unsupported DestinationConfig parameter for given event source mapping type.")
    # function before source
    assert error_of(create, FunctionName="nobody", EventSourceArn=missing_queue) == invalid(
        "Function does not exist"
    )
    assert error_of(create, FunctionName="worker", EventSourceArn=missing_queue) == invalid(
        "Error occurred while ReceiveMessage. SQS Error Code: "
        "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: "
        "The specified queue does not exist."
    )
    uuid = create(FunctionName="worker", EventSourceArn=QUEUE_ARN)["UUID"]
    assert error_of(create, FunctionName="worker", EventSourceArn=QUEUE_ARN) == (
        "ResourceConflictException",
        f'An event source mapping with SQS arn (" {QUEUE_ARN} ") and function (" worker ") '
        f"already exists. Please update or delete the existing mapping with UUID {uuid}",
        409,
    )
    # another function on the same queue is fine
    create(FunctionName="helper", EventSourceArn=QUEUE_ARN)


WINDOW_RULE = (
    "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater "
    "than 10"
)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"BatchSize": 11}, invalid(WINDOW_RULE)),
        ({"BatchSize": 11, "MaximumBatchingWindowInSeconds": 0}, invalid(WINDOW_RULE)),
        (
            {"StartingPosition": "LATEST"},
            invalid("StartingPosition is not valid for SQS event sources."),
        ),
        (
            {"ParallelizationFactor": 2},
            invalid(
                "Unsupported ParallelizationFactor parameter for given event source mapping type"
            ),
        ),
        (
            {"BatchSize": 10_001, "MaximumBatchingWindowInSeconds": 1},
            (
                "ValidationException",
                "1 validation error detected: Value '10001' at 'batchSize' failed to satisfy "
                "constraint: Member must have value less than or equal to 10000",
                400,
            ),
        ),
        (
            {"MaximumBatchingWindowInSeconds": 301},
            (
                "ValidationException",
                "1 validation error detected: Value '301' at 'maximumBatchingWindowInSeconds' "
                "failed to satisfy constraint: Member must have value less than or equal to 300",
                400,
            ),
        ),
        (
            {"ScalingConfig": {"MaximumConcurrency": 1001}},
            (
                "ValidationException",
                "1 validation error detected: Value '1001' at 'scalingConfig.maximumConcurrency' "
                "failed to satisfy constraint: Member must have value less than or equal to 1000",
                400,
            ),
        ),
        (
            {"FilterCriteria": {"Filters": [{"Pattern": "simple string"}]}},
            invalid("Invalid filter pattern definition."),
        ),
        (
            {"FilterCriteria": {"Filters": [{"Pattern": '{"eventSource": []}'}]}},
            invalid("Invalid filter pattern definition."),
        ),
    ],
)
def test_sqs_parameter_rules(lam: Any, params: dict[str, Any], expected: Any) -> None:
    assert (
        error_of(
            lam.create_event_source_mapping,
            FunctionName="worker",
            EventSourceArn=QUEUE_ARN,
            **params,
        )
        == expected
    )
    assert lam.list_event_source_mappings()["EventSourceMappings"] == []


def test_batch_window_rule_applies_to_the_merged_config_on_update(lam: Any) -> None:
    uuid = lam.create_event_source_mapping(
        FunctionName="worker",
        EventSourceArn=QUEUE_ARN,
        BatchSize=20,
        MaximumBatchingWindowInSeconds=1,
    )["UUID"]
    assert error_of(
        lam.update_event_source_mapping, UUID=uuid, MaximumBatchingWindowInSeconds=0
    ) == invalid(WINDOW_RULE)
    assert error_of(
        lam.update_event_source_mapping, UUID=uuid, BatchSize=11, MaximumBatchingWindowInSeconds=0
    ) == invalid(WINDOW_RULE)
    got = lam.get_event_source_mapping(UUID=uuid)  # bad input changed nothing
    assert (got["BatchSize"], got["MaximumBatchingWindowInSeconds"]) == (20, 1)


def test_fifo_rules(lam: Any) -> None:
    create = lam.create_event_source_mapping
    assert error_of(
        create, FunctionName="worker", EventSourceArn=FIFO_ARN, MaximumBatchingWindowInSeconds=1
    ) == invalid("Batching window is not supported for FIFO queues")
    assert error_of(
        create,
        FunctionName="worker",
        EventSourceArn=FIFO_ARN,
        BatchSize=11,
    ) == invalid("Maximum batch size must be between 1 and 10 inclusive")
    assert create(FunctionName="worker", EventSourceArn=FIFO_ARN, BatchSize=10)["BatchSize"] == 10


def test_function_timeout_must_fit_the_visibility_timeout(lam: Any) -> None:
    assert error_of(
        lam.create_event_source_mapping, FunctionName="slow", EventSourceArn=QUEUE_ARN
    ) == invalid("Queue visibility timeout: 30 seconds is less than Function timeout: 60 seconds")
    uuid = lam.create_event_source_mapping(FunctionName="worker", EventSourceArn=QUEUE_ARN)["UUID"]
    assert error_of(lam.update_event_source_mapping, UUID=uuid, FunctionName="slow") == invalid(
        "Queue visibility timeout: 30 seconds is less than Function timeout: 60 seconds"
    )


# ----------------------------------------------------------------------------- streams


def test_stream_mappings_are_validated_and_shaped_for_streams(hw: Headwater, lam: Any) -> None:
    create = lam.create_event_source_mapping
    assert error_of(
        create, FunctionName="worker", EventSourceArn=STREAM_ARN, StartingPosition="LATEST"
    ) == invalid(f"Stream not found: {STREAM_ARN}")
    hw.client("kinesis").create_stream(StreamName="clicks", ShardCount=1)
    assert error_of(create, FunctionName="worker", EventSourceArn=STREAM_ARN) == invalid(
        "1 validation error detected: Value null at 'startingPosition' failed to satisfy "
        "constraint: Member must not be null."
    )
    assert error_of(
        create, FunctionName="worker", EventSourceArn=STREAM_ARN, StartingPosition="invalid"
    ) == (
        "ValidationException",
        "1 validation error detected: Value 'invalid' at 'startingPosition' failed to satisfy "
        "constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]",
        400,
    )
    assert error_of(
        create, FunctionName="worker", EventSourceArn=STREAM_ARN, StartingPosition="AT_TIMESTAMP"
    ) == invalid("Need to specify a timestamp")
    assert error_of(
        create,
        FunctionName="worker",
        EventSourceArn=STREAM_ARN,
        StartingPosition="LATEST",
        MaximumRecordAgeInSeconds=30,
    ) == invalid(
        "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 (inclusive)"
    )
    assert error_of(
        create,
        FunctionName="worker",
        EventSourceArn=STREAM_ARN,
        StartingPosition="LATEST",
        ScalingConfig={"MaximumConcurrency": 2},
    ) == invalid("Unsupported ScalingConfig parameter for given event source mapping type")
    created = create(FunctionName="worker", EventSourceArn=STREAM_ARN, StartingPosition="LATEST")
    created.pop("ResponseMetadata")
    assert created["BatchSize"] == 100
    assert created["StateTransitionReason"] == "User action"
    assert {k: created[k] for k in created if k not in SQS_KEYS} == {
        "BisectBatchOnFunctionError": False,
        "DestinationConfig": {"OnFailure": {}},
        "LastProcessingResult": "No records processed",
        "MaximumRecordAgeInSeconds": -1,
        "MaximumRetryAttempts": -1,
        "ParallelizationFactor": 1,
        "StartingPosition": "LATEST",
        "TumblingWindowInSeconds": 0,
    }
    assert (
        error_of(
            create, FunctionName="worker", EventSourceArn=STREAM_ARN, StartingPosition="LATEST"
        )[0]
        == "ResourceConflictException"
    )


def test_starting_position_timestamp_rules(hw: Headwater, lam: Any) -> None:
    hw.client("kinesis").create_stream(StreamName="clicks", ShardCount=1)
    create = lam.create_event_source_mapping
    stamp = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for position in ("LATEST", "TRIM_HORIZON"):
        assert error_of(
            create,
            FunctionName="worker",
            EventSourceArn=STREAM_ARN,
            StartingPosition=position,
            StartingPositionTimestamp=stamp,
        ) == invalid("Timestamp only valid with StartingPosition AT_TIMESTAMP")
    code, _, status = error_of(
        create,
        FunctionName="worker",
        EventSourceArn=STREAM_ARN,
        StartingPosition="AT_TIMESTAMP",
        StartingPositionTimestamp=-5,
    )
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert lam.list_event_source_mappings()["EventSourceMappings"] == []
    created = create(
        FunctionName="worker",
        EventSourceArn=STREAM_ARN,
        StartingPosition="AT_TIMESTAMP",
        StartingPositionTimestamp=stamp,
    )
    assert created["StartingPositionTimestamp"] == stamp


# ----------------------------------------------------------------------------- persistence


def test_mappings_survive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Headwater(data_dir=data, clock=ManualClock(), functions="inline") as hw:
        deploy(hw, tmp_path / "code")
        lam = hw.client("lambda")
        created = lam.create_event_source_mapping(
            FunctionName="worker",
            EventSourceArn=QUEUE_ARN,
            BatchSize=7,
            ScalingConfig={"MaximumConcurrency": 3},
        )
        disabled = lam.create_event_source_mapping(
            FunctionName="helper", EventSourceArn=QUEUE_ARN, Enabled=False
        )
        before = lam.list_event_source_mappings()["EventSourceMappings"]
    with Headwater(data_dir=data, clock=ManualClock(), functions="inline") as hw:
        after = hw.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    assert after == before
    assert [m["State"] for m in after] == ["Enabled", "Disabled"]
    assert [m["UUID"] for m in after] == [created["UUID"], disabled["UUID"]]


def test_provisioned_pollers_kms_key_and_tags(lam: Any) -> None:
    created = lam.create_event_source_mapping(
        FunctionName="worker",
        EventSourceArn=QUEUE_ARN,
        ProvisionedPollerConfig={"MinimumPollers": 3},
        KMSKeyArn="arn:aws:kms:us-east-1:000000000000:key/k",
        Tags={"team": "orders"},
    )
    assert created["ProvisionedPollerConfig"] == {"MinimumPollers": 3, "MaximumPollers": 200}
    assert created["KMSKeyArn"] == "arn:aws:kms:us-east-1:000000000000:key/k"
    assert "Tags" not in created
    uuid = created["UUID"]
    assert error_of(
        lam.update_event_source_mapping, UUID=uuid, ScalingConfig={"MaximumConcurrency": 5}
    ) == invalid("ScalingConfig and ProvisionedPollerConfig cannot be specified together")
    assert (
        error_of(
            lam.update_event_source_mapping,
            UUID=uuid,
            ProvisionedPollerConfig={"MinimumPollers": 201},
        )[0]
        == "ValidationException"
    )
    cleared = lam.update_event_source_mapping(UUID=uuid, ProvisionedPollerConfig={})
    assert "ProvisionedPollerConfig" not in cleared
    assert error_of(
        lam.create_event_source_mapping,
        FunctionName="helper",
        EventSourceArn=QUEUE_ARN,
        LoggingConfig={"SystemLogLevel": "INFO"},
    ) == invalid("Unsupported LoggingConfig parameter for given event source mapping type")
