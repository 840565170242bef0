"""S3 event notifications: matching a bucket's notification configuration against an object
write or removal, the event record S3 writes, and delivering it to queues, topics and
functions, and (``EventBridgeConfiguration``) every event to the default event bus.

Every delivery is written inside the transaction that writes (or removes) the object's index
row, as SNS delivers to queues inside its publishing transaction: the event is stored when
the object is, or neither is. Queues get the message, topics publish it (their own
deliveries follow SNS's outbox), and functions get an asynchronous (Event) invocation stored
in the Lambda service's durable event queue, started once the object's transaction has
committed, so Lambda's retries, dead-letter queue and destinations apply. EventBridge
events are matched against the default bus's rules in the same transaction, and their
targets' deliveries stored in it as PutEvents stores them.
"""

from __future__ import annotations

import base64
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

import orjson

from headwater.core.arn import Arn
from headwater.core.errors import AwsError
from headwater.core.ids import new_uuid
from headwater.core.values import iso_millis
from headwater.models import service_model
from headwater.services.events.delivery import Sent
from headwater.services.s3.errors import s3_error
from headwater.services.sns.delivery import ClientSideFailure, send_to_queue

if TYPE_CHECKING:
    from headwater.services.base import ServiceEnvironment
    from headwater.services.events.store import RuleRecord
    from headwater.store.objects import BucketRecord

log = logging.getLogger(__name__)

SETTING = "BucketNotificationConfiguration"
#: Configuration list -> the member naming its destination, and the destination's kind.
DESTINATIONS = {
    "QueueConfigurations": ("QueueArn", "queue"),
    "TopicConfigurations": ("TopicArn", "topic"),
    "LambdaFunctionConfigurations": ("LambdaFunctionArn", "function"),
}
SNS_SUBJECT = "Amazon S3 Notification"
#: The configuration member that sends every event to the default event bus.
EVENTBRIDGE = "EventBridgeConfiguration"
#: The event type's first part -> EventBridge's detail-type (tagging's: ``TAGGING_TYPES``).
DETAIL_TYPES = {"ObjectCreated": "Object Created", "ObjectRemoved": "Object Deleted"}
#: Tagging events -> EventBridge's detail-type.
TAGGING_TYPES = {
    "ObjectTagging:Put": "Object Tags Added",
    "ObjectTagging:Delete": "Object Tags Deleted",
}
#: The event -> the ``reason`` S3's EventBridge events give (the API that caused it).
REASONS = {
    "ObjectCreated:Put": "PutObject",
    "ObjectCreated:Post": "PostObject",
    "ObjectCreated:Copy": "CopyObject",
    "ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
    "ObjectRemoved:Delete": "DeleteObject",
    "ObjectRemoved:DeleteMarkerCreated": "DeleteObject",
}
#: An object removal -> EventBridge's ``deletion-type``.
DELETION_TYPES = {
    "ObjectRemoved:Delete": "Permanently Deleted",
    "ObjectRemoved:DeleteMarkerCreated": "Delete Marker Created",
}
#: S3 sends events from this source address when the request's is unknown (in process).
LOCAL_ADDRESS = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class Target:
    """One configuration an event matched: where it goes and the configuration's Id."""

    kind: str
    arn: str
    configuration_id: str


@dataclass(frozen=True, slots=True)
class ObjectEvent:
    """What happened to one object, as the event record names it."""

    name: str  # without the "s3:" prefix: "ObjectCreated:Put"
    key: str
    size: int | None = None
    etag: str | None = None
    #: The version written or removed (or the delete marker's), in a bucket that has had
    #: versioning; None in one that never had.
    version_id: str | None = None


def with_configuration_ids(configuration: dict[str, Any]) -> dict[str, Any]:
    """The configuration with an Id generated for each entry that has none, as S3 stores
    it (GetBucketNotificationConfiguration answers them, events carry them)."""
    result = dict(configuration)
    for name in DESTINATIONS:
        entries = result.get(name)
        if isinstance(entries, list):
            result[name] = [
                entry
                if not isinstance(entry, dict) or entry.get("Id")
                else {**entry, "Id": _generated_id()}
                for entry in entries
            ]
    return result


def _generated_id() -> str:
    return base64.b64encode(str(uuid.uuid4()).encode()).decode().rstrip("=")


