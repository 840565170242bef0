"""Functions and event source mappings are regional, as on AWS (memory and SQLite).

A function created by a us-west-2 caller has a us-west-2 ARN, runs with AWS_REGION=us-west-2
and is invisible from us-east-1; its mappings are us-west-2 resources too.
"""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from headwater.core.errors import AwsError

ACCOUNT = "000000000000"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/lambda-role"
WEST_ARN = f"arn:aws:lambda:us-west-2:{ACCOUNT}:function:"
EAST_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:"

HANDLER = """
import json, os

def handler(event, context):
    if os.environ.get("JOURNAL"):
        with open(os.environ["JOURNAL"], "a", encoding="utf-8") as out:
            out.write(json.dumps(
                [[r["body"], r["awsRegion"], r["eventSourceARN"]] for r in event["Records"]]
            ) + "\\n")
        return None
    return {
        "AWS_REGION": os.environ["AWS_REGION"],
        "AWS_DEFAULT_REGION": os.environ["AWS_DEFAULT_REGION"],
        "arn": context.invoked_function_arn,
        "name": context.function_name,
        "log_group": context.log_group_name,
    }
"""


@pytest.fixture
def hw_options() -> dict[str, Any]:
    """``hw`` (tests/conftest.py) runs functions inline here; the default region is us-east-1."""
    return {"functions": "inline"}


@pytest.fixture
def code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("region_app.py", HANDLER)
    return buffer.getvalue()


def create(client: Any, code: bytes, name: str = "fn", **environment: str) -> dict[str, Any]:
    params: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "region_app.handler",
        "Code": {"ZipFile": code},
    }
    if environment:
        params["Environment"] = {"Variables": environment}
    return client.create_function(**params)  # type: ignore[no-any-return]


def error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_function_lives_in_the_callers_region(hw: Headwater, code: bytes) -> None:
    west = hw.client("lambda", region_name="us-west-2")
    east = hw.client("lambda")
    created = create(west, code)
    assert created["FunctionArn"] == WEST_ARN + "fn"
    assert west.get_function(FunctionName="fn")["Configuration"]["FunctionArn"] == WEST_ARN + "fn"
    assert west.get_function(FunctionName=WEST_ARN + "fn")["Configuration"]["FunctionName"] == "fn"

    with pytest.raises(ClientError) as caught:
        east.get_function(FunctionName="fn")
    assert error(caught) == ("ResourceNotFoundException", f"Function not found: {EAST_ARN}fn")
    with pytest.raises(ClientError) as caught:
        east.get_function_configuration(FunctionName=WEST_ARN + "fn")
    assert error(caught) == (
        "ResourceNotFoundException",
        "Functions from 'us-west-2' are not reachable in this region ('us-east-1')",
    )
    with pytest.raises(ClientError) as caught:
        east.invoke(FunctionName="fn", Payload=b"{}")
    assert error(caught)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as caught:
        west.get_function(FunctionName="arn:aws:lambda:us-west-2:111111111111:function:fn")
    assert error(caught)[0] == "ResourceNotFoundException"

    assert east.list_functions()["Functions"] == []
    assert [f["FunctionArn"] for f in west.list_functions()["Functions"]] == [WEST_ARN + "fn"]


def test_same_name_in_two_regions_are_two_functions(hw: Headwater, code: bytes) -> None:
    west = hw.client("lambda", region_name="us-west-2")
    east = hw.client("lambda")
    create(west, code)
    assert create(east, code)["FunctionArn"] == EAST_ARN + "fn"
    west.put_function_concurrency(FunctionName="fn", ReservedConcurrentExecutions=3)
    assert "ReservedConcurrentExecutions" not in east.get_function_concurrency(FunctionName="fn")
    east.update_function_configuration(FunctionName="fn", Timeout=9)
    assert west.get_function_configuration(FunctionName="fn")["Timeout"] == 3
    west.delete_function(FunctionName="fn")
    assert east.get_function(FunctionName="fn")["Configuration"]["Timeout"] == 9
    with pytest.raises(ClientError):
        west.get_function(FunctionName="fn")


