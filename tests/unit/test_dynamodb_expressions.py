"""DynamoDB expressions: parsing, evaluation and AWS's error texts."""

from __future__ import annotations

from typing import Any

import pytest

from headwater.core.errors import AwsError
from headwater.core.expressions import apply_update, parse, project, read_expressions
from headwater.core.expressions.key_conditions import key_conditions
from headwater.core.expressions.parser import bind

S = lambda v: {"S": v}  # noqa: E731
N = lambda v: {"N": v}  # noqa: E731

ITEM: dict[str, Any] = {
    "pk": S("order#1"),
    "name": S("Widget"),
    "price": N("19.5"),
    "count": N("3"),
    "tags": {"SS": ["red", "blue"]},
    "sizes": {"NS": ["1", "2.5"]},
    "bin": {"B": b"\x01\x02\x03"},
    "parts": {"L": [S("a"), N("2"), {"M": {"x": S("y")}}]},
    "info": {"M": {"color": S("red"), "dims": {"L": [N("1"), N("2")]}}},
    "flag": {"BOOL": True},
    "nothing": {"NULL": True},
    "blank": S(""),
}


def check(expression: str, names: dict[str, str] | None = None, **values: Any) -> bool:
    vals = {":" + k: v for k, v in values.items()}
    parsed = parse("ConditionExpression", expression, names)
    bind("ConditionExpression", parsed, vals)
    return bool(parsed.root.evaluate(ITEM, vals))


def error_of(
    label: str, expression: str, names: dict[str, str] | None = None, **values: Any
) -> str:
    vals = {":" + k: v for k, v in values.items()}
    with pytest.raises(AwsError) as caught:
        bind(label, parse(label, expression, names), vals)
    assert caught.value.code == "ValidationException"
    return caught.value.message


# ---- conditions: every comparator, function and operator ----


@pytest.mark.parametrize(
    ("expression", "values", "expected"),
    [
        ("#n = :v", {"v": S("Widget")}, True),
        ("#n = :v", {"v": S("widget")}, False),
        ("price = :v", {"v": N("19.50")}, True),  # numbers compare as decimals
        ("price <> :v", {"v": N("19.5")}, False),
        ("price <> :v", {"v": S("19.5")}, True),  # different types are unequal
        ("absent <> :v", {"v": S("x")}, True),
        ("price < :v", {"v": N("100")}, True),
        ("price <= :v", {"v": N("19.5")}, True),
        ("price > :v", {"v": N("-1e2")}, True),
        ("price >= :v", {"v": N("20")}, False),
        ("price < :v", {"v": S("100")}, False),  # type mismatch evaluates false
        ("bin < :v", {"v": {"B": b"\x01\x03"}}, True),
        ("#n < :v", {"v": S("Wp")}, True),
        ("price BETWEEN :a AND :b", {"a": N("19.5"), "b": N("20")}, True),
        ("price BETWEEN :a AND :b", {"a": N("1"), "b": N("19.49")}, False),
        ("#n IN (:a, :b)", {"a": S("x"), "b": S("Widget")}, True),
        ("#n IN (:a)", {"a": S("x")}, False),
        ("attribute_exists(info.color)", {}, True),
        ("attribute_exists(info.width)", {}, False),
        ("attribute_not_exists(pk)", {}, False),
        ("attribute_not_exists(parts[5])", {}, True),
        ("attribute_type(tags, :t)", {"t": S("SS")}, True),
        ("attribute_type(price, :t)", {"t": S("S")}, False),
        ("begins_with(pk, :p)", {"p": S("order#")}, True),
        ("begins_with(bin, :p)", {"p": {"B": b"\x01"}}, True),
        ("begins_with(price, :p)", {"p": S("1")}, False),
        ("contains(#n, :s)", {"s": S("dge")}, True),
        ("contains(tags, :s)", {"s": S("red")}, True),
        ("contains(sizes, :s)", {"s": N("2.50")}, True),
        ("contains(parts, :s)", {"s": N("2")}, True),
        ("contains(parts, :s)", {"s": S("zz")}, False),
        ("contains(bin, :s)", {"s": {"B": b"\x02\x03"}}, True),
        ("size(#n) = :n", {"n": N("6")}, True),
        ("size(tags) = :n", {"n": N("2")}, True),
        ("size(parts) > :n", {"n": N("2")}, True),
        ("size(info) = :n", {"n": N("2")}, True),
        ("size(bin) = :n", {"n": N("3")}, True),
        ("size(blank) = :n", {"n": N("0")}, True),
        ("size(price) = :n", {"n": N("4")}, False),  # numbers have no size
        ("info.dims[1] = :n", {"n": N("2")}, True),
        ("parts[2].x = :s", {"s": S("y")}, True),
        ("NOT #n = :v", {"v": S("x")}, True),
        ("#n = :v AND price > :p", {"v": S("Widget"), "p": N("1")}, True),
        ("#n = :v AND price > :p", {"v": S("Widget"), "p": N("100")}, False),
        ("#n = :x OR price > :p", {"x": S("no"), "p": N("1")}, True),
        ("NOT (#n = :x OR price > :p)", {"x": S("no"), "p": N("100")}, True),
        (
            "(#n = :x OR #n = :v) AND flag = :t",
            {"x": S("no"), "v": S("Widget"), "t": {"BOOL": True}},
            True,
        ),
        ("nothing = :null", {"null": {"NULL": True}}, True),
    ],
)
def test_condition_evaluates(expression: str, values: dict[str, Any], expected: bool) -> None:
    names = {"#n": "name"} if "#n" in expression else None
    assert check(expression, names, **values) is expected


