"""The change-data-capture example (examples/cdc) deployed embedded: inline functions whose
boto3 calls reach the embedded headwater (``boto3_in_process``), a ManualClock for the
retry backoffs. The totals table must converge to the sum of each customer's orders
through inserts, amount and customer changes and deletes, and a poison order must end, on
its own, in the on-failure queue."""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from headwater import Headwater
from headwater.in_process import boto3_in_process
from headwater.server.examples import deploy_example

ENDPOINT = "http://127.0.0.1:4599"  # never connected to: boto3_in_process answers
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cdc"


@pytest.fixture
def hw_options() -> dict[str, Any]:
    return {"functions": "inline", "endpoint_url": ENDPOINT}


@pytest.fixture
def cdc(hw: Headwater) -> Iterator[tuple[ModuleType, Any]]:
    """The example's module and its deployed app, with the handler's boto3 routed to ``hw``."""
    import sys

    with boto3_in_process(hw):
        app = deploy_example(hw, EXAMPLE)
        hw.start()
        yield sys.modules["headwater_example_cdc"], app


def expected_totals(orders: dict[str, tuple[str, str]]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for customer, amount in orders.values():
        totals[customer] = totals.get(customer, Decimal(0)) + Decimal(amount)
    return totals


def test_totals_follow_inserts_updates_and_deletes(
    hw: Headwater, cdc: tuple[ModuleType, Any]
) -> None:
    example, app = cdc
    rng = random.Random(12)
    customers = ["alice", "bob", "carol", "dave"]
    orders: dict[str, tuple[str, str]] = {}
    ever: set[str] = set()
    for step in range(120):
        order_id = f"o-{rng.randrange(25)}"
        if order_id in orders and rng.random() < 0.25:
            hw.dynamodb.delete_item(TableName="orders", Key={"orderId": {"S": order_id}})
            del orders[order_id]
            continue
        customer = rng.choice(customers)
        amount = f"{rng.randrange(1, 10_000) / 100:.2f}"
        example.put_order(hw, order_id, customer, amount)
        orders[order_id] = (customer, amount)
        ever.add(customer)
        if step % 40 == 39:  # let some batches go through between the writes
            example.wait_until_settled(app)
    expected = expected_totals(orders)
    example.wait_until_settled(app, lambda: example.totals(hw) == {
        c: expected.get(c, Decimal(0)) for c in ever
    })  # fmt: skip
    assert example.totals(hw) == {c: expected.get(c, Decimal(0)) for c in ever}
    counts = hw.dynamodb.scan(TableName="customer_totals")["Items"]
    assert {i["customer"]["S"]: int(i["orders"]["N"]) for i in counts} == {
        c: sum(1 for owner, _ in orders.values() if owner == c) for c in ever
    }
    assert example.failed_batches(app) == []


def test_a_poison_order_ends_alone_in_the_failure_queue(
    hw: Headwater, cdc: tuple[ModuleType, Any]
) -> None:
    example, app = cdc
    example.put_order(hw, "o-1", "alice", "20.00")
    example.put_order(hw, "o-2", "bob", "12.00")
    example.put_order(hw, "o-3", "bob", "twelve")  # poison: not a number
    example.put_order(hw, "o-4", "alice", "2.50")
    example.put_order(hw, "o-1", "bob", "1.00")  # after the poison in the same batch
    example.wait_until_settled(app, lambda: example.totals(hw).get("bob") == Decimal("13"))
    assert example.totals(hw) == {"alice": Decimal("2.5"), "bob": Decimal("13")}
    (failed,) = example.failed_batches(app)
    info = failed["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1
    assert info["streamArn"] == app.stream_arn
    assert failed["requestContext"]["condition"] == "RetryAttemptsExhausted"
    # the first invoke plus MaximumRetryAttempts 2 retries of the poison on its own
    assert failed["requestContext"]["approximateInvokeCount"] == 3
    records = hw.client("dynamodbstreams").get_records(
        ShardIterator=hw.client("dynamodbstreams").get_shard_iterator(
            StreamArn=app.stream_arn,
            ShardId=info["shardId"],
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=info["startSequenceNumber"],
        )["ShardIterator"],
        Limit=1,
    )["Records"]
    assert records[0]["dynamodb"]["Keys"] == {"orderId": {"S": "o-3"}}
    # the poison order counts for nothing; fixing it counts it
    example.put_order(hw, "o-3", "bob", "4.00")
    example.wait_until_settled(app, lambda: example.totals(hw).get("bob") == Decimal("17"))
    assert example.failed_batches(app) == []