def test_handler_runs_in_the_functions_region(hw: Headwater, code: bytes) -> None:
    west = hw.client("lambda", region_name="us-west-2")
    create(west, code)
    body = json.loads(west.invoke(FunctionName="fn", Payload=b"{}")["Payload"].read())
    assert body == {
        "AWS_REGION": "us-west-2",
        "AWS_DEFAULT_REGION": "us-west-2",
        "arn": WEST_ARN + "fn",
        "name": "fn",
        "log_group": "/aws/lambda/fn",
    }
    # The Python API: a full ARN names its region; a bare name needs region=...
    by_arn = hw.lambda_.invoke_function(WEST_ARN + "fn:$LATEST", b"{}")
    assert json.loads(by_arn.payload)["arn"] == WEST_ARN + "fn:$LATEST"
    missing = hw.lambda_.invoke_function("fn", b"{}")
    assert (missing.status, missing.error_code) == ("service_error", "ResourceNotFoundException")
    by_name = hw.client("lambda", "us-west-2").invoke_function("fn", b"{}")
    assert json.loads(by_name.payload)["AWS_REGION"] == "us-west-2"
    assert "START RequestId" in hw.client("lambda", "us-west-2").function_logs("fn")
    assert hw.lambda_.function_logs("fn") == ""


def test_resolve_function_takes_the_region_of_the_reference(hw: Headwater, code: bytes) -> None:
    create(hw.client("lambda", region_name="us-west-2"), code)
    info = hw.service("lambda").resolve_function(WEST_ARN + "fn")
    assert (info.name, info.region, info.arn) == ("fn", "us-west-2", WEST_ARN + "fn")
    assert (
        hw.service("lambda").resolve_function("fn", region="us-west-2").qualified_arn
        == WEST_ARN + "fn"
    )
    with pytest.raises(AwsError) as caught:
        hw.service("lambda").resolve_function("fn")
    assert caught.value.code == "ResourceNotFoundException"
    with pytest.raises(AwsError) as caught:
        hw.service("lambda").resolve_function(WEST_ARN + "fn", region="us-east-1")
    assert caught.value.code == "ResourceNotFoundException"


