"""Who may call ``headwater serve``: web pages, DNS rebinding, unsigned and badly signed
requests are refused before anything runs, in each protocol's AWS error shape; boto3's
signed requests go through (issue 19, Security)."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from headwater.server.asgi import create_app, policy_of
from headwater.server.request_checks import RequestPolicy
from tests.asgi_boto import CREDENTIALS, ENDPOINT, AsgiTransport
from tests.sigv4_examples import EXAMPLE_SECRET, EXAMPLE_TIME, example_body, example_request

EVIL = "http://evil.example"
SECRET = CREDENTIALS["aws_secret_access_key"]
KEY_ID = CREDENTIALS["aws_access_key_id"]

HANDLER = """
import pathlib

def handler(event, context):
    pathlib.Path(event["mark"]).write_text("ran")
    return {"ran": True}
"""


def zipped(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


class Served:
    """An app for ``hw`` with ``policy``, raw requests and boto3 clients through it."""

    def __init__(self, hw: Headwater, policy: RequestPolicy) -> None:
        self.hw = hw
        self.transport = AsgiTransport(create_app(hw, policy=policy))

    def raw(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        status, out, payload = self.transport.send(method, ENDPOINT + path, headers, body)
        return status, {k.lower(): v for k, v in out}, payload

    def signed(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes = b"",
        *,
        service: str = "lambda",
        region: str = "us-east-1",
        secret: str = SECRET,
    ) -> tuple[int, dict[str, str], bytes]:
        """A request signed as botocore signs (SigV4, any region string)."""
        request = AWSRequest(method, ENDPOINT + path, data=body, headers=headers)
        SigV4Auth(Credentials(KEY_ID, secret), service, region).add_auth(request)
        prepared = request.prepare()
        sent = {k: v.decode() if isinstance(v, bytes) else v for k, v in prepared.headers.items()}
        return self.raw(method, urlsplit(prepared.url).path + _query(prepared.url), sent, body)

    def client(self, service: str, *, secret: str = SECRET, **config: Any) -> Any:
        made = boto3.client(
            service,
            endpoint_url=ENDPOINT,
            region_name="us-east-1",
            aws_access_key_id=KEY_ID,
            aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 1}, **config),
        )
        made.meta.events.register("before-send", self.transport)
        return made

    def close(self) -> None:
        self.transport.close()


def _query(url: str) -> str:
    query = urlsplit(url).query
    return f"?{query}" if query else ""


@pytest.fixture
def hw(tmp_path: Path) -> Iterator[Headwater]:
    with Headwater(tmp_path / "data") as made:
        yield made


@pytest.fixture
def served(hw: Headwater) -> Iterator[Served]:
    made = Served(hw, RequestPolicy())
    yield made
    made.close()


def _create_body(mark: Path) -> bytes:
    import base64

    return json.dumps(
        {
            "FunctionName": "pwned",
            "Runtime": "python3.12",
            "Role": "arn:aws:iam::000000000000:role/x",
            "Handler": "app.handler",
            "Code": {"ZipFile": base64.b64encode(zipped(HANDLER)).decode()},
        }
    ).encode()


# ---------------------------------------------------------------- the attack


def test_a_web_page_cannot_create_or_invoke_a_function(
    served: Served, hw: Headwater, tmp_path: Path
) -> None:
    """The reproduction: fetch() POSTs with Content-Type text/plain (no preflight) from
    http://evil.example to /2015-03-31/functions, then to its invocations."""
    mark = tmp_path / "ran"
    page = {
        "Origin": EVIL,
        "Content-Type": "text/plain;charset=UTF-8",
        "Sec-Fetch-Site": "cross-site",
    }
    status, headers, body = served.raw("POST", "/2015-03-31/functions", page, _create_body(mark))
    assert status == 403
    assert headers["x-amzn-errortype"].startswith("AccessDeniedException")
    assert "origin 'http://evil.example'" in json.loads(body)["message"]
    assert "access-control-allow-origin" not in headers
    status, _, _ = served.raw(
        "POST",
        "/2015-03-31/functions/pwned/invocations",
        page,
        json.dumps({"mark": str(mark)}).encode(),
    )
    assert status == 403
    assert hw.client("lambda").list_functions()["Functions"] == []
    assert not mark.exists()


