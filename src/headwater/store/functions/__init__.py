"""Function storage: one record per Lambda function (its configuration and code location)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from headwater.store.database import MemoryDatabase, SqliteDatabase


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

    def with_changes(self, **changes: Any) -> FunctionRecord:
        return replace(self, **changes)


class FunctionStore(Protocol):
    """Persistence for functions."""

    def insert(self, record: FunctionRecord) -> None:
        """Store a new function; ``KeyError`` if the name is taken."""
        ...

    def replace(self, record: FunctionRecord) -> None:
        """Overwrite an existing function (same name); ``KeyError`` if it is gone."""
        ...

    def get(self, name: str) -> FunctionRecord | None: ...

    def delete(self, name: str) -> bool:
        """Remove a function; ``False`` if it did not exist."""
        ...

    def list(self, *, after: str | None = None, limit: int | None = None) -> list[FunctionRecord]:
        """Functions ordered by name, those named after ``after`` only, at most ``limit``."""
        ...


def open_function_store(db: SqliteDatabase | MemoryDatabase) -> FunctionStore:
    """The function store for ``db`` (SQLite or memory)."""
    if db.kind == "sqlite":
        from headwater.store.functions.sqlite import SqliteFunctionStore

        return SqliteFunctionStore(db)  # type: ignore[arg-type]
    from headwater.store.functions.memory import MemoryFunctionStore

    return MemoryFunctionStore(db)
