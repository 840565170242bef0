"""``boto3_in_process``: boto3 clients made in this process for an embedded headwater's
endpoint reach it through its ASGI app; other endpoints, and calls after it closed, go to
the network as usual."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError

from headwater import Headwater
from headwater.in_process import boto3_in_process
from tests.conformance.server_process import free_port


def sqs_client(endpoint: str) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )


def test_requests_to_the_endpoint_reach_the_embedded_headwater() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    other = f"http://127.0.0.1:{free_port()}"
    with Headwater.in_memory(endpoint_url=endpoint) as hw:
        with boto3_in_process(hw):
            created = sqs_client(endpoint).create_queue(QueueName="jobs")
            assert created["QueueUrl"].endswith("/000000000000/jobs")
            assert hw.sqs.list_queues()["QueueUrls"] == [created["QueueUrl"]]
            with pytest.raises(EndpointConnectionError):
                sqs_client(other).list_queues()
        with pytest.raises(EndpointConnectionError):
            sqs_client(endpoint).list_queues()


def test_needs_an_endpoint_url() -> None:
    with (
        Headwater.in_memory() as hw,
        pytest.raises(ValueError, match="endpoint_url"),
        boto3_in_process(hw),
    ):
        pass
