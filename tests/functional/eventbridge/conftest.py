"""Fixtures of the EventBridge and Scheduler wire tests: a headwater on a ManualClock at
``START`` running functions inline, and boto3 clients through its wire layer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from headwater import Headwater, ManualClock
from headwater.in_process import boto3_in_process
from tests.functional.eventbridge.wire import ENDPOINT, START, Clients, wire_client


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def hw_options() -> dict[str, Any]:
    return {"functions": "inline", "endpoint_url": ENDPOINT}


@pytest.fixture
def client(hw: Headwater) -> Iterator[Clients]:
    """boto3 clients whose requests go through ``hw``'s wire layer."""
    with boto3_in_process(hw):
        yield wire_client


@pytest.fixture
def events(client: Clients) -> Any:
    return client("events")


@pytest.fixture
def scheduler(client: Clients) -> Any:
    return client("scheduler")
