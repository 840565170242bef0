"""The pieces of the States Language interpreter on their own: paths, ResultPath,
Parameters templates, intrinsic functions, Choice rules and error matching."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest

from headwater.services.stepfunctions.choice import rule_matches
from headwater.services.stepfunctions.failures import StatesError, error_matches
from headwater.services.stepfunctions.intrinsics import evaluate_intrinsic
from headwater.services.stepfunctions.paths import (
    MISSING,
    put_result,
    read_path,
    resolve_template,
    select,
)

DATA = {"a": {"b": [10, 20, {"c": "x"}]}, "k e y": 1, "items": [{"id": 1}, {"id": 2}]}
CONTEXT = {"Execution": {"Id": "arn:exec", "Name": "run-1"}}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", DATA),
        ("$.a.b[1]", 20),
        ("$.a.b[-1].c", "x"),
        ("$['k e y']", 1),
        ("$.items[*].id", [1, 2]),
        ("$$.Execution.Name", "run-1"),
        ("$.nope", MISSING),
        ("$.a.b[9]", MISSING),
    ],
)
def test_read_path(path: str, expected: Any) -> None:
    assert read_path(path, DATA, CONTEXT) == expected


def test_select_fails_with_states_runtime_when_nothing_matches() -> None:
    assert select(None, DATA, CONTEXT, "InputPath") == {}
    with pytest.raises(StatesError) as failed:
        select("$.missing", DATA, CONTEXT, "InputPath")
    assert failed.value.error == "States.Runtime"


def test_result_path_places_the_result_in_a_copy() -> None:
    original = {"a": 1}
    assert put_result("$", original, 5) == 5
    assert put_result(None, original, 5) == {"a": 1}
    assert put_result("$.x.y", original, 5) == {"a": 1, "x": {"y": 5}}
    assert original == {"a": 1}
    with pytest.raises(StatesError):
        put_result("$.x", "not an object", 5)


def test_parameters_template() -> None:
    template = {
        "id.$": "$.items[0].id",
        "name.$": "$$.Execution.Name",
        "nested": {"all.$": "$.items[*].id", "plain": "$.not-a-path"},
        "list": [{"v.$": "$.k e y"}],
    }
    assert resolve_template(template, DATA, CONTEXT) == {
        "id": 1,
        "name": "run-1",
        "nested": {"all": [1, 2], "plain": "$.not-a-path"},
        "list": [{"v": 1}],
    }
    with pytest.raises(StatesError) as failed:
        resolve_template({"x.$": "$.gone"}, DATA, CONTEXT)
    assert failed.value.error == "States.Runtime"


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ("States.Format('{} and {}', $.a.b[0], 'y')", "10 and y"),
        ("States.Format('esc \\{\\} \\'q\\'')", "esc {} 'q'"),
        ("States.StringToJson('{\"n\": [1]}')", {"n": [1]}),
        ("States.JsonToString($.a.b[2])", '{"c":"x"}'),
        ("States.Array(1, 'two', $.a.b[0], true, null)", [1, "two", 10, True, None]),
        ("States.ArrayPartition(States.Array(1, 2, 3), 2)", [[1, 2], [3]]),
        ("States.ArrayContains($.a.b, 20)", True),
        ("States.ArrayRange(1, 9, 3)", [1, 4, 7]),
        ("States.ArrayGetItem($.a.b, 1)", 20),
        ("States.ArrayLength($.items)", 2),
        ("States.ArrayUnique(States.Array(1, 1, 2))", [1, 2]),
        ("States.Base64Encode('hi')", "aGk="),
        ("States.Base64Decode('aGk=')", "hi"),
        ("States.Hash('abc', 'SHA-256')", hashlib.sha256(b"abc").hexdigest()),
        (
            "States.JsonMerge($.a.b[2], States.StringToJson('{\"d\": 1}'), false)",
            {"c": "x", "d": 1},
        ),
        ("States.MathAdd($.a.b[0], -3)", 7),
        ("States.StringSplit('a,b;c', ',;')", ["a", "b", "c"]),
    ],
)
def test_intrinsic_functions(call: str, expected: Any) -> None:
    assert evaluate_intrinsic(call, DATA, CONTEXT) == expected


def test_uuid_and_random() -> None:
    uuid.UUID(evaluate_intrinsic("States.UUID()", DATA, CONTEXT))
    assert 1 <= evaluate_intrinsic("States.MathRandom(1, 5)", DATA, CONTEXT) < 5


@pytest.mark.parametrize(
    "call",
    [
        "States.Nope(1)",
        "States.ArrayGetItem($.a.b, 7)",
        "States.MathAdd('1', 2)",
        "States.Format('{}')",
        "States.Format('x', $.missing)",
        "States.Array(1",
    ],
)
def test_bad_intrinsic_calls_fail_with_intrinsic_failure(call: str) -> None:
    with pytest.raises(StatesError) as failed:
        evaluate_intrinsic(call, DATA, CONTEXT)
    assert failed.value.error == "States.IntrinsicFailure"


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"Variable": "$.s", "StringEquals": "b"}, True),
        ({"Variable": "$.s", "StringLessThan": "c"}, True),
        ({"Variable": "$.s", "StringGreaterThanEqualsPath": "$.t"}, False),
        ({"Variable": "$.n", "NumericLessThanEquals": 3}, True),
        ({"Variable": "$.n", "NumericGreaterThan": 3}, False),
        ({"Variable": "$.s", "NumericEquals": 3}, False),  # a string is not a number
        ({"Variable": "$.b", "BooleanEquals": False}, True),
        ({"Variable": "$.when", "TimestampGreaterThan": "2024-01-01T00:00:00Z"}, True),
        ({"Variable": "$.when", "TimestampEqualsPath": "$.when"}, True),
        ({"Variable": "$.s", "StringMatches": "*"}, True),
        ({"Variable": "$.file", "StringMatches": "log-*.txt"}, True),
        ({"Variable": "$.file", "StringMatches": "log-\\*.txt"}, False),
        ({"Variable": "$.none", "IsNull": True}, True),
        ({"Variable": "$.gone", "IsPresent": False}, True),
        ({"Variable": "$.gone", "IsNull": True}, False),
        ({"Variable": "$.n", "IsNumeric": True}, True),
        ({"Variable": "$.when", "IsTimestamp": True}, True),
        ({"Variable": "$.s", "IsBoolean": True}, False),
        ({"Not": {"Variable": "$.n", "NumericEquals": 3}}, False),
        (
            {
                "And": [
                    {"Variable": "$.n", "IsPresent": True},
                    {"Variable": "$.b", "IsString": False},
                ]
            },
            True,
        ),
        (
            {
                "Or": [
                    {"Variable": "$.n", "NumericEquals": 4},
                    {"Variable": "$.s", "IsString": True},
                ]
            },
            True,
        ),
    ],
)
def test_choice_rules(rule: dict[str, Any], expected: bool) -> None:
    data = {
        "s": "b", "t": "c", "n": 3, "b": False, "none": None,
        "when": "2024-06-01T12:00:00.5+02:00", "file": "log-2024.txt",
    }  # fmt: skip
    assert rule_matches(rule, data, {}) is expected


def test_a_comparison_on_a_missing_variable_is_a_runtime_error() -> None:
    with pytest.raises(StatesError) as failed:
        rule_matches({"Variable": "$.gone", "StringEquals": "x"}, {}, {})
    assert failed.value.error == "States.Runtime"


@pytest.mark.parametrize(
    ("patterns", "error", "expected"),
    [
        (["States.ALL"], "Custom", True),
        (["States.ALL"], "States.Timeout", True),
        (["States.ALL"], "States.Runtime", False),
        (["States.ALL"], "States.DataLimitExceeded", False),
        (["States.DataLimitExceeded"], "States.DataLimitExceeded", False),
        (["States.TaskFailed"], "Custom", True),
        (["States.TaskFailed"], "States.Timeout", False),
        (["Custom"], "Custom", True),
        (["Other"], "Custom", False),
    ],
)
def test_error_matching(patterns: list[str], error: str, expected: bool) -> None:
    assert error_matches(patterns, error) is expected
