"""Lambda over the wire: boto3 and the AWS CLI against a real ``headwater serve``."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conformance.server_process import (
    ServerProcess,
    aws_cli,
    boto_client,
    headwater_server,
    zip_of,
)

pytestmark = pytest.mark.integration

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
#: Functions live in the region that signed the request (these clients sign for us-west-2;
#: the server's default region is us-east-1), as on AWS.
ACCOUNT_PREFIX = "arn:aws:lambda:us-west-2:000000000000:function"

HANDLER = """
import json
import os

def handler(event, context):
    print("got", json.dumps(event))
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"echo": event, "version": os.environ.get("VERSION", "1")}
"""

SQS_HANDLER = """
import os

import boto3

def handler(event, context):
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=event["queue"])["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="from the function")
    return {
        "url": url,
        "region": os.environ["AWS_REGION"],
        "default_region": os.environ["AWS_DEFAULT_REGION"],
        "client_region": sqs.meta.region_name,
        "invoked_arn": context.invoked_function_arn,
    }
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with headwater_server(tmp_path_factory.mktemp("lambda-wire")) as running:
        yield running


def _client(server: ServerProcess, service: str, region: str = "us-west-2") -> Any:
    return boto_client(server.endpoint, service, region)


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    return _client(server, "lambda")


@pytest.fixture(scope="module")
def echo(lam: Any) -> str:
    lam.create_function(
        FunctionName="echo",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of(HANDLER)},
        Timeout=10,
    )
    return "echo"


def test_function_crud(lam: Any, server: ServerProcess) -> None:
    created = lam.create_function(
        FunctionName="crud",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of(HANDLER)},
        Environment={"Variables": {"VERSION": "1"}},
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["FunctionArn"] == f"{ACCOUNT_PREFIX}:crud"
    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.create_function(
            FunctionName="crud",
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": zip_of(HANDLER)},
        )
    for ref in ("crud", "000000000000:function:crud", f"{ACCOUNT_PREFIX}:crud"):
        assert lam.get_function(FunctionName=ref)["Configuration"]["FunctionName"] == "crud"
    # invisible from another region, by name or by ARN (AWS's errors)
    east = _client(server, "lambda", region="us-east-1")
    with pytest.raises(east.exceptions.ResourceNotFoundException) as excinfo:
        east.get_function(FunctionName="crud")
    assert excinfo.value.response["Error"]["Message"] == (
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:crud"
    )
    with pytest.raises(east.exceptions.ResourceNotFoundException) as excinfo:
        east.get_function(FunctionName=f"{ACCOUNT_PREFIX}:crud")
    assert excinfo.value.response["Error"]["Message"] == (
        "Functions from 'us-west-2' are not reachable in this region ('us-east-1')"
    )
    assert "crud" not in [f["FunctionName"] for f in east.list_functions()["Functions"]]
    config = lam.get_function_configuration(FunctionName="crud")
    assert config["Handler"] == "app.handler"
    assert "crud" in [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    updated = lam.update_function_configuration(FunctionName="crud", Timeout=7, MemorySize=256)
    assert (updated["Timeout"], updated["MemorySize"]) == (7, 256)
    code = lam.update_function_code(FunctionName="crud", ZipFile=zip_of(HANDLER + "\n# v2\n"))
    assert code["CodeSha256"] != created["CodeSha256"]
    lam.put_function_concurrency(FunctionName="crud", ReservedConcurrentExecutions=3)
    assert lam.get_function_concurrency(FunctionName="crud")["ReservedConcurrentExecutions"] == 3
    lam.delete_function_concurrency(FunctionName="crud")
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName="crud")
    lam.delete_function(FunctionName=f"{ACCOUNT_PREFIX}:crud")
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as excinfo:
        lam.get_function(FunctionName="crud")
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_invoke_types_errors_and_logs(lam: Any, echo: str) -> None:
    ok = lam.invoke(FunctionName=echo, Payload=json.dumps({"a": 1}), LogType="Tail")
    assert ok["StatusCode"] == 200
    assert ok["ExecutedVersion"] == "$LATEST"
    assert json.loads(ok["Payload"].read())["echo"] == {"a": 1}
    assert "got" in base64.b64decode(ok["LogResult"]).decode()
    assert "FunctionError" not in ok

    failed = lam.invoke(FunctionName=f"{ACCOUNT_PREFIX}:{echo}", Payload=b'{"fail": true}')
    assert failed["StatusCode"] == 200
    assert failed["FunctionError"] == "Unhandled"
    error = json.loads(failed["Payload"].read())
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "asked to fail"
    # the response's x-amzn-RequestId is the invocation's own id
    assert error["requestId"] == failed["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    assert (
        f"REPORT RequestId: {ok['ResponseMetadata']['RequestId']}"
        in base64.b64decode(ok["LogResult"]).decode()
    )

    event = lam.invoke(FunctionName=echo, InvocationType="Event", Payload=b"{}")
    assert event["StatusCode"] == 202
    dry = lam.invoke(FunctionName=echo, InvocationType="DryRun", Payload=b"{}")
    assert dry["StatusCode"] == 204

    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="no-such-function", Payload=b"{}")
    with pytest.raises(ClientError) as excinfo:
        lam.invoke(FunctionName=echo, Payload=b"not json")
    assert excinfo.value.response["Error"]["Code"] == "InvalidRequestContentException"


