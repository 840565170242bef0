"""Shared fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from headwater import Headwater, ManualClock

# CI runs (CI=true) replay the same examples every time, so a submission's result does not
# depend on which random examples a run happened to draw; local runs keep exploring and
# remember counterexamples in .hypothesis/.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

#: AWS-recorded conformance data, copied into the repository (see data/NOTICE).
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def hw_options() -> dict[str, Any]:
    """Extra ``Headwater(...)`` options for ``hw``; a test module overrides this fixture."""
    return {}


@pytest.fixture(params=["memory", "sqlite"])
def hw(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    clock: ManualClock,
    hw_options: dict[str, Any],
) -> Iterator[Headwater]:
    """A Headwater on each store, with a ManualClock."""
    data_dir = None if request.param == "memory" else tmp_path / "data"
    app = Headwater(data_dir=data_dir, clock=clock, **hw_options)
    try:
        yield app
    finally:
        app.close()
