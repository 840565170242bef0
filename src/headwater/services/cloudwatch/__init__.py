"""Amazon CloudWatch: metrics (PutMetricData, GetMetricData, ...) and metric alarms."""

from headwater.services.cloudwatch.service import CloudWatchService

__all__ = ["CloudWatchService"]