def test_an_unsigned_request_is_refused_as_aws_refuses_it(served: Served, hw: Headwater) -> None:
    """No Origin (curl, a form a page submits without one): still no signature, no call."""
    status, headers, body = served.raw(
        "POST", "/2015-03-31/functions", {"Content-Type": "text/plain"}, _create_body(Path("x"))
    )
    assert status == 403
    assert headers["x-amzn-errortype"].startswith("MissingAuthenticationTokenException")
    assert json.loads(body)["message"].startswith("Missing Authentication Token")
    # SQS's plain form post (awsQuery): the XML error of the query protocol
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _, body = served.raw("POST", "/", form, b"Action=CreateQueue&QueueName=pwned")
    assert status == 403
    assert b"<Code>MissingAuthenticationToken</Code>" in body
    assert b"<ErrorResponse" in body
    # awsJson (Kinesis)
    status, headers, body = served.raw(
        "POST",
        "/",
        {
            "X-Amz-Target": "Kinesis_20131202.CreateStream",
            "Content-Type": "application/x-amz-json-1.1",
        },
        b'{"StreamName": "pwned", "ShardCount": 1}',
    )
    assert status == 403
    assert json.loads(body)["__type"].endswith("MissingAuthenticationTokenException")
    # a forged signature shape without the header's parts is not a signature
    status, _, body = served.raw(
        "POST",
        "/",
        {**form, "Authorization": "AWS4-HMAC-SHA256 Credential=x"},
        b"Action=ListQueues",
    )
    assert status == 400
    assert b"<Code>IncompleteSignature</Code>" in body
    assert hw.client("sqs").list_queues().get("QueueUrls", []) == []
    assert hw.client("kinesis").list_streams()["StreamNames"] == []


def test_sqs_form_post_from_a_page_gets_the_query_error(served: Served, hw: Headwater) -> None:
    signed_shape = {
        "Origin": EVIL,
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": "AWS4-HMAC-SHA256 Credential=A/20260101/us-east-1/sqs/aws4_request, "
        "SignedHeaders=host, Signature=0",
    }
    status, _, body = served.raw("POST", "/", signed_shape, b"Action=CreateQueue&QueueName=pwned")
    assert status == 403
    assert b"<Code>AccessDenied</Code>" in body
    assert hw.client("sqs").list_queues().get("QueueUrls", []) == []


def test_a_cross_site_get_with_a_forged_presigned_shape_is_refused(served: Served) -> None:
    """An <img src> GET carries no Origin, but browsers mark it Sec-Fetch-Site."""
    query = (
        "?Action=CreateQueue&QueueName=pwned&X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=A%2F20260101%2Fus-east-1%2Fsqs%2Faws4_request"
        "&X-Amz-Date=20260101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=0"
    )
    status, _, body = served.raw("GET", "/" + query, {"Sec-Fetch-Site": "cross-site"})
    assert status == 403
    assert b"cross-site" in body


def test_dns_rebinding_host_is_refused_everywhere(served: Served) -> None:
    rebound = {"Host": "evil.example:4599"}
    client_like = {
        **rebound,
        "X-Amz-Target": "AmazonSQS.ListQueues",
        "Content-Type": "application/x-amz-json-1.0",
        "Authorization": "AWS4-HMAC-SHA256 Credential=A/20260101/us-east-1/sqs/aws4_request, "
        "SignedHeaders=host, Signature=0",
    }
    status, _, body = served.raw("POST", "/", client_like, b"{}")
    assert status == 403
    assert "host 'evil.example:4599'" in json.loads(body)["message"]
    # the dashboard shows message bodies and logs: not to a rebound page either
    for path in ("/_headwater/", "/_headwater/health", "/_headwater/fragments/queues"):
        assert served.raw("GET", path, rebound)[0] == 403, path
    # loopback names and addresses, *.localhost and AWS's own names are fine
    for host in ("localhost:4599", "127.0.0.1:4599", "[::1]:4599", "127.1.2.3", "b.localhost"):
        assert served.raw("GET", "/_headwater/health", {"Host": host})[0] == 200, host


