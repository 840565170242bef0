"""Amazon Data Firehose: DirectPut delivery streams buffering records into S3."""

from __future__ import annotations

from headwater.services.firehose.service import FirehoseService

__all__ = ["FirehoseService"]
