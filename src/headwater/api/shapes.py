"""Model-driven input handling shared by the JSON protocols.

On the wire, blobs are base64 and timestamps epoch seconds; services expect boto3-shaped
params (``bytes``, ``datetime``). ``input_converter`` compiles, per shape, a function that
touches only the members that need converting (``None`` when nothing does), so the hot
data-plane calls pay nothing for the walk. ``validate_input`` runs botocore's own
validator so missing or mistyped members get AWS-shaped 400s instead of a service crash.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

import orjson
from botocore.model import Shape
from botocore.validate import ParamValidator

from headwater.api.errors import MAX_NESTING, serialization_error, too_deeply_nested
from headwater.core.errors import AwsError, constraint_finding, validation_errors
from headwater.core.values import JAVA_INT, JAVA_LONG, as_datetime, assume_utc
from headwater.models import operation_model, service_model

Converter = Callable[[Any], Any]


class _JsonValidator(ParamValidator):  # type: ignore[misc]  # botocore is untyped
    """botocore's validator, except that a JSON boolean is not a number. Python's ``bool``
    is an ``int``, so botocore takes ``true`` for an Integer, Long or Double member (a
    Limit of 1); AWS's deserialisers refuse it as a wrong type, like a string there."""

    def _validate_integer(self, param: Any, shape: Shape, errors: Any, name: str) -> None:
        if type(param) is bool:
            errors.report(name, "invalid type", param=param, valid_types=[str(int)])
        else:
            super()._validate_integer(param, shape, errors, name)

    # botocore checks a Long exactly as an Integer (an int within the shape's range)
    _validate_long = _validate_integer

    def _validate_double(self, param: Any, shape: Shape, errors: Any, name: str) -> None:
        if type(param) is bool:
            errors.report(name, "invalid type", param=param, valid_types=[str(float)])
        else:
            super()._validate_double(param, shape, errors, name)

    _validate_float = _validate_double


_validator = _JsonValidator()


