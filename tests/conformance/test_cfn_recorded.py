"""CloudFormation responses recorded against AWS, replayed in process.

The data (tests/data/recorded/cloudformation.json, see tests/data/NOTICE) is what AWS
answered in LocalStack's snapshot tests: stack and change-set status sequences, events
and error texts. Each test repeats the recorded calls with the same inputs and compares
the answers structurally (placeholders such as ``<stack-name:1>`` match any string).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock

RECORDED = Path(__file__).resolve().parents[1] / "data" / "recorded" / "cloudformation.json"
_ENTRIES = json.loads(RECORDED.read_text("utf-8"))
PLACEHOLDER = re.compile(r"<[^<>]+>|111111111111")


def recorded(test: str) -> dict[str, Any]:
    """The snapshot of the entry whose test id ends with ``test``."""
    found = [e for e in _ENTRIES if e["test"].endswith(test)]
    assert len(found) == 1, test
    snapshot: dict[str, Any] = found[0]["snapshot"]
    return snapshot


#: Values AWS generates on each run that the recording kept literally (LocalStack's tests
#: skip them): only their presence is compared.
GENERATED = frozenset({"PhysicalResourceId", "EventId", "ResourceProperties"})


def like(expected: Any, actual: Any, path: str = "$") -> None:
    """Structural match: recorded keys present, placeholders match any string."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: {actual!r} is not an object"
        for key, value in expected.items():
            if key == "ResponseMetadata":
                continue
            assert key in actual, f"{path}: missing {key} in {sorted(actual)}"
            if key not in GENERATED:
                like(value, actual[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(expected) == len(actual), (
            f"{path}: {actual!r} != {expected!r}"
        )
        for index, (left, right) in enumerate(zip(expected, actual, strict=True)):
            like(left, right, f"{path}[{index}]")
    elif isinstance(expected, str) and expected in ("datetime", "timestamp", "date"):
        is_epoch = isinstance(actual, str) and actual.isdigit()  # SQS's timestamps
        assert hasattr(actual, "isoformat") or is_epoch, f"{path}: {actual!r} is not a time"
    elif isinstance(expected, str) and PLACEHOLDER.search(expected):
        assert isinstance(actual, str), f"{path}: {actual!r} is not a string"
        literal = [re.escape(part) for part in PLACEHOLDER.split(expected)]
        assert re.fullmatch(".+".join(literal), actual, re.DOTALL), f"{path}: {actual!r}"
    else:
        assert expected == actual, f"{path}: {actual!r} != {expected!r}"


def error_of(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response: dict[str, Any] = caught.value.response
    return response


@pytest.fixture
def hw() -> Iterator[Headwater]:
    with Headwater.in_memory(clock=ManualClock()) as app:
        yield app


@pytest.fixture
def cfn(hw: Headwater) -> Any:
    return hw.client("cloudformation")


def chain(order: str) -> str:
    resources = {
        "A": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": "root"}},
        "B": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Type": "String", "Value": {"Ref": "A"}},
        },
        "C": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Type": "String", "Value": {"Ref": "B"}},
        },
    }
    return json.dumps({"Resources": {name: resources[name] for name in order}})


@pytest.mark.parametrize("order", ["A-B-C", "A-C-B", "B-A-C", "B-C-A", "C-A-B", "C-B-A"])
def test_stack_deploy_order(cfn: Any, order: str) -> None:
    expected = recorded(f"test_stack_deploy_order[{order}]")["events"]
    stack_id = cfn.create_stack(StackName="order", TemplateBody=chain(order.replace("-", "")))[
        "StackId"
    ]
    cfn.delete_stack(StackName="order")
    events = cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
    kept = [
        e
        for e in reversed(events)
        if e["LogicalResourceId"] in "ABC" and e["ResourceStatus"].endswith("_COMPLETE")
    ]
    like(expected, kept)
    physical = {e["LogicalResourceId"]: e["PhysicalResourceId"] for e in kept}
    values = {e["LogicalResourceId"]: json.loads(e["ResourceProperties"])["Value"] for e in kept}
    assert values == {"A": "root", "B": physical["A"], "C": physical["B"]}
    assert all(re.fullmatch(r"CFN-[ABC]-[A-Za-z0-9]{12}", p) for p in physical.values())


DELETION_TEMPLATE = {
    "Resources": {
        "Dummy": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Type": "String", "Value": "dummy"},
        },
        "A": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Type": "String", "Value": "root"},
            "DependsOn": ["Dummy"],
        },
        "B": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Type": "String", "Value": {"Ref": "A"}},
        },
        "C": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Type": "String", "Value": {"Ref": "B"}},
        },
    }
}


