"""Request validation with SQS's limits and error texts; message attribute encoding."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from headwater.core.values import as_bytes, utf8_length
from headwater.services.sqs.errors import (
    invalid_parameter,
    invalid_value,
    missing_parameter,
    receipt_handle_invalid,
    sqs_error,
)

_QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
_INVALID_BODY_CHARS = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_FIFO_ID = re.compile(r"[!-~]{1,128}")
MAX_MESSAGE_ATTRIBUTES = 10
MAX_BATCH_ENTRIES = 10
MAX_BATCH_BYTES = 1_048_576
INVALID_TEXT = (
    "Valid unicode characters are #x9 | #xA | #xD | #x20 to "
    "#xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"
)
INVALID_CHARACTERS = f"Invalid characters found. {INVALID_TEXT}"


def has_invalid_characters(text: str) -> bool:
    """Whether ``text`` holds a character SQS refuses (control characters, lone surrogates
    from bytes that were not UTF-8): the characters XML 1.0 cannot carry."""
    return _INVALID_BODY_CHARS.search(text) is not None


def check_queue_name(name: str, fifo_attribute: bool) -> None:
    """CreateQueue's name rules (``.fifo`` counts toward the 80 characters)."""
    if fifo_attribute:
        if not name.endswith(".fifo") or not _QUEUE_NAME.fullmatch(name[:-5] + "_fifo"):
            raise invalid_parameter(
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, "
                "or underscores, must end with .fifo suffix and be 1 to 80 in length."
            )
        return
    if not _QUEUE_NAME.fullmatch(name):
        raise invalid_parameter(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
        )


def check_body(body: str) -> None:
    if body == "":
        raise missing_parameter("MessageBody")
    if has_invalid_characters(body):
        raise sqs_error("InvalidMessageContents", INVALID_CHARACTERS)


def check_integer(value: Any, parameter: str, low: int, high: int, reason: str) -> int | None:
    """An optional integer parameter within [low, high]."""
    if value is None:
        return None
    number = int(value)
    if not low <= number <= high:
        raise invalid_value(number, parameter, reason)
    return number


def check_fifo_id(value: str | None, parameter: str) -> None:
    if value is not None and not _FIFO_ID.fullmatch(value):
        raise invalid_value(
            value,
            parameter,
            f"{parameter} can only include alphanumeric and punctuation characters. "
            "1 to 128 in length.",
        )


def check_batch(entries: Sequence[Mapping[str, Any]], entry_shape: str) -> None:
    """The batch rules shared by the three batch operations (before any entry runs)."""
    if not entries:
        raise sqs_error(
            "EmptyBatchRequest", f"There should be at least one {entry_shape} in the request."
        )
    if len(entries) > MAX_BATCH_ENTRIES:
        raise sqs_error(
            "TooManyEntriesInBatchRequest",
            f"Maximum number of entries per request are {MAX_BATCH_ENTRIES}. "
            f"You have sent {len(entries)}.",
        )
    seen: set[str] = set()
    for entry in entries:
        entry_id = entry["Id"]
        if not _BATCH_ID.fullmatch(entry_id):
            raise sqs_error(
                "InvalidBatchEntryId",
                "A batch entry id can only contain alphanumeric characters, hyphens and "
                "underscores. It can be at most 80 letters long.",
            )
        if entry_id in seen:
            raise sqs_error("BatchEntryIdsNotDistinct", f"Id {entry_id} repeated.")
        seen.add(entry_id)


# -- message attributes -------------------------------------------------------------------