def matching_targets(bucket: BucketRecord, event_name: str, key: str) -> list[Target]:
    """The bucket's configurations an event (``ObjectCreated:Put``) on ``key`` matches:
    its event type, or that type's wildcard, listed, and every key filter rule satisfied
    (prefix and suffix compared case-sensitively, as S3 does)."""
    configuration = bucket.settings.get(SETTING)
    if not configuration:
        return []
    wildcard = "s3:" + event_name.split(":", 1)[0] + ":*"
    full_name = "s3:" + event_name
    found: list[Target] = []
    for list_name, (arn_member, kind) in DESTINATIONS.items():
        for entry in configuration.get(list_name) or []:
            events = entry.get("Events") or []
            if full_name not in events and wildcard not in events:
                continue
            if not _key_matches(entry.get("Filter"), key):
                continue
            found.append(Target(kind, str(entry[arn_member]), str(entry.get("Id") or "")))
    return found


def _key_matches(filter_: Any, key: str) -> bool:
    rules = ((filter_ or {}).get("Key") or {}).get("FilterRules") or []
    for rule in rules:
        name = str(rule.get("Name", "")).lower()
        value = str(rule.get("Value", ""))
        if name == "prefix" and not key.startswith(value):
            return False
        if name == "suffix" and not key.endswith(value):
            return False
    return True


def _known_events() -> frozenset[str]:
    return frozenset(service_model("s3").shape_for("Event").enum)


def _check_filter_rules(filter_: Any) -> None:
    seen: set[str] = set()
    for rule in ((filter_ or {}).get("Key") or {}).get("FilterRules") or []:
        name = str(rule.get("Name", "")).lower()
        if name not in ("prefix", "suffix"):
            raise s3_error(
                "InvalidArgument", "filter rule name must be either prefix or suffix", 400
            )
        if name in seen:
            raise s3_error(
                "InvalidArgument", f"Cannot specify more than one {name} rule in a filter.", 400
            )
        seen.add(name)


def _overlap(one: dict[str, Any], other: dict[str, Any]) -> bool:
    """Whether some event on some key would match both configurations: a common event type
    (a wildcard covers its type's events), prefixes one of which starts the other, and
    suffixes one of which ends the other (a missing rule matches every key)."""
    if not any(
        _events_meet(a, b) for a in one.get("Events") or [] for b in other.get("Events") or []
    ):
        return False
    one_rules, other_rules = _rules_of(one), _rules_of(other)
    prefix, other_prefix = one_rules.get("prefix", ""), other_rules.get("prefix", "")
    suffix, other_suffix = one_rules.get("suffix", ""), other_rules.get("suffix", "")
    return (prefix.startswith(other_prefix) or other_prefix.startswith(prefix)) and (
        suffix.endswith(other_suffix) or other_suffix.endswith(suffix)
    )


def _events_meet(one: str, other: str) -> bool:
    if one == other:
        return True
    for wildcard, event in ((one, other), (other, one)):
        if wildcard.endswith(":*") and event.startswith(wildcard[:-1]):
            return True
    return False


