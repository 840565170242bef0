"""The AWS SDK for JavaScript v3 (npm) against ``headwater serve``, endpoint changed only:
SQS over HTTP/1.1 and HTTP/2, Kinesis over HTTP/2 with prior knowledge (its default),
Lambda over HTTP/1.1, all on the one port."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conformance.server_process import headwater_server, zip_of
from tests.integration.runtime_api_fixtures import node_tools

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed"),
]

SCRIPT = Path(__file__).parent / "js" / "sdk_v3_clients.cjs"
HANDLER = "def handler(event, context):\n    return {'n': event['n'] + 1}\n"


def test_js_sdk_v3_clients_over_http1_and_http2(tmp_path: Path) -> None:
    tools = node_tools()
    function_zip = tmp_path / "fn.zip"
    function_zip.write_bytes(zip_of(HANDLER))
    with headwater_server(tmp_path) as server:
        env = {
            **server.client_env(),
            "NODE_PATH": str(tools / "node_modules"),
            "HEADWATER_ENDPOINT": server.endpoint,
            "HEADWATER_FUNCTION_ZIP": str(function_zip),
        }
        done = subprocess.run(
            ["node", str(SCRIPT)], check=False, env=env, capture_output=True, text=True, timeout=180
        )
        assert done.returncode == 0, done.stderr[-3000:] + server.output()[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["sqs_http1"] == {"body": "hello js-http1", "missing": "QueueDoesNotExist"}
    assert result["sqs_http2"] == {"body": "hello js-http2", "missing": "QueueDoesNotExist"}
    assert result["kinesis"] == {
        "handler": "NodeHttp2Handler",
        "data": ["one", "two", "three"],
        "missing": "ResourceNotFoundException",
    }
    assert result["lambda"] == {
        "status": 200,
        "payload": {"n": 42},
        "missing": "ResourceNotFoundException",
    }
    assert "Invalid HTTP request" not in server.output()
