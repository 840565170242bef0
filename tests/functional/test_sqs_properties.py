"""Property: random interleavings of send / receive / delete / visibility / clock moves.

Checked against a model: no message is lost, none is delivered while a previous delivery
is still in flight (at-least-once, never concurrently twice), deletes with the latest
handle stick, and on FIFO queues every group is delivered strictly in order.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater import Headwater, ManualClock

Op = tuple[Any, ...]

operations = st.lists(
    st.one_of(
        st.tuples(st.just("send"), st.sampled_from("ABC")),
        st.tuples(st.just("receive"), st.integers(1, 10), st.sampled_from([0, 1, 5, 30])),
        st.tuples(st.just("delete"), st.integers(0, 50)),
        st.tuples(st.just("visibility"), st.integers(0, 50), st.sampled_from([0, 2, 10])),
        st.tuples(st.just("advance"), st.sampled_from([0.5, 1, 3, 10, 31])),
    ),
    max_size=60,
)


@dataclass
class Tracked:
    body: str
    group: str
    order: int
    handle: str | None = None
    visible_at: float = 0.0
    deleted: bool = False


def run(ops: list[Op], fifo: bool, data_dir: str | None) -> None:
    clock = ManualClock()
    with Headwater(data_dir=data_dir, clock=clock) as hw:
        sqs = hw.client("sqs")
        attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
        name = "p.fifo" if fifo else "p"
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        messages: dict[str, Tracked] = {}
        handles: list[tuple[str, str]] = []  # (handle, message id) in issue order
        for op in ops:
            now = clock.now()
            if op[0] == "send":
                body = f"m{len(messages)}"
                params: dict[str, Any] = {"QueueUrl": url, "MessageBody": body}
                if fifo:
                    params["MessageGroupId"] = op[1]
                sent = sqs.send_message(**params)
                messages[sent["MessageId"]] = Tracked(body, op[1], len(messages), None, now)
            elif op[0] == "receive":
                got = sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=op[1], VisibilityTimeout=op[2]
                ).get("Messages", [])
                delivered_now: list[Tracked] = []
                for item in got:
                    tracked = messages[item["MessageId"]]
                    assert not tracked.deleted, "deleted message delivered again"
                    assert tracked.visible_at <= now, "delivered while still in flight"
                    if fifo:
                        earlier = [
                            m
                            for m in messages.values()
                            if m.group == tracked.group and m.order < tracked.order
                        ]
                        for m in earlier:
                            assert m.deleted or m in delivered_now, "FIFO group order broken"
                    delivered_now.append(tracked)
                    tracked.handle = item["ReceiptHandle"]
                    tracked.visible_at = now + op[2]
                    handles.append((item["ReceiptHandle"], item["MessageId"]))
                if fifo:
                    in_flight_groups = {
                        m.group
                        for m in messages.values()
                        if not m.deleted and m.visible_at > now and m not in delivered_now
                    }
                    assert not in_flight_groups & {m.group for m in delivered_now}
            elif op[0] == "delete" and handles:
                handle, message_id = handles[op[1] % len(handles)]
                tracked = messages[message_id]
                # FIFO refuses a handle whose visibility lapsed (or an older one) while the
                # message is still there; standard queues accept it.
                expired = fifo and not tracked.deleted
                expired = expired and (tracked.handle != handle or tracked.visible_at <= now)
                try:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
                except ClientError:
                    assert expired, "delete refused with a live handle"
                else:
                    assert not expired, "FIFO delete accepted an expired handle"
                    if tracked.handle == handle:
                        tracked.deleted = True
            elif op[0] == "visibility" and handles:
                handle, message_id = handles[op[1] % len(handles)]
                tracked = messages[message_id]
                try:
                    sqs.change_message_visibility(
                        QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=op[2]
                    )
                except ClientError:
                    assert tracked.deleted or tracked.handle != handle
                else:
                    # a lapsed visibility is set again, as AWS does (recorded)
                    assert not tracked.deleted and tracked.handle == handle
                    tracked.visible_at = now + op[2]
            elif op[0] == "advance":
                clock.advance(op[1])
        # Nothing lost: after every visibility lapses, exactly the undeleted messages remain.
        clock.advance(100)
        remaining: list[str] = []
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                break
            for item in got:
                remaining.append(item["MessageId"])
                sqs.delete_message(QueueUrl=url, ReceiptHandle=item["ReceiptHandle"])
        expected = [mid for mid, m in messages.items() if not m.deleted]
        assert sorted(remaining) == sorted(expected)


PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(ops=operations, fifo=st.booleans())
def test_memory_store_never_loses_or_duplicates(ops: list[Op], fifo: bool) -> None:
    run(ops, fifo, None)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=operations, fifo=st.booleans())
def test_sqlite_store_never_loses_or_duplicates(ops: list[Op], fifo: bool) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        run(ops, fifo, data_dir)
