"""The JSONata query language of Step Functions: ``{% ... %}`` expressions in the fields of
a state whose ``QueryLanguage`` is ``JSONata``.

Expressions are evaluated by ``jsonata-python`` (a port of jsonata-js; AWS runs JSONata
2.0.6) with the variables in scope bound as ``$name`` and ``$states`` as AWS describes it:
``input`` (the state's input), ``context`` (the context object), ``result`` (a Task's,
Map's or Parallel's result, in Output and Assign) and ``errorOutput`` (in a Catcher's
Output and Assign). Step Functions' own functions are added (``$partition``, ``$range``,
``$hash``, ``$random`` with an optional seed, ``$uuid``, ``$parse``) and ``$eval`` is taken
away, as AWS documents. ``$now()`` and ``$millis()`` read the headwater clock.

An expression that fails, or answers nothing (JSONata's undefined), fails the state with
``States.QueryEvaluationError``; the cause opens with AWS's sentence naming the expression
and the field (``Output``, ``Arguments/Payload/id``, ``Choices[0]/Condition``...), followed
by the JSONata error code and message (the texts as a third party measured them on AWS; the
messages of jsonata-python are jsonata-java's, which differ from jsonata-js in places).

At create, each expression is parsed (INVALID_JSONATA_EXPRESSION, text guessed) and one that
starts with a field name rather than ``$states`` or a variable is refused as AWS refuses it
(UNSUPPORTED_JSONATA_EXPRESSION "Reference to 'x' at the top level is not supported.").
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import uuid
from typing import Any

# jsonata-python raises the whole process's recursion limit to 10,000 when imported (to
# match JavaScript's); headwater's other parsers rely on Python's own limit to refuse
# deeply nested input (a 1,000-level JSON policy), so the limit is put back.
_RECURSION_LIMIT = sys.getrecursionlimit()
from jsonata import Jsonata, functions, jexception, utils  # noqa: E402

from headwater.services.stepfunctions.failures import StatesError  # noqa: E402

sys.setrecursionlimit(_RECURSION_LIMIT)

QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"
JSONATA = "JSONata"
JSONPATH = "JSONPath"
#: ``$hash`` algorithms (those of States.Hash).
_HASHES = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}


class QueryEvaluationFailed(StatesError):
    """A JSONata expression failed: States.QueryEvaluationError, with where it was (the
    ``EvaluationFailed`` history event's ``location``)."""

    def __init__(self, cause: str, location: str) -> None:
        super().__init__(QUERY_EVALUATION_ERROR, cause)
        self.location = location


def is_expression(value: Any) -> bool:
    """Whether ``value`` is a JSONata expression: a string ``{% ... %}``."""
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")


def _body(text: str) -> str:
    return text[2:-2].strip()


# ---- Step Functions' functions ----


def _partition(array: Any, size: Any) -> list[Any]:
    if not isinstance(array, list) or not isinstance(size, int | float) or size < 1:
        raise ValueError("$partition takes an array and a positive chunk size")  # guessed
    step = int(size)
    return [list(array[at : at + step]) for at in range(0, len(array), step)]


def _range(start: Any, end: Any, step: Any = 1) -> list[Any]:
    numbers = (start, end, step)
    if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers):
        raise ValueError("$range takes numbers")  # guessed
    if step == 0:
        raise ValueError("$range's step cannot be 0")  # guessed
    found: list[Any] = []
    value = start
    while (step > 0 and value <= end) or (step < 0 and value >= end):
        found.append(value)
        value += step
    return found


def _hash(value: Any, algorithm: Any) -> str:
    if algorithm not in _HASHES:
        raise ValueError(f"$hash: unsupported algorithm {algorithm!r}")  # guessed
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return hashlib.new(_HASHES[str(algorithm)], text.encode()).hexdigest()


def _random(seed: Any = None) -> float:
    return random.Random(seed).random() if seed is not None else random.random()


def _parse(text: Any) -> Any:
    if not isinstance(text, str):
        raise ValueError("$parse takes a string")  # guessed
    return json.loads(text)


def _no_eval(*_: Any) -> Any:
    raise ValueError("The function $eval is not supported; use $parse")  # guessed


