"""Event source mappings as Lambda resources: Create/Get/List/Update/DeleteEventSourceMapping.

``MappingOperations`` is a mixin of ``LambdaService``; it relies on the runtime's
``resolve_function`` and on the SQS/Kinesis services for source checks. Checks run in the
order AWS was observed to apply them (reference §2.5): schema ranges, event source, OnSuccess
destination, function, source existence, parameter applicability and batching rules, filter
patterns, duplicates. Bad input never changes stored data.

Mappings are regional, like functions: a mapping belongs to its function's region (the
caller's when it was created), its ARN says so, and callers of another region do not see it.

Stored state is the settled one (``Enabled``/``Disabled``); the transitional state AWS shows
(``Creating``, ``Enabling``, ``Disabling``, ``Updating``, ``Deleting``) is what the mutating
call answers, because headwater's engine applies a change as soon as it is committed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from headwater.core.arn import Arn, esm_arn
from headwater.core.errors import AwsError, validation_error
from headwater.core.ids import new_uuid
from headwater.core.listeners import Listeners
from headwater.core.mapping_config import (
    NO_RECORDS_PROCESSED,
    RULES,
    MappingConfig,
    SourceFacts,
    SourceKind,
    check_ranges,
    invalid_parameter,
    source_kind,
)
from headwater.core.values import as_datetime
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.destinations import check_mapping_destination
from headwater.store.mappings import MappingRecord, MappingStore, open_mapping_store

if TYPE_CHECKING:
    from headwater.services.base import ServiceEnvironment
    from headwater.store.database import Database

#: Listener called with a mapping UUID after every committed change to that mapping.
MappingListener = Callable[[str], None]

NOT_FOUND_MESSAGE = "The resource you requested does not exist."
MAX_LIST_ITEMS = 100

_STATE_LOCK = threading.Lock()


#: ``Database.publish`` resource of a mapping change (other processes' engines relist).
MAPPINGS_CHANGED = "lambda:mappings"


class _MappingState:
    """Per-service mapping state, created lazily (the mixin has no ``__init__``).

    Other processes and nodes change mappings too: while someone listens, a database
    watch relists the mappings when another process wrote and tells the listeners which
    ones changed (added, updated, deleted), so their engines follow within the poll
    fallback.
    """

    def __init__(self, store: MappingStore, database: Database) -> None:
        self.store = store
        self.database = database
        self.listeners: Listeners[MappingListener] = Listeners()
        self._seen: dict[str, tuple[float, str, str]] | None = None
        self._unwatch: Callable[[], None] | None = None
        self._watch_lock = threading.Lock()

    def listen(self, callback: MappingListener) -> Callable[[], None]:
        remove = self.listeners.add(callback)
        with self._watch_lock:
            if self._unwatch is None:
                self._seen = self._snapshot()
                self._unwatch = self.database.watch(self._changed_elsewhere)
        return remove

    def _snapshot(self) -> dict[str, tuple[float, str, str]]:
        return {r.uuid: (r.last_modified, r.state, r.function_arn) for r in self.store.list()}

    def _changed_elsewhere(self, resource: str | None) -> None:
        if resource is not None and resource != MAPPINGS_CHANGED:
            return
        with self._watch_lock:
            try:
                now = self._snapshot()
            except Exception:  # closing
                return
            before = self._seen or {}
            self._seen = now
        changed = [u for u in now if before.get(u) != now[u]] + [u for u in before if u not in now]
        for uuid in changed:
            for callback in self.listeners.snapshot():
                callback(uuid)


def not_found() -> AwsError:
    return AwsError(
        "ResourceNotFoundException",
        NOT_FOUND_MESSAGE,
        status=404,
        fields={"Type": "User", "Message": NOT_FOUND_MESSAGE},
    )


class MappingOperations:
    """The event source mapping operations of ``LambdaService``."""

    env: ServiceEnvironment

    # Provided by FunctionOperations (runtime); declared for type checking only.
    if TYPE_CHECKING:

        def resolve_function(self, function_ref: str, region: str | None = None) -> Any: ...

    # ----------------------------------------------------------------- internal API

    def _esm(self) -> _MappingState:
        state: _MappingState | None = self.__dict__.get("_esm_state")
        if state is None:
            with _STATE_LOCK:
                state = self.__dict__.get("_esm_state")
                if state is None:
                    database = self.env.database
                    state = _MappingState(database.store(open_mapping_store), database)
                    self.__dict__["_esm_state"] = state
        return state

    @property
    def mapping_store(self) -> MappingStore:
        """The store of event source mappings (the engine reads it)."""
        return self._esm().store

    def add_mapping_listener(self, callback: MappingListener) -> Callable[[], None]:
        """Call ``callback(uuid)`` after each committed mapping change; returns unsubscribe."""
        return self._esm().listen(callback)

    def _notify_mapping(self, uuid: str) -> None:
        self.env.database.publish(MAPPINGS_CHANGED)
        for callback in self._esm().listeners.snapshot():
            callback(uuid)

    def list_mapping_records(self) -> list[MappingRecord]:
        """Every stored mapping, in creation order."""
        return self.mapping_store.list()

    def get_mapping_record(self, uuid: str) -> MappingRecord | None:
        return self.mapping_store.get(uuid)

    def set_mapping_state(self, uuid: str, *, enabled: bool, reason: str) -> None:
        """Lambda-initiated state change (e.g. the source was deleted)."""
        now = self.env.clock.now()
        changed = self.mapping_store.update(
            uuid,
            lambda record: record.with_changes(
                state="Enabled" if enabled else "Disabled", state_reason=reason, last_modified=now
            ),
        )
        if changed is not None:
            self._notify_mapping(uuid)

    def set_processing_result(self, uuid: str, result: str) -> None:
        """Record ``LastProcessingResult`` (stream mappings).

        One read-modify-write transaction that changes only that field, so an API update
        committed meanwhile is never overwritten with the older configuration.
        """

        def change(record: MappingRecord) -> MappingRecord | None:
            if record.processing_result == result:
                return None
            return record.with_changes(processing_result=result)

        self.mapping_store.update(uuid, change)

    def _regional_record(self, uuid: Any, ctx: RequestContext) -> MappingRecord:
        """The mapping ``uuid`` as the caller's region sees it (others' are not found)."""
        record = self.mapping_store.get(str(uuid or ""))
        if record is None or record.region != ctx.region:
            raise not_found()
        return record

    # ----------------------------------------------------------------- operations

    @operation("CreateEventSourceMapping")
    def create_event_source_mapping(self, params: Params, ctx: RequestContext) -> Result:
        check_ranges(params)
        source_arn = params.get("EventSourceArn")
        if not source_arn:
            raise invalid_parameter("Unrecognized event source.")
        kind = source_kind(source_arn)
        if kind is None:
            raise invalid_parameter("Unrecognized event source.")
        destination = params.get("DestinationConfig") or {}
        if "OnSuccess" in destination:
            raise invalid_parameter(
                "Unsupported DestinationConfig parameter for given event source mapping type."
            )
        check_mapping_destination(destination)
        function = self._resolve_mapping_function(params.get("FunctionName"), ctx)
        fifo, visibility = self._check_source(kind, source_arn)
        config = MappingConfig.create(kind, params)
        config.validate(SourceFacts(source_arn, fifo, visibility, _function_timeout(function)))
        self._check_duplicate(kind, source_arn, function)
        enabled = params.get("Enabled", True)
        now = self.env.clock.now()
        uuid = new_uuid()
        record = MappingRecord(
            uuid=uuid,
            source_arn=source_arn,
            function_arn=str(function.qualified_arn),
            function_name=str(function.name),
            state="Enabled" if enabled else "Disabled",
            state_reason=RULES[kind].user_reason,
            last_modified=now,
            config=config,
            processing_result=None if kind == "sqs" else NO_RECORDS_PROCESSED,
        )
        try:
            record = self.mapping_store.insert(record)
        except KeyError:
            # Another node created the same mapping since the check: AWS's conflict.
            self._check_duplicate(kind, source_arn, function)
            raise
        self._notify_mapping(uuid)
        response = _describe(record, ctx)
        response["State"] = "Creating" if enabled else "Disabled"
        response["_status"] = 202
        return response

    @operation("GetEventSourceMapping")
    def get_event_source_mapping(self, params: Params, ctx: RequestContext) -> Result:
        return _describe(self._regional_record(params.get("UUID"), ctx), ctx)

    @operation("ListEventSourceMappings")
    def list_event_source_mappings(self, params: Params, ctx: RequestContext) -> Result:
        function_name = None
        if params.get("FunctionName"):
            function_name = _function_name_of(str(params["FunctionName"]))
        records = [
            record
            for record in self.mapping_store.list(
                function_name=function_name, source_arn=params.get("EventSourceArn") or None
            )
            if record.region == ctx.region
        ]
        marker = params.get("Marker")
        if marker:
            try:
                after = int(marker)
            except ValueError:
                raise invalid_parameter("Invalid marker.") from None
            records = [r for r in records if r.seq > after]
        max_items = params.get("MaxItems")
        limit = MAX_LIST_ITEMS if max_items is None else max(1, min(int(max_items), 100))
        page = records[:limit]
        result: Result = {"EventSourceMappings": [_describe(r, ctx) for r in page]}
        if len(records) > limit:
            result["NextMarker"] = str(page[-1].seq)
        return result

    @operation("UpdateEventSourceMapping")
    def update_event_source_mapping(self, params: Params, ctx: RequestContext) -> Result:
        check_ranges(params)
        record = self._regional_record(params.get("UUID"), ctx)
        kind = source_kind(record.source_arn)
        assert kind is not None
        destination = params.get("DestinationConfig") or {}
        if "OnSuccess" in destination:
            raise invalid_parameter(
                "Unsupported DestinationConfig parameter for given event source mapping type."
            )
        check_mapping_destination(destination)
        function_arn, function_name = record.function_arn, record.function_name
        function = None
        if params.get("FunctionName"):
            function = self._resolve_mapping_function(params["FunctionName"], ctx)
            function_arn, function_name = str(function.qualified_arn), str(function.name)
        config = record.config.updated(params)
        fifo, visibility = False, None
        if kind == "sqs":
            fifo, visibility = self._queue_facts(record.source_arn)
        if function is None:
            function = self._try_resolve(function_arn)
        config.validate(
            SourceFacts(record.source_arn, fifo, visibility, _function_timeout(function))
        )
        if function_arn != record.function_arn and function is not None:
            self._check_duplicate(kind, record.source_arn, function)
        enabled_param = params.get("Enabled")
        was_enabled = record.state == "Enabled"
        if enabled_param is True and not was_enabled:
            shown = "Enabling"
        elif enabled_param is False and was_enabled:
            shown = "Disabling"
        else:
            shown = "Updating"
        enabled = was_enabled if enabled_param is None else bool(enabled_param)
        updated = record.with_changes(
            function_arn=function_arn,
            function_name=function_name,
            state="Enabled" if enabled else "Disabled",
            state_reason=RULES[kind].user_reason,
            last_modified=self.env.clock.now(),
            config=config,
        )

        def keep_processing_result(current: MappingRecord) -> MappingRecord:
            # The engine may have recorded a newer LastProcessingResult since the read.
            return updated.with_changes(processing_result=current.processing_result)

        stored = self.mapping_store.update(record.uuid, keep_processing_result)
        if stored is None:
            raise not_found()
        self._notify_mapping(record.uuid)
        response = _describe(stored, ctx)
        response["State"] = shown
        response["_status"] = 202
        return response

    @operation("DeleteEventSourceMapping")
    def delete_event_source_mapping(self, params: Params, ctx: RequestContext) -> Result:
        record = self._regional_record(params.get("UUID"), ctx)
        uuid = record.uuid
        if not self.mapping_store.delete(uuid):
            raise not_found()
        self._notify_mapping(uuid)
        response = _describe(record, ctx)
        response["State"] = "Deleting"
        response["_status"] = 202
        return response

    # ----------------------------------------------------------------- checks

    def _resolve_mapping_function(self, function_ref: Any, ctx: RequestContext) -> Any:
        """The function in the caller's region (an ARN of another region does not exist)."""
        if not function_ref:
            raise invalid_parameter("Function does not exist")
        try:
            return self.resolve_function(str(function_ref), ctx.region)
        except AwsError as error:
            if error.code in ("ResourceNotFoundException", "InvalidParameterValueException"):
                raise invalid_parameter("Function does not exist") from None
            raise

    def _try_resolve(self, function_ref: str) -> Any:
        try:
            return self.resolve_function(function_ref)
        except AwsError:
            # Deleting the function leaves the mapping in place (§2.4); skip timeout checks.
            return None

    def _queue_facts(self, queue_arn: str) -> tuple[bool, int | None]:
        try:
            info = self.env.service("sqs").queue_info(queue_arn)  # type: ignore[attr-defined]
        except AwsError:
            return queue_arn.endswith(".fifo"), None
        return bool(info.fifo), int(info.visibility_timeout)

    def _check_source(self, kind: SourceKind, source_arn: str) -> tuple[bool, int | None]:
        if kind == "sqs":
            try:
                info = self.env.service("sqs").queue_info(source_arn)  # type: ignore[attr-defined]
            except AwsError as error:
                if error.code in ("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"):
                    raise invalid_parameter(
                        "Error occurred while ReceiveMessage. SQS Error Code: "
                        "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: "
                        "The specified queue does not exist."
                    ) from None
                raise
            return bool(info.fifo), int(info.visibility_timeout)
        if not self._stream_exists(kind, source_arn):
            raise invalid_parameter(f"Stream not found: {source_arn}")
        return False, None

    def _stream_exists(self, kind: SourceKind, stream_arn: str) -> bool:
        service_name = "kinesis" if kind == "kinesis" else "dynamodbstreams"
        try:
            service = self.env.service(service_name)
        except (ValueError, ImportError, AttributeError):
            return False
        exists = getattr(service, "stream_exists", None)
        if callable(exists):
            return bool(exists(stream_arn))
        operation_name = "DescribeStreamSummary" if kind == "kinesis" else "DescribeStream"
        key = "StreamARN" if kind == "kinesis" else "StreamArn"
        try:
            service.call(operation_name, {key: stream_arn})
        except AwsError:
            return False
        return True

    def _check_duplicate(self, kind: SourceKind, source_arn: str, function: Any) -> None:
        for existing in self.mapping_store.list(source_arn=source_arn):
            if existing.function_arn != str(function.qualified_arn):
                continue
            if kind == "sqs":
                message = (
                    f'An event source mapping with SQS arn (" {source_arn} ") and function '
                    f'(" {function.name} ") already exists. Please update or delete the '
                    f"existing mapping with UUID {existing.uuid}"
                )
            else:
                message = (
                    f'The event source arn (" {source_arn} ") and function '
                    f'(" {function.name} ") provided mapping already exists. Please update or '
                    f"delete the existing mapping with UUID {existing.uuid}"
                )
            raise AwsError(
                "ResourceConflictException",
                message,
                status=409,
                fields={"Type": "User", "message": message},
            )


