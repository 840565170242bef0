"""The intrinsic functions, pseudo parameters and conditions, evaluated over one stack's values.

``Resolver.resolve(value)`` turns a template fragment into plain data. What it knows of the
stack comes from a ``StackValues`` (parameters, pseudo parameters, mappings, and callables
for resources' Ref/GetAtt values and exports), so the same code runs when a change set is
computed (resources not created yet resolve to ``UNKNOWN``) and when a stack operation runs.
``Ref: AWS::NoValue`` removes the key or list item that holds it.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from headwater.deploy.errors import TemplateError


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: A value known only once a resource exists (change sets show ``{{changeSet:KNOWN_AFTER_APPLY}}``).
UNKNOWN: Any = _Marker("UNKNOWN")
#: ``Ref: AWS::NoValue``: the property is removed.
NO_VALUE: Any = _Marker("NO_VALUE")

FUNCTIONS = frozenset(
    {
        "Ref",
        "Condition",
        "Fn::GetAtt",
        "Fn::Sub",
        "Fn::Join",
        "Fn::Split",
        "Fn::Select",
        "Fn::If",
        "Fn::Equals",
        "Fn::And",
        "Fn::Or",
        "Fn::Not",
        "Fn::FindInMap",
        "Fn::Base64",
        "Fn::Cidr",
        "Fn::GetAZs",
        "Fn::ImportValue",
        "Fn::Length",
        "Fn::ToJsonString",
        "Fn::Transform",
    }
)

CONDITION_FUNCTIONS = frozenset({"Fn::And", "Fn::Or", "Fn::Not", "Fn::Equals", "Condition"})

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_SUB_NAME = re.compile(r"^[A-Za-z0-9_.:]+$")


def function_call(value: Any) -> tuple[str, Any] | None:
    """``(name, argument)`` if ``value`` is one intrinsic function call, else ``None``."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, argument),) = value.items()
        if key in FUNCTIONS:
            return key, argument
    return None


def sub_variables(template: str) -> list[str]:
    """The variable names of an ``Fn::Sub`` string (``${!Literal}`` is not one)."""
    return [name for name in _SUB_VARIABLE.findall(template) if not name.startswith("!")]


def pseudo_parameters(
    *, account: str, region: str, stack_name: str, stack_id: str, notification_arns: list[str]
) -> dict[str, Any]:
    """The values of ``AWS::AccountId``, ``AWS::Region`` ... for one stack."""
    partition = "aws-cn" if region.startswith("cn-") else "aws"
    if region.startswith("us-gov-"):
        partition = "aws-us-gov"
    return {
        "AWS::AccountId": account,
        "AWS::Region": region,
        "AWS::StackName": stack_name,
        "AWS::StackId": stack_id,
        "AWS::Partition": partition,
        "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
        "AWS::NotificationARNs": list(notification_arns),
    }


@dataclass(slots=True)
class StackValues:
    """What a template can refer to: parameters, pseudo parameters, mappings, resources."""

    parameters: dict[str, Any] = field(default_factory=dict)
    pseudo: dict[str, Any] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)
    #: Condition name -> its (unevaluated) definition.
    conditions: dict[str, Any] = field(default_factory=dict)
    #: Logical ids of the template's resources (a Ref to anything else is an error).
    resource_ids: frozenset[str] = frozenset()
    #: Logical id -> value of ``Ref`` (the physical id); UNKNOWN before creation.
    resource_ref: Callable[[str], Any] = lambda _logical_id: UNKNOWN
    #: (logical id, attribute) -> value of ``Fn::GetAtt``; UNKNOWN before creation.
    resource_attribute: Callable[[str, str], Any] = lambda _logical_id, _name: UNKNOWN
    #: Export name -> value (``Fn::ImportValue``); raises TemplateError when missing.
    import_value: Callable[[str], Any] = lambda name: UNKNOWN


