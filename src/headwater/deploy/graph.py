"""The dependency graph between a template's resources: explicit DependsOn and implicit refs.

A resource depends on every resource its properties name through ``Ref``, ``Fn::GetAtt``
or an ``Fn::Sub`` variable, and on each name in its ``DependsOn``. Resources are created
in an order where every dependency comes first (independent ones may run together) and
deleted in the reverse order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from headwater.deploy.errors import format_error
from headwater.deploy.intrinsics import function_call, sub_variables
from headwater.deploy.template import Template

#: Names a Ref may use without a declaration.
PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::AccountId",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::Partition",
        "AWS::URLSuffix",
        "AWS::NotificationARNs",
        "AWS::NoValue",
    }
)


def referenced_names(value: Any) -> set[str]:
    """Every name ``value`` refers to: Ref targets, GetAtt resources, Fn::Sub variables."""
    found: set[str] = set()
    _collect(value, found)
    return found


def _collect(value: Any, found: set[str]) -> None:
    call = function_call(value)
    if call is not None:
        name, argument = call
        if name == "Ref" and isinstance(argument, str):
            found.add(argument)
            return
        if name == "Fn::GetAtt":
            if isinstance(argument, str):
                found.add(argument.partition(".")[0])
                return
            if isinstance(argument, list) and argument and isinstance(argument[0], str):
                found.add(argument[0])
                _collect(argument[1:], found)
                return
        if name == "Fn::Sub":
            text: Any = argument if isinstance(argument, str) else None
            variables: Any = {}
            if isinstance(argument, list) and len(argument) == 2:
                text, variables = argument[0], argument[1]
            if isinstance(text, str):
                explicit = variables if isinstance(variables, dict) else {}
                for variable in (raw.strip() for raw in sub_variables(text)):
                    if variable not in explicit:
                        found.add(variable.partition(".")[0])
                _collect(explicit, found)
                return
        _collect(argument, found)
        return
    if isinstance(value, dict):
        for item in value.values():
            _collect(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect(item, found)


def resource_dependencies(template: Template) -> dict[str, set[str]]:
    """Logical id -> the logical ids of the resources it needs first.

    Raises ``ValidationError`` (``Unresolved resource dependencies [...]``) for names that
    are neither parameters, pseudo parameters nor resources, as CloudFormation does on submit.
    """
    resource_ids = set(template.resources)
    declared = set(template.parameters) | PSEUDO_PARAMETERS | resource_ids
    graph: dict[str, set[str]] = {}
    unresolved: list[str] = []
    for logical_id, resource in template.resources.items():
        # An UpdatePolicy's references are dependencies too (SAM's alias names its
        # CodeDeploy application and deployment group there, and only there).
        names = referenced_names(resource.properties) | referenced_names(resource.update_policy)
        for name in sorted(names - declared):
            if name not in unresolved:
                unresolved.append(name)
        for name in resource.depends_on:
            if name not in resource_ids and name not in unresolved:
                unresolved.append(name)
        graph[logical_id] = (names & resource_ids) | set(resource.depends_on)
        graph[logical_id].discard(logical_id)
    for output in template.outputs.values():
        for name in sorted(referenced_names(output) - declared):
            if name not in unresolved:
                unresolved.append(name)
    if unresolved:
        raise format_error(
            f"Unresolved resource dependencies [{', '.join(unresolved)}] in the Resources block "
            "of the template"
        )
    check_acyclic(graph)
    return graph


def check_acyclic(graph: Mapping[str, Iterable[str]]) -> None:
    """Raise ``Circular dependency between resources: [...]`` if the graph has a cycle."""
    order = creation_order(graph, strict=False)
    if len(order) != len(graph):
        remaining = sorted(set(graph) - set(order))
        raise format_error(f"Circular dependency between resources: [{', '.join(remaining)}]")


def creation_order(graph: Mapping[str, Iterable[str]], *, strict: bool = True) -> list[str]:
    """A topological order (dependencies first, template order among equals).

    With ``strict=False`` resources on a cycle are left out instead of raising.
    """
    remaining = {node: set(deps) & set(graph) for node, deps in graph.items()}
    order: list[str] = []
    while remaining:
        ready = [node for node, deps in remaining.items() if not deps]
        if not ready:
            if strict:
                check_acyclic(graph)
            break
        for node in ready:
            order.append(node)
            del remaining[node]
        for deps in remaining.values():
            deps.difference_update(ready)
    return order


def dependents(graph: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    """The reversed graph: logical id -> the resources that need it."""
    reverse: dict[str, set[str]] = {node: set() for node in graph}
    for node, deps in graph.items():
        for dep in deps:
            reverse.setdefault(dep, set()).add(node)
    return reverse
