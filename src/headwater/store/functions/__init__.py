"""Function storage: one record per Lambda function (its configuration and code location).

Functions are regional, like on AWS: a function is identified by its region and name (one
account per headwater), so the same name may exist in two regions.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from headwater.core.arn import DEFAULT_REGION

if TYPE_CHECKING:
    from headwater.store.database import Database


@dataclass(frozen=True, slots=True)
class FunctionRecord:
    """A stored function (``$LATEST``).

    ``extra`` keeps AWS-shaped settings headwater echoes but does not act on
    (``Architectures``, ``EphemeralStorage``, ``Tags``, ``Layers``, ``TracingConfig``...).
    """

    name: str
    runtime: str
    handler: str
    role: str
    code_dir: str
    code_sha256: str
    code_size: int
    code_source: str  # "zip" | "directory"
    timeout: int
    memory_size: int
    environment: dict[str, str]
    description: str
    reserved_concurrency: int | None
    last_modified: float
    revision_id: str
    extra: dict[str, Any] = field(default_factory=dict)
    region: str = DEFAULT_REGION

    def with_changes(self, **changes: Any) -> FunctionRecord:
        return replace(self, **changes)


class FunctionStore(Protocol):
    """Persistence for functions."""

    def insert(self, record: FunctionRecord) -> None:
        """Store a new function; ``KeyError`` if its region already has that name."""
        ...

    def replace(self, record: FunctionRecord) -> None:
        """Overwrite an existing function (same region and name); ``KeyError`` if it is gone."""
        ...

    def get(self, region: str, name: str) -> FunctionRecord | None: ...

    def delete(self, region: str, name: str) -> bool:
        """Remove a function; ``False`` if it did not exist."""
        ...

    def list(
        self, region: str, *, after: str | None = None, limit: int | None = None
    ) -> list[FunctionRecord]:
        """A region's functions ordered by name, those named after ``after``, at most ``limit``."""
        ...


def open_function_store(db: Database, default_region: str = DEFAULT_REGION) -> FunctionStore:
    """The function store of ``db`` (one SQL store for every backend).

    ``default_region`` is the region of functions stored before functions were regional
    (the environment's region: they keep working where they were created).
    """
    from headwater.store.functions.sql import SqlFunctionStore

    return SqlFunctionStore(db, default_region)
