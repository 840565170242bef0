"""The ``Rules`` section: assertions on parameter values, checked before anything is deployed.

CDK puts one in every stack (``CheckBootstrapVersion``: the bootstrap version parameter
must not be one of the too-old versions). A failed assertion is a ``ValidationError``
carrying its ``AssertDescription``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from headwater.deploy.errors import validation_error
from headwater.deploy.intrinsics import function_call

_RULE_FUNCTIONS = frozenset(
    {
        "Fn::And",
        "Fn::Or",
        "Fn::Not",
        "Fn::Equals",
        "Fn::Contains",
        "Fn::EachMemberEquals",
        "Fn::EachMemberIn",
        "Ref",
    }
)


def check_rules(rules: Mapping[str, Any], parameters: Mapping[str, Any]) -> None:
    """Raise ``ValidationError`` for the first rule whose assertion does not hold."""
    for name, rule in rules.items():
        if not isinstance(rule, dict):
            raise validation_error(f"Template format error: Rule {name} must be an object.")
        condition = rule.get("RuleCondition")
        if condition is not None and not _evaluate(condition, parameters):
            continue
        for assertion in rule.get("Assertions") or []:
            if not _evaluate(assertion.get("Assert"), parameters):
                description = assertion.get(
                    "AssertDescription", f"Template validation error: rule {name} failed"
                )
                raise validation_error(str(description))


def _evaluate(expression: Any, parameters: Mapping[str, Any]) -> Any:
    call = function_call(expression)
    if call is None and isinstance(expression, dict) and len(expression) == 1:
        ((key, argument),) = expression.items()
        if key in _RULE_FUNCTIONS:
            call = (key, argument)
    if call is None:
        if isinstance(expression, list):
            return [_evaluate(item, parameters) for item in expression]
        return expression
    name, argument = call
    if name == "Ref":
        if argument not in parameters:
            raise validation_error(
                f"Template format error: Unresolved dependencies [{argument}] in Rules"
            )
        return parameters[argument]
    args = [_evaluate(item, parameters) for item in argument] if isinstance(argument, list) else []
    if name == "Fn::Not":
        return not args[0]
    if name == "Fn::And":
        return all(args)
    if name == "Fn::Or":
        return any(args)
    if name == "Fn::Equals":
        return str(args[0]) == str(args[1])
    if name == "Fn::Contains":
        return str(args[1]) in [str(item) for item in args[0]]
    if name == "Fn::EachMemberEquals":
        return all(str(item) == str(args[1]) for item in args[0])
    if name == "Fn::EachMemberIn":
        allowed = [str(item) for item in args[1]]
        return all(str(item) in allowed for item in args[0])
    raise validation_error(f"Template format error: {name} is not supported in Rules by headwater")
