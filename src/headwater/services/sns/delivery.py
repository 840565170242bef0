"""Delivering notifications: SQS in the publishing transaction, the rest through the outbox.

SQS subscriptions are written in the same transaction as the publish, so the message is in
the queue (in publish order, FIFO topics included) the moment ``Publish`` returns. Lambda and
HTTP/S deliveries are outbox rows written in that transaction and sent by one background
thread; a crash between the two only delays them. A failed delivery is retried (SNS's
schedules); a client-side failure (the queue or function is gone) or exhausted retries send
the message to the subscription's dead-letter queue when it has one, else drop it.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from headwater.core.arn import Arn
from headwater.core.errors import AwsError
from headwater.core.ids import new_uuid
from headwater.services.base import RequestContext
from headwater.services.sns.attributes import dead_letter_arn
from headwater.services.sns.messages import (
    Notification,
    confirmation_message,
    envelope,
    iso_timestamp,
    lambda_event,
)
from headwater.store.topics import OutboxEntry, SubscriptionRecord, TopicStore

if TYPE_CHECKING:
    from headwater.services.base import ServiceEnvironment

log = logging.getLogger(__name__)

#: Seconds a claimed outbox row stays with its claimer before others may retry it.
CLAIM_LEASE = 60.0
#: Delays of SNS's retry policy for AWS-managed endpoints (Lambda, SQS): 3 immediate,
#: 2 after 1 s, then backing off to 20 s (AWS goes on for 23 days; so do we).
MANAGED_RETRY_DELAYS = (0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 4.0, 8.0, 16.0, 20.0)
MANAGED_MAX_ATTEMPTS = 100_015
HTTP_TIMEOUT = 15.0
#: Protocols SNS records but headwater does not send to (no mail or SMS from a laptop).
RECORDED_ONLY = frozenset({"email", "email-json", "sms", "application", "firehose"})


class ClientSideFailure(Exception):
    """The endpoint cannot take the message (gone, wrong type): no retry."""


class ServerSideFailure(Exception):
    """The endpoint may take it later (throttled, HTTP 5xx, connection refused)."""


@dataclass(frozen=True, slots=True)
class DeliveryContext:
    """What rendering a notification for a subscriber needs beyond the notification."""

    region: str
    base_url: str
    fifo: bool
    signature_version: str = "1"


class Deliverer:
    """Sends notifications to subscriptions; owns the outbox worker thread."""

    def __init__(
        self,
        env: ServiceEnvironment,
        store: TopicStore,
        context_of: Callable[[str], DeliveryContext | None],
    ) -> None:
        self.env = env
        self.store = store
        self._context_of = context_of
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._busy = 0
        self._unsubscribe = env.clock.subscribe(self.kick)
        #: Deliveries by outcome ("delivered", "failed", "dead-lettered"), for tests/metrics.
        self.counts: dict[str, int] = {"delivered": 0, "failed": 0, "dead-lettered": 0}

    # ---- inline (in the publish transaction) ----

    def deliver_to_queue(
        self, sub: SubscriptionRecord, note: Notification, ctx: DeliveryContext
    ) -> None:
        """Send to an SQS subscription now (inside the caller's transaction)."""
        try:
            self._send_sqs(sub, note, ctx, sub.endpoint)
            self.counts["delivered"] += 1
        except (ClientSideFailure, ServerSideFailure) as error:
            log.info("SNS delivery to %s failed: %s", sub.endpoint, error)
            self._dead_letter(sub, note, ctx)

    # ---- the outbox ----

    def enqueue(self, sub: SubscriptionRecord, note: Notification, kind: str = "notify") -> None:
        """Write an outbox row (inside the caller's transaction); ``kick`` after commit."""
        self.store.add_outbox(
            OutboxEntry(
                id=new_uuid(),
                subscription_arn=sub.arn,
                notification=note.to_json(),
                attempt=0,
                due=self.env.clock.now(),
                extra={"kind": kind} if kind != "notify" else {},
            )
        )

    def enqueue_confirmation(self, sub: SubscriptionRecord, token: str) -> None:
        note = Notification(
            message_id=new_uuid(),
            topic_arn=sub.topic_arn,
            message=token,
            timestamp=_iso_now(self.env.clock.now()),
        )
        self.enqueue(sub, note, kind="confirmation")

    def kick(self) -> None:
        """Wake the outbox worker (starting it on first use)."""
        with self._cond:
            if self._closed:
                return
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="headwater-sns-delivery", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait (real seconds) until no outbox row is due now; True if so (tests)."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.store.db.transaction():
                due = self.store.next_due()
            with self._cond:
                busy = self._busy
            if busy == 0 and (due is None or due > self.env.clock.now()):
                return True
            self.kick()
            time.sleep(0.005)
        return False

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._closed:
                    return
            try:
                worked = self._work_once()
            except Exception:  # pragma: no cover - keep delivering whatever happens
                log.exception("SNS delivery loop failed")
                worked = False
            if worked:
                continue
            with self._cond:
                if self._closed:
                    return
                with self.store.db.transaction():
                    due = self.store.next_due()
                wait = 5.0
                if due is not None:
                    delay = self.env.clock.real_delay(due - self.env.clock.now())
                    wait = 5.0 if delay is None else min(max(delay, 0.001), 5.0)
                self._cond.wait(wait)

    def _work_once(self) -> bool:
        now = self.env.clock.now()
        with self.store.db.transaction():
            entries = self.store.claim_due(now, CLAIM_LEASE, 50)
        if not entries:
            return False
        for entry in entries:
            with self._cond:
                self._busy += 1
            try:
                self._attempt(entry)
            finally:
                with self._cond:
                    self._busy -= 1
        return True

    def _attempt(self, entry: OutboxEntry) -> None:
        with self.store.db.transaction():
            sub = self.store.get_subscription(entry.subscription_arn)
            if sub is None:  # unsubscribed meanwhile: nothing to deliver to
                self.store.finish(entry.id)
                return
        note = Notification.from_json(entry.notification)
        ctx = self._context_of(sub.topic_arn)
        if ctx is None:
            with self.store.db.transaction():
                self.store.finish(entry.id)
            return
        kind = entry.extra.get("kind", "notify")
        try:
            if kind == "confirmation":
                self._post_confirmation(sub, note, ctx)
            else:
                self._send(sub, note, ctx)
        except ClientSideFailure as error:
            log.info("SNS delivery to %s failed: %s", sub.endpoint, error)
            with self.store.db.transaction():
                self.store.finish(entry.id)
                if kind != "confirmation":
                    self._dead_letter(sub, note, ctx)
            return
        except ServerSideFailure as error:
            attempt = entry.attempt + 1
            delay = self._retry_delay(sub, attempt)
            with self.store.db.transaction():
                if delay is None:
                    self.store.finish(entry.id)
                    if kind != "confirmation":
                        self._dead_letter(sub, note, ctx)
                else:
                    log.info("SNS delivery to %s will be retried: %s", sub.endpoint, error)
                    self.store.reschedule(entry.id, attempt, self.env.clock.now() + delay)
            return
        with self.store.db.transaction():
            self.store.finish(entry.id)
        self.counts["delivered"] += 1

    def _retry_delay(self, sub: SubscriptionRecord, attempt: int) -> float | None:
        if sub.protocol in ("http", "https"):
            policy = _http_retry_policy(sub.attributes.get("DeliveryPolicy"))
            if attempt > int(policy.get("numRetries", 3)):
                return None
            return float(policy.get("minDelayTarget", 20))
        if attempt >= MANAGED_MAX_ATTEMPTS:
            return None
        return MANAGED_RETRY_DELAYS[min(attempt, len(MANAGED_RETRY_DELAYS) - 1)]

    # ---- per protocol ----

    def _send(self, sub: SubscriptionRecord, note: Notification, ctx: DeliveryContext) -> None:
        if sub.protocol == "sqs":
            with self.store.db.transaction():
                self._send_sqs(sub, note, ctx, sub.endpoint)
        elif sub.protocol == "lambda":
            self._invoke(sub, note, ctx)
        elif sub.protocol in ("http", "https"):
            self._post_notification(sub, note, ctx)

    def _send_sqs(
        self, sub: SubscriptionRecord, note: Notification, ctx: DeliveryContext, queue_arn: str
    ) -> None:
        raw = sub.attributes.get("RawMessageDelivery") == "true"
        params: dict[str, Any] = {}
        if raw:
            params["MessageBody"] = note.message_for("sqs")
            if note.attributes:
                params["MessageAttributes"] = {
                    name: dict(value) for name, value in note.attributes.items()
                }
        else:
            body = envelope(
                note,
                protocol="sqs",
                subscription_arn=sub.arn,
                region=ctx.region,
                base_url=ctx.base_url,
                fifo=ctx.fifo,
                signature_version=ctx.signature_version,
            )
            params["MessageBody"] = orjson.dumps(body).decode()
        if note.group_id is not None:
            params["MessageGroupId"] = note.group_id
        if note.dedup_id is not None and queue_arn.endswith(".fifo"):
            params["MessageDeduplicationId"] = note.dedup_id
        send_to_queue(self.env, queue_arn, params)

    def _invoke(self, sub: SubscriptionRecord, note: Notification, ctx: DeliveryContext) -> None:
        event = lambda_event(
            note, subscription_arn=sub.arn, region=ctx.region, base_url=ctx.base_url
        )
        lambda_service: Any = self.env.service("lambda")
        result = lambda_service.invoke_function(
            sub.endpoint, orjson.dumps(event), invocation_type="Event"
        )
        if result.status == "throttled":
            raise ServerSideFailure("throttled")
        if result.status == "service_error":
            raise ClientSideFailure(result.error_message or result.error_code or "not found")

    def _post_notification(
        self, sub: SubscriptionRecord, note: Notification, ctx: DeliveryContext
    ) -> None:
        if sub.attributes.get("RawMessageDelivery") == "true":
            body = note.message_for(sub.protocol).encode()
        else:
            body = orjson.dumps(
                envelope(
                    note,
                    protocol=sub.protocol,
                    subscription_arn=sub.arn,
                    region=ctx.region,
                    base_url=ctx.base_url,
                    fifo=ctx.fifo,
                    signature_version=ctx.signature_version,
                )
            )
        headers = {
            "x-amz-sns-message-type": "Notification",
            "x-amz-sns-message-id": note.message_id,
            "x-amz-sns-topic-arn": sub.topic_arn,
            "x-amz-sns-subscription-arn": sub.arn,
        }
        if sub.attributes.get("RawMessageDelivery") == "true":
            headers["x-amz-sns-rawdelivery"] = "true"
        _post(sub.endpoint, body, headers, _content_type(sub))

    def _post_confirmation(
        self, sub: SubscriptionRecord, note: Notification, ctx: DeliveryContext
    ) -> None:
        body = confirmation_message(
            topic_arn=sub.topic_arn,
            token=note.message,
            message_id=note.message_id,
            timestamp=note.timestamp,
            region=ctx.region,
            base_url=ctx.base_url,
        )
        headers = {
            "x-amz-sns-message-type": "SubscriptionConfirmation",
            "x-amz-sns-message-id": note.message_id,
            "x-amz-sns-topic-arn": sub.topic_arn,
        }
        _post(sub.endpoint, orjson.dumps(body), headers, "text/plain; charset=UTF-8")

    def _dead_letter(
        self, sub: SubscriptionRecord, note: Notification, ctx: DeliveryContext
    ) -> None:
        """Move a failed notification to the subscription's DLQ (or drop it)."""
        target = dead_letter_arn(sub.attributes)
        if target is None:
            self.counts["failed"] += 1
            return
        try:
            self._send_sqs(sub, note, ctx, target)
            self.counts["dead-lettered"] += 1
        except (ClientSideFailure, ServerSideFailure) as error:
            log.warning("SNS dead-letter queue %s unavailable: %s", target, error)
            self.counts["failed"] += 1

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        self._unsubscribe()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)


