"""headwater's own mapping log (logger ``headwater.mappings``): what a batch's settlement
did to its messages, so a retry is visible without reading the function's own output.

``headwater serve`` prints it (INFO and up) to its output; embedded, it is an ordinary
``logging`` logger. One line per batch that did not fully succeed, for example::

    mapping 6f1c… (orders -> process-orders): 1 of 2 messages reported failed
    (batchItemFailures): 0b8e… (receive 1); they return to the queue when their
    visibility timeout lapses
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import orjson

from headwater.esm.batching import PendingRecord
from headwater.esm.settle import BatchOutcome

log = logging.getLogger("headwater.mappings")

#: At most this many message ids are named in one line.
NAMED_IDS = 10

_WHY = {
    "partial_failure": "reported failed (batchItemFailures)",
    "invalid_response": "failed: the batchItemFailures response is invalid",
    "function_error": "failed: function error",
    "timeout": "failed: the function timed out",
}


def log_settlement(
    uuid: str,
    source_arn: str,
    function_arn: str,
    outcome: BatchOutcome,
    records: Sequence[PendingRecord],
) -> None:
    """One INFO line naming the messages of a batch that go back to the queue."""
    why = _WHY.get(outcome.kind)
    if why is None or not log.isEnabledFor(logging.INFO):
        return
    if outcome.kind == "partial_failure":
        failed = [r for r in records if r.message_id in outcome.failed_ids]
    else:
        failed = list(records)
    if outcome.kind == "function_error" and outcome.detail:
        why = f"{why} ({outcome.detail})"
    named = ", ".join(f"{r.message_id} (receive {_receive_count(r)})" for r in failed[:NAMED_IDS])
    more = f" and {len(failed) - NAMED_IDS} more" if len(failed) > NAMED_IDS else ""
    log.info(
        "mapping %s (%s -> %s): %d of %d messages %s: %s%s; they return to the queue when "
        "their visibility timeout lapses",
        uuid,
        _name(source_arn),
        _name(function_arn),
        len(failed),
        len(records),
        why,
        named,
        more,
    )


def warn_visibility_lapsed(
    uuid: str, source_arn: str, visibility_timeout: int, real_seconds: float, time_scale: float
) -> None:
    """The batch's visibility timeout ran out while its invocation was still running."""
    scaled = ""
    if time_scale != 1.0:
        scaled = (
            f", {visibility_timeout / time_scale:.1f} s of real time at --time-scale "
            f"{time_scale:g} (a function's cold start alone can take longer)"
        )
    log.warning(
        "mapping %s (%s): the invocation took %.1f s, longer than the queue's visibility "
        "timeout (%d s%s): its messages may be received again while they are still being "
        "processed; raise the queue's VisibilityTimeout%s",
        uuid,
        _name(source_arn),
        real_seconds,
        visibility_timeout,
        scaled,
        " or lower --time-scale" if time_scale != 1.0 else "",
    )


def _receive_count(record: PendingRecord) -> str:
    try:
        attributes = orjson.loads(record.encoded)["attributes"]
        return str(attributes["ApproximateReceiveCount"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return "?"


def _name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]
