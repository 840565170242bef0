"""What a target receives: the event, or its Input, InputPath or InputTransformer.

As EventBridge does it (its documentation, and the AWS-recorded deliveries LocalStack's
test suite keeps in tests/aws/services/events/test_events_inputs.snapshot.json):
``Input`` is sent as given (JSON text); ``InputPath`` selects part of the event with a
JSONPath (``$.detail.state``) and sends it as JSON (a string in quotes); ``InputTransformer``
picks values with its ``InputPathsMap`` and puts them into ``InputTemplate`` at ``<name>``.
A placeholder inside a JSON string takes the value's text (a string without its quotes,
escaped for JSON); one outside a string takes the value as JSON. A path that finds nothing
gives an empty text inside a string and ``""`` outside one (as recorded). The predefined
``<aws.events.rule-arn>``, ``<aws.events.rule-name>``, ``<aws.events.event.ingestion-time>``,
``<aws.events.event.json>`` (the whole event) and ``<aws.events.event>`` (the event without
its detail, ``detail-type`` spelled ``detailType``) are always there.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from headwater.core.errors import AwsError

_PATH_PART = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_MISSING = object()
#: The placeholders every InputTemplate may use without an InputPathsMap entry.
PREDEFINED = (
    "aws.events.rule-arn",
    "aws.events.rule-name",
    "aws.events.event.ingestion-time",
    "aws.events.event.json",
    "aws.events.event",
)


def placeholders(template: str) -> list[str]:
    """The ``<name>`` placeholders of an InputTemplate, in order."""
    return _PLACEHOLDER.findall(template)


def check_path(path: str, what: str) -> None:
    """An InputPath or InputPathsMap value must be a JSONPath headwater can follow."""
    if not path.startswith("$") or _steps(path) is None:
        # Plausible AWS-style text; EventBridge's exact wording for this case is unknown.
        raise AwsError("ValidationException", f"{what} is not valid JSONPath: {path}")


def _steps(path: str) -> list[str | int] | None:
    steps: list[str | int] = []
    position = 1
    while position < len(path):
        match = _PATH_PART.match(path, position)
        if match is None:
            return None
        name, index, quoted = match.groups()
        if index is not None:
            steps.append(int(index))
        else:
            steps.append(name if name is not None else quoted)
        position = match.end()
    return steps


def select(event: Any, path: str) -> Any:
    """The part of ``event`` a JSONPath names (``_MISSING`` if there is none)."""
    value = event
    for step in _steps(path) or []:
        found_in_list = isinstance(step, int) and isinstance(value, list) and step < len(value)
        found_in_object = isinstance(step, str) and isinstance(value, dict) and step in value
        if found_in_list or found_in_object:
            value = value[step]
        else:
            return _MISSING
    return value


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _text_in_string(value: Any) -> str:
    """A value put inside a JSON string: a string's own characters, anything else its JSON,
    escaped so the string stays valid JSON."""
    text = value if isinstance(value, str) else _json(value)
    return _json(text)[1:-1]


def _event_without_detail(event: dict[str, Any]) -> dict[str, Any]:
    """``<aws.events.event>``: the event's metadata, as EventBridge answers it."""
    return {
        "id": event.get("id"),
        "account": event.get("account"),
        "detailType": event.get("detail-type"),
        "time": event.get("time"),
        "source": event.get("source"),
        "region": event.get("region"),
        "resources": event.get("resources"),
        "version": event.get("version"),
    }


def transform(event: dict[str, Any], transformer: dict[str, Any], rule_arn: str) -> str:
    """``InputTemplate`` with its placeholders replaced by values of ``event``."""
    values: dict[str, Any] = {
        name: select(event, str(path))
        for name, path in (transformer.get("InputPathsMap") or {}).items()
    }
    values.setdefault("aws.events.rule-arn", rule_arn)
    values.setdefault("aws.events.rule-name", rule_arn.rsplit("/", 1)[-1])
    values.setdefault("aws.events.event.ingestion-time", event.get("time"))
    values.setdefault("aws.events.event.json", event)
    values.setdefault("aws.events.event", _event_without_detail(event))
    template = str(transformer["InputTemplate"])
    out: list[str] = []
    in_string = False
    position = 0
    while position < len(template):
        char = template[position]
        if char == "\\" and in_string:
            out.append(template[position : position + 2])
            position += 2
            continue
        if char == '"':
            in_string = not in_string
        elif char == "<":
            match = _PLACEHOLDER.match(template, position)
            if match is not None and match.group(1) in values:
                value = values[match.group(1)]
                if in_string:
                    out.append("" if value is _MISSING else _text_in_string(value))
                else:
                    out.append('""' if value is _MISSING else _json(value))
                position = match.end()
                continue
        out.append(char)
        position += 1
    return "".join(out)


def target_input(event: dict[str, Any], target: dict[str, Any], rule_arn: str) -> str:
    """The text ``target`` receives for ``event``."""
    if target.get("Input") is not None:
        return str(target["Input"])
    if target.get("InputPath") is not None:
        value = select(event, str(target["InputPath"]))
        return "null" if value is _MISSING else _json(value)
    if target.get("InputTransformer") is not None:
        return transform(event, target["InputTransformer"], rule_arn)
    return _json(event)
