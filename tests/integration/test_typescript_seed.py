"""The seed CDK app's TypeScript handlers, built with esbuild, run as nodejs20.x functions
behind SQS and Kinesis mappings with ReportBatchItemFailures: a failing SQS message comes
back and reaches the DLQ; a failing Kinesis record is reported by its sequence number and
retried alone, then goes to the on-failure destination."""

from __future__ import annotations

import io
import json
import shutil
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater import Headwater
from headwater.runtime.typescript import prepare_code_directory
from tests.conftest import DATA
from tests.integration.runtime_api_fixtures import needs_node, node_tools

pytestmark = [pytest.mark.integration, needs_node]

SEED = DATA / "apps" / "seed003-cdk" / "lambda"  # the seed app, as users bring it
PACKAGE_JSON = '{"name": "seed003-lambda", "private": true}\n'


@pytest.fixture(scope="module")
def esbuild() -> str:
    return str(node_tools() / "node_modules" / ".bin" / "esbuild")


def seed_source(tmp_path: Path, name: str) -> Path:
    """A CDK-style asset directory (index.ts) inside an app with a package.json."""
    app = tmp_path / "app"
    app.mkdir(exist_ok=True)
    (app / "package.json").write_text(PACKAGE_JSON)
    target = app / "lambda" / name
    shutil.copytree(SEED / name, target)
    return target


def built_zip(source: Path, esbuild: str, build_root: Path) -> bytes:
    out = Path(prepare_code_directory(source, "index.handler", build_root, esbuild=esbuild))
    assert (out / "index.js").is_file()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in out.rglob("*"):
            archive.write(path, path.relative_to(out).as_posix())
    return buffer.getvalue()


@pytest.fixture
def hw() -> Iterator[Headwater]:
    # A 60x clock: visibility timeouts and retry backoffs pass quickly, handlers run live.
    with Headwater.in_memory(time_scale=60, function_esbuild=None) as app:
        yield app


def queue_arn(sqs: Any, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def create_node_function(hw: Headwater, name: str, code: bytes, timeout: int) -> None:
    hw.client("lambda").create_function(
        FunctionName=name,
        Runtime="nodejs20.x",
        Role="arn:aws:iam::000000000000:role/r",
        Handler="index.handler",
        Code={"ZipFile": code},
        Timeout=timeout,
    )


def wait_for(condition: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail("the condition did not come true in time")


def logged(hw: Headwater, function: str, marker: str) -> list[dict[str, Any]]:
    """The JSON each handler log line with ``marker`` printed."""
    lines = hw.lambda_.function_logs(function).split("\n")
    return [json.loads(line.split(marker + " ", 1)[1]) for line in lines if marker + " " in line]


def test_typescript_directory_is_built_when_created(
    hw: Headwater, tmp_path: Path, esbuild: str
) -> None:
    source = seed_source(tmp_path, "order-processor")
    (source / "package.json").write_text(PACKAGE_JSON)
    with Headwater.in_memory(function_esbuild=esbuild) as local:
        local.lambda_.create_function_from_directory(
            "orders", source, "index.handler", runtime="nodejs20.x"
        )
        event = {"Records": [{"messageId": "m-1", "body": '{"orderId": "A", "fail": true}'}]}
        result = local.lambda_.invoke_function("orders", json.dumps(event).encode())
        assert json.loads(result.payload) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}


def test_sqs_failing_message_comes_back_and_reaches_the_dlq(
    hw: Headwater, tmp_path: Path, esbuild: str
) -> None:
    sqs = hw.client("sqs")
    dlq_url = sqs.create_queue(QueueName="OrderDLQ")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName="OrderQueue",
        Attributes={
            # 1 s of real time at 60x: longer than a cold start, so a batch is settled
            # before its messages could be received again
            "VisibilityTimeout": "60",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}),
        },
    )["QueueUrl"]
    arn = queue_arn(sqs, url)
    code = built_zip(seed_source(tmp_path, "order-processor"), esbuild, tmp_path / "build")
    create_node_function(hw, "OrderProcessor", code, timeout=1)
    lam = hw.client("lambda")
    lam.create_event_source_mapping(
        FunctionName="OrderProcessor",
        EventSourceArn=arn,
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    for order in ({"orderId": "ORD-1"}, {"orderId": "ORD-2", "fail": True}, {"orderId": "ORD-3"}):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(order))
    hw.start()

    def in_dlq() -> list[dict[str, Any]]:
        return sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])

    (dead,) = wait_for(in_dlq)
    assert json.loads(dead["Body"]) == {"orderId": "ORD-2", "fail": True}
    processed = [order["orderId"] for order in logged(hw, "OrderProcessor", "Processing order")]
    assert processed.count("ORD-1") == processed.count("ORD-3") == 1  # deleted at once
    assert processed.count("ORD-2") == 3  # came back until maxReceiveCount, then the DLQ
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []


