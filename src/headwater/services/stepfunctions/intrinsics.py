"""The States Language's intrinsic functions (``States.Format('{}', $.name)``...).

An intrinsic is a call in a ``key.$`` field of Parameters, ResultSelector or ItemSelector.
Arguments are string literals in single quotes (``\\'``, ``\\{``, ``\\}`` and ``\\\\``
escapes), numbers, ``true``/``false``/``null``, paths (``$.x``, ``$$.Execution.Id``) and
nested calls. A bad call fails the state with ``States.IntrinsicFailure`` as AWS does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import uuid
from collections.abc import Callable
from typing import Any

from headwater.services.stepfunctions.failures import StatesError
from headwater.services.stepfunctions.paths import MISSING, parse_path, read_path

INTRINSIC_FAILURE = "States.IntrinsicFailure"
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_NAME = re.compile(r"States\.[A-Za-z0-9]+")
_PATH = re.compile(r"\$(?:\$|[^\W\d]\w*)?(?:\.[^\s,()]+|\[[^\]]*\])*")


class _Literal(str):
    """A string literal of the call, its ``\\{``, ``\\}`` and ``\\\\`` escapes kept:
    States.Format's template must tell an escaped brace from a placeholder."""

    __slots__ = ()


_ESCAPE = re.compile(r"\\(.)")


def _unescaped(value: Any) -> Any:
    return str(_ESCAPE.sub(r"\1", value)) if isinstance(value, _Literal) else value


def failure(message: str) -> StatesError:
    return StatesError(INTRINSIC_FAILURE, message)


class _Parser:
    """Reads (and, unless ``evaluate`` is false, runs) one intrinsic call: checking a
    definition parses every call without data, paths and functions only recognised."""

    def __init__(self, text: str, data: Any, context: Any, *, evaluate: bool = True) -> None:
        self.text, self.at, self.data, self.context = text, 0, data, context
        self.evaluate = evaluate

    def skip_space(self) -> None:
        while self.at < len(self.text) and self.text[self.at].isspace():
            self.at += 1

    def call(self) -> Any:
        self.skip_space()
        name_match = _NAME.match(self.text, self.at)
        if name_match is None:
            raise failure(f"Invalid intrinsic function call: {self.text}")
        name = name_match.group(0)
        self.at = name_match.end()
        self.skip_space()
        if self.text[self.at : self.at + 1] != "(":
            raise failure(f"Invalid intrinsic function call: {self.text}")
        self.at += 1
        arguments: list[Any] = []
        self.skip_space()
        if self.text[self.at : self.at + 1] == ")":
            self.at += 1
        else:
            while True:
                arguments.append(self.argument())
                self.skip_space()
                mark = self.text[self.at : self.at + 1]
                self.at += 1
                if mark == ")":
                    break
                if mark != ",":
                    raise failure(f"Invalid intrinsic function call: {self.text}")
        function = FUNCTIONS.get(name)
        if function is None:
            raise failure(f"Function '{name}' is not supported")  # guessed text
        if not self.evaluate:
            return None
        if name == "States.Format" and arguments and isinstance(arguments[0], _Literal):
            return function([str(arguments[0]), *map(_unescaped, arguments[1:])])
        return function([_unescaped(argument) for argument in arguments])

    def argument(self) -> Any:
        self.skip_space()
        rest = self.text[self.at :]
        if rest.startswith("'"):
            return self.string()
        if rest.startswith("States."):
            return self.call()
        if rest.startswith("$"):
            match = _PATH.match(self.text, self.at)
            assert match is not None
            self.at = match.end()
            if not self.evaluate:
                parse_path(match.group(0))  # ValueError: not a path
                return None
            value = read_path(match.group(0), self.data, self.context)
            if value is MISSING:
                raise failure(f"Invalid path '{match.group(0)}': no value found")
            return value
        for word, value in (("true", True), ("false", False), ("null", None)):
            if rest.startswith(word):
                self.at += len(word)
                return value
        number = _NUMBER.match(self.text, self.at)
        if number is None:
            raise failure(f"Invalid intrinsic function call: {self.text}")
        self.at = number.end()
        return json.loads(number.group(0))

    def string(self) -> str:
        self.at += 1
        out: list[str] = []
        while self.at < len(self.text):
            char = self.text[self.at]
            if char == "\\" and self.at + 1 < len(self.text):
                escaped = self.text[self.at + 1]
                out.append(escaped if escaped == "'" else char + escaped)
                self.at += 2
                continue
            if char == "'":
                self.at += 1
                return _Literal("".join(out))
            out.append(char)
            self.at += 1
        raise failure(f"Invalid intrinsic function call: {self.text}")


def evaluate_intrinsic(text: str, data: Any, context: Any) -> Any:
    """The value of the intrinsic call ``text`` against the state's input ``data``."""
    parser = _Parser(text, data, context)
    value = parser.call()
    parser.skip_space()
    if parser.at != len(text):
        raise failure(f"Invalid intrinsic function call: {text}")
    return value


def intrinsic_problem(text: str) -> str | None:
    """Why ``text`` is not an intrinsic call headwater can run (``None``: it is one);
    the call is parsed, not run."""
    parser = _Parser(text, None, None, evaluate=False)
    try:
        parser.call()
        parser.skip_space()
    except StatesError as failed:
        return failed.cause
    except ValueError as error:
        return f"Invalid path '{error}' in {text}"
    if parser.at != len(text):
        return f"Invalid intrinsic function call: {text}"
    return None


def _arity(name: str, arguments: list[Any], count: int) -> None:
    if len(arguments) != count:
        raise failure(f"Function '{name}' requires {count} argument(s)")  # guessed text


