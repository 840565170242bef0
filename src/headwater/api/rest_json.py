"""restJson1 (Lambda): operations addressed by method + path, members bound by the model.

Routes come from each operation's ``requestUri`` template (``/2015-03-31/functions/
{FunctionName}/invocations``); labels match one percent-encoded path segment (``+`` labels
several), so functions can be named by name, partial ARN or full ARN. Members bind to the
path, query string, headers or the JSON body; a blob ``payload`` member is the raw body
(Invoke's ``Payload``). Responses bind header members (``X-Amz-Function-Error``) and the
``statusCode`` member back, with the model's ``responseCode`` as the default status. An
``eventstream`` payload (InvokeWithResponseStream) is sent framed as
``application/vnd.amazon.eventstream`` (``event_stream``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from email.utils import format_datetime
from functools import cache
from typing import Any
from urllib.parse import unquote

from botocore.model import Shape

from headwater.api import event_stream
from headwater.api.errors import rest_json_error
from headwater.api.http import WireRequest, WireResponse
from headwater.api.shapes import dump_json, input_converter, load_json_object, validate_input
from headwater.core.errors import AwsError
from headwater.core.values import as_bytes, assume_utc
from headwater.models import operation_model, service_model


@dataclass(frozen=True, slots=True)
class RestRoute:
    operation: str
    method: str
    pattern: re.Pattern[str]
    #: regex group name -> member name
    labels: dict[str, str]
    #: literal query parameters the template requires (``?List=ALL``)
    query_literals: tuple[tuple[str, str], ...]
    specificity: tuple[int, int, int]
    first_segment: str


def _compile_route(operation: str, http: dict[str, Any]) -> RestRoute:
    template: str = http["requestUri"]
    path, _, query = template.partition("?")
    labels: dict[str, str] = {}
    regex = ["^"]
    literal_chars = 0
    for index, piece in enumerate(re.split(r"(\{[^}]+\})", path)):
        if index % 2 == 0:
            regex.append(re.escape(piece))
            literal_chars += len(piece)
            continue
        name = piece[1:-1]
        greedy = name.endswith("+")
        member = name.rstrip("+")
        group = f"g{len(labels)}"
        labels[group] = member
        regex.append(f"(?P<{group}>.+)" if greedy else f"(?P<{group}>[^/]+)")
    regex.append("/?$")
    literals = tuple(
        (key, value) for key, _, value in (item.partition("=") for item in query.split("&") if item)
    )
    return RestRoute(
        operation=operation,
        method=http["method"],
        pattern=re.compile("".join(regex)),
        labels=labels,
        query_literals=literals,
        specificity=(len(literals), literal_chars, -len(labels)),
        first_segment=_first_segment(path),
    )


@cache
def routes(service_name: str) -> dict[str, list[RestRoute]]:
    """Routes by first path segment, most specific first."""
    model = service_model(service_name)
    table: dict[str, list[RestRoute]] = {}
    for name in model.operation_names:
        route = _compile_route(name, model.operation_model(name).http)
        table.setdefault(route.first_segment, []).append(route)
    for found in table.values():
        found.sort(key=lambda r: r.specificity, reverse=True)
    return table


def _first_segment(raw_path: str) -> str:
    parts = raw_path.split("/", 2)
    return parts[1] if len(parts) > 1 else ""


def claims_path(service_name: str, raw_path: str) -> bool:
    """Whether ``raw_path`` starts like one of the service's routes (``/2015-03-31``)."""
    return _first_segment(raw_path) in routes(service_name)


def match(
    service_name: str, method: str, raw_path: str, query: dict[str, str]
) -> tuple[RestRoute, dict[str, str]] | None:
    """The route and raw path labels for a request, or None."""
    for route in routes(service_name).get(_first_segment(raw_path), ()):
        if route.method != method:
            continue
        found = route.pattern.match(raw_path)
        if found is None:
            continue
        if any(query.get(key) != value for key, value in route.query_literals):
            continue
        return route, {route.labels[g]: value for g, value in found.groupdict().items()}
    return None


def parse_request(
    service_name: str,
    route: RestRoute,
    labels: dict[str, str],
    request: WireRequest,
    query_items: list[tuple[str, str]],
) -> dict[str, Any]:
    """boto3-shaped params from the path, query string, headers and body."""
    op = operation_model(service_name, route.operation)
    shape = op.input_shape
    if shape is None:
        return {}
    params: dict[str, Any] = {}
    payload_name = shape.serialization.get("payload")
    body_members = False
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "uri":
            raw = labels.get(wire_name)
            if raw is not None:
                # a number in the path (a layer's VersionNumber) is read as one, as in a query
                params[name] = _text_value(member, name, unquote(raw))
        elif location == "querystring":
            values = [v for k, v in query_items if k == wire_name]
            if values:
                if member.type_name == "list":
                    params[name] = [_text_value(member.member, name, v) for v in values]
                else:
                    params[name] = _text_value(member, name, values[0])
        elif location == "header":
            raw = request.headers.get(wire_name.lower())
            if raw is not None:
                params[name] = _text_value(member, name, raw)
        elif location is None and name != payload_name:
            body_members = True
    if payload_name is not None:
        payload_shape = shape.members[payload_name]
        if payload_shape.type_name == "blob":
            if request.body:
                params[payload_name] = request.body
        elif request.body:
            params[payload_name] = load_json_object(request.body)
    elif body_members and request.body:
        params.update(renamed(service_name, shape, load_json_object(request.body), to_wire=False))
    convert = input_converter(service_name, route.operation)
    if convert is not None:
        params = convert(params)
    validate_input(service_name, route.operation, params)
    return params


