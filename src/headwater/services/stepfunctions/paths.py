"""Amazon States Language paths and the input and output processing of a state.

A path is the JSONPath subset the States Language allows: ``$`` then ``.name``,
``['name']``, ``[index]`` and ``[*]`` (``.*``) steps; ``$$`` starts a path in the context
object, ``$name`` one in the workflow variable ``name`` (read only: never a ResultPath).
A *reference path* (ResultPath, the ``*Path`` fields of Choice rules) must name one
node; a path with ``[*]`` answers the list of its matches (as AWS's JsonPath does).

The processing order is AWS's: InputPath -> Parameters -> (the state's work) ->
ResultSelector -> ResultPath -> OutputPath. A path that matches nothing fails the state
with ``States.Runtime`` (InputPath, OutputPath, Parameters' ``.$`` fields) as AWS does.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from headwater.services.stepfunctions.failures import StatesError

_STEP = re.compile(
    r"""\.(?P<name>[^.\[\]]+)|\['(?P<quoted>(?:[^'\\]|\\.)*)'\]|\[(?P<index>-?\d+)\]|\[\*\]"""
)

#: A workflow variable reference: ``$name`` (not ``$$`` nor ``$.x``) and the path below it.
_VARIABLE = re.compile(r"\$([^\W\d]\w*)")
#: Where the context dict passed through a state keeps the variables it can read: a key no
#: path names (``$$`` shows the context without it).
VARIABLES_KEY = "\x00variables"

#: A step of a parsed path: a key, an index or ``None`` for ``*``.
Step = str | int | None


class _Missing:
    """No node at a path."""


MISSING = _Missing()


def split_variable(path: str) -> tuple[str, str] | None:
    """``(name, the path below it from "$")`` of a variable reference ``$name...``."""
    match = _VARIABLE.match(path)
    if match is None:
        return None
    return match.group(1), "$" + path[match.end() :]


def parse_path(path: str) -> tuple[bool, list[Step]]:
    """``(in_context_object, steps)`` of ``path`` (for ``$name...`` the steps below the
    variable); ``ValueError`` if it is not a path."""
    variable = split_variable(path)
    if variable is not None:
        path = variable[1]
    if path.startswith("$$"):
        rest, context = path[2:], True
    elif path.startswith("$"):
        rest, context = path[1:], False
    else:
        raise ValueError(path)
    steps: list[Step] = []
    at = 0
    while at < len(rest):
        match = _STEP.match(rest, at)
        if match is None:
            raise ValueError(path)
        if match.group("name") is not None:
            name = match.group("name")
            steps.append(None if name == "*" else name)
        elif match.group("quoted") is not None:
            steps.append(re.sub(r"\\(.)", r"\1", match.group("quoted")))
        elif match.group("index") is not None:
            steps.append(int(match.group("index")))
        else:
            steps.append(None)
        at = match.end()
    return context, steps


def _walk(node: Any, steps: list[Step]) -> tuple[Any, bool]:
    """The node at ``steps`` below ``node`` (``MISSING`` if none), and whether a wildcard
    made it a list of matches."""
    nodes: list[Any] = [node]
    spread = False
    for step in steps:
        following: list[Any] = []
        for current in nodes:
            if step is None:
                spread = True
                if isinstance(current, dict):
                    following.extend(current.values())
                elif isinstance(current, list):
                    following.extend(current)
            elif isinstance(step, int):
                if isinstance(current, list) and -len(current) <= step < len(current):
                    following.append(current[step])
            elif isinstance(current, dict) and step in current:
                following.append(current[step])
        nodes = following
    if spread:
        return nodes, True
    return (nodes[0] if nodes else MISSING), False


def read_path(path: str, data: Any, context: Any) -> Any:
    """The value at ``path`` in ``data`` (the context object for ``$$``, a variable for
    ``$name``); ``MISSING`` when nothing is there."""
    in_context, steps = parse_path(path)
    variable = split_variable(path)
    if variable is not None:
        scope = context.get(VARIABLES_KEY) if isinstance(context, dict) else None
        root = MISSING if scope is None else scope.lookup(variable[0])
        if root is MISSING:
            return MISSING
    elif in_context:
        root = public_context(context)
    else:
        root = data
    found, _ = _walk(root, steps)
    return found


def public_context(context: Any) -> Any:
    """The context object as paths and expressions see it (without the variables)."""
    if isinstance(context, dict) and VARIABLES_KEY in context:
        return {key: value for key, value in context.items() if key != VARIABLES_KEY}
    return context


def select(path: str | None, data: Any, context: Any, field: str) -> Any:
    """InputPath/OutputPath: ``None`` (JSON null) keeps ``{}``; a path matching nothing
    fails with States.Runtime."""
    if path is None:
        return {}
    found = read_path(path, data, context)
    if found is MISSING:
        raise no_results(field, path)
    return found


def no_results(field: str, path: str) -> StatesError:
    # AWS: "Invalid path '$.x' : No results for path: $['x']" (the second form guessed).
    return StatesError("States.Runtime", f"Invalid path '{path}' : No results for path: {path}")


def put_result(result_path: str | None, raw_input: Any, result: Any) -> Any:
    """ResultPath: where ``result`` goes in a copy of the state's raw input (``None``:
    the input passes through, ``$``: the result replaces it)."""
    if result_path is None:
        return raw_input
    in_context, steps = parse_path(result_path)
    if in_context or split_variable(result_path) or any(step is None for step in steps):
        raise StatesError(
            "States.Runtime", f"Invalid path '{result_path}': ResultPath must be a reference path"
        )
    if not steps:
        return result
    output = copy.deepcopy(raw_input)
    if not isinstance(output, dict):
        # AWS: an input that is not an object cannot take a ResultPath below $ (guessed text).
        raise StatesError(
            "States.Runtime",
            f"Unable to apply ResultPath '{result_path}': the state's input is not an object",
        )
    node: Any = output
    for step in steps[:-1]:
        if isinstance(node, dict):
            following = node.get(step) if isinstance(step, str) else None
            if not isinstance(following, dict):
                following = {}
                node[step] = following
            node = following
        else:
            raise StatesError("States.Runtime", f"Unable to apply ResultPath '{result_path}'")
    last = steps[-1]
    in_list = isinstance(node, list) and isinstance(last, int) and -len(node) <= last < len(node)
    if not in_list and not (isinstance(node, dict) and isinstance(last, str)):
        raise StatesError("States.Runtime", f"Unable to apply ResultPath '{result_path}'")
    node[last] = result
    return output


def resolve_template(template: Any, data: Any, context: Any) -> Any:
    """Parameters, ResultSelector, ItemSelector: a copy of ``template`` whose ``key.$``
    fields take the value of their path or intrinsic function (under ``key``)."""
    from headwater.services.stepfunctions.intrinsics import evaluate_intrinsic

    if isinstance(template, dict):
        resolved: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$") and isinstance(value, str):
                if value.startswith("$"):
                    found = read_path(value, data, context)
                    if found is MISSING:
                        raise StatesError(
                            "States.Runtime",
                            f"The JSONPath '{value}' specified for the field '{key}' could not"
                            " be found in the input",
                        )
                    resolved[key[:-2]] = copy.deepcopy(found)
                else:
                    resolved[key[:-2]] = evaluate_intrinsic(value, data, context)
            else:
                resolved[key] = resolve_template(value, data, context)
        return resolved
    if isinstance(template, list):
        return [resolve_template(item, data, context) for item in template]
    return template