def test_precedence_not_and_or() -> None:
    # AND binds tighter than OR: a OR (b AND c)
    assert check("price = :yes OR price = :no AND price = :no", yes=N("19.5"), no=N("0")) is True
    # NOT binds tighter than AND
    assert check("NOT price = :no AND price = :yes", yes=N("19.5"), no=N("0")) is True


def test_parenthesized_operand_is_not_a_condition() -> None:
    assert check("(price) = :v", v=N("19.5")) is True


# ---- condition error texts ----


@pytest.mark.parametrize(
    ("expression", "values", "message"),
    [
        ("foo", {}, 'Syntax error; token: "<EOF>", near: "foo"'),
        ("attribute_not_exists(", {}, 'Syntax error; token: "<EOF>", near: "("'),
        ("a = :v b", {"v": S("x")}, 'Syntax error; token: "b", near: ":v b"'),
        (
            "a == :v",
            {"v": S("x")},
            'Syntax error; token: "=", near: "==:v"'.replace("==:v", "== :v"),
        ),
        (
            "status = :v",
            {"v": S("x")},
            "Attribute name is a reserved keyword; reserved keyword: status",
        ),
        ("((a = :v))", {"v": S("x")}, "The expression has redundant parentheses;"),
        ("Contains(a, :v)", {"v": S("x")}, "Invalid function name; function: Contains"),
        ("nope(a)", {}, "Invalid function name; function: nope"),
        (
            "if_not_exists(a, :v) = :v",
            {"v": S("x")},
            "The function is not allowed in a condition expression; function: if_not_exists",
        ),
        (
            "begins_with(a, :v) = :v",
            {"v": S("x")},
            "The function is not allowed to be used this way in an expression; function: "
            "begins_with",
        ),
        (
            "size(a)",
            {},
            "The function is not allowed to be used this way in an expression; function: size",
        ),
        (
            "attribute_exists(a, b)",
            {},
            "Incorrect number of operands for operator or function; operator or function: "
            "attribute_exists, number of operands: 2",
        ),
        (
            "attribute_exists(:v)",
            {"v": S("x")},
            "Operator or function requires a document path; operator or function: attribute_exists",
        ),
        (
            "a = a",
            {},
            "The first operand must be distinct from the remaining operands for this operator "
            "or function; operator: =, first operand: [a]",
        ),
        (
            "a BETWEEN :lo AND :hi",
            {"lo": N("1"), "hi": S("x")},
            "The BETWEEN operator requires same data type for lower and upper bounds; lower bound "
            "operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:x}",
        ),
        (
            "attribute_type(a, :t)",
            {"t": S("STRING")},
            "Invalid attribute type name found; type: STRING, valid types: "
            "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}",
        ),
        (
            "attribute_type(a, :t)",
            {"t": N("1")},
            "Incorrect operand type for operator or function; operator or function: "
            "attribute_type, operand type: N",
        ),
        (
            "size(:v) > :v",
            {"v": N("1")},
            "Incorrect operand type for operator or function; operator or function: size, "
            "operand type: N",
        ),
        (
            "#x = :v",
            {"v": S("x")},
            "An expression attribute name used in the document path is not defined; attribute "
            "name: #x",
        ),
        (
            "a = :nope",
            {"v": S("x")},
            "An expression attribute value used in expression is not defined; attribute value: "
            ":nope",
        ),
        ("", {}, "The expression can not be empty;"),
    ],
)
def test_condition_errors(expression: str, values: dict[str, Any], message: str) -> None:
    assert (
        error_of("ConditionExpression", expression, **values)
        == f"Invalid ConditionExpression: {message}"
    )


