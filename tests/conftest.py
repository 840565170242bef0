"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater import Headwater, ManualClock

#: ../shared next to the project root: AWS-recorded conformance data lives there.
SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=["memory", "sqlite"])
def hw(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock) -> Iterator[Headwater]:
    """A Headwater on each store, with a ManualClock."""
    data_dir = None if request.param == "memory" else tmp_path / "data"
    app = Headwater(data_dir=data_dir, clock=clock)
    try:
        yield app
    finally:
        app.close()
