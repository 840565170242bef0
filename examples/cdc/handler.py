"""Change-data-capture: keeps ``customer_totals`` in step with the ``orders`` table.

Each stream record moves money between customer totals: an INSERT adds the new order's
amount to its customer, a REMOVE takes the old amount away, and a MODIFY does both (the
order may have changed customer as well as amount), which is why the stream carries
NEW_AND_OLD_IMAGES. An order whose amount is not a number (or has no customer) is never
counted; a record whose new image is such an order is *poison*: the handler refuses it and
the mapping ends by sending it to the on-failure queue.

Totals are updated with ``ADD``, which is not idempotent, so a record must never be applied
twice: the handler applies records in order and stops at the first one it cannot apply.
If records before it were applied, it reports that record in ``batchItemFailures`` (the
mapping retries from there); if it is the batch's first record nothing was applied, so it
fails the whole invocation, which lets BisectBatchOnFunctionError split the batch until
the poison is alone.
"""

from __future__ import annotations

import os
from decimal import Decimal, InvalidOperation
from typing import Any

import boto3

Image = dict[str, dict[str, Any]]

_client: Any = None


class PoisonOrder(ValueError):
    """An order the totals cannot count."""


def dynamodb() -> Any:
    """The DynamoDB client (made once per environment, as Lambda code usually does)."""
    global _client
    if _client is None:
        _client = boto3.client("dynamodb")
    return _client


def counted(image: Image | None) -> tuple[str, Decimal] | None:
    """(customer, amount) an order image adds to a total; None when it counts for nothing."""
    if not image:
        return None
    customer = image.get("customer", {}).get("S")
    amount = image.get("amount", {}).get("N")
    if not customer or amount is None:
        return None
    try:
        return customer, Decimal(amount)
    except InvalidOperation:
        return None


def deltas(record: dict[str, Any]) -> dict[str, tuple[Decimal, int]]:
    """The change one stream record makes to each customer: (amount, order count)."""
    change = record["dynamodb"]
    new_image = change.get("NewImage")
    if new_image is not None and counted(new_image) is None:
        order = change["Keys"]["orderId"]["S"]
        raise PoisonOrder(f"order {order} has no customer or no numeric amount")
    moves: dict[str, tuple[Decimal, int]] = {}
    old = counted(change.get("OldImage"))
    if old is not None:
        moves[old[0]] = (-old[1], -1)
    new = counted(new_image)
    if new is not None:
        amount, count = moves.get(new[0], (Decimal(0), 0))
        moves[new[0]] = (amount + new[1], count + 1)
    return {customer: move for customer, move in moves.items() if move != (0, 0)}


def apply(record: dict[str, Any]) -> None:
    """Add one record's change to the totals table (one transaction: all of it or none)."""
    table = os.environ.get("TOTALS_TABLE", "customer_totals")
    updates = [
        {
            "Update": {
                "TableName": table,
                "Key": {"customer": {"S": customer}},
                "UpdateExpression": "ADD #total :amount, #orders :count",
                "ExpressionAttributeNames": {"#total": "total", "#orders": "orders"},
                "ExpressionAttributeValues": {
                    ":amount": {"N": str(amount)},
                    ":count": {"N": str(count)},
                },
            }
        }
        for customer, (amount, count) in deltas(record).items()
    ]
    if updates:
        dynamodb().transact_write_items(TransactItems=updates)


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Apply a batch of DynamoDB stream records in order; report the first one that fails."""
    for index, record in enumerate(event["Records"]):
        try:
            apply(record)
        except Exception as error:
            sequence = record["dynamodb"]["SequenceNumber"]
            print(f"cannot apply {record['eventName']} {sequence}: {error}")
            if index == 0:
                raise  # nothing applied yet: fail the batch, so that it is bisected
            return {"batchItemFailures": [{"itemIdentifier": sequence}]}
    return {"batchItemFailures": []}
