"""What the EventBridge and Scheduler wire tests share: boto3 clients through a headwater's
wire layer (``boto3_in_process``), queues to receive deliveries, and the test clock's start."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = "http://127.0.0.1:4599"  # never connected to: boto3_in_process answers
ACCOUNT = "000000000000"
REGION = "us-east-1"
#: 2027-01-04 (a Monday) 00:00:00 UTC: schedules start on a known minute and weekday.
START = dt.datetime(2027, 1, 4, tzinfo=dt.UTC).timestamp()

Clients = Callable[[str], Any]


def wire_client(service: str) -> Any:
    """A boto3 client for ``ENDPOINT`` (inside ``boto3_in_process``: a headwater's wire)."""
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id="AKIDHEADWATERTEST",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}),
    )


def error_of(call: Callable[..., Any], **params: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error: dict[str, str] = caught.value.response["Error"]
    return error


def make_queue(client: Clients, name: str = "inbox") -> tuple[str, str]:
    sqs = client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def drain(client: Clients, url: str) -> list[str]:
    """Every message body in the queue, in order."""
    sqs = client("sqs")
    bodies: list[str] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def entry(source: str = "shop.orders", detail: Any = None, **extra: Any) -> dict[str, Any]:
    return {
        "Source": source,
        "DetailType": "Order Placed",
        "Detail": json.dumps({"amount": 5} if detail is None else detail),
        **extra,
    }


def dead_letters(client: Clients, url: str) -> list[tuple[dict[str, Any], dict[str, str]]]:
    """Each dead-letter message's body (JSON) and String attributes, in order."""
    sqs = client("sqs")
    found: list[tuple[dict[str, Any], dict[str, str]]] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            attributes = {
                name: value["StringValue"]
                for name, value in message.get("MessageAttributes", {}).items()
            }
            found.append((json.loads(message["Body"]), attributes))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
