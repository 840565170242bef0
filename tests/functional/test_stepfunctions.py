"""Step Functions: state machines and executions through ``hw.client`` and boto3 over the
wire (the ASGI app, no sockets), the States Language interpreter (every state type, paths,
Parameters, Choice rules, Retry and Catch with a failing inline function, Wait on a
ManualClock, Map and Parallel, the service integrations) and an execution resuming after a
restart."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from headwater.in_process import boto3_in_process
from headwater.services.stepfunctions.service import StepFunctionsService
from headwater.services.stepfunctions.store import ExecutionRecord, StepFunctionsStore
from tests.asgi_boto import in_process_aws

ROLE = "arn:aws:iam::000000000000:role/sfn"
ENDPOINT = "http://127.0.0.1:4599"


@pytest.fixture(params=["in-process", "wire"])
def sfn(request: pytest.FixtureRequest, hw: Headwater) -> Iterator[Any]:
    """A Step Functions client of ``hw``: ``hw.client``, or boto3 through the ASGI app."""
    if request.param == "in-process":
        yield hw.client("stepfunctions")
        return
    with in_process_aws(hw) as aws:
        # StartSyncExecution's endpoint has the host prefix "sync-" (sync-states.<region>...),
        # which a local endpoint cannot take: clients turn the prefix off, as for LocalStack.
        yield aws.client("stepfunctions", inject_host_prefix=False)


def error_of(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def settle(hw: Headwater) -> None:
    """Wait until every execution of ``hw`` has ended or parked."""
    service = hw.service("stepfunctions")
    assert isinstance(service, StepFunctionsService)
    assert service.runner.wait_idle(20)


def machine(sfn: Any, definition: dict[str, Any], name: str = "m", **extra: Any) -> str:
    arn: str = sfn.create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=ROLE, **extra
    )["stateMachineArn"]
    return arn


def run(hw: Headwater, sfn: Any, definition: dict[str, Any], payload: Any) -> dict[str, Any]:
    arn = machine(sfn, definition)
    started = sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload))
    settle(hw)
    result: dict[str, Any] = sfn.describe_execution(executionArn=started["executionArn"])
    return result


def output_of(described: dict[str, Any]) -> Any:
    assert described["status"] == "SUCCEEDED", described
    return json.loads(described["output"])


# ---- control plane ----


def test_create_describe_list_update_delete(sfn: Any) -> None:
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    created = sfn.create_state_machine(
        name="orders", definition=json.dumps(definition), roleArn=ROLE,
        tags=[{"key": "team", "value": "a"}],
    )  # fmt: skip
    arn = created["stateMachineArn"]
    assert arn == "arn:aws:states:us-east-1:000000000000:stateMachine:orders"
    again = sfn.create_state_machine(name="orders", definition=json.dumps(definition), roleArn=ROLE)
    assert again["stateMachineArn"] == arn
    assert error_of(
        sfn.create_state_machine, name="orders", definition=json.dumps(definition), roleArn="x"
    ) == ("StateMachineAlreadyExists", f"State Machine Already Exists: '{arn}'")
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert (described["name"], described["type"], described["status"]) == (
        "orders", "STANDARD", "ACTIVE",
    )  # fmt: skip
    assert json.loads(described["definition"]) == definition
    assert sfn.validate_state_machine_definition(definition=json.dumps(definition)) == {
        "result": "OK",
        "diagnostics": [],
        "truncated": False,
        **({"ResponseMetadata": ANY} if "ResponseMetadata" in described else {}),
    }
    assert sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"] == []
    assert sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"] == []
    express = machine(sfn, definition, name="fast", type="EXPRESS")
    listed = sfn.list_state_machines()["stateMachines"]
    assert [m["name"] for m in listed] == ["fast", "orders"]
    first = sfn.list_state_machines(maxResults=1)
    assert len(first["stateMachines"]) == 1
    assert sfn.list_state_machines(nextToken=first["nextToken"])["stateMachines"][0]["name"] == (
        "orders"
    )
    changed = {"StartAt": "Q", "States": {"Q": {"Type": "Succeed"}}}
    sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(changed))
    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == changed
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "team", "value": "a"}]
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "env", "value": "dev"}])
    sfn.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "env", "value": "dev"}]
    # a tag without its key is refused and changes nothing (it was a KeyError, a 500)
    assert error_of(sfn.tag_resource, resourceArn=arn, tags=[{"value": "v"}])[0] == (
        "ValidationException"
    )
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "env", "value": "dev"}]
    sfn.delete_state_machine(stateMachineArn=express)
    assert error_of(sfn.describe_state_machine, stateMachineArn=express) == (
        "StateMachineDoesNotExist",
        f"State Machine Does Not Exist: '{express}'",
    )
    assert error_of(sfn.describe_state_machine, stateMachineArn="nope")[0] == "InvalidArn"
    assert error_of(sfn.create_state_machine, name="bad name", definition="{}", roleArn=ROLE) == (
        "InvalidName",
        "Invalid Name: 'bad name'",
    )


@pytest.mark.parametrize(
    ("definition", "problem"),
    [
        ("{not json", "INVALID_JSON_DESCRIPTION"),
        ({"States": {"A": {"Type": "Pass", "End": True}}}, "These fields are required: [StartAt]"),
        ({"StartAt": "A", "States": {"A": {"Type": "Nope", "End": True}}}, "valid state type"),
        ({"StartAt": "A", "States": {"A": {"Type": "Pass"}}}, "[Next, End]"),
        (
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Z"}}},
            "MISSING_TRANSITION_TARGET: Missing 'Next' target: Z at /States/A/Next, ",
        ),
        (
            {
                "StartAt": "A",
                "States": {
                    "A": {"Type": "Pass", "Next": "B"},
                    "B": {"Type": "Pass", "Next": "A"},
                    "C": {"Type": "Pass", "End": True},
                },
            },
            'State "C" is not reachable. at /States/C',
        ),
        (
            {
                "StartAt": "A",
                "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}},
            },
            "'MISSING_END_STATE: Workflow has no terminal state'",
        ),
        (
            {
                "StartAt": "C",
                "States": {
                    "C": {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "D"}],
                        "Default": "Nowhere",
                    },
                    "D": {"Type": "Succeed"},
                },
            },
            "Missing 'Next' target: Nowhere at /States/C/Default'",
        ),
        (
            {
                "StartAt": "A",
                "States": {"A": {"Type": "Succeed"}, "B": {"Type": "Succeed"}},
            },
            'State "B" is not reachable.',
        ),
        (
            {
                "StartAt": "A",
                "States": {
                    "A": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::ecs:runTask.sync",
                        "End": True,
                    }
                },
            },
            "'arn:aws:states:::ecs:runTask.sync' integration pattern",
        ),
        (
            {
                "StartAt": "A",
                "States": {
                    "A": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::aws-sdk:ec2:describeInstances",
                        "End": True,
                    }
                },
            },
            "headwater does not serve the aws-sdk service 'ec2' (Task resource",
        ),
        (
            {
                "QueryLanguage": "JSONata",
                "StartAt": "A",
                "States": {"A": {"Type": "Pass", "InputPath": "$.x", "End": True}},
            },
            "SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONata', but field"
            " 'InputPath' is only supported for the 'JSONPath' QueryLanguage at /States/A'",
        ),
        (
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "Output": {}, "End": True}}},
            "The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for"
            " the 'JSONata' QueryLanguage at /States/A",
        ),
        (
            {
                "QueryLanguage": "JSONata",
                "StartAt": "A",
                "States": {"A": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": True}},
            },
            "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
        ),
        (
            {"QueryLanguage": "JSONPATH", "StartAt": "A", "States": {"A": {"Type": "Succeed"}}},
            "Value should be one of the following: [JSONPath, JSONata] at /QueryLanguage",
        ),
        (
            {
                "QueryLanguage": "JSONata",
                "StartAt": "A",
                "States": {"A": {"Type": "Pass", "Output": "{% phone %}", "End": True}},
            },
            "UNSUPPORTED_JSONATA_EXPRESSION: Reference to 'phone' at the top level is not"
            " supported. at /States/A/Output",
        ),
        (
            {
                "QueryLanguage": "JSONata",
                "StartAt": "A",
                "States": {"A": {"Type": "Pass", "Output": "{% 1 + %}", "End": True}},
            },
            "INVALID_JSONATA_EXPRESSION: S0207: Unexpected end of expression at /States/A/Output",
        ),
        (
            {
                "StartAt": "A",
                "States": {"A": {"Type": "Pass", "Assign": {"states": 1}, "End": True}},
            },
            "The variable name 'states' is reserved at /States/A/Assign/states",
        ),
        (
            {
                "StartAt": "A",
                "States": {"A": {"Type": "Pass", "Assign": {"x.$": "$..y"}, "End": True}},
            },
            "The value for the field 'x.$' must be a valid JSONPath at /States/A/Assign'",
        ),
        (
            {
                "StartAt": "A",
                "States": {"A": {"Type": "Pass", "Result": 1, "ResultPath": "$total", "End": True}},
            },
            "Value is not a Reference Path: A variable cannot be written by a path",
        ),
        (
            {
                "StartAt": "P",
                "States": {
                    "P": {
                        "Type": "Parallel",
                        "Assign": {"total": 0},
                        "Branches": [
                            {
                                "StartAt": "B",
                                "States": {
                                    "B": {"Type": "Pass", "Assign": {"total": 1}, "End": True}
                                },
                            }
                        ],
                        "End": True,
                    }
                },
            },
            "The variable 'total' is assigned in an outer scope and cannot be assigned in a"
            " Parallel branch or Map iteration at /States/P/Branches[0]/States/B/Assign/total",
        ),
    ],
)
def test_invalid_definitions(sfn: Any, definition: Any, problem: str) -> None:
    text = definition if isinstance(definition, str) else json.dumps(definition)
    code, message = error_of(sfn.create_state_machine, name="bad", definition=text, roleArn=ROLE)
    assert code == "InvalidDefinition"
    assert message.startswith("Invalid State Machine Definition: '")
    assert problem in message
    validated = sfn.validate_state_machine_definition(definition=text)
    assert validated["result"] == "FAIL"
    assert validated["diagnostics"][0]["severity"] == "ERROR"
    assert validated["diagnostics"][0]["code"] in message
    assert sfn.list_state_machines()["stateMachines"] == []


def test_bad_paths_are_refused_at_create_each_named(sfn: Any) -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Pass",
                "InputPath": "input",
                "OutputPath": "$.a[",
                "ResultPath": "$.items[*]",
                "Parameters": {
                    "ok.$": "$.x",
                    "ctx.$": "$$.Execution.Id",
                    "fn.$": "States.Format('{}', $.x)",
                    "nested": {"bad.$": "x.y"},
                    "call.$": "States.Nope(1)",
                },
                "Next": "C",
            },
            "C": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "x", "IsPresent": True, "Next": "Done"},
                    {
                        "And": [{"Variable": "$.n", "NumericEqualsPath": "n", "Next": "Done"}],
                        "Next": "Done",
                    },
                ],
                "Default": "M",
            },
            "M": {
                "Type": "Map",
                "ItemsPath": "$..all",
                "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Succeed"}}},
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$$.x", "Next": "Done"}],
                "End": True,
            },
            "Done": {"Type": "Succeed"},
        },
    }
    code, message = error_of(
        sfn.create_state_machine, name="bad", definition=json.dumps(definition), roleArn=ROLE
    )
    assert code == "InvalidDefinition"
    expected = [
        "SCHEMA_VALIDATION_FAILED: Value must be a valid JSONPath. at /States/P/InputPath",
        "SCHEMA_VALIDATION_FAILED: Value must be a valid JSONPath. at /States/P/OutputPath",
        "SCHEMA_VALIDATION_FAILED: Value is not a Reference Path: Reference paths cannot hold"
        " wildcards at /States/P/ResultPath",
        "SCHEMA_VALIDATION_FAILED: The value for the field 'bad.$' must be a valid JSONPath"
        " at /States/P/Parameters",
        "SCHEMA_VALIDATION_FAILED: The value for the field 'call.$' must be a valid JSONPath"
        " at /States/P/Parameters",
        "SCHEMA_VALIDATION_FAILED: Value must be a valid JSONPath."
        " at /States/C/Choices[0]/Variable",
        "SCHEMA_VALIDATION_FAILED: Value is not a Reference Path: Reference path didn't start"
        " with '$' at /States/C/Choices[1]/And[0]/NumericEqualsPath",
        "SCHEMA_VALIDATION_FAILED: headwater does not support the JSONPath '$..all' (no '..',"
        " filters, slices or unions) at /States/M/ItemsPath",
        "SCHEMA_VALIDATION_FAILED: Value is not a Reference Path: The context object cannot be"
        " written at /States/M/Catch[0]/ResultPath",
    ]
    assert message == f"Invalid State Machine Definition: '{', '.join(expected)}'"
    validated = sfn.validate_state_machine_definition(definition=json.dumps(definition))
    assert [d["location"] for d in validated["diagnostics"]] == [
        problem.rpartition(" at ")[2] for problem in expected
    ]
    # The same machine with its paths put right is created.
    good = json.loads(json.dumps(definition))
    good["States"]["P"] = {
        "Type": "Pass",
        "InputPath": "$$.Execution",
        "ResultPath": None,
        "Next": "C",
    }
    good["States"]["C"]["Choices"] = [{"Variable": "$.x", "IsPresent": True, "Next": "Done"}]
    good["States"]["M"]["ItemsPath"] = "$.all"
    good["States"]["M"]["Catch"][0]["ResultPath"] = "$.error"
    sfn.create_state_machine(name="good", definition=json.dumps(good), roleArn=ROLE)


def test_executions_list_describe_history_and_names(hw: Headwater, sfn: Any) -> None:
    arn = machine(sfn, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    first = sfn.start_execution(stateMachineArn=arn, name="one", input='{"a": 1}')
    assert first["executionArn"] == "arn:aws:states:us-east-1:000000000000:execution:m:one"
    settle(hw)
    assert error_of(sfn.start_execution, stateMachineArn=arn, name="one", input="{}") == (
        "ExecutionAlreadyExists",
        f"Execution Already Exists: '{first['executionArn']}'",
    )
    assert error_of(sfn.start_execution, stateMachineArn=arn, input="{oops")[0] == (
        "InvalidExecutionInput"
    )
    sfn.start_execution(stateMachineArn=arn, name="two")
    settle(hw)
    described = sfn.describe_execution(executionArn=first["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"a": 1}
    assert described["stopDate"] >= described["startDate"]
    listed = sfn.list_executions(stateMachineArn=arn, statusFilter="SUCCEEDED")["executions"]
    assert sorted(e["name"] for e in listed) == ["one", "two"]
    assert sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"] == []
    page = sfn.list_executions(stateMachineArn=arn, maxResults=1)
    assert len(page["executions"]) == 1 and page["nextToken"]
    history = sfn.get_execution_history(executionArn=first["executionArn"])["events"]
    assert [e["type"] for e in history] == [
        "ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded",
    ]  # fmt: skip
    assert [e["id"] for e in history] == [1, 2, 3, 4]
    assert history[1]["stateEnteredEventDetails"]["name"] == "P"
    reverse = sfn.get_execution_history(executionArn=first["executionArn"], reverseOrder=True)
    assert reverse["events"][0]["type"] == "ExecutionSucceeded"
    missing = first["executionArn"] + "x"
    assert error_of(sfn.describe_execution, executionArn=missing) == (
        "ExecutionDoesNotExist",
        f"Execution Does Not Exist: '{missing}'",
    )


def test_wait_parks_on_the_clock_and_stop_aborts(
    hw: Headwater, sfn: Any, clock: ManualClock
) -> None:
    arn = machine(
        sfn,
        {
            "StartAt": "W",
            "States": {
                "W": {"Type": "Wait", "Seconds": 60, "Next": "Done"},
                "Done": {"Type": "Pass", "Result": "woke", "End": True},
            },
        },
    )
    waiting = sfn.start_execution(stateMachineArn=arn, name="waits")["executionArn"]
    stopped = sfn.start_execution(stateMachineArn=arn, name="stops")["executionArn"]
    settle(hw)
    clock.advance(59)
    settle(hw)
    assert sfn.describe_execution(executionArn=waiting)["status"] == "RUNNING"
    sfn.stop_execution(executionArn=stopped, error="Halt", cause="by hand")
    clock.advance(1)
    settle(hw)
    assert output_of(sfn.describe_execution(executionArn=waiting)) == "woke"
    aborted = sfn.describe_execution(executionArn=stopped)
    assert (aborted["status"], aborted["error"], aborted["cause"]) == ("ABORTED", "Halt", "by hand")
    types = [e["type"] for e in sfn.get_execution_history(executionArn=stopped)["events"]]
    assert types[-1] == "ExecutionAborted" and "PassStateEntered" not in types


def test_an_execution_times_out(hw: Headwater, sfn: Any, clock: ManualClock) -> None:
    arn = machine(
        sfn,
        {
            "TimeoutSeconds": 30,
            "StartAt": "W",
            "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}},
        },
    )
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    settle(hw)
    clock.advance(29)
    settle(hw)
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    clock.advance(1)
    settle(hw)
    described = sfn.describe_execution(executionArn=execution)
    assert (described["status"], described["error"]) == ("TIMED_OUT", "States.Timeout")
    history = sfn.get_execution_history(executionArn=execution)["events"]
    assert history[-1]["type"] == "ExecutionTimedOut"
    assert sfn.list_executions(stateMachineArn=arn, statusFilter="TIMED_OUT")["executions"]


def test_wait_timestamp_and_paths(hw: Headwater, sfn: Any, clock: ManualClock) -> None:
    import datetime as dt

    at = dt.datetime.fromtimestamp(clock.now() + 30, dt.UTC).isoformat().replace("+00:00", "Z")
    described_arn = machine(
        sfn,
        {
            "StartAt": "W1",
            "States": {
                "W1": {"Type": "Wait", "TimestampPath": "$.at", "Next": "W2"},
                "W2": {"Type": "Wait", "SecondsPath": "$.pause", "End": True},
            },
        },
    )
    arn = sfn.start_execution(
        stateMachineArn=described_arn, input=json.dumps({"at": at, "pause": 10})
    )["executionArn"]
    settle(hw)
    clock.advance(30)
    settle(hw)
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    clock.advance(10)
    settle(hw)
    assert output_of(sfn.describe_execution(executionArn=arn)) == {"at": at, "pause": 10}


def test_start_sync_execution_is_for_express_machines(sfn: Any) -> None:
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 7, "End": True}}}
    standard = machine(sfn, definition, name="std")
    express = machine(sfn, definition, name="exp", type="EXPRESS")
    result = sfn.start_sync_execution(stateMachineArn=express, input="{}")
    assert result["status"] == "SUCCEEDED" and json.loads(result["output"]) == 7
    assert result["executionArn"].startswith("arn:aws:states:us-east-1:000000000000:express:exp:")
    assert error_of(sfn.start_sync_execution, stateMachineArn=standard)[0] == (
        "StateMachineTypeNotSupported"
    )
    assert error_of(sfn.list_executions, stateMachineArn=express)[0] == (
        "StateMachineTypeNotSupported"
    )


# ---- the interpreter ----


def test_pass_paths_parameters_and_intrinsics(hw: Headwater, sfn: Any) -> None:
    definition = {
        "StartAt": "Shape",
        "States": {
            "Shape": {
                "Type": "Pass",
                "InputPath": "$.order",
                "Parameters": {
                    "id.$": "$.id",
                    "greeting.$": "States.Format('Hello {}, {} items', $.who, $.count)",
                    "items.$": "States.Array($.count, 'x')",
                    "execution.$": "$$.Execution.Name",
                    "fixed": {"nested": True},
                },
                "ResultPath": "$.shaped",
                "Next": "Pick",
            },
            "Pick": {
                "Type": "Pass",
                "Result": {"extra": 1},
                "ResultSelector": {"ignored": True},
                "ResultPath": "$.shaped.result",
                "OutputPath": "$.shaped",
                "End": True,
            },
        },
    }
    arn = machine(sfn, definition)
    started = sfn.start_execution(
        stateMachineArn=arn,
        name="ex1",
        input=json.dumps({"order": {"id": "o-1", "who": "Ann", "count": 3}}),
    )
    settle(hw)
    output = output_of(sfn.describe_execution(executionArn=started["executionArn"]))
    assert output == {
        "id": "o-1",
        "greeting": "Hello Ann, 3 items",
        "items": [3, "x"],
        "execution": "ex1",
        "fixed": {"nested": True},
        "result": {"extra": 1},
    }


def test_a_missing_input_path_fails_with_states_runtime(hw: Headwater, sfn: Any) -> None:
    described = run(
        hw,
        sfn,
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": "$.gone", "End": True}}},
        {},
    )
    assert described["status"] == "FAILED"
    assert described["error"] == "States.Runtime"
    assert "$.gone" in described["cause"]


def test_an_output_over_256_kib_fails_with_data_limit_exceeded(hw: Headwater, sfn: Any) -> None:
    definition = {
        "StartAt": "Double",
        "States": {
            "Double": {
                "Type": "Pass",
                "Parameters": {"a.$": "$.s", "b.$": "$.s"},
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Succeed"},
        },
    }
    described = run(hw, sfn, definition, {"s": "x" * 140_000})
    assert (described["status"], described["error"]) == ("FAILED", "States.DataLimitExceeded")
    assert "'Double'" in described["cause"]


CHOICE = {
    "StartAt": "Route",
    "States": {
        "Route": {
            "Type": "Choice",
            "Choices": [
                {
                    "And": [
                        {"Variable": "$.n", "IsPresent": True},
                        {"Variable": "$.n", "NumericGreaterThanEquals": 10},
                        {"Not": {"Variable": "$.tag", "StringEquals": "skip"}},
                    ],
                    "Next": "Big",
                },
                {
                    "Or": [
                        {"Variable": "$.name", "StringMatches": "log-*.txt"},
                        {"Variable": "$.n", "NumericEqualsPath": "$.limit"},
                    ],
                    "Next": "Matched",
                },
                {"Variable": "$.when", "TimestampLessThan": "2020-01-01T00:00:00Z", "Next": "Old"},
                {"Variable": "$.flag", "IsNull": True, "Next": "Null"},
                {"Variable": "$.flag", "BooleanEquals": True, "Next": "Matched"},
            ],
            "Default": "Other",
        },
        "Big": {"Type": "Pass", "Result": "big", "End": True},
        "Matched": {"Type": "Pass", "Result": "matched", "End": True},
        "Old": {"Type": "Pass", "Result": "old", "End": True},
        "Null": {"Type": "Pass", "Result": "null", "End": True},
        "Other": {"Type": "Pass", "Result": "other", "End": True},
    },
}


def test_choice_rules(hw: Headwater, sfn: Any) -> None:
    arn = machine(sfn, CHOICE)
    base = {"tag": "x", "name": "a", "limit": -1, "when": "2021-01-01T00:00:00Z", "flag": 0}
    cases = [
        ({**base, "n": 12}, "big"),
        ({**base, "n": 12, "tag": "skip", "name": "log-1.txt"}, "matched"),
        ({**base, "n": 3, "limit": 3}, "matched"),
        ({**base, "n": "3", "limit": 3, "when": "2019-05-01T00:00:00Z"}, "old"),
        ({**base, "n": 1, "flag": None}, "null"),
        ({**base, "n": 1, "flag": True}, "matched"),
        ({**base, "n": 1, "flag": False}, "other"),
    ]
    arns = [
        sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload))["executionArn"]
        for payload, _ in cases
    ]
    settle(hw)
    for execution, (payload, expected) in zip(arns, cases, strict=True):
        assert output_of(sfn.describe_execution(executionArn=execution)) == expected, payload
    no_default = {**CHOICE, "States": {**CHOICE["States"]}}
    route = {**CHOICE["States"]["Route"]}  # type: ignore[dict-item]
    del route["Default"]
    no_default["States"]["Route"] = route  # type: ignore[index]
    del no_default["States"]["Other"]  # type: ignore[attr-defined]
    sfn.delete_state_machine(stateMachineArn=arn)
    described = run(hw, sfn, no_default, {**base, "n": 1})
    assert described["error"] == "States.NoChoiceMatched"
    # A rule's Variable that names nothing fails the execution, as on AWS.
    missing = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"n": 12}))
    settle(hw)
    failed = sfn.describe_execution(executionArn=missing["executionArn"])
    assert (failed["status"], failed["error"]) == ("FAILED", "States.Runtime")


def test_parallel_and_map(hw: Headwater, sfn: Any) -> None:
    definition = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a", "End": True}}},
                    {
                        "StartAt": "B",
                        "States": {"B": {"Type": "Pass", "InputPath": "$.items", "End": True}},
                    },
                ],
                "ResultPath": "$.parallel",
                "Next": "Each",
            },
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": 2,
                "ItemSelector": {
                    "value.$": "$$.Map.Item.Value",
                    "index.$": "$$.Map.Item.Index",
                    "factor.$": "$.factor",
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Double",
                    "States": {
                        "Double": {
                            "Type": "Pass",
                            "Parameters": {
                                "n.$": "States.MathAdd($.value, $.factor)",
                                "i.$": "$.index",
                            },
                            "End": True,
                        }
                    },
                },
                "ResultPath": "$.mapped",
                "End": True,
            },
        },
    }
    described = run(hw, sfn, definition, {"items": [1, 2, 3], "factor": 10})
    output = output_of(described)
    assert output["parallel"] == ["a", [1, 2, 3]]
    history = sfn.get_execution_history(executionArn=described["executionArn"], maxResults=1000)
    types = [e["type"] for e in history["events"]]
    assert types.count("MapIterationSucceeded") == 3
    assert {"ParallelStateStarted", "ParallelStateSucceeded", "MapStateSucceeded"} <= set(types)
    iterations = [
        e["mapIterationStartedEventDetails"]
        for e in history["events"]
        if e["type"] == "MapIterationStarted"
    ]
    assert sorted(i["index"] for i in iterations) == [0, 1, 2]
    assert {i["name"] for i in iterations} == {"Each"}
    assert output["mapped"] == [{"n": 11, "i": 0}, {"n": 12, "i": 1}, {"n": 13, "i": 2}]


def test_fail_state_error_and_cause_paths(hw: Headwater, sfn: Any) -> None:
    definition = {
        "StartAt": "Stop",
        "States": {
            "Stop": {
                "Type": "Fail",
                "ErrorPath": "$.code",
                "CausePath": "States.Format('order {} refused', $.order)",
            }
        },
    }
    described = run(hw, sfn, definition, {"code": "Refused", "order": 7})
    assert (described["error"], described["cause"]) == ("Refused", "order 7 refused")


def test_fail_state_and_catch_of_a_branch(hw: Headwater, sfn: Any) -> None:
    definition = {
        "StartAt": "Try",
        "States": {
            "Try": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "Boom",
                        "States": {"Boom": {"Type": "Fail", "Error": "Custom", "Cause": "why"}},
                    }
                ],
                "Catch": [{"ErrorEquals": ["Custom"], "ResultPath": "$.caught", "Next": "Give up"}],
                "End": True,
            },
            "Give up": {"Type": "Fail", "Error": "Final", "Cause": "gave up"},
        },
    }
    described = run(hw, sfn, definition, {"x": 1})
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED", "Final", "gave up",
    )  # fmt: skip
    history = sfn.get_execution_history(executionArn=described["executionArn"])["events"]
    exited = next(e for e in history if e["type"] == "ParallelStateExited")
    assert json.loads(exited["stateExitedEventDetails"]["output"]) == {
        "x": 1,
        "caught": {"Error": "Custom", "Cause": "why"},
    }
    assert history[-1]["executionFailedEventDetails"] == {"error": "Final", "cause": "gave up"}


# ---- tasks through functions and services ----

HANDLERS = """
import json

