"""``MappingConfig``: an event source mapping's configuration, typed and parsed once.

The Lambda API builds it from boto3-shaped parameters (``MappingConfig.create`` /
``updated``), validates it (``validate``), echoes it (``describe``) and the mapping store
keeps its AWS-shaped form (``to_stored`` / ``from_stored``); the pollers read its fields.
Every default lives here, in the ``SourceRules`` of its source kind: adding a source kind
(or a rule of one) means adding or extending one ``SourceRules`` class in ``RULES``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Literal

from headwater.core.arn import Arn
from headwater.core.errors import AwsError, validation_error
from headwater.core.filtering import RecordFilter
from headwater.core.values import as_epoch_seconds

SourceKind = Literal["sqs", "kinesis", "dynamodb"]

STREAM_ONLY = (
    "ParallelizationFactor",
    "MaximumRetryAttempts",
    "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError",
    "DestinationConfig",
    "TumblingWindowInSeconds",
)
SQS_ONLY = ("ScalingConfig", "ProvisionedPollerConfig")
#: Self-managed / broker parameters that no SQS or stream mapping accepts.
OTHER_SOURCES_ONLY = (
    "Topics",
    "Queues",
    "SourceAccessConfigurations",
    "SelfManagedEventSource",
    "SelfManagedKafkaEventSourceConfig",
    "AmazonManagedKafkaEventSourceConfig",
    "DocumentDBEventSourceConfig",
    "LoggingConfig",
)
STARTING_POSITIONS = ("LATEST", "AT_TIMESTAMP", "TRIM_HORIZON")
MAX_FILTERS = 5
MAX_PATTERN_LENGTH = 4096
#: Concurrent invokes per provisioned poller (ProvisionedPollerConfig, §3.7).
POLLER_CONCURRENCY = 10
#: ``LastProcessingResult`` of a stream mapping that has not invoked yet.
NO_RECORDS_PROCESSED = "No records processed"

#: (parameter, camelCase member for messages, minimum, maximum)
_RANGES: tuple[tuple[str, str, int, int], ...] = (
    ("BatchSize", "batchSize", 1, 10_000),
    ("MaximumBatchingWindowInSeconds", "maximumBatchingWindowInSeconds", 0, 300),
    ("ParallelizationFactor", "parallelizationFactor", 1, 10),
    ("MaximumRetryAttempts", "maximumRetryAttempts", -1, 10_000),
    ("MaximumRecordAgeInSeconds", "maximumRecordAgeInSeconds", -1, 604_800),
    ("TumblingWindowInSeconds", "tumblingWindowInSeconds", 0, 900),
)

_EMPTY_TAGS: Mapping[str, str] = MappingProxyType({})


def invalid_parameter(message: str) -> AwsError:
    """Lambda's ``InvalidParameterValueException`` (body carries ``Type`` and ``message``)."""
    return AwsError(
        "InvalidParameterValueException",
        message,
        status=400,
        fields={"Type": "User", "message": message},
    )


def source_kind(source_arn: str) -> SourceKind | None:
    """Which engine serves ``source_arn``: an SQS queue, a Kinesis stream or a DDB stream."""
    arn = Arn.try_parse(source_arn)
    if arn is None:
        return None
    if arn.service == "sqs":
        return "sqs"
    if arn.service == "kinesis" and arn.resource.startswith("stream/"):
        return "kinesis"
    if arn.service == "dynamodb" and "/stream/" in arn.resource:
        return "dynamodb"
    return None


