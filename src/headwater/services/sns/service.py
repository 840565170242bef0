"""``SnsService``: Amazon SNS in Python, on the topic store."""

from __future__ import annotations

from typing import ClassVar

from headwater.services.sns.publishing import PublishOperations


class SnsService(PublishOperations):
    """Every SNS operation headwater serves, plus ``publish_message`` for in-process callers
    (CloudWatch alarm actions, on-failure destinations)."""

    service_name: ClassVar[str] = "sns"
    unencodable_text_code = "InvalidParameter"
