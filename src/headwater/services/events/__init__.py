"""Amazon EventBridge: event buses, rules, targets, PutEvents and scheduled rules."""

from headwater.services.events.service import EventsService

__all__ = ["EventsService"]
