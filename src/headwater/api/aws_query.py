"""awsQuery: form-encoded requests (``Action`` + ``Version``), XML responses.

The services whose botocore model is awsQuery (SNS, IAM, STS, CloudFormation, CloudWatch's
query flavour) are read and written straight from the model: member and list element
names come from its ``locationName`` traits, as botocore's own serializer and parser use
them. SQS is the exception: boto3 < 1.34.90, AWS CLI v2 < 2.15.41 and many other SDKs still
send SQS as awsQuery, but the current botocore SQS model is awsJson and has lost the query
member names, so the legacy names (``Attribute.1.Name``, ``SendMessageBatchRequestEntry.1.Id``,
``<Message>`` ...) are listed here; they are those of the 2012-11-05 query model (the same
names moto restores).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from functools import cache
from typing import Any
from urllib.parse import parse_qsl

from botocore.model import Shape

from headwater.api.errors import query_error
from headwater.api.http import WireRequest, WireResponse
from headwater.api.shapes import missing_parameter, validate_input
from headwater.api.xml_text import xml_escape
from headwater.core.errors import AwsError
from headwater.core.values import assume_utc
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


class QueryDialect:
    """How one service names its members, list items and map entries on the query wire."""

    def __init__(self, service_name: str) -> None:
        self.service_name = service_name
        model = service_model(service_name)
        self.namespace = str(model.metadata.get("xmlNamespace", ""))
        self.version = str(model.metadata.get("apiVersion", ""))

    def member_name(self, structure: Shape, name: str) -> str:
        return str(structure.members[name].serialization.get("name", name))

    def is_flattened(self, shape: Shape) -> bool:
        return bool(shape.serialization.get("flattened"))

    def list_item_name(self, shape: Shape, default: str) -> str:
        """Element name of a list's items (``default``: "member", or the list's own name
        for flattened lists)."""
        return str(shape.member.serialization.get("name", default))

    def map_entry_names(self, shape: Shape) -> tuple[str, str]:
        return (
            str(shape.key.serialization.get("name", "key")),
            str(shape.value.serialization.get("name", "value")),
        )


class SqsQueryDialect(QueryDialect):
    """SQS's legacy 2012-11-05 query names, which today's JSON model no longer carries."""

    def __init__(self) -> None:
        super().__init__("sqs")
        self.namespace = SQS_NAMESPACE

    def member_name(self, structure: Shape, name: str) -> str:
        return MEMBER_NAMES.get((structure.name, name), name)

    def is_flattened(self, shape: Shape) -> bool:
        return bool(shape.serialization.get("flattened")) or shape.name in FLATTENED_LISTS

    def list_item_name(self, shape: Shape, default: str) -> str:
        return LIST_ITEM_NAMES.get(shape.name, default)

    def map_entry_names(self, shape: Shape) -> tuple[str, str]:
        return MAP_ENTRY_NAMES.get(shape.name, ("key", "value"))


SQS = SqsQueryDialect()
_DIALECTS: dict[str, QueryDialect] = {"sqs": SQS}


def dialect(service_name: str) -> QueryDialect:
    """The query dialect of ``service_name`` (made once)."""
    found = _DIALECTS.get(service_name)
    if found is None:
        found = _DIALECTS[service_name] = QueryDialect(service_name)
    return found


def operation_names(service_name: str) -> frozenset[str]:
    return frozenset(service_model(service_name).operation_names)


@cache
def query_services(service_names: tuple[str, ...]) -> tuple[dict[str, str], dict[str, str]]:
    """(API version -> service, signing name -> service) of the awsQuery services (SQS
    aside) among ``service_names``."""
    versions: dict[str, str] = {}
    signing_names: dict[str, str] = {}
    for name in service_names:
        if name == "sqs":
            continue
        try:
            metadata = service_model(name).metadata
        except Exception:  # botocore without that model: headwater cannot speak it
            continue
        if "query" not in metadata.get("protocols", [metadata.get("protocol")]):
            continue
        versions[str(metadata["apiVersion"])] = name
        signing_names[str(metadata.get("signingName", metadata["endpointPrefix"]))] = name
    return versions, signing_names


def service_for_query(
    version: str | None,
    signing_name: str | None,
    service_names: tuple[str, ...],
    action: str | None = None,
) -> str | None:
    """The awsQuery service (other than SQS) a form is for: by its ``Version``, else by
    the service in its signature's credential scope, else (an unsigned link such as SNS's
    SubscribeURL, which names only the action) the one service that has ``action``."""
    versions, signing_names = query_services(service_names)
    if version is not None:
        return versions.get(version)
    if signing_name is not None:
        return signing_names.get(signing_name)
    if action is None:
        return None
    owners = [name for name in versions.values() if action in operation_names(name)]
    return owners[0] if len(owners) == 1 else None


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
    """Form fields from the body (POST) merged over the query string (GET).

    Bytes that are not UTF-8 are kept as lone surrogates (``surrogateescape``), never
    replaced by U+FFFD: the services then reject them as AWS does (a message body answers
    ``InvalidMessageContents``) instead of storing a character the sender never sent.
    """
    fields = _form_fields(request.query_string.encode("latin-1"))
    if request.body:
        fields.update(_form_fields(request.body))
    return fields


def _form_fields(raw: bytes) -> dict[str, str]:
    text = raw.decode("utf-8", "surrogateescape")
    return dict(parse_qsl(text, keep_blank_values=True, errors="surrogateescape"))


def missing_action() -> AwsError:
    """A form post that names no ``Action`` (AWS's common query error)."""
    return AwsError("MissingAction", "The request is missing an action or a required parameter.")


def parse_request(
    operation: str, form: dict[str, str], request: WireRequest, dialect: QueryDialect = SQS
) -> dict[str, Any]:
    """boto3-shaped params of a query call; old SQS SDKs may POST to the queue URL."""
    service_name = dialect.service_name
    shape = operation_model(service_name, operation).input_shape
    if shape is None:
        return {}
    prefixes: set[str] = set()
    for key in form:
        parts = key.split(".")
        for end in range(1, len(parts) + 1):
            prefixes.add(".".join(parts[:end]))
    params = _read_structure(dialect, shape, "", form, prefixes)
    if not isinstance(params, dict):
        params = {}
    if (
        dialect is SQS
        and "QueueUrl" in shape.members
        and "QueueUrl" not in params
        and request.raw_path.strip("/").count("/") >= 1
    ):
        params["QueueUrl"] = f"http://{request.host}{request.raw_path}"
    for required in shape.required_members:
        if required not in params:
            raise missing_parameter(service_name, "", required)
    if dialect is SQS and operation == "ReceiveMessage" and "AttributeNames" in params:
        # The query API predates MessageSystemAttributeNames: with AttributeNames given, it
        # answers those alone (AWS-recorded).
        params.pop("MessageSystemAttributeNames", None)
    validate_input(service_name, operation, params)
    return params


def _read(
    dialect: QueryDialect, shape: Shape, key: str, form: dict[str, str], prefixes: set[str]
) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return _read_structure(dialect, shape, key, form, prefixes)
    if kind == "list":
        if form.get(key) == "" and f"{key}.1" not in prefixes:
            return []
        if dialect.is_flattened(shape):
            item = dialect.list_item_name(shape, "")
            base = key if not item else ".".join([*key.split(".")[:-1], item])
        else:
            base = f"{key}.{dialect.list_item_name(shape, 'member')}"
        items = []
        index = 1
        while f"{base}.{index}" in prefixes:
            value = _read(dialect, shape.member, f"{base}.{index}", form, prefixes)
            if value is not _MISSING:
                items.append(value)
            index += 1
        return items if items else _MISSING
    if kind == "map":
        key_name, value_name = dialect.map_entry_names(shape)
        base = key if dialect.is_flattened(shape) else f"{key}.entry"
        result = {}
        index = 1
        while f"{base}.{index}" in prefixes:
            entry_key = form.get(f"{base}.{index}.{key_name}")
            entry_value = _read(
                dialect, shape.value, f"{base}.{index}.{value_name}", form, prefixes
            )
            if entry_key is not None and entry_value is not _MISSING:
                result[entry_key] = entry_value
            index += 1
        return result if result else _MISSING
    raw = form.get(key)
    if raw is None:
        return _MISSING
    return _scalar(shape, key, raw)


def _read_structure(
    dialect: QueryDialect, shape: Shape, key: str, form: dict[str, str], prefixes: set[str]
) -> Any:
    result: dict[str, Any] = {}
    for name, member in shape.members.items():
        query_name = dialect.member_name(shape, name)
        member_key = f"{key}.{query_name}" if key else query_name
        value = _read(dialect, member, member_key, form, prefixes)
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


def success(
    operation: str, result: dict[str, Any], request_id: str, dialect: QueryDialect = SQS
) -> WireResponse:
    """``<OpResponse><OpResult>...</OpResult><ResponseMetadata/></OpResponse>``."""
    status = result.pop("_status", 200)
    out: list[str] = [f'<?xml version="1.0"?><{operation}Response xmlns="{dialect.namespace}">']
    shape = operation_model(dialect.service_name, operation).output_shape
    # An empty result still gets its wrapper element when the model names one:
    # botocore's parser looks it up (ExecuteChangeSet answers <ExecuteChangeSetResult/>).
    if shape is not None and (shape.members or "resultWrapper" in shape.serialization):
        wrapper = shape.serialization.get("resultWrapper", f"{operation}Result")
        out.append(f"<{wrapper}>")
        _write_members(dialect, shape, result, out)
        out.append(f"</{wrapper}>")
    out.append(
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        f"</{operation}Response>"
    )
    headers = [("x-amzn-RequestId", request_id)]
    return WireResponse(status, "".join(out).encode("utf-8"), "text/xml", headers)


#: SQS's query API words some errors its own way (AWS-recorded).
_SQS_QUERY_MESSAGES = {
    "QueueDoesNotExist": "The specified queue does not exist for this wsdl version.",
}


def failure(error: AwsError, request_id: str, dialect: QueryDialect = SQS) -> WireResponse:
    if dialect is SQS and error.code in _SQS_QUERY_MESSAGES:
        error = AwsError(
            error.code,
            _SQS_QUERY_MESSAGES[error.code],
            status=error.status,
            sender_fault=error.sender_fault,
            query_code=error.query_code,
            headers=error.headers,
        )
    return query_error(error, request_id=request_id, namespace=dialect.namespace)


def _write_members(
    dialect: QueryDialect, shape: Shape, value: dict[str, Any], out: list[str]
) -> None:
    for name, member in shape.members.items():
        item = value.get(name)
        if item is None:
            continue
        _write_member(dialect, member, dialect.member_name(shape, name), item, out)


def _write_member(
    dialect: QueryDialect, shape: Shape, name: str, value: Any, out: list[str]
) -> None:
    kind = shape.type_name
    if kind == "list":
        if dialect.is_flattened(shape):
            item_name = dialect.list_item_name(shape, name)
            for item in value:
                _write_value(dialect, shape.member, item_name, item, out)
        else:
            item_name = dialect.list_item_name(shape, "member")
            out.append(f"<{name}>")
            for item in value:
                _write_value(dialect, shape.member, item_name, item, out)
            out.append(f"</{name}>")
        return
    if kind == "map":
        key_name, value_name = dialect.map_entry_names(shape)
        flattened = dialect.is_flattened(shape)
        if not flattened:
            out.append(f"<{name}>")
        for key, item in value.items():
            out.append(
                f"<{name if flattened else 'entry'}><{key_name}>{xml_escape(str(key))}</{key_name}>"
            )
            _write_value(dialect, shape.value, value_name, item, out)
            out.append(f"</{name if flattened else 'entry'}>")
        if not flattened:
            out.append(f"</{name}>")
        return
    _write_value(dialect, shape, name, value, out)


def _write_value(
    dialect: QueryDialect, shape: Shape, name: str, value: Any, out: list[str]
) -> None:
    kind = shape.type_name
    if kind == "structure":
        out.append(f"<{name}>")
        _write_members(dialect, shape, value, out)
        out.append(f"</{name}>")
    elif kind in ("list", "map"):
        _write_member(dialect, shape, name, value, out)
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
            return assume_utc(value).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        return xml_escape(str(value))
    # \r would be normalised to \n by XML parsers; AWS sends it as a character reference.
    return xml_escape(str(value), _ENTITIES)


_ENTITIES = {"\r": "&#xD;"}
