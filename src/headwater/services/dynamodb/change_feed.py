"""The change feed: what DynamoDB Streams is built on.

Every successful write to a table whose stream is enabled (PutItem, UpdateItem,
DeleteItem, BatchWriteItem, TransactWriteItems, PartiQL writes and TTL deletions) appends
one ``ChangeRecord`` **in the same transaction as the write**, so a write and its record
commit or roll back together and records of a table are in commit order. A write that
finds nothing and leaves nothing (deleting a missing item) records nothing; a write that
leaves the item as it was is recorded with ``changed=False`` (Streams emits nothing for
it). Writes made while the stream is disabled are not recorded, as on AWS. On SQLite
(files and memory) the statement that stores an item appends its record (triggers,
``TableStore.captures_changes``), so a put needs neither a transaction nor the old item
in Python; deletions, and every write on PostgreSQL, are appended by ``record``.

Each enabling of a table's stream opens a new stream (``StreamInfo``, with its own ARN
and label); disabling it or deleting the table closes it. A stream covers the table's
records with ``first_sequence < sequence <= last_sequence`` (``last_sequence`` is
``None`` while it is open). Records and closed streams are kept 24 hours (clock time).

Interface for the DynamoDB Streams service (``hw.service("dynamodb").feed``):

- ``streams(account, region, table_name=None) -> list[StreamInfo]`` and
  ``stream(arn) -> StreamInfo | None``;
- ``read(stream_arn, after=0, limit=1000) -> list[ChangeRecord]``: records with
  ``sequence > after``, oldest first (``sequence`` grows by one per record of the table);
- ``shards(stream_arn, now) -> list[ShardView]`` and ``read_shard(stream_arn, shard_id,
  after, limit) -> (records, end_reached)``: the stream cut into shards like DynamoDB's.
  One shard is open at a time; it closes after ``shard_seconds`` of clock time (or when
  the stream is disabled) and a child opens where it ended, so readers that finish a
  parent before its child see each item's records in order;
- ``subscribe(callback) -> unsubscribe``: ``callback(stream_arn)`` runs after a write
  with records for that stream has committed (from the writing thread: keep it short,
  e.g. ``loop.call_soon_threadsafe``). A bounded poll fallback still belongs in readers:
  another process may write the store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from headwater.core.expressions.values import item_size, items_equal
from headwater.core.listeners import Listeners
from headwater.store.tables import ChangeRow, ShardRow, StreamRow, TableStore
from headwater.store.tables.codec import decode_item, encode_item

if TYPE_CHECKING:
    from headwater.services.dynamodb.schema import TableSchema

Item = dict[str, Any]
EventName = Literal["INSERT", "MODIFY", "REMOVE"]
#: How long change records and closed streams are kept (DynamoDB Streams: 24 hours).
RETENTION_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    """One committed write to an item."""

    stream_arn: str
    #: Position in the table's feed: grows by one per record, never reused.
    sequence: int
    #: Clock time of the write (epoch seconds).
    created: float
    event_name: EventName
    keys: Item
    old_image: Item | None
    new_image: Item | None
    #: False when the write left the item exactly as it was (no stream record on AWS).
    changed: bool
    #: True for deletions made by DynamoDB itself (TTL): userIdentity is the service.
    by_service: bool
    size_bytes: int


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """One stream of a table."""

    arn: str
    label: str
    table_name: str
    account: str
    region: str
    view_type: str
    key_schema: list[dict[str, str]]
    created: float
    first_sequence: int
    #: ``None`` while the stream is enabled.
    last_sequence: int | None
    disabled_at: float | None

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None


@dataclass(frozen=True, slots=True)
class ShardView:
    """One shard of a stream: its records have ``first_sequence < sequence <= last``."""

    shard_id: str
    parent_shard_id: str | None
    created: float
    first_sequence: int
    #: ``None`` while the shard is open.
    last_sequence: int | None

    @property
    def closed(self) -> bool:
        return self.last_sequence is not None


def shard_id_for(stream_arn: str, index: int, created: float) -> str:
    """``shardId-<20 digits: creation ms>-<8 hex>`` as DynamoDB names shards."""
    digest = hashlib.sha256(f"{stream_arn}#{index}".encode()).hexdigest()[:8]
    return f"shardId-{int(created * 1000):020d}-{digest}"


def _shard_view(row: ShardRow) -> ShardView:
    return ShardView(row.shard_id, row.parent_id, row.created, row.first_seq, row.last_seq)


def _info(row: StreamRow) -> StreamInfo:
    return StreamInfo(
        row.arn, row.label, row.table_name, row.account, row.region, row.view_type,
        row.key_schema, row.created, row.first_seq, row.last_seq, row.disabled,
    )  # fmt: skip


def _record(row: ChangeRow, key_names: list[str]) -> ChangeRecord:
    """The record of a row; ``key_names``: the key attributes of the row's stream."""
    old = None if row.old_image is None else decode_item(row.old_image)
    new = None if row.new_image is None else decode_item(row.new_image)
    changed = row.changed
    size = row.size
    if row.keys:
        keys = decode_item(row.keys)
    else:
        # Recorded by the database itself (TableStore.captures_changes): the keys are
        # the image's key attributes, the size leaves them out, and different bytes may
        # still be the same item ("1" and "1.0", a set in another order).
        image = new if new is not None else old or {}
        keys = {name: image[name] for name in key_names if name in image}
        size += item_size(keys)
        if changed and old is not None and new is not None:
            changed = not items_equal(old, new)
    return ChangeRecord(
        stream_arn=row.stream_arn,
        sequence=row.seq,
        created=row.created,
        event_name=row.event,  # type: ignore[arg-type]
        keys=keys,
        old_image=old,
        new_image=new,
        changed=changed,
        by_service=row.by_service,
        size_bytes=size,
    )


