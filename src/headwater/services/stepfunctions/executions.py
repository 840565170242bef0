"""Executions: start (asynchronously or, for EXPRESS machines, synchronously), describe,
list, stop, the execution history, and the answers to ``.waitForTaskToken`` tasks."""

from __future__ import annotations

import json
import uuid
from typing import Any

from headwater.core.errors import AwsError
from headwater.core.values import as_datetime
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.stepfunctions.interpreter import dumps
from headwater.services.stepfunctions.machines import (
    MachineOperations,
    check_name,
    invalid_arn,
    page,
)
from headwater.services.stepfunctions.runner import ExecutionRunner
from headwater.services.stepfunctions.store import ExecutionRecord, MachineRecord

STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")


def execution_not_found(arn: str) -> AwsError:
    return AwsError("ExecutionDoesNotExist", f"Execution Does Not Exist: '{arn}'")


def _input_text(value: Any) -> str:
    text = "{}" if value is None else str(value)
    try:
        json.loads(text)
    except ValueError as error:
        # AWS: "Invalid State Machine Execution Input: '<parser message>'" (parser text differs).
        raise AwsError(
            "InvalidExecutionInput", f"Invalid State Machine Execution Input: '{error}'"
        ) from None
    return text


class ExecutionOperations(MachineOperations):
    """StartExecution, StartSyncExecution, DescribeExecution, ListExecutions,
    StopExecution and GetExecutionHistory."""

    runner: ExecutionRunner

    def _new_execution(
        self, params: Params, ctx: RequestContext, machine: MachineRecord, *, express: bool
    ) -> ExecutionRecord:
        name = check_name(params.get("name") or uuid.uuid4())
        kind = "express" if express else "execution"
        arn = f"arn:aws:states:{ctx.region}:{ctx.account}:{kind}:{machine.name}:{name}"
        if express:
            arn += f":{uuid.uuid4()}"
        input_text = _input_text(params.get("input"))
        now = self.env.clock.now()
        definition = json.loads(machine.definition)
        record = ExecutionRecord(
            arn=arn,
            name=name,
            machine_arn=machine.arn,
            account=ctx.account,
            region=ctx.region,
            definition=machine.definition,
            role_arn=machine.role_arn,
            type=machine.type,
            input=input_text,
            started=now,
            state=str(definition["StartAt"]),
            state_input=dumps(json.loads(input_text)),
        )
        record.history.append(
            {
                "timestamp": now,
                "type": "ExecutionStarted",
                "id": 1,
                "previousEventId": 0,
                "executionStartedEventDetails": {
                    "input": input_text,
                    "inputDetails": {"truncated": False},
                    "roleArn": machine.role_arn,
                },
            }
        )
        return record

    @operation("StartExecution")
    def start_execution(self, params: Params, ctx: RequestContext) -> Result:
        machine = self.machine(ctx, params["stateMachineArn"])
        record = self._new_execution(params, ctx, machine, express=machine.type == "EXPRESS")
        with self.store.db.transaction():
            existing = self.store.get_execution(record.arn)
            if existing is not None:
                # AWS: the same name and input while it runs starts nothing and answers it.
                if existing.status == "RUNNING" and existing.input == record.input:
                    return {
                        "executionArn": existing.arn,
                        "startDate": as_datetime(existing.started),
                    }
                raise AwsError(
                    "ExecutionAlreadyExists", f"Execution Already Exists: '{record.arn}'"
                )
            self.store.put_execution(
                record, owner=self.runner.node, lease_until=self.runner.lease()
            )
        self.runner.run(record)
        return {"executionArn": record.arn, "startDate": as_datetime(record.started)}

    @operation("StartSyncExecution")
    def start_sync_execution(self, params: Params, ctx: RequestContext) -> Result:
        machine = self.machine(ctx, params["stateMachineArn"])
        if machine.type != "EXPRESS":
            raise AwsError(
                "StateMachineTypeNotSupported",
                "This operation is not supported by this type of state machine",
            )  # guessed text
        record = self._new_execution(params, ctx, machine, express=True)
        self.store.put_execution(record, owner=self.runner.node, lease_until=self.runner.lease())
        final = self.runner.run_here(record)
        result = self._view(final)
        result.pop("redriveCount", None)
        return result

    def execution(self, arn: Any) -> ExecutionRecord:
        text = str(arn)
        if not text.startswith("arn:aws:states:") or not (
            ":execution:" in text or ":express:" in text
        ):
            raise invalid_arn(text)
        found = self.store.get_execution(text)
        if found is None:
            raise execution_not_found(text)
        return found

    def _view(self, record: ExecutionRecord) -> Result:
        view: Result = {
            "executionArn": record.arn,
            "stateMachineArn": record.machine_arn,
            "name": record.name,
            "status": record.status,
            "startDate": as_datetime(record.started),
            "input": record.input,
            "inputDetails": {"included": True},
            "redriveCount": 0,
        }
        if record.stopped is not None:
            view["stopDate"] = as_datetime(record.stopped)
        if record.output is not None:
            view["output"] = record.output
            view["outputDetails"] = {"included": True}
        if record.error is not None:
            view["error"] = record.error
        if record.cause is not None:
            view["cause"] = record.cause
        return view

    @operation("DescribeStateMachineForExecution")
    def describe_state_machine_for_execution(self, params: Params, ctx: RequestContext) -> Result:
        """The machine as the execution runs it (its definition when it started)."""
        record = self.execution(params["executionArn"])
        return {
            "stateMachineArn": record.machine_arn,
            "name": record.machine_arn.rsplit(":", 1)[-1],
            "definition": record.definition,
            "roleArn": record.role_arn,
            "updateDate": as_datetime(record.started),
        }

    @operation("DescribeExecution")
    def describe_execution(self, params: Params, ctx: RequestContext) -> Result:
        return self._view(self.execution(params["executionArn"]))

    @operation("ListExecutions")
    def list_executions(self, params: Params, ctx: RequestContext) -> Result:
        if "stateMachineArn" not in params:
            raise AwsError(
                "ValidationException", "Must provide a StateMachine ARN or MapRun ARN"
            )  # guessed text
        machine = self.machine(ctx, params["stateMachineArn"])
        if machine.type == "EXPRESS":
            # AWS keeps no list of EXPRESS executions (the text is guessed).
            raise AwsError(
                "StateMachineTypeNotSupported",
                "This operation is not supported by this type of state machine",
            )
        wanted = params.get("statusFilter")
        if wanted is not None and wanted not in STATUSES:
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{wanted}' at 'statusFilter' failed to"
                f" satisfy constraint: Member must satisfy enum value set: [{', '.join(STATUSES)}]",
            )
        records = [
            r for r in self.store.executions(machine.arn) if wanted is None or r.status == wanted
        ]
        shown, token = page(records, params)
        items = []
        for record in shown:
            item: Result = {
                "executionArn": record.arn,
                "stateMachineArn": record.machine_arn,
                "name": record.name,
                "status": record.status,
                "startDate": as_datetime(record.started),
            }
            if record.stopped is not None:
                item["stopDate"] = as_datetime(record.stopped)
            items.append(item)
        result: Result = {"executions": items}
        if token:
            result["nextToken"] = token
        return result

    @operation("StopExecution")
    def stop_execution(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.db.transaction():
            record = self.execution(params["executionArn"])
            record = self.store.get_execution(record.arn, for_update=True) or record
            if record.status != "RUNNING":
                # AWS leaves a finished execution as it is (answer guessed: its stop date).
                return {"stopDate": as_datetime(record.stopped or record.started)}
            now = self.env.clock.now()
            record.status, record.stopped, record.wake_at, record.state = "ABORTED", now, None, None
            details = {}
            if params.get("error") is not None:
                record.error = details["error"] = str(params["error"])
            if params.get("cause") is not None:
                record.cause = details["cause"] = str(params["cause"])
            record.history.append(
                {
                    "timestamp": now,
                    "type": "ExecutionAborted",
                    "id": len(record.history) + 1,
                    "previousEventId": len(record.history),
                    "executionAbortedEventDetails": details,
                }
            )
            self.store.put_execution(record)
        self.runner.stop(record.arn)
        return {"stopDate": as_datetime(now)}

    # ---- task tokens ----

    def _answer(self, params: Params, status: str, outcome: dict[str, Any]) -> Result:
        token = str(params["taskToken"])
        found = self.store.get_token(token)
        if found is None:
            raise AwsError("InvalidToken", "Invalid Token: 'Invalid token'")  # guessed text
        if found[0] != "WAITING" or not self.store.answer_token(token, status, outcome):
            raise AwsError("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")
        self.runner.tokens.wake(token)
        return {}

    @operation("SendTaskSuccess")
    def send_task_success(self, params: Params, ctx: RequestContext) -> Result:
        output = str(params["output"])
        try:
            json.loads(output)
        except ValueError as error:
            raise AwsError("InvalidOutput", f"Invalid Output: '{error}'") from None  # guessed
        return self._answer(params, "SUCCEEDED", {"output": output})

    @operation("SendTaskFailure")
    def send_task_failure(self, params: Params, ctx: RequestContext) -> Result:
        outcome = {"error": params.get("error"), "cause": params.get("cause")}
        return self._answer(params, "FAILED", outcome)

    @operation("SendTaskHeartbeat")
    def send_task_heartbeat(self, params: Params, ctx: RequestContext) -> Result:
        token = str(params["taskToken"])
        found = self.store.get_token(token)
        if found is None:
            raise AwsError("InvalidToken", "Invalid Token: 'Invalid token'")  # guessed text
        if not self.store.beat_token(token, self.env.clock.now()):
            raise AwsError("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")
        return {}

    @operation("GetExecutionHistory")
    def get_execution_history(self, params: Params, ctx: RequestContext) -> Result:
        record = self.execution(params["executionArn"])
        events = [
            {**event, "timestamp": as_datetime(float(event["timestamp"]))}
            for event in record.history
        ]
        if params.get("reverseOrder"):
            events.reverse()
        if params.get("includeExecutionData") is False:
            for event in events:
                for value in event.values():
                    if isinstance(value, dict):
                        for key in ("input", "output"):
                            value.pop(key, None)
        shown, token = page(events, params)
        result: Result = {"events": shown}
        if token:
            result["nextToken"] = token
        return result
