"""The engine end to end: Headwater.start(), real queues, real functions (inline and
worker processes), mapping changes through the Lambda API, restart."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from headwater import Headwater, ManualClock
from headwater.testing import queue_counts, wait_for_drain
from tests.functional.test_stream_esm_engine import written_lines

ROOT = Path(__file__).resolve().parents[2]

HANDLER = """
import json, os

def handler(event, context):
    with open(os.environ["JOURNAL"], "a", encoding="utf-8") as out:
        out.write(json.dumps([r["body"] for r in event["Records"]]) + "\\n")
    if any(r["body"] == "fail" for r in event["Records"]):
        raise RuntimeError("bad message")
    return None
"""


def load_orders_example() -> ModuleType:
    path = ROOT / "examples" / "orders" / "app.py"
    spec = importlib.util.spec_from_file_location("orders_example", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["orders_example"] = module
    spec.loader.exec_module(module)
    return module


def journal_batches(path: Path) -> list[list[str]]:
    """The bodies of each batch the handler journalled (complete lines only: tests poll
    the journal while the handler may be appending to it)."""
    return [json.loads(line) for line in written_lines(path)]


def deploy_worker(hw: Headwater, tmp_path: Path, name: str = "worker") -> Path:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "journal_app.py").write_text(HANDLER)
    journal = tmp_path / f"{name}.journal"
    hw.lambda_.create_function_from_directory(
        name, code, "journal_app.handler", environment={"JOURNAL": str(journal)}
    )
    return journal


def make_queue(hw: Headwater, name: str = "jobs") -> tuple[str, str]:
    sqs = hw.client("sqs")
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


@pytest.fixture
def hw_options() -> dict[str, Any]:
    """``hw`` (tests/conftest.py) runs functions inline here."""
    return {"functions": "inline"}


def test_orders_example_end_to_end(hw: Headwater, tmp_path: Path, clock: ManualClock) -> None:
    example = load_orders_example()
    journal = tmp_path / "orders.journal"
    orders_app = example.deploy(hw, environment={"ORDERS_JOURNAL": str(journal)})
    orders = [{"orderId": f"ORD-{n:03d}", "fail": n % 4 == 0} for n in range(1, 21)]
    bad = sorted(o["orderId"] for o in orders if o["fail"])
    good = sorted(o["orderId"] for o in orders if not o["fail"])
    start = clock.now()
    hw.start()
    example.send_orders(orders_app, orders)
    wait_for_drain(hw, orders_app.queue_url, timeout=30)

    processed = Counter(journal.read_text().split())
    assert sorted(processed) == good
    assert set(processed.values()) == {1}  # good orders processed exactly once
    dead = example.dead_letters(orders_app)
    assert sorted(json.loads(m["Body"])["orderId"] for m in dead) == bad
    assert sum(queue_counts(hw, orders_app.queue_url).values()) == 0
    metrics = hw.engine.metrics(orders_app.mapping_uuid)
    assert metrics is not None
    # 20 first deliveries + 2 retries of each of the 5 bad orders, then SQS dead-letters them
    assert metrics.PolledEventCount == 20 + 2 * len(bad)
    assert metrics.DeletedEventCount == len(good)
    assert metrics.Errors == 0  # partial failures are not function errors
    # bad orders were received 3 times, 180 s apart (their visibility timeout); the receive
    # after the third failure moved them to the DLQ
    assert clock.now() - start == pytest.approx(3 * 180)


def test_function_errors_redrive_whole_batches(hw: Headwater, tmp_path: Path) -> None:
    journal = deploy_worker(hw, tmp_path)
    sqs = hw.client("sqs")
    dlq_url, dlq_arn = make_queue(hw, "jobs-dlq")
    url = sqs.create_queue(
        QueueName="jobs",
        Attributes={
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
        },
    )["QueueUrl"]
    hw.client("lambda").create_event_source_mapping(
        FunctionName="worker", EventSourceArn=f"{dlq_arn[: -len('jobs-dlq')]}jobs", BatchSize=1
    )
    with hw.start():
        sqs.send_message(QueueUrl=url, MessageBody="fail")
        sqs.send_message(QueueUrl=url, MessageBody="ok")
        wait_for_drain(hw, url)
        assert Counter(b for batch in journal_batches(journal) for b in batch) == {
            "fail": 2,
            "ok": 1,
        }
        assert queue_counts(hw, dlq_url)["ApproximateNumberOfMessages"] == 1


def test_disabled_mapping_does_not_poll_until_enabled(
    hw: Headwater, tmp_path: Path, clock: ManualClock
) -> None:
    journal = deploy_worker(hw, tmp_path)
    url, arn = make_queue(hw)
    lam = hw.client("lambda")
    uuid = lam.create_event_source_mapping(
        FunctionName="worker", EventSourceArn=arn, Enabled=False
    )["UUID"]
    hw.start()
    hw.client("sqs").send_message(QueueUrl=url, MessageBody="a")
    clock.advance(60)
    wait_for_drain_fails = False
    try:
        wait_for_drain(hw, url, timeout=0.2)
    except TimeoutError:
        wait_for_drain_fails = True
    assert wait_for_drain_fails
    assert journal_batches(journal) == []
    assert queue_counts(hw, url)["ApproximateNumberOfMessages"] == 1
    assert hw.engine.metrics(uuid) is None  # disabled mappings emit no metrics
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    wait_for_drain(hw, url)
    assert journal_batches(journal) == [["a"]]
    lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    hw.client("sqs").send_message(QueueUrl=url, MessageBody="b")
    with pytest.raises(TimeoutError):
        wait_for_drain(hw, url, timeout=0.2)
    assert journal_batches(journal) == [["a"]]


def test_updates_take_effect_and_delete_stops_polling(hw: Headwater, tmp_path: Path) -> None:
    journal = deploy_worker(hw, tmp_path)
    other_journal = deploy_worker(hw, tmp_path, "other")
    url, arn = make_queue(hw)
    sqs = hw.client("sqs")
    lam = hw.client("lambda")
    uuid = lam.create_event_source_mapping(FunctionName="worker", EventSourceArn=arn, BatchSize=1)[
        "UUID"
    ]
    hw.start()
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"a{i}"} for i in range(3)]
    )
    wait_for_drain(hw, url)
    assert [len(b) for b in journal_batches(journal)] == [1, 1, 1]

    lam.update_event_source_mapping(
        UUID=uuid, BatchSize=3, MaximumBatchingWindowInSeconds=0, FunctionName="other"
    )
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"b{i}"} for i in range(3)]
    )
    wait_for_drain(hw, url)
    assert journal_batches(other_journal) == [["b0", "b1", "b2"]]

    lam.delete_event_source_mapping(UUID=uuid)
    sqs.send_message(QueueUrl=url, MessageBody="c")
    with pytest.raises(TimeoutError):
        wait_for_drain(hw, url, timeout=0.2)
    assert sum(len(b) for b in journal_batches(other_journal)) == 3


def test_metrics_are_readable(hw: Headwater, tmp_path: Path, clock: ManualClock) -> None:
    deploy_worker(hw, tmp_path)
    url, arn = make_queue(hw)
    uuid = hw.client("lambda").create_event_source_mapping(
        FunctionName="worker",
        EventSourceArn=arn,
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": ["keep"]})}]},
    )["UUID"]
    hw.start()
    sqs = hw.client("sqs")
    sqs.send_message(QueueUrl=url, MessageBody="keep")
    sqs.send_message(QueueUrl=url, MessageBody="drop")
    wait_for_drain(hw, url)
    metrics = hw.engine.metrics(uuid)
    assert metrics is not None
    assert metrics.as_dict() | {"TargetConcurrency": 0} == {
        "PolledEventCount": 2,
        "FilteredOutEventCount": 1,
        "InvokedEventCount": 1,
        "FailedInvokeEventCount": 0,
        "DeletedEventCount": 1,
        "Invocations": 1,
        "Errors": 0,
        "Throttles": 0,
        "ConcurrentExecutions": 0,
        "MaxConcurrentExecutions": 1,
        "TargetConcurrency": 0,
        "ApproximateAgeOfOldestMessage": 0.0,
    }
    hw.stop()
    sqs.send_message(QueueUrl=url, MessageBody="keep")
    clock.advance(42)
    assert hw.service("sqs").approximate_age_of_oldest_message(arn) == 42


def test_mappings_resume_after_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    clock = ManualClock()
    with Headwater(data_dir=data, clock=clock, functions="inline") as hw:
        journal = deploy_worker(hw, tmp_path)
        url, arn = make_queue(hw)
        hw.client("lambda").create_event_source_mapping(FunctionName="worker", EventSourceArn=arn)
        hw.client("sqs").send_message(QueueUrl=url, MessageBody="before restart")
    # nothing ran: the engine was never started
    assert journal_batches(journal) == []
    with Headwater(data_dir=data, clock=clock, functions="inline").start() as hw:
        assert hw.engine.mapping_uuids() != []
        wait_for_drain(hw, url)
        hw.client("sqs").send_message(QueueUrl=url, MessageBody="after restart")
        wait_for_drain(hw, url)
    assert journal_batches(journal) == [["before restart"], ["after restart"]]


def test_worker_processes_end_to_end(tmp_path: Path) -> None:
    """The default runtime: handlers in warm worker processes, invoked without blocking."""
    with Headwater(data_dir=tmp_path / "data").start() as hw:
        journal = deploy_worker(hw, tmp_path)
        url, arn = make_queue(hw)
        hw.client("lambda").create_event_source_mapping(
            FunctionName="worker", EventSourceArn=arn, BatchSize=10
        )
        hw.client("sqs").send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(10)]
        )
        wait_for_drain(hw, url, timeout=60)
    bodies = sorted(b for batch in journal_batches(journal) for b in batch)
    assert bodies == sorted(f"m{i}" for i in range(10))


def test_start_stop_start_and_drain_needs_a_running_engine(hw: Headwater, tmp_path: Path) -> None:
    journal = deploy_worker(hw, tmp_path)
    url, arn = make_queue(hw)
    hw.client("lambda").create_event_source_mapping(FunctionName="worker", EventSourceArn=arn)
    with pytest.raises(RuntimeError, match=r"hw\.start"):
        wait_for_drain(hw, url)
    hw.start()
    hw.start()  # idempotent
    hw.client("sqs").send_message(QueueUrl=url, MessageBody="one")
    wait_for_drain(hw, url)
    hw.stop()
    hw.client("sqs").send_message(QueueUrl=url, MessageBody="two")
    assert queue_counts(hw, url)["ApproximateNumberOfMessages"] == 1
    hw.start()
    wait_for_drain(hw, url)
    assert journal_batches(journal) == [["one"], ["two"]]


def test_engine_on_a_loop_given_before_it_runs(hw: Headwater, tmp_path: Path) -> None:
    """``hw.start(loop=...)`` with the caller's own loop (as the wire server does)."""
    import asyncio

    journal = deploy_worker(hw, tmp_path)
    url, arn = make_queue(hw)
    hw.client("lambda").create_event_source_mapping(FunctionName="worker", EventSourceArn=arn)
    loop = asyncio.new_event_loop()
    hw.start(loop=loop)  # not running yet: the engine starts with it

    async def main() -> None:
        hw.client("sqs").send_message(QueueUrl=url, MessageBody="x")
        for _ in range(1000):
            await asyncio.sleep(0.002)
            if journal_batches(journal):
                break
        await hw.engine.astop(1.0)

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    assert journal_batches(journal) == [["x"]]


