"""API Gateway on ``headwater serve`` as a process, over real HTTP/1.1 sockets: an HTTP
API made with boto3 answers by host (sent as a Host header to 127.0.0.1: ``*.localhost``
names may not resolve where the test runs; AWS's own ``*.amazonaws.com`` name too) and by
path, its handler calling the server back while its request waits; a page's request is
refused; a REST API imported from Swagger answers under its stage, behind its Lambda
authorizer, and its MOCK preflight answers without a function."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conformance.server_process import (
    ServerProcess,
    boto_client,
    headwater_server,
    request_over_http,
    zip_of,
)

pytestmark = pytest.mark.integration

REGION = "us-west-2"
ROLE = "arn:aws:iam::000000000000:role/lambda-role"
HANDLER = """
import json
import boto3

def handler(event, context):
    queue = boto3.client("sqs").get_queue_url(QueueName="asked")["QueueUrl"]
    return {
        "statusCode": 201,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({
            "route": event.get("routeKey") or event["resource"],
            "params": event.get("pathParameters"),
            "body": event.get("body"),
            "queue": queue,
        }),
    }
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with headwater_server(tmp_path_factory.mktemp("httpapi")) as running:
        yield running


@pytest.fixture(scope="module")
def endpoint(server: ServerProcess) -> str:
    boto_client(server.endpoint, "sqs", REGION).create_queue(QueueName="asked")
    lam = boto_client(server.endpoint, "lambda", REGION)
    made = lam.create_function(
        FunctionName="web",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of(HANDLER)},
    )
    apis = boto_client(server.endpoint, "apigatewayv2", REGION)
    api = apis.create_api(
        Name="web",
        ProtocolType="HTTP",
        Target=made["FunctionArn"],
        RouteKey="POST /orders/{id}",
    )
    return str(api["ApiEndpoint"])


def test_the_host_forms_answer_over_http(server: ServerProcess, endpoint: str) -> None:
    parts = urlsplit(endpoint)
    assert parts.hostname is not None
    assert parts.hostname.endswith(".execute-api.us-west-2.localhost")
    assert parts.port == urlsplit(server.endpoint).port
    headers = {"Host": parts.netloc, "Content-Type": "text/plain"}
    status, answered, _, body = request_over_http(server, "POST", "/orders/7", headers, b"hi")
    assert status == 201, body
    event: dict[str, Any] = json.loads(body)
    assert (event["route"], event["params"], event["body"]) == (
        "POST /orders/{id}",
        {"id": "7"},
        "hi",
    )
    assert event["queue"].endswith("/asked")  # the handler called the server back
    assert answered["apigw-requestid"]
    api_id = parts.hostname.split(".", 1)[0]
    aws_host = {"Host": f"{api_id}.execute-api.us-west-2.amazonaws.com"}
    assert request_over_http(server, "POST", "/orders/8", aws_host)[0] == 201
    status, _, _, body = request_over_http(server, "GET", "/orders/7", {"Host": parts.netloc})
    assert (status, json.loads(body)) == (404, {"message": "Not Found"})


def test_the_path_form_and_a_refused_page(server: ServerProcess, endpoint: str) -> None:
    api_id = urlsplit(endpoint).hostname.split(".", 1)[0]  # type: ignore[union-attr]
    path = f"/_headwater/execute-api/{api_id}/orders/3"
    status, _, _, body = request_over_http(server, "POST", path, {})
    assert status == 201 and json.loads(body)["params"] == {"id": "3"}
    status, _, _, body = request_over_http(
        server, "POST", path, {"Origin": "http://evil.example"}, b"{}"
    )
    assert status == 403
    assert "--cors-origin" in json.loads(body)["message"]


