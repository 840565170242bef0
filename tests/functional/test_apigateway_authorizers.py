"""Lambda authorizers: REST API TOKEN and REQUEST authorizers and HTTP API REQUEST
authorizers (payload formats 1.0 and 2.0, simple responses), their control plane through
boto3, and serving: the identity check, the authorizer event, the IAM policy's decision
for the method ARN, answers cached on the headwater clock, and the context the
integration gets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater import Headwater, ManualClock
from headwater.deploy.local import load_local_template
from headwater.server.asgi import create_app
from tests.asgi_boto import AsgiTransport, InProcessAws
from tests.functional.cfn_support import deploy, physical_ids
from tests.functional.lambda_proxy_support import (
    ARN,
    RUNTIME,
    create_functions,
    error_of,
    send_to_api,
    serving_headwater,
    write_sam_app,
)

INVOCATIONS = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{}/invocations"
ACCOUNT = "000000000000"

HANDLERS = """
import json
import os


def echo(event, context):
    return {"statusCode": 200, "body": json.dumps(event)}


def policy(effect, resource, context=None):
    answer = {
        "principalId": "user-1",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
            ],
        },
    }
    if context is not None:
        answer["context"] = context
    return answer


def token(event, context):
    said = event["authorizationToken"]
    if said == "allow":
        return policy("Allow", event["methodArn"], {"who": os.environ.get("WHO", "first"), "n": 7})
    if said == "deny":
        return policy("Deny", event["methodArn"])
    if said == "gets-only":
        return policy("Allow", event["methodArn"].split("/")[0] + "/*/GET/*")
    if said == "unauthorized":
        raise Exception("Unauthorized")
    if said == "nested":
        return policy("Allow", event["methodArn"], {"bad": {"no": "objects"}})
    if said == "shape":
        return {"nothing": "useful"}
    raise ValueError("boom")


def request(event, context):
    allowed = event["queryStringParameters"]["q"] == "ok"
    answer = policy("Allow" if allowed else "Deny", event["methodArn"], {"seen": json.dumps(event)})
    return answer


def simple(event, context):
    return {
        "isAuthorized": event["headers"].get("x-key") == "open",
        "context": {"event": json.dumps(event)},
    }


def http_policy(event, context):
    allowed = event["identitySource"] == "open"
    return policy("Allow" if allowed else "Deny", event["methodArn"], {"v": event["version"]})
