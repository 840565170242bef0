"""CDK's ``autoDeleteObjects: true`` end to end on ``headwater serve``: the template as CDK
synthesizes it (a tagged bucket, Custom::S3AutoDeleteObjects and its provider function)
with CDK's own Node.js handler, which empties the bucket when the stack is deleted.

The handler imports ``@aws-sdk/client-s3``, which AWS's nodejs runtime provides: the test
gives it the SDK from the node tools cache (``.ci/run`` installs ``tools/node``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.server_process import ServerProcess, boto_client, headwater_server
from tests.functional.cfn_support import body
from tests.integration.deploy_tools import cdk_handler_code

pytestmark = pytest.mark.integration

REGION = "us-east-1"
HANDLER = "aws-cdk-lib/custom-resource-handlers/dist/aws-s3/auto-delete-objects-handler/index.js"
TAG = "aws-cdk:auto-delete-objects"


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CDK's handler beside the SDK it imports."""
    return cdk_handler_code(HANDLER, tmp_path_factory.mktemp("auto-delete"), ["client-s3"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with headwater_server(tmp_path_factory.mktemp("cdk-auto-delete")) as running:
        yield running


def cdk_template(code: Path) -> dict[str, Any]:
    """The resources ``new s3.Bucket(this, 'Uploads', {autoDeleteObjects: true, removalPolicy:
    DESTROY})`` synthesizes (the function's asset a local directory here)."""
    provider = "CustomS3AutoDeleteObjectsCustomResourceProviderHandler9D90184F"
    role = "CustomS3AutoDeleteObjectsCustomResourceProviderRole3B1BD092"
    return {
        "Resources": {
            "Uploads2E7A6F2C": {
                "Type": "AWS::S3::Bucket",
                "Properties": {"Tags": [{"Key": TAG, "Value": "true"}]},
                "UpdateReplacePolicy": "Delete",
                "DeletionPolicy": "Delete",
            },
            "UploadsPolicy7A8B5E5E": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": {"Ref": "Uploads2E7A6F2C"},
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": {"Fn::GetAtt": [role, "Arn"]}},
                                "Action": [
                                    "s3:DeleteObject*",
                                    "s3:GetBucket*",
                                    "s3:List*",
                                    "s3:PutBucketPolicy",
                                ],
                                "Resource": [
                                    {"Fn::GetAtt": ["Uploads2E7A6F2C", "Arn"]},
                                    {
                                        "Fn::Join": [
                                            "",
                                            [{"Fn::GetAtt": ["Uploads2E7A6F2C", "Arn"]}, "/*"],
                                        ]
                                    },
                                ],
                            }
                        ],
                    },
                },
            },
            "UploadsAutoDeleteObjectsCustomResource4E7E0B4C": {
                "Type": "Custom::S3AutoDeleteObjects",
                "Properties": {
                    "ServiceToken": {"Fn::GetAtt": [provider, "Arn"]},
                    "BucketName": {"Ref": "Uploads2E7A6F2C"},
                },
                "DependsOn": ["UploadsPolicy7A8B5E5E"],
                "UpdateReplacePolicy": "Delete",
                "DeletionPolicy": "Delete",
            },
            role: {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Action": "sts:AssumeRole",
                                "Effect": "Allow",
                                "Principal": {"Service": "lambda.amazonaws.com"},
                            }
                        ],
                    },
                    "ManagedPolicyArns": [
                        {
                            "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                            "AWSLambdaBasicExecutionRole"
                        }
                    ],
                },
            },
            provider: {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Code": {"Directory": str(code)},
                    "Timeout": 900,
                    "MemorySize": 128,
                    "Handler": "index.handler",
                    "Role": {"Fn::GetAtt": [role, "Arn"]},
                    "Runtime": "nodejs22.x",
                    "Description": {
                        "Fn::Join": [
                            "",
                            [
                                "Lambda function for auto-deleting objects in ",
                                {"Ref": "Uploads2E7A6F2C"},
                                " S3 bucket.",
                            ],
                        ]
                    },
                },
                "DependsOn": [role],
            },
        },
        "Outputs": {"Bucket": {"Value": {"Ref": "Uploads2E7A6F2C"}}},
    }


def test_deleting_the_stack_empties_and_deletes_the_bucket(
    server: ServerProcess, code: Path
) -> None:
    cfn = boto_client(server.endpoint, "cloudformation", REGION)
    s3 = boto_client(server.endpoint, "s3", REGION)
    cfn.create_stack(
        StackName="uploads", TemplateBody=body(cdk_template(code)), Capabilities=["CAPABILITY_IAM"]
    )
    wait = {"Delay": 1, "MaxAttempts": 90}
    cfn.get_waiter("stack_create_complete").wait(StackName="uploads", WaiterConfig=wait)
    [output] = cfn.describe_stacks(StackName="uploads")["Stacks"][0]["Outputs"]
    bucket = output["OutputValue"]
    for key in ("a.txt", "b/c.txt"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"data")

    cfn.delete_stack(StackName="uploads")
    cfn.get_waiter("stack_delete_complete").wait(StackName="uploads", WaiterConfig=wait)
    names = [b["Name"] for b in s3.list_buckets().get("Buckets", [])]
    assert bucket not in names
