"""PartiQL (ExecuteStatement, BatchExecuteStatement, ExecuteTransaction) over the item API."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater
from headwater.store.tables import TableStore
from tests.functional.dynamodb_tables import create_table, gsi, lsi

SONGS = [
    ("Acme", "Alpha", 2001),
    ("Acme", "Beta", 1999),
    ("Acme", "Gamma", 2010),
    ("Zed", "Z", 2001),
]


@pytest.fixture
def ddb(hw: Headwater) -> Any:
    client = hw.dynamodb
    create_table(
        client,
        "music",
        hash_key=("Artist", "S"),
        range_key=("Song", "S"),
        attributes={"Year": "N"},
        GlobalSecondaryIndexes=[gsi("by-year", "Year", "Song")],
    )
    for artist, song, year in SONGS:
        client.execute_statement(
            Statement="INSERT INTO music VALUE {'Artist': ?, 'Song': ?, 'Year': ?}",
            Parameters=[{"S": artist}, {"S": song}, {"N": str(year)}],
        )
    return client


def deep_value(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(depth):
        value = {"M": {"n": value}}
    return value


def run(ddb: Any, statement: str, *parameters: dict[str, Any], **extra: Any) -> dict[str, Any]:
    if parameters:
        extra["Parameters"] = list(parameters)
    result: dict[str, Any] = ddb.execute_statement(Statement=statement, **extra)
    return result


def songs(result: dict[str, Any]) -> list[str]:
    return [item["Song"]["S"] for item in result["Items"]]


def error_of(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    response: dict[str, Any] = caught.value.response
    return response


def item(ddb: Any, artist: str, song: str) -> dict[str, Any] | None:
    key = {"Artist": {"S": artist}, "Song": {"S": song}}
    found: dict[str, Any] | None = ddb.get_item(TableName="music", Key=key).get("Item")
    return found


def test_insert_stores_the_document_and_refuses_a_second_one(ddb: Any) -> None:
    assert item(ddb, "Acme", "Alpha") == {
        "Artist": {"S": "Acme"},
        "Song": {"S": "Alpha"},
        "Year": {"N": "2001"},
    }
    error = error_of(
        ddb.execute_statement,
        Statement="INSERT INTO music VALUE {'Artist': 'Acme', 'Song': 'Alpha'}",
    )
    assert error["Error"] == {
        "Code": "DuplicateItemException",
        "Message": "Duplicate primary key exists in table",
    }
    assert item(ddb, "Acme", "Alpha") is not None and "Year" in item(ddb, "Acme", "Alpha")  # type: ignore[operator]


def test_select_by_partition_key_is_a_query_in_key_order(ddb: Any) -> None:
    assert songs(run(ddb, "SELECT * FROM music WHERE Artist = 'Acme'")) == [
        "Alpha",
        "Beta",
        "Gamma",
    ]
    desc = run(ddb, "SELECT Song FROM music WHERE Artist = 'Acme' ORDER BY Song DESC")
    assert desc["Items"] == [{"Song": {"S": s}} for s in ("Gamma", "Beta", "Alpha")]


def test_sort_key_conditions_in_either_order(ddb: Any) -> None:
    base = "SELECT * FROM music WHERE Artist = 'Acme' AND "
    assert songs(run(ddb, base + "Song > 'Alpha'")) == ["Beta", "Gamma"]
    assert songs(run(ddb, base + "'Beta' >= Song")) == ["Alpha", "Beta"]
    assert songs(run(ddb, base + "Song BETWEEN 'B' AND 'H'")) == ["Beta", "Gamma"]
    assert songs(run(ddb, base + "begins_with(Song, 'G')")) == ["Gamma"]
    # a sort key named twice, or under OR, cannot be a key condition: still answered right
    assert songs(run(ddb, base + "Song > 'A' AND Song < 'C'")) == ["Alpha", "Beta"]
    assert songs(run(ddb, base + "(Song = 'Alpha' OR Song = 'Gamma')")) == ["Alpha", "Gamma"]


def test_select_without_the_partition_key_scans_with_a_filter(ddb: Any) -> None:
    found = run(ddb, 'SELECT Artist, Song FROM music WHERE "Year" = 2001')
    assert sorted(songs(found)) == ["Alpha", "Z"]
    either = run(ddb, "SELECT * FROM music WHERE Artist = 'Zed' OR Song = 'Beta'")
    assert sorted(songs(either)) == ["Beta", "Z"]
    within = run(ddb, "SELECT * FROM music WHERE Song IN ['Beta', 'Z'] AND NOT \"Year\" < 2000")
    assert songs(within) == ["Z"]


def test_select_on_an_index(ddb: Any) -> None:
    found = run(ddb, 'SELECT Song FROM music."by-year" WHERE "Year" = 2001')
    assert found["Items"] == [{"Song": {"S": "Alpha"}}, {"Song": {"S": "Z"}}]
    error = error_of(ddb.execute_statement, Statement='SELECT * FROM music."nope"')
    assert error["Error"]["Message"] == "The table does not have the specified index: nope"


def test_missing_and_null(ddb: Any) -> None:
    run(ddb, "UPDATE music SET Note = null WHERE Artist = 'Zed' AND Song = 'Z'")
    run(ddb, "UPDATE music SET Note = 'hi' WHERE Artist = 'Acme' AND Song = 'Beta'")
    assert sorted(songs(run(ddb, "SELECT * FROM music WHERE Note IS MISSING"))) == [
        "Alpha",
        "Gamma",
    ]
    assert sorted(songs(run(ddb, "SELECT * FROM music WHERE Note IS NOT MISSING"))) == [
        "Beta",
        "Z",
    ]
    # DynamoDB turns IS NULL into a comparison with NULL (DynamoDB Local's PartiQL
    # translator): an attribute the item lacks is not NULL, unlike standard PartiQL
    assert songs(run(ddb, "SELECT * FROM music WHERE Note IS NULL")) == ["Z"]
    assert sorted(songs(run(ddb, "SELECT * FROM music WHERE Note IS NOT NULL"))) == [
        "Alpha",
        "Beta",
        "Gamma",
    ]


def test_is_null_on_a_write_holds_for_a_null_value_only(ddb: Any) -> None:
    run(ddb, "UPDATE music SET Note = null WHERE Artist = 'Zed' AND Song = 'Z'")
    lacking = "WHERE Artist = 'Acme' AND Song = 'Alpha'"
    error = error_of(
        ddb.execute_statement, Statement=f"UPDATE music SET Seen = 1 {lacking} AND Note IS NULL"
    )
    assert error["Error"]["Code"] == "ConditionalCheckFailedException"
    assert "Seen" not in (item(ddb, "Acme", "Alpha") or {})
    run(ddb, "UPDATE music SET Seen = 1 WHERE Artist = 'Zed' AND Song = 'Z' AND Note IS NULL")
    assert (item(ddb, "Zed", "Z") or {})["Seen"] == {"N": "1"}
    error = error_of(
        ddb.execute_statement,
        Statement="DELETE FROM music WHERE Artist = 'Zed' AND Song = 'Z' AND Note IS NOT NULL",
    )
    assert error["Error"]["Code"] == "ConditionalCheckFailedException"
    run(ddb, f"DELETE FROM music {lacking} AND Note IS NOT NULL")
    assert item(ddb, "Acme", "Alpha") is None


OVERLAP = "Overlapping conditions with range keys are not supported in where clause"


@pytest.mark.parametrize(
    "where",
    [
        "Artist = 'Acme' AND Year = 2001 OR Artist = 'Acme' AND Song = 'Beta'",
        "Artist = 'Acme' AND Year <> 2001 OR Artist = 'Acme' AND Song = 'Beta'",
        "Artist = 'Acme' AND (Song > 'A' OR Song < 'C')",
        "Artist IN ['Acme', 'Acme']",
        "Artist = 'Acme' AND (begins_with(Song, 'B') OR Song >= 'Beta')",
    ],
)
def test_or_branches_overlapping_on_the_sort_key_are_refused(ddb: Any, where: str) -> None:
    # AWS reads each branch naming one partition on its own and refuses branches whose
    # sort-key ranges meet (a conformance suite's exact text, against AWS)
    error = error_of(ddb.execute_statement, Statement=f"SELECT * FROM music WHERE {where}")
    assert error["Error"] == {"Code": "ValidationException", "Message": OVERLAP}


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        # a branch testing the sort key as no range can (NOT, <>) reads with a filter
        (
            "Artist = 'Acme' AND NOT Song = 'Alpha' OR Artist = 'Acme' AND Song = 'Beta'",
            ["Beta", "Gamma"],
        ),
        (
            "Artist = 'Acme' AND Song <> 'Alpha' OR Artist = 'Acme' AND Song = 'Beta'",
            ["Beta", "Gamma"],
        ),
        ("Artist = 'Acme' OR Artist = 'Acme' AND NOT Song = 'Alpha'", ["Alpha", "Beta", "Gamma"]),
        # ranges that do not meet, and branches in different partitions
        ("Artist = 'Acme' AND (Song = 'Alpha' OR Song = 'Gamma')", ["Alpha", "Gamma"]),
        ("Artist = 'Acme' AND (begins_with(Song, 'B') OR Song >= 'C')", ["Beta", "Gamma"]),
        ("Artist = 'Acme' AND Song = 'Beta' OR Artist = 'Zed'", ["Beta", "Z"]),
    ],
)
def test_or_branches_that_do_not_overlap_run(ddb: Any, where: str, expected: list[str]) -> None:
    found = run(ddb, f"SELECT * FROM music WHERE {where}")
    assert sorted(songs(found)) == expected


def test_a_statement_that_does_not_parse_is_named_in_a_transaction(ddb: Any) -> None:
    # a conformance suite's texts from AWS: the parser's detail, and in a transaction the
    # statement it is in
    refused = "Statement wasn't well formed, can't be processed: Unexpected term"
    error = error_of(
        ddb.execute_transaction,
        TransactStatements=[
            {"Statement": "SELECT * FROM music WHERE Artist = 'Acme' AND Song = 'Beta'"},
            {"Statement": "SELECT * FROM music WHERE"},
        ],
    )
    assert error["Error"]["Message"] == f"Validation failed in TransactStatements[1]: {refused}"
    batch = ddb.batch_execute_statement(Statements=[{"Statement": "SELECT * FROM music WHERE"}])
    assert batch["Responses"][0]["Error"] == {"Code": "ValidationError", "Message": refused}


def test_a_from_first_update_without_where_names_no_key(ddb: Any) -> None:
    error = error_of(ddb.execute_statement, Statement="FROM music SET Note = 'x'")
    assert error["Error"]["Message"] == (
        "Where clause does not contain a mandatory equality on all key attributes"
    )


def test_a_bad_value_is_refused_in_its_own_words(ddb: Any) -> None:
    # AWS answers the value's own text, with no placeholder around it (a conformance suite
    # for a set literal; an emulator's AWS captures for a parameter)
    duplicates = (
        "One or more parameter values were invalid: Input collection [x, x] contains duplicates."
    )
    where = "WHERE Artist = 'Acme' AND Song = 'Alpha'"
    for statement, parameters in (
        (f"UPDATE music SET Tags = set_add(Tags, <<'x', 'x'>>) {where}", []),
        (f"UPDATE music SET Tags = ? {where}", [{"SS": ["x", "x"]}]),
    ):
        extra = {"Parameters": parameters} if parameters else {}
        error = error_of(ddb.execute_statement, Statement=statement, **extra)
        assert error["Error"]["Message"] == duplicates
    assert "Tags" not in (item(ddb, "Acme", "Alpha") or {})


def test_a_function_with_no_operands_is_counted(ddb: Any) -> None:
    # the count AWS gives for two operands, and (a conformance suite, against AWS) for none
    base = "SELECT * FROM music WHERE Artist = 'Acme' AND "
    for function in ("attribute_exists", "begins_with", "size"):
        condition = f"{function}() = 1" if function == "size" else f"{function}()"
        error = error_of(ddb.execute_statement, Statement=base + condition)
        assert error["Error"]["Message"] == (
            "Incorrect number of operands for operator or function; operator or function: "
            f"{function}, number of operands: 0"
        )


def test_a_list_index_is_held_to_32_bits_and_a_sign_folds_into_it(ddb: Any) -> None:
    # AWS's answers (eu-west-2, 2026-09-17, captured in floci's PartiQL edge-case tests):
    # l[-1] and l[2147483648] are refused pointing at the digits, l[-0] reads l[0] and
    # l[2147483647] reads nothing, and a refused REMOVE changes nothing.
    ddb.put_item(
        TableName="music",
        Item={"Artist": {"S": "L"}, "Song": {"S": "1"}, "l": {"L": [{"S": "a"}, {"S": "b"}]}},
    )
    where = " FROM music WHERE Artist = 'L' AND Song = '1'"
    for statement, message in (
        (
            "SELECT l[-1]" + where,
            "List index is not within the allowable range; index: [-1] at 1:11:1",
        ),
        (
            "SELECT l[2147483648]" + where,
            "List index is not within the allowable range; index: [2147483648] at 1:10:10",
        ),
        (
            "UPDATE music REMOVE l[2147483648] WHERE Artist = 'L' AND Song = '1'",
            "List index is not within the allowable range; index: [2147483648] at 1:23:10",
        ),
    ):
        error = error_of(ddb.execute_statement, Statement=statement)
        assert (error["Error"]["Code"], error["Error"]["Message"]) == (
            "ValidationException",
            message,
        )
    assert run(ddb, "SELECT l[-0]" + where)["Items"] == [{"l[0]": {"S": "a"}}]
    assert len(run(ddb, "SELECT l[2147483647]" + where)["Items"]) == 1
    assert item(ddb, "L", "1") == {
        "Artist": {"S": "L"},
        "Song": {"S": "1"},
        "l": {"L": [{"S": "a"}, {"S": "b"}]},
    }


def choices(count: int) -> str:
    return ", ".join(f"'v{n}'" for n in range(count))


def test_a_select_splitting_into_more_than_50_reads_is_refused(ddb: Any) -> None:
    # AWS's answers (eu-west-2, 2026-09-17, captured in floci's PartiQL edge-case tests;
    # DynamoDB Local's message list has the same text; the developer guide's IN: 'at max 50
    # hash attribute values or at max 100 non-key attribute values')
    select = "SELECT Song FROM music WHERE "
    too_many_reads = "Too many decomposed read operations for a given query."
    too_many_operands = (
        "The IN operator is provided with too many operands; number of operands: 101"
    )
    for where in (
        f"Artist IN [{choices(51)}]",
        f"Artist = 'Acme' AND Song IN [{choices(51)}]",
        f"Artist IN [{choices(26)}] AND Song IN ['Alpha', 'Beta']",
    ):
        error = error_of(ddb.execute_statement, Statement=select + where)
        assert error["Error"]["Message"] == too_many_reads, where
    # 50 reads, a filter IN of 100, and a branch naming no partition (one scan) all run
    for where in (
        f"Artist IN [{choices(49)}, 'Acme'] AND Year IN [{choices(99)}, 2001]",
        f"Artist IN [{choices(51)}] OR Year = 2001",
        f"Artist IN [{choices(25)}] AND Song IN ['Alpha', 'Beta']",
    ):
        assert run(ddb, select + where)["Items"] is not None
    assert songs(run(ddb, select + f"Artist IN [{choices(51)}] OR Year = 2010")) == ["Gamma"]
    batch = ddb.batch_execute_statement(
        Statements=[{"Statement": select + f"Artist IN [{choices(51)}] AND Song = 'Alpha'"}]
    )
    assert batch["Responses"][0]["Error"]["Message"] == too_many_reads
    error = error_of(
        ddb.execute_statement, Statement=select + f"Artist = 'Acme' AND Year IN [{choices(101)}]"
    )
    assert error["Error"]["Message"] == too_many_operands
    # a transaction's read counts its IN before it asks for the full key
    error = error_of(
        ddb.execute_transaction,
        TransactStatements=[
            {"Statement": f"SELECT * FROM music WHERE Artist IN [{choices(101)}] AND Song = 'A'"}
        ],
    )
    assert error["Error"]["Message"] == (
        f"Validation failed in TransactStatements[0]: {too_many_operands}"
    )


@pytest.mark.parametrize("written", ["ALL NEW", "MODIFIED OLD", "MODIFIED NEW"])
def test_a_delete_names_the_returning_clause_it_refuses(ddb: Any, written: str) -> None:
    # DynamoDB Local's PartiQL text, which names the clause as written
    statement = f"DELETE FROM music WHERE Artist = 'Acme' AND Song = 'Alpha' RETURNING {written} *"
    error = error_of(ddb.execute_statement, Statement=statement)
    assert error["Error"]["Message"] == (
        f"Invalid returning clause: RETURNING {written} *. Only RETURNING ALL OLD * is allowed "
        "in DELETE statements."
    )
    assert item(ddb, "Acme", "Alpha") is not None


def test_a_write_naming_two_values_for_one_key_attribute_is_refused(ddb: Any) -> None:
    # AWS's text (an emulator's capture from eu-west-2; DynamoDB Local's message list); the
    # same value twice is one item
    multiple = (
        "Multiple conditions on same key Artist. Only single item Update/Insert/Delete are "
        "supported"
    )
    for statement in (
        "UPDATE music SET Seen = 1 WHERE Artist = 'Acme' AND Song = 'Alpha' AND Artist = 'Zed'",
        "DELETE FROM music WHERE Artist = 'Acme' AND Song = 'Alpha' AND Artist = 'Zed'",
    ):
        error = error_of(ddb.execute_statement, Statement=statement)
        assert error["Error"]["Message"] == multiple
    assert "Seen" not in (item(ddb, "Acme", "Alpha") or {})
    # a transaction is not refused up front: it cancels (what AWS names as the reason is
    # uncertain here) and writes nothing
    error = error_of(
        ddb.execute_transaction,
        TransactStatements=[
            {
                "Statement": "UPDATE music SET Seen = 1 "
                "WHERE Artist = 'Acme' AND Song = 'Alpha' AND Artist = 'Zed'"
            }
        ],
    )
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert "Seen" not in (item(ddb, "Acme", "Alpha") or {})
    run(
        ddb,
        "UPDATE music SET Seen = 1 WHERE Artist = 'Acme' AND Song = 'Alpha' AND Artist = 'Acme'",
    )
    assert (item(ddb, "Acme", "Alpha") or {})["Seen"] == {"N": "1"}


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        (
            "UPDATE music SET Seen = 1 WHERE Artist = 'Acme' AND Song = 'Beta' RETURNING ALL NEW *",
            "RETURNING clause is not supported in ExecuteTransaction.",
        ),
        (
            'SELECT * FROM music."by-year" WHERE "Year" = 2001 AND Song = \'Alpha\'',
            "Reads on indices are not supported within transactions.",
        ),
    ],
)
def test_a_transaction_refuses_returning_and_index_reads_before_any_table(
    ddb: Any, statement: str, refusal: str
) -> None:
    # ahead of a missing table in an earlier statement (an emulator's AWS captures)
    first = "SELECT * FROM nowhere WHERE Artist = 'Acme' AND Song = 'Alpha'"
    if statement.startswith("UPDATE"):
        first = "UPDATE nowhere SET Seen = 1 WHERE Artist = 'Acme' AND Song = 'Alpha'"
    error = error_of(
        ddb.execute_transaction,
        TransactStatements=[{"Statement": first}, {"Statement": statement}],
    )
    assert error["Error"] == {
        "Code": "ValidationException",
        "Message": f"Validation failed in TransactStatements[1]: {refusal}",
    }
    assert "Seen" not in (item(ddb, "Acme", "Beta") or {})


@pytest.mark.parametrize(
    ("where", "message"),
    [
        (
            "Artist = 1",
            "Key attribute's data type should match its data type in table's schema: Key Artist",
        ),
        (
            "Artist = 'Acme' AND Song > 1",
            "Key attribute's data type should match its data type in table's schema: Key Song",
        ),
        (
            "Artist = 1 OR Artist = 'Acme'",
            "Key attribute's data type should match its data type in table's schema: Key Artist",
        ),
        (
            "Artist = 'Acme' AND Song IN ['Alpha', 2]",
            "Key attribute's data type should match its data type in table's schema: Key Song",
        ),
        ("Artist = true", "Key value must be of type S, N, or B. Key name: Artist, Key type: BOOL"),
    ],
)
def test_a_select_holds_its_key_conditions_to_the_key_types(
    ddb: Any, where: str, message: str
) -> None:
    # AWS's texts (an emulator's tests captured from eu-west-2, 2026-09-17; DynamoDB Local's
    # message list), in every OR branch; a key compared without a key condition is a filter
    error = error_of(ddb.execute_statement, Statement=f"SELECT * FROM music WHERE {where}")
    assert error["Error"] == {"Code": "ValidationException", "Message": message}
    assert run(ddb, "SELECT * FROM music WHERE Artist > 1")["Items"] == []


def test_limit_and_next_token_page_through_every_item_once(ddb: Any) -> None:
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        extra: dict[str, Any] = {"Limit": 1}
        if token:
            extra["NextToken"] = token
        page = run(ddb, "SELECT * FROM music", **extra)
        seen += songs(page)
        pages += 1
        token = page.get("NextToken")
        if token is None:
            break
        assert page["LastEvaluatedKey"]["Song"] == page["Items"][-1]["Song"]
    assert sorted(seen) == ["Alpha", "Beta", "Gamma", "Z"]
    assert pages >= 4
    error = error_of(ddb.execute_statement, Statement="SELECT * FROM music", NextToken="garbage!")
    assert error["Error"] == {"Code": "ValidationException", "Message": "Invalid NextToken"}


def test_update_sets_removes_adds_and_returns(ddb: Any) -> None:
    run(
        ddb,
        "UPDATE music SET Tags = <<'a', 'b'>>, Plays = [1] WHERE Artist='Acme' AND Song='Alpha'",
    )
    result = run(
        ddb,
        'UPDATE music SET "Year" = "Year" + ? SET Tags = set_add(Tags, <<\'c\'>>) '
        # NOTHING is a PartiQL reserved word: unquoted it names no attribute
        'SET Plays = list_append(Plays, [2]) REMOVE "Nothing" '
        "WHERE Artist = 'Acme' AND Song = 'Alpha' RETURNING ALL NEW *",
        {"N": "1"},
    )
    assert result["Items"] == [
        {
            "Artist": {"S": "Acme"},
            "Song": {"S": "Alpha"},
            "Year": {"N": "2002"},
            "Tags": {"SS": ["a", "b", "c"]},
            "Plays": {"L": [{"N": "1"}, {"N": "2"}]},
        }
    ]
    modified = run(
        ddb,
        "UPDATE music SET Tags = set_delete(Tags, <<'a'>>) REMOVE Plays "
        "WHERE Artist = 'Acme' AND Song = 'Alpha' RETURNING MODIFIED OLD *",
    )
    assert modified["Items"] == [
        {"Tags": {"SS": ["a", "b", "c"]}, "Plays": {"L": [{"N": "1"}, {"N": "2"}]}}
    ]
    assert item(ddb, "Acme", "Alpha") == {
        "Artist": {"S": "Acme"},
        "Song": {"S": "Alpha"},
        "Year": {"N": "2002"},
        "Tags": {"SS": ["b", "c"]},
    }


def test_update_of_a_missing_item_fails_and_creates_nothing(ddb: Any) -> None:
    error = error_of(
        ddb.execute_statement, Statement="UPDATE music SET x = 1 WHERE Artist='No' AND Song='Such'"
    )
    assert error["Error"] == {
        "Code": "ConditionalCheckFailedException",
        "Message": "The conditional request failed",
    }
    assert item(ddb, "No", "Such") is None


def test_update_where_conditions_guard_the_write(ddb: Any) -> None:
    statement = "UPDATE music SET x = 1 WHERE Artist='Acme' AND Song='Beta' AND \"Year\" > 2000"
    error = error_of(
        ddb.execute_statement, Statement=statement, ReturnValuesOnConditionCheckFailure="ALL_OLD"
    )
    assert error["Error"]["Code"] == "ConditionalCheckFailedException"
    assert error["Item"]["Year"] == {"N": "1999"}
    assert "x" not in (item(ddb, "Acme", "Beta") or {})


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE music SET x = 1 WHERE Artist = 'Acme'",
        "UPDATE music SET x = 1 WHERE Artist = 'Acme' OR Song = 'Beta'",
        "UPDATE music SET x = 1",
        "DELETE FROM music WHERE Song = 'Beta'",
        "DELETE FROM music WHERE Artist = 'Acme' AND Song > 'A'",
    ],
)
def test_writes_must_name_the_whole_key_by_equality(ddb: Any, statement: str) -> None:
    error = error_of(ddb.execute_statement, Statement=statement)
    assert error["Error"] == {
        "Code": "ValidationException",
        "Message": "Where clause does not contain a mandatory equality on all key attributes",
    }


def test_delete_returns_the_old_item_when_asked(ddb: Any) -> None:
    gone = run(ddb, "DELETE FROM music WHERE Artist='Zed' AND Song='Z' RETURNING ALL OLD *")
    assert gone["Items"] == [{"Artist": {"S": "Zed"}, "Song": {"S": "Z"}, "Year": {"N": "2001"}}]
    assert item(ddb, "Zed", "Z") is None
    assert run(ddb, "DELETE FROM music WHERE Artist='Zed' AND Song='Z'")["Items"] == []
    error = error_of(
        ddb.execute_statement,
        Statement="DELETE FROM music WHERE Artist='Acme' AND Song='Beta' AND \"Year\" = 1",
    )
    assert error["Error"]["Code"] == "ConditionalCheckFailedException"
    assert item(ddb, "Acme", "Beta") is not None


def test_parameters_must_match_the_placeholders(ddb: Any) -> None:
    for parameters in ([], [{"S": "a"}, {"S": "b"}]):
        extra = {"Parameters": parameters} if parameters else {}
        error = error_of(
            ddb.execute_statement, Statement="SELECT * FROM music WHERE Artist = ?", **extra
        )
        assert error["Error"]["Message"] == (
            "Number of parameters in request and statement don't match."
        )


def test_a_statement_on_a_missing_table(ddb: Any) -> None:
    error = error_of(ddb.execute_statement, Statement="SELECT * FROM nowhere")
    assert error["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": "Requested resource not found",
    }


def test_transaction_of_writes_is_atomic_and_names_duplicates(ddb: Any) -> None:
    with pytest.raises(ClientError) as caught:
        ddb.execute_transaction(
            TransactStatements=[
                {"Statement": "INSERT INTO music VALUE {'Artist': 'New', 'Song': 'One'}"},
                {"Statement": "UPDATE music SET x = 1 WHERE Artist = 'Acme' AND Song = 'Beta'"},
                {"Statement": "INSERT INTO music VALUE {'Artist': 'Acme', 'Song': 'Alpha'}"},
            ]
        )
    response = caught.value.response
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert response["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "None"},
        {"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"},
    ]
    assert item(ddb, "New", "One") is None
    assert "x" not in (item(ddb, "Acme", "Beta") or {})
    result = ddb.execute_transaction(
        TransactStatements=[
            {"Statement": "INSERT INTO music VALUE {'Artist': 'New', 'Song': 'One'}"},
            {
                "Statement": "EXISTS(SELECT * FROM music WHERE Artist = 'Acme' AND Song = 'Beta' "
                'AND "Year" = 1999)'
            },
            {
                "Statement": "DELETE FROM music WHERE Artist = ? AND Song = ?",
                "Parameters": [{"S": "Zed"}, {"S": "Z"}],
            },
        ]
    )
    assert result["Responses"] == []
    assert item(ddb, "New", "One") is not None and item(ddb, "Zed", "Z") is None


def test_transaction_condition_check_fails_on_a_missing_item(ddb: Any) -> None:
    with pytest.raises(ClientError) as caught:
        ddb.execute_transaction(
            TransactStatements=[
                {
                    "Statement": "EXISTS(SELECT * FROM music WHERE Artist = 'No' AND Song = 'X' "
                    "AND attribute_exists(Song))"
                },
                {"Statement": "INSERT INTO music VALUE {'Artist': 'New', 'Song': 'Two'}"},
            ]
        )
    assert [r["Code"] for r in caught.value.response["CancellationReasons"]] == [
        "ConditionalCheckFailed",
        "None",
    ]
    assert item(ddb, "New", "Two") is None


def test_transaction_of_reads(ddb: Any) -> None:
    result = ddb.execute_transaction(
        TransactStatements=[
            {"Statement": "SELECT Song FROM music WHERE Artist = 'Acme' AND Song = 'Beta'"},
            {"Statement": "SELECT * FROM music WHERE Artist = 'Acme' AND Song = 'None'"},
        ]
    )
    assert result["Responses"] == [{"Item": {"Song": {"S": "Beta"}}}, {}]
    error = error_of(
        ddb.execute_transaction,
        TransactStatements=[
            {"Statement": "SELECT * FROM music WHERE Artist = 'Acme' AND Song = 'Beta'"},
            {"Statement": "DELETE FROM music WHERE Artist = 'Acme' AND Song = 'Beta'"},
        ],
    )
    assert error["Error"]["Code"] == "ValidationException"
    assert item(ddb, "Acme", "Beta") is not None


def test_batch_reports_each_tables_consumed_capacity(ddb: Any) -> None:
    """BatchExecuteStatement's ConsumedCapacity: one entry a table, its statements' units
    and index arms summed (an emulator's capture against eu-west-2, 2026-08); a read costs
    what GetItem costs (0.5, 1 with ConsistentRead). The duplicate INSERT is charged the
    write it attempted in the total alone (that capture's M4: total 3, table 1, index 1)."""
    writes = ddb.batch_execute_statement(
        Statements=[
            {"Statement": "INSERT INTO music VALUE {'Artist': 'B', 'Song': '1', 'Year': 3}"},
            {"Statement": "UPDATE music SET x = 1 WHERE Artist = 'Zed' AND Song = 'Z'"},
            {"Statement": "INSERT INTO music VALUE {'Artist': 'Acme', 'Song': 'Alpha'}"},
        ],
        ReturnConsumedCapacity="INDEXES",
    )
    assert writes["ConsumedCapacity"] == [
        {
            "TableName": "music",
            "CapacityUnits": 5.0,
            "Table": {"CapacityUnits": 2.0},
            "GlobalSecondaryIndexes": {"by-year": {"CapacityUnits": 2.0}},
        }
    ]
    reads = ddb.batch_execute_statement(
        Statements=[
            {"Statement": "SELECT * FROM music WHERE Artist = 'B' AND Song = '1'"},
            {
                "Statement": "SELECT * FROM music WHERE Artist = 'B' AND Song = '2'",
                "ConsistentRead": True,
            },
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    assert reads["ConsumedCapacity"] == [{"TableName": "music", "CapacityUnits": 1.5}]
    failed = ddb.batch_execute_statement(
        Statements=[{"Statement": "INSERT INTO music VALUE {'Artist': 'B', 'Song': '1'}"}],
        ReturnConsumedCapacity="TOTAL",
    )
    assert "ConsumedCapacity" not in failed
    assert "ConsumedCapacity" not in ddb.batch_execute_statement(
        Statements=[{"Statement": "SELECT * FROM music WHERE Artist = 'B' AND Song = '1'"}]
    )


def test_batch_charges_a_failed_write_on_the_larger_of_stored_and_carried(
    ddb: Any,
) -> None:
    # AWS charges a batch write whose condition failed the write it attempted, sized on
    # the larger of the item stored at its key and the item it carried, in its table's
    # total only; a table whose statements all failed answers nothing (dynoxide's
    # eu-west-2 capture U2: failed tiny inserts 1 each, one over a stored 3 KB item 3,
    # beside a successful insert 1 + index 1: total 7).
    big = "x" * 3000
    ddb.execute_statement(
        Statement="INSERT INTO music VALUE {'Artist': 'Big', 'Song': '1', 'pad': ?}",
        Parameters=[{"S": big}],
    )
    create_table(ddb, "other", hash_key=("pk", "S"))
    ddb.execute_statement(Statement="INSERT INTO other VALUE {'pk': 'taken'}")
    result = ddb.batch_execute_statement(
        Statements=[
            {"Statement": "INSERT INTO music VALUE {'Artist': 'Acme', 'Song': 'Alpha'}"},
            {"Statement": "INSERT INTO music VALUE {'Artist': 'Big', 'Song': '1'}"},
            {"Statement": "INSERT INTO music VALUE {'Artist': 'New', 'Song': '1', 'Year': 1}"},
            {"Statement": "INSERT INTO other VALUE {'pk': 'taken'}"},
            {
                "Statement": "INSERT INTO music VALUE {'Artist': 'Acme', 'Song': 'Beta', 'p': ?}",
                "Parameters": [{"S": big}],
            },
        ],
        ReturnConsumedCapacity="INDEXES",
    )
    assert [r.get("Error", {}).get("Code") for r in result["Responses"]] == [
        "DuplicateItem",
        "DuplicateItem",
        None,
        "DuplicateItem",
        "DuplicateItem",
    ]
    assert result["ConsumedCapacity"] == [
        {
            "TableName": "music",
            "CapacityUnits": 9.0,
            "Table": {"CapacityUnits": 1.0},
            "GlobalSecondaryIndexes": {"by-year": {"CapacityUnits": 1.0}},
        }
    ]


def test_batch_sizes_a_failed_write_under_the_store_read_lock(
    hw: Headwater, ddb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the stored item a failed batch write is charged on is read as every read is, inside
    # the store's read(): SQLite's connection is shared by the threads, and a read outside
    # its lock could see another thread's transaction before it rolls back; PostgreSQL
    # binds the read's connection there
    store = hw.service("dynamodb").store
    ddb.execute_statement(Statement="INSERT INTO music VALUE {'Artist': 'B', 'Song': '1'}")
    depth = [0]
    inside: list[bool] = []
    original_read = store.db.read
    original_get = TableStore.get_item

    @contextlib.contextmanager
    def read() -> Iterator[None]:
        with original_read():
            depth[0] += 1
            try:
                yield
            finally:
                depth[0] -= 1

    def get_item(self: TableStore, table_id: int, key: Any) -> bytes | None:
        inside.append(depth[0] > 0)
        return original_get(self, table_id, key)

    monkeypatch.setattr(store.db, "read", read)
    monkeypatch.setattr(TableStore, "get_item", get_item)
    result = ddb.batch_execute_statement(
        Statements=[
            {"Statement": "INSERT INTO music VALUE {'Artist': 'B', 'Song': '1'}"},
            {"Statement": "INSERT INTO music VALUE {'Artist': 'C', 'Song': '1'}"},
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    assert result["ConsumedCapacity"] == [{"TableName": "music", "CapacityUnits": 2.0}]
    assert inside and all(inside)


def test_batch_answers_each_statement(ddb: Any) -> None:
    result = ddb.batch_execute_statement(
        Statements=[
            {"Statement": "INSERT INTO music VALUE {'Artist': 'B', 'Song': '1'}"},
            {"Statement": "INSERT INTO music VALUE {'Artist': 'Acme', 'Song': 'Alpha'}"},
            {"Statement": "UPDATE music SET x = 1 WHERE Artist = 'No' AND Song = 'Such'"},
            {"Statement": "DELETE FROM music WHERE Artist = 'Zed' AND Song = 'Z'"},
            {"Statement": "SELEC nonsense"},
        ]
    )
    assert result["Responses"] == [
        {"TableName": "music"},
        {
            "TableName": "music",
            "Error": {"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"},
        },
        {
            "TableName": "music",
            "Error": {
                "Code": "ConditionalCheckFailed",
                "Message": "The conditional request failed",
            },
        },
        {"TableName": "music"},
        {
            "Error": {
                "Code": "ValidationError",
                "Message": "Statement wasn't well formed, can't be processed: Unexpected token",
            }
        },
    ]
    assert item(ddb, "B", "1") is not None and item(ddb, "Zed", "Z") is None
    reads = ddb.batch_execute_statement(
        Statements=[
            {"Statement": "SELECT Song FROM music WHERE Artist = 'B' AND Song = '1'"},
            {"Statement": "SELECT * FROM music WHERE Artist = 'B' AND Song = '2'"},
        ]
    )
    assert reads["Responses"] == [
        {"TableName": "music", "Item": {"Song": {"S": "1"}}},
        {"TableName": "music"},
    ]


def test_or_conditions_keep_their_grouping(ddb: Any) -> None:
    run(
        ddb,
        "UPDATE music SET x = 2 WHERE Artist = 'Acme' AND Song = 'Beta' "
        'AND ("Year" = 1999 OR "Year" = 3000) AND NOT (Note IS NOT MISSING OR x = 5)',
    )
    assert (item(ddb, "Acme", "Beta") or {})["x"] == {"N": "2"}
    error = error_of(
        ddb.execute_statement,
        Statement="UPDATE music SET x = 3 WHERE Artist = 'Acme' AND Song = 'Beta' "
        'AND ("Year" = 1 OR "Year" = 2)',
    )
    assert error["Error"]["Code"] == "ConditionalCheckFailedException"


def test_transaction_statements_are_named_when_refused(ddb: Any) -> None:
    """AWS's texts (pinned against eu-west-2, October 2026, by a public conformance suite)."""
    exists = error_of(
        ddb.execute_transaction,
        TransactStatements=[
            {"Statement": "EXISTS(SELECT * FROM music WHERE Artist = 'Acme' AND Song = 'Beta')"},
            {"Statement": "UPDATE music SET z = 1 WHERE Artist = 'Acme' AND Song = 'Alpha'"},
        ],
    )
    assert exists["Error"]["Message"] == (
        "Validation failed in TransactStatements[0]: EXISTS() must contain a single item read "
        "with additional condition"
    )
    partial = error_of(
        ddb.execute_transaction,
        TransactStatements=[
            {"Statement": "SELECT * FROM music WHERE Artist = 'Acme' AND Song = 'Beta'"},
            {"Statement": "SELECT * FROM music WHERE Artist = 'Acme' AND attribute_exists(x)"},
        ],
    )
    assert partial["Error"]["Message"] == (
        "Validation failed in TransactStatements[1]: Select statements within "
        "ExecuteTransaction must specify the primary key in the where clause."
    )
    assert (item(ddb, "Acme", "Alpha") or {}).get("z") is None


def test_batch_reads_must_name_the_primary_key(ddb: Any) -> None:
    result = ddb.batch_execute_statement(
        Statements=[
            {"Statement": 'SELECT * FROM music."by-year" WHERE "Year" = 2001'},
            {"Statement": "SELECT * FROM music WHERE Artist = 'Acme'"},
        ]
    )
    for response in result["Responses"]:
        assert response["Error"] == {
            "Code": "ValidationError",
            "Message": "Select statements within BatchExecuteStatement must specify the "
            "primary key in the where clause.",
        }


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        (
            [{"N": "1e99999999999"}],
            "The parameter cannot be converted to a numeric value: 1e99999999999",
        ),
        ([{"N": ""}], "The parameter cannot be converted to a numeric value"),
        (
            [{"N": "1e" + "9" * 5000}],
            "The parameter cannot be converted to a numeric value: 1e" + "9" * 5000,
        ),
        (
            [{"L": [{"N": "1"}, {"N": "1e2147483648"}]}],
            "The parameter cannot be converted to a numeric value: 1e2147483648",
        ),
        # a scale past a 32-bit integer cannot be read either, and a magnitude (precision
        # less scale) past one wraps to the other sign (the suite's exact texts from AWS)
        (
            [{"N": "1e-2147483648"}],
            "The parameter cannot be converted to a numeric value: 1e-2147483648",
        ),
        (
            [{"N": "1e2147483647"}],
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range",
        ),
        (
            [{"N": "-1.5e2147483647"}],
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range",
        ),
        (
            [{"M": {"bad": {"N": "abc"}, "deep": deep_value(40)}}],
            "The parameter cannot be converted to a numeric value: abc",
        ),
        (
            [{"M": {"deep": deep_value(40), "bad": {"N": "abc"}}}],
            "Nesting Levels have exceeded supported limits: Attributes in the item have nested "
            "levels beyond supported limit",
        ),
    ],
)
def test_parameters_are_checked_in_document_order(
    ddb: Any, parameters: list[Any], message: str
) -> None:
    statement = "SELECT * FROM music WHERE Artist = 'Acme' AND x = ?"
    error = error_of(ddb.execute_statement, Statement=statement, Parameters=parameters)
    assert error["Error"] == {"Code": "ValidationException", "Message": message}


def test_item_api_errors_lose_their_expression_prefix(ddb: Any) -> None:
    base = "SELECT * FROM music WHERE Artist = 'Acme' AND "
    literal = error_of(ddb.execute_statement, Statement=base + "attribute_exists('Song')")
    assert literal["Error"]["Message"] == (
        "Operator or function requires a document path; operator or function: attribute_exists"
    )
    ordering = error_of(
        ddb.execute_statement, Statement=base + "x < ?", Parameters=[{"BOOL": True}]
    )
    assert ordering["Error"]["Message"] == (
        "Incorrect operand type for operator or function; operator or function: <, operand "
        "type: BOOL"
    )


def test_comments_exponents_and_from_first_update(ddb: Any) -> None:
    found = run(ddb, "-- songs\nSELECT Song FROM music /* by key */ WHERE Artist = 'Zed' -- end")
    assert found["Items"] == [{"Song": {"S": "Z"}}]
    assert songs(run(ddb, "SELECT * FROM music WHERE \"Year\" = 2.001e3 AND Artist = 'Zed'")) == [
        "Z"
    ]
    run(ddb, "FROM music WHERE Artist = 'Zed' AND Song = 'Z' SET Plays = 1e1 REMOVE \"Year\"")
    assert item(ddb, "Zed", "Z") == {
        "Artist": {"S": "Zed"},
        "Song": {"S": "Z"},
        "Plays": {"N": "10"},
    }


def test_functions_compare_with_booleans_and_is_tests_types(ddb: Any) -> None:
    base = "SELECT * FROM music WHERE Artist = 'Acme' AND "
    assert songs(run(ddb, base + 'attribute_exists("Year") = true')) == ["Alpha", "Beta", "Gamma"]
    assert songs(run(ddb, base + 'attribute_exists("Year") = false')) == []
    # NUMERIC, not NUMBER, is PartiQL's name for the type (NUMBER: "Expected type name")
    assert songs(run(ddb, base + '"Year" IS NUMERIC AND Song IS STRING')) == [
        "Alpha",
        "Beta",
        "Gamma",
    ]
    assert songs(run(ddb, base + "Song IS BOOL")) == []


def test_a_global_index_refuses_columns_it_does_not_project_in_select_order(hw: Headwater) -> None:
    ddb = hw.dynamodb
    create_table(
        ddb,
        "keys-only",
        attributes={"g": "S"},
        GlobalSecondaryIndexes=[gsi("by-g", "g", projection="KEYS_ONLY")],
    )
    for statement in (
        'SELECT zeta, alpha FROM "keys-only"."by-g" WHERE g = \'x\'',
        'SELECT zeta, alpha FROM "keys-only"."by-g"',
    ):
        error = error_of(ddb.execute_statement, Statement=statement)
        assert error["Error"]["Message"] == (
            "One or more parameter values were invalid: Global secondary index by-g does not "
            "project [zeta, alpha]"
        )


def test_statement_lists_and_texts_hold_to_the_request_model(hw: Headwater) -> None:
    unchecked = hw.client("dynamodb", validate=False)  # as AWS sees a request: no client check
    select = {"Statement": "SELECT * FROM music WHERE Artist = 'A'"}
    cases = [
        (
            unchecked.execute_transaction,
            {"TransactStatements": []},
            "Value '[]' at 'transactStatements'",
            "greater than or equal to 1",
        ),
        (
            unchecked.execute_transaction,
            {"TransactStatements": [select] * 101},
            "Value at 'transactStatements'",
            "less than or equal to 100",
        ),
        (
            unchecked.batch_execute_statement,
            {"Statements": []},
            "Value '[]' at 'statements'",
            "greater than or equal to 1",
        ),
        (
            unchecked.batch_execute_statement,
            {"Statements": [select] * 26},
            "Value at 'statements'",
            "less than or equal to 25",
        ),
        (
            unchecked.execute_statement,
            {"Statement": ""},
            "Value '' at 'statement'",
            "greater than or equal to 1",
        ),
    ]
    for call, params, where, limit in cases:
        error = error_of(call, **params)
        assert error["Error"]["Message"] == (
            f"1 validation error detected: {where} failed to satisfy constraint: Member must "
            f"have length {limit}"
        )


# AWS answers each path of a SELECT list as a top-level column named by the path's last
# attribute name and the indexes after it: SELECT m.k[0] answers a column 'k[0]' (eu-west-2,
# 2026-09-17, captured in floci's PartiQL edge-case tests), not the item API's nested
# {"m": {"M": {"k": {"L": [...]}}}}. DynamoDB Local's PartiQL names its columns the same way
# (SelectProjectionUnnester) and leaves out a path the item lacks.
DOCUMENT = {
    "Artist": {"S": "Doc"},
    "Song": {"S": "1"},
    "m": {"M": {"k": {"L": [{"S": "c"}, {"L": [{"N": "1"}, {"N": "2"}]}]}, "z": {"S": "last"}}},
    "l": {"L": [{"N": "1"}, {"M": {"c": {"S": "deep"}}}]},
    "a": {"M": {"b": {"L": [{"S": "skip"}, {"M": {"c": {"S": "abc"}}}]}}},
    "m.z": {"S": "dotted"},
}


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ("m.k[0], l[0]", {"k[0]": {"S": "c"}, "l[0]": {"N": "1"}}),
        ("m.z", {"z": {"S": "last"}}),
        ("a.b[1].c", {"c": {"S": "abc"}}),
        ("l[1].c, m.k[1][0]", {"c": {"S": "deep"}, "k[1][0]": {"N": "1"}}),
        ("l[1]", {"l[1]": {"M": {"c": {"S": "deep"}}}}),
        (
            'Song, "m.z", m.k',
            {"Song": {"S": "1"}, "m.z": {"S": "dotted"}, "k": DOCUMENT["m"]["M"]["k"]},
        ),
        ("nope.x, m.nope, l[7], Song", {"Song": {"S": "1"}}),
        ("nope.x", {}),
    ],
)
def test_a_select_answers_each_path_as_a_column_named_by_its_last_step(
    ddb: Any, columns: str, expected: dict[str, Any]
) -> None:
    ddb.put_item(TableName="music", Item=DOCUMENT)
    where = " FROM music WHERE Artist = 'Doc'"
    assert run(ddb, f"SELECT {columns}" + where)["Items"] == [expected]
    assert run(ddb, f"SELECT {columns}" + where + " AND Song = '1'")["Items"] == [expected]
    assert run(ddb, f"SELECT {columns} FROM music WHERE Song = '1'")["Items"] == [expected]


def test_select_star_answers_the_whole_item(ddb: Any) -> None:
    ddb.put_item(TableName="music", Item=DOCUMENT)
    assert run(ddb, "SELECT * FROM music WHERE Artist = 'Doc'")["Items"] == [DOCUMENT]


@pytest.mark.parametrize(
    ("columns", "name"),
    [("Song, Song", "Song"), ("m.z, z", "z"), ("a.x, b.x", "x"), ("l[0], l[0]", "l[0]")],
)
def test_a_select_list_naming_one_column_twice_is_refused(
    ddb: Any, columns: str, name: str
) -> None:
    # DynamoDB Local's PartiQL translator: 'Duplicate identifiers in select clause: s' for
    # SELECT s, s, its paths named as their columns are; read before the table is looked
    # up, so a missing table answers it too.
    for table in ("music", "nowhere"):
        error = error_of(
            ddb.execute_statement, Statement=f"SELECT {columns} FROM {table} WHERE Artist = 'A'"
        )
        assert error["Error"] == {
            "Code": "ValidationException",
            "Message": f"Duplicate identifiers in select clause: {name}",
        }
    statement = f"SELECT {columns} FROM music WHERE Artist = 'Acme' AND Song = 'Alpha'"
    batch = ddb.batch_execute_statement(Statements=[{"Statement": statement}])
    assert batch["Responses"] == [
        {
            "TableName": "music",
            "Error": {
                "Code": "ValidationError",
                "Message": f"Duplicate identifiers in select clause: {name}",
            },
        }
    ]
    # in a transaction the translator names the statement, ahead of an index read refusal
    error = error_of(
        ddb.execute_transaction,
        TransactStatements=[
            {"Statement": "SELECT * FROM music WHERE Artist = 'Acme' AND Song = 'Alpha'"},
            {"Statement": statement.replace("FROM music", 'FROM "music"."by-year"')},
        ],
    )
    assert error["Error"]["Message"] == (
        f"Validation failed in TransactStatements[1]: Duplicate identifiers in select clause: "
        f"{name}"
    )


def test_paths_overlapping_under_two_column_names_keep_the_item_api_refusal(ddb: Any) -> None:
    error = error_of(
        ddb.execute_statement, Statement="SELECT m, m.z FROM music WHERE Artist = 'Doc'"
    )
    assert error["Error"]["Message"] == (
        "Two document paths overlap with each other; must remove or rewrite one of these "
        "paths; path one: [m], path two: [m, z]"
    )


def test_index_reads_answer_columns_within_what_the_index_holds(hw: Headwater) -> None:
    ddb = hw.dynamodb
    create_table(
        ddb,
        "indexed",
        range_key=("sk", "S"),
        attributes={"g": "S", "ls": "S"},
        GlobalSecondaryIndexes=[
            gsi("include", "g", projection="INCLUDE", non_key=("m",)),
            gsi("keys", "g", projection="KEYS_ONLY"),
        ],
        LocalSecondaryIndexes=[lsi("local", "ls", projection="KEYS_ONLY")],
    )
    stored = {
        "pk": {"S": "a"},
        "sk": {"S": "1"},
        "g": {"S": "x"},
        "ls": {"S": "q"},
        "m": {"M": {"k": {"L": [{"S": "c"}]}}},
        "n": {"M": {"k": {"S": "other"}}},
    }
    ddb.put_item(TableName="indexed", Item=stored)
    keys = {name: stored[name] for name in ("pk", "sk", "g")}
    found = run(ddb, 'SELECT m.k[0], pk FROM "indexed"."include" WHERE g = \'x\'')
    assert found["Items"] == [{"k[0]": {"S": "c"}, "pk": {"S": "a"}}]
    # a global index cannot reach past its projection: refused by the path's attribute
    for statement in (
        'SELECT n.k FROM "indexed"."include" WHERE g = \'x\'',
        'SELECT m.k FROM "indexed"."keys"',
    ):
        error = error_of(ddb.execute_statement, Statement=statement)
        index = statement.split('"')[3]
        assert error["Error"]["Message"] == (
            f"One or more parameter values were invalid: Global secondary index {index} does "
            f"not project [{'n' if 'n.k' in statement else 'm'}]"
        )
    # a local one fetches from its table what it does not hold
    found = run(ddb, 'SELECT n.k, m.k[0] FROM "indexed"."local" WHERE pk = \'a\'')
    assert found["Items"] == [{"k": {"S": "other"}, "k[0]": {"S": "c"}}]
    # SELECT * answers what each index holds, unchanged
    assert run(ddb, 'SELECT * FROM "indexed"."keys" WHERE g = \'x\'')["Items"] == [keys]
    assert run(ddb, 'SELECT * FROM "indexed"."include" WHERE g = \'x\'')["Items"] == [
        keys | {"m": stored["m"]}
    ]
    assert run(ddb, 'SELECT * FROM "indexed"."local" WHERE pk = \'a\'')["Items"] == [
        {name: stored[name] for name in ("pk", "sk", "ls")}
    ]


def test_batch_and_transaction_reads_keep_the_item_api_projection(ddb: Any) -> None:
    # DynamoDB Local's batch and transaction reads project as GetItem does (no columns);
    # no AWS capture says otherwise, so these keep the nested form.
    ddb.put_item(TableName="music", Item=DOCUMENT)
    statement = {"Statement": "SELECT m.k[0] FROM music WHERE Artist = 'Doc' AND Song = '1'"}
    nested = {"m": {"M": {"k": {"L": [{"S": "c"}]}}}}
    batch = ddb.batch_execute_statement(Statements=[statement])
    assert batch["Responses"] == [{"TableName": "music", "Item": nested}]
    assert ddb.execute_transaction(TransactStatements=[statement])["Responses"] == [
        {"Item": nested}
    ]
