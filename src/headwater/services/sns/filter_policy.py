"""SNS subscription filter policies: the EventBridge pattern language with SNS's dialect.

The matching itself is the filtering core's (``compile_pattern``); SNS adds its own limits
and differences (docs/filtering.md, "SNS filter policies"):

- at most 5 keys per policy, and at most 150 value combinations ("too complex");
- ``MessageAttributes`` scope: one level only (no nesting); the message is seen as
  ``{name: value}`` where ``String`` attributes are strings, ``Number`` attributes numbers,
  ``String.Array`` attributes the elements of their JSON array, ``Binary`` attributes absent;
- ``MessageBody`` scope: the message must be a JSON object, matched like an event;
- ``anything-but`` takes only values or ``prefix`` (``suffix``, ``exists``... are refused);
- error texts start with "FilterPolicy: " and carry EventBridge's reason.
"""

from __future__ import annotations

from typing import Any

import orjson

from headwater.core.errors import AwsError
from headwater.core.filtering import InvalidPatternError, Matcher, compile_pattern

MAX_KEYS = 5
MAX_COMBINATIONS = 150
_ANYTHING_BUT_ALLOWED = frozenset({"prefix"})


def _error(reason: str) -> AwsError:
    return AwsError("InvalidParameter", f"Invalid parameter: FilterPolicy: {reason}")


class FilterPolicy:
    """A compiled policy: ``matches(message, attributes)``."""

    def __init__(self, matcher: Matcher, scope: str) -> None:
        self._matcher = matcher
        self.scope = scope

    def matches(self, message: str, attributes: dict[str, dict[str, Any]]) -> bool:
        if self.scope == "MessageBody":
            try:
                body = orjson.loads(message)
            except orjson.JSONDecodeError:
                return False
            return isinstance(body, dict) and self._matcher.matches(body)
        return self._matcher.matches(attribute_view(attributes))


def attribute_view(attributes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Message attributes as the event a MessageAttributes-scope policy is matched against."""
    view: dict[str, Any] = {}
    for name, attribute in attributes.items():
        data_type = str(attribute.get("DataType", ""))
        value = attribute.get("StringValue")
        if value is None:
            continue  # Binary attributes are not matched
        if data_type.startswith("Number"):
            try:
                number = float(value)
            except ValueError:
                continue
            view[name] = int(number) if number.is_integer() and "." not in value else number
        elif data_type.startswith("String.Array"):
            try:
                items = orjson.loads(value)
            except orjson.JSONDecodeError:
                continue
            view[name] = items if isinstance(items, list) else [items]
        else:
            view[name] = value
    return view


def compile_filter_policy(text: str, scope: str = "MessageAttributes") -> FilterPolicy:
    """Validate and compile a FilterPolicy, raising SNS's ``InvalidParameter`` errors."""
    try:
        policy = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise _error(f"failed to parse JSON. {error}") from None
    if not isinstance(policy, dict):
        raise _error("Filter policy must be a JSON object")
    _check_dialect(policy, scope)
    if _keys(policy) > MAX_KEYS:
        raise _error(f"Filter policy can not have more than {MAX_KEYS} keys")
    if _combinations(policy) > MAX_COMBINATIONS:
        raise _error("Filter policy is too complex")
    try:
        matcher = compile_pattern(policy)
    except InvalidPatternError as error:
        raise _error(error.reason) from None
    return FilterPolicy(matcher, scope)


def _check_dialect(policy: dict[str, Any], scope: str) -> None:
    for key, value in policy.items():
        if key == "$or" and isinstance(value, list):
            for branch in value:
                if isinstance(branch, dict):
                    _check_dialect(branch, scope)
            continue
        if isinstance(value, dict):
            if scope == "MessageAttributes" and not any(k == "$or" for k in value):
                raise AwsError(
                    "InvalidParameter",
                    "Invalid parameter: Filter policy scope MessageAttributes does not support "
                    "nested filter policy",
                )
            _check_dialect(value, scope)
            continue
        if not isinstance(value, list):
            continue
        for item in value:
            if not isinstance(item, dict):
                continue
            for operator, operand in item.items():
                if operator == "wildcard":
                    raise _error("Unrecognized match type wildcard")
                if operator == "anything-but" and isinstance(operand, dict):
                    for inner in operand:
                        if inner not in _ANYTHING_BUT_ALLOWED:
                            raise _error(f"Unsupported anything-but pattern: {inner}")


def _keys(policy: dict[str, Any]) -> int:
    """Leaf keys of the largest ``$or`` branch."""
    count = 0
    for key, value in policy.items():
        if key == "$or" and isinstance(value, list):
            count += max((_keys(b) for b in value if isinstance(b, dict)), default=0)
        elif isinstance(value, dict):
            count += _keys(value)
        else:
            count += 1
    return count


def _combinations(policy: dict[str, Any]) -> int:
    """Value combinations: the product over keys of their values, ``$or`` branches summed."""
    total = 1
    for key, value in policy.items():
        if key == "$or" and isinstance(value, list):
            total *= max(1, sum(_combinations(b) for b in value if isinstance(b, dict)))
        elif isinstance(value, dict):
            total *= _combinations(value)
        elif isinstance(value, list):
            total *= max(1, len(value))
    return total
