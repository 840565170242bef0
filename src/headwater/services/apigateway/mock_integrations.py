"""A REST API's MOCK integrations, and the method and integration responses that shape
what they answer: read from a Swagger/OpenAPI definition (what SAM's ``Cors`` writes for
its ``OPTIONS`` methods) and answered without a backend.

API Gateway runs a MOCK integration's request template (VTL) to get ``{"statusCode": N}``,
picks the integration response whose ``selectionPattern`` matches that status (or the
default one, with no pattern), and answers with that response's ``statusCode``, its
``responseParameters`` as headers and its ``responseTemplates`` (VTL) as the body.
headwater evaluates no VTL: the status is the ``"statusCode"`` number written in the
request template (200 when there is none), a header is answered only for a static
``'value'`` mapping, and the body is the response template's text as written (guesses that
hold for SAM's CORS mocks and for static mock templates).
"""

from __future__ import annotations

import re
from typing import Any

from headwater.core.proxy_payloads import ProxyResponse
from headwater.services.apigatewayv2.openapi import timeout_in_millis

#: The ``"statusCode": N`` a mock's request template writes.
_STATUS_IN_TEMPLATE = re.compile(r'"statusCode"\s*:\s*(\d{3})')
HEADER_PARAMETER = "method.response.header."
DEFAULT_CONTENT_TYPE = "application/json"


def method_responses_of(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The method responses a Swagger/OpenAPI operation's ``responses`` declare (by status
    code), their ``headers`` as ``method.response.header.<name>`` parameters."""
    found: dict[str, dict[str, Any]] = {}
    responses = operation.get("responses")
    for status, response in (responses or {}).items() if isinstance(responses, dict) else ():
        if not str(status).isdigit():
            continue  # "default" and other non-status keys have no method response
        headers = response.get("headers") if isinstance(response, dict) else None
        method_response: dict[str, Any] = {"statusCode": str(status)}
        if isinstance(headers, dict) and headers:
            method_response["responseParameters"] = {
                HEADER_PARAMETER + str(name): False for name in headers
            }
        found[str(status)] = method_response
    return found


def integration_responses_of(extension: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The integration responses an ``x-amazon-apigateway-integration``'s ``responses``
    declare (by status code): each key is the selection pattern (``default``: none)."""
    found: dict[str, dict[str, Any]] = {}
    responses = extension.get("responses")
    for pattern, response in (responses or {}).items() if isinstance(responses, dict) else ():
        if not isinstance(response, dict) or response.get("statusCode") is None:
            continue
        status = str(response["statusCode"])
        integration_response: dict[str, Any] = {"statusCode": status}
        if pattern != "default":
            integration_response["selectionPattern"] = str(pattern)
        for name in ("responseParameters", "responseTemplates"):
            if isinstance(response.get(name), dict):
                integration_response[name] = {str(k): str(v) for k, v in response[name].items()}
        if response.get("contentHandling") is not None:
            integration_response["contentHandling"] = str(response["contentHandling"])
        found[status] = integration_response
    return found


def mock_integration_of(extension: dict[str, Any], resource_id: str) -> dict[str, Any]:
    """A method's stored MOCK integration from its ``x-amazon-apigateway-integration``."""
    integration: dict[str, Any] = {
        "type": "MOCK",
        "passthroughBehavior": str(extension.get("passthroughBehavior") or "WHEN_NO_MATCH").upper(),
        "timeoutInMillis": timeout_in_millis(extension.get("timeoutInMillis")),
        "cacheNamespace": resource_id,
        "cacheKeyParameters": [],
    }
    if isinstance(extension.get("requestTemplates"), dict):
        integration["requestTemplates"] = {
            str(k): str(v) for k, v in extension["requestTemplates"].items()
        }
    responses = integration_responses_of(extension)
    if responses:
        integration["integrationResponses"] = responses
    return integration


def _request_template(integration: dict[str, Any], content_type: str) -> str | None:
    """The request template for the request's content type (``application/json`` when it
    names none, as API Gateway assumes)."""
    templates: dict[str, str] = integration.get("requestTemplates") or {}
    media = content_type.split(";", 1)[0].strip().lower() or DEFAULT_CONTENT_TYPE
    for name, template in templates.items():
        if name.lower() == media:
            return template
    return None


def mock_status(integration: dict[str, Any], content_type: str) -> int:
    """The status a mock's request template selects (200 without one, or without a
    ``"statusCode"`` in it)."""
    template = _request_template(integration, content_type)
    found = _STATUS_IN_TEMPLATE.search(template or "")
    return int(found.group(1)) if found else 200


def selected_response(integration: dict[str, Any], status: int) -> dict[str, Any] | None:
    """The integration response for a backend status: the one whose ``selectionPattern``
    matches it whole, else the default (no pattern); ``None``: neither."""
    default: dict[str, Any] | None = None
    for response in (integration.get("integrationResponses") or {}).values():
        pattern = response.get("selectionPattern")
        if not pattern:
            default = default or response
            continue
        try:
            if re.fullmatch(str(pattern), str(status)):
                return dict(response)
        except re.error:
            continue  # a pattern Java's regex reads and Python's does not: never matches
    return default


def static_value(expression: str) -> str | None:
    """The value of a ``'literal'`` mapping expression (``None``: any other expression,
    which headwater does not evaluate)."""
    if len(expression) >= 2 and expression[0] == expression[-1] == "'":
        return expression[1:-1]
    return None


def mock_answer(integration: dict[str, Any], content_type: str) -> ProxyResponse | None:
    """What a MOCK integration answers a request of ``content_type`` (``None``: no
    integration response matches, API Gateway's configuration error)."""
    response = selected_response(integration, mock_status(integration, content_type))
    if response is None:
        return None
    headers: list[tuple[str, str]] = []
    for name, expression in (response.get("responseParameters") or {}).items():
        value = static_value(str(expression))
        if name.startswith(HEADER_PARAMETER) and value is not None:
            headers.append((name[len(HEADER_PARAMETER) :], value))
    templates: dict[str, str] = response.get("responseTemplates") or {}
    media, template = next(iter(templates.items()), (DEFAULT_CONTENT_TYPE, ""))
    if DEFAULT_CONTENT_TYPE in templates:
        media, template = DEFAULT_CONTENT_TYPE, templates[DEFAULT_CONTENT_TYPE]
    return ProxyResponse(int(response["statusCode"]), template.encode("utf-8"), media, headers)
