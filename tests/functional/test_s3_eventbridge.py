"""S3 events to EventBridge (``EventBridgeConfiguration``): every object event goes to the
account's default bus as AWS sends it, stored in the object's transaction, through the wire
and CloudFormation too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from headwater import Headwater, ManualClock
from headwater.in_process import boto3_in_process
from tests.functional.cfn_support import deploy, physical_ids
from tests.functional.eventbridge.wire import ENDPOINT, wire_client
from tests.functional.test_s3_notifications import drain, make_queue

BUCKET = "photos"
ON = {"EventBridgeConfiguration": {}}


@pytest.fixture
def hw_options() -> dict[str, Any]:
    return {"functions": "inline", "endpoint_url": ENDPOINT}


def s3_rule(hw: Headwater, queue_arn: str, pattern: dict[str, Any] | None = None) -> None:
    """A default-bus rule sending S3's events (those ``pattern`` matches) to the queue."""
    hw.events.put_rule(Name="s3", EventPattern=json.dumps(pattern or {"source": ["aws.s3"]}))
    hw.events.put_targets(Rule="s3", Targets=[{"Id": "q", "Arn": queue_arn}])


@pytest.fixture
def inbox(hw: Headwater) -> str:
    """A queue the default bus's S3 events go to, from a bucket that sends them."""
    url, arn = make_queue(hw, "inbox")
    s3_rule(hw, arn)
    hw.s3.create_bucket(Bucket=BUCKET)
    hw.s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration=ON)
    return url


def test_put_sends_object_created_as_aws_writes_it(hw: Headwater, inbox: str) -> None:
    clock = hw.clock
    assert isinstance(clock, ManualClock)
    clock.set(1_700_000_000.5)
    etag = hw.s3.put_object(Bucket=BUCKET, Key="my photo/é.jpg", Body=b"12345")["ETag"]
    (event,) = drain(hw, inbox)  # in the queue when PutObject returns
    assert list(event) == [
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    ]
    assert event["detail-type"] == "Object Created"
    assert event["source"] == "aws.s3"
    assert event["account"] == "000000000000"
    assert event["time"] == "2023-11-14T22:13:20Z"
    assert event["region"] == "us-east-1"
    assert event["resources"] == [f"arn:aws:s3:::{BUCKET}"]
    detail = event["detail"]
    assert list(detail) == [
        "version",
        "bucket",
        "object",
        "request-id",
        "requester",
        "source-ip-address",
        "reason",
    ]
    assert detail["version"] == "0"
    assert detail["bucket"] == {"name": BUCKET}
    obj = detail["object"]
    assert list(obj) == ["key", "size", "etag", "sequencer"]
    assert obj["key"] == "my photo/é.jpg"  # not URL-encoded, unlike notification records
    assert obj["size"] == 5
    assert obj["etag"] == etag.strip('"')
    int(obj["sequencer"], 16)
    assert detail["requester"] == "000000000000"
    assert detail["source-ip-address"] == "127.0.0.1"
    assert detail["reason"] == "PutObject"


def test_each_write_gives_its_reason_and_deletes_are_object_deleted(
    hw: Headwater, inbox: str
) -> None:
    s3 = hw.s3
    s3.put_object(Bucket=BUCKET, Key="a", Body=b"1")
    s3.copy_object(Bucket=BUCKET, Key="b", CopySource={"Bucket": BUCKET, "Key": "a"})
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="m")["UploadId"]
    part = s3.upload_part(Bucket=BUCKET, Key="m", UploadId=upload, PartNumber=1, Body=b"x")
    s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key="m",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    s3.delete_object(Bucket=BUCKET, Key="a")
    s3.delete_object(Bucket=BUCKET, Key="never-there")  # removes nothing: no event
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "b"}, {"Key": "m"}]})
    seen = [
        (e["detail-type"], e["detail"]["reason"], e["detail"]["object"]["key"])
        for e in drain(hw, inbox)
    ]
    assert seen == [
        ("Object Created", "PutObject", "a"),
        ("Object Created", "CopyObject", "b"),
        ("Object Created", "CompleteMultipartUpload", "m"),
        ("Object Deleted", "DeleteObject", "a"),
        ("Object Deleted", "DeleteObject", "b"),
        ("Object Deleted", "DeleteObject", "m"),
    ]


def test_deleted_detail_has_no_size_and_a_deletion_type(hw: Headwater, inbox: str) -> None:
    hw.s3.put_object(Bucket=BUCKET, Key="a", Body=b"1")
    hw.s3.delete_object(Bucket=BUCKET, Key="a")
    created, deleted = drain(hw, inbox)
    assert list(deleted["detail"]["object"]) == ["key", "sequencer"]
    assert deleted["detail"]["deletion-type"] == "Permanently Deleted"
    assert deleted["detail"]["object"]["sequencer"] > created["detail"]["object"]["sequencer"]


def test_rules_patterns_on_the_detail_choose_events(hw: Headwater) -> None:
    url, arn = make_queue(hw, "big-jpegs")
    s3_rule(
        hw,
        arn,
        {
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {"object": {"key": [{"suffix": ".jpg"}], "size": [{"numeric": [">", 2]}]}},
        },
    )
    hw.s3.create_bucket(Bucket=BUCKET)
    hw.s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration=ON)
    for key, body in (("a.jpg", b"123"), ("b.jpg", b"1"), ("c.png", b"123")):
        hw.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    assert [e["detail"]["object"]["key"] for e in drain(hw, url)] == ["a.jpg"]


