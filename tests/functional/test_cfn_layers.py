"""AWS::Lambda::LayerVersion, AWS::Lambda::LayerVersionPermission and SAM's
AWS::Serverless::LayerVersion: deployed layers reach the functions that name them."""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

from headwater import Headwater
from headwater.deploy.local import load_local_template
from tests.functional.cfn_support import deploy, outputs_of, physical_ids, status_of

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
HANDLER_SOURCE = "import helpers\n\ndef handler(event, context):\n    return helpers.VALUE\n"


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def invoke(hw: Headwater, name: str) -> Any:
    response = hw.lambda_.invoke(FunctionName=name)
    payload = response["Payload"].read()
    assert "FunctionError" not in response, payload
    return json.loads(payload)


def layer_template(key: str) -> dict[str, Any]:
    return {
        "Resources": {
            "Shared": {
                "Type": "AWS::Lambda::LayerVersion",
                "Properties": {
                    "LayerName": "shared",
                    "Content": {"S3Bucket": "artifacts", "S3Key": key},
                    "CompatibleRuntimes": [RUNTIME],
                },
            },
            "Everyone": {
                "Type": "AWS::Lambda::LayerVersionPermission",
                "Properties": {
                    "LayerVersionArn": {"Ref": "Shared"},
                    "Action": "lambda:GetLayerVersion",
                    "Principal": "*",
                },
            },
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": "layered",
                    "Runtime": RUNTIME,
                    "Handler": "index.handler",
                    "Role": ROLE,
                    "Code": {"ZipFile": HANDLER_SOURCE},
                    "Layers": [{"Ref": "Shared"}],
                },
            },
        },
        "Outputs": {"Layer": {"Value": {"Fn::GetAtt": ["Shared", "LayerVersionArn"]}}},
    }


def test_a_layer_from_s3_with_a_permission_reaches_its_function(hw: Headwater) -> None:
    s3 = hw.client("s3")
    s3.create_bucket(Bucket="artifacts")
    s3.put_object(Bucket="artifacts", Key="v1.zip", Body=zip_of({"python/helpers.py": "VALUE = 1"}))
    s3.put_object(Bucket="artifacts", Key="v2.zip", Body=zip_of({"python/helpers.py": "VALUE = 2"}))
    lam = hw.lambda_

    assert deploy(hw, "layers", layer_template("v1.zip")) == "CREATE_COMPLETE"
    first = "arn:aws:lambda:us-east-1:000000000000:layer:shared:1"
    assert outputs_of(hw, "layers") == {"Layer": first}
    assert physical_ids(hw, "layers")["Shared"] == first
    assert invoke(hw, "layered") == 1
    policy = json.loads(lam.get_layer_version_policy(LayerName="shared", VersionNumber=1)["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == "*" and statement["Resource"] == first
    assert physical_ids(hw, "layers")["Everyone"] == f"{first}#{statement['Sid']}"

    # new content publishes the next version (the name stays: no custom-name refusal), the
    # function moves to it and the old version goes with its permission
    assert deploy(hw, "layers", layer_template("v2.zip")) == "UPDATE_COMPLETE"
    assert invoke(hw, "layered") == 2
    assert [v["Version"] for v in lam.list_layer_versions(LayerName="shared")["LayerVersions"]] == [
        2
    ]
    assert lam.get_layer_version_policy(LayerName="shared", VersionNumber=2)["Policy"]

    hw.client("cloudformation").delete_stack(StackName="layers")
    assert lam.list_layer_versions(LayerName="shared")["LayerVersions"] == []


def test_a_missing_layer_object_fails_the_create_and_leaves_nothing(hw: Headwater) -> None:
    hw.client("s3").create_bucket(Bucket="artifacts")
    status = deploy(hw, "layers", layer_template("missing.zip"))
    assert status == "ROLLBACK_COMPLETE"
    assert hw.lambda_.list_layers()["Layers"] == []


def test_a_sam_layer_from_a_local_directory_is_published_and_imported(
    hw: Headwater, tmp_path: Path
) -> None:
    (tmp_path / "layer" / "python").mkdir(parents=True)
    (tmp_path / "layer" / "python" / "helpers.py").write_text("VALUE = 'from the layer'\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(HANDLER_SOURCE)
    template = tmp_path / "template.yaml"
    template.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Helpers:\n"
        "    Type: AWS::Serverless::LayerVersion\n"
        "    Properties: {ContentUri: layer/, LayerName: helpers}\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      FunctionName: sam-layered\n"
        "      CodeUri: src/\n"
        "      Handler: app.handler\n"
        f"      Runtime: {RUNTIME}\n"
        "      Layers: [!Ref Helpers]\n"
    )

    def deploy_local() -> str:
        local = load_local_template(template, {}, region="us-east-1")
        return deploy(hw, "sam-layers", local.document, Capabilities=["CAPABILITY_IAM"])

    assert deploy_local() == "CREATE_COMPLETE"
    assert invoke(hw, "sam-layered") == "from the layer"
    # an edit of the layer's files publishes its next version on redeploy
    (tmp_path / "layer" / "python" / "helpers.py").write_text("VALUE = 'edited'\n")
    assert deploy_local() == "UPDATE_COMPLETE"
    assert status_of(hw, "sam-layers") == "UPDATE_COMPLETE"
    assert invoke(hw, "sam-layered") == "edited"
    versions = hw.lambda_.list_layer_versions(LayerName="helpers")["LayerVersions"]
    # the direct path keeps the logical id, so this is a replacement (no UpdateReplacePolicy)
    assert [v["Version"] for v in versions] == [2]
