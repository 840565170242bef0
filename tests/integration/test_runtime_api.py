"""Runtime API environments: Node.js (headwater's bootstrap) and a ``provided`` shell
bootstrap, through every failure kind the Python worker tests cover, with AWS's shapes."""

from __future__ import annotations

import base64
import io
import os
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from headwater import Headwater
from tests.integration.runtime_api_fixtures import (
    invoke_together,
    needs_node,
    node_code,
    shell_code,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def hw() -> Iterator[Headwater]:
    with Headwater.in_memory() as app:
        yield app


@pytest.fixture
def node_dir(tmp_path: Path) -> Path:
    return node_code(tmp_path / "node")


@pytest.fixture
def shell_dir(tmp_path: Path) -> Path:
    return shell_code(tmp_path / "shell")


def node(hw: Headwater, code: Path, name: str, handler: str, **kwargs: Any) -> None:
    kwargs.setdefault("runtime", "nodejs20.x")
    hw.lambda_.create_function_from_directory(name, code, handler, **kwargs)


def shell(hw: Headwater, code: Path, name: str, handler: str, **kwargs: Any) -> None:
    hw.lambda_.create_function_from_directory(
        name, code, handler, runtime="provided.al2023", **kwargs
    )


def body_of(result: Any) -> Any:
    return orjson.loads(result.payload)


# -- Node.js -------------------------------------------------------------------------------


@needs_node
def test_node_async_handler_warm_reuse_and_logs(hw: Headwater, node_dir: Path) -> None:
    node(hw, node_dir, "echo", "index.echo")
    first = hw.lambda_.invoke_function("echo", b'{"a": 1}')
    second = hw.lambda_.invoke_function("echo", b'{"a": 2}')
    assert (first.status, body_of(first)) == ("ok", {"a": 1})
    assert body_of(second) == {"a": 2}
    assert hw.service("lambda").worker_pools.spawned == 1
    logs = hw.lambda_.function_logs("echo")
    assert logs.startswith("INIT_START Runtime Version: nodejs:20.headwater\t")
    assert logs.count("Init Duration: ") == 1
    assert f"REPORT RequestId: {second.request_id}\tDuration: " in logs


@needs_node
def test_node_context_and_runtime_api_headers(hw: Headwater, node_dir: Path) -> None:
    client = hw.client("lambda", region_name="eu-west-1")
    client.create_function_from_directory(
        "ctx", node_dir, "index.context", runtime="nodejs20.x", timeout=7, memory_size=256
    )
    client_context = base64.b64encode(b'{"custom": {"k": "v"}}').decode()
    response = client.invoke(FunctionName="ctx", Payload=b"{}", ClientContext=client_context)
    body = orjson.loads(response["Payload"].read())
    assert body["functionName"] == "ctx"
    assert body["functionVersion"] == "$LATEST"
    assert body["invokedFunctionArn"] == "arn:aws:lambda:eu-west-1:000000000000:function:ctx"
    assert body["memoryLimitInMB"] == "256"
    assert body["awsRequestId"] == response["ResponseMetadata"]["RequestId"]
    assert body["logGroupName"] == "/aws/lambda/ctx"
    assert "/[$LATEST]" in body["logStreamName"]
    assert 6000 < body["remaining"] <= 7000
    assert body["clientContext"] == {"custom": {"k": "v"}}
    assert body["traceId"].startswith("Root=1-") and ";Sampled=0" in body["traceId"]
    assert body["region"] == "eu-west-1"
    assert body["runtimeApi"].startswith("127.0.0.1:")


@needs_node
def test_node_module_kinds_and_handler_paths(hw: Headwater, node_dir: Path) -> None:
    node(hw, node_dir, "mjs", "esm.handler")
    node(hw, node_dir, "typed", "typed/app.handler")
    node(hw, node_dir, "nested", "index.nested.deeper.handler", runtime="nodejs22.x")
    node(hw, node_dir, "cb", "index.callback", runtime="nodejs18.x")
    assert body_of(hw.lambda_.invoke_function("mjs", b'{"x": 1}')) == {
        "esm": True,
        "event": {"x": 1},
    }
    assert body_of(hw.lambda_.invoke_function("typed", b"{}"))["esm"] is True
    assert body_of(hw.lambda_.invoke_function("nested", b"{}")) == "nested"
    assert body_of(hw.lambda_.invoke_function("cb", b'{"n": 3}')) == {"style": "callback", "n": 3}
    logs = hw.lambda_.function_logs("cb")
    assert "INIT_START Runtime Version: nodejs:18.headwater" in logs
    assert "(runs on Node.js " in logs  # the machine's node is not 18


@needs_node
def test_node_callback_waits_for_the_empty_event_loop(hw: Headwater, node_dir: Path) -> None:
    node(hw, node_dir, "waits", "index.waits")
    node(hw, node_dir, "silent", "index.silent")
    waited = hw.lambda_.invoke_function("waits", b'{"wait": true}')
    at_once = hw.lambda_.invoke_function("waits", b'{"wait": false}')
    assert body_of(waited) == body_of(at_once) == "answered"
    assert waited.duration_ms >= 280
    assert at_once.duration_ms < 250
    # a handler that neither calls back nor returns a promise answers null
    assert hw.lambda_.invoke_function("silent", b"{}").payload == b"null"


@needs_node
def test_node_console_lines(hw: Headwater, node_dir: Path) -> None:
    node(hw, node_dir, "logs", "index.logs")
    result = hw.lambda_.invoke_function("logs", b"{}")
    logs = hw.lambda_.function_logs("logs")
    lines = [line for line in logs.split("\n") if "\tline one" in line]
    stamp, rid, level, message = lines[0].split("\t")
    assert stamp.endswith("Z") and rid == result.request_id and level == "INFO"
    assert message == "line one\rline two"  # one record per call, as CloudWatch shows it
    assert f"\t{result.request_id}\tERROR\tan error line {{ k: 1 }}" in logs
    assert f"\t{result.request_id}\tWARN\ta warning" in logs


LATE_LOGGER = """
exports.handler = async (event) => {
  if (event.late) setTimeout(() => console.log(event.late), 10);
  else await new Promise((resolve) => setTimeout(resolve, 100));
  return 'done';
};
"""


@needs_node
def test_node_output_after_the_handler_returned_stays_in_the_log(tmp_path: Path) -> None:
    code = tmp_path / "late"
    code.mkdir()
    (code / "index.js").write_text(LATE_LOGGER)
    with Headwater.in_memory(function_idle_timeout=0.5) as hw:
        node(hw, code, "late", "index.handler")
        first = hw.lambda_.invoke_function("late", b'{"late": "late line"}')
        second = hw.lambda_.invoke_function("late", b"{}")  # runs 100 ms: the timer fired
        logs = hw.lambda_.function_logs("late")
        block = logs[logs.index(f"START RequestId: {second.request_id}") :]
        assert "late line" in block[: block.index(f"END RequestId: {second.request_id}")]
        assert "late line" not in logs[: logs.index(f"END RequestId: {first.request_id}")]
        # The last invocation's late output: kept when the idle environment is retired.
        third = hw.lambda_.invoke_function("late", b'{"late": "after the last one"}')
        deadline = time.monotonic() + 10.0
        while "after the last one" not in hw.lambda_.function_logs("late"):
            assert time.monotonic() < deadline, "the retired environment's output was lost"
            time.sleep(0.05)
        logs = hw.lambda_.function_logs("late")
        assert logs.index("after the last one") > logs.index(
            f"REPORT RequestId: {third.request_id}"
        )
        assert hw.service("lambda").worker_pools.worker_count("late") == (0, 0)


@needs_node
def test_node_unhandled_errors(hw: Headwater, node_dir: Path) -> None:
    node(hw, node_dir, "fail", "index.fail")
    node(hw, node_dir, "cberr", "index.callbackError")
    result = hw.lambda_.invoke_function("fail", b"{}")
    assert result.function_error == "Unhandled"
    body = body_of(result)
    assert list(body) == ["errorType", "errorMessage", "trace"]
    assert body["errorType"] == "TypeError" and body["errorMessage"] == "Handler fails"
    assert body["trace"][0] == "TypeError: Handler fails"
    assert "index.js" in body["trace"][1]
    logs = hw.lambda_.function_logs("fail")
    assert f"\t{result.request_id}\tERROR\tInvoke Error \t{{" in logs
    assert body_of(hw.lambda_.invoke_function("cberr", b"{}"))["errorType"] == "RangeError"
    assert hw.service("lambda").worker_pools.spawned == 2  # errors keep the environment


@needs_node
def test_node_timeout_kills_and_replaces(hw: Headwater, node_dir: Path) -> None:
    node(hw, node_dir, "slow", "index.sleep", timeout=1)
    result = hw.lambda_.invoke_function("slow", b'{"seconds": 30}')
    assert body_of(result) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {result.request_id} Error: Task timed out after 1.00 seconds",
    }
    assert "going to sleep" in hw.lambda_.function_logs("slow")
    assert body_of(hw.lambda_.invoke_function("slow", b'{"seconds": 0.01}')) == "woke"
    assert hw.service("lambda").worker_pools.spawned == 2