def _decode_blob(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise serialization_error(f"Base64 encoded value expected, got '{value[:64]}'") from None


_BASE64_DIGITS = {
    digit: index
    for index, digit in enumerate(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    )
}
_NOT_CANONICAL_BASE64 = "Invalid last non-pad Base64 character dectected"  # sic, AWS's


def _decode_dynamodb_blob(value: Any) -> Any:
    """A DynamoDB blob's base64, refused in its reader's words (dynalite's AWS-checked
    texts): the length first, then any text that is not canonical base64, the bits a
    padded last digit leaves over included ("+/+=", which Python's decoder takes)."""
    if not isinstance(value, str):
        return value
    if len(value) % 4:
        raise serialization_error(
            f"Base64 encoded length is expected a multiple of 4 bytes but found: {len(value)}"
        )
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise serialization_error(_NOT_CANONICAL_BASE64) from None
    if value.endswith("=="):
        left_over = _BASE64_DIGITS[value[-3]] & 0b1111
    elif value.endswith("="):
        left_over = _BASE64_DIGITS[value[-2]] & 0b11
    else:
        left_over = 0
    if left_over:
        raise serialization_error(_NOT_CANONICAL_BASE64)
    return decoded


def _to_datetime(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return as_datetime(float(value))
    if isinstance(value, str):
        try:
            return as_datetime(float(value))
        except ValueError:
            try:
                return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise serialization_error(f"Invalid timestamp '{value}'") from None
    return value


def _pending(value: Any) -> Any:
    return value


_PENDING: Converter = _pending


def compile_converter(shape: Shape, decode_blob: Converter = _decode_blob) -> Converter | None:
    """A function converting wire values of ``shape`` in place, or None if none need it;
    blobs are decoded with ``decode_blob``."""
    return _compile(shape, {}, decode_blob)


def _compile(
    shape: Shape, memo: dict[str, Converter | None], decode_blob: Converter
) -> Converter | None:
    kind = shape.type_name
    if kind == "blob":
        return decode_blob
    if kind == "timestamp":
        return _to_datetime
    if kind not in ("structure", "list", "map"):
        return None
    name = shape.name
    if name in memo:
        found = memo[name]
        if found is not _PENDING:
            return found

        # A recursive shape still being compiled: look its converter up at call time.
        def convert_later(value: Any) -> Any:
            late = memo[name]
            return value if late is None or late is _PENDING else late(value)

        return convert_later
    memo[name] = _PENDING
    result: Converter | None = None
    if kind == "structure":
        members = [
            (name, conv)
            for name, member in shape.members.items()
            if (conv := _compile(member, memo, decode_blob)) is not None
        ]
        if members:

            def convert_structure(value: Any) -> Any:
                if isinstance(value, dict):
                    for name, conv in members:
                        item = value.get(name)
                        if item is not None:
                            value[name] = conv(item)
                return value

            result = convert_structure
    elif kind == "list":
        item_conv = _compile(shape.member, memo, decode_blob)
        if item_conv is not None:
            conv_item = item_conv

            def convert_list(value: Any) -> Any:
                if isinstance(value, list):
                    return [conv_item(v) if v is not None else v for v in value]
                return value

            result = convert_list
    else:
        value_conv = _compile(shape.value, memo, decode_blob)
        if value_conv is not None:
            conv_value = value_conv

            def convert_map(value: Any) -> Any:
                if isinstance(value, dict):
                    return {k: conv_value(v) if v is not None else v for k, v in value.items()}
                return value

            result = convert_map
    memo[name] = result
    return result


@cache
def input_converter(service_name: str, operation_name: str) -> Converter | None:
    shape = operation_model(service_name, operation_name).input_shape
    if shape is None:
        return None
    return compile_converter(
        shape, _decode_dynamodb_blob if service_name == "dynamodb" else _decode_blob
    )


def _converted_member_names(shape: Shape, names: set[str], seen: set[str]) -> None:
    """Add to ``names`` the structure members under which a blob or timestamp can sit
    (directly, or inside lists and maps of them)."""
    if shape.name in seen:
        return
    seen.add(shape.name)
    if shape.type_name != "structure":
        return
    for name, member in shape.members.items():
        leaf = member
        while leaf.type_name in ("list", "map"):
            leaf = leaf.member if leaf.type_name == "list" else leaf.value
        if leaf.type_name in ("blob", "timestamp"):
            names.add(name)
        _walk_for_structures(member, names, seen)


def _walk_for_structures(shape: Shape, names: set[str], seen: set[str]) -> None:
    if shape.type_name == "structure":
        _converted_member_names(shape, names, seen)
    elif shape.type_name == "list":
        _walk_for_structures(shape.member, names, seen)
    elif shape.type_name == "map":
        _walk_for_structures(shape.value, names, seen)


@cache
def _conversion_markers(service_name: str, operation_name: str) -> tuple[bytes, ...]:
    shape = operation_model(service_name, operation_name).input_shape
    names: set[str] = set()
    if shape is not None:
        _converted_member_names(shape, names, set())
    return tuple(orjson.dumps(name) for name in sorted(names))


@dataclass(frozen=True, slots=True)
class JsonInput:
    """What reading an operation's JSON input needs, found with one look-up per request
    rather than one per step: ``input_converter``, ``_conversion_markers`` and, when the
    operation has an input shape, ``input_checker`` (else ``None``)."""

    converter: Converter | None
    markers: tuple[bytes, ...]
    checker: Checker | None


@cache
def json_input(service_name: str, operation_name: str) -> JsonInput:
    shape = operation_model(service_name, operation_name).input_shape
    return JsonInput(
        input_converter(service_name, operation_name),
        _conversion_markers(service_name, operation_name),
        None if shape is None else input_checker(service_name, operation_name),
    )


def read_json_input(service_name: str, operation_name: str, body: bytes) -> dict[str, Any]:
    """The params of a JSON request body, converted (blobs, timestamps) and validated as
    ``validate_input`` validates them; raises AwsError for bad input."""
    found = json_input(service_name, operation_name)
    params = load_json_object(body)
    convert = found.converter
    if convert is not None and _may_need_conversion(found.markers, body):
        params = convert(params)
    checker = found.checker
    if checker is None or not checker(params):
        validate_input(service_name, operation_name, params)
    return params


def _may_need_conversion(markers: tuple[bytes, ...], body: bytes) -> bool:
    """Whether a JSON request body may hold a blob or timestamp to convert.

    Every such value sits under a member whose name the body then holds as a JSON key
    (``"B"``, ``"BS"`` for DynamoDB; ``markers``): a body without any of them, and without
    ``\\u`` escapes (which could spell a key differently), has nothing to convert, so the
    walk over every attribute value of a DynamoDB item is skipped.
    """
    # bytes.find, not ``in``: ``marker in body`` first tries the marker as an int, and
    # raises and clears a TypeError for every test (about 2k instructions each).
    if body.find(b"\\u") != -1:
        return True
    for marker in markers:  # noqa: SIM110 (a generator costs more than the loop, per call)
        if body.find(marker) != -1:
            return True
    return False


Checker = Callable[[Any], bool]


def _accept(value: Any) -> bool:
    return True


def _compile_checker(
    shape: Shape, memo: dict[str, Checker], *, fast_attribute_values: bool = True
) -> Checker:
    """A fast yes/no: would botocore's validator find nothing to report? ``False`` sends
    the request down the full botocore validation for the exact error (the in-process
    client raises it as ``ParamValidationError``, the wire layer leaves min-length and
    min-value findings to the services, which know AWS's messages)."""
    kind = shape.type_name
    name = shape.name
    low = shape.metadata.get("min")
    if name in memo:
        return memo[name]

    def check_later(value: Any) -> bool:
        return memo[name](value)

    memo[name] = check_later  # recursive shapes resolve through memo at call time
    checker: Checker
    if fast_attribute_values and name == "AttributeValue" and _is_plain_attribute_value(shape):
        checker = _attribute_value
    elif kind == "structure":
        if shape.metadata.get("union") or shape.metadata.get("document"):

            def checker(value: Any) -> bool:
                return False

        else:
            members = {
                m: _compile_checker(s, memo, fast_attribute_values=fast_attribute_values)
                for m, s in shape.members.items()
            }
            required = frozenset(shape.required_members)

            def checker(value: Any) -> bool:
                if type(value) is not dict or not required.issubset(value.keys()):
                    return False
                for key, item in value.items():
                    check = members.get(key)
                    if check is None or not check(item):
                        return False
                return True

    elif kind == "list":
        item_check = _compile_checker(
            shape.member, memo, fast_attribute_values=fast_attribute_values
        )

        min_items = low or 0

        def checker(value: Any) -> bool:
            return (
                isinstance(value, list | tuple)
                and len(value) >= min_items
                and all(item_check(v) for v in value)
            )

    elif kind == "map":
        value_check = _compile_checker(
            shape.value, memo, fast_attribute_values=fast_attribute_values
        )

        def checker(value: Any) -> bool:
            # A loop, not all() over a generator: a DynamoDB item is such a map, checked
            # on every put, and resuming a generator per attribute cost more than the check.
            if type(value) is not dict:
                return False
            for key, member in value.items():
                if type(key) is not str or not value_check(member):
                    return False
            return True

    elif kind == "string":
        min_length = low or 0

        def checker(value: Any) -> bool:
            return type(value) is str and len(value) >= min_length

    elif kind in ("integer", "long"):
        minimum = low if low is not None else JAVA_LONG[0]
        # Past its Java type's range goes the slow way, where a strict reader refuses it.
        maximum = JAVA_INT[-1] if kind == "integer" else JAVA_LONG[-1]

        def checker(value: Any) -> bool:
            return type(value) is int and minimum <= value <= maximum

    elif kind == "boolean":

        def checker(value: Any) -> bool:
            return type(value) is bool

    elif kind in ("float", "double"):
        floor = low if low is not None else float("-inf")

        def checker(value: Any) -> bool:
            return type(value) in (float, int, Decimal) and value >= floor

    elif kind == "blob":
        min_bytes = low or 0

        def checker(value: Any) -> bool:
            # Not text: every protocol decodes its blobs to bytes before this check, and
            # text given in process goes the slow way, where the client encodes it as
            # boto3 does (UTF-8) before the service sees it.
            return type(value) in _BLOB_TYPES and len(value) >= min_bytes

    elif kind == "timestamp":

        def checker(value: Any) -> bool:
            return isinstance(value, dt.datetime)

    else:
        checker = _accept
    memo[name] = checker
    return checker


_BLOB_TYPES = (bytes, bytearray)
_ATTRIBUTE_VALUE_MEMBERS = {
    "S": "string", "N": "string", "B": "blob", "SS": "list", "NS": "list", "BS": "list",
    "M": "map", "L": "list", "NULL": "boolean", "BOOL": "boolean",
}  # fmt: skip


def _is_plain_attribute_value(shape: Shape) -> bool:
    """DynamoDB's AttributeValue as the model has it today (no length limits, no union)."""
    members = getattr(shape, "members", {})
    return (
        shape.type_name == "structure"
        and not shape.metadata
        and {m: s.type_name for m, s in members.items()} == _ATTRIBUTE_VALUE_MEMBERS
        and not any(s.metadata for s in members.values())
    )


def _attribute_value(value: Any) -> bool:
    """The compiled structure checker of DynamoDB's AttributeValue, written out by hand:
    items are made of these, and one inline pass is several times cheaper than a call per
    member (the embedded PutItem's validation was a sixth of its time)."""
    if type(value) is not dict:
        return False
    for kind, inner in value.items():
        if kind in ("S", "N"):
            if type(inner) is not str:
                return False
        elif kind == "M":
            if type(inner) is not dict:
                return False
            for key, member in inner.items():
                if type(key) is not str or not _attribute_value(member):
                    return False
        elif kind == "L":
            if not isinstance(inner, list | tuple):
                return False
            for member in inner:
                if not _attribute_value(member):
                    return False
        elif kind in ("SS", "NS"):
            if not isinstance(inner, list | tuple):
                return False
            for member in inner:
                if type(member) is not str:
                    return False
        elif kind == "B":
            if type(inner) not in _BLOB_TYPES:
                return False
        elif kind == "BS":
            if not isinstance(inner, list | tuple) or any(
                type(x) not in _BLOB_TYPES for x in inner
            ):
                return False
        elif kind in ("NULL", "BOOL"):
            if type(inner) is not bool:
                return False
        else:
            return False
    return True


@cache
def input_checker(service_name: str, operation_name: str) -> Checker:
    shape = operation_model(service_name, operation_name).input_shape
    return _accept if shape is None else _compile_checker(shape, {})


_PATH_PART = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]", re.ASCII)


def _member_path(name: str) -> str:
    return name.lstrip(".") or "input"


def _strip_unknown(params: dict[str, Any], path: str, unknown: str) -> None:
    target: Any = params
    for match in _PATH_PART.finditer(path):
        key, index = match.groups()
        try:
            target = target[key] if key is not None else target[int(index)]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(target, dict):
        target.pop(unknown, None)


def validate_input(service_name: str, operation_name: str, params: dict[str, Any]) -> None:
    """Check ``params`` with botocore's validator; unknown members are dropped (AWS ignores
    them), missing required members and wrong types raise AWS-shaped errors.

    Length/range/pattern constraints are left to the services, which know AWS's messages.
    """
    shape = operation_model(service_name, operation_name).input_shape
    if shape is None:
        params.clear()
        return
    if input_checker(service_name, operation_name)(params):
        return
    strict = STRICTLY_READ.get((service_name, operation_name))
    if strict is not None:
        _check_strictly_read(params, strict)
    _drop_nulls(params)  # JSON null means "not given", as AWS reads it
    if service_name == "dynamodb" and strict is None:
        _read_as_dynamodb(params, shape, element=False)
    report = _validator.validate(params, shape)
    if not report.has_errors():
        return
    for kind, name, info in report._errors:
        if kind == "unknown field":
            _strip_unknown(params, name, info["unknown_param"])
    missing: list[tuple[str, str]] = []
    for kind, name, info in report._errors:
        if kind == "missing required field":
            missing.append((_aws_member_path(shape, name), info["required_name"]))
        if _null_set_member(service_name, name, info):
            continue  # DynamoDB's own value check names it
        if kind in ("invalid type", "invalid type for document"):
            # AWS reads the body before it validates it: a wrong type wins
            value = info.get("param")
            raise serialization_error(
                f"Unexpected value type for {_member_path(name)}: {type(value).__name__}"
            )
    if missing:
        joined = _findings_joined_with_missing(service_name, operation_name, params)
        if joined:
            raise validation_errors(
                [*joined, *(_missing_finding(path, member) for path, member in missing)][
                    :MAX_REPORTED_VIOLATIONS
                ]
            )
        if (service_name, operation_name) in PRESENCE_CHECKED:
            for path, member in missing:
                if not path:
                    raise AwsError(
                        "ValidationException",
                        f"The parameter '{member}' is required but was not present in the request",
                    )
        raise missing_parameters(service_name, missing)


#: The integers a JSON request body carries as integers (orjson reads a signed or an
#: unsigned 64-bit one); a number past them it reads as a float, which an Integer or Long
#: member refuses in ``validate_input``.
JSON_INTEGERS = range(-(2**63), 2**64)
#: Protocols whose members reach the server as text (a query string, a header, XML),
#: which it reads as an integer of any size: the service's own range checks answer.
_TEXT_PROTOCOLS = ("query", "ec2", "rest-xml")


def refuse_integers_past_json(service_name: str, operation_name: str, params: Any) -> None:
    """Raise what the server answers for an Integer or Long member in a request body past
    64 bits (``JSON_INTEGERS``): the body reader makes it a float, a SerializationException
    ("Unexpected value type for Limit: float") that no service sees. In-process clients
    call this, as botocore's validator takes a Python ``int`` of any size. DynamoDB's
    reader floors such a float into an integer (``_read_as_dynamodb``), so its services
    get the number; so are members a REST API sends in its path, query or headers."""
    model = operation_model(service_name, operation_name)
    shape = model.input_shape
    protocol = model.metadata["protocol"]
    if shape is None or protocol in _TEXT_PROTOCOLS or service_name == "dynamodb":
        return
    in_body = protocol != "rest-json"
    for name, value in params.items():
        member = shape.members.get(name)
        if member is None or not (in_body or "location" not in member.serialization):
            continue
        path = _integer_past_json(value, member, name)
        if path is not None:
            raise serialization_error(f"Unexpected value type for {path}: float")


def _integer_past_json(value: Any, shape: Shape, path: str) -> str | None:
    """The path (botocore's, as ``validate_input`` names it) of the first Integer or Long
    in ``value`` outside ``JSON_INTEGERS``, in the order the params give them."""
    kind = shape.type_name
    if kind in ("integer", "long"):
        return path if type(value) is int and value not in JSON_INTEGERS else None
    found: str | None = None
    if kind == "structure" and isinstance(value, dict):
        for key, item in value.items():
            member = shape.members.get(key)
            if member is not None and found is None:
                found = _integer_past_json(item, member, f"{path}.{key}")
    elif kind == "list" and isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if found is None:
                found = _integer_past_json(item, shape.member, f"{path}[{index}]")
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            if found is None:
                found = _integer_past_json(item, shape.value, f"{path}.{key}")
    return found


#: Operations AWS reads with a strict deserialiser before it validates any member (a
#: conformance suite's captures of SearchVectors, eu-west-2 and us-east-1, 2026-10-09):
#: their required members in the deserialiser's order, with what it expects of each.
STRICTLY_READ: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("dynamodb", "SearchVectors"): (
        ("TableName", "a string"),
        ("IndexName", "a string"),
        ("SearchVector", "a sequence"),
        ("TopK", "i32"),
    ),
}


