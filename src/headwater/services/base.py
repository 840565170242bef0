"""What every service shares: the request context, the environment and operation dispatch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from headwater.core.arn import DEFAULT_ACCOUNT, DEFAULT_REGION
from headwater.core.clock import Clock
from headwater.core.errors import AwsError
from headwater.core.telemetry import NO_TELEMETRY, Telemetry
from headwater.options import HeadwaterOptions

if TYPE_CHECKING:
    from headwater.store.database import Database

Params = dict[str, Any]
Result = dict[str, Any]


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who is calling and how: region and account (from the signature), endpoint for URLs."""

    region: str = DEFAULT_REGION
    account: str = DEFAULT_ACCOUNT
    #: Base URL the caller used (``http://127.0.0.1:4599``); ``None`` in process, where
    #: queue URLs take the AWS form ``https://sqs.<region>.amazonaws.com/<account>/<name>``.
    endpoint: str | None = None
    access_key: str | None = None


@dataclass(slots=True)
class ServiceEnvironment:
    """Everything a service needs from the application, and a way to reach its peers."""

    database: Database
    clock: Clock
    account: str = DEFAULT_ACCOUNT
    region: str = DEFAULT_REGION
    #: URL of a running headwater server, given to function workers as AWS_ENDPOINT_URL.
    endpoint_url: str | None = None
    #: True when ``headwater serve`` answers HTTP at ``endpoint_url`` (an embedded headwater
    #: may be given an endpoint URL that only its in-process transport answers).
    serving: bool = False
    #: Looks up another service by botocore name (``"sqs"``); set by ``Headwater``.
    lookup: Callable[[str], Service] | None = None
    options: HeadwaterOptions = field(default_factory=HeadwaterOptions)
    #: Where services report metrics and record journeys (set by ``Headwater``).
    telemetry: Telemetry = NO_TELEMETRY
    #: Set by ``Headwater.close()``: clients then raise ``HeadwaterClosed``.
    closed: bool = False
    #: Set when ``Headwater.close()`` starts, before any service closes: long waits inside
    #: one service for another's work (a stack update waiting on a CodeDeploy deployment)
    #: end then, whichever service closes first.
    closing: bool = False

    @property
    def data_dir(self) -> Path:
        return self.database.data_dir

    def service(self, name: str) -> Service:
        if self.lookup is None:
            raise RuntimeError("no service registry in this environment")
        return self.lookup(name)

    def default_context(self) -> RequestContext:
        return RequestContext(region=self.region, account=self.account)


F = TypeVar("F", bound=Callable[..., Result])


def operation(name: str) -> Callable[[F], F]:
    """Mark a method as the implementation of the AWS operation ``name``."""

    def mark(func: F) -> F:
        func.__aws_operation__ = name  # type: ignore[attr-defined]
        return func

    return mark


def _marked(klass: type) -> dict[str, str]:
    """``@operation`` methods of ``klass`` and its bases: operation name -> method name."""
    ops: dict[str, str] = {}
    for base in reversed(klass.__mro__):
        for attr, value in vars(base).items():
            op = getattr(value, "__aws_operation__", None)
            if op is not None:
                ops[op] = attr
    return ops


def holds_unencodable_text(value: Any) -> bool:
    """Whether ``value`` (params: dicts, lists, strings) holds a string that UTF-8 cannot
    encode, a lone surrogate such as ``"\\ud800"``."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


class Service:
    """Base class: collects ``@operation`` methods and dispatches ``call(op, params, ctx)``.

    A service is composed of owned parts rather than a stack of mixins: ``parts`` names the
    attributes holding operation groups (objects whose ``@operation`` methods are the
    service's operations, made in the service's ``__init__``); ``@operation`` methods of
    the service class itself work too.
    """

    #: botocore service name ("sqs", "lambda", "kinesis").
    service_name: ClassVar[str]
    #: The error code for text that is not UTF-8 on a query or XML protocol service
    #: (``None``: the JSON protocols' SerializationException); see ``unencodable_text_error``.
    unencodable_text_code: ClassVar[str | None] = None
    #: The error code and status for an operation headwater does not implement (S3's own
    #: NotImplemented, 501; the others answer the framework's UnknownOperationException).
    unsupported_operation_code: ClassVar[str] = "UnknownOperationException"
    unsupported_operation_status: ClassVar[int] = 400
    #: Attribute name -> class of each operation group the service owns.
    parts: ClassVar[dict[str, type]] = {}
    #: Operation name -> (part attribute, or "" for the service itself; method name).
    _operations: ClassVar[dict[str, tuple[str, str]]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        ops = {op: ("", attr) for op, attr in _marked(cls).items()}
        for part, part_class in cls.parts.items():
            ops.update({op: (part, attr) for op, attr in _marked(part_class).items()})
        cls._operations = ops

    def __init__(self, env: ServiceEnvironment) -> None:
        self.env = env

    @classmethod
    def operation_names(cls) -> list[str]:
        return sorted(cls._operations)

    def call(
        self, operation_name: str, params: Params, ctx: RequestContext | None = None
    ) -> Result:
        """Run one AWS operation with boto3-shaped ``params``; raises ``AwsError``."""
        found = self._operations.get(operation_name)
        if found is None:
            raise AwsError(
                self.unsupported_operation_code,
                f"Operation {operation_name} is not supported by headwater's {self.service_name}",
                status=self.unsupported_operation_status,
            )
        part, attr = found
        owner = getattr(self, part) if part else self
        method: Callable[[Params, RequestContext], Result] = getattr(owner, attr)
        try:
            return method(params, ctx or self.env.default_context())
        except (UnicodeEncodeError, TypeError):
            # Text that is not UTF-8 (a lone surrogate: passed in process, or decoded from
            # a query form's stray bytes) fails where it is first encoded -- a key, a SQL
            # parameter, orjson -- before anything is written. Looked for only after such a
            # failure, so calls that succeed pay nothing.
            if not holds_unencodable_text(params):
                raise
            raise self.unencodable_text_error() from None

    def unencodable_text_error(self) -> AwsError:
        """The error for a request holding text that is not UTF-8.

        Over the JSON protocols boto3 sends a lone surrogate as a ``\\ud800`` escape, which
        the wire layer refuses as malformed JSON; the in-process client answers the same.
        On the query and XML protocols botocore cannot encode such text at all (only raw
        bytes that are not UTF-8 carry it), so those services answer their own validation
        error (``unencodable_text_code``).
        """
        if self.unencodable_text_code is None:
            return AwsError("SerializationException", "Malformed JSON in request body")
        return AwsError(
            self.unencodable_text_code, "The request holds text that is not valid UTF-8."
        )

    def close(self) -> None:
        """Release resources (worker processes, threads); the database is closed by the app."""
