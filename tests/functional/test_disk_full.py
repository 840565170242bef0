"""A full data directory: AWS's 503 ServiceUnavailable saying so, logged once, nothing
lost, and writes work again as soon as there is room, without a restart.

The disk fills for real as far as SQLite can tell: ``PRAGMA max_page_count`` caps the
file, and SQLite answers SQLITE_FULL exactly as on a full file system.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from headwater.api import errors
from tests.asgi_boto import in_process_aws

BODY = "x" * 2000


def cap_file(hw: Headwater, spare_pages: int) -> None:
    conn = hw.database.conn
    with hw.database.read():
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + spare_pages}")


def test_full_disk_is_service_unavailable_then_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(errors, "_disk_full_logged", False)
    with Headwater(data_dir=tmp_path, clock=ManualClock()) as hw, in_process_aws(hw) as aws:
        sqs = aws.client("sqs")
        kinesis = aws.client("kinesis")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        kinesis.create_stream(StreamName="s", ShardCount=1)
        hw.database.checkpoint()
        cap_file(hw, spare_pages=40)
        acknowledged: list[str] = []
        failures: list[ClientError] = []
        with caplog.at_level(logging.ERROR, logger="headwater.api.errors"):
            for index in range(400):
                try:
                    sqs.send_message(QueueUrl=url, MessageBody=f"{index}:{BODY}")
                except ClientError as error:
                    failures.append(error)
                else:
                    acknowledged.append(str(index))
            with pytest.raises(ClientError) as kinesis_full:
                for index in range(100):
                    kinesis.put_record(StreamName="s", Data=BODY.encode(), PartitionKey=str(index))
        assert acknowledged and len(failures) > 10
        for error in [*failures, kinesis_full.value]:
            assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 503
            assert error.response["Error"]["Code"] == "ServiceUnavailable"
            assert "data directory is full" in error.response["Error"]["Message"]
        full_lines = [r for r in caplog.records if "data directory is full" in r.getMessage()]
        assert len(full_lines) == 1
        assert not [r for r in caplog.records if r.exc_info]  # no traceback: not a bug

        cap_file(hw, spare_pages=100_000)  # space freed: no restart
        sqs.send_message(QueueUrl=url, MessageBody="after")
        kinesis.put_record(StreamName="s", Data=b"after", PartitionKey="p")
        received: list[str] = []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            received.extend(m["Body"].split(":", 1)[0] for m in batch)
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)
                ],
            )
        assert sorted(received) == sorted([*acknowledged, "after"])