def _check_strictly_read(params: dict[str, Any], members: tuple[tuple[str, str], ...]) -> None:
    """The deserialiser's own errors: a required member of the wrong JSON type, an explicit
    null included (in the body's order), is a SerializationException, then a missing one a
    ValidationException naming the field, both at a line and column of the body (here, of
    the body as JSON without spaces, which boto3 sends)."""
    expected = dict(members)
    text = orjson.dumps(params, default=_json_default).decode()
    for name, value in params.items():
        wanted = expected.get(name)
        if wanted is None:
            continue
        finding = _strict_type_finding(value, wanted)
        if finding is not None:
            member = f'"{name}":'
            start = text.find(member) + len(member)
            # The reader stops after a scalar it cannot take, and on the bracket of a
            # sequence or map.
            column = (
                start
                if isinstance(value, dict | list)
                else start + len(orjson.dumps(value, default=_json_default))
            )
            raise serialization_error(f"{finding} at line 1 column {column}")
    for name, _ in members:
        if name not in params:
            raise AwsError(
                "ValidationException", f"missing field `{name}` at line 1 column {len(text)}"
            )


def _strict_type_finding(value: Any, wanted: str) -> str | None:
    """The deserialiser's words for ``value`` where it reads ``wanted`` ("a string", "a
    sequence", "i32"; serde's texts: "invalid type: boolean `true`, expected i32"), or None
    when the value fits. A JSON boolean is no integer, though Python's ``bool`` is one."""
    if wanted == "i32" and type(value) is int:
        return None if value in JAVA_INT else f"invalid value: integer `{value}`, expected i32"
    if (wanted == "a string" and isinstance(value, str)) or (
        wanted == "a sequence" and isinstance(value, list)
    ):
        return None
    found: str
    if value is None:
        found = "null"
    elif type(value) is bool:
        found = f"boolean `{'true' if value else 'false'}`"
    elif type(value) is int:
        found = f"integer `{value}`"
    elif isinstance(value, float):
        found = f"floating point `{value!r}`"
    elif isinstance(value, str):
        found = f"string {orjson.dumps(value).decode()}"
    elif isinstance(value, list):
        found = "sequence"
    else:
        found = "map"
    return f"invalid type: {found}, expected {wanted}"