def _format(arguments: list[Any]) -> str:
    if not arguments or not isinstance(arguments[0], str):
        raise failure("Function 'States.Format' requires a template string")
    template, values = arguments[0], list(arguments[1:])
    pieces = re.split(r"(\\.|\{\})", template)
    out: list[str] = []
    for piece in pieces:
        if piece == "{}":
            if not values:
                raise failure("Function 'States.Format' has more {} than arguments")
            value = values.pop(0)
            out.append(value if isinstance(value, str) else json.dumps(value))
        elif piece.startswith("\\") and len(piece) == 2:
            out.append(piece[1])
        else:
            out.append(piece)
    if values:
        raise failure("Function 'States.Format' has more arguments than {}")
    return "".join(out)


def _string_to_json(arguments: list[Any]) -> Any:
    _arity("States.StringToJson", arguments, 1)
    try:
        return json.loads(arguments[0])
    except (TypeError, ValueError):
        raise failure("Function 'States.StringToJson' needs a JSON string") from None


def _json_to_string(arguments: list[Any]) -> str:
    _arity("States.JsonToString", arguments, 1)
    return json.dumps(arguments[0], separators=(",", ":"))


def _array_partition(arguments: list[Any]) -> list[Any]:
    _arity("States.ArrayPartition", arguments, 2)
    items, size = arguments
    if not isinstance(items, list) or not isinstance(size, int) or size < 1:
        raise failure("Function 'States.ArrayPartition' needs an array and a positive size")
    return [items[at : at + size] for at in range(0, len(items), size)]


def _array_range(arguments: list[Any]) -> list[Any]:
    _arity("States.ArrayRange", arguments, 3)
    first, last, step = arguments
    if not all(isinstance(v, int) for v in arguments) or step == 0:
        raise failure("Function 'States.ArrayRange' needs integer bounds and a step")
    values = list(range(first, last + (1 if step > 0 else -1), step))
    if len(values) > 1000:
        raise failure("Function 'States.ArrayRange' makes at most 1000 items")
    return values


def _array_get_item(arguments: list[Any]) -> Any:
    _arity("States.ArrayGetItem", arguments, 2)
    items, index = arguments
    if not isinstance(items, list) or not isinstance(index, int) or not 0 <= index < len(items):
        raise failure("Function 'States.ArrayGetItem' index out of bounds")  # guessed text
    return items[index]


def _array_length(arguments: list[Any]) -> int:
    _arity("States.ArrayLength", arguments, 1)
    if not isinstance(arguments[0], list):
        raise failure("Function 'States.ArrayLength' needs an array")
    return len(arguments[0])


def _array_unique(arguments: list[Any]) -> list[Any]:
    _arity("States.ArrayUnique", arguments, 1)
    unique: list[Any] = []
    for item in arguments[0]:
        if item not in unique:
            unique.append(item)
    return unique


def _base64_encode(arguments: list[Any]) -> str:
    _arity("States.Base64Encode", arguments, 1)
    return base64.b64encode(str(arguments[0]).encode()).decode()


def _base64_decode(arguments: list[Any]) -> str:
    _arity("States.Base64Decode", arguments, 1)
    try:
        return base64.b64decode(str(arguments[0]), validate=True).decode()
    except ValueError:
        raise failure("Function 'States.Base64Decode' needs base64 text") from None


_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384"}
_HASHES["SHA-512"] = "sha512"


def _hash(arguments: list[Any]) -> str:
    _arity("States.Hash", arguments, 2)
    value, algorithm = arguments
    if algorithm not in _HASHES:
        raise failure(f"Function 'States.Hash' does not know the algorithm {algorithm}")
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return hashlib.new(_HASHES[algorithm], text.encode()).hexdigest()


def _json_merge(arguments: list[Any]) -> Any:
    _arity("States.JsonMerge", arguments, 3)
    left, right, deep = arguments
    if not isinstance(left, dict) or not isinstance(right, dict) or deep is not False:
        raise failure("Function 'States.JsonMerge' merges two objects shallowly (false)")
    return {**left, **right}


def _math_add(arguments: list[Any]) -> int:
    _arity("States.MathAdd", arguments, 2)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in arguments):
        raise failure("Function 'States.MathAdd' needs two integers")
    return int(arguments[0]) + int(arguments[1])


def _math_random(arguments: list[Any]) -> int:
    if len(arguments) not in (2, 3):
        raise failure("Function 'States.MathRandom' requires 2 or 3 argument(s)")
    return random.randrange(int(arguments[0]), int(arguments[1]))


def _string_split(arguments: list[Any]) -> list[str]:
    _arity("States.StringSplit", arguments, 2)
    text, separators = str(arguments[0]), str(arguments[1])
    parts = re.split("|".join(map(re.escape, separators)), text) if separators else [text]
    return [part for part in parts if part]


def _uuid(arguments: list[Any]) -> str:
    _arity("States.UUID", arguments, 0)
    return str(uuid.uuid4())


FUNCTIONS: dict[str, Callable[[list[Any]], Any]] = {
    "States.Format": _format,
    "States.StringToJson": _string_to_json,
    "States.JsonToString": _json_to_string,
    "States.Array": list,
    "States.ArrayPartition": _array_partition,
    "States.ArrayContains": lambda a: len(a) == 2 and isinstance(a[0], list) and a[1] in a[0],
    "States.ArrayRange": _array_range,
    "States.ArrayGetItem": _array_get_item,
    "States.ArrayLength": _array_length,
    "States.ArrayUnique": _array_unique,
    "States.Base64Encode": _base64_encode,
    "States.Base64Decode": _base64_decode,
    "States.Hash": _hash,
    "States.JsonMerge": _json_merge,
    "States.MathRandom": _math_random,
    "States.MathAdd": _math_add,
    "States.StringSplit": _string_split,
    "States.UUID": _uuid,
}
