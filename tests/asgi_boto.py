"""Real boto3 clients whose HTTP requests go straight into headwater's ASGI app.

botocore signs and serializes as against AWS; a ``before-send`` hook hands the prepared
request to the app on a private event loop instead of a socket. Tests get the whole wire
path (request checks, protocols, error shapes) with a ``ManualClock`` and no server process.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
import botocore.session
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config

from headwater import Headwater
from headwater.server.asgi import HeadwaterApp, create_app

if TYPE_CHECKING:
    from pathlib import Path

ENDPOINT = "http://127.0.0.1:4599"
CREDENTIALS = {"aws_access_key_id": "AKIDHEADWATERTEST", "aws_secret_access_key": "secret"}


class _Body(io.BytesIO):
    """A response body botocore can both ``stream()`` and ``read()``."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


class AsgiTransport:
    """Runs requests through ``app`` on a loop in a background thread."""

    def __init__(self, app: HeadwaterApp) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.loop.set_default_executor(ThreadPoolExecutor(8, thread_name_prefix="asgi-call"))
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()

    def send(
        self, method: str, url: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """One raw HTTP exchange: (status, headers, body)."""
        future = asyncio.run_coroutine_threadsafe(
            self._exchange(method, url, headers, body), self.loop
        )
        return future.result(timeout=120)

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        body = request.body
        if body is None:
            data = b""
        elif isinstance(body, bytes | bytearray):
            data = bytes(body)
        elif isinstance(body, str):
            data = body.encode("utf-8")
        else:
            data = body.read()
        headers = {
            k: v.decode("latin-1") if isinstance(v, bytes) else str(v)
            for k, v in request.headers.items()
        }
        status, response_headers, payload = self.send(request.method, request.url, headers, data)
        return AWSResponse(request.url, status, dict(response_headers), _Body(payload))

    async def _exchange(
        self, method: str, url: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        parts = urlsplit(url)
        header_list = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
        ]
        if not any(k == b"host" for k, _ in header_list):
            header_list.append((b"host", parts.netloc.encode("latin-1")))
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": method,
            "path": parts.path or "/",
            "raw_path": (parts.path or "/").encode("latin-1"),
            "query_string": parts.query.encode("latin-1"),
            "headers": header_list,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 4599),
            "scheme": "http",
        }
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = 500
        out_headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                out_headers.extend(
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in message["headers"]
                )
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, out_headers, b"".join(chunks)


class InProcessAws:
    """boto3 clients for one ``Headwater`` served through its ASGI app, no sockets."""

    def __init__(self, hw: Headwater, app: HeadwaterApp | None = None) -> None:
        self.hw = hw
        self.transport = AsgiTransport(app or create_app(hw))

    def client(
        self, service: str, region: str = "us-east-1", *, session: Any = None, **config: Any
    ) -> Any:
        factory = boto3.Session(botocore_session=session) if session else boto3
        made = factory.client(
            service,
            endpoint_url=ENDPOINT,
            region_name=region,
            config=Config(retries={"max_attempts": 1}, **config),
            **CREDENTIALS,
        )
        made.meta.events.register("before-send", self.transport)
        return made

    def close(self) -> None:
        self.transport.close()


@contextmanager
def in_process_aws(hw: Headwater) -> Iterator[InProcessAws]:
    aws = InProcessAws(hw)
    try:
        yield aws
    finally:
        aws.close()


def legacy_sqs_session(directory: Path) -> botocore.session.Session:
    """A botocore session whose SQS client speaks the query protocol, as boto3 < 1.34.90."""
    from tests.unit.test_api_query import legacy_sqs_model

    model_dir = directory / "sqs" / "2012-11-05"
    model_dir.mkdir(parents=True, exist_ok=True)
    import json

    (model_dir / "service-2.json").write_text(json.dumps(legacy_sqs_model()._service_description))
    session = botocore.session.get_session()
    session.get_component("data_loader").search_paths.insert(0, str(directory))
    return session
