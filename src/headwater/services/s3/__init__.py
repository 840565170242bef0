"""Amazon S3 (a focused subset): buckets, objects with ranges, conditions, metadata and tags,
listings, copies and multipart uploads, with S3's ETags, checksums and XML errors."""

from __future__ import annotations

from headwater.services.s3.service import S3Service

__all__ = ["S3Service"]
