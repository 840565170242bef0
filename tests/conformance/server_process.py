"""A real ``headwater serve`` subprocess for tests that speak HTTP to it."""

from __future__ import annotations

import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HEALTH_PATH = "/_headwater/health"
#: Environment for boto3 / the AWS CLI: any credentials work, region from the signature.
CLIENT_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIDHEADWATERTEST",
    "AWS_SECRET_ACCESS_KEY": "secret",
    "AWS_DEFAULT_REGION": "us-west-2",
    "AWS_REGION": "us-west-2",
}


def zip_of(source: str, name: str = "app.py") -> bytes:
    """A function zip with one module."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, source)
    return buffer.getvalue()


def boto_client(
    endpoint: str, service: str, region: str = "us-west-2", *, attempts: int = 1
) -> Any:
    """A boto3 client for a test server: dummy credentials, few retries, long reads."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=CLIENT_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CLIENT_ENV["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"max_attempts": attempts}, read_timeout=60),
    )


@dataclass
class ServerProcess:
    endpoint: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client_env(self) -> dict[str, str]:
        """An environment for the AWS CLI with dummy credentials and no user config."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(CLIENT_ENV)
        env["AWS_CONFIG_FILE"] = os.devnull
        env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
        return env


def request_over_http(
    server: ServerProcess, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict[str, str], list[str], bytes]:
    """Status, headers (lower-cased names), ``Set-Cookie`` values and body of one request
    to the server over a real HTTP/1.1 socket to 127.0.0.1 (``headers`` may name another
    ``Host``: ``*.localhost`` names may not resolve where the test runs)."""
    port = urlsplit(server.endpoint).port
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        cookies = response.headers.get_all("set-cookie") or []
        found = {k.lower(): v for k, v in response.getheaders()}
        return response.status, found, cookies, response.read()
    finally:
        connection.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_healthy(endpoint: str, process: subprocess.Popen[bytes], deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"headwater serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(endpoint + HEALTH_PATH, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"headwater serve not healthy after {deadline_s}s")


@contextmanager
def headwater_server(
    tmp_path: Path, extra_args: Sequence[str] = (), *, startup_deadline_s: float = 30.0
) -> Iterator[ServerProcess]:
    """Start ``headwater serve`` on 127.0.0.1:<free port> with a fresh data dir; stop it
    with SIGTERM (then SIGKILL after 15 s) on exit."""
    port = free_port()
    data_dir = tmp_path / "hw-data"
    tmp_path.mkdir(parents=True, exist_ok=True)
    log_path = tmp_path / f"serve-{port}.log"
    command = [
        sys.executable,
        "-c",
        "from headwater.cli.main import main; main()",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        *extra_args,
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONUNBUFFERED"] = "1"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    endpoint = f"http://127.0.0.1:{port}"
    server = ServerProcess(endpoint, data_dir, process, log_path)
    try:
        try:
            wait_healthy(endpoint, process, startup_deadline_s)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{exc}\n--- server output ---\n{server.output()}") from None
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], timeout_s: float = 15.0) -> int:
    """SIGTERM, wait, SIGKILL if needed; returns the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


AWS_CLI = Path(sys.executable).parent / "aws"


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout) if self.stdout.strip() else None


def aws_cli(
    server: ServerProcess,
    *args: str,
    check: bool = True,
    cwd: Path | None = None,
    env_overrides: dict[str, str] | None = None,
    stdin: str | None = None,
) -> CliResult:
    """Run the AWS CLI against ``server`` (``--endpoint-url``), JSON output, no retries;
    ``env_overrides`` replace variables of its environment (a config file, a secret),
    ``stdin`` is what it reads there (``aws s3 cp - ...``)."""
    env = server.client_env()
    env.update(env_overrides or {})
    env["AWS_MAX_ATTEMPTS"] = "1"
    env["AWS_RETRY_MODE"] = "standard"
    env["AWS_PAGER"] = ""
    completed = subprocess.run(
        [str(AWS_CLI), "--endpoint-url", server.endpoint, "--output", "json", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=120,
        check=False,
        cwd=cwd,
    )
    result = CliResult(completed.returncode, completed.stdout, completed.stderr)
    if check and completed.returncode != 0:
        raise AssertionError(f"aws {' '.join(args)} failed:\n{completed.stderr}")
    return result