_SET_MEMBER = re.compile(r"\.(SS|NS|BS)\[\d+\]$")


def _null_set_member(service_name: str, name: str, info: dict[str, Any]) -> bool:
    """A JSON null inside a DynamoDB set: AWS answers it as an invalid attribute value
    (a ValidationException), not as a malformed request."""
    return (
        service_name == "dynamodb"
        and info.get("param", 0) is None
        and bool(_SET_MEMBER.search(name))
    )


def _aws_member_path(shape: Shape, path: str) -> str:
    """botocore's path to a member (``.KeySchema[0]``, ``.Attributes.Key``) as AWS's
    validation messages name it (``keySchema.1.member``, ``attributes.Key.member``): member
    names start lower-case, list positions count from 1, a list item or map value is its
    ``member``."""
    parts: list[str] = []
    current: Shape | None = shape
    for match in _PATH_PART.finditer(path):
        key, index = match.groups()
        if current is None:  # pragma: no cover - botocore's paths follow the shape
            parts.append(key if key is not None else str(int(index) + 1))
        elif key is not None and current.type_name == "map":
            parts += [key, "member"]
            current = current.value
        elif key is not None:
            parts.append(_lower_first(key))
            members = getattr(current, "members", {})
            current = members.get(key)
        else:
            parts += [str(int(index) + 1), "member"]
            current = getattr(current, "member", None)
    return ".".join(parts)


