"""A table's key schema and indexes, and how items and keys are checked against them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from headwater.core.errors import AwsError
from headwater.core.expressions.key_order import (
    encode_key_component,
    encode_key_value,
    encode_number,
    scan_token,
)
from headwater.core.expressions.values import (
    MAX_SIGNIFICANT_DIGITS,
    Item,
    invalid,
    validate_value,
    validation,
    value_type,
)
from headwater.store.tables import IndexEntry, ItemKey, TableRow

MAX_PARTITION_KEY_BYTES = 2048
SCALAR_KEYS = (
    "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed"
)
MAX_SORT_KEY_BYTES = 1024


def key_mismatch() -> AwsError:
    return validation("The provided key element does not match the schema")


@dataclass(frozen=True, slots=True)
class KeySchema:
    """A table's or an index's key. ``hash_key`` and ``range_key`` are its first HASH and
    RANGE attributes; a global index's key may have up to four of each (``multi``), whose
    partition and sort key are stored as the concatenation of their components."""

    hash_key: str
    hash_type: str
    range_key: str | None = None
    range_type: str | None = None
    #: Every key attribute with its type, HASH attributes first, in the schema's order.
    typed: tuple[tuple[str, str], ...] = ()
    #: The HASH and the RANGE attributes of a multi-attribute key (both empty otherwise).
    hash_parts: tuple[tuple[str, str], ...] = ()
    range_parts: tuple[tuple[str, str], ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Every key attribute's name, HASH attributes first."""
        if self.hash_parts:
            return tuple(name for name, _ in self.typed)
        return (self.hash_key,) if self.range_key is None else (self.hash_key, self.range_key)

    @property
    def multi(self) -> bool:
        """Whether the key has several HASH or several RANGE attributes (stored as
        concatenated components, ``composite_key``)."""
        return bool(self.hash_parts)

    def composite_key(self, item: Item) -> tuple[bytes, bytes] | None:
        """A multi-attribute key's ``(partition bytes, sort bytes)`` in ``item`` (None
        when it lacks one of the attributes)."""
        pk = _joined_components(self.hash_parts, item)
        if pk is None:
            return None
        sk = _joined_components(self.range_parts, item)
        return None if sk is None else (pk, sk)


def _joined_components(parts: tuple[tuple[str, str], ...], item: Item) -> bytes | None:
    """The components of ``parts`` in ``item``, concatenated (None if one is missing)."""
    joined = b""
    for name, _ in parts:
        value = item.get(name)
        if value is None:
            return None
        joined += encode_key_component(value)
    return joined


@dataclass(frozen=True, slots=True)
class IndexSchema:
    name: str
    kind: str  # "GSI" | "LSI"
    keys: KeySchema
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    non_key_attributes: frozenset[str]
    arn: str

    @property
    def key_names(self) -> tuple[str, ...]:
        """The attributes every entry of the index holds besides the table's keys."""
        return self.keys.names


@dataclass(frozen=True, slots=True)
class VectorIndexSchema:
    """A vector index: the list-of-numbers attribute it searches, and its SearchSchema."""

    name: str
    attribute: str
    dimensions: int
    distance: str  # COSINE | DOT_PRODUCT | EUCLIDEAN
    #: The SearchSchema's HASH attribute, every search's required equality.
    hash_attribute: str | None
    #: Every SearchSchema attribute (HASH and INLINE_FILTER) with its defined type.
    search_attributes: tuple[tuple[str, str], ...]
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    non_key_attributes: frozenset[str]
    arn: str

    @property
    def key_names(self) -> tuple[str, ...]:
        """The attributes every entry of the index holds besides the table's keys: the
        vector and the SearchSchema attributes."""
        return (self.attribute, *(name for name, _ in self.search_attributes))


