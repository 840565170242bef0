"""``application/vnd.amazon.eventstream``: the binary framing of AWS event streams.

Lambda's InvokeWithResponseStream answers with one of these (botocore's
``EventStreamBuffer`` reads it). Each message is

    total length (u32) | headers length (u32) | CRC32 of those 8 bytes
    headers | payload | CRC32 of everything before it

and a header is ``name length (u8) | name | type (u8) | value``; headers here are strings
(type 7: ``u16`` length and UTF-8 text): ``:message-type`` (``event``), ``:event-type``
(the member of the stream's union) and ``:content-type``. An event whose shape has an
``eventpayload`` blob member sends that blob as the payload; any other event sends its
members as a JSON object.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

from botocore.model import Shape

from headwater.api.shapes import dump_json
from headwater.core.values import as_bytes

CONTENT_TYPE = "application/vnd.amazon.eventstream"
_STRING = 7
_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        bytes([len(raw_name)])
        + raw_name
        + bytes([_STRING])
        + struct.pack(">H", len(raw_value))
        + raw_value
    )


def message(headers: dict[str, str], payload: bytes) -> bytes:
    """One framed message."""
    head = b"".join(_header(name, value) for name, value in headers.items())
    prelude = _PRELUDE.pack(len(head) + len(payload) + 16, len(head))
    prelude += _CRC.pack(zlib.crc32(prelude))
    body = prelude + head + payload
    return body + _CRC.pack(zlib.crc32(body))


def event(stream: Shape, event_type: str, members: dict[str, Any]) -> bytes:
    """The message of one event of ``stream`` (an ``eventstream`` union shape)."""
    shape = stream.members[event_type]
    for name, member in shape.members.items():
        if member.serialization.get("eventpayload"):
            value = members.get(name)
            payload = b"" if value is None else as_bytes(value)
            content_type = "application/octet-stream"
            break
    else:
        payload = dump_json({k: v for k, v in members.items() if v is not None})
        content_type = "application/json"
    return message(
        {":event-type": event_type, ":content-type": content_type, ":message-type": "event"},
        payload,
    )


def encode(stream: Shape, events: list[dict[str, dict[str, Any]]]) -> bytes:
    """Events given as boto3 reads them (``[{"PayloadChunk": {"Payload": b"..."}}, ...]``)."""
    return b"".join(
        event(stream, event_type, members)
        for item in events
        for event_type, members in item.items()
    )
