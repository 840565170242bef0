"""One write path for every item write: conditions, index upkeep, the change feed.

``ItemWriter.write`` runs inside the caller's transaction (a single PutItem, a batch or a
transaction), so the item, its index entries and its change record commit together, and
a failed condition or limit changes nothing.

The schema a write follows (its indexes, stream, vector indexes) was read before its
transaction began, and another process may have changed the table since. Every write
checks inside the transaction that its table is still at that schema's version, in the
statement that reads the old item: if not, ``DefinitionsMoved`` rolls the transaction
back and the operation runs again from its schema look-up
(``retried_on_new_definitions``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Collection, Mapping
from typing import Any, NamedTuple, ParamSpec, TypeVar

from headwater.core.clock import Clock
from headwater.core.errors import AwsError
from headwater.core.expressions.values import (
    AttributeValue,
    Item,
    item_size,
    items_equal,
    resized,
    validation,
)
from headwater.services.dynamodb.change_feed import ChangeFeed
from headwater.services.dynamodb.schema import IndexSchema, TableSchema
from headwater.services.dynamodb.tables import ttl_expiry
from headwater.services.dynamodb.vector_indexes import check_vector_write, statistics_change
from headwater.store.tables import ItemKey, TableStore
from headwater.store.tables.codec import decode_item, encode_item

MAX_ITEM_BYTES = 400 * 1024
MAX_ITEM_COLLECTION_BYTES = 10 * 1024**3

#: A condition and the values it reads: ``(tree, values)``.
Condition = tuple[Any, Mapping[str, AttributeValue]]

#: How many times an operation runs before it gives up on a table whose definition keeps
#: moving: the second attempt reads the definition the store holds, so only a table other
#: processes change again within each attempt needs a third.
DEFINITION_ATTEMPTS = 5

P = ParamSpec("P")
R = TypeVar("R")


class DefinitionsMoved(Exception):
    """A write's table is no longer at the version its schema was read at (another process
    or thread changed, dropped or recreated it since), found inside the write transaction,
    which this rolls back. Not an ``AwsError``: an operation's own ``except AwsError`` (a
    transaction's cancellation reasons) lets it through to ``retried_on_new_definitions``."""


def retried_on_new_definitions(operation: Callable[P, R]) -> Callable[P, R]:
    """``operation`` (a write operation that looks its tables up, then writes in one
    transaction) run again while its write finds a table's definition moved; after
    ``DEFINITION_ATTEMPTS``, AWS's InternalServerError, which SDKs retry."""

    @functools.wraps(operation)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        for _ in range(DEFINITION_ATTEMPTS - 1):
            try:
                return operation(*args, **kwargs)
            except DefinitionsMoved:
                continue
        try:
            return operation(*args, **kwargs)
        except DefinitionsMoved:
            raise AwsError(
                "InternalServerError", "Internal server error", status=500, sender_fault=False
            ) from None

    return run


def condition_failed(old: Item | None, return_old: bool) -> AwsError:
    # AWS's body carries the message as "Message": botocore does not copy it to the top
    # level of the error response, as it does for other DynamoDB errors.
    message = "The conditional request failed"
    fields: dict[str, Any] = {"Message": message}
    if return_old and old is not None:
        fields["Item"] = old
    return AwsError("ConditionalCheckFailedException", message, fields=fields)


class WriteOutcome(NamedTuple):
    old: Item | None
    new: Item | None
    #: Stream to notify once the transaction has committed.
    stream_arn: str | None


