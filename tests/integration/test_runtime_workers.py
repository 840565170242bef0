"""Real worker processes: failures, pools, throttling, draining, environment, logs."""

from __future__ import annotations

import asyncio
import base64
import os
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from headwater import Headwater, ManualClock
from tests.integration.runtime_api_fixtures import invoke_together

pytestmark = pytest.mark.integration

HANDLERS = """
import os, sys, time, json

INIT_PID = os.getpid()
INITS = 0
INITS += 1
print("init ran")


def echo(event, context):
    print("echo", json.dumps(event))
    return event


def describe(event, context):
    return {
        "pid": os.getpid(),
        "inits": INITS,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "identity": context.identity,
        "client_context": None if context.client_context is None else context.client_context.custom,
        "env": {k: v for k, v in os.environ.items()},
        "cwd": os.getcwd(),
    }


def fail(event, context):
    raise ValueError("Handler fails")


def sleep(event, context):
    print("going to sleep")
    time.sleep(event.get("seconds", 5))
    return "woke"


def hold(event, context):
    time.sleep(event.get("seconds", 0.5))
    return os.getpid()


def exit_now(event, context):
    os._exit(event.get("code", 3))


def crash(event, context):
    import signal
    os.kill(os.getpid(), signal.SIGSEGV)


def sys_exit(event, context):
    sys.exit(0)


def hog(event, context):
    blob = b"x" * (event["mb"] * 1024 * 1024)
    time.sleep(event.get("hold", 0))
    return len(blob)


def not_json(event, context):
    return {1, 2, 3}


def which(event, context):
    import importlib.util
    found = {name: importlib.util.find_spec(name) is not None
             for name in ("orjson", "uvicorn", "headwater", "pydantic", "boto3", "botocore")}
    return {"exe": sys.executable, "version": "%d.%d" % sys.version_info[:2],
            "orjson": "orjson" in sys.modules, "importable": found, "event": event}


def spew(event, context):
    print(event["char"] * event["n"])
    return "ok"


def big_output(event, context):
    print("y" * 10000)
    return "ok"
"""


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    root = tmp_path / "code"
    root.mkdir()
    (root / "handlers.py").write_text(HANDLERS)
    pkg = root / "pkg" / "sub"
    pkg.mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text("def handler(event, context):\n    return 'nested'\n")
    (root / "broken.py").write_text("import does_not_exist_anywhere\n")
    (root / "syntax.py").write_text("def handler(:\n")
    return root


@pytest.fixture
def hw() -> Iterator[Headwater]:
    app = Headwater.in_memory(clock=ManualClock())
    try:
        yield app
    finally:
        pids = []
        pools = app.service("lambda").worker_pools
        if pools is not None:
            for name in list(pools._pools):
                pids += pools.worker_pids(name)
        app.close()
        for pid in pids:  # no worker outlives Headwater.close()
            assert not _alive(pid), f"worker {pid} leaked"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def make(
    hw: Headwater, code_dir: Path, name: str, handler: str, region: str | None = None, **kwargs: Any
) -> None:
    hw.client("lambda", region).create_function_from_directory(name, code_dir, handler, **kwargs)


def error_of(result: object) -> dict[str, object]:
    return orjson.loads(result.payload)  # type: ignore[attr-defined]


def test_worker_is_reused_and_init_runs_once(hw: Headwater, code_dir: Path) -> None:
    make(hw, code_dir, "f", "handlers.describe")
    first = orjson.loads(hw.lambda_.invoke_function("f", b"{}").payload)
    second = orjson.loads(hw.lambda_.invoke_function("f", b"{}").payload)
    assert first["pid"] == second["pid"]
    assert first["inits"] == second["inits"] == 1
    assert hw.service("lambda").worker_pools.spawned == 1
    logs = hw.lambda_.function_logs("f")
    assert logs.count("init ran") == 1
    assert logs.count("Init Duration:") == 1
    # The ARN is the one the function's configuration names (RuntimeVersionConfig).
    version_arn = hw.lambda_.get_function_configuration(FunctionName="f")["RuntimeVersionConfig"][
        "RuntimeVersionArn"
    ]
    assert logs.startswith(
        "INIT_START Runtime Version: python:3.12.headwater\tRuntime Version ARN: "
        f"{version_arn}\ninit ran\nSTART RequestId: "
    )


def test_nested_package_handler(hw: Headwater, code_dir: Path) -> None:
    make(hw, code_dir, "nested", "pkg.sub.mod.handler")
    result = hw.lambda_.invoke_function("nested", b"{}")
    assert result.status == "ok"
    assert result.payload == b'"nested"'


