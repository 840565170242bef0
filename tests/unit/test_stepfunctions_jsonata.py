"""The JSONata glue of the Step Functions interpreter (``jsonata_query``) and workflow
variables (``variables``, ``$name`` paths) on their own."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import uuid
from typing import Any

import pytest

from headwater.services.stepfunctions.failures import DATA_LIMIT_EXCEEDED, StatesError
from headwater.services.stepfunctions.intrinsics import evaluate_intrinsic, intrinsic_problem
from headwater.services.stepfunctions.jsonata_query import (
    QUERY_EVALUATION_ERROR,
    QueryEvaluationFailed,
    clock_functions,
    evaluate,
    expression_problem,
    is_expression,
    resolve,
    template_problems,
)
from headwater.services.stepfunctions.paths import (
    MISSING,
    VARIABLES_KEY,
    put_result,
    read_path,
    resolve_template,
)
from headwater.services.stepfunctions.variables import (
    VariableScope,
    assign_problems,
    assigned_variables,
    name_problem,
)

STATES = {"input": {"n": 3, "none": None, "items": [1, 2, 3]}, "context": {"State": {"Name": "S"}}}


def bindings(**variables: Any) -> dict[str, Any]:
    return {**variables, "states": STATES}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{% $states.input.n * 2 %}", 6),
        ("{% $states.input.none %}", None),  # JSON null is a value, not undefined
        ("{% $states.input.items %}", [1, 2, 3]),
        ("{% $states.input.items[0] %}", 1),
        ("{% $x %}", None),  # a variable holding null
        ("{% $y.a %}", [1, 2]),
        ("{% $states.context.State.Name %}", "S"),
        ("{% $partition([1, 2, 3, 4, 5], 2) %}", [[1, 2], [3, 4], [5]]),
        ("{% $range(0, 10, 5) %}", [0, 5, 10]),
        ("{% $range(3, 1, -1) %}", [3, 2, 1]),
        ("{% $hash('abc', 'SHA-256') %}", hashlib.sha256(b"abc").hexdigest()),
        ("{% $parse('{\"a\": [1]}') %}", {"a": [1]}),
        ("{% $random(7) = $random(7) %}", True),
        ("{% {'k': 1.0, 'l': [true, null]} %}", {"k": 1, "l": [True, None]}),
    ],
)
def test_evaluate(text: str, expected: Any) -> None:
    assert evaluate(text, "Output", bindings(x=None, y={"a": [1, 2]})) == expected


def test_now_and_millis_read_the_given_clock() -> None:
    names = {**clock_functions(1700000000.25), **bindings()}
    assert evaluate("{% $millis() %}", "Output", names) == 1700000000250
    assert evaluate("{% $now() %}", "Output", names) == "2023-11-14T22:13:20.250Z"


def test_uuid_and_random() -> None:
    assert uuid.UUID(evaluate("{% $uuid() %}", "Output", bindings())).version == 4
    assert 0 <= evaluate("{% $random() %}", "Output", bindings()) < 1


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        (
            "{% $states.input.nope %}",
            "The JSONata expression '$states.input.nope' specified for the field 'Output'"
            " returned nothing (undefined).",
        ),
        (
            "{% $abs('x') %}",
            "The JSONata expression '$abs('x')' specified for the field 'Output' threw an error"
            " during evaluation. T0410: ",
        ),
        (
            "{% $eval('1 + 1') %}",
            "The JSONata expression '$eval('1 + 1')' specified for the field 'Output' threw an"
            " error during evaluation: The function $eval is not supported",
        ),
    ],
)
def test_evaluation_failures(text: str, cause: str) -> None:
    with pytest.raises(QueryEvaluationFailed) as failed:
        evaluate(text, "Output", bindings())
    assert failed.value.error == QUERY_EVALUATION_ERROR
    assert failed.value.cause.startswith(cause)
    assert failed.value.location == "Output"


def test_resolve_walks_templates_and_names_the_field() -> None:
    template = {"a": "{% $states.input.n %}", "b": ["x", "{% $v %}"], "c": "plain {% text"}
    assert resolve(template, "Arguments", bindings(v=True)) == {
        "a": 3,
        "b": ["x", True],
        "c": "plain {% text",
    }
    with pytest.raises(QueryEvaluationFailed) as failed:
        resolve({"deep": [{"k": "{% $nothing %}"}]}, "Arguments", bindings())
    assert failed.value.location == "Arguments/deep[0]/k"
    assert is_expression("{%1%}") and not is_expression("{% 1") and not is_expression(1)


def test_problems_found_at_create() -> None:
    assert expression_problem("{% $states.input.a %}") is None
    assert expression_problem("{% $x.y + 1 %}") is None
    assert expression_problem("{% order.id %}") == (
        "UNSUPPORTED_JSONATA_EXPRESSION: Reference to 'order' at the top level is not supported."
    )
    assert (expression_problem("{% [1, %}") or "").startswith("INVALID_JSONATA_EXPRESSION: ")
    assert template_problems({"a": ["{% 1 + %}"], "b": "{% ok"}, "States/A/Output") == [
        "INVALID_JSONATA_EXPRESSION: S0207: Unexpected end of expression at /States/A/Output/a[0]",
        "SCHEMA_VALIDATION_FAILED: JSONata string must start with {% and end with %}"
        " at /States/A/Output/b",
    ]


# ---- variables ----


def test_scopes_read_outward_and_write_their_own_level() -> None:
    top = VariableScope({"a": 1, "b": 2})
    inner = top.nested()
    inner.assign({"b": 20, "c": 30})
    assert (inner.lookup("a"), inner.lookup("b"), inner.lookup("c")) == (1, 20, 30)
    assert inner.visible() == {"a": 1, "b": 20, "c": 30}
    assert top.values == {"a": 1, "b": 2}
    assert top.lookup("c") is MISSING


def test_size_limits() -> None:
    scope = VariableScope({})
    with pytest.raises(StatesError) as failed:
        scope.assign({"big": "x" * 262144})
    assert failed.value.error == DATA_LIMIT_EXCEEDED
    with pytest.raises(StatesError):
        scope.assign({"a": "x" * 140000, "b": "x" * 140000})  # one Assign over 256 KiB
    assert scope.values == {}


def test_variable_paths() -> None:
    scope = VariableScope({"order": {"lines": [{"id": 7}]}, "n": 2})
    context = {"Execution": {"Name": "e"}, VARIABLES_KEY: scope}
    assert read_path("$order.lines[0].id", {}, context) == 7
    assert read_path("$n", {}, context) == 2
    assert read_path("$nope", {}, context) is MISSING
    assert read_path("$$", {}, context) == {"Execution": {"Name": "e"}}  # no variables shown
    assert resolve_template({"id.$": "$order.lines[0].id"}, {}, context) == {"id": 7}
    assert evaluate_intrinsic("States.MathAdd($n, $order.lines[0].id)", {}, context) == 9
    assert intrinsic_problem("States.Format('{}', $order.lines[0])") is None
    with pytest.raises(StatesError):
        put_result("$n", {}, 1)


def test_names_and_history_details() -> None:
    assert name_problem("total") is None
    assert name_problem("états") is None
    assert name_problem("states") == "The variable name 'states' is reserved"
    assert name_problem("1st") == "The variable name '1st' is not valid"
    assert assign_problems({"x.$": "$.a", "y": 1}, "S/Assign", frozenset({"y"}), jsonpath=True) == [
        "SCHEMA_VALIDATION_FAILED: The variable 'y' is assigned in an outer scope and cannot be"
        " assigned in a Parallel branch or Map iteration at /S/Assign/y"
    ]
    assert assigned_variables({"a": {"b": 1}}) == {
        "assignedVariables": {"a": '{"b":1}'},
        "assignedVariablesDetails": {"truncated": False},
    }


def test_importing_jsonata_keeps_the_process_recursion_limit() -> None:
    # jsonata-python raises it to 10,000 on import; other parsers rely on Python's own limit
    # to refuse deeply nested input, so a fresh interpreter must see it unchanged.
    code = (
        "import sys; before = sys.getrecursionlimit(); "
        "import headwater.services.stepfunctions.jsonata_query; "
        "print(before, sys.getrecursionlimit())"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = found.stdout.split()
    assert before == after
