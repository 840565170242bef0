"""Vector indexes: which items an index holds, what a write may put in one, how a search
scores, and what an entry costs.

No vector index is materialised: an index is a view of the table's items (those whose
vector attribute is a list of exactly ``Dimensions`` numbers, and, for an index with a
SearchSchema HASH attribute, that have it), read by a search in full. AWS searches an
approximate nearest-neighbour index; headwater's search is exact, which an approximate
one aims to be.

The write texts are AWS's as an emulator captured them live (eu-west-2 and us-east-1,
August 2026), punctuation included: a full stop after "invalid", and no full stop before
"IndexName" on the size and not-a-list forms.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable
from typing import Any

from headwater.core.errors import AwsError
from headwater.core.expressions.values import (
    Item,
    checked_number,
    item_size,
    items_equal,
    number_parts,
    validation,
    value_size,
    value_type,
)
from headwater.services.dynamodb.schema import TableSchema, VectorIndexSchema

#: The largest 32-bit float; a vector element beyond it is refused, a score saturates.
MAX_F32 = 3.4028234663852886e38
#: A vector index write or search is billed at no less than this many bytes.
MIN_VECTOR_REQUEST_BYTES = 1024


def _f32(text: str) -> float | None:
    """A number's nearest 32-bit float, ``None`` beyond the 32-bit range (as AWS stores
    vectors: higher precision is accepted and lost)."""
    try:
        value = float(struct.unpack("f", struct.pack("f", float(text)))[0])
    except (OverflowError, ValueError):
        return None
    return None if math.isinf(value) or math.isnan(value) else value


def stored_vector(index: VectorIndexSchema, value: Any) -> list[float] | None:
    """The vector ``value`` holds for ``index``, or ``None`` when it is not one the index
    can hold (not a list of exactly ``Dimensions`` numbers within the 32-bit range)."""
    if type(value) is not dict or "L" not in value:
        return None
    elements = value["L"]
    if len(elements) != index.dimensions:
        return None
    return _f32_elements(elements)


def search_vector(values: list[Any]) -> list[float] | None:
    """A SearchVectors request's vector as 32-bit floats, ``None`` when an element is not
    a number within the 32-bit range. The texts are held to what a stored vector's
    elements are first, a DynamoDB Number: Python's float() also reads "1_0", " 1" and
    "nan", which no Number is, and would read 1E-131 (a Number underflow for PutItem) as
    0, where a stored vector cannot hold it."""
    for element in values:
        number = element.get("N") if type(element) is dict and len(element) == 1 else None
        parts = number_parts(number) if isinstance(number, str) else None
        if parts is None:
            return None
        try:
            checked_number(*parts)
        except AwsError:
            return None
    return _f32_elements(values)


def _f32_elements(elements: list[Any]) -> list[float] | None:
    """Number elements (``{"N": text}``) as 32-bit floats, ``None`` if one is not a number
    within the 32-bit range."""
    vector: list[float] = []
    for element in elements:
        number = element.get("N") if type(element) is dict else None
        converted = None if number is None else _f32(number)
        if converted is None:
            return None
        vector.append(converted)
    return vector


def indexed_vector(table: TableSchema, index: VectorIndexSchema, item: Item) -> list[float] | None:
    """The vector ``item`` has in ``index``, ``None`` when the index does not hold it: its
    vector is missing or not one the index can hold (items written before the index was
    created are not checked), or it lacks the HASH attribute, or a SearchSchema attribute
    has another type than its definition."""
    vector = stored_vector(index, item.get(index.attribute))
    if vector is None:
        return None
    for name, kind in index.search_attributes:
        value = item.get(name)
        if value is None:
            if name == index.hash_attribute:
                return None
            continue
        if value_type(value) != kind:
            return None
        if name == index.hash_attribute and kind in ("S", "B") and not value[kind]:
            return None
    return vector


def billed_entry_bytes(index: VectorIndexSchema, entry: Item) -> int:
    """An index entry's billed size: its item size with the vector counted as its name
    plus 4 bytes a dimension, held to 1 KB (a conformance suite's live capture, 2026)."""
    size = item_size(entry)
    vector = entry.get(index.attribute)
    if vector is not None:
        size -= value_size(vector)
        size += 4 * index.dimensions
    return max(MIN_VECTOR_REQUEST_BYTES, size)


def billed_item_bytes(table: TableSchema, item: Item) -> int:
    """An item's size as a write is billed: a vector attribute an index holds counts as its
    name plus 4 bytes a dimension, whatever numbers it holds (a conformance suite's live
    capture, 2026-10-09; reads and the 400 KB limit size it by its numbers)."""
    return item_size(item) + billed_excess(table, item)


def billed_excess(table: TableSchema, item: Item) -> int:
    """How much larger ``item`` is billed (``billed_item_bytes``) than stored: negative
    when its vectors' numbers take more than 4 bytes each."""
    excess = 0
    counted: set[str] = set()
    for index in table.vector_indexes:
        value = item.get(index.attribute)
        if value is None or index.attribute in counted or stored_vector(index, value) is None:
            continue
        counted.add(index.attribute)
        excess += 4 * index.dimensions - value_size(value)
    return excess


def billed_write_units(table: TableSchema, old: Item | None, new: Item | None) -> float:
    """A write's units on a table with vector indexes: the larger item, billed as
    ``billed_item_bytes``, a unit a KB."""
    size = max((billed_item_bytes(table, i) for i in (old, new) if i is not None), default=0)
    return float(max(1, math.ceil(size / 1024)))


def vector_write_bytes(table: TableSchema, old: Item | None, new: Item | None) -> dict[str, float]:
    """VectorWriteRequestBytes per vector index a write changed: AWS charges an index only
    when what it holds of the item changed (the entry added, changed or removed), by the
    larger entry."""
    charged: dict[str, float] = {}
    for index in table.vector_indexes:
        before = _entry(table, index, old)
        after = _entry(table, index, new)
        if before is None and after is None:
            continue
        if before is not None and after is not None and items_equal(before, after):
            continue
        sizes = [billed_entry_bytes(index, e) for e in (before, after) if e is not None]
        charged[index.name] = float(max(sizes))
    return charged


def _entry(table: TableSchema, index: VectorIndexSchema, item: Item | None) -> Item | None:
    if item is None or indexed_vector(table, index, item) is None:
        return None
    return table.index_view(index, item)


#: The statistics' name for the table's own figure: ``(0, billed_excess of its items)``.
TABLE_STATISTICS = ""


def index_statistics(table: TableSchema, items: Iterable[Item]) -> dict[str, tuple[int, int]]:
    """``(ItemCount, IndexSizeBytes)`` of every vector index of ``table`` over ``items``,
    and under ``TABLE_STATISTICS`` how much larger they are billed than stored."""
    found = {index.name: (0, 0) for index in table.vector_indexes}
    found[TABLE_STATISTICS] = (0, 0)
    for item in items:
        for name, (count, size) in statistics_change(table, None, item).items():
            before = found[name]
            found[name] = (before[0] + count, before[1] + size)
    return found


def statistics_change(
    table: TableSchema, old: Item | None, new: Item | None
) -> dict[str, tuple[int, int]]:
    """How a write replacing ``old`` by ``new`` moves each vector index's ``(ItemCount,
    IndexSizeBytes)`` and the table's billed excess (``TABLE_STATISTICS``): only the
    figures it moves."""
    changes: dict[str, tuple[int, int]] = {}
    excess = (0 if new is None else billed_excess(table, new)) - (
        0 if old is None else billed_excess(table, old)
    )
    if excess:
        changes[TABLE_STATISTICS] = (0, excess)
    for index in table.vector_indexes:
        before = _entry(table, index, old)
        after = _entry(table, index, new)
        if before is None and after is None:
            continue
        count = (after is not None) - (before is not None)
        size = (0 if after is None else item_size(after)) - (
            0 if before is None else item_size(before)
        )
        if count or size:
            changes[index.name] = (count, size)
    return changes


# ---- writes ----


def check_vector_write(table: TableSchema, new: Item, old: Item | None, *, updating: bool) -> None:
    """Refuse a write that puts in the item a vector a vector index cannot hold, or a
    SearchSchema attribute of another type than its definition, or an empty HASH value:
    AWS refuses such writes (a missing attribute only leaves the item out of the index).
    An update is held only to the attributes it changed."""
    for index in table.vector_indexes:
        for name in (index.attribute, *(n for n, _ in index.search_attributes)):
            value = new.get(name)
            if value is None:
                continue
            if updating and old is not None and old.get(name) == value:
                continue
            if name == index.attribute:
                _check_vector_value(index, value)
                continue
            kind = dict(index.search_attributes)[name]
            actual = value_type(value)
            if actual != kind:
                raise validation(
                    f"One or more parameter values were invalid. Attribute '{name}' type "
                    f"mismatch. Expected: {kind}, Actual: {actual}. IndexName: {index.name}"
                )
            if name == index.hash_attribute and kind in ("S", "B") and not value[kind]:
                word = "string" if kind == "S" else "binary"
                if updating:
                    raise validation(
                        "One or more parameter values are not valid. The update expression "
                        "attempted to update a secondary index key to a value that is not "
                        "supported. The AttributeValue for a key attribute cannot contain an "
                        f"empty {word} value."
                    )
                raise validation(
                    "One or more parameter values are not valid. A value specified for a "
                    "secondary index key is not supported. The AttributeValue for a key "
                    f"attribute cannot contain an empty {word} value. IndexName: "
                    f"{index.name}, IndexKey: {name}"
                )


def _check_vector_value(index: VectorIndexSchema, value: Any) -> None:
    name = index.attribute
    prefix = "One or more parameter values were invalid."
    if "L" not in value:
        raise validation(
            f"{prefix} Invalid type for parameter {name}, Expected: 32-bit floating point "
            f"number list IndexName: {index.name}"
        )
    elements = value["L"]
    if len(elements) != index.dimensions:
        raise validation(
            f"{prefix} Invalid size for parameter {name}, Expected: {index.dimensions}, "
            f"Actual: {len(elements)} IndexName: {index.name}"
        )
    for position, element in enumerate(elements):
        kind = value_type(element)
        if kind != "N":
            raise validation(
                f"{prefix} Invalid type for parameter {name}[{position}], Expected: 32-bit "
                f"floating point number, Actual: {kind}. IndexName: {index.name}"
            )
        if _f32(element["N"]) is None:
            raise validation(
                f"{prefix} Invalid value for parameter {name}[{position}], Value: "
                f"{element['N']} is outside valid range [-3.4028235E38, 3.4028235E38]. "
                f"IndexName: {index.name}"
            )


# ---- scores ----


def score(distance: str, query: list[float], stored: list[float]) -> float:
    """The score of ``stored`` against ``query`` as the API reference defines it: COSINE
    1 - cosine similarity (0 identical .. 2 opposite, 1 when either vector is zero),
    EUCLIDEAN the distance, DOT_PRODUCT the dot product. Computed in double precision over
    the 32-bit elements and saturated to the 32-bit range (as an emulator captured AWS
    reporting overflowing scores)."""
    if distance == "EUCLIDEAN":
        value = math.sqrt(sum((q - s) * (q - s) for q, s in zip(query, stored, strict=True)))
    elif distance == "DOT_PRODUCT":
        value = math.fsum(q * s for q, s in zip(query, stored, strict=True))
    else:
        dot = math.fsum(q * s for q, s in zip(query, stored, strict=True))
        query_norm = math.sqrt(math.fsum(q * q for q in query))
        stored_norm = math.sqrt(math.fsum(s * s for s in stored))
        if query_norm == 0.0 or stored_norm == 0.0:
            return 1.0
        if query == stored:
            return 0.0
        value = min(2.0, max(0.0, 1.0 - dot / (query_norm * stored_norm)))
    if math.isnan(value):
        return 0.0
    return max(-MAX_F32, min(MAX_F32, value))


def f32_text(value: float) -> str:
    """A 32-bit float as the shortest decimal that reads back as it (``1.0``, ``0.6``,
    ``1e-23``): the index's own copy of a vector element, as a search returns it."""
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        if _f32(text) == value:
            break
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa}e{int(exponent)}"
    return text if "." in text else f"{text}.0"