def test_context_fields_and_environment(hw: Headwater, code_dir: Path) -> None:
    make(
        hw,
        code_dir,
        "ctx",
        "handlers.describe",
        memory_size=256,
        timeout=7,
        environment={"MY_SETTING": "on"},
    )
    result = hw.lambda_.invoke_function("ctx", b"{}")
    body = orjson.loads(result.payload)
    arn = "arn:aws:lambda:us-east-1:000000000000:function:ctx"
    assert body["function_name"] == "ctx"
    assert body["function_version"] == "$LATEST"
    assert body["invoked_function_arn"] == arn
    assert body["memory_limit_in_mb"] == "256"
    assert body["aws_request_id"] == result.request_id
    assert body["log_group_name"] == "/aws/lambda/ctx"
    stream = body["log_stream_name"]
    assert len(stream) == len("2024/01/01/[$LATEST]") + 32 and "/[$LATEST]" in stream
    assert 6000 < body["remaining"] <= 7000
    assert body["identity"] is None and body["client_context"] is None
    env = body["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "ctx"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/ctx"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == stream
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["_HANDLER"] == "handlers.describe"
    assert env["LAMBDA_TASK_ROOT"] == str(code_dir.resolve())
    assert env["TZ"] == ":UTC"
    assert env["MY_SETTING"] == "on"
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"]
    assert "AWS_ENDPOINT_URL" not in env
    assert not [name for name in env if name.startswith("_HEADWATER")]
    assert body["cwd"] == str(code_dir.resolve())


def test_worker_runs_in_the_functions_region(hw: Headwater, code_dir: Path) -> None:
    """A us-west-2 function's worker: us-west-2 env, ARN and INIT_START line; and a
    same-named us-east-1 function gets its own workers and log."""
    make(hw, code_dir, "ctx", "handlers.describe", region="us-west-2")
    make(hw, code_dir, "ctx", "handlers.describe")
    west = hw.client("lambda", region_name="us-west-2")
    body = orjson.loads(west.invoke(FunctionName="ctx", Payload=b"{}")["Payload"].read())
    assert body["invoked_function_arn"] == "arn:aws:lambda:us-west-2:000000000000:function:ctx"
    assert body["env"]["AWS_REGION"] == body["env"]["AWS_DEFAULT_REGION"] == "us-west-2"
    assert body["log_group_name"] == "/aws/lambda/ctx"
    east = orjson.loads(hw.lambda_.invoke_function("ctx", b"{}").payload)
    assert east["env"]["AWS_REGION"] == "us-east-1"
    assert east["pid"] != body["pid"]
    west_logs = hw.client("lambda", "us-west-2").function_logs("ctx")
    assert "arn:aws:lambda:us-west-2::runtime:" in west_logs
    assert "arn:aws:lambda:us-east-1::runtime:" in hw.lambda_.function_logs("ctx")
    pools = hw.service("lambda").worker_pools
    assert pools is not None
    assert pools.worker_pids("ctx@us-west-2") == [body["pid"]]
    assert pools.worker_pids("ctx") == [east["pid"]]


def test_endpoint_url_and_client_context(code_dir: Path) -> None:
    with Headwater.in_memory(endpoint_url="http://127.0.0.1:4599") as hw:
        make(hw, code_dir, "ep", "handlers.describe")
        client_context = base64.b64encode(b'{"custom": {"k": "v"}}').decode()
        response = hw.client("lambda").invoke(
            FunctionName="ep", Payload=b"{}", ClientContext=client_context
        )
        body = orjson.loads(response["Payload"].read())
        assert body["env"]["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4599"
        assert body["client_context"] == {"k": "v"}


def test_handler_exception_is_unhandled(hw: Headwater, code_dir: Path) -> None:
    make(hw, code_dir, "fail", "handlers.fail")
    result = hw.lambda_.invoke_function("fail", b"{}")
    assert result.status == "function_error"
    assert result.function_error == "Unhandled"
    body = error_of(result)
    assert list(body) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert body["errorMessage"] == "Handler fails"
    assert body["errorType"] == "ValueError"
    assert body["requestId"] == result.request_id
    assert 'in fail\n    raise ValueError("Handler fails")' in body["stackTrace"][0]
    assert "[ERROR] ValueError: Handler fails" in hw.lambda_.function_logs("fail")
    # the environment survives a handler exception
    again = hw.lambda_.invoke_function("fail", b"{}")
    assert again.status == "function_error"
    assert hw.service("lambda").worker_pools.spawned == 1


def test_timeout_kills_and_replaces_the_worker(hw: Headwater, code_dir: Path) -> None:
    make(hw, code_dir, "slow", "handlers.sleep", timeout=1)
    result = hw.lambda_.invoke_function("slow", b'{"seconds": 30}')
    assert result.function_error == "Unhandled"
    assert error_of(result) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {result.request_id} Error: Task timed out after 1.00 seconds",
    }
    assert 1000 <= result.duration_ms < 3000
    logs = hw.lambda_.function_logs("slow")
    assert "going to sleep" in logs  # output before the kill is kept
    assert f"{result.request_id} Task timed out after 1.00 seconds" in logs
    assert "Status: timeout" in logs
    fast = hw.lambda_.invoke_function("slow", b'{"seconds": 0}')
    assert fast.status == "ok" and fast.payload == b'"woke"'
    assert hw.service("lambda").worker_pools.spawned == 2


def test_worker_exit_is_runtime_exit_error(hw: Headwater, code_dir: Path) -> None:
    make(hw, code_dir, "exit", "handlers.exit_now")
    result = hw.lambda_.invoke_function("exit", b'{"code": 3}')
    assert error_of(result) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {result.request_id} Error: Runtime exited with error: "
        "exit status 3",
    }
    assert "Error Type: Runtime.ExitError" in hw.lambda_.function_logs("exit")
    make(hw, code_dir, "segv", "handlers.crash")
    crashed = hw.lambda_.invoke_function("segv", b"{}")
    assert error_of(crashed)["errorMessage"].endswith(
        "Runtime exited with error: signal: segmentation fault"
    )
    make(hw, code_dir, "sysexit", "handlers.sys_exit")
    exited = hw.lambda_.invoke_function("sysexit", b"{}")
    assert error_of(exited)["errorMessage"].endswith("Runtime exited without providing a reason")
    # a crashed worker is replaced by a fresh one
    again = hw.lambda_.invoke_function("exit", b'{"code": 1}')
    assert error_of(again)["errorMessage"].endswith("exit status 1")