@dataclass(frozen=True, slots=True)
class SourceFacts:
    """What validation needs to know about the source and the function."""

    source_arn: str
    fifo: bool = False
    queue_visibility_timeout: int | None = None
    function_timeout: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MappingConfig:
    """A mapping's settings; immutable, so pollers and the API share one parsed value."""

    kind: SourceKind
    batch_size: int
    window_seconds: int = 0
    report_item_failures: bool = False
    #: The FilterCriteria patterns, as given (JSON text each).
    filter_patterns: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    kms_key_arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=lambda: _EMPTY_TAGS)
    # -- SQS
    #: ScalingConfig.MaximumConcurrency.
    maximum_concurrency: int | None = None
    #: ProvisionedPollerConfig (MinimumPollers, MaximumPollers).
    provisioned_pollers: tuple[int, int] | None = None
    # -- streams
    starting_position: str | None = None
    starting_position_timestamp: float | None = None
    parallelization_factor: int = 1
    maximum_retry_attempts: int = -1
    maximum_record_age: int = -1
    bisect_on_error: bool = False
    tumbling_window: int = 0
    on_failure_destination: str | None = None

    # ------------------------------------------------------------------ construction

    @classmethod
    def create(cls, kind: SourceKind, params: Mapping[str, Any]) -> MappingConfig:
        """A new mapping's configuration: ``kind``'s defaults overlaid with ``params``."""
        rules = RULES[kind]
        rules.check_applicability(params, creating=True)
        return rules.defaults(params)._apply(params)

    def updated(self, params: Mapping[str, Any]) -> MappingConfig:
        """A copy with the fields ``params`` names changed (UpdateEventSourceMapping)."""
        RULES[self.kind].check_applicability(params, creating=False)
        return self._apply(params)

    def replace(self, **changes: Any) -> MappingConfig:
        return dataclasses.replace(self, **changes)

    def _apply(self, params: Mapping[str, Any]) -> MappingConfig:
        changes: dict[str, Any] = {}
        if params.get("BatchSize") is not None:
            changes["batch_size"] = int(params["BatchSize"])
        if params.get("MaximumBatchingWindowInSeconds") is not None:
            changes["window_seconds"] = int(params["MaximumBatchingWindowInSeconds"])
        if params.get("FunctionResponseTypes") is not None:
            changes["report_item_failures"] = "ReportBatchItemFailures" in list(
                params["FunctionResponseTypes"]
            )
        if "FilterCriteria" in params:
            changes["filter_patterns"] = _patterns(params["FilterCriteria"])
        if params.get("MetricsConfig") is not None:
            changes["metrics"] = tuple(params["MetricsConfig"].get("Metrics") or ())
        if "ScalingConfig" in params:
            maximum = (params["ScalingConfig"] or {}).get("MaximumConcurrency")
            changes["maximum_concurrency"] = None if maximum is None else int(maximum)
        if "ProvisionedPollerConfig" in params:
            pollers = params["ProvisionedPollerConfig"] or {}
            changes["provisioned_pollers"] = (
                (int(pollers.get("MinimumPollers", 2)), int(pollers.get("MaximumPollers", 200)))
                if pollers
                else None
            )
        if params.get("KMSKeyArn") is not None:
            changes["kms_key_arn"] = params["KMSKeyArn"] or None
        if params.get("Tags"):
            changes["tags"] = MappingProxyType(dict(params["Tags"]))
        for name, attribute in _STREAM_FIELDS:
            if params.get(name) is not None:
                changes[attribute] = params[name]
        if params.get("DestinationConfig") is not None:
            on_failure = (params["DestinationConfig"] or {}).get("OnFailure") or {}
            changes["on_failure_destination"] = on_failure.get("Destination") or None
        return dataclasses.replace(self, **changes) if changes else self

    # ------------------------------------------------------------------ derived values

    @property
    def filter_criteria(self) -> dict[str, Any] | None:
        """The AWS-shaped FilterCriteria (``None`` without filters)."""
        if not self.filter_patterns:
            return None
        return {"Filters": [{"Pattern": p} for p in self.filter_patterns]}

    @property
    def concurrency_cap(self) -> int | None:
        """Most concurrent batches: MaximumConcurrency, or 10 per provisioned poller."""
        if self.provisioned_pollers is not None:
            return POLLER_CONCURRENCY * self.provisioned_pollers[1]
        return self.maximum_concurrency

    def record_filter(self) -> RecordFilter | None:
        """The compiled filter, or ``None`` when it keeps every record."""
        return compile_record_filter(self.filter_criteria, self.kind)

    # ------------------------------------------------------------------ validation

    def validate(self, facts: SourceFacts) -> None:
        """Rules that depend on the whole configuration and on the source (§2.5 #10-#18)."""
        pollers = self.provisioned_pollers
        if pollers is not None:
            # exact AWS texts for these two are not recorded (reference §11)
            if self.maximum_concurrency is not None:
                raise invalid_parameter(
                    "ScalingConfig and ProvisionedPollerConfig cannot be specified together"
                )
            if pollers[0] > pollers[1]:
                raise invalid_parameter(
                    "MinimumPollers must be less than or equal to MaximumPollers"
                )
        RULES[self.kind].validate(self, facts)
        validate_filters(self.filter_criteria, self.kind)

    # ------------------------------------------------------------------ AWS shapes

    def describe(self) -> dict[str, Any]:
        """The configuration keys of Get/List/CreateEventSourceMapping (§2.3)."""
        shown: dict[str, Any] = {
            "BatchSize": self.batch_size,
            "MaximumBatchingWindowInSeconds": self.window_seconds,
            "FunctionResponseTypes": ["ReportBatchItemFailures"]
            if self.report_item_failures
            else [],
        }
        criteria = self.filter_criteria
        if criteria is not None:
            shown["FilterCriteria"] = criteria
        if self.metrics:
            shown["MetricsConfig"] = {"Metrics": list(self.metrics)}
        if self.kms_key_arn:
            shown["KMSKeyArn"] = self.kms_key_arn
        if self.maximum_concurrency is not None:
            shown["ScalingConfig"] = {"MaximumConcurrency": self.maximum_concurrency}
        if self.provisioned_pollers is not None:
            shown["ProvisionedPollerConfig"] = {
                "MinimumPollers": self.provisioned_pollers[0],
                "MaximumPollers": self.provisioned_pollers[1],
            }
        if self.kind != "sqs":
            on_failure = (
                {"Destination": self.on_failure_destination} if self.on_failure_destination else {}
            )
            shown.update(
                BisectBatchOnFunctionError=self.bisect_on_error,
                DestinationConfig={"OnFailure": on_failure},
                MaximumRecordAgeInSeconds=self.maximum_record_age,
                MaximumRetryAttempts=self.maximum_retry_attempts,
                ParallelizationFactor=self.parallelization_factor,
                StartingPosition=self.starting_position,
                TumblingWindowInSeconds=self.tumbling_window,
            )
            if self.starting_position_timestamp is not None:
                shown["StartingPositionTimestamp"] = self.starting_position_timestamp
        return shown

    def to_stored(self) -> dict[str, Any]:
        """The stored form: ``describe()`` plus the tags (JSON-serializable)."""
        stored = self.describe()
        if self.tags:
            stored["_Tags"] = dict(self.tags)
        return stored

    @classmethod
    def from_stored(cls, kind: SourceKind, stored: Mapping[str, Any]) -> MappingConfig:
        """Parse a stored configuration (as written by ``to_stored``, any release)."""
        config = RULES[kind].defaults(stored)._apply(stored)
        tags = stored.get("_Tags")
        if tags:
            config = dataclasses.replace(config, tags=MappingProxyType(dict(tags)))
        return config


