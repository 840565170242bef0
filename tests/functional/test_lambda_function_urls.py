"""Lambda function URLs: the control plane (Create/Get/Update/Delete/ListFunctionUrlConfigs
through boto3 over the wire) and serving HTTP requests to the function through
``headwater serve``'s app (payload format 2.0, the response interpretation, AWS_IAM, CORS
and the server's refusals)."""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from headwater import Headwater, ManualClock
from headwater.api.http import WireRequest
from headwater.in_process import HeaderFields
from headwater.server.asgi import create_app
from headwater.server.request_checks import RequestPolicy, other_user_refusal
from tests.asgi_boto import CREDENTIALS, AsgiTransport, InProcessAws
from tests.conformance.server_process import zip_of
from tests.functional.lambda_proxy_support import (
    ARN,
    ROLE,
    create_functions,
    error_of,
    serving_headwater,
)

URL = re.compile(r"http://([a-z0-9]{32})\.lambda-url\.us-east-1\.localhost:4599/")

HANDLERS = """
import base64
import json


def echo(event, context):
    event["awsRequestId"] = context.aws_request_id
    return {
        "statusCode": 201,
        "headers": {"content-type": "application/json", "x-echo": "yes"},
        "cookies": ["a=1; Path=/", "b=2"],
        "body": json.dumps(event),
    }


def plain(event, context):
    return event.get("queryStringParameters", {}).get("give", "hello")


def obj(event, context):
    return {"answer": 42}


def binary(event, context):
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/octet-stream"},
        "body": base64.b64encode(b"\\x00\\xff" + base64.b64decode(event["body"])).decode(),
        "isBase64Encoded": True,
    }


def fail(event, context):
    raise ValueError("boom")


def mark(event, context):
    with open(event["queryStringParameters"]["mark"], "w") as out:
        out.write("ran")
    return {"statusCode": 200, "headers": {"access-control-allow-origin": "*"}, "body": "ok"}
"""


@pytest.fixture
def hw(tmp_path: Path) -> Iterator[Headwater]:
    with serving_headwater(tmp_path, ManualClock()) as made:
        yield made


@pytest.fixture
def aws(hw: Headwater) -> Iterator[InProcessAws]:
    made = InProcessAws(hw)
    yield made
    made.close()


@pytest.fixture
def lam(aws: InProcessAws) -> Any:
    client = aws.client("lambda")
    create_functions(client, HANDLERS, ("echo", "plain", "obj", "binary", "fail", "mark"))
    return client


# -- control plane --------------------------------------------------------------------