class ItemWriter:
    """Reads the old item when needed, checks the condition, stores the new item."""

    def __init__(self, store: TableStore, feed: ChangeFeed, clock: Clock) -> None:
        self.store = store
        self.feed = feed
        self.clock = clock

    def read(self, table: TableSchema, key: ItemKey) -> Item | None:
        raw = self.store.get_item(table.id, key)
        return None if raw is None else decode_item(raw)

    def read_current(self, table: TableSchema, key: ItemKey) -> Item | None:
        """``read`` inside a write transaction, which must follow the table's current
        definition (a transaction's condition check): ``DefinitionsMoved`` if it moved."""
        current, found = self.store.get_item_row_if_current(table.id, key, table.version)
        if not current:
            raise DefinitionsMoved
        return None if found is None else decode_item(found[0])

    def needs_old(self, table: TableSchema) -> bool:
        """Whether a blind write would skip work: indexes and streams need the old item, as
        do a vector index's statistics."""
        return (
            bool(table.indexes)
            or table.stream_arn is not None
            or table.has_local_indexes
            or bool(table.vector_indexes)
        )

    def can_put_blind(self, table: TableSchema) -> bool:
        """Whether an unconditional put needs nothing of the old item: no indexes, and no
        stream unless the database records the change itself (its old image included)."""
        return not (
            table.indexes
            or table.has_local_indexes
            or table.vector_indexes
            or (table.stream_arn is not None and not self.store.captures_changes)
        )

    def put_blind(
        self,
        table: TableSchema,
        key: ItemKey,
        item: Item,
        size: int,
        *,
        tables_version: int | None = None,
    ) -> bool:
        """Store ``item`` without reading the old one: one statement, its own transaction.

        Only where ``can_put_blind``, and for writes without a condition or return
        values: nothing else depends on the old item (a streamed table's record is the
        database's own). Only while the table definitions are still at
        ``tables_version`` (``TableStore.put_item_if_current``), or without it while the
        table is at the schema's version (``put_item_if_table_current``): returns False,
        having written nothing, when they moved. ``size`` is the item's ``item_size``.
        """
        if size > MAX_ITEM_BYTES:
            raise validation("Item size has exceeded the maximum allowed size")
        raw, expires = encode_item(item), ttl_expiry(item, table.ttl_attribute)
        with self.store.db.read():
            written = self.clock.now()
            if tables_version is not None:
                return self.store.put_item_if_current(
                    table.id,
                    key,
                    raw,
                    size,
                    expires=expires,
                    written=written,
                    tables_version=tables_version,
                )
            return self.store.put_item_if_table_current(
                table.id,
                key,
                raw,
                size,
                expires=expires,
                written=written,
                table_version=table.version,
            )

    def write_if_unchanged(
        self,
        table: TableSchema,
        key: ItemKey,
        make_new: Callable[[Item | None], Item],
        *,
        condition: Condition | None,
        tables_version: int,
        touched: Collection[str],
    ) -> WriteOutcome | None:
        """``write`` without a transaction, where ``can_put_blind``: the item is read, and
        its replacement stored only if the stored item and the table definitions (at
        ``tables_version``) are unchanged since, checked by the write statement itself.
        ``None``, having written nothing, when they moved or the write would fail (the
        condition, the size): the checked path then runs it in a transaction.
        ``touched``: the top-level attributes ``make_new`` may change, the only ones
        sized again."""
        store = self.store
        with store.db.read():  # two statements, each its own transaction
            found = store.get_item_row(table.id, key)
            old_raw, old_size = found if found is not None else (None, 0)
            old = None if old_raw is None else decode_item(old_raw)
            if condition is not None and not condition[0].evaluate(
                old if old is not None else {}, condition[1]
            ):
                return None
            new = make_new(old)
            size = item_size(new) if old is None else resized(old_size, old, new, touched)
            if size > MAX_ITEM_BYTES:
                return None
            replaced = store.replace_item_if_unchanged(
                table.id,
                key,
                old_raw,
                encode_item(new),
                size,
                expires=ttl_expiry(new, table.ttl_attribute),
                written=self.clock.now(),
                tables_version=tables_version,
            )
        return WriteOutcome(old, new, table.stream_arn) if replaced else None

    def write(
        self,
        table: TableSchema,
        key: ItemKey,
        make_new: Callable[[Item | None], Item | None],
        *,
        condition: Condition | None = None,
        return_old_on_failure: bool = False,
        read_old: bool = True,
        by_service: bool = False,
        updating: bool = False,
    ) -> WriteOutcome:
        """Replace the item at ``key`` by ``make_new(old)`` (``None`` deletes it), inside
        the caller's write transaction; ``DefinitionsMoved`` when ``table`` is no longer
        the table's current schema.

        ``updating``: the new item comes from an update expression, which AWS words its
        size and index key errors for."""
        old_raw: bytes | None = None
        old: Item | None = None
        if read_old or condition is not None:
            current, found = self.store.get_item_row_if_current(table.id, key, table.version)
            if found is not None:
                old_raw, old_size = found
                old = decode_item(old_raw)
        else:
            current = self.store.table_is_current(table.id, table.version)
        if not current:
            raise DefinitionsMoved
        if condition is not None:
            tree, values = condition
            if not tree.evaluate(old if old is not None else {}, values):
                if table.indexes:
                    _check_index_keys_first(table, make_new, old, updating=updating)
                raise condition_failed(old, return_old_on_failure)
        new = make_new(old)
        now = self.clock.now()
        new_raw: bytes | None = None
        new_size = 0
        if new is None:
            if old is None:
                return WriteOutcome(None, None, None)
            self.store.delete_item(table.id, key)
            if table.indexes:
                self.store.remove_index_entries(table.id, table.index_entries(old, key))
            if table.vector_indexes:
                self.store.add_vector_stats(table.id, statistics_change(table, old, None))
        else:
            new_size = item_size(new)
            if new_size > MAX_ITEM_BYTES:
                raise validation(
                    "Item size to update has exceeded the maximum allowed size"
                    if updating
                    else "Item size has exceeded the maximum allowed size"
                )
            if table.indexes:
                table.check_index_keys(new, updating=updating)
            if table.vector_indexes:
                check_vector_write(table, new, old, updating=updating)
                self.store.add_vector_stats(table.id, statistics_change(table, old, new))
            new_raw = encode_item(new)
            self.store.put_item(
                table.id, key, new_raw, new_size, ttl_expiry(new, table.ttl_attribute), written=now
            )
            if table.indexes:
                self._reindex(table, key, old, new)
            if table.has_local_indexes:
                self._check_collection(table, key)
        if table.stream_arn is None:  # no change record to write
            return WriteOutcome(old, new, None)
        # The record's images are the bytes just read and written, not encoded again.
        stream = self.feed.record(
            table,
            table.key_attributes(new or old or {}),
            old,
            new,
            now,
            by_service=by_service,
            stored=(old_raw, new_raw),
            sizes=(old_size if old_raw is not None else 0, new_size),
        )
        return WriteOutcome(old, new, stream)

    def _reindex(self, table: TableSchema, key: ItemKey, old: Item | None, new: Item) -> None:
        before = set(table.index_entries(old, key)) if old is not None else set()
        after = set(table.index_entries(new, key))
        if before - after:
            self.store.remove_index_entries(table.id, before - after)
        if after - before:
            self.store.add_index_entries(table.id, after - before)

    def _check_collection(self, table: TableSchema, key: ItemKey) -> None:
        row = self.store.db.conn.execute(
            "SELECT COALESCE(SUM(size), 0) FROM ddb_items WHERE table_id = ? AND token = ? AND "
            "pk = ?",
            (table.id, key.token, key.pk),
        ).fetchone()
        if row[0] > MAX_ITEM_COLLECTION_BYTES:
            raise AwsError(
                "ItemCollectionSizeLimitExceededException",
                "Item collection size limit exceeded",
            )


