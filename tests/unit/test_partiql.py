"""The PartiQL parser: statements, conditions, literals, parameters and its refusals."""

from __future__ import annotations

import pytest

from headwater.core.errors import AwsError
from headwater.core.expressions.partiql import (
    And,
    Arithmetic,
    Assignment,
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
    column_name,
    parse_statement,
)
from headwater.services.dynamodb.statements import ExpressionWriter


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


# Texts pinned against real DynamoDB (eu-west-2, October 2026) by a public conformance
# suite: a token left over after a whole statement, and text the parser cannot read at
# all, which leaves nothing after the colon.
LEFTOVER = "Unexpected token after expression"
AFTER_SEMICOLON = "Unexpected token after semicolon. (Only one query is allowed.)"


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("SELEC * FROM t", "Unexpected token"),
        # where a term should start (the suite pins these; headwater said "Unexpected end
        # of statement" for the first two)
        ("SELECT * FROM", "Unexpected term"),
        ("SELECT * FROM t WHERE", "Unexpected term"),
        ("SELECT * FROM t WHERE;", "Unexpected term"),
        ("SELECT pk FROM t WHERE   ", "Unexpected term"),
        ("UPDATE t SET a = 1 WHERE", "Unexpected term"),
        ("DELETE FROM t WHERE", "Unexpected term"),
        ("SELECT * FROM t WHERE NOT", "Unexpected term"),
        ("SELECT * FROM t WHERE (", "Unexpected term"),
        ("SELECT * FROM t WHERE ORDER BY pk", "Unexpected keyword"),
        ("SELECT * FROM t WHERE IS NULL", "Unexpected operator"),
        ("SELECT * FROM t WHERE pk = LIKE", "Unexpected operator"),
        (
            "SELECT * FROM t WHERE pk = 'p1' AND",
            "Missing right-hand side expression of infix operator",
        ),
        (
            "SELECT * FROM t WHERE pk = 'p1' OR",
            "Missing right-hand side expression of infix operator",
        ),
        ("SELECT * FROM t WHERE pk = 'a' AND x IS FOO", "Expected type name"),
        ("SELECT * FROM t WHERE x IS NUMBER", "Expected type name"),
        ("DELETE FROM", "Expected identifier for simple path"),
        ("DELETE FROM;", "Expected identifier for simple path"),
        ("DELETE FROM WHERE pk = 'a'", "Expected identifier for simple path"),
        ("FROM t SET c = 1 WHERE pk = 'x'", LEFTOVER),
        ("FROM t SET c = 1 WHERE pk = 'x' SET d = 2", LEFTOVER),
        # the parser's own text for what follows a semicolon
        ("SELECT * FROM t WHERE pk = 1; SELECT", AFTER_SEMICOLON),
        ("SELECT * FROM t WHERE a = 1 extra", LEFTOVER),
        ("SELECT * FROM t WHERE pk = 1 e5", LEFTOVER),
        ("SELECT * FROM t WHERE pk = 1)", LEFTOVER),
        ("SELECT * FROM t ORDER BY pk WHERE pk = 1", LEFTOVER),
        ("DELETE FROM t WHERE pk = 1 ORDER BY pk", LEFTOVER),
        ("INSERT INTO t VALUE {'pk': 1} foo", LEFTOVER),
        ("INSERT INTO t x VALUE {'pk': 1}", LEFTOVER),
        ("UPDATE t SET a = 9 WHERE pk = 1 foo", LEFTOVER),
        ("SELECT * FROM my-table", LEFTOVER),
        ("SELECT * FROM t WHERE a = 'open", ""),
        ("SELECT * FROM t WHERE pk = 1 # note", ""),
        ("SELECT * FROM t WHERE pk = 1 /* note", ""),
        ("SELECT * FROM t WHERE pk = 1e2147483648", ""),
        ("SELECT * FROM t WHERE pk = 1e99999999999", ""),
        ("SELECT * FROM t WHERE pk = 1.5e-2147483647", ""),
        ("SELECT * FROM t WHERE pk = 1e" + "9" * 5000, ""),  # past int()'s digit limit
        ("UPDATE t WHERE a = 1", "Unexpected keyword"),
        ("DELETE FROM t RETURNING ALL *", "Unexpected token"),
    ],
)
def test_malformed_statements_are_refused_as_aws_words_it(text: str, detail: str) -> None:
    assert refusal(text) == f"Statement wasn't well formed, can't be processed: {detail}"


def refusal(text: str) -> str:
    with pytest.raises(AwsError) as caught:
        parse_statement(text)
    assert caught.value.code == "ValidationException"
    return caught.value.message


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * FROM \"t\" t WHERE pk = 'x'",
        "SELECT * FROM \"t\" AS t WHERE pk = 'x'",
        "UPDATE \"t\" t SET a = 3 WHERE pk = 'x'",
        "DELETE FROM \"t\" t WHERE pk = 'x'",
    ],
)
def test_a_table_alias_is_refused(text: str) -> None:
    assert refusal(text) == "Aliasing is not supported"


