"""In-process mode: handlers as plain calls, same context and error shapes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from botocore.eventstream import EventStream

from headwater import Headwater, ManualClock

CODE = """
import os
LOADED_WITH = os.environ.get("STAGE")

def handler(event, context):
    print("inline says hi")
    return {
        "pid": os.getpid(),
        "stage": LOADED_WITH,
        "name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "arn": context.invoked_function_arn,
        "remaining": context.get_remaining_time_in_millis(),
        "event": event,
    }

def fail(event, context):
    raise KeyError("missing")

def marshal(event, context):
    return {1, 2}
"""


@pytest.fixture
def hw(tmp_path: Path) -> Iterator[Headwater]:
    code = tmp_path / "code"
    code.mkdir()
    (code / "inline_app.py").write_text(CODE)
    app = Headwater.in_memory(clock=ManualClock(), functions="inline")
    app.lambda_.create_function_from_directory(
        "f", code, "inline_app.handler", environment={"STAGE": "dev"}, timeout=5
    )
    app.lambda_.create_function_from_directory("bad", code, "inline_app.fail")
    app.lambda_.create_function_from_directory("marshal", code, "inline_app.marshal")
    app.lambda_.create_function_from_directory("missing", code, "nowhere.handler")
    try:
        yield app
    finally:
        app.close()


def test_runs_in_this_process(hw: Headwater) -> None:
    response = hw.client("lambda").invoke(FunctionName="f", Payload=b'{"x": 1}', LogType="Tail")
    body = orjson.loads(response["Payload"].read())
    assert body["pid"] == os.getpid()
    assert body["stage"] == "dev"
    assert body["name"] == "f"
    assert body["memory"] == "128"
    assert body["arn"].endswith(":function:f")
    assert 4000 < body["remaining"] <= 5000
    assert body["event"] == {"x": 1}
    assert "STAGE" not in os.environ  # restored after the call
    assert hw.service("lambda").worker_pools is None
    logs = hw.lambda_.function_logs("f")
    assert "inline says hi" in logs
    assert "REPORT RequestId: " in logs and "Init Duration: " in logs


def test_same_error_shapes(hw: Headwater) -> None:
    result = hw.lambda_.invoke_function("bad", b"{}")
    body = orjson.loads(result.payload)
    assert result.function_error == "Unhandled"
    assert body["errorType"] == "KeyError"
    assert body["errorMessage"] == "'missing'"
    assert body["requestId"] == result.request_id
    assert "in fail" in body["stackTrace"][0]
    marshal = orjson.loads(hw.lambda_.invoke_function("marshal", b"{}").payload)
    assert marshal["errorType"] == "Runtime.MarshalError"
    missing = orjson.loads(hw.lambda_.invoke_function("missing", b"{}").payload)
    assert missing["errorType"] == "Runtime.ImportModuleError"
    assert missing["errorMessage"] == "Unable to import module 'nowhere': No module named 'nowhere'"


def test_throttle_with_zero_concurrency(hw: Headwater) -> None:
    hw.client("lambda").put_function_concurrency(FunctionName="f", ReservedConcurrentExecutions=0)
    result = hw.lambda_.invoke_function("f", b"{}")
    assert result.status == "throttled"
    assert result.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"


def test_python_payloads_are_encoded(hw: Headwater) -> None:
    body = orjson.loads(hw.lambda_.invoke_function("f", {"x": [1, 2]}).payload)
    assert body["event"] == {"x": [1, 2]}
    assert orjson.loads(hw.lambda_.invoke_function("f", '{"y": 3}').payload)["event"] == {"y": 3}


def test_a_streamed_invoke_names_its_content_type_and_a_dry_run_streams_nothing(
    hw: Headwater,
) -> None:
    # As boto3 reads them over the wire: the Content-Type header in
    # ResponseStreamContentType, and a DryRun's empty body as an event stream of no events
    lam = hw.client("lambda")
    streamed = lam.invoke_with_response_stream(FunctionName="f", Payload=b"{}")
    dry = lam.invoke_with_response_stream(FunctionName="f", InvocationType="DryRun")
    for response in (streamed, dry):
        assert response["ResponseStreamContentType"] == "application/vnd.amazon.eventstream"
    assert list(dry["EventStream"]) == []


def test_a_streamed_invoke_hands_out_botocores_event_stream(hw: Headwater) -> None:
    # Code written for boto3 closes it or reads it once; in process it was a plain list
    streamed = hw.client("lambda").invoke_with_response_stream(
        FunctionName="f", Payload=b'{"x": 1}'
    )
    events = streamed["EventStream"]
    assert isinstance(events, EventStream)
    received = list(events)
    events.close()
    assert [list(event) for event in received] == [["PayloadChunk"], ["InvokeComplete"]]
    assert orjson.loads(received[0]["PayloadChunk"]["Payload"])["event"] == {"x": 1}