"""
FUNCTIONS = ("echo", "token", "request", "simple", "http_policy")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def hw(tmp_path: Path, clock: ManualClock) -> Iterator[Headwater]:
    with serving_headwater(tmp_path, clock) as made:
        yield made


@pytest.fixture
def aws(hw: Headwater) -> Iterator[InProcessAws]:
    made = InProcessAws(hw)
    create_functions(made.client("lambda"), HANDLERS, FUNCTIONS)
    yield made
    made.close()


@pytest.fixture
def served(hw: Headwater) -> Iterator[AsgiTransport]:
    transport = AsgiTransport(create_app(hw))
    yield transport
    transport.close()


def uri(function: str) -> str:
    return INVOCATIONS.format(f"{ARN}:{function}")


def rest_api_behind(rest: Any, authorizer: dict[str, Any]) -> tuple[str, str, str]:
    """(api id, authorizer id, resource id): ``/items/{id}`` GET and POST -> echo behind
    ``authorizer``, on stage ``dev``."""
    api = rest.create_rest_api(name="guarded")
    api_id = api["id"]
    made = rest.create_authorizer(restApiId=api_id, **authorizer)
    items = rest.create_resource(restApiId=api_id, parentId=api["rootResourceId"], pathPart="items")
    item = rest.create_resource(restApiId=api_id, parentId=items["id"], pathPart="{id}")
    for verb in ("GET", "POST"):
        address = {"restApiId": api_id, "resourceId": item["id"], "httpMethod": verb}
        rest.put_method(**address, authorizationType="CUSTOM", authorizerId=made["id"])
        rest.put_integration(
            **address, type="AWS_PROXY", integrationHttpMethod="POST", uri=uri("echo")
        )
    rest.create_deployment(restApiId=api_id, stageName="dev")
    return api_id, made["id"], item["id"]


TOKEN_AUTHORIZER = {
    "name": "tok",
    "type": "TOKEN",
    "authorizerUri": uri("token"),
    "identitySource": "method.request.header.Authorization",
}


def call(
    served: AsgiTransport, api_id: str, path: str, method: str = "GET", **headers: str
) -> tuple[int, Any]:
    status, _, body = send_to_api(served, api_id, method, path, headers=headers)
    return status, json.loads(body) if body else None


# -- REST APIs ------------------------------------------------------------------------


def test_rest_authorizers_control_plane(aws: InProcessAws) -> None:
    rest = aws.client("apigateway")
    api_id, authorizer_id, item = rest_api_behind(rest, TOKEN_AUTHORIZER)
    got = rest.get_authorizer(restApiId=api_id, authorizerId=authorizer_id)
    assert (got["name"], got["type"], got["authorizerResultTtlInSeconds"]) == ("tok", "TOKEN", 300)
    assert got["identitySource"] == "method.request.header.Authorization"
    assert [a["id"] for a in rest.get_authorizers(restApiId=api_id)["items"]] == [authorizer_id]
    updated = rest.update_authorizer(
        restApiId=api_id,
        authorizerId=authorizer_id,
        patchOperations=[{"op": "replace", "path": "/authorizerResultTtlInSeconds", "value": "0"}],
    )
    assert updated["authorizerResultTtlInSeconds"] == 0
    method = rest.get_method(restApiId=api_id, resourceId=item, httpMethod="GET")
    assert (method["authorizationType"], method["authorizerId"]) == ("CUSTOM", authorizer_id)
    address = {"restApiId": api_id, "resourceId": item, "httpMethod": "GET"}
    opened = rest.update_method(
        **address,
        patchOperations=[{"op": "replace", "path": "/authorizationType", "value": "NONE"}],
    )
    assert opened["authorizationType"] == "NONE" and "authorizerId" not in opened
    code, message, _ = error_of(
        rest.update_method,
        **address,
        patchOperations=[{"op": "replace", "path": "/authorizationType", "value": "CUSTOM"}],
    )
    assert code == "BadRequestException" and message.startswith("Invalid authorizer ID")
    rest.update_method(
        **address,
        patchOperations=[
            {"op": "replace", "path": "/authorizationType", "value": "CUSTOM"},
            {"op": "replace", "path": "/authorizerId", "value": authorizer_id},
        ],
    )
    assert error_of(rest.get_authorizer, restApiId=api_id, authorizerId="nope") == (
        "NotFoundException",
        "Invalid Authorizer identifier specified",
        404,
    )
    assert error_of(rest.delete_authorizer, restApiId=api_id, authorizerId=authorizer_id)[0] == (
        "ConflictException"
    )
    for bad in (
        {"type": "SOMETHING"},
        {"authorizerResultTtlInSeconds": 3601},
        {"identitySource": "method.request.header.A,method.request.header.B"},
        {"identitySource": "$request.header.A"},
        {"authorizerUri": ""},
    ):
        params = {**TOKEN_AUTHORIZER, **bad}
        assert error_of(rest.create_authorizer, restApiId=api_id, **params)[0] == (
            "BadRequestException"
        ), bad
    root = rest.get_rest_api(restApiId=api_id)["rootResourceId"]
    code, message, _ = error_of(
        rest.put_method,
        restApiId=api_id,
        resourceId=root,
        httpMethod="GET",
        authorizationType="CUSTOM",
        authorizerId="nope",
    )
    assert code == "BadRequestException" and message.startswith("Invalid authorizer ID")
    rest.delete_method(restApiId=api_id, resourceId=item, httpMethod="GET")
    rest.delete_method(restApiId=api_id, resourceId=item, httpMethod="POST")
    rest.delete_authorizer(restApiId=api_id, authorizerId=authorizer_id)
    assert rest.get_authorizers(restApiId=api_id)["items"] == []


def test_token_authorizer_decides(aws: InProcessAws, served: AsgiTransport) -> None:
    api_id, _, _ = rest_api_behind(aws.client("apigateway"), TOKEN_AUTHORIZER)
    status, event = call(served, api_id, "/dev/items/1", authorization="allow")
    assert status == 200
    assert event["requestContext"]["authorizer"] == {
        "who": "first",
        "n": 7,
        "principalId": "user-1",
        "integrationLatency": 0,
    }
    assert call(served, api_id, "/dev/items/1") == (401, {"message": "Unauthorized"})
    assert call(served, api_id, "/dev/items/1", authorization="unauthorized") == (
        401,
        {"message": "Unauthorized"},
    )
    assert call(served, api_id, "/dev/items/1", authorization="deny") == (
        403,
        {"Message": "User is not authorized to access this resource with an explicit deny"},
    )
    # a wildcard policy: GETs anywhere in the API, nothing else
    assert call(served, api_id, "/dev/items/2", authorization="gets-only")[0] == 200
    assert call(served, api_id, "/dev/items/2", "POST", authorization="gets-only") == (
        403,
        {"Message": "User is not authorized to access this resource"},
    )
    for broken in ("boom", "shape", "nested"):
        assert call(served, api_id, "/dev/items/1", authorization=broken) == (
            500,
            {"message": None},
        ), broken


def test_token_answers_are_cached_on_the_clock(
    aws: InProcessAws, served: AsgiTransport, clock: ManualClock
) -> None:
    api_id, _, _ = rest_api_behind(aws.client("apigateway"), TOKEN_AUTHORIZER)
    who = lambda: call(served, api_id, "/dev/items/1", authorization="allow")[1][  # noqa: E731
        "requestContext"
    ]["authorizer"]["who"]
    assert who() == "first"
    aws.client("lambda").update_function_configuration(
        FunctionName="token", Environment={"Variables": {"WHO": "second"}}
    )
    clock.advance(299)
    assert who() == "first"  # the cached answer, within the TTL
    clock.advance(2)
    assert who() == "second"


def test_request_authorizer_reads_its_identity_sources(
    aws: InProcessAws, served: AsgiTransport
) -> None:
    api_id, _, _ = rest_api_behind(
        aws.client("apigateway"),
        {
            "name": "req",
            "type": "REQUEST",
            "authorizerUri": uri("request"),
            "identitySource": "method.request.header.X-Key, method.request.querystring.q",
            "authorizerResultTtlInSeconds": 0,
        },
    )
    status, event = call(served, api_id, "/dev/items/5?q=ok", **{"x-key": "k"})
    assert status == 200
    seen = json.loads(event["requestContext"]["authorizer"]["seen"])
    assert seen["type"] == "REQUEST"
    assert seen["methodArn"] == f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/dev/GET/items/5"
    assert seen["headers"]["x-key"] == "k"
    assert seen["queryStringParameters"] == {"q": "ok"}
    assert seen["pathParameters"] == {"id": "5"}
    assert seen["resource"] == "/items/{id}"
    assert seen["requestContext"]["stage"] == "dev"
    assert call(served, api_id, "/dev/items/5?q=no", **{"x-key": "k"})[0] == 403
    # an identity source missing: 401 without calling the function
    assert call(served, api_id, "/dev/items/5?q=ok")[0] == 401


# -- HTTP APIs ------------------------------------------------------------------------


def http_api_behind(apis: Any, authorizer: dict[str, Any], payload: str = "2.0") -> str:
    api_id = apis.create_api(Name="guarded", ProtocolType="HTTP")["ApiId"]
    made = apis.create_authorizer(ApiId=api_id, **authorizer)
    integration = apis.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=f"{ARN}:echo",
        PayloadFormatVersion=payload,
    )
    apis.create_route(
        ApiId=api_id,
        RouteKey="GET /items/{id}",
        Target=f"integrations/{integration['IntegrationId']}",
        AuthorizationType="JWT" if authorizer["AuthorizerType"] == "JWT" else "CUSTOM",
        AuthorizerId=made["AuthorizerId"],
    )
    apis.create_stage(ApiId=api_id, StageName="$default")
    return api_id


def test_http_api_simple_responses(aws: InProcessAws, served: AsgiTransport) -> None:
    apis = aws.client("apigatewayv2")
    api_id = http_api_behind(
        apis,
        {
            "Name": "simple",
            "AuthorizerType": "REQUEST",
            "AuthorizerUri": uri("simple"),
            "AuthorizerPayloadFormatVersion": "2.0",
            "EnableSimpleResponses": True,
            "IdentitySource": ["$request.header.x-key"],
        },
    )
    (stored,) = apis.get_authorizers(ApiId=api_id)["Items"]
    assert stored["EnableSimpleResponses"] is True and stored["Name"] == "simple"
    status, event = call(served, api_id, "/items/3", **{"x-key": "open"})
    assert status == 200
    seen = json.loads(event["requestContext"]["authorizer"]["lambda"]["event"])
    assert (seen["version"], seen["type"], seen["identitySource"]) == ("2.0", "REQUEST", ["open"])
    assert (
        seen["routeArn"] == f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/$default/GET/items/3"
    )
    assert seen["routeKey"] == "GET /items/{id}" and seen["pathParameters"] == {"id": "3"}
    assert call(served, api_id, "/items/3", **{"x-key": "shut"}) == (403, {"message": "Forbidden"})
    assert call(served, api_id, "/items/3") == (401, {"message": "Unauthorized"})


def test_http_api_policy_responses_payload_1(aws: InProcessAws, served: AsgiTransport) -> None:
    apis = aws.client("apigatewayv2")
    api_id = http_api_behind(
        apis,
        {
            "Name": "policy",
            "AuthorizerType": "REQUEST",
            "AuthorizerUri": uri("http_policy"),
            "AuthorizerPayloadFormatVersion": "1.0",
            "IdentitySource": ["$request.header.x-key"],
            "AuthorizerResultTtlInSeconds": 60,
        },
        payload="1.0",
    )
    status, event = call(served, api_id, "/items/3", **{"x-key": "open"})
    assert status == 200
    authorizer = event["requestContext"]["authorizer"]
    assert (authorizer["v"], authorizer["principalId"]) == ("1.0", "user-1")
    assert call(served, api_id, "/items/3", **{"x-key": "shut"})[0] == 403


def test_http_api_authorizer_errors_and_jwt(aws: InProcessAws, served: AsgiTransport) -> None:
    apis = aws.client("apigatewayv2")
    api_id = apis.create_api(Name="e", ProtocolType="HTTP")["ApiId"]
    request = {
        "Name": "r",
        "AuthorizerType": "REQUEST",
        "AuthorizerUri": uri("simple"),
        "AuthorizerPayloadFormatVersion": "2.0",
        "IdentitySource": ["$request.header.x-key"],
    }
    for bad in (
        {"AuthorizerPayloadFormatVersion": "3.0"},
        {"AuthorizerPayloadFormatVersion": "1.0", "EnableSimpleResponses": True},
        {"IdentitySource": ["method.request.header.x"]},
        {"AuthorizerType": "TOKEN"},
        {"AuthorizerResultTtlInSeconds": 300, "IdentitySource": []},
    ):
        assert error_of(apis.create_authorizer, ApiId=api_id, **{**request, **bad})[0] == (
            "BadRequestException"
        ), bad
    assert error_of(apis.get_authorizer, ApiId=api_id, AuthorizerId="nope") == (
        "NotFoundException",
        f"Invalid Authorizer identifier specified {ACCOUNT}:nope",
        404,
    )
    made = apis.create_authorizer(ApiId=api_id, **request)
    updated = apis.update_authorizer(
        ApiId=api_id, AuthorizerId=made["AuthorizerId"], IdentitySource=["$request.header.y"]
    )
    assert updated["IdentitySource"] == ["$request.header.y"]
    assert error_of(apis.create_route, ApiId=api_id, RouteKey="GET /x", AuthorizationType="CUSTOM")[
        0
    ] == ("BadRequestException")
    apis.delete_authorizer(ApiId=api_id, AuthorizerId=made["AuthorizerId"])
    # a JWT authorizer whose issuer's keys cannot be fetched (nothing listens on port 9):
    # the token is refused with the challenge (tests/functional/test_apigateway_jwt_authorizers.py
    # runs JWT authorizers in full)
    jwt_api = http_api_behind(
        apis,
        {
            "Name": "jwt",
            "AuthorizerType": "JWT",
            "IdentitySource": ["$request.header.Authorization"],
            "JwtConfiguration": {"Issuer": "http://127.0.0.1:9/issuer", "Audience": ["a"]},
        },
    )
    status, headers, body = send_to_api(
        served, jwt_api, "GET", "/items/1", headers={"authorization": "Bearer x.y.z"}
    )
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    assert 'error="invalid_token"' in headers["www-authenticate"]


# -- deploys --------------------------------------------------------------------------

SAM_SOURCE = """
import json


