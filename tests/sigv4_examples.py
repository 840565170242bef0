"""Published SigV4 test vectors, shared by the unit and functional signature tests."""

from __future__ import annotations

from headwater.api.http import WireRequest

# AWS's worked example of a signed streaming upload ("Signature Calculations for the
# Authorization Header: Transferring Payload in Multiple Chunks", Amazon S3 API
# Reference): 66,560 bytes of "a" sent as a 64 KiB chunk, a 1 KiB chunk and the empty
# final chunk, with the documented seed and chunk signatures.
EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EXAMPLE_TIME = 1369353600.0  # 20130524T000000Z
EXAMPLE_SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
EXAMPLE_CHUNKS = (
    (65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"),
    (1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"),
    (0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"),
)


def example_body(chunks: tuple[tuple[int, str], ...] = EXAMPLE_CHUNKS) -> bytes:
    return b"".join(
        f"{size:x};chunk-signature={signature}\r\n".encode() + b"a" * size + b"\r\n"
        for size, signature in chunks
    )


def example_request(body: bytes) -> WireRequest:
    authorization = (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
        f"x-amz-decoded-content-length;x-amz-storage-class,Signature={EXAMPLE_SEED}"
    )
    headers = {
        "host": "s3.amazonaws.com",
        "x-amz-date": "20130524T000000Z",
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "authorization": authorization,
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": "66560",
        "content-length": "66824",
    }
    return WireRequest("PUT", "/examplebucket/chunkObject.txt", "", headers, body)
