"""``headwater serve`` as a process: startup banner, health, bad input, clean shutdown."""

from __future__ import annotations

import http.client
import signal
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.conformance.server_process import free_port, headwater_server, stop

pytestmark = pytest.mark.integration


#: What every AWS SDK sends: a SigV4 Authorization header (read, not verified, by default).
SIGNED = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-west-2/sqs/aws4_request, "
    "SignedHeaders=host, Signature=0"
}


def _request(
    endpoint: str, method: str, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    host = endpoint.removeprefix("http://")
    conn = http.client.HTTPConnection(host, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return response.status, headers, response.read()
    finally:
        conn.close()


def test_serve_health_bad_requests_and_sigterm(tmp_path: Path) -> None:
    with headwater_server(tmp_path, ["--time-scale", "10"]) as server:
        status, _, body = _request(server.endpoint, "GET", "/_headwater/health", b"", {})
        assert status == 200
        health = orjson.loads(body)
        assert health["status"] == "ok"
        assert health["endpoint"] == server.endpoint
        assert health["data_dir"] == str(server.data_dir)

        # malformed JSON, an unknown target and an unknown path: AWS-shaped 4xx, no traceback
        status, headers, body = _request(
            server.endpoint,
            "POST",
            "/",
            b"{oops",
            {
                **SIGNED,
                "X-Amz-Target": "AmazonSQS.ListQueues",
                "Content-Type": "application/x-amz-json-1.0",
            },
        )
        assert status == 400
        assert orjson.loads(body)["__type"].endswith("#SerializationException")
        assert int(headers["content-length"]) == len(body)
        status, _, body = _request(
            server.endpoint, "POST", "/", b"{}", {**SIGNED, "X-Amz-Target": "Nope.Op"}
        )
        assert status == 400
        assert b"UnknownOperationException" in body
        status, _, _ = _request(server.endpoint, "GET", "/no/such/thing", b"", SIGNED)
        assert status == 404
        # still serving
        status, _, _ = _request(server.endpoint, "GET", "/_headwater/health", b"", {})
        assert status == 200

        assert stop(server.process) == 0
        output = server.output()
        assert f"headwater serving on {server.endpoint} (time scale 10x)" in output
        assert f"data directory: {server.data_dir}" in output
        assert "headwater stopped" in output
        assert "Traceback" not in output


def test_sigint_stops_cleanly(tmp_path: Path) -> None:
    with headwater_server(tmp_path) as server:
        server.process.send_signal(signal.SIGINT)
        assert server.process.wait(timeout=15) == 0
        assert "headwater stopped" in server.output()


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from headwater.cli.main import main; main()", "serve"]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_port_in_use_fails_with_one_line_before_any_banner(tmp_path: Path) -> None:
    with headwater_server(tmp_path / "a") as server:
        port = server.endpoint.rsplit(":", 1)[1]
        result = _serve("--port", port, "--data-dir", str(tmp_path / "b"))
    assert result.returncode == 1
    assert "serving on" not in result.stdout
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"headwater: error: cannot serve on 127.0.0.1:{port}: the port is in use "
        "(choose another with --port)"
    ]
    assert not (tmp_path / "b").exists()  # nothing was started or created


@pytest.mark.parametrize("app_text", [None, "QUEUES = []\n"])
def test_example_without_deploy_is_one_line(tmp_path: Path, app_text: str | None) -> None:
    example = tmp_path / "example"
    example.mkdir()
    if app_text is not None:
        (example / "app.py").write_text(app_text)
    result = _serve(
        "--port", str(free_port()), "--data-dir", str(tmp_path / "d"), "--example", str(example)
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "serving on" not in result.stdout
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("headwater: error: ")
    assert "deploy(hw)" in line


def test_a_second_server_on_one_data_directory_says_so(tmp_path: Path) -> None:
    with headwater_server(tmp_path) as first:
        with headwater_server(tmp_path) as second:  # same tmp_path: same data directory
            assert second.data_dir == first.data_dir
            assert stop(second.process) == 0
            output = second.output()
            assert (
                f"note: another headwater server (pid {first.process.pid}, {first.endpoint})"
                f" runs on {first.data_dir}" in output
            ), output
        assert "another headwater server" not in first.output()
    with headwater_server(tmp_path) as third:  # the others stopped: nothing to say
        assert stop(third.process) == 0
        assert "another headwater server" not in third.output()
