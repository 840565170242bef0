"""AWS::Lambda::Url and SAM's FunctionUrlConfig: deployed function URLs are served."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater
from headwater.deploy.local import load_local_template
from tests.conformance.server_process import zip_of
from tests.functional.cfn_support import deploy, outputs_of, physical_ids
from tests.functional.lambda_proxy_support import (
    ARN,
    ROLE,
    RUNTIME,
    get_once,
    serving_headwater,
    write_sam_app,
)

SOURCE = (
    "def handler(event, context):\n"
    "    return {'statusCode': 200, 'body': 'hi ' + event['rawPath']}\n"
)


@pytest.fixture
def hw(tmp_path: Path) -> Iterator[Headwater]:
    with serving_headwater(tmp_path) as made:
        yield made


def sam_template(tmp_path: Path, url_config: str) -> Path:
    return write_sam_app(
        tmp_path,
        SOURCE,
        "sam-url",
        f"      FunctionUrlConfig: {url_config}\n",
        "  Url: {Value: !GetAtt FnUrl.FunctionUrl}\n",
    )


def test_sam_function_url_config_deploys_a_served_url(hw: Headwater, tmp_path: Path) -> None:
    cors = "{AllowOrigins: ['http://localhost:3000'], AllowMethods: [GET]}"
    template = sam_template(tmp_path, f"{{AuthType: NONE, Cors: {cors}}}")

    def deploy_local() -> str:
        local = load_local_template(template, {}, region="us-east-1")
        return deploy(hw, "sam-url", local.document)

    assert deploy_local() == "CREATE_COMPLETE"
    lam = hw.lambda_
    config = lam.get_function_url_config(FunctionName="sam-url")
    assert config["AuthType"] == "NONE"
    assert config["Cors"] == {"AllowOrigins": ["http://localhost:3000"], "AllowMethods": ["GET"]}
    url = outputs_of(hw, "sam-url")["Url"]
    assert url == config["FunctionUrl"]
    assert url.startswith("http://") and ".lambda-url.us-east-1.localhost:4599/" in url
    # SAM's translation: the URL plus public permissions to invoke through it (NONE)
    policy = json.loads(lam.get_policy(FunctionName="sam-url")["Policy"])
    granted = {(s["Action"], json.dumps(s.get("Condition"))) for s in policy["Statement"]}
    assert (
        "lambda:InvokeFunctionUrl",
        json.dumps({"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}),
    ) in granted
    assert physical_ids(hw, "sam-url")["FnUrl"] == f"{ARN}:sam-url"
    assert get_once(hw, url + "x") == (200, b"hi /x")

    # an update changes the URL in place (same address)
    template = sam_template(tmp_path, "{AuthType: AWS_IAM}")
    assert deploy_local() == "UPDATE_COMPLETE"
    config = lam.get_function_url_config(FunctionName="sam-url")
    assert (config["AuthType"], config["FunctionUrl"]) == ("AWS_IAM", url)
    assert config.get("Cors") == {}
    assert get_once(hw, url)[0] == 403  # unsigned, now that it needs IAM

    hw.client("cloudformation").delete_stack(StackName="sam-url")
    with pytest.raises(ClientError):
        lam.get_function_url_config(FunctionName="sam-url")


def test_lambda_url_on_an_alias_with_its_attributes(hw: Headwater) -> None:
    bucket = hw.client("s3")
    bucket.create_bucket(Bucket="code")
    bucket.put_object(Bucket="code", Key="fn.zip", Body=zip_of(SOURCE))
    document: dict[str, Any] = {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": "cfn-url",
                    "Runtime": RUNTIME,
                    "Handler": "app.handler",
                    "Role": ROLE,
                    "Code": {"S3Bucket": "code", "S3Key": "fn.zip"},
                },
            },
            "First": {
                "Type": "AWS::Lambda::Version",
                "Properties": {"FunctionName": {"Ref": "Fn"}},
            },
            "Live": {
                "Type": "AWS::Lambda::Alias",
                "Properties": {
                    "FunctionName": {"Ref": "Fn"},
                    "FunctionVersion": {"Fn::GetAtt": ["First", "Version"]},
                    "Name": "live",
                },
            },
            "Url": {
                "Type": "AWS::Lambda::Url",
                "DependsOn": "Live",
                "Properties": {
                    "TargetFunctionArn": {"Fn::GetAtt": ["Fn", "Arn"]},
                    "Qualifier": "live",
                    "AuthType": "NONE",
                    "InvokeMode": "BUFFERED",
                },
            },
        },
        "Outputs": {
            "Url": {"Value": {"Fn::GetAtt": ["Url", "FunctionUrl"]}},
            "Arn": {"Value": {"Fn::GetAtt": ["Url", "FunctionArn"]}},
            "Ref": {"Value": {"Ref": "Url"}},
        },
    }
    assert deploy(hw, "cfn-url", document) == "CREATE_COMPLETE"
    outputs = outputs_of(hw, "cfn-url")
    assert outputs["Arn"] == outputs["Ref"] == f"{ARN}:cfn-url:live"
    config = hw.lambda_.get_function_url_config(FunctionName="cfn-url", Qualifier="live")
    assert config["FunctionUrl"] == outputs["Url"]
    assert get_once(hw, outputs["Url"] + "a") == (200, b"hi /a")
    hw.client("cloudformation").delete_stack(StackName="cfn-url")
    assert "cfn-url" not in [f["FunctionName"] for f in hw.lambda_.list_functions()["Functions"]]
