"""API Gateway REST APIs: the control plane (apigateway through boto3 over the wire:
REST APIs, Swagger import, resources, methods, Lambda proxy integrations, deployments,
stages, tags) and serving a stage's resources with the Lambda proxy (1.0) event."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater import Headwater, ManualClock
from headwater.server.asgi import create_app
from tests.asgi_boto import AsgiTransport, InProcessAws
from tests.functional.lambda_proxy_support import (
    ARN,
    create_functions,
    error_of,
    send_to_api,
    serving_headwater,
)

INVOCATIONS = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{}/invocations"

HANDLERS = """
import base64
import json


def echo(event, context):
    return {
        "statusCode": 200,
        "headers": {"x-echo": "yes"},
        "multiValueHeaders": {"x-many": ["a", "b"]},
        "body": json.dumps(event),
    }


def binary(event, context):
    data = base64.b64decode(event["body"]) if event["isBase64Encoded"] else b""
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/octet-stream"},
        "body": base64.b64encode(b"\\x00" + data).decode(),
        "isBase64Encoded": True,
    }


def fail(event, context):
    raise ValueError("boom")


def malformed(event, context):
    return {"body": "no status"}
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
def rest(aws: InProcessAws) -> Any:
    create_functions(aws.client("lambda"), HANDLERS, ("echo", "binary", "fail", "malformed"))
    return aws.client("apigateway")


@pytest.fixture
def served(hw: Headwater) -> Iterator[AsgiTransport]:
    transport = AsgiTransport(create_app(hw))
    yield transport
    transport.close()


def proxy_method(rest: Any, api_id: str, resource_id: str, method: str, function: str) -> None:
    rest.put_method(
        restApiId=api_id, resourceId=resource_id, httpMethod=method, authorizationType="NONE"
    )
    rest.put_integration(
        restApiId=api_id,
        resourceId=resource_id,
        httpMethod=method,
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=INVOCATIONS.format(f"{ARN}:{function}"),
    )


def built_api(rest: Any) -> tuple[str, dict[str, str]]:
    """/items/{id} GET -> echo, /bin POST -> binary, /fail, /bad, /{proxy+} ANY -> echo;
    deployed to stage ``dev``."""
    api = rest.create_rest_api(name="shop")
    api_id = api["id"]
    root = api["rootResourceId"]
    items = rest.create_resource(restApiId=api_id, parentId=root, pathPart="items")
    item = rest.create_resource(restApiId=api_id, parentId=items["id"], pathPart="{id}")
    ids = {"items": items["id"], "item": item["id"]}
    proxy_method(rest, api_id, item["id"], "GET", "echo")
    for part, method, function in (
        ("bin", "POST", "binary"),
        ("fail", "GET", "fail"),
        ("bad", "GET", "malformed"),
        ("{proxy+}", "ANY", "echo"),
    ):
        made = rest.create_resource(restApiId=api_id, parentId=root, pathPart=part)
        ids[part] = made["id"]
        proxy_method(rest, api_id, made["id"], method, function)
    rest.create_deployment(restApiId=api_id, stageName="dev", variables={"env": "dev"})
    return api_id, ids


# -- control plane --------------------------------------------------------------------


