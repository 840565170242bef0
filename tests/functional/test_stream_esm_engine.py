"""Kinesis mappings end to end: Headwater.start(), a real stream, inline functions, the
Lambda API (create/update/disable/delete), LastProcessingResult and restart."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from headwater.esm.streams.metrics import StreamMetricsSnapshot
from headwater.store.checkpoints import open_checkpoint_store

HANDLER = """
import base64, json, os

def handler(event, context):
    datas = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
    with open(os.environ["JOURNAL"], "a", encoding="utf-8") as out:
        out.write(json.dumps(datas) + "\\n")
    if any(d.startswith("poison") for d in datas):
        raise RuntimeError("bad record")
    return None
"""

STREAM_ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/clicks"


@pytest.fixture
def hw_options() -> dict[str, Any]:
    """``hw`` (tests/conftest.py) runs functions inline, with a short stream retry backoff."""
    return {"functions": "inline", "esm_stream_retry_backoff": 0.5}


def deploy(hw: Headwater, tmp_path: Path) -> Path:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "stream_app.py").write_text(HANDLER)
    journal = tmp_path / "journal"
    hw.lambda_.create_function_from_directory(
        "worker", code, "stream_app.handler", environment={"JOURNAL": str(journal)}
    )
    return journal


def written_lines(path: Path) -> list[str]:
    """The lines a handler has finished appending to ``path``, without the one it is writing.

    Handlers run while tests poll their journals, and a reader can see an append half
    done: Linux copies one ``write()`` into the file a page at a time, growing the file as
    it goes, and reads take no lock against it, so a line that crosses a 4 KiB boundary
    shows up cut at the boundary. Only text up to the last newline is complete.
    """
    if not path.exists():
        return []
    return path.read_text().split("\n")[:-1]


def journal(path: Path) -> list[list[str]]:
    """The batches the handler journalled, one JSON line per invocation."""
    return [json.loads(line) for line in written_lines(path)]


def put(hw: Headwater, *datas: str, key: str = "p") -> None:
    hw.client("kinesis").put_records(
        StreamName="clicks", Records=[{"Data": d.encode(), "PartitionKey": key} for d in datas]
    )


def wait_processed(
    hw: Headwater, uuid: str, clock: ManualClock, done: Callable[[], bool], timeout: float = 10.0
) -> None:
    """Wait until ``done()`` holds and the mapping is idle, jumping the clock over backoffs."""
    engine = hw.engine
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline:
        time.sleep(0.005)
        if uuid in engine.mapping_uuids() and done() and engine.is_idle(uuid):
            quiet += 1
            if quiet >= 3:
                return
            continue
        quiet = 0
        if engine.is_asleep(uuid):
            wake = engine.wake_at(uuid)
            if wake is not None:
                clock.set(max(wake, clock.now()))
    raise TimeoutError("mapping never went idle")


def poll_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll (real time) until ``condition()`` holds or ``timeout`` passes; callers assert."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)


def test_journal_leaves_out_a_line_still_being_written(tmp_path: Path) -> None:
    # what a poll saw once while the handler's append crossed a page boundary
    path = tmp_path / "journal"
    path.write_text('["a", "b"]\n["c", "d"]\n[{"eventID": "b744e13f", "eventSource')
    assert journal(path) == [["a", "b"], ["c", "d"]]
    assert journal(tmp_path / "not yet written") == []


def pinned(hw: Headwater, uuid: str) -> Callable[[], bool]:
    """True once the (single) shard has a checkpoint: LATEST is pinned."""
    store = open_checkpoint_store(hw.database)
    return lambda: store.get(uuid, "shardId-000000000000") is not None


def test_mapping_processes_a_stream_and_reports_results(
    hw: Headwater, tmp_path: Path, clock: ManualClock
) -> None:
    path = deploy(hw, tmp_path)
    hw.client("kinesis").create_stream(StreamName="clicks", ShardCount=2)
    sqs = hw.client("sqs")
    url = sqs.create_queue(QueueName="failures")["QueueUrl"]
    lam = hw.client("lambda")
    put(hw, "a", "b", key="k1")
    put(hw, "poison-1", key="k1")
    put(hw, "c", key="k1")
    created = lam.create_event_source_mapping(
        FunctionName="worker",
        EventSourceArn=STREAM_ARN,
        StartingPosition="TRIM_HORIZON",
        BatchSize=10,
        MaximumRetryAttempts=1,
        BisectBatchOnFunctionError=True,
        DestinationConfig={
            "OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:failures"}
        },
    )
    uuid = created["UUID"]
    assert created["LastProcessingResult"] == "No records processed"
    hw.start()
    wait_processed(hw, uuid, clock, lambda: len(journal(path)) >= 6)
    assert journal(path) == [
        ["a", "b", "poison-1", "c"],
        ["a", "b"],
        ["poison-1", "c"],
        ["poison-1"],
        ["poison-1"],
        ["c"],
    ]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    (body,) = [json.loads(m["Body"]) for m in messages]
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert body["KinesisBatchInfo"]["batchSize"] == 1
    got = lam.get_event_source_mapping(UUID=uuid)
    assert got["LastProcessingResult"] == "OK"
    metrics = hw.engine.metrics(uuid)
    assert isinstance(metrics, StreamMetricsSnapshot)
    assert metrics.OnFailureDestinationDeliveredEventCount == 1


def test_disable_keeps_the_position_and_enable_resumes(
    hw: Headwater, tmp_path: Path, clock: ManualClock
) -> None:
    path = deploy(hw, tmp_path)
    hw.client("kinesis").create_stream(StreamName="clicks", ShardCount=1)
    lam = hw.client("lambda")
    uuid = lam.create_event_source_mapping(
        FunctionName="worker", EventSourceArn=STREAM_ARN, StartingPosition="LATEST"
    )["UUID"]
    hw.start()
    poll_until(lambda: uuid in hw.engine.mapping_uuids())
    wait_processed(hw, uuid, clock, pinned(hw, uuid))
    put(hw, "one")
    wait_processed(hw, uuid, clock, lambda: journal(path) == [["one"]])
    lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    poll_until(lambda: uuid not in hw.engine.mapping_uuids())
    put(hw, "two")
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    poll_until(lambda: journal(path)[-1:] == [["two"]])
    assert journal(path) == [["one"], ["two"]]
    lam.delete_event_source_mapping(UUID=uuid)
    checkpoints = open_checkpoint_store(hw.database)
    poll_until(lambda: not checkpoints.list(uuid))
    assert checkpoints.list(uuid) == {}


def test_kinesis_mapping_api_shape_and_errors(hw: Headwater, tmp_path: Path) -> None:
    deploy(hw, tmp_path)
    lam = hw.client("lambda")
    with pytest.raises(ClientError) as missing:
        lam.create_event_source_mapping(
            FunctionName="worker", EventSourceArn=STREAM_ARN, StartingPosition="LATEST"
        )
    assert missing.value.response["Error"]["Message"] == f"Stream not found: {STREAM_ARN}"
    hw.client("kinesis").create_stream(StreamName="clicks", ShardCount=1)
    with pytest.raises(ClientError) as no_position:
        lam.create_event_source_mapping(FunctionName="worker", EventSourceArn=STREAM_ARN)
    assert "startingPosition" in no_position.value.response["Error"]["Message"]
    created = lam.create_event_source_mapping(
        FunctionName="worker", EventSourceArn=STREAM_ARN, StartingPosition="TRIM_HORIZON"
    )
    assert set(created) - {"ResponseMetadata"} == {
        "UUID", "BatchSize", "BisectBatchOnFunctionError", "DestinationConfig",
        "EventSourceArn", "EventSourceMappingArn", "FunctionArn", "FunctionResponseTypes",
        "LastModified", "LastProcessingResult", "MaximumBatchingWindowInSeconds",
        "MaximumRecordAgeInSeconds", "MaximumRetryAttempts", "ParallelizationFactor",
        "StartingPosition", "State", "StateTransitionReason", "TumblingWindowInSeconds",
    }  # fmt: skip
    assert created["StateTransitionReason"] == "User action"
    with pytest.raises(ClientError) as duplicate:
        lam.create_event_source_mapping(
            FunctionName="worker", EventSourceArn=STREAM_ARN, StartingPosition="LATEST"
        )
    assert duplicate.value.response["Error"]["Message"] == (
        f'The event source arn (" {STREAM_ARN} ") and function (" worker ") provided mapping '
        f"already exists. Please update or delete the existing mapping with UUID "
        f"{created['UUID']}"
    )
    with pytest.raises(ClientError) as age:
        lam.update_event_source_mapping(UUID=created["UUID"], MaximumRecordAgeInSeconds=59)
    assert age.value.response["Error"]["Message"].startswith(
        "MaximumRecordAgeInSeconds must be either -1"
    )


def test_a_stream_consumer_is_a_mappings_source(
    hw: Headwater, tmp_path: Path, clock: ManualClock
) -> None:
    # An enhanced fan-out mapping (terraform's aws_lambda_event_source_mapping on an
    # aws_kinesis_stream_consumer) was refused as "Stream not found: <consumer ARN>".
    path = deploy(hw, tmp_path)
    kinesis = hw.client("kinesis")
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    consumer_arn = kinesis.register_stream_consumer(StreamARN=STREAM_ARN, ConsumerName="fan")[
        "Consumer"
    ]["ConsumerARN"]
    lam = hw.client("lambda")
    absent = f"{STREAM_ARN}/consumer/absent:1"
    with pytest.raises(ClientError) as missing:
        lam.create_event_source_mapping(
            FunctionName="worker", EventSourceArn=absent, StartingPosition="LATEST"
        )
    assert missing.value.response["Error"]["Message"] == f"Stream not found: {absent}"
    created = lam.create_event_source_mapping(
        FunctionName="worker", EventSourceArn=consumer_arn, StartingPosition="TRIM_HORIZON"
    )
    assert created["EventSourceArn"] == consumer_arn
    listed = lam.list_event_source_mappings(EventSourceArn=consumer_arn)["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [created["UUID"]]
    put(hw, "a", "b")
    hw.start()
    wait_processed(hw, created["UUID"], clock, lambda: journal(path) == [["a", "b"]])
    assert journal(path) == [["a", "b"]]


def test_aws_poll_cadence_option(tmp_path: Path, clock: ManualClock) -> None:
    """``Headwater(esm_stream_poll_interval=1.0)``: idle shards are read once a second of
    clock time (AWS's GetRecords cadence) instead of waking on every put."""
    hw = Headwater(data_dir=None, clock=clock, functions="inline", esm_stream_poll_interval=1.0)
    try:
        path = deploy(hw, tmp_path)
        hw.client("kinesis").create_stream(StreamName="clicks", ShardCount=1)
        uuid = hw.client("lambda").create_event_source_mapping(
            FunctionName="worker", EventSourceArn=STREAM_ARN, StartingPosition="LATEST"
        )["UUID"]
        hw.start()
        wait_processed(hw, uuid, clock, pinned(hw, uuid))
        clock.advance(1.0)
        poll_at = clock.now() + 1.0
        poll_until(lambda: hw.engine.wake_at(uuid) == poll_at)  # that poll found nothing
        assert hw.engine.wake_at(uuid) == poll_at
        put(hw, "x")
        time.sleep(0.1)
        assert journal(path) == []  # not read until the next poll
        clock.advance(1.0)
        poll_until(lambda: bool(journal(path)))
        assert journal(path) == [["x"]]
        metrics = hw.engine.metrics(uuid)
        assert isinstance(metrics, StreamMetricsSnapshot)
        assert metrics.IteratorAgeByShard == {"shardId-000000000000": 1000.0}
    finally:
        hw.close()


def test_update_applies_to_a_running_mapping(
    hw: Headwater, tmp_path: Path, clock: ManualClock
) -> None:
    path = deploy(hw, tmp_path)
    hw.client("kinesis").create_stream(StreamName="clicks", ShardCount=1)
    lam = hw.client("lambda")
    uuid = lam.create_event_source_mapping(
        FunctionName="worker", EventSourceArn=STREAM_ARN, StartingPosition="TRIM_HORIZON",
        BatchSize=2,
    )["UUID"]  # fmt: skip
    put(hw, "a", "b", "c")
    hw.start()
    wait_processed(hw, uuid, clock, lambda: len(journal(path)) == 2)
    assert journal(path) == [["a", "b"], ["c"]]
    lam.update_event_source_mapping(UUID=uuid, BatchSize=10, ParallelizationFactor=3)
    time.sleep(0.05)
    put(hw, *[f"x{i}" for i in range(6)])
    wait_processed(hw, uuid, clock, lambda: len(journal(path)) >= 3)
    assert journal(path)[2:] == [[f"x{i}" for i in range(6)]]  # nothing re-delivered
