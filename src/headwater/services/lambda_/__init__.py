"""The Lambda service: functions and their versions, aliases, policies, layers, tags and
settings (control plane), invocation (runtime track) and event source mappings (ESM track)."""

from __future__ import annotations

from typing import ClassVar

from headwater.services.base import Service
from headwater.services.lambda_.aliases import AliasOperations
from headwater.services.lambda_.event_invoke import EventInvokeConfigOperations
from headwater.services.lambda_.function_urls import FunctionUrlOperations
from headwater.services.lambda_.functions import FunctionOperations
from headwater.services.lambda_.layers import LayerOperations
from headwater.services.lambda_.mappings import MappingOperations
from headwater.services.lambda_.permissions import PermissionOperations
from headwater.services.lambda_.settings import SettingOperations
from headwater.services.lambda_.tags import TagOperations
from headwater.services.lambda_.versions import VersionOperations


class LambdaService(
    EventInvokeConfigOperations,
    FunctionOperations,
    VersionOperations,
    AliasOperations,
    PermissionOperations,
    LayerOperations,
    TagOperations,
    SettingOperations,
    FunctionUrlOperations,
    MappingOperations,
    Service,
):
    """``hw.lambda_`` / ``hw.client("lambda")``: functions, invocations and mappings."""

    service_name: ClassVar[str] = "lambda"


__all__ = ["LambdaService"]
