"""PutEvents and TestEventPattern, and the events scheduled rules send when they fire.

An event is the EventBridge envelope (``version`` "0", ``id``, ``detail-type``, ``source``,
``account``, ``time``, ``region``, ``resources``, ``detail``) matched against each enabled
rule of its bus with the rule's pattern (``headwater.filtering``, EventBridge's language).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import orjson

from headwater.core.arn import Arn
from headwater.core.errors import AwsError
from headwater.core.ids import new_uuid
from headwater.core.values import as_epoch_seconds
from headwater.filtering import Matcher
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.events.buses import DEFAULT_BUS, bus_name, validation
from headwater.services.events.delivery import Sent, send_to_targets
from headwater.services.events.rules import RuleOperations, compile_rule_pattern
from headwater.services.events.store import DueRule, RuleRecord

#: The most entries one PutEvents takes.
MAX_ENTRIES = 10
#: The most one PutEvents carries (256 KB, its entries counted as EventBridge documents).
MAX_REQUEST_BYTES = 256 * 1024
#: What TestEventPattern's Event must hold (EventBridge refuses an event without them;
#: ``resources``, though documented as required, is not).
EVENT_FIELDS = ("id", "account", "source", "time", "region", "detail-type")


def event_time(epoch: float) -> str:
    """EventBridge's event time: ISO 8601 to the second, in UTC (``2026-12-07T22:31:00Z``)."""
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.lru_cache(maxsize=512)
def rule_matcher(pattern: str) -> Matcher:
    """A stored rule's compiled pattern (validated when the rule was put)."""
    return compile_rule_pattern(pattern)


def _entry_size(entry: dict[str, Any]) -> int:
    """An entry's size as EventBridge counts it: the UTF-8 bytes of its text fields."""
    size = 14 if entry.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(key) or "").encode("utf-8"))
    return size + sum(len(str(r).encode("utf-8")) for r in entry.get("Resources") or [])


def _entry_time(entry: dict[str, Any], now: float) -> str | None:
    """The event time of an entry (its ``Time``, or now); ``None`` for a time no calendar
    date stands for (NaN, or beyond year 9999)."""
    if entry.get("Time") is None:
        return event_time(now)
    try:
        return event_time(as_epoch_seconds(entry["Time"]))
    except (ValueError, OverflowError, TypeError):
        return None


def _entry_failure(code: str, message: str) -> Result:
    return {"ErrorCode": code, "ErrorMessage": message}


