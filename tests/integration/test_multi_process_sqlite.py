"""Several processes on one SQLite data directory: writes by one are seen by the others.

Local commits wake pollers at once; another process's commit has no in-process wake-up,
so sources watch the database (``PRAGMA data_version``) every ``poll_fallback_seconds``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from headwater import Headwater

pytestmark = pytest.mark.integration

HANDLER = """
import os

def handler(event, context):
    with open(os.environ["JOURNAL"], "a", encoding="utf-8") as out:
        for record in event["Records"]:
            out.write(record.get("body") or record["kinesis"]["data"])
            out.write("\\n")
"""

QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:jobs"
STREAM_ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/events"

SEND = """
import sys
from headwater import Headwater
with Headwater(data_dir=sys.argv[1]) as hw:
    url = hw.sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
    hw.sqs.send_message(QueueUrl=url, MessageBody="from-b")
    hw.kinesis.put_record(StreamName="events", Data=b"put-by-b", PartitionKey="k")
"""


def wait_for(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def test_a_send_from_another_process_reaches_a_running_mapping(tmp_path: Path) -> None:
    """The reproduced bug: with nothing in flight the SQS poller waited for an in-process
    wake-up forever, so process B's message never reached process A's function."""
    data = tmp_path / "data"
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(HANDLER)
    journal = tmp_path / "journal"
    with Headwater(data_dir=data, functions="inline", poll_fallback_seconds=0.05) as hw:
        hw.sqs.create_queue(QueueName="jobs")
        hw.kinesis.create_stream(StreamName="events", ShardCount=1)
        hw.lambda_.create_function_from_directory(
            "worker", code, "app.handler", environment={"JOURNAL": str(journal)}
        )
        hw.lambda_.create_event_source_mapping(FunctionName="worker", EventSourceArn=QUEUE_ARN)
        hw.lambda_.create_event_source_mapping(
            FunctionName="worker", EventSourceArn=STREAM_ARN, StartingPosition="TRIM_HORIZON"
        )
        hw.start()
        time.sleep(0.3)  # the pollers are asleep, waiting for messages
        sent = subprocess.run(
            [sys.executable, "-c", SEND, str(data)], capture_output=True, timeout=60, check=False
        )
        assert sent.returncode == 0, sent.stderr.decode()
        lines = lambda: journal.read_text().split() if journal.exists() else []  # noqa: E731
        assert wait_for(lambda: "from-b" in lines(), 10), lines()
        assert wait_for(lambda: "cHV0LWJ5LWI=" in lines(), 10), lines()  # base64 of put-by-b


CREATE_AND_SEND = """
import sys
from headwater import Headwater
with Headwater(data_dir=sys.argv[1]) as hw:
    url = hw.sqs.create_queue(QueueName="late")["QueueUrl"]
    hw.lambda_.create_event_source_mapping(
        FunctionName="worker", EventSourceArn="arn:aws:sqs:us-east-1:000000000000:late"
    )
    hw.sqs.send_message(QueueUrl=url, MessageBody="late-one")
"""


def test_a_mapping_created_by_another_process_starts_running(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(HANDLER)
    journal = tmp_path / "journal"
    with Headwater(data_dir=data, functions="inline", poll_fallback_seconds=0.05) as hw:
        hw.lambda_.create_function_from_directory(
            "worker", code, "app.handler", environment={"JOURNAL": str(journal)}
        )
        hw.start()  # no mapping yet
        made = subprocess.run(
            [sys.executable, "-c", CREATE_AND_SEND, str(data)],
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert made.returncode == 0, made.stderr.decode()
        lines = lambda: journal.read_text().split() if journal.exists() else []  # noqa: E731
        assert wait_for(lambda: "late-one" in lines(), 10), lines()


ENGINE = """
import sys, time
from headwater import Headwater
hw = Headwater(data_dir=sys.argv[1], functions="inline", poll_fallback_seconds=0.05).start()
print("started", flush=True)
while True:
    time.sleep(1)
"""

PRODUCER = """
import sys
from headwater import Headwater
with Headwater(data_dir=sys.argv[1]) as hw:
    url = hw.sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
    total = int(sys.argv[2])
    for start in range(0, total, 10):
        hw.sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(start, start + 10)],
        )
"""

JOURNAL_HANDLER = """
import os

def handler(event, context):
    path = os.path.join(os.environ["JOURNAL_DIR"], f"{os.getpid()}.log")
    with open(path, "a", encoding="utf-8") as out:
        out.write("".join(record["body"] + "\\n" for record in event["Records"]))