#: (parameter, MappingConfig attribute) of the stream settings set as given.
_STREAM_FIELDS = (
    ("ParallelizationFactor", "parallelization_factor"),
    ("MaximumRetryAttempts", "maximum_retry_attempts"),
    ("MaximumRecordAgeInSeconds", "maximum_record_age"),
    ("BisectBatchOnFunctionError", "bisect_on_error"),
    ("TumblingWindowInSeconds", "tumbling_window"),
)


def _patterns(value: Any) -> tuple[str, ...]:
    if not value or not value.get("Filters"):
        return ()
    return tuple(f.get("Pattern") for f in value["Filters"])


# ---------------------------------------------------------------------- rules per source


def _unsupported(name: str) -> AwsError:
    return invalid_parameter(f"Unsupported {name} parameter for given event source mapping type")


class SourceRules:
    """Defaults, accepted parameters and validation of one source kind."""

    kind: ClassVar[SourceKind]
    #: StateTransitionReason of a user's change.
    user_reason: ClassVar[str]

    def defaults(self, params: Mapping[str, Any]) -> MappingConfig:
        """A configuration with every default of this kind (``params``: required fields)."""
        raise NotImplementedError

    def check_applicability(self, params: Mapping[str, Any], *, creating: bool) -> None:
        """Reject parameters that do not apply to this kind (reference §2.6)."""
        for name in OTHER_SOURCES_ONLY:
            if params.get(name):
                raise _unsupported(name)

    def validate(self, config: MappingConfig, facts: SourceFacts) -> None:
        """This kind's rules on the merged configuration."""