#: The Java types DynamoDB's JSON reader reads each scalar shape into, as its
#: SerializationExceptions name them.
_JAVA_TYPES = {
    "string": "java.lang.String", "boolean": "java.lang.Boolean",
    "integer": "java.lang.Integer", "long": "java.lang.Long",
    "double": "java.lang.Double", "float": "java.lang.Double",
    "blob": "java.nio.ByteBuffer", "timestamp": "java.util.Date",
}  # fmt: skip
_DYNAMODB_PACKAGE = "com.amazonaws.dynamodb.v20120810"
_STRUCTURE_NOT_EXPECTED = "Start of structure or map found where not expected"
#: What DynamoDB's reader answers for a scalar where a list or map is the type parameter
#: of another collection (a list of Keys, a map of WriteRequest lists): its reflection
#: fails before it sees the value.
_PARAMETERIZED_CAST = (
    "class sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl cannot be cast to "
    "class java.lang.Class (sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl "
    "and java.lang.Class are in module java.base of loader 'bootstrap')"
)
#: The strings DynamoDB's reader takes for a Boolean member (dynalite's AWS-checked
#: reader; any other string is "Unexpected token received from parser").
_BOOLEAN_WORDS = {"TRUE": True, "1": True, "YES": True, "FALSE": False, "0": False, "NO": False}