class PublishOperations(RuleOperations):
    """PutEvents, TestEventPattern and scheduled firings."""

    @staticmethod
    def matching_rules(rules: list[RuleRecord], event: Any) -> list[RuleRecord]:
        """The enabled pattern rules among ``rules`` that ``event`` matches."""
        return [
            rule
            for rule in rules
            if rule.enabled
            and rule.event_pattern is not None
            and rule_matcher(rule.event_pattern).matches(event)
        ]

    def _check_entry(self, entry: dict[str, Any], ctx: RequestContext) -> Result | None:
        """The failure PutEvents answers for an entry it does not take (``None``: taken)."""
        for key in ("Source", "DetailType", "Detail"):
            if not entry.get(key):
                return _entry_failure(
                    "InvalidArgument",
                    f"Parameter {key} is not valid. Reason: {key} is a required argument.",
                )
        if str(entry["Source"]).startswith("aws."):
            return _entry_failure(
                "NotAuthorizedForSourceException", "Not authorized for the source."
            )
        try:
            detail = orjson.loads(entry["Detail"])
        except orjson.JSONDecodeError:
            detail = None
        if not isinstance(detail, dict):
            return _entry_failure("MalformedDetail", "Detail is malformed.")
        bus = bus_name(entry.get("EventBusName"))
        try:
            self.bus(ctx, bus)
        except AwsError as error:
            return _entry_failure(error.code, error.message)
        return None

    @operation("PutEvents")
    def put_events(self, params: Params, ctx: RequestContext) -> Result:
        entries: list[dict[str, Any]] = list(params["Entries"])
        if len(entries) > MAX_ENTRIES:
            raise validation(
                "1 validation error detected: Value at 'entries' failed to satisfy "
                f"constraint: Member must have length less than or equal to {MAX_ENTRIES}"
            )
        if sum(_entry_size(entry) for entry in entries) > MAX_REQUEST_BYTES:
            raise validation("Total size of the entries in the request is over the limit.")
        now = self.env.clock.now()
        answers: list[Result] = []
        sent = Sent()
        # each bus's rules, read once per call
        rules_of_bus = {
            bus: self.store.rules(ctx.account, ctx.region, bus)
            for bus in {bus_name(entry.get("EventBusName")) for entry in entries}
        }
        with self.env.database.transaction():
            for entry in entries:
                failure = self._check_entry(entry, ctx)
                if failure is not None:
                    answers.append(failure)
                    continue
                when = _entry_time(entry, now)
                if when is None:
                    # Plausible AWS-style text: EventBridge's answer here is not recorded.
                    answers.append(
                        _entry_failure("InvalidArgument", "Parameter Time is not valid.")
                    )
                    continue
                event = {
                    "version": "0",
                    "id": new_uuid(),
                    "detail-type": str(entry["DetailType"]),
                    "source": str(entry["Source"]),
                    "account": ctx.account,
                    "time": when,
                    "region": ctx.region,
                    "resources": [str(r) for r in entry.get("Resources") or []],
                    "detail": orjson.loads(entry["Detail"]),
                }
                rules = self.matching_rules(
                    rules_of_bus[bus_name(entry.get("EventBusName"))], event
                )
                send_to_targets(self.deliveries, event, rules, sent)
                answers.append({"EventId": event["id"]})
        sent.after_commit(self.env)
        failed = sum(1 for answer in answers if "ErrorCode" in answer)
        return {"FailedEntryCount": failed, "Entries": answers}

    def put_event(
        self,
        bus_arn: str,
        *,
        source: str,
        detail_type: str,
        detail: dict[str, Any],
        resources: list[str],
    ) -> bool:
        """Put one event on the bus ``bus_arn`` from inside headwater (a Lambda destination),
        as PutEvents would; ``False`` if it was refused (a bus that does not exist)."""
        arn = Arn.try_parse(bus_arn)
        if arn is None or not arn.resource.startswith("event-bus/"):
            return False
        entry = {
            "Source": source,
            "DetailType": detail_type,
            "Detail": orjson.dumps(detail).decode(),
            "Resources": resources,
            "EventBusName": arn.resource[len("event-bus/") :],
        }
        ctx = RequestContext(region=arn.region, account=arn.account)
        answer = self.call("PutEvents", {"Entries": [entry]}, ctx)
        return not answer["FailedEntryCount"]

    def default_bus_rules(self, account: str, region: str) -> list[RuleRecord]:
        """The rules of the account's default bus in ``region``: what another service (S3)
        reads in the transaction it then sends events in (``send_in_transaction``)."""
        return self.store.rules(account, region, DEFAULT_BUS)

    def send_in_transaction(
        self,
        rules: list[RuleRecord],
        into: Sent,
        *,
        account: str,
        region: str,
        source: str,
        detail_type: str,
        detail: dict[str, Any],
        resources: list[str],
    ) -> None:
        """Send an AWS service's event (source ``aws.*``, which PutEvents refuses to
        callers) to the ``rules`` it matches (``default_bus_rules``), inside the caller's
        transaction, so the event is stored with the write it reports; ``into`` holds what
        to do once that transaction committed (``Sent.after_commit``)."""
        event = {
            "version": "0",
            "id": new_uuid(),
            "detail-type": detail_type,
            "source": source,
            "account": account,
            "time": event_time(self.env.clock.now()),
            "region": region,
            "resources": resources,
            "detail": detail,
        }
        send_to_targets(self.deliveries, event, self.matching_rules(rules, event), into)

    def forward_event(self, bus_arn: str, event: dict[str, Any], hops: int) -> None:
        """Deliver ``event`` (another bus's, kept whole: its id, time, source and detail)
        to the rules of the bus ``bus_arn`` that it matches, as if it had been put there;
        raises ResourceNotFoundException when the bus does not exist."""
        arn = Arn.parse(bus_arn)
        ctx = RequestContext(region=arn.region, account=arn.account)
        bus = arn.resource[len("event-bus/") :]
        self.bus(ctx, bus)
        rules = self.matching_rules(self.store.rules(ctx.account, ctx.region, bus), event)
        sent = Sent()
        with self.env.database.transaction():
            send_to_targets(self.deliveries, event, rules, sent, hops)
        sent.after_commit(self.env)

    @operation("TestEventPattern")
    def test_event_pattern(self, params: Params, ctx: RequestContext) -> Result:
        matcher = compile_rule_pattern(str(params["EventPattern"]))
        try:
            event = orjson.loads(params["Event"])
        except orjson.JSONDecodeError:
            event = None
        if not isinstance(event, dict) or any(field not in event for field in EVENT_FIELDS):
            raise validation("Parameter Event is not valid.")
        return {"Result": matcher.matches(event)}

    # ---- schedules ----

    def fire_due(self, now: float) -> int:
        """Fire every scheduled rule whose time has come; returns how many fired.

        A rule fires once however many of its times passed since the last check (while
        headwater was stopped, say): EventBridge never sends events for past times, and
        at most one catch-up is sent here; its next firing is the first one after ``now``.
        """
        fired = 0
        for due in self.store.due(now):
            sent = Sent()
            with self.env.database.transaction():
                following = self.next_firing(due.rule, now)
                if not self.store.claim_firing(due, following):
                    continue
                send_to_targets(self.deliveries, self._scheduled_event(due), [due.rule], sent)
            sent.after_commit(self.env)
            fired += 1
        return fired

    @staticmethod
    def _scheduled_event(due: DueRule) -> dict[str, Any]:
        return {
            "version": "0",
            "id": new_uuid(),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": due.account,
            "time": event_time(due.next_fire),
            "region": due.region,
            "resources": [due.rule.arn],
            "detail": {},
        }
