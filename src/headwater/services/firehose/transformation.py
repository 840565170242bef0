"""Data transformation with a Lambda processor, as Firehose runs it before delivery.

The function gets ``{"invocationId", "deliveryStreamArn", "region", "records": [{"recordId",
"approximateArrivalTimestamp" (ms), "data" (base64)}]}`` and answers ``{"records":
[{"recordId", "result": "Ok" | "Dropped" | "ProcessingFailed", "data"}]}``. Ok records are
delivered with the data answered; Dropped ones vanish; ProcessingFailed ones, and every
record of an invocation that failed after its retries (``NumberOfRetries``, 3 unless set),
go to the error output as AWS writes them: one JSON document per line with
``attemptsMade``, ``arrivalTimestamp``, ``errorCode``, ``errorMessage``,
``attemptEndingTimestamp``, ``rawData`` and ``lambdaArn``.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from headwater.core.errors import AwsError
from headwater.core.values import as_bytes
from headwater.services.base import RequestContext, ServiceEnvironment
from headwater.services.firehose.store import BufferedRecord

DEFAULT_RETRIES = 3
RESULTS = ("Ok", "Dropped", "ProcessingFailed")


@dataclass(slots=True)
class Transformed:
    """What a transformation made of a batch: data to deliver, error output lines."""

    delivered: list[bytes] = field(default_factory=list)
    failed: list[bytes] = field(default_factory=list)


def lambda_processor(destination: dict[str, Any]) -> tuple[str, int] | None:
    """The enabled Lambda processor's function ARN and retries, if the destination has one."""
    config = destination.get("ProcessingConfiguration") or {}
    if not config.get("Enabled"):
        return None
    for processor in config.get("Processors") or []:
        if processor.get("Type") != "Lambda":
            continue
        values = {
            p.get("ParameterName"): p.get("ParameterValue")
            for p in processor.get("Parameters") or []
        }
        arn = values.get("LambdaArn")
        if arn:
            retries = str(values.get("NumberOfRetries") or "")
            return str(arn), int(retries) if retries.isdigit() else DEFAULT_RETRIES
    return None


@dataclass(frozen=True, slots=True)
class _Attempts:
    """How the invocations of one batch ended: the function, how many, and when."""

    function: str
    made: int
    ended: float


def record_delimiter(destination: dict[str, Any]) -> bytes:
    """What an enabled AppendDelimiterToRecord processor puts after each delivered record
    (its ``Delimiter``, a newline unless set); empty without one."""
    config = destination.get("ProcessingConfiguration") or {}
    if not config.get("Enabled"):
        return b""
    for processor in config.get("Processors") or []:
        if processor.get("Type") == "AppendDelimiterToRecord":
            for parameter in processor.get("Parameters") or []:
                if parameter.get("ParameterName") == "Delimiter":
                    return str(parameter.get("ParameterValue") or "").encode()
            return b"\n"
    return b""


def _error_line(record: BufferedRecord, code: str, message: str, attempts: _Attempts) -> bytes:
    document = {
        "attemptsMade": attempts.made,
        "arrivalTimestamp": int(record.arrived * 1000),
        "errorCode": code,
        "errorMessage": message,
        "attemptEndingTimestamp": int(attempts.ended * 1000),
        "rawData": base64.b64encode(record.data).decode(),
        "lambdaArn": attempts.function,
    }
    return orjson.dumps(document) + b"\n"


def transform(
    env: ServiceEnvironment,
    stream_arn: str,
    processor: tuple[str, int],
    records: Sequence[BufferedRecord],
    ctx: RequestContext,
) -> Transformed:
    """Run ``records`` through the ``processor`` (its function ARN and retries): one
    invocation, retried on failure."""
    function, retries = processor
    event = {
        "invocationId": str(uuid.uuid4()),
        "deliveryStreamArn": stream_arn,
        "region": ctx.region,
        "records": [
            {
                "recordId": r.record_id,
                "approximateArrivalTimestamp": int(r.arrived * 1000),
                "data": base64.b64encode(r.data).decode(),
            }
            for r in records
        ],
    }
    functions = env.service("lambda")
    code, message = "", ""
    attempts = 0
    for attempts in range(1, retries + 2):
        try:
            result = functions.call(
                "Invoke",
                {"FunctionName": function, "Payload": orjson.dumps(event)},
                ctx,
            )
        except AwsError as error:
            code, message = "Lambda.InvokeAccessDenied", error.message
            continue
        payload = as_bytes(result.get("Payload") or b"")
        if result.get("FunctionError"):
            code = "Lambda.FunctionError"
            message = (
                "The Lambda function was successfully invoked but it returned an error result."
            )
            continue
        answered = _answer(payload, records)
        if isinstance(answered, tuple):
            code, message = answered
            continue
        return _sorted(answered, records, _Attempts(function, attempts, env.clock.now()))
    ended = _Attempts(function, attempts, env.clock.now())
    return Transformed(failed=[_error_line(r, code, message, ended) for r in records])


def _answer(
    payload: bytes, records: Sequence[BufferedRecord]
) -> dict[str, dict[str, Any]] | tuple[str, str]:
    """The function's answer per record id, or the error code and message of an answer
    Firehose refuses (codes from AWS's troubleshooting guide)."""
    try:
        answer = orjson.loads(payload)
        entries = answer["records"]
        by_id = {str(e["recordId"]): e for e in entries}
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return (
            "Lambda.JsonProcessingException",
            "The response from the Lambda function is not valid JSON.",
        )
    for entry in entries:
        if entry.get("result") not in RESULTS:
            return (
                "Lambda.InvalidResult",
                f"Invalid result {entry.get('result')!r} for record {entry['recordId']}.",
            )
    missing = [r.record_id for r in records if r.record_id not in by_id]
    if missing:
        return "Lambda.MissingRecordId", f"One or more record Ids were not returned: {missing[0]}."
    if len(by_id) != len(records):
        return (
            "Lambda.DuplicatedRecordId",
            "The Lambda function returned more record Ids than given.",
        )
    return by_id


def _sorted(
    by_id: dict[str, dict[str, Any]],
    records: Sequence[BufferedRecord],
    attempts: _Attempts,
) -> Transformed:
    out = Transformed()
    for record in records:
        entry = by_id[record.record_id]
        if entry["result"] == "Dropped":
            continue
        if entry["result"] == "ProcessingFailed":
            out.failed.append(
                _error_line(
                    record,
                    "Lambda.ProcessingFailed",
                    "The record was marked ProcessingFailed by the Lambda function.",
                    attempts,
                )
            )
            continue
        try:
            out.delivered.append(base64.b64decode(str(entry.get("data") or ""), validate=True))
        except (binascii.Error, ValueError):
            out.failed.append(
                _error_line(
                    record,
                    "Lambda.InvalidData",
                    "The data returned is not base64.",
                    attempts,
                )
            )
    return out
