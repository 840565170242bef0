"""Function URL translation: request events and how a function's result is read."""

from __future__ import annotations

import base64

import orjson
import pytest

from headwater.api.http import WireRequest
from headwater.core.proxy_payloads import (
    ProxyRequest,
    function_response,
    request_event,
    rest_function_response,
    rest_request_event,
)
from headwater.server.function_urls import url_address
from headwater.services.lambda_.function_urls import function_url, url_host_id

URL_ID = "a" * 32


def url_request(**changes: object) -> ProxyRequest:
    values: dict[str, object] = {
        "api_id": URL_ID,
        "domain_name": f"{URL_ID}.lambda-url.us-east-1.localhost",
        "method": "POST",
        "path": "/p",
        "query_string": "",
        "headers": {"content-type": "image/png"},
        "body": b"\x89PNG",
        "request_id": "rid",
        "time": 1_700_000_000.25,
        "account_id": "000000000000",
    }
    values.update(changes)
    return ProxyRequest(**values)  # type: ignore[arg-type]


def test_binary_and_text_bodies() -> None:
    event = request_event(url_request())
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x89PNG"
    text = request_event(url_request(headers={"content-type": "text/csv"}, body=b"a,b"))
    assert (text["body"], text["isBase64Encoded"]) == ("a,b", False)
    # text that is not UTF-8 still arrives, encoded
    latin = request_event(url_request(headers={"content-type": "text/plain"}, body=b"\xff"))
    assert latin["isBase64Encoded"] is True
    assert request_event(url_request())["requestContext"]["time"] == "14/Nov/2023:22:13:20 +0000"
    assert request_event(url_request())["requestContext"]["timeEpoch"] == 1_700_000_000_250


@pytest.mark.parametrize(
    ("payload", "status", "body", "content_type"),
    [
        (b'"plain text"', 200, b"plain text", "application/json"),
        (b"[1, 2]", 200, b"[1, 2]", "application/json"),
        (b'{"a": 1}', 200, b'{"a": 1}', "application/json"),
        (b"", 200, b"", "application/json"),
        (b"null", 200, b"null", "application/json"),
        (b"not json", 502, b"Internal Server Error", "application/json"),
        (b'{"statusCode": "204"}', 204, b"", "application/json"),
        (b'{"statusCode": 99}', 502, b"Internal Server Error", "application/json"),
        (b'{"statusCode": true}', 502, b"Internal Server Error", "application/json"),
        (
            b'{"statusCode": 200, "body": "!!", "isBase64Encoded": true}',
            502,
            b"Internal Server Error",
            "application/json",
        ),
        (
            b'{"statusCode": 404, "headers": {"Content-Type": "text/html"}, "body": "<p>"}',
            404,
            b"<p>",
            "text/html",
        ),
    ],
)
def test_function_results(payload: bytes, status: int, body: bytes, content_type: str) -> None:
    response = function_response(payload)
    assert (response.status, response.body, response.content_type) == (
        status,
        body,
        content_type,
    )