calls = {"flaky": 0}


class OrderRejected(Exception):
    pass


def double(event, context):
    return {"doubled": event["n"] * 2}


def reject(event, context):
    raise OrderRejected("order " + str(event.get("id")) + " rejected")


def approve(event, context):
    import boto3
    boto3.client("stepfunctions").send_task_success(
        taskToken=event["token"], output=json.dumps({"approved": event["order"]})
    )
    return {"ignored": True}


def slow(event, context):
    import os
    import time
    open(event["started"], "w").close()
    deadline = time.monotonic() + 10
    while not os.path.exists(event["release"]) and time.monotonic() < deadline:
        time.sleep(0.01)
    return {}


def flaky(event, context):
    calls["flaky"] += 1
    if calls["flaky"] < 3:
        raise RuntimeError("not yet")
    return {"attempts": calls["flaky"]}
"""


@pytest.fixture
def with_functions(tmp_path: Path) -> Iterator[Headwater]:
    code = tmp_path / "code"
    code.mkdir()
    (code / "sfn_app.py").write_text(HANDLERS)
    app = Headwater.in_memory(clock=ManualClock(), functions="inline", endpoint_url=ENDPOINT)
    for name in ("double", "reject", "flaky", "slow", "approve"):
        app.lambda_.create_function_from_directory(name, code, f"sfn_app.{name}", timeout=30)
    try:
        yield app
    finally:
        app.close()


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:000000000000:function:{name}"


def test_lambda_tasks_both_ways(with_functions: Headwater) -> None:
    hw = with_functions
    sfn = hw.client("stepfunctions")
    definition = {
        "StartAt": "Direct",
        "States": {
            "Direct": {"Type": "Task", "Resource": function_arn("double"), "Next": "Integrated"},
            "Integrated": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "double", "Payload": {"n.$": "$.doubled"}},
                "ResultSelector": {"value.$": "$.Payload.doubled", "status.$": "$.StatusCode"},
                "End": True,
            },
        },
    }
    described = run(hw, sfn, definition, {"n": 3})
    assert output_of(described) == {"value": 12, "status": 200}
    history = sfn.get_execution_history(executionArn=described["executionArn"])["events"]
    types = [e["type"] for e in history]
    assert types[:6] == [
        "ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled",
        "LambdaFunctionStarted", "LambdaFunctionSucceeded", "TaskStateExited",
    ]  # fmt: skip
    assert "TaskScheduled" in types and "TaskSucceeded" in types
    scheduled = next(e for e in history if e["type"] == "TaskScheduled")
    assert scheduled["taskScheduledEventDetails"]["resourceType"] == "lambda"
    assert scheduled["taskScheduledEventDetails"]["resource"] == "invoke"


def test_function_errors_retry_and_catch(with_functions: Headwater) -> None:
    hw = with_functions
    sfn = hw.client("stepfunctions")
    definition = {
        "StartAt": "Flaky",
        "States": {
            "Flaky": {
                "Type": "Task",
                "Resource": function_arn("flaky"),
                "Retry": [
                    {"ErrorEquals": ["RuntimeError"], "IntervalSeconds": 0, "MaxAttempts": 3}
                ],
                "ResultPath": "$.flaky",
                "Next": "Reject",
            },
            "Reject": {
                "Type": "Task",
                "Resource": function_arn("reject"),
                "Catch": [
                    {
                        "ErrorEquals": ["States.TaskFailed"],
                        "ResultPath": "$.error",
                        "Next": "Handled",
                    }
                ],
                "End": True,
            },
            "Handled": {"Type": "Pass", "End": True},
        },
    }
    output = output_of(run(hw, sfn, definition, {"id": 7}))
    assert output["flaky"] == {"attempts": 3}
    assert output["error"]["Error"] == "OrderRejected"
    cause = json.loads(output["error"]["Cause"])
    assert cause["errorMessage"] == "order 7 rejected"
    assert cause["errorType"] == "OrderRejected"
    uncaught = {
        "StartAt": "Reject",
        "States": {"Reject": {"Type": "Task", "Resource": function_arn("reject"), "End": True}},
    }
    sfn.delete_state_machine(stateMachineArn="arn:aws:states:us-east-1:000000000000:stateMachine:m")
    described = run(hw, sfn, uncaught, {"id": 8})
    assert (described["status"], described["error"]) == ("FAILED", "OrderRejected")


def test_retry_intervals_wait_on_the_clock(with_functions: Headwater) -> None:
    hw = with_functions
    clock = hw.clock
    assert isinstance(clock, ManualClock)
    sfn = hw.client("stepfunctions")
    definition = {
        "StartAt": "Flaky",
        "States": {
            "Flaky": {
                "Type": "Task",
                "Resource": function_arn("flaky"),
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 5, "BackoffRate": 2}],
                "End": True,
            }
        },
    }
    arn = machine(sfn, definition)
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    service = hw.service("stepfunctions")
    assert isinstance(service, StepFunctionsService)
    assert not service.runner.wait_idle(0.3)  # blocked in the first 5 second interval
    clock.advance(5)
    assert not service.runner.wait_idle(0.3)  # now in the 10 second one
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    clock.advance(10)
    settle(hw)
    assert output_of(sfn.describe_execution(executionArn=execution)) == {"attempts": 3}


def test_a_function_answers_its_task_token(with_functions: Headwater) -> None:
    hw = with_functions
    sfn = hw.client("stepfunctions")
    definition = {
        "StartAt": "Approve",
        "States": {
            "Approve": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {
                    "FunctionName": "approve",
                    "Payload": {"token.$": "$$.Task.Token", "order.$": "$.order"},
                },
                "End": True,
            }
        },
    }
    with boto3_in_process(hw):
        described = run(hw, sfn, definition, {"order": 42})
    assert output_of(described) == {"approved": 42}
    machine_view = sfn.describe_state_machine_for_execution(executionArn=described["executionArn"])
    assert json.loads(machine_view["definition"]) == definition
    assert machine_view["name"] == "m"


def test_max_delay_seconds_caps_the_backoff(with_functions: Headwater) -> None:
    hw = with_functions
    clock = hw.clock
    assert isinstance(clock, ManualClock)
    sfn = hw.client("stepfunctions")
    retry = {
        "ErrorEquals": ["RuntimeError"],
        "IntervalSeconds": 5,
        "BackoffRate": 10,
        "MaxDelaySeconds": 7,
    }
    definition = {
        "StartAt": "Flaky",
        "States": {
            "Flaky": {
                "Type": "Task",
                "Resource": function_arn("flaky"),
                "Retry": [retry],
                "End": True,
            }
        },
    }
    execution = sfn.start_execution(stateMachineArn=machine(sfn, definition))["executionArn"]
    service = hw.service("stepfunctions")
    assert isinstance(service, StepFunctionsService)
    assert not service.runner.wait_idle(0.3)
    clock.advance(5)
    assert not service.runner.wait_idle(0.3)
    clock.advance(7)  # 7, not 50: MaxDelaySeconds
    settle(hw)
    assert output_of(sfn.describe_execution(executionArn=execution)) == {"attempts": 3}


def test_task_timeout_on_the_clock(with_functions: Headwater, tmp_path: Path) -> None:
    hw = with_functions
    clock = hw.clock
    assert isinstance(clock, ManualClock)
    sfn = hw.client("stepfunctions")
    definition = {
        "StartAt": "Slow",
        "States": {
            "Slow": {
                "Type": "Task",
                "Resource": function_arn("slow"),
                "TimeoutSecondsPath": "$.limit",
                "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Late"}],
                "End": True,
            },
            "Late": {"Type": "Pass", "Result": "timed out", "End": True},
        },
    }
    arn = machine(sfn, definition)
    started, release = tmp_path / "started", tmp_path / "release"
    payload = {"started": str(started), "release": str(release), "limit": 5}
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload))
    deadline = time.monotonic() + 10
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        clock.advance(4)
        time.sleep(0.1)
        assert sfn.describe_execution(executionArn=execution["executionArn"])["status"] == (
            "RUNNING"
        )
        clock.advance(1)  # the function still runs: 5 clock seconds passed
        settle(hw)
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        assert output_of(described) == "timed out"
    finally:
        release.touch()


def test_service_integrations(hw: Headwater, sfn: Any) -> None:
    queue = hw.client("sqs").create_queue(QueueName="jobs")["QueueUrl"]
    hw.client("dynamodb").create_table(
        TableName="jobs",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    definition = {
        "StartAt": "Send",
        "States": {
            "Send": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage",
                "Parameters": {"QueueUrl": queue, "MessageBody": {"job.$": "$.job"}},
                "ResultPath": "$.sent",
                "Next": "Put",
            },
            "Put": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {"TableName": "jobs", "Item": {"pk": {"S.$": "$.job"}}},
                "ResultPath": None,
                "Next": "Get",
            },
            "Get": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {"TableName": "jobs", "Key": {"pk": {"S.$": "$.job"}}},
                "ResultSelector": {"pk.$": "$.Item.pk.S"},
                "ResultPath": "$.got",
                "Next": "Missing queue",
            },
            "Missing queue": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage",
                "Parameters": {"QueueUrl": queue + "-gone", "MessageBody": "x"},
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "End"}],
                "End": True,
            },
            "End": {"Type": "Succeed"},
        },
    }
    output = output_of(run(hw, sfn, definition, {"job": "j-1"}))
    assert output["got"] == {"pk": "j-1"}
    assert output["sent"]["MessageId"]
    assert output["err"]["Error"].startswith("SQS.")
    message = hw.client("sqs").receive_message(QueueUrl=queue)["Messages"][0]
    assert json.loads(message["Body"]) == {"job": "j-1"}


# ---- .waitForTaskToken ----


def token_machine(queue: str) -> dict[str, Any]:
    return {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {
                    "QueueUrl": queue,
                    "MessageBody": {"token.$": "$$.Task.Token", "order.$": "$.order"},
                },
                "HeartbeatSeconds": 10,
                "Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.why", "Next": "Rejected"}],
                "ResultPath": "$.answer",
                "End": True,
            },
            "Rejected": {"Type": "Pass", "End": True},
        },
    }


def next_token(hw: Headwater, queue: str) -> str:
    """The task token of the next message the machine sends (polled with a deadline)."""
    sqs = hw.client("sqs")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue).get("Messages", [])
        if messages:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=messages[0]["ReceiptHandle"])
            return str(json.loads(messages[0]["Body"])["token"])
        time.sleep(0.01)
    raise AssertionError("the task sent no message")


def test_wait_for_task_token_success_failure_and_heartbeats(
    hw: Headwater, sfn: Any, clock: ManualClock
) -> None:
    queue = hw.client("sqs").create_queue(QueueName="approvals")["QueueUrl"]
    arn = machine(sfn, token_machine(queue))
    approved = sfn.start_execution(stateMachineArn=arn, input='{"order": 1}')["executionArn"]
    token = next_token(hw, queue)
    assert error_of(sfn.send_task_success, taskToken=token, output="{bad")[0] == "InvalidOutput"
    sfn.send_task_heartbeat(taskToken=token)
    sfn.send_task_success(taskToken=token, output='{"ok": true}')
    settle(hw)
    assert output_of(sfn.describe_execution(executionArn=approved)) == {
        "order": 1,
        "answer": {"ok": True},
    }
    types = [e["type"] for e in sfn.get_execution_history(executionArn=approved)["events"]]
    assert "TaskSubmitted" in types and "TaskSucceeded" in types
    assert error_of(sfn.send_task_success, taskToken=token, output="{}") == (
        "TaskTimedOut",
        "Task Timed Out: 'Provided task does not exist anymore'",
    )
    assert error_of(sfn.send_task_failure, taskToken="nope")[0] == "InvalidToken"

    rejected = sfn.start_execution(stateMachineArn=arn, input='{"order": 2}')["executionArn"]
    sfn.send_task_failure(taskToken=next_token(hw, queue), error="Rejected", cause="too big")
    settle(hw)
    assert output_of(sfn.describe_execution(executionArn=rejected))["why"] == {
        "Error": "Rejected",
        "Cause": "too big",
    }

    silent = sfn.start_execution(stateMachineArn=arn, input='{"order": 3}')["executionArn"]
    token = next_token(hw, queue)
    clock.advance(6)
    sfn.send_task_heartbeat(taskToken=token)
    clock.advance(6)  # 6 seconds since the heartbeat: still waiting
    time.sleep(0.1)
    assert sfn.describe_execution(executionArn=silent)["status"] == "RUNNING"
    clock.advance(5)
    settle(hw)
    failed = sfn.describe_execution(executionArn=silent)
    assert (failed["status"], failed["error"]) == ("FAILED", "States.HeartbeatTimeout")


def test_aws_sdk_integrations(hw: Headwater, sfn: Any) -> None:
    hw.client("dynamodb").create_table(
        TableName="jobs",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    hw.client("s3").create_bucket(Bucket="docs")
    hw.client("secretsmanager").create_secret(Name="db", SecretString="hunter2")
    queue = hw.client("sqs").create_queue(QueueName="jobs")["QueueUrl"]

    def task(resource: str, parameters: dict[str, Any], following: str, **more: Any) -> Any:
        return {
            "Type": "Task",
            "Resource": f"arn:aws:states:::aws-sdk:{resource}",
            "Parameters": parameters,
            "Next": following,
            **more,
        }

    def caught(into: str, following: str) -> list[dict[str, Any]]:
        return [{"ErrorEquals": ["States.ALL"], "ResultPath": f"$.{into}", "Next": following}]

    definition = {
        "StartAt": "Put",
        "States": {
            "Put": task(
                "dynamodb:putItem",
                {
                    "TableName": "jobs",
                    "Item": {"pk": {"S.$": "$.job"}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                },
                "Put again",
                ResultPath=None,
            ),
            "Put again": task(
                "dynamodb:putItem",
                {
                    "TableName": "jobs",
                    "Item": {"pk": {"S.$": "$.job"}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                },
                "Get",
                Catch=[
                    {
                        "ErrorEquals": ["DynamoDb.ConditionalCheckFailedException"],
                        "ResultPath": "$.conflict",
                        "Next": "Get",
                    }
                ],
            ),
            "Get": task(
                "dynamodb:getItem",
                {"TableName": "jobs", "Key": {"pk": {"S.$": "$.job"}}},
                "Store",
                ResultSelector={"pk.$": "$.Item.pk.S"},
                ResultPath="$.got",
            ),
            "Store": task(
                "s3:putObject",
                {"Bucket": "docs", "Key": "a.json", "Body": {"job.$": "$.job"}},
                "Read",
                ResultPath=None,
            ),
            "Read": task(
                "s3:getObject",
                {"Bucket": "docs", "Key": "a.json"},
                "Read missing",
                ResultSelector={"doc.$": "States.StringToJson($.Body)"},
                ResultPath="$.read",
            ),
            "Read missing": task(
                "s3:getObject",
                {"Bucket": "docs", "Key": "gone"},
                "Secret",
                Catch=caught("missing", "Secret"),
            ),
            "Secret": task(
                "secretsmanager:getSecretValue",
                {"SecretId": "db"},
                "Send",
                ResultSelector={"value.$": "$.SecretString"},
                ResultPath="$.secret",
            ),
            "Send": task(
                "sqs:sendMessage",
                {"QueueUrl": queue, "MessageBody.$": "$.job"},
                "No queue",
                ResultPath="$.sent",
            ),
            "No queue": task(
                "sqs:getQueueUrl", {"QueueName": "nope"}, "Own", Catch=caught("noqueue", "Own")
            ),
            "Own": task(
                "sfn:describeStateMachine",
                {"StateMachineArn.$": "$$.StateMachine.Id"},
                "Done",
                ResultSelector={"name.$": "$.Name", "type.$": "$.Type"},
                ResultPath="$.own",
            ),
            "Done": {"Type": "Succeed"},
        },
    }
    described = run(hw, sfn, definition, {"job": "j-1"})
    output = output_of(described)
    assert output["conflict"]["Error"] == "DynamoDb.ConditionalCheckFailedException"
    assert output["conflict"]["Cause"].startswith("The conditional request failed (Service:")
    assert "(Service: DynamoDb, Status Code: 400, Request ID: " in output["conflict"]["Cause"]
    assert output["got"] == {"pk": "j-1"}
    assert output["read"] == {"doc": {"job": "j-1"}}
    assert output["missing"]["Error"] == "S3.NoSuchKeyException"
    assert output["secret"] == {"value": "hunter2"}
    assert output["sent"]["MessageId"] and "MD5OfMessageBody" in output["sent"]
    assert output["noqueue"]["Error"] == "Sqs.QueueDoesNotExistException"
    assert output["own"] == {"name": "m", "type": "STANDARD"}
    message = hw.client("sqs").receive_message(QueueUrl=queue)["Messages"][0]
    assert message["Body"] == "j-1"
    history = sfn.get_execution_history(executionArn=described["executionArn"])["events"]
    scheduled = [e["taskScheduledEventDetails"] for e in history if e["type"] == "TaskScheduled"]
    assert (scheduled[0]["resourceType"], scheduled[0]["resource"]) == (
        "aws-sdk:dynamodb",
        "putItem",
    )


@pytest.mark.parametrize(
    ("resource", "parameters", "problem"),
    [
        (
            "aws-sdk:s3:getObject.sync",
            {},
            "SCHEMA_VALIDATION_FAILED: The 'arn:aws:states:::aws-sdk:s3:getObject.sync'"
            " integration pattern is not supported by aws-sdk tasks at /States/T/Resource",
        ),
        (
            "aws-sdk:sqs:frobnicate",
            {},
            "SCHEMA_VALIDATION_FAILED: headwater does not serve the action 'frobnicate' of"
            " 'sqs' (Task resource 'arn:aws:states:::aws-sdk:sqs:frobnicate')"
            " at /States/T/Resource",
        ),
        (
            "aws-sdk:logs:createLogGroup",
            {},
            "headwater does not serve the aws-sdk service 'logs'",  # AWS: cloudwatchlogs
        ),
        (
            "aws-sdk:dynamodb:getItem",
            {"TableName": "t", "Nope.$": "$.x"},
            "SCHEMA_VALIDATION_FAILED: The field 'Nope' is not supported by Step Functions"
            " at /States/T/Parameters",
        ),
    ],
)
def test_aws_sdk_resources_refused_at_create(
    sfn: Any, resource: str, parameters: dict[str, Any], problem: str
) -> None:
    state = {"Type": "Task", "Resource": f"arn:aws:states:::{resource}", "End": True}
    definition = {"StartAt": "T", "States": {"T": {**state, "Parameters": parameters}}}
    code, message = error_of(
        sfn.create_state_machine, name="bad", definition=json.dumps(definition), roleArn=ROLE
    )
    assert (code, problem in message) == ("InvalidDefinition", True), message


def test_aws_sdk_wait_for_task_token(hw: Headwater, sfn: Any) -> None:
    queue = hw.client("sqs").create_queue(QueueName="approvals")["QueueUrl"]
    definition = token_machine(queue)
    definition["States"]["Ask"]["Resource"] = (
        "arn:aws:states:::aws-sdk:sqs:sendMessage.waitForTaskToken"
    )
    # The SDK's MessageBody is text: the object is made JSON text first.
    definition["States"]["Ask"]["Parameters"] = {
        "QueueUrl": queue,
        "MessageBody.$": 'States.Format(\'\\{"token": "{}"\\}\', $$.Task.Token)',
    }
    arn = machine(sfn, definition)
    started = sfn.start_execution(stateMachineArn=arn, input='{"order": 1}')["executionArn"]
    sfn.send_task_success(taskToken=next_token(hw, queue), output='{"ok": true}')
    settle(hw)
    assert output_of(sfn.describe_execution(executionArn=started))["answer"] == {"ok": True}


# ---- nested executions ----


CHILD = {
    "StartAt": "Nap",
    "States": {
        "Nap": {"Type": "Wait", "Seconds": 10, "Next": "Check"},
        "Check": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.n", "NumericLessThan": 0, "Next": "Refuse"}],
            "Default": "Double",
        },
        "Double": {
            "Type": "Pass",
            "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"},
            "End": True,
        },
        "Refuse": {"Type": "Fail", "Error": "Negative", "Cause": "n < 0"},
    },
}


def nested_machine(child: str, pattern: str) -> dict[str, Any]:
    return {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": f"arn:aws:states:::states:startExecution{pattern}",
                "Parameters": {
                    "StateMachineArn": child,
                    "Input": {
                        "n.$": "$.n",
                        "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id",
                    },
                },
                "Catch": [
                    {"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.failed", "Next": "No"}
                ],
                "ResultPath": "$.child",
                "End": True,
            },
            "No": {"Type": "Pass", "End": True},
        },
    }


def status_when_done(hw: Headwater, sfn: Any, clock: ManualClock, arn: str) -> dict[str, Any]:
    """The execution ``arn`` once its child's Wait has passed (polled with a deadline)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        clock.advance(10)
        described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.02)
    raise AssertionError("the parent never ended")