def test_import_error_and_missing_handler(hw: Headwater, code_dir: Path) -> None:
    make(hw, code_dir, "broken", "broken.handler")
    result = hw.lambda_.invoke_function("broken", b"{}")
    assert result.function_error == "Unhandled"
    # An init error is reported as the runtime posted it at init: no request id yet.
    assert error_of(result) == {
        "errorMessage": "Unable to import module 'broken': No module named "
        "'does_not_exist_anywhere'",
        "errorType": "Runtime.ImportModuleError",
        "requestId": "",
        "stackTrace": [],
    }
    make(hw, code_dir, "missing", "handlers.nope")
    missing = hw.lambda_.invoke_function("missing", b"{}")
    assert error_of(missing)["errorType"] == "Runtime.HandlerNotFound"
    assert error_of(missing)["errorMessage"] == "Handler 'nope' missing on module 'handlers'"
    make(hw, code_dir, "nomodule", "absent.handler")
    assert error_of(hw.lambda_.invoke_function("nomodule", b"{}"))["errorMessage"] == (
        "Unable to import module 'absent': No module named 'absent'"
    )
    make(hw, code_dir, "syntax", "syntax.handler")
    assert error_of(hw.lambda_.invoke_function("syntax", b"{}"))["errorType"] == (
        "Runtime.UserCodeSyntaxError"
    )
    make(hw, code_dir, "nodot", "handlers")
    assert error_of(hw.lambda_.invoke_function("nodot", b"{}"))["errorType"] == (
        "Runtime.MalformedHandlerName"
    )


def test_exception_while_importing_carries_the_import_traceback(
    hw: Headwater, tmp_path: Path
) -> None:
    code = tmp_path / "raising"
    code.mkdir()
    (code / "app.py").write_text("import os\n\nraise KeyError('TABLE_NAME')\n")
    make(hw, code, "raising", "app.handler")
    client = hw.client("lambda")
    for _ in range(2):  # every invoke of a failed init answers the init error
        response = client.invoke(FunctionName="raising", Payload=b"{}")
        body = orjson.loads(response["Payload"].read())
        assert response["FunctionError"] == "Unhandled"
        assert body["errorType"] == "KeyError"
        assert body["errorMessage"] == "'TABLE_NAME'"
        assert body["requestId"] == ""
        assert body["stackTrace"][-1].endswith(
            "app.py\", line 3, in <module>\n    raise KeyError('TABLE_NAME')\n"
        )
        assert any("importlib" in frame for frame in body["stackTrace"])


def test_response_request_id_is_the_invocations(hw: Headwater, code_dir: Path) -> None:
    make(hw, code_dir, "rid", "handlers.describe")
    make(hw, code_dir, "rid_fail", "handlers.fail")
    client = hw.client("lambda")
    response = client.invoke(FunctionName="rid", Payload=b"{}", LogType="Tail")
    rid = response["ResponseMetadata"]["RequestId"]
    assert orjson.loads(response["Payload"].read())["aws_request_id"] == rid
    tail = base64.b64decode(response["LogResult"]).decode()
    for line in (f"START RequestId: {rid} ", f"END RequestId: {rid}", f"REPORT RequestId: {rid}"):
        assert line in tail
    failed = client.invoke(FunctionName="rid_fail", Payload=b"{}")
    body = orjson.loads(failed["Payload"].read())
    assert body["requestId"] == failed["ResponseMetadata"]["RequestId"]


def test_marshal_error(hw: Headwater, code_dir: Path) -> None:
    make(hw, code_dir, "marshal", "handlers.not_json")
    result = hw.lambda_.invoke_function("marshal", b"{}")
    assert error_of(result) == {
        "errorMessage": "Unable to marshal response: Object of type set is not JSON serializable",
        "errorType": "Runtime.MarshalError",
        "requestId": result.request_id,
        "stackTrace": [],
    }


