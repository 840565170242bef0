"""awsQuery, the legacy SQS protocol: form-encoded requests, XML responses.

boto3 < 1.34.90, AWS CLI v2 < 2.15.41 and many other SDKs still send it. The current
botocore SQS model is awsJson and has lost the query member names, so the legacy names
(``Attribute.1.Name``, ``SendMessageBatchRequestEntry.1.Id``, ``<Message>`` ...) are
listed here; they are those of the 2012-11-05 query model (the same names moto restores).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from botocore.model import Shape

from headwater.api.errors import query_error
from headwater.api.http import WireRequest, WireResponse
from headwater.api.shapes import missing_parameter, validate_input
from headwater.core.errors import AwsError
from headwater.models import operation_model, service_model

SQS_VERSION = "2012-11-05"
SQS_NAMESPACE = "http://queue.amazonaws.com/doc/2012-11-05/"

#: list shape -> element name in the query protocol.
LIST_ITEM_NAMES: dict[str, str] = {
    "AWSAccountIdList": "AWSAccountId",
    "ActionNameList": "ActionName",
    "AttributeNameList": "AttributeName",
    "BatchResultErrorEntryList": "BatchResultErrorEntry",
    "BinaryList": "BinaryListValue",
    "ChangeMessageVisibilityBatchRequestEntryList": "ChangeMessageVisibilityBatchRequestEntry",
    "ChangeMessageVisibilityBatchResultEntryList": "ChangeMessageVisibilityBatchResultEntry",
    "DeleteMessageBatchRequestEntryList": "DeleteMessageBatchRequestEntry",
    "DeleteMessageBatchResultEntryList": "DeleteMessageBatchResultEntry",
    "ListMessageMoveTasksResultEntryList": "ListMessageMoveTasksResultEntry",
    "MessageAttributeNameList": "MessageAttributeName",
    "MessageList": "Message",
    "QueueUrlList": "QueueUrl",
    "SendMessageBatchRequestEntryList": "SendMessageBatchRequestEntry",
    "SendMessageBatchResultEntryList": "SendMessageBatchResultEntry",
    "StringList": "StringListValue",
    "TagKeyList": "TagKey",
}

#: map shape -> (key element, value element).
MAP_ENTRY_NAMES: dict[str, tuple[str, str]] = {
    "MessageBodyAttributeMap": ("Name", "Value"),
    "MessageBodySystemAttributeMap": ("Name", "Value"),
    "MessageSystemAttributeMap": ("Name", "Value"),
    "QueueAttributeMap": ("Name", "Value"),
    "TagMap": ("Key", "Value"),
}

#: (structure shape, member) -> query name of that member.
MEMBER_NAMES: dict[tuple[str, str], str] = {
    ("CreateQueueRequest", "Attributes"): "Attribute",
    ("CreateQueueRequest", "tags"): "Tag",
    ("SetQueueAttributesRequest", "Attributes"): "Attribute",
    ("GetQueueAttributesResult", "Attributes"): "Attribute",
    ("ListQueueTagsResult", "Tags"): "Tag",
    ("TagQueueRequest", "Tags"): "Tag",
    ("Message", "Attributes"): "Attribute",
    ("Message", "MessageAttributes"): "MessageAttribute",
    ("MessageAttributeValue", "StringListValues"): "StringListValue",
    ("MessageAttributeValue", "BinaryListValues"): "BinaryListValue",
    ("MessageSystemAttributeValue", "StringListValues"): "StringListValue",
    ("MessageSystemAttributeValue", "BinaryListValues"): "BinaryListValue",
    ("SendMessageRequest", "MessageAttributes"): "MessageAttribute",
    ("SendMessageRequest", "MessageSystemAttributes"): "MessageSystemAttribute",
    ("SendMessageBatchRequestEntry", "MessageAttributes"): "MessageAttribute",
    ("SendMessageBatchRequestEntry", "MessageSystemAttributes"): "MessageSystemAttribute",
}

#: Lists the legacy model flattened although the JSON model does not say so.
FLATTENED_LISTS = frozenset({"StringList", "BinaryList"})

_MISSING = object()


def member_name(structure: Shape, name: str) -> str:
    return MEMBER_NAMES.get((structure.name, name), name)


def is_flattened(shape: Shape) -> bool:
    return bool(shape.serialization.get("flattened")) or shape.name in FLATTENED_LISTS


def is_sqs_query(form: dict[str, str]) -> bool:
    """Whether form parameters are an SQS query call (Action of SQS, SQS's API version)."""
    action = form.get("Action")
    if not action:
        return False
    version = form.get("Version")
    if version is not None and version != SQS_VERSION:
        return False
    return action in service_model("sqs").operation_names


def read_form(request: WireRequest) -> dict[str, str]:
    """Form fields from the body (POST) merged over the query string (GET)."""
    fields = dict(request.query_items())
    if request.body:
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            return fields
        fields.update(parse_qsl(text, keep_blank_values=True))
    return fields


def parse_request(operation: str, form: dict[str, str], request: WireRequest) -> dict[str, Any]:
    """boto3-shaped params of an SQS query call; old SDKs may POST to the queue URL."""
    shape = operation_model("sqs", operation).input_shape
    if shape is None:
        return {}
    prefixes: set[str] = set()
    for key in form:
        parts = key.split(".")
        for end in range(1, len(parts) + 1):
            prefixes.add(".".join(parts[:end]))
    params = _read_structure(shape, "", form, prefixes)
    if not isinstance(params, dict):
        params = {}
    if (
        "QueueUrl" in shape.members
        and "QueueUrl" not in params
        and request.raw_path.strip("/").count("/") >= 1
    ):
        params["QueueUrl"] = f"http://{request.host}{request.raw_path}"
    for required in shape.required_members:
        if required not in params:
            raise missing_parameter("sqs", "", required)
    validate_input("sqs", operation, params)
    return params


def _read(shape: Shape, key: str, form: dict[str, str], prefixes: set[str]) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return _read_structure(shape, key, form, prefixes)
    if kind == "list":
        if form.get(key) == "" and f"{key}.1" not in prefixes:
            return []
        if is_flattened(shape):
            item = LIST_ITEM_NAMES.get(shape.name)
            base = key if item is None else ".".join([*key.split(".")[:-1], item])
        else:
            base = f"{key}.{LIST_ITEM_NAMES.get(shape.name, 'member')}"
        items = []
        index = 1
        while f"{base}.{index}" in prefixes:
            value = _read(shape.member, f"{base}.{index}", form, prefixes)
            if value is not _MISSING:
                items.append(value)
            index += 1
        return items if items else _MISSING
    if kind == "map":
        key_name, value_name = MAP_ENTRY_NAMES.get(shape.name, ("key", "value"))
        base = key if is_flattened(shape) else f"{key}.entry"
        result = {}
        index = 1
        while f"{base}.{index}" in prefixes:
            entry_key = form.get(f"{base}.{index}.{key_name}")
            entry_value = _read(shape.value, f"{base}.{index}.{value_name}", form, prefixes)
            if entry_key is not None and entry_value is not _MISSING:
                result[entry_key] = entry_value
            index += 1
        return result if result else _MISSING
    raw = form.get(key)
    if raw is None:
        return _MISSING
    return _scalar(shape, key, raw)


def _read_structure(shape: Shape, key: str, form: dict[str, str], prefixes: set[str]) -> Any:
    result: dict[str, Any] = {}
    for name, member in shape.members.items():
        query_name = member_name(shape, name)
        member_key = f"{key}.{query_name}" if key else query_name
        value = _read(member, member_key, form, prefixes)
        if value is not _MISSING:
            result[name] = value
    return result if result or not key else _MISSING


def _invalid(key: str, raw: str, reason: str) -> AwsError:
    return AwsError(
        "InvalidParameterValueException",
        f"Value {raw} for parameter {key} is invalid. Reason: {reason}.",
        query_code="InvalidParameterValue",
    )


def _scalar(shape: Shape, key: str, raw: str) -> Any:
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            return int(raw)
        except ValueError:
            raise _invalid(key, raw, "Must be an integer") from None
    if kind == "boolean":
        lowered = raw.lower()
        if lowered not in ("true", "false"):
            raise _invalid(key, raw, "Must be true or false")
        return lowered == "true"
    if kind in ("float", "double"):
        try:
            return float(raw)
        except ValueError:
            raise _invalid(key, raw, "Must be a number") from None
    if kind == "blob":
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise _invalid(key, raw[:64], "Must be base64 encoded") from None
    if kind == "timestamp":
        try:
            return dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise _invalid(key, raw, "Must be an ISO 8601 timestamp") from None
    return raw


# ---- responses ----


def success(operation: str, result: dict[str, Any], request_id: str) -> WireResponse:
    """``<OpResponse><OpResult>...</OpResult><ResponseMetadata/></OpResponse>``."""
    status = result.pop("_status", 200)
    out: list[str] = [f'<?xml version="1.0"?><{operation}Response xmlns="{SQS_NAMESPACE}">']
    shape = operation_model("sqs", operation).output_shape
    if shape is not None and shape.members:
        out.append(f"<{operation}Result>")
        _write_members(shape, result, out)
        out.append(f"</{operation}Result>")
    out.append(
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        f"</{operation}Response>"
    )
    headers = [("x-amzn-RequestId", request_id)]
    return WireResponse(status, "".join(out).encode("utf-8"), "text/xml", headers)


def failure(error: AwsError, request_id: str) -> WireResponse:
    return query_error(error, request_id=request_id)


def _write_members(shape: Shape, value: dict[str, Any], out: list[str]) -> None:
    for name, member in shape.members.items():
        item = value.get(name)
        if item is None:
            continue
        _write_member(member, member_name(shape, name), item, out)


def _write_member(shape: Shape, name: str, value: Any, out: list[str]) -> None:
    kind = shape.type_name
    if kind == "list":
        if is_flattened(shape):
            item_name = LIST_ITEM_NAMES.get(shape.name, name)
            for item in value:
                _write_value(shape.member, item_name, item, out)
        else:
            item_name = LIST_ITEM_NAMES.get(shape.name, "member")
            out.append(f"<{name}>")
            for item in value:
                _write_value(shape.member, item_name, item, out)
            out.append(f"</{name}>")
        return
    if kind == "map":
        key_name, value_name = MAP_ENTRY_NAMES.get(shape.name, ("key", "value"))
        flattened = is_flattened(shape)
        if not flattened:
            out.append(f"<{name}>")
        for key, item in value.items():
            out.append(
                f"<{name if flattened else 'entry'}><{key_name}>{escape(str(key))}</{key_name}>"
            )
            _write_value(shape.value, value_name, item, out)
            out.append(f"</{name if flattened else 'entry'}>")
        if not flattened:
            out.append(f"</{name}>")
        return
    _write_value(shape, name, value, out)


def _write_value(shape: Shape, name: str, value: Any, out: list[str]) -> None:
    kind = shape.type_name
    if kind == "structure":
        out.append(f"<{name}>")
        _write_members(shape, value, out)
        out.append(f"</{name}>")
    elif kind in ("list", "map"):
        _write_member(shape, name, value, out)
    else:
        out.append(f"<{name}>{_scalar_text(kind, value)}</{name}>")


def _scalar_text(kind: str, value: Any) -> str:
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "blob":
        raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        return base64.b64encode(raw).decode("ascii")
    if kind == "timestamp":
        if isinstance(value, dt.datetime):
            aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
            return aware.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        return escape(str(value))
    # \r would be normalised to \n by XML parsers; AWS sends it as a character reference.
    return escape(str(value), _ENTITIES)


_ENTITIES = {"\r": "&#xD;"}
