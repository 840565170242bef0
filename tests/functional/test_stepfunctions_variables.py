"""Step Functions workflow variables (Assign, ``$name``) and the JSONata query language,
through ``hw.client`` and boto3 over the wire: scopes of Map and Parallel, what the history
shows, JSONata states calling functions, their errors caught, and variables surviving a
restart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater import Headwater, ManualClock
from tests.functional.test_stepfunctions import (
    ROLE,
    function_arn,
    machine,
    next_token,
    output_of,
    run,
    settle,
    sfn,
    status_when_done,
)

__all__ = ["sfn"]  # the fixture shared with test_stepfunctions


def history_of(sfn: Any, described: dict[str, Any]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = sfn.get_execution_history(
        executionArn=described["executionArn"]
    )["events"]
    return events


def assigned_in(history: list[dict[str, Any]]) -> list[tuple[str, dict[str, str]]]:
    """(state, assignedVariables) of every ...StateExited event that assigned."""
    return [
        (e["stateExitedEventDetails"]["name"], e["stateExitedEventDetails"]["assignedVariables"])
        for e in history
        if "assignedVariables" in e.get("stateExitedEventDetails", {})
    ]


# ---- JSONPath states ----


def test_jsonpath_assign_reads_the_result_and_later_states_read_the_variables(
    hw: Headwater, sfn: Any
) -> None:
    definition = {
        "StartAt": "Price",
        "States": {
            "Price": {
                "Type": "Pass",
                "Result": {"amount": 30, "currency": "EUR"},
                "ResultPath": "$.price",
                # $ is the state's result; every value sees the variables as they were.
                "Assign": {"amount.$": "$.amount", "label": "priced", "seen.$": "$$.State.Name"},
                "Next": "Route",
            },
            "Route": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Variable": "$amount",
                        "NumericGreaterThan": 100,
                        "Assign": {"tier": "big"},
                        "Next": "Done",
                    }
                ],
                "Default": "Done",
                "Assign": {"tier": "small", "doubled.$": "States.MathAdd($amount, $amount)"},
            },
            "Done": {
                "Type": "Pass",
                "Parameters": {
                    "amount.$": "$amount",
                    "tier.$": "$tier",
                    "doubled.$": "$doubled",
                    "text.$": "States.Format('{} {}', $label, $tier)",
                    "input.$": "$.price.currency",
                },
                "End": True,
            },
        },
    }
    described = run(hw, sfn, definition, {"order": 1})
    assert output_of(described) == {
        "amount": 30,
        "tier": "small",
        "doubled": 60,
        "text": "priced small",
        "input": "EUR",
    }
    assert assigned_in(history_of(sfn, described)) == [
        ("Price", {"amount": "30", "label": '"priced"', "seen": '"Price"'}),
        ("Route", {"tier": '"small"', "doubled": "60"}),
    ]
    exited = next(e for e in history_of(sfn, described) if e["type"] == "PassStateExited")
    assert exited["stateExitedEventDetails"]["assignedVariablesDetails"] == {"truncated": False}


def test_map_and_parallel_branches_read_outer_variables_and_keep_their_own(
    hw: Headwater, sfn: Any
) -> None:
    inner = {
        "StartAt": "Mine",
        "States": {
            "Mine": {
                "Type": "Pass",
                "Assign": {"mine.$": "$.v"},
                "Next": "Use",
            },
            "Use": {
                "Type": "Pass",
                "Parameters": {"sum.$": "States.MathAdd($mine, $base)"},
                "End": True,
            },
        },
    }
    definition = {
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Assign": {"base": 100}, "Next": "Each"},
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemSelector": {"v.$": "$$.Map.Item.Value", "b.$": "$base"},
                "ItemProcessor": inner,
                "ResultPath": "$.each",
                "Next": "Both",
            },
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "One",
                        "States": {
                            "One": {"Type": "Pass", "Result": {"v": 1}, "Next": "Mine"},
                            **inner["States"],
                        },
                    },
                    {
                        "StartAt": "Fails",
                        "States": {"Fails": {"Type": "Fail", "Error": "Boom", "Cause": "why"}},
                    },
                ],
                "Catch": [
                    {
                        "ErrorEquals": ["Boom"],
                        # $ is the error output in a Catcher's Assign.
                        "Assign": {"failure.$": "$.Error"},
                        "ResultPath": "$.error",
                        "Next": "After",
                    }
                ],
                "Next": "After",
            },
            "After": {
                "Type": "Pass",
                "Parameters": {
                    "failure.$": "$failure",
                    "error.$": "$.error.Cause",
                    "each.$": "$.each",
                    "base.$": "$base",
                },
                "End": True,
            },
        },
    }
    described = run(hw, sfn, definition, {"items": [1, 2]})
    assert output_of(described) == {
        "failure": "Boom",
        "error": "why",
        "each": [{"sum": 101}, {"sum": 102}],
        "base": 100,
    }
    # The iterations' own variables are not the top level's (After read none of them).
    history = history_of(sfn, described)
    assert ("Mine", {"mine": "1"}) in assigned_in(history)
    assert ("Both", {"failure": '"Boom"'}) in assigned_in(history)


def test_a_variable_over_256_kib_fails_the_state(hw: Headwater, sfn: Any) -> None:
    definition = {
        "StartAt": "Big",
        "States": {
            "Big": {"Type": "Pass", "Assign": {"big.$": "$.text"}, "OutputPath": "$.n", "End": True}
        },
    }
    described = run(hw, sfn, definition, {"text": "x" * 262144, "n": 1})
    assert described["status"] == "FAILED"
    assert described["error"] == "States.DataLimitExceeded"


# ---- JSONata ----

HANDLERS = """
class OrderRejected(Exception):
    pass