def test_nested_executions_sync_and_sync2(hw: Headwater, sfn: Any, clock: ManualClock) -> None:
    child = machine(sfn, CHILD, name="child")
    as_text = machine(sfn, nested_machine(child, ".sync"), name="as-text")
    as_json = machine(sfn, nested_machine(child, ".sync:2"), name="as-json")

    parent = sfn.start_execution(stateMachineArn=as_json, input='{"n": 21}')["executionArn"]
    called = output_of(status_when_done(hw, sfn, clock, parent))["child"]
    assert called["Status"] == "SUCCEEDED"
    assert called["Output"] == {"doubled": 42}
    assert called["Input"] == {"n": 21, "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": parent}
    assert called["StateMachineArn"] == child
    assert called["StopDate"] >= called["StartDate"] > 10**12  # epoch milliseconds
    assert sfn.describe_execution(executionArn=called["ExecutionArn"])["status"] == "SUCCEEDED"
    types = [e["type"] for e in sfn.get_execution_history(executionArn=parent)["events"]]
    assert types[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]

    parent = sfn.start_execution(stateMachineArn=as_text, input='{"n": 1}')["executionArn"]
    called = output_of(status_when_done(hw, sfn, clock, parent))["child"]
    assert json.loads(called["Output"]) == {"doubled": 2}
    assert isinstance(called["Input"], str)

    parent = sfn.start_execution(stateMachineArn=as_text, input='{"n": -1}')["executionArn"]
    failed = output_of(status_when_done(hw, sfn, clock, parent))["failed"]
    assert failed["Error"] == "States.TaskFailed"
    cause = json.loads(failed["Cause"])
    assert (cause["Status"], cause["Error"], cause["Cause"]) == ("FAILED", "Negative", "n < 0")
    settle(hw)


