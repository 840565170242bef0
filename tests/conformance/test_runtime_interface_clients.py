"""AWS's own runtime interface clients through headwater's Runtime API, against headwater's
fast paths: awslambdaric (PyPI) vs the Python worker, aws-lambda-ric (npm) vs headwater's
Node bootstrap. Each handler runs both ways and must answer the same (payload, error shape,
function error), request ids and file paths aside: the clients are AWS's reference for
what a runtime does, so this is where the fast paths prove they behave identically."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from headwater import Headwater
from tests.integration.runtime_api_fixtures import needs_node, node_code, node_tools

pytestmark = pytest.mark.integration

PYTHON_HANDLERS = """
import decimal, json, os

def echo(event, context):
    return {"event": event, "has_rid": bool(context.aws_request_id),
            "fn": context.function_name, "mem": context.memory_limit_in_mb,
            "ver": context.function_version, "left": context.get_remaining_time_in_millis() > 0}

def fail(event, context):
    raise ValueError("Handler fails")

def not_json(event, context):
    return {1, 2}

def decimal_ok(event, context):
    return {"d": decimal.Decimal("1.5")}

def none(event, context):
    return None
"""


def normalized(result: Any) -> tuple[str | None, Any]:
    """(FunctionError, payload) with run-specific values masked."""
    body = orjson.loads(result.payload) if result.payload else None
    text = orjson.dumps(body).decode()
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<rid>", text)
    text = re.sub(r'File \\"[^"]*/', 'File \\"', text)
    return result.function_error, orjson.loads(text)


@pytest.fixture
def python_code(tmp_path: Path) -> Path:
    code = tmp_path / "py"
    code.mkdir()
    (code / "handlers.py").write_text(PYTHON_HANDLERS)
    (code / "broken.py").write_text("import uvicorn\n")
    (code / "syntax.py").write_text("def handler(:\n")
    (code / "raises.py").write_text("raise KeyError('SETTING')\n")
    return code


PYTHON_CASES = [
    "handlers.echo",
    "handlers.fail",
    "handlers.not_json",
    "handlers.decimal_ok",
    "handlers.none",
    "handlers.missing",
    "broken.handler",
    "syntax.handler",
    "raises.handler",
    "handlers",
]


def test_python_worker_answers_like_awslambdaric(python_code: Path) -> None:
    runtime = "python3.11"
    with (
        Headwater.in_memory() as ours_hw,
        Headwater.in_memory(function_python_runtime_client="awslambdaric") as theirs_hw,
    ):
        for number, handler in enumerate(PYTHON_CASES):
            for app in (ours_hw, theirs_hw):
                app.lambda_.create_function_from_directory(
                    f"p{number}", python_code, handler, runtime=runtime
                )
            payload = b'{"k": [1, "two"]}'
            ours = normalized(ours_hw.lambda_.invoke_function(f"p{number}", payload))
            theirs = normalized(theirs_hw.lambda_.invoke_function(f"p{number}", payload))
            if handler == "raises.handler":  # importlib's frames differ in line numbers
                for side in (ours, theirs):
                    side[1]["stackTrace"] = side[1]["stackTrace"][-1:]
            assert ours == theirs, handler
        # awslambdaric's own log format for the same failure
        assert "[ERROR] Runtime.ImportModuleError: Unable to import module 'broken'" in (
            theirs_hw.lambda_.function_logs(f"p{PYTHON_CASES.index('broken.handler')}")
        )


NODE_CASES = [
    "index.echo",
    "index.logs",
    "index.callback",
    "index.silent",
    "index.fail",
    "index.callbackError",
    "index.circular",
    "esm.handler",
    "typed/app.handler",
    "index.nested.deeper.handler",
    "index.nope",
    "index",
    "missing.handler",
    "syntax.handler",
    "throws.handler",
]


def node_normalized(result: Any) -> tuple[str | None, Any]:
    """Node payloads without stack frames (they name each client's own files)."""
    error, body = normalized(result)
    if isinstance(body, dict) and "trace" in body:
        body["trace"] = body["trace"][:1]
        body["errorMessage"] = body["errorMessage"].split("\nRequire stack:")[0]
        body["trace"] = [line.split("\nRequire stack:")[0] for line in body["trace"]]
    return error, body


@needs_node
def test_node_bootstrap_answers_like_aws_lambda_ric(tmp_path: Path) -> None:
    ric = node_tools() / "node_modules" / "aws-lambda-ric"
    code = node_code(tmp_path / "node")
    with (
        Headwater.in_memory(function_node_runtime_client=str(ric)) as theirs_hw,
        Headwater.in_memory() as ours_hw,
    ):
        for number, handler in enumerate(NODE_CASES):
            for app in (ours_hw, theirs_hw):
                app.lambda_.create_function_from_directory(
                    f"n{number}", code, handler, runtime="nodejs20.x"
                )
            payload = b'{"n": 4, "wait": true}'
            ours = node_normalized(ours_hw.lambda_.invoke_function(f"n{number}", payload))
            theirs = node_normalized(theirs_hw.lambda_.invoke_function(f"n{number}", payload))
            assert ours == theirs, handler
            assert console_lines(ours_hw, f"n{number}") == console_lines(theirs_hw, f"n{number}"), (
                handler
            )
        assert "via aws-lambda-ric" not in ours_hw.lambda_.function_logs("n0")


def console_lines(hw: Headwater, name: str) -> list[str]:
    """The function's console lines: level and message (time and request id masked), for
    the handler's own lines and the runtime's error reports, stack frames cut."""
    found = []
    for line in hw.lambda_.function_logs(name).split("\n"):
        fields = line.split("\t")
        if len(fields) >= 4 and fields[2] in ("INFO", "WARN", "ERROR"):
            message = "\t".join(fields[3:]).split('"stack"')[0].split('"trace"')[0]
            message = message.split("\\nRequire stack:")[0]  # names each client's file
            found.append(f"{fields[2]} {message}")
    return found
