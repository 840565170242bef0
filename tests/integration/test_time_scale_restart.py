"""``headwater serve --time-scale`` stopped and started again on its data directory: the
clock goes on from where it was, so in-flight messages are not hidden for longer and
timestamps never go back."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conformance.server_process import boto_client, headwater_server, stop

pytestmark = pytest.mark.integration

SCALE = "60"
#: Clock seconds: 2 s of real time at 60x.
VISIBILITY = 120


def test_a_restart_continues_the_scaled_clock(tmp_path: Path) -> None:
    with headwater_server(tmp_path, ["--time-scale", SCALE]) as server:
        sqs = boto_client(server.endpoint, "sqs")
        url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="in flight")
        [taken] = sqs.receive_message(
            QueueUrl=url, VisibilityTimeout=VISIBILITY, AttributeNames=["SentTimestamp"]
        )["Messages"]
        time.sleep(3.0)  # real time: the clock is now some 180 s past the receive
        assert stop(server.process) == 0
    with headwater_server(tmp_path, ["--time-scale", SCALE]) as server:
        sqs = boto_client(server.endpoint, "sqs")
        # The visibility timeout (120 clock s) lapsed before the restart: visible at once.
        # A clock restarted from the wall clock would be minutes behind and hide it.
        again = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
        assert [m["MessageId"] for m in again] == [taken["MessageId"]]
        assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"
        sqs.send_message(QueueUrl=url, MessageBody="after the restart")
        [later] = sqs.receive_message(QueueUrl=url, AttributeNames=["SentTimestamp"])["Messages"]
        sent_before = int(taken["Attributes"]["SentTimestamp"])
        # at least the 3 s the first run went on, at 60x
        assert int(later["Attributes"]["SentTimestamp"]) - sent_before >= 180_000


def test_scheduled_rules_fire_on_the_scaled_clock_across_a_restart(tmp_path: Path) -> None:
    """A ``rate(1 minute)`` rule fires about once a real second at 60x; after a restart its
    schedule resumes with the engine (at most one catch-up for the time it was stopped)
    and goes on firing, later times only."""

    def times(sqs: object, url: str) -> list[str]:
        found: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(found) < 2:
            messages = sqs.receive_message(  # type: ignore[attr-defined]
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", [])
            for message in messages:
                found.append(json.loads(message["Body"])["time"])
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])  # type: ignore[attr-defined]
        return found

    with headwater_server(tmp_path, ["--time-scale", SCALE]) as server:
        sqs = boto_client(server.endpoint, "sqs")
        url = sqs.create_queue(QueueName="ticks")["QueueUrl"]
        events = boto_client(server.endpoint, "events")
        events.put_rule(Name="tick", ScheduleExpression="rate(1 minute)")
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_targets(Rule="tick", Targets=[{"Id": "q", "Arn": arn}])
        before = times(sqs, url)
        assert len(before) >= 2
        assert stop(server.process) == 0
    time.sleep(2.0)  # some scheduled minutes pass while it is stopped
    with headwater_server(tmp_path, ["--time-scale", SCALE]) as server:
        sqs = boto_client(server.endpoint, "sqs")
        after = times(sqs, url)
        assert len(after) >= 2
        assert min(after) > max(before)
        assert len(set(after)) == len(after)