def test_a_rest_api_answers_under_its_stage(server: ServerProcess, endpoint: str) -> None:
    lam = boto_client(server.endpoint, "lambda", REGION)
    function_arn = lam.get_function(FunctionName="web")["Configuration"]["FunctionArn"]
    uri = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    swagger = {
        "swagger": "2.0",
        "info": {"title": "rest", "version": "1"},
        "paths": {
            "/orders/{id}": {
                "post": {
                    "x-amazon-apigateway-integration": {
                        "type": "aws_proxy",
                        "httpMethod": "POST",
                        "uri": uri,
                    }
                }
            }
        },
    }
    rest = boto_client(server.endpoint, "apigateway", REGION)
    api_id = rest.import_rest_api(body=json.dumps(swagger).encode())["id"]
    rest.create_deployment(restApiId=api_id, stageName="Prod")
    host = {"Host": f"{api_id}.execute-api.{REGION}.localhost:{urlsplit(server.endpoint).port}"}
    status, answered, _, body = request_over_http(server, "POST", "/Prod/orders/9", host, b"x")
    assert status == 201, body
    event = json.loads(body)
    assert (event["route"], event["params"], event["body"]) == ("/orders/{id}", {"id": "9"}, "x")
    assert event["queue"].endswith("/asked")
    assert answered["x-amzn-requestid"]
    status, _, _, body = request_over_http(server, "POST", "/Prod/nothing", host)
    assert (status, json.loads(body)) == (403, {"message": "Missing Authentication Token"})


GATE = """
def handler(event, context):
    if event["authorizationToken"] == "broken":
        raise ValueError("no")
    effect = "Allow" if event["authorizationToken"] == "open" else "Deny"
    return {
        "principalId": "me",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}
            ],
        },
    }
"""


def test_a_rest_api_behind_a_lambda_authorizer(server: ServerProcess, endpoint: str) -> None:
    lam = boto_client(server.endpoint, "lambda", REGION)
    web = lam.get_function(FunctionName="web")["Configuration"]["FunctionArn"]
    gate = lam.create_function(
        FunctionName="gate",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of(GATE)},
    )["FunctionArn"]
    invocations = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{{}}/invocations"
    swagger = {
        "swagger": "2.0",
        "info": {"title": "guarded", "version": "1"},
        "securityDefinitions": {
            "gate": {
                "type": "apiKey",
                "name": "Authorization",
                "in": "header",
                "x-amazon-apigateway-authtype": "custom",
                "x-amazon-apigateway-authorizer": {
                    "type": "token",
                    "authorizerUri": invocations.format(gate),
                    "authorizerResultTtlInSeconds": 0,
                },
            }
        },
        "paths": {
            "/orders/{id}": {
                "post": {
                    "security": [{"gate": []}],
                    "x-amazon-apigateway-integration": {
                        "type": "aws_proxy",
                        "httpMethod": "POST",
                        "uri": invocations.format(web),
                    },
                },
                "options": {
                    "responses": {"204": {"headers": {"Access-Control-Allow-Origin": {}}}},
                    "x-amazon-apigateway-integration": {
                        "type": "mock",
                        "requestTemplates": {"application/json": '{"statusCode": 204}'},
                        "responses": {
                            "default": {
                                "statusCode": "204",
                                "responseParameters": {
                                    "method.response.header.Access-Control-Allow-Origin": "'*'"
                                },
                            }
                        },
                    },
                },
            }
        },
    }
    rest = boto_client(server.endpoint, "apigateway", REGION)
    api_id = rest.import_rest_api(body=json.dumps(swagger).encode())["id"]
    rest.create_deployment(restApiId=api_id, stageName="Prod")
    host = {"Host": f"{api_id}.execute-api.{REGION}.localhost:{urlsplit(server.endpoint).port}"}
    path = "/Prod/orders/4"
    status, answered, _, body = request_over_http(server, "POST", path, host)
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    assert answered["x-amzn-errortype"] == "UnauthorizedException"
    status, _, _, body = request_over_http(server, "POST", path, {**host, "Authorization": "open"})
    assert status == 201 and json.loads(body)["params"] == {"id": "4"}
    status, answered, _, _ = request_over_http(
        server, "POST", path, {**host, "Authorization": "closed"}
    )
    assert (status, answered["x-amzn-errortype"]) == (403, "AccessDeniedException")
    status, _, _, body = request_over_http(
        server, "POST", path, {**host, "Authorization": "broken"}
    )
    assert (status, json.loads(body)) == (500, {"message": None})
    status, answered, _, _ = request_over_http(server, "OPTIONS", path, host)
    assert (status, answered["access-control-allow-origin"]) == (204, "*")


