"""``AwsError`` as each protocol's error response, and errors for malformed requests.

awsJson: ``{"__type": "<namespace>#<Code>", "message": ...}`` (Kinesis: bare name); SQS adds
``x-amzn-query-error: <legacy code>;Sender`` so botocore reports the legacy code.
awsQuery: ``<ErrorResponse><Error><Type/><Code/><Message/>...``. restJson (Lambda):
``x-amzn-ErrorType`` header and ``{"Type": "User", "message": ...}`` body.
"""

from __future__ import annotations

import base64
import errno
import logging
import sqlite3
from typing import Any

import orjson

from headwater.api.http import WireResponse
from headwater.api.xml_text import xml_escape, xml_safe
from headwater.core.errors import AwsError

log = logging.getLogger(__name__)

#: Errors AWS's request layer (Coral) raises before a service sees the request.
FRAMEWORK_NAMESPACES: dict[str, str] = {
    "SerializationException": "com.amazon.coral.service",
    "UnknownOperationException": "com.amazon.coral.service",
    "UnrecognizedClientException": "com.amazon.coral.service",
    "InternalFailure": "com.amazon.coral.service",
    "MissingRequiredParameterException": "com.amazon.coral.service",
    "ValidationException": "com.amazon.coral.validate",
}


def serialization_error(message: str) -> AwsError:
    """A body that is not valid JSON / not of the modeled types."""
    return AwsError("SerializationException", message)


#: How deep a request body's JSON or CBOR may nest. AWS's inputs are shallow (a DynamoDB
#: item's 32 levels are about 70 in JSON); deeper is malformed input, rejected before any
#: recursive walk (validation, conversion, a service's own parsing) could overflow.
MAX_NESTING = 128


def too_deeply_nested() -> AwsError:
    """A request nested deeper than headwater reads (AWS's parsers stop at 1000 levels)."""
    return serialization_error(
        f"The request is malformed: it is nested more than {MAX_NESTING} levels deep."
    )


def nested_value_error(code: str = "InvalidParameterValue") -> AwsError:
    """A value inside the request (a policy, a template, a message structure) nested too
    deeply for its parser: the protocols that have no SerializationException say ``code``."""
    return AwsError(code, "A value in the request is nested too deeply to be read.")


def unknown_operation(message: str = "") -> AwsError:
    return AwsError("UnknownOperationException", message)


def internal_failure() -> AwsError:
    """A genuine server fault (a bug): 500, no traceback on the wire."""
    return AwsError(
        "InternalFailure",
        "The request processing has failed because of an unknown error, exception or failure.",
        status=500,
        sender_fault=False,
    )


DATA_DIRECTORY_FULL = (
    "The data directory is full: headwater could not store this request. Nothing stored "
    "was lost; free disk space and retry (no restart needed)."
)
#: PostgreSQL's SQLSTATE for a full disk (class 53, insufficient resources).
_PG_DISK_FULL = "53100"
_disk_full_logged = False


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is the store or the file system out of space."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, sqlite3.Error):
            if getattr(seen, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
                return True
            if "database or disk is full" in str(seen):
                return True
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if getattr(seen, "sqlstate", None) == _PG_DISK_FULL:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def server_fault(exc: BaseException, what: str) -> AwsError:
    """The AWS error for an exception no service turned into one, logged: a full disk is
    AWS's 503 ``ServiceUnavailable`` (retried by the SDKs) and one clear log line; anything
    else is a bug, an ``InternalFailure`` with its traceback in the log."""
    global _disk_full_logged
    if not is_disk_full(exc):
        log.error("%s failed", what, exc_info=exc)
        return internal_failure()
    if not _disk_full_logged:
        _disk_full_logged = True
        log.error(
            "the data directory is full (%s): requests that store data answer 503 "
            "ServiceUnavailable until space is freed; nothing stored is lost and headwater "
            "recovers without a restart (logged once)",
            exc,
        )
    return AwsError("ServiceUnavailable", DATA_DIRECTORY_FULL, status=503, sender_fault=False)


def _field_default(value: Any) -> Any:
    """Error fields as the JSON protocols send them: blobs base64 (DynamoDB's ``Item``)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode("ascii")
    return str(value)


def json_error(
    error: AwsError,
    *,
    namespace: str | None,
    content_type: str,
    request_id: str,
) -> WireResponse:
    """awsJson error; ``namespace`` None for services whose ``__type`` is a bare name."""
    if namespace is None:
        type_name = error.code
    else:
        type_name = f"{FRAMEWORK_NAMESPACES.get(error.code, namespace)}#{error.code}"
    body: dict[str, Any] = {"__type": type_name}
    if "Message" not in error.fields:  # a service whose error spells it so says so
        body["message"] = xml_safe(error.message)
    for key, value in error.fields.items():
        body.setdefault(key, value)
    headers = [("x-amzn-RequestId", request_id), *error.headers.items()]
    if error.query_code is not None:
        fault = "Sender" if error.sender_fault else "Receiver"
        headers.append(("x-amzn-query-error", f"{error.query_code};{fault}"))
    return WireResponse(
        error.status, orjson.dumps(body, default=_field_default), content_type, headers
    )


def query_error(
    error: AwsError,
    *,
    request_id: str,
    namespace: str = "http://queue.amazonaws.com/doc/2012-11-05/",
) -> WireResponse:
    """awsQuery ``ErrorResponse`` XML with the query code (SQS: the legacy code)."""
    fault = "Sender" if error.sender_fault else "Receiver"
    code = error.query_code or error.code
    detail = "<Detail/>" if "queue.amazonaws.com" in namespace else ""  # SQS only
    xml = (
        f'<?xml version="1.0"?><ErrorResponse xmlns="{namespace}">'
        f"<Error><Type>{fault}</Type><Code>{xml_escape(code)}</Code>"
        f"<Message>{xml_escape(error.message)}</Message>{detail}</Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    headers = [("x-amzn-RequestId", request_id), *error.headers.items()]
    return WireResponse(error.status, xml.encode(), "text/xml", headers)


def rest_json_error(error: AwsError, *, request_id: str) -> WireResponse:
    """restJson1 (Lambda) error: code in ``x-amzn-ErrorType``, ``Type`` + message in the body.

    Some Lambda errors spell the message member ``Message`` (event source mappings); a
    service says so by putting ``Message`` in ``AwsError.fields``.
    """
    body: dict[str, Any] = {"Type": "User" if error.sender_fault else "Service"}
    if "Message" not in error.fields:
        body["message"] = xml_safe(error.message)
    body.update(error.fields)
    headers = [
        ("x-amzn-RequestId", request_id),
        ("x-amzn-ErrorType", error.code),
        *error.headers.items(),
    ]
    return WireResponse(error.status, orjson.dumps(body, default=str), "application/json", headers)
