"""The dependency graph: implicit refs, DependsOn, order, cycles, unresolved names."""

from __future__ import annotations

import json
from typing import Any

import pytest

from headwater.core.errors import AwsError
from headwater.deploy.graph import (
    creation_order,
    dependents,
    referenced_names,
    resource_dependencies,
)
from headwater.deploy.template import check_template


def template(resources: dict[str, Any], **sections: Any) -> Any:
    return check_template({"Resources": resources, **sections})


def test_refs_getatts_sub_variables_and_depends_on_are_dependencies() -> None:
    t = template(
        {
            "Dlq": {"Type": "AWS::SQS::Queue"},
            "Queue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}}
                },
            },
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Role": {"Fn::GetAtt": "Role.Arn"},
                    "Description": {"Fn::Sub": "reads ${Queue} in ${AWS::Region} (${!Literal})"},
                },
            },
            "Role": {"Type": "AWS::IAM::Role"},
            "Mapping": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "DependsOn": "Policy",
                "Properties": {
                    "FunctionName": {"Ref": "Fn"},
                    "EventSourceArn": {
                        "Fn::Sub": ["${Arn}", {"Arn": {"Fn::GetAtt": ["Queue", "Arn"]}}]
                    },
                },
            },
            "Policy": {"Type": "AWS::IAM::Policy", "Properties": {"Roles": [{"Ref": "Role"}]}},
        }
    )
    graph = resource_dependencies(t)
    assert graph == {
        "Dlq": set(),
        "Queue": {"Dlq"},
        "Fn": {"Role", "Queue"},
        "Role": set(),
        "Mapping": {"Fn", "Queue", "Policy"},
        "Policy": {"Role"},
    }
    order = creation_order(graph)
    for node, deps in graph.items():
        assert all(order.index(dep) < order.index(node) for dep in deps)
    assert order[:2] == ["Dlq", "Role"]  # template order among the independent ones
    assert dependents(graph)["Queue"] == {"Fn", "Mapping"}


def test_parameters_and_pseudo_parameters_are_not_resource_dependencies() -> None:
    t = template(
        {"A": {"Type": "T", "Properties": {"P": {"Ref": "Env"}, "Q": {"Ref": "AWS::StackName"}}}},
        Parameters={"Env": {"Type": "String"}},
    )
    assert resource_dependencies(t) == {"A": set()}


def test_cycles_are_reported_with_their_members() -> None:
    t = template(
        {
            "A": {"Type": "T", "Properties": {"P": {"Ref": "B"}}},
            "B": {"Type": "T", "DependsOn": ["C"]},
            "C": {"Type": "T", "Properties": {"P": {"Fn::GetAtt": ["A", "Arn"]}}},
            "D": {"Type": "T"},
        }
    )
    with pytest.raises(AwsError) as caught:
        resource_dependencies(t)
    assert (
        caught.value.message
        == "Template format error: Circular dependency between resources: [A, B, C]"
    )


@pytest.mark.parametrize(
    "resource",
    [
        {"Type": "T", "Properties": {"P": {"Ref": "Missing"}}},
        {"Type": "T", "DependsOn": "Missing"},
        {"Type": "T", "Properties": {"P": {"Fn::Sub": "${Missing.Arn}"}}},
    ],
)
def test_unresolved_names_are_rejected_on_submit(resource: Any) -> None:
    with pytest.raises(AwsError) as caught:
        resource_dependencies(template({"A": resource}))
    assert caught.value.message == (
        "Template format error: Unresolved resource dependencies [Missing] in the Resources "
        "block of the template"
    )


def test_outputs_may_only_name_known_things() -> None:
    t = template({"A": {"Type": "T"}}, Outputs={"O": {"Value": {"Ref": "B"}}})
    with pytest.raises(AwsError, match=r"Unresolved resource dependencies \[B\]"):
        resource_dependencies(t)


def test_referenced_names_of_nested_functions() -> None:
    value = json.loads(
        '{"Fn::Join": ["", [{"Fn::If": ["C", {"Ref": "X"}, {"Fn::GetAtt": ["Y", "Z"]}]}]]}'
    )
    assert referenced_names(value) == {"X", "Y"}
