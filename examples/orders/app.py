"""The order-processing example: a queue with a DLQ, a function, a mapping.

Run it: ``python examples/orders/app.py``. It uses a ManualClock, so the three
deliveries of each bad order (visibility timeout 180 s) take milliseconds.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headwater import Headwater, ManualClock
from headwater.testing import wait_for_drain

HERE = Path(__file__).resolve().parent


@dataclass
class OrdersApp:
    """Handles to the example's resources."""

    hw: Headwater
    queue_url: str
    queue_arn: str
    dlq_url: str
    mapping_uuid: str


def deploy(hw: Headwater, environment: dict[str, str] | None = None) -> OrdersApp:
    """Create the orders queue (with its DLQ), the function and the mapping."""
    sqs = hw.client("sqs")
    lam = hw.client("lambda")
    dlq_url = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName="orders",
        Attributes={
            "VisibilityTimeout": "180",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    # Idempotent: `headwater serve --example` deploys again on every start.
    try:
        lam.get_function(FunctionName="process-orders")
    except lam.exceptions.ResourceNotFoundException:
        hw.lambda_.create_function_from_directory(
            "process-orders", HERE, "handler.handle", environment=environment
        )
    else:
        hw.lambda_.update_function_code_from_directory("process-orders", HERE)
    existing = lam.list_event_source_mappings(
        FunctionName="process-orders", EventSourceArn=queue_arn
    )["EventSourceMappings"]
    if existing:
        uuid = existing[0]["UUID"]
    else:
        uuid = lam.create_event_source_mapping(
            FunctionName="process-orders",
            EventSourceArn=queue_arn,
            BatchSize=5,
            FunctionResponseTypes=["ReportBatchItemFailures"],
        )["UUID"]
    return OrdersApp(hw, queue_url, queue_arn, dlq_url, uuid)


def send_orders(app: OrdersApp, orders: list[dict[str, Any]]) -> None:
    sqs = app.hw.client("sqs")
    for order in orders:
        sqs.send_message(QueueUrl=app.queue_url, MessageBody=json.dumps(order))


def dead_letters(app: OrdersApp) -> list[dict[str, Any]]:
    """Everything in the DLQ (received, then made visible again)."""
    sqs = app.hw.client("sqs")
    found: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=app.dlq_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            AttributeNames=["All"],
        ).get("Messages", [])
        fresh = [m for m in got if m["MessageId"] not in {f["MessageId"] for f in found}]
        if not fresh:
            return found
        found.extend(fresh)


def main() -> int:
    clock = ManualClock()
    with Headwater.in_memory(clock=clock, functions="inline") as hw:
        app = deploy(hw)
        orders = [{"orderId": f"ORD-{n:03d}", "fail": n % 4 == 0} for n in range(1, 13)]
        hw.start()
        send_orders(app, orders)
        wait_for_drain(hw, app.queue_url, timeout=30)
        metrics = hw.engine.metrics(app.mapping_uuid)
        dlq = dead_letters(app)
        print(f"sent {len(orders)} orders; {sum(o['fail'] for o in orders)} marked to fail")
        print(f"dead-lettered: {sorted(json.loads(m['Body'])['orderId'] for m in dlq)}")
        print(f"metrics: {metrics.as_dict() if metrics else None}")
        print(f"clock advanced {clock.now() - 1_700_000_000:.0f} s of simulated time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
