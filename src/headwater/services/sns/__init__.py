"""Amazon SNS: topics, subscriptions (SQS, Lambda, HTTP/S; email and SMS recorded) and
delivery with AWS's envelopes, filter policies, FIFO ordering, retries and DLQs."""

from __future__ import annotations

from headwater.services.sns.service import SnsService

__all__ = ["SnsService"]