def test_rest_api_resources_methods_and_integrations(rest: Any) -> None:
    api = rest.create_rest_api(name="shop", description="d", tags={"a": "1"})
    assert api["ResponseMetadata"]["HTTPStatusCode"] == 201
    api_id = api["id"]
    assert len(api_id) == 10 and api["name"] == "shop" and api["apiKeySource"] == "HEADER"
    (root,) = rest.get_resources(restApiId=api_id)["items"]
    assert (root["id"], root["path"]) == (api["rootResourceId"], "/")
    api_id, ids = built_api(rest)
    paths = sorted(r["path"] for r in rest.get_resources(restApiId=api_id)["items"])
    assert paths == ["/", "/bad", "/bin", "/fail", "/items", "/items/{id}", "/{proxy+}"]
    method = rest.get_method(restApiId=api_id, resourceId=ids["item"], httpMethod="GET")
    assert method["httpMethod"] == "GET"
    assert method["methodIntegration"]["type"] == "AWS_PROXY"
    integration = rest.get_integration(restApiId=api_id, resourceId=ids["item"], httpMethod="GET")
    assert integration["httpMethod"] == "POST"
    assert integration["uri"] == INVOCATIONS.format(f"{ARN}:echo")
    resource = rest.get_resource(restApiId=api_id, resourceId=ids["item"])
    assert (resource["parentId"], resource["pathPart"]) == (ids["items"], "{id}")
    assert "GET" in resource["resourceMethods"]
    assert sorted(a["id"] for a in rest.get_rest_apis()["items"]) == sorted([api["id"], api_id])
    rest.update_rest_api(
        restApiId=api_id, patchOperations=[{"op": "replace", "path": "/name", "value": "new"}]
    )
    assert rest.get_rest_api(restApiId=api_id)["name"] == "new"
    rest.delete_rest_api(restApiId=api_id)
    assert error_of(rest.get_rest_api, restApiId=api_id)[2] == 404


def test_deployments_and_stages(rest: Any) -> None:
    api_id, _ = built_api(rest)
    (stage,) = rest.get_stages(restApiId=api_id)["item"]
    assert (stage["stageName"], stage["variables"]) == ("dev", {"env": "dev"})
    (deployment,) = rest.get_deployments(restApiId=api_id)["items"]
    assert stage["deploymentId"] == deployment["id"]
    made = rest.create_stage(restApiId=api_id, stageName="prod", deploymentId=deployment["id"])
    assert made["stageName"] == "prod"
    rest.update_stage(
        restApiId=api_id,
        stageName="prod",
        patchOperations=[{"op": "replace", "path": "/variables/color", "value": "red"}],
    )
    assert rest.get_stage(restApiId=api_id, stageName="prod")["variables"] == {"color": "red"}
    assert error_of(rest.delete_deployment, restApiId=api_id, deploymentId=deployment["id"])[0] == (
        "BadRequestException"
    )
    rest.delete_stage(restApiId=api_id, stageName="prod")
    assert [s["stageName"] for s in rest.get_stages(restApiId=api_id)["item"]] == ["dev"]
    arn = f"arn:aws:apigateway:us-east-1::/restapis/{api_id}"
    rest.tag_resource(resourceArn=arn, tags={"k": "v"})
    assert rest.get_tags(resourceArn=arn)["tags"] == {"k": "v"}
    rest.untag_resource(resourceArn=arn, tagKeys=["k"])
    assert rest.get_tags(resourceArn=arn)["tags"] == {}


def test_errors_as_aws_words_them(rest: Any) -> None:
    assert error_of(rest.get_rest_api, restApiId="nope") == (
        "NotFoundException",
        "Invalid API identifier specified 000000000000:nope",
        404,
    )
    api = rest.create_rest_api(name="e")
    api_id, root = api["id"], api["rootResourceId"]
    assert error_of(rest.get_resource, restApiId=api_id, resourceId="x") == (
        "NotFoundException",
        "Invalid Resource identifier specified",
        404,
    )
    assert error_of(rest.get_method, restApiId=api_id, resourceId=root, httpMethod="GET") == (
        "NotFoundException",
        "Invalid Method identifier specified",
        404,
    )
    assert error_of(rest.get_stage, restApiId=api_id, stageName="x") == (
        "NotFoundException",
        "Invalid stage identifier specified",
        404,
    )
    # nothing to deploy yet
    assert error_of(rest.create_deployment, restApiId=api_id, stageName="dev") == (
        "BadRequestException",
        "The REST API doesn't contain any methods",
        400,
    )
    rest.create_resource(restApiId=api_id, parentId=root, pathPart="a")
    assert error_of(rest.create_resource, restApiId=api_id, parentId=root, pathPart="a")[0] == (
        "ConflictException"
    )
    rest.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    code, message, _ = error_of(
        rest.put_integration,
        restApiId=api_id,
        resourceId=root,
        httpMethod="GET",
        type="HTTP_PROXY",
        integrationHttpMethod="GET",
        uri="http://example.com",
    )
    assert code == "BadRequestException" and "AWS_PROXY" in message