def _java_type_name(shape: Shape) -> str:
    """The Java type DynamoDB's reader reads ``shape`` into
    (``java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>``)."""
    kind = shape.type_name
    if kind == "structure":
        return f"{_DYNAMODB_PACKAGE}.{shape.name}"
    if kind == "list":
        return f"java.util.List<{_java_type_name(shape.member)}>"
    if kind == "map":
        return f"java.util.Map<java.lang.String, {_java_type_name(shape.value)}>"
    return _JAVA_TYPES.get(kind, "java.lang.Object")


def _json_token(value: Any) -> str:
    """The name DynamoDB's reader gives the JSON token of a scalar ``value``."""
    if type(value) is bool:
        return "TRUE_VALUE" if value else "FALSE_VALUE"
    if isinstance(value, str):
        return "STRING_VALUE"
    return "DECIMAL_VALUE" if isinstance(value, float) else "NUMBER_VALUE"


def _read_as_dynamodb(value: Any, shape: Shape, *, element: bool) -> Any:
    """``value`` as DynamoDB's JSON reader takes it for ``shape`` (a fraction floored for
    an Integer or Long, "true"/"yes"/"1" and their opposites for a Boolean), containers
    updated in place; the first value of the wrong JSON kind, in the body's order, raises
    the reader's SerializationException. ``element``: the value is a list item or map
    value, whose Java type is a collection's type parameter, not a field's.

    The texts are dynalite's AWS-checked ones (its checkTypes and assertType tests); the
    string-attribute ones also as moto's tests and users quote AWS. Only requests that
    failed the fast check come here, so the walk costs the success path nothing."""
    kind = shape.type_name
    if kind == "structure":
        if type(value) is dict:
            members = shape.members
            for key, item in value.items():
                member = members.get(key)
                if member is not None and item is not None:
                    read = _read_as_dynamodb(item, member, element=False)
                    if read is not item:
                        value[key] = read
            return value
        if isinstance(value, list):
            raise serialization_error(
                f"Unrecognized collection type class {_java_type_name(shape)}"
            )
        raise serialization_error(
            "Unexpected value type in payload" if element else "Unexpected field type"
        )
    if kind in ("list", "map"):
        if kind == "list" and isinstance(value, list):
            for index, item in enumerate(value):
                if item is not None:
                    read = _read_as_dynamodb(item, shape.member, element=True)
                    if read is not item:
                        value[index] = read
            return value
        if kind == "map" and type(value) is dict:
            for key, item in value.items():
                if item is not None:
                    read = _read_as_dynamodb(item, shape.value, element=True)
                    if read is not item:
                        value[key] = read
            return value
        if isinstance(value, dict):
            raise serialization_error(_STRUCTURE_NOT_EXPECTED)
        if isinstance(value, list):
            raise serialization_error(f"Unrecognized collection type {_java_type_name(shape)}")
        raise serialization_error(_PARAMETERIZED_CAST if element else "Unexpected field type")
    if kind == "timestamp":
        return value  # no oracle records the reader's words for a wrong timestamp
    if isinstance(value, dict):
        raise serialization_error(_STRUCTURE_NOT_EXPECTED)
    if isinstance(value, list):
        raise serialization_error(f"Unrecognized collection type class {_java_type_name(shape)}")
    if kind == "string":
        if isinstance(value, str):
            return value
    elif kind == "boolean":
        if type(value) is bool:
            return value
        if isinstance(value, str):
            word = _BOOLEAN_WORDS.get(value.upper())
            if word is None:
                raise serialization_error("Unexpected token received from parser")
            return word
    elif kind in ("integer", "long"):
        if type(value) is int:
            return value
        if type(value) is float and math.isfinite(value):
            return math.floor(value)
    elif kind in ("double", "float"):
        if type(value) in (int, float, Decimal):
            return value
    elif kind == "blob":
        if isinstance(value, bytes | bytearray | str):
            return value
        raise serialization_error("only base-64-encoded strings are convertible to bytes")
    else:
        return value
    java_type = _java_type_name(shape).removeprefix("java.lang.")
    raise serialization_error(f"{_json_token(value)} cannot be converted to {java_type}")


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _drop_nulls(value: Any) -> None:
    if isinstance(value, dict):
        for key in [k for k, v in value.items() if v is None]:
            del value[key]
        for item in value.values():
            _drop_nulls(item)
    elif isinstance(value, list):
        for item in value:
            _drop_nulls(item)


