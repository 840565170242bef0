"""Amazon Data Firehose: delivery streams, buffering to S3 on the headwater clock (interval
and size), restart durability, Lambda transformation, and the Logs and EventBridge feeds."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from tests.asgi_boto import in_process_aws
from tests.functional.cfn_support import deploy, outputs_of

ACCOUNT = "000000000000"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/firehose"
BUCKET = "sink"
NAME_PATTERN = r"s-1-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9a-f-]{36}"


@pytest.fixture
def hw_options() -> dict[str, Any]:
    return {"functions": "inline"}


def make_stream(hw: Headwater, name: str = "s", **destination: Any) -> str:
    hw.client("s3").create_bucket(Bucket=BUCKET)
    config = {"RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{BUCKET}", **destination}
    answer = hw.client("firehose").create_delivery_stream(
        DeliveryStreamName=name, ExtendedS3DestinationConfiguration=config
    )
    return str(answer["DeliveryStreamARN"])


def objects(hw: Headwater) -> dict[str, bytes]:
    s3 = hw.client("s3")
    listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listed}


def _utc(clock: ManualClock) -> dt.datetime:
    return dt.datetime.fromtimestamp(clock.now(), dt.UTC)


def error_of(call: Any, **params: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return dict(caught.value.response["Error"])


def test_create_describe_list_update_tags_and_delete(hw: Headwater) -> None:
    firehose = hw.client("firehose")
    arn = make_stream(hw, BufferingHints={"IntervalInSeconds": 60})
    assert arn == f"arn:aws:firehose:us-east-1:{ACCOUNT}:deliverystream/s"
    described = firehose.describe_delivery_stream(DeliveryStreamName="s")
    description = described["DeliveryStreamDescription"]
    assert description["DeliveryStreamStatus"] == "ACTIVE"
    assert description["VersionId"] == "1"
    destination = description["Destinations"][0]
    assert destination["DestinationId"] == "destinationId-000000000001"
    extended = destination["ExtendedS3DestinationDescription"]
    assert extended["BufferingHints"] == {"SizeInMBs": 5, "IntervalInSeconds": 60}
    assert extended["CompressionFormat"] == "UNCOMPRESSED"
    assert firehose.list_delivery_streams()["DeliveryStreamNames"] == ["s"]

    stale = error_of(
        firehose.update_destination,
        DeliveryStreamName="s",
        CurrentDeliveryStreamVersionId="7",
        DestinationId="destinationId-000000000001",
        ExtendedS3DestinationUpdate={"Prefix": "logs/"},
    )
    assert stale["Code"] == "ConcurrentModificationException"
    firehose.update_destination(
        DeliveryStreamName="s",
        CurrentDeliveryStreamVersionId="1",
        DestinationId="destinationId-000000000001",
        ExtendedS3DestinationUpdate={"Prefix": "logs/", "CompressionFormat": "GZIP"},
    )
    description = firehose.describe_delivery_stream(DeliveryStreamName="s")[
        "DeliveryStreamDescription"
    ]
    assert description["VersionId"] == "2"
    updated = description["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert (updated["Prefix"], updated["CompressionFormat"]) == ("logs/", "GZIP")
    assert updated["BufferingHints"]["IntervalInSeconds"] == 60

    firehose.tag_delivery_stream(DeliveryStreamName="s", Tags=[{"Key": "a", "Value": "1"}])
    firehose.untag_delivery_stream(DeliveryStreamName="s", TagKeys=["zz"])
    tags = firehose.list_tags_for_delivery_stream(DeliveryStreamName="s")
    assert tags["Tags"] == [{"Key": "a", "Value": "1"}] and tags["HasMoreTags"] is False
    firehose.start_delivery_stream_encryption(
        DeliveryStreamName="s",
        DeliveryStreamEncryptionConfigurationInput={"KeyType": "AWS_OWNED_CMK"},
    )
    encryption = firehose.describe_delivery_stream(DeliveryStreamName="s")[
        "DeliveryStreamDescription"
    ]["DeliveryStreamEncryptionConfiguration"]
    assert encryption == {"KeyType": "AWS_OWNED_CMK", "Status": "ENABLED"}
    firehose.stop_delivery_stream_encryption(DeliveryStreamName="s")

    firehose.delete_delivery_stream(DeliveryStreamName="s")
    missing = error_of(firehose.describe_delivery_stream, DeliveryStreamName="s")
    assert missing == {
        "Code": "ResourceNotFoundException",
        "Message": f"Firehose s under account {ACCOUNT} not found.",
    }


def test_refusals(hw: Headwater) -> None:
    firehose = hw.client("firehose")
    make_stream(hw)
    assert (
        error_of(
            firehose.create_delivery_stream,
            DeliveryStreamName="s",
            S3DestinationConfiguration={"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::x"},
        )["Code"]
        == "ResourceInUseException"
    )
    refused = [
        {
            "HttpEndpointDestinationConfiguration": {
                "EndpointConfiguration": {"Url": "https://example.com"},
                "S3Configuration": {"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::x"},
            }
        },
        {
            "DeliveryStreamType": "KinesisStreamAsSource",
            "KinesisStreamSourceConfiguration": {
                "KinesisStreamARN": f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/k",
                "RoleARN": ROLE,
            },
            "S3DestinationConfiguration": {"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::x"},
        },
        {
            "ExtendedS3DestinationConfiguration": {
                "RoleARN": ROLE,
                "BucketARN": "arn:aws:s3:::x",
                "CompressionFormat": "Snappy",
            }
        },
        {
            "ExtendedS3DestinationConfiguration": {
                "RoleARN": ROLE,
                "BucketARN": "arn:aws:s3:::x",
                "Prefix": "d=!{timestamp:yyyy}/",
            }
        },
    ]
    for params in refused:
        error = error_of(firehose.create_delivery_stream, DeliveryStreamName="t", **params)
        assert error["Code"] == "InvalidArgumentException", params
    assert firehose.list_delivery_streams()["DeliveryStreamNames"] == ["s"]
    too_big = error_of(firehose.put_record, DeliveryStreamName="s", Record={"Data": b"x" * 1024001})
    assert too_big["Code"] == "ValidationException"
    batch = [{"Data": b"x"}] * 501
    assert (
        error_of(firehose.put_record_batch, DeliveryStreamName="s", Records=batch)["Code"]
        == "ValidationException"
    )
    assert (
        error_of(firehose.put_record, DeliveryStreamName="nope", Record={"Data": b"x"})["Code"]
        == "ResourceNotFoundException"
    )


def test_interval_flush_concatenates_records_under_the_hour_prefix(
    hw: Headwater, clock: ManualClock
) -> None:
    firehose = hw.client("firehose")
    make_stream(hw, BufferingHints={"IntervalInSeconds": 60, "SizeInMBs": 1})
    assert firehose.put_record(DeliveryStreamName="s", Record={"Data": b'{"a":1}'})["RecordId"]
    batch = firehose.put_record_batch(
        DeliveryStreamName="s", Records=[{"Data": b'{"b":2}\n'}, {"Data": b"raw"}]
    )
    assert batch["FailedPutCount"] == 0 and len(batch["RequestResponses"]) == 2
    clock.advance(59)
    assert objects(hw) == {}
    clock.advance(1)
    [(key, body)] = objects(hw).items()
    assert body == b'{"a":1}{"b":2}\nraw'  # no newline added, as AWS
    hour = re.escape(_utc(clock).strftime("%Y/%m/%d/%H/"))
    assert re.fullmatch(hour + NAME_PATTERN, key), key
    clock.advance(120)
    assert len(objects(hw)) == 1


def test_size_flush_gzip_and_timestamp_prefix(hw: Headwater, clock: ManualClock) -> None:
    firehose = hw.client("firehose")
    make_stream(
        hw,
        BufferingHints={"IntervalInSeconds": 900, "SizeInMBs": 1},
        CompressionFormat="GZIP",
        Prefix="app/!{timestamp:yyyy'-'MM}/",
        ErrorOutputPrefix="errors/!{firehose:error-output-type}/",
    )
    chunk = b"y" * 600_000
    firehose.put_record(DeliveryStreamName="s", Record={"Data": chunk})
    assert objects(hw) == {}
    firehose.put_record(DeliveryStreamName="s", Record={"Data": chunk})
    found = objects(hw)
    assert len(found) == 2  # the buffer passed 1 MiB: one object per MiB
    for key, body in found.items():
        assert key.startswith("app/" + _utc(clock).strftime("%Y-%m") + "/s-1-"), key
        assert key.endswith(".gz")
        assert gzip.decompress(body) == chunk


def test_buffered_records_survive_a_restart(tmp_path: Path) -> None:
    clock = ManualClock(1_700_000_000.0)
    data = tmp_path / "data"
    with Headwater(data_dir=data, clock=clock) as first:
        make_stream(first, BufferingHints={"IntervalInSeconds": 300, "SizeInMBs": 5})
        first.client("firehose").put_record(DeliveryStreamName="s", Record={"Data": b"kept"})
    with Headwater(data_dir=data, clock=clock) as second:
        second.destinations  # noqa: B018 -- starts the services that resume work
        clock.advance(300)
        assert list(objects(second).values()) == [b"kept"]


TRANSFORM = """\
import base64
import datetime as dt
def handle(event, context):
    out = []
    for r in event["records"]:
        text = base64.b64decode(r["data"]).decode()
        result = "Dropped" if text == "drop" else "ProcessingFailed" if text == "bad" else "Ok"
        data = base64.b64encode((text.upper() + "\\n").encode()).decode()
        out.append({"recordId": r["recordId"], "result": result, "data": data})
    return {"records": out}
