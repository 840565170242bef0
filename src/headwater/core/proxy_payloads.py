"""What an HTTP front of a function (a function URL, an API Gateway HTTP API's or REST
API's Lambda proxy integration) hands its function and makes of the answer: the payload
format 2.0 event (function URLs, HTTP APIs) and 1.0 event (REST APIs, HTTP APIs asking
for it) built from an HTTP request, and the HTTP response read from the function's result,
as AWS documents them ("Invoking Lambda function URLs"; "Create AWS Lambda proxy
integrations for HTTP APIs"; "Set up Lambda proxy integrations" for REST APIs).

Pure translation, no I/O: ``server.function_urls`` and ``server.execute_api`` match the
request, check who may call, invoke and write the response.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson

#: Media types whose bodies reach the function as text; any other body is base64-encoded
#: (``isBase64Encoded``), as AWS does for binary content.
_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/x-www-form-urlencoded",
    "application/xhtml+xml",
    "application/ld+json",
    "application/graphql",
    "application/x-yaml",
    "application/yaml",
)
#: Headers the server writes itself: the function's values are dropped.
_SERVER_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})


@dataclass(frozen=True, slots=True)
class ProxyRequest:
    """One HTTP request to a function URL or an API's route, as the event needs it."""

    #: The function URL's id or the API's id (``requestContext.apiId``).
    api_id: str
    domain_name: str
    method: str
    #: The path the function sees (``/`` at least; the path form's prefix removed; a named
    #: stage's first segment kept, as API Gateway's ``rawPath`` keeps it).
    path: str
    query_string: str
    #: Lower-cased names; a repeated header's last value (``repeated_headers``: all).
    headers: dict[str, str]
    body: bytes
    request_id: str
    #: Epoch seconds the request arrived.
    time: float
    #: ``requestContext.accountId``: the API owner's, or ``"anonymous"`` for the caller of
    #: an unauthenticated function URL.
    account_id: str
    source_ip: str = "127.0.0.1"
    #: ``requestContext.authorizer.iam`` for an AWS_IAM URL (``None`` for NONE).
    iam: dict[str, Any] | None = None
    #: The route matched (``GET /items/{id}``; a function URL's is always ``$default``).
    route_key: str = "$default"
    stage: str = "$default"
    #: The route's ``{name}`` values (``None``: a route without parameters).
    path_parameters: dict[str, str] | None = None
    stage_variables: dict[str, str] | None = None
    #: The route's path template (1.0's ``resource``: ``/items/{id}``).
    resource: str = "/"
    #: The path below the stage (1.0's ``path`` on a REST API: the stage segment dropped).
    resource_path: str | None = None
    #: 1.0's ``requestContext.resourceId`` (a REST API's resource id; else the route key).
    resource_id: str | None = None
    #: ``requestContext.authorizer`` as a Lambda authorizer's answer makes it (``None``:
    #: no authorizer ran).
    authorizer: dict[str, Any] | None = None
    #: Every value, in order, of each header sent more than once (``WireRequest``'s).
    repeated_headers: dict[str, list[str]] | None = None

    def header_values(self) -> dict[str, list[str]]:
        """Every header's values, in the order sent (one for most)."""
        repeated = self.repeated_headers or {}
        return {name: list(repeated.get(name, [value])) for name, value in self.headers.items()}


@dataclass(slots=True)
class ProxyResponse:
    """The HTTP response a function's result makes."""

    status: int
    body: bytes
    content_type: str
    headers: list[tuple[str, str]] = field(default_factory=list)