def test_invoke_with_response_stream(lam: Any, echo: str) -> None:
    """botocore reads the vnd.amazon.eventstream framing: payload chunks, then completion."""
    big = {"data": "x" * 100_000}  # more than one PayloadChunk
    streamed = lam.invoke_with_response_stream(
        FunctionName=echo, Payload=json.dumps(big), LogType="Tail"
    )
    assert streamed["StatusCode"] == 200
    assert streamed["ExecutedVersion"] == "$LATEST"
    assert streamed["ResponseStreamContentType"] == "application/vnd.amazon.eventstream"
    events = list(streamed["EventStream"])
    chunks = [e["PayloadChunk"]["Payload"] for e in events if "PayloadChunk" in e]
    assert len(chunks) > 1
    assert json.loads(b"".join(chunks))["echo"] == big
    complete = events[-1]["InvokeComplete"]
    assert "ErrorCode" not in complete
    assert "REPORT RequestId:" in base64.b64decode(complete["LogResult"]).decode()

    failed = lam.invoke_with_response_stream(FunctionName=echo, Payload=b'{"fail": true}')
    events = list(failed["EventStream"])
    assert [list(e) for e in events] == [["InvokeComplete"]]
    complete = events[0]["InvokeComplete"]
    assert complete["ErrorCode"] == "ValueError"
    assert json.loads(complete["ErrorDetails"])["errorMessage"] == "asked to fail"

    dry = lam.invoke_with_response_stream(FunctionName=echo, InvocationType="DryRun")
    assert dry["StatusCode"] == 204
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke_with_response_stream(FunctionName="no-such-function", Payload=b"{}")