def test_described_headers_and_cookies() -> None:
    result = {
        "statusCode": 302,
        "headers": {"Location": "/next", "Content-Length": "999", "X-Count": 3},
        "cookies": ["a=1", "b=2; Secure"],
    }
    response = function_response(orjson.dumps(result))
    assert response.headers == [
        ("Location", "/next"),
        ("X-Count", "3"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2; Secure"),
    ]


def test_addresses() -> None:
    assert function_url(URL_ID, "eu-west-1", "http://127.0.0.1:4599") == (
        f"http://{URL_ID}.lambda-url.eu-west-1.localhost:4599/"
    )
    assert function_url(URL_ID, "eu-west-1", None) == (
        f"https://{URL_ID}.lambda-url.eu-west-1.on.aws/"
    )
    assert url_host_id(f"{URL_ID}.lambda-url.eu-west-1.localhost") == (URL_ID, "eu-west-1")
    assert url_host_id(f"{URL_ID}.lambda-url.eu-west-1.evil.example") is None
    assert url_host_id("short.lambda-url.eu-west-1.localhost") is None

    def request(host: str, path: str) -> WireRequest:
        return WireRequest("GET", path, "", {"host": host}, b"")

    found = url_address(request(f"{URL_ID}.lambda-url.us-east-1.localhost:4599", "/x"))
    assert found is not None and (found.url_id, found.region, found.path) == (
        URL_ID,
        "us-east-1",
        "/x",
    )
    found = url_address(request("127.0.0.1:4599", f"/_headwater/function-url/{URL_ID}/a/b"))
    assert found is not None and (found.url_id, found.region, found.path) == (
        URL_ID,
        None,
        "/a/b",
    )
    assert url_address(request("127.0.0.1:4599", "/_headwater/health")) is None
    assert url_address(request("127.0.0.1:4599", "/2015-03-31/functions")) is None


REST_ERROR = (502, b'{"message": "Internal server error"}')


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"statusCode": 201, "body": "made"}, (201, b"made")),
        ({"statusCode": 204}, (204, b"")),
        ({"statusCode": 200, "body": "AP8=", "isBase64Encoded": True}, (200, b"\x00\xff")),
        ({"body": "no status"}, REST_ERROR),
        ({"statusCode": 200, "body": {"an": "object"}}, REST_ERROR),
        ({"statusCode": 200, "cookies": ["a=1"]}, REST_ERROR),  # a 2.0 member
        ({"statusCode": 99}, REST_ERROR),
        ("just text", REST_ERROR),
    ],
)
def test_payload_1_results(result: object, expected: tuple[int, bytes]) -> None:
    response = rest_function_response(orjson.dumps(result))
    assert (response.status, response.body) == expected


def test_payload_1_headers_merge_with_multi_value_ones() -> None:
    response = rest_function_response(
        orjson.dumps(
            {
                "statusCode": 200,
                "headers": {"Content-Type": "text/plain", "X-One": "1", "X-Both": "single"},
                "multiValueHeaders": {"X-Both": ["m1", "m2"], "Set-Cookie": ["a=1", "b=2"]},
                "body": "ok",
            }
        )
    )
    assert response.content_type == "text/plain"
    assert response.headers == [
        ("X-One", "1"),
        ("X-Both", "m1"),
        ("X-Both", "m2"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
    ]


def test_payload_1_event_of_a_rest_stage() -> None:
    event = rest_request_event(
        url_request(
            method="GET",
            path="/Prod/items/7",
            query_string="a=1&a=2&b=",
            headers={"x-h": "v"},
            body=b"",
            route_key="GET /items/{id}",
            stage="Prod",
            path_parameters={"id": "7"},
            resource="/items/{id}",
            resource_path="/items/7",
            resource_id="abc123",
        )
    )
    assert (event["resource"], event["path"], event["httpMethod"]) == (
        "/items/{id}",
        "/items/7",
        "GET",
    )
    assert event["queryStringParameters"] == {"a": "2", "b": ""}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""]}
    assert event["multiValueHeaders"]["x-h"] == ["v"]
    assert (event["body"], event["isBase64Encoded"], event["stageVariables"]) == (None, False, None)
    context = event["requestContext"]
    assert (context["path"], context["stage"], context["resourceId"]) == (
        "/Prod/items/7",
        "Prod",
        "abc123",
    )
    assert context["resourcePath"] == "/items/{id}"
    assert context["requestTime"] == "14/Nov/2023:22:13:20 +0000"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    empty = rest_request_event(url_request(query_string="", path_parameters=None))
    assert empty["queryStringParameters"] is None and empty["pathParameters"] is None


def test_repeated_headers_in_both_payload_formats() -> None:
    request = url_request(
        headers={"x-many": "b", "cookie": "c2=2", "content-type": "text/plain"},
        repeated_headers={"x-many": ["a", "b"], "cookie": ["c1=1", "c2=2"]},
        query_string="q=1&q=2",
    )
    v2 = request_event(request)
    assert v2["headers"]["x-many"] == "a,b"
    assert v2["cookies"] == ["c1=1", "c2=2"]
    assert v2["queryStringParameters"] == {"q": "1,2"}
    v1 = rest_request_event(request)
    assert v1["headers"]["x-many"] == "b"
    assert v1["multiValueHeaders"]["x-many"] == ["a", "b"]
    assert v1["multiValueHeaders"]["cookie"] == ["c1=1", "c2=2"]
    assert v1["multiValueHeaders"]["content-type"] == ["text/plain"]
    assert v1["queryStringParameters"] == {"q": "2"}
    assert v1["multiValueQueryStringParameters"] == {"q": ["1", "2"]}
