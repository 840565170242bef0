"""``Headwater``: the application object users create (embedded) or the server runs."""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, cast, overload

from headwater.client import LambdaClient, ServiceClient
from headwater.core.arn import DEFAULT_ACCOUNT, DEFAULT_REGION
from headwater.core.clock import Clock
from headwater.core.errors import HeadwaterClosed
from headwater.options import HeadwaterOptions
from headwater.services.base import RequestContext, Service, ServiceEnvironment
from headwater.store.clock_origin import resume_clock
from headwater.store.database import Durability, open_database
from headwater.telemetry import Observability
from headwater.wiring import build_destinations, build_engine, service_class

DEFAULT_DATA_DIR = Path("~/.headwater")

if TYPE_CHECKING:
    import asyncio

    from headwater.esm.engine import EsmEngine
    from headwater.s3_transfers import S3Client
    from headwater.services.dynamodb import DynamoDBService
    from headwater.services.kinesis import KinesisService
    from headwater.services.lambda_ import LambdaService
    from headwater.services.ses import SesService
    from headwater.services.sns import SnsService
    from headwater.services.sqs import SqsService
    from headwater.wiring.adapters import LocalDestinations


class Headwater:
    """Queues, streams, tables, functions and event source mappings in one process.

    ``Headwater(data_dir=...)`` stores everything in SQLite under ``data_dir``;
    ``Headwater(database_url="postgresql://...")`` in PostgreSQL, shared by every headwater
    (node) given the same URL; ``Headwater.in_memory()`` keeps it in memory (tests). Pass
    ``clock=ManualClock()`` to drive time by hand, or ``time_scale=N`` to run queue and
    stream timers N times faster. Other keyword arguments are ``HeadwaterOptions`` fields
    (``function_workers=8``); pass ``options=HeadwaterOptions(...)`` to reuse a set.
    """

    def __init__(
        self,
        data_dir: str | Path | None = DEFAULT_DATA_DIR,
        *,
        clock: Clock | None = None,
        region: str = DEFAULT_REGION,
        account: str = DEFAULT_ACCOUNT,
        durability: Durability = "normal",
        time_scale: float = 1.0,
        endpoint_url: str | None = None,
        database_url: str | None = None,
        options: HeadwaterOptions | None = None,
        **option_values: Any,
    ) -> None:
        self.options = HeadwaterOptions.from_kwargs(options, **option_values)
        self.database = open_database(
            None if database_url is not None and data_dir == DEFAULT_DATA_DIR else data_dir,
            durability,
            url=database_url,
            poll_fallback=self.options.poll_fallback_seconds,
        )
        if clock is None:
            # a scaled clock continues across restarts (its origin is saved on disk)
            on_disk = None if self.database.kind == "memory" else self.database.data_dir
            clock = resume_clock(on_disk, time_scale)
        self.clock = clock
        self.time_scale = time_scale
        self.env = ServiceEnvironment(
            database=self.database,
            clock=clock,
            account=account,
            region=region,
            endpoint_url=endpoint_url,
            lookup=self.service,
            options=self.options,
        )
        self._services: dict[str, Service] = {}
        self._clients: dict[str, ServiceClient] = {}
        #: Held while the engine and its destinations are built (see the lock order in
        #: ``headwater.store.database``: it comes before the database's write lock).
        self._lock = threading.RLock()
        #: Held while a service is made, and for nothing else; taken inside the
        #: database's write lock. Services were once made holding ``_lock``: a
        #: transaction that looked up a new service then waited for the engine's builder,
        #: which waited for the transaction.
        self._services_lock = threading.RLock()
        self._closed = False
        self._closing = False
        self._engine: EsmEngine | None = None
        self._destinations: LocalDestinations | None = None
        self.observability = Observability.build(
            self.env, peek=self._services.get, engine=lambda: self._engine
        )
        self.env.telemetry = self.observability.telemetry
        self.observability.start()

    @classmethod
    def in_memory(cls, **kwargs: Any) -> Headwater:
        """A Headwater whose state lives in memory only (for tests)."""
        return cls(data_dir=None, **kwargs)

    @property
    def data_dir(self) -> Path:
        return self.database.data_dir

    # ------------------------------------------------------------------ services

    @overload
    def service(self, name: Literal["sqs"]) -> SqsService: ...
    @overload
    def service(self, name: Literal["lambda"]) -> LambdaService: ...
    @overload
    def service(self, name: Literal["kinesis"]) -> KinesisService: ...
    @overload
    def service(self, name: Literal["dynamodb"]) -> DynamoDBService: ...
    @overload
    def service(self, name: Literal["sns"]) -> SnsService: ...
    @overload
    def service(self, name: Literal["ses"]) -> SesService: ...
    @overload
    def service(self, name: str) -> Service: ...

    def service(self, name: str) -> Service:
        """The service object for a botocore service name ("sqs", "lambda", ...).

        Service objects are headwater's internals (operations take boto3-shaped params
        and a request context); applications use ``client(name)``.
        """
        if self.env.closed:
            self._check_open()
        found = self._services.get(name)
        if found is not None:
            return found
        # Making a service writes its schema: the write lock first (a caller inside a
        # transaction holds it already), then the services' own lock.
        with self.database.schema_lock(), self._services_lock:
            self._check_open()
            found = self._services.get(name)
            if found is None:
                found = service_class(name)(self.env)
                self._services[name] = found
            return found

    @overload
    def client(
        self,
        service_name: Literal["lambda"],
        region_name: str | None = None,
        *,
        validate: bool = True,
    ) -> LambdaClient: ...
    @overload
    def client(
        self,
        service_name: Literal["s3"],
        region_name: str | None = None,
        *,
        validate: bool = True,
    ) -> S3Client: ...
    @overload
    def client(
        self, service_name: str, region_name: str | None = None, *, validate: bool = True
    ) -> ServiceClient: ...

    def client(
        self, service_name: str, region_name: str | None = None, *, validate: bool = True
    ) -> ServiceClient:
        """A boto3-compatible client for ``service_name`` that calls headwater in process."""
        context = RequestContext(
            region=region_name or self.env.region,
            account=self.env.account,
            endpoint=self.env.endpoint_url,
        )
        client_class: type[ServiceClient] = ServiceClient
        if service_name == "lambda":
            client_class = LambdaClient
        elif service_name == "s3":
            # imported on first use: boto3's transfer machinery is not needed before
            from headwater.s3_transfers import S3Client

            client_class = S3Client
        return client_class(self.service(service_name), context, validate=validate)

    def _default_client(self, service_name: str) -> ServiceClient:
        found = self._clients.get(service_name)
        if found is None:
            found = self._clients[service_name] = self.client(service_name)
        return found

    @property
    def sqs(self) -> ServiceClient:
        """The SQS client of the default region (boto3's methods)."""
        return self._default_client("sqs")

    @property
    def kinesis(self) -> ServiceClient:
        """The Kinesis client of the default region (boto3's methods)."""
        return self._default_client("kinesis")

    @property
    def dynamodb(self) -> ServiceClient:
        """The DynamoDB client of the default region (boto3's methods)."""
        return self._default_client("dynamodb")

    @property
    def iam(self) -> ServiceClient:
        """The IAM client (global: its entities are the account's in every region)."""
        return self._default_client("iam")

    @property
    def sts(self) -> ServiceClient:
        """The STS client of the default region (boto3's methods)."""
        return self._default_client("sts")

    @property
    def sns(self) -> ServiceClient:
        """The SNS client of the default region (boto3's methods)."""
        return self._default_client("sns")

    @property
    def events(self) -> ServiceClient:
        """The EventBridge client of the default region (boto3's methods)."""
        return self._default_client("events")

    @property
    def s3(self) -> S3Client:
        """The S3 client of the default region (boto3's methods and managed transfers)."""
        return cast("S3Client", self._default_client("s3"))

    @property
    def lambda_(self) -> LambdaClient:
        """The Lambda client of the default region: boto3's methods plus
        ``create_function_from_directory`` and friends."""
        client = self._default_client("lambda")
        assert isinstance(client, LambdaClient)
        return client

    # ------------------------------------------------------------------ the engine

    @property
    def destinations(self) -> LocalDestinations:
        """Where stream mappings deliver on-failure records."""
        with self._lock:
            if self._destinations is None:
                self._destinations = build_destinations(self.env)
            return self._destinations

    @property
    def engine(self) -> EsmEngine:
        """The event source mapping engine (created on first use; runs after ``start``)."""
        with self._lock:
            if self._engine is None:
                self._check_open()
                self._engine = build_engine(self.env, self.destinations)
            return self._engine

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> Headwater:
        """Run every enabled event source mapping, on ``loop`` or a background-thread loop.

        Returns ``self``, so ``with Headwater(...).start() as hw:`` stops it on exit.
        """
        self.engine.start(loop)
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Stop the mappings; in-flight batches settle or their messages are returned."""
        engine = self._engine
        if engine is not None:
            engine.stop(timeout)

    def close(self) -> None:
        """Stop everything and close the database; safe to call twice."""
        self.stop()
        if not self._closed:
            self.observability.stop()
        with self._lock:
            if self._closed or self._closing:
                return
            self._closing = True
            self.env.closing = True
        # Services close outside the lock: a service's close waits for its threads, and
        # one of them may be looking up another service at that moment (an event
        # invocation writing its log). A service created while closing (the log service
        # that a closing function flushes into) is closed in a later round.
        done: set[int] = set()
        while True:
            with self._services_lock:
                pending = [s for s in reversed(self._services.values()) if id(s) not in done]
                if not pending:
                    self._closed = True
                    break
            for service in pending:
                done.add(id(service))
                service.close()
        self.database.close()
        self.env.closed = True

    def existing_service(self, name: str) -> Service | None:
        """The service ``name`` if something already created it (``None`` otherwise)."""
        return self._services.get(name)

    def existing_engine(self) -> EsmEngine | None:
        """The engine if it was created (observers must not create one)."""
        return self._engine

    def journey(self, record_id: str) -> list[dict[str, Any]]:
        """What happened to a message id or stream sequence number, oldest step first."""
        return [step.as_dict() for step in self.observability.journey(record_id)]

    def _check_open(self) -> None:
        if self._closed:
            raise HeadwaterClosed("this Headwater is closed; create a new one")

    def __enter__(self) -> Headwater:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
