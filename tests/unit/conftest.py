"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest

from tests.unit.api_wire_fakes import FakeServices


@pytest.fixture
def services() -> FakeServices:
    """Fake services behind the wire router, with one SQS queue ``q1`` (the SQS protocols)."""
    fakes = FakeServices()
    fakes.sqs.queues["q1"] = {}
    return fakes