def test_a_crashed_poller_is_restarted(
    hw: Headwater, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from headwater.esm import engine as engine_module
    from headwater.esm.sqs_poller import SqsPoller

    monkeypatch.setattr(engine_module, "POLLER_RESTART_DELAY_SECONDS", 0.01)
    journal = deploy_worker(hw, tmp_path)
    url, arn = make_queue(hw)
    crashes = []
    original = SqsPoller._next_batch

    async def crash_once(self: SqsPoller) -> Any:
        if not crashes:
            crashes.append(self.uuid)
            raise RuntimeError("bug")
        return await original(self)

    monkeypatch.setattr(SqsPoller, "_next_batch", crash_once)
    hw.client("lambda").create_event_source_mapping(FunctionName="worker", EventSourceArn=arn)
    hw.start()
    hw.client("sqs").send_message(QueueUrl=url, MessageBody="survives")
    wait_for_drain(hw, url)
    assert crashes and journal_batches(journal) == [["survives"]]


def test_orders_example_deploys_idempotently(tmp_path: Path) -> None:
    example = load_orders_example()
    with Headwater(data_dir=tmp_path / "data", clock=ManualClock(), functions="inline") as hw:
        first = example.deploy(hw)
    with Headwater(data_dir=tmp_path / "data", clock=ManualClock(), functions="inline") as hw:
        again = example.deploy(hw)
        assert again.mapping_uuid == first.mapping_uuid
        assert len(hw.client("lambda").list_event_source_mappings()["EventSourceMappings"]) == 1
