"""CloudWatch Logs filter patterns (FilterLogEvents, ``aws logs tail --filter-pattern``).

Three forms, as in "Filter pattern syntax for metric filters, subscription filters, and
filter log events":

- terms: ``ERROR``, ``"exact phrase"``; several terms must all appear; ``-term`` must
  not; ``?a ?b`` matches events with any of them. Terms are case sensitive.
- JSON: ``{ $.level = "ERROR" }``, ``{ $.latency > 50 && $.path = "/x*" }``, ``||``,
  parentheses, ``!=``, ``< <= > >=``, ``IS NULL``, ``NOT EXISTS``, ``IS TRUE/FALSE``,
  ``$.list[0]``; an event that is not a JSON object never matches.
- regular expression: ``%ERROR|WARN%``.
- space-delimited: ``[ip, user, ..., status=4* || status=5*, bytes > 1000]``: the event's
  fields are split at spaces (text in ``"..."`` or ``[...]`` is one field), each pattern
  field names one of them and may test it, ``...`` stands for any number of fields; a
  named field's value is ``$name`` to a metric filter.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from typing import Any

import orjson

Matcher = Callable[[str], bool]


class PatternError(ValueError):
    """A filter pattern that cannot be parsed."""


def compile_pattern(pattern: str | None) -> Matcher:
    """A predicate over event messages for ``pattern`` (everything for an empty one)."""
    text = (pattern or "").strip()
    if not text:
        return _everything
    if text.startswith("{"):
        if not text.endswith("}"):
            raise PatternError("Invalid character(s) in term")
        return _json_matcher(text[1:-1])
    if text.startswith("["):
        extract = compile_fields(text)
        assert extract is not None
        return lambda message: extract(message) is not None
    if len(text) >= 2 and text.startswith("%") and text.endswith("%"):
        try:
            regex = re.compile(text[1:-1])
        except re.error as error:
            raise PatternError(f"Invalid regular expression: {error}") from None
        return lambda message: regex.search(message) is not None
    return _terms_matcher(text)


def _everything(message: str) -> bool:
    return True


# ---- terms ----

_TERM = re.compile(r'\s*([?-]?)("(?:[^"\\]|\\.)*"|[^\s"]+)')


def _terms_matcher(text: str) -> Matcher:
    required: list[str] = []
    excluded: list[str] = []
    any_of: list[str] = []
    position = 0
    while position < len(text):
        match = _TERM.match(text, position)
        if match is None:
            if text[position:].strip():
                raise PatternError("Invalid character(s) in term")
            break
        prefix, term = match.groups()
        position = match.end()
        if term.startswith('"'):
            term = term[1:-1].replace('\\"', '"')
        if prefix == "?":
            any_of.append(term)
        elif prefix == "-":
            excluded.append(term)
        else:
            required.append(term)

    def terms_match(message: str) -> bool:
        if any(term in message for term in excluded):
            return False
        if not all(term in message for term in required):
            return False
        return not any_of or any(term in message for term in any_of)

    return terms_match


# ---- JSON ----

_JSON_TOKEN = re.compile(
    r"\s*(?:(?P<selector>\$(?:\.[A-Za-z0-9_\-@]+|\[\d+\]|\.\*)*)"
    r"|(?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))"
    r'|(?P<string>"(?:[^"\\]|\\.)*")'
    r"|(?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
    r"|(?P<word>[A-Za-z_*/][A-Za-z0-9_*./\-:]*))"
)

_MISSING = object()


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _JSON_TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise PatternError("Invalid character(s) in term")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _JsonParser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise PatternError("Unexpected end of filter pattern")
        self.index += 1
        return token

    def expression(self) -> Callable[[Any], bool]:
        left = self.conjunction()
        while (token := self.peek()) is not None and token[1] == "||":
            self.index += 1
            right = self.conjunction()
            left = _either(left, right)
        return left

    def conjunction(self) -> Callable[[Any], bool]:
        left = self.primary()
        while (token := self.peek()) is not None and token[1] == "&&":
            self.index += 1
            right = self.primary()
            left = _both(left, right)
        return left

    def primary(self) -> Callable[[Any], bool]:
        kind, text = self.take()
        if text == "(":
            inner = self.expression()
            if self.take()[1] != ")":
                raise PatternError("Expected ')'")
            return inner
        if kind != "selector":
            raise PatternError(f"Expected a selector such as $.field, found {text}")
        path = _path(text)
        kind, text = self.take()
        if kind == "word" and text.upper() in ("IS", "NOT"):
            return self.keyword_test(path, text.upper())
        if kind != "op" or text not in ("=", "!=", "<", "<=", ">", ">="):
            raise PatternError(f"Expected a comparison after {path}, found {text}")
        value_kind, value = self.take()
        return _comparison(path, text, value_kind, value)

    def keyword_test(self, path: list[str | int], first: str) -> Callable[[Any], bool]:
        _, second = self.take()
        word = second.upper()
        if first == "NOT" and word == "EXISTS":
            return lambda doc: _lookup(doc, path) is _MISSING
        if first == "IS" and word == "NULL":
            return lambda doc: _lookup(doc, path) is None
        if first == "IS" and word in ("TRUE", "FALSE"):
            wanted = word == "TRUE"
            return lambda doc: _lookup(doc, path) is wanted
        raise PatternError(f"Unsupported test {first} {second}")


def _either(a: Callable[[Any], bool], b: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda doc: a(doc) or b(doc)


def _both(a: Callable[[Any], bool], b: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda doc: a(doc) and b(doc)


def _path(selector: str) -> list[str | int]:
    parts: list[str | int] = []
    for piece in re.findall(r"\.([^.\[]+)|\[(\d+)\]", selector[1:]):
        name, index = piece
        parts.append(int(index) if index else name)
    return parts


def _lookup(document: Any, path: list[str | int]) -> Any:
    current = document
    for part in path:
        if isinstance(part, int):
            if not isinstance(current, list) or part >= len(current):
                return _MISSING
            current = current[part]
        elif isinstance(current, dict) and part in current:
            current = current[part]
        else:
            return _MISSING
    return current


def _comparison(path: list[str | int], op: str, kind: str, literal: str) -> Callable[[Any], bool]:
    if kind == "number":
        number = float(literal)

        def numeric(doc: Any) -> bool:
            found = _lookup(doc, path)
            if isinstance(found, bool) or not isinstance(found, int | float):
                return False
            return _compare(float(found), op, number)

        return numeric
    if kind == "string":
        try:
            text = str(orjson.loads(literal))
        except orjson.JSONDecodeError:
            # An escape JSON refuses (a lone surrogate's \ud800) or text that is not UTF-8.
            raise PatternError("Invalid character(s) in term") from None
    elif kind == "word":
        text = literal
    else:
        raise PatternError(f"Expected a value, found {literal}")
    if op not in ("=", "!="):
        raise PatternError("Strings can only be compared with = or !=")

    def textual(doc: Any) -> bool:
        found = _lookup(doc, path)
        if found is _MISSING or isinstance(found, dict | list):
            return False
        shown = (
            "null"
            if found is None
            else str(found).lower()
            if isinstance(found, bool)
            else str(found)
        )
        equal = fnmatch.fnmatchcase(shown, text) if "*" in text else shown == text
        return equal if op == "=" else not equal

    return textual


def _compare(found: float, op: str, wanted: float) -> bool:
    if op == "=":
        return found == wanted
    if op == "!=":
        return found != wanted
    if op == "<":
        return found < wanted
    if op == "<=":
        return found <= wanted
    if op == ">":
        return found > wanted
    return found >= wanted


def _json_matcher(body: str) -> Matcher:
    parser = _JsonParser(_tokens(body))
    test = parser.expression()
    if parser.peek() is not None:
        raise PatternError(f"Unexpected {parser.peek()[1]} in filter pattern")  # type: ignore[index]

    def match(message: str) -> bool:
        stripped = message.strip()
        if not stripped.startswith("{"):
            return False
        try:
            document = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            return False
        return bool(test(document))

    return match


def json_field(message: str, selector: str) -> Any:
    """The value ``selector`` (``$.a.b[0]``) picks from the JSON object ``message``; None
    when the message is not a JSON object or has no such field (a metric filter's
    ``metricValue`` and dimensions read events this way)."""
    stripped = message.strip()
    if not stripped.startswith("{"):
        return None
    try:
        document = orjson.loads(stripped)
    except orjson.JSONDecodeError:
        return None
    found = _lookup(document, _path(selector))
    return None if found is _MISSING else found


# ---- space-delimited ----

#: A field of a space-delimited pattern's value: ``$name`` -> the event's field.
FieldExtractor = Callable[[str], "dict[str, str] | None"]
_EVENT_FIELD = re.compile(r'"([^"]*)"|\[([^\]]*)\]|(\S+)')
_CONDITION = re.compile(
    r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(!=|<=|>=|=|<|>)\s*("(?:[^"\\]|\\.)*"|[^\s&|]+)\s*'
)
_FIELD_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*")
_ELLIPSIS = "..."


def compile_fields(pattern: str | None) -> FieldExtractor | None:
    """For a space-delimited pattern, a function giving a matching event's named fields
    (``{"$status": "404"}``) or None when the event does not match; None for other
    patterns. Raises PatternError for a malformed one."""
    text = (pattern or "").strip()
    if not text.startswith("["):
        return None
    if not text.endswith("]"):
        raise PatternError("Invalid character(s) in term")
    if not text[1:-1].strip():
        # ``[]`` names no field and matches every event (AWS accepts it: a subscription
        # filter put with it is recorded in the conformance data).
        return _no_fields
    fields: list[_FieldTest | None] = []
    for part in _split_fields(text[1:-1]):
        field = _pattern_field(part)
        if field is not None or not fields or fields[-1] is not None:
            fields.append(field)  # ``..., ...`` is one ``...``

    def extract(message: str) -> dict[str, str] | None:
        # the group that matched: quoted text, bracketed text, or a plain word
        values = [match.group(match.lastindex or 0) for match in _EVENT_FIELD.finditer(message)]
        return _align(fields, 0, values, 0, set())

    return extract


def _no_fields(message: str) -> dict[str, str]:
    return {}


def _split_fields(body: str) -> list[str]:
    """The comma-separated fields of a pattern (commas in quotes do not separate)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in body:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    if quoted:
        raise PatternError("Unterminated quote in filter pattern")
    return [part.strip() for part in parts]


