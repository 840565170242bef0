"""Fixtures shared by the functional tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater.store.database import MemoryDatabase, SqliteDatabase, open_database


@pytest.fixture(params=["memory", "sqlite"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqliteDatabase | MemoryDatabase]:
    """Each database kind in turn, so one store contract suite runs on every store."""
    database = open_database(None if request.param == "memory" else tmp_path / "data")
    try:
        yield database
    finally:
        database.close()
