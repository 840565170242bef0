"""Order processor: reports the orders it cannot process so only those are retried."""

from __future__ import annotations

import json
import os
from typing import Any


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Process a batch of SQS records; return ``batchItemFailures`` for the bad ones."""
    failures = []
    for record in event["Records"]:
        order = json.loads(record["body"])
        if order.get("fail"):
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        print(f"processed order {order['orderId']}")
        journal = os.environ.get("ORDERS_JOURNAL")
        if journal:  # tests count deliveries through this file
            with open(journal, "a", encoding="utf-8") as out:
                out.write(order["orderId"] + "\n")
    return {"batchItemFailures": failures}