def test_memory_limit(hw: Headwater, code_dir: Path) -> None:
    make(hw, code_dir, "hog", "handlers.hog", memory_size=128)
    fits = hw.lambda_.invoke_function("hog", b'{"mb": 16}')
    assert fits.status == "ok"
    result = hw.lambda_.invoke_function("hog", b'{"mb": 400}')
    assert result.function_error == "Unhandled"
    assert error_of(result) == {
        "errorType": "Runtime.OutOfMemory",
        "errorMessage": f"RequestId: {result.request_id} Error: Runtime exited with error: "
        "signal: killed",
    }
    logs = hw.lambda_.function_logs("hog")
    assert "Error Type: Runtime.OutOfMemory" in logs
    # a handler that grows past its memory size (within the kernel headroom) and keeps
    # running is killed by the RSS poll
    polled = hw.lambda_.invoke_function("hog", b'{"mb": 150, "hold": 20}')
    assert error_of(polled)["errorType"] == "Runtime.OutOfMemory"
    assert polled.duration_ms < 10_000
    assert hw.lambda_.invoke_function("hog", b'{"mb": 1}').status == "ok"


RUNAWAY = """
import time

def handler(event, context):
    chunks = []
    while True:  # 1 MB at a time, as fast as the machine allocates
        chunks.append(bytearray(1024 * 1024))
"""


def test_memory_overshoot_is_bounded(hw: Headwater, tmp_path: Path) -> None:
    """The first wave saw 414 MB under MemorySize 128 before the kill: the kernel's data
    limit bounds the peak at MemorySize + DATA_HEADROOM_MB + the interpreter's own pages."""
    from headwater.runtime.limits import DATA_HEADROOM_MB

    code = tmp_path / "runaway"
    code.mkdir()
    (code / "app.py").write_text(RUNAWAY)
    make(hw, code, "runaway", "app.handler", memory_size=128)
    for _ in range(3):
        result = hw.client("lambda").invoke(FunctionName="runaway", Payload=b"{}", LogType="Tail")
        assert orjson.loads(result["Payload"].read())["errorType"] == "Runtime.OutOfMemory"
        tail = base64.b64decode(result["LogResult"]).decode()
        peak = int(tail.split("Max Memory Used: ")[1].split(" MB")[0])
        assert 128 <= peak <= 128 + DATA_HEADROOM_MB + 16, tail


def test_pool_grows_to_reserved_concurrency_then_throttles(hw: Headwater, code_dir: Path) -> None:
    make(hw, code_dir, "pool", "handlers.hold", reserved_concurrency=2)
    results = invoke_together(lambda: hw.lambda_.invoke_function("pool", b'{"seconds": 1.0}'), 3)
    statuses = sorted(r.status for r in results)  # type: ignore[attr-defined]
    assert statuses == ["ok", "ok", "throttled"]
    throttled = next(r for r in results if r.status == "throttled")  # type: ignore[attr-defined]
    assert throttled.error_code == "TooManyRequestsException"
    assert throttled.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
    pids = {orjson.loads(r.payload) for r in results if r.status == "ok"}  # type: ignore[attr-defined]
    assert len(pids) == 2
    assert hw.service("lambda").worker_pools.worker_count("pool") == (2, 0)


def test_reserved_concurrency_zero_always_throttles(hw: Headwater, code_dir: Path) -> None:
    make(hw, code_dir, "off", "handlers.echo")
    client = hw.client("lambda")
    client.put_function_concurrency(FunctionName="off", ReservedConcurrentExecutions=0)
    with pytest.raises(client.exceptions.TooManyRequestsException) as caught:
        client.invoke(FunctionName="off", Payload=b"{}")
    error = caught.value.response
    assert error["Error"]["Code"] == "TooManyRequestsException"
    assert error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert (
        hw.service("lambda").worker_pools is None or hw.service("lambda").worker_pools.spawned == 0
    )


def test_code_update_drains_old_workers(hw: Headwater, code_dir: Path, tmp_path: Path) -> None:
    make(hw, code_dir, "upd", "handlers.describe")
    before = orjson.loads(hw.lambda_.invoke_function("upd", b"{}").payload)
    other = tmp_path / "v2"
    other.mkdir()
    (other / "handlers.py").write_text("def describe(event, context):\n    return 'v2'\n")
    hw.lambda_.update_function_code_from_directory("upd", other)
    assert hw.lambda_.invoke_function("upd", b"{}").payload == b'"v2"'
    assert _wait_dead(before["pid"])
    hw.client("lambda").update_function_configuration(FunctionName="upd", Timeout=5)
    assert hw.lambda_.invoke_function("upd", b"{}").payload == b'"v2"'
    assert hw.service("lambda").worker_pools.spawned == 3


def _wait_dead(pid: int, timeout: float = 5.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.02)
    return False


def test_log_tail_and_report_lines(hw: Headwater, code_dir: Path) -> None:
    make(hw, code_dir, "logs", "handlers.big_output", memory_size=512)
    response = hw.client("lambda").invoke(FunctionName="logs", Payload=b"{}", LogType="Tail")
    tail = base64.b64decode(response["LogResult"]).decode()
    assert len(tail.encode()) <= 4096
    assert tail.startswith("y")
    assert "END RequestId: " in tail
    assert "\tMemory Size: 512 MB\tMax Memory Used: " in tail
    assert "Init Duration: " in tail
    assert response["ExecutedVersion"] == "$LATEST"
    assert response["StatusCode"] == 200


