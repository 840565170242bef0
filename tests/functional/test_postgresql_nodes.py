"""Two headwater nodes on one PostgreSQL database, in one process: what one node creates
the other sees and runs (function code included), and definitions changed on one are
seen by the other's caches."""

from __future__ import annotations

import io
import shutil
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
from botocore.exceptions import ClientError

from headwater import Headwater

CODE = "def handler(event, context):\n    return {'echo': event}\n"


@pytest.fixture
def nodes(pg_url: str, tmp_path: Path) -> Iterator[tuple[Headwater, Headwater]]:
    # poll_fallback_seconds=0: every call sees the other node's definition changes (the
    # default lets caches be up to 0.1 s stale, like AWS's propagation delays)
    options = {"functions": "inline", "poll_fallback_seconds": 0.0}
    first = Headwater(tmp_path / "a", database_url=pg_url, **options)
    second = Headwater(tmp_path / "b", database_url=pg_url, **options)
    try:
        yield first, second
    finally:
        second.close()
        first.close()


def zipped(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def invoke(hw: Headwater, name: str) -> object:
    response = hw.lambda_.invoke(FunctionName=name, Payload=b'{"n": 1}')
    return orjson.loads(response["Payload"].read())


def test_function_code_is_shared_not_a_local_path(
    nodes: tuple[Headwater, Headwater], tmp_path: Path
) -> None:
    first, second = nodes
    first.lambda_.create_function(
        FunctionName="zipped",
        Runtime="python3.11",
        Role="arn:aws:iam::000000000000:role/r",
        Handler="app.handler",
        Code={"ZipFile": zipped(CODE)},
    )
    assert invoke(second, "zipped") == {"echo": {"n": 1}}
    # a directory is shared as a snapshot: the other node runs it after it is gone here
    directory = tmp_path / "dir-code"
    directory.mkdir()
    (directory / "app.py").write_text(CODE)
    first.lambda_.create_function_from_directory("from-dir", directory, "app.handler")
    shutil.rmtree(directory)
    assert invoke(second, "from-dir") == {"echo": {"n": 1}}


def test_definitions_and_races_across_nodes(nodes: tuple[Headwater, Headwater]) -> None:
    first, second = nodes
    url = first.sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "5"})["QueueUrl"]
    second.sqs.send_message(QueueUrl=url, MessageBody="hello")  # second caches the queue
    first.sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "7"})
    got = second.sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    assert got[0]["Body"] == "hello"
    attributes = second.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    assert attributes["Attributes"]["VisibilityTimeout"] == "7"
    # a create race answers like AWS: same attributes -> the same queue, others -> an error
    assert second.sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "7"})[
        "QueueUrl"
    ].endswith("/q")
    with pytest.raises(ClientError) as error:
        second.sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "9"})
    assert error.value.response["Error"]["Code"] == "QueueAlreadyExists"
    second.sqs.delete_queue(QueueUrl=url)
    with pytest.raises(ClientError):
        first.sqs.send_message(QueueUrl=url, MessageBody="gone")


def test_a_mapping_create_race_yields_one_mapping(
    nodes: tuple[Headwater, Headwater], tmp_path: Path
) -> None:
    first = nodes[0]
    first.sqs.create_queue(QueueName="race")
    directory = tmp_path / "race-code"
    directory.mkdir()
    (directory / "app.py").write_text(CODE)
    first.lambda_.create_function_from_directory("racer", directory, "app.handler")
    outcomes = race(
        nodes,
        lambda hw, _: hw.lambda_.create_event_source_mapping(
            FunctionName="racer", EventSourceArn="arn:aws:sqs:us-east-1:000000000000:race"
        ),
    )
    assert outcomes == ["ResourceConflictException", "created"]
    assert len(first.lambda_.list_event_source_mappings()["EventSourceMappings"]) == 1


def race(
    nodes: tuple[Headwater, Headwater], create: Callable[[Headwater, int], object]
) -> list[str]:
    """Both nodes call ``create`` at once; what each got: "created" or the AWS error code."""
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def run(hw: Headwater, index: int) -> None:
        start.wait()
        try:
            create(hw, index)
            outcomes.append("created")
        except ClientError as error:
            outcomes.append(error.response["Error"]["Code"])

    threads = [threading.Thread(target=run, args=(hw, i)) for i, hw in enumerate(nodes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(outcomes)


def test_create_races_yield_one_resource_and_aws_errors(
    nodes: tuple[Headwater, Headwater],
) -> None:
    """Queue, stream and function creates racing on two nodes: one wins, the other gets
    AWS's error (a queue with other attributes is QueueAlreadyExists)."""
    for round_ in range(5):
        outcomes = race(
            nodes,
            lambda hw, i, round_=round_: hw.sqs.create_queue(
                QueueName=f"q{round_}", Attributes={"VisibilityTimeout": str(30 + i)}
            ),
        )
        assert outcomes == ["QueueAlreadyExists", "created"]
        outcomes = race(
            nodes,
            lambda hw, i, round_=round_: hw.kinesis.create_stream(
                StreamName=f"s{round_}", ShardCount=1
            ),
        )
        assert outcomes == ["ResourceInUseException", "created"]
        outcomes = race(
            nodes,
            lambda hw, i, round_=round_: hw.lambda_.create_function(
                FunctionName=f"f{round_}",
                Runtime="python3.11",
                Role="arn:aws:iam::000000000000:role/r",
                Handler="app.handler",
                Code={"ZipFile": zipped(CODE)},
            ),
        )
        assert outcomes == ["ResourceConflictException", "created"]
    first = nodes[0]
    assert len(first.sqs.list_queues()["QueueUrls"]) == 5
    assert len(first.kinesis.list_streams()["StreamNames"]) == 5
    assert len(first.lambda_.list_functions()["Functions"]) == 5