class Resolver:
    """Evaluates intrinsic functions and conditions over one ``StackValues``."""

    def __init__(self, values: StackValues, conditions: dict[str, bool] | None = None) -> None:
        self.values = values
        #: Conditions already evaluated (a stack operation evaluates them once, up front).
        self._condition_results: dict[str, bool] = dict(conditions or {})
        self._evaluating: list[str] = []

    # -- conditions ------------------------------------------------------------------------

    def condition(self, name: str) -> bool:
        """The value of the named condition (each is evaluated once)."""
        found = self._condition_results.get(name)
        if found is not None:
            return found
        if name not in self.values.conditions:
            raise TemplateError(f"Unresolved condition dependency {name} in Fn::If")
        if name in self._evaluating:
            cycle = [*self._evaluating[self._evaluating.index(name) :], name]
            raise TemplateError(f"Circular dependency between conditions: {cycle}")
        self._evaluating.append(name)
        try:
            result = self._condition_value(self.values.conditions[name])
        finally:
            self._evaluating.pop()
        self._condition_results[name] = result
        return result

    def all_conditions(self) -> dict[str, bool]:
        return {name: self.condition(name) for name in self.values.conditions}

    def _condition_value(self, definition: Any) -> bool:
        call = function_call(definition)
        if call is None or call[0] not in CONDITION_FUNCTIONS:
            raise TemplateError(
                "Conditions can only be boolean operations on parameters and other conditions"
            )
        value = self._call(*call)
        if isinstance(value, bool):
            return value
        if value is UNKNOWN:
            raise TemplateError("Conditions cannot depend on values known only after creation")
        raise TemplateError(f"Condition did not evaluate to a boolean: {value!r}")

    def _boolean_operand(self, function: str, operand: Any) -> bool:
        call = function_call(operand)
        if call is None or call[0] not in CONDITION_FUNCTIONS:
            raise TemplateError(
                f"{function} element must be a condition (Fn::And, Fn::Or, Fn::Not, Fn::Equals "
                "or Condition)"
            )
        value = self._call(*call)
        if not isinstance(value, bool):
            raise TemplateError(f"{function} element did not evaluate to a boolean")
        return value

    # -- values ----------------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        """``value`` with every function call evaluated (may return NO_VALUE or UNKNOWN)."""
        call = function_call(value)
        # ``{"Condition": name}`` is a function only inside conditions; elsewhere it is data
        # (an IAM statement's Condition block, say).
        if call is not None and call[0] != "Condition":
            return self._call(*call)
        if isinstance(value, dict):
            resolved = {}
            for key, item in value.items():
                result = self.resolve(item)
                if result is not NO_VALUE:
                    resolved[key] = result
            return resolved
        if isinstance(value, list):
            return [r for r in (self.resolve(item) for item in value) if r is not NO_VALUE]
        return value

    def _call(self, name: str, argument: Any) -> Any:
        handler = _HANDLERS.get(name)
        if handler is None:
            raise TemplateError(f"{name} is not supported by headwater")
        return handler(self, argument)

    def ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            raise TemplateError(
                "Ref requires a string argument (the name of a parameter or resource)"
            )
        values = self.values
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in values.parameters:
            return values.parameters[name]
        if name in values.pseudo:
            return values.pseudo[name]
        if name in values.resource_ids:
            return values.resource_ref(name)
        raise TemplateError(
            f"Unresolved resource dependencies [{name}] in the Resources block of the template"
        )

    def get_att(self, argument: Any) -> Any:
        if isinstance(argument, str):
            resource, _, attribute = argument.partition(".")
            argument = [resource, attribute]
        if not isinstance(argument, list) or len(argument) != 2:
            raise TemplateError(
                "Fn::GetAtt requires a list of two elements: a resource and an attribute"
            )
        resource, attribute = argument[0], self.resolve(argument[1])
        if not isinstance(resource, str) or resource not in self.values.resource_ids:
            raise TemplateError(f"Instance of Fn::GetAtt references undefined resource {resource}")
        if attribute is UNKNOWN:
            return UNKNOWN
        if not isinstance(attribute, str) or not attribute:
            raise TemplateError(f"Fn::GetAtt on {resource} needs an attribute name")
        return self.values.resource_attribute(resource, attribute)

    def sub(self, argument: Any) -> Any:
        if isinstance(argument, str):
            text, variables = argument, {}
        elif (
            isinstance(argument, list)
            and len(argument) == 2
            and isinstance(argument[0], str)
            and isinstance(argument[1], dict)
        ):
            text, variables = argument[0], {k: self.resolve(v) for k, v in argument[1].items()}
        else:
            raise TemplateError(
                "One or more Fn::Sub intrinsic functions don't specify expected arguments. "
                "Specify a string as first argument, and an optional second argument to "
                "specify a mapping of values to replace in the string"
            )
        unknown = False

        def replace(match: re.Match[str]) -> str:
            nonlocal unknown
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            name = name.strip()
            if not _SUB_NAME.match(name):
                raise TemplateError(
                    "variable names in Fn::Sub syntax must contain only alphanumeric "
                    "characters, underscores, periods, and colons"
                )
            if name in variables:
                value = variables[name]
            elif "." in name and name not in self.values.parameters:
                resource, _, attribute = name.partition(".")
                value = self.get_att([resource, attribute])
            else:
                value = self.ref(name)
            if value is UNKNOWN:
                unknown = True
                return ""
            return _as_text("Fn::Sub", value)

        result = _SUB_VARIABLE.sub(replace, text)
        return UNKNOWN if unknown else result


