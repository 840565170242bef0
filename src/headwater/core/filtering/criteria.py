"""Lambda FilterCriteria: up to 5 patterns per mapping, matched against each record.

The pattern sees the record as the function would, except the data field, which is decoded
first: SQS ``body`` is parsed when it is JSON (else it stays a string), Kinesis ``data`` is
base64-decoded and parsed as JSON, DynamoDB ``dynamodb`` is JSON already. Per-source rules on
the *shape* of the data pattern follow AWS's documented table:

- SQS: a JSON body only matches object patterns for ``body`` (``{"body": {...}}``); a plain
  body only matches value patterns (``{"body": [...]}``); patterns without ``body`` look at the
  metadata only.
- Kinesis / DynamoDB: a value pattern for ``data`` / ``dynamodb`` is rejected at create/update;
  Kinesis data that is not JSON never matches a pattern that names ``data``.

Kinesis metadata can be addressed both as ``kinesis.partitionKey`` (the record's own shape) and
as ``partitionKey`` (older AWS examples); AWS leaves the path open.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable
from typing import Any

from headwater.core.errors import AwsError, validation_error
from headwater.core.filtering.matcher import compile_pattern, parse_event_json
from headwater.core.filtering.parser import InvalidPatternError

MAX_FILTERS = 5
MAX_PATTERN_LENGTH = 4096
INVALID_PATTERN = "Invalid filter pattern definition."

#: data-key requirement of a branch: None (metadata only), "json", "plain" or "never".
_Requirement = str | None

_SOURCES = {
    "sqs": "sqs",
    "kinesis": "kinesis",
    "dynamodb": "dynamodb",
    "dynamodbstreams": "dynamodb",
}
_DATA_KEY = {"sqs": "body", "kinesis": "data", "dynamodb": "dynamodb"}


def _invalid(message: str = INVALID_PATTERN) -> AwsError:
    return AwsError("InvalidParameterValueException", message, fields={"Type": "User"})


class RecordFilter:
    """A mapping's compiled FilterCriteria. ``keep(record)`` is true for records to deliver."""

    __slots__ = ("_entries", "keeps_all", "source")

    def __init__(self, source: str, entries: list[tuple[_Requirement, Callable[[Any], bool]]]):
        self.source = source
        self._entries = tuple(entries)
        #: no filters: every record is kept
        self.keeps_all = not entries

    def keep(self, record: dict[str, Any]) -> bool:
        """Whether the record (as the function would see it) passes any filter."""
        if self.keeps_all:
            return True
        view, data_is_json = self.prepare(record)
        return self.keep_prepared(view, data_is_json)

    def prepare(self, record: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The record as patterns see it (data decoded), and whether the data is JSON."""
        if self.source == "sqs":
            return _sqs_view(record)
        if self.source == "kinesis":
            return _kinesis_view(record)
        return record, True

    def keep_prepared(self, view: dict[str, Any], data_is_json: bool) -> bool:
        """keep() for a view from prepare() (lets callers time decoding separately)."""
        for requirement, test in self._entries:
            if requirement is not None:
                if requirement == "json":
                    if not data_is_json:
                        continue
                elif requirement == "plain":
                    if data_is_json:
                        continue
                else:
                    continue
            if test(view):
                return True
        return False


def _parse_json(data: str | bytes) -> tuple[Any, bool]:
    try:
        return parse_event_json(data), True
    except ValueError:
        return None, False


def _sqs_view(record: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    body = record.get("body")
    if not isinstance(body, str):
        return record, False
    parsed, is_json = _parse_json(body)
    if not is_json:
        return record, False
    view = dict(record)
    view["body"] = parsed
    return view, True


def _kinesis_view(record: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    view = dict(record)
    meta = record.get("kinesis")
    data: Any = None
    is_json = False
    if isinstance(meta, dict):
        for key, value in meta.items():
            if key != "data" and key not in view:
                view[key] = value
        encoded = meta.get("data")
        if isinstance(encoded, str | bytes):
            try:
                raw = binascii.a2b_base64(encoded)
            except (binascii.Error, ValueError):
                raw = None
            if raw is not None:
                data, is_json = _parse_json(raw)
    view.pop("data", None)
    if is_json:
        view["data"] = data
    return view, is_json


def _requirement(source: str, paths: frozenset[str]) -> _Requirement:
    key = _DATA_KEY[source]
    nested = key + "."
    as_value = key in paths
    as_object = any(p.startswith(nested) for p in paths)
    if source != "sqs":
        return "json" if as_object else None
    if as_value and as_object:
        return "never"
    if as_object:
        return "json"
    if as_value:
        return "plain"
    return None


def compile_filter_criteria(criteria: dict[str, Any] | None, source: str) -> RecordFilter:
    """Compile a mapping's FilterCriteria for a source ("sqs", "kinesis" or "dynamodb").

    None, ``{}`` and ``{"Filters": []}`` keep every record. Invalid criteria raise AwsError
    ``InvalidParameterValueException`` ``Invalid filter pattern definition.`` (AWS's answer to
    CreateEventSourceMapping / UpdateEventSourceMapping); a Pattern longer than 4096
    characters raises the model's ValidationException.
    """
    kind = _SOURCES.get(source)
    if kind is None:
        raise ValueError(f"unknown event source type {source!r}")
    if criteria is None:
        return RecordFilter(kind, [])
    if not isinstance(criteria, dict):
        raise _invalid()
    filters = criteria.get("Filters")
    if filters is None:
        return RecordFilter(kind, [])
    if not isinstance(filters, list):
        raise _invalid()
    for index, item in enumerate(filters, start=1):
        pattern = item.get("Pattern") if isinstance(item, dict) else None
        if isinstance(pattern, str) and len(pattern) > MAX_PATTERN_LENGTH:
            raise validation_error(
                pattern,
                f"filterCriteria.filters.{index}.member.pattern",
                f"Member must have length less than or equal to {MAX_PATTERN_LENGTH}",
            )
    if len(filters) > MAX_FILTERS:
        # AWS's wording for this case is not recorded; the generic message is the one Lambda
        # uses for every other FilterCriteria problem.
        raise _invalid()
    entries: list[tuple[_Requirement, Callable[[Any], bool]]] = []
    for item in filters:
        pattern = item.get("Pattern") if isinstance(item, dict) else None
        if not isinstance(pattern, str) or not pattern.strip():
            raise _invalid()
        try:
            matcher = compile_pattern(pattern)
        except InvalidPatternError:
            raise _invalid() from None
        for paths, branch in zip(matcher.branch_paths, matcher.branches, strict=True):
            if kind != "sqs" and _DATA_KEY[kind] in paths:
                raise _invalid()
            entries.append((_requirement(kind, paths), branch))
    return RecordFilter(kind, entries)