def renamed(service_name: str, shape: Shape, value: Any, *, to_wire: bool) -> Any:
    """``value`` of ``shape`` with its structures' members renamed between the model's
    member names and their wire names (``locationName``: API Gateway's ``apiId`` for
    ``ApiId``), recursively; a service whose model names nothing differently (Lambda) is
    passed through untouched."""
    if not uses_wire_names(service_name):
        return value
    return _rename(shape, value, to_wire)


@cache
def uses_wire_names(service_name: str) -> bool:
    """Whether the service's JSON bodies name members other than the model does."""
    model = service_model(service_name)
    for name in model.operation_names:
        shape = model.operation_model(name).input_shape
        if shape is None:
            continue
        for member_name, member in shape.members.items():
            if member.serialization.get("location") is None and (
                member.serialization.get("name", member_name) != member_name
            ):
                return True
    return False


def _rename(shape: Shape, value: Any, to_wire: bool) -> Any:
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        out: dict[str, Any] = {}
        members = shape.members
        if to_wire:
            for name, item in value.items():
                member = members.get(name)
                if member is None:
                    out[name] = item
                else:
                    wire = member.serialization.get("name", name)
                    out[wire] = _rename(member, item, to_wire)
        else:
            by_wire = _members_by_wire_name(shape)
            for wire, item in value.items():
                found = by_wire.get(wire)
                if found is None:
                    out[wire] = item
                else:
                    out[found[0]] = _rename(found[1], item, to_wire)
        return out
    if kind == "list" and isinstance(value, list):
        return [_rename(shape.member, item, to_wire) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {key: _rename(shape.value, item, to_wire) for key, item in value.items()}
    if (
        kind == "timestamp"
        and to_wire
        and isinstance(value, dt.datetime)
        and shape.serialization.get("timestampFormat") == "iso8601"
    ):
        # a timestamp the model writes as ISO 8601 text (API Gateway v2's), not epoch
        # seconds, the JSON protocols' default (strict clients, Go's SDK, refuse a number)
        return assume_utc(value).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def _members_by_wire_name(shape: Shape) -> dict[str, tuple[str, Shape]]:
    return {
        member.serialization.get("name", name): (name, member)
        for name, member in shape.members.items()
        if member.serialization.get("location") is None
    }


def _text_value(shape: Shape, name: str, raw: str) -> Any:
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(raw)
        if kind in ("float", "double"):
            return float(raw)
    except ValueError:
        raise AwsError(
            "InvalidParameterValueException", f"Invalid value '{raw}' for parameter {name}"
        ) from None
    if kind == "boolean":
        return raw.lower() == "true"
    if kind == "timestamp":
        try:
            return dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise AwsError(
                "InvalidParameterValueException", f"Invalid timestamp '{raw}' for {name}"
            ) from None
    return raw


def success(
    service_name: str, operation: str, result: dict[str, Any], request_id: str
) -> WireResponse:
    op = operation_model(service_name, operation)
    status: int | None = result.pop("_status", None)
    # An operation whose result has its own request id (Invoke: the invocation's) sends it.
    headers = [("x-amzn-RequestId", result.pop("_request_id", request_id))]
    shape = op.output_shape
    content_type = "application/json"
    if shape is None:
        body = b""
    else:
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            if location == "header":
                value = result.pop(name, None)
                wire_name = member.serialization.get("name", name)
                if value is not None and wire_name.lower() == "content-type":
                    content_type = str(value)
                elif value is not None:
                    headers.append((wire_name, _header_text(value)))
            elif location == "statusCode":
                value = result.pop(name, None)
                if status is None and value is not None:
                    status = int(value)
            elif location == "headers":
                for key, value in (result.pop(name, None) or {}).items():
                    headers.append((f"{member.serialization.get('name', '')}{key}", str(value)))
        payload_name = shape.serialization.get("payload")
        if payload_name is not None:
            payload = result.pop(payload_name, None)
            payload_shape = shape.members[payload_name]
            if payload_shape.type_name == "blob":
                body = _payload_bytes(payload)
            elif payload_shape.serialization.get("eventstream"):
                body = event_stream.encode(payload_shape, list(payload or []))
                content_type = event_stream.CONTENT_TYPE
            else:
                body = dump_json(payload if payload is not None else {})
        else:
            body = dump_json(renamed(service_name, shape, result, to_wire=True))
    if status is None:
        status = int(op.http.get("responseCode", 200))
    if status in (204, 304):
        body = b""
    return WireResponse(status, body, content_type, headers)


def _payload_bytes(payload: Any) -> bytes:
    """A blob payload member as bytes (as ``as_bytes``); ``None`` is empty, other values JSON."""
    if payload is None:
        return b""
    read = getattr(payload, "read", None)
    if callable(read):
        return _payload_bytes(read())
    if isinstance(payload, bytes | bytearray | memoryview | str):
        return as_bytes(payload)
    return dump_json(payload)


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return format_datetime(assume_utc(value).astimezone(dt.UTC), usegmt=True)
    return str(value)


def failure(error: AwsError, request_id: str) -> WireResponse:
    return rest_json_error(error, request_id=request_id)
