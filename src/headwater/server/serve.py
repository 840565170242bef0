"""Run headwater's app on uvicorn's server (uvloop), with headwater's own HTTP/1.1 protocol.

uvicorn + httptools + uvloop measured fastest of uvicorn/granian/hypercorn for boto3
traffic (aws-wire-protocols.md §10). uvicorn runs the server: the socket, signals,
lifespan, graceful shutdown, the Date header. HTTP/1.1 connections are answered by
``headwater.server.http1``, which feeds the httptools parser's callbacks straight into
``HeadwaterApp.respond``: uvicorn's own protocol (an ASGI scope, a task and two messages
per request, turned back into a ``WireRequest`` by the app) was about a third of the
server's CPU per DynamoDB call. HTTP/2 with prior knowledge (the JavaScript SDK's Kinesis
client) is served on the same port by uvicorn's HTTP/2 protocol (``server.http2``).
"""

from __future__ import annotations

import errno
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from headwater.app import DEFAULT_DATA_DIR, Headwater
from headwater.core.errors import HeadwaterError
from headwater.options import HeadwaterOptions
from headwater.server.asgi import HeadwaterApp, create_app, policy_of
from headwater.server.examples import deploy_example
from headwater.server.http2 import HttpOrH2cProtocol
from headwater.server.presence import Presence
from headwater.store.database import Durability

#: Threads for calls that may wait (long polls, sync Invoke): one per waiting client.
CALL_THREADS = 64
#: boto3 keeps connections in a pool and may be idle for a while between calls.
KEEP_ALIVE_SECONDS = 75
#: How long in-flight requests may run on after SIGTERM before connections are closed.
GRACE_SECONDS = 5.0


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT after its graceful shutdown, so the process would
    die by the signal; headwater finishes its own shutdown (engine, database) and exits 0."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        signals = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in signals}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class PortInUse(HeadwaterError):
    """The address to serve on cannot be bound."""


def bind_listener(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything starts so a busy port fails first."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        listener = socket.socket(family, kind, proto)
    except OSError as error:
        raise PortInUse(f"cannot serve on {host}:{port}: {error.strerror or error}") from None
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(2048)
    except OSError as error:
        listener.close()
        reason = "the port is in use" if error.errno == errno.EADDRINUSE else error.strerror
        raise PortInUse(
            f"cannot serve on {host}:{port}: {reason} (choose another with --port)"
        ) from None
    listener.set_inheritable(True)
    return listener


def endpoint_for(host: str, port: int) -> str:
    """The URL clients (and function workers) use to reach a server bound to ``host``."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 4599,
    data_dir: str | Path | None = None,
    time_scale: float = 1.0,
    durability: Durability = "normal",
    log_level: str = "warning",
    example: str | Path | None = None,
    database_url: str | None = None,
    options: HeadwaterOptions | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM, then stop the engine and close the data directory.

    ``options`` carries the rest (e.g. who may call: ``cors_origins``, ``allowed_hosts``,
    ``verify_signatures``; docs/security.md)."""
    endpoint = endpoint_for(host, port)
    listener = bind_listener(host, port)
    try:
        hw = Headwater(
            DEFAULT_DATA_DIR if data_dir is None else data_dir,
            time_scale=time_scale,
            durability=durability,
            endpoint_url=endpoint,
            database_url=database_url,
            esm_gc_freeze=True,
            options=options,
        )
    except BaseException:
        listener.close()
        raise
    hw.env.serving = True
    presence = None
    if database_url is None:
        presence = Presence(hw.data_dir, endpoint)
        for other in presence.others:
            print(
                f"note: another headwater server (pid {other.pid}, {other.endpoint}) runs on "
                f"{hw.data_dir}; both serve the same queues, streams and mappings",
                flush=True,
            )
    if example is not None:
        try:
            deploy_example(hw, example)
        except BaseException:
            hw.close()
            listener.close()
            if presence is not None:
                presence.close()
            raise
        print(f"deployed example {example}", flush=True)
    executor = ThreadPoolExecutor(max_workers=CALL_THREADS, thread_name_prefix="headwater-call")

    def ready() -> None:
        scale = f" (time scale {time_scale:g}x)" if time_scale != 1.0 else ""
        print(f"headwater serving on {endpoint}{scale}", flush=True)
        if database_url is None:
            print(f"data directory: {hw.data_dir}", flush=True)
        else:
            print(f"database: {_without_password(database_url)}", flush=True)

    try:
        policy = policy_of(hw, bound_host=host)
        app = create_app(hw, executor=executor, on_ready=ready, policy=policy)
        started = _run_uvicorn(app, listener, host, port, log_level)
    finally:
        listener.close()
        executor.shutdown(wait=False, cancel_futures=True)
        hw.close()
        if presence is not None:
            presence.close()
        print("headwater stopped", flush=True)
    if not started:
        sys.exit(1)


def _without_password(url: str) -> str:
    """``url`` safe to print: a password in it is masked."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _run_uvicorn(
    app: HeadwaterApp, listener: socket.socket, host: str, port: int, log_level: str
) -> bool:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http=HttpOrH2cProtocol,
        lifespan="on",
        access_log=False,
        log_level=log_level,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=int(GRACE_SECONDS),
        server_header=False,
        proxy_headers=False,
    )
    server = _Server(config)
    server.run(sockets=[listener])
    return bool(server.started)
