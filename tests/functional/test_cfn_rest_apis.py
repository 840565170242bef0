"""AWS::ApiGateway::* and SAM's Api events: deployed REST APIs are served."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater
from headwater.deploy.local import load_local_template
from headwater.server.asgi import create_app
from tests.asgi_boto import AsgiTransport
from tests.functional.cfn_support import deploy, outputs_of, physical_ids
from tests.functional.lambda_proxy_support import (
    ARN,
    create_handler_function,
    get_once,
    serving_headwater,
    write_sam_app,
)

SOURCE = (
    "import json\n"
    "def handler(event, context):\n"
    "    return {'statusCode': 200, 'body': json.dumps({'resource': event['resource'],\n"
    "        'params': event['pathParameters'], 'stage': event['requestContext']['stage']})}\n"
)


@pytest.fixture
def hw(tmp_path: Path) -> Iterator[Headwater]:
    with serving_headwater(tmp_path) as made:
        yield made


def sam_template(tmp_path: Path, path: str) -> Path:
    return write_sam_app(
        tmp_path,
        SOURCE,
        "sam-rest",
        "      Events:\n"
        "        Get:\n"
        "          Type: Api\n"
        f"          Properties: {{Path: '{path}', Method: get}}\n",
        "  Url:\n"
        '    Value: !Sub "https://${ServerlessRestApi}.execute-api.${AWS::Region}'
        '.amazonaws.com/Prod/"\n',
    )


def test_sam_api_event_deploys_a_served_rest_api(hw: Headwater, tmp_path: Path) -> None:
    template = sam_template(tmp_path, "/items/{id}")

    def deploy_local() -> str:
        local = load_local_template(template, {}, region="us-east-1")
        return deploy(hw, "sam-rest", local.document)

    assert deploy_local() == "CREATE_COMPLETE"
    api_id = physical_ids(hw, "sam-rest")["ServerlessRestApi"]
    assert outputs_of(hw, "sam-rest")["Url"] == (
        f"https://{api_id}.execute-api.us-east-1.amazonaws.com/Prod/"
    )
    rest = hw.client("apigateway")
    stages = sorted(s["stageName"] for s in rest.get_stages(restApiId=api_id)["item"])
    assert stages == ["Prod", "Stage"]  # SAM's deployment makes "Stage", as on AWS
    local = f"http://{api_id}.execute-api.us-east-1.localhost:4599"
    status, body = get_once(hw, local + "/Prod/items/5")
    assert status == 200
    assert json.loads(body) == {"resource": "/items/{id}", "params": {"id": "5"}, "stage": "Prod"}
    assert get_once(hw, local + "/Prod/other")[0] == 403

    # a new path: a new deployment (SAM names it by the definition's hash), same API
    template = sam_template(tmp_path, "/things/{name}")
    assert deploy_local() == "UPDATE_COMPLETE"
    assert physical_ids(hw, "sam-rest")["ServerlessRestApi"] == api_id
    assert get_once(hw, local + "/Prod/things/x")[0] == 200
    assert get_once(hw, local + "/Prod/items/5")[0] == 403
    assert len(rest.get_deployments(restApiId=api_id)["items"]) == 1

    hw.client("cloudformation").delete_stack(StackName="sam-rest")
    with pytest.raises(ClientError):
        rest.get_rest_api(restApiId=api_id)


def test_rest_api_resources_one_by_one(hw: Headwater) -> None:
    create_handler_function(hw.lambda_, "cfn-rest", SOURCE)
    uri = (
        f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{ARN}:cfn-rest/invocations"
    )
    document: dict[str, Any] = {
        "Resources": {
            "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "one"}},
            "Items": {
                "Type": "AWS::ApiGateway::Resource",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                    "PathPart": "{item}",
                },
            },
            "Get": {
                "Type": "AWS::ApiGateway::Method",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "ResourceId": {"Ref": "Items"},
                    "HttpMethod": "GET",
                    "AuthorizationType": "NONE",
                    "Integration": {
                        "Type": "AWS_PROXY",
                        "IntegrationHttpMethod": "POST",
                        "Uri": uri,
                    },
                },
            },
            "Options": {
                "Type": "AWS::ApiGateway::Method",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "ResourceId": {"Ref": "Items"},
                    "HttpMethod": "OPTIONS",
                    "AuthorizationType": "NONE",
                    "MethodResponses": [
                        {
                            "StatusCode": "200",
                            "ResponseParameters": {
                                "method.response.header.Access-Control-Allow-Origin": False
                            },
                        }
                    ],
                    "Integration": {
                        "Type": "MOCK",
                        "RequestTemplates": {"application/json": '{"statusCode": 200}'},
                        "IntegrationResponses": [
                            {
                                "StatusCode": "200",
                                "ResponseParameters": {
                                    "method.response.header.Access-Control-Allow-Origin": "'*'"
                                },
                            }
                        ],
                    },
                },
            },
            "Deployment": {
                "Type": "AWS::ApiGateway::Deployment",
                "DependsOn": ["Get", "Options"],
                "Properties": {"RestApiId": {"Ref": "Api"}},
            },
            "Stage": {
                "Type": "AWS::ApiGateway::Stage",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "StageName": "v1",
                    "DeploymentId": {"Ref": "Deployment"},
                    "Variables": {"who": "cfn"},
                },
            },
        }
    }
    assert deploy(hw, "cfn-rest", document) == "CREATE_COMPLETE"
    api_id = physical_ids(hw, "cfn-rest")["Api"]
    status, body = get_once(hw, f"http://{api_id}.execute-api.us-east-1.localhost:4599/v1/abc")
    assert status == 200
    assert json.loads(body) == {"resource": "/{item}", "params": {"item": "abc"}, "stage": "v1"}
    status, headers = preflight(hw, api_id, "/v1/abc")
    assert (status, headers["access-control-allow-origin"]) == (200, "*")
    hw.client("cloudformation").delete_stack(StackName="cfn-rest")
    assert hw.client("apigateway").get_rest_apis()["items"] == []


def test_a_method_update_patches_its_authorization_scopes(hw: Headwater) -> None:
    pool = hw.client("cognito-idp").create_user_pool(PoolName="users")["UserPool"]

    def template(scopes: list[str]) -> dict[str, Any]:
        return {
            "Resources": {
                "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "scoped"}},
                "Pool": {
                    "Type": "AWS::ApiGateway::Authorizer",
                    "Properties": {
                        "RestApiId": {"Ref": "Api"},
                        "Name": "pool",
                        "Type": "COGNITO_USER_POOLS",
                        "IdentitySource": "method.request.header.Authorization",
                        "ProviderARNs": [pool["Arn"]],
                    },
                },
                "Get": {
                    "Type": "AWS::ApiGateway::Method",
                    "Properties": {
                        "RestApiId": {"Ref": "Api"},
                        "ResourceId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                        "HttpMethod": "GET",
                        "AuthorizationType": "COGNITO_USER_POOLS",
                        "AuthorizerId": {"Ref": "Pool"},
                        "AuthorizationScopes": scopes,
                        "Integration": {"Type": "MOCK"},
                    },
                },
            }
        }

    assert deploy(hw, "scoped", template(["a/read", "a/write"])) == "CREATE_COMPLETE"
    assert deploy(hw, "scoped", template(["a/write", "b/read"])) == "UPDATE_COMPLETE"
    api_id = physical_ids(hw, "scoped")["Api"]
    rest = hw.client("apigateway")
    root = rest.get_resources(restApiId=api_id)["items"][0]["id"]
    method = rest.get_method(restApiId=api_id, resourceId=root, httpMethod="GET")
    assert method["authorizationScopes"] == ["a/write", "b/read"]


def preflight(hw: Headwater, api_id: str, path: str) -> tuple[int, dict[str, str]]:
    """Status and headers of a preflight from the API's own page (which the server's
    browser checks let in) for ``path``."""
    own = f"http://{api_id}.execute-api.us-east-1.localhost:4599"
    transport = AsgiTransport(create_app(hw))
    try:
        status, headers, _ = transport.send(
            "OPTIONS",
            own + path,
            {"origin": own, "access-control-request-method": "POST"},
            b"",
        )
    finally:
        transport.close()
    return status, {k.lower(): v for k, v in headers}


def test_sam_api_with_cors_answers_preflights(hw: Headwater, tmp_path: Path) -> None:
    template = sam_template(tmp_path, "/items")
    text = template.read_text().replace(
        "      Events:\n",
        "      Events:\n"
        "        Cors:\n"
        "          Type: Api\n"
        "          Properties: {Path: /c, Method: post, RestApiId: !Ref CorsApi}\n",
    )
    text = text.replace(
        "Resources:\n",
        "Globals:\n"
        "  Api:\n"
        "    Cors:\n"
        "      AllowOrigin: \"'http://localhost:3000'\"\n"
        "      AllowMethods: \"'GET,POST'\"\n"
        "      AllowHeaders: \"'content-type'\"\n"
        "      MaxAge: \"'600'\"\n"
        "Resources:\n",
    )
    text = text.replace(
        "Outputs:\n",
        "  CorsApi:\n"
        "    Type: AWS::Serverless::Api\n"
        "    Properties: {StageName: Prod, Cors: \"'*'\"}\n"
        "Outputs:\n",
    )
    template.write_text(text)
    local = load_local_template(template, {}, region="us-east-1")
    assert deploy(hw, "sam-cors", local.document) == "CREATE_COMPLETE"
    ids = physical_ids(hw, "sam-cors")
    # the implicit API: Globals' dict form
    status, headers = preflight(hw, ids["ServerlessRestApi"], "/Prod/items")
    assert status == 200
    assert headers["access-control-allow-origin"] == "http://localhost:3000"
    assert headers["access-control-allow-methods"] == "GET,POST"
    assert headers["access-control-allow-headers"] == "content-type"
    assert headers["access-control-max-age"] == "600"
    # the explicit API: its own string form (SAM's default methods and headers)
    status, headers = preflight(hw, ids["CorsApi"], "/Prod/c")
    assert status == 200 and headers["access-control-allow-origin"] == "*"
    assert "POST" in headers["access-control-allow-methods"]
    local_url = f"http://{ids['CorsApi']}.execute-api.us-east-1.localhost:4599"
    transport = AsgiTransport(create_app(hw))
    try:
        assert transport.send("POST", local_url + "/Prod/c", {}, b"")[0] == 200
    finally:
        transport.close()


def test_headwater_deploy_prints_the_stage_addresses(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from headwater.cli.main import main

    template = sam_template(tmp_path, "/items/{id}")
    data_dir = tmp_path / "cli-data"
    args = ["deploy", str(template), "--stack-name", "web", "--data-dir", str(data_dir)]
    result = CliRunner().invoke(main, args, env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    with Headwater(data_dir=data_dir) as hw:
        api_id = physical_ids(hw, "web")["ServerlessRestApi"]
    assert f"http://{api_id}.execute-api.us-east-1.localhost:4599/Prod/" in result.output
    assert f"/_headwater/execute-api/{api_id}/Prod/" in result.output
