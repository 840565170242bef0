"""S3 over the wire (restXml) with boto3 and the AWS CLI, replaying AWS's recordings; the
seed application's DLQ processor archiving to S3 and alerting through SNS."""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import http.client
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conformance.recorded import assert_like_recording, recordings
from tests.conformance.server_process import (
    ServerProcess,
    aws_cli,
    boto_client,
    headwater_server,
    zip_of,
)

pytestmark = pytest.mark.integration

DLQ_PROCESSOR = (
    Path(__file__).resolve().parents[1] / "data" / "apps" / "seed001" / "dlq_processor.py.txt"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with headwater_server(tmp_path_factory.mktemp("s3-wire")) as running:
        yield running


@pytest.fixture(scope="module")
def s3(server: ServerProcess) -> Any:
    return boto_client(server.endpoint, "s3", region="us-east-1")


def snapshot(test: str) -> dict[str, Any]:
    return recordings("s3")[test]


def assert_like(expected: Any, actual: Any) -> None:
    assert_like_recording(expected, actual, "us-west-2")


def failure(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response: dict[str, Any] = caught.value.response
    return response


def read_body(response: dict[str, Any]) -> dict[str, Any]:
    """A GetObject response with its body read (as the snapshot tool records it)."""
    return {**response, "Body": response["Body"].read().decode()}


def test_buckets_as_recorded(s3: Any, server: ServerProcess) -> None:
    shot = snapshot("TestS3::test_create_bucket_head_bucket")
    assert_like(shot["create_bucket"], s3.create_bucket(Bucket="rec-bucket-1"))
    west = boto_client(server.endpoint, "s3", region="us-west-1")
    created = west.create_bucket(
        Bucket="rec-bucket-2", CreateBucketConfiguration={"LocationConstraint": "us-west-1"}
    )
    assert_like(shot["create_bucket_location_constraint"], created)
    assert_like(shot["head_bucket"], s3.head_bucket(Bucket="rec-bucket-1"))
    assert_like(shot["head_bucket_2"], west.head_bucket(Bucket="rec-bucket-2"))
    assert_like(shot["head_bucket_not_exist"], failure(s3.head_bucket, Bucket="rec-nope"))
    existing = snapshot("TestS3::test_create_bucket_with_existing_name")
    assert_like(
        existing["create-bucket-us-west-1"],
        failure(
            west.create_bucket,
            Bucket="rec-bucket-2",
            CreateBucketConfiguration={"LocationConstraint": "us-west-1"},
        ),
    )
    assert_like(
        snapshot("TestS3::test_s3_uppercase_bucket_name")["uppercase-bucket"],
        failure(s3.create_bucket, Bucket="UPPERCASE-bucket"),
    )
    locations = snapshot("TestS3::test_different_location_constraint")
    assert_like(
        locations["get-bucket-location-bucket-us-east-1"],
        s3.get_bucket_location(Bucket="rec-bucket-1"),
    )
    assert_like(
        locations["create-bucket-constraint-us-east-1"],
        failure(
            s3.create_bucket,
            Bucket="rec-bucket-3",
            CreateBucketConfiguration={"LocationConstraint": "us-east-1"},
        ),
    )
    east2 = boto_client(server.endpoint, "s3", region="us-east-2")
    assert_like(
        locations["create-bucket-us-east-2-no-constraint-exc"],
        failure(east2.create_bucket, Bucket="rec-bucket-3"),
    )
    assert_like(
        locations["create-bucket-us-east-2-constraint-to-us-west-1"],
        failure(
            east2.create_bucket,
            Bucket="rec-bucket-3",
            CreateBucketConfiguration={"LocationConstraint": "us-west-1"},
        ),
    )
    deleting = snapshot("TestS3BucketCRUD::test_delete_bucket_with_objects")
    s3.put_object(Bucket="rec-bucket-1", Key="k", Body=b"x")
    assert_like(deleting["delete-with-obj"], failure(s3.delete_bucket, Bucket="rec-bucket-1"))
    assert_like(deleting["delete-obj"], s3.delete_object(Bucket="rec-bucket-1", Key="k"))
    assert_like(deleting["delete-bucket"], s3.delete_bucket(Bucket="rec-bucket-1"))
    assert_like(
        snapshot("TestS3::test_get_object_no_such_bucket")["expected_error"],
        failure(s3.get_object, Bucket="rec-bucket-1", Key="k"),
    )


def test_objects_as_recorded(s3: Any) -> None:
    s3.create_bucket(Bucket="rec-objects")
    head = snapshot("TestS3::test_head_object_fields")
    s3.put_object(Bucket="rec-objects", Key="head", Body=b"abcdefgh")
    assert_like(head["head-object"], s3.head_object(Bucket="rec-objects", Key="head"))
    assert_like(head["head-object-404"], failure(s3.head_object, Bucket="rec-objects", Key="x"))
    etag = snapshot("TestS3::test_etag_on_get_object_call")
    text = "Lorem ipsum dolor sit amet, ... " * 30
    s3.put_object(Bucket="rec-objects", Key="lorem", Body=text.encode())
    assert_like(etag["get_object"], read_body(s3.get_object(Bucket="rec-objects", Key="lorem")))
    assert_like(
        etag["get_object_range"],
        read_body(s3.get_object(Bucket="rec-objects", Key="lorem", Range="bytes=0-16")),
    )
    ranges = snapshot("TestS3ObjectCRUD::test_get_object_range")
    s3.put_object(Bucket="rec-objects", Key="digits", Body=b"0123456789")
    for name, header in [
        ("get-0-8", "bytes=0-8"),
        ("get-1-1", "bytes=1-1"),
        ("get-1-0", "bytes=1-0"),
        ("get-1-", "bytes=1-"),
        ("get--1-", "bytes=--1-"),
        ("get--2", "bytes=-2"),
        ("get--9", "bytes=-9"),
    ]:
        got = read_body(s3.get_object(Bucket="rec-objects", Key="digits", Range=header))
        assert_like(ranges[name], got)
    assert_like(
        snapshot("TestS3::test_invalid_range_error")["exc"],
        failure(s3.get_object, Bucket="rec-objects", Key="head", Range="bytes=1024-4096"),
    )
    assert_like(
        snapshot("TestS3::test_range_key_not_exists")["exc"],
        failure(s3.get_object, Bucket="rec-objects", Key="my-key", Range="bytes=1024-4096"),
    )
    assert_like(
        snapshot("TestS3::test_precondition_failed_error")["get-object-if-match"],
        failure(s3.get_object, Bucket="rec-objects", Key="head", IfMatch='"abc123"'),
    )
    headers = snapshot("TestS3::test_put_and_get_object_with_content_language_disposition")
    put = s3.put_object(
        Bucket="rec-objects",
        Key="lang",
        Body=b"abc123",
        ContentLanguage="de",
        ContentDisposition='attachment; filename="foo.jpg"',
        CacheControl="no-cache",
    )
    assert_like(headers["put-object"], put)
    got = s3.get_object(Bucket="rec-objects", Key="lang")
    got["Body"] = got["Body"].read().decode()
    expected = dict(headers["get-object"])
    expected["Body"] = "abc123"  # the snapshot records the body it read after the headers
    assert_like(expected, got)


@pytest.mark.parametrize("key", ["test key//", "a/%F0%9F%98%80/", "file%2Fname"])
def test_special_keys_as_recorded(s3: Any, key: str) -> None:
    shot = snapshot(f"TestS3::test_put_get_object_special_character[{key}]")
    bucket = "rec-special-" + hashlib.md5(key.encode()).hexdigest()[:8]
    s3.create_bucket(Bucket=bucket)
    assert_like(
        shot["put-object-special-char"], s3.put_object(Bucket=bucket, Key=key, Body=b"test")
    )
    assert_like(shot["list-object-special-char"], s3.list_objects_v2(Bucket=bucket))
    got = read_body(s3.get_object(Bucket=bucket, Key=key))
    assert_like(shot["get-object-special-char"], got)
    assert_like(shot["del-object-special-char"], s3.delete_object(Bucket=bucket, Key=key))


def test_listing_and_digests_as_recorded(s3: Any) -> None:
    s3.create_bucket(Bucket="rec-listing")
    for key in ("test/bar/foo", "test/foo/bar/foo"):
        s3.put_object(Bucket="rec-listing", Key=key, Body=b"x")
    shot = snapshot("TestS3ListObjectsV2::test_list_objects_v2_with_prefix_and_delimiter")
    assert_like(
        shot["list-objects-v2-1"],
        s3.list_objects_v2(Bucket="rec-listing", Prefix="test/", Delimiter="/"),
    )
    assert_like(
        shot["list-objects-v2-1-with-max-keys"],
        s3.list_objects_v2(Bucket="rec-listing", Prefix="test/", Delimiter="/", MaxKeys=1),
    )
    assert_like(
        shot["list-objects-v2-2"],
        s3.list_objects_v2(Bucket="rec-listing", Prefix="test/foo", Delimiter="/"),
    )
    assert_like(
        shot["list-objects-v2-3"],
        s3.list_objects_v2(Bucket="rec-listing", Prefix="test/foo/bar", Delimiter="/"),
    )
    encoding = snapshot(
        "TestS3ListObjectsV2::test_list_ops_encoding_type_validation[list_objects_v2]"
    )
    assert_like(
        encoding["list_objects_v2-error-wrong-value"],
        failure(s3.list_objects_v2, Bucket="rec-listing", EncodingType="value"),
    )
    batch = snapshot("TestS3::test_s3_batch_delete_objects")
    keys = [f"batch/{i}" for i in range(5)]
    for key in keys:
        s3.put_object(Bucket="rec-listing", Key=key, Body=b"x")
    deleted = s3.delete_objects(
        Bucket="rec-listing", Delete={"Objects": [{"Key": k} for k in keys]}
    )
    assert_like(batch["batch-delete"], deleted)
    md5 = snapshot("TestS3::test_s3_invalid_content_md5")
    for index, value in enumerate(
        ["__invalid__", "000", "not base64 encoded checksum", "MTIz", "dGVzdC1zdHJpbmc="]
    ):
        got = failure(
            s3.put_object, Bucket="rec-listing", Key="md5", Body=b"test-string", ContentMD5=value
        )
        assert_like(md5[f"md5-error-{index}"], got)


def raw_request(
    server: ServerProcess, method: str, path: str, host_header: str | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request as an SDK sends it (signatures are read, not checked): status, headers, body."""
    host, port = server.endpoint.removeprefix("http://").split(":")
    credential = "AKID/20260101/us-east-1/s3/aws4_request"
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(
            method,
            path,
            headers={
                "Host": host_header or f"{host}:{port}",
                "Authorization": (
                    f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=x"
                ),
            },
        )
        response = connection.getresponse()
        return response.status, response.msg, response.read()
    finally:
        connection.close()


def test_virtual_hosted_style_by_host_header(s3: Any, server: ServerProcess) -> None:
    s3.create_bucket(Bucket="vhost-bucket")
    s3.put_object(Bucket="vhost-bucket", Key="dir/file.txt", Body=b"via host")
    port = server.endpoint.rsplit(":", 1)[1]
    for host_header in (
        "vhost-bucket.s3.us-east-1.amazonaws.com",
        f"vhost-bucket.localhost:{port}",
    ):
        status, _, body = raw_request(server, "GET", "/dir/file.txt", host_header)
        assert (status, body) == (200, b"via host"), host_header


def test_last_modified_in_whole_seconds_as_s3_answers_it(s3: Any, server: ServerProcess) -> None:
    """S3 keeps milliseconds but answers whole seconds, rounded down: ``.000Z`` in listings,
    an RFC 1123 date in ``Last-Modified``. ``aws s3 sync`` compares files' mtimes to these."""
    s3.create_bucket(Bucket="seconds-bucket")
    before = time.time()
    s3.put_object(Bucket="seconds-bucket", Key="k", Body=b"x")
    after = time.time()
    _, _, listing = raw_request(server, "GET", "/seconds-bucket?list-type=2")
    (listed,) = re.findall(rb"<LastModified>([^<]+)</LastModified>", listing)
    assert re.fullmatch(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z", listed), listed
    status, headers, _ = raw_request(server, "HEAD", "/seconds-bucket/k")
    assert status == 200
    stamp = email.utils.parsedate_to_datetime(headers["Last-Modified"]).timestamp()
    assert headers["Last-Modified"].endswith(" GMT")
    listed_stamp = dt.datetime.fromisoformat(listed.decode().replace("Z", "+00:00")).timestamp()
    assert stamp == listed_stamp
    assert int(before) <= stamp <= after  # rounded down to the second, never up


def test_lifecycle_transition_minimum_is_a_header_both_ways(s3: Any) -> None:
    # terraform's aws_s3_bucket_lifecycle_configuration compares the
    # x-amz-transition-default-minimum-object-size header it sent with Get's
    s3.create_bucket(Bucket="lifecycle-header")
    rules = [
        {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}
    ]
    put = s3.put_bucket_lifecycle_configuration(
        Bucket="lifecycle-header",
        LifecycleConfiguration={"Rules": rules},
        TransitionDefaultMinimumObjectSize="varies_by_storage_class",
    )
    headers = put["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-transition-default-minimum-object-size"] == "varies_by_storage_class"
    got = s3.get_bucket_lifecycle_configuration(Bucket="lifecycle-header")
    assert got["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    assert got["Rules"] == rules


def test_delete_bucket_lifecycle_over_the_wire(s3: Any) -> None:
    # DELETE /<bucket>?lifecycle is DeleteBucketLifecycle (not Delete<sub-resource>)
    s3.create_bucket(Bucket="lifecycle-deleted")
    rules = [
        {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}
    ]
    s3.put_bucket_lifecycle_configuration(
        Bucket="lifecycle-deleted", LifecycleConfiguration={"Rules": rules}
    )
    s3.delete_bucket_lifecycle(Bucket="lifecycle-deleted")
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_lifecycle_configuration(Bucket="lifecycle-deleted")
    assert caught.value.response["Error"]["Code"] == "NoSuchLifecycleConfiguration"


def test_aws_cli_cp_ls_sync_and_multipart(server: ServerProcess, tmp_path: Path) -> None:
    aws_cli(server, "s3", "mb", "s3://cli-bucket")
    small = tmp_path / "small.txt"
    small.write_text("small file\n")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * 1024 * 1024))  # over the CLI's 8 MB multipart threshold
    aws_cli(server, "s3", "cp", str(small), "s3://cli-bucket/docs/small.txt")
    aws_cli(server, "s3", "cp", str(big), "s3://cli-bucket/blobs/big.bin")
    head = aws_cli(
        server, "s3api", "head-object", "--bucket", "cli-bucket", "--key", "blobs/big.bin"
    ).json()
    assert head["ContentLength"] == 9 * 1024 * 1024
    assert head["ETag"].endswith('-2"')  # a multipart upload: 8 MB + 1 MB parts
    listing = aws_cli(server, "s3", "ls", "s3://cli-bucket/", "--recursive", check=True)
    assert "docs/small.txt" in listing.stdout and "blobs/big.bin" in listing.stdout
    top = aws_cli(server, "s3", "ls", "s3://cli-bucket/")
    assert "PRE docs/" in top.stdout and "PRE blobs/" in top.stdout
    back = tmp_path / "back.bin"
    aws_cli(server, "s3", "cp", "s3://cli-bucket/blobs/big.bin", str(back))
    assert back.read_bytes() == big.read_bytes()
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("a")
    (tree / "sub" / "b.txt").write_text("b")
    # `aws s3 sync` uploads a file whose mtime is after the object's LastModified, which S3
    # answers in whole seconds: a file written in the second of its upload would be sent
    # again (on AWS too). Files older than their upload are what the comparison is about.
    an_hour_ago = time.time() - 3600
    for written in (tree / "a.txt", tree / "sub" / "b.txt"):
        os.utime(written, (an_hour_ago, an_hour_ago))
    synced = aws_cli(server, "s3", "sync", str(tree), "s3://cli-bucket/tree")
    assert synced.stdout.count("upload:") == 2
    again = aws_cli(server, "s3", "sync", str(tree), "s3://cli-bucket/tree")
    assert "upload:" not in again.stdout  # nothing changed: nothing sent
    (tree / "a.txt").write_text("a, changed")
    changed = aws_cli(server, "s3", "sync", str(tree), "s3://cli-bucket/tree")
    assert changed.stdout.count("upload:") == 1
    down = tmp_path / "down"
    aws_cli(server, "s3", "sync", "s3://cli-bucket/tree", str(down))
    assert (down / "sub" / "b.txt").read_text() == "b"
    assert (down / "a.txt").read_text() == "a, changed"
    aws_cli(server, "s3", "rm", "s3://cli-bucket", "--recursive")
    aws_cli(server, "s3", "rb", "s3://cli-bucket")


def test_seed_dlq_processor_archives_to_s3_and_alerts_through_sns(
    server: ServerProcess, s3: Any
) -> None:
    region = "us-west-2"
    sqs = boto_client(server.endpoint, "sqs", region=region)
    sns = boto_client(server.endpoint, "sns", region=region)
    lam = boto_client(server.endpoint, "lambda", region=region)
    regional_s3 = boto_client(server.endpoint, "s3", region=region)
    regional_s3.create_bucket(
        Bucket="orders-dlq-archive-1", CreateBucketConfiguration={"LocationConstraint": region}
    )
    topic = sns.create_topic(Name="orders-alerts")["TopicArn"]
    alerts_url = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=f"arn:aws:sqs:{region}:000000000000:alerts-inbox",
    )
    dlq_url = sqs.create_queue(QueueName="orders-queue-dlq")["QueueUrl"]
    dlq_arn = f"arn:aws:sqs:{region}:000000000000:orders-queue-dlq"
    orders_url = sqs.create_queue(
        QueueName="orders-queue",
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
        },
    )["QueueUrl"]
    lam.create_function(
        FunctionName="order-dlq-processor",
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/order-processor-role",
        Handler="dlq_processor.process_dlq",
        Code={"ZipFile": zip_of(DLQ_PROCESSOR.read_text("utf-8"), "dlq_processor.py")},
        Timeout=30,
        Environment={"Variables": {"DLQ_BUCKET": "orders-dlq-archive-1", "ALERTS_TOPIC": topic}},
    )
    lam.create_event_source_mapping(
        EventSourceArn=dlq_arn, FunctionName="order-dlq-processor", BatchSize=10
    )
    order = {"type": "order_updated", "data": {"order_id": "ORD-1"}}
    sqs.send_message(QueueUrl=orders_url, MessageBody=json.dumps(order))
    first = sqs.receive_message(QueueUrl=orders_url, VisibilityTimeout=0)["Messages"]
    message_id = first[0]["MessageId"]
    sqs.receive_message(QueueUrl=orders_url)  # past maxReceiveCount: moved to the DLQ

    key = f"failed/{message_id}.json"
    deadline = time.monotonic() + 60
    archived = None
    while time.monotonic() < deadline and archived is None:
        try:
            archived = regional_s3.get_object(Bucket="orders-dlq-archive-1", Key=key)
        except ClientError:
            time.sleep(0.2)
    assert archived is not None, "the DLQ processor never archived the message"
    document = json.loads(archived["Body"].read())
    assert document["message"] == order
    assert document["original_queue"] == f"arn:aws:sqs:{region}:000000000000:orders-queue"
    alerts = sqs.receive_message(QueueUrl=alerts_url, WaitTimeSeconds=5)["Messages"]
    envelope = json.loads(alerts[0]["Body"])
    assert envelope["Subject"] == "DLQ Message Received"
    assert envelope["Message"] == (
        f"Failed message {message_id} from arn:aws:sqs:{region}:000000000000:orders-queue"
    )
    assert dlq_url