def test_nothing_goes_to_the_bus_without_the_configuration(hw: Headwater) -> None:
    url, arn = make_queue(hw, "inbox")
    s3_rule(hw, arn)
    queue_url, queue_arn = make_queue(hw, "direct")
    hw.s3.create_bucket(Bucket=BUCKET)
    hw.s3.put_object(Bucket=BUCKET, Key="before", Body=b"1")
    # a configuration with only a queue sends to the queue, not to the bus
    hw.s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    hw.s3.put_object(Bucket=BUCKET, Key="queued", Body=b"1")
    assert drain(hw, url) == []
    # both: each gets the event
    hw.s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}],
            **ON,
        },
    )
    hw.s3.put_object(Bucket=BUCKET, Key="both", Body=b"1")
    assert [e["detail"]["object"]["key"] for e in drain(hw, url)] == ["both"]
    keys = [b["Records"][0]["s3"]["object"]["key"] for b in drain(hw, queue_url) if "Records" in b]
    assert keys == ["queued", "both"]
    # turned off again
    hw.s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={})
    hw.s3.put_object(Bucket=BUCKET, Key="after", Body=b"1")
    assert drain(hw, url) == []


def test_the_configuration_round_trips_over_the_wire(hw: Headwater) -> None:
    """terraform's ``aws_s3_bucket_notification { eventbridge = true }`` puts an empty
    ``<EventBridgeConfiguration/>`` and reads it back to decide the attribute."""
    with boto3_in_process(hw):
        s3 = wire_client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration=ON)
        got = s3.get_bucket_notification_configuration(Bucket=BUCKET)
        assert got.get("EventBridgeConfiguration") == {}
        s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={})
        got = s3.get_bucket_notification_configuration(Bucket=BUCKET)
        assert "EventBridgeConfiguration" not in got


def test_event_is_stored_with_the_object(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule's delivery is written in the object's transaction: nothing done after the
    commit (the process could die there) is needed for the queue to have the event."""
    from headwater.services.events.delivery import Sent

    monkeypatch.setattr(Sent, "after_commit", lambda self, env: None)
    with Headwater(data_dir=tmp_path / "data", clock=ManualClock()) as first:
        url, arn = make_queue(first, "inbox")
        s3_rule(first, arn)
        first.s3.create_bucket(Bucket=BUCKET)
        first.s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration=ON)
        first.s3.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    with Headwater(data_dir=tmp_path / "data", clock=ManualClock()) as second:
        assert [e["detail"]["object"]["key"] for e in drain(second, url)] == ["k"]


def test_the_first_write_after_a_restart_reads_the_bus_rules_in_its_transaction(
    tmp_path: Path,
) -> None:
    """After a restart no service is made: the first object write makes EventBridge's (and
    the rule target's) inside its transaction, reads the default bus's rules there and
    delivers (``test_service_creation_locks`` has why making a service there is safe)."""
    data = tmp_path / "data"
    with Headwater(data_dir=data, clock=ManualClock()) as first:
        url, arn = make_queue(first, "inbox")
        s3_rule(first, arn)
        first.s3.create_bucket(Bucket=BUCKET)
        first.s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration=ON)
    with Headwater(data_dir=data, clock=ManualClock()) as hw:
        assert hw.existing_service("events") is None
        hw.s3.put_object(Bucket=BUCKET, Key="k", Body=b"x")
        assert hw.existing_service("events") is not None
        assert [e["detail"]["object"]["key"] for e in drain(hw, url)] == ["k"]


def test_cloudformation_event_bridge_enabled(hw: Headwater) -> None:
    template = {
        "Resources": {
            "Bucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "NotificationConfiguration": {
                        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
                    }
                },
            }
        }
    }
    assert deploy(hw, "eb", template) == "CREATE_COMPLETE"
    bucket = physical_ids(hw, "eb")["Bucket"]
    got = hw.s3.get_bucket_notification_configuration(Bucket=bucket)
    assert got["EventBridgeConfiguration"] == {}


def test_tagging_sends_tags_added_and_deleted(hw: Headwater, inbox: str) -> None:
    queue_url, queue_arn = make_queue(hw, "tags")
    hw.s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectTagging:*"]}],
            **ON,
        },
    )
    etag = hw.s3.put_object(Bucket=BUCKET, Key="k", Body=b"1")["ETag"].strip('"')
    tags = {"TagSet": [{"Key": "a", "Value": "1"}]}
    hw.s3.put_object_tagging(Bucket=BUCKET, Key="k", Tagging=tags)
    hw.s3.delete_object_tagging(Bucket=BUCKET, Key="k")
    created, added, deleted = drain(hw, inbox)
    assert created["detail-type"] == "Object Created"
    assert (added["detail-type"], deleted["detail-type"]) == (
        "Object Tags Added",
        "Object Tags Deleted",
    )
    assert added["detail"]["object"] == {"key": "k", "etag": etag}
    assert "reason" not in added["detail"]
    records = [body["Records"][0] for body in drain(hw, queue_url) if "Records" in body]
    assert [r["eventName"] for r in records] == ["ObjectTagging:Put", "ObjectTagging:Delete"]
    assert records[0]["s3"]["object"] == {"key": "k", "eTag": etag}