def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event["requestContext"].get("authorizer"))}


def token(event, context):
    effect = "Allow" if event["authorizationToken"] == "let-me-in" else "Deny"
    return {
        "principalId": "sam-user",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}
            ],
        },
    }


def simple(event, context):
    return {"isAuthorized": event["headers"].get("authorization") == "let-me-in"}
"""

SAM_LINES = """      Events:
        Rest:
          Type: Api
          Properties: {Path: /guarded, Method: get, RestApiId: !Ref Rest}
        Open:
          Type: Api
          Properties:
            Path: /open
            Method: get
            RestApiId: !Ref Rest
            Auth: {Authorizer: NONE}
        Http:
          Type: HttpApi
          Properties: {Path: /guarded, Method: get, ApiId: !Ref Http}
  Token:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.token
      Runtime: {runtime}
  Simple:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.simple
      Runtime: {runtime}
  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: Prod
      Auth:
        DefaultAuthorizer: Tok
        Authorizers:
          Tok:
            FunctionArn: !GetAtt Token.Arn
            Identity: {Header: Authorization, ReauthorizeEvery: 0}
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Simple
        Authorizers:
          Simple:
            FunctionArn: !GetAtt Simple.Arn
            AuthorizerPayloadFormatVersion: "2.0"
            EnableSimpleResponses: true
            Identity: {Headers: [Authorization]}
