"""Checking a state machine definition (Amazon States Language) before it is stored.

AWS refuses a bad definition with ``InvalidDefinition`` "Invalid State Machine Definition:
'...'", every problem found in the quotes as ``CODE: text at /path`` joined by ", ". The
codes (SCHEMA_VALIDATION_FAILED, MISSING_TRANSITION_TARGET, MISSING_END_STATE,
INVALID_JSON_DESCRIPTION) are AWS's. The transition texts are AWS's as recorded in public
bug reports ("Missing 'Next' target: X at /States/A/Next" for every kind of transition,
"State \"X\" is not reachable. at /States/X", "Workflow has no terminal state" with no
location and no reachability problems after it); the SCHEMA_VALIDATION_FAILED texts are
written in AWS's style (guessed).

Query languages: a state runs JSONPath or JSONata (its own ``QueryLanguage``, else its
machine's); the fields of the other language are refused with AWS's texts ("The
QueryLanguage is set to 'JSONata', but field 'InputPath' is only supported for the
'JSONPath' QueryLanguage"), and so are JSONata expressions that do not parse. ``Assign``
fields are checked here (names, and no branch assigning an outer level's variable).

Task resources headwater cannot run (``.sync`` integrations, activities, services and
aws-sdk actions it does not serve) are refused here too, naming the resource, and so are
aws-sdk Parameters the action does not take, so a machine that would fail later is never
stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from headwater.core.errors import AwsError
from headwater.services.stepfunctions.choice import OPERATORS
from headwater.services.stepfunctions.jsonata_query import JSONATA, JSONPATH, template_problems
from headwater.services.stepfunctions.path_checks import state_path_problems
from headwater.services.stepfunctions.sdk_integration import SDK_PREFIX, sdk_parameter_problem
from headwater.services.stepfunctions.tasks import WAIT_FOR_TASK_TOKEN, unsupported_resource
from headwater.services.stepfunctions.variables import assign_problems, assigned_names

STATE_TYPES = ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
#: State types that end the machine themselves (no Next/End).
TERMINAL_TYPES = ("Succeed", "Fail")
QUERY_LANGUAGES = (JSONPATH, JSONATA)
_LANGUAGE_VALUES = "Value should be one of the following: [JSONPath, JSONata]"
#: Fields only JSONPath states have (AWS refuses them in JSONata states, each named).
_JSONPATH_ONLY = (
    "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Result",
    "ItemsPath", "TimeoutSecondsPath", "HeartbeatSecondsPath", "SecondsPath", "TimestampPath",
    "MaxConcurrencyPath", "ErrorPath", "CausePath",
)  # fmt: skip
#: Fields only JSONata states have.
_JSONATA_ONLY = ("Arguments", "Output", "Items")
#: Fields of a JSONata state that take expressions.
_JSONATA_FIELDS = (
    "Arguments", "Output", "Assign", "Items", "ItemSelector", "Seconds", "Timestamp",
    "TimeoutSeconds", "HeartbeatSeconds", "MaxConcurrency", "Error", "Cause",
)  # fmt: skip
#: A Wait state's fields, one of which it must have.
_WAIT_FIELDS = {
    JSONPATH: ("Seconds", "Timestamp", "SecondsPath", "TimestampPath"),
    JSONATA: ("Seconds", "Timestamp"),
}


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


def _check_machine(
    machine: dict[str, Any],
    where: str,
    problems: list[str],
    inherited: str = JSONPATH,
    outer: frozenset[str] = frozenset(),
) -> None:
    """Check a machine (the definition, a Parallel branch, a Map's ItemProcessor) whose
    states run in ``inherited`` unless it says otherwise, below levels that assign the
    variables ``outer``."""
    states = machine.get("States")
    start = machine.get("StartAt")
    missing = [name for name in ("StartAt", "States") if name not in machine]
    if missing:
        fields = ", ".join(missing)
        problems.append(
            f"SCHEMA_VALIDATION_FAILED: These fields are required: [{fields}] at /{where}"
        )
        return
    language = machine.get("QueryLanguage", inherited)
    if language not in QUERY_LANGUAGES:
        problems.append(f"SCHEMA_VALIDATION_FAILED: {_LANGUAGE_VALUES} at /{where}QueryLanguage")
        language = inherited
    if not isinstance(states, dict) or not states:
        problems.append(f"SCHEMA_VALIDATION_FAILED: States must be a non-empty object at /{where}")
        return
    if start not in states:
        problems.append(
            f"MISSING_TRANSITION_TARGET: Missing 'Next' target: {start} at /{where}StartAt"
        )
    level = _Level(states, language, outer, outer | _level_names(states, language))
    for name, state in states.items():
        _check_state(name, state, level, f"{where}States/{name}", problems)
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


@dataclass(frozen=True)
class _Level:
    """The states of one machine being checked, their query language, the variables the
    levels around it assign (``outer``) and those with its own (``assigned``)."""

    states: dict[str, Any]
    language: str
    outer: frozenset[str]
    assigned: frozenset[str]


def _level_names(states: dict[str, Any], language: str) -> frozenset[str]:
    names: set[str] = set()
    for state in states.values():
        if isinstance(state, dict):
            jsonpath = state.get("QueryLanguage", language) != JSONATA
            names |= assigned_names({"": state}, jsonpath=jsonpath)
    return frozenset(names)


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


def _check_state(name: str, state: Any, level: _Level, where: str, problems: list[str]) -> None:
    states = level.states
    if not isinstance(state, dict):
        problems.append(f"SCHEMA_VALIDATION_FAILED: A state must be an object at /{where}")
        return
    kind = state.get("Type")
    if kind not in STATE_TYPES:
        problems.append(
            f"SCHEMA_VALIDATION_FAILED: Value is not a valid state type: {kind!r} at /{where}/Type"
        )
        return
    language = _state_language(state, level.language, where, problems)
    problems.extend(_language_problems(state, language, where))
    # A branch must not assign the outer levels' variables (its own level's are fine).
    problems.extend(_assignment_problems(state, kind, language, where, level.outer))
    if language == JSONPATH:
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
            _check_rule(rule, f"{where}/Choices[{index}]", problems, language)
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
                field = "Arguments" if language == JSONATA else "Parameters"
                unknown = sdk_parameter_problem(
                    resource.removesuffix(WAIT_FOR_TASK_TOKEN), state.get(field)
                )
                if unknown:
                    problems.append(f"SCHEMA_VALIDATION_FAILED: {unknown} at /{where}/{field}")
    if kind == "Wait":
        allowed = _WAIT_FIELDS[language]
        if len([field for field in allowed if field in state]) != 1:
            problems.append(
                "SCHEMA_VALIDATION_FAILED: Exactly one of these fields is required:"
                f" [{', '.join(allowed)}] at /{where}"
            )
    if kind == "Parallel":
        for index, branch in enumerate(state.get("Branches") or []):
            _check_machine(
                branch, f"{where}/Branches[{index}]/", problems, level.language, level.assigned
            )
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
            _check_machine(
                processor, f"{where}/ItemProcessor/", problems, level.language, level.assigned
            )


def _check_rule(rule: Any, where: str, problems: list[str], language: str = JSONPATH) -> None:
    if not isinstance(rule, dict):
        problems.append(f"SCHEMA_VALIDATION_FAILED: A choice rule must be an object at /{where}")
        return
    if language == JSONATA:
        if "Condition" not in rule:
            problems.append(
                f"SCHEMA_VALIDATION_FAILED: These fields are required: [Condition] at /{where}"
            )
        for field in ("Variable", "And", "Or", "Not", *OPERATORS):
            if field in rule:
                problems.append(
                    f"SCHEMA_VALIDATION_FAILED: {_only_in(JSONPATH, field)} at /{where}"
                )
        return
    if "Condition" in rule:
        problems.append(f"SCHEMA_VALIDATION_FAILED: {_only_in(JSONATA, 'Condition')} at /{where}")
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


def _only_in(language: str, field: str) -> str:
    """AWS's text for a field of the other query language."""
    other = JSONATA if language == JSONPATH else JSONPATH
    return (
        f"The QueryLanguage is set to '{other}', but field '{field}' is only supported for"
        f" the '{language}' QueryLanguage"
    )


def _state_language(state: dict[str, Any], machine: str, where: str, problems: list[str]) -> str:
    """The query language ``state`` runs in (its own, else its machine's), checked."""
    language = state.get("QueryLanguage", machine)
    if language not in QUERY_LANGUAGES:
        problems.append(f"SCHEMA_VALIDATION_FAILED: {_LANGUAGE_VALUES} at /{where}/QueryLanguage")
        return machine
    if machine == JSONATA and language == JSONPATH:
        problems.append(
            "SCHEMA_VALIDATION_FAILED: 'QueryLanguage' can not be 'JSONPath' if set to"
            f" 'JSONata' for whole state machine at /{where}"
        )
    return str(language)


def _language_problems(state: dict[str, Any], language: str, where: str) -> list[str]:
    """The fields of ``state`` (and its catchers) its query language does not have, and
    the JSONata expressions that do not parse."""
    problems: list[str] = []
    foreign = _JSONPATH_ONLY if language == JSONATA else _JSONATA_ONLY
    other = JSONPATH if language == JSONATA else JSONATA
    for field in foreign:
        if field in state:
            problems.append(f"SCHEMA_VALIDATION_FAILED: {_only_in(other, field)} at /{where}")
    for index, catcher in enumerate(state.get("Catch") or []):
        if not isinstance(catcher, dict):
            continue
        for field in ("ResultPath",) if language == JSONATA else ("Output",):
            if field in catcher:
                problems.append(
                    f"SCHEMA_VALIDATION_FAILED: {_only_in(other, field)} at /{where}/Catch[{index}]"
                )
    if language == JSONATA:
        for field in _JSONATA_FIELDS:
            if field in state:
                problems.extend(template_problems(state[field], f"{where}/{field}"))
        for kind, holders in (("Choices", state.get("Choices")), ("Catch", state.get("Catch"))):
            for index, holder in enumerate(holders or []):
                for field in ("Condition", "Output", "Assign"):
                    if isinstance(holder, dict) and field in holder:
                        problems.extend(
                            template_problems(holder[field], f"{where}/{kind}[{index}]/{field}")
                        )
    return problems


def _assignment_problems(
    state: dict[str, Any], kind: str, language: str, where: str, outer: frozenset[str]
) -> list[str]:
    """The problems of the Assign fields of ``state``, its Choice rules and catchers."""
    jsonpath = language == JSONPATH
    problems: list[str] = []
    if "Assign" in state:
        if kind in TERMINAL_TYPES:
            problems.append(
                f"SCHEMA_VALIDATION_FAILED: Field 'Assign' is not supported in a {kind} state"
                f" at /{where}"
            )  # guessed text
        problems.extend(
            assign_problems(state["Assign"], f"{where}/Assign", outer, jsonpath=jsonpath)
        )
    for kind_name in ("Choices", "Catch"):
        for index, holder in enumerate(state.get(kind_name) or []):
            if isinstance(holder, dict) and "Assign" in holder:
                problems.extend(
                    assign_problems(
                        holder["Assign"],
                        f"{where}/{kind_name}[{index}]/Assign",
                        outer,
                        jsonpath=jsonpath,
                    )
                )
    return problems
