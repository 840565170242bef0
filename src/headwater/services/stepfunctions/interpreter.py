"""Running an execution: the Amazon States Language interpreter.

``ExecutionRun.advance()`` runs an execution's top-level states one after another from
where its record says it is, storing the record (position, history) after every
transition through ``checkpoint``. A top-level Wait *parks* the execution: its wake time
is stored and the thread ends; the service's ticker resumes it when the clock gets there.
Inside a Parallel branch or a Map iteration a Wait (and every Retry interval) blocks the
branch's thread on the clock instead, so a restart re-runs such a Parallel or Map state
from its start (its branches' progress is not stored), as it re-runs a Task that was
running when headwater stopped.

Each state follows the States Language's processing order (``paths``): InputPath,
Parameters, the work, ResultSelector, Assign, ResultPath, OutputPath; a state whose query
language is JSONata (``jsonata_query``) takes Arguments, the work, then Output and Assign.
Retry and Catch apply to Task, Parallel and Map states. Variables (``variables``) are
assigned when a state is left and shown in its ``...StateExited`` event.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import copy
import datetime as dt
import functools
import json
import threading
from collections.abc import Callable
from typing import Any

from headwater.core.clock import Clock
from headwater.core.errors import AwsError
from headwater.services.base import RequestContext, ServiceEnvironment
from headwater.services.stepfunctions.choice import parse_timestamp, rule_matches
from headwater.services.stepfunctions.failures import (
    DATA_LIMIT_EXCEEDED,
    RUNTIME,
    TASK_FAILED,
    TIMEOUT,
    StatesError,
    error_matches,
)
from headwater.services.stepfunctions.intrinsics import evaluate_intrinsic
from headwater.services.stepfunctions.jsonata_query import (
    JSONATA,
    JSONPATH,
    QueryEvaluationFailed,
    clock_functions,
    evaluate,
    is_expression,
    resolve,
)
from headwater.services.stepfunctions.nested import (
    NESTED_RESOURCES,
    SYNC_PATTERNS,
    child_name,
    child_view,
)
from headwater.services.stepfunctions.paths import (
    VARIABLES_KEY,
    public_context,
    put_result,
    resolve_template,
    select,
)
from headwater.services.stepfunctions.store import ExecutionRecord
from headwater.services.stepfunctions.tasks import (
    WAIT_FOR_TASK_TOKEN,
    resource_type_and_name,
    run_task,
)
from headwater.services.stepfunctions.tokens import TaskTokens
from headwater.services.stepfunctions.variables import (
    VariableScope,
    assigned_variables,
    scope_of,
    with_scope,
)

#: Real seconds between looks at the clock while a branch waits (a ManualClock moves only
#: when a test advances it, so the waiting thread looks again shortly).
_CLOCK_POLL_SECONDS = 0.02
#: The largest state output, in bytes of its JSON text (AWS's 256 KiB payload quota).
MAX_PAYLOAD_BYTES = 262144
#: Most iterations of a Map state run at once when MaxConcurrency is 0 (unbounded).
MAX_MAP_THREADS = 40


class Aborted(Exception):
    """The execution was stopped (StopExecution) or headwater is closing."""


def iso(epoch: float) -> str:
    stamp = dt.datetime.fromtimestamp(epoch, dt.UTC)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _text(value: Any) -> str:
    """A Fail state's Error or Cause: a string as it is, anything else as its JSON."""
    return value if isinstance(value, str) else dumps(value)


def _note_languages(machine: dict[str, Any], inherited: str, found: dict[int, str]) -> None:
    """Note in ``found`` the query language of each state of ``machine`` and its branches:
    the state's own ``QueryLanguage``, else its machine's, else the enclosing machine's."""
    language = machine.get("QueryLanguage", inherited)
    for state in (machine.get("States") or {}).values():
        if not isinstance(state, dict):
            continue
        found[id(state)] = state.get("QueryLanguage", language)
        inner = [
            *(state.get("Branches") or []),
            state.get("ItemProcessor") or state.get("Iterator"),
        ]
        for branch in inner:
            if isinstance(branch, dict):
                _note_languages(branch, language, found)