def test_mappings_are_regional(hw: Headwater, code: bytes) -> None:
    west = hw.client("lambda", region_name="us-west-2")
    east = hw.client("lambda")
    create(west, code)
    url = hw.client("sqs", region_name="us-west-2").create_queue(QueueName="orders")["QueueUrl"]
    queue_arn = f"arn:aws:sqs:us-west-2:{ACCOUNT}:orders"
    assert url.endswith("/orders")

    with pytest.raises(ClientError) as caught:  # the function is not in us-east-1
        east.create_event_source_mapping(FunctionName="fn", EventSourceArn=queue_arn)
    assert error(caught) == ("InvalidParameterValueException", "Function does not exist")
    with pytest.raises(ClientError) as caught:
        east.create_event_source_mapping(FunctionName=WEST_ARN + "fn", EventSourceArn=queue_arn)
    assert error(caught) == ("InvalidParameterValueException", "Function does not exist")

    created = west.create_event_source_mapping(
        FunctionName="fn", EventSourceArn=queue_arn, Enabled=False
    )
    uuid = created["UUID"]
    assert created["FunctionArn"] == WEST_ARN + "fn"
    assert created["EventSourceMappingArn"] == (
        f"arn:aws:lambda:us-west-2:{ACCOUNT}:event-source-mapping:{uuid}"
    )
    assert west.get_event_source_mapping(UUID=uuid)["FunctionArn"] == WEST_ARN + "fn"
    assert [m["UUID"] for m in west.list_event_source_mappings()["EventSourceMappings"]] == [uuid]
    assert east.list_event_source_mappings()["EventSourceMappings"] == []
    assert east.list_event_source_mappings(FunctionName="fn")["EventSourceMappings"] == []
    for call in (
        lambda: east.get_event_source_mapping(UUID=uuid),
        lambda: east.update_event_source_mapping(UUID=uuid, BatchSize=5),
        lambda: east.delete_event_source_mapping(UUID=uuid),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert error(caught) == (
            "ResourceNotFoundException",
            "The resource you requested does not exist.",
        )
    updated = west.update_event_source_mapping(UUID=uuid, FunctionName="fn", BatchSize=5)
    assert (updated["FunctionArn"], updated["BatchSize"]) == (WEST_ARN + "fn", 5)
    assert west.delete_event_source_mapping(UUID=uuid)["State"] == "Deleting"


def test_mapping_in_us_west_2_delivers(hw: Headwater, code: bytes, tmp_path: Path) -> None:
    """End to end through the engine: the us-west-2 mapping invokes the us-west-2 function."""
    journal = tmp_path / "journal"
    west = hw.client("lambda", region_name="us-west-2")
    create(west, code, JOURNAL=str(journal))
    sqs = hw.client("sqs", region_name="us-west-2")
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    queue_arn = f"arn:aws:sqs:us-west-2:{ACCOUNT}:orders"
    west.create_event_source_mapping(FunctionName="fn", EventSourceArn=queue_arn, BatchSize=1)
    with hw.start():
        sqs.send_message(QueueUrl=url, MessageBody="order-1")
        deadline = time.monotonic() + 20
        while not journal.exists() or _pending(sqs, url):
            assert time.monotonic() < deadline, "the us-west-2 mapping did not deliver"
            time.sleep(0.01)
    assert [json.loads(line) for line in journal.read_text().splitlines()] == [
        [["order-1", "us-west-2", queue_arn]]
    ]


def _pending(sqs: Any, url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(found[name]) for name in names)


def test_regional_functions_and_mappings_survive_reopen(tmp_path: Path, code: bytes) -> None:
    data_dir = tmp_path / "data"
    queue_arn = f"arn:aws:sqs:us-west-2:{ACCOUNT}:orders"
    with Headwater(data_dir=data_dir, clock=ManualClock(), functions="inline") as first:
        west = first.client("lambda", region_name="us-west-2")
        create(west, code)
        create(first.client("lambda"), code, name="east-only")
        first.client("sqs", region_name="us-west-2").create_queue(QueueName="orders")
        uuid = west.create_event_source_mapping(
            FunctionName="fn", EventSourceArn=queue_arn, Enabled=False
        )["UUID"]
    with Headwater(data_dir=data_dir, clock=ManualClock(), functions="inline") as second:
        west = second.client("lambda", region_name="us-west-2")
        east = second.client("lambda")
        assert [f["FunctionArn"] for f in west.list_functions()["Functions"]] == [WEST_ARN + "fn"]
        assert [f["FunctionArn"] for f in east.list_functions()["Functions"]] == [
            EAST_ARN + "east-only"
        ]
        assert west.get_event_source_mapping(UUID=uuid)["FunctionArn"] == WEST_ARN + "fn"
        body = json.loads(west.invoke(FunctionName="fn")["Payload"].read())
        assert body["AWS_REGION"] == "us-west-2"


def test_processing_result_and_api_update_both_survive(hw: Headwater, code: bytes) -> None:
    """An API update made while the engine records LastProcessingResult is not lost.

    The engine's write is held open (inside its read-modify-write) while the API update
    runs on another thread: the update must wait for it and keep its field, and the
    engine's write must not restore the configuration it read.
    """
    lam = hw.client("lambda")
    create(lam, code)
    hw.client("sqs").create_queue(QueueName="orders")
    uuid = lam.create_event_source_mapping(
        FunctionName="fn", EventSourceArn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders", Enabled=False
    )["UUID"]
    store = hw.service("lambda").mapping_store
    in_window = threading.Event()
    engine_thread: list[threading.Thread] = []

    def hold(read: Any) -> Any:
        """Pause the engine thread right after it read the mapping."""
        if threading.current_thread() in engine_thread and not in_window.is_set():
            in_window.set()
            time.sleep(0.3)
        return read

    real_get, real_update = store.get, store.update
    store.get = lambda key: hold(real_get(key))  # type: ignore[method-assign]
    store.update = lambda key, change: real_update(  # type: ignore[method-assign]
        key, lambda current: change(hold(current))
    )
    try:
        writer = threading.Thread(
            target=hw.service("lambda").set_processing_result, args=(uuid, "PollingFunctionError")
        )
        engine_thread.append(writer)
        writer.start()
        assert in_window.wait(5)
        lam.update_event_source_mapping(UUID=uuid, BatchSize=7)
        writer.join(5)
    finally:
        store.get, store.update = real_get, real_update  # type: ignore[method-assign]
    found = lam.get_event_source_mapping(UUID=uuid)
    assert found["BatchSize"] == 7
    assert found["LastProcessingResult"] == "PollingFunctionError"
