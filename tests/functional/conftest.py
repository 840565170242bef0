"""Fixtures shared by the functional tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater.store.database import Database, open_database

BACKENDS = ["memory", "sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def db_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DatabaseFactory]:
    """Opens databases of one backend (each kind in turn), all on the same data."""
    kind = request.param
    url = request.getfixturevalue("pg_url") if kind == "postgresql" else None
    opened: list[Database] = []

    def open_one() -> Database:
        if kind == "memory":
            if opened:
                raise RuntimeError("memory databases are private to one object")
            database = open_database(None)
        else:
            database = open_database(tmp_path / "data", url=url)
        opened.append(database)
        return database

    open_one.kind = kind  # type: ignore[attr-defined]
    try:
        yield open_one
    finally:
        for database in reversed(opened):
            database.close()


DatabaseFactory = object


@pytest.fixture
def db(db_factory: object) -> Database:
    """Each database kind in turn, so one store contract suite runs on every backend."""
    return db_factory()  # type: ignore[operator, no-any-return]