_FieldTest = tuple[str | None, Callable[[str], bool]]


def _pattern_field(part: str) -> _FieldTest | None:
    """``(name, test)`` of one pattern field; None for ``...``."""
    if part == _ELLIPSIS:
        return None
    if not part:
        raise PatternError("Empty field in filter pattern")
    if (named := _FIELD_NAME.fullmatch(part)) is not None:
        return named.group(1), _anything
    alternatives: list[list[Callable[[str], bool]]] = []
    name: str | None = None
    for alternative in part.split("||"):
        tests: list[Callable[[str], bool]] = []
        for condition in alternative.split("&&"):
            match = _CONDITION.fullmatch(condition)
            if match is None:
                raise PatternError(f"Invalid field condition: {condition.strip()}")
            field, op, literal = match.groups()
            if name is not None and field != name:
                raise PatternError("A field's conditions must all name that field")
            name = field
            tests.append(_field_test(op, literal))
        alternatives.append(tests)

    def test(value: str) -> bool:
        return any(all(t(value) for t in tests) for tests in alternatives)

    return name, test


def _anything(value: str) -> bool:
    return True


def _field_test(op: str, literal: str) -> Callable[[str], bool]:
    if literal.startswith('"'):
        literal = literal[1:-1].replace('\\"', '"')
    elif re.fullmatch(r"-?\d+(?:\.\d+)?", literal):
        number = float(literal)

        def numeric(value: str) -> bool:
            try:
                found = float(value)
            except ValueError:
                return False
            return _compare(found, op, number)

        return numeric
    if op not in ("=", "!="):
        raise PatternError("Strings can only be compared with = or !=")

    def textual(value: str) -> bool:
        equal = fnmatch.fnmatchcase(value, literal) if "*" in literal else value == literal
        return equal if op == "=" else not equal

    return textual


def _align(
    fields: list[_FieldTest | None],
    at: int,
    values: list[str],
    start: int,
    failed: set[tuple[int, int]],
) -> dict[str, str] | None:
    """The named values when ``fields[at:]`` match ``values[start:]`` (``...`` taking as
    few fields as it can), else None. ``failed`` remembers the positions that cannot
    match, so several ``...`` cost polynomial time, not a search of every split."""
    if at == len(fields):
        return {} if start == len(values) else None
    if (at, start) in failed:
        return None
    field = fields[at]
    found: dict[str, str] | None = None
    if field is None:
        for taken in range(start, len(values) + 1):
            found = _align(fields, at + 1, values, taken, failed)
            if found is not None:
                return found
    elif start < len(values) and field[1](values[start]):
        found = _align(fields, at + 1, values, start + 1, failed)
        if found is not None:
            if field[0] is not None:
                found[f"${field[0]}"] = values[start]
            return found
    failed.add((at, start))
    return None
