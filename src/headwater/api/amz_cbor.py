"""The CBOR flavour of awsJson 1.1 (``application/x-amz-cbor-1.1``) that Kinesis speaks.

The AWS SDKs for Java (and the KCL) talk to Kinesis in CBOR by default: same
``X-Amz-Target`` operations, but the bodies are CBOR maps, blobs are byte strings and
timestamps are epoch *milliseconds* (tagged 1 or bare numbers). Errors are CBOR maps with
``__type`` and ``message``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import cbor2
from botocore.model import Shape

from headwater.api.errors import MAX_NESTING, serialization_error
from headwater.core.errors import AwsError
from headwater.core.values import assume_utc
from headwater.models import operation_model

CONTENT_TYPE = "application/x-amz-cbor-1.1"


def is_cbor(content_type: str) -> bool:
    return content_type.startswith("application/x-amz-cbor")


def _keep_epoch(value: Any, immutable: bool) -> Any:
    return value


def load_cbor_object(body: bytes, service_name: str, operation: str) -> dict[str, Any]:
    """A CBOR request body as JSON-protocol params (timestamps in epoch seconds)."""
    if not body:
        return {}
    try:
        value = cbor2.loads(body, semantic_decoders={1: _keep_epoch}, max_depth=MAX_NESTING)
    except Exception:  # cbor2 raises CBORDecodeError and, on odd input, others
        raise serialization_error("Malformed CBOR in request body") from None
    if not isinstance(value, dict):
        raise serialization_error("Request body must be a CBOR map")
    shape = operation_model(service_name, operation).input_shape
    if shape is not None:
        _millis_to_seconds(shape, value)
    return value


def _millis_to_seconds(shape: Shape, value: Any) -> None:
    """Timestamps in CBOR are epoch milliseconds; the JSON path expects seconds."""
    if not isinstance(value, dict) or shape.type_name != "structure":
        return
    for name, member in shape.members.items():
        item = value.get(name)
        if item is None:
            continue
        if member.type_name == "timestamp" and isinstance(item, int | float):
            value[name] = item / 1000
        elif member.type_name == "structure":
            _millis_to_seconds(member, item)
        elif member.type_name == "list" and isinstance(item, list):
            for element in item:
                _millis_to_seconds(member.member, element)


def _plain(value: Any) -> Any:
    """``value`` with datetimes as epoch milliseconds and decimals as numbers."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return int(assume_utc(value).timestamp() * 1000)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def dump_cbor(value: Any) -> bytes:
    """A response body: timestamps as epoch milliseconds, blobs as byte strings."""
    return cbor2.dumps(_plain(value))


def error_body(error: AwsError) -> bytes:
    return dump_cbor({"__type": error.code, "message": error.message})
