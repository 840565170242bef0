"""Event source mapping storage: one record per mapping, its typed ``MappingConfig``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from headwater.core.arn import Arn
from headwater.core.mapping_config import MappingConfig

if TYPE_CHECKING:
    from headwater.store.database import Database


@dataclass(frozen=True, slots=True)
class MappingRecord:
    """A stored event source mapping.

    ``config`` is the parsed configuration (stored in its AWS-shaped form); the other
    fields are identity, state and what lookups need.
    """

    uuid: str
    source_arn: str
    #: ARN the mapping invokes, qualified when the request was (§2.7): the ``FunctionArn``.
    function_arn: str
    #: Unqualified function name (duplicate checks, error texts).
    function_name: str
    #: Settled state: ``Enabled`` or ``Disabled``.
    state: str
    state_reason: str
    last_modified: float
    config: MappingConfig
    #: Stream mappings' ``LastProcessingResult`` (``None`` for SQS mappings).
    processing_result: str | None = None
    #: Insertion order, assigned by the store (stable listing and paging).
    seq: int = 0

    def with_changes(self, **changes: Any) -> MappingRecord:
        return replace(self, **changes)

    @property
    def region(self) -> str:
        """The mapping's region: its function's (mappings are regional, like functions).

        ``function_arn`` is always a full ARN, so rows stored before regions mattered
        keep the region they were created in.
        """
        parsed = Arn.try_parse(self.function_arn)
        return parsed.region if parsed is not None else ""


#: A read-modify-write step: the new record, or ``None`` to leave the stored one unchanged.
MappingChange = Callable[[MappingRecord], MappingRecord | None]


class MappingStore(Protocol):
    """Persistence for event source mappings."""

    def insert(self, record: MappingRecord) -> MappingRecord:
        """Store a new mapping; returns it with ``seq`` assigned. ``KeyError`` if its uuid, or
        its source and function, are taken (a create race with another node)."""
        ...

    def replace(self, record: MappingRecord) -> None:
        """Overwrite an existing mapping (same uuid); ``KeyError`` if it is gone."""
        ...

    def get(self, uuid: str) -> MappingRecord | None: ...

    def update(self, uuid: str, change: MappingChange) -> MappingRecord | None:
        """Atomically apply ``change`` to the stored mapping (one transaction).

        ``change`` gets the current record and returns the record to store (its ``uuid``
        and ``seq`` are kept) or ``None`` for no change; it runs inside the transaction
        (the row is locked), so it must be quick and must not call the store. Returns the
        stored result, or ``None`` if the mapping does not exist.
        """
        ...

    def delete(self, uuid: str) -> bool:
        """Remove a mapping; ``False`` if it did not exist."""
        ...

    def list(
        self, *, function_name: str | None = None, source_arn: str | None = None
    ) -> list[MappingRecord]:
        """Mappings in creation order, optionally only those of a function and/or source."""
        ...


def open_mapping_store(db: Database) -> MappingStore:
    """The mapping store of ``db`` (one SQL store for every backend)."""
    from headwater.store.mappings.sql import SqlMappingStore

    return SqlMappingStore(db)