@pytest.mark.parametrize(
    "text",
    [
        "SELECT s AS x FROM t WHERE pk = 'x'",
        "SELECT pk, s x FROM t",
        'SELECT m.k[0] AS "x" FROM t',
        "select s as x from t",
    ],
)
def test_a_column_alias_is_refused(text: str) -> None:
    # DynamoDB Local's PartiQL translator, and its answer to SELECT s AS x as recorded from
    # its 3.2.0 and 3.3.1 releases (xo/dbimp's replay tests)
    assert refusal(text) == "Aliasing is not supported"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT * FROM t WHERE pk = 1e126", "Number overflow. {larger} under root"),
        ("SELECT * FROM t WHERE pk = 1e-131", "Number underflow. {smaller} under root"),
        (
            "SELECT * FROM t WHERE pk = 123456789012345678901234567890123456789",
            "Attempting to store more than 38 significant digits in a Number under root",
        ),
        ("INSERT INTO t VALUE {'pk': 1e126}", "Number overflow. {larger} under root"),
        ("UPDATE t SET a = 1e-131 WHERE pk = 1", "Number underflow. {smaller} under root"),
        (
            "INSERT INTO t VALUE {'pk': 1, 'm': {'x': 1e126}}",
            "Number overflow. {larger} under root.x",
        ),
        (
            "INSERT INTO t VALUE {'pk': 1, 'l': [1, 1e126]}",
            "Number overflow. {larger} under root[1]",
        ),
    ],
)
def test_a_number_literal_beyond_dynamodb_limits_names_where_it_is(text: str, message: str) -> None:
    larger = "Attempting to store a number with magnitude larger than supported range"
    smaller = "Attempting to store a number with magnitude smaller than supported range"
    assert refusal(text) == message.format(larger=larger, smaller=smaller)


def test_comments_are_ignored_and_exponents_read() -> None:
    statement = parse("-- a note\nSELECT * FROM t /* x */ WHERE pk = .73e1 -- end")
    assert isinstance(statement, Select)
    assert statement.where == Compare(Path(("pk",)), "=", Value({"N": ".73e1"}))


def test_from_first_update() -> None:
    statement = parse("from t where pk = ? set c = 1 remove b returning all new *")
    assert statement == Update(
        "t",
        (Assignment(Path(("c",)), Value({"N": "1"})),),
        (Path(("b",)),),
        Compare(Path(("pk",)), "=", Value({"?": 0})),
        "ALL_NEW",
    )


def test_functions_and_is_type_in_a_where() -> None:
    statement = parse(
        "SELECT * FROM t WHERE ATTRIBUTE_EXISTS(a) = true AND attribute_exists(b) = false "
        "AND c IS BOOL AND d IS NOT STRING"
    )
    assert isinstance(statement, Select) and isinstance(statement.where, And)
    exists_a, exists_b, is_bool, not_string = statement.where.terms
    assert exists_a == Function(Call("attribute_exists", (Path(("a",)),)))
    assert exists_b == Not(Function(Call("attribute_exists", (Path(("b",)),))))
    assert is_bool == Function(Call("attribute_type", (Path(("c",)), Value({"S": "BOOL"}))))
    assert not_string == Not(Function(Call("attribute_type", (Path(("d",)), Value({"S": "S"})))))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "UPDATE t SET t = set_add(ss, <<'x'>>) WHERE pk = 'i'",
            "The first argument to SET_ADD must equal the assignment value at 1:18:7",
        ),
        (
            "UPDATE t SET ss = set_add(<<'a'>>, <<'b'>>) WHERE pk = 'i'",
            "The first argument to SET_ADD must equal the assignment value at 1:19:7",
        ),
        (
            "UPDATE t SET ss = set_add(ss, 'x') WHERE pk = 'i'",
            "The second argument to SET_ADD must be a value with type SET at 1:27:2",
        ),
        (
            "UPDATE t SET ss = set_add(ss) WHERE pk = 'i'",
            "SET_ADD must have exactly two arguments at 1:19:7",
        ),
        (
            "UPDATE t SET ss = set_delete(ss, ['x']) WHERE pk = 'i'",
            "The second argument to SET_DELETE must be a value with type SET at 1:30:2",
        ),
        ("UPDATE t SET ss = set_add(ss, <<>>) WHERE pk = 'i'", "Empty bags are not supported"),
        (
            "SELECT * FROM t WHERE pk = 'i' AND set_add(ss, <<'x'>>) = ss",
            "Unrecognized function: set_add at 1:36:7",
        ),
        (
            "SELECT * FROM t WHERE pk = 'i' AND EXISTS(ss)",
            "Unrecognized function: exists at 1:36:6",
        ),
        (
            "INSERT INTO t VALUE {'pk': 'i', 'ss': set_add(<<'a'>>, <<'b'>>)}",
            "Unsupported data type: set_add under key root at 1:39:7",
        ),
        (
            "SELECT attribute_exists(ss) FROM t WHERE pk = 'i'",
            "Unexpected path component at 1:8:16",
        ),
    ],
)
def test_function_misuse_is_refused_with_its_position(text: str, message: str) -> None:
    assert refusal(text) == message


