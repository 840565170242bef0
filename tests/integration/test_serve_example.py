"""The README's first command: `headwater serve --example examples/orders --time-scale 60`,
and the change-data-capture example: `headwater serve --example examples/cdc`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.server_process import boto_client, headwater_server

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE = EXAMPLES / "orders"


def client(service: str, endpoint: str) -> Any:
    return boto_client(endpoint, service, "us-east-1")


def test_serve_example_processes_good_orders_and_dead_letters_bad_ones(tmp_path: Path) -> None:
    args = ["--example", str(EXAMPLE), "--time-scale", "60"]
    with headwater_server(tmp_path, args) as server:
        assert "deployed example" in server.output()
        sqs = client("sqs", server.endpoint)
        queue = sqs.get_queue_url(QueueName="orders")["QueueUrl"]
        dlq = sqs.get_queue_url(QueueName="orders-dlq")["QueueUrl"]
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"orderId": "A-1"}))
        bad = sqs.send_message(
            QueueUrl=queue, MessageBody=json.dumps({"orderId": "B-2", "fail": True})
        )["MessageId"]
        # 3 receives x 180 s visibility = 9 minutes of queue time = about 9 s at 60x.
        dead: list[str] = []
        deadline = time.monotonic() + 60
        while not dead and time.monotonic() < deadline:
            got = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1, VisibilityTimeout=0)
            dead = [json.loads(m["Body"])["orderId"] for m in got.get("Messages", [])]
        assert dead == ["B-2"]
        counts = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
        assert counts["ApproximateNumberOfMessages"] == "0"
        assert counts["ApproximateNumberOfMessagesNotVisible"] == "0"
        cli = [sys.executable, "-c", "from headwater.cli.main import main; main()"]
        logs = subprocess.run(
            [*cli, "logs", "process-orders", "--data-dir", str(server.data_dir)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert logs.count("processed order A-1") == 1
        assert "processed order B-2" not in logs
        # headwater's mapping log in the server output: B-2 reported failed at each receive
        output = server.output()
        for receive in (1, 2, 3):
            assert f"reported failed (batchItemFailures): {bad} (receive {receive})" in output

    # Starting again on the same data directory deploys idempotently: one mapping.
    with headwater_server(tmp_path, args) as server:
        mappings = client("lambda", server.endpoint).list_event_source_mappings(
            FunctionName="process-orders"
        )["EventSourceMappings"]
        assert len(mappings) == 1


def test_serve_cdc_example_keeps_totals_and_sends_poison_to_the_failure_queue(
    tmp_path: Path,
) -> None:
    # The function runs in a worker process: its boto3 reaches the server by AWS_ENDPOINT_URL.
    args = ["--example", str(EXAMPLES / "cdc"), "--time-scale", "60"]
    with headwater_server(tmp_path, args) as server:
        assert "deployed example" in server.output()
        dynamodb = client("dynamodb", server.endpoint)
        sqs = client("sqs", server.endpoint)

        def order(order_id: str, customer: str, amount: dict[str, str]) -> None:
            item = {"orderId": {"S": order_id}, "customer": {"S": customer}, "amount": amount}
            dynamodb.put_item(TableName="orders", Item=item)

        order("o-1", "alice", {"N": "20"})
        order("o-2", "bob", {"N": "12"})
        order("o-3", "bob", {"S": "twelve"})  # poison
        order("o-1", "bob", {"N": "3"})  # moves to bob
        order("o-4", "alice", {"N": "8"})
        dynamodb.delete_item(TableName="orders", Key={"orderId": {"S": "o-4"}})
        wanted = {"alice": "0", "bob": "15"}
        totals: dict[str, str] = {}
        deadline = time.monotonic() + 60
        while totals != wanted and time.monotonic() < deadline:
            time.sleep(0.1)
            items = dynamodb.scan(TableName="customer_totals")["Items"]
            totals = {i["customer"]["S"]: i["total"]["N"] for i in items}
        assert totals == wanted
        queue = sqs.get_queue_url(QueueName="order-totals-failures")["QueueUrl"]
        failed: list[dict[str, Any]] = []
        while not failed and time.monotonic() < deadline:
            got = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)
            failed = [json.loads(m["Body"]) for m in got.get("Messages", [])]
        (body,) = failed
        assert body["DDBStreamBatchInfo"]["batchSize"] == 1
        assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
