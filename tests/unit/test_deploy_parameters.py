"""Parameters: defaults, previous values, types, constraints, NoEcho, SSM types, Rules."""

from __future__ import annotations

from typing import Any

import pytest

from headwater.core.errors import AwsError
from headwater.deploy.parameters import resolve_parameters, summary
from headwater.deploy.rules import check_rules

DECLARATIONS: dict[str, dict[str, Any]] = {
    "Env": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]},
    "Size": {"Type": "Number", "Default": 2, "MinValue": 1, "MaxValue": 10},
    "Ports": {"Type": "List<Number>", "Default": "80,443"},
    "Names": {"Type": "CommaDelimitedList", "Default": "a,b"},
    "Secret": {"Type": "String", "NoEcho": True, "MinLength": 3},
    "Code": {"Type": "String", "Default": "AB1", "AllowedPattern": "[A-Z]+[0-9]"},
}


def resolve(supplied: dict[str, str], **kwargs: Any) -> Any:
    items = [{"ParameterKey": k, "ParameterValue": v} for k, v in supplied.items()]
    return resolve_parameters(DECLARATIONS, items, **kwargs)


def test_defaults_types_and_no_echo() -> None:
    resolved = resolve({"Secret": "hunter2"})
    assert resolved.values == {
        "Env": "dev",
        "Size": "2",
        "Ports": ["80", "443"],
        "Names": ["a", "b"],
        "Secret": "hunter2",
        "Code": "AB1",
    }
    shown = {p["ParameterKey"]: p["ParameterValue"] for p in resolved.describe()}
    assert shown["Secret"] == "****"
    assert shown["Size"] == "2"


def test_previous_values_are_reused_on_request() -> None:
    items = [
        {"ParameterKey": "Secret", "UsePreviousValue": True},
        {"ParameterKey": "Env", "ParameterValue": "prod"},
    ]
    resolved = resolve_parameters(DECLARATIONS, items, previous={"Secret": "old-secret"})
    assert resolved.values["Secret"] == "old-secret"
    assert resolved.values["Env"] == "prod"
    with pytest.raises(AwsError, match="Cannot specify usePreviousValue"):
        resolve_parameters(DECLARATIONS, items, previous={})


@pytest.mark.parametrize(
    ("supplied", "message"),
    [
        ({}, "Parameters: [Secret] must have values"),
        ({"Secret": "abc", "Bogus": "1"}, "Parameters: [Bogus] do not exist in the template"),
        ({"Secret": "abc", "Env": "test"}, "Parameter 'Env' must be one of AllowedValues"),
        ({"Secret": "abc", "Size": "x"}, "Parameter 'Size' must be a number"),
        ({"Secret": "abc", "Size": "0"}, "Parameter 'Size' must be a number not less than 1"),
        ({"Secret": "abc", "Size": "11"}, "Parameter 'Size' must be a number not greater than 10"),
        ({"Secret": "ab"}, "Parameter 'Secret' must contain at least 3 characters"),
        ({"Secret": "abc", "Code": "ab1"}, "Parameter 'Code' must match pattern [A-Z]+[0-9]"),
        ({"Secret": "abc", "Ports": "80,http"}, "Parameter 'Ports' must be a number"),
    ],
)
def test_constraint_errors(supplied: dict[str, str], message: str) -> None:
    with pytest.raises(AwsError) as caught:
        resolve(supplied)
    assert caught.value.code == "ValidationError"
    assert caught.value.message == message


def test_constraint_description_replaces_the_generic_text() -> None:
    declarations = {
        "Name": {
            "Type": "String",
            "AllowedPattern": "[a-z]+",
            "ConstraintDescription": "lower-case letters only",
        }
    }
    with pytest.raises(AwsError) as caught:
        resolve_parameters(declarations, [{"ParameterKey": "Name", "ParameterValue": "X"}])
    assert (
        caught.value.message
        == "Parameter 'Name' failed to satisfy constraint: lower-case letters only"
    )