class SqsRules(SourceRules):
    kind: ClassVar[SourceKind] = "sqs"
    user_reason = "USER_INITIATED"

    def defaults(self, params: Mapping[str, Any]) -> MappingConfig:
        return MappingConfig(kind="sqs", batch_size=10)

    def check_applicability(self, params: Mapping[str, Any], *, creating: bool) -> None:
        super().check_applicability(params, creating=creating)
        if params.get("StartingPosition") is not None:
            raise invalid_parameter("StartingPosition is not valid for SQS event sources.")
        if params.get("DestinationConfig"):
            raise invalid_parameter(
                "Unsupported DestinationConfig parameter for given event source mapping type."
            )
        for name in STREAM_ONLY:
            if params.get(name) is not None:
                raise _unsupported(name)

    def validate(self, config: MappingConfig, facts: SourceFacts) -> None:
        batch_size, window = config.batch_size, config.window_seconds
        if facts.fifo:
            if window > 0:
                raise invalid_parameter("Batching window is not supported for FIFO queues")
            if batch_size > 10:
                raise invalid_parameter("Maximum batch size must be between 1 and 10 inclusive")
        elif batch_size > 10 and window == 0:
            raise invalid_parameter(
                "Maximum batch window in seconds must be greater than 0 if maximum batch size "
                "is greater than 10"
            )
        visibility, timeout = facts.queue_visibility_timeout, facts.function_timeout
        if visibility is not None and timeout is not None and timeout > visibility:
            raise invalid_parameter(
                f"Queue visibility timeout: {visibility} seconds is less than "
                f"Function timeout: {timeout} seconds"
            )


class StreamRules(SourceRules):
    """Kinesis Data Streams (and the base of DynamoDB Streams)."""

    kind: ClassVar[SourceKind] = "kinesis"
    user_reason = "User action"

    def defaults(self, params: Mapping[str, Any]) -> MappingConfig:
        timestamp = params.get("StartingPositionTimestamp")
        return MappingConfig(
            kind=self.kind,
            batch_size=100,
            starting_position=params.get("StartingPosition"),
            starting_position_timestamp=None if timestamp is None else as_epoch_seconds(timestamp),
        )

    def check_applicability(self, params: Mapping[str, Any], *, creating: bool) -> None:
        super().check_applicability(params, creating=creating)
        for name in SQS_ONLY:
            if params.get(name) is not None:
                raise _unsupported(name)
        if creating and params.get("StartingPosition") is None:
            raise invalid_parameter(
                "1 validation error detected: Value null at 'startingPosition' failed to satisfy "
                "constraint: Member must not be null."
            )

    def validate(self, config: MappingConfig, facts: SourceFacts) -> None:
        timestamp = config.starting_position_timestamp
        if timestamp is not None:
            if config.starting_position != "AT_TIMESTAMP":
                raise invalid_parameter("Timestamp only valid with StartingPosition AT_TIMESTAMP")
            if timestamp < 0:
                # AWS's exact text for this one is not recorded.
                raise invalid_parameter("StartingPositionTimestamp must not be negative")
        if config.starting_position == "AT_TIMESTAMP":
            self.check_at_timestamp(config, facts)
        age = config.maximum_record_age
        if age != -1 and not 60 <= age <= 604_800:
            raise invalid_parameter(
                "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 "
                "(inclusive)"
            )

    def check_at_timestamp(self, config: MappingConfig, facts: SourceFacts) -> None:
        if config.starting_position_timestamp is None:
            raise invalid_parameter("Need to specify a timestamp")