@needs_node
def test_node_init_errors(hw: Headwater, node_dir: Path) -> None:
    cases = {
        "missing.handler": ("Runtime.ImportModuleError", "Error: Cannot find module 'missing'"),
        "broken.handler": (
            "Runtime.ImportModuleError",
            "Error: Cannot find module 'module-that-is-not-there'",
        ),
        "syntax.handler": ("Runtime.UserCodeSyntaxError", "SyntaxError: Unexpected end of input"),
        "index.nope": ("Runtime.HandlerNotFound", "index.nope is undefined or not exported"),
        "index": ("Runtime.MalformedHandlerName", "Bad handler"),
        "throws.handler": ("Error", "init goes wrong"),
    }
    for number, (handler, (error_type, message)) in enumerate(cases.items()):
        node(hw, node_dir, f"init{number}", handler)
        for _ in range(2):  # every invoke answers the init error, from a fresh environment
            result = hw.lambda_.invoke_function(f"init{number}", b"{}")
            body = body_of(result)
            assert result.function_error == "Unhandled"
            assert body["errorType"] == error_type, handler
            assert body["errorMessage"].startswith(message), (handler, body["errorMessage"])
            assert isinstance(body["trace"], list)
        assert "\tundefined\tERROR\tUncaught Exception \t{" in hw.lambda_.function_logs(
            f"init{number}"
        )


