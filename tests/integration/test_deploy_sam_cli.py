"""The seed's SAM application with AWS's own tools against ``headwater serve``, unchanged.

``aws cloudformation package`` + ``aws cloudformation deploy`` (code uploaded to headwater's
S3), and ``sam deploy --resolve-s3`` (SAM's managed stack and bucket, the change set, the
events): the order demo runs through the SAM-deployed stack (a failing order reaches the DLQ
after three receives), a changed BatchSize updates the mapping in place, and ``sam delete``
removes everything.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.server_process import (
    AWS_CLI,
    ServerProcess,
    boto_client,
    headwater_server,
)
from tests.integration.deploy_tools import function_log, run_tool, tool

pytestmark = pytest.mark.integration

SEED000 = Path(__file__).resolve().parents[1] / "data" / "apps" / "seed000-sam"
REGION = "us-west-2"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # 180 s visibility timeouts pass in 3 s (longer than a cold start on a loaded machine)
    with headwater_server(tmp_path_factory.mktemp("sam-serve"), ["--time-scale", "60"]) as running:
        yield running


@pytest.fixture
def app(tmp_path: Path) -> Path:
    target = tmp_path / "seed000-sam"
    shutil.copytree(SEED000, target)
    return target


def run(server: ServerProcess, app: Path, command: list[str]) -> str:
    return run_tool(server, app, command, region=REGION)


def outputs(server: ServerProcess, stack: str) -> dict[str, str]:
    cfn = boto_client(server.endpoint, "cloudformation", REGION)
    found = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert found["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    return {o["OutputKey"]: o["OutputValue"] for o in found["Outputs"]}


def wait_for_message(sqs: Any, url: str, deadline_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        found = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, AttributeNames=["All"]).get(
            "Messages", []
        )
        if found:
            message: dict[str, Any] = found[0]
            return message
    raise AssertionError(f"no message in {url} within {deadline_s} s")


def test_aws_cloudformation_package_and_deploy(server: ServerProcess, app: Path) -> None:
    aws = [str(AWS_CLI), "--output", "json"]
    run(server, app, [*aws, "s3", "mb", "s3://seed000-artifacts"])
    run(
        server,
        app,
        [
            *aws,
            "cloudformation",
            "package",
            "--template-file",
            "template.yaml",
            "--s3-bucket",
            "seed000-artifacts",
            "--output-template-file",
            "packaged.yaml",
        ],
    )
    assert "CodeUri: s3://seed000-artifacts/" in (app / "packaged.yaml").read_text()
    printed = run(
        server,
        app,
        [
            *aws,
            "cloudformation",
            "deploy",
            "--template-file",
            "packaged.yaml",
            "--stack-name",
            "seed000-cli",
            "--capabilities",
            "CAPABILITY_IAM",
        ],
    )
    assert "Successfully created/updated stack - seed000-cli" in printed
    out = outputs(server, "seed000-cli")
    lam = boto_client(server.endpoint, "lambda", REGION)
    code = lam.get_function(FunctionName=out["ProcessOrderFnName"])["Configuration"]
    assert code["Handler"] == "app.handler" and code["CodeSize"] > 0
    run(server, app, [*aws, "cloudformation", "delete-stack", "--stack-name", "seed000-cli"])


def test_sam_deploy_runs_the_order_demo_updates_and_deletes(
    server: ServerProcess, app: Path
) -> None:
    sam = tool("HEADWATER_SAM_CLI", "sam", "the SAM CLI")
    deploy = [
        sam,
        "deploy",
        "--stack-name",
        "seed000-sam",
        "--capabilities",
        "CAPABILITY_IAM",
        "--resolve-s3",
        "--no-confirm-changeset",
        "--region",
        REGION,
    ]
    printed = run(server, app, deploy)
    assert "Successfully created/updated stack - seed000-sam" in printed
    assert outputs(server, "aws-sam-cli-managed-default")["SourceBucket"]
    out = outputs(server, "seed000-sam")
    lam = boto_client(server.endpoint, "lambda", REGION)
    sqs = boto_client(server.endpoint, "sqs", REGION)
    (mapping,) = lam.list_event_source_mappings(FunctionName=out["ProcessOrderFnName"])[
        "EventSourceMappings"
    ]
    assert mapping["BatchSize"] == 10

    sqs.send_message(QueueUrl=out["OrderQueueUrl"], MessageBody='{"orderId":"ORD-001"}')
    sqs.send_message(
        QueueUrl=out["OrderQueueUrl"], MessageBody='{"orderId":"ORD-002","amount":50,"fail":true}'
    )
    dead = wait_for_message(sqs, out["OrderDLQUrl"])
    assert json.loads(dead["Body"])["orderId"] == "ORD-002"
    log = function_log(server, out["ProcessOrderFnName"], REGION)
    assert log.count("Processing order: ORD-002") == 3  # three receives
    assert log.count("Success: ORD-001") == 1

    template = app / "template.yaml"
    template.write_text(template.read_text().replace("BatchSize: 10", "BatchSize: 5"))
    printed = run(server, app, deploy)
    assert "UPDATE_COMPLETE" in printed
    assert lam.get_event_source_mapping(UUID=mapping["UUID"])["BatchSize"] == 5

    cfn = boto_client(server.endpoint, "cloudformation", REGION)
    resources = cfn.list_stack_resources(StackName="seed000-sam")["StackResourceSummaries"]
    physical = {r["ResourceType"]: r["PhysicalResourceId"] for r in resources}
    run(
        server,
        app,
        [sam, "delete", "--stack-name", "seed000-sam", "--no-prompts", "--region", REGION],
    )
    assert out["ProcessOrderFnName"] not in [
        f["FunctionName"] for f in lam.list_functions()["Functions"]
    ]
    assert out["OrderQueueUrl"] not in sqs.list_queues().get("QueueUrls", [])
    kinesis = boto_client(server.endpoint, "kinesis", REGION)
    assert physical["AWS::Kinesis::Stream"] not in kinesis.list_streams()["StreamNames"]
