"""Amazon SES (v1 query and v2 restJson): identities, templates, sending into an outbox."""

from __future__ import annotations

from headwater.services.ses.service import SesService
from headwater.services.ses.v2 import SesV2Service

__all__ = ["SesService", "SesV2Service"]