def test_in_accepts_at_most_100_operands() -> None:
    values = {f"v{i}": N(str(i)) for i in range(101)}
    expression = "a IN (" + ", ".join(f":v{i}" for i in range(101)) + ")"
    assert error_of("FilterExpression", expression, **values) == (
        "Invalid FilterExpression: The IN operator is provided with too many operands; number "
        "of operands: 101"
    )


def test_expression_size_limit() -> None:
    message = error_of("ConditionExpression", "a = :v AND " * 400 + "a = :v", v=S("x"))
    assert message.startswith(
        "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size"
    )


def test_an_update_expression_too_long_is_refused_without_its_size() -> None:
    expression = "SET " + ", ".join(f"a{i} = :v" for i in range(500))
    with pytest.raises(AwsError) as caught:
        parse("UpdateExpression", expression, None)
    assert caught.value.message == (
        "Invalid UpdateExpression: Expression size has exceeded the maximum allowed size;"
    )


# ---- update expressions ----


def update(
    expression: str,
    item: dict[str, Any] | None = None,
    names: dict[str, str] | None = None,
    **values: Any,
) -> dict[str, Any]:
    vals = {":" + k: v for k, v in values.items()}
    parsed = parse("UpdateExpression", expression, names)
    bind("UpdateExpression", parsed, vals)
    return apply_update(dict(ITEM if item is None else item), parsed.root, vals)


def test_set_remove_add_delete() -> None:
    new = update(
        "SET price = price + :d, info.color = :c, parts[1] = :two, parts[9] = :end "
        "REMOVE flag, info.dims[0] ADD #c :one, tags :more DELETE sizes :drop",
        names={"#c": "count"},
        d=N("0.5"),
        c=S("blue"),
        two=N("22"),
        end=S("z"),
        one=N("1"),
        more={"SS": ["green", "red"]},
        drop={"NS": ["2.50"]},
    )
    assert new["price"] == N("20")
    assert new["info"] == {"M": {"color": S("blue"), "dims": {"L": [N("2")]}}}
    assert new["parts"]["L"][1] == N("22") and new["parts"]["L"][-1] == S(
        "z"
    )  # past the end appends
    assert "flag" not in new
    assert new["count"] == N("4")
    assert sorted(new["tags"]["SS"]) == ["blue", "green", "red"]
    assert new["sizes"] == {"NS": ["1"]}
    # the old item is untouched (copy on write)
    assert ITEM["info"]["M"]["color"] == S("red") and ITEM["price"] == N("19.5")


def test_operands_read_the_item_before_the_update() -> None:
    new = update("SET a = b, b = a", item={"a": S("1"), "b": S("2")})
    assert new == {"a": S("2"), "b": S("1")}


