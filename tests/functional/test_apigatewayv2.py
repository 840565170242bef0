"""API Gateway HTTP APIs: the control plane (apigatewayv2 through boto3 over the wire) and
serving requests to an API's routes through ``headwater serve``'s app (route matching,
path parameters, stages and stage variables, payload formats 2.0 and 1.0, binary bodies,
function errors, CORS and the server's refusals)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater import Headwater, ManualClock
from headwater.api.http import WireRequest
from headwater.options import HeadwaterOptions
from headwater.server.asgi import create_app
from headwater.server.request_checks import other_user_refusal
from tests.asgi_boto import AsgiTransport, InProcessAws
from tests.functional.lambda_proxy_support import (
    ARN,
    create_functions,
    error_of,
    send_to_api,
    serving_headwater,
)

HANDLERS = """
import base64
import json


def echo(event, context):
    return {"statusCode": 200, "headers": {"x-echo": "yes"}, "body": json.dumps(event)}


def binary(event, context):
    data = base64.b64decode(event["body"]) if event.get("isBase64Encoded") else b""
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/octet-stream"},
        "body": base64.b64encode(b"\\x00\\xff" + data).decode(),
        "isBase64Encoded": True,
    }


def fail(event, context):
    raise ValueError("boom")


def malformed(event, context):
    return {"statusCode": 200, "body": {"not": "a string"}, "extra": 1}


def plain(event, context):
    return "hello"
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
def apis(aws: InProcessAws) -> Any:
    handlers = ("echo", "binary", "fail", "malformed", "plain")
    create_functions(aws.client("lambda"), HANDLERS, handlers)
    return aws.client("apigatewayv2")


@pytest.fixture
def served(hw: Headwater) -> Iterator[AsgiTransport]:
    transport = AsgiTransport(create_app(hw))
    yield transport
    transport.close()


def proxy_api(apis: Any, routes: dict[str, str], version: str = "2.0") -> str:
    """An API with a $default stage and one route per key, each to its function."""
    api_id: str = apis.create_api(Name="shop", ProtocolType="HTTP")["ApiId"]
    for key, function in routes.items():
        integration = apis.create_integration(
            ApiId=api_id,
            IntegrationType="AWS_PROXY",
            IntegrationUri=f"{ARN}:{function}",
            PayloadFormatVersion=version,
        )
        apis.create_route(
            ApiId=api_id, RouteKey=key, Target=f"integrations/{integration['IntegrationId']}"
        )
    apis.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    return api_id


# -- control plane --------------------------------------------------------------------