def price(event, context):
    return {"total": event["qty"] * event["unit"]}


def reject(event, context):
    raise OrderRejected("order " + str(event.get("id")) + " rejected")
"""


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[Headwater, ManualClock]]:
    """A Headwater on a ManualClock with the functions ``price`` and ``reject``."""
    code = tmp_path / "code"
    code.mkdir()
    (code / "shop.py").write_text(HANDLERS)
    clock = ManualClock()
    hw = Headwater.in_memory(clock=clock, functions="inline")
    for name in ("price", "reject"):
        hw.lambda_.create_function_from_directory(name, code, f"shop.{name}", timeout=30)
    try:
        yield hw, clock
    finally:
        hw.close()


def test_a_jsonata_machine_with_choice_map_assign_lambda_and_catch(
    shop: tuple[Headwater, ManualClock],
) -> None:
    hw, clock = shop
    sfn = hw.client("stepfunctions")
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Lines",
        "States": {
            "Lines": {
                "Type": "Map",
                "Items": "{% $states.input.lines %}",
                "ItemSelector": {
                    "qty": "{% $states.context.Map.Item.Value.qty %}",
                    "unit": "{% $states.context.Map.Item.Value.unit %}",
                },
                "ItemProcessor": {
                    "StartAt": "Price",
                    "States": {
                        # The function's own ARN: the result is its answer.
                        "Price": {
                            "Type": "Task",
                            "Resource": function_arn("price"),
                            "Output": "{% $states.result.total %}",
                            "End": True,
                        }
                    },
                },
                "Assign": {
                    "total": "{% $sum($states.result) %}",
                    "id": "{% $states.input.id %}",
                },
                "Next": "Big?",
            },
            "Big?": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Condition": "{% $total > 100 %}",
                        "Assign": {"route": "review"},
                        "Next": "Nap",
                    }
                ],
                "Default": "Nap",
                "Assign": {"route": "direct"},
            },
            "Nap": {"Type": "Wait", "Seconds": "{% $total %}", "Next": "Check"},
            "Check": {
                "Type": "Task",
                # The integration: the result is the whole Invoke response.
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": "reject", "Payload": {"id": "{% $id %}"}},
                "Catch": [
                    {
                        "ErrorEquals": ["OrderRejected"],
                        "Assign": {"why": "{% $parse($states.errorOutput.Cause).errorMessage %}"},
                        "Output": {"error": "{% $states.errorOutput.Error %}"},
                        "Next": "Done",
                    }
                ],
                "Next": "Done",
            },
            "Done": {
                "Type": "Pass",
                "Output": {
                    "total": "{% $total %}",
                    "route": "{% $route %}",
                    "why": "{% $why %}",
                    "error": "{% $states.input.error %}",
                    "execution": "{% $states.context.Execution.Name %}",
                },
                "End": True,
            },
        },
    }
    arn = machine(sfn, definition)
    lines = [{"qty": 2, "unit": 10}, {"qty": 1, "unit": 5}]
    started = sfn.start_execution(
        stateMachineArn=arn, name="order-7", input=json.dumps({"id": 7, "lines": lines})
    )
    settle(hw)
    described = sfn.describe_execution(executionArn=started["executionArn"])
    assert described["status"] == "RUNNING"  # parked on the Wait: $total seconds
    clock.advance(25)
    settle(hw)
    described = sfn.describe_execution(executionArn=started["executionArn"])
    assert output_of(described) == {
        "total": 25,
        "route": "direct",
        "why": "order 7 rejected",
        "error": "OrderRejected",
        "execution": "order-7",
    }
    history = history_of(sfn, described)
    assert ("Lines", {"total": "25", "id": "7"}) in assigned_in(history)
    scheduled = next(e for e in history if e["type"] == "TaskScheduled")
    assert json.loads(scheduled["taskScheduledEventDetails"]["parameters"]) == {
        "FunctionName": "reject",
        "Payload": {"id": 7},
    }


def test_lambda_invoke_result_is_the_whole_response_in_jsonata(
    shop: tuple[Headwater, ManualClock],
) -> None:
    hw, _ = shop
    sfn = hw.client("stepfunctions")
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Invoke",
        "States": {
            "Invoke": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": "price", "Payload": "{% $states.input %}"},
                "Output": {
                    "status": "{% $states.result.StatusCode %}",
                    "total": "{% $states.result.Payload.total %}",
                },
                "End": True,
            }
        },
    }
    described = run(hw, sfn, definition, {"qty": 3, "unit": 4})
    assert output_of(described) == {"status": 200, "total": 12}


def test_a_failing_expression_is_a_query_evaluation_error_that_catch_can_take(
    hw: Headwater, sfn: Any
) -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Broken",
        "States": {
            "Broken": {
                "Type": "Pass",
                "Output": {"v": "{% $states.input.missing %}"},
                "End": True,
            }
        },
    }
    described = run(hw, sfn, definition, {})
    assert described["status"] == "FAILED"
    assert described["error"] == "States.QueryEvaluationError"
    assert described["cause"] == (
        "The JSONata expression '$states.input.missing' specified for the field 'Output/v'"
        " returned nothing (undefined)."
    )
    failed = next(e for e in history_of(sfn, described) if e["type"] == "EvaluationFailed")
    assert failed["evaluationFailedEventDetails"] == {
        "state": "Broken",
        "error": "States.QueryEvaluationError",
        "cause": described["cause"],
        "location": "Output/v",
    }
    # In a Parallel with a Catch, the same error is caught.
    caught = {
        "QueryLanguage": "JSONata",
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "Num",
                        "States": {
                            "Num": {"Type": "Pass", "Output": "{% $number('x') + 1 %}", "End": True}
                        },
                    }
                ],
                "Catch": [
                    {
                        "ErrorEquals": ["States.QueryEvaluationError"],
                        "Output": "{% $states.errorOutput %}",
                        "Next": "Done",
                    }
                ],
                "End": True,
            },
            "Done": {"Type": "Succeed"},
        },
    }
    arn = machine(sfn, caught, name="caught")
    started = sfn.start_execution(stateMachineArn=arn, input="{}")
    settle(hw)
    output = output_of(sfn.describe_execution(executionArn=started["executionArn"]))
    assert output["Error"] == "States.QueryEvaluationError"
    assert output["Cause"].startswith(
        "The JSONata expression '$number('x') + 1' specified for the field 'Output' threw an"
        " error during evaluation"
    )


def test_jsonata_parallel_arguments_a_nested_wait_and_a_condition_not_boolean(
    hw: Headwater, sfn: Any, clock: ManualClock
) -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Arguments": {"k": "{% $states.input.k %}"},
                "Branches": [
                    {
                        "StartAt": "Double",
                        "States": {
                            "Double": {
                                "Type": "Pass",
                                "Output": "{% $states.input.k * 2 %}",
                                "End": True,
                            }
                        },
                    },
                    {
                        "StartAt": "Nap",
                        "States": {
                            "Nap": {
                                "Type": "Wait",
                                "Seconds": "{% $states.input.k %}",
                                "Output": "rested",
                                "End": True,
                            }
                        },
                    },
                ],
                "Output": {"r": "{% $states.result %}"},
                "Next": "Route",
            },
            "Route": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $states.input.r[0] %}", "Next": "Done"}],
            },
            "Done": {"Type": "Succeed"},
        },
    }
    arn = machine(sfn, definition)
    started = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"k": 3}))
    described = status_when_done(hw, sfn, clock, started["executionArn"])
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED",
        "States.QueryEvaluationError",
        "The Condition at 'Choices[0]/Condition' must evaluate to a boolean, not 6",
    )
    exited = [
        json.loads(e["stateExitedEventDetails"]["output"])
        for e in history_of(sfn, described)
        if e["type"] == "ParallelStateExited"
    ]
    assert exited == [{"r": [6, "rested"]}]


def test_jsonata_task_token_and_timeout_expressions(
    hw: Headwater, sfn: Any, clock: ManualClock
) -> None:
    queue = hw.client("sqs").create_queue(QueueName="approvals")["QueueUrl"]
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Arguments": {
                    "QueueUrl": queue,
                    "MessageBody": {"token": "{% $states.context.Task.Token %}"},
                },
                "TimeoutSeconds": "{% $states.input.timeout %}",
                "Output": {"answer": "{% $states.result %}"},
                "End": True,
            }
        },
    }
    arn = machine(sfn, definition)
    answered = sfn.start_execution(stateMachineArn=arn, input='{"timeout": 100}')
    sfn.send_task_success(taskToken=next_token(hw, queue), output='{"ok": true}')
    settle(hw)
    assert output_of(sfn.describe_execution(executionArn=answered["executionArn"])) == {
        "answer": {"ok": True}
    }
    late = sfn.start_execution(stateMachineArn=arn, input='{"timeout": 5}')
    next_token(hw, queue)
    clock.advance(6)
    settle(hw)
    assert sfn.describe_execution(executionArn=late["executionArn"])["error"] == "States.Timeout"


def test_variables_survive_a_restart(tmp_path: Path) -> None:
    clock = ManualClock()
    definition = {
        "StartAt": "Remember",
        "States": {
            "Remember": {
                "Type": "Pass",
                "Assign": {"who.$": "$.name"},
                "Next": "Nap",
            },
            "Nap": {"Type": "Wait", "Seconds": 60, "Next": "Greet"},
            "Greet": {
                "Type": "Pass",
                "QueryLanguage": "JSONata",
                "Output": "{% 'hello ' & $who %}",
                "End": True,
            },
        },
    }
    app = Headwater(data_dir=tmp_path / "data", clock=clock)
    sfn = app.client("stepfunctions")
    arn = machine(sfn, definition)
    started = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"name": "ada"}))
    settle(app)
    app.close()
    app = Headwater(data_dir=tmp_path / "data", clock=clock)
    try:
        _ = app.destinations  # the engine's start: services with stored state resume
        sfn = app.client("stepfunctions")
        clock.advance(60)
        settle(app)
        assert output_of(sfn.describe_execution(executionArn=started["executionArn"])) == (
            "hello ada"
        )
    finally:
        app.close()


def test_jsonata_wait_timestamp_and_fail_expressions(hw: Headwater, sfn: Any) -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Fail",
        "States": {
            "Fail": {
                "Type": "Fail",
                "Error": "{% 'Order.' & $states.input.kind %}",
                "Cause": "{% $string($states.input.id) %}",
            }
        },
    }
    described = run(hw, sfn, definition, {"kind": "Late", "id": 4})
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED",
        "Order.Late",
        "4",
    )


def test_a_jsonata_machine_is_stored_as_given(sfn: Any) -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "A",
        "States": {"A": {"Type": "Pass", "Output": "{% $states.input %}", "End": True}},
    }
    arn = machine(sfn, definition, name="kept")
    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == definition
    assert sfn.describe_state_machine(stateMachineArn=arn)["roleArn"] == ROLE
