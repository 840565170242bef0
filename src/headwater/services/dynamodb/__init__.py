"""DynamoDB: tables, items and the expression language; the change feed for Streams."""

from __future__ import annotations

from headwater.services.dynamodb.change_feed import ChangeFeed, ChangeRecord, StreamInfo
from headwater.services.dynamodb.service import DynamoDBService

__all__ = ["ChangeFeed", "ChangeRecord", "DynamoDBService", "StreamInfo"]