@needs_node
def test_node_exit_and_uncaught_exception(hw: Headwater, node_dir: Path) -> None:
    node(hw, node_dir, "exit", "index.exit")
    result = hw.lambda_.invoke_function("exit", b'{"code": 3}')
    assert body_of(result) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {result.request_id} Error: Runtime exited with error: "
        "exit status 3",
    }
    node(hw, node_dir, "uncaught", "index.uncaught")
    thrown = hw.lambda_.invoke_function("uncaught", b"{}")
    assert body_of(thrown)["errorType"] == "Error"
    assert body_of(thrown)["errorMessage"] == "thrown from a timer"
    assert hw.lambda_.invoke_function("uncaught", b"{}").function_error == "Unhandled"


@needs_node
def test_node_uncaught_exception_between_invocations(hw: Headwater, node_dir: Path) -> None:
    """An error thrown while the runtime waits for work (its GET /next pending) still ends
    the environment, as with aws-lambda-ric: the next invocation gets a new one."""
    node(hw, node_dir, "late", "index.late")
    assert body_of(hw.lambda_.invoke_function("late", b"{}")) == "answered"
    (pid,) = hw.service("lambda").worker_pools.worker_pids("late")
    deadline = time.monotonic() + 10
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _running(pid)
    again = hw.lambda_.invoke_function("late", b"{}", log_tail=True)
    assert body_of(again) == "answered"
    assert "Init Duration" in (again.log_tail or "")  # a new environment


