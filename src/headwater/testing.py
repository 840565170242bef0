"""Helpers for testing code that uses headwater."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from headwater.core.clock import ManualClock

if TYPE_CHECKING:
    from headwater.app import Headwater

_COUNT_ATTRIBUTES = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


def _queue_arn_and_url(hw: Headwater, queue: str) -> tuple[str, str]:
    if queue.startswith("arn:"):
        info = hw.service("sqs").queue_info(queue)
        return queue, str(info.url)
    attributes = hw.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"]), queue


def queue_counts(hw: Headwater, queue: str) -> dict[str, int]:
    """Visible, in-flight and delayed message counts of a queue (URL or ARN)."""
    _, url = _queue_arn_and_url(hw, queue)
    found = hw.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=list(_COUNT_ATTRIBUTES)
    )["Attributes"]
    return {name: int(found.get(name, 0)) for name in _COUNT_ATTRIBUTES}


def wait_for_drain(
    hw: Headwater,
    queue: str,
    *,
    timeout: float = 10.0,
    advance_clock: bool = True,
    poll_interval: float = 0.002,
) -> None:
    """Wait until the mappings of ``queue`` (URL or ARN) have emptied it.

    The engine must be running (``hw.start()``). Drained means: no message visible, in
    flight or delayed, and every mapping of the queue idle. With a ``ManualClock`` and
    ``advance_clock`` (default), whenever the mappings are idle and the only messages left
    are hidden (a failed batch waiting out its visibility timeout), the clock jumps to the
    moment the next one reappears, so retries and redrive to a DLQ play out at once.
    ``timeout`` is real seconds; raises ``TimeoutError`` with the queue's counts.
    """
    if not hw.engine.running:
        raise RuntimeError("the engine is not running: call hw.start() first")
    arn, url = _queue_arn_and_url(hw, queue)
    deadline = time.monotonic() + timeout
    clock = hw.clock
    while True:
        counts = queue_counts(hw, url)
        uuids = [
            r.uuid
            for r in hw.service("lambda").mapping_store.list(source_arn=arn)
            if r.state == "Enabled"
        ]
        engine = hw.engine
        if all(engine.is_idle(uuid) for uuid in uuids) and not any(counts.values()):
            return
        if (
            advance_clock
            and isinstance(clock, ManualClock)
            and all(engine.is_asleep(uuid) for uuid in uuids)
            and counts["ApproximateNumberOfMessages"] == 0
        ):
            # Everyone waits for time to pass: jump to the first moment something happens
            # (a batching window closes, a hidden message reappears).
            times = [engine.wake_at(uuid) for uuid in uuids] + [
                hw.service("sqs").next_visible_at(arn)
            ]
            known = [t for t in times if t is not None]
            if known and min(known) > clock.now():
                clock.set(min(known))
                continue
        if time.monotonic() > deadline:
            raise TimeoutError(f"queue {arn} not drained after {timeout}s: {counts}")
        time.sleep(poll_interval)


__all__ = ["ManualClock", "queue_counts", "wait_for_drain"]
