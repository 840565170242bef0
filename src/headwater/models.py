"""botocore service models: loaded once, shared by the in-process client and the wire layer."""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore import xform_name
from botocore.exceptions import DataNotFoundError
from botocore.loaders import create_loader
from botocore.model import OperationModel, ServiceModel
from botocore.waiter import WaiterModel


@cache
def _loader() -> Any:
    return create_loader()


@cache
def service_model(service_name: str) -> ServiceModel:
    """The botocore ``ServiceModel`` for ``service_name`` (e.g. "sqs", "lambda")."""
    data = _loader().load_service_model(service_name, "service-2")
    return ServiceModel(data, service_name=service_name)


@cache
def method_to_operation(service_name: str) -> dict[str, str]:
    """boto3 method names (``send_message``) to operation names (``SendMessage``)."""
    return {xform_name(op): op for op in service_model(service_name).operation_names}


@cache
def operation_model(service_name: str, operation_name: str) -> OperationModel:
    return service_model(service_name).operation_model(operation_name)


@cache
def paginator_configs(service_name: str) -> dict[str, Any]:
    """botocore's paginator configurations by operation name (empty if it has none)."""
    try:
        data = _loader().load_service_model(service_name, "paginators-1")
    except DataNotFoundError:
        return {}
    pagination: dict[str, Any] = data.get("pagination", {})
    return pagination


@cache
def waiter_model(service_name: str) -> WaiterModel | None:
    """botocore's waiters for ``service_name`` (``None`` if it has none)."""
    try:
        return WaiterModel(_loader().load_service_model(service_name, "waiters-2"))
    except DataNotFoundError:
        return None
