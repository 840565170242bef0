"""The model's length, range and pattern traits on a cognito-idp request, at any depth,
worded as the JSON services word them (``1 validation error detected: Value 'x' at
'accountRecoverySetting.recoveryMechanisms.1.member.priority' failed to satisfy
constraint: ...``); Cognito answers them as InvalidParameterException. A sensitive member
(a password) is named without its value, as AWS does."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from botocore.model import Shape

from headwater.core.errors import AwsError
from headwater.models import operation_model


@cache
def _pattern(text: str) -> re.Pattern[str] | None:
    """``text`` as a Python pattern; None for one Python cannot read (``\\p{L}`` classes),
    which is then not checked."""
    fixed = re.sub(r"\\u([0-9A-Fa-f]{5,6})", lambda m: f"\\U{int(m[1], 16):08X}", text)
    try:
        return re.compile(fixed)
    except re.error:
        return None


def _wire(name: str) -> str:
    return name[:1].lower() + name[1:]


def _rule(value: Any, shape: Shape) -> str | None:
    meta = shape.metadata
    kind = shape.type_name
    if kind in ("string", "list", "map") and isinstance(value, str | list | dict):
        size = len(value)
        if "min" in meta and size < meta["min"]:
            return f"Member must have length greater than or equal to {meta['min']}"
        if "max" in meta and size > meta["max"]:
            return f"Member must have length less than or equal to {meta['max']}"
        if kind == "string" and isinstance(value, str) and isinstance(meta.get("pattern"), str):
            compiled = _pattern(meta["pattern"])
            if compiled is not None and not compiled.fullmatch(value):
                return f"Member must satisfy regular expression pattern: {meta['pattern']}"
    elif kind in ("integer", "long") and isinstance(value, int) and not isinstance(value, bool):
        if "min" in meta and value < meta["min"]:
            return f"Member must have value greater than or equal to {meta['min']}"
        if "max" in meta and value > meta["max"]:
            return f"Member must have value less than or equal to {meta['max']}"
    return None


def _findings(value: Any, shape: Shape, path: str, out: list[str]) -> None:
    rule = _rule(value, shape)
    if rule is not None:
        shown = "" if shape.metadata.get("sensitive") else f"'{value}' "
        out.append(f"Value {shown}at '{path}' failed to satisfy constraint: {rule}")
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members
        for name, item in value.items():
            member = members.get(name)
            if member is not None:
                _findings(item, member, f"{path}.{_wire(name)}" if path else _wire(name), out)
    elif kind == "list" and isinstance(value, list):
        for index, item in enumerate(value, 1):
            _findings(item, shape.member, f"{path}.{index}.member", out)
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            _findings(key, shape.key, f"{path}.{key}.key", out)
            _findings(item, shape.value, f"{path}.{key}.value", out)


def check_constraints(operation: str, params: dict[str, Any]) -> None:
    """Raise InvalidParameterException listing what in ``params`` breaks the model."""
    shape = operation_model("cognito-idp", operation).input_shape
    if shape is None:
        return
    found: list[str] = []
    _findings(params, shape, "", found)
    if found:
        noun = "error" if len(found) == 1 else "errors"
        raise AwsError(
            "InvalidParameterException",
            f"{len(found)} validation {noun} detected: " + "; ".join(found),
        )
