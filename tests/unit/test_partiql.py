"""The PartiQL parser: statements, conditions, literals, parameters and its refusals."""

from __future__ import annotations

import pytest

from headwater.core.errors import AwsError
from headwater.core.expressions.partiql import (
    And,
    Arithmetic,
    Between,
    Call,
    Compare,
    Delete,
    Exists,
    Function,
    In,
    Insert,
    Is,
    Not,
    Or,
    Path,
    Select,
    Update,
    Value,
    bind,
    parse_statement,
)


def parse(text: str) -> object:
    return parse_statement(text).statement


def test_select_star_from_a_quoted_table_and_index() -> None:
    assert parse('SELECT * FROM "my-table"."by-date"') == Select("my-table", "by-date", None, None)


def test_select_projection_of_nested_paths() -> None:
    statement = parse("SELECT a, b.c, d[2], \"e f\"['g'] FROM t")
    assert isinstance(statement, Select)
    assert statement.projection == (
        Path(("a",)),
        Path(("b", "c")),
        Path(("d", 2)),
        Path(("e f", "g")),
    )


def test_keywords_are_case_insensitive_and_names_are_not() -> None:
    statement = parse("select Artist from Music where Artist = 'x' order by Song desc")
    assert statement == Select(
        "Music",
        None,
        (Path(("Artist",)),),
        Compare(Path(("Artist",)), "=", Value({"S": "x"})),
        (Path(("Song",)), False),
    )


def test_and_binds_tighter_than_or_and_not_tighter_than_and() -> None:
    statement = parse("SELECT * FROM t WHERE a = 1 OR NOT b = 2 AND c = 3")
    assert isinstance(statement, Select)
    a, b, c = (Compare(Path((n,)), "=", Value({"N": v})) for n, v in ["a1", "b2", "c3"])
    assert statement.where == Or((a, And((Not(b), c))))


def test_parentheses_group_conditions() -> None:
    statement = parse("SELECT * FROM t WHERE (a = 1 OR b = 2) AND c = 3")
    assert isinstance(statement, Select)
    assert isinstance(statement.where, And)
    assert isinstance(statement.where.terms[0], Or)


def test_between_in_is_and_functions() -> None:
    statement = parse(
        "SELECT * FROM t WHERE a BETWEEN 1 AND 5 AND b IN ['x', 'y'] AND c IN (1) "
        "AND d IS NOT MISSING AND e IS NULL AND begins_with(f, 'p') AND size(g) > 2"
    )
    assert isinstance(statement, Select) and isinstance(statement.where, And)
    between, in_list, in_parens, present, null, begins, size = statement.where.terms
    assert between == Between(Path(("a",)), Value({"N": "1"}), Value({"N": "5"}))
    assert in_list == In(Path(("b",)), (Value({"S": "x"}), Value({"S": "y"})))
    assert in_parens == In(Path(("c",)), (Value({"N": "1"}),))
    assert present == Is(Path(("d",)), "MISSING", negated=True)
    assert null == Is(Path(("e",)), "NULL", negated=False)
    assert begins == Function(Call("begins_with", (Path(("f",)), Value({"S": "p"}))))
    assert size == Compare(Call("size", (Path(("g",)),)), ">", Value({"N": "2"}))


def test_not_equal_has_two_spellings() -> None:
    for operator in ("<>", "!="):
        statement = parse(f"SELECT * FROM t WHERE a {operator} 1")
        assert isinstance(statement, Select)
        assert statement.where == Compare(Path(("a",)), "<>", Value({"N": "1"}))


def test_literals_become_attribute_values() -> None:
    statement = parse(
        "INSERT INTO t VALUE {'s': 'it''s', 'n': -1.5e3, 'b': true, 'z': null, "
        "'l': [1, 'x'], 'm': {'k': false}, 'ss': <<'a', 'b'>>, 'ns': <<1, 2>>}"
    )
    assert isinstance(statement, Insert)
    assert bind(statement.item.value, []) == {
        "M": {
            "s": {"S": "it's"},
            "n": {"N": "-1.5e3"},
            "b": {"BOOL": True},
            "z": {"NULL": True},
            "l": {"L": [{"N": "1"}, {"S": "x"}]},
            "m": {"M": {"k": {"BOOL": False}}},
            "ss": {"SS": ["a", "b"]},
            "ns": {"NS": ["1", "2"]},
        }
    }


def test_parameters_are_numbered_left_to_right_even_inside_documents() -> None:
    parsed = parse_statement("INSERT INTO t VALUE {'pk': ?, 'tags': <<?, ?>>, 'l': [?]}")
    assert parsed.parameters == 4
    assert isinstance(parsed.statement, Insert)
    values = [{"S": "k"}, {"S": "a"}, {"S": "b"}, {"N": "7"}]
    assert bind(parsed.statement.item.value, values) == {
        "M": {
            "pk": {"S": "k"},
            "tags": {"SS": ["a", "b"]},
            "l": {"L": [{"N": "7"}]},
        }
    }


def test_update_with_set_remove_arithmetic_and_returning() -> None:
    statement = parse(
        "UPDATE t SET a = a + 1, b = list_append(b, [2]) REMOVE c SET d = 'x' "
        "WHERE pk = 'k' RETURNING MODIFIED NEW *"
    )
    assert isinstance(statement, Update)
    assert [a.path for a in statement.assignments] == [
        Path(("a",)),
        Path(("b",)),
        Path(("d",)),
    ]
    assert statement.assignments[0].value == Arithmetic(Path(("a",)), "+", Value({"N": "1"}))
    assert statement.removals == (Path(("c",)),)
    assert statement.returning == "UPDATED_NEW"


def test_delete_and_exists() -> None:
    assert parse("DELETE FROM t WHERE pk = 1 RETURNING ALL OLD *") == Delete(
        "t", Compare(Path(("pk",)), "=", Value({"N": "1"})), "ALL_OLD"
    )
    exists = parse("EXISTS(SELECT * FROM t WHERE pk = 1)")
    assert isinstance(exists, Exists) and exists.select.table == "t"


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("SELEC * FROM t", "Unexpected token"),
        ("SELECT * FROM", "Unexpected end of statement"),
        ("SELECT * FROM t WHERE", "Unexpected end of statement"),
        ("SELECT * FROM t WHERE a = 1 extra", "Unexpected token"),
        ("SELECT * FROM my-table", "Unexpected token"),
        ("SELECT * FROM t WHERE a = 'open", "Unterminated quoted text"),
        ("INSERT INTO t VALUES {'a': 1}", "Unexpected token"),
        ("UPDATE t WHERE a = 1", "Unexpected keyword"),
        ("DELETE FROM t RETURNING ALL *", "Unexpected token"),
        ("SELECT * FROM t WHERE a = #x", "Unexpected character '#'"),
    ],
)
def test_malformed_statements_are_refused_as_aws_words_it(text: str, detail: str) -> None:
    with pytest.raises(AwsError) as caught:
        parse_statement(text)
    assert caught.value.code == "ValidationException"
    assert caught.value.message == f"Statement wasn't well formed, can't be processed: {detail}"


def test_a_set_of_mixed_types_is_refused() -> None:
    parsed = parse_statement("INSERT INTO t VALUE {'s': <<'a', 1>>}")
    assert isinstance(parsed.statement, Insert)
    with pytest.raises(AwsError) as caught:
        bind(parsed.statement.item.value, [])
    assert caught.value.code == "ValidationException"
