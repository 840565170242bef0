"""What CloudFormation keeps about stacks: the records the engine and the API share."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

import orjson

T = TypeVar("T")


def to_json(record: Any) -> bytes:
    return orjson.dumps(asdict(record))


def from_json(cls: type[T], data: bytes | str) -> T:
    values = orjson.loads(data)
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in values.items() if k in known})


@dataclass(slots=True)
class StackRecord:
    """A stack: its identity, status, the template it runs and what it exposes."""

    stack_id: str
    name: str
    region: str
    account: str
    status: str
    creation_time: float
    status_reason: str | None = None
    description: str | None = None
    #: The template as submitted (GetTemplate "Original") and after transforms ("Processed").
    template_body: str = ""
    processed: dict[str, Any] = field(default_factory=dict)
    #: ``Parameters`` as DescribeStacks shows them (NoEcho masked).
    parameters: list[dict[str, str]] = field(default_factory=list)
    #: Parameter values as given (unmasked), for UsePreviousValue.
    parameter_values: dict[str, str] = field(default_factory=dict)
    outputs: list[dict[str, str]] = field(default_factory=list)
    capabilities: list[str] = field(default_factory=list)
    tags: list[dict[str, str]] = field(default_factory=list)
    notification_arns: list[str] = field(default_factory=list)
    disable_rollback: bool = False
    termination_protection: bool = False
    role_arn: str | None = None
    change_set_id: str | None = None
    last_updated_time: float | None = None
    deletion_time: float | None = None
    timeout_in_minutes: int | None = None
    parent_id: str | None = None
    root_id: str | None = None
    #: Base URL the caller used (queue URLs in Ref values follow it).
    endpoint: str | None = None
    #: Export names this stack's template imports (Fn::ImportValue), as last deployed.
    imports: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ResourceRecord:
    """One resource of a stack as it stands now."""

    logical_id: str
    type: str
    status: str
    timestamp: float
    physical_id: str | None = None
    status_reason: str | None = None
    #: Resolved properties the resource was created or last updated with.
    properties: dict[str, Any] = field(default_factory=dict)
    #: Values of Fn::GetAtt.
    attributes: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    deletion_policy: str = "Delete"
    update_replace_policy: str = "Delete"
    description: str | None = None


@dataclass(slots=True)
class EventRecord:
    """One line of DescribeStackEvents."""

    event_id: str
    logical_id: str
    type: str
    status: str
    timestamp: float
    physical_id: str = ""
    reason: str | None = None
    properties: dict[str, Any] | None = None
    client_request_token: str | None = None


@dataclass(slots=True)
class ChangeSetRecord:
    """A change set: a template and parameters compared with the stack, ready to execute."""

    change_set_id: str
    name: str
    stack_id: str
    stack_name: str
    change_set_type: str
    status: str
    execution_status: str
    creation_time: float
    status_reason: str | None = None
    description: str | None = None
    template_body: str = ""
    processed: dict[str, Any] = field(default_factory=dict)
    #: Parameters as supplied to CreateChangeSet.
    supplied_parameters: list[dict[str, Any]] = field(default_factory=list)
    parameters: list[dict[str, str]] = field(default_factory=list)
    parameter_values: dict[str, str] = field(default_factory=dict)
    capabilities: list[str] = field(default_factory=list)
    tags: list[dict[str, str]] = field(default_factory=list)
    notification_arns: list[str] = field(default_factory=list)
    #: DescribeChangeSet ``Changes`` with property values (BeforeContext/AfterContext).
    changes: list[dict[str, Any]] = field(default_factory=list)
    role_arn: str | None = None
    include_nested_stacks: bool = False
    disable_rollback: bool | None = None
    endpoint: str | None = None
