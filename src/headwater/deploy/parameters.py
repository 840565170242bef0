"""Template parameters: the values a stack operation passes, checked against their declarations.

Each declared parameter gets its value from the call (``ParameterValue``), the previous
stack (``UsePreviousValue``) or its ``Default``, is checked against its type and
constraints with CloudFormation's messages, and SSM parameter types are resolved through
a lookup (headwater's SSM Parameter Store). ``Ref`` to a ``Number`` gives a string and to
a list type gives a list of strings, as on AWS.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from headwater.deploy.errors import validation_error

NO_ECHO_MASK = "****"

_SSM_VALUE = re.compile(r"^AWS::SSM::Parameter::Value<(.+)>$")

#: SSM parameter name -> its value, or ``None`` when there is no such parameter.
SsmLookup = Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class ResolvedParameters:
    """A stack's parameter values: what Ref sees, and how DescribeStacks shows them."""

    #: Name -> value seen by Ref (a string, or a list of strings for list types).
    values: dict[str, Any] = field(default_factory=dict)
    #: Name -> value as given (the SSM parameter name for SSM types), unmasked.
    given: dict[str, str] = field(default_factory=dict)
    #: Names whose declaration says NoEcho.
    no_echo: frozenset[str] = frozenset()
    #: Name -> resolved SSM value, for SSM parameter types.
    resolved: dict[str, str] = field(default_factory=dict)

    def describe(self) -> list[dict[str, str]]:
        """``Parameters`` as DescribeStacks/DescribeChangeSet show them (NoEcho masked)."""
        shown = []
        for name, value in self.given.items():
            entry = {
                "ParameterKey": name,
                "ParameterValue": NO_ECHO_MASK if name in self.no_echo else value,
            }
            if name in self.resolved:
                entry["ResolvedValue"] = (
                    NO_ECHO_MASK if name in self.no_echo else self.resolved[name]
                )
            shown.append(entry)
        return shown