def _rules_of(entry: dict[str, Any]) -> dict[str, str]:
    rules = ((entry.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
    return {str(rule.get("Name", "")).lower(): str(rule.get("Value", "")) for rule in rules}


class Sequencer:
    """S3's ``sequencer``: hex strings that order events on a key (later is greater when
    compared as equal-length strings); from the clock's nanoseconds, never repeating."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self, now: float) -> str:
        with self._lock:
            self._last = max(self._last + 1, int(now * 1e9))
            return f"{self._last:018X}"


def event_record(
    event: ObjectEvent,
    target: Target,
    bucket: BucketRecord,
    *,
    now: float,
    principal: str,
    request_id: str,
    sequencer: str,
) -> dict[str, Any]:
    """One record of an S3 event message, as AWS writes it (event structure version 2.1)."""
    obj = _described_object(
        event, quote_plus(event.key, safe="/"), sequencer, ("size", "eTag", "versionId")
    )
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": bucket.region,
        "eventTime": iso_millis(now),
        "eventName": event.name,
        "userIdentity": {"principalId": principal},
        "requestParameters": {"sourceIPAddress": LOCAL_ADDRESS},
        "responseElements": {"x-amz-request-id": request_id, "x-amz-id-2": _host_id()},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": target.configuration_id,
            "bucket": {
                "name": bucket.name,
                "ownerIdentity": {"principalId": principal},
                "arn": f"arn:aws:s3:::{bucket.name}",
            },
            "object": obj,
        },
    }


def detail_type(event_name: str) -> str | None:
    """The EventBridge detail-type of an S3 event (None: not sent to EventBridge)."""
    return TAGGING_TYPES.get(event_name) or DETAIL_TYPES.get(event_name.split(":", 1)[0])


def _described_object(
    event: ObjectEvent, key: str, sequencer: str, names: tuple[str, str, str]
) -> dict[str, Any]:
    """The event's ``object``: its key, the size, ETag (unquoted) and version it has, under
    ``names`` (the notification record and the EventBridge detail spell them apart), and
    the sequencer (tagging events have none: they do not change the object)."""
    obj: dict[str, Any] = {"key": key}
    values = (event.size, None if event.etag is None else event.etag.strip('"'), event.version_id)
    for name, value in zip(names, values, strict=True):
        if value is not None:
            obj[name] = value
    if event.name not in TAGGING_TYPES:
        obj["sequencer"] = sequencer
    return obj


def eventbridge_detail(
    event: ObjectEvent, bucket: BucketRecord, *, request_id: str, sequencer: str
) -> dict[str, Any]:
    """The ``detail`` of the EventBridge event S3 sends for ``event`` (its detail-type is
    ``DETAIL_TYPES``'): keys not URL-encoded, ETags without quotes, the requester as the
    bucket's account."""
    obj = _described_object(event, event.key, sequencer, ("size", "etag", "version-id"))
    detail: dict[str, Any] = {
        "version": "0",
        "bucket": {"name": bucket.name},
        "object": obj,
        "request-id": request_id,
        "requester": bucket.account,
        "source-ip-address": LOCAL_ADDRESS,
    }
    if event.name in REASONS:
        detail["reason"] = REASONS[event.name]
    if event.name in DELETION_TYPES:
        detail["deletion-type"] = DELETION_TYPES[event.name]
    return detail


def sends_to_eventbridge(bucket: BucketRecord | None) -> bool:
    """Whether the bucket's notification configuration sends its events to EventBridge."""
    configuration = None if bucket is None else bucket.settings.get(SETTING)
    return isinstance(configuration, dict) and configuration.get(EVENTBRIDGE) is not None


def _host_id() -> str:
    return base64.b64encode(uuid.uuid4().bytes * 2).decode()


def _request_id() -> str:
    return new_uuid().replace("-", "")[:16].upper()


def principal_of(account: str) -> str:
    """The principal S3 names in events for requests of ``account`` (its root user)."""
    return f"AWS:{account}"


class Notifier:
    """Sends a bucket's events to its configured destinations."""

    def __init__(self, env: ServiceEnvironment) -> None:
        self.env = env
        self.sequencer = Sequencer()

    def in_transaction(
        self, bucket: BucketRecord, events: Iterable[ObjectEvent]
    ) -> list[Callable[[], None]]:
        """Deliver ``events`` to the bucket's destinations inside the caller's transaction
        (to EventBridge: to the default bus's rules, read in it); returns what starts the
        function invocations stored, to call once it committed. The services deliveries use
        are made here if they were not yet: making one inside a transaction is safe (the
        lock order in ``store.database``)."""
        invocations: list[Callable[[], None]] = []
        if not bucket.settings.get(SETTING):
            return invocations
        now = self.env.clock.now()
        principal = principal_of(bucket.account)
        request_id = _request_id()
        to_bus = sends_to_eventbridge(bucket)
        bus_rules: list[RuleRecord] = []
        if to_bus:
            events_service: Any = self.env.service("events")
            bus_rules = events_service.default_bus_rules(bucket.account, bucket.region)
        sent = Sent()
        for event in events:
            sequencer = self.sequencer.next(now)
            if to_bus and detail_type(event.name) is not None:
                self._send_to_bus(
                    bucket, event, bus_rules, sent, request_id=request_id, sequencer=sequencer
                )
            for target in matching_targets(bucket, event.name, event.key):
                record = event_record(
                    event,
                    target,
                    bucket,
                    now=now,
                    principal=principal,
                    request_id=request_id,
                    sequencer=sequencer,
                )
                message = orjson.dumps({"Records": [record]})
                if target.kind == "function":
                    started = self._accept_invocation(target.arn, message)
                    if started is not None:
                        invocations.append(started)
                else:
                    self._send(target, message.decode())
        if to_bus:
            invocations.append(lambda: sent.after_commit(self.env))
        return invocations

    def _send_to_bus(
        self,
        bucket: BucketRecord,
        event: ObjectEvent,
        rules: list[RuleRecord],
        into: Sent,
        *,
        request_id: str,
        sequencer: str,
    ) -> None:
        events: Any = self.env.service("events")
        events.send_in_transaction(
            rules,
            into,
            account=bucket.account,
            region=bucket.region,
            source="aws.s3",
            detail_type=detail_type(event.name),
            detail=eventbridge_detail(event, bucket, request_id=request_id, sequencer=sequencer),
            resources=[f"arn:aws:s3:::{bucket.name}"],
        )

    def _send(self, target: Target, message: str) -> None:
        # A destination removed since the configuration was put loses the event, as on
        # AWS; the object write stands.
        try:
            if target.kind == "queue":
                send_to_queue(self.env, target.arn, {"MessageBody": message})
            else:
                sns: Any = self.env.service("sns")
                sns.publish_message(target.arn, message, subject=SNS_SUBJECT)
        except (ClientSideFailure, AwsError) as error:
            log.info("S3 event to %s not delivered: %s", target.arn, error)

    def _accept_invocation(self, function_arn: str, payload: bytes) -> Callable[[], None] | None:
        lambda_service: Any = self.env.service("lambda")
        try:
            started: Callable[[], None] = lambda_service.accept_event(function_arn, payload)
        except AwsError as error:
            log.info("S3 event to %s not delivered: %s", function_arn, error)
            return None
        return started

    @staticmethod
    def after_commit(invocations: list[Callable[[], None]]) -> None:
        """Start the function invocations ``in_transaction`` stored (after its commit)."""
        for start in invocations:
            start()

    # ---- PutBucketNotificationConfiguration ----

    def check_configuration(self, configuration: dict[str, Any]) -> None:
        """S3's InvalidArgument for an event type S3 does not know, a filter rule other than
        one prefix and one suffix, two configurations an event could both match, or a
        destination that does not exist (checked before anything is stored)."""
        known_events = _known_events()
        missing: list[tuple[str, str]] = []
        checked: list[dict[str, Any]] = []
        for list_name, (arn_member, kind) in DESTINATIONS.items():
            for entry in configuration.get(list_name) or []:
                if any(event not in known_events for event in entry.get("Events") or []):
                    raise s3_error(
                        "InvalidArgument", "The event is not supported for notifications", 400
                    )
                _check_filter_rules(entry.get("Filter"))
                if any(_overlap(entry, earlier) for earlier in checked):
                    raise s3_error(
                        "InvalidArgument",
                        "Configurations overlap. Configurations on the same bucket cannot "
                        "share a common event type.",
                        400,
                    )
                checked.append(entry)
                arn = str(entry.get(arn_member, ""))
                problem = self._destination_problem(kind, arn)
                if problem is not None:
                    missing.append((arn, problem))
        if missing:
            fields = {}
            for number, (arn, problem) in enumerate(missing, start=1):
                fields[f"ArgumentName{number}"] = arn
                fields[f"ArgumentValue{number}"] = problem
            raise s3_error(
                "InvalidArgument",
                "Unable to validate the following destination configurations",
                400,
                **fields,
            )

    def _destination_problem(self, kind: str, arn: str) -> str | None:
        parsed = Arn.try_parse(arn)
        if kind == "queue":
            sqs: Any = self.env.service("sqs")
            if parsed is None or sqs.resolve_arn(arn) is None:
                return "Error: The destination queue does not exist"
        elif kind == "topic":
            sns: Any = self.env.service("sns")
            if parsed is None or parsed.service != "sns" or sns.store.get_topic(arn) is None:
                return "Error: The destination topic does not exist"
        else:
            lambda_service: Any = self.env.service("lambda")
            try:
                if parsed is None or parsed.service != "lambda":
                    raise LookupError(arn)
                lambda_service.resolve_function(arn)
            except (AwsError, LookupError):
                return "Error: The destination function does not exist"
        return None

    def test_events(self, bucket: BucketRecord, configuration: dict[str, Any]) -> None:
        """The s3:TestEvent S3 sends each queue of a configuration when it is put."""
        now = self.env.clock.now()
        for entry in configuration.get("QueueConfigurations") or []:
            message = {
                "Service": "Amazon S3",
                "Event": "s3:TestEvent",
                "Time": iso_millis(now),
                "Bucket": bucket.name,
                "RequestId": _request_id(),
                "HostId": _host_id(),
            }
            self._send(Target("queue", str(entry["QueueArn"]), ""), orjson.dumps(message).decode())