def _function_timeout(function: Any) -> int | None:
    timeout = getattr(function, "timeout", None)
    return None if timeout is None else int(timeout)


def _function_name_of(function_ref: str) -> str:
    """The unqualified function name in a name, partial ARN or ARN (with qualifier)."""
    parts = function_ref.split(":")
    if function_ref.startswith("arn:"):
        return parts[6] if len(parts) > 6 else function_ref
    if len(parts) >= 3 and parts[1] == "function":
        return parts[2]
    return parts[0]


def _describe(record: MappingRecord, ctx: RequestContext) -> Result:
    """The boto3-shaped mapping description (exact key sets per source, §2.3)."""
    region = ctx.region
    account = ctx.account
    parsed = Arn.try_parse(record.function_arn)
    if parsed is not None:
        region, account = parsed.region, parsed.account
    shown = record.config.describe()
    result: Result = {
        **shown,
        "UUID": record.uuid,
        "EventSourceArn": record.source_arn,
        "EventSourceMappingArn": esm_arn(region, account, record.uuid),
        "FunctionArn": record.function_arn,
        "LastModified": as_datetime(record.last_modified),
        "State": record.state,
        "StateTransitionReason": record.state_reason,
    }
    if record.processing_result is not None:
        result["LastProcessingResult"] = record.processing_result
    if "StartingPositionTimestamp" in shown:
        result["StartingPositionTimestamp"] = as_datetime(shown["StartingPositionTimestamp"])
    return dict(sorted(result.items(), key=lambda item: (item[0] != "UUID", item[0])))


__all__ = ["MappingOperations", "MappingRecord", "not_found", "validation_error"]
