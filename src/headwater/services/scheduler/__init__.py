"""Amazon EventBridge Scheduler: schedules and schedule groups firing on the headwater clock."""

from headwater.services.scheduler.service import SchedulerService

__all__ = ["SchedulerService"]
