"""Credential scope parsing (signatures are not verified)."""

from __future__ import annotations

from headwater.api.sigv4 import CredentialScope, credential_scope


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
