"""AddPermission / RemovePermission: statements in the queue's access Policy.

headwater does not enforce IAM; the statements are stored and shown in the ``Policy``
attribute exactly as SQS writes them, so tools that read them back keep working.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.sqs.errors import invalid_value, missing_parameter
from headwater.services.sqs.queue_access import QueueAccess
from headwater.store.queues import QueueRecord

#: Actions another account may be granted (AWS rejects owner-only ones).
SHAREABLE_ACTIONS = frozenset(
    {
        "*",
        "ChangeMessageVisibility",
        "DeleteMessage",
        "GetQueueAttributes",
        "GetQueueUrl",
        "ListDeadLetterSourceQueues",
        "PurgeQueue",
        "ReceiveMessage",
        "SendMessage",
    }
)
MAX_LABEL_LENGTH = 80


def _one_or_many(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


class PermissionOperations:
    """Queue policy statements managed by label."""

    def __init__(self, access: QueueAccess) -> None:
        self.access = access

    @operation("AddPermission")
    def add_permission(self, params: Params, ctx: RequestContext) -> Result:
        label: str = params["Label"]
        accounts: list[str] = list(params.get("AWSAccountIds") or [])
        actions: list[str] = list(params.get("Actions") or [])
        if not accounts:
            raise missing_parameter("AWSAccountIds")
        if not actions:
            raise missing_parameter("Actions")
        if (
            not label
            or len(label) > MAX_LABEL_LENGTH
            or not all(c.isalnum() or c in "-_" for c in label)
        ):
            raise invalid_value(
                label,
                "Label",
                "Can only include alphanumeric characters, hyphens, or underscores. "
                "1 to 80 in length",
            )
        for action in actions:
            if action not in SHAREABLE_ACTIONS:
                raise invalid_value(
                    f"SQS:{action}",
                    "ActionName",
                    "Only the queue owner is allowed to invoke this action.",
                )
        with self.access.db.transaction():
            queue = self.access.resolve_url(params["QueueUrl"], ctx)
            record = queue.record
            policy = self._policy(record.attributes.get("Policy"), queue.arn)
            statements: list[dict[str, Any]] = policy["Statement"]
            if any(s.get("Sid") == label for s in statements):
                raise invalid_value(label, "Label", "Already exists.")
            statements.append(
                {
                    "Sid": label,
                    "Effect": "Allow",
                    "Principal": {
                        "AWS": _one_or_many([f"arn:aws:iam::{a}:root" for a in accounts])
                    },
                    "Action": _one_or_many([f"SQS:{a}" for a in actions]),
                    "Resource": queue.arn,
                }
            )
            self._save_policy(queue.record, policy)
        return {}

    @operation("RemovePermission")
    def remove_permission(self, params: Params, ctx: RequestContext) -> Result:
        label: str = params["Label"]
        with self.access.db.transaction():
            queue = self.access.resolve_url(params["QueueUrl"], ctx)
            policy = self._policy(queue.record.attributes.get("Policy"), queue.arn)
            kept = [s for s in policy["Statement"] if s.get("Sid") != label]
            if len(kept) == len(policy["Statement"]):
                raise invalid_value(label, "Label", "can't find label.")
            policy["Statement"] = kept
            self._save_policy(queue.record, policy if kept else None)
        return {}

    @staticmethod
    def _policy(text: str | None, arn: str) -> dict[str, Any]:
        if text:
            parsed: dict[str, Any] = json.loads(text)
            parsed.setdefault("Statement", [])
            if isinstance(parsed["Statement"], dict):
                parsed["Statement"] = [parsed["Statement"]]
            return parsed
        return {"Version": "2008-10-17", "Id": f"{arn}/SQSDefaultPolicy", "Statement": []}

    def _save_policy(self, record: QueueRecord, policy: dict[str, Any] | None) -> None:
        attributes = dict(record.attributes)
        if policy is None:
            attributes.pop("Policy", None)
        else:
            attributes["Policy"] = json.dumps(policy, separators=(",", ":"))
        self.access.store.update_queue(
            dataclasses.replace(record, attributes=attributes, modified_at=self.access.now())
        )
        self.access.forget(record)