def test_allowed_host_and_cors_origin(hw: Headwater) -> None:
    served = Served(
        hw,
        RequestPolicy.build(
            cors_origins=["http://localhost:3000"], allowed_hosts=["headwater.internal"]
        ),
    )
    try:
        sqs = served.client("sqs")
        sqs.create_queue(QueueName="q")
        assert (
            served.raw("GET", "/_headwater/health", {"Host": "headwater.internal:4599"})[0] == 200
        )
        assert served.raw("GET", "/_headwater/health", {"Host": "other.internal"})[0] == 403
        # a preflight from the allowed origin is granted, and answers are readable
        preflight = {
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,x-amz-date,x-amz-target",
        }
        status, headers, _ = served.raw("OPTIONS", "/", preflight)
        assert status == 200
        assert headers["access-control-allow-origin"] == "http://localhost:3000"
        assert "x-amz-target" in headers["access-control-allow-headers"]
        status, headers, _ = served.signed(
            "POST",
            "/",
            {
                "Origin": "http://localhost:3000",
                "X-Amz-Target": "AmazonSQS.ListQueues",
                "Content-Type": "application/x-amz-json-1.0",
            },
            b"{}",
            service="sqs",
        )
        assert status == 200
        assert headers["access-control-allow-origin"] == "http://localhost:3000"
        assert "x-amzn-RequestId" in headers["access-control-expose-headers"]
        # a foreign origin's preflight grants nothing
        status, headers, _ = served.raw("OPTIONS", "/", {**preflight, "Origin": EVIL})
        assert status == 403
        assert not any(name.startswith("access-control-allow") for name in headers)
    finally:
        served.close()


