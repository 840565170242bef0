"""The application the observability tests run: a function fed by a queue whose DLQ has
an alarm on its depth, and the function's poisoned and fixed code."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from tests.conformance.server_process import ServerProcess, boto_client, zip_of

POISON = """
def handler(event, context):
    for record in event["Records"]:
        print("handling", record["body"])
        if record["body"] == "poison":
            raise ValueError("cannot digest " + record["messageId"])
"""
FIXED = """
def handler(event, context):
    for record in event["Records"]:
        print("digested", record["body"])
"""


def wait_for(check: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def deploy_app(server: ServerProcess) -> dict[str, str]:
    """A function fed by a queue whose DLQ has an alarm on its depth."""
    sqs = boto_client(server.endpoint, "sqs")
    lam = boto_client(server.endpoint, "lambda")
    cw = boto_client(server.endpoint, "cloudwatch")
    dlq_url = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName="orders",
        Attributes={
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    lam.create_function(
        FunctionName="digest", Runtime="python3.12", Role="arn:aws:iam::000000000000:role/r",
        Handler="app.handler", Code={"ZipFile": zip_of(POISON)}, Timeout=10,
    )  # fmt: skip
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="digest", BatchSize=1)
    cw.put_metric_alarm(
        AlarmName="orders-dlq-depth", Namespace="AWS/SQS",
        MetricName="ApproximateNumberOfMessagesVisible",
        Dimensions=[{"Name": "QueueName", "Value": "orders-dlq"}], Statistic="Maximum",
        Period=60, EvaluationPeriods=1, Threshold=0, ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )  # fmt: skip
    return {"url": url, "arn": arn, "dlq_url": dlq_url, "dlq_arn": dlq_arn}


def alarm_state(server: ServerProcess) -> str:
    cw = boto_client(server.endpoint, "cloudwatch")
    alarms = cw.describe_alarms(AlarmNames=["orders-dlq-depth"])["MetricAlarms"]
    return str(alarms[0]["StateValue"])
