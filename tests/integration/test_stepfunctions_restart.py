"""Step Functions executions survive a killed ``headwater serve`` (SIGKILL): one parked on
a Wait finishes on the restarted server when its time comes, and one waiting for a task
token runs its task again (a new message, a new token; the old token answers TaskTimedOut)
once the killed server's lease on it has run out. Real server, real clock (sped up 60x)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater.services.stepfunctions.runner import LEASE_SECONDS
from tests.conformance.server_process import ServerProcess, boto_client, headwater_server

pytestmark = pytest.mark.integration

REGION = "us-east-1"
ROLE = "arn:aws:iam::000000000000:role/sfn"
SPEED = ["--time-scale", "60"]


def client(server: ServerProcess, service: str) -> Any:
    return boto_client(server.endpoint, service, REGION)


def next_token(server: ServerProcess, queue: str, deadline_s: float) -> str:
    sqs = client(server, "sqs")
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", [])
        if messages:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=messages[0]["ReceiptHandle"])
            return str(json.loads(messages[0]["Body"])["token"])
    raise AssertionError("no task message")


def final(server: ServerProcess, execution: str, deadline_s: float) -> dict[str, Any]:
    sfn = client(server, "stepfunctions")
    deadline = time.monotonic() + deadline_s
    described: dict[str, Any] = sfn.describe_execution(executionArn=execution)
    while described["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.1)
        described = sfn.describe_execution(executionArn=execution)
    return described


def test_executions_survive_a_killed_server(tmp_path: Path) -> None:
    with headwater_server(tmp_path, SPEED) as first:
        sfn = client(first, "stepfunctions")
        queue = client(first, "sqs").create_queue(QueueName="asks")["QueueUrl"]
        napping = sfn.create_state_machine(
            name="napping",
            roleArn=ROLE,
            definition=json.dumps(
                {
                    "StartAt": "Nap",
                    "States": {
                        # 600 clock seconds: 10 real seconds at 60x
                        "Nap": {"Type": "Wait", "Seconds": 600, "Next": "Done"},
                        "Done": {"Type": "Pass", "Result": "rested", "End": True},
                    },
                }
            ),
        )["stateMachineArn"]
        asking = sfn.create_state_machine(
            name="asking",
            roleArn=ROLE,
            definition=json.dumps(
                {
                    "StartAt": "Ask",
                    "States": {
                        "Ask": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                            "Parameters": {
                                "QueueUrl": queue,
                                "MessageBody": {"token.$": "$$.Task.Token"},
                            },
                            "End": True,
                        }
                    },
                }
            ),
        )["stateMachineArn"]
        nap = sfn.start_execution(stateMachineArn=napping)["executionArn"]
        ask = sfn.start_execution(stateMachineArn=asking)["executionArn"]
        old_token = next_token(first, queue, 10)
        first.process.kill()
        first.process.wait()

    with headwater_server(tmp_path, SPEED) as second:
        sfn = client(second, "stepfunctions")
        assert sfn.describe_execution(executionArn=ask)["status"] == "RUNNING"
        new_token = next_token(second, queue, LEASE_SECONDS + 15)
        assert new_token != old_token
        with pytest.raises(ClientError) as caught:
            sfn.send_task_success(taskToken=old_token, output="{}")
        assert caught.value.response["Error"]["Code"] == "TaskTimedOut"
        sfn.send_task_success(taskToken=new_token, output='{"answer": 42}')
        answered = final(second, ask, 10)
        assert (answered["status"], json.loads(answered["output"])) == (
            "SUCCEEDED",
            {"answer": 42},
        )
        rested = final(second, nap, 30)
        assert (rested["status"], json.loads(rested["output"])) == ("SUCCEEDED", "rested")
        types = [e["type"] for e in sfn.get_execution_history(executionArn=nap)["events"]]
        assert types == [
            "ExecutionStarted", "WaitStateEntered", "WaitStateExited",
            "PassStateEntered", "PassStateExited", "ExecutionSucceeded",
        ]  # fmt: skip
