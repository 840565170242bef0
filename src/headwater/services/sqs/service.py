"""``SqsService``: Amazon SQS in Python, on the queue store.

The service owns its parts: ``QueueAccess`` (store, queue resolution, wake-ups) and
``Delivery`` (the receive path) shared by the operation groups, each of which holds them
explicitly; the ESM engine's typed API (``MappingOperations``) is one more part.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from headwater.services.base import RequestContext, Service, ServiceEnvironment
from headwater.services.sqs.delivery import ReceivePath
from headwater.services.sqs.mapping_api import MappingOperations, ReceivedMessage
from headwater.services.sqs.message_operations import MessageOperations
from headwater.services.sqs.move_tasks import MoveTaskOperations
from headwater.services.sqs.permissions import PermissionOperations
from headwater.services.sqs.queue_access import QueueAccess, QueueInfo, ResolvedQueue
from headwater.services.sqs.queue_operations import QueueOperations
from headwater.store.database import Database
from headwater.store.queues import QueueRecord, QueueStore


class SqsService(Service):
    """Every SQS operation (``call("SendMessage", params, ctx)``) plus the ESM engine API."""

    service_name = "sqs"
    parts: ClassVar[dict[str, type]] = {
        "queue_ops": QueueOperations,
        "messages": MessageOperations,
        "permissions": PermissionOperations,
        "move_tasks": MoveTaskOperations,
    }

    def __init__(self, env: ServiceEnvironment) -> None:
        super().__init__(env)
        self.access = QueueAccess(env)
        self.delivery = ReceivePath(self.access)
        self.queue_ops = QueueOperations(self.access)
        self.messages = MessageOperations(self.access, self.delivery)
        self.permissions = PermissionOperations(self.access)
        self.move_tasks = MoveTaskOperations(self.access, self.delivery)
        self.mapping_api = MappingOperations(self.access, self.delivery)

    def close(self) -> None:
        self.move_tasks.close()

    # -- what peers use: the store, queues by ARN, commit listeners ------------------------

    @property
    def db(self) -> Database:
        return self.access.db

    @property
    def store(self) -> QueueStore:
        return self.access.store

    def resolve_arn(self, arn: str) -> ResolvedQueue | None:
        with self.access.db.transaction():
            return self.access.resolve_arn(arn)

    def queue_url(self, record: QueueRecord, ctx: RequestContext | None = None) -> str:
        return self.access.queue_url(record, ctx)

    def add_listener(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call ``callback(queue_arn)`` after commits that may make messages receivable."""
        return self.access.add_listener(callback)

    # -- the ESM engine's API (``LocalQueueSource``) ----------------------------------------

    def queue_info(self, queue_arn: str) -> QueueInfo:
        return self.mapping_api.queue_info(queue_arn)

    def receive_for_mapping(
        self, queue_arn: str, max_messages: int, visibility_timeout: int | None = None
    ) -> list[ReceivedMessage]:
        return self.mapping_api.receive_for_mapping(queue_arn, max_messages, visibility_timeout)

    def delete_for_mapping(self, queue_arn: str, receipt_handles: Sequence[str]) -> int:
        return self.mapping_api.delete_for_mapping(queue_arn, receipt_handles)

    def change_visibility_for_mapping(
        self, queue_arn: str, receipt_handles: Sequence[str], visibility_timeout: int
    ) -> None:
        self.mapping_api.change_visibility_for_mapping(
            queue_arn, receipt_handles, visibility_timeout
        )

    def next_visible_at(self, queue_arn: str, after: float | None = None) -> float | None:
        return self.mapping_api.next_visible_at(queue_arn, after)

    def approximate_age_of_oldest_message(self, queue_arn: str) -> float:
        return self.mapping_api.approximate_age_of_oldest_message(queue_arn)
