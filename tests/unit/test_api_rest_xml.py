"""restXml (S3) on the wire, without sockets: addressing, operation choice, aws-chunked
bodies with signatures and checksum trailers, and S3's error documents."""

from __future__ import annotations

import asyncio
import base64
import zlib
from typing import Any

import pytest

from headwater.api.http import WireRequest
from headwater.api.rest_xml import (
    RestXmlProtocol,
    address,
    decode_aws_chunked,
    operation_for,
)
from headwater.api.sigv4 import credential_scope
from headwater.core.errors import AwsError
from headwater.services.base import RequestContext

AUTH = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, Signature=x"


def request(
    method: str,
    path: str,
    *,
    query: str = "",
    host: str = "127.0.0.1:4599",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> WireRequest:
    return WireRequest(
        method=method,
        raw_path=path,
        query_string=query,
        headers={"host": host, "authorization": AUTH, **(headers or {})},
        body=body,
    )


@pytest.mark.parametrize(
    ("host", "path", "expected"),
    [
        ("127.0.0.1:4599", "/bucket/a/b%20c", ("bucket", "a/b c")),
        ("127.0.0.1:4599", "/bucket", ("bucket", None)),
        ("127.0.0.1:4599", "/bucket/", ("bucket", None)),
        ("127.0.0.1:4599", "/", (None, None)),
        ("127.0.0.1:4599", "/bucket/dir//", ("bucket", "dir//")),
        ("bucket.s3.us-west-2.amazonaws.com", "/key", ("bucket", "key")),
        ("my.dotted.bucket.s3.amazonaws.com", "/", ("my.dotted.bucket", None)),
        ("bucket.localhost:4599", "/k", ("bucket", "k")),
        ("s3.us-east-1.amazonaws.com", "/bucket/k", ("bucket", "k")),
    ],
)
def test_bucket_and_key_from_host_or_path(
    host: str, path: str, expected: tuple[str | None, str | None]
) -> None:
    assert address(request("GET", path, host=host)) == expected


@pytest.mark.parametrize(
    ("method", "key", "query", "headers", "operation"),
    [
        ("GET", None, {}, {}, "ListObjects"),
        ("GET", None, {"list-type": "2"}, {}, "ListObjectsV2"),
        ("GET", None, {"tagging": ""}, {}, "GetBucketTagging"),
        ("GET", None, {"analytics": ""}, {}, "ListBucketAnalyticsConfigurations"),
        ("GET", None, {"metrics": "", "id": "m"}, {}, "GetBucketMetricsConfiguration"),
        ("PUT", None, {"versioning": ""}, {}, "PutBucketVersioning"),
        ("PUT", None, {}, {}, "CreateBucket"),
        ("POST", None, {"delete": ""}, {}, "DeleteObjects"),
        ("PUT", "k", {}, {}, "PutObject"),
        ("PUT", "k", {}, {"x-amz-copy-source": "b/k2"}, "CopyObject"),
        ("PUT", "k", {"partNumber": "1", "uploadId": "u"}, {}, "UploadPart"),
        ("POST", "k", {"uploads": ""}, {}, "CreateMultipartUpload"),
        ("POST", "k", {"uploadId": "u"}, {}, "CompleteMultipartUpload"),
        ("DELETE", "k", {"uploadId": "u"}, {}, "AbortMultipartUpload"),
        ("GET", "k", {"uploadId": "u"}, {}, "ListParts"),
        ("HEAD", "k", {}, {}, "HeadObject"),
        ("HEAD", None, {}, {}, "HeadBucket"),
    ],
)
def test_operation_choice(
    method: str, key: str | None, query: dict[str, str], headers: dict[str, str], operation: str
) -> None:
    assert operation_for(method, "bucket", key, query, headers) == operation


def crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def test_signed_streaming_chunks_decode() -> None:
    payload = b"x" * 70_000 + b"tail"
    first, second = payload[:65_536], payload[65_536:]
    body = (
        f"{len(first):x};chunk-signature={'a' * 64}\r\n".encode()
        + first
        + b"\r\n"
        + f"{len(second):x};chunk-signature={'b' * 64}\r\n".encode()
        + second
        + b"\r\n"
        + f"0;chunk-signature={'c' * 64}\r\n\r\n".encode()
    )
    assert decode_aws_chunked(body) == (payload, {})


def test_unsigned_chunks_with_a_checksum_trailer_decode() -> None:
    payload = b"hello trailer"
    body = (
        f"{len(payload):x}\r\n".encode()
        + payload
        + b"\r\n0\r\n"
        + f"x-amz-checksum-crc32:{crc32(payload)}\r\n\r\n".encode()
    )
    assert decode_aws_chunked(body) == (payload, {"x-amz-checksum-crc32": crc32(payload)})


@pytest.mark.parametrize("body", [b"ff\r\nshort", b"-5\r\nabcdefgh\r\n0\r\n\r\n", b"zz\r\n"])
def test_a_truncated_or_garbled_chunk_is_refused(body: bytes) -> None:
    with pytest.raises(AwsError) as refused:
        decode_aws_chunked(body)
    assert refused.value.code == "IncompleteBody"


class Recorder:
    def __init__(self, result: dict[str, Any] | None = None, error: AwsError | None = None):
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.result = result or {}
        self.error = error

    async def __call__(
        self, service: str, operation: str, params: dict[str, Any], ctx: RequestContext
    ) -> dict[str, Any]:
        self.calls.append((operation, params))
        if self.error is not None:
            raise self.error
        return dict(self.result)


def handle(wire: WireRequest, dispatch: Recorder) -> Any:
    protocol = RestXmlProtocol()
    assert protocol.claims(wire, credential_scope(wire.headers.get("authorization")))
    return asyncio.run(protocol.handle(wire, "rid", RequestContext(), dispatch))


def test_a_trailer_checksum_reaches_put_object_and_aws_chunked_is_dropped() -> None:
    payload = b"streamed"
    body = (
        f"{len(payload):x}\r\n".encode()
        + payload
        + f"\r\n0\r\nx-amz-checksum-crc32:{crc32(payload)}\r\n\r\n".encode()
    )
    dispatch = Recorder({"ETag": '"e"', "ChecksumCRC32": crc32(payload)})
    response = handle(
        request(
            "PUT",
            "/bucket/key",
            headers={
                "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                "content-encoding": "aws-chunked,gzip",
                "x-amz-trailer": "x-amz-checksum-crc32",
                "x-amz-decoded-content-length": str(len(payload)),
                "x-amz-meta-colour": "red",
            },
            body=body,
        ),
        dispatch,
    )
    ((operation, params),) = dispatch.calls
    assert operation == "PutObject"
    assert params["Body"] == payload
    assert params["ChecksumCRC32"] == crc32(payload)
    assert params["ContentEncoding"] == "gzip"
    assert params["Metadata"] == {"colour": "red"}
    assert response.status == 200
    assert ("ETag", '"e"') in response.headers


def test_errors_are_s3_documents_and_head_errors_have_no_body() -> None:
    error = AwsError(
        "NoSuchKey", "The specified key does not exist.", status=404, fields={"Key": "k"}
    )
    response = handle(request("GET", "/bucket/k"), Recorder(error=error))
    assert response.status == 404
    assert b"<Code>NoSuchKey</Code>" in response.body
    assert b"<Key>k</Key>" in response.body
    head = handle(request("HEAD", "/bucket/k"), Recorder(error=error))
    assert (head.status, head.body) == (404, b"")


def test_an_unknown_sub_resource_is_not_implemented() -> None:
    response = handle(request("POST", "/bucket/k", query="restore"), Recorder())
    assert response.status == 501
    assert b"<Code>NotImplemented</Code>" in response.body


def test_other_services_signatures_are_not_claimed() -> None:
    wire = request("GET", "/2015-03-31/functions")
    wire.headers["authorization"] = AUTH.replace("/s3/", "/lambda/")
    assert not RestXmlProtocol().claims(wire, credential_scope(wire.headers["authorization"]))
