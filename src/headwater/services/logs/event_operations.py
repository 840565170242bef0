"""PutLogEvents, GetLogEvents and FilterLogEvents (what ``aws logs tail --follow`` polls)."""

from __future__ import annotations

import base64
import binascii
import itertools

from headwater.core.errors import AwsError
from headwater.core.values import JAVA_LONG
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.logs.filter_pattern import PatternError, compile_pattern
from headwater.services.logs.group_operations import (
    check_limit,
    invalid_parameter,
    stream_not_found,
)
from headwater.services.logs.store import LogEvent
from headwater.services.logs.subscription_filters import SubscriptionFilterOperations

MAX_EVENTS = 10_000
TOO_OLD_MS = 14 * 86400 * 1000
TOO_NEW_MS = 2 * 3600 * 1000
MAX_SPAN_MS = 24 * 3600 * 1000
#: Events FilterLogEvents reads per query while looking for matches.
SCAN_BATCH = 2_000
#: Events one FilterLogEvents call scans at most before it returns a nextToken.
SCAN_LIMIT = 50_000


def _invalid_token() -> AwsError:
    return invalid_parameter("The specified nextToken is invalid.")


class EventOperations(SubscriptionFilterOperations):
    """The event half of CloudWatch Logs (stored events feed the metric and subscription
    filters)."""

    @operation("PutLogEvents")
    def put_log_events(self, params: Params, ctx: RequestContext) -> Result:
        group = self.require_group(params, ctx)
        stream = params["logStreamName"]
        if self.log_store.get_stream(group, stream) is None:
            raise stream_not_found()
        events = params["logEvents"]
        stamps = [int(e["timestamp"]) for e in events]
        if any(later < earlier for earlier, later in itertools.pairwise(stamps)):
            raise invalid_parameter(
                "Log events in a single PutLogEvents request must be in chronological order."
            )
        if stamps and stamps[-1] - stamps[0] > MAX_SPAN_MS:
            raise invalid_parameter(
                "The batch of log events in a single PutLogEvents request cannot span more "
                "than 24 hours."
            )
        now = self.now_ms()
        oldest = now - TOO_OLD_MS
        if group.retention_days is not None:
            oldest = max(oldest, now - group.retention_days * 86400 * 1000)
        rejected: dict[str, int] = {}
        accepted: list[tuple[int, str]] = []
        for index, (stamp, event) in enumerate(zip(stamps, events, strict=True)):
            if stamp < oldest:
                key = (
                    "tooOldLogEventEndIndex"
                    if stamp < now - TOO_OLD_MS
                    else ("expiredLogEventEndIndex")
                )
                rejected[key] = index
            elif stamp > now + TOO_NEW_MS:
                rejected.setdefault("tooNewLogEventStartIndex", index)
            else:
                accepted.append((stamp, event["message"]))
        with self.log_store.db.transaction():
            appended = self.log_store.append_events(group, stream, accepted, now)
            started = self.deliver_to_subscriptions(group, stream, accepted, appended.first_seq)
        self.after_commit(started)
        self.emit_metrics(group, accepted)
        result: Result = {"nextSequenceToken": f"{now:056d}"}
        if rejected:
            result["rejectedLogEventsInfo"] = rejected
        return result

    @operation("GetLogEvents")
    def get_log_events(self, params: Params, ctx: RequestContext) -> Result:
        group = self.require_group(params, ctx)
        stream = params["logStreamName"]
        limit = check_limit(params.get("limit"), MAX_EVENTS) or MAX_EVENTS
        if self.log_store.get_stream(group, stream) is None:
            raise stream_not_found()
        token = params.get("nextToken")
        before = after = None
        if token:
            direction, _, number = token.partition("/")
            if direction not in ("f", "b") or not number.isdigit() or int(number) > JAVA_LONG[-1]:
                raise _invalid_token()
            if direction == "f":
                after = int(number)
            else:
                before = int(number)
        events = self.log_store.stream_events(
            group,
            stream,
            start=_millis(params.get("startTime")),
            end=_millis(params.get("endTime")),
            from_head=bool(params.get("startFromHead")),
            before_seq=before,
            after_seq=after,
            limit=limit,
        )
        if events:
            forward, backward = events[-1].seq, events[0].seq
        else:
            forward = backward = after if after is not None else (before or 0)
        return {
            "events": [
                {"timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingested}
                for e in events
            ],
            "nextForwardToken": f"f/{forward:056d}",
            "nextBackwardToken": f"b/{backward:056d}",
        }

    @operation("FilterLogEvents")
    def filter_log_events(self, params: Params, ctx: RequestContext) -> Result:
        group = self.require_group(params, ctx)
        limit = check_limit(params.get("limit"), MAX_EVENTS) or MAX_EVENTS
        names = params.get("logStreamNames")
        prefix = params.get("logStreamNamePrefix")
        if names is not None and prefix is not None:
            raise invalid_parameter(
                "logStreamNames and logStreamNamePrefix are mutually exclusive parameters."
            )
        if prefix is not None:
            names = [s.name for s in self.log_store.streams(group, prefix)]
            if not names:
                return {"events": [], "searchedLogStreams": []}
        try:
            matches = compile_pattern(params.get("filterPattern"))
        except PatternError as error:
            raise invalid_parameter(str(error)) from None
        cursor = _decode_cursor(params.get("nextToken"))
        found: list[LogEvent] = []
        scanned = 0
        more = False
        while len(found) < limit:
            batch = self.log_store.events(
                group,
                streams=names,
                start=_millis(params.get("startTime")),
                end=_millis(params.get("endTime")),
                after=cursor,
                limit=SCAN_BATCH,
            )
            for event in batch:
                cursor = (event.timestamp, event.seq)
                if matches(event.message):
                    found.append(event)
                    if len(found) >= limit:
                        break
            scanned += len(batch)
            if len(batch) < SCAN_BATCH and len(found) < limit:
                break
            if len(found) >= limit or scanned >= SCAN_LIMIT:
                more = True
                break
        result: Result = {
            "events": [
                {
                    "logStreamName": e.stream_name,
                    "timestamp": e.timestamp,
                    "message": e.message,
                    "ingestionTime": e.ingested,
                    "eventId": e.event_id,
                }
                for e in found
            ],
            "searchedLogStreams": [],
        }
        if more and cursor is not None:
            result["nextToken"] = _encode_cursor(cursor)
        return result


def _encode_cursor(cursor: tuple[int, int]) -> str:
    return base64.urlsafe_b64encode(f"{cursor[0]}:{cursor[1]}".encode()).decode()


def _decode_cursor(token: str | None) -> tuple[int, int] | None:
    if not token:
        return None
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        stamp, seq = text.split(":")
        cursor = int(stamp), int(seq)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _invalid_token() from None
    if not all(number in JAVA_LONG for number in cursor):
        raise _invalid_token()
    return cursor


def _millis(value: int | None) -> int | None:
    """A startTime or endTime as the store's 64-bit milliseconds. botocore sends any long;
    one beyond that range is after (or before) every event, so it is clamped, not passed on
    to overflow the query."""
    if value is None:
        return None
    return max(JAVA_LONG[0], min(value, JAVA_LONG[-1]))