def per_resource_events(cfn: Any, stack_id: str) -> dict[str, list[dict[str, Any]]]:
    """Events per resource ("Stack" for the stack), consecutive repeats folded, as recorded."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for event in reversed(cfn.describe_stack_events(StackName=stack_id)["StackEvents"]):
        if event["ResourceStatus"] == "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS":
            continue
        name = (
            "Stack"
            if event["LogicalResourceId"] == event["StackName"]
            else event["LogicalResourceId"]
        )
        mine = grouped.setdefault(name, [])
        if mine and mine[-1]["ResourceStatus"] == event["ResourceStatus"]:
            continue
        mine.append(event)
    return grouped


def sorted_changes(described: dict[str, Any]) -> dict[str, Any]:
    described["Changes"].sort(key=lambda c: c["ResourceChange"]["LogicalResourceId"])
    for change in described["Changes"]:
        for key in ("BeforeContext", "AfterContext"):
            if key in change["ResourceChange"]:
                change["ResourceChange"][key] = json.loads(change["ResourceChange"][key])
    return described


@pytest.mark.parametrize("deletions", ["C", "B-C", "A-B-C"])
def test_stack_deletion_order(cfn: Any, deletions: str) -> None:
    snapshot = recorded(f"test_stack_deletion_order[{deletions}]")
    t2 = json.loads(json.dumps(DELETION_TEMPLATE))
    for name in deletions.split("-"):
        del t2["Resources"][name]
    first = cfn.create_change_set(
        StackName="del",
        ChangeSetName="cs",
        ChangeSetType="CREATE",
        TemplateBody=json.dumps(DELETION_TEMPLATE),
    )
    like(snapshot["create-change-set-1"], first)
    like(
        snapshot["describe-change-set-1-prop-values"],
        sorted_changes(
            cfn.describe_change_set(ChangeSetName=first["Id"], IncludePropertyValues=True)
        ),
    )
    like(
        snapshot["describe-change-set-1"],
        sorted_changes(cfn.describe_change_set(ChangeSetName=first["Id"])),
    )
    cfn.execute_change_set(ChangeSetName=first["Id"])
    like(
        snapshot["post-create-1-describe"],
        cfn.describe_stacks(StackName=first["StackId"])["Stacks"][0],
    )
    second = cfn.create_change_set(
        StackName="del", ChangeSetName="cs", ChangeSetType="UPDATE", TemplateBody=json.dumps(t2)
    )
    described = sorted_changes(
        cfn.describe_change_set(ChangeSetName=second["Id"], IncludePropertyValues=True)
    )
    expected = snapshot["describe-change-set-2-prop-values"]
    for change in expected["Changes"]:  # a removed resource's value is the deployed one
        change["ResourceChange"]["BeforeContext"]["Properties"].pop("Value")
    like(expected, described)
    cfn.execute_change_set(ChangeSetName=second["Id"])
    like(
        snapshot["post-create-2-describe"],
        cfn.describe_stacks(StackName=first["StackId"])["Stacks"][0],
    )
    cfn.delete_stack(StackName="del")
    like(snapshot["delete-describe"], cfn.describe_stacks(StackName=first["StackId"])["Stacks"][0])
    events = per_resource_events(cfn, first["StackId"])
    for name, expected_events in snapshot["per-resource-events"].items():
        statuses = [e["ResourceStatus"] for e in events[name]]
        assert statuses == [e["ResourceStatus"] for e in expected_events], name
    all_events = [
        [e["LogicalResourceId"], e["ResourceStatus"]]
        for e in reversed(cfn.describe_stack_events(StackName=first["StackId"])["StackEvents"])
        if e["ResourceStatus"].endswith(("_COMPLETE", "_IN_PROGRESS"))
        and "CLEANUP" not in e["ResourceStatus"]
        and e.get("ResourceStatusReason") != "Resource creation Initiated"
    ]
    expected_all = [
        ["del" if "<stack-name" in lid else lid, status] for lid, status in snapshot["all-events"]
    ]
    assert all_events == expected_all


MINIMAL_TEMPLATE = """
Resources:
    SimpleParam:
        Type: AWS::SSM::Parameter
        Properties:
            Value: test
            Type: String