def test_quick_create_makes_integration_route_and_default_stage(apis: Any) -> None:
    created = apis.create_api(
        Name="quick", ProtocolType="HTTP", Target=f"{ARN}:echo", RouteKey="GET /hi"
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    api_id = created["ApiId"]
    assert len(api_id) == 10
    assert created["ApiEndpoint"] == f"http://{api_id}.execute-api.us-east-1.localhost:4599"
    assert created["RouteSelectionExpression"] == "$request.method $request.path"
    (route,) = apis.get_routes(ApiId=api_id)["Items"]
    assert route["RouteKey"] == "GET /hi"
    integration_id = route["Target"].removeprefix("integrations/")
    integration = apis.get_integration(ApiId=api_id, IntegrationId=integration_id)
    assert (integration["IntegrationType"], integration["PayloadFormatVersion"]) == (
        "AWS_PROXY",
        "2.0",
    )
    assert integration["IntegrationUri"] == f"{ARN}:echo"
    (stage,) = apis.get_stages(ApiId=api_id)["Items"]
    assert (stage["StageName"], stage["AutoDeploy"]) == ("$default", True)
    assert [a["ApiId"] for a in apis.get_apis()["Items"]] == [api_id]


def test_crud_updates_and_deletes(apis: Any) -> None:
    api_id = proxy_api(apis, {"GET /a": "echo"})
    apis.update_api(ApiId=api_id, Name="renamed", Description="d")
    got = apis.get_api(ApiId=api_id)
    assert (got["Name"], got["Description"]) == ("renamed", "d")
    (route,) = apis.get_routes(ApiId=api_id)["Items"]
    apis.update_route(ApiId=api_id, RouteId=route["RouteId"], RouteKey="POST /b")
    assert apis.get_route(ApiId=api_id, RouteId=route["RouteId"])["RouteKey"] == "POST /b"
    integration_id = route["Target"].removeprefix("integrations/")
    apis.update_integration(ApiId=api_id, IntegrationId=integration_id, PayloadFormatVersion="1.0")
    assert apis.get_integrations(ApiId=api_id)["Items"][0]["PayloadFormatVersion"] == "1.0"
    apis.update_stage(ApiId=api_id, StageName="$default", StageVariables={"color": "blue"})
    assert apis.get_stage(ApiId=api_id, StageName="$default")["StageVariables"] == {"color": "blue"}
    deployment = apis.create_deployment(ApiId=api_id, StageName="$default")
    assert deployment["DeploymentStatus"] == "DEPLOYED"
    assert (
        apis.get_stage(ApiId=api_id, StageName="$default")["DeploymentId"]
        == (deployment["DeploymentId"])
    )
    assert [d["DeploymentId"] for d in apis.get_deployments(ApiId=api_id)["Items"]] == [
        deployment["DeploymentId"]
    ]
    apis.delete_route(ApiId=api_id, RouteId=route["RouteId"])
    apis.delete_integration(ApiId=api_id, IntegrationId=integration_id)
    apis.delete_stage(ApiId=api_id, StageName="$default")
    assert apis.get_routes(ApiId=api_id)["Items"] == []
    assert apis.get_stages(ApiId=api_id)["Items"] == []
    apis.delete_api(ApiId=api_id)
    assert apis.get_apis()["Items"] == []


def test_errors_as_aws_words_them(apis: Any, hw: Headwater) -> None:
    assert error_of(apis.get_api, ApiId="nope") == (
        "NotFoundException",
        "Invalid API identifier specified 000000000000:nope",
        404,
    )
    assert error_of(apis.delete_api, ApiId="nope")[0] == "NotFoundException"
    api_id = proxy_api(apis, {"GET /a": "echo"})
    assert error_of(apis.get_route, ApiId=api_id, RouteId="r")[2] == 404
    assert error_of(apis.get_stage, ApiId=api_id, StageName="prod")[0] == "NotFoundException"
    code, _, status = error_of(apis.create_route, ApiId=api_id, RouteKey="GET /a")
    assert (code, status) == ("ConflictException", 409)
    other = apis.create_route(ApiId=api_id, RouteKey="GET /b")
    taken = error_of(apis.update_route, ApiId=api_id, RouteId=other["RouteId"], RouteKey="GET /a")
    assert taken[0] == "ConflictException"
    assert error_of(apis.create_route, ApiId=api_id, RouteKey="FETCH /a")[0] == (
        "BadRequestException"
    )
    assert error_of(apis.create_route, ApiId=api_id, RouteKey="GET /{p+}/x")[0] == (
        "BadRequestException"
    )
    assert error_of(
        apis.create_integration, ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri="x"
    )[0] == ("BadRequestException")
    # a route still targets its integration: it stays
    (route,) = [r for r in apis.get_routes(ApiId=api_id)["Items"] if r["RouteKey"] == "GET /a"]
    integration_id = route["Target"].removeprefix("integrations/")
    assert error_of(apis.delete_integration, ApiId=api_id, IntegrationId=integration_id)[0] == (
        "BadRequestException"
    )
    assert apis.get_integration(ApiId=api_id, IntegrationId=integration_id)
    # a CORS MaxAge outside the model's -1..86400 is refused, and the API keeps its own
    cors = {"AllowOrigins": ["http://localhost:3000"], "MaxAge": 60}
    apis.update_api(ApiId=api_id, CorsConfiguration=cors)
    refused = error_of(apis.update_api, ApiId=api_id, CorsConfiguration={"MaxAge": 86401})
    assert refused[0] == "BadRequestException"
    # one past a signed 64 bits failed the write with a 500 (a request body carries up to
    # an unsigned one; past that its reader refuses a float, in process too)
    in_process = hw.client("apigatewayv2")
    unsigned = {"MaxAge": 2**64 - 1}
    assert error_of(in_process.update_api, ApiId=api_id, CorsConfiguration=unsigned)[0] == (
        "BadRequestException"
    )
    past_64_bits = {"MaxAge": 2**64}
    assert error_of(in_process.update_api, ApiId=api_id, CorsConfiguration=past_64_bits)[0] == (
        "SerializationException"
    )
    assert (
        error_of(
            apis.create_api, Name="x", ProtocolType="HTTP", CorsConfiguration={"MaxAge": 86401}
        )[0]
        == "BadRequestException"
    )
    assert apis.get_api(ApiId=api_id)["CorsConfiguration"] == cors


def test_tags_on_api_and_stage(apis: Any) -> None:
    api_id = apis.create_api(Name="t", ProtocolType="HTTP", Tags={"a": "1"})["ApiId"]
    arn = f"arn:aws:apigateway:us-east-1::/apis/{api_id}"
    apis.tag_resource(ResourceArn=arn, Tags={"b": "2"})
    assert apis.get_tags(ResourceArn=arn)["Tags"] == {"a": "1", "b": "2"}
    apis.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert apis.get_tags(ResourceArn=arn)["Tags"] == {"b": "2"}
    apis.create_stage(ApiId=api_id, StageName="dev", Tags={"s": "x"})
    assert apis.get_tags(ResourceArn=f"{arn}/stages/dev")["Tags"] == {"s": "x"}


OPENAPI = {
    "openapi": "3.0.1",
    "info": {"title": "imported", "version": "1"},
    "paths": {
        "/items/{id}": {
            "get": {
                "x-amazon-apigateway-integration": {
                    "type": "aws_proxy",
                    "httpMethod": "POST",
                    "uri": (
                        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                        f"{ARN}:echo/invocations"
                    ),
                    "payloadFormatVersion": "2.0",
                }
            }
        },
        "$default": {
            "x-amazon-apigateway-any-method": {
                "x-amazon-apigateway-integration": {
                    "type": "aws_proxy",
                    "uri": f"{ARN}:plain",
                    "payloadFormatVersion": "1.0",
                }
            }
        },
    },
}


def test_import_and_reimport_openapi(apis: Any, served: AsgiTransport) -> None:
    api_id = apis.import_api(Body=json.dumps(OPENAPI))["ApiId"]
    assert apis.get_api(ApiId=api_id)["Name"] == "imported"
    keys = sorted(r["RouteKey"] for r in apis.get_routes(ApiId=api_id)["Items"])
    assert keys == ["$default", "GET /items/{id}"]
    apis.create_stage(ApiId=api_id, StageName="$default")
    status, _, body = send_to_api(served, api_id, "GET", "/items/7")
    assert status == 200 and json.loads(body)["pathParameters"] == {"id": "7"}
    status, _, body = send_to_api(served, api_id, "DELETE", "/other")
    # payload 1.0 needs a response document: a bare string is a malformed proxy response
    assert (status, body) == (502, b'{"message": "Internal server error"}')
    changed = dict(OPENAPI, paths={"/only": OPENAPI["paths"]["/items/{id}"]})
    apis.reimport_api(ApiId=api_id, Body=json.dumps(changed))
    assert [r["RouteKey"] for r in apis.get_routes(ApiId=api_id)["Items"]] == ["GET /only"]
    assert send_to_api(served, api_id, "GET", "/items/7")[0] == 404
    assert error_of(apis.import_api, Body="openapi: [")[0] == "BadRequestException"


def test_import_refuses_a_timeout_that_is_not_a_number(apis: Any) -> None:
    document = json.loads(json.dumps(OPENAPI))
    extension = document["paths"]["/items/{id}"]["get"]["x-amazon-apigateway-integration"]
    extension["timeoutInMillis"] = "soon"
    assert error_of(apis.import_api, Body=json.dumps(document)) == (
        "BadRequestException",
        "Invalid OpenAPI input: timeoutInMillis 'soon'",
        400,
    )
    assert apis.get_apis()["Items"] == []


def test_apis_survive_a_restart(tmp_path: Path) -> None:
    with Headwater(tmp_path / "data", functions="inline") as first:
        client = first.client("apigatewayv2")
        api_id = client.create_api(Name="kept", ProtocolType="HTTP", Target=f"{ARN}:echo")["ApiId"]
    with Headwater(tmp_path / "data", functions="inline") as second:
        client = second.client("apigatewayv2")
        assert client.get_api(ApiId=api_id)["Name"] == "kept"
        assert len(client.get_routes(ApiId=api_id)["Items"]) == 1


# -- serving --------------------------------------------------------------------------


def test_route_matching_most_specific_first(apis: Any, served: AsgiTransport) -> None:
    api_id = proxy_api(
        apis,
        {
            "GET /items/special": "echo",
            "GET /items/{id}": "echo",
            "ANY /items/{id}": "echo",
            "ANY /{proxy+}": "echo",
            "$default": "echo",
        },
    )

    def route_of(method: str, path: str) -> tuple[str, Any]:
        status, _, body = send_to_api(served, api_id, method, path)
        assert status == 200, body
        event = json.loads(body)
        return event["routeKey"], event.get("pathParameters")

    assert route_of("GET", "/items/special") == ("GET /items/special", None)
    assert route_of("GET", "/items/42") == ("GET /items/{id}", {"id": "42"})
    assert route_of("PUT", "/items/42") == ("ANY /items/{id}", {"id": "42"})
    assert route_of("GET", "/a/b/c") == ("ANY /{proxy+}", {"proxy": "a/b/c"})
    assert route_of("GET", "/") == ("$default", None)


def test_no_route_is_not_found(apis: Any, served: AsgiTransport) -> None:
    api_id = proxy_api(apis, {"GET /a": "echo"})
    assert send_to_api(served, api_id, "GET", "/b") == (
        404,
        send_to_api(served, api_id, "GET", "/b")[1],
        b'{"message":"Not Found"}',
    )
    assert send_to_api(served, api_id, "POST", "/a")[0] == 404
    assert send_to_api(served, "zzzzzzzzzz", "GET", "/a")[0] == 404


def test_payload_2_event(apis: Any, served: AsgiTransport) -> None:
    api_id = proxy_api(apis, {"POST /items/{id}": "echo"})
    apis.update_stage(ApiId=api_id, StageName="$default", StageVariables={"env": "test"})
    status, headers, body = send_to_api(
        served,
        api_id,
        "POST",
        "/items/9?a=1&a=2&b=3",
        b'{"x": 1}',
        {"content-type": "application/json", "cookie": "c=1; d=2"},
    )
    assert status == 200 and headers["x-echo"] == "yes"
    assert headers["apigw-requestid"]
    event = json.loads(body)
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /items/{id}"
    assert event["rawPath"] == "/items/9"
    assert event["rawQueryString"] == "a=1&a=2&b=3"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "3"}
    assert event["cookies"] == ["c=1", "d=2"]
    assert event["pathParameters"] == {"id": "9"}
    assert event["stageVariables"] == {"env": "test"}
    assert (event["body"], event["isBase64Encoded"]) == ('{"x": 1}', False)
    context = event["requestContext"]
    assert context["apiId"] == api_id
    assert context["accountId"] == "000000000000"
    assert context["domainName"] == f"{api_id}.execute-api.us-east-1.localhost"
    assert context["stage"] == "$default"
    assert context["routeKey"] == "POST /items/{id}"
    assert context["http"]["method"] == "POST"
    assert context["requestId"] == headers["apigw-requestid"]


