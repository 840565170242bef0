"""Asynchronous invocation settings and destinations.

``PutFunctionEventInvokeConfig`` and its siblings store, per function (and qualifier), how
many times Lambda retries a failed ``InvocationType=Event`` invocation
(``MaximumRetryAttempts``, 0-2), how old an event may get (``MaximumEventAgeInSeconds``,
60-21600) and where the outcome goes (``DestinationConfig`` OnSuccess / OnFailure: an SQS
queue, an SNS topic, another function, or for failures an S3 bucket). The Event queue asks
this module for the limits of each invocation and hands it every final outcome, which is sent
as AWS's destination record (``requestContext`` / ``requestPayload`` / ``responseContext`` /
``responsePayload``). Destination types headwater cannot deliver to are refused when the
configuration is written.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from headwater.core.arn import Arn
from headwater.core.errors import AwsError
from headwater.core.values import iso_millis
from headwater.esm.streams.destinations import S3_KEY_FIELD
from headwater.runtime.invocation import (
    EVENT_LEASE_TTL,
    EVENT_MAX_AGE,
    EVENT_RETRY_DELAYS,
    EVENT_THROTTLE_DELAY,
    EVENT_THROTTLE_MAX_DELAY,
    EventInvocation,
    EventQueue,
    InvocationResult,
)
from headwater.services.base import Params, RequestContext, Result, Service, operation
from headwater.services.destinations import (
    check_destination_pattern,
    deliver_message,
    deliver_record,
)
from headwater.services.lambda_ import validation as check
from headwater.services.lambda_.qualifiers import LATEST
from headwater.store.async_invocations import AsyncInvocationStore, open_async_invocation_store
from headwater.store.database import Database

if TYPE_CHECKING:
    from headwater.core.clock import Clock
    from headwater.runtime.environment import FunctionSpec
    from headwater.services.lambda_.qualifiers import QualifierResolver

log = logging.getLogger(__name__)

DEFAULT_RETRIES = len(EVENT_RETRY_DELAYS)
#: Destination services per outcome.
SUCCESS_SERVICES = frozenset({"sqs", "sns", "lambda", "events"})
FAILURE_SERVICES = frozenset({"sqs", "sns", "lambda", "s3", "events"})

_SCHEMA = """
CREATE TABLE lambda_event_invoke_configs (
    region TEXT NOT NULL,
    function TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    config TEXT NOT NULL,
    last_modified REAL NOT NULL,
    PRIMARY KEY (region, function, qualifier)
)
"""


@dataclass(frozen=True, slots=True)
class EventInvokeConfig:
    """One function's asynchronous invocation settings."""

    max_retries: int | None = None
    max_age: int | None = None
    on_success: str | None = None
    on_failure: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "MaximumRetryAttempts": self.max_retries,
            "MaximumEventAgeInSeconds": self.max_age,
            "OnSuccess": self.on_success,
            "OnFailure": self.on_failure,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EventInvokeConfig:
        return cls(
            data.get("MaximumRetryAttempts"),
            data.get("MaximumEventAgeInSeconds"),
            data.get("OnSuccess"),
            data.get("OnFailure"),
        )


