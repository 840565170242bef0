"""Credential scope parsing, region names and SigV4 verification against botocore's signer."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from headwater.api.http import WireRequest
from headwater.api.sigv4 import (
    CredentialScope,
    SignatureProblem,
    credential_scope,
    parse_signature,
    signing_key,
    trailer_signature,
    valid_region,
    verify,
    verify_chunks,
)
from tests.sigv4_examples import (
    EXAMPLE_CHUNKS,
    EXAMPLE_SECRET,
    EXAMPLE_TIME,
    example_body,
    example_request,
)


def test_authorization_header() -> None:
    header = (
        "AWS4-HMAC-SHA256 Credential=AKID/20261122/us-west-2/sqs/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc"
    )
    assert credential_scope(header) == CredentialScope("AKID", "us-west-2", "sqs")


def test_each_header_is_read_for_its_own_credential() -> None:
    """The scope of the header last read is reused only for headers that begin with the
    same credential, never for one that merely shares a prefix of it."""
    first = "AWS4-HMAC-SHA256 Credential=AKID/20261122/us-west-2/sqs/aws4_request, S=1"
    assert credential_scope(first) == CredentialScope("AKID", "us-west-2", "sqs")
    assert credential_scope(first.replace("S=1", "S=2")) == CredentialScope(
        "AKID", "us-west-2", "sqs"
    )
    longer = "AWS4-HMAC-SHA256 Credential=AKID/20261122/us-west-2/sqsx/aws4_request, S=1"
    assert credential_scope(longer) == CredentialScope("AKID", "us-west-2", "sqsx")
    other = "AWS4-HMAC-SHA256 Credential=AKID2/20261122/eu-west-1/sns/aws4_request, S=1"
    assert credential_scope(other) == CredentialScope("AKID2", "eu-west-1", "sns")
    assert credential_scope(other[: other.index(",")]) == CredentialScope(
        "AKID2", "eu-west-1", "sns"
    )
    assert credential_scope("AWS4-HMAC-SHA256 Credential=, S=1") == CredentialScope()
    assert credential_scope(first) == CredentialScope("AKID", "us-west-2", "sqs")


def test_presigned_query_string() -> None:
    query = "Action=x&X-Amz-Credential=AKID%2F20261122%2Feu-west-1%2Flambda%2Faws4_request&a=b"
    assert credential_scope(None, query) == CredentialScope("AKID", "eu-west-1", "lambda")


def test_unsigned_and_garbage() -> None:
    assert credential_scope(None) == CredentialScope()
    assert credential_scope("Bearer xyz") == CredentialScope()
    assert credential_scope("AWS4-HMAC-SHA256 Credential=AKID") == CredentialScope("AKID")


# ---------------------------------------------------------------- verification


def _signed(
    method: str, url: str, body: bytes, service: str, *, secret: str = "secret"
) -> WireRequest:
    """``url`` as botocore signs it, received as the server sees it."""
    request = AWSRequest(method, url, data=body, headers={"Content-Type": "application/json"})
    auth = S3SigV4Auth if service == "s3" else SigV4Auth
    auth(Credentials("AKID", secret), service, "us-east-1").add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    headers = {
        k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in prepared.headers.items()
    }
    headers["host"] = parts.netloc
    return WireRequest(method, parts.path, parts.query, headers, body)


@pytest.mark.parametrize(
    ("service", "url"),
    [
        # every service but S3 signs the path percent-encoded twice
        (
            "lambda",
            "http://127.0.0.1:4599/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1"
            "%3A000000000000%3Afunction%3Af/invocations?Qualifier=%24LATEST",
        ),
        ("s3", "http://127.0.0.1:4599/bucket/a%20key%2Bwith/slashes?tagging=&versionId=a%2Bb"),
        ("sqs", "http://localhost:4599/"),
    ],
)
def test_a_botocore_signature_verifies_and_a_wrong_secret_does_not(service: str, url: str) -> None:
    request = _signed("POST", url, b'{"a": 1}', service)
    sig = parse_signature(request.headers["authorization"], request.query_items(), request.headers)
    verify(sig, "secret", request, time.time())
    with pytest.raises(SignatureProblem) as wrong:
        verify(sig, "other", request, time.time())
    assert wrong.value.kind == "mismatch"
    request.body = b'{"a": 2}'  # S3 states the body's hash; others sign it
    with pytest.raises(SignatureProblem) as changed:
        verify(sig, "secret", request, time.time())
    assert changed.value.kind == ("payload" if service == "s3" else "mismatch")


def test_the_clock_may_be_fifteen_minutes_off_either_way() -> None:
    request = _signed("POST", "http://127.0.0.1:4599/", b"{}", "kinesis")
    sig = parse_signature(request.headers["authorization"], [], request.headers)
    now = time.time()
    for offset in (-14 * 60, 14 * 60):
        verify(sig, "secret", request, now + offset)
    for offset in (-16 * 60, 16 * 60):
        with pytest.raises(SignatureProblem) as skewed:
            verify(sig, "secret", request, now + offset)
        assert skewed.value.kind == "skew"
        assert str(skewed.value).startswith("Signature expired: ")


@pytest.mark.parametrize(
    "region", ["us-east-1", "us-gov-west-1", "cn-north-1", "ap-southeast-5", "eu-central-2"]
)
def test_region_names_of_aws(region: str) -> None:
    assert valid_region(region)


@pytest.mark.parametrize(
    "region",
    ["a" * 250, "us-east-1" * 5, "US-EAST-1", "..", "us-east-1/..", "us_east_1", "", "local"],
)
def test_strings_that_are_not_region_names(region: str) -> None:
    assert not valid_region(region)


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        ("AWS AKID:abc", "requires 'AWS4-HMAC-SHA256'"),
        ("AWS4-HMAC-SHA256 Credential=A/20260101/us-east-1/sqs/aws4_request", "'SignedHeaders'"),
        ("AWS4-HMAC-SHA256 Credential=A/x, SignedHeaders=host, Signature=0", "five"),
    ],
)
def test_incomplete_signatures(authorization: str, message: str) -> None:
    with pytest.raises(SignatureProblem) as incomplete:
        parse_signature(authorization, [], {})
    assert incomplete.value.kind == "incomplete"
    assert message in str(incomplete.value)


# ------------------------------------------------- S3 streaming (aws-chunked) signatures


def _verify_example(request: WireRequest, secret: str = EXAMPLE_SECRET) -> None:
    sig = parse_signature(request.headers["authorization"], [], request.headers)
    verify(sig, secret, request, EXAMPLE_TIME)


def test_aws_streaming_example_verifies() -> None:
    body = example_body()
    assert len(body) == 66824  # the documented Content-Length
    _verify_example(example_request(body))


def test_a_changed_reordered_or_unsigned_chunk_is_refused() -> None:
    body = bytearray(example_body())
    body[66000] = ord("b")  # one byte of the second chunk
    changed = [
        bytes(body),
        # the chunks in another order (each still carrying its own signature)
        example_body((EXAMPLE_CHUNKS[1], EXAMPLE_CHUNKS[0], EXAMPLE_CHUNKS[2])),
        # the second chunk dropped: the final one no longer chains
        example_body((EXAMPLE_CHUNKS[0], EXAMPLE_CHUNKS[2])),
        # a chunk without a signature
        example_body().replace(b";chunk-signature=" + EXAMPLE_CHUNKS[1][1].encode(), b""),
    ]
    for number, tampered in enumerate(changed):
        with pytest.raises(SignatureProblem) as refused:
            _verify_example(example_request(tampered))
        assert refused.value.kind == "mismatch", number
    with pytest.raises(SignatureProblem) as wrong_secret:
        _verify_example(example_request(example_body()), secret="another")
    assert wrong_secret.value.kind == "mismatch"


def test_a_truncated_streaming_body_is_an_incomplete_body() -> None:
    with pytest.raises(SignatureProblem) as truncated:
        _verify_example(example_request(example_body()[:40000]))
    assert truncated.value.kind == "incomplete-body"


def test_trailer_signature_matches_the_aws_crt_vector() -> None:
    """The trailing-headers signature of the same example with trailers first, second and
    third, as the AWS Common Runtime's signer tests give it."""
    sig = parse_signature(
        example_request(b"").headers["authorization"], [], {"x-amz-date": "20130524T000000Z"}
    )
    key = signing_key(sig, EXAMPLE_SECRET)
    final = EXAMPLE_CHUNKS[-1][1]
    trailers = "first:1st\nsecond:2nd\nthird:3rd\n"
    expected = "df5735bd9f3295cd9386572292562fefc93ba94e80a0a1ddcbd652c4e0a75e6c"
    assert trailer_signature(key, sig, final, trailers) == expected
    # the trailing headers follow the final chunk's line, then their signature
    body = example_body()[: -len(b"\r\n")] + (
        f"first:1st\r\nsecond:2nd\r\nthird:3rd\r\nx-amz-trailer-signature:{expected}\r\n\r\n"
    ).encode("ascii")
    verify_chunks(sig, EXAMPLE_SECRET, body, trailer=True)
    with pytest.raises(SignatureProblem):
        verify_chunks(sig, EXAMPLE_SECRET, body.replace(b"2nd", b"2ND"), trailer=True)