@dataclass(frozen=True, slots=True)
class TableSchema:
    """What item operations need to know of a table (from its stored spec)."""

    id: int
    version: int
    account: str
    region: str
    name: str
    arn: str
    keys: KeySchema
    indexes: dict[str, IndexSchema]
    stream_arn: str | None
    ttl_attribute: str | None
    has_local_indexes: bool
    spec: dict[str, Any]
    vector_indexes: tuple[VectorIndexSchema, ...] = ()

    @classmethod
    def from_row(cls, row: TableRow) -> TableSchema:
        spec = row.spec
        types = {a["AttributeName"]: a["AttributeType"] for a in spec["AttributeDefinitions"]}
        indexes: dict[str, IndexSchema] = {}
        for kind, field in (("GSI", "GlobalSecondaryIndexes"), ("LSI", "LocalSecondaryIndexes")):
            for index in spec.get(field, []):
                projection = index.get("Projection", {})
                indexes[index["IndexName"]] = IndexSchema(
                    name=index["IndexName"],
                    kind=kind,
                    keys=key_schema(index["KeySchema"], types),
                    projection=projection.get("ProjectionType", "ALL"),
                    non_key_attributes=frozenset(projection.get("NonKeyAttributes", [])),
                    arn=f"{spec['TableArn']}/index/{index['IndexName']}",
                )
        stream = spec.get("StreamSpecification") or {}
        ttl = spec.get("TimeToLive") or {}
        return cls(
            id=row.id,
            version=row.version,
            account=row.account,
            region=row.region,
            name=row.name,
            arn=spec["TableArn"],
            keys=key_schema(spec["KeySchema"], types),
            indexes=indexes,
            stream_arn=spec.get("LatestStreamArn") if stream.get("StreamEnabled") else None,
            ttl_attribute=ttl.get("AttributeName") if ttl.get("Enabled") else None,
            has_local_indexes=bool(spec.get("LocalSecondaryIndexes")),
            spec=spec,
            vector_indexes=tuple(
                _vector_index_schema(index, types, spec["TableArn"])
                for index in spec.get("VectorIndexes", [])
            ),
        )

    # ---- keys ----

    def item_key(self, item: Item) -> ItemKey:
        """The stored key of a full item (PutItem), with AWS's messages for bad keys."""
        keys = self.keys
        hash_value = _key_part(item, keys.hash_key, keys.hash_type, MAX_PARTITION_KEY_BYTES)
        pk = encode_key_value(hash_value)
        sk = b""
        if keys.range_key is not None:
            assert keys.range_type is not None
            sk = encode_key_value(
                _key_part(item, keys.range_key, keys.range_type, MAX_SORT_KEY_BYTES)
            )
        return ItemKey(scan_token(pk), pk, sk)

    def key_of(self, key: Any) -> tuple[Item, ItemKey]:
        """A ``Key`` parameter (exactly the key attributes) as ``(key item, stored key)``."""
        keys = self.keys
        range_key = keys.range_key
        if type(key) is dict and len(key) == (1 if range_key is None else 2):
            # Most keys are ASCII strings and positive integers: checked and encoded
            # here in one step, anything else by the general checks below.
            hash_value: Any = key.get(keys.hash_key)
            pk = _plain_key_bytes(hash_value, keys.hash_type, MAX_PARTITION_KEY_BYTES)
            if pk is not None:
                if range_key is None:
                    return {keys.hash_key: hash_value}, ItemKey(scan_token(pk), pk, b"")
                range_value: Any = key.get(range_key)
                sk = _plain_key_bytes(range_value, keys.range_type, MAX_SORT_KEY_BYTES)
                if sk is not None:
                    plain: Item = {keys.hash_key: hash_value, range_key: range_value}
                    return plain, ItemKey(scan_token(pk), pk, sk)
        return self.checked_key_of(key)

    def checked_key_of(self, key: Any) -> tuple[Item, ItemKey]:
        """``key_of`` by the general checks, with AWS's messages for bad keys."""
        keys = self.keys
        if isinstance(key, dict):
            # Every value is checked on its own (as AWS checks the request before the
            # table's schema), so a malformed value is named even where the key's
            # attributes do not match the schema.
            key = {name: validate_value(value) for name, value in key.items()}
        if not isinstance(key, dict) or len(key) != len(keys.names):
            raise key_mismatch()
        checked: Item = {}
        for name, kind in ((keys.hash_key, keys.hash_type), (keys.range_key, keys.range_type)):
            if name is None:
                continue
            value = key.get(name)
            if value is None:
                raise key_mismatch()
            if value_type(value) != kind:
                raise key_mismatch()
            check_key_not_empty(value, name)
            checked[name] = value
        return checked, self.item_key(checked)

    def key_attributes(self, item: Item) -> Item:
        return {name: item[name] for name in self.keys.names}

    def stored_key_to_item(self, item: Item) -> Item:
        return self.key_attributes(item)

    def index_attributes(self, index: IndexSchema | VectorIndexSchema) -> set[str]:
        """The attributes a KEYS_ONLY or INCLUDE index holds: the keys and what it projects."""
        keep = set(self.keys.names) | set(index.key_names)
        if index.projection == "INCLUDE":
            keep |= index.non_key_attributes
        return keep

    def index_view(self, index: IndexSchema | VectorIndexSchema, item: Item) -> Item:
        """What ``index`` holds of ``item`` (all of it for an ALL projection)."""
        if index.projection == "ALL":
            return item
        keep = self.index_attributes(index)
        return {k: v for k, v in item.items() if k in keep}

    def check_scalar_key_paths(self, paths: Iterable[Sequence[Any]]) -> None:
        """A request may name a table or index key only as a whole: AWS refuses a map
        lookup or list index into one, naming the table's keys before the indexes'."""
        self.check_scalar_keys({str(path[0]) for path in paths if len(path) > 1})

    def check_scalar_keys(self, nested_heads: set[str]) -> None:
        """``nested_heads``: the attributes a request's nested paths (``a.b``, ``a[0]``)
        start from."""
        if not nested_heads:
            return
        for name in self.keys.names:
            if name in nested_heads:
                raise validation(f"{SCALAR_KEYS}: Key: {name}")
        for index in self.indexes.values():
            for name in index.keys.names:
                if name in nested_heads:
                    raise validation(f"{SCALAR_KEYS}: IndexKey: {name}")

    # ---- indexes ----

    def index_entries(self, item: Item, item_key: ItemKey) -> list[IndexEntry]:
        """The index entries of ``item``: one per index whose key attributes it has."""
        entries: list[IndexEntry] = []
        for index in self.indexes.values():
            keys = index.keys
            if keys.hash_parts:
                found = keys.composite_key(item)
                if found is not None:
                    pk, sk = found
                    entries.append(
                        IndexEntry(index.name, ItemKey(scan_token(pk), pk, sk), item_key)
                    )
                continue
            hash_value = item.get(keys.hash_key)
            if hash_value is None:
                continue
            range_value = None
            if keys.range_key is not None:
                range_value = item.get(keys.range_key)
                if range_value is None:
                    continue
            pk = encode_key_value(hash_value)
            sk = b"" if range_value is None else encode_key_value(range_value)
            entries.append(IndexEntry(index.name, ItemKey(scan_token(pk), pk, sk), item_key))
        return entries

    def check_index_keys(self, item: Item, *, updating: bool = False) -> None:
        """Index key attributes present in ``item`` must have the index's type, not be empty
        and fit the key size limits.
        ``updating``: ``item`` is an update's result, whose empty key AWS words apart."""
        for index in reversed(list(self.indexes.values())):
            # ``typed`` lists the HASH attributes first: one, or a multi-attribute key's few
            hash_count = len(index.keys.hash_parts) or 1
            for position, (name, kind) in enumerate(index.keys.typed):
                if name not in item:
                    continue
                actual = value_type(item[name])
                if actual != kind:
                    raise invalid(
                        f"Type mismatch for Index Key {name} Expected: {kind} Actual: {actual} "
                        f"IndexName: {index.name}"
                    )
                value = item[name][actual]
                if actual in ("S", "B") and len(value) == 0:
                    word = "string" if actual == "S" else "binary"
                    if updating:  # without the index's name
                        raise validation(
                            "One or more parameter values are not valid. The update expression "
                            "attempted to update a secondary index key to a value that is not "
                            "supported. The AttributeValue for a key attribute cannot contain "
                            f"an empty {word} value."
                        )
                    raise validation(
                        "One or more parameter values are not valid. A value specified for a "
                        "secondary index key is not supported. The AttributeValue for a key "
                        f"attribute cannot contain an empty {word} value. "
                        f"IndexName: {index.name}, IndexKey: {name}"
                    )
                if actual != "N":
                    # An index key attribute is held to the table key's limits, each
                    # attribute of a multi-attribute key on its own.
                    limit = MAX_PARTITION_KEY_BYTES if position < hash_count else MAX_SORT_KEY_BYTES
                    size = len(value) if actual == "B" or value.isascii() else len(value.encode())
                    if size > limit:
                        raise invalid(
                            f"Size limit exceeded for Index Key {name} Actual Size: {size} bytes "
                            f"Max Size: {limit} bytes IndexName: {index.name}"
                        )


