"""Target deliveries that can fail: attempts, retries on the headwater clock, dead letters.

EventBridge rules and EventBridge Scheduler schedules send to the same kinds of targets and
treat a failed send the same way (their ``RetryPolicy`` and ``DeadLetterConfig``): an error
that may pass (a throttle, a refused message) is retried with exponential backoff until
``MaximumRetryAttempts`` retries were made or the event is ``MaximumEventAgeInSeconds`` old
(by default 185 and 24 hours); an error that cannot pass (the target does not exist) is not
retried. A delivery out of tries goes to the dead-letter queue (an SQS queue) with the
message attributes AWS adds, or is dropped when there is none.

A delivery is one :class:`TargetCall` (which service, which ARN, the parameters), decided
when the event happened, so a retry sends exactly what the first attempt did. Sends that
join the caller's transaction (a queue's message, a topic's publish, a stream's record, a
function's stored Event invocation) are tried there; a delivery that must wait (a retry,
or a send that cannot join a transaction: a state machine's execution starts running, an
event bus's delivery opens its own) is a row of ``target_deliveries`` written inside the
caller's transaction, tried once it committed and again, if need be, when the clock says
so. Pending deliveries are in the database, so they survive a restart (the events and
scheduler services' tickers pick them up again).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from headwater.core.arn import Arn
from headwater.core.errors import AwsError
from headwater.services.base import RequestContext
from headwater.services.sns.delivery import ClientSideFailure, send_to_queue
from headwater.store.database import Database

if TYPE_CHECKING:
    from headwater.services.base import ServiceEnvironment

log = logging.getLogger(__name__)

AfterCommit = Callable[[], None]

#: EventBridge's (and the Scheduler's) default retry policy.
DEFAULT_MAX_RETRIES = 185
DEFAULT_MAX_AGE = 86400.0
#: Backoff before retry N: FIRST_BACKOFF * 2**(N-1) clock seconds, at most MAX_BACKOFF. AWS
#: documents exponential backoff with jitter, not its steps; these (without jitter, so a
#: ManualClock test knows when a retry comes) spread 185 retries over about 15 hours.
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 300.0
#: How long a claimed delivery that must be sent outside a transaction is someone's: a
#: process that stops while sending leaves it to be tried again after this.
CLAIM_SECONDS = 60.0

#: Target services whose send cannot join the caller's transaction.
SENT_AFTER_COMMIT = frozenset({"states", "events"})
#: Error codes that mean the target is not there: not retried (AWS sends such events to
#: the dead-letter queue at once), ERROR_CODE NO_RESOURCE.
_MISSING = frozenset(
    {
        "ResourceNotFoundException",
        "StateMachineDoesNotExist",
        "NotFound",
        "NotFoundException",
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
    }
)
_THROTTLED = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "TooManyRequestsException",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestThrottled",
    }
)


class DeliveryFailure(Exception):
    """A send that did not happen: its dead-letter ERROR_CODE and ERROR_MESSAGE, and
    whether trying again may help."""

    def __init__(self, code: str, message: str, *, retryable: bool) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable

    @classmethod
    def of(cls, error: AwsError) -> DeliveryFailure:
        """The failure an AWS error answer stands for (as EventBridge's error codes)."""
        if error.code in _MISSING:
            return cls("NO_RESOURCE", error.message, retryable=False)
        if error.code in _THROTTLED:
            return cls("THROTTLING", error.message, retryable=True)
        return cls("SDK_CLIENT_ERROR", f"{error.code}: {error.message}", retryable=True)


@dataclass(frozen=True, slots=True)
class TargetCall:
    """What one delivery sends: the target's ARN service (``sqs``), its ARN and the call's
    parameters (JSON values), see ``call_in_transaction`` and ``call_after_commit``."""

    service: str
    arn: str
    params: dict[str, Any]

    @classmethod
    def send(
        cls,
        arn: str,
        body: str,
        *,
        group_id: Any,
        deduplication_id: str,
        partition_key: Any,
    ) -> TargetCall | None:
        """Sending ``body`` to a function, queue, topic, stream or state machine ``arn``
        (None for another service): a FIFO queue's message gets ``group_id`` (when set)
        and ``deduplication_id``, a stream's record ``partition_key``."""
        parsed = Arn.try_parse(arn)
        service = parsed.service if parsed is not None else ""
        if service == "lambda":
            return cls(service, arn, {"Payload": body})
        if service == "sqs":
            params: dict[str, Any] = {"MessageBody": body}
            if arn.endswith(".fifo"):
                if group_id is not None:
                    params["MessageGroupId"] = str(group_id)
                params["MessageDeduplicationId"] = deduplication_id
            return cls(service, arn, params)
        if service == "sns":
            return cls(service, arn, {"Message": body})
        if service == "kinesis":
            return cls(service, arn, {"Data": body, "PartitionKey": str(partition_key)})
        if service == "states":
            return cls(service, arn, {"input": body})
        if service == "firehose":
            return cls(service, arn, {"Data": body})
        return None


@dataclass(slots=True)
class PendingDelivery:
    """One event's delivery to one target, with what its failure needs."""

    id: str
    #: Which service's ticker retries it ("events" or "scheduler").
    origin: str
    #: The rule or schedule ARN (metrics, logs).
    origin_arn: str
    call: dict[str, Any]
    #: The target's RetryPolicy and DeadLetterConfig (boto3-shaped) as put.
    retry_policy: dict[str, Any]
    dead_letter_arn: str | None
    #: The dead-letter message's body and the attributes naming where it came from.
    dead_letter_body: str
    dead_letter_attributes: dict[str, str]
    #: When the event happened: its age counts from here.
    since: float
    #: A rule's bus (its metrics' dimension); None for a schedule.
    bus: str | None = None
    #: Attempts made so far.
    attempts: int = 0
    error: list[str] = field(default_factory=list)

    @property
    def target_call(self) -> TargetCall:
        return TargetCall(**self.call)

    @property
    def max_retries(self) -> int:
        value = self.retry_policy.get("MaximumRetryAttempts")
        return DEFAULT_MAX_RETRIES if value is None else int(value)

    @property
    def max_age(self) -> float:
        value = self.retry_policy.get("MaximumEventAgeInSeconds")
        return DEFAULT_MAX_AGE if value is None else float(value)


def backoff(attempts: int) -> float:
    """Clock seconds to wait after ``attempts`` failed attempts."""
    return float(min(FIRST_BACKOFF * 2 ** min(attempts - 1, 30), MAX_BACKOFF))


_MIGRATIONS = [
    """
    CREATE TABLE target_deliveries (
        id TEXT PRIMARY KEY,
        origin TEXT NOT NULL,
        due REAL NOT NULL,
        body BLOB NOT NULL
    );
    CREATE INDEX target_deliveries_due ON target_deliveries(origin, due)
    """,
]


class PendingDeliveryStore:
    """Deliveries waiting for an attempt; every method joins the caller's transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("target_deliveries", _MIGRATIONS)

    def put(self, delivery: PendingDelivery, due: float) -> None:
        with self.db.transaction():
            self.db.conn.execute(
                "INSERT INTO target_deliveries(id, origin, due, body) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET due = excluded.due, body = excluded.body",
                (delivery.id, delivery.origin, due, orjson.dumps(asdict(delivery))),
            )

    def due(self, origin: str, now: float) -> list[tuple[PendingDelivery, float]]:
        """The deliveries of ``origin`` due at ``now``, earliest first, with their due time."""
        with self.db.read():
            rows = self.db.conn.execute(
                "SELECT body, due FROM target_deliveries WHERE origin = ? AND due <= ?"
                " ORDER BY due",
                (origin, now),
            ).fetchall()
        return [(PendingDelivery(**orjson.loads(body)), float(due)) for body, due in rows]

    def get(self, delivery_id: str) -> tuple[PendingDelivery, float] | None:
        with self.db.read():
            row = self.db.conn.execute(
                "SELECT body, due FROM target_deliveries WHERE id = ?", (delivery_id,)
            ).fetchone()
        return None if row is None else (PendingDelivery(**orjson.loads(row[0])), float(row[1]))

    def move(self, delivery_id: str, due: float, to: float) -> bool:
        """Move a delivery's due time from ``due`` to ``to``; ``False`` if someone moved it
        (or sent it) first."""
        with self.db.transaction():
            cursor = self.db.conn.execute(
                "UPDATE target_deliveries SET due = ? WHERE id = ? AND due = ?",
                (to, delivery_id, due),
            )
            return cursor.rowcount > 0

    def delete(self, delivery_id: str) -> None:
        with self.db.transaction():
            self.db.conn.execute("DELETE FROM target_deliveries WHERE id = ?", (delivery_id,))


def _context(arn: str) -> RequestContext:
    parsed = Arn.parse(arn)
    return RequestContext(region=parsed.region, account=parsed.account)


def _send_to_queue(env: ServiceEnvironment, arn: str, params: dict[str, Any]) -> None:
    sqs: Any = env.service("sqs")
    if sqs.resolve_arn(arn) is None:
        raise DeliveryFailure("NO_RESOURCE", f"Queue {arn} does not exist.", retryable=False)
    try:
        send_to_queue(env, arn, params)
    except ClientSideFailure as error:
        raise DeliveryFailure("SDK_CLIENT_ERROR", str(error), retryable=True) from None


def call_in_transaction(env: ServiceEnvironment, call: TargetCall) -> AfterCommit | None:
    """Send ``call`` inside the caller's transaction; returns what to run once it committed
    (a function's stored invocation starts). Raises DeliveryFailure."""
    try:
        if call.service == "lambda":
            lambda_service: Any = env.service("lambda")
            started: AfterCommit = lambda_service.accept_event(
                call.arn, str(call.params["Payload"]).encode()
            )
            return started
        if call.service == "sqs":
            _send_to_queue(env, call.arn, call.params)
            return None
        if call.service == "sns":
            sns: Any = env.service("sns")
            sns.publish_message(
                call.arn, str(call.params["Message"]), group_id=call.params.get("MessageGroupId")
            )
            return None
        if call.service == "kinesis":
            kinesis: Any = env.service("kinesis")
            kinesis.call(
                "PutRecord",
                {
                    "StreamARN": call.arn,
                    "Data": str(call.params["Data"]).encode(),
                    "PartitionKey": str(call.params["PartitionKey"]),
                },
                _context(call.arn),
            )
            return None
        if call.service == "firehose":
            # The event as the target gets it, as one record (no newline added, as AWS).
            firehose: Any = env.service("firehose")
            flush: AfterCommit | None = firehose.accept_records(
                call.arn, [str(call.params["Data"]).encode()]
            )[1]
            return flush
    except AwsError as error:
        raise DeliveryFailure.of(error) from None
    except RuntimeError as error:  # the Lambda service closed (headwater stopping)
        raise DeliveryFailure("SDK_CLIENT_ERROR", str(error), retryable=True) from None
    raise DeliveryFailure(
        "NO_RESOURCE", f"headwater does not deliver to {call.service} targets", retryable=False
    )


def call_after_commit(env: ServiceEnvironment, call: TargetCall) -> None:
    """Send ``call`` outside any transaction (it opens its own). Raises DeliveryFailure."""
    try:
        if call.service == "states":
            stepfunctions: Any = env.service("stepfunctions")
            stepfunctions.call(
                "StartExecution",
                {"stateMachineArn": call.arn, "input": str(call.params["input"])},
                _context(call.arn),
            )
            return
        if call.service == "events":
            events: Any = env.service("events")
            if "event" in call.params:  # a rule's event, forwarded whole to another bus
                events.forward_event(call.arn, call.params["event"], int(call.params["hops"]))
                return
            entry = {**call.params["entry"], "EventBusName": call.arn}
            answer = events.call("PutEvents", {"Entries": [entry]}, _context(call.arn))
            failed = answer["Entries"][0]
            if "ErrorCode" in failed:
                raise AwsError(str(failed["ErrorCode"]), str(failed.get("ErrorMessage", "")))
            return
    except AwsError as error:
        raise DeliveryFailure.of(error) from None
    raise DeliveryFailure(
        "NO_RESOURCE", f"headwater does not deliver to {call.service} targets", retryable=False
    )


#: Called with a delivery and the metric one of its endings counts in.
OutcomeCounter = Callable[[PendingDelivery, str], None]


class TargetDeliveries:
    """The deliveries of one origin (the events service's rules, the scheduler's
    schedules): first attempts, retries when due, dead letters."""

    def __init__(
        self, env: ServiceEnvironment, origin: str, count: OutcomeCounter | None = None
    ) -> None:
        self.env = env
        self.origin = origin
        self.store = PendingDeliveryStore(env.database)
        self._count = count or (lambda delivery, metric: None)

    def deliver(self, delivery: PendingDelivery, later: list[AfterCommit]) -> bool:
        """Make the first attempt of ``delivery`` inside the caller's transaction, or store
        it to be made once it committed;
        ``True`` unless it failed for good (dropped or dead-lettered) at once."""
        now = self.env.clock.now()
        call = delivery.target_call
        if call.service in SENT_AFTER_COMMIT:
            self.store.put(delivery, now)
            later.append(lambda: self.attempt(delivery.id))
            return True
        try:
            started = call_in_transaction(self.env, call)
        except DeliveryFailure as failure:
            return self._failed(delivery, failure, now)
        self._count(delivery, "Invocations")
        if started is not None:
            later.append(started)
        return True

    def retry_due(self, now: float) -> int:
        """Attempt every stored delivery whose time has come; returns how many."""
        due = self.store.due(self.origin, now)
        for delivery, at in due:
            self._attempt(delivery, at)
        return len(due)

    def attempt(self, delivery_id: str) -> None:
        """Attempt the stored delivery ``delivery_id`` now (if it is still stored)."""
        found = self.store.get(delivery_id)
        if found is not None:
            self._attempt(*found)

    def _attempt(self, delivery: PendingDelivery, due: float) -> None:
        call = delivery.target_call
        later: list[AfterCommit] = []
        if delivery.attempts:
            self._count(delivery, "RetryInvocationAttempts")
        if call.service in SENT_AFTER_COMMIT:
            now = self.env.clock.now()
            if not self.store.move(delivery.id, due, now + CLAIM_SECONDS):
                return  # someone else is sending it
            failure: DeliveryFailure | None = None
            try:
                call_after_commit(self.env, call)
            except DeliveryFailure as error:
                failure = error
            with self.env.database.transaction():
                if failure is None:
                    self.store.delete(delivery.id)
                    self._count(delivery, "Invocations")
                elif not self._failed(delivery, failure, self.env.clock.now()):
                    self.store.delete(delivery.id)
            return
        with self.env.database.transaction():
            found = self.store.get(delivery.id)
            if found is None or found[1] != due:
                return
            try:
                started = call_in_transaction(self.env, call)
            except DeliveryFailure as error:
                if not self._failed(delivery, error, self.env.clock.now()):
                    self.store.delete(delivery.id)
            else:
                self.store.delete(delivery.id)
                self._count(delivery, "Invocations")
                if started is not None:
                    later.append(started)
        for step in later:
            step()

    def _failed(self, delivery: PendingDelivery, failure: DeliveryFailure, now: float) -> bool:
        """A failed attempt: store the next one and return ``True``, or, when no try is
        left, send the delivery to its dead-letter queue (or drop it) and return ``False``
        (the caller deletes a stored delivery)."""
        delivery.attempts += 1
        delivery.error = [failure.code, failure.message]
        retries = delivery.attempts - 1
        log.info(
            "delivery of %s to %s failed (attempt %d): %s",
            delivery.origin_arn,
            delivery.target_call.arn,
            delivery.attempts,
            failure,
        )
        condition: str | None = None
        if failure.retryable:
            wait = backoff(delivery.attempts)
            if retries >= delivery.max_retries:
                condition = "MaximumRetryAttempts"
            elif now + wait - delivery.since > delivery.max_age:
                condition = "MaximumEventAgeInSeconds"
            else:
                self.store.put(delivery, now + wait)
                return True
        self._dead_letter(delivery, failure, retries, condition)
        return False

    def _dead_letter(
        self,
        delivery: PendingDelivery,
        failure: DeliveryFailure,
        retries: int,
        condition: str | None,
    ) -> None:
        """Send an undelivered event to the dead-letter queue with AWS's attributes (an
        invocation that failed for good counts in Invocations too, as AWS counts it)."""
        self._count(delivery, "Invocations")
        if delivery.dead_letter_arn is None:
            self._count(delivery, "FailedInvocations")
            return
        attributes = {
            **delivery.dead_letter_attributes,
            "TARGET_ARN": delivery.target_call.arn,
            "ERROR_CODE": failure.code,
            "ERROR_MESSAGE": failure.message,
            "RETRY_ATTEMPTS": str(retries),
        }
        if condition is not None:
            attributes["EXHAUSTED_RETRY_CONDITION"] = condition
        params = {
            "MessageBody": delivery.dead_letter_body,
            "MessageAttributes": {
                name: {"DataType": "String", "StringValue": value}
                for name, value in sorted(attributes.items())
            },
        }
        try:
            _send_to_queue(self.env, delivery.dead_letter_arn, params)
        except DeliveryFailure as error:
            log.info("dead letter of %s not sent: %s", delivery.origin_arn, error)
            self._count(delivery, "InvocationsFailedToBeSentToDlq")
            return
        self._count(delivery, "InvocationsSentToDlq")