#: Top-level members whose own violations AWS reports together with a missing required
#: member, in the order it lists them, each with its enum in AWS's order (``None``: the
#: table name, whose only model constraint here is a length of at least 1). UpdateItem
#: without its Key (a conformance suite, eu-west-2 and us-east-1 alike): the empty name
#: and the bad enums come first, then the missing key.
JOINED_WITH_MISSING: dict[tuple[str, str], tuple[tuple[str, tuple[str, ...] | None], ...]] = {
    ("dynamodb", "UpdateItem"): (
        ("ReturnConsumedCapacity", ("INDEXES", "TOTAL", "NONE")),
        ("TableName", None),
        ("ReturnItemCollectionMetrics", ("SIZE", "NONE")),
        ("ReturnValues", ("ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW")),
        ("ConditionalOperator", ("OR", "AND")),
    )
}


def _findings_joined_with_missing(
    service_name: str, operation_name: str, params: dict[str, Any]
) -> list[str]:
    findings: list[str] = []
    for member, allowed in JOINED_WITH_MISSING.get((service_name, operation_name), ()):
        value = params.get(member)
        if not isinstance(value, str):
            continue
        if allowed is None:
            if not value:
                findings.append(
                    constraint_finding(
                        value,
                        _lower_first(member),
                        "Member must have length greater than or equal to 1",
                    )
                )
        elif value not in allowed:
            findings.append(
                constraint_finding(
                    value,
                    _lower_first(member),
                    f"Member must satisfy enum value set: [{', '.join(allowed)}]",
                )
            )
    return findings