def test_if_not_exists_list_append_and_minus() -> None:
    new = update(
        "SET n = if_not_exists(n, :zero) - :one, l = list_append(:head, l), m = "
        "if_not_exists(price, :zero)",
        item={"l": {"L": [S("x")]}, "price": N("7")},
        zero=N("0"),
        one=N("1"),
        head={"L": [S("w")]},
    )
    assert new == {"n": N("-1"), "l": {"L": [S("w"), S("x")]}, "price": N("7"), "m": N("7")}


def test_add_creates_and_delete_empties() -> None:
    new = update(
        "ADD n :five, s :set DELETE t :t",
        item={"t": {"SS": ["a"]}},
        five=N("5"),
        set={"NS": ["1"]},
        t={"SS": ["a"]},
    )
    assert new == {"n": N("5"), "s": {"NS": ["1"]}}


def test_delete_from_a_missing_member_of_an_existing_map_or_list_changes_nothing() -> None:
    item = {"m": {"M": {}}, "l": {"L": []}}
    assert update("DELETE m.s :t, l[3] :t", item=item, t={"SS": ["a"]}) == item


def test_remove_several_list_indexes_uses_original_positions() -> None:
    new = update("REMOVE l[0], l[2]", item={"l": {"L": [S("a"), S("b"), S("c"), S("d")]}})
    assert new["l"] == {"L": [S("b"), S("d")]}


@pytest.mark.parametrize(
    ("expression", "item", "values", "message"),
    [
        (
            "SET a = b",
            {},
            {},
            "The provided expression refers to an attribute that does not exist in the item",
        ),
        (
            "SET a.b = :v",
            {},
            {"v": S("x")},
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "DELETE a.b :v",
            {},
            {"v": {"SS": ["x"]}},
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "DELETE a.b :v",
            {"a": {"L": []}},
            {"v": {"SS": ["x"]}},
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "SET a[0] = :v",
            {"a": S("x")},
            {"v": S("x")},
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "SET a = a + :v",
            {"a": S("x")},
            {"v": N("1")},
            "An operand in the update expression has an incorrect data type",
        ),
        (
            "ADD a :v",
            {"a": S("x")},
            {"v": N("1")},
            "An operand in the update expression has an incorrect data type",
        ),
        (
            "DELETE a :v",
            {"a": {"NS": ["1"]}},
            {"v": {"SS": ["x"]}},
            "An operand in the update expression has an incorrect data type",
        ),
        (
            "SET a = list_append(a, :v)",
            {"a": N("1")},
            {"v": {"L": []}},
            "An operand in the update expression has an incorrect data type",
        ),
        (
            "SET a = a + :v",
            {"a": N("9" * 38)},
            {"v": N("0.1")},
            "Attempting to store more than 38 significant digits in a Number",
        ),
    ],
)
def test_update_runtime_errors(
    expression: str, item: dict[str, Any], values: dict[str, Any], message: str
) -> None:
    with pytest.raises(AwsError) as caught:
        update(expression, item=item, **values)
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("expression", "values", "message"),
    [
        ("SET a = :v,", {"v": S("x")}, 'Syntax error; token: "<EOF>", near: ","'),
        ("SET", {}, 'Syntax error; token: "<EOF>", near: "SET"'),
        ("a = :v", {"v": S("x")}, 'Syntax error; token: "a", near: "a ="'),
        (
            "SET a = :v SET b = :v",
            {"v": S("x")},
            'The "SET" section can only be used once in an update expression;',
        ),
        (
            "SET data = :v",
            {"v": S("x")},
            "Attribute name is a reserved keyword; reserved keyword: data",
        ),
        (
            "SET a = :v REMOVE a.b",
            {"v": S("x")},
            "Two document paths overlap with each other; must remove or rewrite one of these "
            "paths; "
            "path one: [a], path two: [a, b]",
        ),
        (
            "SET a.b = :v REMOVE a[0]",
            {"v": S("x")},
            "Two document paths conflict with each other; must remove or rewrite one of these "
            "paths; "
            "path one: [a, b], path two: [a, [0]]",
        ),
        (
            "ADD a :v",
            {"v": S("x")},
            "Incorrect operand type for operator or function; operator: ADD, operand type: STRING",
        ),
        (
            "DELETE a :v",
            {"v": N("1")},
            "Incorrect operand type for operator or function; operator: DELETE, operand type: "
            "NUMBER",
        ),
        (
            "SET a = :v + :w",
            {"v": N("1"), "w": S("x")},
            "Incorrect operand type for operator or function; operator or function: +, operand "
            "type: S",
        ),
        (
            "SET a = list_append(:v, a)",
            {"v": S("x")},
            "Incorrect operand type for operator or function; operator or function: "
            "list_append, operand type: S",
        ),
        (
            "SET a = if_not_exists(:v, :v)",
            {"v": S("x")},
            "Operator or function requires a document path; operator or function: if_not_exists",
        ),
        ("SET a = nope(a)", {}, "Invalid function name; function: nope"),
        (
            "SET a = size(b)",
            {},
            "The function is not allowed in an update expression; function: size",
        ),
        (
            "SET a = begins_with(b, :v)",
            {"v": S("x")},
            "The function is not allowed in an update expression; function: begins_with",
        ),
    ],
)
def test_update_parse_errors(expression: str, values: dict[str, Any], message: str) -> None:
    assert (
        error_of("UpdateExpression", expression, **values) == f"Invalid UpdateExpression: {message}"
    )


