"""CloudFormation and SAM deploys with Secrets Manager: AWS::SecretsManager::Secret
(SecretString, GenerateSecretString), ResourcePolicy, and ``{{resolve:secretsmanager:...}}``
dynamic references in resource properties."""

from __future__ import annotations

import json
import string
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater
from tests.functional.cfn_support import deploy, events_of, outputs_of, physical_ids, stack_of

HANDLER = "def handler(event, context):\n    return event\n"


def app(description: str = "generated") -> dict[str, Any]:
    return {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "Generated": {
                "Type": "AWS::SecretsManager::Secret",
                "Properties": {
                    "Description": description,
                    "GenerateSecretString": {
                        "SecretStringTemplate": '{"username": "admin"}',
                        "GenerateStringKey": "password",
                        "PasswordLength": 24,
                        "ExcludeCharacters": "\"@/\\'",
                        "ExcludePunctuation": True,
                    },
                    "Tags": [{"Key": "team", "Value": "data"}],
                },
            },
            "Fixed": {
                "Type": "AWS::SecretsManager::Secret",
                "Properties": {"Name": "stack/fixed", "SecretString": "plain text"},
            },
            "Policy": {
                "Type": "AWS::SecretsManager::ResourcePolicy",
                "Properties": {
                    "SecretId": {"Ref": "Fixed"},
                    "ResourcePolicy": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Deny",
                                "Principal": {"AWS": "*"},
                                "Action": "secretsmanager:DeleteSecret",
                                "Resource": "*",
                            }
                        ],
                    },
                },
            },
            # The password of the secret above, by its ARN (Sub: the dependency too).
            "Copy": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {
                    "Type": "String",
                    "Name": "/copy/password",
                    "Value": {
                        "Fn::Sub": "{{resolve:secretsmanager:${Generated}:SecretString:password}}"
                    },
                },
            },
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "InlineCode": HANDLER,
                    "Handler": "index.handler",
                    "Runtime": "python3.12",
                    "Environment": {
                        "Variables": {
                            "DB_USER": "{{resolve:secretsmanager:outside:SecretString:user}}",
                            "DB_PREVIOUS": (
                                "{{resolve:secretsmanager:outside:SecretString:user:AWSPREVIOUS}}"
                            ),
                            "WHOLE": "{{resolve:secretsmanager:outside}}",
                        }
                    },
                },
            },
        },
        "Outputs": {
            "Arn": {"Value": {"Ref": "Generated"}},
            "Id": {"Value": {"Fn::GetAtt": ["Generated", "Id"]}},
            "PolicyRef": {"Value": {"Ref": "Policy"}},
        },
    }


def test_secrets_generated_stored_and_referenced(hw: Headwater) -> None:
    sm = hw.client("secretsmanager")
    sm.create_secret(Name="outside", SecretString=json.dumps({"user": "first"}))
    sm.put_secret_value(SecretId="outside", SecretString=json.dumps({"user": "second"}))
    sam = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
    assert deploy(hw, "secrets", app(), Capabilities=sam) == "CREATE_COMPLETE"

    ids = physical_ids(hw, "secrets")
    outputs = outputs_of(hw, "secrets")
    arn = ids["Generated"]
    assert outputs["Arn"] == outputs["Id"] == arn
    assert arn.startswith("arn:aws:secretsmanager:us-east-1:000000000000:secret:Generated-")
    generated = json.loads(sm.get_secret_value(SecretId=arn)["SecretString"])
    assert generated["username"] == "admin"
    password = generated["password"]
    assert len(password) == 24
    assert not set(password) & set(string.punctuation)
    described = sm.describe_secret(SecretId=arn)
    assert described["Description"] == "generated"
    assert described["Tags"] == [{"Key": "team", "Value": "data"}]

    fixed = sm.get_secret_value(SecretId="stack/fixed")
    assert fixed["SecretString"] == "plain text"
    assert ids["Fixed"] == fixed["ARN"] == outputs["PolicyRef"]
    assert "DeleteSecret" in sm.get_resource_policy(SecretId="stack/fixed")["ResourcePolicy"]

    assert hw.client("ssm").get_parameter(Name="/copy/password")["Parameter"]["Value"] == password
    variables = hw.client("lambda").get_function_configuration(FunctionName=ids["Fn"])[
        "Environment"
    ]["Variables"]
    assert variables == {
        "DB_USER": "second",
        "DB_PREVIOUS": "first",
        "WHOLE": json.dumps({"user": "second"}),
    }

    # An update that changes the description only keeps the generated value.
    assert deploy(hw, "secrets", app("changed"), Capabilities=sam) == "UPDATE_COMPLETE"
    assert sm.describe_secret(SecretId=arn)["Description"] == "changed"
    assert json.loads(sm.get_secret_value(SecretId=arn)["SecretString"])["password"] == password

    # Deleting the stack deletes its secrets at once: the name is free again.
    hw.client("cloudformation").delete_stack(StackName="secrets")
    for gone in (arn, "stack/fixed"):
        with pytest.raises(ClientError) as caught:
            sm.describe_secret(SecretId=gone)
        assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert sm.describe_secret(SecretId="outside")["Name"] == "outside"
    sm.create_secret(Name="stack/fixed", SecretString="again")


