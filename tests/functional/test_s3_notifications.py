"""S3 event notifications in process: which writes and removals match which configurations,
the event record as AWS writes it, delivery to queues, topics and functions, the TestEvent,
and PutBucketNotificationConfiguration's destination checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from tests.functional.recorders import make_recorder

BUCKET = "photos"


@pytest.fixture
def hw_options() -> dict[str, Any]:
    return {"functions": "inline"}


def make_queue(hw: Headwater, name: str) -> tuple[str, str]:
    url = hw.sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = hw.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def drain(hw: Headwater, url: str) -> list[dict[str, Any]]:
    """Every message body in the queue, parsed, in order."""
    found: list[dict[str, Any]] = []
    while True:
        messages = hw.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(json.loads(message["Body"]))
            hw.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def records(hw: Headwater, url: str) -> list[dict[str, Any]]:
    """The S3 event records in the queue (test events skipped), one per message."""
    found = []
    for body in drain(hw, url):
        if body.get("Event") == "s3:TestEvent":
            continue
        assert len(body["Records"]) == 1
        found.append(body["Records"][0])
    return found


def notify_queue(hw: Headwater, queue_arn: str, events: list[str], **extra: Any) -> None:
    hw.s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": queue_arn, "Events": events, **extra}]
        },
    )


@pytest.fixture
def bucket(hw: Headwater) -> str:
    hw.s3.create_bucket(Bucket=BUCKET)
    return BUCKET


def test_put_sends_the_event_record_aws_writes(hw: Headwater, bucket: str) -> None:
    url, arn = make_queue(hw, "uploads")
    notify_queue(hw, arn, ["s3:ObjectCreated:*"], Id="new-photo")
    drain(hw, url)
    clock = hw.clock
    assert isinstance(clock, ManualClock)
    clock.set(1_700_000_000.125)
    etag = hw.s3.put_object(Bucket=bucket, Key="my photo/é.jpg", Body=b"12345")["ETag"]

    # the message is in the queue when PutObject returns
    (body,) = drain(hw, url)
    (record,) = body["Records"]
    # AWS's "Event message structure", key by key and in its order
    assert list(record) == [
        "eventVersion",
        "eventSource",
        "awsRegion",
        "eventTime",
        "eventName",
        "userIdentity",
        "requestParameters",
        "responseElements",
        "s3",
    ]
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert record["awsRegion"] == "us-east-1"
    assert record["eventTime"] == "2023-11-14T22:13:20.125Z"
    assert record["eventName"] == "ObjectCreated:Put"
    assert set(record["userIdentity"]) == {"principalId"}
    assert set(record["requestParameters"]) == {"sourceIPAddress"}
    assert set(record["responseElements"]) == {"x-amz-request-id", "x-amz-id-2"}
    s3 = record["s3"]
    assert list(s3) == ["s3SchemaVersion", "configurationId", "bucket", "object"]
    assert s3["s3SchemaVersion"] == "1.0"
    assert s3["configurationId"] == "new-photo"
    assert s3["bucket"] == {
        "name": bucket,
        "ownerIdentity": {"principalId": record["userIdentity"]["principalId"]},
        "arn": f"arn:aws:s3:::{bucket}",
    }
    assert s3["object"]["key"] == "my+photo/%C3%A9.jpg"  # URL-encoded, spaces as '+'
    assert s3["object"]["size"] == 5
    assert s3["object"]["eTag"] == etag.strip('"')
    assert list(s3["object"]) == ["key", "size", "eTag", "sequencer"]
    int(s3["object"]["sequencer"], 16)


def test_putting_a_queue_configuration_sends_a_test_event(hw: Headwater, bucket: str) -> None:
    url, arn = make_queue(hw, "uploads")
    notify_queue(hw, arn, ["s3:ObjectCreated:*"])
    (test_event,) = drain(hw, url)
    assert list(test_event) == ["Service", "Event", "Time", "Bucket", "RequestId", "HostId"]
    assert test_event["Service"] == "Amazon S3"
    assert test_event["Event"] == "s3:TestEvent"
    assert test_event["Bucket"] == bucket
    assert test_event["Time"].endswith("Z")


def test_configuration_ids_are_generated_when_missing_and_kept(hw: Headwater, bucket: str) -> None:
    url, arn = make_queue(hw, "uploads")
    hw.s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {"QueueArn": arn, "Events": ["s3:ObjectCreated:Put"]},
                {"Id": "mine", "QueueArn": arn, "Events": ["s3:ObjectCreated:Copy"]},
            ]
        },
    )
    stored = hw.s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]
    generated = stored[0]["Id"]
    assert generated and generated != "mine"
    assert stored[1]["Id"] == "mine"
    hw.s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    hw.s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "k"})
    # each event names the configuration it matched
    assert [r["s3"]["configurationId"] for r in records(hw, url)] == [generated, "mine"]
    # the Ids are kept: a second Get answers the same
    again = hw.s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]
    assert again[0]["Id"] == generated


def test_event_types_and_wildcards_select_configurations(hw: Headwater, bucket: str) -> None:
    created_url, created_arn = make_queue(hw, "created")
    put_url, put_arn = make_queue(hw, "put-only")
    removed_url, removed_arn = make_queue(hw, "removed")
    hw.s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {"QueueArn": created_arn, "Events": ["s3:ObjectCreated:*"]},
                {"QueueArn": removed_arn, "Events": ["s3:ObjectRemoved:*"]},
            ]
        },
    )
    # a second bucket: S3 refuses overlapping configurations on one
    hw.s3.create_bucket(Bucket="puts")
    hw.s3.put_bucket_notification_configuration(
        Bucket="puts",
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": put_arn, "Events": ["s3:ObjectCreated:Put"]}]
        },
    )
    for name in (bucket, "puts"):
        hw.s3.put_object(Bucket=name, Key="a", Body=b"x")
        hw.s3.copy_object(Bucket=name, Key="b", CopySource={"Bucket": name, "Key": "a"})
        hw.s3.delete_object(Bucket=name, Key="a")
        hw.s3.delete_object(Bucket=name, Key="never-there")  # nothing removed: no event

    assert [(r["eventName"], r["s3"]["object"]["key"]) for r in records(hw, created_url)] == [
        ("ObjectCreated:Put", "a"),
        ("ObjectCreated:Copy", "b"),
    ]
    assert [r["eventName"] for r in records(hw, put_url)] == ["ObjectCreated:Put"]
    (removed,) = records(hw, removed_url)
    assert removed["eventName"] == "ObjectRemoved:Delete"
    # removals name the key and sequencer only: no size or ETag
    assert list(removed["s3"]["object"]) == ["key", "sequencer"]


def test_multipart_upload_and_delete_objects_events(hw: Headwater, bucket: str) -> None:
    url, arn = make_queue(hw, "events")
    notify_queue(hw, arn, ["s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectRemoved:Delete"])
    upload = hw.s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    part = hw.s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"ab")
    hw.s3.complete_multipart_upload(
        Bucket=bucket,
        Key="big",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    hw.s3.put_object(Bucket=bucket, Key="small", Body=b"x")  # a Put: not configured
    hw.s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "big"}, {"Key": "small"}, {"Key": "gone"}]}
    )
    found = records(hw, url)
    assert [(r["eventName"], r["s3"]["object"]["key"]) for r in found] == [
        ("ObjectCreated:CompleteMultipartUpload", "big"),
        ("ObjectRemoved:Delete", "big"),
        ("ObjectRemoved:Delete", "small"),
    ]
    assert found[0]["s3"]["object"]["size"] == 2
    assert found[0]["s3"]["object"]["eTag"].endswith("-1")


def test_key_filters_are_prefix_and_suffix_case_sensitive(hw: Headwater, bucket: str) -> None:
    url, arn = make_queue(hw, "images")
    rules = [{"Name": "prefix", "Value": "images/"}, {"Name": "Suffix", "Value": ".jpg"}]
    notify_queue(hw, arn, ["s3:ObjectCreated:*"], Filter={"Key": {"FilterRules": rules}})
    for key in ("images/a.jpg", "images/b.JPG", "Images/c.jpg", "other/d.jpg", "images/e.png"):
        hw.s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    assert [r["s3"]["object"]["key"] for r in records(hw, url)] == ["images/a.jpg"]


def test_sequencers_increase_for_a_key(hw: Headwater, bucket: str) -> None:
    url, arn = make_queue(hw, "events")
    notify_queue(hw, arn, ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])
    hw.s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    hw.s3.put_object(Bucket=bucket, Key="k", Body=b"2")  # same clock time
    hw.s3.delete_object(Bucket=bucket, Key="k")
    sequencers = [r["s3"]["object"]["sequencer"] for r in records(hw, url)]
    assert len(sequencers) == 3
    assert len({len(s) for s in sequencers}) == 1
    assert sequencers == sorted(sequencers) and len(set(sequencers)) == 3


def test_topic_gets_the_event_as_message_with_s3s_subject(hw: Headwater, bucket: str) -> None:
    sns = hw.client("sns")
    topic = sns.create_topic(Name="uploads")["TopicArn"]
    url, arn = make_queue(hw, "subscriber")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    hw.s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:Put"]}]
        },
    )
    hw.s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    (envelope,) = drain(hw, url)  # no TestEvent through topics
    assert envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == topic
    assert envelope["Subject"] == "Amazon S3 Notification"
    (record,) = json.loads(envelope["Message"])["Records"]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["object"]["key"] == "k"


def test_function_is_invoked_asynchronously_with_the_event(
    hw: Headwater, bucket: str, tmp_path: Path
) -> None:
    function, out = make_recorder(hw, tmp_path, "thumbnailer")
    hw.s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "Id": "thumbs",
                    "LambdaFunctionArn": function,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}},
                }
            ]
        },
    )
    hw.s3.put_object(Bucket=bucket, Key="in/a b.png", Body=b"png")
    hw.s3.put_object(Bucket=bucket, Key="out/a.png", Body=b"png")
    assert hw.service("lambda").wait_for_event_invocations()
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(events) == 1
    (record,) = events[0]["Records"]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["configurationId"] == "thumbs"
    assert record["s3"]["object"]["key"] == "in/a+b.png"


@pytest.mark.parametrize("kind", ["queue", "topic", "function"])
def test_missing_destination_is_refused_and_nothing_stored(
    hw: Headwater, bucket: str, kind: str
) -> None:
    url, arn = make_queue(hw, "real")
    notify_queue(hw, arn, ["s3:ObjectCreated:*"])
    before = hw.s3.get_bucket_notification_configuration(Bucket=bucket)
    before.pop("ResponseMetadata")
    drain(hw, url)
    missing = {
        "queue": ("QueueConfigurations", "QueueArn", "arn:aws:sqs:us-east-1:000000000000:nope"),
        "topic": ("TopicConfigurations", "TopicArn", "arn:aws:sns:us-east-1:000000000000:nope"),
        "function": (
            "LambdaFunctionConfigurations",
            "LambdaFunctionArn",
            "arn:aws:lambda:us-east-1:000000000000:function:nope",
        ),
    }[kind]
    with pytest.raises(ClientError) as caught:
        hw.s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}],
                missing[0]: [{missing[1]: missing[2], "Events": ["s3:ObjectRemoved:*"]}],
            },
        )
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidArgument"
    assert error["Message"] == "Unable to validate the following destination configurations"
    assert error["ArgumentName1"] == missing[2]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    after = hw.s3.get_bucket_notification_configuration(Bucket=bucket)
    after.pop("ResponseMetadata")
    assert after == before
    assert drain(hw, url) == []  # a refused configuration sends no TestEvent


def test_destination_deleted_later_loses_the_event_not_the_write(
    hw: Headwater, bucket: str
) -> None:
    url, arn = make_queue(hw, "temporary")
    notify_queue(hw, arn, ["s3:ObjectCreated:*"])
    hw.sqs.delete_queue(QueueUrl=url)
    hw.s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert hw.s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def test_no_configuration_and_empty_configuration_send_nothing(hw: Headwater, bucket: str) -> None:
    url, arn = make_queue(hw, "events")
    notify_queue(hw, arn, ["s3:ObjectCreated:*"])
    hw.s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    hw.s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert records(hw, url) == []


@pytest.mark.parametrize(
    ("events", "rules", "message"),
    [
        (["s3:ObjectCreated:Nope"], [], "The event is not supported for notifications"),
        (["ObjectCreated:Put"], [], "The event is not supported for notifications"),
        (
            ["s3:ObjectCreated:*"],
            [{"Name": "middle", "Value": "x"}],
            "filter rule name must be either prefix or suffix",
        ),
        (
            ["s3:ObjectCreated:*"],
            [{"Name": "prefix", "Value": "a"}, {"Name": "Prefix", "Value": "b"}],
            "Cannot specify more than one prefix rule in a filter.",
        ),
    ],
)
def test_unknown_events_and_bad_filter_rules_are_refused(
    hw: Headwater, bucket: str, events: list[str], rules: list[dict[str, str]], message: str
) -> None:
    url, arn = make_queue(hw, "events")
    entry: dict[str, Any] = {"QueueArn": arn, "Events": events}
    if rules:
        entry["Filter"] = {"Key": {"FilterRules": rules}}
    with pytest.raises(ClientError) as caught:
        hw.s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [entry]}
        )
    assert caught.value.response["Error"]["Code"] == "InvalidArgument"
    assert caught.value.response["Error"]["Message"] == message
    assert "QueueConfigurations" not in hw.s3.get_bucket_notification_configuration(Bucket=bucket)
    assert drain(hw, url) == []


def test_function_event_is_stored_with_the_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Event invocation is written in the object's transaction: a process that dies
    after answering the PutObject, before starting the invocation, leaves it stored, and
    the next process on the data directory runs it."""
    from headwater.services.s3.notifications import Notifier

    data = tmp_path / "data"
    with monkeypatch.context() as patch:
        # the process "dies" between the commit and starting what it stored
        patch.setattr(Notifier, "after_commit", staticmethod(lambda invocations: None))
        with Headwater(data_dir=data, clock=ManualClock(), functions="inline") as first:
            function, out = make_recorder(first, tmp_path, "thumbnailer")
            first.s3.create_bucket(Bucket=BUCKET)
            first.s3.put_bucket_notification_configuration(
                Bucket=BUCKET,
                NotificationConfiguration={
                    "LambdaFunctionConfigurations": [
                        {"LambdaFunctionArn": function, "Events": ["s3:ObjectCreated:*"]}
                    ]
                },
            )
            first.s3.put_object(Bucket=BUCKET, Key="k", Body=b"x")
            assert first.service("lambda").wait_for_event_invocations()
            assert not out.exists()
    with Headwater(data_dir=data, clock=ManualClock(), functions="inline") as second:
        assert second.service("lambda").wait_for_event_invocations()
    (event,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert event["Records"][0]["s3"]["object"]["key"] == "k"


def prefixed(prefix: str = "", suffix: str = "") -> dict[str, Any]:
    rules = [{"Name": "prefix", "Value": prefix}] if prefix else []
    rules += [{"Name": "suffix", "Value": suffix}] if suffix else []
    return {"Key": {"FilterRules": rules}} if rules else {}


CREATED, PUT = "s3:ObjectCreated:*", "s3:ObjectCreated:Put"


@pytest.mark.parametrize(
    ("first", "second", "overlap"),
    [
        (([CREATED], prefixed()), ([PUT], prefixed()), True),
        (([CREATED], prefixed("a/")), ([PUT], prefixed("a/b")), True),
        (([CREATED], prefixed("a/")), ([CREATED], prefixed("b/")), False),
        (([CREATED], prefixed(suffix=".jpg")), ([CREATED], prefixed(suffix=".png")), False),
        (([CREATED], prefixed("a/", ".jpg")), ([CREATED], prefixed(suffix="x.jpg")), True),
        (([PUT], prefixed()), (["s3:ObjectCreated:Copy"], prefixed()), False),
        (([CREATED], prefixed()), (["s3:ObjectRemoved:*"], prefixed()), False),
    ],
)
def test_overlapping_configurations_are_refused(
    hw: Headwater,
    bucket: str,
    first: tuple[list[str], dict[str, Any]],
    second: tuple[list[str], dict[str, Any]],
    overlap: bool,
) -> None:
    _, one = make_queue(hw, "one")
    _, other = make_queue(hw, "other")
    entries = []
    for arn, (events, key_filter) in ((one, first), (other, second)):
        entry: dict[str, Any] = {"QueueArn": arn, "Events": events}
        if key_filter:
            entry["Filter"] = key_filter
        entries.append(entry)
    configuration = {"QueueConfigurations": entries}
    if not overlap:
        hw.s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration=configuration
        )
        return
    with pytest.raises(ClientError) as caught:
        hw.s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration=configuration
        )
    assert caught.value.response["Error"]["Code"] == "InvalidArgument"
    assert caught.value.response["Error"]["Message"] == (
        "Configurations overlap. Configurations on the same bucket cannot share a common "
        "event type."
    )


