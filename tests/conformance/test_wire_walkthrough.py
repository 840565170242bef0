"""The AWS CLI walkthrough a new user would try: SQS -> Lambda with a dead-letter queue.

Runs against ``headwater serve --time-scale 60`` so the 180 s visibility timeout of the
main queue passes in 3 s; function timeouts stay real.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conformance.server_process import ServerProcess, aws_cli, headwater_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ORDERS_HANDLER = """
import json
import os


def handler(event, context):
    failures = []
    for record in event["Records"]:
        order = json.loads(record["body"])
        if order.get("fail"):
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        with open(os.path.join(os.environ["OUT_DIR"], "processed.txt"), "a") as out:
            out.write(order["id"] + "\\n")
    return {"batchItemFailures": failures}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with headwater_server(
        tmp_path_factory.mktemp("walkthrough"), ["--time-scale", "60", "--log-level", "info"]
    ) as running:
        yield running


def test_cli_walkthrough_good_order_processed_failing_order_in_dlq(
    server: ServerProcess, tmp_path: Path
) -> None:
    # 1. a dead-letter queue, and its ARN the way the docs show it
    aws_cli(server, "sqs", "create-queue", "--queue-name", "orders-dlq")
    dlq_url = "https://sqs.us-west-2.amazonaws.com/000000000000/orders-dlq"
    dlq_arn = aws_cli(
        server,
        "sqs",
        "get-queue-attributes",
        "--queue-url",
        dlq_url,
        "--attribute-names",
        "QueueArn",
        "--query",
        "Attributes.QueueArn",
        "--output",
        "text",
    ).stdout.strip()
    assert dlq_arn == "arn:aws:sqs:us-west-2:000000000000:orders-dlq"

    # 2. the main queue: 180 s visibility timeout, three receives before the DLQ
    attributes = tmp_path / "attributes.json"
    attributes.write_text(
        json.dumps(
            {
                "VisibilityTimeout": "180",
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"}
                ),
            }
        )
    )
    created = aws_cli(
        server,
        "sqs",
        "create-queue",
        "--queue-name",
        "orders",
        "--attributes",
        f"file://{attributes}",
    ).json()
    assert created["QueueUrl"].endswith("/000000000000/orders")
    queue_arn = "arn:aws:sqs:us-west-2:000000000000:orders"

    # 3. a Python function from a zip
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    zip_path = tmp_path / "orders.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("orders.py", ORDERS_HANDLER)
    zip_path.write_bytes(buffer.getvalue())
    function = aws_cli(
        server,
        "lambda",
        "create-function",
        "--function-name",
        "process-orders",
        "--runtime",
        "python3.12",
        "--handler",
        "orders.handler",
        "--role",
        "arn:aws:iam::000000000000:role/orders-role",
        "--zip-file",
        f"fileb://{zip_path}",
        "--environment",
        json.dumps({"Variables": {"OUT_DIR": str(out_dir)}}),
    ).json()
    assert function["State"] == "Active"
    # the CLI is configured for us-west-2: the function is a us-west-2 one
    assert function["FunctionArn"] == (
        "arn:aws:lambda:us-west-2:000000000000:function:process-orders"
    )

    # 4. the mapping, with partial batch responses
    mapping = aws_cli(
        server,
        "lambda",
        "create-event-source-mapping",
        "--function-name",
        "process-orders",
        "--event-source-arn",
        queue_arn,
        "--batch-size",
        "5",
        "--function-response-types",
        "ReportBatchItemFailures",
    ).json()
    assert mapping["BatchSize"] == 5
    assert mapping["FunctionArn"] == function["FunctionArn"]
    assert mapping["EventSourceMappingArn"].startswith(
        "arn:aws:lambda:us-west-2:000000000000:event-source-mapping:"
    )
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

    # 5. one good and one failing order, through the AWS URL form
    orders_url = "https://sqs.us-west-2.amazonaws.com/000000000000/orders"
    for order in ({"id": "order-1"}, {"id": "order-2", "fail": True}):
        aws_cli(
            server,
            "sqs",
            "send-message",
            "--queue-url",
            orders_url,
            "--message-body",
            json.dumps(order),
        )

    # 6. the good one is processed; the failing one ends in the DLQ after 3 receives
    processed = out_dir / "processed.txt"
    dead: list[dict[str, object]] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not dead:
        time.sleep(1)
        dead = (
            aws_cli(
                server,
                "sqs",
                "receive-message",
                "--queue-url",
                dlq_url,
                "--attribute-names",
                "All",
                "--wait-time-seconds",
                "1",
            ).json()
            or {}
        )
        dead = dead.get("Messages", []) if isinstance(dead, dict) else []
    assert processed.exists() and processed.read_text().split() == ["order-1"]
    state = aws_cli(
        server, "sqs", "get-queue-attributes", "--queue-url", orders_url, "--attribute-names", "All"
    ).stdout
    assert len(dead) == 1, f"{state}\n{server.output()}"
    assert json.loads(str(dead[0]["Body"])) == {"id": "order-2", "fail": True}
    remaining = aws_cli(
        server,
        "sqs",
        "get-queue-attributes",
        "--queue-url",
        orders_url,
        "--attribute-names",
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
    ).json()["Attributes"]
    assert remaining == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
    }
