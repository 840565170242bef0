"""The CDKToolkit stack that ``cdk bootstrap`` deploys, through the CloudFormation API.

Every resource of CDK's own bootstrap template deploys (the bucket, roles, policies, ECR
repository and KMS key kept in the stack where headwater has no service for them), and the
bootstrap version lands in the SSM parameter that every CDK stack's template reads.
"""

from __future__ import annotations

import json
from pathlib import Path

from headwater import Headwater

TEMPLATE = Path(__file__).resolve().parents[1] / "data" / "cdk" / "bootstrap-template.yaml"
CDK_CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
#: The parameters `cdk bootstrap` passes by default.
BOOTSTRAP_PARAMETERS = {
    "TrustedAccounts": "",
    "TrustedAccountsForLookup": "",
    "CloudFormationExecutionPolicies": "",
    "FileAssetsBucketKmsKeyId": "AWS_MANAGED_KEY",
    "PublicAccessBlockConfiguration": "true",
}


def test_cdk_bootstrap_template_deploys(hw: Headwater) -> None:
    cfn = hw.client("cloudformation")
    created = cfn.create_change_set(
        StackName="CDKToolkit",
        ChangeSetName="cdk-deploy-change-set",
        ChangeSetType="CREATE",
        TemplateBody=TEMPLATE.read_text(),
        Capabilities=CDK_CAPABILITIES,
        Parameters=[
            {"ParameterKey": k, "ParameterValue": v} for k, v in BOOTSTRAP_PARAMETERS.items()
        ],
    )
    assert cfn.describe_change_set(ChangeSetName=created["Id"])["Status"] == "CREATE_COMPLETE"
    cfn.execute_change_set(ChangeSetName=created["Id"])
    stack = cfn.describe_stacks(StackName="CDKToolkit")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    account, region = "000000000000", "us-east-1"
    assert outputs["BucketName"] == f"cdk-hnb659fds-assets-{account}-{region}"
    assert outputs["ImageRepositoryName"] == f"cdk-hnb659fds-container-assets-{account}-{region}"
    version = hw.client("ssm").get_parameter(Name="/cdk-bootstrap/hnb659fds/version")
    assert version["Parameter"]["Value"] == outputs["BootstrapVersion"]
    resources = cfn.list_stack_resources(StackName="CDKToolkit")["StackResourceSummaries"]
    roles = [r for r in resources if r["ResourceType"] == "AWS::IAM::Role"]
    assert len(roles) == 5 and all(r["ResourceStatus"] == "CREATE_COMPLETE" for r in roles)
    iam = hw.client("iam")
    for role in roles:  # the roles exist in IAM, with the policies the template gives them
        assert iam.get_role(RoleName=role["PhysicalResourceId"])["Role"]["RoleName"]
    deploy_role = f"cdk-hnb659fds-deploy-role-{account}-{region}"
    assert iam.list_role_policies(RoleName=deploy_role)["PolicyNames"]

    # a CDK app's stack: BootstrapVersion from SSM and the CheckBootstrapVersion rule
    app_stack = {
        "Parameters": {
            "BootstrapVersion": {
                "Type": "AWS::SSM::Parameter::Value<String>",
                "Default": "/cdk-bootstrap/hnb659fds/version",
            }
        },
        "Rules": {
            "CheckBootstrapVersion": {
                "Assertions": [
                    {
                        "Assert": {
                            "Fn::Not": [
                                {
                                    "Fn::Contains": [
                                        ["1", "2", "3", "4", "5"],
                                        {"Ref": "BootstrapVersion"},
                                    ]
                                }
                            ]
                        },
                        "AssertDescription": "CDK bootstrap stack version 6 required.",
                    }
                ]
            }
        },
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
    }
    cfn.create_stack(StackName="App", TemplateBody=json.dumps(app_stack))
    assert cfn.describe_stacks(StackName="App")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
