"""The change feed: what DynamoDB Streams is built on.

Every successful write to a table whose stream is enabled (PutItem, UpdateItem,
DeleteItem, BatchWriteItem, TransactWriteItems, PartiQL writes and TTL deletions) appends
one ``ChangeRecord`` **in the same transaction as the write**, so a write and its record
commit or roll back together and records of a table are in commit order. A write that
finds nothing and leaves nothing (deleting a missing item) records nothing; a write that
leaves the item as it was is recorded with ``changed=False`` (Streams emits nothing for
it). Writes made while the stream is disabled are not recorded, as on AWS.

Each enabling of a table's stream opens a new stream (``StreamInfo``, with its own ARN
and label); disabling it or deleting the table closes it. A stream covers the table's
records with ``first_sequence < sequence <= last_sequence`` (``last_sequence`` is
``None`` while it is open). Records and closed streams are kept 24 hours (clock time).

Interface for the DynamoDB Streams service (``hw.service("dynamodb").feed``):

- ``streams(account, region, table_name=None) -> list[StreamInfo]`` and
  ``stream(arn) -> StreamInfo | None``;
- ``read(stream_arn, after=0, limit=1000) -> list[ChangeRecord]``: records with
  ``sequence > after``, oldest first (``sequence`` grows by one per record of the table);
- ``subscribe(callback) -> unsubscribe``: ``callback(stream_arn)`` runs after a write
  with records for that stream has committed (from the writing thread: keep it short,
  e.g. ``loop.call_soon_threadsafe``). A bounded poll fallback still belongs in readers:
  another process may write the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from headwater.core.expressions.values import item_size, items_equal
from headwater.core.listeners import Listeners
from headwater.store.tables import ChangeRow, StreamRow, TableStore
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


def _info(row: StreamRow) -> StreamInfo:
    return StreamInfo(
        row.arn, row.label, row.table_name, row.account, row.region, row.view_type,
        row.key_schema, row.created, row.first_seq, row.last_seq, row.disabled,
    )  # fmt: skip


def _record(row: ChangeRow) -> ChangeRecord:
    return ChangeRecord(
        stream_arn=row.stream_arn,
        sequence=row.seq,
        created=row.created,
        event_name=row.event,  # type: ignore[arg-type]
        keys=decode_item(row.keys),
        old_image=None if row.old_image is None else decode_item(row.old_image),
        new_image=None if row.new_image is None else decode_item(row.new_image),
        changed=row.changed,
        by_service=row.by_service,
        size_bytes=row.size,
    )


class ChangeFeed:
    """Appends change records inside write transactions and serves them to readers."""

    def __init__(self, store: TableStore) -> None:
        self._store = store
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
    ) -> str | None:
        """Append the record of one write; returns the stream to notify after commit."""
        stream_arn = table.stream_arn
        if stream_arn is None or (old is None and new is None):
            return None
        if old is None:
            event = "INSERT"
        elif new is None:
            event = "REMOVE"
        else:
            event = "MODIFY"
        size = item_size(keys) + (item_size(old) if old else 0) + (item_size(new) if new else 0)
        self._store.append_change(
            ChangeRow(
                table_id=table.id,
                seq=self._store.next_change_seq(table.id),
                stream_arn=stream_arn,
                created=now,
                event=event,
                keys=encode_item(keys),
                old_image=None if old is None else encode_item(old),
                new_image=None if new is None else encode_item(new),
                changed=not items_equal(old, new),
                by_service=by_service,
                size=size,
            )
        )
        return stream_arn

    def notify(self, stream_arns: Iterable[str | None]) -> None:
        """Wake readers of ``stream_arns`` (call after the write committed)."""
        arns = {arn for arn in stream_arns if arn is not None}
        if not arns:
            return
        for callback in self._listeners.snapshot():
            for arn in arns:
                callback(arn)

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
        return [_record(change) for change in changes if change.stream_arn == stream_arn]

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
