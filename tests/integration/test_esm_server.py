"""Mappings in ``headwater serve``: the engine runs on the server's loop, boto3 drives it,
and a restarted server resumes the mapping."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.server_process import ServerProcess, boto_client, headwater_server, zip_of

pytestmark = pytest.mark.integration

HANDLER = """
import os

def handler(event, context):
    with open(os.environ["JOURNAL"], "a", encoding="utf-8") as out:
        for record in event["Records"]:
            out.write(record["body"] + "\\n")
    return {"batchItemFailures": []}
"""


def client(server: ServerProcess, service: str) -> Any:
    return boto_client(server.endpoint, service, attempts=3)


def journal_lines(path: Path, count: int, deadline_s: float = 30.0) -> list[str]:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        lines = path.read_text().split() if path.exists() else []
        if len(lines) >= count:
            return lines
        time.sleep(0.02)
    return path.read_text().split() if path.exists() else []


def test_mapping_runs_in_the_server_and_resumes_after_restart(tmp_path: Path) -> None:
    with headwater_server(tmp_path) as server:
        sqs = client(server, "sqs")
        lam = client(server, "lambda")
        journal = tmp_path / "journal"
        jobs = sqs.create_queue(QueueName="jobs")["QueueUrl"]
        jobs_arn = sqs.get_queue_attributes(QueueUrl=jobs, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        lam.create_function(
            FunctionName="relay",
            Runtime="python3.12",
            Role="arn:aws:iam::000000000000:role/r",
            Handler="app.handler",
            Code={"ZipFile": zip_of(HANDLER)},
            Environment={"Variables": {"JOURNAL": str(journal)}},
            Timeout=10,
        )
        mapping = lam.create_event_source_mapping(
            FunctionName="relay",
            EventSourceArn=jobs_arn,
            BatchSize=5,
            FunctionResponseTypes=["ReportBatchItemFailures"],
        )
        assert mapping["ResponseMetadata"]["HTTPStatusCode"] == 202
        assert mapping["State"] == "Creating"
        for i in range(7):
            sqs.send_message(QueueUrl=jobs, MessageBody=f"first-{i}")
        assert sorted(journal_lines(journal, 7)) == sorted(f"first-{i}" for i in range(7))
        got = lam.get_event_source_mapping(UUID=mapping["UUID"])
        assert got["State"] == "Enabled"
        assert got["LastModified"].tzinfo is not None
        data_dir = server.data_dir

    with headwater_server(tmp_path / "again", ["--data-dir", str(data_dir)]) as server:
        sqs = client(server, "sqs")
        jobs = sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
        sqs.send_message(QueueUrl=jobs, MessageBody="after-restart")
        assert journal_lines(journal, 8)[7:] == ["after-restart"]
