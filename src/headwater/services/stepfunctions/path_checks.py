"""The paths of a definition, checked when the machine is created (as AWS does) rather
than when an execution first reaches them.

AWS's texts: a JSONPath field (InputPath, OutputPath, ItemsPath, a Choice rule's
Variable) that is not one is "Value must be a valid JSONPath." (recorded in a public
CloudFormation error); a ``key.$``
field of a template "The value for the field 'key.$' must be a valid JSONPath"; a
reference path (ResultPath, a Choice rule's ``...Path`` operands, a Wait's
SecondsPath/TimestampPath...) "Value is not a Reference Path: ..." with a reason (the
reasons are guessed but the first, "Reference path didn't start with '$'"). A path may
start from a workflow variable (``$name.x``) wherever it reads, never in a ResultPath. Every problem
is ``SCHEMA_VALIDATION_FAILED: text at /location`` like the definition's other checks.

Paths AWS accepts but headwater's interpreter cannot read (``..``, filters, slices) are
refused here too, saying so, so a machine that would fail later is never stored.
"""

from __future__ import annotations

import re
from typing import Any

from headwater.services.stepfunctions.choice import COMPARISONS
from headwater.services.stepfunctions.intrinsics import intrinsic_problem
from headwater.services.stepfunctions.paths import parse_path, split_variable

#: Fields holding a JSONPath (``null`` allowed where AWS allows it).
_JSON_PATH_FIELDS = ("InputPath", "OutputPath", "ItemsPath")
#: Fields holding a reference path (one node, no wildcard).
_REFERENCE_PATH_FIELDS = (
    "SecondsPath",
    "TimestampPath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
)
#: Template fields whose ``key.$`` members take a path or an intrinsic function.
_TEMPLATE_FIELDS = ("Parameters", "ResultSelector", "ItemSelector", "Assign")
#: JSONPath syntax AWS reads that headwater's paths do not.
_UNSUPPORTED_SYNTAX = re.compile(r"\.\.|\[\?|\[-?\d*:|@|\[\s*\d+\s*,")


def state_path_problems(state: dict[str, Any], where: str) -> list[str]:
    """Every problem with the paths and templates of ``state`` (at ``/where``)."""
    problems: list[str] = []
    for field in _JSON_PATH_FIELDS:
        if field in state and (state[field] is not None or field == "ItemsPath"):
            _json_path(state[field], f"{where}/{field}", problems)
    if "ResultPath" in state and state["ResultPath"] is not None:
        _reference_path(state["ResultPath"], f"{where}/ResultPath", problems, context=False)
    for field in _REFERENCE_PATH_FIELDS:
        if field in state:
            _reference_path(state[field], f"{where}/{field}", problems)
    for field in ("ErrorPath", "CausePath"):
        value = state.get(field)
        if isinstance(value, str) and not value.startswith("$"):
            problem = intrinsic_problem(value)
            if problem is not None:
                problems.append(
                    f"SCHEMA_VALIDATION_FAILED: {problem} at /{where}/{field}"  # guessed text
                )
        elif field in state:
            _reference_path(value, f"{where}/{field}", problems)
    for field in _TEMPLATE_FIELDS:
        if field in state:
            _template(state[field], f"{where}/{field}", problems)
    for index, catcher in enumerate(state.get("Catch") or []):
        if isinstance(catcher, dict) and catcher.get("ResultPath") is not None:
            _reference_path(
                catcher["ResultPath"], f"{where}/Catch[{index}]/ResultPath", problems, context=False
            )
        if isinstance(catcher, dict) and "Assign" in catcher:
            _template(catcher["Assign"], f"{where}/Catch[{index}]/Assign", problems)
    for index, rule in enumerate(state.get("Choices") or []):
        _rule_paths(rule, f"{where}/Choices[{index}]", problems)
        if isinstance(rule, dict) and "Assign" in rule:
            _template(rule["Assign"], f"{where}/Choices[{index}]/Assign", problems)
    return problems


def _parses(path: Any) -> bool:
    if not isinstance(path, str):
        return False
    try:
        parse_path(path)
    except ValueError:
        return False
    return True


def _unsupported(path: Any, where: str, problems: list[str]) -> bool:
    if isinstance(path, str) and path.startswith("$") and _UNSUPPORTED_SYNTAX.search(path):
        problems.append(
            f"SCHEMA_VALIDATION_FAILED: headwater does not support the JSONPath '{path}'"
            f" (no '..', filters, slices or unions) at /{where}"
        )
        return True
    return False


def _json_path(path: Any, where: str, problems: list[str]) -> None:
    if _unsupported(path, where, problems):
        return
    if not _parses(path):
        problems.append(f"SCHEMA_VALIDATION_FAILED: Value must be a valid JSONPath. at /{where}")


def _reference_path(path: Any, where: str, problems: list[str], *, context: bool = True) -> None:
    if _unsupported(path, where, problems):
        return
    reason = None
    if not isinstance(path, str) or not path.startswith("$"):
        reason = "Reference path didn't start with '$'"
    elif not _parses(path):
        reason = f"Invalid path '{path}'"
    elif path.startswith("$$") and not context:
        reason = "The context object cannot be written"
    elif split_variable(path) and not context:
        reason = "A variable cannot be written by a path: use Assign"
    elif None in parse_path(path)[1]:
        reason = "Reference paths cannot hold wildcards"
    if reason is not None:
        problems.append(
            f"SCHEMA_VALIDATION_FAILED: Value is not a Reference Path: {reason} at /{where}"
        )


def _template(template: Any, where: str, problems: list[str]) -> None:
    if isinstance(template, list):
        for item in template:
            _template(item, where, problems)
        return
    if not isinstance(template, dict):
        return
    for key, value in template.items():
        if not key.endswith(".$"):
            _template(value, where, problems)
            continue
        if isinstance(value, str) and not value.startswith("$"):
            if intrinsic_problem(value) is None:
                continue
        elif _parses(value) and not _UNSUPPORTED_SYNTAX.search(str(value)):
            continue
        problems.append(
            f"SCHEMA_VALIDATION_FAILED: The value for the field '{key}' must be a valid"
            f" JSONPath at /{where}"
        )


def _rule_paths(rule: Any, where: str, problems: list[str]) -> None:
    if not isinstance(rule, dict):
        return
    for combinator in ("And", "Or"):
        for index, inner in enumerate(rule.get(combinator) or []):
            _rule_paths(inner, f"{where}/{combinator}[{index}]", problems)
    if "Not" in rule:
        _rule_paths(rule["Not"], f"{where}/Not", problems)
    if "Variable" in rule:
        _json_path(rule["Variable"], f"{where}/Variable", problems)
    for operator in COMPARISONS:
        if operator.endswith("Path") and operator in rule:
            _reference_path(rule[operator], f"{where}/{operator}", problems)