def test_payload_1_event(apis: Any, served: AsgiTransport) -> None:
    api_id = proxy_api(apis, {"GET /items/{id}": "echo"}, version="1.0")
    status, _, body = send_to_api(served, api_id, "GET", "/items/9?a=1&a=2", b"", {"x-h": "v"})
    assert status == 200
    event = json.loads(body)
    assert event["version"] == "1.0"
    assert event["resource"] == "/items/{id}"
    assert event["path"] == "/items/9"
    assert event["httpMethod"] == "GET"
    assert event["headers"]["x-h"] == "v"
    assert event["multiValueHeaders"]["x-h"] == ["v"]
    assert event["queryStringParameters"] == {"a": "2"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    assert event["pathParameters"] == {"id": "9"}
    assert event["stageVariables"] is None
    assert (event["body"], event["isBase64Encoded"]) == (None, False)
    assert event["requestContext"]["resourcePath"] == "/items/{id}"
    assert event["requestContext"]["stage"] == "$default"


def test_named_stage_is_the_first_path_segment(apis: Any, served: AsgiTransport) -> None:
    api_id = proxy_api(apis, {"GET /items": "echo"})
    apis.create_stage(ApiId=api_id, StageName="prod", StageVariables={"v": "p"})
    status, _, body = send_to_api(served, api_id, "GET", "/prod/items")
    event = json.loads(body)
    assert status == 200
    assert (event["requestContext"]["stage"], event["stageVariables"]) == ("prod", {"v": "p"})
    assert event["rawPath"] == "/prod/items"
    apis.delete_stage(ApiId=api_id, StageName="$default")
    assert send_to_api(served, api_id, "GET", "/items")[0] == 404
    assert send_to_api(served, api_id, "GET", "/prod/items")[0] == 200


def test_binary_bodies_both_ways(apis: Any, served: AsgiTransport) -> None:
    api_id = proxy_api(apis, {"POST /bin": "binary"})
    status, headers, body = send_to_api(
        served, api_id, "POST", "/bin", b"\x89PNG", {"content-type": "image/png"}
    )
    assert status == 200
    assert headers["content-type"] == "application/octet-stream"
    assert body == b"\x00\xff\x89PNG"


def test_function_errors_are_internal_errors(apis: Any, served: AsgiTransport) -> None:
    api_id = proxy_api(apis, {"GET /fail": "fail", "GET /bad": "malformed"})
    assert send_to_api(served, api_id, "GET", "/fail")[::2] == (
        500,
        b'{"message":"Internal Server Error"}',
    )
    v1 = proxy_api(apis, {"GET /fail": "fail", "GET /bad": "malformed"}, version="1.0")
    assert send_to_api(served, v1, "GET", "/fail")[::2] == (
        502,
        b'{"message": "Internal server error"}',
    )
    assert send_to_api(served, v1, "GET", "/bad")[::2] == (
        502,
        b'{"message": "Internal server error"}',
    )
    # a missing function: Lambda refuses the invocation, API Gateway answers 500
    gone = apis.create_api(Name="g", ProtocolType="HTTP", Target=f"{ARN}:missing")["ApiId"]
    assert send_to_api(served, gone, "GET", "/")[0] == 500


def test_path_form_reaches_the_api(apis: Any, served: AsgiTransport) -> None:
    api_id = proxy_api(apis, {"GET /items/{id}": "echo"})
    status, _, body = served.send(
        "GET", f"http://127.0.0.1:4599/_headwater/execute-api/{api_id}/items/3", {}, b""
    )
    assert status == 200 and json.loads(body)["pathParameters"] == {"id": "3"}


def test_amazonaws_host_is_routed_too(apis: Any, served: AsgiTransport) -> None:
    api_id = proxy_api(apis, {"GET /x": "echo"})
    status, _, _ = served.send(
        "GET",
        "http://127.0.0.1:4599/x",
        {"host": f"{api_id}.execute-api.us-east-1.amazonaws.com"},
        b"",
    )
    assert status == 200


def test_cors_preflight_and_headers(tmp_path: Path) -> None:
    options = HeadwaterOptions(cors_origins=("http://localhost:3000",))
    with Headwater(
        tmp_path / "data", functions="inline", endpoint_url="http://127.0.0.1:4599", options=options
    ) as hw:
        aws = InProcessAws(hw)
        try:
            create_functions(aws.client("lambda"), HANDLERS, ("echo",))
            apis = aws.client("apigatewayv2")
            api_id = apis.create_api(
                Name="c",
                ProtocolType="HTTP",
                Target=f"{ARN}:echo",
                CorsConfiguration={
                    "AllowOrigins": ["http://localhost:3000"],
                    "AllowMethods": ["GET"],
                },
            )["ApiId"]
            served = AsgiTransport(create_app(hw))
            try:
                origin = {"origin": "http://localhost:3000"}
                status, headers, body = send_to_api(
                    served,
                    api_id,
                    "OPTIONS",
                    "/x",
                    headers={**origin, "access-control-request-method": "GET"},
                )
                assert status == 200 and body == b""
                assert headers["access-control-allow-origin"] == "http://localhost:3000"
                status, headers, _ = send_to_api(served, api_id, "GET", "/x", headers=origin)
                assert status == 200
                assert headers["access-control-allow-origin"] == "http://localhost:3000"
                # a page headwater does not allow never reaches the function
                status, _, body = send_to_api(
                    served, api_id, "GET", "/x", headers={"origin": "http://evil.example"}
                )
                assert status == 403 and b"evil" in body
            finally:
                served.close()
        finally:
            aws.close()


def test_dates_are_iso_8601_text_on_the_wire(apis: Any) -> None:
    # the model's __timestampIso8601: Go's SDK (Terraform) refuses epoch numbers
    api_id = apis.create_api(Name="d", ProtocolType="HTTP")["ApiId"]
    raw: dict[str, bytes] = {}

    def keep(http_response: Any, **_: Any) -> None:
        raw["body"] = http_response.content

    apis.meta.events.register("after-call.apigatewayv2.GetApi", keep)
    assert apis.get_api(ApiId=api_id)["CreatedDate"].year == 2023
    assert json.loads(raw["body"])["createdDate"] == "2023-11-14T22:13:20Z"


def test_another_users_connection_never_runs_a_function(apis: Any, hw: Headwater) -> None:
    api_id = proxy_api(apis, {"GET /x": "echo"})
    app = create_app(hw)
    host = f"{api_id}.execute-api.us-east-1.localhost:4599"
    request = WireRequest("GET", "/x", "", {"host": host}, b"")
    response = asyncio.run(app.respond(request, other_user_refusal(os.getuid() + 1)))
    assert response.status == 403
    assert "other users" in json.loads(response.body)["message"]


def test_a_disabled_execute_api_endpoint_is_forbidden(apis: Any, served: AsgiTransport) -> None:
    api_id = proxy_api(apis, {"GET /x": "echo"})
    assert send_to_api(served, api_id, "GET", "/x")[0] == 200
    apis.update_api(ApiId=api_id, DisableExecuteApiEndpoint=True)
    assert send_to_api(served, api_id, "GET", "/x")[::2] == (403, b'{"message":"Forbidden"}')