"""


def test_sam_auth_on_api_and_http_api(hw: Headwater, tmp_path: Path) -> None:
    template = write_sam_app(
        tmp_path,
        SAM_SOURCE,
        "sam-auth",
        SAM_LINES.replace("{runtime}", RUNTIME),
        "  Nothing:\n    Value: none\n",
    )
    local = load_local_template(template, {}, region="us-east-1")
    assert deploy(hw, "sam-auth", local.document) == "CREATE_COMPLETE"
    ids = physical_ids(hw, "sam-auth")
    rest_id, http_id = ids["Rest"], ids["Http"]
    (authorizer,) = hw.client("apigateway").get_authorizers(restApiId=rest_id)["items"]
    assert (authorizer["name"], authorizer["type"]) == ("Tok", "TOKEN")
    assert authorizer["identitySource"] == "method.request.header.Authorization"
    transport = AsgiTransport(create_app(hw))
    try:
        status, body = call(transport, rest_id, "/Prod/guarded", authorization="let-me-in")
        assert (status, body["principalId"]) == (200, "sam-user")
        assert call(transport, rest_id, "/Prod/guarded", authorization="no")[0] == 403
        assert call(transport, rest_id, "/Prod/guarded")[0] == 401
        assert call(transport, rest_id, "/Prod/open") == (200, None)  # Authorizer: NONE
        status, body = call(transport, http_id, "/guarded", authorization="let-me-in")
        assert (status, body) == (200, {"lambda": {}})
        assert call(transport, http_id, "/guarded", authorization="no")[0] == 403
        assert call(transport, http_id, "/guarded")[0] == 401
    finally:
        transport.close()


def test_authorizer_resources(aws: InProcessAws, hw: Headwater, served: AsgiTransport) -> None:
    document: dict[str, Any] = {
        "Resources": {
            "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "cfn-auth"}},
            "Auth": {
                "Type": "AWS::ApiGateway::Authorizer",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "Name": "tok",
                    "Type": "TOKEN",
                    "AuthorizerUri": uri("token"),
                    "IdentitySource": "method.request.header.Authorization",
                    "AuthorizerResultTtlInSeconds": 0,
                },
            },
            "Get": {
                "Type": "AWS::ApiGateway::Method",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "ResourceId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                    "HttpMethod": "GET",
                    "AuthorizationType": "CUSTOM",
                    "AuthorizerId": {"Ref": "Auth"},
                    "Integration": {
                        "Type": "AWS_PROXY",
                        "IntegrationHttpMethod": "POST",
                        "Uri": uri("echo"),
                    },
                },
            },
            "Deployment": {
                "Type": "AWS::ApiGateway::Deployment",
                "DependsOn": ["Get"],
                "Properties": {"RestApiId": {"Ref": "Api"}, "StageName": "v1"},
            },
            "Http": {
                "Type": "AWS::ApiGatewayV2::Api",
                "Properties": {"Name": "cfn-http-auth", "ProtocolType": "HTTP"},
            },
            "HttpAuth": {
                "Type": "AWS::ApiGatewayV2::Authorizer",
                "Properties": {
                    "ApiId": {"Ref": "Http"},
                    "Name": "simple",
                    "AuthorizerType": "REQUEST",
                    "AuthorizerUri": uri("simple"),
                    "AuthorizerPayloadFormatVersion": "2.0",
                    "EnableSimpleResponses": True,
                    "IdentitySource": ["$request.header.x-key"],
                },
            },
        }
    }
    assert deploy(hw, "cfn-auth", document) == "CREATE_COMPLETE"
    ids = physical_ids(hw, "cfn-auth")
    assert call(served, ids["Api"], "/v1", authorization="allow")[0] == 200
    assert call(served, ids["Api"], "/v1", authorization="deny")[0] == 403
    got = aws.client("apigatewayv2").get_authorizer(ApiId=ids["Http"], AuthorizerId=ids["HttpAuth"])
    assert got["EnableSimpleResponses"] is True
    # an update patches the authorizer in place
    document["Resources"]["Auth"]["Properties"]["AuthorizerResultTtlInSeconds"] = 60
    assert deploy(hw, "cfn-auth", document) == "UPDATE_COMPLETE"
    got = aws.client("apigateway").get_authorizer(restApiId=ids["Api"], authorizerId=ids["Auth"])
    assert got["authorizerResultTtlInSeconds"] == 60
    assert call(served, ids["Api"], "/v1")[0] == 401
    # the method opened in place
    get = document["Resources"]["Get"]["Properties"]
    get["AuthorizationType"] = "NONE"
    del get["AuthorizerId"]
    assert deploy(hw, "cfn-auth", document) == "UPDATE_COMPLETE"
    assert call(served, ids["Api"], "/v1")[0] == 200
    hw.client("cloudformation").delete_stack(StackName="cfn-auth")
    assert hw.client("apigateway").get_rest_apis()["items"] == []


def test_openapi_security_schemes_import(aws: InProcessAws, served: AsgiTransport) -> None:
    apis = aws.client("apigatewayv2")
    integration = {"type": "aws_proxy", "uri": uri("echo"), "payloadFormatVersion": "2.0"}
    definition = {
        "openapi": "3.0.1",
        "info": {"title": "secured", "version": "1"},
        "security": [{"lambda": []}],
        "paths": {
            "/default": {"get": {"x-amazon-apigateway-integration": integration}},
            "/jwt": {
                "get": {
                    "security": [{"jwt": ["read"]}],
                    "x-amazon-apigateway-integration": integration,
                }
            },
        },
        "components": {
            "securitySchemes": {
                "lambda": {
                    "type": "apiKey",
                    "name": "Unused",
                    "in": "header",
                    "x-amazon-apigateway-authorizer": {
                        "type": "request",
                        "authorizerUri": uri("simple"),
                        "identitySource": ["$request.header.x-key"],
                        "authorizerPayloadFormatVersion": 2.0,
                        "enableSimpleResponses": True,
                    },
                },
                "jwt": {
                    "type": "oauth2",
                    "x-amazon-apigateway-authorizer": {
                        "type": "jwt",
                        "identitySource": "$request.header.Authorization",
                        "jwtConfiguration": {"issuer": "https://issuer.example", "audience": "a"},
                    },
                },
            }
        },
    }
    api_id = apis.import_api(Body=json.dumps(definition))["ApiId"]
    apis.create_stage(ApiId=api_id, StageName="$default")
    authorizers = {a["Name"]: a for a in apis.get_authorizers(ApiId=api_id)["Items"]}
    assert authorizers["lambda"]["AuthorizerPayloadFormatVersion"] == "2.0"
    assert authorizers["jwt"]["JwtConfiguration"] == {
        "Issuer": "https://issuer.example",
        "Audience": ["a"],
    }
    routes = {r["RouteKey"]: r for r in apis.get_routes(ApiId=api_id)["Items"]}
    assert routes["GET /default"]["AuthorizationType"] == "CUSTOM"
    assert routes["GET /jwt"]["AuthorizationType"] == "JWT"
    assert routes["GET /jwt"]["AuthorizationScopes"] == ["read"]
    assert call(served, api_id, "/default", **{"x-key": "open"})[0] == 200
    assert call(served, api_id, "/default", **{"x-key": "shut"})[0] == 403
    # a reimport keeps the authorizer's id (its name is the same)
    before = authorizers["lambda"]["AuthorizerId"]
    apis.reimport_api(ApiId=api_id, Body=json.dumps(definition))
    after = {a["Name"]: a for a in apis.get_authorizers(ApiId=api_id)["Items"]}
    assert after["lambda"]["AuthorizerId"] == before


def test_test_invoke_authorizer(aws: InProcessAws) -> None:
    rest = aws.client("apigateway")
    api_id, authorizer_id, _ = rest_api_behind(rest, TOKEN_AUTHORIZER)
    test = {"restApiId": api_id, "authorizerId": authorizer_id, "pathWithQueryString": "/items/1"}
    allowed = rest.test_invoke_authorizer(**test, headers={"Authorization": "allow"})
    assert (allowed["clientStatus"], allowed["principalId"]) == (200, "user-1")
    (statement,) = json.loads(allowed["policy"])["Statement"]
    assert statement["Resource"] == (
        f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/test-invoke-stage/GET/items/1"
    )
    for token, status in (("deny", 403), (None, 401), ("boom", 500)):
        headers = {"Authorization": token} if token else {}
        assert rest.test_invoke_authorizer(**test, headers=headers)["clientStatus"] == status
