"""What an idle gap between requests costs: the same DynamoDB request, in-process, back to
back and after the server has waited.

    .venv/bin/python benchmarks/idle_gap.py [--requests 1000]

``benchmarks/dynamodb.py`` measures server CPU per call over the wire, where the server
waits about a millisecond for boto3 between two calls. This script takes the network and
the event loop out: it captures the bytes boto3 sends for DescribeLimits, PutItem, GetItem
and UpdateItem, feeds each to headwater's HTTP/1.1 protocol in this process (the path a
wire request takes from the parser to the response bytes, SQLite data dir) and reads this
thread's CPU time around each request. Before each request it waits ``gap`` (sleeping, or
spinning in a loop that touches almost no memory). The reference row is a small fixed
piece of work (a JSON round trip of the PutItem body), measured the same way.

If a request's CPU after a gap is several times its back-to-back cost while the reference
barely moves, the difference is the machine refilling caches the request's code and data
lost while it waited (other tenants of a shared host evict them), not work headwater does:
the same requests run the same Python calls either way (checked with cProfile).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson

from dynamodb import ITEM_ATTRIBUTES, TABLE, create_table, wire_client
from headwater import Headwater
from headwater.server.asgi import create_app, policy_of
from headwater.server.http1 import Http1Protocol

KEY = {"pk": {"S": "user#000000"}, "sk": {"N": "1"}}
ITEM = {**KEY, **ITEM_ATTRIBUTES}
CALLS: dict[str, Callable[[Any], Any]] = {
    "limits": lambda c: c.describe_limits(),
    "put": lambda c: c.put_item(TableName=TABLE, Item=ITEM),
    "get": lambda c: c.get_item(TableName=TABLE, Key=KEY),
    "update": lambda c: c.update_item(
        TableName=TABLE,
        Key=KEY,
        UpdateExpression="SET age = age + :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="UPDATED_NEW",
    ),
}
#: Waits before each request: asleep, then spinning (the ratio compares 2-5 ms asleep).
SLEEPS_MS = (0.0, 0.5, 2.0, 5.0)
SPINS_MS = (2.0, 5.0)


def captured_request(call: Callable[[Any], Any]) -> bytes:
    """The bytes boto3 sends for ``call`` (answered by a one-shot socket that replies ``{}``)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    got: list[bytes] = []

    def answer_once() -> None:
        conn, _ = listener.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            while len(body) < length:
                body += conn.recv(65536)
            got.append(head + b"\r\n\r\n" + body)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\n"
                b"content-length: 2\r\n\r\n{}"
            )

    thread = threading.Thread(target=answer_once)
    thread.start()
    call(wire_client(f"http://127.0.0.1:{port}"))
    thread.join()
    listener.close()
    return got[0]


class RecordingTransport:
    """The transport side of one connection: keeps what the protocol writes."""

    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class ServerState:
    connections: set[Any] = set()
    tasks: set[Any] = set()
    default_headers = [(b"date", b"Mon, 07 Dec 2026 00:00:00 GMT")]


def spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def cpu_per_request_us(
    answer: Callable[[], None], requests: int, gap_s: float, wait: Callable[[float], None]
) -> float:
    """Mean thread CPU µs of ``answer()``, each call after waiting ``gap_s``."""
    total = 0.0
    for _ in range(requests):
        if gap_s:
            wait(gap_s)
        before = time.thread_time()
        answer()
        total += time.thread_time() - before
    return total / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests per figure")
    args = parser.parse_args()

    raw = {name: captured_request(call) for name, call in CALLS.items()}
    hw = Headwater(tempfile.mkdtemp(prefix="hw-bench-idle-gap-"))
    client = hw.client("dynamodb")
    create_table(client)
    client.put_item(TableName=TABLE, Item=ITEM)
    app = create_app(
        hw,
        executor=ThreadPoolExecutor(2),
        on_ready=lambda: None,
        policy=policy_of(hw, bound_host="127.0.0.1"),
    )
    loop = asyncio.new_event_loop()
    protocol = Http1Protocol(app, ServerState(), keep_alive_s=5, loop=loop)  # type: ignore[arg-type]
    transport = RecordingTransport()
    protocol.connection_made(transport)  # type: ignore[arg-type]

    fresh_key = 0

    def answerer(name: str) -> Callable[[], None]:
        request = raw[name]

        def answer() -> None:
            nonlocal fresh_key
            if name == "put":  # a new item each time, as the wire benchmark writes
                fresh_key += 1
                protocol.data_received(request.replace(b"user#000000", b"user#%06d" % fresh_key))
            else:
                protocol.data_received(request)
            response = transport.written.pop()
            if not response.startswith(b"HTTP/1.1 200 "):
                raise RuntimeError(f"{name}: {response[:300]!r}")

        for _ in range(200):  # warm: models loaded, statements prepared
            answer()
        return answer

    body = raw["put"].partition(b"\r\n\r\n")[2]

    def json_round_trip() -> None:
        orjson.dumps(orjson.loads(body))

    rows: dict[str, Callable[[], None]] = {
        "reference (JSON round trip)": json_round_trip,
        **{f"{name} (in-process wire path)": answerer(name) for name in CALLS},
    }
    print(f"thread CPU µs per request, mean of {args.requests}; wait before each request:")
    waits = [("sleep", time.sleep, g) for g in SLEEPS_MS] + [("spin", spin, g) for g in SPINS_MS]
    header = "".join(f"{f'{kind} {g:g} ms':>14}" for kind, _, g in waits)
    print(f"  {'':34}{header}")
    for name, answer in rows.items():
        figures = {
            (kind, g): cpu_per_request_us(answer, args.requests, g / 1000, wait)
            for kind, wait, g in waits
        }
        ratio = statistics.mean(figures["sleep", g] for g in (2.0, 5.0)) / figures["sleep", 0.0]
        cells = "".join(f"{f:>13.1f} " for f in figures.values())
        print(f"  {name:34}{cells}  ({ratio:.1f}x after 2-5 ms asleep)")
    hw.close()


if __name__ == "__main__":
    main()
