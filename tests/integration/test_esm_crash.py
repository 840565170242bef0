"""At-least-once across a crash: a real headwater process running a mapping is killed
with SIGKILL mid-processing; after a restart every message is processed and none is lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater import Headwater
from headwater.testing import queue_counts, wait_for_drain
from tests.integration.killed_midway import journal_lines, kill_midway

pytestmark = pytest.mark.integration

HANDLER = """
import os, time

def handler(event, context):
    with open(os.environ["JOURNAL"], "a", encoding="utf-8") as out:
        for record in event["Records"]:
            out.write(record["body"] + "\\n")
        out.flush()
    time.sleep(0.05)
"""

MESSAGES = 600


def test_sigkill_mid_processing_loses_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code = tmp_path / "code"
    code.mkdir()
    (code / "crash_app.py").write_text(HANDLER)
    journal = tmp_path / "journal"
    with Headwater(data_dir=data) as hw:
        sqs = hw.client("sqs")
        url = sqs.create_queue(QueueName="jobs", Attributes={"VisibilityTimeout": "2"})["QueueUrl"]
        arn = hw.service("sqs").queue_info("arn:aws:sqs:us-east-1:000000000000:jobs").arn
        hw.lambda_.create_function_from_directory(
            "worker", code, "crash_app.handler", timeout=1, environment={"JOURNAL": str(journal)}
        )
        hw.client("lambda").create_event_source_mapping(
            FunctionName="worker", EventSourceArn=arn, BatchSize=5
        )
        for start in range(0, MESSAGES, 10):
            sqs.send_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(start, start + 10)],
            )

    kill_midway(data, journal, MESSAGES // 4)
    processed_before = set(journal_lines(journal))
    assert len(processed_before) < MESSAGES, "killed too late to test anything"

    with Headwater(data_dir=data).start() as hw:
        wait_for_drain(hw, url, timeout=60)
        assert sum(queue_counts(hw, url).values()) == 0
    processed = journal.read_text().split()
    assert set(processed) == {f"m{i}" for i in range(MESSAGES)}  # none lost
    assert len(processed) >= MESSAGES  # at least once (a few twice: in flight at the kill)