_FUNCTIONS = {
    "partition": _partition,
    "range": _range,
    "hash": _hash,
    "random": _random,
    "uuid": lambda: str(uuid.uuid4()),
    "parse": _parse,
    "eval": _no_eval,
}


def clock_functions(now: float) -> dict[str, Any]:
    """``$now`` and ``$millis`` reading ``now`` (epoch seconds: the headwater clock, so a
    ManualClock or ``--time-scale`` moves them) rather than the real time, to bind with the
    variables."""
    millis = int(now * 1000)

    def stamp(picture: Any = None, timezone: Any = None) -> Any:
        return functions.Functions.datetime_from_millis(millis, picture, timezone)

    return {"millis": Jsonata.JLambda(lambda: millis), "now": Jsonata.JLambda(stamp)}


# ---- evaluation ----


def _bound(value: Any) -> Any:
    # A JSON null bound as a variable is JSONata's null, not undefined.
    return utils.Utils.NULL_VALUE if value is None else value


def _message(error: Exception) -> str:
    if isinstance(error, jexception.JException):
        return f"{error.error}: {error}"
    return str(error)


def evaluate(text: str, field: str, bindings: dict[str, Any]) -> Any:
    """The value of expression ``text`` (``{% ... %}``) written in ``field``, with
    ``bindings`` (``states`` and the variables) as ``$name``s."""
    body = _body(text)
    opening = f"The JSONata expression '{body}' specified for the field '{field}'"
    try:
        expression = Jsonata(body)
        for name, function in _FUNCTIONS.items():
            expression.register_lambda(name, function)
        expression.set_output_convert_nulls(False)
        value = expression.evaluate(None, {k: _bound(v) for k, v in bindings.items()})
    except jexception.JException as error:
        raise QueryEvaluationFailed(
            f"{opening} threw an error during evaluation. {_message(error)}", field
        ) from None
    except Exception as error:  # jsonata-python raises plain Python errors too
        raise QueryEvaluationFailed(
            f"{opening} threw an error during evaluation: {_message(error)}", field
        ) from None
    if value is None:
        raise QueryEvaluationFailed(f"{opening} returned nothing (undefined).", field)
    return json.loads(json.dumps(utils.Utils.convert_nulls(value)))


def resolve(template: Any, field: str, bindings: dict[str, Any]) -> Any:
    """``template`` (a field's JSON: Arguments, Output, Assign...) with each expression
    string, at any depth, replaced by its value."""
    if is_expression(template):
        return evaluate(template, field, bindings)
    if isinstance(template, dict):
        return {key: resolve(value, f"{field}/{key}", bindings) for key, value in template.items()}
    if isinstance(template, list):
        return [resolve(value, f"{field}[{i}]", bindings) for i, value in enumerate(template)]
    return template


# ---- checks at create ----


def expression_problem(text: str) -> str | None:
    """Why expression ``text`` cannot run (``None``: it parses), as ``CODE: text``."""
    body = _body(text)
    try:
        tree = Jsonata(body).ast
    except jexception.JException as error:
        return f"INVALID_JSONATA_EXPRESSION: {_message(error)}"  # guessed form
    except Exception as error:
        return f"INVALID_JSONATA_EXPRESSION: {error}"
    first = tree
    if tree is not None and tree.type == "path" and tree.steps:
        first = tree.steps[0]
    if first is not None and first.type == "name":
        return (
            f"UNSUPPORTED_JSONATA_EXPRESSION: Reference to '{first.value}' at the top level"
            " is not supported."
        )
    return None


def template_problems(template: Any, where: str) -> list[str]:
    """The problems of every expression in ``template`` (at ``/where``)."""
    if isinstance(template, str):
        if template.startswith("{%") != template.endswith("%}"):
            return [
                "SCHEMA_VALIDATION_FAILED: JSONata string must start with {% and end with %}"
                f" at /{where}"
            ]
        problem = expression_problem(template) if is_expression(template) else None
        return [] if problem is None else [f"{problem} at /{where}"]
    if isinstance(template, dict):
        return [
            problem
            for key, value in template.items()
            for problem in template_problems(value, f"{where}/{key}")
        ]
    if isinstance(template, list):
        return [
            problem
            for index, value in enumerate(template)
            for problem in template_problems(value, f"{where}[{index}]")
        ]
    return []