# ---- projections ----


def test_projection_of_nested_paths_and_list_elements() -> None:
    parsed = parse(
        "ProjectionExpression", "#n, info.dims[1], parts[0], parts[2].x, absent", {"#n": "name"}
    )
    assert project(ITEM, list(parsed.root)) == {
        "name": S("Widget"),
        "info": {"M": {"dims": {"L": [N("2")]}}},
        "parts": {"L": [S("a"), {"M": {"x": S("y")}}]},
    }


def test_projection_errors() -> None:
    assert error_of("ProjectionExpression", "test-attribute") == (
        'Invalid ProjectionExpression: Syntax error; token: "-", near: "test-attribute"'
    )
    assert error_of("ProjectionExpression", "a, a") == (
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or "
        "rewrite one of these paths; path one: [a], path two: [a]"
    )


@pytest.mark.parametrize(
    ("label", "expression"),
    [
        ("ProjectionExpression", "l[{}]"),
        ("UpdateExpression", "SET l[{}] = :v"),
        ("UpdateExpression", "REMOVE l[{}]"),
        ("ConditionExpression", "attribute_exists(m.l[{}])"),
        ("FilterExpression", "l[{}] = :v"),
    ],
)
def test_list_indexes_are_unsigned_without_leading_zeros(label: str, expression: str) -> None:
    # AWS reads a list index as at most 4294967294 (l[2000000000] appends, l[4294967295] is
    # refused: us-east-1, 2026-09-05, floci-io/floci#3073; scylladb/scylladb#25947 for
    # ProjectionExpression), and a leading zero or a sign as a syntax error (us-east-1,
    # 2026-09-05, floci's ProjectionEvaluator tests).
    values = {"v": N("1")} if ":v" in expression else {}
    parse(label, expression.format(4294967294))
    for index in ("4294967295", "99999999999999999999"):
        assert error_of(label, expression.format(index), **values) == (
            f"Invalid {label}: List index is not within the allowable range; index: [{index}]"
        )
    assert error_of(label, expression.format("001"), **values) == (
        f'Invalid {label}: Syntax error; token: "0", near: "001"'
    )
    assert error_of(label, expression.format("0000000000001"), **values) == (
        f'Invalid {label}: Syntax error; token: "0", near: "000"'
    )
    assert error_of(label, expression.format("-1"), **values) == (
        f'Invalid {label}: Syntax error; token: "-", near: "[-1"'
    )


