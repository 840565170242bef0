"""At-least-once across a crash for DynamoDB stream mappings: a real headwater process
running a mapping on a table's stream is killed with SIGKILL mid-processing; after a
restart the mapping resumes from its checkpoints and every change is processed, none lost,
each item's changes in order."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from headwater import Headwater
from tests.integration.killed_midway import journal_lines, kill_midway

pytestmark = pytest.mark.integration

HANDLER = """
import os, time

def handler(event, context):
    with open(os.environ["JOURNAL"], "a", encoding="utf-8") as out:
        for record in event["Records"]:
            image = record["dynamodb"]["NewImage"]
            out.write(image["id"]["S"] + ":" + image["n"]["N"] + "\\n")
        out.flush()
    time.sleep(0.05)  # slow enough that the kill lands mid-processing on a loaded machine
"""

ITEMS = 40
VERSIONS = 30
CHANGES = ITEMS * VERSIONS


def test_sigkill_mid_processing_loses_no_change(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code = tmp_path / "code"
    code.mkdir()
    (code / "ddb_crash_app.py").write_text(HANDLER)
    journal = tmp_path / "journal"
    with Headwater(data_dir=data) as hw:
        ddb = hw.client("dynamodb", validate=False)
        arn = ddb.create_table(
            TableName="events",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )["TableDescription"]["LatestStreamArn"]
        hw.lambda_.create_function_from_directory(
            "worker", code, "ddb_crash_app.handler", environment={"JOURNAL": str(journal)}
        )
        hw.client("lambda").create_event_source_mapping(
            FunctionName="worker",
            EventSourceArn=arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=10,
            ParallelizationFactor=2,
        )
        for version in range(VERSIONS):
            for item in range(ITEMS):
                ddb.put_item(
                    TableName="events",
                    Item={"id": {"S": f"i{item}"}, "n": {"N": str(version)}},
                )

    kill_midway(data, journal, CHANGES // 4)
    before = set(journal_lines(journal))
    assert len(before) < CHANGES, "killed too late to test anything"

    expected = {f"i{item}:{version}" for item in range(ITEMS) for version in range(VERSIONS)}
    with Headwater(data_dir=data).start():
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and set(journal_lines(journal)) != expected:
            time.sleep(0.05)
    lines = journal_lines(journal)
    assert set(lines) == expected  # none lost
    # per item, versions arrive in order (a repeat after the restart goes back, then on)
    for item in range(ITEMS):
        seen = [int(line.split(":")[1]) for line in lines if line.startswith(f"i{item}:")]
        firsts = [v for i, v in enumerate(seen) if v not in seen[:i]]
        assert firsts == list(range(VERSIONS))
    assert len(lines) - CHANGES <= 2 * (2 * 10 * 2)