"""


def test_lambda_transformation_ok_dropped_and_failed(
    hw: Headwater, clock: ManualClock, tmp_path: Path
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(TRANSFORM)
    function = hw.lambda_.create_function_from_directory("t", code, "app.handle")["FunctionArn"]
    make_stream(
        hw,
        BufferingHints={"IntervalInSeconds": 60},
        ProcessingConfiguration={
            "Enabled": True,
            "Processors": [
                {
                    "Type": "Lambda",
                    "Parameters": [{"ParameterName": "LambdaArn", "ParameterValue": function}],
                }
            ],
        },
    )
    hw.client("firehose").put_record_batch(
        DeliveryStreamName="s",
        Records=[{"Data": b"one"}, {"Data": b"drop"}, {"Data": b"bad"}, {"Data": b"two"}],
    )
    clock.advance(60)
    found = objects(hw)
    assert len(found) == 2
    [delivered] = [body for key, body in found.items() if "processing-failed" not in key]
    assert delivered == b"ONE\nTWO\n"
    [(key, failed)] = [(k, b) for k, b in found.items() if "processing-failed" in k]
    assert key.startswith("processing-failed/")
    line = json.loads(failed)
    assert line["errorCode"] == "Lambda.ProcessingFailed"
    assert base64.b64decode(line["rawData"]) == b"bad"
    assert line["lambdaArn"] == function


def test_logs_subscription_delivers_the_gzipped_document(hw: Headwater, clock: ManualClock) -> None:
    arn = make_stream(hw, BufferingHints={"IntervalInSeconds": 60})
    logs = hw.client("logs")
    logs.create_log_group(logGroupName="app")
    logs.create_log_stream(logGroupName="app", logStreamName="web")
    logs.put_subscription_filter(
        logGroupName="app",
        filterName="all",
        filterPattern="ERROR",
        destinationArn=arn,
        roleArn=ROLE,
    )
    stamp = int(clock.now() * 1000)
    logs.put_log_events(
        logGroupName="app",
        logStreamName="web",
        logEvents=[
            {"timestamp": stamp, "message": "ERROR one"},
            {"timestamp": stamp, "message": "ok"},
        ],
    )
    clock.advance(60)
    [body] = objects(hw).values()
    document = json.loads(gzip.decompress(body))
    assert document["messageType"] == "DATA_MESSAGE"
    assert (document["logGroup"], document["logStream"]) == ("app", "web")
    assert [e["message"] for e in document["logEvents"]] == ["ERROR one"]
    missing = error_of(
        logs.put_subscription_filter,
        logGroupName="app",
        filterName="other",
        filterPattern="",
        destinationArn=arn.replace("/s", "/gone"),
        roleArn=ROLE,
    )
    assert missing["Code"] == "InvalidParameterException"


def test_eventbridge_target_puts_the_event_as_a_record(hw: Headwater, clock: ManualClock) -> None:
    arn = make_stream(hw, BufferingHints={"IntervalInSeconds": 60})
    events = hw.client("events")
    events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="orders", Targets=[{"Id": "hose", "Arn": arn, "RoleArn": ROLE}])
    events.put_events(
        Entries=[
            {"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"n": i})}
            for i in (1, 2)
        ]
    )
    clock.advance(60)
    [body] = objects(hw).values()
    decoded = json.JSONDecoder()
    first, end = decoded.raw_decode(body.decode())
    second, _ = decoded.raw_decode(body.decode()[end:])
    assert [first["detail"]["n"], second["detail"]["n"]] == [1, 2]


def _template(interval: str) -> dict[str, Any]:
    return {
        "Resources": {
            "Sink": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": BUCKET}},
            "Hose": {
                "Type": "AWS::KinesisFirehose::DeliveryStream",
                "Properties": {
                    "DeliveryStreamType": "DirectPut",
                    "ExtendedS3DestinationConfiguration": {
                        "BucketARN": {"Fn::GetAtt": ["Sink", "Arn"]},
                        "RoleARN": ROLE,
                        "Prefix": "cfn/",
                        # Strings, as template parameters give them: coerced to numbers.
                        "BufferingHints": {"IntervalInSeconds": interval, "SizeInMBs": "1"},
                    },
                    "Tags": [{"Key": "team", "Value": "data"}],
                },
            },
        },
        "Outputs": {
            "Name": {"Value": {"Ref": "Hose"}},
            "Arn": {"Value": {"Fn::GetAtt": ["Hose", "Arn"]}},
        },
    }


def test_cloudformation_delivery_stream_create_update_delete(
    hw: Headwater, clock: ManualClock
) -> None:
    assert deploy(hw, "hose", _template("60")) == "CREATE_COMPLETE"
    outputs = outputs_of(hw, "hose")
    name = outputs["Name"]
    assert name.startswith("hose-Hose-")
    assert outputs["Arn"].endswith(f":deliverystream/{name}")
    firehose = hw.client("firehose")
    assert firehose.list_tags_for_delivery_stream(DeliveryStreamName=name)["Tags"] == [
        {"Key": "team", "Value": "data"}
    ]
    assert deploy(hw, "hose", _template("120")) == "UPDATE_COMPLETE"
    description = firehose.describe_delivery_stream(DeliveryStreamName=name)[
        "DeliveryStreamDescription"
    ]
    assert description["VersionId"] == "2"
    hints = description["Destinations"][0]["ExtendedS3DestinationDescription"]["BufferingHints"]
    assert hints == {"IntervalInSeconds": 120, "SizeInMBs": 1}
    firehose.put_record(DeliveryStreamName=name, Record={"Data": b"x"})
    clock.advance(120)
    [key] = objects(hw)
    assert key.startswith("cfn/") and f"/{name}-2-" in key
    hw.client("s3").delete_object(Bucket=BUCKET, Key=key)
    hw.client("cloudformation").delete_stack(StackName="hose")
    assert firehose.list_delivery_streams()["DeliveryStreamNames"] == []


def test_delimiter_processor_and_a_missing_bucket_keeps_records(
    hw: Headwater, clock: ManualClock
) -> None:
    make_stream(
        hw,
        BufferingHints={"IntervalInSeconds": 60},
        ProcessingConfiguration={
            "Enabled": True,
            "Processors": [{"Type": "AppendDelimiterToRecord"}],
        },
    )
    firehose = hw.client("firehose")
    s3 = hw.client("s3")
    firehose.put_record_batch(DeliveryStreamName="s", Records=[{"Data": b"a"}, {"Data": b"b"}])
    s3.delete_bucket(Bucket=BUCKET)
    clock.advance(60)  # the bucket is gone: the records stay buffered and are retried
    s3.create_bucket(Bucket=BUCKET)
    clock.advance(1)
    assert list(objects(hw).values()) == [b"a\nb\n"]


def test_over_the_wire(hw: Headwater, clock: ManualClock) -> None:
    with in_process_aws(hw) as aws:
        aws.client("s3").create_bucket(Bucket=BUCKET)
        firehose = aws.client("firehose")
        firehose.create_delivery_stream(
            DeliveryStreamName="s",
            S3DestinationConfiguration={
                "RoleARN": ROLE,
                "BucketARN": f"arn:aws:s3:::{BUCKET}",
                "BufferingHints": {"IntervalInSeconds": 60, "SizeInMBs": 1},
            },
        )
        described = firehose.describe_delivery_stream(DeliveryStreamName="s")
        assert isinstance(described["DeliveryStreamDescription"]["CreateTimestamp"], dt.datetime)
        answer = firehose.put_record_batch(
            DeliveryStreamName="s", Records=[{"Data": b"\x00\xff"}, {"Data": "text"}]
        )
        assert answer["FailedPutCount"] == 0
        clock.advance(60)
        assert list(objects(hw).values()) == [b"\x00\xfftext"]
        error = error_of(firehose.delete_delivery_stream, DeliveryStreamName="gone")
        assert error["Code"] == "ResourceNotFoundException"


def test_kinesis_stream_as_source_reads_from_creation_with_checkpoints(
    hw: Headwater, clock: ManualClock
) -> None:
    kinesis = hw.client("kinesis")
    kinesis.create_stream(StreamName="k", ShardCount=2)
    kinesis_arn = kinesis.describe_stream_summary(StreamName="k")["StreamDescriptionSummary"][
        "StreamARN"
    ]
    kinesis.put_record(StreamName="k", Data=b"before", PartitionKey="p")
    clock.advance(1)
    hw.client("s3").create_bucket(Bucket=BUCKET)
    firehose = hw.client("firehose")
    firehose.create_delivery_stream(
        DeliveryStreamName="s",
        DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": kinesis_arn, "RoleARN": ROLE},
        ExtendedS3DestinationConfiguration={
            "RoleARN": ROLE,
            "BucketARN": f"arn:aws:s3:::{BUCKET}",
            "BufferingHints": {"IntervalInSeconds": 60},
        },
    )
    source = firehose.describe_delivery_stream(DeliveryStreamName="s")["DeliveryStreamDescription"][
        "Source"
    ]["KinesisStreamSourceDescription"]
    assert source["KinesisStreamARN"] == kinesis_arn
    refused = error_of(firehose.put_record, DeliveryStreamName="s", Record={"Data": b"x"})
    assert refused["Code"] == "InvalidArgumentException"
    clock.advance(1)
    kinesis.put_record(StreamName="k", Data=b"one,", PartitionKey="p")
    clock.advance(1)  # read here
    kinesis.put_record(StreamName="k", Data=b"two", PartitionKey="p")
    clock.advance(60)
    assert sorted(objects(hw).values()) == [b"one,two"]
    clock.advance(120)  # read from the checkpoints: nothing again
    assert len(objects(hw)) == 1


def test_scheduler_target_puts_the_input_as_a_record(hw: Headwater, clock: ManualClock) -> None:
    arn = make_stream(hw, BufferingHints={"IntervalInSeconds": 60})
    hw.client("scheduler").create_schedule(
        Name="tick",
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": arn, "RoleArn": ROLE, "Input": '{"tick":true}'},
    )
    clock.advance(60)  # the first firing
    clock.advance(60)  # its record's interval
    bodies = list(objects(hw).values())
    assert bodies and bodies[0].startswith(b'{"tick":true}')


def test_buffering_hints_out_of_range_are_refused(hw: Headwater) -> None:
    firehose = hw.client("firehose")
    error = error_of(
        firehose.create_delivery_stream,
        DeliveryStreamName="s",
        ExtendedS3DestinationConfiguration={
            "RoleARN": ROLE,
            "BucketARN": "arn:aws:s3:::x",
            "BufferingHints": {"SizeInMBs": 200},
        },
    )
    assert error["Code"] == "ValidationException"
    assert "less than or equal to 128" in error["Message"]
