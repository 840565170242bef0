"""DynamoDB Streams: the table change feed read as streams, shards and records."""

from headwater.services.dynamodbstreams.service import DynamoDBStreamsService

__all__ = ["DynamoDBStreamsService"]
