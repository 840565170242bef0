"""The Lambda service: functions (runtime track) and event source mappings (ESM track)."""

from __future__ import annotations

from typing import ClassVar

from headwater.services.base import Service
from headwater.services.lambda_.event_invoke import EventInvokeConfigOperations
from headwater.services.lambda_.functions import FunctionOperations
from headwater.services.lambda_.mappings import MappingOperations


class LambdaService(EventInvokeConfigOperations, FunctionOperations, MappingOperations, Service):
    """``hw.lambda_`` / ``hw.client("lambda")``: functions, invocations and mappings."""

    service_name: ClassVar[str] = "lambda"


__all__ = ["LambdaService"]