def _is_text(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return not media or media.startswith(_TEXT_TYPES) or media.endswith(("+json", "+xml"))


def request_event(request: ProxyRequest) -> dict[str, Any]:
    """The payload format 2.0 event of ``request`` (AWS's field order)."""
    # repeated headers are joined with commas; every Cookie header's cookies go to
    # ``cookies`` (AWS: "Format 2.0 doesn't have multiValueHeaders ... Duplicate headers
    # are combined with commas"; "All cookie headers in the request are combined")
    values = request.header_values()
    cookie_headers = values.pop("cookie", [])
    headers = {name: ",".join(found) for name, found in values.items()}
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-forwarded-for", request.source_ip)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": request.route_key,
        "rawPath": request.path,
        "rawQueryString": request.query_string,
    }
    cookies = [c.strip() for line in cookie_headers for c in line.split(";") if c.strip()]
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if request.query_string:
        # repeated names are joined with commas, as AWS joins them
        parameters: dict[str, str] = {}
        for name, value in parse_qsl(request.query_string, keep_blank_values=True):
            parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
        event["queryStringParameters"] = parameters
    if request.path_parameters:
        event["pathParameters"] = dict(request.path_parameters)
    if request.stage_variables:
        event["stageVariables"] = dict(request.stage_variables)
    moment = dt.datetime.fromtimestamp(request.time, tz=dt.UTC)
    context: dict[str, Any] = {
        "accountId": request.account_id,
        "apiId": request.api_id,
        "domainName": request.domain_name,
        "domainPrefix": request.api_id,
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": "HTTP/1.1",
            "sourceIp": request.source_ip,
            "userAgent": request.headers.get("user-agent", ""),
        },
        "requestId": request.request_id,
        "routeKey": request.route_key,
        "stage": request.stage,
        "time": moment.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(request.time * 1000),
    }
    if request.iam is not None:
        context["authorizer"] = {"iam": request.iam}
    if request.authorizer is not None:
        context["authorizer"] = request.authorizer
    event["requestContext"] = context
    if request.body:
        event["body"], event["isBase64Encoded"] = _body_text(request)
    else:
        event["isBase64Encoded"] = False
    return event


def _body_text(request: ProxyRequest) -> tuple[str, bool]:
    """The body as the event carries it: text, or base64 for binary (or non-UTF-8) bytes."""
    if _is_text(request.headers.get("content-type", "")):
        try:
            return request.body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(request.body).decode("ascii"), True


