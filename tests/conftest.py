"""Shared fixtures."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from headwater import Headwater, ManualClock
from tests import pg_cluster

# CI runs (CI=true) replay the same examples every time, so a submission's result does not
# depend on which random examples a run happened to draw; local runs keep exploring and
# remember counterexamples in .hypothesis/.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

#: AWS-recorded conformance data, copied into the repository (see data/NOTICE).
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str | None]:
    """A PostgreSQL server for the tests: ``$HEADWATER_TEST_POSTGRESQL`` (``.ci/run`` starts
    one), else a throwaway cluster of our own when PostgreSQL is installed, else ``None``."""
    url = os.environ.get("HEADWATER_TEST_POSTGRESQL")
    if url:
        yield url
        return
    if not pg_cluster.available():
        yield None
        return
    # Not under pytest's tmp dir: the cluster's owner (postgres, when root runs the tests)
    # must be able to reach it.
    directory = Path(tempfile.mkdtemp(prefix="headwater-test-pg-"))
    url = pg_cluster.start(directory)
    try:
        yield url
    finally:
        pg_cluster.stop(directory)


@pytest.fixture
def pg_url(pg_server: str | None) -> Iterator[str]:
    """A PostgreSQL URL whose tables are private to this test (a schema of its own)."""
    if pg_server is None:
        if os.environ.get("CI"):
            pytest.fail("CI must provide PostgreSQL (.ci/run starts it)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in pg_server else "?"
    try:
        yield f"{pg_server}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def hw_options() -> dict[str, Any]:
    """Extra ``Headwater(...)`` options for ``hw``; a test module overrides this fixture."""
    return {}


#: Backends the ``hw`` fixture runs each test on. PostgreSQL joins with
#: HEADWATER_TEST_HW_POSTGRESQL=1 (the store contract suites always cover it; the service
#: suites on it are a long run kept out of the default budget).
HW_BACKENDS = ["memory", "sqlite"] + (
    ["postgresql"] if os.environ.get("HEADWATER_TEST_HW_POSTGRESQL") else []
)


@pytest.fixture(params=HW_BACKENDS)
def hw(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    clock: ManualClock,
    hw_options: dict[str, Any],
) -> Iterator[Headwater]:
    """A Headwater on each store, with a ManualClock."""
    data_dir = None if request.param == "memory" else tmp_path / "data"
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    app = Headwater(data_dir=data_dir, clock=clock, database_url=url, **hw_options)
    try:
        yield app
    finally:
        app.close()