def check_message_attributes(
    attributes: Mapping[str, Mapping[str, Any]] | None,
) -> int:
    """Validate user message attributes; returns their size in bytes (counts toward limit)."""
    if not attributes:
        return 0
    if len(attributes) > MAX_MESSAGE_ATTRIBUTES:
        raise invalid_parameter(
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum "
            f"[{MAX_MESSAGE_ATTRIBUTES}]."
        )
    size = 0
    for name, attribute in attributes.items():
        if not name:
            raise invalid_parameter("The request must contain non-empty message attribute name.")
        name_bytes = utf8_length(name)
        if name_bytes > 256:
            raise invalid_parameter("Message (user) attribute names must be shorter than 256 Bytes")
        if not _ATTRIBUTE_NAME.fullmatch(name):
            raise invalid_parameter(
                "Message (user) attributes name can only contain upper and lower score "
                "characters, digits, periods, hyphens and underscores. "
            )
        lowered = name.lower()
        if (
            lowered.startswith(("aws.", "amazon."))
            or name.startswith(".")
            or name.endswith(".")
            or ".." in name
        ):
            raise invalid_parameter(
                "You can't use message attribute names beginning with 'AWS.' or 'Amazon.'. "
                "These strings are reserved for internal use. Additionally, they cannot start "
                "or end with '.'."
            )
        data_type = attribute.get("DataType") or ""
        base_type = data_type.split(".", 1)[0]
        if base_type not in ("String", "Number", "Binary"):
            raise invalid_parameter(
                "Type for parameter MessageAttributes.Attribute_name.DataType must be prefixed"
                f'with "String", "Binary", or "Number", but was: {data_type}'
            )
        type_bytes = utf8_length(data_type)
        if type_bytes > 256:
            raise invalid_parameter("Message (user) attribute types must be shorter than 256 Bytes")
        if has_invalid_characters(data_type):
            raise invalid_parameter(INVALID_CHARACTERS)
        size += name_bytes + type_bytes
        if attribute.get("StringListValues") or attribute.get("BinaryListValues"):
            raise invalid_parameter(
                f"Message (user) attribute '{name}' uses list values, which are not supported."
            )
        if base_type == "Binary":
            raw = attribute.get("BinaryValue")
            value = b"" if raw is None else as_bytes(raw)
            if not value:
                raise invalid_parameter(
                    f"Message (user) attribute '{name}' must contain a non-empty value of type "
                    "'Binary'."
                )
            if attribute.get("StringValue") is not None:
                raise invalid_parameter(
                    f"Message (user) attribute '{name}' with type 'Binary' must only contain a "
                    "binary value."
                )
            size += len(value)
            continue
        text = attribute.get("StringValue")
        if not text:
            raise invalid_parameter(
                f"Message (user) attribute '{name}' must contain a non-empty value of type "
                f"'{base_type}'."
            )
        if attribute.get("BinaryValue") is not None:
            raise invalid_parameter(
                f"Message (user) attribute '{name}' with type '{base_type}' must only contain "
                "a string value."
            )
        if has_invalid_characters(text):
            raise invalid_parameter(INVALID_CHARACTERS)
        if base_type == "Number":
            try:
                float(text)
            except ValueError:
                raise invalid_parameter(
                    f"Can't cast the value of message (user) attribute '{name}' to a number."
                ) from None
        size += len(text.encode("utf-8"))
    return size


def normalized_attributes(
    attributes: Mapping[str, Mapping[str, Any]],
) -> dict[str, dict[str, Any]]:
    """Validated attributes in boto3 response shape (blobs as bytes)."""
    result: dict[str, dict[str, Any]] = {}
    for name, attribute in attributes.items():
        data_type = attribute["DataType"]
        if data_type.startswith("Binary"):
            result[name] = {
                "DataType": data_type,
                "BinaryValue": as_bytes(attribute["BinaryValue"]),
            }
        else:
            result[name] = {"DataType": data_type, "StringValue": attribute["StringValue"]}
    return result


def encode_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> str:
    """Compact JSON for storage: ``{name: [DataType, "S"|"B", value]}`` (binary base64)."""
    packed: dict[str, list[str]] = {}
    for name, attribute in attributes.items():
        if "BinaryValue" in attribute:
            binary = base64.b64encode(attribute["BinaryValue"]).decode("ascii")
            packed[name] = [attribute["DataType"], "B", binary]
        else:
            packed[name] = [attribute["DataType"], "S", attribute["StringValue"]]
    return json.dumps(packed, separators=(",", ":"), ensure_ascii=False)


def decode_attributes(encoded: str) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for name, (data_type, kind, value) in json.loads(encoded).items():
        if kind == "B":
            result[name] = {"DataType": data_type, "BinaryValue": base64.b64decode(value)}
        else:
            result[name] = {"DataType": data_type, "StringValue": value}
    return result


def select_attributes(
    attributes: dict[str, dict[str, Any]], names: Sequence[str] | None
) -> dict[str, dict[str, Any]]:
    """MessageAttributeNames selection: ``All``, ``.*``, ``*``, exact names and ``prefix.*``."""
    if not names:
        return {}
    if "All" in names or ".*" in names or "*" in names:
        return attributes
    chosen: dict[str, dict[str, Any]] = {}
    # "Hel.*" selects "Hello" and "Help.Me" (AWS-recorded): the prefix stops before ".*"
    prefixes = tuple(n[:-2] for n in names if n.endswith(".*"))
    exact = set(names)
    for name, value in attributes.items():
        if name in exact or (prefixes and name.startswith(prefixes)):
            chosen[name] = value
    return chosen


# -- receipt handles ----------------------------------------------------------------------

_HANDLE_PREFIX = "AQEB"


def encode_receipt_handle(queue_id: int, row_id: int, generation: int, message_id: str) -> str:
    """An opaque handle naming one receive of one message (new on every receive)."""
    raw = f"{queue_id}|{row_id}|{generation}|{message_id}".encode("ascii")
    return _HANDLE_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii")


def decode_receipt_handle(handle: str) -> tuple[int, int, int, str]:
    """(queue id, row id, generation, message id); raises ReceiptHandleIsInvalid."""
    try:
        if not handle.startswith(_HANDLE_PREFIX):
            raise ValueError(handle)
        raw = base64.urlsafe_b64decode(handle[len(_HANDLE_PREFIX) :].encode("ascii"))
        queue_id, row_id, generation, message_id = raw.decode("ascii").split("|")
        return int(queue_id), int(row_id), int(generation), message_id
    except (ValueError, UnicodeError):
        raise receipt_handle_invalid(handle) from None