def test_a_changed_secret_string_is_a_new_version(hw: Headwater) -> None:
    def template(value: str) -> dict[str, Any]:
        return {
            "Resources": {
                "S": {
                    "Type": "AWS::SecretsManager::Secret",
                    "Properties": {"Name": "versioned", "SecretString": value},
                }
            }
        }

    deploy(hw, "versioned", template("one"))
    assert deploy(hw, "versioned", template("two")) == "UPDATE_COMPLETE"
    sm = hw.client("secretsmanager")
    assert sm.get_secret_value(SecretId="versioned")["SecretString"] == "two"
    previous = sm.get_secret_value(SecretId="versioned", VersionStage="AWSPREVIOUS")
    assert previous["SecretString"] == "one"


@pytest.mark.parametrize(
    ("reference", "reason"),
    [
        ("{{resolve:secretsmanager:nowhere}}", "Secrets Manager can't find the specified secret."),
        ("{{resolve:secretsmanager:known:SecretString:nokey}}", "nokey"),
        ("{{resolve:secretsmanager:known:SecretBinary}}", "SecretBinary"),
    ],
)
def test_a_reference_that_cannot_resolve_fails_the_resource(
    hw: Headwater, reference: str, reason: str
) -> None:
    hw.client("secretsmanager").create_secret(Name="known", SecretString='{"k": "v"}')
    document = {
        "Resources": {
            "P": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Type": "String", "Value": reference},
            }
        }
    }
    assert deploy(hw, "broken", document) == "ROLLBACK_COMPLETE"
    events = hw.client("cloudformation").describe_stack_events(StackName="broken")["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed and reason in failed[0]["ResourceStatusReason"]
    assert ("P", "CREATE_FAILED") in events_of(hw, "broken")


def test_change_sets_show_the_reference_not_the_secret(hw: Headwater) -> None:
    hw.client("secretsmanager").create_secret(Name="hidden", SecretString="s3cr3t")
    document = {
        "Resources": {
            "P": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {
                    "Type": "String",
                    "Name": "/from/secret",
                    "Value": "{{resolve:secretsmanager:hidden}}",
                },
            }
        }
    }
    deploy(hw, "hidden", document)
    assert hw.client("ssm").get_parameter(Name="/from/secret")["Parameter"]["Value"] == "s3cr3t"
    cfn = hw.client("cloudformation")
    document["Resources"]["P"]["Properties"]["Description"] = "now described"
    cfn.create_change_set(
        StackName="hidden",
        ChangeSetName="c1",
        TemplateBody=json.dumps(document),
    )
    described = cfn.describe_change_set(
        StackName="hidden", ChangeSetName="c1", IncludePropertyValues=True
    )
    assert described["Changes"], described
    assert "s3cr3t" not in json.dumps(described, default=str)
    assert stack_of(hw, "hidden")["StackStatus"] == "CREATE_COMPLETE"