def test_stopping_a_sync_parent_stops_its_child(hw: Headwater, sfn: Any) -> None:
    child = machine(sfn, CHILD, name="child")
    arn = machine(sfn, nested_machine(child, ".sync"), name="parent")
    parent = sfn.start_execution(stateMachineArn=arn, input='{"n": 1}')["executionArn"]
    deadline = time.monotonic() + 10
    while not sfn.list_executions(stateMachineArn=child)["executions"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    sfn.stop_execution(executionArn=parent)
    settle(hw)
    (started,) = sfn.list_executions(stateMachineArn=child)["executions"]
    assert started["status"] == "ABORTED"


def test_nested_execution_request_response_and_errors(hw: Headwater, sfn: Any) -> None:
    child = machine(sfn, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "c")
    definition = nested_machine(child, "")
    definition["States"]["Call"]["Parameters"]["Name"] = "named"
    definition["States"]["Call"]["Catch"][0]["ErrorEquals"] = [
        "StepFunctions.ExecutionAlreadyExistsException"
    ]
    arn = machine(sfn, definition, name="parent")
    first = sfn.start_execution(stateMachineArn=arn, input='{"n": 1}')["executionArn"]
    settle(hw)
    started = output_of(sfn.describe_execution(executionArn=first))["child"]
    assert started["ExecutionArn"].endswith(":execution:c:named")
    assert isinstance(started["StartDate"], int)
    assert output_of(sfn.describe_execution(executionArn=started["ExecutionArn"])) == {
        "n": 1,
        "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": first,
    }
    # The same name again, for a child that has ended: AWS's error, caught.
    second = sfn.start_execution(stateMachineArn=arn, input='{"n": 2}')["executionArn"]
    settle(hw)
    failed = output_of(sfn.describe_execution(executionArn=second))["failed"]
    assert failed["Error"] == "StepFunctions.ExecutionAlreadyExistsException"


def test_nested_execution_wait_for_task_token(hw: Headwater, sfn: Any) -> None:
    # The child answers its parent itself, through the aws-sdk integration of Step Functions.
    child = machine(
        sfn,
        {
            "StartAt": "Answer",
            "States": {
                "Answer": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::aws-sdk:sfn:sendTaskSuccess",
                    "Parameters": {
                        "TaskToken.$": "$.token",
                        "Output.$": "States.JsonToString($.n)",
                    },
                    "End": True,
                }
            },
        },
        name="answers",
    )
    definition = nested_machine(child, ".waitForTaskToken")
    definition["States"]["Call"]["Parameters"]["Input"] = {
        "n.$": "$.n",
        "token.$": "$$.Task.Token",
    }
    arn = machine(sfn, definition, name="asks")
    started = sfn.start_execution(stateMachineArn=arn, input='{"n": 7}')["executionArn"]
    deadline = time.monotonic() + 10
    while sfn.describe_execution(executionArn=started)["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert output_of(sfn.describe_execution(executionArn=started))["child"] == 7


def test_a_sync_parent_waits_for_the_same_child_after_a_restart(tmp_path: Path) -> None:
    clock = ManualClock()
    app = Headwater(data_dir=tmp_path / "data", clock=clock)
    sfn = app.client("stepfunctions")
    child = machine(sfn, CHILD, name="child")
    arn = machine(sfn, nested_machine(child, ".sync:2"), name="parent")
    parent = sfn.start_execution(stateMachineArn=arn, input='{"n": 4}')["executionArn"]
    deadline = time.monotonic() + 10
    while not sfn.list_executions(stateMachineArn=child)["executions"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    app.close()  # the parent waits for its child, which is parked on its Wait
    app = Headwater(data_dir=tmp_path / "data", clock=clock)
    try:
        sfn = app.client("stepfunctions")
        app.service("stepfunctions")
        described = status_when_done(app, sfn, clock, parent)
        assert output_of(described)["child"]["Output"] == {"doubled": 8}
        # The parent ran its task again, and found the child it had started.
        assert len(sfn.list_executions(stateMachineArn=child)["executions"]) == 1
        settle(app)
    finally:
        app.close()


# ---- crash safety ----


def test_executions_resume_after_a_restart(tmp_path: Path) -> None:
    clock = ManualClock()
    definition = {
        "StartAt": "First",
        "States": {
            "First": {"Type": "Pass", "Result": 1, "ResultPath": "$.first", "Next": "Nap"},
            "Nap": {"Type": "Wait", "Seconds": 100, "Next": "Last"},
            "Last": {"Type": "Pass", "Result": 2, "ResultPath": "$.last", "End": True},
        },
    }
    app = Headwater(data_dir=tmp_path / "data", clock=clock)
    sfn = app.client("stepfunctions")
    arn = machine(sfn, definition)
    parked = sfn.start_execution(stateMachineArn=arn, name="parked")["executionArn"]
    settle(app)
    # An execution that was between states when headwater stopped: stored at "Last".
    interrupted = ExecutionRecord(
        arn="arn:aws:states:us-east-1:000000000000:execution:m:interrupted",
        name="interrupted",
        machine_arn=arn,
        account="000000000000",
        region="us-east-1",
        definition=json.dumps(definition),
        role_arn=ROLE,
        type="STANDARD",
        input="{}",
        started=clock.now(),
        state="Last",
        state_input='{"first": 1}',
    )
    StepFunctionsStore(app.database).put_execution(interrupted)
    app.close()
    app = Headwater(data_dir=tmp_path / "data", clock=clock)
    try:
        _ = app.destinations  # what the engine's start does: services with stored state
        assert app.existing_service("stepfunctions") is not None  # made, and resuming
        settle(app)
        sfn = app.client("stepfunctions")
        assert output_of(sfn.describe_execution(executionArn=interrupted.arn)) == {
            "first": 1,
            "last": 2,
        }
        assert sfn.describe_execution(executionArn=parked)["status"] == "RUNNING"
        clock.advance(100)
        settle(app)
        assert output_of(sfn.describe_execution(executionArn=parked)) == {"first": 1, "last": 2}
        types = [e["type"] for e in sfn.get_execution_history(executionArn=parked)["events"]]
        assert types == [
            "ExecutionStarted", "PassStateEntered", "PassStateExited", "WaitStateEntered",
            "WaitStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded",
        ]  # fmt: skip
    finally:
        app.close()


def test_a_running_execution_resumes_when_headwater_starts(tmp_path: Path) -> None:
    clock = ManualClock()
    definition = {"StartAt": "Last", "States": {"Last": {"Type": "Pass", "End": True}}}
    app = Headwater(data_dir=tmp_path / "data", clock=clock)
    arn = machine(app.client("stepfunctions"), definition)
    service = app.service("stepfunctions")
    assert isinstance(service, StepFunctionsService)
    service.store.put_execution(
        ExecutionRecord(
            arn="arn:aws:states:us-east-1:000000000000:execution:m:crashed",
            name="crashed", machine_arn=arn, account="000000000000", region="us-east-1",
            definition=json.dumps(definition), role_arn=ROLE, type="STANDARD",
            input='{"k": 1}', started=clock.now(), state="Last", state_input='{"k": 1}',
        )
    )  # fmt: skip
    service.runner.close()  # as if headwater died with the execution stored mid-way
    app.close()
    app = Headwater(data_dir=tmp_path / "data", clock=clock)
    try:
        app.client("sqs")  # the engine's start makes the services with stored state
        app.service("stepfunctions")
        settle(app)
        described = app.client("stepfunctions").describe_execution(
            executionArn="arn:aws:states:us-east-1:000000000000:execution:m:crashed"
        )
        assert output_of(described) == {"k": 1}
    finally:
        app.close()


def test_an_execution_another_runner_holds_is_resumed_only_when_its_lease_ends(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    definition = {"StartAt": "Last", "States": {"Last": {"Type": "Pass", "End": True}}}
    app = Headwater(data_dir=tmp_path / "data", clock=clock)
    try:
        sfn = app.client("stepfunctions")
        arn = machine(sfn, definition)
        service = app.service("stepfunctions")
        assert isinstance(service, StepFunctionsService)
        held = ExecutionRecord(
            arn="arn:aws:states:us-east-1:000000000000:execution:m:held",
            name="held", machine_arn=arn, account="000000000000", region="us-east-1",
            definition=json.dumps(definition), role_arn=ROLE, type="STANDARD",
            input="{}", started=clock.now(), state="Last", state_input="{}",
        )  # fmt: skip
        # Another node advances it, its lease good for a minute.
        service.store.put_execution(held, owner="other-node", lease_until=time.time() + 60)
        clock.advance(1)  # a tick: the runner looks for executions nobody holds
        settle(app)
        assert sfn.describe_execution(executionArn=held.arn)["status"] == "RUNNING"
        assert service.store.owner_of(held.arn) == "other-node"
        # The other node died: its lease runs out, and the next tick resumes the execution.
        service.store.renew("other-node", [held.arn], time.time() - 1)
        clock.advance(1)
        settle(app)
        assert output_of(sfn.describe_execution(executionArn=held.arn)) == {}
    finally:
        app.close()
