"""A published message is delivered even if the process dies right after Publish: a real
process publishes to a topic with a function subscribed and is SIGKILLed before its outbox
is sent; the next process on the same data directory delivers it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from headwater import Headwater

pytestmark = pytest.mark.integration

HANDLER = """
import json, os
def handle(event, context):
    with open(os.environ["OUT"], "a") as out:
        for record in event["Records"]:
            out.write(record["Sns"]["Message"] + "\\n")
"""

#: Publishes with the outbox worker held back (as if the process died right after the
#: commit), then waits to be killed.
PUBLISHER = """
import sys, time
from headwater import Headwater
from headwater.services.sns.delivery import Deliverer
Deliverer.kick = lambda self: None
hw = Headwater(data_dir=sys.argv[1])
sns = hw.client("sns")
topic = sns.list_topics()["Topics"][0]["TopicArn"]
for i in range(5):
    sns.publish(TopicArn=topic, Message=f"m{i}")
print("published", flush=True)
time.sleep(60)
"""


def test_published_messages_survive_a_crash(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(HANDLER)
    out = tmp_path / "delivered"
    with Headwater(data_dir=data, functions="inline") as hw:
        function = hw.lambda_.create_function_from_directory(
            "listener", code, "app.handle", environment={"OUT": str(out)}
        )["FunctionArn"]
        sns = hw.client("sns")
        topic = sns.create_topic(Name="durable")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function)

    process = subprocess.Popen(
        [sys.executable, "-c", PUBLISHER, str(data)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "published"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert not out.exists()  # nothing was delivered before the crash

    with Headwater(data_dir=data, functions="inline").start() as hw:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if out.exists() and len(out.read_text().split()) >= 5:
                break
            time.sleep(0.05)
        assert hw.service("lambda").wait_for_event_invocations()
    assert sorted(out.read_text().split()) == [f"m{i}" for i in range(5)]
