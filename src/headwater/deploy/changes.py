"""What a change set would do: DescribeChangeSet's ``Changes`` for a target and a stack.

Resources are compared in dependency order with their properties resolved over the stack
as it stands; a resource about to be added or replaced is not known yet, so values that
depend on it are ``{{changeSet:KNOWN_AFTER_APPLY}}`` and its dependents are marked as
changing dynamically. Property values (contexts, before/after values) are kept and only
shown with ``IncludePropertyValues``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from headwater.deploy.errors import TemplateError
from headwater.deploy.graph import creation_order, referenced_names
from headwater.deploy.intrinsics import UNKNOWN, contains_unknown
from headwater.deploy.plan import Target, resolve_dynamic_references, resolver_for
from headwater.deploy.records import ResourceRecord
from headwater.deploy.replacement import CREATE_ONLY, changed_properties
from headwater.deploy.template import Template

KNOWN_AFTER_APPLY = "{{changeSet:KNOWN_AFTER_APPLY}}"


def _shown(value: Any) -> Any:
    if value is UNKNOWN:
        return KNOWN_AFTER_APPLY
    if isinstance(value, dict):
        return {key: _shown(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shown(item) for item in value]
    return value


def _context(properties: dict[str, Any]) -> str:
    return json.dumps({"Properties": _shown(properties)})


def _value_text(value: Any) -> str:
    shown = _shown(value)
    return shown if isinstance(shown, str) else json.dumps(shown)


@dataclass(frozen=True, slots=True)
class ChangeList:
    """A change set's ``Changes`` and the warning CloudFormation gives with incomplete data."""

    changes: list[dict[str, Any]]
    warning: str | None = None


def describe_changes(
    target: Target,
    current: Mapping[str, ResourceRecord],
    *,
    old_template: Template | None,
    old_parameters: Mapping[str, Any],
    import_value: Callable[[str], Any],
    ssm: Callable[[str], str | None],
) -> ChangeList:
    """The ``Changes`` (with property values) of going from ``current`` to ``target``."""
    changes: dict[str, dict[str, Any]] = {}
    pending: set[str] = set()
    warning: str | None = None
    changed_parameters = {
        name
        for name, value in target.parameters.values.items()
        if old_parameters.get(name) != value
    }
    warnings: list[str] = []

    def lenient_import(name: str) -> Any:
        try:
            return import_value(name)
        except TemplateError as error:
            warnings.append(error.message.removeprefix("Template error: "))
            return UNKNOWN

    for logical_id in creation_order(target.graph):
        definition = target.resources[logical_id]
        resolver = resolver_for(
            target, current, import_value=lenient_import, pending=frozenset(pending)
        )
        found = len(warnings)
        properties = resolve_dynamic_references(resolver.resolve(definition.properties), ssm)
        if len(warnings) > found and warning is None:
            warning = (
                "[WARN] --include-property-values option can return incomplete ChangeSet data "
                f"because: ChangeSet creation failed for resource [{logical_id}] because: "
                f"{warnings[found]}"
            )
        old = current.get(logical_id)
        if old is None or old.physical_id is None:
            pending.add(logical_id)
            changes[logical_id] = {
                "Action": "Add",
                "LogicalResourceId": logical_id,
                "ResourceType": definition.type,
                "Scope": [],
                "Details": [],
                "AfterContext": _context(properties),
            }
            continue
        if old.type == definition.type and properties == old.properties:
            continue
        old_raw = {}
        if old_template is not None and logical_id in old_template.resources:
            old_raw = old_template.resources[logical_id].properties
        change = _modification(
            definition.type,
            old,
            properties,
            old_raw=old_raw,
            new_raw=definition.properties,
            changed_parameters=changed_parameters,
            pending=pending,
        )
        if change["Replacement"] == "True":
            pending.add(logical_id)
        changes[logical_id] = change
    for logical_id, record in current.items():
        if logical_id not in target.resources and record.physical_id is not None:
            changes[logical_id] = {
                "Action": "Remove",
                "LogicalResourceId": logical_id,
                "PhysicalResourceId": record.physical_id,
                "ResourceType": record.type,
                "PolicyAction": "Retain" if record.deletion_policy == "Retain" else "Delete",
                "Scope": [],
                "Details": [],
                "BeforeContext": _context(record.properties),
            }
    order = [*target.resources, *[lid for lid in current if lid not in target.resources]]
    listed = [
        {"Type": "Resource", "ResourceChange": changes[lid]} for lid in order if lid in changes
    ]
    return ChangeList(listed, warning)


def _modification(
    type_name: str,
    old: ResourceRecord,
    properties: dict[str, Any],
    *,
    old_raw: dict[str, Any],
    new_raw: dict[str, Any],
    changed_parameters: set[str],
    pending: set[str],
) -> dict[str, Any]:
    create_only = {path.split("/")[0] for path in CREATE_ONLY.get(type_name, ())}
    details = []
    replacement = "True" if old.type != type_name else "False"
    for name in changed_properties(old.properties, properties):
        before, after = old.properties.get(name), properties.get(name)
        dynamic = contains_unknown(after)
        if name in create_only:
            recreation = "Conditionally" if dynamic else "Always"
            if replacement != "True":
                replacement = "Conditional" if dynamic else "True"
        else:
            recreation = "Never"
        references = referenced_names(new_raw.get(name))
        if old_raw.get(name) != new_raw.get(name):
            source = "DirectModification"
        elif references & changed_parameters:
            source = "ParameterReference"
        else:
            source = "ResourceReference"
        target: dict[str, Any] = {
            "Attribute": "Properties",
            "Name": name,
            "RequiresRecreation": recreation,
            "Path": f"/Properties/{name}",
            "AttributeChangeType": "Add"
            if before is None
            else "Remove"
            if after is None
            else "Modify",
        }
        if before is not None:
            target["BeforeValue"] = _value_text(before)
        if after is not None:
            target["AfterValue"] = _value_text(after)
        detail: dict[str, Any] = {
            "ChangeSource": source,
            "Evaluation": "Dynamic" if dynamic else "Static",
            "Target": target,
        }
        causing = sorted(references & pending) if source == "ResourceReference" else []
        if causing:
            detail["CausingEntity"] = causing[0]
        details.append(detail)
    policy = "ReplaceAndDelete"
    if old.update_replace_policy == "Retain":
        policy = "ReplaceAndRetain"
    change: dict[str, Any] = {
        "Action": "Modify",
        "LogicalResourceId": old.logical_id,
        "PhysicalResourceId": old.physical_id,
        "ResourceType": type_name,
        "Replacement": replacement,
        "Scope": ["Properties"],
        "Details": details,
        "BeforeContext": _context(old.properties),
        "AfterContext": _context(properties),
    }
    if replacement != "False":
        change["PolicyAction"] = policy
    return change


def without_values(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``changes`` as DescribeChangeSet shows them without IncludePropertyValues."""
    stripped = []
    for change in changes:
        resource = {
            key: value
            for key, value in change["ResourceChange"].items()
            if key not in ("BeforeContext", "AfterContext")
        }
        resource["Details"] = [
            {
                **detail,
                "Target": {
                    key: value
                    for key, value in detail["Target"].items()
                    if key in ("Attribute", "Name", "RequiresRecreation")
                },
            }
            for detail in resource["Details"]
        ]
        stripped.append({"Type": change["Type"], "ResourceChange": resource})
    return stripped
