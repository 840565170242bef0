"""``Headwater``: the application object users create (embedded) or the server runs."""

from __future__ import annotations

import importlib
import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from headwater.client import ServiceClient
from headwater.core.arn import DEFAULT_ACCOUNT, DEFAULT_REGION
from headwater.core.clock import Clock, ScaledClock, SystemClock
from headwater.services.base import RequestContext, Service, ServiceEnvironment
from headwater.store.database import Durability, open_database

#: botocore service name -> "module:Class"; imported on first use.
SERVICE_CLASSES: dict[str, str] = {
    "sqs": "headwater.services.sqs:SqsService",
    "lambda": "headwater.services.lambda_:LambdaService",
    "kinesis": "headwater.services.kinesis:KinesisService",
}

DEFAULT_DATA_DIR = Path("~/.headwater")

if TYPE_CHECKING:
    import asyncio

    from headwater.esm.engine import EsmEngine


class Headwater:
    """Queues, streams, functions and event source mappings in one process.

    ``Headwater(data_dir=...)`` stores everything in SQLite under ``data_dir``;
    ``Headwater.in_memory()`` keeps it in memory (tests). Pass ``clock=ManualClock()`` to
    drive time by hand, or ``time_scale=N`` to run queue and stream timers N times faster.
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
        **options: Any,
    ) -> None:
        if clock is None:
            clock = SystemClock() if time_scale == 1.0 else ScaledClock(time_scale)
        self.clock = clock
        self.time_scale = time_scale
        self.database = open_database(data_dir, durability)
        self.env = ServiceEnvironment(
            database=self.database,
            clock=clock,
            account=account,
            region=region,
            endpoint_url=endpoint_url,
            lookup=self.service,
            options=options,
        )
        self._services: dict[str, Service] = {}
        self._lock = threading.RLock()
        self._closed = False
        self._engine: EsmEngine | None = None

    @classmethod
    def in_memory(cls, **kwargs: Any) -> Headwater:
        """A Headwater whose state lives in memory only (for tests)."""
        return cls(data_dir=None, **kwargs)

    @property
    def data_dir(self) -> Path:
        return self.database.data_dir

    def service(self, name: str) -> Service:
        """The service object for a botocore service name ("sqs", "lambda", "kinesis")."""
        with self._lock:
            found = self._services.get(name)
            if found is None:
                target = SERVICE_CLASSES.get(name)
                if target is None:
                    raise ValueError(f"headwater has no {name!r} service")
                module_name, class_name = target.split(":")
                cls = getattr(importlib.import_module(module_name), class_name)
                found = cls(self.env)
                self._services[name] = found
            return found

    @property
    def sqs(self) -> Any:
        return self.service("sqs")

    @property
    def lambda_(self) -> Any:
        return self.service("lambda")

    @property
    def kinesis(self) -> Any:
        return self.service("kinesis")

    def client(
        self, service_name: str, region_name: str | None = None, *, validate: bool = True
    ) -> ServiceClient:
        """A boto3-compatible client for ``service_name`` that calls headwater in process."""
        context = RequestContext(
            region=region_name or self.env.region,
            account=self.env.account,
            endpoint=self.env.endpoint_url,
        )
        return ServiceClient(self.service(service_name), context, validate=validate)

    @property
    def engine(self) -> EsmEngine:
        """The event source mapping engine (created on first use; runs after ``start``)."""
        with self._lock:
            if self._engine is None:
                from headwater.esm.engine import EsmEngine

                self._engine = EsmEngine(self.env)
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
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for service in reversed(list(self._services.values())):
                service.close()
            self.database.close()

    def __enter__(self) -> Headwater:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