"""

TOTAL = 10_000


def test_a_producer_and_two_engines_share_one_data_directory(tmp_path: Path) -> None:
    """10,000 messages through two engine processes: none lost, none processed twice (a
    message received by both engines while in flight would be)."""
    data = tmp_path / "data"
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(JOURNAL_HANDLER)
    journal_dir = tmp_path / "journal"
    journal_dir.mkdir()
    with Headwater(data_dir=data) as hw:
        # visibility far above the run's length: only a double receive could repeat one
        hw.sqs.create_queue(QueueName="jobs", Attributes={"VisibilityTimeout": "600"})
        hw.lambda_.create_function_from_directory(
            "worker", code, "app.handler", environment={"JOURNAL_DIR": str(journal_dir)}
        )
        hw.lambda_.create_event_source_mapping(
            FunctionName="worker", EventSourceArn=QUEUE_ARN, BatchSize=10
        )
    engines = [
        subprocess.Popen(
            [sys.executable, "-c", ENGINE, str(data)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    try:
        for engine in engines:
            assert engine.stdout is not None and engine.stdout.readline().strip() == "started"
        producer = subprocess.run(
            [sys.executable, "-c", PRODUCER, str(data), str(TOTAL)],
            capture_output=True,
            timeout=300,
            check=False,
        )
        assert producer.returncode == 0, producer.stderr.decode()

        def processed() -> list[str]:
            return [
                line for path in journal_dir.glob("*.log") for line in path.read_text().splitlines()
            ]

        assert wait_for(lambda: len(processed()) >= TOTAL, 180), len(processed())
        time.sleep(0.5)  # anything processed twice would show up now
        bodies = processed()
        assert sorted(bodies) == sorted(f"m{i}" for i in range(TOTAL))  # each exactly once
        per_engine = [len(path.read_text().splitlines()) for path in journal_dir.glob("*.log")]
        assert len(per_engine) == 2, per_engine  # both engines took part
    finally:
        for engine in engines:
            engine.kill()
            engine.wait(timeout=10)


OVERWRITE = """
import os, sys, time
from headwater import Headwater
data, writes, name, go = sys.argv[1:]
with Headwater(data_dir=data) as hw:
    ssm = hw.client("ssm")
    ssm.get_parameter(Name="/app/counter")
    open(go + "." + name, "w").close()
    while not os.path.exists(go):  # both start writing at once
        time.sleep(0.005)
    for i in range(int(writes)):
        ssm.put_parameter(Name="/app/counter", Value=f"{name}-{i}", Overwrite=True)
"""


def test_processes_overwriting_one_parameter_lose_no_version(tmp_path: Path) -> None:
    """PutParameter reads the parameter and writes its next version: two processes
    overwriting one parameter at once each get versions of their own (a per-process lock
    let both write the same next version, and most writes were lost)."""
    data = tmp_path / "data"
    with Headwater(data_dir=data) as hw:
        hw.client("ssm").put_parameter(Name="/app/counter", Value="start", Type="String")
    writes = 150
    go = tmp_path / "go"
    writers = [
        subprocess.Popen([sys.executable, "-c", OVERWRITE, str(data), str(writes), name, str(go)])
        for name in ("a", "b")
    ]
    assert wait_for(lambda: all(Path(f"{go}.{name}").exists() for name in "ab"), 60)
    go.touch()
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0]
    with Headwater(data_dir=data) as hw:
        history = hw.client("ssm").get_parameter_history(Name="/app/counter", MaxResults=50)
        versions = [p["Version"] for p in history["Parameters"]]
        while "NextToken" in history:
            history = hw.client("ssm").get_parameter_history(
                Name="/app/counter", MaxResults=50, NextToken=history["NextToken"]
            )
            versions += [p["Version"] for p in history["Parameters"]]
        assert (
            hw.client("ssm").get_parameter(Name="/app/counter")["Parameter"]["Version"]
            == 1 + 2 * writes
        )
    # AWS keeps a parameter's last 100 versions
    assert versions == list(range(2 + 2 * writes - 100, 2 + 2 * writes))


TAG = """
import os, sys, time
from headwater import Headwater
data, writes, name, go, arn = sys.argv[1:]
with Headwater(data_dir=data) as hw:
    ses = hw.client("sesv2")
    ses.list_tags_for_resource(ResourceArn=arn)
    open(go + "." + name, "w").close()
    while not os.path.exists(go):  # both start tagging at once
        time.sleep(0.005)
    for i in range(int(writes)):
        ses.tag_resource(ResourceArn=arn, Tags=[{"Key": f"{name}-{i}", "Value": "x"}])
"""


def test_processes_tagging_one_identity_lose_no_tag(tmp_path: Path) -> None:
    """SES v2's TagResource reads the resource's tags and writes them back: two processes
    tagging one identity at once keep every tag (read and written outside one
    transaction, a tag added in between was lost)."""
    data = tmp_path / "data"
    with Headwater(data_dir=data) as hw:
        hw.client("sesv2").create_email_identity(EmailIdentity="me@example.com")
    arn = "arn:aws:ses:us-east-1:000000000000:identity/me@example.com"
    writes = 60
    go = tmp_path / "go"
    taggers = [
        subprocess.Popen([sys.executable, "-c", TAG, str(data), str(writes), name, str(go), arn])
        for name in ("a", "b")
    ]
    assert wait_for(lambda: all(Path(f"{go}.{name}").exists() for name in "ab"), 60)
    go.touch()
    assert [tagger.wait(timeout=120) for tagger in taggers] == [0, 0]
    with Headwater(data_dir=data) as hw:
        tags = hw.client("sesv2").list_tags_for_resource(ResourceArn=arn)["Tags"]
    assert sorted(t["Key"] for t in tags) == sorted(
        f"{name}-{i}" for name in "ab" for i in range(writes)
    )