def test_responses_larger_than_a_pipe_come_back_whole(hw: Headwater, tmp_path: Path) -> None:
    # the parent reads a response pipe 64 KiB at a time into one reused buffer: a 3 MB
    # answer takes many reads, and the next (small) one must not see any of its bytes
    (tmp_path / "big.py").write_text(
        "def handler(event, context):\n    return {'n': event['n'], 'data': 'x' * event['n']}\n"
    )
    hw.lambda_.create_function_from_directory("big", tmp_path, "big.handler")

    def check(result: Any, n: int) -> None:
        assert result.status == "ok"
        assert orjson.loads(result.payload) == {"n": n, "data": "x" * n}

    check(hw.lambda_.invoke_function("big", {"n": 3_000_000}), 3_000_000)
    check(hw.lambda_.invoke_function("big", {"n": 3}), 3)

    async def twice() -> list[Any]:
        service = hw.service("lambda")
        return [await service.invoke_async("big", b'{"n": %d}' % n) for n in (2_500_000, 5)]

    large, small = asyncio.run(twice())
    check(large, 2_500_000)
    check(small, 5)


def test_max_memory_used_follows_a_warm_workers_growth(hw: Headwater, tmp_path: Path) -> None:
    # the worker reads VmHWM again when it took page faults since the last read: a warm
    # invocation that allocates shows its new peak in its own REPORT line
    (tmp_path / "grow.py").write_text(
        "KEPT = []\n"
        "def handler(event, context):\n"
        "    KEPT.append(b'x' * (event['mb'] << 20))\n"
        "    return len(KEPT)\n"
    )
    hw.lambda_.create_function_from_directory("grow", tmp_path, "grow.handler", memory_size=512)

    def max_memory_used(mb: int) -> int:
        tail = hw.lambda_.invoke_function("grow", {"mb": mb}, log_tail=True).log_tail or ""
        return int(tail.split("Max Memory Used: ")[1].split(" MB")[0])

    first = max_memory_used(0)
    assert max_memory_used(0) == first
    assert max_memory_used(100) >= first + 100
    grown = max_memory_used(0)
    assert grown >= first + 100  # a peak, kept while nothing grows


def test_invoke_async_does_not_block_the_loop(hw: Headwater, code_dir: Path) -> None:
    make(hw, code_dir, "aio", "handlers.hold", reserved_concurrency=4)
    make(hw, code_dir, "slow", "handlers.sleep", timeout=1)

    async def main() -> tuple[list[object], int, object]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        results = await asyncio.gather(
            *(hw.service("lambda").invoke_async("aio", b'{"seconds": 0.5}') for _ in range(3))
        )
        timed_out = await hw.service("lambda").invoke_async("slow", b'{"seconds": 10}')
        task.cancel()
        return list(results), ticks, timed_out

    results, ticks, timed_out = asyncio.run(main())
    assert [r.status for r in results] == ["ok", "ok", "ok"]  # type: ignore[attr-defined]
    assert len({r.payload for r in results}) == 3  # type: ignore[attr-defined]
    assert ticks > 50  # the loop kept running during ~1.5 s of invocations
    assert error_of(timed_out)["errorType"] == "Sandbox.Timedout"
    missing = asyncio.run(hw.service("lambda").invoke_async("nope", b"{}"))
    assert missing.status == "service_error"
    assert missing.error_code == "ResourceNotFoundException"


def test_event_invocations_are_retried_twice(hw: Headwater, code_dir: Path) -> None:
    clock = hw.clock
    assert isinstance(clock, ManualClock)
    make(hw, code_dir, "ev", "handlers.fail")
    response = hw.client("lambda").invoke(FunctionName="ev", InvocationType="Event", Payload=b"{}")
    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    assert hw.service("lambda").wait_for_event_invocations(10)
    assert len(hw.service("lambda").event_results) == 1
    clock.advance(60)
    assert hw.service("lambda").wait_for_event_invocations(10)
    assert len(hw.service("lambda").event_results) == 2
    clock.advance(120)
    assert hw.service("lambda").wait_for_event_invocations(10)
    clock.advance(600)
    assert hw.service("lambda").wait_for_event_invocations(10)
    attempts = hw.service("lambda").event_results
    assert len(attempts) == 3
    assert all(r.function_error == "Unhandled" for _, r in attempts)
    dry = hw.client("lambda").invoke(FunctionName="ev", InvocationType="DryRun")
    assert dry["StatusCode"] == 204


def test_global_worker_limit_evicts_idle_workers(code_dir: Path) -> None:
    with Headwater.in_memory(function_workers=1) as hw:
        make(hw, code_dir, "a", "handlers.describe")
        make(hw, code_dir, "b", "handlers.describe")
        pid_a = orjson.loads(hw.lambda_.invoke_function("a", b"{}").payload)["pid"]
        pid_b = orjson.loads(hw.lambda_.invoke_function("b", b"{}").payload)["pid"]
        assert pid_a != pid_b
        assert hw.service("lambda").worker_pools.worker_count("a") == (0, 0)
        assert _wait_dead(pid_a)


