"""Helpers for testing code that uses headwater."""

from headwater.core.clock import ManualClock

__all__ = ["ManualClock"]
