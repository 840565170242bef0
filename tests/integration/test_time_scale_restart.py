"""``headwater serve --time-scale`` stopped and started again on its data directory: the
clock goes on from where it was, so in-flight messages are not hidden for longer and
timestamps never go back."""

from __future__ import annotations

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
