"""SIGTERM while a mapping's batch is in flight: the engine settles it, the server exits 0,
and a restarted server on the same data directory has no message lost or stuck."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.conformance.server_process import headwater_server, stop

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SLOW_HANDLER = """
import os
import time


def handler(event, context):
    open(os.environ["STARTED"], "w").close()
    time.sleep(2)
    return {"batchItemFailures": []}
"""


def _client(endpoint: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIDHEADWATERTEST",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}),
    )


def test_sigterm_settles_in_flight_batch(tmp_path: Path) -> None:
    started = tmp_path / "started"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("slow.py", SLOW_HANDLER)
    with headwater_server(tmp_path) as server:
        sqs = _client(server.endpoint, "sqs")
        lam = _client(server.endpoint, "lambda")
        url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
        lam.create_function(
            FunctionName="slow",
            Runtime="python3.12",
            Role="arn:aws:iam::000000000000:role/r",
            Handler="slow.handler",
            Code={"ZipFile": buffer.getvalue()},
            Timeout=30,
            Environment={"Variables": {"STARTED": str(started)}},
        )
        lam.create_event_source_mapping(
            FunctionName="slow", EventSourceArn="arn:aws:sqs:us-east-1:000000000000:jobs"
        )
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"job": 1}))
        deadline = time.monotonic() + 30
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started.exists(), server.output()
        began = time.monotonic()
        assert stop(server.process, timeout_s=40) == 0
        assert time.monotonic() - began < 20
        assert "headwater stopped" in server.output()

    with headwater_server(tmp_path) as again:
        sqs = _client(again.endpoint, "sqs")
        attributes = sqs.get_queue_attributes(
            QueueUrl=sqs.get_queue_url(QueueName="jobs")["QueueUrl"],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        # the batch finished within the grace period, so its message was deleted
        assert attributes == {
            "ApproximateNumberOfMessages": "0",
            "ApproximateNumberOfMessagesNotVisible": "0",
        }
