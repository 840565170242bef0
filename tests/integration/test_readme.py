"""The README's quick start and embedded snippet, run as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conformance.server_process import boto_client, headwater_server

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text("utf-8")


def blocks(section: str, language: str) -> list[str]:
    """The ``language`` code blocks of the README section titled ``section``."""
    start = README.index(f"## {section}\n")
    end = README.find("\n## ", start + 1)
    text = README[start : end if end != -1 else None]
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def script_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = str(home)  # so `headwater logs` reads ~/.headwater, the server's
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    return env


def test_quick_start_runs_as_a_script(tmp_path: Path) -> None:
    install, quick_start, build_your_own = blocks("Quick start with the AWS CLI", "bash")
    assert "pip install awscli" in install  # the dev extra has it already
    assert "alias" not in quick_start
    assert "sleep 10" not in quick_start
    example = ["--example", str(ROOT / "examples" / "orders"), "--time-scale", "60"]
    with headwater_server(tmp_path, example) as server:
        port = server.endpoint.rsplit(":", 1)[1]
        # the port is in one variable: only that line changes for another port
        assert quick_start.count("4599") == 1
        script = quick_start.replace("PORT=4599", f"PORT={port}") + build_your_own
        home = tmp_path / "home"
        home.mkdir()
        (home / ".headwater").symlink_to(server.data_dir)
        work = tmp_path / "work"
        work.mkdir()
        done = subprocess.run(
            ["bash", "-e", "-c", script],
            cwd=work,
            env=script_env(home),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert '{"orderId": "B-2", "fail": true}' in done.stdout  # from the DLQ
        assert done.stdout.count("processed order A-1") == 1
        assert "processed order B-2" not in done.stdout
        # headwater's mapping log shows B-2 going round
        for receive in (1, 2, 3):
            assert f"(receive {receive}); they return to the queue" in server.output()
        lam = boto_client(server.endpoint, "lambda", "us-east-1")
        [mapping] = lam.list_event_source_mappings(FunctionName="worker")["EventSourceMappings"]
        assert mapping["EventSourceArn"].endswith(":jobs")


def test_embedded_snippet_is_safe_to_run_twice(tmp_path: Path) -> None:
    [snippet] = blocks("Embedded, from Python", "python")
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", snippet],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    assert (tmp_path / ".headwater").is_dir()