def test_event_source_mapping_api(lam: Any, echo: str, server: ServerProcess) -> None:
    sqs = _client(server, "sqs")
    url = sqs.create_queue(QueueName="esm-api")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    created = lam.create_event_source_mapping(
        FunctionName=echo,
        EventSourceArn=arn,
        BatchSize=5,
        MaximumBatchingWindowInSeconds=1,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": {"kind": ["order"]}})}]},
        ScalingConfig={"MaximumConcurrency": 2},
        Enabled=False,
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    uuid = created["UUID"]
    assert created["EventSourceArn"] == arn
    assert created["FunctionArn"] == f"{ACCOUNT_PREFIX}:{echo}"
    assert created["EventSourceMappingArn"] == (
        f"arn:aws:lambda:us-west-2:000000000000:event-source-mapping:{uuid}"
    )
    assert created["BatchSize"] == 5
    assert created["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.create_event_source_mapping(FunctionName=echo, EventSourceArn=arn)
    got = lam.get_event_source_mapping(UUID=uuid)
    assert got["UUID"] == uuid
    assert got["LastModified"].year >= 2024  # epoch seconds parsed to datetime
    listed = lam.list_event_source_mappings(FunctionName=echo, EventSourceArn=arn)
    assert [m["UUID"] for m in listed["EventSourceMappings"]] == [uuid]
    east = _client(server, "lambda", region="us-east-1")
    assert east.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"] == []
    with pytest.raises(east.exceptions.ResourceNotFoundException):
        east.get_event_source_mapping(UUID=uuid)
    updated = lam.update_event_source_mapping(UUID=uuid, BatchSize=7)
    assert updated["BatchSize"] == 7
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 202
    deleted = lam.delete_event_source_mapping(UUID=uuid)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as excinfo:
        lam.get_event_source_mapping(UUID="00000000-0000-0000-0000-000000000000")
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_function_calls_boto3_without_endpoint(lam: Any, server: ServerProcess) -> None:
    # The function is created in us-west-2, so its worker runs with AWS_REGION=us-west-2
    # and boto3.client("sqs") finds the us-west-2 queue, not the us-east-1 one of that name.
    sqs = _client(server, "sqs")
    url = sqs.create_queue(QueueName="from-function")["QueueUrl"]
    east_sqs = _client(server, "sqs", region="us-east-1")
    east_url = east_sqs.create_queue(QueueName="from-function")["QueueUrl"]
    lam.create_function(
        FunctionName="caller",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of(SQS_HANDLER)},
        Timeout=30,
    )
    response = lam.invoke(FunctionName="caller", Payload=json.dumps({"queue": "from-function"}))
    payload = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, payload
    assert payload["url"].endswith("/000000000000/from-function")
    assert payload["region"] == payload["default_region"] == payload["client_region"]
    assert payload["region"] == "us-west-2"
    assert payload["invoked_arn"] == f"{ACCOUNT_PREFIX}:caller"
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"]
    assert messages[0]["Body"] == "from the function"
    assert "Messages" not in east_sqs.receive_message(QueueUrl=east_url)


def test_cli_lambda_operations(server: ServerProcess, tmp_path: Path) -> None:
    zip_path = tmp_path / "fn.zip"
    zip_path.write_bytes(zip_of(HANDLER))
    created = aws_cli(
        server,
        "lambda",
        "create-function",
        "--function-name",
        "cli-fn",
        "--runtime",
        "python3.12",
        "--role",
        ROLE,
        "--handler",
        "app.handler",
        "--zip-file",
        f"fileb://{zip_path}",
    ).json()
    assert created["FunctionName"] == "cli-fn"
    assert (
        aws_cli(server, "lambda", "get-function", "--function-name", "cli-fn").json()[
            "Configuration"
        ]["FunctionArn"]
        == f"{ACCOUNT_PREFIX}:cli-fn"
    )
    aws_cli(server, "lambda", "get-function-configuration", "--function-name", "cli-fn")
    assert (
        "cli-fn"
        in aws_cli(server, "lambda", "list-functions", "--query", "Functions[].FunctionName").json()
    )
    aws_cli(
        server,
        "lambda",
        "update-function-configuration",
        "--function-name",
        "cli-fn",
        "--timeout",
        "9",
    )
    aws_cli(
        server,
        "lambda",
        "update-function-code",
        "--function-name",
        "cli-fn",
        "--zip-file",
        f"fileb://{zip_path}",
    )
    aws_cli(
        server,
        "lambda",
        "put-function-concurrency",
        "--function-name",
        "cli-fn",
        "--reserved-concurrent-executions",
        "2",
    )
    assert aws_cli(
        server, "lambda", "get-function-concurrency", "--function-name", "cli-fn"
    ).json() == {"ReservedConcurrentExecutions": 2}
    aws_cli(server, "lambda", "delete-function-concurrency", "--function-name", "cli-fn")
    out = tmp_path / "out.json"
    invoked = aws_cli(
        server,
        "lambda",
        "invoke",
        "--function-name",
        "cli-fn",
        "--payload",
        '{"fail": true}',
        "--log-type",
        "Tail",
        str(out),
    ).json()
    assert invoked["StatusCode"] == 200
    assert invoked["FunctionError"] == "Unhandled"
    assert invoked["ExecutedVersion"] == "$LATEST"
    assert json.loads(out.read_text())["errorMessage"] == "asked to fail"
    queue_url = aws_cli(server, "sqs", "create-queue", "--queue-name", "cli-esm").json()["QueueUrl"]
    arn = f"arn:aws:sqs:us-west-2:000000000000:{queue_url.rsplit('/', 1)[1]}"
    mapping = aws_cli(
        server,
        "lambda",
        "create-event-source-mapping",
        "--function-name",
        "cli-fn",
        "--event-source-arn",
        arn,
        "--batch-size",
        "5",
        "--no-enabled",
    ).json()
    uuid = mapping["UUID"]
    aws_cli(server, "lambda", "get-event-source-mapping", "--uuid", uuid)
    assert [
        m["UUID"]
        for m in aws_cli(
            server, "lambda", "list-event-source-mappings", "--function-name", "cli-fn"
        ).json()["EventSourceMappings"]
    ] == [uuid]
    aws_cli(server, "lambda", "update-event-source-mapping", "--uuid", uuid, "--batch-size", "3")
    aws_cli(server, "lambda", "delete-event-source-mapping", "--uuid", uuid)
    aws_cli(server, "lambda", "delete-function", "--function-name", "cli-fn")
    missing = aws_cli(server, "lambda", "get-function", "--function-name", "cli-fn", check=False)
    assert missing.returncode == 255
    assert "ResourceNotFoundException" in missing.stderr
