"""A stack's target state: a checked template with its parameters, conditions and graph.

``build_target`` does everything CloudFormation does when a template is submitted, before
any resource is touched: parameters are resolved and checked, ``Rules`` asserted,
conditions evaluated, resources whose condition is false dropped, and the dependency graph
built (so unresolved names and cycles are rejected here). ``resolver_for`` then evaluates
properties and outputs over the values of the resources as they are at that moment.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from headwater.deploy.errors import TemplateError
from headwater.deploy.graph import resource_dependencies
from headwater.deploy.intrinsics import UNKNOWN, Resolver, StackValues, pseudo_parameters
from headwater.deploy.parameters import ResolvedParameters, SsmLookup, resolve_parameters
from headwater.deploy.records import ResourceRecord
from headwater.deploy.rules import check_rules
from headwater.deploy.secret_references import SecretLookup, resolve_secret_reference
from headwater.deploy.template import ResourceDefinition, Template

_DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:(ssm|ssm-secure|secretsmanager):([^}]*)\}\}")


@dataclass(frozen=True, slots=True)
class StackIdentity:
    """Who the stack is: what the pseudo parameters say."""

    stack_id: str
    name: str
    region: str
    account: str
    notification_arns: tuple[str, ...] = ()

    def pseudo(self) -> dict[str, Any]:
        return pseudo_parameters(
            account=self.account,
            region=self.region,
            stack_name=self.name,
            stack_id=self.stack_id,
            notification_arns=list(self.notification_arns),
        )


@dataclass(frozen=True, slots=True)
class Target:
    """What a stack operation converges to."""

    template: Template
    identity: StackIdentity
    parameters: ResolvedParameters
    conditions: dict[str, bool]
    #: The resources to exist (condition true), in template order.
    resources: dict[str, ResourceDefinition]
    #: Logical id -> the active resources it needs first.
    graph: dict[str, set[str]]


def build_target(
    template: Template,
    identity: StackIdentity,
    supplied: Sequence[Mapping[str, Any]],
    *,
    previous_parameters: Mapping[str, str] | None = None,
    ssm: SsmLookup | None = None,
) -> Target:
    """Resolve and check everything static about ``template``; raises ValidationError."""
    graph = resource_dependencies(template)
    parameters = resolve_parameters(
        template.parameters, supplied, previous=previous_parameters, ssm=ssm
    )
    check_rules(template.rules, parameters.values)
    values = StackValues(
        parameters=parameters.values,
        pseudo=identity.pseudo(),
        mappings=template.mappings,
        conditions=template.conditions,
    )
    try:
        conditions = Resolver(values).all_conditions()
    except TemplateError as error:
        raise error.as_aws_error() from None
    for resource in template.resources.values():
        if resource.condition is not None and resource.condition not in conditions:
            raise TemplateError(
                f"Unresolved condition dependency {resource.condition} in the Resources block"
            ).as_aws_error()
    active = {
        logical_id: resource
        for logical_id, resource in template.resources.items()
        if resource.condition is None or conditions[resource.condition]
    }
    active_graph = {
        logical_id: {dep for dep in graph[logical_id] if dep in active} for logical_id in active
    }
    return Target(
        template=template,
        identity=identity,
        parameters=parameters,
        conditions=conditions,
        resources=active,
        graph=active_graph,
    )


def resolver_for(
    target: Target,
    state: Mapping[str, ResourceRecord],
    *,
    import_value: Callable[[str], Any],
    pending: frozenset[str] = frozenset(),
) -> Resolver:
    """A resolver over ``state``: Ref/GetAtt of resources in it give their current values.

    Resources in ``pending`` (about to be created or replaced) resolve to ``UNKNOWN``.
    """

    def ref(logical_id: str) -> Any:
        record = state.get(logical_id)
        if logical_id in pending or record is None or record.physical_id is None:
            return UNKNOWN
        return record.physical_id

    def attribute(logical_id: str, name: str) -> Any:
        record = state.get(logical_id)
        if logical_id in pending or record is None or record.physical_id is None:
            return UNKNOWN
        if name not in record.attributes:
            raise TemplateError(
                f"Resource type {record.type} does not support attribute {{{name}}}"
            )
        return record.attributes[name]

    values = StackValues(
        parameters=target.parameters.values,
        pseudo=target.identity.pseudo(),
        mappings=target.template.mappings,
        conditions=target.template.conditions,
        resource_ids=frozenset(target.resources),
        resource_ref=ref,
        resource_attribute=attribute,
        import_value=import_value,
    )
    return Resolver(values, target.conditions)


def resolve_dynamic_references(
    value: Any, ssm: SsmLookup, secrets: SecretLookup | None = None
) -> Any:
    """Replace ``{{resolve:ssm:name[:version]}}`` and ``{{resolve:secretsmanager:...}}`` in
    strings with the parameter's or the secret's value. Without ``secrets`` (change sets)
    secret references stay as written: CloudFormation neither shows a secret's value in a
    change set nor counts a changed secret as a change to the template."""
    if isinstance(value, str):
        if "{{resolve:" not in value:
            return value

        def replace(match: re.Match[str]) -> str:
            service, reference = match.group(1), match.group(2)
            if service == "secretsmanager":
                if secrets is None:
                    return match.group(0)
                return resolve_secret_reference(reference, secrets)
            found = ssm(reference)
            if found is None:
                name = reference.partition(":")[0]
                raise TemplateError(f"Parameter {name} not found for dynamic reference")
            return found

        return _DYNAMIC_REFERENCE.sub(replace, value)
    if isinstance(value, dict):
        return {key: resolve_dynamic_references(item, ssm, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve_dynamic_references(item, ssm, secrets) for item in value]
    return value


def outputs_of(target: Target, resolver: Resolver) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The stack's ``Outputs`` (DescribeStacks shape) and its exports (name -> value)."""
    described: list[dict[str, str]] = []
    exports: dict[str, str] = {}
    for key, output in target.template.outputs.items():
        condition = output.get("Condition")
        if condition is not None and not target.conditions.get(condition, False):
            continue
        value = resolver.resolve(output["Value"])
        text = ",".join(str(item) for item in value) if isinstance(value, list) else str(value)
        entry = {"OutputKey": key, "OutputValue": text}
        if output.get("Description") is not None:
            entry["Description"] = str(output["Description"])
        export = output.get("Export")
        if isinstance(export, dict) and "Name" in export:
            name = str(resolver.resolve(export["Name"]))
            if name in exports:
                raise TemplateError(f"Duplicate export name {name}")
            entry["ExportName"] = name
            exports[name] = text
        described.append(entry)
    return described, exports
