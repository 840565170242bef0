"""CloudWatch Logs with boto3 and the AWS CLI against ``headwater serve``, replaying the
responses AWS recorded (tests/data/recorded/logs.json)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conformance.recorded import assert_matches, recorded
from tests.conformance.server_process import (
    ServerProcess,
    aws_cli,
    boto_client,
    headwater_server,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with headwater_server(tmp_path_factory.mktemp("logs")) as running:
        yield running


@pytest.fixture(scope="module")
def logs(server: ServerProcess) -> Any:
    return boto_client(server.endpoint, "logs")


@pytest.fixture
def group(logs: Any) -> str:
    name = f"/test/{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=name)
    return name


def _error(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call()
    response: dict[str, Any] = caught.value.response
    return response


def _now_ms() -> int:
    return int(time.time() * 1000)


def test_log_group_errors(logs: Any, group: str) -> None:
    assert_matches(
        _error(lambda: logs.create_log_group(logGroupName=group)),
        recorded("logs", "test_create_log_group_duplicate_error", "error-duplicate-log-group"),
    )
    assert_matches(
        _error(lambda: logs.create_log_group(logGroupName="a" * 513)),
        recorded("logs", "test_create_log_group_invalid_name_length", "error-invalid-name-length"),
    )
    assert_matches(
        _error(lambda: logs.describe_log_groups(logGroupNamePrefix="x", logGroupNamePattern="y")),
        recorded(
            "logs", "test_describe_log_groups_prefix_and_pattern_error", "error-prefix-and-pattern"
        ),
    )


def test_describe_log_groups_with_prefix_and_kms(logs: Any) -> None:
    prefix = f"/p/{uuid.uuid4().hex[:6]}"
    for index in range(3):
        logs.create_log_group(logGroupName=f"{prefix}-{index}")
    found = logs.describe_log_groups(logGroupNamePrefix=prefix)
    assert_matches(
        found,
        recorded("logs", "test_describe_log_groups_with_prefix", "describe-log-groups-prefix"),
    )
    key = "arn:aws:kms:us-west-2:000000000000:key/abc"
    logs.create_log_group(logGroupName=f"{prefix}kms", kmsKeyId=key)
    assert_matches(
        logs.describe_log_groups(logGroupNamePrefix=f"{prefix}kms"),
        recorded("logs", "test_create_log_group_with_kms_key", "describe-log-groups-with-kms"),
    )


def test_log_group_tags(logs: Any) -> None:
    name = f"/tags/{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=name, tags={"env": "testing1"})
    test = "test_tag_resource_api"
    assert_matches(
        logs.list_tags_log_group(logGroupName=name),
        recorded("logs", test, "list-tags-after-create"),
    )
    arn = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]["logGroupArn"]
    logs.tag_resource(resourceArn=arn, tags={"test1": "val1", "test2": "val2"})
    assert_matches(
        logs.list_tags_for_resource(resourceArn=arn),
        recorded("logs", test, "list-tags-for-resource-after-tag-resource"),
    )
    logs.tag_log_group(logGroupName=name, tags={"test3": "val3"})
    assert_matches(
        logs.list_tags_log_group(logGroupName=name),
        recorded("logs", test, "list-tags-log-group-after-tag-log-group"),
    )
    logs.untag_resource(resourceArn=arn, tagKeys=["env", "test1", "test3"])
    assert_matches(
        logs.list_tags_for_resource(resourceArn=arn),
        recorded("logs", test, "list-tags-for-resource-after-untag"),
    )


def test_log_streams(logs: Any, group: str) -> None:
    for name in ("s-1", "s-2", "s-3", "other"):
        logs.create_log_stream(logGroupName=group, logStreamName=name)
    assert_matches(
        logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="s-"),
        recorded("logs", "test_describe_log_streams_with_prefix", "describe-streams-with-prefix"),
    )
    assert_matches(
        _error(lambda: logs.create_log_stream(logGroupName=group, logStreamName="s-1")),
        recorded("logs", "test_create_log_stream_duplicate_error", "error-duplicate-log-stream"),
    )
    arn = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["logGroupArn"]
    by_arn = logs.describe_log_streams(logGroupIdentifier=arn, logStreamNamePrefix="other")
    assert [s["logStreamName"] for s in by_arn["logStreams"]] == ["other"]
    assert_matches(
        _error(lambda: logs.describe_log_streams(logGroupName=group, logGroupIdentifier=arn)),
        recorded(
            "logs",
            "test_describe_log_streams_with_log_group_identifier",
            "error-both-name-and-identifier",
        ),
    )
    logs.delete_log_stream(logGroupName=group, logStreamName="other")
    names = [
        s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group)["logStreams"]
    ]
    assert names == ["s-1", "s-2", "s-3"]


def test_put_and_get_log_events(logs: Any, group: str) -> None:
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = _now_ms()
    test = "test_put_log_events"
    assert_matches(
        _error(
            lambda: logs.put_log_events(
                logGroupName=group, logStreamName="missing",
                logEvents=[{"timestamp": now, "message": "x"}],
            )
        ),
        recorded("logs", f"{test}_to_invalid_stream", "error-invalid-stream"),
    )  # fmt: skip
    assert_matches(
        _error(
            lambda: logs.put_log_events(
                logGroupName=group, logStreamName="s",
                logEvents=[
                    {"timestamp": now, "message": "b"},
                    {"timestamp": now - 1, "message": "a"},
                ],
            )
        ),
        recorded("logs", f"{test}_wrong_order", "error-wrong-order"),
    )  # fmt: skip
    too_old = logs.put_log_events(
        logGroupName=group, logStreamName="s",
        logEvents=[{"timestamp": now - 15 * 86400 * 1000, "message": "old"}],
    )  # fmt: skip
    assert too_old["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 0}
    too_new = logs.put_log_events(
        logGroupName=group, logStreamName="s",
        logEvents=[{"timestamp": now + 3 * 3600 * 1000, "message": "new"}],
    )  # fmt: skip
    assert too_new["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 0}
    logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[{"timestamp": now + i, "message": f"line {i}"} for i in range(5)],
    )
    head = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True, limit=2)
    assert [e["message"] for e in head["events"]] == ["line 0", "line 1"]
    more = logs.get_log_events(
        logGroupName=group, logStreamName="s", nextToken=head["nextForwardToken"], limit=10
    )
    assert [e["message"] for e in more["events"]] == ["line 2", "line 3", "line 4"]
    done = logs.get_log_events(
        logGroupName=group, logStreamName="s", nextToken=more["nextForwardToken"]
    )
    assert done["events"] == [] and done["nextForwardToken"] == more["nextForwardToken"]
    tail = logs.get_log_events(logGroupName=group, logStreamName="s", limit=2)
    assert [e["message"] for e in tail["events"]] == ["line 3", "line 4"]
    assert_matches(
        _error(lambda: logs.get_log_events(logGroupName=group, logStreamName="s", nextToken="x")),
        recorded("logs", "test_get_log_events_invalid_token", "error-invalid-token"),
    )
    assert_matches(
        _error(lambda: logs.get_log_events(logGroupName=group, logStreamName="s", limit=10001)),
        recorded("logs", "test_get_log_events_limit_validation", "error-limit-exceeded"),
    )
    not_found = "test_resource_does_not_exist"
    assert_matches(
        _error(lambda: logs.get_log_events(logGroupName=group + "x", logStreamName="s")),
        recorded("logs", not_found, "error-log-group-does-not-exist"),
    )
    assert_matches(
        _error(lambda: logs.get_log_events(logGroupName=group, logStreamName="nope")),
        recorded("logs", not_found, "error-log-stream-does-not-exist"),
    )


def test_filter_log_events_patterns_and_paging(logs: Any, group: str) -> None:
    now = _now_ms()
    messages = [
        '{"level": "ERROR", "latency": 120, "path": "/orders/1"}',
        '{"level": "INFO", "latency": 20, "path": "/orders/2"}',
        "ERROR timeout talking to db",
        "WARN slow request",
        "INFO all good",
    ]
    for stream in ("a", "b"):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(messages)],
        )

    def found(pattern: str, **extra: Any) -> list[str]:
        events = logs.filter_log_events(logGroupName=group, filterPattern=pattern, **extra)
        return [e["message"] for e in events["events"]]

    assert found('{ $.level = "ERROR" }', logStreamNames=["a"]) == [messages[0]]
    assert found("{ $.latency > 50 && $.path = /orders/* }", logStreamNames=["a"]) == [messages[0]]
    assert found("ERROR -timeout", logStreamNames=["b"]) == [messages[0]]
    assert found("?WARN ?timeout", logStreamNamePrefix="a") == [messages[2], messages[3]]
    assert found('"all good"') == [messages[4], messages[4]]
    assert found("%slow|good%", logStreamNames=["a"]) == [messages[3], messages[4]]
    first = logs.filter_log_events(logGroupName=group, limit=3)
    assert len(first["events"]) == 3 and "nextToken" in first
    seen = [e["eventId"] for e in first["events"]]
    token = first["nextToken"]
    while token:
        page = logs.filter_log_events(logGroupName=group, limit=3, nextToken=token)
        seen.extend(e["eventId"] for e in page["events"])
        token = page.get("nextToken")
    assert len(seen) == len(set(seen)) == 10
    assert_matches(
        _error(lambda: logs.filter_log_events(logGroupName=group, nextToken="bogus")),
        recorded("logs", "test_filter_log_events_unknown_token", "invalid-token"),
    )
    assert_matches(
        _error(lambda: logs.filter_log_events(logGroupName=group, limit=10001)),
        recorded("logs", "test_filter_log_events_limit_validation", "error-limit-exceeded"),
    )


def test_aws_cli_log_commands(server: ServerProcess) -> None:
    group = f"/cli/{uuid.uuid4().hex[:8]}"
    aws_cli(server, "logs", "create-log-group", "--log-group-name", group)
    aws_cli(server, "logs", "put-retention-policy", "--log-group-name", group,
            "--retention-in-days", "7")  # fmt: skip
    aws_cli(server, "logs", "create-log-stream", "--log-group-name", group,
            "--log-stream-name", "s")  # fmt: skip
    aws_cli(server, "logs", "put-log-events", "--log-group-name", group, "--log-stream-name",
            "s", "--log-events", f"timestamp={_now_ms()},message=hello from the cli")  # fmt: skip
    described = aws_cli(server, "logs", "describe-log-groups", "--log-group-name-prefix", group)
    assert described.json()["logGroups"][0]["retentionInDays"] == 7
    events = aws_cli(server, "logs", "filter-log-events", "--log-group-name", group,
                     "--filter-pattern", "hello", "--interleaved").json()  # fmt: skip
    assert [e["message"] for e in events["events"]] == ["hello from the cli"]
    aws_cli(server, "logs", "delete-log-group", "--log-group-name", group)
    gone = aws_cli(server, "logs", "delete-log-group", "--log-group-name", group, check=False)
    assert gone.returncode != 0 and "ResourceNotFoundException" in gone.stderr