# ---- response parts ----


def write_units(*items: Item | None) -> float:
    size = max((item_size(item) for item in items if item is not None), default=0)
    return float(max(1, math.ceil(size / 1024)))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / 4096))
    return float(units if consistent else units / 2)


def _check_index_keys_first(
    table: TableSchema,
    make_new: Callable[[Item | None], Item | None],
    old: Item | None,
    *,
    updating: bool,
) -> None:
    """AWS refuses an index key value the write would store (of the wrong type, empty, too
    large) before it evaluates the write's condition, as dynalite's AWS-checked validation
    order does for PutItem and UpdateItem. Only run once the condition has failed: a write
    that passes it checks its item as it stores it."""
    try:
        new = make_new(old)
    except AwsError:
        return  # an update that cannot apply to the item: the failed condition answers
    if new is not None:
        table.check_index_keys(new, updating=updating)


def index_write_units(table: TableSchema, old: Item | None, new: Item | None) -> dict[str, float]:
    """What a write costs each secondary index, as AWS documents it: nothing for an index
    the item is in neither before nor after, or whose entry the write leaves as it was;
    one write to add, change or remove an entry; two when its index key changes (the old
    entry deleted, the new one put). A write is sized by the entry the index holds."""
    charged: dict[str, float] = {}
    for name, index in table.indexes.items():
        keys = index.keys.names
        before = _index_entry(table, index, old)
        after = _index_entry(table, index, new)
        if before is None and after is None:
            continue
        if before is not None and after is not None:
            if any(before[k] != after[k] for k in keys):
                charged[name] = write_units(before) + write_units(after)
            elif not items_equal(before, after):
                charged[name] = write_units(before, after)
            continue
        charged[name] = write_units(before, after)
    return charged