def test_a_set_of_mixed_types_is_refused() -> None:
    parsed = parse_statement("INSERT INTO t VALUE {'s': <<'a', 1>>}")
    assert isinstance(parsed.statement, Insert)
    with pytest.raises(AwsError) as caught:
        bind(parsed.statement.item.value, [])
    assert caught.value.code == "ValidationException"


def test_conditions_are_written_with_only_the_parentheses_precedence_needs() -> None:
    """DynamoDB refuses redundant parentheses, so the writer adds none of its own."""
    statement = parse("SELECT * FROM t WHERE (a = 1 OR b = 2) AND NOT (c = 3 AND d = 4)")
    assert isinstance(statement, Select) and isinstance(statement.where, And)
    either, neither = statement.where.terms
    writer = ExpressionWriter([])
    assert writer.condition(And((either,))) == "#n0 = :v0 OR #n1 = :v1"
    assert writer.condition(statement.where) == (
        "(#n0 = :v2 OR #n1 = :v3) AND NOT (#n2 = :v4 AND #n3 = :v5)"
    )
    assert writer.condition(neither) == "NOT (#n2 = :v6 AND #n3 = :v7)"


def test_a_trailing_semicolon_ends_a_statement() -> None:
    assert parse("SELECT * FROM t WHERE pk = 1;") == parse("SELECT * FROM t WHERE pk = 1")


def test_a_from_first_update_may_leave_out_its_where() -> None:
    # AWS's parser reads FROM t [WHERE ...] SET ...; with no WHERE the key check refuses it
    statement = parse("FROM t SET c = 1")
    assert isinstance(statement, Update) and statement.where is None


@pytest.mark.parametrize("type_name", ["INT4", "INT8", "DOUBLE PRECISION", "CHARACTER VARYING"])
def test_a_type_test_standing_as_a_statement_is_an_unsupported_operation(type_name: str) -> None:
    # the suite's proof that AWS's parser reads these type names
    assert refusal(f"x IS {type_name}") == "Unsupported operation: IsType"


def test_is_a_partiql_type_dynamodb_stores_no_value_of() -> None:
    # DynamoDB Local's PartiQL translator, for a type its parser reads but DynamoDB lacks
    assert refusal("SELECT * FROM t WHERE x IS INT4") == (
        "Unsupported data type for IS operator: INTEGER4. Supported data types are [MISSING, "
        "NULL, BOOLEAN, BLOB, STRING, NUMERIC, STRUCT, TUPLE, LIST]"
    )


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        # a reserved word after a dot (the suite pins "inner"), where a term starts, and
        # where a simple path must
        (
            "SELECT * FROM t WHERE pk = 'a' AND attribute_exists(m.inner)",
            "Invalid path dot component",
        ),
        (
            "UPDATE t SET m.inner = set_add(m.inner, <<'y'>>) WHERE pk = 'a'",
            "Invalid path dot component",
        ),
        ("SELECT * FROM t.index WHERE pk = 1", "Invalid path dot component"),
        ("SELECT * FROM t WHERE key = 1", "Unexpected keyword"),
        ("SELECT count FROM t", "Unexpected keyword"),
        ("SELECT * FROM rows", "Unexpected keyword"),
        ("UPDATE t SET value = 1 WHERE pk = 1", "Expected identifier for simple path"),
        ("UPDATE t REMOVE nothing WHERE pk = 1", "Expected identifier for simple path"),
        ("DELETE FROM user WHERE pk = 1", "Expected identifier for simple path"),
    ],
)
def test_a_reserved_word_names_nothing_unquoted(text: str, detail: str) -> None:
    assert refusal(text) == f"Statement wasn't well formed, can't be processed: {detail}"


def test_a_quoted_reserved_word_is_a_name_and_size_still_a_function() -> None:
    statement = parse('SELECT "key", m."inner" FROM "user" WHERE "key" = 1 AND size(m) > 1')
    assert isinstance(statement, Select) and statement.table == "user"
    assert statement.projection == (Path(("key",)), Path(("m", "inner")))
    assert isinstance(statement.where, And)
    assert statement.where.terms[1] == Compare(
        Call("size", (Path(("m",)),)), ">", Value({"N": "1"})
    )


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("s", "s"),
        ("a.b", "b"),
        ("a[0]", "a[0]"),
        ("m.k[0]", "k[0]"),
        ("a.b[1].c", "c"),
        ("a.b[1]", "b[1]"),
        ("a[0][2]", "a[0][2]"),
        ("l[-0]", "l[0]"),
        ('"m.z"', "m.z"),
        ('m."z"', "z"),
    ],
)
def test_a_projected_path_is_named_by_its_last_attribute_and_the_indexes_after_it(
    path: str, name: str
) -> None:
    select = parse(f"SELECT {path} FROM t")
    assert isinstance(select, Select) and select.projection is not None
    assert column_name(select.projection[0].segments) == name