SWAGGER = {
    "swagger": "2.0",
    "info": {"title": "imported", "version": "1.0"},
    "paths": {
        "/pets/{petId}": {
            "get": {
                "x-amazon-apigateway-integration": {
                    "type": "aws_proxy",
                    "httpMethod": "POST",
                    "uri": INVOCATIONS.format(f"{ARN}:echo"),
                }
            }
        },
        "/": {
            "x-amazon-apigateway-any-method": {
                "x-amazon-apigateway-integration": {
                    "type": "aws_proxy",
                    "httpMethod": "POST",
                    "uri": INVOCATIONS.format(f"{ARN}:echo"),
                }
            }
        },
    },
}


def test_import_and_put_rest_api(rest: Any, served: AsgiTransport) -> None:
    api = rest.import_rest_api(body=json.dumps(SWAGGER).encode())
    api_id = api["id"]
    assert api["name"] == "imported"
    paths = sorted(r["path"] for r in rest.get_resources(restApiId=api_id)["items"])
    assert paths == ["/", "/pets", "/pets/{petId}"]
    rest.create_deployment(restApiId=api_id, stageName="v1")
    status, _, body = send_to_api(served, api_id, "GET", "/v1/pets/12")
    assert status == 200 and json.loads(body)["pathParameters"] == {"petId": "12"}
    assert send_to_api(served, api_id, "DELETE", "/v1")[0] == 200  # ANY on the root
    changed = dict(SWAGGER, paths={"/toys": SWAGGER["paths"]["/pets/{petId}"]})
    rest.put_rest_api(restApiId=api_id, mode="overwrite", body=json.dumps(changed).encode())
    paths = sorted(r["path"] for r in rest.get_resources(restApiId=api_id)["items"])
    assert paths == ["/", "/toys"]
    assert send_to_api(served, api_id, "GET", "/v1/toys")[0] == 200
    assert send_to_api(served, api_id, "GET", "/v1/pets/12")[0] == 403


# -- serving --------------------------------------------------------------------------


