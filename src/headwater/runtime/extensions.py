"""Lambda extensions in a Runtime API environment: the Extensions API and Telemetry API.

External extensions are the executables in a layer's ``extensions/`` directory (AWS's
``/opt/extensions``). Each is started before the runtime, with the same environment, and:

- ``POST /2020-01-01/extension/register`` (``Lambda-Extension-Name``, body ``{"events":
  ["INVOKE", "SHUTDOWN"]}``) answers ``Lambda-Extension-Identifier`` and the function's
  name, version and handler;
- ``GET /2020-01-01/extension/event/next`` waits for the next event: ``INVOKE`` (request
  id, deadline, invoked ARN, tracing) or ``SHUTDOWN`` (reason ``spindown``);
- the init phase ends when the runtime and every started extension wait for work, and an
  invocation ends when the runtime answered *and* every INVOKE subscriber asks for its
  next event again (as on AWS, so a slow extension delays the response);
- ``PUT /2022-07-01/telemetry`` (and the older ``/2020-08-15/logs``) subscriptions are
  accepted and get platform events (``platform.start``, ``platform.runtimeDone``) POSTed
  to their destination; ``sandbox.localdomain`` there means 127.0.0.1.

Not modelled: internal extensions' ``AWS_LAMBDA_EXEC_WRAPPER``, function log records on
the telemetry stream, and the extension init/exit error reports beyond logging them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from headwater.runtime.api_server import Exchange, RuntimeApiHost
from headwater.runtime.environment import FunctionSpec
from headwater.runtime.processes import EnvironmentProcess, start_process

if TYPE_CHECKING:
    from headwater.runtime.api_environment import Invocation

log = logging.getLogger("headwater.lambda")

EXTENSION = "/2020-01-01/extension/"
TELEMETRY = ("/2022-07-01/telemetry", "/2020-08-15/logs")


@dataclass(eq=False)
class Extension:
    identifier: str
    name: str
    events: set[str]
    parked: Exchange | None = None
    queued: list[dict[str, Any]] = field(default_factory=list)


class ExtensionRegistry:
    """The extensions of one environment (used on the API loop only)."""

    def __init__(self, spec: FunctionSpec, host: RuntimeApiHost, expected: int) -> None:
        self.spec = spec
        self.host = host
        self.expected = expected
        self.extensions: dict[str, Extension] = {}
        self.processes: list[EnvironmentProcess] = []
        self.destinations: list[str] = []
        self.on_ready: Callable[[], None] = lambda: None
        self._after: Callable[[], None] | None = None
        self._done_record: dict[str, Any] = {}
        self._started_at = ""

    def start(self, commands: Sequence[str], env: dict[str, str], log_fd: int) -> None:
        for command in commands:
            self.processes.append(
                start_process([command], env=env, cwd=self.spec.code_dir, output_fd=log_fd)
            )

    def handles(self, path: str) -> bool:
        return path.startswith(EXTENSION) or path in TELEMETRY

    def ready(self) -> bool:
        """Every started extension registered and waits for its next event."""
        alive = sum(1 for process in self.processes if process.poll() is None)
        if len(self.extensions) < min(self.expected, alive + len(self.extensions)):
            return False
        return all(ext.parked is not None for ext in self.extensions.values())

    # -- requests -------------------------------------------------------------------------

    def handle(self, exchange: Exchange) -> None:
        request = exchange.request
        path = request.path
        if path in TELEMETRY and request.method == "PUT":
            self._subscribe(exchange)
            return
        action = path[len(EXTENSION) :]
        if action == "register" and request.method == "POST":
            self._register(exchange)
            return
        extension = self.extensions.get(request.headers.get("lambda-extension-identifier", ""))
        if extension is None:
            exchange.respond_json(
                403,
                {"errorMessage": "Extension identifier is not valid", "errorType": "Forbidden"},
            )
        elif action == "event/next" and request.method == "GET":
            self._event_next(exchange, extension)
        elif action in ("init/error", "exit/error") and request.method == "POST":
            log.warning("extension %s reported %s: %s", extension.name, action, request.body[:500])
            exchange.respond_json(202, {"status": "OK"})
        else:
            exchange.respond_json(404, {"errorMessage": "Unknown path", "errorType": "InvalidPath"})

    def _register(self, exchange: Exchange) -> None:
        request = exchange.request
        name = request.headers.get("lambda-extension-name", "")
        try:
            events = set(orjson.loads(request.body or b"{}").get("events", []))
        except (orjson.JSONDecodeError, AttributeError):
            events = set()
        if not name or not events <= {"INVOKE", "SHUTDOWN"}:
            exchange.respond_json(
                400, {"errorMessage": "Invalid registration", "errorType": "InvalidRequest"}
            )
            return
        identifier = str(uuid.uuid4())
        self.extensions[identifier] = Extension(identifier, name, events)
        exchange.respond_json(
            200,
            {
                "functionName": self.spec.name,
                "functionVersion": "$LATEST",
                "handler": self.spec.handler,
                "accountId": self.spec.arn.split(":")[4],
            },
            {"Lambda-Extension-Identifier": identifier},
        )

    def _event_next(self, exchange: Exchange, extension: Extension) -> None:
        if extension.queued:
            event = extension.queued.pop(0)
            exchange.respond_json(200, event, {"Lambda-Extension-Event-Identifier": _event_id()})
            return
        extension.parked = exchange
        self.on_ready()
        self._maybe_done()

    def _subscribe(self, exchange: Exchange) -> None:
        try:
            destination = orjson.loads(exchange.request.body)["destination"]["URI"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            exchange.respond_json(
                400, {"errorMessage": "Invalid subscription", "errorType": "ValidationError"}
            )
            return
        self.destinations.append(str(destination))
        exchange.respond(200, b"OK", content_type="text/plain")

    # -- events ---------------------------------------------------------------------------

    def _send(self, extension: Extension, event: dict[str, Any]) -> None:
        parked, extension.parked = extension.parked, None
        if parked is not None and parked.open:
            parked.respond_json(200, event, {"Lambda-Extension-Event-Identifier": _event_id()})
        else:
            extension.queued.append(event)

    def invoke(self, invocation: Invocation) -> None:
        self._started_at = _now()
        self._publish("platform.start", {"requestId": invocation.request_id, "version": "$LATEST"})
        event = {
            "eventType": "INVOKE",
            "deadlineMs": int(invocation.header["deadline"]),
            "requestId": invocation.request_id,
            "invokedFunctionArn": invocation.header["arn"],
            "tracing": {"type": "X-Amzn-Trace-Id", "value": invocation.trace_id},
        }
        for extension in self.extensions.values():
            if "INVOKE" in extension.events:
                self._send(extension, event)

    def after_invoke(self, done: Callable[[], None], request_id: str, ok: bool) -> None:
        """Run ``done`` once every INVOKE subscriber waits for its next event."""
        self._after = done
        self._done_record = {"requestId": request_id, "status": "success" if ok else "failure"}
        self._maybe_done()

    def _maybe_done(self) -> None:
        if self._after is None:
            return
        if any(ext.parked is None for ext in self.extensions.values() if "INVOKE" in ext.events):
            return
        done, self._after = self._after, None
        self._publish("platform.runtimeDone", self._done_record)
        done()

    def shutdown(self) -> bool:
        """Send SHUTDOWN to its subscribers; True if there were any."""
        event = {
            "eventType": "SHUTDOWN",
            "shutdownReason": "spindown",
            "deadlineMs": int((dt.datetime.now(dt.UTC).timestamp() + 2) * 1000),
        }
        subscribers = [e for e in self.extensions.values() if "SHUTDOWN" in e.events]
        for extension in subscribers:
            self._send(extension, event)
        return bool(subscribers)

    def _publish(self, kind: str, record: dict[str, Any]) -> None:
        if not self.destinations:
            return
        body = orjson.dumps([{"time": _now(), "type": kind, "record": record}])
        for destination in self.destinations:
            self.host.loop.create_task(_post(destination, body))

    def running(self) -> bool:
        """Whether an extension process is still alive."""
        return any(process.poll() is None for process in self.processes)

    def close(self) -> None:
        for process in self.processes:
            process.kill()
            process.wait(0.5)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _event_id() -> str:
    return str(uuid.uuid4())


async def _post(url: str, body: bytes) -> None:
    """POST ``body`` to a telemetry destination (best effort, like AWS's buffered push)."""
    parts = urlsplit(url)
    host = "127.0.0.1" if parts.hostname in (None, "sandbox.localdomain") else parts.hostname
    with contextlib.suppress(OSError, asyncio.TimeoutError):
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, parts.port or 80), 2.0
        )
        path = parts.path or "/"
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        await asyncio.wait_for(reader.read(1024), 2.0)
        writer.close()


def extension_executables(layer_dirs: Sequence[str]) -> list[str]:
    """The external extensions of a function's layers (``extensions/*``, executable)."""
    found: dict[str, str] = {}
    for layer in layer_dirs:
        directory = os.path.join(layer, "extensions")
        if not os.path.isdir(directory):
            continue
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if os.path.isfile(path) and os.access(path, os.X_OK):
                found[name] = path  # a later layer's file of the same name wins, as in /opt
    return list(found.values())
