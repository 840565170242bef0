"""The seed's SAM application deployed with ``headwater deploy`` into a running server.

The order demo runs through it (a failing order reaches the DLQ after three receives), a
changed BatchSize updates the mapping in place, ``--watch`` puts edited code live, and
``headwater destroy`` removes everything.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.server_process import ServerProcess, boto_client, headwater_server
from tests.integration.deploy_tools import function_log

pytestmark = pytest.mark.integration

SEED000 = Path(__file__).resolve().parents[1] / "data" / "apps" / "seed000-sam"
HEADWATER = [sys.executable, "-c", "from headwater.cli.main import main; main()"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # 180 s visibility timeouts pass in 3 s (longer than a cold start on a loaded machine,
    # so a message is not redelivered while its batch runs); function timeouts stay real.
    with headwater_server(tmp_path_factory.mktemp("serve"), ["--time-scale", "60"]) as running:
        yield running


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    target = tmp_path / "seed000-sam"
    shutil.copytree(SEED000, target)
    return target


def headwater(server: ServerProcess, *args: str, timeout: float = 120) -> str:
    completed = subprocess.run(
        [*HEADWATER, *args, "--endpoint-url", server.endpoint],
        capture_output=True,
        text=True,
        env={**server.client_env(), "COLUMNS": "200"},
        timeout=timeout,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def outputs(cfn: Any, stack: str) -> dict[str, str]:
    found = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}


def wait_for_message(sqs: Any, url: str, deadline_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        found = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
        if found:
            message: dict[str, Any] = found[0]
            return message
    raise AssertionError(f"no message in {url} within {deadline_s} s")


def test_seed000_deploys_runs_updates_and_is_destroyed(
    server: ServerProcess, app_dir: Path
) -> None:
    template = app_dir / "template.yaml"
    printed = headwater(server, "deploy", str(template), "--stack-name", "seed000")
    assert "seed000: CREATE_COMPLETE" in printed
    cfn = boto_client(server.endpoint, "cloudformation")
    sqs = boto_client(server.endpoint, "sqs")
    lam = boto_client(server.endpoint, "lambda")
    out = outputs(cfn, "seed000")
    mapping = lam.list_event_source_mappings(FunctionName=out["ProcessOrderFnName"])
    (order_mapping,) = mapping["EventSourceMappings"]
    assert order_mapping["BatchSize"] == 10
    assert order_mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

    # the seed's order demo: ORD-002 fails, is received three times, then sits in the DLQ
    sqs.send_message(
        QueueUrl=out["OrderQueueUrl"], MessageBody='{"orderId":"ORD-001","amount":99.99}'
    )
    sqs.send_message(
        QueueUrl=out["OrderQueueUrl"], MessageBody='{"orderId":"ORD-002","amount":50,"fail":true}'
    )
    dead = wait_for_message(sqs, out["OrderDLQUrl"])
    assert json.loads(dead["Body"])["orderId"] == "ORD-002"
    logs = function_log(server, out["ProcessOrderFnName"])
    assert logs.count("Success: ORD-001") == 1
    assert logs.count("Processing order: ORD-002") == 3

    # a changed BatchSize updates the mapping in place (same UUID)
    template.write_text(template.read_text().replace("BatchSize: 10", "BatchSize: 5"))
    printed = headwater(server, "deploy", str(template), "--stack-name", "seed000")
    assert "seed000: UPDATE_COMPLETE" in printed
    updated = lam.get_event_source_mapping(UUID=order_mapping["UUID"])
    assert updated["BatchSize"] == 5

    printed = headwater(server, "stacks")
    assert "seed000" in printed and "UPDATE_COMPLETE" in printed
    headwater(server, "destroy", "seed000")
    assert sqs.list_queues().get("QueueUrls", []) == []
    assert lam.list_functions()["Functions"] == []
    assert lam.list_event_source_mappings()["EventSourceMappings"] == []
    kinesis = boto_client(server.endpoint, "kinesis")
    assert kinesis.list_streams()["StreamNames"] == []


def test_watch_puts_edited_code_live(server: ServerProcess, app_dir: Path) -> None:
    template = app_dir / "template.yaml"
    command = [
        *HEADWATER,
        "deploy",
        str(template),
        "--stack-name",
        "watched",
        "--watch",
        "--endpoint-url",
        server.endpoint,
    ]
    watcher = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**server.client_env(), "COLUMNS": "200"},
    )
    try:
        read_until(watcher, "Ctrl-C stops")
        lam = boto_client(server.endpoint, "lambda")
        name = outputs(boto_client(server.endpoint, "cloudformation"), "watched")[
            "ProcessStreamFnName"
        ]
        handler = app_dir / "src" / "stream_app.py"
        handler.write_text("def handler(event, context):\n    return 'edited'\n")
        read_until(watcher, f"updated code of {name}")
        answer = lam.invoke(FunctionName=name, Payload=b'{"Records": []}')
        assert json.loads(answer["Payload"].read()) == "edited"
    finally:
        watcher.terminate()
        watcher.wait(timeout=15)
    headwater(server, "destroy", "watched")


def read_until(process: subprocess.Popen[str], text: str, deadline_s: float = 60) -> str:
    assert process.stdout is not None
    seen = []
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return "".join(seen)
    raise AssertionError(f"{text!r} never printed; got:\n{''.join(seen)}")