def test_an_out_of_range_list_index_is_found_with_reserved_words_in_written_order() -> None:
    assert error_of("ProjectionExpression", "l[4294967295], #n, name") == (
        "Invalid ProjectionExpression: List index is not within the allowable range; "
        "index: [4294967295]"
    )
    assert error_of("ProjectionExpression", "name, l[4294967295]") == (
        "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: name"
    )


# ---- key conditions ----


def key_of(expression: str, **values: Any) -> list[tuple[str, str, int]]:
    parsed = parse("KeyConditionExpression", expression)
    return [(c.attribute, c.operator, len(c.operands)) for c in key_conditions(parsed.root)]


def test_key_conditions() -> None:
    assert key_of("pk = :p AND sk BETWEEN :a AND :b") == [("pk", "=", 1), ("sk", "BETWEEN", 2)]
    assert key_of(":p = pk AND :s < sk") == [("pk", "=", 1), ("sk", ">", 1)]  # flipped
    assert key_of("pk = :p AND begins_with(sk, :s)") == [("pk", "=", 1), ("sk", "begins_with", 1)]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("pk = :p OR sk = :s", "Invalid operator used in KeyConditionExpression: OR"),
        ("pk <> :p", "Invalid operator used in KeyConditionExpression: <>"),
        ("pk IN (:p)", "Invalid operator used in KeyConditionExpression: IN"),
        (
            "attribute_exists(pk)",
            "Invalid operator used in KeyConditionExpression: attribute_exists",
        ),
        ("size(pk) = :p", "KeyConditionExpressions cannot contain nested operations"),
        ("pk = :p AND pk = :s", "KeyConditionExpressions must only contain one condition per key"),
        ("pk.x = :p", "KeyConditionExpressions cannot have conditions on nested attributes"),
        (
            "pk = sk",
            "Invalid condition in KeyConditionExpression: Multiple attribute names used in one "
            "condition",
        ),
        (":p = :s", "Invalid condition in KeyConditionExpression: No key attribute specified"),
    ],
)
def test_key_condition_errors(expression: str, message: str) -> None:
    with pytest.raises(AwsError) as caught:
        key_of(expression)
    assert caught.value.message == f"Invalid KeyConditionExpression: {message}"


# ---- a request's placeholders ----


def request_error(
    params: dict[str, Any], expressions: tuple[str, ...], legacy: tuple[str, ...] = ()
) -> str:
    with pytest.raises(AwsError) as caught:
        read_expressions(params, expressions, legacy)
    return caught.value.message


PUT = ("ConditionExpression",)


