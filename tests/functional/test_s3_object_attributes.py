"""GetObjectAttributes: the attributes asked for, of an object put in one piece, of a
multipart object (its parts, paged), of one version, over the wire too, and S3's errors."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater
from headwater.in_process import boto3_in_process
from tests.functional.eventbridge.wire import ENDPOINT, wire_client

BUCKET = "attrs"
ALL = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]
PART = 5 * 1024 * 1024


@pytest.fixture
def hw_options() -> dict[str, Any]:
    return {"endpoint_url": ENDPOINT}


@pytest.fixture
def s3(hw: Headwater) -> Any:
    client = hw.s3
    client.create_bucket(Bucket=BUCKET)
    return client


def multipart(s3: Any, key: str, sizes: list[int]) -> str:
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    parts = []
    for number, size in enumerate(sizes, start=1):
        etag = s3.upload_part(
            Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=number, Body=b"x" * size
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    done = s3.complete_multipart_upload(
        Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={"Parts": parts}
    )
    return str(done["ETag"])


def test_attributes_of_an_object_put_in_one_piece(s3: Any) -> None:
    put = s3.put_object(Bucket=BUCKET, Key="k", Body=b"hello", ChecksumAlgorithm="SHA256")
    got = s3.get_object_attributes(Bucket=BUCKET, Key="k", ObjectAttributes=ALL)
    assert got["ETag"] == put["ETag"].strip('"')  # unquoted
    assert got["ObjectSize"] == 5
    assert got["StorageClass"] == "STANDARD"
    assert got["Checksum"]["ChecksumSHA256"] == put["ChecksumSHA256"]
    assert got["Checksum"]["ChecksumType"] == "FULL_OBJECT"
    assert "ObjectParts" not in got  # not a multipart object
    assert "LastModified" in got
    only = s3.get_object_attributes(Bucket=BUCKET, Key="k", ObjectAttributes=["ObjectSize"])
    assert "ETag" not in only and only["ObjectSize"] == 5


def test_parts_of_a_multipart_object_are_paged(s3: Any) -> None:
    etag = multipart(s3, "big", [PART, PART, 7])
    got = s3.get_object_attributes(
        Bucket=BUCKET, Key="big", ObjectAttributes=["ObjectParts", "ETag"]
    )
    assert got["ETag"] == etag.strip('"')
    parts = got["ObjectParts"]
    assert parts["TotalPartsCount"] == 3
    assert [(p["PartNumber"], p["Size"]) for p in parts["Parts"]] == [(1, PART), (2, PART), (3, 7)]
    assert parts["IsTruncated"] is False
    page = s3.get_object_attributes(
        Bucket=BUCKET, Key="big", ObjectAttributes=["ObjectParts"], MaxParts=2, PartNumberMarker=0
    )["ObjectParts"]
    assert [p["PartNumber"] for p in page["Parts"]] == [1, 2]
    assert (page["IsTruncated"], page["NextPartNumberMarker"]) == (True, 2)
    rest = s3.get_object_attributes(
        Bucket=BUCKET, Key="big", ObjectAttributes=["ObjectParts"], PartNumberMarker=2
    )["ObjectParts"]
    assert [p["PartNumber"] for p in rest["Parts"]] == [3]


def test_attributes_of_a_version_and_over_the_wire(hw: Headwater, s3: Any) -> None:
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=BUCKET, Key="k", Body=b"one")["VersionId"]
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"three")
    with boto3_in_process(hw):
        wire = wire_client("s3")
        got = wire.get_object_attributes(
            Bucket=BUCKET, Key="k", VersionId=first, ObjectAttributes=["ObjectSize", "ETag"]
        )
        assert (got["ObjectSize"], got["VersionId"]) == (3, first)
        assert got["ETag"] == "f97c5d29941bfb1b2fdab0874906ab82"
        latest = wire.get_object_attributes(Bucket=BUCKET, Key="k", ObjectAttributes=ALL)
        assert latest["ObjectSize"] == 5
        wire.delete_object(Bucket=BUCKET, Key="k")
        with pytest.raises(ClientError) as caught:
            wire.get_object_attributes(Bucket=BUCKET, Key="k", ObjectAttributes=ALL)
        assert caught.value.response["Error"]["Code"] == "NoSuchKey"
        headers = caught.value.response["ResponseMetadata"]["HTTPHeaders"]
        assert headers["x-amz-delete-marker"] == "true"


def test_errors(s3: Any) -> None:
    with pytest.raises(ClientError) as caught:
        s3.get_object_attributes(Bucket=BUCKET, Key="missing", ObjectAttributes=["ETag"])
    assert caught.value.response["Error"]["Code"] == "NoSuchKey"
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    with pytest.raises(ClientError) as caught:
        s3.get_object_attributes(Bucket=BUCKET, Key="k", ObjectAttributes=["Colour"])
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "InvalidArgument",
        "Invalid attribute name specified.",
    )
