"""The expressions of one request, checked together as DynamoDB checks them.

Order of checks (AWS): legacy and expression parameters mixed; placeholder maps given
without expressions; empty maps and malformed keys; invalid values; each expression parsed
(update, condition, key condition, filter, projection); then placeholders nobody used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from headwater.core.expressions.parser import bind, parse
from headwater.core.expressions.syntax import Parsed
from headwater.core.expressions.values import AttributeValue, validate_value, validation

_NAME_KEY = re.compile(r"#[0-9A-Za-z_]+")
_VALUE_KEY = re.compile(r":[0-9A-Za-z_]+")
#: The longest placeholder (its # or : included), in UTF-8 bytes.
MAX_PLACEHOLDER_BYTES = 255

#: Expression parameters in the order AWS parses them.
PARSE_ORDER = (
    "UpdateExpression",
    "ConditionExpression",
    "KeyConditionExpression",
    "FilterExpression",
    "SearchConditionExpression",
    "ProjectionExpression",
)


@dataclass(frozen=True, slots=True)
class RequestExpressions:
    """The parsed expressions of a request and its (validated) placeholder values."""

    values: Mapping[str, AttributeValue]
    parsed: Mapping[str, Parsed]

    def get(self, label: str) -> Parsed | None:
        return self.parsed.get(label)


NO_EXPRESSIONS = RequestExpressions({}, {})


def read_expressions(
    params: Mapping[str, Any],
    expression_params: tuple[str, ...],
    legacy_params: tuple[str, ...] = (),
    *,
    values_depth: int = 0,
) -> RequestExpressions:
    """Parse and check the expressions of ``params`` that an operation accepts.

    ``expression_params`` are the operation's expression parameters (in AWS's order for
    messages), ``legacy_params`` its pre-expression equivalents. ``values_depth`` is the
    nesting level the placeholder values start on (-1 lets them nest one level deeper
    than an item may).
    """
    names = params.get("ExpressionAttributeNames")
    raw_values = params.get("ExpressionAttributeValues")
    if names is None and raw_values is None:  # most reads: nothing to check at all
        for name in expression_params:
            if params.get(name) is not None:
                break
        else:
            return NO_EXPRESSIONS
    shape = _shape(params, expression_params, legacy_params, names, raw_values)
    known = _CHECKED_SHAPES.get(shape) if shape is not None else None
    if known is not None:
        # This request differs from one that passed every check only in its values.
        checked = _checked_values(raw_values, values_depth) if raw_values else {}
        for label, result in known.items():
            bind(label, result, checked)
        return RequestExpressions(checked, known)
    check_expression_params(params, expression_params, legacy_params)
    if names is not None:
        if not names:
            raise validation("ExpressionAttributeNames must not be empty")
        for key, name in names.items():
            if len(key.encode("utf-8")) > MAX_PLACEHOLDER_BYTES:  # before its syntax
                raise validation(
                    "ExpressionAttributeNames contains invalid key: The expression attribute "
                    f"map contains a key that is too long; size of key: {len(key.encode())}"
                )
            if not _NAME_KEY.fullmatch(key):
                raise validation(
                    f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{key}"'
                )
            if name == "":  # an attribute name is never empty
                raise validation(
                    "ExpressionAttributeNames contains invalid value: Empty attribute name for "
                    f"key {key}"
                )
    values: dict[str, AttributeValue] = {}
    if raw_values is not None:
        if not raw_values:
            raise validation("ExpressionAttributeValues must not be empty")
        for key in raw_values:
            if len(key.encode("utf-8")) > MAX_PLACEHOLDER_BYTES:
                # AWS gives no size here, unlike for a name's key.
                raise validation(
                    "ExpressionAttributeValues contains invalid key: The expression attribute "
                    "map contains a key that is too long;"
                )
            if not _VALUE_KEY.fullmatch(key):
                raise validation(
                    f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{key}"'
                )
        values = _checked_values(raw_values, values_depth)
    parsed: dict[str, Parsed] = {}
    names_used: set[str] = set()
    values_used: set[str] = set()
    for label in PARSE_ORDER:
        source = params.get(label)
        if source is None or label not in expression_params:
            continue
        result = parse(label, source, names)
        bind(label, result, values)
        parsed[label] = result
        names_used |= result.names_used
        values_used.update(result.values_used)
    if names:
        unused = [key for key in names if key not in names_used]
        if unused:
            raise validation(
                "Value provided in ExpressionAttributeNames unused in expressions: "
                f"keys: {{{', '.join(unused)}}}"
            )
    if values:
        unused = [key for key in values if key not in values_used]
        if unused:
            raise validation(
                "Value provided in ExpressionAttributeValues unused in expressions: "
                f"keys: {{{', '.join(unused)}}}"
            )
    if shape is not None:
        if len(_CHECKED_SHAPES) >= MAX_CHECKED_SHAPES:
            _CHECKED_SHAPES.clear()
        _CHECKED_SHAPES[shape] = parsed
    return RequestExpressions(values, parsed)


def check_expression_params(
    params: Mapping[str, Any],
    expression_params: tuple[str, ...],
    legacy_params: tuple[str, ...] = (),
) -> None:
    """The first of ``read_expressions``' checks, which AWS makes before it reads any
    attribute value of the request: legacy and expression parameters mixed, placeholder
    maps given without an expression that could use them."""
    present = [name for name in expression_params if params.get(name) is not None]
    if present:
        legacy = [name for name in legacy_params if params.get(name) is not None]
        if "KeyConditions" in legacy and "KeyConditionExpression" not in present:
            legacy.remove("KeyConditions")
        if legacy:
            raise validation(
                "Can not use both expression and non-expression parameters in the same request: "
                f"Non-expression parameters: {{{', '.join(legacy)}}} "
                f"Expression parameters: {{{', '.join(present)}}}"
            )
    if params.get("ExpressionAttributeNames") is not None and not present:
        raise validation("ExpressionAttributeNames can only be specified when using expressions")
    value_params = [name for name in expression_params if name != "ProjectionExpression"]
    if params.get("ExpressionAttributeValues") is not None and not any(
        params.get(name) is not None for name in value_params
    ):
        verb = "are" if len(value_params) > 1 else "is"
        raise validation(
            "ExpressionAttributeValues can only be specified when using expressions: "
            f"{' and '.join(value_params)} {verb} null"
        )


#: Request shapes (which expressions, their sources, placeholder names and value keys)
#: that passed every check, and their parsed expressions: a client sends the same few
#: shapes with other values, and only the values and their types need checking again.
_CHECKED_SHAPES: dict[tuple[Any, ...], dict[str, Parsed]] = {}
MAX_CHECKED_SHAPES = 1024


def _shape(
    params: Mapping[str, Any],
    expression_params: tuple[str, ...],
    legacy_params: tuple[str, ...],
    names: Any,
    raw_values: Any,
) -> tuple[Any, ...] | None:
    """What the checks of ``read_expressions`` depend on besides the values themselves;
    ``None`` for a request whose parts are not plain strings and maps of them (the full
    checks say what is wrong)."""
    try:
        shape = (
            expression_params,
            tuple([params.get(name) for name in expression_params]),
            tuple([params.get(name) is not None for name in legacy_params]),
            None if names is None else tuple(names.items()),
            None if raw_values is None else tuple(raw_values),
        )
        hash(shape)
    except TypeError:  # an unhashable part: a malformed request
        return None
    return shape


def _checked_values(raw_values: Mapping[str, Any], depth: int = 0) -> dict[str, AttributeValue]:
    values: dict[str, AttributeValue] = {}
    for key, value in raw_values.items():
        try:
            values[key] = validate_value(value, depth)
        except Exception as error:
            message = getattr(error, "message", str(error))
            raise validation(
                f"ExpressionAttributeValues contains invalid value: {message} for key {key}"
            ) from None
    return values