def resolve_parameters(
    declarations: Mapping[str, Mapping[str, Any]],
    supplied: Sequence[Mapping[str, Any]],
    *,
    previous: Mapping[str, str] | None = None,
    ssm: SsmLookup | None = None,
) -> ResolvedParameters:
    """Check and resolve ``supplied`` (boto3's ``Parameters`` list) against the template."""
    given: dict[str, str] = {}
    unknown: list[str] = []
    for item in supplied:
        key = item.get("ParameterKey")
        if not isinstance(key, str):
            raise validation_error("ParameterKey is required for every parameter")
        if key not in declarations:
            unknown.append(key)
            continue
        if item.get("UsePreviousValue"):
            if previous is None or key not in previous:
                raise validation_error(
                    f"Invalid input for parameter key {key}. Cannot specify usePreviousValue as "
                    "true for a parameter key not in the previous template"
                )
            given[key] = previous[key]
        elif "ParameterValue" in item and item["ParameterValue"] is not None:
            given[key] = str(item["ParameterValue"])
    if unknown:
        raise validation_error(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    missing: list[str] = []
    ordered: dict[str, str] = {}
    for name, declaration in declarations.items():
        if name in given:
            ordered[name] = given[name]
        elif "Default" in declaration:
            ordered[name] = _default_text(declaration["Default"])
        else:
            missing.append(name)
    if missing:
        raise validation_error(f"Parameters: [{', '.join(missing)}] must have values")
    values: dict[str, Any] = {}
    resolved: dict[str, str] = {}
    unfetched: list[str] = []
    for name, given_text in ordered.items():
        declaration = declarations[name]
        text = given_text
        type_name = str(declaration.get("Type", "String"))
        ssm_type = _SSM_VALUE.match(type_name)
        if ssm_type is not None:
            found = ssm(text) if ssm is not None else None
            if found is None:
                unfetched.append(text)
                continue
            resolved[name] = found
            type_name, text = ssm_type.group(1), found
        values[name] = _typed_value(name, type_name, text, declaration)
    if unfetched:
        raise validation_error(
            f"Unable to fetch parameters [{','.join(unfetched)}] from parameter store for this "
            "account."
        )
    no_echo = frozenset(
        name for name, declaration in declarations.items() if _truthy(declaration.get("NoEcho"))
    )
    return ResolvedParameters(values=values, given=ordered, no_echo=no_echo, resolved=resolved)


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _default_text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(_default_text(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _typed_value(name: str, type_name: str, text: str, declaration: Mapping[str, Any]) -> Any:
    if type_name.startswith("List<") or type_name == "CommaDelimitedList":
        items = text.split(",") if text != "" else []
        item_type = type_name[5:-1] if type_name.startswith("List<") else "String"
        for item in items:
            _check_constraints(name, item_type, item, declaration)
        return items
    _check_constraints(name, type_name, text, declaration)
    return text


def _check_constraints(
    name: str, type_name: str, text: str, declaration: Mapping[str, Any]
) -> None:
    description = declaration.get("ConstraintDescription")

    def fail(message: str) -> Exception:
        if description:
            return validation_error(
                f"Parameter '{name}' failed to satisfy constraint: {description}"
            )
        return validation_error(f"Parameter '{name}' {message}")

    allowed = declaration.get("AllowedValues")
    if allowed is not None and text not in [_default_text(value) for value in allowed]:
        raise fail("must be one of AllowedValues")
    if type_name == "Number":
        try:
            number = float(text)
        except ValueError:
            raise fail("must be a number") from None
        minimum = _bound(name, declaration, "MinValue")
        if minimum is not None and number < minimum:
            raise fail(f"must be a number not less than {declaration['MinValue']}")
        maximum = _bound(name, declaration, "MaxValue")
        if maximum is not None and number > maximum:
            raise fail(f"must be a number not greater than {declaration['MaxValue']}")
        return
    pattern = declaration.get("AllowedPattern")
    if pattern is not None:
        try:
            matched = re.fullmatch(str(pattern), text)
        except (re.error, RecursionError):
            raise validation_error(
                f"Template format error: Parameter '{name}' AllowedPattern {pattern} is not "
                "a valid regular expression"
            ) from None
        if matched is None:
            raise fail(f"must match pattern {pattern}")
    shortest = _bound(name, declaration, "MinLength")
    if shortest is not None and len(text) < shortest:
        raise fail(f"must contain at least {declaration['MinLength']} characters")
    longest = _bound(name, declaration, "MaxLength")
    if longest is not None and len(text) > longest:
        raise fail(f"must contain at most {declaration['MaxLength']} characters")


def _bound(name: str, declaration: Mapping[str, Any], key: str) -> float | None:
    """A parameter's numeric constraint (MinLength, MaxValue...); a template error when the
    declaration's value is not a number (int()/float() raised out of the call)."""
    if key not in declaration:
        return None
    try:
        return float(declaration[key])
    except (TypeError, ValueError, OverflowError):
        raise validation_error(
            f"Template format error: Parameter '{name}' {key} must be a number"
        ) from None


def summary(declarations: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``Parameters`` of GetTemplateSummary / ValidateTemplate."""
    entries = []
    for name, declaration in declarations.items():
        entry: dict[str, Any] = {
            "ParameterKey": name,
            "NoEcho": _truthy(declaration.get("NoEcho")),
        }
        if "Default" in declaration:
            entry["DefaultValue"] = _default_text(declaration["Default"])
        if "Description" in declaration:
            entry["Description"] = str(declaration["Description"])
        entry["ParameterType"] = str(declaration.get("Type", "String"))
        constraints = declaration.get("AllowedValues")
        if constraints is not None:
            entry["ParameterConstraints"] = {
                "AllowedValues": [_default_text(value) for value in constraints]
            }
        else:
            entry["ParameterConstraints"] = {}
        entries.append(entry)
    return entries