def test_kinesis_failing_record_is_retried_alone(
    hw: Headwater, tmp_path: Path, esbuild: str
) -> None:
    kinesis = hw.client("kinesis")
    kinesis.create_stream(StreamName="UserEventStream", ShardCount=1)
    stream_arn = kinesis.describe_stream(StreamName="UserEventStream")["StreamDescription"][
        "StreamARN"
    ]
    sqs = hw.client("sqs")
    failed_url = sqs.create_queue(QueueName="FailedRecords")["QueueUrl"]
    failed_arn = queue_arn(sqs, failed_url)
    code = built_zip(seed_source(tmp_path, "high-priority"), esbuild, tmp_path / "build")
    create_node_function(hw, "HighPriorityProcessor", code, timeout=5)
    lam = hw.client("lambda")
    sequence = []
    for click in (
        {"eventType": "CLICK", "priority": 5, "n": 1},
        {"eventType": "CLICK", "priority": 7, "n": 2},
        {"eventType": "CLICK", "priority": 9, "n": 3, "fail": True},
    ):
        sequence.append(
            kinesis.put_record(
                StreamName="UserEventStream", Data=json.dumps(click).encode(), PartitionKey="u"
            )["SequenceNumber"]
        )
    lam.create_event_source_mapping(
        FunctionName="HighPriorityProcessor",
        EventSourceArn=stream_arn,
        StartingPosition="TRIM_HORIZON",
        BatchSize=200,
        MaximumRetryAttempts=2,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        DestinationConfig={"OnFailure": {"Destination": failed_arn}},
    )
    hw.start()

    def on_failure() -> list[dict[str, Any]]:
        return sqs.receive_message(QueueUrl=failed_url).get("Messages", [])

    (message,) = wait_for(on_failure)
    info = json.loads(message["Body"])["KinesisBatchInfo"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == sequence[2]
    assert info["batchSize"] == 1
    clicks = [click["n"] for click in logged(hw, "HighPriorityProcessor", "High-priority click")]
    assert clicks.count(1) == clicks.count(2) == 1
    assert clicks.count(3) == 3  # the first try, then two retries of that record alone
    failures = hw.lambda_.function_logs("HighPriorityProcessor")
    assert f"Falha no record {sequence[2]}:" in failures


def test_typescript_esm_package_and_build_errors(tmp_path: Path, esbuild: str) -> None:
    code = tmp_path / "esm"
    code.mkdir()
    (code / "package.json").write_text('{"type": "module"}\n')
    (code / "app.ts").write_text(
        "import type { Context } from 'aws-lambda';\n"
        "export const handler = async (event: { n: number }, context: Context) =>\n"
        "  ({ doubled: event.n * 2, fn: context.functionName });\n"
    )
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "package.json").write_text("{}\n")
    (broken / "index.ts").write_text("export const handler = async ( => 1;\n")
    with Headwater.in_memory(function_esbuild=esbuild) as hw:
        hw.lambda_.create_function_from_directory("esm", code, "app.handler", runtime="nodejs22.x")
        result = hw.lambda_.invoke_function("esm", b'{"n": 21}')
        assert json.loads(result.payload) == {"doubled": 42, "fn": "esm"}
        client = hw.client("lambda")
        with pytest.raises(client.exceptions.InvalidParameterValueException) as caught:
            hw.lambda_.create_function_from_directory(
                "broken", broken, "index.handler", runtime="nodejs20.x"
            )
        assert "esbuild could not build index.ts" in caught.value.response["Error"]["Message"]


def test_typescript_without_esbuild_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from headwater.runtime import typescript

    monkeypatch.setattr(typescript, "find_esbuild", lambda directory, configured=None: None)
    source = seed_source(tmp_path, "order-processor")
    with Headwater.in_memory() as hw:
        client = hw.client("lambda")
        with pytest.raises(client.exceptions.InvalidParameterValueException) as caught:
            hw.lambda_.create_function_from_directory(
                "orders", source, "index.handler", runtime="nodejs20.x"
            )
    assert "npm install --save-dev esbuild" in caught.value.response["Error"]["Message"]
