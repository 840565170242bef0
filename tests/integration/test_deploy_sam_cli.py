"""``sam deploy`` (the SAM CLI, unchanged) against ``headwater serve``: only the endpoint set.

A SAM application with inline code needs no packaging, so the whole CloudFormation side of
``sam deploy`` runs: change set, waiter, events, outputs; then an update and ``sam delete``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conformance.server_process import ServerProcess, boto_client, headwater_server
from tests.integration.deploy_tools import tool

pytestmark = pytest.mark.integration

TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Queue:
    Type: AWS::SQS::Queue
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: |
        def handler(event, context):
            return {"batchItemFailures": []}
      Handler: index.handler
      Runtime: python3.12
      Events:
        Sqs:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
            BatchSize: BATCH
Outputs:
  QueueUrl:
    Value: !Ref Queue
  FunctionName:
    Value: !Ref Fn
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with headwater_server(tmp_path_factory.mktemp("sam-serve")) as running:
        yield running


def sam(server: ServerProcess, app: Path, *args: str) -> str:
    env = server.client_env()
    env.update(
        AWS_ENDPOINT_URL=server.endpoint,
        SAM_CLI_TELEMETRY="0",
        # SAM polls stack events every 5 s by default; the deployment is done long before
        SAM_CLI_POLL_DELAY="0.5",
    )
    completed = subprocess.run(
        [tool("HEADWATER_SAM_CLI", "sam", "the SAM CLI"), *args],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout + completed.stderr


def test_sam_deploy_update_and_delete(server: ServerProcess, tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(TEMPLATE.replace("BATCH", "10"))
    deploy = [
        "deploy",
        "--stack-name",
        "samapp",
        "--capabilities",
        "CAPABILITY_IAM",
        "--no-confirm-changeset",
        "--region",
        "us-west-2",
    ]
    printed = sam(server, tmp_path, *deploy)
    assert "Successfully created/updated stack - samapp" in printed
    cfn = boto_client(server.endpoint, "cloudformation")
    stack = cfn.describe_stacks(StackName="samapp")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    lam = boto_client(server.endpoint, "lambda")
    (mapping,) = lam.list_event_source_mappings(FunctionName=outputs["FunctionName"])[
        "EventSourceMappings"
    ]
    assert mapping["BatchSize"] == 10

    (tmp_path / "template.yaml").write_text(TEMPLATE.replace("BATCH", "4"))
    printed = sam(server, tmp_path, *deploy)
    assert "UPDATE_COMPLETE" in printed
    assert lam.get_event_source_mapping(UUID=mapping["UUID"])["BatchSize"] == 4

    sam(
        server,
        tmp_path,
        "delete",
        "--stack-name",
        "samapp",
        "--no-prompts",
        "--region",
        "us-west-2",
    )
    assert lam.list_functions()["Functions"] == []
    assert boto_client(server.endpoint, "sqs").list_queues().get("QueueUrls", []) == []
