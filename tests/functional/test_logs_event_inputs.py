"""GetLogEvents and FilterLogEvents with times and tokens beyond 64 bits (botocore sends any
long, and any token text): found by the odd-input property test, where they overflowed the
store's SQL parameters."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock

HUGE = 2**63


@pytest.fixture
def logs(hw: Headwater, clock: ManualClock) -> Any:
    client = hw.client("logs")
    client.create_log_group(logGroupName="g")
    client.create_log_stream(logGroupName="g", logStreamName="s")
    client.put_log_events(
        logGroupName="g",
        logStreamName="s",
        logEvents=[{"timestamp": int(clock.now() * 1000), "message": "m"}],
    )
    return client


def test_times_beyond_64_bits_are_after_every_event(logs: Any) -> None:
    assert logs.get_log_events(logGroupName="g", logStreamName="s", startTime=HUGE)["events"] == []
    got = logs.get_log_events(logGroupName="g", logStreamName="s", endTime=HUGE)["events"]
    assert [event["message"] for event in got] == ["m"]
    assert logs.filter_log_events(logGroupName="g", startTime=HUGE)["events"] == []
    filtered = logs.filter_log_events(logGroupName="g", endTime=HUGE)["events"]
    assert [event["message"] for event in filtered] == ["m"]


@pytest.mark.parametrize(
    ("method", "token"),
    [
        ("get_log_events", f"f/{HUGE}"),
        ("filter_log_events", base64.urlsafe_b64encode(f"{HUGE}:1".encode()).decode()),
    ],
)
def test_tokens_beyond_64_bits_are_invalid(logs: Any, method: str, token: str) -> None:
    params: dict[str, Any] = {"logGroupName": "g", "nextToken": token}
    if method == "get_log_events":
        params["logStreamName"] = "s"
    with pytest.raises(ClientError) as caught:
        getattr(logs, method)(**params)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"


@pytest.mark.parametrize("token", ["o/-1", "-5"])
def test_a_negative_group_page_token_is_invalid_not_a_page_from_the_end(
    logs: Any, token: str
) -> None:
    # Python's negative slicing turned it into a page counted from the end (second hunt)
    with pytest.raises(ClientError) as caught:
        logs.describe_log_groups(nextToken=token)
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "InvalidParameterException",
        "The specified nextToken is invalid.",
    )