class ExecutionRun:
    """One execution being advanced by one thread."""

    def __init__(
        self,
        env: ServiceEnvironment,
        record: ExecutionRecord,
        checkpoint: Callable[[ExecutionRecord], bool],
        stop: threading.Event,
        tokens: TaskTokens,
        *,
        park_waits: bool = True,
    ) -> None:
        self.env = env
        self.clock: Clock = env.clock
        self.record = record
        self.ctx = RequestContext(region=record.region, account=record.account)
        self.checkpoint = checkpoint
        self.stop = stop
        self.tokens = tokens
        #: Whether a top-level Wait parks the execution (StartSyncExecution blocks instead).
        self.park_waits = park_waits
        self._lock = threading.Lock()
        #: The history's length when the top-level state now running was entered.
        self._anchor = len(record.history)
        self.definition: dict[str, Any] = json.loads(record.definition)
        #: The query language of each state of the definition (by ``id``).
        self._languages: dict[int, str] = {}
        _note_languages(self.definition, JSONPATH, self._languages)

    # ---- history ----

    def emit(self, kind: str, details_key: str, details: dict[str, Any]) -> None:
        with self._lock:
            history = self.record.history
            event: dict[str, Any] = {
                "timestamp": self.clock.now(),
                "type": kind,
                "id": len(history) + 1,
                "previousEventId": len(history),
            }
            if details_key:
                event[details_key] = details
            history.append(event)

    def context_object(self) -> dict[str, Any]:
        """The context object of the top level, with the top level's variables (the
        execution record's, so they are stored with it)."""
        record = self.record
        return {
            "Execution": {
                "Id": record.arn,
                "Input": json.loads(record.input),
                "Name": record.name,
                "RoleArn": record.role_arn,
                "StartTime": iso(record.started),
            },
            "StateMachine": {"Id": record.machine_arn, "Name": record.machine_arn.split(":")[-1]},
            VARIABLES_KEY: VariableScope(record.variables),
        }

    def _jsonata(self, state: dict[str, Any]) -> bool:
        return self._languages.get(id(state)) == JSONATA

    def _bindings(self, context: dict[str, Any], **states: Any) -> dict[str, Any]:
        """A JSONata expression's ``$`` names: the variables in scope and ``$states``."""
        return {
            **clock_functions(self.clock.now()),
            **scope_of(context).visible(),
            "states": {"context": public_context(context), **states},
        }

    # ---- the top level ----

    def advance(self) -> None:
        """Run the execution until it ends, parks on a Wait, or is stopped."""
        record = self.record
        states: dict[str, Any] = self.definition["States"]
        try:
            while record.state is not None:
                if self.stop.is_set():
                    return
                deadline = self.deadline()
                if deadline is not None and self.clock.now() >= deadline:
                    # Looked at between top-level states (a running state ends first).
                    self.finish("TIMED_OUT", error="States.Timeout", cause="")
                    return
                name = record.state
                state = states[name]
                # Where the execution is, the same when a restart runs this state again.
                self._anchor = len(record.history)
                data = json.loads(record.state_input or "{}")
                if state["Type"] == "Wait" and self.park_waits:
                    if not self._top_level_wait(states, name, data):
                        return  # parked
                    continue
                following, output = self.run_state(states, name, data, self.context_object())
                record.state, record.state_input = following, dumps(output)
                if following is None:
                    self.finish("SUCCEEDED", output=dumps(output))
                    return
                if not self.checkpoint(record):
                    return
        except StatesError as failed:
            self.finish("FAILED", error=failed.error, cause=failed.cause)
        except Aborted:
            return

    def deadline(self) -> float | None:
        """When the execution times out (the definition's TimeoutSeconds), if it does."""
        seconds = self.definition.get("TimeoutSeconds")
        return None if seconds is None else self.record.started + float(seconds)

    def _top_level_wait(self, states: dict[str, Any], name: str, data: Any) -> bool:
        """Enter (and park on) or leave a top-level Wait; ``True`` when it is over."""
        record = self.record
        state = states[name]
        context = self.context_object()
        if record.wake_at is None:
            self.emit(
                "WaitStateEntered", "stateEnteredEventDetails", {"name": name, "input": dumps(data)}
            )
            entered = {"Name": name, "EnteredTime": iso(self.clock.now()), "RetryCount": 0}
            wake = self._wake_time(state, data, {**context, "State": entered})
            if wake > self.clock.now():
                deadline = self.deadline()
                record.wake_at = wake if deadline is None else min(wake, deadline)
                self.checkpoint(record)
                return False
        record.wake_at = None
        following, output = self.run_state(states, name, data, context, waited=True)
        record.state, record.state_input = following, dumps(output)
        if following is None:
            self.finish("SUCCEEDED", output=dumps(output))
            return False
        return self.checkpoint(record)

    def finish(self, status: str, **outcome: Any) -> None:
        record = self.record
        record.status = status
        record.stopped = self.clock.now()
        record.state = None
        record.wake_at = None
        for key, value in outcome.items():
            setattr(record, key, value)
        if status == "SUCCEEDED":
            self.emit(
                "ExecutionSucceeded", "executionSucceededEventDetails", {"output": record.output}
            )
        elif status == "TIMED_OUT":
            details = {"error": record.error, "cause": record.cause}
            self.emit("ExecutionTimedOut", "executionTimedOutEventDetails", details)
        else:
            details = {"error": record.error, "cause": record.cause}
            self.emit("ExecutionFailed", "executionFailedEventDetails", details)
        self.checkpoint(record)

    # ---- states ----

    def run_machine(self, machine: dict[str, Any], data: Any, context: dict[str, Any]) -> Any:
        """Run a branch or Map iteration to its end; its output."""
        states: dict[str, Any] = machine["States"]
        name: str | None = machine["StartAt"]
        while name is not None:
            if self.stop.is_set():
                raise Aborted
            name, data = self.run_state(states, name, data, context)
        return data

    def run_state(
        self,
        states: dict[str, Any],
        name: str,
        raw: Any,
        base_context: dict[str, Any],
        *,
        waited: bool = False,
    ) -> tuple[str | None, Any]:
        """Run state ``name`` on its raw input: (the next state or ``None``, its output).
        ``waited``: a top-level Wait whose time has come (entered before it parked)."""
        state = states[name]
        kind = state["Type"]
        context = {
            **base_context,
            "State": {"Name": name, "EnteredTime": iso(self.clock.now()), "RetryCount": 0},
        }
        if not waited:
            self.emit(
                f"{kind}StateEntered",
                "stateEnteredEventDetails",
                {"name": name, "input": dumps(raw)},
            )
        try:
            if kind == "Fail":
                raise StatesError(*self._fail_fields(state, raw, context))
            output, following, assigned = self._process(state, raw, context, waited=waited)
        except StatesError as failed:
            if isinstance(failed, QueryEvaluationFailed):
                self.emit(
                    "EvaluationFailed",
                    "evaluationFailedEventDetails",
                    {
                        "state": name,
                        "error": failed.error,
                        "cause": failed.cause,
                        "location": failed.location,
                    },
                )
            index = next(
                (
                    i
                    for i, c in enumerate(state.get("Catch") or [])
                    if error_matches(c["ErrorEquals"], failed.error)
                ),
                None,
            )
            if index is None or kind not in ("Task", "Parallel", "Map"):
                raise
            catcher = state["Catch"][index]
            problem = {"Error": failed.error, "Cause": failed.cause}
            output, assigned = self._caught(state, index, raw, problem, context)
            following = str(catcher["Next"])
        if len(dumps(output).encode()) > MAX_PAYLOAD_BYTES:
            # A terminal error: no Retry or Catch applies (AWS docs; its text as AWS words it).
            raise StatesError(
                DATA_LIMIT_EXCEEDED,
                f"The state/task '{name}' returned a result with a size exceeding the maximum"
                " number of bytes service limit.",
            )
        scope_of(context).assign(assigned)
        details = {"name": name, "output": dumps(output)}
        if assigned:
            details.update(assigned_variables(assigned))
        self.emit(f"{kind}StateExited", "stateExitedEventDetails", details)
        return following, output

    def _caught(
        self,
        state: dict[str, Any],
        index: int,
        raw: Any,
        problem: dict[str, str],
        context: dict[str, Any],
    ) -> tuple[Any, dict[str, Any]]:
        """A Catcher's output and what it assigns: the error output placed at its
        ResultPath, or its JSONata ``Output`` (``$states.errorOutput`` by default)."""
        catcher: dict[str, Any] = state["Catch"][index]
        if self._jsonata(state):
            bindings = self._bindings(context, input=raw, errorOutput=problem)
            where = f"Catch[{index}]/"
            return self._output_and_assign(catcher, problem, bindings, where)
        output = put_result(catcher.get("ResultPath", "$"), raw, problem)
        return output, self._assign_jsonpath(catcher, problem, context)

    def _fail_fields(self, state: dict[str, Any], raw: Any, context: Any) -> tuple[str, str]:
        """A Fail state's Error and Cause."""
        if self._jsonata(state):
            bindings = self._bindings(context, input=raw)
            error = resolve(state.get("Error", "States.Fail"), "Error", bindings)
            cause = resolve(state.get("Cause", ""), "Cause", bindings)
            return _text(error), _text(cause)
        return (
            self._fail_field(state, "Error", raw, context, "States.Fail"),
            self._fail_field(state, "Cause", raw, context, ""),
        )

    def _fail_field(
        self, state: dict[str, Any], field: str, raw: Any, context: Any, default: str
    ) -> str:
        """A Fail state's Error or Cause: given, or from ``ErrorPath``/``CausePath`` (a path
        or an intrinsic function). With neither, the error is named States.Fail (guessed:
        AWS leaves it empty)."""
        source = state.get(f"{field}Path")
        if source is None:
            return str(state.get(field, default))
        if str(source).startswith("$"):
            value = select(str(source), raw, context, f"{field}Path")
        else:
            value = evaluate_intrinsic(str(source), raw, context)
        return _text(value)

    def _assign_jsonpath(
        self, holder: dict[str, Any], value: Any, context: dict[str, Any]
    ) -> dict[str, Any]:
        """What a JSONPath state's (or rule's, or catcher's) ``Assign`` sets, ``$`` being
        ``value``."""
        if "Assign" not in holder:
            return {}
        assigned: dict[str, Any] = resolve_template(holder["Assign"], value, context)
        return assigned

    def _output_and_assign(
        self, holder: dict[str, Any], default: Any, bindings: dict[str, Any], where: str = ""
    ) -> tuple[Any, dict[str, Any]]:
        """A JSONata state's (or rule's, or catcher's) output (``Output``, else
        ``default``) and what its ``Assign`` sets; both see the variables as they were
        when the state was entered."""
        output = (
            resolve(holder["Output"], f"{where}Output", bindings) if "Output" in holder else default
        )
        assigned = resolve(holder.get("Assign") or {}, f"{where}Assign", bindings)
        return output, assigned

    def _process(
        self, state: dict[str, Any], raw: Any, context: dict[str, Any], *, waited: bool
    ) -> tuple[Any, str | None, dict[str, Any]]:
        """(output, next state, variables assigned) of a state that is not a Fail."""
        if self._jsonata(state):
            return self._process_jsonata(state, raw, context, waited=waited)
        kind = state["Type"]
        following = None if state.get("End") else state.get("Next")
        effective = select(state.get("InputPath", "$"), raw, context, "InputPath")
        if kind == "Choice":
            rule = next(
                (rule for rule in state["Choices"] if rule_matches(rule, effective, context)),
                None,
            )
            # A rule's Assign when it matched, the state's own when Default is taken.
            holder = state if rule is None else rule
            following = state.get("Default") if rule is None else rule["Next"]
            if following is None:
                raise StatesError(
                    "States.NoChoiceMatched", f"No Matches! (input: {dumps(effective)})"
                )
            assigned = self._assign_jsonpath(holder, effective, context)
            output = select(state.get("OutputPath", "$"), effective, context, "OutputPath")
            return output, following, assigned
        if kind in ("Wait", "Succeed"):
            if kind == "Wait" and not waited:
                self._block_until(self._wake_time(state, raw, context))
            assigned = self._assign_jsonpath(state, effective, context)
            output = select(state.get("OutputPath", "$"), effective, context, "OutputPath")
            return output, following, assigned
        limits = self._task_limits(state, effective, context) if kind == "Task" else {}
        if kind == "Task" and str(state["Resource"]).endswith(WAIT_FOR_TASK_TOKEN):
            context["Task"] = {"Token": self.tokens.issue()}
        if "Parameters" in state and kind != "Map":  # a Map's Parameters select each item
            effective = resolve_template(state["Parameters"], effective, context)
        if kind == "Pass":
            result = state.get("Result", effective)
        else:
            result = self._with_retries(state, effective, context, limits)
            if "ResultSelector" in state:
                result = resolve_template(state["ResultSelector"], result, context)
        assigned = self._assign_jsonpath(state, result, context)
        placed = put_result(state.get("ResultPath", "$"), raw, result)
        output = select(state.get("OutputPath", "$"), placed, context, "OutputPath")
        return output, following, assigned

    def _process_jsonata(
        self, state: dict[str, Any], raw: Any, context: dict[str, Any], *, waited: bool
    ) -> tuple[Any, str | None, dict[str, Any]]:
        """A JSONata state: Arguments, the work, then Output and Assign (both with
        ``$states.result``)."""
        kind = state["Type"]
        following = None if state.get("End") else state.get("Next")
        bindings = self._bindings(context, input=raw)
        if kind == "Choice":
            for index, rule in enumerate(state["Choices"]):
                where = f"Choices[{index}]/"
                if self._condition(rule.get("Condition"), f"{where}Condition", bindings):
                    output, assigned = self._output_and_assign(rule, raw, bindings, where)
                    return output, str(rule["Next"]), assigned
            if state.get("Default") is None:
                raise StatesError("States.NoChoiceMatched", f"No Matches! (input: {dumps(raw)})")
            output, assigned = self._output_and_assign(state, raw, bindings)
            return output, str(state["Default"]), assigned
        if kind in ("Wait", "Succeed", "Pass"):
            if kind == "Wait" and not waited:
                self._block_until(self._wake_time(state, raw, context))
            output, assigned = self._output_and_assign(state, raw, bindings)
            return output, following, assigned
        limits = self._task_limits(state, raw, context) if kind == "Task" else {}
        if kind == "Task" and str(state["Resource"]).endswith(WAIT_FOR_TASK_TOKEN):
            context["Task"] = {"Token": self.tokens.issue()}
            bindings = self._bindings(context, input=raw)
        effective = raw
        if "Arguments" in state:
            effective = resolve(state["Arguments"], "Arguments", bindings)
        result = self._with_retries(state, effective, context, limits)
        bindings = self._bindings(context, input=raw, result=result)
        output, assigned = self._output_and_assign(state, result, bindings)
        return output, following, assigned

    def _condition(self, condition: Any, where: str, bindings: dict[str, Any]) -> bool:
        value = evaluate(condition, where, bindings) if is_expression(condition) else condition
        if not isinstance(value, bool):
            raise QueryEvaluationFailed(
                f"The Condition at '{where}' must evaluate to a boolean, not {dumps(value)}",
                where,
            )  # guessed text
        return value

    def _task_limits(
        self, state: dict[str, Any], effective: Any, context: dict[str, Any]
    ) -> dict[str, float]:
        """A Task's TimeoutSeconds and HeartbeatSeconds, given, read from its input
        (``TimeoutSecondsPath``, ``HeartbeatSecondsPath``) or JSONata expressions."""
        limits: dict[str, float] = {}
        for field in ("TimeoutSeconds", "HeartbeatSeconds"):
            value = state.get(field)
            if is_expression(value):
                value = evaluate(str(value), field, self._bindings(context, input=effective))
            if f"{field}Path" in state:
                value = select(state[f"{field}Path"], effective, context, f"{field}Path")
            if value is None:
                continue
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise StatesError(RUNTIME, f"Invalid {field} value: {dumps(value)}")  # guessed
            limits[field] = float(value)
        return limits

    def _work(
        self,
        state: dict[str, Any],
        effective: Any,
        context: dict[str, Any],
        limits: dict[str, float],
    ) -> Any:
        kind = state["Type"]
        if kind == "Task":
            timeout = limits.get("TimeoutSeconds")
            if "Task" in context:
                return self._wait_for_token(state, effective, context["Task"]["Token"], limits)
            resource = str(state["Resource"])
            named = child_name(
                self.record.arn,
                self._anchor,
                context["State"]["Name"],
                context.get("Map", {}).get("Item", {}).get("Index"),
                context["State"]["RetryCount"],
            )
            if resource in NESTED_RESOURCES and resource.endswith(SYNC_PATTERNS):
                return self._wait_for_child(state, effective, named, limits)
            return self._with_timeout(
                lambda: run_task(
                    self.env,
                    self.ctx,
                    resource,
                    effective,
                    timeout=timeout,
                    emit=self.emit,
                    child_name=named,
                ),
                timeout,
            )
        if kind == "Parallel":
            branches = state["Branches"]
            scope = scope_of(context)
            self.emit("ParallelStateStarted", "", {})
            try:
                # Each branch has variables of its own; it reads the outer ones.
                results = self._all(
                    [
                        functools.partial(
                            self.run_machine,
                            b,
                            copy.deepcopy(effective),
                            with_scope(context, scope.nested()),
                        )
                        for b in branches
                    ],
                    len(branches),
                )
            except StatesError:
                self.emit("ParallelStateFailed", "", {})
                raise
            self.emit("ParallelStateSucceeded", "", {})
            return results
        return self._map(state, effective, context)

    def _map(self, state: dict[str, Any], effective: Any, context: dict[str, Any]) -> Any:
        jsonata = self._jsonata(state)
        bindings = self._bindings(context, input=effective) if jsonata else {}
        if jsonata:
            items = resolve(state.get("Items", effective), "Items", bindings)
            where = "Items"
        else:
            items = select(state.get("ItemsPath", "$"), effective, context, "ItemsPath")
            where = f"Invalid path '{state.get('ItemsPath', '$')}'"
        if not isinstance(items, list):
            failed = f"{where}: the value is not an array"  # guessed text
            raise QueryEvaluationFailed(failed, where) if jsonata else StatesError(RUNTIME, failed)
        processor = state.get("ItemProcessor") or state["Iterator"]
        selector = state.get("ItemSelector", state.get("Parameters"))
        self.emit("MapStateStarted", "mapStateStartedEventDetails", {"length": len(items)})

        name = context["State"]["Name"]
        scope = scope_of(context)

        def iteration(index: int, item: Any) -> Any:
            item_context = {**context, "Map": {"Item": {"Index": index, "Value": item}}}
            details = {"name": name, "index": index}
            self.emit("MapIterationStarted", "mapIterationStartedEventDetails", details)
            try:
                if selector is None:
                    item_input = item
                elif jsonata:
                    item_bindings = self._bindings(item_context, input=effective)
                    item_input = resolve(selector, "ItemSelector", item_bindings)
                else:
                    item_input = resolve_template(selector, effective, item_context)
                # Each iteration has variables of its own; it reads the outer ones.
                inner = with_scope(item_context, scope.nested())
                output = self.run_machine(processor, item_input, inner)
            except StatesError:
                self.emit("MapIterationFailed", "mapIterationFailedEventDetails", details)
                raise
            self.emit("MapIterationSucceeded", "mapIterationSucceededEventDetails", details)
            return output

        concurrency = state.get("MaxConcurrency", 0)
        if jsonata:
            concurrency = resolve(concurrency, "MaxConcurrency", bindings)
        if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 0:
            raise StatesError(RUNTIME, f"Invalid MaxConcurrency value: {dumps(concurrency)}")
        limit = concurrency or MAX_MAP_THREADS
        try:
            results = self._all(
                [functools.partial(iteration, i, item) for i, item in enumerate(items)],
                max(1, min(limit, MAX_MAP_THREADS)),
            )
        except StatesError:
            self.emit("MapStateFailed", "", {})
            raise
        self.emit("MapStateSucceeded", "", {})
        return results

    def _all(self, jobs: list[Callable[[], Any]], workers: int) -> list[Any]:
        """Run ``jobs`` on up to ``workers`` threads; their results in order, or the first
        failure (the other jobs still finish: their results are dropped)."""
        if not jobs:
            return []
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(job) for job in jobs]
            return [future.result() for future in futures]

    def _with_retries(
        self,
        state: dict[str, Any],
        effective: Any,
        context: dict[str, Any],
        limits: dict[str, float],
    ) -> Any:
        attempts: dict[int, int] = {}
        while True:
            try:
                return self._work(state, effective, context, limits)
            except StatesError as failed:
                retriers = state.get("Retry") or []
                index = next(
                    (
                        i
                        for i, r in enumerate(retriers)
                        if error_matches(r["ErrorEquals"], failed.error)
                    ),
                    None,
                )
                if index is None:
                    raise
                retrier = retriers[index]
                done = attempts.get(index, 0)
                if done >= int(retrier.get("MaxAttempts", 3)):
                    raise
                attempts[index] = done + 1
                delay = (
                    float(retrier.get("IntervalSeconds", 1))
                    * float(retrier.get("BackoffRate", 2.0)) ** done
                )
                if "MaxDelaySeconds" in retrier:
                    delay = min(delay, float(retrier["MaxDelaySeconds"]))
                context["State"]["RetryCount"] = sum(attempts.values())
                self._block_until(self.clock.now() + delay)

    def _wait_for_token(
        self, state: dict[str, Any], effective: Any, token: str, limits: dict[str, float]
    ) -> Any:
        """Submit a ``.waitForTaskToken`` task and wait for its token's answer, at most
        TimeoutSeconds (States.Timeout) and HeartbeatSeconds between heartbeats
        (States.HeartbeatTimeout), on the clock."""
        store = self.tokens.store
        resource = str(state["Resource"])
        started = self.clock.now()
        store.put_token(token, self.record.arn, started)
        signal = self.tokens.signal_of(token)
        timeout, heartbeat = limits.get("TimeoutSeconds"), limits.get("HeartbeatSeconds")
        resource_type, name = resource_type_and_name(resource)
        details = {"resourceType": resource_type, "resource": name}
        try:
            run_task(self.env, self.ctx, resource, effective, timeout=timeout, emit=self.emit)
            while True:
                if self.stop.is_set():
                    store.drop_token(token, "ABORTED")
                    raise Aborted
                found = store.get_token(token)
                if found is None:
                    raise Aborted
                status, last_beat, outcome = found
                if status == "SUCCEEDED" and outcome is not None:
                    output = outcome["output"]
                    self.emit(
                        "TaskSucceeded", "taskSucceededEventDetails", {**details, "output": output}
                    )
                    return json.loads(output)
                if status == "FAILED" and outcome is not None:
                    problem = {
                        "error": outcome.get("error") or "",
                        "cause": outcome.get("cause") or "",
                    }
                    self.emit("TaskFailed", "taskFailedEventDetails", {**details, **problem})
                    raise StatesError(problem["error"], problem["cause"])
                now = self.clock.now()
                late = None
                if timeout is not None and now >= started + float(timeout):
                    late = TIMEOUT
                elif heartbeat is not None and now >= last_beat + float(heartbeat):
                    late = "States.HeartbeatTimeout"
                if late is not None:
                    store.drop_token(token, "TIMED_OUT")
                    self.emit(
                        "TaskTimedOut", "taskTimedOutEventDetails", {**details, "error": late}
                    )
                    raise StatesError(late, "")
                delay = self.clock.real_delay(1.0)
                signal.wait(_CLOCK_POLL_SECONDS if delay is None else 0.25)
                signal.clear()
        finally:
            self.tokens.forget(token)

    def _wait_for_child(
        self, state: dict[str, Any], effective: Any, named: str, limits: dict[str, float]
    ) -> Any:
        """Start a ``states:startExecution.sync`` (or ``.sync:2``) task's child and wait,
        on the clock, for it to end: its view, or States.TaskFailed when it did not
        succeed. At most TimeoutSeconds (States.Timeout); the child is stopped when the
        task times out or the parent is stopped (not when headwater closes: a restart
        waits for the same child again)."""
        resource = str(state["Resource"])
        timeout = limits.get("TimeoutSeconds")
        started = run_task(
            self.env, self.ctx, resource, effective, timeout=timeout, emit=self.emit,
            child_name=named,
        )  # fmt: skip
        child = str(started["ExecutionArn"])
        resource_type, name = resource_type_and_name(resource)
        details = {"resourceType": resource_type, "resource": name}
        begun = self.clock.now()
        store = self.tokens.store
        while True:
            if self.stop.is_set():
                parent = store.get_execution(self.record.arn)
                if parent is not None and parent.status == "ABORTED":
                    self._stop_child(child)
                raise Aborted
            record = store.get_execution(child)
            if record is None:
                raise StatesError(TASK_FAILED, f"Execution Does Not Exist: '{child}'")
            if record.status != "RUNNING":
                view = child_view(record, as_json=resource.endswith(":2"))
                if record.status == "SUCCEEDED":
                    self.emit(
                        "TaskSucceeded",
                        "taskSucceededEventDetails",
                        {**details, "output": dumps(view)},
                    )
                    return view
                problem = {"error": TASK_FAILED, "cause": dumps(view)}
                self.emit("TaskFailed", "taskFailedEventDetails", {**details, **problem})
                raise StatesError(TASK_FAILED, dumps(view))
            if timeout is not None and self.clock.now() >= begun + timeout:
                self._stop_child(child)
                self.emit("TaskTimedOut", "taskTimedOutEventDetails", {**details, "error": TIMEOUT})
                raise StatesError(TIMEOUT, "")
            delay = self.clock.real_delay(1.0)
            self.stop.wait(_CLOCK_POLL_SECONDS if delay is None else 0.25)

    def _stop_child(self, child: str) -> None:
        # An error: it ended meanwhile, or was deleted; nothing to stop.
        with contextlib.suppress(AwsError):
            self.env.service("stepfunctions").call(
                "StopExecution", {"executionArn": child}, self.ctx
            )

    # ---- time ----

    def _wake_time(self, state: dict[str, Any], raw: Any, context: dict[str, Any]) -> float:
        """When a Wait state entered now with input ``raw`` is over."""
        if self._jsonata(state):
            bindings = self._bindings(context, input=raw)
            if "Seconds" in state:
                seconds = resolve(state["Seconds"], "Seconds", bindings)
                if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 0:
                    raise QueryEvaluationFailed(
                        f"The Seconds value must be a non-negative integer: {dumps(seconds)}",
                        "Seconds",
                    )  # guessed text
                return self.clock.now() + float(seconds)
            text = resolve(state.get("Timestamp"), "Timestamp", bindings)
            stamp = parse_timestamp(text)
            if stamp is None:
                raise QueryEvaluationFailed(
                    f"The Timestamp value is not a valid timestamp: {dumps(text)}", "Timestamp"
                )  # guessed text
            return stamp.timestamp()
        effective = select(state.get("InputPath", "$"), raw, context, "InputPath")
        if "Seconds" in state:
            return self.clock.now() + float(state["Seconds"])
        if "SecondsPath" in state:
            seconds = select(state["SecondsPath"], effective, context, "SecondsPath")
            if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
                raise StatesError(RUNTIME, f"Invalid SecondsPath value: {dumps(seconds)}")
            return self.clock.now() + float(seconds)
        text = state.get("Timestamp")
        if "TimestampPath" in state:
            text = select(state["TimestampPath"], effective, context, "TimestampPath")
        stamp = parse_timestamp(text)
        if stamp is None:
            raise StatesError(RUNTIME, f"Invalid Timestamp value: {dumps(text)}")
        return stamp.timestamp()

    def _block_until(self, when: float, done: threading.Event | None = None) -> bool:
        """Wait on the clock until ``when`` (``True``) or until ``done`` is set (``False``);
        raises Aborted when the execution is stopped."""
        while True:
            if self.stop.is_set():
                raise Aborted
            now = self.clock.now()
            if now >= when:
                return True
            delay = self.clock.real_delay(when - now)
            pause = _CLOCK_POLL_SECONDS if delay is None else min(max(delay, 0.001), 0.25)
            if done is not None:
                if done.wait(pause):
                    return False
            else:
                self.stop.wait(pause)

    def _with_timeout(self, work: Callable[[], Any], timeout: Any) -> Any:
        """``work()``, failing with States.Timeout after ``timeout`` clock seconds."""
        if timeout is None:
            return work()
        # The deadline is taken before the work starts: read after, a clock that moved while
        # the work was starting (another thread advancing it) would stretch the timeout.
        deadline = self.clock.now() + float(timeout)
        done = threading.Event()
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        future = pool.submit(work)
        future.add_done_callback(lambda _: done.set())
        pool.shutdown(wait=False)
        if self._block_until(deadline, done) and not done.is_set():
            raise StatesError(TIMEOUT, "")
        return future.result()
