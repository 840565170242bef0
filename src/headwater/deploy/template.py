"""Template text -> a checked ``Template``: JSON or YAML with CloudFormation's short-form tags.

YAML is read with CloudFormation's conventions rather than plain YAML 1.1: ``!Ref``,
``!GetAtt A.B``, ``!Sub`` ... become their long forms (``{"Fn::GetAtt": ["A", "B"]}``), and
unquoted dates (``2010-09-09``) stay strings. The structural checks here are the ones
CloudFormation makes when a template is submitted (``Template format error: ...``); value
errors surface when the template is resolved (``intrinsics``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from headwater.deploy.errors import format_error, validation_error

#: Top-level sections CloudFormation accepts.
SECTIONS = frozenset(
    {
        "AWSTemplateFormatVersion",
        "Description",
        "Metadata",
        "Parameters",
        "Rules",
        "Mappings",
        "Conditions",
        "Transform",
        "Resources",
        "Outputs",
        "Hooks",
    }
)

#: Attributes a resource entry may carry besides Type and Properties.
RESOURCE_KEYS = frozenset(
    {
        "Type",
        "Properties",
        "DependsOn",
        "Metadata",
        "Condition",
        "DeletionPolicy",
        "UpdateReplacePolicy",
        "UpdatePolicy",
        "CreationPolicy",
        "Version",
        "Description",
    }
)

DELETION_POLICIES = frozenset({"Delete", "Retain", "RetainExceptOnCreate", "Snapshot"})

#: Functions that have a ``!Name`` short form (``!Ref`` and ``!Condition`` are special).
SHORT_FORM_FUNCTIONS = (
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Length",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "ToJsonString",
    "Transform",
)

_LOGICAL_ID = re.compile(r"^[A-Za-z0-9]+$")
_MAX_LOGICAL_ID = 255


_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TemplateLoader(_BaseLoader):  # type: ignore[misc]
    """PyYAML's safe loader with CloudFormation's tags and without date resolution."""


# CloudFormation keeps ``2010-09-09`` a string; YAML 1.1 would make it a date.
_TemplateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_plain(loader: yaml.Loader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


def _short_form(name: str) -> Any:
    def construct(loader: yaml.Loader, node: yaml.Node) -> Any:
        return {name: _construct_plain(loader, node)}

    return construct


def _construct_getatt(loader: yaml.Loader, node: yaml.Node) -> Any:
    value = _construct_plain(loader, node)
    if isinstance(value, str):
        resource, _, attribute = value.partition(".")
        value = [resource, attribute]
    return {"Fn::GetAtt": value}


_TemplateLoader.add_constructor("!Ref", _short_form("Ref"))
_TemplateLoader.add_constructor("!Condition", _short_form("Condition"))
_TemplateLoader.add_constructor("!GetAtt", _construct_getatt)
for _name in SHORT_FORM_FUNCTIONS:
    _TemplateLoader.add_constructor(f"!{_name}", _short_form(f"Fn::{_name}"))


def parse_document(body: str) -> Any:
    """Parse template text (JSON when it starts with ``{``, else YAML); ValidationError."""
    text = body.strip()
    if text.startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            # CloudFormation's parser reports the column after the offending character.
            raise format_error(
                f"JSON not well-formed. (line {error.lineno}, column {error.colno + 1})"
            ) from None
    try:
        return yaml.load(text, Loader=_TemplateLoader)
    except yaml.YAMLError:
        raise format_error("YAML not well-formed.") from None


def dump_document(document: Any, *, yaml_form: bool) -> str:
    """A template as text again (GetTemplate): JSON, or YAML with long-form functions."""
    if yaml_form:
        return str(yaml.safe_dump(document, sort_keys=False, default_flow_style=False))
    return json.dumps(document, indent=2)


@dataclass(frozen=True, slots=True)
class ResourceDefinition:
    """One entry of ``Resources``, still unresolved."""

    logical_id: str
    type: str
    properties: dict[str, Any]
    depends_on: tuple[str, ...] = ()
    condition: str | None = None
    deletion_policy: Any = "Delete"
    update_replace_policy: Any = "Delete"
    metadata: dict[str, Any] = field(default_factory=dict)
    #: ``UpdatePolicy`` as written (its references are resolved when the resource updates).
    update_policy: dict[str, Any] = field(default_factory=dict)
    #: The whole entry as written (for templates' hashes and GetTemplate).
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed, structurally checked template (values not yet resolved)."""

    document: dict[str, Any]
    resources: dict[str, ResourceDefinition]

    @property
    def description(self) -> str | None:
        value = self.document.get("Description")
        return None if value is None else str(value)

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        return dict(self.document.get("Parameters") or {})

    @property
    def mappings(self) -> dict[str, Any]:
        return dict(self.document.get("Mappings") or {})

    @property
    def conditions(self) -> dict[str, Any]:
        return dict(self.document.get("Conditions") or {})

    @property
    def outputs(self) -> dict[str, dict[str, Any]]:
        return dict(self.document.get("Outputs") or {})

    @property
    def rules(self) -> dict[str, Any]:
        return dict(self.document.get("Rules") or {})

    @property
    def transforms(self) -> list[str]:
        """The ``Transform`` section as a list of macro names."""
        value = self.document.get("Transform")
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        return [item if isinstance(item, str) else str(item.get("Name", "")) for item in items]


def load_template(body: str) -> Template:
    """Parse and check ``body``; raises ``ValidationError`` with CloudFormation's text."""
    return check_template(parse_document(body))


def check_template(document: Any) -> Template:
    """Check a parsed document's structure and build a ``Template``."""
    if not isinstance(document, dict):
        raise format_error("unsupported structure.")
    unknown = sorted(key for key in document if key not in SECTIONS)
    if unknown:
        raise format_error(f"Invalid template property or properties [{', '.join(unknown)}]")
    _check_nulls(document)
    version = document.get("AWSTemplateFormatVersion")
    if version is not None and str(version) != "2010-09-09":
        raise format_error(f"'{version}' is not a valid template version.")
    if "Description" in document and not isinstance(document["Description"], str | int | float):
        raise format_error("Every Description member must be a string.")
    _check_parameters(document.get("Parameters"))
    for section in ("Mappings", "Conditions", "Rules", "Metadata"):
        if section in document and not isinstance(document[section], dict):
            raise format_error(f"The {section} section must be an object.")
    resources = _check_resources(document.get("Resources"))
    _check_outputs(document.get("Outputs"))
    return Template(document=document, resources=resources)


def _check_nulls(document: dict[str, Any]) -> None:
    for path, value in _walk(document, ""):
        if value is None:
            # An Output's missing Value is reported by the Outputs check, with its own text.
            if re.fullmatch(r"/Outputs/[^/]+", path):
                continue
            raise validation_error(f"[{path}] 'null' values are not allowed in templates")


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}/{index}")
    else:
        yield path, value


