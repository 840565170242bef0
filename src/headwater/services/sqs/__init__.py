"""Amazon SQS: queues with AWS's semantics on the headwater store."""

from headwater.services.sqs.mapping_api import ReceivedMessage
from headwater.services.sqs.queue_access import QueueInfo
from headwater.services.sqs.service import SqsService

__all__ = ["QueueInfo", "ReceivedMessage", "SqsService"]
