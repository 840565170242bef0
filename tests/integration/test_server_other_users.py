"""``headwater serve`` on a machine shared with other users: a process of another user
(``nobody``) connecting to 127.0.0.1 has every request refused in the protocol's error
shape, with why and how to allow it, and gets nothing done; this user's clients are
answered; ``--allow-other-users`` and ``--verify-signatures`` let other users in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.conformance.server_process import (
    CLIENT_ENV,
    ServerProcess,
    boto_client,
    headwater_server,
)
from tests.other_user_client import NOBODY_UID, needs_root, responses, run_as, send_as

pytestmark = [pytest.mark.integration, needs_root]

KEY = CLIENT_ENV["AWS_ACCESS_KEY_ID"]
SECRET = CLIENT_ENV["AWS_SECRET_ACCESS_KEY"]
JSON_10 = "application/x-amz-json-1.0"
NODE = Path("/usr/bin/node")

#: An HTTP/2 (h2c, prior knowledge, as the AWS SDK for JavaScript v3 speaks to Kinesis)
#: client in Node's standard library: sends the request given as JSON, prints the answer.
H2_CLIENT = """
const http2 = require('http2');
const [url, headersJson, body] = process.argv.slice(1);
const session = http2.connect(url);
const request = session.request(JSON.parse(headersJson));
let status = 0;
const chunks = [];
request.on('response', (headers) => { status = headers[':status']; });
request.on('data', (chunk) => chunks.push(chunk));
request.on('end', () => {
  console.log(JSON.stringify({status, body: Buffer.concat(chunks).toString()}));
  session.close();
});
request.end(body);
"""


def signed(
    server: ServerProcess,
    service: str,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes = b"",
    *,
    secret: str = SECRET,
    close: bool = False,
) -> bytes:
    """A raw HTTP/1.1 request to ``server`` signed (SigV4, us-west-2) as boto3 signs."""
    request = AWSRequest(method, server.endpoint + path, headers=dict(headers), data=body)
    SigV4Auth(Credentials(KEY, secret), service, "us-west-2").add_auth(request)
    host = server.endpoint.removeprefix("http://")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def create_table(server: ServerProcess, *, secret: str = SECRET, close: bool = False) -> bytes:
    """A signed DynamoDB CreateTable of table ``taken``."""
    body = json.dumps(
        {
            "TableName": "taken",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
        }
    ).encode()
    headers = {"Content-Type": JSON_10, "X-Amz-Target": "DynamoDB_20120810.CreateTable"}
    return signed(server, "dynamodb", "POST", "/", headers, body, secret=secret, close=close)


def endpoint_port(server: ServerProcess) -> int:
    return int(server.endpoint.rsplit(":", 1)[1])


def test_another_users_process_is_refused_and_gets_nothing_done(tmp_path: Path) -> None:
    with headwater_server(tmp_path) as server:
        # one connection: awsJson, awsQuery, S3's restXml, headwater's own health path
        identity = signed(
            server,
            "sts",
            "POST",
            "/",
            {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            b"Action=GetCallerIdentity&Version=2011-06-15",
        )
        bucket = signed(
            server, "s3", "PUT", "/taken-bucket", {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}
        )
        health = b"GET /_headwater/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        received = send_as(
            NOBODY_UID,
            "127.0.0.1",
            endpoint_port(server),
            create_table(server) + identity + bucket + health,
        )
        answers = responses(received)
        assert [status for status, _, _ in answers] == [403, 403, 403, 403]
        (_, _, table_body), (_, _, sts_body), (_, _, s3_body), (_, _, health_body) = answers
        refused = json.loads(table_body)
        assert refused["__type"].endswith("AccessDeniedException")
        message = refused["message"]
        assert "user 'nobody' (uid 65534)" in message
        assert "--allow-other-users" in message and "--verify-signatures" in message
        assert b"<Code>AccessDenied</Code>" in sts_body and b"user 'nobody'" in sts_body
        assert b"<Code>AccessDenied</Code>" in s3_body and b"user 'nobody'" in s3_body
        assert json.loads(health_body) == {"message": message}

        # nothing was created; this user's clients are answered, raw or through boto3
        dynamodb = boto_client(server.endpoint, "dynamodb")
        assert dynamodb.list_tables()["TableNames"] == []
        assert boto_client(server.endpoint, "s3").list_buckets()["Buckets"] == []
        ours = responses(
            send_as(None, "127.0.0.1", endpoint_port(server), create_table(server, close=True))
        )
        assert [status for status, _, _ in ours] == [200]
        assert dynamodb.list_tables()["TableNames"] == ["taken"]


def test_allow_other_users_lets_them_in(tmp_path: Path) -> None:
    with headwater_server(tmp_path, ["--allow-other-users"]) as server:
        received = send_as(
            NOBODY_UID, "127.0.0.1", endpoint_port(server), create_table(server, close=True)
        )
        assert [status for status, _, _ in responses(received)] == [200]
        assert boto_client(server.endpoint, "dynamodb").list_tables()["TableNames"] == ["taken"]


def test_verified_signatures_let_other_users_in_with_the_keys(tmp_path: Path) -> None:
    arguments = ["--verify-signatures", "--access-key", f"{KEY}:{SECRET}"]
    with headwater_server(tmp_path, arguments) as server:
        port = endpoint_port(server)
        impostor = responses(
            send_as(
                NOBODY_UID, "127.0.0.1", port, create_table(server, secret="guessed", close=True)
            )
        )
        assert [status for status, _, _ in impostor] == [403]
        assert json.loads(impostor[0][2])["__type"].endswith("InvalidSignatureException")
        keyholder = responses(
            send_as(NOBODY_UID, "127.0.0.1", port, create_table(server, close=True))
        )
        assert [status for status, _, _ in keyholder] == [200]


@pytest.mark.skipif(not NODE.exists(), reason="Node.js (/usr/bin/node) is not installed")
def test_another_users_http2_connection_is_refused(tmp_path: Path) -> None:
    body = b'{"TableName": "taken"}'
    with headwater_server(tmp_path) as server:
        request = AWSRequest(
            "POST",
            server.endpoint + "/",
            headers={"Content-Type": JSON_10, "X-Amz-Target": "DynamoDB_20120810.DescribeTable"},
            data=body,
        )
        SigV4Auth(Credentials(KEY, SECRET), "dynamodb", "us-west-2").add_auth(request)
        headers = {name.lower(): value for name, value in request.headers.items()}
        headers.update({":method": "POST", ":path": "/"})
        command = [str(NODE), "-e", H2_CLIENT, server.endpoint, json.dumps(headers), body.decode()]
        theirs = json.loads(run_as(NOBODY_UID, command))
        assert theirs["status"] == 403
        refused = json.loads(theirs["body"])
        assert refused["__type"].endswith("AccessDeniedException")
        assert "user 'nobody' (uid 65534)" in refused["message"]
        # the same request from this user's process: DynamoDB's own answer
        ours = json.loads(run_as(None, command))
        assert ours["status"] == 400
        assert json.loads(ours["body"])["__type"].endswith("ResourceNotFoundException")
