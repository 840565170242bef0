"""AWS-recorded responses (``tests/data/recorded/<service>.json``) and a matcher for them.

A recording is a LocalStack snapshot of what real AWS answered (see ``tests/data/NOTICE``).
Values that differ between runs were replaced by placeholders: ``<uuid:1>`` (numbered: the
same number is the same value within one recording), ``<region>``, ``timestamp``, the account
``111111111111``. ``differences(ours, recorded)`` compares a headwater response with the
recording under those rules and lists every mismatch (empty: same shape, codes and texts).
A few recordings mask a key (``<test-table>``): it stands for the one key of the answer that
matches no recorded key.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import cache
from typing import Any

from tests.conftest import DATA

RECORDED = DATA / "recorded"
ACCOUNT = "000000000000"
#: Whole-value placeholders LocalStack's transformers leave without a number: only the
#: value's presence was recorded.
_ANY_VALUE = {
    "timestamp",
    "date",
    "datetime",
    "starting-sequence-number",
    "<datetime>",
    "<code-size>",
    "<timestamp>",
    "starting_hash",
    "ending_hash",
}
_PLACEHOLDER = re.compile(r"<([a-z0-9_-]+)(?::(\d+))?>")


@cache
def recordings(service: str) -> dict[str, dict[str, Any]]:
    """Every snapshot of ``service``, by test name (``Class::test_name[param]``)."""
    data = json.loads((RECORDED / f"{service}.json").read_text("utf-8"))
    return {entry["test"].split("::", 1)[1]: entry["snapshot"] for entry in data}


def recording(service: str, test: str) -> dict[str, Any]:
    """The snapshot of ``test`` (``Class::test_name[param]`` or ``test_name``)."""
    entries = recordings(service)
    if test in entries:
        return entries[test]
    matches = [snapshot for name, snapshot in entries.items() if name.split("::")[-1] == test]
    if len(matches) != 1:
        raise KeyError(f"{len(matches)} recordings named {test!r} in {service}.json")
    return matches[0]


def recorded_tests(service: str) -> list[str]:
    return sorted(recordings(service))


class Matcher:
    """Compares values with a recording, binding numbered placeholders as it goes."""

    def __init__(
        self,
        region: str | None = "us-east-1",
        *,
        extra_keys: bool = False,
        decode_json: bool = True,
        typed_presence: bool = False,
    ) -> None:
        """``region``: what ``<region>`` stands for (``None``: any region). ``extra_keys``: the
        answer may carry members the recording lacks (every recorded one must be there).
        ``decode_json``: JSON text stands for a recorded object (the snapshot tool decoded
        bodies and policies), and ``Detail: None`` for no ``Detail``. ``typed_presence``: a
        value recorded only as present (``timestamp``) must be a non-empty text or a datetime
        (what boto3 makes of one), not any value (a recorded ``timestamp`` may stand for a
        list of them or an epoch number)."""
        self.region = region
        self.extra_keys = extra_keys
        self.decode_json = decode_json
        self.typed_presence = typed_presence
        self.bound: dict[str, str] = {}

    def differences(self, ours: Any, recorded: Any, path: str = "$") -> list[str]:
        if isinstance(recorded, dict):
            return self._dict(ours, recorded, path)
        if isinstance(recorded, list):
            if not isinstance(ours, list) or len(ours) != len(recorded):
                return [f"{path}: {_short(ours)} is not a list of {len(recorded)}"]
            found: list[str] = []
            for index, (mine, theirs) in enumerate(zip(ours, recorded, strict=True)):
                found.extend(self.differences(mine, theirs, f"{path}[{index}]"))
            return found
        if isinstance(recorded, str):
            return self._string(ours, recorded, path)
        return [] if ours == recorded else [f"{path}: {_short(ours)} != {_short(recorded)}"]

    def _dict(self, ours: Any, recorded: dict[str, Any], path: str) -> list[str]:
        if isinstance(ours, str | bytes) and self.decode_json:
            # the snapshot tool turned JSON text into objects
            try:
                ours = json.loads(ours)
            except ValueError:
                return [f"{path}: {_short(ours)} is not the recorded object"]
        if not isinstance(ours, dict):
            return [f"{path}: {_short(ours)} is not an object"]
        if "HTTPStatusCode" in recorded and "HTTPHeaders" in recorded:  # ResponseMetadata
            status = ours.get("HTTPStatusCode")
            expected = recorded["HTTPStatusCode"]
            return [] if status == expected else [f"{path}.HTTPStatusCode: {status} != {expected}"]
        mine, theirs = dict(ours), dict(recorded)
        if self.decode_json:
            mine = {k: v for k, v in mine.items() if not (k == "Detail" and v is None)}
            theirs = {k: v for k, v in theirs.items() if not (k == "Detail" and v is None)}
        found: list[str] = []
        masked = [k for k in set(theirs) - set(mine) if _PLACEHOLDER.search(k)]
        spare = sorted(set(mine) - set(theirs))
        if len(masked) == 1 and len(spare) == 1:
            # a masked key (a table name) stands for the one key nothing else matched
            found.extend(self._string(spare[0], masked[0], f"{path} key"))
            theirs[spare[0]] = theirs.pop(masked[0])
        extra, missing = sorted(set(mine) - set(theirs)), sorted(set(theirs) - set(mine))
        if missing or (extra and not self.extra_keys):
            found.append(f"{path}: keys differ: extra {extra}, missing {missing}")
        # values that are a whole placeholder first: they bind it unambiguously, before a text
        # like "role<path><role-name:1>" could split its parts at the wrong place
        shared = sorted(set(mine) & set(theirs), key=lambda k: (not _whole(theirs[k]), k))
        for key in shared:
            found.extend(self.differences(mine[key], theirs[key], f"{path}.{key}"))
        return found

    def _string(self, ours: Any, recorded: str, path: str) -> list[str]:
        if isinstance(ours, bytes) and recorded.startswith("b'"):
            return [] if repr(ours) == recorded else [f"{path}: {ours!r} != {recorded}"]
        if recorded in _ANY_VALUE:
            present = ours is not None
            if self.typed_presence:
                present = isinstance(ours, str | dt.datetime) and ours != ""
            return [] if present else [f"{path}: {_short(ours)} is not a {recorded}"]
        expected = self._normalize(recorded)
        if not isinstance(ours, str):
            return [f"{path}: {_short(ours)} is not a string like {recorded!r}"]
        if "<" not in expected:
            return [] if ours == expected else [f"{path}: {ours!r} != {expected!r}"]
        return self._pattern(ours, expected, path)

    def _normalize(self, text: str) -> str:
        text = text.replace("111111111111", ACCOUNT).replace("arn:<partition>:", "arn:aws:")
        return text if self.region is None else text.replace("<region>", self.region)

    def _pattern(self, ours: str, expected: str, path: str) -> list[str]:
        pattern: list[str] = []
        names: list[str | None] = []
        position = 0
        for found in _PLACEHOLDER.finditer(expected):
            pattern.append(re.escape(expected[position : found.start()]))
            key = f"{found.group(1)}:{found.group(2)}" if found.group(2) else None
            if key is not None and key in self.bound:
                pattern.append(re.escape(self.bound[key]))
            else:
                pattern.append("(.+?)" if key is not None else ".+?")
                if key is not None:
                    names.append(key)
            position = found.end()
        pattern.append(re.escape(expected[position:]))
        match = re.fullmatch("".join(pattern), ours, re.DOTALL)
        if match is None:
            return [f"{path}: {ours!r} does not match {expected!r}"]
        for key, value in zip(names, match.groups(), strict=True):
            if key is not None:
                self.bound.setdefault(key, value)
        return []


def differences(
    ours: Any, recorded: Any, region: str | None = "us-east-1", **options: bool
) -> list[str]:
    """Every mismatch between ``ours`` and an AWS recording (see ``Matcher`` for ``options``)."""
    return Matcher(region, **options).differences(ours, recorded)


def _whole(value: Any) -> bool:
    """``value`` is one numbered placeholder (``<role-name:1>``), nothing around it."""
    return isinstance(value, str) and _PLACEHOLDER.fullmatch(value) is not None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."


def recorded(service: str, test: str, key: str) -> Any:
    """The value ``key`` of the snapshot of ``test`` (see ``recording``)."""
    return recording(service, test)[key]


def assert_matches(ours: Any, expected: Any, region: str | None = None, **options: bool) -> None:
    """``ours`` matches the recorded ``expected`` (every difference is reported; the
    recording's ``<region>`` is any region unless ``region`` is given; ``options`` as
    ``Matcher`` takes them)."""
    found = differences(ours, expected, region, **options)
    assert not found, "\n".join(found)


def assert_like_recording(
    expected: Any, actual: Any, region: str, *, extra_keys: bool = False
) -> None:
    """``actual`` answers like the AWS-recorded ``expected`` in ``region``, JSON text compared
    as text and presence markers typed: the comparison of the wire and replay tests."""
    assert_matches(
        actual, expected, region, decode_json=False, typed_presence=True, extra_keys=extra_keys
    )