def _vector_index_schema(
    index: dict[str, Any], types: dict[str, str], table_arn: str
) -> VectorIndexSchema:
    schema = index.get("SearchSchema", [])
    projection = index.get("Projection", {})
    return VectorIndexSchema(
        name=index["IndexName"],
        attribute=index["VectorAttribute"]["AttributeName"],
        dimensions=index["Dimensions"],
        distance=index["DistanceFunction"],
        hash_attribute=next(
            (e["AttributeName"] for e in schema if e["SearchSchemaElementType"] == "HASH"), None
        ),
        search_attributes=tuple(
            (e["AttributeName"], types.get(e["AttributeName"], "S")) for e in schema
        ),
        projection=projection.get("ProjectionType", "ALL"),
        non_key_attributes=frozenset(projection.get("NonKeyAttributes", [])),
        arn=f"{table_arn}/index/{index['IndexName']}",
    )


def key_schema(elements: list[dict[str, str]], types: dict[str, str]) -> KeySchema:
    hashes = tuple(
        (e["AttributeName"], types[e["AttributeName"]]) for e in elements if e["KeyType"] == "HASH"
    )
    ranges = tuple(
        (e["AttributeName"], types[e["AttributeName"]]) for e in elements if e["KeyType"] == "RANGE"
    )
    multi = len(hashes) > 1 or len(ranges) > 1
    return KeySchema(
        hashes[0][0],
        hashes[0][1],
        ranges[0][0] if ranges else None,
        ranges[0][1] if ranges else None,
        typed=hashes + ranges,
        hash_parts=hashes if multi else (),
        range_parts=ranges if multi else (),
    )