def send_to_queue(env: ServiceEnvironment, queue_arn: str, params: dict[str, Any]) -> None:
    """SendMessage to a queue of this headwater by ARN; failures are classified."""
    arn = Arn.try_parse(queue_arn)
    if arn is None:
        raise ClientSideFailure(f"not a queue ARN: {queue_arn}")
    sqs: Any = env.service("sqs")
    resolved = sqs.resolve_arn(queue_arn)
    if resolved is None:
        raise ClientSideFailure(f"queue {queue_arn} does not exist")
    ctx = RequestContext(region=arn.region, account=arn.account)
    try:
        sqs.call("SendMessage", {"QueueUrl": sqs.queue_url(resolved.record), **params}, ctx)
    except AwsError as error:
        raise ClientSideFailure(f"{error.code}: {error.message}") from None


def _content_type(sub: SubscriptionRecord) -> str:
    policy = sub.attributes.get("DeliveryPolicy")
    if policy:
        try:
            found = orjson.loads(policy).get("requestPolicy", {}).get("headerContentType")
        except (orjson.JSONDecodeError, AttributeError):
            found = None
        if found:
            return str(found)
    return "text/plain; charset=UTF-8"


def _http_retry_policy(policy: str | None) -> dict[str, Any]:
    if not policy:
        return {}
    try:
        found = orjson.loads(policy).get("healthyRetryPolicy") or {}
    except (orjson.JSONDecodeError, AttributeError):
        return {}
    return found if isinstance(found, dict) else {}


def _post(url: str, body: bytes, headers: dict[str, str], content_type: str) -> None:
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", content_type)
    request.add_header("User-Agent", "Amazon Simple Notification Service Agent")
    for name, value in headers.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (urllib.error.URLError, OSError) as error:
        raise ServerSideFailure(str(error)) from None
    if not 200 <= status < 300:
        raise ServerSideFailure(f"HTTP {status}")


def _iso_now(epoch: float) -> str:
    return iso_timestamp(epoch)