def test_idle_workers_shrink(code_dir: Path) -> None:
    with Headwater.in_memory(function_idle_timeout=0.2) as hw:
        make(hw, code_dir, "idle", "handlers.describe")
        pid = orjson.loads(hw.lambda_.invoke_function("idle", b"{}").payload)["pid"]
        assert _wait_dead(pid)
        assert hw.service("lambda").worker_pools.worker_count("idle") == (0, 0)


def test_zip_code_runs(hw: Headwater, tmp_path: Path) -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "app.py",
            textwrap.dedent(
                """
            import os
            def handler(event, context):
                return {"root": os.environ["LAMBDA_TASK_ROOT"], "n": event["n"] + 1}
            """
            ),
        )
    client = hw.client("lambda")
    client.create_function(
        FunctionName="zipped",
        Runtime="python3.11",
        Role="arn:aws:iam::000000000000:role/r",
        Handler="app.handler",
        Code={"ZipFile": buffer.getvalue()},
    )
    body = orjson.loads(client.invoke(FunctionName="zipped", Payload=b'{"n": 1}')["Payload"].read())
    assert body["n"] == 2
    assert Path(body["root"]).is_relative_to(hw.data_dir)
    assert os.path.isfile(os.path.join(body["root"], "app.py"))


def test_logging_module_output_is_formatted_like_lambda(hw: Headwater, tmp_path: Path) -> None:
    code = tmp_path / "logcode"
    code.mkdir()
    (code / "logapp.py").write_text(
        "import logging\n"
        "logger = logging.getLogger()\n"
        "logger.setLevel(logging.INFO)\n"
        "def handler(event, context):\n"
        "    logger.info('processing %s', event['n'])\n"
        "    return 1\n"
    )
    make(hw, code, "logging", "logapp.handler")
    result = hw.lambda_.invoke_function("logging", b'{"n": 7}')
    line = next(
        line for line in hw.lambda_.function_logs("logging").splitlines() if "processing" in line
    )
    level, stamp, rid, message = line.split("\t")
    assert level == "[INFO]"
    assert stamp.endswith("Z") and "T" in stamp
    assert rid == result.request_id
    assert message == "processing 7"