def _multi_values(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in pairs:
        found.setdefault(name, []).append(value)
    return found


def rest_request_event(request: ProxyRequest) -> dict[str, Any]:
    """The payload format 1.0 event of ``request`` (the REST API Lambda proxy shape, which
    HTTP APIs send with ``PayloadFormatVersion`` 1.0): single- and multi-value headers and
    query parameters (the single form keeps a repeated name's last value, the multi form
    every value in order), ``null`` for absent maps and bodies, as API Gateway writes
    them."""
    multi_headers = request.header_values()
    for name, value in (("x-forwarded-proto", "http"), ("x-forwarded-for", request.source_ip)):
        multi_headers.setdefault(name, [value])
    headers = {name: found[-1] for name, found in multi_headers.items()}
    query = parse_qsl(request.query_string, keep_blank_values=True)
    multi_query = _multi_values(query)
    path = request.resource_path if request.resource_path is not None else request.path
    moment = dt.datetime.fromtimestamp(request.time, tz=dt.UTC)
    identity: dict[str, Any] = {
        "accessKey": None if request.iam is None else request.iam.get("accessKey"),
        "accountId": None,
        "caller": None,
        "cognitoAuthenticationProvider": None,
        "cognitoAuthenticationType": None,
        "cognitoIdentityId": None,
        "cognitoIdentityPoolId": None,
        "principalOrgId": None,
        "sourceIp": request.source_ip,
        "user": None,
        "userAgent": request.headers.get("user-agent", ""),
        "userArn": None,
    }
    context: dict[str, Any] = {
        "accountId": request.account_id,
        "apiId": request.api_id,
        "domainName": request.domain_name,
        "domainPrefix": request.api_id,
        "extendedRequestId": request.request_id,
        "httpMethod": request.method,
        "identity": identity,
        "path": request.path,
        "protocol": "HTTP/1.1",
        "requestId": request.request_id,
        "requestTime": moment.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(request.time * 1000),
        "resourceId": request.resource_id or request.route_key,
        "resourcePath": request.resource,
        "stage": request.stage,
    }
    if request.authorizer is not None:
        context["authorizer"] = request.authorizer
    body: str | None = None
    encoded = False
    if request.body:
        body, encoded = _body_text(request)
    return {
        "version": "1.0",
        "resource": request.resource,
        "path": path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {n: v[-1] for n, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "requestContext": context,
        "pathParameters": dict(request.path_parameters) if request.path_parameters else None,
        "stageVariables": dict(request.stage_variables) if request.stage_variables else None,
        "body": body,
        "isBase64Encoded": encoded,
    }


def bad_gateway() -> ProxyResponse:
    """A function error or an answer that is no response: a function URL's 502."""
    return ProxyResponse(502, b"Internal Server Error", "application/json")


def api_internal_error() -> ProxyResponse:
    """A function error or a 2.0 answer that is no response, as an HTTP API answers it:
    500 ``{"message":"Internal Server Error"}`` (as HTTP APIs are seen to answer; AWS
    documents only the REST API's 502 "Internal server error", ``rest_internal_error``)."""
    return ProxyResponse(500, b'{"message":"Internal Server Error"}', "application/json")


def rest_internal_error() -> ProxyResponse:
    """A REST API's (and payload 1.0's) 502 for a function error or a malformed Lambda
    proxy response (AWS Lambda guide, "Handling Lambda errors with an API Gateway API")."""
    return ProxyResponse(502, b'{"message": "Internal server error"}', "application/json")


def rest_function_response(payload: bytes) -> ProxyResponse:
    """The HTTP response a payload format 1.0 result makes: a JSON object of
    ``statusCode``, ``headers``, ``multiValueHeaders``, ``body`` (a string) and
    ``isBase64Encoded``; anything else (no ``statusCode``, a body that is not a string, a
    member API Gateway does not know) is a 502 "Internal server error", as API Gateway
    answers a "Malformed Lambda proxy response"."""
    try:
        result = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return rest_internal_error()
    known = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
    if not isinstance(result, dict) or "statusCode" not in result or set(result) - known:
        return rest_internal_error()
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        return rest_internal_error()
    headers = dict(result.get("headers") or {})
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(headers, dict) or not isinstance(multi, dict):
        return rest_internal_error()
    # multiValueHeaders and headers merge, a header in both taking the multi values
    document: dict[str, Any] = {"statusCode": result["statusCode"], "body": body}
    document["isBase64Encoded"] = result.get("isBase64Encoded") is True
    merged: list[tuple[str, str]] = []
    for name, value in headers.items():
        if name not in multi and value is not None:
            merged.append((str(name), value if isinstance(value, str) else str(value)))
    for name, values in multi.items():
        for value in values if isinstance(values, list) else [values]:
            merged.append((str(name), str(value)))
    response = _described_response({**document, "headers": {}})
    if response.status == 502 and response.body == bad_gateway().body:
        return rest_internal_error()
    for name, value in merged:
        lowered = name.lower()
        if lowered in _SERVER_HEADERS:
            continue
        if lowered == "content-type":
            response.content_type = value
        else:
            response.headers.append((name, value))
    return response


def function_response(payload: bytes) -> ProxyResponse:
    """The HTTP response a function's (successful) result makes.

    A JSON object with ``statusCode`` says the response itself (headers, cookies, body,
    ``isBase64Encoded``); any other JSON is the body of a 200 ``application/json``
    response (a JSON string: its text, unquoted). Output that is not JSON, or a
    ``statusCode`` that is not a status, is a 502 as on AWS.
    """
    if not payload.strip():
        return ProxyResponse(200, b"", "application/json")
    try:
        result = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return bad_gateway()
    if not isinstance(result, dict) or "statusCode" not in result:
        body = result.encode("utf-8") if isinstance(result, str) else payload
        return ProxyResponse(200, body, "application/json")
    return _described_response(result)


def _described_response(result: dict[str, Any]) -> ProxyResponse:
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        return bad_gateway()
    content_type = "application/json"
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        lowered = str(name).lower()
        if lowered in _SERVER_HEADERS or value is None:
            continue
        text = value if isinstance(value, str) else orjson.dumps(value).decode()
        if lowered == "content-type":
            content_type = text
        else:
            headers.append((str(name), text))
    for cookie in result.get("cookies") or ():
        headers.append(("Set-Cookie", str(cookie)))
    body = result.get("body")
    if body is None:
        data = b""
    elif isinstance(body, str):
        data = body.encode("utf-8")
        if result.get("isBase64Encoded") is True:
            try:
                data = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                return bad_gateway()
    else:
        data = orjson.dumps(body)
    return ProxyResponse(status, data, content_type, headers)