def test_the_first_write_after_a_restart_makes_the_destination_services(tmp_path: Path) -> None:
    """The first object write after a restart delivers to a queue, a topic and a function,
    and a configuration put checks them: their services are first made inside the write's
    transaction (``test_service_creation_locks`` has why that is safe)."""
    data = tmp_path / "data"
    with Headwater(data_dir=data, clock=ManualClock(), functions="inline") as first:
        function, _ = make_recorder(first, tmp_path, "thumbnailer")
        inbox, queue_arn = make_queue(first, "inbox")
        topic = first.sns.create_topic(Name="notices")["TopicArn"]
        first.s3.create_bucket(Bucket=BUCKET)
        configuration = {
            "QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:Put"]}],
            "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectRemoved:*"]}],
            "LambdaFunctionConfigurations": [
                {
                    "LambdaFunctionArn": function,
                    "Events": ["s3:ObjectCreated:CompleteMultipartUpload"],
                }
            ],
        }
        first.s3.put_bucket_notification_configuration(
            Bucket=BUCKET, NotificationConfiguration=configuration
        )
    for write in ("configure", "put", "delete", "multipart", "delete_many"):
        with Headwater(data_dir=data, clock=ManualClock(), functions="inline") as hw:
            s3 = hw.s3
            if write == "configure":  # checks the destinations in its transaction
                s3.put_bucket_notification_configuration(
                    Bucket=BUCKET, NotificationConfiguration=configuration
                )
            elif write == "put":
                s3.put_object(Bucket=BUCKET, Key="k", Body=b"x")
            elif write == "delete":
                s3.delete_object(Bucket=BUCKET, Key="k")
            elif write == "delete_many":
                s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "m"}]})
            else:
                upload = s3.create_multipart_upload(Bucket=BUCKET, Key="m")["UploadId"]
                part = s3.upload_part(
                    Bucket=BUCKET, Key="m", UploadId=upload, PartNumber=1, Body=b"x"
                )
                s3.complete_multipart_upload(
                    Bucket=BUCKET,
                    Key="m",
                    UploadId=upload,
                    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
                )
            if write == "put":
                bodies = drain(hw, inbox)
                keys = [
                    body["Records"][0]["s3"]["object"]["key"]
                    for body in bodies
                    if "Records" in body
                ]
                assert keys == ["k"]
            delivered_by = {
                "put": "sqs",
                "delete": "sns",
                "delete_many": "sns",
                "multipart": "lambda",
            }
            assert hw.existing_service(delivered_by.get(write, "sqs")), write