def _key_names(stream: StreamRow) -> list[str]:
    return [part["AttributeName"] for part in stream.key_schema]


class ChangeFeed:
    """Appends change records inside write transactions and serves them to readers."""

    def __init__(self, store: TableStore, shard_seconds: float = 4 * 3600.0) -> None:
        self._store = store
        self._shard_seconds = shard_seconds
        self._listeners: Listeners[Callable[[str], None]] = Listeners()

    # ---- writers (inside the write transaction) ----

    def record(
        self,
        table: TableSchema,
        keys: Item,
        old: Item | None,
        new: Item | None,
        now: float,
        *,
        by_service: bool = False,
        stored: tuple[bytes | None, bytes | None] | None = None,
        sizes: tuple[int, int] | None = None,
    ) -> str | None:
        """Append the record of one write; returns the stream to notify after commit.

        ``stored``: the old and new items as the item table holds them (the bytes just
        read and written), reused as the record's images rather than encoded again;
        ``sizes``: their sizes (0 for none), already known to the writer.
        """
        stream_arn = table.stream_arn
        if stream_arn is None or (old is None and new is None):
            return None
        if new is not None and self._store.captures_changes:
            return stream_arn  # the statement that stored the item recorded it
        if old is None:
            event = "INSERT"
        elif new is None:
            event = "REMOVE"
        else:
            event = "MODIFY"
        if stored is None:
            stored = (
                None if old is None else encode_item(old),
                None if new is None else encode_item(new),
            )
        old_image, new_image = stored
        if sizes is None:
            sizes = (item_size(old) if old else 0, item_size(new) if new else 0)
        # Identical bytes are an identical item; different bytes may still be one
        # ("1" and "1.0", a set in another order): only then compare values.
        changed = old_image != new_image and not items_equal(old, new)
        self._store.append_change(
            table.id,
            stream_arn,
            created=now,
            event=event,
            keys=encode_item(keys),
            old_image=old_image,
            new_image=new_image,
            changed=changed,
            by_service=by_service,
            size=item_size(keys) + sizes[0] + sizes[1],
        )
        return stream_arn

    def notify(self, stream_arns: Iterable[str | None]) -> None:
        """Wake readers of ``stream_arns`` (call after the write committed)."""
        for arn in {arn for arn in stream_arns if arn is not None}:
            self.notify_stream(arn)

    def notify_stream(self, stream_arn: str) -> None:
        """Wake readers of one stream (a single put's; after the write committed)."""
        for callback in self._listeners.snapshot():
            callback(stream_arn)

    # ---- readers ----

    def subscribe(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call ``callback(stream_arn)`` after each commit with records for that stream."""
        return self._listeners.add(callback)

    def stream(self, arn: str) -> StreamInfo | None:
        with self._store.db.read():
            row = self._store.stream(arn)
        return None if row is None else _info(row)

    def streams(self, account: str, region: str, table_name: str | None = None) -> list[StreamInfo]:
        with self._store.db.read():
            rows = self._store.streams(account, region, table_name)
        return [_info(row) for row in rows]

    def read(self, stream_arn: str, after: int = 0, limit: int = 1000) -> list[ChangeRecord]:
        """Records of the stream with ``sequence > after``, oldest first."""
        with self._store.db.read():
            row = self._store.stream(stream_arn)
            if row is None:
                return []
            start = max(after, row.first_seq)
            changes = self._store.changes(row.table_id, start, row.last_seq, limit)
        names = _key_names(row)
        return [_record(change, names) for change in changes if change.stream_arn == stream_arn]

    def shards(self, stream_arn: str, now: float) -> list[ShardView]:
        """The stream's retained shards, oldest first, rolled over up to ``now``.

        Shards are made when first looked at: the first one covers the stream from its
        start; the open one closes at the table's newest record once it is
        ``shard_seconds`` old or the stream is disabled, and its child starts there.
        """
        with self._store.db.read():
            stream = self._store.stream(stream_arn)
            rows = self._store.shards(stream_arn)
        if stream is None:
            return []
        if rows and rows[-1].last_seq is None and not self._due(stream, rows[-1], now):
            return [_shard_view(row) for row in rows]
        with self._store.db.transaction():
            rows = self._store.shards(stream_arn)
            if not rows:
                first = ShardRow(
                    stream_arn, 0, shard_id_for(stream_arn, 0, stream.created), None,
                    stream.created, stream.first_seq,
                )  # fmt: skip
                self._store.insert_shard(first)
                rows = [first]
            last = rows[-1]
            if last.last_seq is None and self._due(stream, last, now):
                if stream.last_seq is not None:
                    end = stream.last_seq
                    when = stream.disabled if stream.disabled is not None else now
                else:
                    end = self._store.last_change_seq(stream.table_id)
                    when = now
                self._store.close_shard(stream_arn, last.idx, end, when)
                if stream.last_seq is None:
                    child_idx = last.idx + 1
                    self._store.insert_shard(
                        ShardRow(
                            stream_arn, child_idx, shard_id_for(stream_arn, child_idx, now),
                            last.shard_id, now, end,
                        )
                    )  # fmt: skip
            rows = self._store.shards(stream_arn)
        return [_shard_view(row) for row in rows]

    def _due(self, stream: StreamRow, shard: ShardRow, now: float) -> bool:
        """Whether the open ``shard`` must close: the stream is disabled or time is up."""
        return stream.last_seq is not None or now >= shard.created + self._shard_seconds

    def read_shard(
        self, stream_arn: str, shard: ShardView, after: int, limit: int
    ) -> tuple[list[ChangeRecord], int, bool]:
        """Records of ``shard`` with ``sequence > after`` (writes that changed nothing
        left out), the position read up to, and whether the end of a closed shard was
        reached. Skips past runs of no-op writes, so a reader always moves on."""
        position = max(after, shard.first_sequence)
        with self._store.db.read():
            row = self._store.stream(stream_arn)
        if row is None:
            return [], position, True
        upto = shard.last_sequence
        if row.last_seq is not None:
            upto = row.last_seq if upto is None else min(upto, row.last_seq)
        records: list[ChangeRecord] = []
        names = _key_names(row)
        while True:
            with self._store.db.read():
                changes = self._store.changes(row.table_id, position, upto, limit)
            if changes:
                position = changes[-1].seq
            for change in changes:
                if change.stream_arn == stream_arn and change.changed:
                    record = _record(change, names)
                    if record.changed:
                        records.append(record)
            exhausted = len(changes) < limit or (upto is not None and position >= upto)
            if records or exhausted:
                break
        return records, position, shard.closed and exhausted

    def first_retained(self, stream_arn: str) -> int | None:
        """The oldest sequence still held for the stream's table (older ones were trimmed)."""
        with self._store.db.read():
            row = self._store.stream(stream_arn)
            return None if row is None else self._store.first_change_seq(row.table_id)

    def latest_sequence(self, stream_arn: str) -> int:
        """The sequence of the newest record the stream holds (its first_sequence if none)."""
        with self._store.db.read():
            row = self._store.stream(stream_arn)
            if row is None:
                return 0
            if row.last_seq is not None:
                return row.last_seq
            return self._store.last_change_seq(row.table_id)

    def trim(self, now: float) -> int:
        """Drop records and closed streams older than the 24-hour retention."""
        with self._store.db.transaction():
            return self._store.trim_changes(now - RETENTION_SECONDS)
