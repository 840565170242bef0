"""Stream mapping checkpoints: how far each mapping has settled each shard.

A checkpoint is written after every settled batch (success, partial success, discard or
filter-out), so a restarted mapping resumes after the last settled record (at least once).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from headwater.store.database import Database
    from headwater.store.leases import Lease


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A mapping's position in one shard."""

    shard_id: str
    #: Sequence number of the last settled record (``None``: the start position applied but
    #: nothing settled yet; reading starts at the beginning of what the position chose).
    sequence_number: str | None
    #: The shard is closed and every record of it settled: its children may be read.
    finished: bool = False
    #: Open tumbling window carried between invocations (``{"start", "end", "state"}``).
    window: dict[str, Any] | None = None


class CheckpointStore(Protocol):
    """Persistence for stream mapping checkpoints (one per mapping and shard)."""

    def get(self, mapping_uuid: str, shard_id: str) -> Checkpoint | None: ...

    def list(self, mapping_uuid: str) -> dict[str, Checkpoint]:
        """Every checkpoint of a mapping, by shard id."""
        ...

    def save(self, mapping_uuid: str, checkpoint: Checkpoint, fence: Lease | None = None) -> None:
        """Insert or overwrite the checkpoint of ``(mapping_uuid, checkpoint.shard_id)``.

        With a ``fence``, only while that lease is still held under its token (checked in
        the same transaction); otherwise ``LeaseLost`` and nothing changes.
        """
        ...

    def delete_mapping(self, mapping_uuid: str) -> int:
        """Forget every checkpoint of a mapping; returns how many there were."""
        ...


def open_checkpoint_store(db: Database) -> CheckpointStore:
    """The checkpoint store of ``db`` (one SQL store for every backend)."""
    from headwater.store.checkpoints.sql import SqlCheckpointStore

    return SqlCheckpointStore(db)


__all__ = ["Checkpoint", "CheckpointStore", "open_checkpoint_store"]
