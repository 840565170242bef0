"""Checking a state machine definition (Amazon States Language) before it is stored.

AWS refuses a bad definition with ``InvalidDefinition`` "Invalid State Machine Definition:
'...'", every problem found in the quotes as ``CODE: text at /path`` joined by ", ". The
codes (SCHEMA_VALIDATION_FAILED, MISSING_TRANSITION_TARGET, MISSING_END_STATE,
INVALID_JSON_DESCRIPTION) are AWS's. The transition texts are AWS's as recorded in public
bug reports ("Missing 'Next' target: X at /States/A/Next" for every kind of transition,
"State \"X\" is not reachable. at /States/X", "Workflow has no terminal state" with no
location and no reachability problems after it); the SCHEMA_VALIDATION_FAILED texts are
written in AWS's style (guessed).

Task resources headwater cannot run (``.sync`` integrations, activities, services and
aws-sdk actions it does not serve) are refused here too, naming the resource, and so are
aws-sdk Parameters the action does not take, so a machine that would fail later is never
stored.
"""

from __future__ import annotations

import json
from typing import Any

from headwater.core.errors import AwsError
from headwater.services.stepfunctions.choice import OPERATORS
from headwater.services.stepfunctions.path_checks import state_path_problems
from headwater.services.stepfunctions.sdk_integration import SDK_PREFIX, sdk_parameter_problem
from headwater.services.stepfunctions.tasks import WAIT_FOR_TASK_TOKEN, unsupported_resource

STATE_TYPES = ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
#: State types that end the machine themselves (no Next/End).
TERMINAL_TYPES = ("Succeed", "Fail")


def invalid_definition(problems: list[str]) -> AwsError:
    return AwsError(
        "InvalidDefinition", f"Invalid State Machine Definition: '{', '.join(problems)}'"
    )


def definition_problems(text: str) -> list[str]:
    """Every problem of definition ``text``, each ``CODE: text at /path`` (none: it is
    good)."""
    try:
        definition = json.loads(text)
    except ValueError as error:
        return [f"INVALID_JSON_DESCRIPTION: {error}"]
    if not isinstance(definition, dict):
        return ["INVALID_JSON_DESCRIPTION: The definition must be an object"]
    problems: list[str] = []
    _check_machine(definition, "", problems)
    return problems


def parse_definition(text: str) -> dict[str, Any]:
    """The definition ``text`` as JSON, checked; raises InvalidDefinition."""
    problems = definition_problems(text)
    if problems:
        raise invalid_definition(problems)
    definition: dict[str, Any] = json.loads(text)
    return definition


def diagnostic(problem: str) -> dict[str, str]:
    """A problem as ValidateStateMachineDefinition's diagnostic."""
    code, _, rest = problem.partition(": ")
    message, _, location = rest.rpartition(" at ")
    found = {"severity": "ERROR", "code": code, "message": message or rest}
    if location.startswith("/"):
        found["location"] = location
    return found


def _check_machine(machine: dict[str, Any], where: str, problems: list[str]) -> None:
    states = machine.get("States")
    start = machine.get("StartAt")
    missing = [name for name in ("StartAt", "States") if name not in machine]
    if missing:
        fields = ", ".join(missing)
        problems.append(
            f"SCHEMA_VALIDATION_FAILED: These fields are required: [{fields}] at /{where}"
        )
        return
    if machine.get("QueryLanguage", "JSONPath") != "JSONPath":
        problems.append(
            "SCHEMA_VALIDATION_FAILED: headwater runs only the JSONPath query language"
            f" (not JSONata) at /{where}QueryLanguage"
        )
    if not isinstance(states, dict) or not states:
        problems.append(f"SCHEMA_VALIDATION_FAILED: States must be a non-empty object at /{where}")
        return
    if start not in states:
        problems.append(
            f"MISSING_TRANSITION_TARGET: Missing 'Next' target: {start} at /{where}StartAt"
        )
    for name, state in states.items():
        _check_state(name, state, states, f"{where}States/{name}", problems)
    if not any(_terminal(state) for state in states.values()):
        # AWS: no location, and no unreachable-state problems after it.
        problems.append("MISSING_END_STATE: Workflow has no terminal state")
        return
    if start in states:
        for name in states:
            if name not in _reachable(str(start), states):
                problems.append(
                    f'MISSING_TRANSITION_TARGET: State "{name}" is not reachable.'
                    f" at /{where}States/{name}"
                )


def _located_targets(state: dict[str, Any]) -> list[tuple[str, str]]:
    """(target, where it is named below the state) of each state ``state`` can go to
    next: ``Next``, ``Choices[0]/Next``, ``Default``, ``Catch[0]/Next`` as AWS locates them."""
    found: list[tuple[Any, str]] = [(state["Next"], "Next")] if "Next" in state else []
    for index, choice in enumerate(state.get("Choices") or []):
        if isinstance(choice, dict):
            found.append((choice.get("Next"), f"Choices[{index}]/Next"))
    if "Default" in state:
        found.append((state["Default"], "Default"))
    for index, catcher in enumerate(state.get("Catch") or []):
        if isinstance(catcher, dict):
            found.append((catcher.get("Next"), f"Catch[{index}]/Next"))
    return [(str(target), where) for target, where in found if target is not None]


def _targets(state: dict[str, Any]) -> list[str]:
    """The states ``state`` can go to next."""
    return [target for target, _ in _located_targets(state)]