def test_request_placeholder_errors() -> None:
    assert (
        request_error(
            {
                "ConditionExpression": "a = :v",
                "ExpressionAttributeValues": {":v": S("x"), ":w": S("y")},
            },
            PUT,
        )
        == "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"
    )
    assert (
        request_error(
            {
                "ConditionExpression": "a = :v",
                "ExpressionAttributeNames": {"#a": "a"},
                "ExpressionAttributeValues": {":v": S("x")},
            },
            PUT,
        )
        == "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a}"
    )
    assert request_error({"ExpressionAttributeValues": {":v": S("x")}}, PUT) == (
        "ExpressionAttributeValues can only be specified when using expressions: "
        "ConditionExpression is null"
    )
    assert request_error({"ExpressionAttributeNames": {"#a": "a"}}, PUT) == (
        "ExpressionAttributeNames can only be specified when using expressions"
    )
    assert request_error(
        {"ConditionExpression": "a = :v", "ExpressionAttributeValues": {}}, PUT
    ) == ("ExpressionAttributeValues must not be empty")
    assert request_error(
        {"ConditionExpression": "a = :v", "ExpressionAttributeValues": {"v": S("x")}}, PUT
    ) == ('ExpressionAttributeValues contains invalid key: Syntax error; key: "v"')
    # A placeholder of more than 255 bytes, its prefix included: its length is checked
    # before its syntax, and only a name's message gives the size.
    long_name = "#" + "a" * 255 + "-x"
    assert request_error(
        {
            "ConditionExpression": "#a = :v",
            "ExpressionAttributeNames": {"#a": "a", long_name: "b"},
            "ExpressionAttributeValues": {":v": S("x")},
        },
        PUT,
    ) == (
        "ExpressionAttributeNames contains invalid key: The expression attribute map contains a "
        "key that is too long; size of key: 258"
    )
    assert request_error(
        {"ConditionExpression": "a = :v", "ExpressionAttributeValues": {":" + "v" * 255: S("x")}},
        PUT,
    ) == (
        "ExpressionAttributeValues contains invalid key: The expression attribute map contains a "
        "key that is too long;"
    )
    longest = read_expressions(
        {
            "ConditionExpression": "#" + "a" * 254 + " = :" + "v" * 254,
            "ExpressionAttributeNames": {"#" + "a" * 254: "a"},
            "ExpressionAttributeValues": {":" + "v" * 254: S("x")},
        },
        PUT,
    )
    assert longest.get("ConditionExpression") is not None
    # AWS's text, as an application matching on it quotes it
    assert request_error(
        {
            "ConditionExpression": "#a = :v",
            "ExpressionAttributeNames": {"#a": ""},
            "ExpressionAttributeValues": {":v": S("x")},
        },
        PUT,
    ) == ("ExpressionAttributeNames contains invalid value: Empty attribute name for key #a")
    assert request_error(
        {"ConditionExpression": "a = :v", "ExpressionAttributeValues": {":v": N("x")}}, PUT
    ) == (
        "ExpressionAttributeValues contains invalid value: The parameter cannot be converted to a "
        "numeric value: x for key :v"
    )
    assert request_error(
        {"ConditionExpression": "attribute_exists(a)", "Expected": {"a": {"Exists": True}}},
        PUT,
        ("Expected",),
    ) == (
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"
    )


def test_request_values_are_normalized() -> None:
    found = read_expressions(
        {"ConditionExpression": "a = :v", "ExpressionAttributeValues": {":v": N("01.50")}}, PUT
    )
    assert found.values[":v"] == N("1.5")


def _request(expression: str, values: dict[str, Any], **extra: Any) -> dict[str, Any]:
    update = expression.startswith(("SET ", "ADD "))
    label = "UpdateExpression" if update else "ConditionExpression"
    return {label: expression, "ExpressionAttributeValues": values, **extra}


SHAPE_CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    # (a request that passes, then the same shape with other values)
    (
        _request("SET a = list_append(a, :v)", {":v": {"L": []}}),
        _request("SET a = list_append(a, :v)", {":v": {"S": "x"}}),
    ),
    (
        _request("SET n = n + :one", {":one": {"N": "1"}}),
        _request("SET n = n + :one", {":one": {"N": "x1"}}),
    ),
    (
        _request("begins_with(#a, :p)", {":p": {"S": "x"}}, ExpressionAttributeNames={"#a": "a"}),
        _request(
            "begins_with(#a, :p)", {":p": {"BOOL": True}}, ExpressionAttributeNames={"#a": "a"}
        ),
    ),
    (
        _request("ADD s :v", {":v": {"SS": ["a"]}}),
        _request("ADD s :v", {":v": {"SS": ["a", "a"]}}),
    ),
]


def _outcome(params: dict[str, Any]) -> Any:
    try:
        found = read_expressions(params, ("UpdateExpression", "ConditionExpression"))
    except AwsError as error:
        return (error.code, error.message)
    return (dict(found.values), sorted(found.parsed))


@pytest.mark.parametrize(("first", "second"), SHAPE_CASES)
def test_a_shape_seen_before_checks_its_new_values_as_a_fresh_request_would(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    """Expression shapes that passed every check are remembered; a request of the same
    shape must still get the error (or result) it gets when nothing is remembered."""
    from headwater.core.expressions import request

    request._CHECKED_SHAPES.clear()
    fresh = _outcome(second)
    assert isinstance(_outcome(first), tuple)
    assert request._CHECKED_SHAPES, "the passing shape is remembered"
    assert _outcome(second) == fresh
    assert fresh[0] == "ValidationException"