def _as_text(function: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise TemplateError(f"{function} can only substitute strings, got {type(value).__name__}")


def _as_list(function: str, value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str):  # CommaDelimitedList parameters are lists already; tolerate text
        return value.split(",")
    raise TemplateError(f"{function} requires a list")


def _join(resolver: Resolver, argument: Any) -> Any:
    if not isinstance(argument, list) or len(argument) != 2:
        raise TemplateError(
            "every Fn::Join object requires two parameters, (1) a string delimiter and (2) a "
            "list of strings to be joined or a function that returns a list of strings (such "
            "as Fn::GetAZs) to be joined."
        )
    delimiter = resolver.resolve(argument[0])
    items = resolver.resolve(argument[1])
    if items is UNKNOWN or delimiter is UNKNOWN:
        return UNKNOWN
    if not isinstance(delimiter, str):
        raise TemplateError("Fn::Join delimiter must be a string")
    items = _as_list("Fn::Join", items)
    if any(item is UNKNOWN for item in items):
        return UNKNOWN
    return delimiter.join(_as_text("Fn::Join", item) for item in items)


def _split(resolver: Resolver, argument: Any) -> Any:
    if not isinstance(argument, list) or len(argument) != 2:
        raise TemplateError("Fn::Split requires a delimiter and a string to split")
    delimiter, source = resolver.resolve(argument[0]), resolver.resolve(argument[1])
    if source is UNKNOWN:
        return UNKNOWN
    if not isinstance(delimiter, str) or not isinstance(source, str):
        raise TemplateError("Fn::Split requires a string delimiter and a string source")
    return source.split(delimiter)


def _select(resolver: Resolver, argument: Any) -> Any:
    if not isinstance(argument, list) or len(argument) != 2:
        raise TemplateError("Fn::Select requires an index and a list of objects")
    index, items = resolver.resolve(argument[0]), resolver.resolve(argument[1])
    if index is UNKNOWN or items is UNKNOWN:
        return UNKNOWN
    try:
        position = int(index)
    except (TypeError, ValueError):
        raise TemplateError("Fn::Select index must be an integer") from None
    items = _as_list("Fn::Select", items)
    if not 0 <= position < len(items):
        raise TemplateError(f"Fn::Select cannot select nonexistent value at index {position}")
    return items[position]


def _if(resolver: Resolver, argument: Any) -> Any:
    if not isinstance(argument, list) or len(argument) != 3 or not isinstance(argument[0], str):
        raise TemplateError("Fn::If requires a list argument with three elements")
    branch = argument[1] if resolver.condition(argument[0]) else argument[2]
    return resolver.resolve(branch)


def _equals(resolver: Resolver, argument: Any) -> Any:
    if not isinstance(argument, list) or len(argument) != 2:
        raise TemplateError("Fn::Equals requires a list argument with two elements")
    left, right = resolver.resolve(argument[0]), resolver.resolve(argument[1])
    if left is UNKNOWN or right is UNKNOWN:
        return UNKNOWN
    return _comparable(left) == _comparable(right)


def _comparable(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _and(resolver: Resolver, argument: Any) -> bool:
    operands = _condition_operands("Fn::And", argument)
    return all([resolver._boolean_operand("Fn::And", operand) for operand in operands])


def _or(resolver: Resolver, argument: Any) -> bool:
    operands = _condition_operands("Fn::Or", argument)
    return any([resolver._boolean_operand("Fn::Or", operand) for operand in operands])


def _condition_operands(function: str, argument: Any) -> list[Any]:
    if not isinstance(argument, list) or not 2 <= len(argument) <= 10:
        raise TemplateError(f"{function} requires a list of at least 2 and at most 10 conditions")
    return argument


def _not(resolver: Resolver, argument: Any) -> bool:
    if not isinstance(argument, list) or len(argument) != 1:
        raise TemplateError("Fn::Not requires a list argument with one condition")
    return not resolver._boolean_operand("Fn::Not", argument[0])


def _condition(resolver: Resolver, argument: Any) -> bool:
    if not isinstance(argument, str):
        raise TemplateError("Condition requires the name of a condition")
    return resolver.condition(argument)


def _find_in_map(resolver: Resolver, argument: Any) -> Any:
    if not isinstance(argument, list) or len(argument) not in (3, 4):
        raise TemplateError(
            "Fn::FindInMap requires a list argument with three elements (map name, top-level "
            "key, second-level key) and an optional DefaultValue"
        )
    names = [resolver.resolve(part) for part in argument[:3]]
    if any(name is UNKNOWN for name in names):
        return UNKNOWN
    default: Any = NO_VALUE
    if len(argument) == 4:
        option = argument[3]
        if not isinstance(option, dict) or set(option) != {"DefaultValue"}:
            raise TemplateError("The fourth Fn::FindInMap argument must be {DefaultValue: value}")
        default = option["DefaultValue"]
    mapping_name, top, second = (str(name) for name in names)
    mapping = resolver.values.mappings.get(mapping_name)
    if mapping is None and default is NO_VALUE:
        raise TemplateError(
            f"Mapping named '{mapping_name}' is not present in the 'Mappings' section of template."
        )
    found = (mapping or {}).get(top, {})
    if isinstance(found, dict) and second in found:
        return resolver.resolve(found[second])
    if default is not NO_VALUE:
        return resolver.resolve(default)
    raise TemplateError(f"Unable to get mapping for {mapping_name}::{top}::{second}")


def _base64(resolver: Resolver, argument: Any) -> Any:
    value = resolver.resolve(argument)
    if value is UNKNOWN:
        return UNKNOWN
    return base64.b64encode(_as_text("Fn::Base64", value).encode("utf-8")).decode("ascii")


def _cidr(resolver: Resolver, argument: Any) -> Any:
    if not isinstance(argument, list) or len(argument) != 3:
        raise TemplateError("Fn::Cidr requires an IP block, a count and the CIDR bits")
    block, count, bits = (resolver.resolve(part) for part in argument)
    if UNKNOWN in (block, count, bits):
        return UNKNOWN
    try:
        network = ipaddress.ip_network(str(block), strict=False)
        count, bits = int(count), int(bits)
    except ValueError as error:
        raise TemplateError(f"Fn::Cidr: {error}") from None
    prefix = network.max_prefixlen - bits
    if not 1 <= count <= 256 or prefix < network.prefixlen:
        raise TemplateError("Fn::Cidr cannot make that many subnets of that size in the block")
    subnets = []
    for subnet in network.subnets(new_prefix=prefix):
        subnets.append(str(subnet))
        if len(subnets) == count:
            return subnets
    raise TemplateError("Fn::Cidr cannot make that many subnets of that size in the block")


def _get_azs(resolver: Resolver, argument: Any) -> Any:
    region = resolver.resolve(argument)
    if region is UNKNOWN:
        return UNKNOWN
    if not region:
        region = resolver.values.pseudo.get("AWS::Region", "us-east-1")
    return [f"{region}{letter}" for letter in "abc"]


def _import_value(resolver: Resolver, argument: Any) -> Any:
    name = resolver.resolve(argument)
    if name is UNKNOWN:
        return UNKNOWN
    if not isinstance(name, str):
        raise TemplateError("Fn::ImportValue requires the name of an export")
    return resolver.values.import_value(name)


def _length(resolver: Resolver, argument: Any) -> Any:
    value = resolver.resolve(argument)
    if value is UNKNOWN:
        return UNKNOWN
    if not isinstance(value, list):
        raise TemplateError("Fn::Length requires a list")
    return len(value)


def _to_json_string(resolver: Resolver, argument: Any) -> Any:
    value = resolver.resolve(argument)
    if _contains_unknown(value):
        return UNKNOWN
    if not isinstance(value, dict | list):
        raise TemplateError("Fn::ToJsonString requires an object or a list")
    return json.dumps(value, separators=(",", ":"))


def _contains_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(_contains_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(_contains_unknown(item) for item in value)
    return False


def _transform(_resolver: Resolver, argument: Any) -> Any:
    name = argument.get("Name") if isinstance(argument, dict) else argument
    raise TemplateError(f"Fn::Transform with macro {name} is not supported by headwater")


_HANDLERS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Ref": Resolver.ref,
    "Condition": _condition,
    "Fn::GetAtt": Resolver.get_att,
    "Fn::Sub": Resolver.sub,
    "Fn::Join": _join,
    "Fn::Split": _split,
    "Fn::Select": _select,
    "Fn::If": _if,
    "Fn::Equals": _equals,
    "Fn::And": _and,
    "Fn::Or": _or,
    "Fn::Not": _not,
    "Fn::FindInMap": _find_in_map,
    "Fn::Base64": _base64,
    "Fn::Cidr": _cidr,
    "Fn::GetAZs": _get_azs,
    "Fn::ImportValue": _import_value,
    "Fn::Length": _length,
    "Fn::ToJsonString": _to_json_string,
    "Fn::Transform": _transform,
}


def contains_unknown(value: Any) -> bool:
    """Whether any part of a resolved value is known only after apply."""
    return _contains_unknown(value)