"""


def test_name_conflicts(cfn: Any) -> None:
    snapshot = recorded("api/test_stacks.py::test_name_conflicts")
    stack_id = cfn.create_stack(StackName="repeated", TemplateBody=MINIMAL_TEMPLATE)["StackId"]
    like(
        snapshot["create_stack_already_exists_exc"],
        error_of(cfn.create_stack, StackName="repeated", TemplateBody=MINIMAL_TEMPLATE),
    )
    assert (
        cfn.describe_stacks(StackName="repeated")["Stacks"][0]["StackStatus"]
        == snapshot["created_stack_desc"]
    )
    cfn.delete_stack(StackName="repeated")
    like(
        snapshot["deleted_stack_not_found_exc"], error_of(cfn.describe_stacks, StackName="repeated")
    )
    like(
        snapshot["deleted_stack_events_not_found_by_name"],
        error_of(cfn.describe_stack_events, StackName="repeated"),
    )
    like(snapshot["deleted_stack_desc"], cfn.describe_stacks(StackName=stack_id))
    new_id = cfn.create_stack(StackName="repeated", TemplateBody=MINIMAL_TEMPLATE)["StackId"]
    assert new_id != stack_id
    like(snapshot["new_stack_desc"], cfn.describe_stacks(StackName="repeated"))
    like(snapshot["stack_id_desc"], cfn.describe_stacks(StackName=stack_id))
    like(snapshot["new_stack_id_desc"], cfn.describe_stacks(StackName=new_id))
    events = cfn.describe_stack_events(StackName="repeated")["StackEvents"]
    assert {e["StackId"] for e in events} == {new_id}
    cfn.delete_stack(StackName="repeated")
    like(snapshot["deleted_second_stack_desc"], cfn.describe_stacks(StackName=new_id))


def test_stack_errors(cfn: Any) -> None:
    like(
        recorded("test_describe_stack_events_errors")["describe_stack_events_stack_not_found"],
        error_of(cfn.describe_stack_events, StackName="does-not-exist"),
    )
    like(
        recorded("test_non_existing_stack_message")["Error"],
        error_of(cfn.describe_stacks, StackName="non-existing"),
    )
    cfn.create_stack(StackName="s", TemplateBody=MINIMAL_TEMPLATE)
    like(
        recorded("test_stack_resource_not_found")["Error"],
        error_of(
            cfn.describe_stack_resource, StackName="s", LogicalResourceId="NonExistentResource"
        ),
    )
    like(
        recorded("test_update_stack_with_same_template_withoutchange")["no_change_exception"],
        error_of(cfn.update_stack, StackName="s", TemplateBody=MINIMAL_TEMPLATE),
    )
    like(recorded("test_no_template_error")["error"], error_of(cfn.update_stack, StackName="s"))
    stack_id = cfn.describe_stacks(StackName="s")["Stacks"][0]["StackId"]
    cfn.delete_stack(StackName="s")
    like(
        recorded("test_update_deleted_stack")["Error"],
        error_of(cfn.update_stack, StackName=stack_id, TemplateBody=MINIMAL_TEMPLATE),
    )
    expected = recorded("test_create_stack_url_as_template")["stack_create_ec2"]
    with pytest.raises(ClientError) as url_body:
        cfn.create_stack(StackName="url", TemplateBody="https://example.com/template.yml")
    message = str(url_body.value)
    assert message == expected
    with pytest.raises(ClientError) as caught:
        cfn.create_stack(StackName="*@da591fa3_$", TemplateBody=MINIMAL_TEMPLATE)
    assert "Member must satisfy regular expression pattern" in str(caught.value)


def test_validation_errors(cfn: Any) -> None:
    cases = {
        "test_invalid_output_structure[none-value]": {"MyOutput": {"Value": None}},
        "test_invalid_output_structure[missing-def]": {
            "MyOutput": {"Value": None, "AnotherValue": None}
        },
        "test_invalid_output_structure[multiple-nones]": {"MyOutput": {}},
    }
    for test, outputs in cases.items():
        template = {
            "Resources": {
                "Foo": {
                    "Type": "AWS::SSM::Parameter",
                    "Properties": {"Type": "String", "Value": "x"},
                }
            },
            "Outputs": outputs,
        }
        like(
            recorded(test)["validation-error"],
            error_of(cfn.create_stack, StackName="v", TemplateBody=json.dumps(template)),
        )
    like(
        recorded("test_missing_resources_block")["validation-error"],
        error_of(cfn.create_stack, StackName="v", TemplateBody="{}"),
    )
    like(
        recorded("test_resources_blocks[missing-type]")["validation-error"],
        error_of(
            cfn.create_stack,
            StackName="v",
            TemplateBody=json.dumps({"Resources": {"A": {"Properties": {}}}}),
        ),
    )
    like(
        recorded("test_resources_blocks[invalid-key]")["validation-error"],
        error_of(
            cfn.create_stack,
            StackName="v",
            TemplateBody=json.dumps(
                {"Resources": {"A": {"Type": "AWS::SSM::Parameter", "Invalid": 10}}}
            ),
        ),
    )
    like(
        recorded("test_validate_invalid_json_template_should_fail")["validate-invalid-json"],
        error_of(cfn.validate_template, TemplateBody='{"this is invalid JSON"="bobbins"}'),
    )
    like(
        recorded("test_create_stack_invalid_yaml_template_should_fail")["create-invalid-yaml"],
        error_of(cfn.create_stack, StackName="v", TemplateBody="Resources:\n  A: [\n"),
    )
    like(
        recorded("test_get_template_summary_no_resources")["error"],
        error_of(cfn.get_template_summary, TemplateBody=json.dumps({"Resources": {}})),
    )
    for which in ("resource", "parameter"):
        section = "Resources" if which == "resource" else "Parameters"
        template: dict[str, Any] = {
            "Resources": {
                "Param": {
                    "Type": "AWS::SSM::Parameter",
                    "Properties": {"Type": "String", "Value": "v"},
                }
            }
        }
        template.setdefault(section, {})["AWS::NoValue"] = (
            {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": "v"}}
            if which == "resource"
            else {"Type": "String"}
        )
        like(
            recorded(f"test_using_pseudoparameters_in_places[{which}]")["error"],
            error_of(
                cfn.create_change_set,
                StackName="p",
                ChangeSetName="c",
                ChangeSetType="CREATE",
                TemplateBody=json.dumps(template),
            ),
        )


def test_get_template_errors(cfn: Any) -> None:
    like(
        recorded("test_get_template_missing_resources_stack")["stack-error"],
        error_of(cfn.get_template, StackName="does-not-exist"),
    )
    like(
        recorded("test_get_template_missing_resources_change_set")["change-set-error"],
        error_of(cfn.get_template, ChangeSetName="does-not-exist"),
    )
    like(recorded("test_get_template_no_arguments")["stack-error"], error_of(cfn.get_template))
    missing = "arn:aws:cloudformation:us-east-1:000000000000:changeSet/x/0000"
    like(
        recorded("test_get_template_missing_resources_change_set_id")["change-set-error"],
        error_of(cfn.get_template, ChangeSetName=missing),
    )
    created = cfn.create_change_set(
        StackName="review", ChangeSetName="c", ChangeSetType="CREATE", TemplateBody=MINIMAL_TEMPLATE
    )
    like(
        recorded("test_get_template_summary_non_executed_change_set")["error"],
        error_of(cfn.get_template_summary, StackName=created["StackId"]),
    )


def test_change_set_errors(cfn: Any) -> None:
    like(
        {"e1": recorded("test_delete_change_set_exception")["e1"]},
        {"e1": error_of(cfn.delete_change_set, StackName="nostack", ChangeSetName="DoesNotExist")},
    )
    like(
        recorded("test_delete_change_set_exception")["e2"],
        error_of(cfn.delete_change_set, ChangeSetName="DoesNotExist"),
    )
    expected = recorded("test_describe_change_set_nonexisting")["exception"]
    with pytest.raises(ClientError) as caught:
        cfn.describe_change_set(StackName="somestack", ChangeSetName="DoesNotExist")
    assert str(caught.value) == expected
    created = cfn.create_change_set(
        StackName="d", ChangeSetName="c", ChangeSetType="CREATE", TemplateBody=MINIMAL_TEMPLATE
    )
    cfn.delete_change_set(ChangeSetName=created["Id"])
    with pytest.raises(ClientError) as caught:
        cfn.describe_change_set(ChangeSetName=created["Id"])
    assert str(caught.value) == recorded("test_deleted_changeset")[
        "postdelete_changeset_notfound"
    ].replace(
        "arn:<partition>:cloudformation:<region>:111111111111:changeSet/<resource:1>", created["Id"]
    )
    needs_input = {
        "Parameters": {"Input": {"Type": "String"}},
        "Resources": {
            "P": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Type": "String", "Value": {"Ref": "Input"}},
            }
        },
    }
    with pytest.raises(ClientError) as no_value:
        cfn.create_change_set(
            StackName="np",
            ChangeSetName="c",
            ChangeSetType="CREATE",
            TemplateBody=json.dumps(needs_input),
        )
    assert str(no_value.value) == recorded("test_no_parameters_given")["deploy-error"]


def test_change_sets_for_existing_and_deleted_stacks(cfn: Any) -> None:
    stack_id = cfn.create_stack(StackName="x", TemplateBody=MINIMAL_TEMPLATE)["StackId"]
    conflict = recorded("test_changesets.py::test_name_conflicts")
    like(
        conflict["create_changeset_existingstack_exc"],
        error_of(
            cfn.create_change_set,
            StackName="x",
            ChangeSetName="cs",
            ChangeSetType="CREATE",
            TemplateBody=MINIMAL_TEMPLATE,
        ),
    )
    cfn.delete_stack(StackName="x")
    deleted = recorded("test_create_changeset_for_deleted_stack")
    like(
        deleted["ErrorForCreate"],
        error_of(
            cfn.create_change_set,
            StackName=stack_id,
            ChangeSetName="test",
            ChangeSetType="CREATE",
            TemplateBody=MINIMAL_TEMPLATE,
        ),
    )
    like(
        deleted["ErrorForUpdate"],
        error_of(
            cfn.create_change_set,
            StackName=stack_id,
            ChangeSetName="test",
            ChangeSetType="UPDATE",
            TemplateBody=MINIMAL_TEMPLATE,
        ),
    )
    review = cfn.create_change_set(
        StackName="x", ChangeSetName="cs", ChangeSetType="CREATE", TemplateBody=MINIMAL_TEMPLATE
    )
    like(conflict["new_stack_desc"], cfn.describe_stacks(StackName="x"))
    like(
        conflict["stack_id_desc"]["Stacks"][0]["StackStatus"],
        cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"],
    )
    listed = cfn.list_change_sets(StackName="x")
    like(recorded("test_list_change_sets")["change-sets"], listed)
    assert listed["Summaries"][0]["ChangeSetId"] == review["Id"]


CDK_METADATA_TEMPLATE = {
    "Resources": {
        "CDKMetadata": {
            "Type": "AWS::CDK::Metadata",
            "Properties": {"Analytics": "v2:deflate64:H4sIAAAAAAAA"},
        },
    }
}


def test_empty_change_set(cfn: Any) -> None:
    snapshot = recorded("test_empty_changeset")
    body = json.dumps(CDK_METADATA_TEMPLATE)
    capabilities = ["CAPABILITY_AUTO_EXPAND", "CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
    first = cfn.create_change_set(
        StackName="cdk",
        ChangeSetName="first",
        TemplateBody=body,
        ChangeSetType="CREATE",
        Capabilities=capabilities,
    )
    like(snapshot["first_changeset"], first)
    like(snapshot["describe_first_cs"], cfn.describe_change_set(ChangeSetName=first["Id"]))
    cfn.execute_change_set(ChangeSetName=first["Id"])
    second = cfn.create_change_set(
        StackName="cdk",
        ChangeSetName="second",
        TemplateBody=body,
        ChangeSetType="UPDATE",
        Capabilities=capabilities,
    )
    like(snapshot["describe_nochange"], cfn.describe_change_set(ChangeSetName=second["Id"]))
    with pytest.raises(ClientError) as caught:
        cfn.execute_change_set(ChangeSetName=second["Id"])
    assert str(caught.value) == snapshot["error_execute_failed"].replace(
        "arn:<partition>:cloudformation:<region>:111111111111:changeSet/<resource:3>", second["Id"]
    )
    third = cfn.create_change_set(
        StackName="cdk", ChangeSetName="third", TemplateBody=body, ChangeSetType="UPDATE"
    )
    like(
        recorded("test_create_change_set_no_changes")["change-set-description"],
        cfn.describe_change_set(ChangeSetName=third["Id"]),
    )


def test_stack_lifecycle_statuses(cfn: Any) -> None:
    snapshot = recorded("TestStacksApi::test_stack_lifecycle")
    template = json.dumps(
        {
            "Parameters": {"ApiName": {"Type": "String"}},
            "Resources": {
                "Api": {
                    "Type": "AWS::SSM::Parameter",
                    "Properties": {"Type": "String", "Value": {"Ref": "ApiName"}},
                }
            },
        }
    )
    capabilities = ["CAPABILITY_AUTO_EXPAND", "CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
    for round_, name in enumerate(("creation", "update")):
        created = cfn.create_change_set(
            StackName="life",
            ChangeSetName=f"cs{round_}",
            TemplateBody=template,
            ChangeSetType="CREATE" if round_ == 0 else "UPDATE",
            Capabilities=capabilities,
            Parameters=[{"ParameterKey": "ApiName", "ParameterValue": f"api-{round_}"}],
        )
        cfn.execute_change_set(ChangeSetName=created["Id"])
        like(snapshot[name], cfn.describe_stacks(StackName="life")["Stacks"][0])
    stack_id = created["StackId"]
    cfn.delete_stack(StackName="life")
    like(snapshot["describe_deleted_by_name_exc"], error_of(cfn.describe_stacks, StackName="life"))
    like(snapshot["deleted"], cfn.describe_stacks(StackName=stack_id)["Stacks"][0])


def test_describe_change_set_import(cfn: Any) -> None:
    missing = recorded("test_describe_change_set_import_non_existent_export")
    template = json.dumps(
        {
            "Resources": {
                "MyFoo": {
                    "Type": "AWS::SSM::Parameter",
                    "Properties": {"Type": "String", "Value": {"Fn::ImportValue": "export-name"}},
                }
            }
        }
    )
    created = cfn.create_change_set(
        StackName="imp", ChangeSetName="c", ChangeSetType="CREATE", TemplateBody=template
    )
    described = cfn.describe_change_set(ChangeSetName=created["Id"], IncludePropertyValues=True)
    expected = missing["describe_with_values"]
    expected["StatusReason"] = expected["StatusReason"].replace(
        "<export-name>", "export-name found."
    )
    like(expected, sorted_changes(described))
    cfn.execute_change_set(ChangeSetName=created["Id"])
    like(
        missing["post-deploy-stack-describe"],
        cfn.describe_stacks(StackName=created["StackId"])["Stacks"][0],
    )


def queue_template(queue: dict[str, Any], dlq: dict[str, Any] | None = None) -> str:
    resources: dict[str, Any] = {"StandardQueue": {"Type": "AWS::SQS::Queue", "Properties": queue}}
    outputs = {
        "QueueUrl": {"Value": {"Ref": "StandardQueue"}},
        "QueueArn": {"Value": {"Fn::GetAtt": ["StandardQueue", "Arn"]}},
    }
    if dlq is not None:
        resources["DeadLetterQueue"] = {"Type": "AWS::SQS::Queue", "Properties": dlq}
        outputs["DeadLetterQueueUrl"] = {"Value": {"Ref": "DeadLetterQueue"}}
    return json.dumps({"Resources": resources, "Outputs": outputs})


def outputs(cfn: Any, stack: str) -> dict[str, str]:
    found = cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]
    return {o["OutputKey"]: o["OutputValue"] for o in found}


REDRIVE = {"deadLetterTargetArn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}


def attributes(hw: Headwater, url: str) -> dict[str, Any]:
    found = hw.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    for key in ("RedrivePolicy", "RedriveAllowPolicy"):
        if key in found["Attributes"]:
            found["Attributes"][key] = json.loads(found["Attributes"][key])
    return found


def test_sqs_queue_resources(hw: Headwater, cfn: Any) -> None:
    required = recorded("test_create_standard_queue_with_required_properties")
    cfn.create_stack(StackName="req", TemplateBody=queue_template({}))
    url = outputs(cfn, "req")["QueueUrl"]
    assert "StandardQueue" in url and not url.endswith(".fifo")
    like(required["attributes"], attributes(hw, url))

    every = recorded("test_create_standard_queue_with_all_properties")
    properties = {
        "QueueName": "MyStandardQueueWithAllProperties",
        "DelaySeconds": 17,
        "MaximumMessageSize": 1234,
        "MessageRetentionPeriod": 13579,
        "ReceiveMessageWaitTimeSeconds": 18,
        "VisibilityTimeout": 45,
        "RedrivePolicy": {**REDRIVE, "maxReceiveCount": 7},
        "SqsManagedSseEnabled": False,
        "KmsMasterKeyId": "alias/aws/sqs",
        "KmsDataKeyReusePeriodSeconds": 297,
        "Tags": [
            {"Key": "Environment", "Value": "Production"},
            {"Key": "Department", "Value": "Finance"},
        ],
    }
    dlq = {"RedriveAllowPolicy": {"redrivePermission": "allowAll"}}
    cfn.create_stack(StackName="all", TemplateBody=queue_template(properties, dlq))
    out = outputs(cfn, "all")
    like(every["attributes"], attributes(hw, out["QueueUrl"]))
    like(every["tags"], hw.sqs.list_queue_tags(QueueUrl=out["QueueUrl"]))
    dlq_attributes = hw.sqs.get_queue_attributes(
        QueueUrl=out["DeadLetterQueueUrl"], AttributeNames=["RedriveAllowPolicy"]
    )
    assert (
        json.loads(dlq_attributes["Attributes"]["RedriveAllowPolicy"])
        == every["dlq_attributes"]["Attributes"]["RedriveAllowPolicy"]
    )

    in_place = recorded("test_update_standard_queue_modify_properties_in_place")
    changed = {
        **properties,
        "DelaySeconds": 16,
        "MaximumMessageSize": 4321,
        "MessageRetentionPeriod": 17539,
        "ReceiveMessageWaitTimeSeconds": 17,
        "VisibilityTimeout": 40,
        "RedrivePolicy": {**REDRIVE, "maxReceiveCount": 3},
        "Tags": [
            {"Key": "Environment", "Value": "Staging"},
            {"Key": "Department", "Value": "Sales"},
        ],
    }
    for key in ("SqsManagedSseEnabled", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds"):
        del changed[key]
    cfn.update_stack(StackName="all", TemplateBody=queue_template(changed, dlq))
    assert outputs(cfn, "all")["QueueUrl"] == out["QueueUrl"]
    like(in_place["updated_attributes"], attributes(hw, out["QueueUrl"]))
    like(in_place["updated_tags"], hw.sqs.list_queue_tags(QueueUrl=out["QueueUrl"]))

    renamed = {**changed, "QueueName": "MyStandardQueueWithADifferentName"}
    cfn.update_stack(StackName="all", TemplateBody=queue_template(renamed, dlq))
    replaced = outputs(cfn, "all")
    assert replaced["QueueUrl"] != out["QueueUrl"]
    assert replaced["DeadLetterQueueUrl"] == out["DeadLetterQueueUrl"]
    gone = recorded("test_update_standard_queue_add_properties_with_replacement")["error"]
    like(
        gone,
        error_of(hw.sqs.get_queue_attributes, QueueUrl=out["QueueUrl"], AttributeNames=["All"]),
    )

    fifo = recorded("test_create_fifo_queue_with_required_properties")
    cfn.create_stack(
        StackName="fifo",
        TemplateBody=json.dumps(
            {
                "Resources": {
                    "FifoQueue": {"Type": "AWS::SQS::Queue", "Properties": {"FifoQueue": True}}
                },
                "Outputs": {"QueueUrl": {"Value": {"Ref": "FifoQueue"}}},
            }
        ),
    )
    fifo_url = outputs(cfn, "fifo")["QueueUrl"]
    assert "FifoQueue" in fifo_url and fifo_url.endswith(".fifo")
    like(fifo["attributes"], attributes(hw, fifo_url))


def test_kinesis_stream_resource(hw: Headwater, cfn: Any) -> None:
    snapshot = recorded("test_kinesis.py::test_stream_creation")
    cfn.create_stack(
        StackName="k",
        TemplateBody=json.dumps(
            {
                "Resources": {
                    "TestStream": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1}}
                },
                "Outputs": {
                    "StreamNameFromRef": {"Value": {"Ref": "TestStream"}},
                    "StreamArnFromAtt": {"Value": {"Fn::GetAtt": ["TestStream", "Arn"]}},
                },
            }
        ),
    )
    like(snapshot["stack_output"], outputs(cfn, "k"))
    like(snapshot["resource_description"], cfn.describe_stack_resources(StackName="k"))
    name = outputs(cfn, "k")["StreamNameFromRef"]
    assert name.startswith("k-TestStream-")
    described = hw.kinesis.describe_stream(StreamName=name)
    assert described["StreamDescription"]["StreamStatus"] == "ACTIVE"
    assert described["StreamDescription"]["RetentionPeriodHours"] == 24
    assert len(described["StreamDescription"]["Shards"]) == 1


def topic_policy(hw: Headwater, arn: str) -> Any:
    return json.loads(hw.client("sns").get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])


def test_sns_topic_policy_resets_to_default(hw: Headwater, cfn: Any) -> None:
    snapshot = recorded("test_sns_topic_policy_resets_to_default")
    topic = {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "policy-topic"}}}
    policy = {
        "Type": "AWS::SNS::TopicPolicy",
        "Properties": {
            "Topics": [{"Ref": "Topic"}],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "0",
                        "Effect": "Allow",
                        "Principal": {"AWS": "*"},
                        "Action": "sns:Publish",
                        "Resource": {"Ref": "Topic"},
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
                        },
                    }
                ],
            },
        },
    }
    outputs_section = {"Arn": {"Value": {"Ref": "Topic"}}}
    cfn.create_stack(
        StackName="p", TemplateBody=json.dumps({"Resources": topic, "Outputs": outputs_section})
    )
    arn = outputs(cfn, "p")["Arn"]
    like(snapshot["default-topic-attributes"], topic_policy(hw, arn))
    cfn.update_stack(
        StackName="p",
        TemplateBody=json.dumps(
            {"Resources": {**topic, "Policy": policy}, "Outputs": outputs_section}
        ),
    )
    like(snapshot["modified-topic-attributes"], topic_policy(hw, arn))
    cfn.update_stack(
        StackName="p", TemplateBody=json.dumps({"Resources": topic, "Outputs": outputs_section})
    )
    like(snapshot["reverted-topic-attributes"], topic_policy(hw, arn))


def test_sns_subscription_update(hw: Headwater, cfn: Any) -> None:
    snapshot = recorded("test_sns.py::test_update_subscription")

    def template(raw: bool) -> str:
        return json.dumps(
            {
                "Resources": {
                    "Topic": {"Type": "AWS::SNS::Topic"},
                    "Queue": {"Type": "AWS::SQS::Queue"},
                    "Sub": {
                        "Type": "AWS::SNS::Subscription",
                        "Properties": {
                            "TopicArn": {"Ref": "Topic"},
                            "Protocol": "sqs",
                            "Endpoint": {"Fn::GetAtt": ["Queue", "Arn"]},
                            "RawMessageDelivery": raw,
                        },
                    },
                },
                "Outputs": {"Sub": {"Value": {"Ref": "Sub"}}},
            }
        )

    sns = hw.client("sns")
    cfn.create_stack(StackName="sub", TemplateBody=template(True))
    arn = outputs(cfn, "sub")["Sub"]
    expected = snapshot["subscription-1"]
    expected["Attributes"].pop("SubscriptionPrincipal")  # the caller's IAM user: none here
    like(expected, sns.get_subscription_attributes(SubscriptionArn=arn))
    cfn.update_stack(StackName="sub", TemplateBody=template(False))
    assert outputs(cfn, "sub")["Sub"] == arn  # updated in place
    expected = snapshot["subscription-2"]
    expected["Attributes"].pop("SubscriptionPrincipal")
    like(expected, sns.get_subscription_attributes(SubscriptionArn=arn))


def test_sns_fifo_topics(hw: Headwater, cfn: Any) -> None:
    cfn.create_stack(
        StackName="fifo",
        TemplateBody=json.dumps(
            {
                "Resources": {
                    "Topic": {
                        "Type": "AWS::SNS::Topic",
                        "Properties": {
                            "TopicName": "orders.fifo",
                            "FifoTopic": True,
                            "ContentBasedDeduplication": True,
                        },
                    }
                },
                "Outputs": {"Arn": {"Value": {"Ref": "Topic"}}},
            }
        ),
    )
    attributes = hw.client("sns").get_topic_attributes(TopicArn=outputs(cfn, "fifo")["Arn"])
    expected = recorded("test_sns_topic_fifo_with_deduplication")["get-topic-attrs"]
    for key in ("FifoTopic", "ContentBasedDeduplication", "TopicArn", "Owner"):
        like(expected["Attributes"][key], attributes["Attributes"][key])
    failed = recorded("test_sns_topic_fifo_without_suffix_fails")["describe-stack"]
    stack_id = cfn.create_stack(
        StackName="nofifo",
        TemplateBody=json.dumps(
            {
                "Parameters": {"TopicName": {"Type": "String"}},
                "Resources": {
                    "Topic": {
                        "Type": "AWS::SNS::Topic",
                        "Properties": {"TopicName": {"Ref": "TopicName"}, "FifoTopic": True},
                    }
                },
            }
        ),
        Parameters=[{"ParameterKey": "TopicName", "ParameterValue": "no-suffix"}],
    )["StackId"]
    described = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
    failed.pop("LastUpdatedTime")  # recorded through a change set; this stack was never updated
    like(failed, described)


def test_list_events_after_deployment(cfn: Any) -> None:
    snapshot = recorded("test_list_events_after_deployment")["events"]
    created = cfn.create_change_set(
        StackName="events",
        ChangeSetName="c",
        ChangeSetType="CREATE",
        TemplateBody=json.dumps(
            {
                "Resources": {
                    "topic123": {
                        "Type": "AWS::SNS::Topic",
                        "Properties": {"TopicName": "topic-name"},
                    }
                }
            }
        ),
    )
    cfn.execute_change_set(ChangeSetName=created["Id"])
    events = cfn.describe_stack_events(StackName="events")["StackEvents"]
    oldest_first = list(reversed(events))
    for event in oldest_first:
        if "ResourceProperties" in event:
            event["ResourceProperties"] = json.loads(event["ResourceProperties"])
    like(snapshot["StackEvents"], oldest_first)


def test_lambda_event_invoke_config(hw: Headwater, cfn: Any) -> None:
    snapshot = recorded("test_lambda.py::test_event_invoke_config")
    cfn.create_stack(
        StackName="eic",
        Capabilities=["CAPABILITY_IAM"],
        TemplateBody=json.dumps(
            {
                "Resources": {
                    "Role": {
                        "Type": "AWS::IAM::Role",
                        "Properties": {
                            "AssumeRolePolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [
                                    {
                                        "Effect": "Allow",
                                        "Principal": {"Service": "lambda.amazonaws.com"},
                                        "Action": "sts:AssumeRole",
                                    }
                                ],
                            }
                        },
                    },
                    "Fn": {
                        "Type": "AWS::Lambda::Function",
                        "Properties": {
                            "Runtime": "python3.12",
                            "Handler": "index.handler",
                            "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                            "Code": {"ZipFile": "def handler(event, context):\n    return None\n"},
                        },
                    },
                    "Config": {
                        "Type": "AWS::Lambda::EventInvokeConfig",
                        "Properties": {
                            "FunctionName": {"Ref": "Fn"},
                            "Qualifier": "$LATEST",
                            "MaximumEventAgeInSeconds": 300,
                            "MaximumRetryAttempts": 1,
                        },
                    },
                },
                "Outputs": {"Name": {"Value": {"Ref": "Fn"}}},
            }
        ),
    )
    name = outputs(cfn, "eic")["Name"]
    found = hw.lambda_.get_function_event_invoke_config(FunctionName=name, Qualifier="$LATEST")
    like(snapshot["event_invoke_config"], found)
