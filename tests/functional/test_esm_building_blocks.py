"""The engine's pure parts: settle decisions, batch building, scaling arithmetic."""

from __future__ import annotations

import pytest

from headwater.esm.batching import BatchBuilder, PendingRecord
from headwater.esm.records import build_payload, payload_size
from headwater.esm.scaling import ConcurrencyScaler, ScalingPolicy
from headwater.esm.settle import BatchOutcome, classify, decide, parse_batch_item_failures
from tests.functional.esm_fakes import function_error, ok, raw, throttled


def pending(n: int, size: int = 10) -> PendingRecord:
    return PendingRecord(
        message_id=f"id{n}",
        receipt_handle=f"rh{n}",
        record=None,
        encoded=b"x" * size,
        group_id=None,
        sent_timestamp=0.0,
        visible_again_at=30.0,
    )


def test_classify_and_decide() -> None:
    ids, handles = ["a", "b", "c"], ["ra", "rb", "rc"]
    assert classify(ok(), ids, report_item_failures=False).kind == "success"
    assert classify(function_error(), ids, report_item_failures=True).kind == "function_error"
    assert classify(function_error("Sandbox.Timedout"), ids, report_item_failures=True).kind == (
        "timeout"
    )
    assert classify(throttled(), ids, report_item_failures=False).retry_invoke
    partial = classify(
        ok({"batchItemFailures": [{"itemIdentifier": "b"}]}), ids, report_item_failures=True
    )
    assert partial == BatchOutcome("partial_failure", failed_ids=frozenset({"b"}))
    assert decide(partial, ids, handles).delete == ["ra", "rc"]
    assert decide(BatchOutcome("success"), ids, handles).delete == handles
    failed = decide(BatchOutcome("function_error"), ids, handles)
    assert (failed.delete, failed.failed_count, failed.function_failed) == ([], 3, True)
    gave_up = decide(BatchOutcome("throttled"), ids, handles)
    assert (gave_up.delete, gave_up.failed_count, gave_up.function_failed) == ([], 0, False)
    invalid = decide(classify(raw(b"{"), ids, report_item_failures=True), ids, handles)
    assert (invalid.delete, invalid.function_failed) == ([], False)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"  ", frozenset()),
        (b'{"batchItemFailures": "a"}', None),
        (b'{"batchItemFailures": ["a"]}', None),
        (b'{"batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "a"}]}', {"a"}),
        (b'{"other": 1}', frozenset()),
    ],
)
def test_parse_batch_item_failures(payload: bytes, expected: object) -> None:
    found = parse_batch_item_failures(payload, ["a", "b"])
    assert found == (None if expected is None else frozenset(expected))  # type: ignore[arg-type]


def test_builder_size_window_and_cap() -> None:
    builder = BatchBuilder(batch_size=3, window_seconds=10, max_bytes=14 + 10 + 1 + 10)
    builder.add([pending(1)], now=0)
    assert not builder.ready(5)
    assert builder.ready(10)  # window closed
    builder.add([pending(2)], now=10)
    assert builder.take(10).message_ids == ["id1", "id2"]
    builder.add([pending(3), pending(4), pending(5)], now=20)
    assert builder.ready(20)  # the next record would pass the cap
    batch = builder.take(20)
    assert batch.message_ids == ["id3", "id4"]
    assert batch.size_bytes == payload_size([b"x" * 10] * 2) == len(build_payload([b"x" * 10] * 2))
    assert builder.window_closes_at() == 30  # the leftover opens a new window
    oversized = BatchBuilder(batch_size=3, window_seconds=0, max_bytes=20)
    oversized.add([pending(6, size=100)], now=0)
    assert oversized.take(0).message_ids == ["id6"]  # goes alone; the invoke will fail


def test_scaler_growth_caps_and_reset() -> None:
    scaler = ConcurrencyScaler(ScalingPolicy(initial=5, scale_up_per_minute=300, ceiling=50), 0)
    assert scaler.target == 5
    scaler.observe_backlog(1)  # +5 after 1 s
    assert scaler.target == 10
    scaler.observe_backlog(61)
    assert scaler.target == 50  # the ceiling
    scaler.configure(maximum_concurrency=20, reserved_concurrency=None)
    assert scaler.target == 20
    scaler.configure(maximum_concurrency=20, reserved_concurrency=3)
    assert (scaler.target, scaler.cap) == (3, 3)
    scaler.configure(maximum_concurrency=None, reserved_concurrency=None)
    scaler.observe_function_error(61)
    assert scaler.target == 25  # function errors back off
    scaler.observe_function_error(61)
    scaler.observe_function_error(61)
    assert scaler.target == 6
    scaler.observe_function_error(61)
    assert scaler.target == 5  # never below the start
    scaler.observe_backlog(62)
    scaler.observe_empty(62)
    assert scaler.target == 5