def test_create_get_update_list_delete(lam: Any, hw: Headwater) -> None:
    cors = {"AllowOrigins": ["http://localhost:3000"], "AllowMethods": ["GET"], "MaxAge": 60}
    created = lam.create_function_url_config(FunctionName="echo", AuthType="NONE", Cors=cors)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert URL.fullmatch(created["FunctionUrl"])
    assert created["FunctionArn"] == f"{ARN}:echo"
    assert (created["AuthType"], created["InvokeMode"], created["Cors"]) == (
        "NONE",
        "BUFFERED",
        cors,
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", created["CreationTime"])
    got = lam.get_function_url_config(FunctionName=f"{ARN}:echo")
    assert got["FunctionUrl"] == created["FunctionUrl"]
    assert got["LastModifiedTime"] == got["CreationTime"]

    hw.clock.advance(5)  # type: ignore[attr-defined]
    updated = lam.update_function_url_config(FunctionName="echo", AuthType="AWS_IAM")
    assert updated["AuthType"] == "AWS_IAM"
    assert updated["Cors"] == cors  # what the update did not name is kept
    assert updated["LastModifiedTime"] > updated["CreationTime"]
    assert updated["FunctionUrl"] == created["FunctionUrl"]

    listed = lam.list_function_url_configs(FunctionName="echo")["FunctionUrlConfigs"]
    assert [c["FunctionUrl"] for c in listed] == [created["FunctionUrl"]]

    lam.delete_function_url_config(FunctionName="echo")
    assert error_of(lam.get_function_url_config, FunctionName="echo") == (
        "ResourceNotFoundException",
        "The resource you requested does not exist.",
        404,
    )
    assert lam.list_function_url_configs(FunctionName="echo")["FunctionUrlConfigs"] == []


def test_create_errors_as_aws_words_them(lam: Any) -> None:
    lam.create_function_url_config(FunctionName="echo", AuthType="NONE")
    assert error_of(lam.create_function_url_config, FunctionName="echo", AuthType="NONE") == (
        "ResourceConflictException",
        f"Failed to create function url config for [functionArn = {ARN}:echo]. Error "
        "message:  FunctionUrlConfig exists for this Lambda function",
        409,
    )
    assert error_of(lam.create_function_url_config, FunctionName="nope", AuthType="NONE") == (
        "ResourceNotFoundException",
        "Function does not exist",
        404,
    )
    code, message, status = error_of(
        lam.create_function_url_config, FunctionName="echo", AuthType="NONE", Qualifier="$LATEST"
    )
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith("1 validation error detected: Value '$LATEST' at 'qualifier'")
    code, _, _ = error_of(
        lam.create_function_url_config, FunctionName="echo", AuthType="NONE", Qualifier="1"
    )
    assert code == "ValidationException"
    assert error_of(
        lam.create_function_url_config, FunctionName="echo", AuthType="NONE", Qualifier="live"
    )[0:2] == ("ResourceNotFoundException", "Function does not exist")
    code, message, _ = error_of(
        lam.create_function_url_config, FunctionName="plain", AuthType="NONE", InvokeMode="FAST"
    )
    assert code == "ValidationException" and "'invokeMode'" in message
    code, message, _ = error_of(
        lam.create_function_url_config,
        FunctionName="plain",
        AuthType="NONE",
        Cors={"MaxAge": 86401},
    )
    assert code == "ValidationException" and "'cors.maxAge'" in message
    # nothing was stored by the refused calls
    assert lam.list_function_url_configs(FunctionName="plain")["FunctionUrlConfigs"] == []
    assert error_of(lam.update_function_url_config, FunctionName="plain", AuthType="NONE")[0:2] == (
        "ResourceNotFoundException",
        "The resource you requested does not exist.",
    )
    assert error_of(lam.delete_function_url_config, FunctionName="plain")[0] == (
        "ResourceNotFoundException"
    )


def test_alias_urls_page_and_go_with_the_alias_and_function(lam: Any) -> None:
    lam.publish_version(FunctionName="echo")
    lam.create_alias(FunctionName="echo", Name="live", FunctionVersion="1")
    lam.create_alias(FunctionName="echo", Name="test", FunctionVersion="1")
    unqualified = lam.create_function_url_config(FunctionName="echo", AuthType="NONE")
    live = lam.create_function_url_config(FunctionName="echo:live", AuthType="NONE")
    lam.create_function_url_config(FunctionName="echo", Qualifier="test", AuthType="NONE")
    assert live["FunctionArn"] == f"{ARN}:echo:live"
    assert live["FunctionUrl"] != unqualified["FunctionUrl"]
    first = lam.list_function_url_configs(FunctionName="echo", MaxItems=2)
    assert len(first["FunctionUrlConfigs"]) == 2
    rest = lam.list_function_url_configs(FunctionName="echo", Marker=first["NextMarker"])
    arns = [c["FunctionArn"] for c in first["FunctionUrlConfigs"] + rest["FunctionUrlConfigs"]]
    assert sorted(arns) == [f"{ARN}:echo", f"{ARN}:echo:live", f"{ARN}:echo:test"]

    lam.delete_alias(FunctionName="echo", Name="test")
    assert len(lam.list_function_url_configs(FunctionName="echo")["FunctionUrlConfigs"]) == 2
    lam.delete_function(FunctionName="echo")
    create_functions(lam, HANDLERS, ("echo",))
    assert lam.list_function_url_configs(FunctionName="echo")["FunctionUrlConfigs"] == []
    assert error_of(lam.list_function_url_configs, FunctionName="nope")[0:2] == (
        "ResourceNotFoundException",
        "Function does not exist",
    )


def test_urls_persist_across_restarts(tmp_path: Path) -> None:
    with Headwater(tmp_path / "data") as hw:
        hw.lambda_.create_function(
            FunctionName="f",
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.obj",
            Code={"ZipFile": zip_of(HANDLERS)},
        )
        made = hw.lambda_.create_function_url_config(FunctionName="f", AuthType="AWS_IAM")
    with Headwater(tmp_path / "data") as hw:
        got = hw.lambda_.get_function_url_config(FunctionName="f")
    assert (got["FunctionUrl"], got["AuthType"]) == (made["FunctionUrl"], "AWS_IAM")


# -- serving --------------------------------------------------------------------------


class Served:
    """``headwater serve``'s app for ``hw`` with ``policy``; raw HTTP requests through it."""

    def __init__(self, hw: Headwater, policy: RequestPolicy) -> None:
        self.transport = AsgiTransport(create_app(hw, policy=policy))

    def send(
        self, method: str, url: str, headers: HeaderFields | None = None, body: bytes = b""
    ) -> tuple[int, dict[str, list[str]], bytes]:
        status, out, payload = self.transport.send(method, url, headers or {}, body)
        found: dict[str, list[str]] = {}
        for name, value in out:
            found.setdefault(name.lower(), []).append(value)
        return status, found, payload

    def signed(
        self,
        method: str,
        url: str,
        body: bytes = b"",
        *,
        service: str = "lambda",
        secret: str = CREDENTIALS["aws_secret_access_key"],
    ) -> tuple[int, dict[str, list[str]], bytes]:
        request = AWSRequest(method, url, data=body, headers={})
        credentials = Credentials(CREDENTIALS["aws_access_key_id"], secret)
        SigV4Auth(credentials, service, "us-east-1").add_auth(request)
        prepared = request.prepare()
        sent = {k: v.decode() if isinstance(v, bytes) else v for k, v in prepared.headers.items()}
        return self.send(method, url, sent, body)

    def close(self) -> None:
        self.transport.close()


@pytest.fixture
def served(hw: Headwater) -> Iterator[Served]:
    made = Served(hw, RequestPolicy())
    yield made
    made.close()


def url_of(lam: Any, name: str, **params: Any) -> str:
    made = lam.create_function_url_config(FunctionName=name, AuthType="NONE", **params)
    return str(made["FunctionUrl"])


def test_get_with_query_and_cookies_becomes_a_2_0_event(
    lam: Any, served: Served, hw: Headwater
) -> None:
    url = url_of(lam, "echo")
    url_id = URL.fullmatch(url).group(1)  # type: ignore[union-attr]
    status, headers, body = served.send(
        "GET",
        url + "some/path?a=1&b=x%20y&a=2",
        {"Cookie": "c1=v1; c2=v2", "User-Agent": "curl/8", "X-Custom": "yes"},
    )
    assert status == 201
    assert headers["x-echo"] == ["yes"]
    assert headers["set-cookie"] == ["a=1; Path=/", "b=2"]
    assert headers["content-type"] == ["application/json"]
    event = json.loads(body)
    # one request id: the event's, the handler's context's and the response header's
    assert headers["x-amzn-requestid"] == [event["awsRequestId"]]
    assert event["requestContext"]["requestId"] == event["awsRequestId"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/some/path"
    assert event["rawQueryString"] == "a=1&b=x%20y&a=2"
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x y"}
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-custom"] == "yes"
    assert event["isBase64Encoded"] is False and "body" not in event
    context = event["requestContext"]
    assert context["apiId"] == context["domainPrefix"] == url_id
    assert context["domainName"] == f"{url_id}.lambda-url.us-east-1.localhost"
    assert context["accountId"] == "anonymous"
    assert context["http"] == {
        "method": "GET",
        "path": "/some/path",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "curl/8",
    }
    assert (context["stage"], context["routeKey"]) == ("$default", "$default")
    assert context["timeEpoch"] == int(hw.clock.now() * 1000)
    assert "authorizer" not in context


def test_repeated_headers_are_joined_with_commas_and_every_cookie_header_read(
    lam: Any, served: Served
) -> None:
    # AWS: "Duplicate headers are combined with commas and included in the headers field";
    # "All cookie headers in the request are combined ... and added to the cookies field"
    url = url_of(lam, "echo")
    status, _, body = served.send(
        "GET",
        url + "?a=1&a=2",
        [
            ("X-Multi", "1"),
            ("x-multi", "2, 3"),
            ("Cookie", "c1=v1"),
            ("Cookie", "c2=v2; c3=v3"),
        ],
    )
    assert status == 201
    event = json.loads(body)
    assert event["headers"]["x-multi"] == "1,2, 3"
    assert event["cookies"] == ["c1=v1", "c2=v2", "c3=v3"]
    assert "cookie" not in event["headers"]
    assert event["queryStringParameters"] == {"a": "1,2"}
    assert "multiValueHeaders" not in event


def test_post_json_and_binary_bodies(lam: Any, served: Served) -> None:
    url = url_of(lam, "echo")
    status, _, body = served.send("POST", url, {"Content-Type": "application/json"}, b'{"n": 1}')
    event = json.loads(body)
    assert (status, event["body"], event["isBase64Encoded"]) == (201, '{"n": 1}', False)
    assert event["requestContext"]["http"]["method"] == "POST"

    binary_url = url_of(lam, "binary")
    status, headers, body = served.send(
        "POST", binary_url, {"Content-Type": "application/octet-stream"}, b"\x01\x02\x80"
    )
    assert status == 200
    assert headers["content-type"] == ["application/octet-stream"]
    assert body == b"\x00\xff\x01\x02\x80"  # decoded from the function's base64


def test_plain_values_are_json_bodies_and_errors_are_502(lam: Any, served: Served) -> None:
    status, headers, body = served.send("GET", url_of(lam, "plain") + "?give=hi")
    assert (status, headers["content-type"], body) == (200, ["application/json"], b"hi")
    status, headers, body = served.send("GET", url_of(lam, "obj"))
    assert (status, json.loads(body)) == (200, {"answer": 42})
    assert headers["content-type"] == ["application/json"]
    status, _, body = served.send("GET", url_of(lam, "fail"))
    assert (status, body) == (502, b"Internal Server Error")


def test_the_path_form_reaches_the_same_function(lam: Any, served: Served) -> None:
    url_id = URL.fullmatch(url_of(lam, "echo")).group(1)  # type: ignore[union-attr]
    status, _, body = served.send(
        "GET", f"http://127.0.0.1:4599/_headwater/function-url/{url_id}/x/y?q=1"
    )
    event = json.loads(body)
    assert status == 201
    assert (event["rawPath"], event["rawQueryString"]) == ("/x/y", "q=1")
    status, _, body = served.send("GET", f"http://127.0.0.1:4599/_headwater/function-url/{url_id}")
    assert json.loads(body)["rawPath"] == "/"
    # an unknown id, or the right id in another region's host, is no URL
    status, _, body = served.send(
        "GET", "http://127.0.0.1:4599/_headwater/function-url/" + "a" * 32
    )
    assert (status, json.loads(body)) == (403, {"Message": "Forbidden"})
    other = f"http://{url_id}.lambda-url.eu-west-1.localhost:4599/"
    assert served.send("GET", other)[0] == 403


def test_aws_iam_urls_need_a_lambda_signature(lam: Any, served: Served) -> None:
    url = lam.create_function_url_config(FunctionName="echo", AuthType="AWS_IAM")["FunctionUrl"]
    status, _, body = served.send("GET", url)
    assert (status, json.loads(body)) == (403, {"Message": "Forbidden"})
    assert served.signed("GET", url, service="s3")[0] == 403
    status, _, body = served.signed("POST", url + "p", b"{}")
    assert status == 201
    event = json.loads(body)
    iam = event["requestContext"]["authorizer"]["iam"]
    assert iam["accessKey"] == CREDENTIALS["aws_access_key_id"]
    assert event["requestContext"]["accountId"] == "000000000000"


def test_aws_iam_signatures_are_verified_when_asked(lam: Any, hw: Headwater) -> None:
    url = lam.create_function_url_config(FunctionName="echo", AuthType="AWS_IAM")["FunctionUrl"]
    policy = RequestPolicy.build(verify_signatures=True, access_keys={
        CREDENTIALS["aws_access_key_id"]: CREDENTIALS["aws_secret_access_key"]
    })  # fmt: skip
    served = Served(hw, policy)
    try:
        assert served.signed("GET", url)[0] == 201
        assert served.signed("GET", url, secret="wrong")[0] == 403
    finally:
        served.close()


def test_refusals_keep_web_pages_and_rebinding_out(
    lam: Any, served: Served, tmp_path: Path
) -> None:
    url = url_of(lam, "mark")
    marker = tmp_path / "ran"
    target = f"{url}?mark={marker}"
    refused = [
        {"Origin": "http://evil.example"},  # a page's fetch()
        {"Sec-Fetch-Site": "cross-site"},  # <img src> / a link from another site
        {"Sec-Fetch-Site": "same-site"},  # a page on localhost:3000 is same-site with it
    ]
    for headers in refused:
        for method in ("GET", "POST"):
            status, _, body = served.send(method, target, headers, b"x")
            assert status == 403, headers
            assert "headwater does not answer" in json.loads(body)["Message"]
    # DNS rebinding: the path form under a foreign Host
    url_id = URL.fullmatch(url).group(1)  # type: ignore[union-attr]
    rebound = f"http://evil.example:4599/_headwater/function-url/{url_id}/?mark={marker}"
    assert served.send("GET", rebound)[0] == 403
    # a foreign preflight grants nothing
    status, headers, _ = served.send(
        "OPTIONS", url, {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert status == 403 and "access-control-allow-origin" not in headers
    # the path form is headwater's own origin (the dashboard's): a page there is refused
    own = "http://127.0.0.1:4599"
    path_form = f"{own}/_headwater/function-url/{url_id}/?mark={marker}"
    assert served.send("POST", path_form, {"Origin": own}, b"x")[0] == 403
    assert not marker.exists()
    # a page the function served at its own host posting back to it: same origin, runs
    own = url.rstrip("/")
    assert served.send("POST", target, {"Origin": own, "Sec-Fetch-Site": "same-origin"})[0] == 200
    assert marker.read_text() == "ran"
    marker.unlink()
    # typed in the address bar (Sec-Fetch-Site: none) or curl: runs
    assert served.send("GET", target, {"Sec-Fetch-Site": "none"})[0] == 200
    assert marker.read_text() == "ran"


def test_another_users_connection_is_refused(lam: Any, hw: Headwater, tmp_path: Path) -> None:
    url = url_of(lam, "mark")
    marker = tmp_path / "ran"
    app = create_app(hw)
    parts = urlsplit(url)
    request = WireRequest("GET", "/", f"mark={marker}", {"host": parts.netloc}, b"")
    response = asyncio.run(app.respond(request, other_user_refusal(os.getuid() + 1)))
    assert response.status == 403
    assert "other users" in json.loads(response.body)["Message"]
    assert not marker.exists()


def test_an_allowed_origin_gets_the_urls_cors_answer(lam: Any, hw: Headwater) -> None:
    page = "http://localhost:3000"
    cors = {
        "AllowOrigins": [page],
        "AllowMethods": ["GET", "POST"],
        "AllowHeaders": ["x-custom"],
        "ExposeHeaders": ["x-echo"],
        "AllowCredentials": True,
        "MaxAge": 300,
    }
    with_cors = url_of(lam, "echo", Cors=cors)
    without_cors = url_of(lam, "mark")
    served = Served(hw, RequestPolicy.build(cors_origins=[page]))
    try:
        status, headers, _ = served.send(
            "OPTIONS", with_cors, {"Origin": page, "Access-Control-Request-Method": "POST"}
        )
        assert status == 200
        assert headers["access-control-allow-origin"] == [page]
        assert headers["access-control-allow-methods"] == ["GET, POST"]
        assert headers["access-control-allow-headers"] == ["x-custom"]
        assert headers["access-control-max-age"] == ["300"]
        assert headers["access-control-allow-credentials"] == ["true"]
        status, headers, _ = served.send(
            "OPTIONS", with_cors, {"Origin": page, "Access-Control-Request-Method": "DELETE"}
        )
        assert status == 200 and "access-control-allow-origin" not in headers

        status, headers, _ = served.send("POST", with_cors, {"Origin": page}, b"{}")
        assert status == 201
        assert headers["access-control-allow-origin"] == [page]
        assert headers["access-control-expose-headers"] == ["x-echo"]

        # no Cors on the URL: the function's own headers pass, the function runs
        status, headers, _ = served.send(
            "GET", f"{without_cors}?mark={tmp_marker(hw)}", {"Origin": page}
        )
        assert status == 200
        assert headers["access-control-allow-origin"] == ["*"]
    finally:
        served.close()


def tmp_marker(hw: Headwater) -> Path:
    return Path(hw.data_dir) / "marker"


def test_throttles_and_oversized_requests(lam: Any, served: Served) -> None:
    url = url_of(lam, "obj")
    lam.put_function_concurrency(FunctionName="obj", ReservedConcurrentExecutions=0)
    status, _, body = served.send("GET", url)
    assert status == 429 and "Message" in json.loads(body)
    lam.delete_function_concurrency(FunctionName="obj")
    assert served.send("GET", url)[0] == 200
    status, _, body = served.send(
        "POST", url, {"Content-Type": "text/plain"}, b"x" * (6 * 1024 * 1024 + 1)
    )
    assert status == 413
    assert "smaller than" in json.loads(body)["Message"]