def _check_logical_id(kind: str, name: Any) -> None:
    if not isinstance(name, str) or not _LOGICAL_ID.match(name):
        raise format_error(f"{kind} name {name} is non alphanumeric.")
    if len(name) > _MAX_LOGICAL_ID:
        raise format_error(f"{kind} name {name} is longer than {_MAX_LOGICAL_ID} characters.")


def _check_parameters(parameters: Any) -> None:
    if parameters is None:
        return
    if not isinstance(parameters, dict):
        raise format_error("The Parameters section must be an object.")
    for name, definition in parameters.items():
        _check_logical_id("Parameter", name)
        if not isinstance(definition, dict):
            raise format_error(f"Invalid parameter {name}: it must be an object.")
        if "Type" not in definition:
            raise format_error(
                f"[/Parameters/{name}] Every Parameters object must contain a Type member."
            )


def _check_resources(resources: Any) -> dict[str, ResourceDefinition]:
    if not resources:
        raise format_error("At least one Resources member must be defined.")
    if not isinstance(resources, dict):
        raise format_error("The Resources section must be an object.")
    checked: dict[str, ResourceDefinition] = {}
    for logical_id, entry in resources.items():
        _check_logical_id("Resource", logical_id)
        if not isinstance(entry, dict):
            raise format_error("Any Resources member must be an object.")
        if "Type" not in entry:
            raise format_error(
                f"[/Resources/{logical_id}] Every Resources object must contain a Type member."
            )
        for key in entry:
            if key not in RESOURCE_KEYS:
                raise validation_error(f"Invalid template resource property '{key}'")
        type_name = entry["Type"]
        if not isinstance(type_name, str):
            raise format_error(f"[/Resources/{logical_id}/Type] Type must be a string.")
        properties = entry.get("Properties") or {}
        if not isinstance(properties, dict):
            raise format_error(
                f"[/Resources/{logical_id}/Properties] Properties must be an object."
            )
        depends_on = entry.get("DependsOn") or []
        if isinstance(depends_on, str):
            depends_on = [depends_on]
        if not isinstance(depends_on, list) or not all(isinstance(d, str) for d in depends_on):
            raise format_error(
                f"[/Resources/{logical_id}/DependsOn] DependsOn must be a string or a list of "
                "strings."
            )
        update_policy = entry.get("UpdatePolicy")
        condition = entry.get("Condition")
        if condition is not None and not isinstance(condition, str):
            raise format_error(f"[/Resources/{logical_id}/Condition] Condition must be a string.")
        checked[logical_id] = ResourceDefinition(
            logical_id=logical_id,
            type=type_name,
            properties=properties,
            depends_on=tuple(depends_on),
            condition=condition,
            deletion_policy=entry.get("DeletionPolicy", "Delete"),
            update_replace_policy=entry.get("UpdateReplacePolicy", "Delete"),
            metadata=dict(entry.get("Metadata") or {}),
            update_policy=dict(update_policy) if isinstance(update_policy, dict) else {},
            raw=entry,
        )
    return checked


def _check_outputs(outputs: Any) -> None:
    if outputs is None:
        return
    if not isinstance(outputs, dict):
        raise format_error("The Outputs section must be an object.")
    for name, output in outputs.items():
        _check_logical_id("Output", name)
        if output is None:
            raise validation_error(
                f"[/Outputs/{name}/Value] 'null' values are not allowed in templates"
            )
        if not isinstance(output, dict) or "Value" not in output:
            raise format_error("Every Outputs member must contain a Value object")
        if output["Value"] is None:
            raise validation_error(
                f"[/Outputs/{name}/Value] 'null' values are not allowed in templates"
            )
