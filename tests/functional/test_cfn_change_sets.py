"""Change sets in process: review, describe with and without values, execute, refuse."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater
from tests.functional.cfn_support import body, events_of, physical_ids, status_of

CHAIN = {
    "Resources": {
        "A": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": "root"}},
        "B": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Type": "String", "Value": {"Ref": "A"}},
        },
    }
}


def test_create_change_set_reviews_then_executes(hw: Headwater) -> None:
    cfn = hw.client("cloudformation")
    created = cfn.create_change_set(
        StackName="chain", ChangeSetName="first", TemplateBody=body(CHAIN), ChangeSetType="CREATE"
    )
    assert status_of(hw, "chain") == "REVIEW_IN_PROGRESS"
    described = cfn.describe_change_set(ChangeSetName=created["Id"], IncludePropertyValues=True)
    assert described["Status"] == "CREATE_COMPLETE"
    assert described["ExecutionStatus"] == "AVAILABLE"
    contexts = {
        c["ResourceChange"]["LogicalResourceId"]: json.loads(c["ResourceChange"]["AfterContext"])
        for c in described["Changes"]
    }
    assert contexts == {
        "A": {"Properties": {"Type": "String", "Value": "root"}},
        "B": {"Properties": {"Type": "String", "Value": "{{changeSet:KNOWN_AFTER_APPLY}}"}},
    }
    plain = cfn.describe_change_set(ChangeSetName="first", StackName="chain")
    assert all("AfterContext" not in c["ResourceChange"] for c in plain["Changes"])
    listed = cfn.list_change_sets(StackName="chain")["Summaries"]
    assert [s["ChangeSetName"] for s in listed] == ["first"]
    cfn.execute_change_set(ChangeSetName=created["Id"])
    assert status_of(hw, "chain") == "CREATE_COMPLETE"
    assert [status for lid, status in events_of(hw, "chain") if lid == "chain"] == [
        "REVIEW_IN_PROGRESS",
        "CREATE_IN_PROGRESS",
        "CREATE_COMPLETE",
    ]
    ids = physical_ids(hw, "chain")
    value = hw.client("ssm").get_parameter(Name=ids["B"])["Parameter"]["Value"]
    assert value == ids["A"] and ids["A"].startswith("CFN-A-")
    executed = cfn.describe_change_set(ChangeSetName=created["Id"])
    assert executed["ExecutionStatus"] == "EXECUTE_COMPLETE"


def test_update_change_set_describes_modifications_and_replacements(hw: Headwater) -> None:
    cfn = hw.client("cloudformation")
    cfn.create_stack(StackName="chain", TemplateBody=body(CHAIN))
    changed = json.loads(body(CHAIN))
    changed["Resources"]["A"]["Properties"]["Value"] = "new-root"
    changed["Resources"]["B"]["Properties"]["Name"] = "/fixed/b"
    created = cfn.create_change_set(
        StackName="chain", ChangeSetName="next", TemplateBody=body(changed)
    )
    described = cfn.describe_change_set(ChangeSetName=created["Id"], IncludePropertyValues=True)
    changes = {
        c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in described["Changes"]
    }
    assert changes["A"]["Action"] == "Modify" and changes["A"]["Replacement"] == "False"
    assert changes["A"]["Details"][0]["Target"]["BeforeValue"] == "root"
    assert changes["A"]["Details"][0]["Target"]["AfterValue"] == "new-root"
    assert changes["B"]["Replacement"] == "True"
    assert changes["B"]["PolicyAction"] == "ReplaceAndDelete"
    names = {
        d["Target"]["Name"]: d["Target"]["RequiresRecreation"] for d in changes["B"]["Details"]
    }
    assert names == {"Name": "Always"}
    old_b = physical_ids(hw, "chain")["B"]
    cfn.execute_change_set(ChangeSetName=created["Id"])
    assert status_of(hw, "chain") == "UPDATE_COMPLETE"
    assert physical_ids(hw, "chain")["B"] == "/fixed/b"
    with pytest.raises(ClientError):
        hw.client("ssm").get_parameter(Name=old_b)


def test_empty_change_set_fails_and_cannot_execute(hw: Headwater) -> None:
    cfn = hw.client("cloudformation")
    cfn.create_stack(StackName="chain", TemplateBody=body(CHAIN))
    created = cfn.create_change_set(
        StackName="chain", ChangeSetName="same", TemplateBody=body(CHAIN)
    )
    described = cfn.describe_change_set(ChangeSetName=created["Id"])
    assert described["Status"] == "FAILED"
    assert described["ExecutionStatus"] == "UNAVAILABLE"
    assert described["StatusReason"] == (
        "The submitted information didn't contain changes. Submit different information to "
        "create a change set."
    )
    with pytest.raises(ClientError) as caught:
        cfn.execute_change_set(ChangeSetName=created["Id"])
    assert caught.value.response["Error"]["Code"] == "InvalidChangeSetStatus"
    assert caught.value.response["Error"]["Message"] == (
        f"ChangeSet [{created['Id']}] cannot be executed in its current status of [FAILED]"
    )
    cfn.delete_change_set(ChangeSetName=created["Id"])
    with pytest.raises(ClientError) as missing:
        cfn.describe_change_set(ChangeSetName=created["Id"])
    assert missing.value.response["Error"]["Code"] == "ChangeSetNotFound"


def test_change_set_errors(hw: Headwater) -> None:
    cfn = hw.client("cloudformation")
    cfn.create_stack(StackName="chain", TemplateBody=body(CHAIN))
    with pytest.raises(
        ClientError,
        match=r"Stack \[chain\] already exists and cannot be created "
        r"again with the changeSet \[again\]\.",
    ):
        cfn.create_change_set(
            StackName="chain",
            ChangeSetName="again",
            TemplateBody=body(CHAIN),
            ChangeSetType="CREATE",
        )
    with pytest.raises(ClientError, match=r"Stack \[nostack\] does not exist"):
        cfn.create_change_set(StackName="nostack", ChangeSetName="u", TemplateBody=body(CHAIN))
    with pytest.raises(ClientError, match="StackName must be specified if ChangeSetName is not"):
        cfn.delete_change_set(ChangeSetName="plain-name")
    needs = {"Parameters": {"Input": {"Type": "String"}}, **CHAIN}
    with pytest.raises(ClientError, match=r"Parameters: \[Input\] must have values"):
        cfn.create_change_set(
            StackName="p", ChangeSetName="c", TemplateBody=body(needs), ChangeSetType="CREATE"
        )


def test_missing_export_warns_then_fails_on_execute(hw: Headwater) -> None:
    cfn = hw.client("cloudformation")
    template = {
        "Resources": {
            "MyFoo": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Type": "String", "Value": {"Fn::ImportValue": "nope"}},
            }
        }
    }
    created = cfn.create_change_set(
        StackName="imp", ChangeSetName="c", ChangeSetType="CREATE", TemplateBody=body(template)
    )
    described = cfn.describe_change_set(ChangeSetName=created["Id"])
    assert described["Status"] == "CREATE_COMPLETE"
    assert described["StatusReason"] == (
        "[WARN] --include-property-values option can return incomplete ChangeSet data because: "
        "ChangeSet creation failed for resource [MyFoo] because: No export named nope found."
    )
    cfn.execute_change_set(ChangeSetName=created["Id"])
    assert status_of(hw, created["StackId"]) == "ROLLBACK_COMPLETE"


def test_template_operations(hw: Headwater) -> None:
    cfn = hw.client("cloudformation")
    yaml_body = (
        "Description: two params\nResources:\n  A:\n    Type: AWS::SSM::Parameter\n"
        "    Properties: {Type: String, Value: !Sub '${AWS::Region}'}\n"
    )
    cfn.create_stack(StackName="tpl", TemplateBody=yaml_body)
    assert cfn.get_template(StackName="tpl")["TemplateBody"] == yaml_body
    processed = cfn.get_template(StackName="tpl", TemplateStage="Processed")["TemplateBody"]
    # A JSON body is a dict, as boto3 decodes it (its after-call handler); YAML stays text.
    assert processed["Resources"]["A"]["Properties"]["Value"] == {"Fn::Sub": "${AWS::Region}"}
    summary = cfn.get_template_summary(StackName="tpl")
    assert summary["ResourceTypes"] == ["AWS::SSM::Parameter"]
    assert summary["Description"] == "two params"
    valid = cfn.validate_template(
        TemplateBody=body(
            {"Parameters": {"KeyExample": {"Type": "String", "Description": "The key"}}, **CHAIN}
        )
    )
    assert valid["Parameters"] == [
        {"ParameterKey": "KeyExample", "NoEcho": False, "Description": "The key"}
    ]
    with pytest.raises(ClientError, match="Either Template URL or Template Body must be specified"):
        cfn.validate_template()


def test_validate_template_accepts_a_sam_template_with_globals(hw: Headwater) -> None:
    # Globals is SAM's section, gone once the transform ran; it was refused as an invalid
    # template property, so `aws cloudformation validate-template` failed on SAM templates
    cfn = hw.client("cloudformation")
    sam = {
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": "sam",
        "Parameters": {"Stage": {"Type": "String", "Default": "dev"}},
        "Globals": {"Function": {"Runtime": "python3.12", "Timeout": 10}},
        "Resources": {
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"CodeUri": "s3://code/fn.zip", "Handler": "app.handler"},
            }
        },
    }
    valid = cfn.validate_template(TemplateBody=body(sam))
    assert valid["DeclaredTransforms"] == ["AWS::Serverless-2016-10-31"]
    assert valid["Description"] == "sam"
    assert valid["Parameters"] == [
        {"ParameterKey": "Stage", "DefaultValue": "dev", "NoEcho": False}
    ]
    # without the transform, Globals is still not a template section
    plain = {key: value for key, value in sam.items() if key != "Transform"}
    with pytest.raises(ClientError, match=r"Invalid template property or properties \[Globals\]"):
        cfn.validate_template(TemplateBody=body(plain))
