"""The change-data-capture example: an orders table's stream keeps per-customer totals.

``orders`` (key ``orderId``; ``customer``, ``amount``) has a NEW_AND_OLD_IMAGES stream; an
event source mapping on the stream ARN feeds ``order-totals`` (``handler.py``), which
keeps ``customer_totals`` (key ``customer``; ``total``, ``orders``) equal to the sum of
each customer's orders through inserts, updates (amount or customer changed) and deletes.
A record the function cannot apply is retried (MaximumRetryAttempts 2), its batch bisected
down to it, and then it goes to the ``order-totals-failures`` queue.

Serve it: ``headwater serve --example examples/cdc``. Run it embedded:
``python examples/cdc/app.py`` (a ManualClock and inline functions; the handler's boto3
calls reach the embedded headwater through ``headwater.in_process.boto3_in_process``).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from headwater import Headwater, ManualClock

HERE = Path(__file__).resolve().parent
FUNCTION = "order-totals"
FAILURE_QUEUE = "order-totals-failures"


@dataclass
class CdcApp:
    """Handles to the example's resources."""

    hw: Headwater
    stream_arn: str
    failure_queue_url: str
    mapping_uuid: str


def _ensure_table(hw: Headwater, name: str, key: str, stream: bool) -> dict[str, Any]:
    dynamodb = hw.client("dynamodb")
    try:
        table: dict[str, Any] = dynamodb.describe_table(TableName=name)["Table"]
        return table
    except dynamodb.exceptions.ResourceNotFoundException:
        pass
    params: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": key, "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if stream:
        params["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
    created: dict[str, Any] = dynamodb.create_table(**params)["TableDescription"]
    return created


def deploy(hw: Headwater, environment: dict[str, str] | None = None) -> CdcApp:
    """Create both tables, the failure queue, the function and the stream mapping.

    Idempotent: ``headwater serve --example`` deploys again on every start.
    """
    orders = _ensure_table(hw, "orders", "orderId", stream=True)
    _ensure_table(hw, "customer_totals", "customer", stream=False)
    stream_arn = orders["LatestStreamArn"]
    sqs = hw.client("sqs")
    lam = hw.client("lambda")
    queue_url = sqs.create_queue(QueueName=FAILURE_QUEUE)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    variables = {"TOTALS_TABLE": "customer_totals", **(environment or {})}
    try:
        lam.get_function(FunctionName=FUNCTION)
    except lam.exceptions.ResourceNotFoundException:
        hw.lambda_.create_function_from_directory(
            FUNCTION, HERE, "handler.handle", environment=variables
        )
    else:
        hw.lambda_.update_function_code_from_directory(FUNCTION, HERE)
    existing = lam.list_event_source_mappings(FunctionName=FUNCTION, EventSourceArn=stream_arn)[
        "EventSourceMappings"
    ]
    if existing:
        uuid = existing[0]["UUID"]
    else:
        uuid = lam.create_event_source_mapping(
            FunctionName=FUNCTION,
            EventSourceArn=stream_arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=10,
            MaximumRetryAttempts=2,
            BisectBatchOnFunctionError=True,
            FunctionResponseTypes=["ReportBatchItemFailures"],
            DestinationConfig={"OnFailure": {"Destination": queue_arn}},
        )["UUID"]
    return CdcApp(hw, stream_arn, queue_url, uuid)


def put_order(hw: Headwater, order_id: str, customer: str, amount: str) -> None:
    """Write an order (``amount`` a decimal string; anything else makes a poison order)."""
    amount_value = {"N": amount} if _is_number(amount) else {"S": amount}
    hw.client("dynamodb").put_item(
        TableName="orders",
        Item={"orderId": {"S": order_id}, "customer": {"S": customer}, "amount": amount_value},
    )


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def totals(hw: Headwater) -> dict[str, Decimal]:
    """Each customer's total, as the function keeps it."""
    items = hw.client("dynamodb").scan(TableName="customer_totals")["Items"]
    return {item["customer"]["S"]: Decimal(item["total"]["N"]) for item in items}


def failed_batches(app: CdcApp) -> list[dict[str, Any]]:
    """The on-failure records received from the failure queue (removed from it)."""
    sqs = app.hw.client("sqs")
    found: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=app.failure_queue_url, MaxNumberOfMessages=10)
        messages = got.get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(
                QueueUrl=app.failure_queue_url, ReceiptHandle=message["ReceiptHandle"]
            )


def wait_until_settled(
    app: CdcApp, done: Callable[[], bool] = lambda: True, timeout: float = 30.0
) -> None:
    """Wait (real time, up to ``timeout`` s) until ``done()`` holds and the mapping has
    nothing in flight; with a ManualClock, jump it over retry backoffs meanwhile."""
    engine, clock = app.hw.engine, app.hw.clock
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline:
        time.sleep(0.005)
        if done() and engine.is_idle(app.mapping_uuid):
            quiet += 1  # idle three looks in a row: no write is still on its way in
            if quiet >= 3:
                return
            continue
        quiet = 0
        wake = engine.wake_at(app.mapping_uuid)
        if isinstance(clock, ManualClock) and engine.is_asleep(app.mapping_uuid) and wake:
            clock.set(max(wake, clock.now()))
    raise TimeoutError(f"mapping {app.mapping_uuid} did not settle in {timeout} s")


def main() -> int:
    from headwater.in_process import boto3_in_process

    clock = ManualClock()
    endpoint = "http://127.0.0.1:4599"  # never connected to: see boto3_in_process
    with (
        Headwater.in_memory(clock=clock, functions="inline", endpoint_url=endpoint) as hw,
        boto3_in_process(hw),
    ):
        app = deploy(hw)
        hw.start()
        put_order(hw, "o-1", "alice", "20.00")
        put_order(hw, "o-2", "alice", "5.50")
        put_order(hw, "o-3", "bob", "12.00")
        put_order(hw, "o-4", "bob", "twelve")  # poison: ends in the failure queue
        put_order(hw, "o-2", "bob", "7.50")  # moved to bob, new amount
        hw.client("dynamodb").delete_item(TableName="orders", Key={"orderId": {"S": "o-1"}})
        wait_until_settled(app, lambda: len(totals(hw)) == 2)
        print(f"totals: { {k: str(v) for k, v in sorted(totals(hw).items())} }")
        for batch in failed_batches(app):
            info = batch["DDBStreamBatchInfo"]
            print(
                f"to {FAILURE_QUEUE}: {batch['requestContext']['condition']}, "
                f"{info['batchSize']} record(s) from {info['startSequenceNumber']}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