class DynamoDBStreamRules(StreamRules):
    """DynamoDB Streams: the stream rules, without AT_TIMESTAMP."""

    kind = "dynamodb"

    def check_at_timestamp(self, config: MappingConfig, facts: SourceFacts) -> None:
        raise invalid_parameter(f"Unsupported starting position for arn type: {facts.source_arn}")


RULES: dict[SourceKind, SourceRules] = {
    "sqs": SqsRules(),
    "kinesis": StreamRules(),
    "dynamodb": DynamoDBStreamRules(),
}


# ---------------------------------------------------------------------- request checks


def _range_error(value: Any, member: str, low: int, high: int) -> AwsError | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return validation_error(value, member, "Member must be a number")
    if value > high:
        return validation_error(
            value, member, f"Member must have value less than or equal to {high}"
        )
    if value < low:
        return validation_error(
            value, member, f"Member must have value greater than or equal to {low}"
        )
    return None


def check_ranges(params: Mapping[str, Any]) -> None:
    """Schema-level checks (``ValidationException``), which AWS applies before anything else."""
    for key, member, low, high in _RANGES:
        if params.get(key) is not None:
            error = _range_error(params[key], member, low, high)
            if error is not None:
                raise error
    scaling = params.get("ScalingConfig")
    if scaling and scaling.get("MaximumConcurrency") is not None:
        error = _range_error(
            scaling["MaximumConcurrency"], "scalingConfig.maximumConcurrency", 2, 1000
        )
        if error is not None:
            raise error
    pollers = params.get("ProvisionedPollerConfig")
    if pollers:
        for key, member, low, high in (
            ("MinimumPollers", "provisionedPollerConfig.minimumPollers", 2, 200),
            ("MaximumPollers", "provisionedPollerConfig.maximumPollers", 2, 2000),
        ):
            if pollers.get(key) is not None:
                error = _range_error(pollers[key], member, low, high)
                if error is not None:
                    raise error
    position = params.get("StartingPosition")
    if position is not None and position not in STARTING_POSITIONS:
        raise validation_error(
            position,
            "startingPosition",
            "Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]",
        )
    types = params.get("FunctionResponseTypes")
    if types is not None:
        if len(types) > 1:
            raise validation_error(
                types, "functionResponseTypes", "Member must have length less than or equal to 1"
            )
        for value in types:
            if value != "ReportBatchItemFailures":
                raise validation_error(
                    types,
                    "functionResponseTypes",
                    "[Member must satisfy enum value set: [ReportBatchItemFailures]]",
                )


def validate_filters(criteria: dict[str, Any] | None, kind: SourceKind) -> None:
    """Reject FilterCriteria AWS rejects (count, length, pattern grammar)."""
    if not criteria:
        return
    filters = criteria.get("Filters") or []
    if len(filters) > MAX_FILTERS:
        raise invalid_parameter("Invalid filter pattern definition.")
    for entry in filters:
        pattern = entry.get("Pattern")
        if isinstance(pattern, str) and len(pattern) > MAX_PATTERN_LENGTH:
            raise validation_error(
                pattern,
                "filterCriteria.filters.member.pattern",
                f"Member must have length less than or equal to {MAX_PATTERN_LENGTH}",
            )
    try:
        compile_record_filter(criteria, kind)
    except AwsError as error:
        # Re-raised so the body carries Lambda's lower-case "message" like every
        # InvalidParameterValueException of this API.
        raise invalid_parameter(error.message) from None


def compile_record_filter(criteria: dict[str, Any] | None, kind: SourceKind) -> RecordFilter | None:
    """The compiled filter of a mapping, or ``None`` when it keeps every record."""
    if not criteria or not criteria.get("Filters"):
        return None
    from headwater.core.filtering import compile_filter_criteria

    return compile_filter_criteria(criteria, kind)