#: Operations that check their required top-level members before validating anything
#: else, in their own words: DynamoDB's table operations (dynalite's AWS-checked tests;
#: CreateTable also in the nubo-db/Parity Suite tests run against AWS in 2026).
PRESENCE_CHECKED = frozenset(
    ("dynamodb", operation)
    for operation in (
        "CreateTable",
        "UpdateTable",
        "DeleteTable",
        "DescribeTable",
        "DescribeTimeToLive",
    )
)
#: AWS lists at most this many constraint violations in one ValidationException.
MAX_REPORTED_VIOLATIONS = 10


def missing_parameter(service_name: str, path: str, member: str) -> AwsError:
    """The error AWS returns for a missing required member."""
    return missing_parameters(service_name, [(path, member)])


def missing_parameters(service_name: str, missing: list[tuple[str, str]]) -> AwsError:
    """The error AWS returns for missing required members, as ``(path, member)`` pairs:
    all of them in one message (SQS names only the first)."""
    if service_name == "sqs":
        return AwsError(
            "MissingRequiredParameterException",
            f"The request must contain the parameter {missing[0][1]}.",
            query_code="MissingParameter",
        )
    found = [_missing_finding(path, member) for path, member in missing[:MAX_REPORTED_VIOLATIONS]]
    # awsQuery services (IAM, STS, CloudFormation, SNS...) call it ValidationError
    code = (
        "ValidationError"
        if service_model(service_name).protocol == "query"
        else "ValidationException"
    )
    count = len(found)
    return AwsError(
        code,
        f"{count} validation error{'s' if count > 1 else ''} detected: {'; '.join(found)}",
    )


def _missing_finding(path: str, member: str) -> str:
    where = f"{path}.{_lower_first(member)}" if path else _lower_first(member)
    return f"Value null at '{where}' failed to satisfy constraint: Member must not be null"


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dt.datetime):
        return assume_utc(value).timestamp()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


_DUMP_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME


def load_json_object(body: bytes) -> dict[str, Any]:
    """A JSON protocol request body: a JSON object, or ``{}`` when the body is blank."""
    if not body or body.isspace():
        return {}
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise serialization_error("Malformed JSON in request body") from None
    if not isinstance(value, dict):
        raise serialization_error("Request body must be a JSON object")
    # A body with few brackets cannot nest deeply: only bracket-heavy ones pay for the walk.
    if body.count(b"{") + body.count(b"[") > MAX_NESTING:
        check_nesting(value)
    return value


def check_nesting(value: Any) -> None:
    """Raise AWS's malformed-input error if ``value`` nests deeper than ``MAX_NESTING``;
    iterative, so the check itself cannot overflow the stack."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_NESTING:
            raise too_deeply_nested()
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def dump_json(value: Any) -> bytes:
    """JSON for the AWS JSON protocols: blobs base64, timestamps epoch seconds."""
    return orjson.dumps(value, default=_json_default, option=_DUMP_OPTIONS)
