"""Kinesis Data Streams service and the typed stream source for event source mappings."""

from __future__ import annotations

from headwater.services.kinesis.service import KinesisService
from headwater.services.kinesis.source import KinesisMappingApi

__all__ = ["KinesisMappingApi", "KinesisService"]