def test_apis_behind_a_user_pool(server: ServerProcess, endpoint: str) -> None:
    """A user signs in to a pool of the server, and its tokens open a REST API's Cognito
    authorizer (Swagger ``cognito_user_pools``) and an HTTP API's JWT authorizer."""
    idp = boto_client(server.endpoint, "cognito-idp", REGION)
    pool = idp.create_user_pool(PoolName="wire")["UserPool"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool["Id"], ClientName="web", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool["Id"], Username="ann", MessageAction="SUPPRESS")
    idp.admin_set_user_password(
        UserPoolId=pool["Id"], Username="ann", Password="Corr3ct-horse", Permanent=True
    )
    tokens = idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ann", "PASSWORD": "Corr3ct-horse"},
    )["AuthenticationResult"]
    web = boto_client(server.endpoint, "lambda", REGION).get_function(FunctionName="web")
    function = web["Configuration"]["FunctionArn"]
    invocations = (
        f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function}/invocations"
    )
    swagger = {
        "swagger": "2.0",
        "info": {"title": "pool-guarded", "version": "1"},
        "securityDefinitions": {
            "pool": {
                "type": "apiKey",
                "name": "Authorization",
                "in": "header",
                "x-amazon-apigateway-authtype": "cognito_user_pools",
                "x-amazon-apigateway-authorizer": {
                    "type": "cognito_user_pools",
                    "providerARNs": [pool["Arn"]],
                },
            }
        },
        "paths": {
            "/orders/{id}": {
                "post": {
                    "security": [{"pool": []}],
                    "x-amazon-apigateway-integration": {
                        "type": "aws_proxy",
                        "httpMethod": "POST",
                        "uri": invocations,
                    },
                }
            }
        },
    }
    rest = boto_client(server.endpoint, "apigateway", REGION)
    rest_id = rest.import_rest_api(body=json.dumps(swagger).encode())["id"]
    rest.create_deployment(restApiId=rest_id, stageName="Prod")
    port = urlsplit(server.endpoint).port
    host = {"Host": f"{rest_id}.execute-api.{REGION}.localhost:{port}"}
    status, answered, _, body = request_over_http(server, "POST", "/Prod/orders/5", host)
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    assert answered["x-amzn-errortype"] == "UnauthorizedException"
    signed = {**host, "Authorization": tokens["IdToken"]}
    assert request_over_http(server, "POST", "/Prod/orders/5", signed)[0] == 201
    apis = boto_client(server.endpoint, "apigatewayv2", REGION)
    http_id = apis.create_api(Name="jwt", ProtocolType="HTTP")["ApiId"]
    authorizer = apis.create_authorizer(
        ApiId=http_id,
        Name="pool",
        AuthorizerType="JWT",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={
            "Issuer": f"https://cognito-idp.{REGION}.amazonaws.com/{pool['Id']}",
            "Audience": [client_id],
        },
    )
    integration = apis.create_integration(
        ApiId=http_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=function,
        PayloadFormatVersion="2.0",
    )
    apis.create_route(
        ApiId=http_id,
        RouteKey="POST /orders/{id}",
        Target=f"integrations/{integration['IntegrationId']}",
        AuthorizationType="JWT",
        AuthorizerId=authorizer["AuthorizerId"],
    )
    apis.create_stage(ApiId=http_id, StageName="$default")
    host = {"Host": f"{http_id}.execute-api.{REGION}.localhost:{port}"}
    bearer = {**host, "Authorization": "Bearer " + tokens["AccessToken"]}
    assert request_over_http(server, "POST", "/orders/6", bearer)[0] == 201
    status, answered, _, _ = request_over_http(
        server, "POST", "/orders/6", {**host, "Authorization": "Bearer x.y.z"}
    )
    assert status == 401 and answered["www-authenticate"].startswith('Bearer scope=""')
