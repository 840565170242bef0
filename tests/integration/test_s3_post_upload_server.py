"""A browser-style S3 POST upload to a real ``headwater serve``: boto3's
``generate_presigned_post`` form posted over HTTP, with signatures verified, refused to a
page of another origin until ``--cors-origin`` allows it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
import urllib3
from botocore.config import Config

from tests.conformance.server_process import CLIENT_ENV, headwater_server

pytestmark = pytest.mark.integration

APP = "http://localhost:3000"


def _post(url: str, fields: dict[str, str], data: bytes, origin: str | None) -> Any:
    form: list[tuple[str, Any]] = [*fields.items(), ("file", ("notes.txt", data, "text/plain"))]
    body, content_type = urllib3.encode_multipart_formdata(form)
    headers = {"Content-Type": content_type}
    if origin is not None:
        headers["Origin"] = origin
    return urllib3.request("POST", url, body=body, headers=headers, redirect=False)


def test_presigned_post_through_the_server(tmp_path: Path) -> None:
    key = f"{CLIENT_ENV['AWS_ACCESS_KEY_ID']}:{CLIENT_ENV['AWS_SECRET_ACCESS_KEY']}"
    args = ["--verify-signatures", "--access-key", key, "--cors-origin", APP]
    with headwater_server(tmp_path, args) as server:
        s3 = boto3.client(
            "s3",
            endpoint_url=server.endpoint,
            region_name="us-east-1",
            aws_access_key_id=CLIENT_ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CLIENT_ENV["AWS_SECRET_ACCESS_KEY"],
            config=Config(signature_version="s3v4", retries={"max_attempts": 1}),
        )
        s3.create_bucket(Bucket="drops")
        form = s3.generate_presigned_post(
            "drops",
            "notes/${filename}",
            Conditions=[["content-length-range", 1, 1024]],
            ExpiresIn=300,
        )
        answer = _post(form["url"], form["fields"], b"from the browser", APP)
        assert answer.status == 204, answer.data
        assert answer.headers["Access-Control-Allow-Origin"] == APP
        got = s3.get_object(Bucket="drops", Key="notes/notes.txt")
        assert got["Body"].read() == b"from the browser"

        # another site's page is refused before S3 sees the form
        refused = _post(form["url"], form["fields"], b"evil", "http://evil.example")
        assert refused.status == 403
        assert b"evil.example" in refused.data
        # a forged signature is refused
        forged = {**form["fields"], "x-amz-signature": "0" * 64}
        refused = _post(form["url"], forged, b"x", APP)
        assert refused.status == 403
        assert b"SignatureDoesNotMatch" in refused.data
        # the policy's size range
        too_big = _post(form["url"], form["fields"], b"x" * 2000, APP)
        assert too_big.status == 400
        assert b"EntityTooLarge" in too_big.data
        listed = s3.list_objects_v2(Bucket="drops")["Contents"]
        assert [o["Key"] for o in listed] == ["notes/notes.txt"]