@pytest.mark.parametrize(
    ("declaration", "value", "message"),
    [
        (
            {"Type": "String", "MinLength": "three"},
            "abc",
            "Template format error: Parameter 'P' MinLength must be a number",
        ),
        (
            {"Type": "Number", "MaxValue": [10]},
            "1",
            "Template format error: Parameter 'P' MaxValue must be a number",
        ),
        (
            {"Type": "String", "AllowedPattern": "(a"},
            "a",
            "Template format error: Parameter 'P' AllowedPattern (a is not a valid regular "
            "expression",
        ),
    ],
)
def test_a_malformed_constraint_is_a_template_error(
    declaration: dict[str, Any], value: str, message: str
) -> None:
    # int()/float()/re raised out of CreateStack (a 500 over the wire)
    with pytest.raises(AwsError) as caught:
        resolve_parameters({"P": declaration}, [{"ParameterKey": "P", "ParameterValue": value}])
    assert caught.value.code == "ValidationError"
    assert caught.value.message == message


def test_ssm_parameter_types_resolve_through_the_parameter_store() -> None:
    declarations = {
        "Version": {
            "Type": "AWS::SSM::Parameter::Value<String>",
            "Default": "/cdk-bootstrap/hnb659fds/version",
        },
        "Subnets": {"Type": "AWS::SSM::Parameter::Value<List<String>>", "Default": "/net/subnets"},
    }
    store = {"/cdk-bootstrap/hnb659fds/version": "21", "/net/subnets": "s-1,s-2"}
    resolved = resolve_parameters(declarations, [], ssm=store.get)
    assert resolved.values == {"Version": "21", "Subnets": ["s-1", "s-2"]}
    assert resolved.describe()[0] == {
        "ParameterKey": "Version",
        "ParameterValue": "/cdk-bootstrap/hnb659fds/version",
        "ResolvedValue": "21",
    }
    with pytest.raises(AwsError) as caught:
        resolve_parameters(declarations, [], ssm={}.get)
    assert caught.value.message == (
        "Unable to fetch parameters [/cdk-bootstrap/hnb659fds/version,/net/subnets] from "
        "parameter store for this account."
    )


def test_summary_lists_declarations() -> None:
    entries = summary({"Env": DECLARATIONS["Env"], "Secret": DECLARATIONS["Secret"]})
    assert entries[0] == {
        "ParameterKey": "Env",
        "NoEcho": False,
        "DefaultValue": "dev",
        "ParameterType": "String",
        "ParameterConstraints": {"AllowedValues": ["dev", "prod"]},
    }
    assert entries[1]["NoEcho"] is True


CDK_RULES = {
    "CheckBootstrapVersion": {
        "Assertions": [
            {
                "Assert": {
                    "Fn::Not": [
                        {"Fn::Contains": [["1", "2", "3", "4", "5"], {"Ref": "BootstrapVersion"}]}
                    ]
                },
                "AssertDescription": "CDK bootstrap stack version 6 required. Please run 'cdk "
                "bootstrap' with a recent version of the CDK CLI.",
            }
        ]
    }
}


def test_cdk_bootstrap_version_rule() -> None:
    check_rules(CDK_RULES, {"BootstrapVersion": "30"})
    with pytest.raises(AwsError) as caught:
        check_rules(CDK_RULES, {"BootstrapVersion": "5"})
    assert caught.value.message.startswith("CDK bootstrap stack version 6 required.")


def test_rule_conditions_and_member_functions() -> None:
    rules = {
        "ProdOnly": {
            "RuleCondition": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "Assertions": [{"Assert": {"Fn::EachMemberIn": [{"Ref": "Zones"}, ["a", "b"]]}}],
        }
    }
    check_rules(rules, {"Env": "dev", "Zones": ["z"]})  # condition false: not checked
    check_rules(rules, {"Env": "prod", "Zones": ["a"]})
    with pytest.raises(AwsError, match="rule ProdOnly failed"):
        check_rules(rules, {"Env": "prod", "Zones": ["z"]})
