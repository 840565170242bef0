"""Workflow variables: ``Assign``, the scopes that hold the values, and their checks.

A state's ``Assign`` (Pass, Task, Choice and its rules, Wait, Map, Parallel, a Catcher)
sets variables after the state's work, every value computed from the variables as they
were when the state was entered (AWS: "all expressions in Assign are evaluated first"), so
``{"a": "{% $b %}", "b": "{% $a %}"}`` swaps them. States reference a variable as
``$name``: in JSONPath states in ``key.$`` fields, Choice rules, intrinsic arguments and the
paths that read (never ResultPath); in JSONata states in any expression.

The top level's variables live in the execution record (stored at every transition, so
they survive a restart); a Parallel branch or a Map iteration gets a scope of its own that
reads the outer ones and never writes them (assigning an outer variable inside a branch is
refused when the machine is created), and is dropped when the branch ends, as on AWS.

Limits (AWS's quotas): 256 KiB for one variable's value, 256 KiB for one Assign, 10 MiB for
every variable of a scope; going over fails the state with States.DataLimitExceeded (the
error name and its texts are guessed).
"""

from __future__ import annotations

import json
from typing import Any

from headwater.services.stepfunctions.failures import DATA_LIMIT_EXCEEDED, StatesError
from headwater.services.stepfunctions.paths import MISSING, VARIABLES_KEY

#: The variable name Step Functions keeps for itself (JSONata states' ``$states``).
RESERVED_NAME = "states"
#: AWS's quotas: one value, one Assign, every variable of an execution's scope.
MAX_VARIABLE_BYTES = 262144
MAX_ASSIGN_BYTES = 262144
MAX_SCOPE_BYTES = 10 * 1024 * 1024
#: Longest variable name (guessed: AWS's state-name limit).
MAX_NAME_LENGTH = 80


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


class VariableScope:
    """The variables one level of a machine can read (its own and its outer levels') and
    write (its own)."""

    def __init__(self, values: dict[str, Any], outer: VariableScope | None = None) -> None:
        #: This level's variables (the top level's are the execution record's, stored with it).
        self.values = values
        self.outer = outer

    def lookup(self, name: str) -> Any:
        """The value of ``name`` (``MISSING`` when no level has it)."""
        scope: VariableScope | None = self
        while scope is not None:
            if name in scope.values:
                return scope.values[name]
            scope = scope.outer
        return MISSING

    def visible(self) -> dict[str, Any]:
        """Every variable this level reads, an inner level's hiding an outer's."""
        outer = {} if self.outer is None else self.outer.visible()
        return {**outer, **self.values}

    def nested(self) -> VariableScope:
        """The scope of a Parallel branch or Map iteration below this one."""
        return VariableScope({}, self)

    def assign(self, assigned: dict[str, Any]) -> None:
        """Set ``assigned`` here, within AWS's size quotas."""
        for name, value in assigned.items():
            if _size(value) > MAX_VARIABLE_BYTES:
                raise StatesError(
                    DATA_LIMIT_EXCEEDED,
                    f"The variable '{name}' has a value larger than {MAX_VARIABLE_BYTES} bytes",
                )  # guessed text
        if _size(assigned) > MAX_ASSIGN_BYTES:
            raise StatesError(
                DATA_LIMIT_EXCEEDED,
                f"The variables assigned by one state are larger than {MAX_ASSIGN_BYTES} bytes",
            )  # guessed text
        merged = {**self.values, **assigned}
        if _size(merged) > MAX_SCOPE_BYTES:
            raise StatesError(
                DATA_LIMIT_EXCEEDED,
                f"The workflow variables are larger than {MAX_SCOPE_BYTES} bytes",
            )  # guessed text
        self.values.update(assigned)


def scope_of(context: dict[str, Any]) -> VariableScope:
    """The variables of the level ``context`` (a state's context dict) belongs to."""
    scope = context.get(VARIABLES_KEY)
    if not isinstance(scope, VariableScope):
        return VariableScope({})
    return scope


def with_scope(context: dict[str, Any], scope: VariableScope) -> dict[str, Any]:
    """A copy of ``context`` whose level reads and writes ``scope``."""
    return {**context, VARIABLES_KEY: scope}


def variable_name(key: str, *, jsonpath: bool) -> str:
    """The variable an ``Assign`` member sets (a JSONPath ``name.$`` member sets ``name``)."""
    return key[:-2] if jsonpath and key.endswith(".$") else key


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a variable's (``None``: it can). AWS's rule is a JavaScript
    identifier without ``$``; the texts are guessed."""
    if name == RESERVED_NAME:
        return f"The variable name '{name}' is reserved"
    if not name.isidentifier() or len(name) > MAX_NAME_LENGTH:
        return f"The variable name '{name}' is not valid"
    return None


def assigned_names(states: Any, *, jsonpath: bool) -> set[str]:
    """Every variable the states of one level assign (their Choice rules and Catchers
    too, not their branches')."""
    names: set[str] = set()
    if not isinstance(states, dict):
        return names
    for state in states.values():
        if not isinstance(state, dict):
            continue
        holders = [state, *(state.get("Choices") or []), *(state.get("Catch") or [])]
        for holder in holders:
            assign = holder.get("Assign") if isinstance(holder, dict) else None
            if isinstance(assign, dict):
                names.update(variable_name(str(key), jsonpath=jsonpath) for key in assign)
    return names


def assign_problems(assign: Any, where: str, outer: frozenset[str], *, jsonpath: bool) -> list[str]:
    """The problems of the ``Assign`` at ``/where``: not an object, a bad or reserved name,
    a name an outer level assigns (texts guessed)."""
    if not isinstance(assign, dict):
        return [f"SCHEMA_VALIDATION_FAILED: Assign must be an object at /{where}"]
    problems: list[str] = []
    for key in assign:
        name = variable_name(str(key), jsonpath=jsonpath)
        problem = name_problem(name)
        if problem is None and name in outer:
            problem = (
                f"The variable '{name}' is assigned in an outer scope and cannot be"
                " assigned in a Parallel branch or Map iteration"
            )
        if problem is not None:
            problems.append(f"SCHEMA_VALIDATION_FAILED: {problem} at /{where}/{key}")
    return problems


def assigned_variables(assigned: dict[str, Any]) -> dict[str, Any]:
    """A state's ``...StateExited`` details for what it assigned: each value as JSON text."""
    return {
        "assignedVariables": {
            name: json.dumps(value, separators=(",", ":")) for name, value in assigned.items()
        },
        "assignedVariablesDetails": {"truncated": False},
    }
