"""``SqsService``: Amazon SQS in Python, on the queue store."""

from __future__ import annotations

from headwater.services.sqs.mapping_api import MappingOperations
from headwater.services.sqs.message_operations import MessageOperations
from headwater.services.sqs.move_tasks import MoveTaskOperations
from headwater.services.sqs.permissions import PermissionOperations
from headwater.services.sqs.queue_operations import QueueOperations


class SqsService(
    QueueOperations,
    MessageOperations,
    PermissionOperations,
    MoveTaskOperations,
    MappingOperations,
):
    """Every SQS operation (``call("SendMessage", params, ctx)``) plus the ESM engine API."""
