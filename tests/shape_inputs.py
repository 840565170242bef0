"""Hypothesis strategies for an operation's input parameters, built from its botocore shape.

``operation_inputs(operation_model, names)`` draws dicts a boto3 user could pass to the
operation's method: every value passes ``botocore.validate.validate_parameters``, yet the
strings are often odd (lone surrogates, NUL, ``\\uffff``, very long text), the numbers
extreme (huge, negative, NaN, infinity) and the timestamps far off. ``names`` maps a
member name (``"QueueUrl"``, ``"TableName"``) to values worth drawing for it -- the names
and ARNs of resources a test made -- so calls reach past the service's not-found checks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ParamValidationError
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape
from botocore.validate import validate_parameters
from hypothesis import strategies as st

#: How deep structures, lists and maps nest before only required members are drawn.
MAX_DEPTH = 4
#: Most elements a drawn list or map holds (more when the shape's minimum asks for more).
MAX_ITEMS = 3

#: Text that has broken services: unpaired surrogates (not encodable as UTF-8), NUL and
#: other control characters, the non-characters, markup and escape characters, and text far
#: beyond any length limit.
NASTY_TEXT: tuple[str, ...] = (
    "",
    " ",
    "\ud800",
    "a\udfffb",
    "\x00",
    "\uffff",
    "\ufffe",
    "\x7f\x1b\r\n\t",
    "\U0001f600",
    "日本語",
    "<&>\"'",
    "%00%zz%",
    "../..",
    "${x}",
    "#{x}",
    "\\u0000",
    "-1",
    "1e400",
    "NaN",
    "arn:aws:",
)
#: Text beyond every length limit (drawn by length: a 70,000-character literal in a
#: strategy's repr slows every run).
LONG_TEXT = st.sampled_from([("x", 5000), ("é", 70000)]).map(lambda pair: pair[0] * pair[1])

#: Integers at and beyond the edges of int32, int64 and uint64 (up to 2**64 - 1 a JSON
#: body carries to the service; past that the in-process client refuses as its reader).
EDGE_INTEGERS: tuple[int, ...] = (
    0,
    -1,
    1,
    2**31 - 1,
    2**31,
    -(2**31) - 1,
    2**63 - 1,
    2**63,
    -(2**63) - 1,
    2**64 - 1,
    2**64,
    10**30,
    -(10**30),
)

EDGE_FLOATS: tuple[float, ...] = (
    math.nan,
    math.inf,
    -math.inf,
    0.0,
    -0.0,
    1e308,
    -1e308,
    5e-324,
)

EDGE_TIMESTAMPS: tuple[Any, ...] = (
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime(2026, 12, 6, tzinfo=UTC),
    0,
    -1,
    2**40,
)


#: Member name -> the values (or a strategy of them) worth drawing for members of that name.
Names = Mapping[str, "Sequence[Any] | st.SearchStrategy[Any]"]


def operation_inputs(
    operation: OperationModel, names: Names | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """Parameters for ``operation`` that botocore's validation accepts; ``names`` biases
    members of those names towards the given values."""
    shape = operation.input_shape
    if shape is None:
        return st.just({})
    builder = _ShapeStrategies(names or {})
    return builder.structure(shape, 0).filter(lambda params: _valid(params, shape))


def shape_values(shape: Shape, names: Names | None = None) -> st.SearchStrategy[Any]:
    """Values of any one shape (an attribute value, a tag list), drawn as for a member."""
    return _ShapeStrategies(names or {}).for_shape(shape, 1, "")


def _valid(params: dict[str, Any], shape: Shape) -> bool:
    try:
        validate_parameters(params, shape)
    except ParamValidationError:
        return False
    return True


class _ShapeStrategies:
    """Strategies for each kind of shape; ``names`` as in ``operation_inputs``."""

    def __init__(self, names: Names) -> None:
        self.names = names

    def for_shape(self, shape: Shape, depth: int, member: str) -> st.SearchStrategy[Any]:
        known = self.names.get(member)
        drawn = self._by_type(shape, depth, member)
        if known is None:
            return drawn
        chosen = known if isinstance(known, st.SearchStrategy) else st.sampled_from(list(known))
        # Mostly the test's resources, so calls get past "does not exist".
        return st.one_of(chosen, chosen, drawn)

    def _by_type(self, shape: Shape, depth: int, member: str) -> st.SearchStrategy[Any]:
        kind = shape.type_name
        if isinstance(shape, StructureShape):
            if shape.is_document_type:
                return _documents()
            return self.structure(shape, depth)
        if isinstance(shape, ListShape):
            return self.list(shape, depth, member)
        if isinstance(shape, MapShape):
            return self.map(shape, depth)
        if kind == "string":
            return _strings(shape)
        if kind in ("integer", "long"):
            return _integers(shape)
        if kind == "boolean":
            return st.booleans()
        if kind in ("float", "double"):
            return st.one_of(st.sampled_from(EDGE_FLOATS), st.floats())
        if kind == "timestamp":
            return st.one_of(
                st.sampled_from(EDGE_TIMESTAMPS),
                st.datetimes(
                    min_value=datetime(1900, 1, 1),
                    max_value=datetime(3000, 1, 1),
                    timezones=st.just(UTC),
                ),
            )
        if kind == "blob":
            return st.one_of(
                st.binary(max_size=64), st.just(70000).map(lambda size: b"\x00" * size)
            )
        raise NotImplementedError(f"no strategy for {kind} shapes ({shape.name})")

    def structure(self, shape: StructureShape, depth: int) -> st.SearchStrategy[dict[str, Any]]:
        members = shape.members
        if shape.is_tagged_union:
            # Exactly one member; past the depth limit only the ones that cannot nest.
            choices = [
                name
                for name, member in members.items()
                if depth < MAX_DEPTH or member.type_name not in ("structure", "list", "map")
            ] or list(members)
            return st.sampled_from(choices).flatmap(
                lambda name: self.for_shape(members[name], depth + 1, name).map(
                    lambda value: {name: value}
                )
            )
        required = set(shape.required_members)
        return st.fixed_dictionaries(
            {
                name: st.deferred(lambda m=member, n=name: self.for_shape(m, depth + 1, n))
                for name, member in members.items()
                if name in required
            },
            optional={}
            if depth >= MAX_DEPTH
            else {
                name: st.deferred(lambda m=member, n=name: self.for_shape(m, depth + 1, n))
                for name, member in members.items()
                if name not in required
            },
        )

    def list(self, shape: ListShape, depth: int, member: str) -> st.SearchStrategy[list[Any]]:
        least = int(shape.metadata.get("min", 0))
        if depth >= MAX_DEPTH:
            most = least
        else:
            most = max(least, MAX_ITEMS)
        # A list's elements often carry the list's own name's meaning (QueueUrls, TableNames).
        element = self.for_shape(shape.member, depth + 1, _singular(member))
        return st.lists(element, min_size=least, max_size=most)

    def map(self, shape: MapShape, depth: int) -> st.SearchStrategy[dict[Any, Any]]:
        least = int(shape.metadata.get("min", 0))
        most = least if depth >= MAX_DEPTH else max(least, MAX_ITEMS)
        return st.dictionaries(
            self.for_shape(shape.key, depth + 1, ""),
            self.for_shape(shape.value, depth + 1, ""),
            min_size=least,
            max_size=most,
        )


def _singular(name: str) -> str:
    return name[:-1] if name.endswith("s") else name


def _strings(shape: Shape) -> st.SearchStrategy[Any]:
    if shape.metadata.get("jsonvalue"):
        return _documents()
    least = int(shape.metadata.get("min", 0))
    plain = st.text(
        alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=12
    )
    odd = st.one_of(st.sampled_from(NASTY_TEXT), LONG_TEXT, st.text(max_size=20))
    enum = list(shape.enum)
    strings = st.one_of(st.sampled_from(enum), plain, odd) if enum else st.one_of(plain, odd)
    # Text too short for the shape's minimum is padded: botocore would refuse it unsent.
    return strings.map(lambda text: text if len(text) >= least else text + "a" * least)


def _integers(shape: Shape) -> st.SearchStrategy[int]:
    least = shape.metadata.get("min")
    edges = [value for value in EDGE_INTEGERS if least is None or value >= least]
    drawn = st.integers(min_value=least, max_value=None if least is None else least + 10_000)
    if least is None:
        drawn = st.integers(min_value=-1000, max_value=100_000)
    return st.one_of(st.sampled_from(edges), drawn) if edges else drawn


def _documents() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.text(max_size=8),
        st.sampled_from(NASTY_TEXT[:8]),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=6,
    )
