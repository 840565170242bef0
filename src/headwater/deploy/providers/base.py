"""What a resource provider is: create, update and delete one resource type through clients.

Providers are clients of headwater's services, like any user: they call boto3-shaped
methods on ``request.client("sqs")`` and turn CloudFormation properties into API
parameters (``to_params`` coerces text such as ``"10"`` to the integer the API model
wants, as CloudFormation does). A provider returns the physical id (what ``Ref`` gives)
and the attributes ``Fn::GetAtt`` can read.
"""

from __future__ import annotations

import contextlib
import secrets
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from botocore.exceptions import ClientError
from botocore.model import Shape

from headwater.client import ServiceClient
from headwater.models import operation_model

#: ``clients(service_name, validate=True)``: an in-process boto3-compatible client in the
#: stack's region and account. ``validate=False`` admits headwater's extensions (local
#: code directories).
ClientFactory = Callable[..., ServiceClient]

_SUFFIX_ALPHABET = string.ascii_letters + string.digits


def random_suffix(length: int = 12, *, alphabet: str = _SUFFIX_ALPHABET) -> str:
    """The random tail CloudFormation puts on generated names (``-xvqPt7CmcHKX``)."""
    return "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass(slots=True)
class ResourceRequest:
    """One provider call: the resource, its resolved properties and the stack around it."""

    logical_id: str
    type: str
    properties: dict[str, Any]
    stack_name: str
    stack_id: str
    region: str
    account: str
    clients: ClientFactory
    physical_id: str | None = None
    previous_properties: dict[str, Any] = field(default_factory=dict)
    previous_attributes: dict[str, Any] = field(default_factory=dict)
    #: The resource's resolved ``UpdatePolicy`` on an update the template asked for (empty
    #: on creates and on the updates of a rollback).
    update_policy: dict[str, Any] = field(default_factory=dict)
    #: True on the update that puts a resource back as it was during an update rollback.
    rollback: bool = False

    def client(self, service_name: str, *, validate: bool = True) -> ServiceClient:
        return self.clients(service_name, validate=validate)

    def physical_name(
        self, max_length: int = 255, *, lowercase: bool = False, prefix: str | None = None
    ) -> str:
        """A generated name: ``<stack>-<LogicalId>-<random>`` cut to ``max_length``.

        When the whole is too long, the stack and logical id parts are shortened (the
        random part never is), as CloudFormation does.
        """
        suffix = random_suffix(12)
        if lowercase:
            suffix = suffix.lower()
        head = [prefix] if prefix is not None else [self.stack_name]
        parts = [*head, self.logical_id]
        budget = max_length - len(suffix) - len(parts)
        if sum(len(part) for part in parts) > budget:
            share = max(budget // len(parts), 1)
            parts = [part[:share] for part in parts]
        name = "-".join([*parts, suffix])[:max_length]
        return name.lower() if lowercase else name


@dataclass(frozen=True, slots=True)
class ProviderResult:
    """What a create or update leaves: the physical id and the GetAtt attributes."""

    physical_id: str
    attributes: dict[str, Any] = field(default_factory=dict)


class ResourceProvider:
    """Base class of the providers of one resource type."""

    #: CloudFormation type this provider serves (``AWS::SQS::Queue``).
    type_name: ClassVar[str]
    #: The headwater service the provider calls; the type is unsupported while that
    #: service is not built. ``None`` for resources kept only in the stack.
    service: ClassVar[str | None] = None
    #: Operations of that service the provider needs (the type is unsupported until the
    #: service implements them all).
    operations: ClassVar[tuple[str, ...]] = ()

    def create(self, request: ResourceRequest) -> ProviderResult:
        raise NotImplementedError

    def update(self, request: ResourceRequest) -> ProviderResult:
        """Change the resource in place (only non-create-only properties changed)."""
        raise NotImplementedError

    def delete(self, request: ResourceRequest) -> None:
        raise NotImplementedError


def to_params(service: str, operation: str, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` shaped for ``operation``'s input: unknown keys dropped, scalars coerced."""
    shape = operation_model(service, operation).input_shape
    if shape is None:
        return {}
    coerced = coerce(values, shape)
    assert isinstance(coerced, dict)
    return coerced


def coerce(value: Any, shape: Shape) -> Any:
    """``value`` converted to the type of a botocore ``shape`` where CloudFormation would."""
    type_name = shape.type_name
    if type_name == "structure":
        if not isinstance(value, dict):
            return value
        members = shape.members
        return {
            name: coerce(item, members[name])
            for name, item in value.items()
            if name in members and item is not None
        }
    if type_name == "list":
        if not isinstance(value, list):
            value = [value]
        return [coerce(item, shape.member) for item in value]
    if type_name == "map":
        if not isinstance(value, dict):
            return value
        return {str(k): coerce(v, shape.value) for k, v in value.items()}
    if type_name in ("integer", "long"):
        return (
            int(value) if isinstance(value, str | float) and not isinstance(value, bool) else value
        )
    if type_name in ("float", "double"):
        return (
            float(value) if isinstance(value, str | int) and not isinstance(value, bool) else value
        )
    if type_name == "boolean":
        if isinstance(value, str):
            return value.lower() == "true"
        return value
    if type_name == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return value
    if type_name == "blob" and isinstance(value, str):
        return value.encode("utf-8")
    return value


def resource_not_found(error: ClientError) -> bool:
    """Whether a call failed because the resource is not there (a delete that finds it gone
    has nothing left to do)."""
    return bool(error.response["Error"]["Code"] == "ResourceNotFoundException")


@contextlib.contextmanager
def missing_is_deleted() -> Iterator[None]:
    """Around a delete: a ResourceNotFoundException means the resource is already gone (a
    delete run twice, or one that went with its parent), so there is nothing left to do."""
    try:
        yield
    except ClientError as error:
        if not resource_not_found(error):
            raise


def tags_dict(tags: Any) -> dict[str, str]:
    """CloudFormation's ``[{Key, Value}]`` tags as a mapping."""
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    return {str(tag["Key"]): str(tag.get("Value", "")) for tag in tags or []}


def retag(
    old: Any,
    new: Any,
    *,
    untag: Callable[[list[str]], object],
    tag: Callable[[dict[str, str]], object],
) -> None:
    """Bring a resource's tags from the template's previous ``Tags`` (``old``) to ``new``:
    ``untag`` the keys that went, then ``tag`` with the new ones if anything changed."""
    old_tags, new_tags = tags_dict(old), tags_dict(new)
    removed = [key for key in old_tags if key not in new_tags]
    if removed:
        untag(removed)
    if new_tags and new_tags != old_tags:
        tag(new_tags)
