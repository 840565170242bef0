"""Reading an OpenAPI 3 definition (ImportApi, ReimportApi, ``AWS::ApiGatewayV2::Api``'s
``Body``) into an HTTP API's routes and Lambda proxy integrations, as API Gateway reads
its extensions: ``x-amazon-apigateway-integration`` (``type`` ``aws_proxy``, ``uri`` a
function ARN or its ``arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/
invocations`` form, ``payloadFormatVersion``), ``x-amazon-apigateway-any-method`` (route
method ``ANY``), the ``$default`` path and ``x-amazon-apigateway-cors``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from headwater.core.errors import AwsError

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
ANY_METHOD = "x-amazon-apigateway-any-method"
_INVOCATIONS = re.compile(
    r"^arn:[^:]+:apigateway:[^:]*:lambda:path/[^/]+/functions/(.+)/invocations$"
)
#: x-amazon-apigateway-cors members -> CorsConfiguration members.
_CORS = {
    "allowOrigins": "AllowOrigins",
    "allowMethods": "AllowMethods",
    "allowHeaders": "AllowHeaders",
    "exposeHeaders": "ExposeHeaders",
    "allowCredentials": "AllowCredentials",
    "maxAge": "MaxAge",
}


@dataclass(slots=True)
class ImportedRoute:
    route_key: str
    #: CreateIntegration's members (``None``: a route with no integration).
    integration: dict[str, Any] | None
    #: The operation object as written (a REST API reads its ``responses``, its
    #: integration's ``responses`` and its ``security`` from it).
    operation: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ImportedApi:
    name: str
    description: str | None = None
    version: str | None = None
    cors: dict[str, Any] | None = None
    #: ``tags`` entries carrying ``x-amazon-apigateway-tag-value`` (SAM's createdBy tag).
    tags: dict[str, str] = field(default_factory=dict)
    routes: list[ImportedRoute] = field(default_factory=list)
    #: Security schemes carrying ``x-amazon-apigateway-authorizer`` (Swagger 2's
    #: ``securityDefinitions``, OpenAPI 3's ``components.securitySchemes``), by name.
    security_schemes: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The document's own ``security`` (the default of operations without one).
    security: list[Any] = field(default_factory=list)


def _bad_request(message: str) -> AwsError:
    return AwsError("BadRequestException", message)


def function_arn_of(uri: str) -> str:
    """The function ARN an integration URI names (the ``.../functions/<arn>/invocations``
    form, or the ARN itself)."""
    found = _INVOCATIONS.match(uri)
    return found.group(1) if found else uri


def read_definition(body: str, integration_types: tuple[str, ...] = ("AWS_PROXY",)) -> ImportedApi:
    """The API an OpenAPI 3 (or Swagger 2, JSON or YAML) ``body`` defines; a body that is
    neither, has no ``info.title``, or has an integration whose type is not one of
    ``integration_types`` (an HTTP API's: ``AWS_PROXY``; a REST API's adds ``MOCK``) is
    refused with a BadRequestException (AWS's wording is a guess)."""
    try:
        document = json.loads(body) if body.lstrip().startswith("{") else yaml.safe_load(body)
    except (ValueError, yaml.YAMLError):
        raise _bad_request("Invalid OpenAPI input: the body is neither JSON nor YAML") from None
    if not isinstance(document, dict):
        raise _bad_request("Invalid OpenAPI input: the body is not an OpenAPI document")
    info = document.get("info") or {}
    title = info.get("title") if isinstance(info, dict) else None
    if not isinstance(title, str) or not title:
        raise _bad_request("Invalid OpenAPI input: info.title is required")
    imported = ImportedApi(
        name=title,
        description=info.get("description"),
        version=None if info.get("version") is None else str(info.get("version")),
    )
    cors = document.get("x-amazon-apigateway-cors")
    if isinstance(cors, dict):
        imported.cors = {_CORS[k]: v for k, v in cors.items() if k in _CORS}
    for tag in document.get("tags") or ():
        if isinstance(tag, dict) and "x-amazon-apigateway-tag-value" in tag:
            imported.tags[str(tag.get("name"))] = str(tag["x-amazon-apigateway-tag-value"])
    paths = document.get("paths") or {}
    if not isinstance(paths, dict):
        raise _bad_request("Invalid OpenAPI input: paths must be an object")
    for path, operations in paths.items():
        if not isinstance(operations, dict):
            continue
        for method, definition in operations.items():
            if method == ANY_METHOD:
                verb = "ANY"
            elif method in _METHODS:
                verb = method.upper()
            else:
                continue
            key = "$default" if path == "$default" else f"{verb} {path}"
            operation = definition if isinstance(definition, dict) else {}
            extension = operation.get("x-amazon-apigateway-integration")
            integration = _integration(extension, key, integration_types)
            imported.routes.append(ImportedRoute(key, integration, operation))
    _read_security(document, imported)
    return imported


def _read_security(document: dict[str, Any], imported: ImportedApi) -> None:
    """The definition's Lambda authorizers and its default ``security``."""
    components = document.get("components")
    schemes = document.get("securityDefinitions")
    if isinstance(components, dict) and isinstance(components.get("securitySchemes"), dict):
        schemes = components["securitySchemes"]
    for name, scheme in (schemes or {}).items() if isinstance(schemes, dict) else ():
        if isinstance(scheme, dict) and isinstance(
            scheme.get("x-amazon-apigateway-authorizer"), dict
        ):
            imported.security_schemes[str(name)] = scheme
    if isinstance(document.get("security"), list):
        imported.security = list(document["security"])


def _integration(
    extension: Any, route_key: str, integration_types: tuple[str, ...]
) -> dict[str, Any] | None:
    if extension is None:
        return None
    if not isinstance(extension, dict):
        raise _bad_request(f"Invalid integration for route {route_key}")
    kind = str(extension.get("type", "")).upper()
    if kind not in integration_types:
        # headwater serves Lambda proxy integrations (and a REST API's mocks) only: an
        # HTTP_PROXY or AWS service integration would reach beyond this machine.
        names = " and ".join(t.lower() for t in integration_types)
        raise _bad_request(
            f"headwater supports only {names} integrations; route {route_key} "
            f"has type {extension.get('type')!r}"
        )
    if kind == "MOCK":
        return {"IntegrationType": "MOCK"}
    uri = extension.get("uri")
    if not isinstance(uri, str) or not uri:
        raise _bad_request(f"Invalid integration for route {route_key}: uri is required")
    integration: dict[str, Any] = {
        "IntegrationType": "AWS_PROXY",
        "IntegrationUri": uri,
        "IntegrationMethod": str(extension.get("httpMethod") or "POST"),
        "PayloadFormatVersion": str(extension.get("payloadFormatVersion") or "2.0"),
    }
    if extension.get("timeoutInMillis") is not None:
        integration["TimeoutInMillis"] = timeout_in_millis(extension["timeoutInMillis"])
    return integration


def timeout_in_millis(value: Any) -> int:
    """An imported integration's ``timeoutInMillis`` (29000 by default, as API Gateway's)."""
    if value is None:
        return 29000
    try:
        return int(value)
    except (TypeError, ValueError):
        raise AwsError(
            "BadRequestException", f"Invalid OpenAPI input: timeoutInMillis {value!r}"
        ) from None
