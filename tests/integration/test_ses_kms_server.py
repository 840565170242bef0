"""SES and KMS against a real ``headwater serve``: boto3 over a socket sends email through
both SES APIs (v2's /v2/email/ paths beside API Gateway's /v2/) and encrypts with KMS; the
kept messages come back from ``GET /_headwater/ses/messages``."""

from __future__ import annotations

import http.client
from pathlib import Path

import boto3
import orjson
import pytest

from tests.conformance.server_process import headwater_server, stop

pytestmark = pytest.mark.integration


def test_send_email_and_read_it_back_over_http(tmp_path: Path) -> None:
    with headwater_server(tmp_path, []) as server:
        session = boto3.Session(
            aws_access_key_id="AKIDTEST", aws_secret_access_key="s", region_name="us-east-1"
        )
        ses = session.client("ses", endpoint_url=server.endpoint)
        sesv2 = session.client("sesv2", endpoint_url=server.endpoint)
        kms = session.client("kms", endpoint_url=server.endpoint)
        ses.verify_email_identity(EmailAddress="me@example.com")
        first = ses.send_email(
            Source="me@example.com",
            Destination={"ToAddresses": ["you@example.org"]},
            Message={"Subject": {"Data": "v1"}, "Body": {"Text": {"Data": "one"}}},
        )["MessageId"]
        second = sesv2.send_email(
            FromEmailAddress="me@example.com",
            Destination={"ToAddresses": ["you@example.org"]},
            Content={"Simple": {"Subject": {"Data": "v2"}, "Body": {"Html": {"Data": "<p/>"}}}},
        )["MessageId"]
        refused = sesv2.exceptions.MessageRejected
        with pytest.raises(refused):
            sesv2.send_email(
                FromEmailAddress="stranger@example.net",
                Destination={"ToAddresses": ["you@example.org"]},
                Content={"Simple": {"Subject": {"Data": "x"}, "Body": {"Text": {"Data": "x"}}}},
            )
        # API Gateway's /v2/ paths still reach API Gateway
        apis = session.client("apigatewayv2", endpoint_url=server.endpoint)
        assert apis.get_apis()["Items"] == []
        conn = http.client.HTTPConnection(server.endpoint.removeprefix("http://"), timeout=10)
        conn.request("GET", "/_headwater/ses/messages")
        response = conn.getresponse()
        assert response.status == 200
        kept = orjson.loads(response.read())["messages"]
        conn.close()
        assert [(m["MessageId"], m["Subject"]) for m in kept] == [(first, "v1"), (second, "v2")]
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        blob = kms.encrypt(KeyId=key, Plaintext=b"wire", EncryptionContext={"a": "b"})
        opened = kms.decrypt(CiphertextBlob=blob["CiphertextBlob"], EncryptionContext={"a": "b"})
        assert opened["Plaintext"] == b"wire"
        assert stop(server.process) == 0
        assert "Traceback" not in server.output()
