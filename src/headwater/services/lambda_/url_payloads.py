"""What a function URL hands its function and makes of the answer: the payload format 2.0
event built from an HTTP request, and the HTTP response read from the function's result,
as AWS documents for function URLs ("Invoking Lambda function URLs", request and response
payloads).

Pure translation, no I/O: ``server.function_urls`` matches the request, checks who may
call, invokes and writes the response.
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
class UrlRequest:
    """One HTTP request to a function URL, as the event needs it."""

    url_id: str
    domain_name: str
    method: str
    #: The path the function sees (``/`` at least; the path form's prefix removed).
    path: str
    query_string: str
    #: Lower-cased names.
    headers: dict[str, str]
    body: bytes
    request_id: str
    #: Epoch seconds the request arrived.
    time: float
    account_id: str
    source_ip: str = "127.0.0.1"
    #: ``requestContext.authorizer.iam`` for an AWS_IAM URL (``None`` for NONE).
    iam: dict[str, Any] | None = None


@dataclass(slots=True)
class UrlResponse:
    """The HTTP response a function's result makes."""

    status: int
    body: bytes
    content_type: str
    headers: list[tuple[str, str]] = field(default_factory=list)


def _is_text(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return not media or media.startswith(_TEXT_TYPES) or media.endswith(("+json", "+xml"))


def request_event(request: UrlRequest) -> dict[str, Any]:
    """The payload format 2.0 event of ``request`` (AWS's field order)."""
    headers = dict(request.headers)
    cookie_header = headers.pop("cookie", None)
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-forwarded-for", request.source_ip)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": request.path,
        "rawQueryString": request.query_string,
    }
    if cookie_header:
        event["cookies"] = [c.strip() for c in cookie_header.split(";") if c.strip()]
    event["headers"] = headers
    if request.query_string:
        # repeated names are joined with commas, as AWS joins them
        parameters: dict[str, str] = {}
        for name, value in parse_qsl(request.query_string, keep_blank_values=True):
            parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
        event["queryStringParameters"] = parameters
    moment = dt.datetime.fromtimestamp(request.time, tz=dt.UTC)
    context: dict[str, Any] = {
        # AWS writes "anonymous" for the caller of an unauthenticated (NONE) URL.
        "accountId": request.account_id if request.iam is not None else "anonymous",
        "apiId": request.url_id,
        "domainName": request.domain_name,
        "domainPrefix": request.url_id,
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": "HTTP/1.1",
            "sourceIp": request.source_ip,
            "userAgent": request.headers.get("user-agent", ""),
        },
        "requestId": request.request_id,
        "routeKey": "$default",
        "stage": "$default",
        "time": moment.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(request.time * 1000),
    }
    if request.iam is not None:
        context["authorizer"] = {"iam": request.iam}
    event["requestContext"] = context
    if request.body:
        if _is_text(request.headers.get("content-type", "")):
            try:
                event["body"] = request.body.decode("utf-8")
                event["isBase64Encoded"] = False
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(request.body).decode("ascii")
                event["isBase64Encoded"] = True
        else:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    return event


def bad_gateway() -> UrlResponse:
    """A function error or an answer that is no response: AWS's 502."""
    return UrlResponse(502, b"Internal Server Error", "application/json")


def function_response(payload: bytes) -> UrlResponse:
    """The HTTP response a function's (successful) result makes.

    A JSON object with ``statusCode`` says the response itself (headers, cookies, body,
    ``isBase64Encoded``); any other JSON is the body of a 200 ``application/json``
    response (a JSON string: its text, unquoted). Output that is not JSON, or a
    ``statusCode`` that is not a status, is a 502 as on AWS.
    """
    if not payload.strip():
        return UrlResponse(200, b"", "application/json")
    try:
        result = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return bad_gateway()
    if not isinstance(result, dict) or "statusCode" not in result:
        body = result.encode("utf-8") if isinstance(result, str) else payload
        return UrlResponse(200, body, "application/json")
    return _described_response(result)


def _described_response(result: dict[str, Any]) -> UrlResponse:
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
    return UrlResponse(status, data, content_type, headers)