class EventInvokeStore:
    """The configurations, in portable SQL."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("lambda_event_invoke", [_SCHEMA])

    def get(
        self, region: str, function: str, qualifier: str
    ) -> tuple[EventInvokeConfig, float] | None:
        row = self.db.conn.execute(
            "SELECT config, last_modified FROM lambda_event_invoke_configs"
            " WHERE region = ? AND function = ? AND qualifier = ?",
            (region, function, qualifier),
        ).fetchone()
        return None if row is None else (EventInvokeConfig.from_json(orjson.loads(row[0])), row[1])

    def put(
        self, region: str, function: str, qualifier: str, config: EventInvokeConfig, now: float
    ) -> None:
        self.db.conn.execute(
            "INSERT INTO lambda_event_invoke_configs (region, function, qualifier, config,"
            " last_modified) VALUES (?, ?, ?, ?, ?) ON CONFLICT (region, function, qualifier)"
            " DO UPDATE SET config = excluded.config, last_modified = excluded.last_modified",
            (region, function, qualifier, orjson.dumps(config.to_json()).decode(), now),
        )

    def delete(self, region: str, function: str, qualifier: str) -> bool:
        row = self.db.conn.execute(
            "DELETE FROM lambda_event_invoke_configs WHERE region = ? AND function = ?"
            " AND qualifier = ? RETURNING function",
            (region, function, qualifier),
        ).fetchone()
        return row is not None

    def list(self, region: str, function: str) -> list[tuple[str, EventInvokeConfig, float]]:
        rows = self.db.conn.execute(
            "SELECT qualifier, config, last_modified FROM lambda_event_invoke_configs"
            " WHERE region = ? AND function = ? ORDER BY qualifier",
            (region, function),
        ).fetchall()
        return [(r[0], EventInvokeConfig.from_json(orjson.loads(r[1])), r[2]) for r in rows]


class DestinationEventQueue(EventQueue):
    """Lambda's Event queue with per-function retry and age limits, and a hook for every
    final outcome (``Success``, ``RetriesExhausted``, ``EventAgeExceeded``)."""

    def __init__(
        self,
        run: Callable[[EventInvocation], InvocationResult | None],
        clock: Clock,
        store: AsyncInvocationStore,
        *,
        limits: Callable[[EventInvocation], tuple[int, float]],
        settled: Callable[[EventInvocation, InvocationResult, str], None],
        lease_ttl: float = EVENT_LEASE_TTL,
    ) -> None:
        super().__init__(run, clock, store, lease_ttl=lease_ttl)
        self._limits = limits
        self._settled = settled

    def _finish(self, item: EventInvocation, result: InvocationResult, condition: str) -> None:
        try:
            self._settled(item, result, condition)
        except Exception:  # a destination problem never stops the queue
            log.exception("asynchronous invocation destination failed")

    def _schedule_retry(self, item: EventInvocation, result: InvocationResult) -> float | None:
        if result.status == "ok":
            self._finish(item, result, "Success")
            return None
        max_retries, max_age = self._limits(item)
        age = self._clock.now() - item.accepted_at
        if result.status in {"throttled", "service_error"}:
            delay = min(EVENT_THROTTLE_MAX_DELAY, EVENT_THROTTLE_DELAY * 2.0**item.throttles)
            if age + delay >= max_age:
                self._finish(item, result, "EventAgeExceeded")
                return None
            item.throttles += 1
            return delay
        if item.attempt >= max_retries:
            self._finish(item, result, "RetriesExhausted")
            return None
        delay = EVENT_RETRY_DELAYS[min(item.attempt, len(EVENT_RETRY_DELAYS) - 1)]
        if age + delay >= max_age:
            self._finish(item, result, "EventAgeExceeded")
            return None
        item.attempt += 1
        return delay


def _json_or_text(payload: bytes) -> Any:
    if not payload:
        return None
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return payload.decode("utf-8", "replace")


def destination_record(
    *,
    function_arn: str,
    condition: str,
    item: EventInvocation,
    result: InvocationResult,
    now: float,
) -> dict[str, Any]:
    """The document an asynchronous invocation destination receives (AWS's layout)."""
    response_context: dict[str, Any] = {
        "statusCode": 200,
        "executedVersion": result.executed_version or "$LATEST",
    }
    if result.function_error is not None:
        response_context["functionError"] = result.function_error
    return {
        "version": "1.0",
        "timestamp": iso_millis(now),
        "requestContext": {
            "requestId": result.request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": item.attempt + 1,
        },
        "requestPayload": _json_or_text(item.payload) if item.payload else {},
        "responseContext": response_context,
        "responsePayload": _json_or_text(result.payload),
    }


class EventInvokeConfigOperations(Service):
    """The EventInvokeConfig API, and destinations for the Event queue (mixed into
    ``LambdaService`` beside ``FunctionOperations``)."""

    if TYPE_CHECKING:

        def _arn(self, region: str, name: str, qualifier: str | None = None) -> str: ...

        def _locate(
            self,
            ref: str,
            qualifier: str | None = None,
            region: str | None = None,
            *,
            create: bool = False,
        ) -> tuple[check.FunctionRef, str]: ...

        def _cached_spec(self, region: str, name: str) -> FunctionSpec | None: ...

        def _event_queue(self) -> EventQueue: ...

        _qualifiers: QualifierResolver

        def invoke_function(
            self,
            function_ref: str,
            payload: bytes | str | dict[str, Any] | list[Any] = b"",
            *,
            invocation_type: str = "RequestResponse",
            log_tail: bool = False,
            qualifier: str | None = None,
            client_context: dict[str, Any] | None = None,
            region: str | None = None,
            request_id: str | None = None,
        ) -> InvocationResult: ...

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.event_invoke_configs = EventInvokeStore(self.env.database)
        if self.env.database.store(open_async_invocation_store).count():
            self._event_queue().start()  # invocations a previous run accepted and left

    # ---- the Event queue ----

    def _make_event_queue(
        self, run: Callable[[EventInvocation], InvocationResult | None]
    ) -> EventQueue:
        return DestinationEventQueue(
            run,
            self.env.clock,
            self.env.database.store(open_async_invocation_store),
            limits=self._event_limits,
            settled=self._event_settled,
            lease_ttl=self.env.options.esm_lease_ttl_seconds,
        )

    def _config_of(self, item: EventInvocation) -> EventInvokeConfig | None:
        """The configuration of the qualifier invoked (an unqualified invocation is
        ``$LATEST``'s); a version or alias without one has Lambda's defaults."""
        region = item.region or self.env.region
        with self.env.database.transaction():
            found = self.event_invoke_configs.get(
                region, item.function_name, item.qualifier or LATEST
            )
        return None if found is None else found[0]

    def _event_limits(self, item: EventInvocation) -> tuple[int, float]:
        config = self._config_of(item)
        if config is None:
            return DEFAULT_RETRIES, EVENT_MAX_AGE
        retries = DEFAULT_RETRIES if config.max_retries is None else config.max_retries
        age = EVENT_MAX_AGE if config.max_age is None else float(config.max_age)
        return retries, age

    def _event_settled(
        self, item: EventInvocation, result: InvocationResult, condition: str
    ) -> None:
        region = item.region or self.env.region
        if condition != "Success":
            self._dead_letter(region, item, result)
        config = self._config_of(item)
        if config is None:
            return
        target = config.on_success if condition == "Success" else config.on_failure
        if not target:
            return
        record = destination_record(
            function_arn=self._arn(region, item.function_name, item.qualifier or LATEST),
            condition=condition,
            item=item,
            result=result,
            now=self.env.clock.now(),
        )
        arn = Arn.try_parse(target)
        if arn is not None and arn.service == "lambda":
            self.invoke_function(target, orjson.dumps(record), invocation_type="Event")
            return
        if arn is not None and arn.service == "s3":
            moment = dt.datetime.fromtimestamp(self.env.clock.now(), dt.UTC)
            record[S3_KEY_FIELD] = (
                f"aws/lambda/async/{item.function_name}/{moment:%Y/%m/%d}/"
                f"{moment:%Y-%m-%dT%H.%M.%S}-{result.request_id}"
            )
        if not deliver_record(self.env, target, record):
            log.warning("asynchronous invocation destination %s: delivery failed", target)

    def _dead_letter(self, region: str, item: EventInvocation, result: InvocationResult) -> None:
        """The function's ``DeadLetterConfig`` (an SQS queue or SNS topic) gets the event of
        a discarded asynchronous invocation, beside any OnFailure destination, as on AWS:
        the event as the body, ``RequestID``, ``ErrorCode`` and ``ErrorMessage`` attributes."""
        target = self._qualifiers.resolve(region, item.function_name, item.qualifier)
        if target is None:
            return
        dead_letter = (target.record.extra.get("DeadLetterConfig") or {}).get("TargetArn")
        if not dead_letter:
            return
        response = _json_or_text(result.payload)
        error_message = (
            response.get("errorMessage") if isinstance(response, dict) else None
        ) or result.status
        attributes: dict[str, str | int] = {
            "RequestID": result.request_id,
            "ErrorCode": 200,
            "ErrorMessage": str(error_message),
        }
        if not deliver_message(
            self.env, dead_letter, item.payload.decode("utf-8", "replace"), attributes
        ):
            log.warning(
                "asynchronous invocation dead-letter target %s: delivery failed", dead_letter
            )

    # ---- the API ----

    def _event_function(self, params: Params, ctx: RequestContext) -> tuple[str, str, str]:
        """(region, function name, qualifier) of an existing function."""
        try:
            parsed, region = self._locate(
                str(params.get("FunctionName") or ""), params.get("Qualifier"), ctx.region
            )
        except AwsError as error:
            if error.code == "ResourceNotFoundException":
                raise _function_missing() from None
            raise
        if self._qualifiers.resolve(region, parsed.name, parsed.qualifier) is None:
            raise _function_missing()  # no such function, version or alias
        return region, parsed.name, parsed.qualifier or LATEST

    def _check_destinations(
        self, given: dict[str, Any], region: str, name: str
    ) -> tuple[str | None, str | None]:
        success = (given.get("OnSuccess") or {}).get("Destination") or None
        failure = (given.get("OnFailure") or {}).get("Destination") or None
        for key, target, services in (
            ("onSuccess", success, SUCCESS_SERVICES),
            ("onFailure", failure, FAILURE_SERVICES),
        ):
            if target is None:
                continue
            check_destination_pattern(str(target), f"destinationConfig.{key}.destination")
            arn = Arn.try_parse(str(target))
            if arn is None or arn.service not in services:
                shown_success = f"OnSuccess(destination={success})" if success else "null"
                shown_failure = f"OnFailure(destination={failure})" if failure else "null"
                raise check.invalid_parameter(
                    f"The provided destination config DestinationConfig(onSuccess={shown_success}"
                    f", onFailure={shown_failure}) is invalid."
                )
            if arn.service == "lambda":
                target_name = arn.resource.split(":")[1] if ":" in arn.resource else ""
                if target_name == name and arn.region == region:
                    raise check.invalid_parameter(
                        "You can't specify the function as a destination for itself."
                    )
                if self._cached_spec(arn.region, target_name) is None:
                    raise check.invalid_parameter(f"The destination ARN {target} is invalid.")
        return success, failure

    def _describe_config(
        self, region: str, name: str, qualifier: str, config: EventInvokeConfig, modified: float
    ) -> Result:
        result: Result = {
            "LastModified": dt.datetime.fromtimestamp(modified, dt.UTC),
            "FunctionArn": self._arn(region, name, qualifier),
        }
        if config.max_retries is not None:
            result["MaximumRetryAttempts"] = config.max_retries
        if config.max_age is not None:
            result["MaximumEventAgeInSeconds"] = config.max_age
        result["DestinationConfig"] = {
            "OnSuccess": {"Destination": config.on_success} if config.on_success else {},
            "OnFailure": {"Destination": config.on_failure} if config.on_failure else {},
        }
        return result

    def _write_config(self, params: Params, ctx: RequestContext, *, merge: bool) -> Result:
        region, name, qualifier = self._event_function(params, ctx)
        given_destinations = params.get("DestinationConfig")
        if (
            params.get("MaximumRetryAttempts") is None
            and params.get("MaximumEventAgeInSeconds") is None
            and given_destinations is None
        ):
            raise check.invalid_parameter(
                "You must specify at least one of error handling or destination setting."
            )
        _check_range(params.get("MaximumRetryAttempts"), "maximumRetryAttempts", 0, 2)
        _check_range(params.get("MaximumEventAgeInSeconds"), "maximumEventAgeInSeconds", 60, 21600)
        success, failure = self._check_destinations(given_destinations or {}, region, name)
        now = self.env.clock.now()
        with self.env.database.transaction():
            existing = self.event_invoke_configs.get(region, name, qualifier)
            if merge and existing is None:
                raise _config_missing(self._arn(region, name, qualifier))
            base = existing[0] if (merge and existing is not None) else EventInvokeConfig()
            config = EventInvokeConfig(
                max_retries=params.get("MaximumRetryAttempts", base.max_retries),
                max_age=params.get("MaximumEventAgeInSeconds", base.max_age),
                on_success=success if given_destinations is not None else base.on_success,
                on_failure=failure if given_destinations is not None else base.on_failure,
            )
            self.event_invoke_configs.put(region, name, qualifier, config, now)
        return self._describe_config(region, name, qualifier, config, now)

    @operation("PutFunctionEventInvokeConfig")
    def put_function_event_invoke_config(self, params: Params, ctx: RequestContext) -> Result:
        return self._write_config(params, ctx, merge=False)

    @operation("UpdateFunctionEventInvokeConfig")
    def update_function_event_invoke_config(self, params: Params, ctx: RequestContext) -> Result:
        return self._write_config(params, ctx, merge=True)

    @operation("GetFunctionEventInvokeConfig")
    def get_function_event_invoke_config(self, params: Params, ctx: RequestContext) -> Result:
        region, name, qualifier = self._event_config_target(params, ctx)
        with self.env.database.transaction():
            found = self.event_invoke_configs.get(region, name, qualifier)
        if found is None:
            raise _config_missing(self._arn(region, name, qualifier))
        return self._describe_config(region, name, qualifier, *found)

    @operation("DeleteFunctionEventInvokeConfig")
    def delete_function_event_invoke_config(self, params: Params, ctx: RequestContext) -> Result:
        region, name, qualifier = self._event_config_target(params, ctx)
        with self.env.database.transaction():
            deleted = self.event_invoke_configs.delete(region, name, qualifier)
        if not deleted:
            raise _config_missing(self._arn(region, name, qualifier))
        return {"_status": 204}

    @operation("ListFunctionEventInvokeConfigs")
    def list_function_event_invoke_configs(self, params: Params, ctx: RequestContext) -> Result:
        region, name, _ = self._event_function(params, ctx)
        with self.env.database.transaction():
            found = self.event_invoke_configs.list(region, name)
        # the marker is the qualifier to start from (configurations are few per function)
        marker = params.get("Marker")
        if marker:
            found = [entry for entry in found if entry[0] >= marker]
        limit = int(params.get("MaxItems") or 50)
        result: Result = {
            "FunctionEventInvokeConfigs": [
                self._describe_config(region, name, qualifier, config, modified)
                for qualifier, config, modified in found[:limit]
            ]
        }
        if len(found) > limit:
            result["NextMarker"] = found[limit][0]
        return result

    def _event_config_target(self, params: Params, ctx: RequestContext) -> tuple[str, str, str]:
        """Like ``_event_function``, but a missing function reads as a missing config
        (AWS answers Get/Delete that way)."""
        parsed, region = self._locate(
            str(params.get("FunctionName") or ""), params.get("Qualifier"), ctx.region
        )
        return region, parsed.name, parsed.qualifier or LATEST


def _not_found(message: str) -> AwsError:
    """These errors spell their message member ``Message``, as AWS's do."""
    return check.user_error("ResourceNotFoundException", message, 404, Message=message)


def _function_missing() -> AwsError:
    return _not_found("The function doesn't exist.")


def _config_missing(function_arn: str) -> AwsError:
    return _not_found(f"The function {function_arn} doesn't have an EventInvokeConfig")


def _check_range(value: Any, member: str, low: int, high: int) -> None:
    if value is None:
        return
    if not low <= int(value) <= high:
        comparison = "greater than or equal to" if int(value) < low else "less than or equal to"
        bound = low if int(value) < low else high
        raise AwsError(
            "ValidationException",
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
            f"constraint: Member must have value {comparison} {bound}",
        )