def _terminal(state: Any) -> bool:
    return isinstance(state, dict) and (
        state.get("Type") in TERMINAL_TYPES or state.get("End") is True
    )


def _reachable(start: str, states: dict[str, Any]) -> set[str]:
    seen = {start}
    pending = [start]
    while pending:
        state = states.get(pending.pop())
        if not isinstance(state, dict):
            continue
        for target in _targets(state):
            if target not in seen and target in states:
                seen.add(target)
                pending.append(target)
    return seen


def _check_state(
    name: str, state: Any, states: dict[str, Any], where: str, problems: list[str]
) -> None:
    if not isinstance(state, dict):
        problems.append(f"SCHEMA_VALIDATION_FAILED: A state must be an object at /{where}")
        return
    kind = state.get("Type")
    if kind not in STATE_TYPES:
        problems.append(
            f"SCHEMA_VALIDATION_FAILED: Value is not a valid state type: {kind!r} at /{where}/Type"
        )
        return
    if state.get("QueryLanguage", "JSONPath") != "JSONPath" or "Assign" in state:
        problems.append(
            "SCHEMA_VALIDATION_FAILED: headwater runs only the JSONPath query language"
            f" (not JSONata, no variables with Assign) at /{where}"
        )
    problems.extend(state_path_problems(state, where))
    if len(name) > 80:
        problems.append(f"SCHEMA_VALIDATION_FAILED: State name is too long at /{where}")
    if kind == "Choice":
        if not state.get("Choices"):
            problems.append(
                f"SCHEMA_VALIDATION_FAILED: These fields are required: [Choices] at /{where}"
            )
        for index, rule in enumerate(state.get("Choices") or []):
            if "Next" not in rule:
                problems.append(
                    "SCHEMA_VALIDATION_FAILED: These fields are required: [Next]"
                    f" at /{where}/Choices[{index}]"
                )
            _check_rule(rule, f"{where}/Choices[{index}]", problems)
    elif kind not in TERMINAL_TYPES:
        has_next, has_end = "Next" in state, state.get("End") is True
        if has_next == has_end:
            problems.append(
                "SCHEMA_VALIDATION_FAILED: Exactly one of these fields is required:"
                f" [Next, End] at /{where}"
            )
    elif "Next" in state or "End" in state:
        problems.append(
            f"SCHEMA_VALIDATION_FAILED: Field 'Next'/'End' is not supported in a {kind}"
            f" state at /{where}"
        )
    for target, named in _located_targets(state):
        if target not in states:
            # AWS says 'Next' for every kind of transition (Default, Catch...).
            problems.append(
                f"MISSING_TRANSITION_TARGET: Missing 'Next' target: {target} at /{where}/{named}"
            )
    if kind == "Task":
        resource = state.get("Resource")
        if not isinstance(resource, str):
            problems.append(
                f"SCHEMA_VALIDATION_FAILED: These fields are required: [Resource] at /{where}"
            )
        else:
            refused = unsupported_resource(resource)
            if refused:
                problems.append(f"SCHEMA_VALIDATION_FAILED: {refused} at /{where}/Resource")
            elif resource.startswith(SDK_PREFIX):
                unknown = sdk_parameter_problem(
                    resource.removesuffix(WAIT_FOR_TASK_TOKEN), state.get("Parameters")
                )
                if unknown:
                    problems.append(f"SCHEMA_VALIDATION_FAILED: {unknown} at /{where}/Parameters")
    if kind == "Wait":
        fields = [f for f in ("Seconds", "Timestamp", "SecondsPath", "TimestampPath") if f in state]
        if len(fields) != 1:
            problems.append(
                "SCHEMA_VALIDATION_FAILED: Exactly one of these fields is required:"
                f" [Seconds, Timestamp, SecondsPath, TimestampPath] at /{where}"
            )
    if kind == "Parallel":
        for index, branch in enumerate(state.get("Branches") or []):
            _check_machine(branch, f"{where}/Branches[{index}]/", problems)
        if not state.get("Branches"):
            problems.append(
                f"SCHEMA_VALIDATION_FAILED: These fields are required: [Branches] at /{where}"
            )
    if kind == "Map":
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if not isinstance(processor, dict):
            problems.append(
                f"SCHEMA_VALIDATION_FAILED: These fields are required: [ItemProcessor] at /{where}"
            )
        else:
            mode = (processor.get("ProcessorConfig") or {}).get("Mode", "INLINE")
            if mode != "INLINE" or "ItemReader" in state or "ResultWriter" in state:
                problems.append(
                    "SCHEMA_VALIDATION_FAILED: headwater runs only inline Map states"
                    f" (no DISTRIBUTED mode, ItemReader or ResultWriter) at /{where}"
                )
            _check_machine(processor, f"{where}/ItemProcessor/", problems)


def _check_rule(rule: Any, where: str, problems: list[str]) -> None:
    if not isinstance(rule, dict):
        problems.append(f"SCHEMA_VALIDATION_FAILED: A choice rule must be an object at /{where}")
        return
    for combinator in ("And", "Or"):
        if combinator in rule:
            for index, inner in enumerate(rule[combinator] or []):
                _check_rule(inner, f"{where}/{combinator}[{index}]", problems)
            return
    if "Not" in rule:
        _check_rule(rule["Not"], f"{where}/Not", problems)
        return
    if "Variable" not in rule or not any(op in rule for op in OPERATORS):
        problems.append(
            "SCHEMA_VALIDATION_FAILED: A choice rule needs a Variable and a comparison"
            f" operator at /{where}"
        )
