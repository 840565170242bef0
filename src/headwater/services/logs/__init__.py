"""Amazon CloudWatch Logs: groups, streams, events, filter patterns, Lambda function logs."""

from headwater.services.logs.service import LogsService

__all__ = ["LogsService"]