def _index_entry(table: TableSchema, index: IndexSchema, item: Item | None) -> Item | None:
    """The entry ``item`` has in ``index`` (None when it lacks the index's keys)."""
    if item is None or any(k not in item for k in index.keys.names):
        return None
    return table.index_view(index, item)


def consumed_capacity(
    table: TableSchema,
    mode: str | None,
    units: float,
    kind: str,
    indexes: dict[str, float] | None = None,
    *,
    read_index: str | None = None,
    by_kind: bool = True,
    vector_bytes: dict[str, float] | None = None,
) -> dict[str, Any] | None:
    """ConsumedCapacity for ReturnConsumedCapacity TOTAL / INDEXES (None for NONE).

    ``indexes``: the units a write also cost each index (``index_write_units``);
    ``read_index``: the index a Query or Scan read, which its ``units`` are charged to
    instead of the table. ``by_kind``: each figure also as ReadCapacityUnits /
    WriteCapacityUnits; AWS's PutItem, GetItem, UpdateItem and DeleteItem give
    ``CapacityUnits`` alone. ``vector_bytes``: the VectorWriteRequestBytes a write cost
    each vector index (``vector_write_bytes``), reported under INDEXES only, as AWS does."""
    if mode not in ("TOTAL", "INDEXES"):
        return None
    field = "WriteCapacityUnits" if kind == "write" else "ReadCapacityUnits"

    def figures(value: float) -> dict[str, Any]:
        return {"CapacityUnits": value, field: value} if by_kind else {"CapacityUnits": value}

    charged = dict(indexes or {})
    total = units + sum(charged.values()) if kind == "write" else units
    capacity: dict[str, Any] = {"TableName": table.name, **figures(total)}
    if mode == "INDEXES":
        capacity["Table"] = figures(0.0 if read_index is not None else units)
        if read_index is not None:
            charged = {read_index: units}
        for name, cost in charged.items():
            index = table.indexes[name]
            group = "GlobalSecondaryIndexes" if index.kind == "GSI" else "LocalSecondaryIndexes"
            capacity.setdefault(group, {})[name] = figures(cost)
        if vector_bytes:
            capacity["VectorIndexes"] = {
                name: {"VectorWriteRequestBytes": cost} for name, cost in vector_bytes.items()
            }
    return capacity


def item_collection_metrics(
    table: TableSchema, mode: str | None, item: Item
) -> dict[str, Any] | None:
    if mode != "SIZE" or not table.has_local_indexes:
        return None
    hash_key = table.keys.hash_key
    return {"ItemCollectionKey": {hash_key: item[hash_key]}, "SizeEstimateRangeGB": [0.0, 1.0]}
