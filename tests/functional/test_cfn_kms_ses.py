"""CloudFormation deploys of KMS keys and aliases and of SES identities, templates and
configuration sets: real keys that encrypt, aliases that follow their target, deletion
scheduled on the stack's deletion."""

from __future__ import annotations

import json
from typing import Any

from headwater import Headwater
from tests.functional.cfn_support import deploy, outputs_of, physical_ids


def kms_template(alias_target: str = "Key", description: str = "one") -> dict[str, Any]:
    return {
        "Resources": {
            "Key": {
                "Type": "AWS::KMS::Key",
                "Properties": {
                    "Description": description,
                    "EnableKeyRotation": True,
                    "PendingWindowInDays": 7,
                    "Tags": [{"Key": "team", "Value": "data"}],
                },
            },
            "Other": {
                "Type": "AWS::KMS::Key",
                "Properties": {
                    "KeySpec": "ECC_NIST_P256",
                    "KeyUsage": "SIGN_VERIFY",
                    "Enabled": False,
                    "KeyPolicy": {"Version": "2012-10-17", "Statement": []},
                },
            },
            "Alias": {
                "Type": "AWS::KMS::Alias",
                "Properties": {"AliasName": "alias/app", "TargetKeyId": {"Ref": alias_target}},
            },
        },
        "Outputs": {
            "KeyArn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}},
            "KeyId": {"Value": {"Ref": "Key"}},
        },
    }


def test_kms_keys_and_aliases_deploy_as_real_keys(hw: Headwater) -> None:
    assert deploy(hw, "keys", kms_template()) == "CREATE_COMPLETE"
    kms = hw.client("kms")
    outputs = outputs_of(hw, "keys")
    meta = kms.describe_key(KeyId="alias/app")["KeyMetadata"]
    assert meta["Arn"] == outputs["KeyArn"] and meta["KeyId"] == outputs["KeyId"]
    assert meta["Description"] == "one"
    assert kms.get_key_rotation_status(KeyId=meta["KeyId"])["KeyRotationEnabled"]
    assert kms.list_resource_tags(KeyId=meta["KeyId"])["Tags"] == [
        {"TagKey": "team", "TagValue": "data"}
    ]
    blob = kms.encrypt(KeyId="alias/app", Plaintext=b"x")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    other = physical_ids(hw, "keys")["Other"]
    other_meta = kms.describe_key(KeyId=other)["KeyMetadata"]
    assert other_meta["KeyState"] == "Disabled" and other_meta["KeySpec"] == "ECC_NIST_P256"
    assert json.loads(kms.get_key_policy(KeyId=other)["Policy"])["Statement"] == []
    # the alias follows a new target in place; a description changes in place
    assert deploy(hw, "keys", kms_template("Other", "two")) == "UPDATE_COMPLETE"
    assert kms.describe_key(KeyId="alias/app")["KeyMetadata"]["KeyId"] == other
    assert kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]["Description"] == "two"
    hw.client("cloudformation").delete_stack(StackName="keys")
    gone = kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]
    assert gone["KeyState"] == "PendingDeletion" and gone["PendingDeletionWindowInDays"] == 7
    assert kms.list_aliases()["Aliases"] == []


def test_ses_resources_deploy(hw: Headwater) -> None:
    template = {
        "Resources": {
            "Identity": {
                "Type": "AWS::SES::EmailIdentity",
                "Properties": {"EmailIdentity": "example.com"},
            },
            "Welcome": {
                "Type": "AWS::SES::Template",
                "Properties": {
                    "Template": {
                        "TemplateName": "welcome",
                        "SubjectPart": "Hi {{name}}",
                        "TextPart": "Hello {{name}}",
                    }
                },
            },
            "Config": {"Type": "AWS::SES::ConfigurationSet", "Properties": {"Name": "cfg"}},
        },
        "Outputs": {"Dkim": {"Value": {"Fn::GetAtt": ["Identity", "DkimDNSTokenName1"]}}},
    }
    assert deploy(hw, "mail", template) == "CREATE_COMPLETE"
    assert outputs_of(hw, "mail")["Dkim"].endswith("._domainkey.example.com")
    ses = hw.client("ses")
    ses.send_templated_email(
        Source="app@example.com",
        Destination={"ToAddresses": ["user@elsewhere.org"]},
        Template="welcome",
        TemplateData='{"name": "Ana"}',
        ConfigurationSetName="cfg",
    )
    sent = hw.service("ses").sent_messages()
    assert [m["Subject"] for m in sent] == ["Hi Ana"]
    template["Resources"]["Welcome"]["Properties"]["Template"]["SubjectPart"] = "Hey {{name}}"
    assert deploy(hw, "mail", template) == "UPDATE_COMPLETE"
    assert ses.get_template(TemplateName="welcome")["Template"]["SubjectPart"] == "Hey {{name}}"
    hw.client("cloudformation").delete_stack(StackName="mail")
    assert ses.list_identities()["Identities"] == []
    assert ses.list_templates()["TemplatesMetadata"] == []
    assert ses.list_configuration_sets()["ConfigurationSets"] == []
