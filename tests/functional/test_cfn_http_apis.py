"""AWS::ApiGatewayV2::* and SAM's HttpApi: deployed HTTP APIs are served."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater
from headwater.deploy.local import load_local_template
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
    "    return {'statusCode': 200, 'body': json.dumps({'route': event['routeKey'],\n"
    "        'params': event.get('pathParameters'), 'stage': event['requestContext']['stage']})}\n"
)


@pytest.fixture
def hw(tmp_path: Path) -> Iterator[Headwater]:
    with serving_headwater(tmp_path) as made:
        yield made


def sam_template(tmp_path: Path, path: str) -> Path:
    return write_sam_app(
        tmp_path,
        SOURCE,
        "sam-http",
        "      Events:\n"
        "        Get:\n"
        "          Type: HttpApi\n"
        f"          Properties: {{Path: '{path}', Method: get}}\n",
        "  Url:\n"
        '    Value: !Sub "https://${ServerlessHttpApi}.execute-api.${AWS::Region}.amazonaws.com"\n'
        "  Endpoint: {Value: !GetAtt ServerlessHttpApi.ApiEndpoint}\n",
    )


def test_sam_http_api_event_deploys_a_served_api(hw: Headwater, tmp_path: Path) -> None:
    template = sam_template(tmp_path, "/items/{id}")

    def deploy_local() -> str:
        local = load_local_template(template, {}, region="us-east-1")
        return deploy(hw, "sam-http", local.document)

    assert deploy_local() == "CREATE_COMPLETE"
    api_id = physical_ids(hw, "sam-http")["ServerlessHttpApi"]
    outputs = outputs_of(hw, "sam-http")
    assert outputs["Url"] == f"https://{api_id}.execute-api.us-east-1.amazonaws.com"
    endpoint = outputs["Endpoint"]
    assert endpoint == f"http://{api_id}.execute-api.us-east-1.localhost:4599"
    status, body = get_once(hw, endpoint + "/items/5")
    assert status == 200
    assert json.loads(body) == {
        "route": "GET /items/{id}",
        "params": {"id": "5"},
        "stage": "$default",
    }
    # AWS's own host name, pointed here by a hosts file or proxy, reaches it too
    host = f"{api_id}.execute-api.us-east-1.amazonaws.com"
    assert get_once(hw, "http://127.0.0.1:4599/items/6", host)[0] == 200
    assert get_once(hw, endpoint + "/other")[0] == 404
    apis = hw.client("apigatewayv2")
    assert apis.get_tags(ResourceArn=f"arn:aws:apigateway:us-east-1::/apis/{api_id}")["Tags"] == {
        "httpapi:createdBy": "SAM"
    }

    # a new path reimports the definition in place: same API, new route
    template = sam_template(tmp_path, "/things/{name}")
    assert deploy_local() == "UPDATE_COMPLETE"
    assert physical_ids(hw, "sam-http")["ServerlessHttpApi"] == api_id
    assert get_once(hw, endpoint + "/things/x")[0] == 200
    assert get_once(hw, endpoint + "/items/5")[0] == 404

    hw.client("cloudformation").delete_stack(StackName="sam-http")
    with pytest.raises(ClientError):
        apis.get_api(ApiId=api_id)


def test_api_gateway_v2_resources_one_by_one(hw: Headwater) -> None:
    create_handler_function(hw.lambda_, "cfn-http", SOURCE)
    document: dict[str, Any] = {
        "Resources": {
            "Api": {
                "Type": "AWS::ApiGatewayV2::Api",
                "Properties": {"Name": "one-by-one", "ProtocolType": "HTTP"},
            },
            "Integration": {
                "Type": "AWS::ApiGatewayV2::Integration",
                "Properties": {
                    "ApiId": {"Ref": "Api"},
                    "IntegrationType": "AWS_PROXY",
                    "IntegrationUri": f"{ARN}:cfn-http",
                    "PayloadFormatVersion": "2.0",
                },
            },
            "Route": {
                "Type": "AWS::ApiGatewayV2::Route",
                "Properties": {
                    "ApiId": {"Ref": "Api"},
                    "RouteKey": "ANY /{proxy+}",
                    "Target": {"Fn::Sub": "integrations/${Integration}"},
                },
            },
            "Stage": {
                "Type": "AWS::ApiGatewayV2::Stage",
                "Properties": {
                    "ApiId": {"Ref": "Api"},
                    "StageName": "live",
                    "StageVariables": {"who": "cfn"},
                },
            },
            "Deployment": {
                "Type": "AWS::ApiGatewayV2::Deployment",
                "DependsOn": ["Route"],
                "Properties": {"ApiId": {"Ref": "Api"}, "StageName": {"Ref": "Stage"}},
            },
        },
        "Outputs": {
            "Endpoint": {"Value": {"Fn::GetAtt": ["Api", "ApiEndpoint"]}},
            "RouteId": {"Value": {"Ref": "Route"}},
        },
    }
    assert deploy(hw, "cfn-http", document) == "CREATE_COMPLETE"
    ids = physical_ids(hw, "cfn-http")
    apis = hw.client("apigatewayv2")
    assert apis.get_route(ApiId=ids["Api"], RouteId=ids["Route"])["RouteKey"] == "ANY /{proxy+}"
    assert apis.get_stage(ApiId=ids["Api"], StageName="live")["DeploymentId"] == ids["Deployment"]
    endpoint = outputs_of(hw, "cfn-http")["Endpoint"]
    status, body = get_once(hw, endpoint + "/live/a/b")
    assert status == 200
    assert json.loads(body)["params"] == {"proxy": "a/b"}
    assert json.loads(body)["stage"] == "live"
    hw.client("cloudformation").delete_stack(StackName="cfn-http")
    assert apis.get_apis()["Items"] == []


def test_headwater_deploy_prints_where_the_api_answers(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from headwater.cli.main import main

    template = sam_template(tmp_path, "/items/{id}")
    data_dir = tmp_path / "cli-data"
    args = ["deploy", str(template), "--stack-name", "web", "--data-dir", str(data_dir)]
    result = CliRunner().invoke(main, args, env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    with Headwater(data_dir=data_dir) as hw:
        api_id = physical_ids(hw, "web")["ServerlessHttpApi"]
    assert "APIs served by headwater" in result.output
    assert f"http://{api_id}.execute-api.us-east-1.localhost:4599" in result.output
    assert f"/_headwater/execute-api/{api_id}/" in result.output


def test_api_body_from_s3_and_quick_create(hw: Headwater) -> None:
    create_handler_function(hw.lambda_, "s3-body", SOURCE)
    definition = {
        "openapi": "3.0.1",
        "info": {"title": "from-s3", "version": "1"},
        "paths": {
            "/s3/{key}": {
                "get": {
                    "x-amazon-apigateway-integration": {
                        "type": "aws_proxy",
                        "uri": f"{ARN}:s3-body",
                        "payloadFormatVersion": "2.0",
                    }
                }
            }
        },
    }
    s3 = hw.client("s3")
    s3.create_bucket(Bucket="defs")
    s3.put_object(Bucket="defs", Key="api.json", Body=json.dumps(definition).encode())
    document: dict[str, Any] = {
        "Resources": {
            "FromS3": {
                "Type": "AWS::ApiGatewayV2::Api",
                "Properties": {"BodyS3Location": {"Bucket": "defs", "Key": "api.json"}},
            },
            "FromS3Stage": {
                "Type": "AWS::ApiGatewayV2::Stage",
                "Properties": {"ApiId": {"Ref": "FromS3"}, "StageName": "$default"},
            },
            "Quick": {
                "Type": "AWS::ApiGatewayV2::Api",
                "Properties": {
                    "Name": "quick",
                    "ProtocolType": "HTTP",
                    "Target": f"{ARN}:s3-body",
                    "Tags": {"team": "a"},
                },
            },
        },
        "Outputs": {"Quick": {"Value": {"Fn::GetAtt": ["Quick", "ApiEndpoint"]}}},
    }
    assert deploy(hw, "bodies", document) == "CREATE_COMPLETE"
    ids = physical_ids(hw, "bodies")
    apis = hw.client("apigatewayv2")
    assert apis.get_api(ApiId=ids["FromS3"])["Name"] == "from-s3"
    local = f"http://{ids['FromS3']}.execute-api.us-east-1.localhost:4599"
    status, body = get_once(hw, local + "/s3/k")
    assert status == 200 and json.loads(body)["params"] == {"key": "k"}
    status, body = get_once(hw, outputs_of(hw, "bodies")["Quick"] + "/anything")
    assert status == 200 and json.loads(body)["route"] == "$default"
    arn = f"arn:aws:apigateway:us-east-1::/apis/{ids['Quick']}"
    assert apis.get_tags(ResourceArn=arn)["Tags"] == {"team": "a"}