def _running(pid: int) -> bool:
    """Whether our child ``pid`` has not fully exited. Not its /proc state: a multi-threaded
    process shows a zombie leader while its other threads still exit, and is not yet
    waitable (so headwater rightly still counts it as alive). WNOWAIT: leave it unreaped."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
    except ChildProcessError:
        return False


@needs_node
def test_node_out_of_memory(hw: Headwater, node_dir: Path) -> None:
    node(hw, node_dir, "hog", "index.hog", memory_size=128)
    assert hw.lambda_.invoke_function("hog", b'{"mb": 8}').status == "ok"
    result = hw.lambda_.invoke_function("hog", b'{"mb": 600}')
    assert body_of(result)["errorType"] == "Runtime.OutOfMemory"
    assert "Error Type: Runtime.OutOfMemory" in hw.lambda_.function_logs("hog")
    assert hw.lambda_.invoke_function("hog", b'{"mb": 1}').status == "ok"


@needs_node
def test_node_marshal_error(hw: Headwater, node_dir: Path) -> None:
    node(hw, node_dir, "circular", "index.circular")
    body = body_of(hw.lambda_.invoke_function("circular", b"{}"))
    assert body["errorType"] == "Error"
    assert body["errorMessage"] == "Unable to stringify response body"


def _zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@needs_node
def test_node_layers_are_on_the_module_path_as_in_opt(hw: Headwater, tmp_path: Path) -> None:
    # AWS: NODE_PATH=/opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:...
    shared = _zip_of(
        {
            "nodejs/node_modules/greeter/index.js": "exports.greet = (n) => `hello ${n}`;\n",
            "nodejs/node_modules/version/index.js": "module.exports = 'shared';\n",
        }
    )
    specific = _zip_of(
        {"nodejs/node20/node_modules/version/index.js": "module.exports = 'node20';\n"}
    )
    arns = [
        hw.lambda_.publish_layer_version(LayerName=name, Content={"ZipFile": data})[
            "LayerVersionArn"
        ]
        for name, data in (("shared", shared), ("specific", specific))
    ]
    code = tmp_path / "code"
    code.mkdir()
    (code / "index.js").write_text(
        "exports.handler = async (event) => ({\n"
        "  greeting: require('greeter').greet(event.name),\n"
        "  version: require('version'),\n"
        "});\n"
    )
    # Since nodejs18.x an ES module's bare import finds layer packages too.
    (code / "esm.mjs").write_text(
        "import { greet } from 'greeter';\n"
        "import version from 'version';\n"
        "export const handler = async (event) => ({ greeting: greet(event.name), version });\n"
    )
    node(hw, code, "layered", "index.handler")
    node(hw, code, "layered_esm", "esm.handler")
    for name in ("layered", "layered_esm"):
        hw.lambda_.update_function_configuration(FunctionName=name, Layers=arns)
        result = hw.lambda_.invoke_function(name, b'{"name": "opt"}')
        assert (result.status, body_of(result)) == (
            "ok",
            {"greeting": "hello opt", "version": "node20"},
        )
    assert "Warning" not in hw.lambda_.function_logs("layered_esm")
    # Without the runtime-specific layer the shared copy is the one found.
    hw.lambda_.update_function_configuration(FunctionName="layered", Layers=arns[:1])
    result = hw.lambda_.invoke_function("layered", b'{"name": "again"}')
    assert body_of(result) == {"greeting": "hello again", "version": "shared"}


@needs_node
def test_node_concurrency_and_throttle(hw: Headwater, node_dir: Path) -> None:
    node(hw, node_dir, "pool", "index.sleep", reserved_concurrency=2, timeout=5)
    results = invoke_together(lambda: hw.lambda_.invoke_function("pool", b'{"seconds": 0.6}'), 3)
    assert sorted(r.status for r in results) == ["ok", "ok", "throttled"]


# -- provided (a shell bootstrap) --------------------------------------------------------------


def test_provided_bootstrap_answers_with_runtime_api_headers(
    hw: Headwater, shell_dir: Path
) -> None:
    shell(hw, shell_dir, "sh", "echo", timeout=9)
    first = hw.lambda_.invoke_function("sh", b'{"k": [1, 2]}')
    body = body_of(first)
    assert body["event"] == {"k": [1, 2]}
    assert body["requestId"] == first.request_id
    assert body["arn"] == "arn:aws:lambda:us-east-1:000000000000:function:sh"
    import time

    assert 8000 < body["deadline"] - time.time() * 1000 <= 9000
    second = hw.lambda_.invoke_function("sh", b"[]")
    assert body_of(second)["event"] == []
    assert hw.service("lambda").worker_pools.spawned == 1
    logs = hw.lambda_.function_logs("sh")
    assert logs.startswith("INIT_START Runtime Version: provided:al2023.headwater\t")
    assert "shell runtime ready" in logs and f"handling {second.request_id}" in logs


def test_provided_errors(hw: Headwater, shell_dir: Path) -> None:
    shell(hw, shell_dir, "fail", "fail")
    result = hw.lambda_.invoke_function("fail", b"{}")
    assert result.function_error == "Unhandled"
    assert body_of(result) == {
        "errorMessage": "shell says no",
        "errorType": "Custom.Failure",
        "stackTrace": [],
    }
    shell(hw, shell_dir, "plain", "not_json")
    assert body_of(hw.lambda_.invoke_function("plain", b"{}")) == {
        "errorType": "Custom.Plain",
        "errorMessage": "plain words",
    }


def test_provided_timeout_exit_and_oom(hw: Headwater, shell_dir: Path) -> None:
    shell(hw, shell_dir, "slow", "sleep", timeout=1)
    slow = hw.lambda_.invoke_function("slow", b"{}")
    assert body_of(slow)["errorType"] == "Sandbox.Timedout"
    shell(hw, shell_dir, "exit", "exit")
    exited = hw.lambda_.invoke_function("exit", b"{}")
    assert body_of(exited)["errorMessage"].endswith("Runtime exited with error: exit status 3")
    assert body_of(exited)["errorType"] == "Runtime.ExitError"
    shell(hw, shell_dir, "hog", "hog", memory_size=128)
    assert body_of(hw.lambda_.invoke_function("hog", b"{}"))["errorType"] == "Runtime.OutOfMemory"


def test_provided_init_failures(hw: Headwater, shell_dir: Path, tmp_path: Path) -> None:
    shell(hw, shell_dir, "init", "init_error")
    result = hw.lambda_.invoke_function("init", b"{}")
    # The function's log names what failed if the runtime died first (seen in CI under
    # load: Runtime.ExitError, its init error answered 404; see the test above).
    assert body_of(result) == {
        "errorMessage": "cannot start",
        "errorType": "Custom.InitFailure",
    }, hw.lambda_.function_logs("init")
    assert "init is failing" in hw.lambda_.function_logs("init")
    shell(hw, shell_dir, "crash", "crash_init")
    crashed = hw.lambda_.invoke_function("crash", b"{}")
    assert body_of(crashed)["errorType"] == "Runtime.ExitError"
    assert body_of(crashed)["errorMessage"].endswith("exit status 7")
    empty = tmp_path / "empty"
    empty.mkdir()
    shell(hw, empty, "nobootstrap", "x")
    missing = body_of(hw.lambda_.invoke_function("nobootstrap", b"{}"))
    assert missing == {
        "errorType": "Runtime.InvalidEntrypoint",
        "errorMessage": f"Couldn't find valid bootstrap(s): [{empty.resolve()}/bootstrap]",
    }
    assert "Error Type: Runtime.InvalidEntrypoint" in hw.lambda_.function_logs("nobootstrap")


def test_a_runtime_may_call_the_api_before_its_environment_is_made(
    hw: Headwater, shell_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bootstrap's first request can come before the thread that started it has made
    its environment (the cause of both init tests' rare failures under load: the request
    was answered 404 and the runtime exited). That thread is held up here, as a loaded
    machine does: the requests wait for the environment."""
    from headwater.runtime import api_environment

    start = api_environment.start_process

    def start_then_stall(*args: Any, **kwargs: Any) -> Any:
        process = start(*args, **kwargs)
        time.sleep(0.5)  # the bootstrap reaches the API in a few ms meanwhile
        return process

    monkeypatch.setattr(api_environment, "start_process", start_then_stall)
    shell(hw, shell_dir, "init", "init_error")
    assert body_of(hw.lambda_.invoke_function("init", b"{}")) == {
        "errorMessage": "cannot start",
        "errorType": "Custom.InitFailure",
    }, hw.lambda_.function_logs("init")
    shell(hw, shell_dir, "echo", "echo")
    answered = hw.lambda_.invoke_function("echo", b'{"a": 1}')
    assert (answered.status, body_of(answered)["event"]) == ("ok", {"a": 1})


def test_provided_response_over_6_mb(hw: Headwater, shell_dir: Path) -> None:
    shell(hw, shell_dir, "big", "big")
    result = hw.lambda_.invoke_function("big", b"{}")
    assert result.function_error == "Unhandled"
    assert body_of(result) == {
        "errorMessage": "Response payload size exceeded maximum allowed payload size "
        "(6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }
    # what the runtime was told comes after the invocation ended: in the next one's log
    hw.lambda_.invoke_function("big", b"{}")
    assert "runtime api said 413" in hw.lambda_.function_logs("big")


def test_image_functions_are_refused_clearly(hw: Headwater) -> None:
    client = hw.client("lambda")
    with pytest.raises(client.exceptions.InvalidParameterValueException) as caught:
        client.create_function(
            FunctionName="img",
            PackageType="Image",
            Code={"ImageUri": "000000000000.dkr.ecr.us-east-1.amazonaws.com/app:latest"},
            Role="arn:aws:iam::000000000000:role/r",
        )
    assert "without a container engine" in caught.value.response["Error"]["Message"]