def test_the_default_preflight_grants_no_origin(served: Served) -> None:
    for origin in (EVIL, "http://localhost:3000", "null"):
        status, headers, _ = served.raw(
            "OPTIONS",
            "/2015-03-31/functions",
            {"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        assert status == 403
        assert "access-control-allow-origin" not in headers


def test_health_and_metrics_never_change_state_on_a_simple_request(served: Served) -> None:
    """Only GET answers there; a POST is an AWS API request, refused unsigned."""
    for path in ("/_headwater/health", "/metrics"):
        status, _, _ = served.raw("POST", path, {"Content-Type": "text/plain"}, b"x")
        assert status in (403, 405), path
    # the dashboard's one state change needs its header, which no simple request carries
    status, _, body = served.raw(
        "POST",
        "/_headwater/api/redrive",
        {"Content-Type": "application/x-www-form-urlencoded"},
        b"source_arn=arn:aws:sqs:us-east-1:000000000000:dlq",
    )
    assert status == 403
    assert b"X-Headwater-Dashboard" in body


# ---------------------------------------------------------------- existing clients


def test_boto3_clients_of_every_protocol_still_work(served: Served) -> None:
    sqs = served.client("sqs")
    url = sqs.create_queue(QueueName="ok")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m")
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "m"
    served.client("kinesis").create_stream(StreamName="s", ShardCount=1)
    s3 = served.client("s3")
    s3.create_bucket(Bucket="bkt")
    s3.put_object(Bucket="bkt", Key="k", Body=b"v")
    assert s3.get_object(Bucket="bkt", Key="k")["Body"].read() == b"v"
    sns = served.client("sns")
    assert sns.create_topic(Name="t")["TopicArn"].endswith(":t")
    served.client("cloudwatch").put_metric_data(
        Namespace="N", MetricData=[{"MetricName": "m", "Value": 1.0}]
    )
    assert served.client("lambda").list_functions()["Functions"] == []
    assert served.client("sts").get_caller_identity()["Account"]


# ---------------------------------------------------------------- region


def test_a_region_that_is_not_a_region_is_refused_before_anything_runs(
    served: Served, hw: Headwater, tmp_path: Path
) -> None:
    """The first wave: a 250-character region ran the handler, then answered 500 (so a
    retrying client ran it twice). Now: AWS's refusal, nothing run, nothing stored."""
    mark = tmp_path / "ran"
    lambda_ = hw.client("lambda")
    lambda_.create_function(
        FunctionName="f",
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/x",
        Handler="app.handler",
        Code={"ZipFile": zipped(HANDLER)},
    )
    region = "a" * 250
    status, headers, body = served.signed(
        "POST",
        "/2015-03-31/functions/f/invocations",
        {"Content-Type": "application/json"},
        json.dumps({"mark": str(mark)}).encode(),
        region=region,
    )
    assert status == 403
    assert headers["x-amzn-errortype"].startswith("InvalidSignatureException")
    assert json.loads(body)["message"].startswith("Credential should be scoped to a valid region")
    assert not mark.exists()
    # the query and XML protocols answer in their own shapes
    status, _, body = served.signed(
        "POST",
        "/",
        {"Content-Type": "application/x-www-form-urlencoded"},
        b"Action=CreateQueue&QueueName=q",
        service="sqs",
        region="..",
    )
    assert (status, b"<Code>SignatureDoesNotMatch</Code>" in body) == (403, True)
    status, _, body = served.signed("PUT", "/bucket", {}, service="s3", region="US_EAST_1")
    assert (status, b"<Code>AuthorizationHeaderMalformed</Code>" in body) == (400, True)
    assert not any(path.name.startswith("a" * 50) for path in hw.data_dir.rglob("*"))
    # real region names of every shape pass
    for good in ("us-east-1", "us-gov-west-1", "ap-southeast-5", "eu-central-2", "il-central-1"):
        status, _, _ = served.signed("GET", "/2015-03-31/functions", {}, region=good)
        assert status == 200, good


# ---------------------------------------------------------------- --verify-signatures


@pytest.fixture
def verifying(hw: Headwater) -> Iterator[tuple[Served, list[float]]]:
    skew = [0.0]
    policy = RequestPolicy.build(
        verify_signatures=True,
        access_keys={KEY_ID: SECRET},
        now=lambda: time.time() + skew[0],
    )
    made = Served(hw, policy)
    yield made, skew
    made.close()


def test_verify_signatures_accepts_the_right_secret_only(
    verifying: tuple[Served, list[float]],
) -> None:
    served, _ = verifying
    for service, call in (
        ("sqs", lambda c: c.list_queues()),
        ("lambda", lambda c: c.list_functions()),
        ("kinesis", lambda c: c.list_streams()),
        ("s3", lambda c: c.list_buckets()),
        ("sns", lambda c: c.list_topics()),
        ("cloudwatch", lambda c: c.list_metrics()),
    ):
        call(served.client(service))
        with pytest.raises(ClientError) as wrong:
            call(served.client(service, secret="not-the-secret"))
        assert wrong.value.response["Error"]["Code"] in (
            "InvalidSignatureException",
            "SignatureDoesNotMatch",
        ), service
        assert wrong.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # S3 with a body: the payload hash is part of what is signed
    s3 = served.client("s3")
    s3.create_bucket(Bucket="ver")
    s3.put_object(Bucket="ver", Key="k", Body=b"signed body")
    assert s3.get_object(Bucket="ver", Key="k")["Body"].read() == b"signed body"
    lambda_ = served.client("lambda")
    lambda_.create_function(
        FunctionName="v",
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/x",
        Handler="app.handler",
        Code={"ZipFile": zipped("def handler(e, c):\n    return e\n")},
    )
    assert json.loads(lambda_.invoke(FunctionName="v", Payload=b'{"a": 1}')["Payload"].read()) == {
        "a": 1
    }


def test_verify_signatures_refuses_unknown_keys_and_changed_bodies(
    verifying: tuple[Served, list[float]], hw: Headwater
) -> None:
    served, _ = verifying
    stranger = boto3.client(
        "sqs",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id="AKIDSTRANGER",
        aws_secret_access_key=SECRET,
        config=Config(retries={"max_attempts": 1}),
    )
    stranger.meta.events.register("before-send", served.transport)
    with pytest.raises(ClientError) as unknown:
        stranger.list_queues()
    assert unknown.value.response["Error"]["Code"] == "UnrecognizedClientException"  # awsJson
    # a body changed after signing (the signature covers its SHA-256)
    request = AWSRequest(
        "POST",
        ENDPOINT + "/",
        data=b"Action=CreateQueue&QueueName=a",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    SigV4Auth(Credentials(KEY_ID, SECRET), "sqs", "us-east-1").add_auth(request)
    headers = {k: v for k, v in request.prepare().headers.items()}
    status, _, body = served.raw("POST", "/", headers, b"Action=CreateQueue&QueueName=b")
    assert status == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in body
    assert hw.client("sqs").list_queues().get("QueueUrls", []) == []


def test_verify_signatures_accepts_iam_users_active_keys(tmp_path: Path) -> None:
    with Headwater(tmp_path / "iam", verify_signatures=True, access_keys={KEY_ID: SECRET}) as hw:
        served = Served(hw, policy_of(hw))
        try:
            iam = served.client("iam")
            iam.create_user(UserName="dev")
            made = iam.create_access_key(UserName="dev")["AccessKey"]
            user_sqs = boto3.client(
                "sqs",
                endpoint_url=ENDPOINT,
                region_name="us-east-1",
                aws_access_key_id=made["AccessKeyId"],
                aws_secret_access_key=made["SecretAccessKey"],
                config=Config(retries={"max_attempts": 1}),
            )
            user_sqs.meta.events.register("before-send", served.transport)
            user_sqs.list_queues()
            iam.update_access_key(
                UserName="dev", AccessKeyId=made["AccessKeyId"], Status="Inactive"
            )
            with pytest.raises(ClientError) as inactive:
                user_sqs.list_queues()
            assert inactive.value.response["Error"]["Code"] == "UnrecognizedClientException"
        finally:
            served.close()


def test_verify_signatures_checks_the_clock_skew(verifying: tuple[Served, list[float]]) -> None:
    served, skew = verifying
    sqs = served.client("sqs")
    skew[0] = 14 * 60  # the client's clock 14 minutes behind: within AWS's 15
    sqs.list_queues()
    skew[0] = 16 * 60
    with pytest.raises(ClientError) as late:
        sqs.list_queues()
    error = late.value.response["Error"]
    assert error["Code"] == "InvalidSignatureException"  # SQS speaks awsJson
    assert error["Message"].startswith("Signature expired: ")
    assert "is now earlier than" in error["Message"]
    skew[0] = -16 * 60  # the client's clock ahead
    with pytest.raises(ClientError) as early:
        served.client("lambda").list_functions()
    assert early.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert "is now later than" in early.value.response["Error"]["Message"]
    skew[0] = 20 * 60
    with pytest.raises(ClientError) as s3_late:
        served.client("s3").list_buckets()
    assert s3_late.value.response["Error"]["Code"] == "RequestTimeTooSkewed"


@pytest.mark.parametrize("version", ["s3", "s3v4"])
def test_verify_signatures_presigned_urls(
    verifying: tuple[Served, list[float]], version: str
) -> None:
    """boto3 presigns S3 URLs with signature version 2 by default, 4 when asked."""
    served, skew = verifying
    s3 = served.client("s3")
    s3.create_bucket(Bucket="pre")
    s3.put_object(Bucket="pre", Key="a key+plus", Body=b"presigned")
    signer = served.client("s3", signature_version=version)
    url = signer.generate_presigned_url(
        "get_object", Params={"Bucket": "pre", "Key": "a key+plus"}, ExpiresIn=60
    )
    parts = urlsplit(url)
    path = parts.path + "?" + parts.query
    status, _, body = served.raw("GET", path, {})
    assert (status, body) == (200, b"presigned")
    # presigned URLs are for browsers too: a link or <img> on another site loads them
    assert served.raw("GET", path, {"Sec-Fetch-Site": "cross-site"})[0] == 200
    expiry = "X-Amz-Expires=60" if version == "s3v4" else "Expires="
    tampered = path.replace(expiry, expiry + "9")
    status, _, body = served.raw("GET", tampered, {})
    assert (status, b"<Code>SignatureDoesNotMatch</Code>" in body) == (403, True)
    skew[0] = 61
    status, _, body = served.raw("GET", path, {})
    assert status == 403
    assert b"<Code>AccessDenied</Code><Message>Request has expired</Message>" in body


def test_presigned_s3_urls_work_without_verification(served: Served) -> None:
    s3 = served.client("s3")
    s3.create_bucket(Bucket="open")
    s3.put_object(Bucket="open", Key="k", Body=b"x")
    for version in ("s3", "s3v4"):
        url = served.client("s3", signature_version=version).generate_presigned_url(
            "get_object", Params={"Bucket": "open", "Key": "k"}
        )
        parts = urlsplit(url)
        status, _, body = served.raw("GET", f"{parts.path}?{parts.query}", {})
        assert (status, body) == (200, b"x"), version


def test_an_accepted_header_shape_does_not_let_a_broken_one_through(served: Served) -> None:
    """Unverified acceptance is remembered per header less its signature value: the same
    client's next request (a new signature) passes; an empty signature, a missing part or
    a bad region in an otherwise identical header is still refused with AWS's error."""
    accepted = (
        "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/lambda/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature="
    )
    headers = {"X-Amz-Date": "20260101T000000Z"}
    for signature in ("a" * 64, "b" * 64):
        status, _, _ = served.raw(
            "GET", "/2015-03-31/functions", {**headers, "Authorization": accepted + signature}
        )
        assert status == 200
    status, out, body = served.raw(
        "GET", "/2015-03-31/functions", {**headers, "Authorization": accepted}
    )
    assert status == 403
    assert out["x-amzn-errortype"].startswith("IncompleteSignatureException")
    assert "'Signature' parameter" in json.loads(body)["message"]
    without_credential = accepted.replace("Credential=AKID/20260101/us-east-1/lambda/", "X=")
    status, _, body = served.raw(
        "GET",
        "/2015-03-31/functions",
        {**headers, "Authorization": without_credential + "a" * 64},
    )
    assert status == 403
    assert "'Credential' parameter" in json.loads(body)["message"]
    bad_region = accepted.replace("us-east-1", "US_EAST_1")
    status, _, body = served.raw(
        "GET", "/2015-03-31/functions", {**headers, "Authorization": bad_region + "a" * 64}
    )
    assert status == 403
    assert "valid region" in json.loads(body)["message"]


def test_verify_signatures_checks_every_chunk_of_a_streaming_upload(hw: Headwater) -> None:
    """AWS's worked example of a signed aws-chunked PUT (fixed keys and time) is stored; the
    same upload with one changed byte is refused with S3's error and nothing is stored.
    (boto3 and the AWS CLI never send signed chunks: over http they sign the whole payload,
    over https they send ``STREAMING-UNSIGNED-PAYLOAD-TRAILER``; the Java, Go and .NET SDKs
    do send them.)"""
    now = [time.time()]
    policy = RequestPolicy.build(
        verify_signatures=True,
        access_keys={KEY_ID: SECRET, "AKIAIOSFODNN7EXAMPLE": EXAMPLE_SECRET},
        now=lambda: now[0],
    )
    served = Served(hw, policy)
    try:
        served.client("s3").create_bucket(Bucket="examplebucket")
        now[0] = EXAMPLE_TIME  # the example was signed then
        tampered = bytearray(example_body())
        tampered[66000] = ord("b")  # in the second chunk, whose signature then fails
        request = example_request(bytes(tampered))
        status, _, body = served.raw("PUT", request.raw_path, request.headers, request.body)
        assert status == 403
        assert b"<Code>SignatureDoesNotMatch</Code>" in body
        assert "Contents" not in hw.client("s3").list_objects_v2(Bucket="examplebucket")
        truncated = example_request(example_body()[:30000])
        status, _, body = served.raw("PUT", truncated.raw_path, truncated.headers, truncated.body)
        assert (status, b"<Code>IncompleteBody</Code>" in body) == (400, True)
        assert "Contents" not in hw.client("s3").list_objects_v2(Bucket="examplebucket")
        request = example_request(example_body())
        status, _, body = served.raw("PUT", request.raw_path, request.headers, request.body)
        assert status == 200, body
        stored = hw.client("s3").get_object(Bucket="examplebucket", Key="chunkObject.txt")
        assert stored["Body"].read() == b"a" * 66560
    finally:
        served.close()


TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
)


def _client_of(served: Served, service: str, credentials: dict[str, Any], **changes: Any) -> Any:
    """A boto3 client signing with STS ``credentials`` (``changes``: other key, secret or
    token; ``aws_session_token=None`` sends none)."""
    keys = {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
        **changes,
    }
    config = Config(retries={"max_attempts": 1}).merge(keys.pop("config", Config()))
    made = boto3.client(
        service, endpoint_url=ENDPOINT, region_name="us-east-1", config=config, **keys
    )
    made.meta.events.register("before-send", served.transport)
    return made


def _error(call: Callable[[], Any]) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as refused:
        call()
    response = refused.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def test_verify_signatures_accepts_assumed_role_credentials_until_they_expire(
    tmp_path: Path,
) -> None:
    clock = ManualClock(time.time())
    options = {"verify_signatures": True, "access_keys": {KEY_ID: SECRET}}
    with Headwater(tmp_path / "sts", clock=clock, **options) as hw:
        served = Served(hw, policy_of(hw))
        try:
            served.client("iam").create_role(RoleName="worker", AssumeRolePolicyDocument=TRUST)
            assumed = served.client("sts").assume_role(
                RoleArn="arn:aws:iam::000000000000:role/worker",
                RoleSessionName="s1",
                DurationSeconds=900,
            )["Credentials"]
            sqs = _client_of(served, "sqs", assumed)
            url = sqs.create_queue(QueueName="from-role")["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody="hello")
            identity = _client_of(served, "sts", assumed).get_caller_identity()
            assert identity["Arn"].endswith(":assumed-role/worker/s1")
            s3 = _client_of(served, "s3", assumed)
            s3.create_bucket(Bucket="role-bucket")
            s3.put_object(Bucket="role-bucket", Key="k", Body=b"by the role")
            for version in ("s3", "s3v4"):  # presigned: the token is in the query
                signer = _client_of(served, "s3", assumed, config=Config(signature_version=version))
                link = signer.generate_presigned_url(
                    "get_object", Params={"Bucket": "role-bucket", "Key": "k"}
                )
                parts = urlsplit(link)
                assert "ecurity-" in parts.query, version
                presigned = f"{parts.path}?{parts.query}"
                assert served.raw("GET", presigned, {})[::2] == (200, b"by the role"), version
                status, _, body = served.raw("GET", presigned.replace("ecurity-", "ecurity"), {})
                assert (status, b"<Code>InvalidAccessKeyId</Code>" in body) == (403, True)

            invalid = "The security token included in the request is invalid."
            # no session token: AWS does not know an ASIA key without one
            without = _client_of(served, "sqs", assumed, aws_session_token=None)
            assert _error(without.list_queues) == ("UnrecognizedClientException", invalid, 403)
            # another token (a second session's) with this key
            other = served.client("sts").get_session_token()["Credentials"]
            wrong = _client_of(served, "sqs", assumed, aws_session_token=other["SessionToken"])
            assert _error(wrong.list_queues) == ("UnrecognizedClientException", invalid, 403)
            assert _error(_client_of(served, "iam", assumed, aws_session_token="x").list_roles)[
                :2
            ] == ("InvalidClientTokenId", invalid)
            s3_wrong = _client_of(served, "s3", assumed, aws_session_token="x")
            assert _error(lambda: s3_wrong.head_bucket(Bucket="role-bucket"))[2] == 400
            assert _error(lambda: s3_wrong.list_objects_v2(Bucket="role-bucket"))[0] == (
                "InvalidToken"
            )
            # the right token with another secret
            forged = _client_of(served, "sqs", assumed, aws_secret_access_key=SECRET)
            assert _error(forged.list_queues)[0] == "InvalidSignatureException"
            # GetSessionToken's credentials verify too
            _client_of(served, "sqs", other).list_queues()

            clock.advance(901)  # past the session's 900 s, by the server's clock
            expired = "The security token included in the request is expired"
            assert _error(sqs.list_queues) == ("ExpiredTokenException", expired, 403)
            sts = _client_of(served, "sts", assumed)
            assert _error(sts.get_caller_identity) == ("ExpiredToken", expired, 403)
            assert _error(lambda: s3.get_object(Bucket="role-bucket", Key="k")) == (
                "ExpiredToken",
                "The provided token has expired.",
                400,
            )
            _client_of(served, "sqs", other).list_queues()  # 12 hours: still valid
            assert hw.client("sqs").receive_message(QueueUrl=url)["Messages"][0]["Body"] == (
                "hello"
            )
        finally:
            served.close()
    # issued credentials are kept in the data directory: a restarted server verifies them
    with Headwater(tmp_path / "sts", clock=clock, **options) as hw:
        served = Served(hw, policy_of(hw))
        try:
            _client_of(served, "sqs", other).list_queues()
            assert _error(_client_of(served, "sqs", assumed).list_queues)[0] == (
                "ExpiredTokenException"
            )
        finally:
            served.close()


def test_a_page_or_an_unsigned_caller_cannot_run_a_partiql_statement(
    served: Served, hw: Headwater
) -> None:
    """PartiQL writes (DELETE, UPDATE) go through the same checks as every call."""
    ddb = hw.client("dynamodb")
    ddb.create_table(
        TableName="guarded",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName="guarded", Item={"pk": {"S": "kept"}})
    target = {
        "X-Amz-Target": "DynamoDB_20120810.ExecuteStatement",
        "Content-Type": "application/x-amz-json-1.0",
    }
    body = json.dumps({"Statement": "DELETE FROM guarded WHERE pk = 'kept'"}).encode()
    page = {**target, "Origin": EVIL, "Content-Type": "text/plain;charset=UTF-8"}
    assert served.raw("POST", "/", page, body)[0] == 403
    status, _, answer = served.raw("POST", "/", target, body)
    assert status == 403
    assert json.loads(answer)["__type"].endswith("MissingAuthenticationTokenException")
    assert ddb.get_item(TableName="guarded", Key={"pk": {"S": "kept"}})["Item"] == {
        "pk": {"S": "kept"}
    }
    # boto3, signed, still runs statements
    client = served.client("dynamodb")
    assert client.execute_statement(Statement="SELECT * FROM guarded")["Items"] == [
        {"pk": {"S": "kept"}}
    ]
