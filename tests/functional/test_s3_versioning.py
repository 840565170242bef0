"""S3 object versioning: versions and delete markers while versioning is enabled, null
versions while it is suspended, reads, copies, tags and removals of one version, the
listing of versions with its paging, the events, S3's errors, and data directories
written before versions were kept."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from headwater.in_process import boto3_in_process
from tests.functional.eventbridge.wire import ENDPOINT, wire_client
from tests.functional.test_s3_notifications import drain, make_queue

BUCKET = "history"


@pytest.fixture
def hw_options() -> dict[str, Any]:
    return {"endpoint_url": ENDPOINT}


@pytest.fixture
def s3(hw: Headwater) -> Any:
    client = hw.s3
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return client


def error_of(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(Bucket=BUCKET, **params)
    return dict(caught.value.response["Error"])


def test_each_write_makes_a_version_readable_by_its_id(s3: Any) -> None:
    first = s3.put_object(Bucket=BUCKET, Key="k", Body=b"one")["VersionId"]
    second = s3.put_object(Bucket=BUCKET, Key="k", Body=b"two")["VersionId"]
    assert first != second and len(first) == 32
    got = s3.get_object(Bucket=BUCKET, Key="k")
    assert (got["Body"].read(), got["VersionId"]) == (b"two", second)
    old = s3.get_object(Bucket=BUCKET, Key="k", VersionId=first)
    assert (old["Body"].read(), old["VersionId"]) == (b"one", first)
    assert s3.head_object(Bucket=BUCKET, Key="k", VersionId=first)["ContentLength"] == 3
    copied = s3.copy_object(
        Bucket=BUCKET, Key="c", CopySource={"Bucket": BUCKET, "Key": "k", "VersionId": first}
    )
    assert copied["CopySourceVersionId"] == first
    assert s3.get_object(Bucket=BUCKET, Key="c")["Body"].read() == b"one"
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="k")["UploadId"]
    part = s3.upload_part(Bucket=BUCKET, Key="k", UploadId=upload, PartNumber=1, Body=b"3")
    done = s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key="k",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix="k")["Versions"]
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [
        (done["VersionId"], True),
        (second, False),
        (first, False),
    ]


def test_delete_makes_a_marker_and_deleting_it_restores(s3: Any) -> None:
    kept = s3.put_object(Bucket=BUCKET, Key="k", Body=b"data")["VersionId"]
    removed = s3.delete_object(Bucket=BUCKET, Key="k")
    assert removed["DeleteMarker"] is True
    marker = removed["VersionId"]
    error = error_of(s3.get_object, Key="k")
    assert error["Code"] == "NoSuchKey"
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    listed = s3.list_object_versions(Bucket=BUCKET)
    assert [(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [(marker, True)]
    assert [(v["VersionId"], v["IsLatest"]) for v in listed["Versions"]] == [(kept, False)]
    # the old version is still there by its id
    assert s3.get_object(Bucket=BUCKET, Key="k", VersionId=kept)["Body"].read() == b"data"
    # GET of the marker by its id: 405
    assert error_of(s3.get_object, Key="k", VersionId=marker)["Code"] == "MethodNotAllowed"
    # removing the marker brings the object back
    answer = s3.delete_object(Bucket=BUCKET, Key="k", VersionId=marker)
    assert (answer["DeleteMarker"], answer["VersionId"]) == (True, marker)
    assert s3.get_object(Bucket=BUCKET, Key="k")["VersionId"] == kept
    # removing a version for good
    assert s3.delete_object(Bucket=BUCKET, Key="k", VersionId=kept)["VersionId"] == kept
    assert "Versions" not in s3.list_object_versions(Bucket=BUCKET)
    assert error_of(s3.get_object, Key="k")["Code"] == "NoSuchKey"


def test_versions_and_delete_markers_on_the_wire(hw: Headwater, s3: Any) -> None:
    kept = s3.put_object(Bucket=BUCKET, Key="k", Body=b"data")["VersionId"]
    marker = s3.delete_object(Bucket=BUCKET, Key="k")["VersionId"]
    with boto3_in_process(hw):
        wire = wire_client("s3")
        with pytest.raises(ClientError) as caught:
            wire.get_object(Bucket=BUCKET, Key="k")
        headers = caught.value.response["ResponseMetadata"]["HTTPHeaders"]
        assert caught.value.response["Error"]["Code"] == "NoSuchKey"
        assert (headers["x-amz-delete-marker"], headers["x-amz-version-id"]) == ("true", marker)
        with pytest.raises(ClientError) as caught:
            wire.get_object(Bucket=BUCKET, Key="k", VersionId=marker)
        response = caught.value.response
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 405
        assert response["Error"]["Code"] == "MethodNotAllowed"
        assert response["Error"]["Message"] == (
            "The specified method is not allowed against this resource."
        )
        headers = response["ResponseMetadata"]["HTTPHeaders"]
        assert headers["x-amz-delete-marker"] == "true"
        assert "last-modified" in headers
        with pytest.raises(ClientError) as caught:
            wire.head_object(Bucket=BUCKET, Key="k")
        headers = caught.value.response["ResponseMetadata"]["HTTPHeaders"]
        assert caught.value.response["Error"]["Code"] == "404"
        assert headers["x-amz-delete-marker"] == "true"
        got = wire.get_object(Bucket=BUCKET, Key="k", VersionId=kept)
        assert got["VersionId"] == kept
        assert got["ResponseMetadata"]["HTTPHeaders"]["x-amz-version-id"] == kept
        put = wire.put_object(Bucket=BUCKET, Key="k", Body=b"new")
        assert put["ResponseMetadata"]["HTTPHeaders"]["x-amz-version-id"] == put["VersionId"]
        listed = wire.list_object_versions(Bucket=BUCKET)
        assert [v["VersionId"] for v in listed["Versions"]] == [put["VersionId"], kept]
        assert [m["VersionId"] for m in listed["DeleteMarkers"]] == [marker]


def test_version_errors(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    error = error_of(s3.get_object, Key="k", VersionId="not-a-version")
    assert (error["Code"], error["Message"]) == ("InvalidArgument", "Invalid version id specified")
    missing = "A" * 32
    error = error_of(s3.get_object, Key="k", VersionId=missing)
    assert (error["Code"], error["Message"]) == (
        "NoSuchVersion",
        "The specified version does not exist.",
    )
    marker = s3.delete_object(Bucket=BUCKET, Key="k")["VersionId"]
    error = error_of(
        s3.copy_object, Key="c", CopySource={"Bucket": BUCKET, "Key": "k", "VersionId": marker}
    )
    assert error["Code"] == "InvalidRequest"
    # a version that is not there: removed already, answered as removed
    assert s3.delete_object(Bucket=BUCKET, Key="k", VersionId=missing)["VersionId"] == missing
    # a versioned bucket with versions cannot be deleted
    assert error_of(s3.delete_bucket)["Code"] == "BucketNotEmpty"


def test_suspended_versioning_writes_null_versions(s3: Any) -> None:
    kept = s3.put_object(Bucket=BUCKET, Key="k", Body=b"v1")["VersionId"]
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"null-1")
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"null-2")  # replaces the null version
    versions = s3.list_object_versions(Bucket=BUCKET)["Versions"]
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [("null", True), (kept, False)]
    got = s3.get_object(Bucket=BUCKET, Key="k", VersionId="null")
    assert got["Body"].read() == b"null-2"
    removed = s3.delete_object(Bucket=BUCKET, Key="k")
    assert (removed["DeleteMarker"], removed["VersionId"]) == (True, "null")
    listed = s3.list_object_versions(Bucket=BUCKET)
    assert [v["VersionId"] for v in listed["Versions"]] == [kept]
    assert [(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [("null", True)]


def test_objects_from_before_versioning_are_null_versions(hw: Headwater) -> None:
    s3 = hw.s3
    s3.create_bucket(Bucket=BUCKET)
    put = s3.put_object(Bucket=BUCKET, Key="k", Body=b"old")
    assert "VersionId" not in put
    assert "VersionId" not in s3.get_object(Bucket=BUCKET, Key="k")
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    new = s3.put_object(Bucket=BUCKET, Key="k", Body=b"new")["VersionId"]
    versions = s3.list_object_versions(Bucket=BUCKET)["Versions"]
    assert [v["VersionId"] for v in versions] == [new, "null"]
    assert s3.get_object(Bucket=BUCKET, Key="k", VersionId="null")["Body"].read() == b"old"


def test_tags_of_one_version(s3: Any) -> None:
    first = s3.put_object(Bucket=BUCKET, Key="k", Body=b"1", Tagging="a=1")["VersionId"]
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"2", Tagging="b=2")
    got = s3.get_object_tagging(Bucket=BUCKET, Key="k", VersionId=first)
    assert (got["TagSet"], got["VersionId"]) == ([{"Key": "a", "Value": "1"}], first)
    s3.put_object_tagging(
        Bucket=BUCKET, Key="k", VersionId=first, Tagging={"TagSet": [{"Key": "c", "Value": "3"}]}
    )
    assert s3.get_object_tagging(Bucket=BUCKET, Key="k", VersionId=first)["TagSet"] == [
        {"Key": "c", "Value": "3"}
    ]
    assert s3.get_object_tagging(Bucket=BUCKET, Key="k")["TagSet"] == [{"Key": "b", "Value": "2"}]
    s3.delete_object_tagging(Bucket=BUCKET, Key="k", VersionId=first)
    assert s3.get_object_tagging(Bucket=BUCKET, Key="k", VersionId=first)["TagSet"] == []


def test_listing_versions_pages_by_version(s3: Any) -> None:
    made: dict[str, list[str]] = {}
    for key in ("a", "b", "dir/x", "dir/y"):
        made[key] = [
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")["VersionId"] for _ in range(2)
        ]
    s3.delete_object(Bucket=BUCKET, Key="b")
    seen: list[tuple[str, str]] = []
    params: dict[str, Any] = {"Bucket": BUCKET, "MaxKeys": 3}
    while True:
        page = s3.list_object_versions(**params)
        entries = page.get("Versions", []) + page.get("DeleteMarkers", [])
        assert len(entries) <= 3
        seen.extend(
            (e["Key"], e["VersionId"])
            for e in sorted(entries, key=lambda e: (e["Key"], not e["IsLatest"]))
        )
        if not page["IsTruncated"]:
            break
        params["KeyMarker"] = page["NextKeyMarker"]
        params["VersionIdMarker"] = page["NextVersionIdMarker"]
    assert [key for key, _ in seen] == ["a", "a", "b", "b", "b", "dir/x", "dir/x", "dir/y", "dir/y"]
    assert len(set(seen)) == 9
    # a delimiter rolls keys up into common prefixes
    page = s3.list_object_versions(Bucket=BUCKET, Delimiter="/")
    assert page["CommonPrefixes"] == [{"Prefix": "dir/"}]
    assert {v["Key"] for v in page["Versions"]} == {"a", "b"}
    error = error_of(s3.list_object_versions, VersionIdMarker=made["a"][0])
    assert error["Code"] == "InvalidArgument"


def test_events_carry_version_ids_and_marker_creation(hw: Headwater, s3: Any) -> None:
    url, arn = make_queue(hw, "inbox")
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [
                {"QueueArn": arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}
            ],
            "EventBridgeConfiguration": {},
        },
    )
    bus_url, bus_queue = make_queue(hw, "bus")
    hw.events.put_rule(Name="s3", EventPattern=json.dumps({"source": ["aws.s3"]}))
    hw.events.put_targets(Rule="s3", Targets=[{"Id": "q", "Arn": bus_queue}])
    drain(hw, url)
    version = s3.put_object(Bucket=BUCKET, Key="k", Body=b"x")["VersionId"]
    marker = s3.delete_object(Bucket=BUCKET, Key="k")["VersionId"]
    s3.delete_object(Bucket=BUCKET, Key="k", VersionId=version)
    records = [body["Records"][0] for body in drain(hw, url)]
    assert [(r["eventName"], r["s3"]["object"].get("versionId")) for r in records] == [
        ("ObjectCreated:Put", version),
        ("ObjectRemoved:DeleteMarkerCreated", marker),
        ("ObjectRemoved:Delete", version),
    ]
    details = [event["detail"] for event in drain(hw, bus_url)]
    assert [(d["object"].get("version-id"), d.get("deletion-type")) for d in details] == [
        (version, None),
        (marker, "Delete Marker Created"),
        (version, "Permanently Deleted"),
    ]


def test_a_data_dir_from_before_versions_migrates(tmp_path: Path) -> None:
    """An index written before versions were kept (schema step 2) opens: its objects are
    null versions, and versioning then works on them."""
    data = tmp_path / "data"
    with Headwater(data_dir=data, clock=ManualClock()) as first:
        first.s3.create_bucket(Bucket=BUCKET)
        first.s3.put_object(Bucket=BUCKET, Key="k", Body=b"old")
    database = data / "headwater.sqlite3"
    with sqlite3.connect(database) as conn:  # back to the schema before versions
        conn.execute("DROP TABLE s3_versions")
        conn.execute("ALTER TABLE s3_objects DROP COLUMN version_id")
        conn.execute("ALTER TABLE s3_objects DROP COLUMN seq")
        conn.execute("UPDATE schema_version SET version = 2 WHERE component = 's3'")
    with Headwater(data_dir=data, clock=ManualClock()) as second:
        s3 = second.s3
        assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"old"
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        new = s3.put_object(Bucket=BUCKET, Key="k", Body=b"new")["VersionId"]
        versions = s3.list_object_versions(Bucket=BUCKET)["Versions"]
        assert [v["VersionId"] for v in versions] == [new, "null"]


def test_delete_objects_makes_markers_and_removes_versions(s3: Any) -> None:
    first = s3.put_object(Bucket=BUCKET, Key="a", Body=b"1")["VersionId"]
    s3.put_object(Bucket=BUCKET, Key="b", Body=b"2")
    answer = s3.delete_objects(
        Bucket=BUCKET,
        Delete={
            "Objects": [
                {"Key": "a", "VersionId": first},
                {"Key": "b"},
                {"Key": "c", "VersionId": "bad"},
            ]
        },
    )
    deleted = {entry["Key"]: entry for entry in answer["Deleted"]}
    assert deleted["a"] == {"Key": "a", "VersionId": first}
    assert deleted["b"]["DeleteMarker"] is True
    assert len(deleted["b"]["DeleteMarkerVersionId"]) == 32
    assert [(e["Key"], e["Code"]) for e in answer["Errors"]] == [("c", "InvalidArgument")]
    listed = s3.list_object_versions(Bucket=BUCKET)
    assert [v["Key"] for v in listed["Versions"]] == ["b"]
    assert [m["VersionId"] for m in listed["DeleteMarkers"]] == [
        deleted["b"]["DeleteMarkerVersionId"]
    ]
