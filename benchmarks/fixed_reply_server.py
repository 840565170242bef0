"""A minimal SQS (and S3) endpoint that answers every call with a fixed, valid reply.

It does no work per request beyond reading it, so a boto3 workload against it measures the
ceiling of the boto3 client itself on this machine. Raw asyncio protocol on uvloop: cheaper
than any ASGI server. S3 (path style, no ``X-Amz-Target``): a PUT is read and answered with
an ETag; a GET of a key ``o-<size>-<n>`` answers ``<size>`` bytes.

    python benchmarks/fixed_reply_server.py --port 4700
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
from typing import Any

SQS_JSON = b"application/x-amz-json-1.0"
QUEUE_URL = "http://127.0.0.1/000000000000/bench"
MD5_200 = "0" * 32


def _reply(body: object) -> bytes:
    return json.dumps(body).encode()


REPLIES: dict[bytes, bytes] = {
    b"CreateQueue": _reply({"QueueUrl": QUEUE_URL}),
    b"GetQueueUrl": _reply({"QueueUrl": QUEUE_URL}),
    b"GetQueueAttributes": _reply({"Attributes": {"ApproximateNumberOfMessages": "0"}}),
    b"SendMessage": _reply(
        {"MessageId": "8d2ee3b0-1d38-4e7e-8d36-5d1e9e6b2b4f", "MD5OfMessageBody": MD5_200}
    ),
    b"SendMessageBatch": _reply(
        {
            "Successful": [
                {
                    "Id": str(i),
                    "MessageId": f"8d2ee3b0-1d38-4e7e-8d36-5d1e9e6b2b{i:02d}",
                    "MD5OfMessageBody": MD5_200,
                }
                for i in range(10)
            ],
            "Failed": [],
        }
    ),
    b"ReceiveMessage": _reply(
        {
            "Messages": [
                {
                    "MessageId": f"8d2ee3b0-1d38-4e7e-8d36-5d1e9e6b2b{i:02d}",
                    "ReceiptHandle": "AQEB" + "x" * 180 + f"{i:02d}",
                    "MD5OfBody": MD5_200,
                    "Body": "x" * 200,
                }
                for i in range(10)
            ]
        }
    ),
    b"DeleteMessageBatch": _reply(
        {"Successful": [{"Id": str(i)} for i in range(10)], "Failed": []}
    ),
    b"DeleteMessage": b"{}",
    b"PurgeQueue": b"{}",
    b"DeleteQueue": b"{}",
}
HEALTH = b'{"status":"ok"}'


def _response(body: bytes, content_type: bytes = SQS_JSON) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: "
        + content_type
        + b"\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\nx-amzn-RequestId: 00000000-0000-0000-0000-000000000000\r\n\r\n"
        + body
    )


RESPONSES = {op: _response(body) for op, body in REPLIES.items()}
HEALTH_RESPONSE = _response(HEALTH, b"application/json")
UNKNOWN = _response(b"{}")
S3_PUT = b'HTTP/1.1 200 OK\r\nETag: "0"\r\nContent-Length: 0\r\n\r\n'
S3_OBJECT_KEY = re.compile(rb"^GET /[^/ ]+/o-(\d+)-")


def _s3_reply(head: bytes) -> bytes:
    """PutObject / CreateBucket: an ETag; GetObject of ``o-<size>-...``: that many bytes."""
    wanted = S3_OBJECT_KEY.match(head)
    if wanted is None:
        return S3_PUT
    size = int(wanted.group(1))
    return (
        b'HTTP/1.1 200 OK\r\nETag: "0"\r\nContent-Type: binary/octet-stream\r\n'
        + b"Content-Length: "
        + str(size).encode()
        + b"\r\n\r\n"
        + bytes(size)
    )


class FixedReply(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()  # grows in place: an 8 MB body arrives in many pieces
        self.transport: Any = None
        self.continued = False  # "100 Continue" sent for the request being read

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end])
            length = 0
            target = b""
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                lowered = name.strip().lower()
                if lowered == b"content-length":
                    length = int(value)
                elif lowered == b"x-amz-target":
                    target = value.strip().partition(b".")[2]
                elif lowered == b"expect" and not self.continued:
                    # boto3 sends S3 PutObject with "Expect: 100-continue" and waits for it
                    self.continued = True
                    assert self.transport is not None
                    self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            self.continued = False
            del self.buffer[:total]
            assert self.transport is not None
            if head.startswith(b"GET /_headwater/health"):
                self.transport.write(HEALTH_RESPONSE)
            elif not target and head.startswith((b"PUT /", b"GET /")):
                self.transport.write(_s3_reply(head))
            else:
                self.transport.write(RESPONSES.get(target, UNKNOWN))


async def main(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(FixedReply, host, port)
    print(f"fixed-reply server on http://{host}:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4700)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.host, args.port))
