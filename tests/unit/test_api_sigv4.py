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
    valid_region,
    verify,
)


def test_authorization_header() -> None:
    header = (
        "AWS4-HMAC-SHA256 Credential=AKID/20261122/us-west-2/sqs/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc"
    )
    assert credential_scope(header) == CredentialScope("AKID", "us-west-2", "sqs")


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
    assert wrong.value.kind == "signature"
    request.body = b'{"a": 2}'  # S3 states the body's hash; others sign it
    with pytest.raises(SignatureProblem) as changed:
        verify(sig, "secret", request, time.time())
    assert changed.value.kind == ("payload" if service == "s3" else "signature")


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
