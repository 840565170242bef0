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


@dataclass(slots=True)
class ImportedApi:
    name: str
    description: str | None = None
    version: str | None = None
    cors: dict[str, Any] | None = None
    #: ``tags`` entries carrying ``x-amazon-apigateway-tag-value`` (SAM's createdBy tag).
    tags: dict[str, str] = field(default_factory=dict)
    routes: list[ImportedRoute] = field(default_factory=list)


def _bad_request(message: str) -> AwsError:
    return AwsError("BadRequestException", message)


def function_arn_of(uri: str) -> str:
    """The function ARN an integration URI names (the ``.../functions/<arn>/invocations``
    form, or the ARN itself)."""
    found = _INVOCATIONS.match(uri)
    return found.group(1) if found else uri


def read_definition(body: str) -> ImportedApi:
    """The API an OpenAPI 3 (JSON or YAML) ``body`` defines; a body that is neither, or has
    no ``info.title``, is refused with a BadRequestException (AWS's wording is a guess)."""
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
            extension = (definition or {}).get("x-amazon-apigateway-integration")
            imported.routes.append(ImportedRoute(key, _integration(extension, key)))
    return imported


def _integration(extension: Any, route_key: str) -> dict[str, Any] | None:
    if extension is None:
        return None
    if not isinstance(extension, dict):
        raise _bad_request(f"Invalid integration for route {route_key}")
    kind = str(extension.get("type", "")).upper()
    if kind != "AWS_PROXY":
        # headwater serves Lambda proxy integrations only (an HTTP_PROXY or AWS service
        # integration would reach beyond this machine).
        raise _bad_request(
            f"headwater supports only aws_proxy (Lambda) integrations; route {route_key} "
            f"has type {extension.get('type')!r}"
        )
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
        integration["TimeoutInMillis"] = int(extension["timeoutInMillis"])
    return integration