def test_cancelled_async_invocation_releases_its_worker(hw: Headwater, code_dir: Path) -> None:
    make(hw, code_dir, "cancel", "handlers.hold", reserved_concurrency=1, timeout=30)

    async def main() -> object:
        task = asyncio.create_task(hw.service("lambda").invoke_async("cancel", b'{"seconds": 20}'))
        await asyncio.sleep(0.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return await hw.service("lambda").invoke_async("cancel", b'{"seconds": 0}')

    result = asyncio.run(main())
    assert result.status == "ok"  # the slot of the cancelled invocation was freed
    assert hw.service("lambda").worker_pools.spawned == 2


def test_runtime_interpreter_mapping_and_stdlib_json_fallback(
    code_dir: Path, tmp_path: Path
) -> None:
    # A configured "interpreter" that is not headwater's: the worker cannot load headwater's
    # orjson there and falls back to the stdlib json, with the same error shapes.
    wrapper = tmp_path / "python-wrapper"
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    wrapper.chmod(0o755)
    with Headwater.in_memory(function_interpreters={"python3.10": str(wrapper)}) as hw:
        make(hw, code_dir, "old", "handlers.which", runtime="python3.10")
        old = orjson.loads(hw.lambda_.invoke_function("old", b'{"k": [1, 2]}').payload)
        assert old["exe"] == sys.executable and old["event"] == {"k": [1, 2]}
        make(hw, code_dir, "old_fail", "handlers.not_json", runtime="python3.10")
        failed = orjson.loads(hw.lambda_.invoke_function("old_fail", b"{}").payload)
        assert failed["errorType"] == "Runtime.MarshalError"


def test_python_runs_on_the_runtimes_version_when_installed(hw: Headwater, code_dir: Path) -> None:
    from headwater.runtime.python_runtime import find_interpreter

    make(hw, code_dir, "v312", "handlers.which", runtime="python3.12")
    body = orjson.loads(hw.lambda_.invoke_function("v312", b"{}").payload)
    logs = hw.lambda_.function_logs("v312")
    if find_interpreter("3.12") is not None:
        assert body["version"] == "3.12"
        assert "INIT_START Runtime Version: python:3.12.headwater\t" in logs
    else:  # the host's Python, and INIT_START says so
        assert body["version"] == "{}.{}".format(*sys.version_info[:2])
        assert "(runs on Python 3." in logs and "no Python 3.12 found" in logs


def test_function_imports_only_its_code_layers_and_bundled_boto3(
    hw: Headwater, code_dir: Path, tmp_path: Path
) -> None:
    make(hw, code_dir, "paths", "handlers.which", runtime="python3.11")
    body = orjson.loads(hw.lambda_.invoke_function("paths", b"{}").payload)
    assert body["importable"] == {
        "orjson": False,
        "uvicorn": False,
        "headwater": False,
        "pydantic": False,
        "boto3": True,
        "botocore": True,
    }
    assert body["orjson"] is False  # the worker's private orjson is not in sys.modules
    code = tmp_path / "needs"
    code.mkdir()
    (code / "app.py").write_text("import uvicorn\n\ndef handler(event, context):\n    return 1\n")
    make(hw, code, "needs_uvicorn", "app.handler")
    assert error_of(hw.lambda_.invoke_function("needs_uvicorn", b"{}")) == {
        "errorMessage": "Unable to import module 'app': No module named 'uvicorn'",
        "errorType": "Runtime.ImportModuleError",
        "requestId": "",
        "stackTrace": [],
    }
    (code / "uses_boto3.py").write_text(
        "import boto3\n\ndef handler(event, context):\n    return boto3.__version__\n"
    )
    make(hw, code, "boto", "uses_boto3.handler")
    assert hw.lambda_.invoke_function("boto", b"{}").status == "ok"


def test_workers_exit_when_headwater_dies(code_dir: Path, tmp_path: Path) -> None:
    import subprocess

    script = tmp_path / "parent.py"
    script.write_text(
        "import sys, threading\n"
        "from headwater import Headwater\n"
        "hw = Headwater.in_memory()\n"
        f"hw.lambda_.create_function_from_directory('s', {str(code_dir)!r}, 'handlers.sleep',"
        " timeout=60)\n"
        "assert hw.lambda_.invoke_function('s', b'{\"seconds\": 0}').status == 'ok'\n"
        "threading.Thread(target=hw.lambda_.invoke_function, args=('s', b'{\"seconds\": 60}'),"
        " daemon=True).start()\n"
        "import time\n"
        "while hw.service('lambda').worker_pools.worker_count('s') != (0, 1):\n"
        "    time.sleep(0.01)\n"
        "time.sleep(0.3)  # the warm worker is now inside the 60 s handler call\n"
        "print(hw.service('lambda').worker_pools.worker_pids('s')[0], flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        assert _alive(pid)
    finally:
        parent.kill()
        parent.wait()
    # busy in a 60 s sleep (a C call), yet gone with its parent at once: the kernel's
    # parent-death signal, not a poll (the first wave's poll took about a second)
    assert _wait_dead(pid, timeout=0.3)


def test_worker_outlives_the_thread_that_started_it(hw: Headwater, code_dir: Path) -> None:
    """The parent-death signal follows the forking *thread*: a worker first needed by a
    short-lived thread must stay warm after that thread ends."""
    make(hw, code_dir, "threaded", "handlers.describe")
    first: list[int] = []
    caller = threading.Thread(
        target=lambda: first.append(
            orjson.loads(hw.lambda_.invoke_function("threaded", b"{}").payload)["pid"]
        )
    )
    caller.start()
    caller.join()
    time.sleep(0.1)
    assert _alive(first[0])
    again = orjson.loads(hw.lambda_.invoke_function("threaded", b"{}").payload)
    assert again["pid"] == first[0]


def test_update_while_busy_retires_the_busy_worker(hw: Headwater, code_dir: Path) -> None:
    make(hw, code_dir, "busy", "handlers.hold", timeout=10)
    outcome: list[object] = []
    caller = threading.Thread(
        target=lambda: outcome.append(hw.lambda_.invoke_function("busy", b'{"seconds": 1.0}'))
    )
    caller.start()
    while True:  # wait until the invocation holds its worker
        pools = hw.service("lambda").worker_pools
        if pools is not None and pools.worker_count("busy") == (0, 1):
            break
        threading.Event().wait(0.01)
    hw.client("lambda").update_function_configuration(FunctionName="busy", Description="v2")
    caller.join()
    old_pid = orjson.loads(outcome[0].payload)  # type: ignore[attr-defined]
    assert _wait_dead(old_pid)  # finished its invocation, then stopped (old revision)
    new_pid = orjson.loads(hw.lambda_.invoke_function("busy", b'{"seconds": 0}').payload)
    assert new_pid != old_pid


def test_global_limit_throttles_when_every_worker_is_busy(code_dir: Path) -> None:
    with Headwater.in_memory(function_workers=1) as hw:
        make(hw, code_dir, "g", "handlers.hold")
        results: list[object] = []
        callers = [
            threading.Thread(
                target=lambda: results.append(hw.lambda_.invoke_function("g", b'{"seconds": 0.8}'))
            )
            for _ in range(2)
        ]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join()
        reasons = sorted(str(r.reason) for r in results)  # type: ignore[attr-defined]
        assert reasons == ["ConcurrentInvocationLimitExceeded", "None"]


def test_worker_that_died_while_idle_is_replaced_silently(hw: Headwater, code_dir: Path) -> None:
    import signal

    make(hw, code_dir, "fragile", "handlers.describe")
    pid = orjson.loads(hw.lambda_.invoke_function("fragile", b"{}").payload)["pid"]
    pools = hw.service("lambda").worker_pools
    assert pools is not None
    (idle,) = pools._pools["fragile"].idle
    os.kill(pid, signal.SIGKILL)
    # Wait for the exit to be reapable, not just for the zombie state: /proc shows the
    # leader as "Z" while the worker's other threads are still exiting, and until then
    # the pool cannot see the death (a real death while idle is seen once complete).
    deadline = time.monotonic() + 5
    while idle.process.poll() is None:
        assert time.monotonic() < deadline, "the killed worker did not exit"
        time.sleep(0.01)
    result = hw.lambda_.invoke_function("fragile", b"{}")
    assert result.status == "ok"
    assert orjson.loads(result.payload)["pid"] != pid


def test_large_outputs_are_captured_per_invocation(hw: Headwater, code_dir: Path) -> None:
    make(hw, code_dir, "spew", "handlers.spew")
    size = 1_500_000
    for char in "abc":
        payload = orjson.dumps({"char": char, "n": size})
        assert hw.lambda_.invoke_function("spew", payload).status == "ok"
    logs = hw.lambda_.function_logs("spew")
    for char in "abc":
        assert logs.count(char * size + "\n") == 1
    assert hw.service("lambda").worker_pools.spawned == 1


def test_close_during_a_running_event_invocation_is_prompt(code_dir: Path) -> None:
    import time

    hw = Headwater.in_memory()
    make(hw, code_dir, "long", "handlers.sleep", timeout=60)
    hw.lambda_.invoke_function("long", b'{"seconds": 60}', invocation_type="Event")
    while hw.service("lambda").worker_pools is None or hw.service(
        "lambda"
    ).worker_pools.worker_count("long") != (
        0,
        1,
    ):
        time.sleep(0.01)
    started = time.monotonic()
    hw.close()
    assert time.monotonic() - started < 3.0


def test_zip_function_runs_after_reopening_the_data_dir(tmp_path: Path) -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("pkg/__init__.py", "")
        archive.writestr("pkg/app.py", "def handler(event, context):\n    return event['v'] * 2\n")
    data_dir = tmp_path / "data"
    with Headwater(data_dir=data_dir) as hw:
        hw.client("lambda").create_function(
            FunctionName="kept",
            Runtime="python3.13",
            Role="arn:aws:iam::000000000000:role/r",
            Handler="pkg.app.handler",
            Code={"ZipFile": buffer.getvalue()},
        )
        assert hw.lambda_.invoke_function("kept", {"v": 1}).payload == b"2"
    with Headwater(data_dir=data_dir) as hw:
        assert hw.lambda_.invoke_function("kept", {"v": 21}).payload == b"42"
        logs = hw.lambda_.function_logs("kept")
        assert logs.count("START RequestId: ") == 2  # the log survived the restart too


def test_missing_code_directory_is_a_service_error(hw: Headwater, tmp_path: Path) -> None:
    import shutil

    code = tmp_path / "gone"
    code.mkdir()
    (code / "app.py").write_text("def handler(e, c):\n    return 1\n")
    make(hw, code, "gone", "app.handler")
    shutil.rmtree(code)
    result = hw.lambda_.invoke_function("gone", b"{}")
    assert result.status == "service_error"
    assert result.error_code == "ServiceException"
    assert asyncio.run(hw.service("lambda").invoke_async("gone", b"{}")).status == "service_error"
    with pytest.raises(hw.client("lambda").exceptions.ServiceException):
        hw.client("lambda").invoke(FunctionName="gone", Payload=b"{}")
    assert hw.service("lambda").worker_pools.worker_count("gone") == (0, 0)


def test_prewarm_starts_environments_ahead(hw: Headwater, code_dir: Path) -> None:
    make(hw, code_dir, "warm", "handlers.describe", reserved_concurrency=3)
    assert hw.service("lambda").prewarm("warm", 5) == 3  # capped by reserved concurrency
    pools = hw.service("lambda").worker_pools
    assert pools.worker_count("warm") == (3, 0)
    assert pools.spawned == 3
    first = hw.lambda_.invoke_function("warm", b"{}", log_tail=True)
    assert pools.spawned == 3  # served by a prewarmed worker
    assert "init ran" in (first.log_tail or "")  # its init output comes with its first call
    make(hw, code_dir, "broken_warm", "broken.handler")
    assert hw.service("lambda").prewarm("broken_warm", 2) == 0
    assert "Runtime.ImportModuleError" in hw.lambda_.function_logs("broken_warm")


def test_missing_python_version_warns_at_create_and_in_init_start(
    hw: Headwater, code_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from headwater.runtime import python_runtime

    monkeypatch.setattr(python_runtime, "find_interpreter", lambda version: None)
    with caplog.at_level("WARNING", logger="headwater.lambda"):
        make(hw, code_dir, "old", "handlers.which", runtime="python3.9")
    assert "no Python 3.9 found on this machine" in caplog.text
    body = orjson.loads(hw.lambda_.invoke_function("old", b"{}").payload)
    assert body["version"] == "{}.{}".format(*sys.version_info[:2])
    host = ".".join(map(str, sys.version_info[:3]))
    assert (
        f"INIT_START Runtime Version: python:3.9.headwater (runs on Python {host} "
        f"({sys.executable}): no Python 3.9 found)\t"
    ) in hw.lambda_.function_logs("old")