def test_proxy_event_of_a_stage(rest: Any, served: AsgiTransport) -> None:
    api_id, ids = built_api(rest)
    status, headers, body = send_to_api(
        served, api_id, "GET", "/dev/items/7?a=1&a=2", headers={"x-h": "v"}
    )
    assert status == 200
    assert headers["x-echo"] == "yes" and headers["x-amzn-requestid"]
    event = json.loads(body)
    assert event["resource"] == "/items/{id}"
    assert event["path"] == "/items/7"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"id": "7"}
    assert event["stageVariables"] == {"env": "dev"}
    assert event["queryStringParameters"] == {"a": "2"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    assert event["headers"]["x-h"] == "v" and event["multiValueHeaders"]["x-h"] == ["v"]
    assert (event["body"], event["isBase64Encoded"]) == (None, False)
    context = event["requestContext"]
    assert context["stage"] == "dev"
    assert context["resourcePath"] == "/items/{id}"
    assert context["resourceId"] == ids["item"]
    assert context["path"] == "/dev/items/7"
    assert context["apiId"] == api_id
    assert context["requestId"] == headers["x-amzn-requestid"]


def test_repeated_headers_are_multi_value_headers(rest: Any, served: AsgiTransport) -> None:
    # payload 1.0: ``multiValueHeaders`` has every value in order, ``headers`` the last
    # (as ``queryStringParameters`` keeps a repeated parameter's last value)
    api_id, _ = built_api(rest)
    status, _, body = send_to_api(
        served,
        api_id,
        "GET",
        "/dev/items/7",
        headers=[("x-many", "a"), ("X-Many", "b"), ("cookie", "c1=1"), ("cookie", "c2=2")],
    )
    assert status == 200
    event = json.loads(body)
    assert event["multiValueHeaders"]["x-many"] == ["a", "b"]
    assert event["headers"]["x-many"] == "b"
    assert event["multiValueHeaders"]["cookie"] == ["c1=1", "c2=2"]
    assert event["multiValueHeaders"]["x-forwarded-proto"] == ["http"]


def test_resource_choice_and_misses(rest: Any, served: AsgiTransport) -> None:
    api_id, _ = built_api(rest)
    event = json.loads(send_to_api(served, api_id, "PUT", "/dev/some/where")[2])
    assert (event["resource"], event["pathParameters"]) == ("/{proxy+}", {"proxy": "some/where"})
    # /items has no method: the greedy resource answers
    assert (
        json.loads(send_to_api(served, api_id, "GET", "/dev/items")[2])["resource"] == "/{proxy+}"
    )
    status, _, body = send_to_api(served, api_id, "GET", "/nostage/items/1")
    assert (status, json.loads(body)) == (403, {"message": "Forbidden"})
    status, _, body = send_to_api(served, api_id, "GET", "/dev")
    assert (status, json.loads(body)) == (403, {"message": "Missing Authentication Token"})


def test_binary_bodies_and_errors(rest: Any, served: AsgiTransport) -> None:
    api_id, _ = built_api(rest)
    status, headers, body = send_to_api(
        served, api_id, "POST", "/dev/bin", b"\x89PNG", {"content-type": "image/png"}
    )
    assert (status, body) == (200, b"\x00\x89PNG")
    assert headers["content-type"] == "application/octet-stream"
    assert send_to_api(served, api_id, "GET", "/dev/fail")[::2] == (
        502,
        b'{"message": "Internal server error"}',
    )
    assert send_to_api(served, api_id, "GET", "/dev/bad")[0] == 502


def test_multi_value_response_headers(rest: Any, served: AsgiTransport, hw: Headwater) -> None:
    api_id, _ = built_api(rest)
    transport = AsgiTransport(create_app(hw))
    try:
        status, answered, _ = transport.send(
            "GET", f"http://{api_id}.execute-api.us-east-1.localhost:4599/dev/items/1", {}, b""
        )
    finally:
        transport.close()
    assert status == 200
    assert [v for k, v in answered if k.lower() == "x-many"] == ["a", "b"]


def test_path_form_and_refused_page(rest: Any, served: AsgiTransport) -> None:
    api_id, _ = built_api(rest)
    status, _, body = served.send(
        "GET", f"http://127.0.0.1:4599/_headwater/execute-api/{api_id}/dev/items/2", {}, b""
    )
    assert status == 200 and json.loads(body)["path"] == "/items/2"
    status, _, body = send_to_api(
        served, api_id, "GET", "/dev/items/2", headers={"origin": "http://evil.example"}
    )
    assert status == 403 and b"--cors-origin" in body


# -- MOCK integrations, method and integration responses ------------------------------

CORS_HEADERS = {
    "method.response.header.Access-Control-Allow-Origin": "'*'",
    "method.response.header.Access-Control-Allow-Methods": "'GET,OPTIONS'",
}


def mock_method(rest: Any, api_id: str, resource_id: str) -> None:
    """OPTIONS on ``resource_id``: a mock answering 200 with static CORS headers, and a
    418 for a request template asking for it."""
    address = {"restApiId": api_id, "resourceId": resource_id, "httpMethod": "OPTIONS"}
    rest.put_method(**address, authorizationType="NONE")
    made = rest.put_method_response(
        **address,
        statusCode="200",
        responseParameters={name: False for name in CORS_HEADERS},
    )
    assert made["statusCode"] == "200"
    made = rest.put_integration(
        **address,
        type="MOCK",
        requestTemplates={"application/json": '{"statusCode": 200}', "text/plain": "{}"},
    )
    assert made["type"] == "MOCK" and made["passthroughBehavior"] == "WHEN_NO_MATCH"
    assert made["requestTemplates"]["application/json"] == '{"statusCode": 200}'
    rest.put_integration_response(
        **address,
        statusCode="200",
        responseParameters=CORS_HEADERS,
        responseTemplates={"application/json": '{"ok": true}'},
    )
    rest.put_method_response(**address, statusCode="418")
    rest.put_integration_response(
        **address,
        statusCode="418",
        selectionPattern="4\\d\\d",
        responseTemplates={"text/plain": "teapot"},
    )


def test_method_and_integration_responses(rest: Any) -> None:
    api = rest.create_rest_api(name="m")
    api_id, root = api["id"], api["rootResourceId"]
    mock_method(rest, api_id, root)
    address = {"restApiId": api_id, "resourceId": root, "httpMethod": "OPTIONS"}
    got = rest.get_method_response(**address, statusCode="200")
    assert got["responseParameters"] == {name: False for name in CORS_HEADERS}
    got = rest.get_integration_response(**address, statusCode="418")
    assert (got["selectionPattern"], got["responseTemplates"]) == (
        "4\\d\\d",
        {"text/plain": "teapot"},
    )
    method = rest.get_method(**address)
    assert sorted(method["methodResponses"]) == ["200", "418"]
    assert sorted(method["methodIntegration"]["integrationResponses"]) == ["200", "418"]
    rest.delete_integration_response(**address, statusCode="418")
    rest.delete_method_response(**address, statusCode="418")
    missing = ("NotFoundException", "Invalid Response status code specified", 404)
    assert error_of(rest.get_integration_response, **address, statusCode="418") == missing
    assert error_of(rest.get_method_response, **address, statusCode="418") == missing
    assert error_of(rest.delete_method_response, **address, statusCode="418") == missing
    assert error_of(rest.put_method_response, **address, statusCode="99")[0] == (
        "BadRequestException"
    )
    get = dict(address, httpMethod="GET")
    assert error_of(rest.put_method_response, **get, statusCode="200")[1] == (
        "Invalid Method identifier specified"
    )
    rest.put_method(**get, authorizationType="NONE")
    assert error_of(rest.put_integration_response, **get, statusCode="200") == (
        "NotFoundException",
        "Invalid Integration identifier specified",
        404,
    )
    code, message, _ = error_of(
        rest.put_integration, **get, type="HTTP", integrationHttpMethod="GET", uri="http://x"
    )
    assert code == "BadRequestException" and "MOCK" in message


def test_mock_method_is_served(rest: Any, served: AsgiTransport) -> None:
    api = rest.create_rest_api(name="m")
    api_id, root = api["id"], api["rootResourceId"]
    mock_method(rest, api_id, root)
    rest.create_deployment(restApiId=api_id, stageName="dev")
    status, headers, body = send_to_api(served, api_id, "OPTIONS", "/dev")
    assert (status, body) == (200, b'{"ok": true}')
    assert headers["access-control-allow-origin"] == "*"
    assert headers["access-control-allow-methods"] == "GET,OPTIONS"
    assert headers["content-type"] == "application/json"
    # a request template asking for 418 selects the integration response by pattern
    rest.put_integration(
        restApiId=api_id,
        resourceId=root,
        httpMethod="OPTIONS",
        type="MOCK",
        requestTemplates={"application/json": '{"statusCode": 418}'},
    )
    status, headers, body = send_to_api(served, api_id, "OPTIONS", "/dev")
    assert (status, body, headers["content-type"]) == (418, b"teapot", "text/plain")
    # without it the default (no selection pattern) answers
    address = {"restApiId": api_id, "resourceId": root, "httpMethod": "OPTIONS"}
    rest.delete_integration_response(**address, statusCode="418")
    assert send_to_api(served, api_id, "OPTIONS", "/dev")[0] == 200
    # no integration response for the status: API Gateway's configuration error
    rest.delete_integration_response(**address, statusCode="200")
    status, _, body = send_to_api(served, api_id, "OPTIONS", "/dev")
    assert (status, json.loads(body)) == (500, {"message": "Internal server error"})


CORS_SWAGGER = {
    "swagger": "2.0",
    "info": {"title": "cors", "version": "1.0"},
    "paths": {
        "/items": {
            "get": {
                "x-amazon-apigateway-integration": {
                    "type": "aws_proxy",
                    "httpMethod": "POST",
                    "uri": INVOCATIONS.format(f"{ARN}:echo"),
                },
                "responses": {},
            },
            # what SAM writes for an Api with Cors
            "options": {
                "responses": {
                    "200": {
                        "description": "Default response for CORS method",
                        "headers": {
                            "Access-Control-Allow-Origin": {"type": "string"},
                            "Access-Control-Allow-Headers": {"type": "string"},
                        },
                    }
                },
                "x-amazon-apigateway-integration": {
                    "type": "mock",
                    "requestTemplates": {"application/json": '{\n  "statusCode" : 200\n}\n'},
                    "responses": {
                        "default": {
                            "statusCode": "200",
                            "responseTemplates": {"application/json": "{}\n"},
                            "responseParameters": {
                                "method.response.header.Access-Control-Allow-Origin": "'*'",
                                "method.response.header.Access-Control-Allow-Headers": (
                                    "'content-type'"
                                ),
                            },
                        }
                    },
                },
            },
        }
    },
}


def test_imported_mock_answers_a_preflight(rest: Any, served: AsgiTransport) -> None:
    api_id = rest.import_rest_api(body=json.dumps(CORS_SWAGGER).encode())["id"]
    items = next(r for r in rest.get_resources(restApiId=api_id)["items"] if r["path"] == "/items")
    method = rest.get_method(restApiId=api_id, resourceId=items["id"], httpMethod="OPTIONS")
    assert method["methodResponses"]["200"]["responseParameters"] == {
        "method.response.header.Access-Control-Allow-Origin": False,
        "method.response.header.Access-Control-Allow-Headers": False,
    }
    integration = method["methodIntegration"]
    assert integration["type"] == "MOCK"
    assert (
        integration["integrationResponses"]["200"]["responseParameters"][
            "method.response.header.Access-Control-Allow-Origin"
        ]
        == "'*'"
    )
    rest.create_deployment(restApiId=api_id, stageName="Prod")
    # the API's own page's preflight passes the server's browser checks, then the mock answers
    own = f"http://{api_id}.execute-api.us-east-1.localhost:4599"
    status, headers, body = send_to_api(
        served,
        api_id,
        "OPTIONS",
        "/Prod/items",
        headers={"origin": own, "access-control-request-method": "GET"},
    )
    assert (status, body) == (200, b"{}\n")
    assert headers["access-control-allow-origin"] == "*"
    assert headers["access-control-allow-headers"] == "content-type"
    # another origin is still refused by the server first
    status, _, body = send_to_api(
        served,
        api_id,
        "OPTIONS",
        "/Prod/items",
        headers={"origin": "http://evil.example", "access-control-request-method": "GET"},
    )
    assert status == 403 and b"--cors-origin" in body
    assert send_to_api(served, api_id, "GET", "/Prod/items")[0] == 200
    # other non-proxy integrations stay refused
    http_swagger = json.loads(json.dumps(CORS_SWAGGER))
    http_swagger["paths"]["/items"]["get"]["x-amazon-apigateway-integration"]["type"] = "http"
    code, message, _ = error_of(rest.import_rest_api, body=json.dumps(http_swagger).encode())
    assert code == "BadRequestException" and "'http'" in message
