"""Observability of ``headwater serve`` end to end: the DLQ alarm under --time-scale, what
``aws logs tail --follow`` polls, ``headwater trace``/``logs``, Prometheus and the
dashboard's refusal of cross-site state changes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.server_process import (
    ServerProcess,
    boto_client,
    headwater_server,
    zip_of,
)
from tests.integration.observability_app import FIXED, alarm_state, deploy_app, wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with headwater_server(tmp_path_factory.mktemp("obs"), ["--time-scale", "60"]) as running:
        yield running


@pytest.fixture(scope="module")
def app(server: ServerProcess) -> dict[str, str]:
    return deploy_app(server)


def headwater_cli(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    command = "from headwater.cli.main import main; main()"
    return subprocess.run(
        [sys.executable, "-c", command, *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def follow_log(logs: Any, group: str, start_ms: int) -> Iterator[dict[str, Any]]:
    """The polling ``aws logs tail GROUP --follow`` does (AWS CLI v2's
    FollowLogEventsGenerator: FilterLogEvents with interleaved and startTime, next page by
    nextToken, then poll again from the newest timestamp, skipping event ids seen)."""
    params: dict[str, Any] = {"logGroupName": group, "interleaved": True, "startTime": start_ms}
    seen: dict[int, set[str]] = {}
    while True:
        response = logs.filter_log_events(**params)
        for event in response["events"]:
            ids = seen.setdefault(event["timestamp"], set())
            if event["eventId"] not in ids:
                ids.add(event["eventId"])
                yield event
        if seen:
            newest = max(seen)
            seen = {newest: seen[newest]}
        if "nextToken" in response:
            params["nextToken"] = response["nextToken"]
        else:
            params.pop("nextToken", None)
            if seen:
                params["startTime"] = max(seen)
            yield {}  # one poll done (the CLI sleeps 5 s here)


def test_dlq_alarm_goes_off_and_recovers_after_redrive(
    server: ServerProcess, app: dict[str, str]
) -> None:
    sqs = boto_client(server.endpoint, "sqs")
    logs = boto_client(server.endpoint, "logs")
    # Lambda creates the function's log group at its first invocation
    sqs.send_message(QueueUrl=app["url"], MessageBody="fine")
    wait_for(
        lambda: logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/digest")["logGroups"],
        what="the function's log group",
    )
    tail = follow_log(logs, "/aws/lambda/digest", int(time.time() * 1000))
    poisoned = sqs.send_message(QueueUrl=app["url"], MessageBody="poison")["MessageId"]

    # `aws logs tail --follow`: the invocation's lines arrive while we follow
    lines: list[str] = []

    def tailed() -> bool:
        for event in tail:
            if not event:
                return "handling poison\n" in lines and lines[-1].startswith("REPORT RequestId")
            lines.append(event["message"])
        return False

    wait_for(tailed, what="log lines of the poisoned invocation")
    assert any(line.startswith("START RequestId: ") for line in lines)
    assert "handling poison\n" in lines
    assert any(line.startswith("END RequestId: ") for line in lines)

    wait_for(
        lambda: (
            sqs.get_queue_attributes(QueueUrl=app["dlq_url"], AttributeNames=["All"])["Attributes"][
                "ApproximateNumberOfMessages"
            ]
            == "1"
        ),
        what="the poisoned message in the DLQ",
    )
    wait_for(lambda: alarm_state(server) == "ALARM", what="the DLQ alarm")

    trace = headwater_cli(server, "trace", poisoned, "--endpoint-url", server.endpoint)
    assert trace.returncode == 0, trace.stderr
    assert trace.stdout.count("received from orders") == 2
    assert f"error: ValueError: cannot digest {poisoned}" in trace.stdout
    assert "moved to the dead-letter queue orders-dlq" in trace.stdout
    assert "| handling poison" in trace.stdout

    # fix the function, then redrive the DLQ back to its source
    lam = boto_client(server.endpoint, "lambda")
    lam.update_function_code(FunctionName="digest", ZipFile=zip_of(FIXED))
    sqs.start_message_move_task(SourceArn=app["dlq_arn"])
    wait_for(lambda: alarm_state(server) == "OK", what="the alarm back to OK")
    more: list[str] = []

    def digested() -> bool:
        for event in tail:
            if not event:
                return "digested poison\n" in more
            more.append(event["message"])
        return False

    wait_for(digested, what="the redriven message's log line")
    logs_cli = headwater_cli(
        server, "logs", "digest", "--region", "us-west-2", "--data-dir", str(server.data_dir)
    )
    assert "handling poison" in logs_cli.stdout and "digested poison" in logs_cli.stdout


def _get(server: ServerProcess, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(server.endpoint + path, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_prometheus_metrics_cover_the_grafana_dashboard(
    server: ServerProcess, app: dict[str, str]
) -> None:
    status, text = _get(server, "/metrics")
    assert status == 200
    assert re.search(r'headwater_sqs_messages_visible\{queue="orders",region="[\w-]+"\}', text)
    assert "headwater_esm_invoked_events_total" in text
    exported = {
        name.removesuffix("_total") for name in re.findall(r"^# TYPE (headwater_\w+) ", text, re.M)
    }
    dashboard = json.loads((ROOT / "examples" / "grafana" / "headwater-dashboard.json").read_text())
    wanted = {
        re.sub(r"_total$", "", name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"headwater_\w+", target["expr"])
    }
    assert wanted <= exported, wanted - exported


def _post(server: ServerProcess, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(
        server.endpoint + "/_headwater/api/redrive", data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_dashboard_refuses_cross_site_redrive(server: ServerProcess, app: dict[str, str]) -> None:
    form = f"source_arn={app['dlq_arn']}".encode()
    simple = {"Content-Type": "application/x-www-form-urlencoded"}
    # what a cross-site <form> or fetch without preflight can send
    assert _post(server, form, simple) == 403
    assert _post(server, form, {**simple, "Origin": "http://evil.example"}) == 403
    dashboard = {**simple, "X-Headwater-Dashboard": "1"}
    assert _post(server, form, {**dashboard, "Origin": "http://evil.example"}) == 403
    assert _post(server, form, {**dashboard, "Sec-Fetch-Site": "cross-site"}) == 403
    host = server.endpoint.removeprefix("http://")
    assert _post(server, form, {**dashboard, "Origin": f"http://{host}"}) == 200
    status, page = _get(server, "/_headwater/")
    assert status == 200 and "Event source mappings" in page
    status, _ = _get(server, "/_headwater/static/htmx.min.js")
    assert status == 200
