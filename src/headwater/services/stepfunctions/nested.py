"""Nested executions: ``arn:aws:states:::states:startExecution`` and its ``.sync``,
``.sync:2`` and ``.waitForTaskToken`` patterns.

Parameters are StartExecution's in PascalCase: ``StateMachineArn``, ``Input`` (an object
is sent as its JSON text; none is ``{}``) and ``Name``. Request-response answers
``{ExecutionArn, StartDate}``; ``.sync`` waits (the interpreter does, on the clock) and
answers the child as DescribeExecution shows it in PascalCase, ``Input`` and ``Output``
as JSON text, ``.sync:2`` the same with both as JSON. Dates are epoch milliseconds, as
AWS's Java serialiser writes them (AWS's examples; for request-response guessed). A
child that does not succeed fails the task with ``States.TaskFailed``, the cause that
view of the child as JSON text. ``AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID`` in the
child's input is the caller's to add (``"...ID.$": "$$.Execution.Id"``), as on AWS.

A StartExecution error fails the task with ``StepFunctions.<Exception>``
(``StepFunctions.StateMachineDoesNotExistException``; AWS documents
``StepFunctions.ExecutionAlreadyExistsException``).

A task that names no child gets a name derived from where the parent is (its ARN, the
top-level state it is in, the state, Map item and retry), so a parent that runs the
state again after a restart finds the child it started before rather than starting a
second one (``.waitForTaskToken`` children excepted: the state sends a new token, so it
starts a new child).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from headwater.core.errors import AwsError
from headwater.services.base import RequestContext, ServiceEnvironment
from headwater.services.stepfunctions.failures import RUNTIME, StatesError
from headwater.services.stepfunctions.sdk_integration import java_exception_name
from headwater.services.stepfunctions.store import ExecutionRecord

START_EXECUTION = "arn:aws:states:::states:startExecution"
#: The patterns that wait for the child to end: Output as text, Output as JSON.
SYNC_PATTERNS = (".sync", ".sync:2")
NESTED_RESOURCES = frozenset(
    START_EXECUTION + suffix for suffix in ("", *SYNC_PATTERNS, ".waitForTaskToken")
)


def child_name(parent_arn: str, *where: Any) -> str:
    """The name of a child the task names none for: the same each time the parent runs
    the task from the same place."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "|".join([parent_arn, *map(str, where)])))


def start_child(
    env: ServiceEnvironment, ctx: RequestContext, parameters: Any, name: str | None
) -> dict[str, Any]:
    """Start the child execution ``parameters`` ask for (named ``name`` unless they name
    it); ``{ExecutionArn, StartDate}``. A child of a derived name that exists already is
    the one this task started before a restart: it is answered, not started again."""
    if not isinstance(parameters, dict) or "StateMachineArn" not in parameters:
        # AWS refuses this at creation; headwater finds it here (guessed text).
        raise StatesError(RUNTIME, "The field 'StateMachineArn' is required")
    given = parameters.get("Input", {})
    request = {
        "stateMachineArn": str(parameters["StateMachineArn"]),
        "input": given if isinstance(given, str) else json.dumps(given),
    }
    derived = parameters.get("Name") is None and name is not None
    if parameters.get("Name") is not None or name is not None:
        request["name"] = str(parameters.get("Name") or name)
    service = env.service("stepfunctions")
    try:
        started = service.call("StartExecution", request, ctx)
        arn, start = str(started["executionArn"]), started["startDate"].timestamp()
    except AwsError as error:
        if not derived or error.code != "ExecutionAlreadyExists":
            raise StatesError(
                f"StepFunctions.{java_exception_name(error.code)}", error.message
            ) from None
        machine = request["stateMachineArn"]
        existing = service.call(
            "DescribeExecution",
            {"executionArn": f"{machine.replace(':stateMachine:', ':execution:')}:{name}"},
            ctx,
        )
        arn, start = str(existing["executionArn"]), existing["startDate"].timestamp()
    return {"ExecutionArn": arn, "StartDate": int(start * 1000)}


def child_view(record: ExecutionRecord, *, as_json: bool) -> dict[str, Any]:
    """An ended child as a ``.sync`` task answers it (``as_json``: ``.sync:2``)."""

    def data(text: str) -> Any:
        return json.loads(text) if as_json else text

    view: dict[str, Any] = {
        "ExecutionArn": record.arn,
        "Input": data(record.input),
        "InputDetails": {"Included": True},
        "Name": record.name,
        "StartDate": int(record.started * 1000),
        "StateMachineArn": record.machine_arn,
        "Status": record.status,
    }
    if record.stopped is not None:
        view["StopDate"] = int(record.stopped * 1000)
    if record.output is not None:
        view["Output"] = data(record.output)
        view["OutputDetails"] = {"Included": True}
    if record.error is not None:
        view["Error"] = record.error
    if record.cause is not None:
        view["Cause"] = record.cause
    return view