def check_key_not_empty(value: dict[str, Any], name: str) -> None:
    kind = value_type(value)
    if kind in ("S", "B") and len(value[kind]) == 0:
        word = "string" if kind == "S" else "binary"
        raise validation(
            "One or more parameter values are not valid. The AttributeValue for a key attribute "
            f"cannot contain an empty {word} value. Key: {name}"
        )


def _plain_key_bytes(value: Any, kind: str | None, limit: int) -> bytes | None:
    """The stored bytes of a key value that is a non-empty ASCII string or a positive
    integer of at most 38 digits without leading zeros, of the key's type, within
    ``limit``: ``encode_key_value`` of it, valid as it is. ``None`` for anything else."""
    if type(value) is not dict or len(value) != 1:
        return None
    text = value.get(kind)
    if type(text) is not str or not text or not text.isascii():
        return None
    if kind == "S":
        return text.encode("ascii") if len(text) <= limit else None
    if kind == "N" and len(text) <= MAX_SIGNIFICANT_DIGITS and text.isdigit() and text[0] != "0":
        return encode_number(text)
    return None


def _key_part(item: Item, name: str, kind: str, limit: int) -> dict[str, Any]:
    value = item.get(name)
    if value is None:
        raise invalid(f"Missing the key {name} in the item")
    actual = value_type(value)
    if actual != kind:
        raise invalid(f"Type mismatch for key {name} expected: {kind} actual: {actual}")
    if kind != "N":
        raw = value[kind]
        if not raw:
            check_key_not_empty(value, name)
        size = len(raw.encode("utf-8")) if kind == "S" and not raw.isascii() else len(raw)
        if size > limit:
            if limit == MAX_PARTITION_KEY_BYTES:
                raise invalid("Size of hashkey has exceeded the maximum size limit of2048 bytes")
            raise invalid(
                "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
            )
    return value
