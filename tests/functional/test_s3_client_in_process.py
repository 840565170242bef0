"""boto3's managed S3 transfers (upload_file, upload_fileobj, download_file,
download_fileobj, copy) on the in-process client, checked against what boto3's own
s3transfer does with the same calls over the wire (through ``boto3_in_process``)."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    FlexibleChecksumError,
    MissingDependencyException,
    ParamValidationError,
)

from headwater import Headwater
from headwater.in_process import boto3_in_process

MIB = 1024 * 1024
#: The smallest parts S3 takes: three parts for ``LARGE``.
PARTS = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
LARGE = bytes(range(256)) * (11 * MIB // 256)
ENDPOINT = "http://127.0.0.1:4599"  # never connected to: boto3_in_process answers


@pytest.fixture
def hw(tmp_path: Path) -> Iterator[Headwater]:
    with Headwater(data_dir=tmp_path / "hw", endpoint_url=ENDPOINT) as hw:
        hw.client("s3").create_bucket(Bucket="files")
        yield hw


class _Stream(io.RawIOBase):
    """A body that can only be read, as a pipe or a socket."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._data.read(size)


def test_small_upload_is_one_put_with_the_extra_args(hw: Headwater, tmp_path: Path) -> None:
    s3 = hw.client("s3")
    source = tmp_path / "small.txt"
    source.write_bytes(b"hello")
    moved: list[int] = []
    s3.upload_file(
        source,
        "files",
        "small.txt",
        ExtraArgs={"ContentType": "text/plain", "Metadata": {"team": "orders"}},
        Callback=moved.append,
    )
    head = s3.head_object(Bucket="files", Key="small.txt")
    assert head["ContentType"] == "text/plain"
    assert head["Metadata"] == {"team": "orders"}
    assert "-" not in head["ETag"]  # not a multipart object
    assert sum(moved) == 5


def test_large_upload_goes_in_parts_like_boto3s(hw: Headwater, tmp_path: Path) -> None:
    source = tmp_path / "large.bin"
    source.write_bytes(LARGE)
    s3 = hw.client("s3")
    moved: list[int] = []
    s3.upload_file(str(source), "files", "ours.bin", Callback=moved.append, Config=PARTS)
    ours = s3.head_object(Bucket="files", Key="ours.bin")
    with boto3_in_process(hw):
        real = _boto3_s3()
        real.upload_file(str(source), "files", "boto3s.bin", Config=PARTS)
    theirs = s3.head_object(Bucket="files", Key="boto3s.bin")
    assert ours["ETag"].endswith('-3"')
    assert ours["ETag"] == theirs["ETag"]  # the same parts, cut at the same places
    assert ours["ContentLength"] == len(LARGE)
    assert s3.get_object(Bucket="files", Key="ours.bin")["Body"].read() == LARGE
    assert sum(moved) == len(LARGE)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket="files")


def test_upload_fileobj_from_a_stream(hw: Headwater) -> None:
    s3 = hw.client("s3")
    s3.upload_fileobj(_Stream(LARGE), "files", "stream.bin", Config=PARTS)
    s3.upload_fileobj(_Stream(b"tiny"), "files", "tiny.bin", Config=PARTS)
    assert s3.get_object(Bucket="files", Key="stream.bin")["Body"].read() == LARGE
    assert s3.get_object(Bucket="files", Key="tiny.bin")["Body"].read() == b"tiny"


def test_a_failed_multipart_upload_is_aborted(hw: Headwater) -> None:
    s3 = hw.client("s3")

    def stop_after_first_part(amount: int) -> None:
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        s3.upload_fileobj(
            io.BytesIO(LARGE), "files", "cut.bin", Callback=stop_after_first_part, Config=PARTS
        )
    assert "Uploads" not in s3.list_multipart_uploads(Bucket="files")
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket="files", Key="cut.bin")
    assert caught.value.response["Error"]["Code"] == "404"


def test_upload_errors_are_boto3s(hw: Headwater, tmp_path: Path) -> None:
    s3 = hw.client("s3")
    source = tmp_path / "f.txt"
    source.write_bytes(b"x")
    with pytest.raises(S3UploadFailedError) as failed:
        s3.upload_file(str(source), "no-such-bucket", "k")
    assert str(failed.value).startswith(f"Failed to upload {source} to no-such-bucket/k: ")
    assert "NoSuchBucket" in str(failed.value)
    with boto3_in_process(hw), pytest.raises(ValueError) as boto3s:
        _boto3_s3().upload_file(str(source), "files", "k", ExtraArgs={"Bogus": 1})
    with pytest.raises(ValueError) as ours:
        s3.upload_file(str(source), "files", "k", ExtraArgs={"Bogus": 1})
    assert str(ours.value) == str(boto3s.value)
    with pytest.raises(ValueError, match="Filename must be a string or a path-like object"):
        s3.upload_file(3, "files", "k")  # type: ignore[arg-type]
    assert "Contents" not in s3.list_objects_v2(Bucket="files")


def test_downloads(hw: Headwater, tmp_path: Path) -> None:
    s3 = hw.client("s3")
    s3.put_object(Bucket="files", Key="big.bin", Body=LARGE)
    target = tmp_path / "out" / "big.bin"
    target.parent.mkdir()
    moved: list[int] = []
    s3.download_file("files", "big.bin", target, Callback=moved.append)
    assert target.read_bytes() == LARGE
    assert sum(moved) == len(LARGE)
    assert os.listdir(target.parent) == ["big.bin"]  # no partial file left beside it

    sink = io.BytesIO()
    s3.download_fileobj("files", "big.bin", sink)
    assert sink.getvalue() == LARGE

    with pytest.raises(ClientError) as missing:
        s3.download_file("files", "nothing", tmp_path / "out" / "nothing")
    assert missing.value.response["Error"]["Code"] == "404"
    assert os.listdir(target.parent) == ["big.bin"]


def test_copy(hw: Headwater) -> None:
    s3 = hw.client("s3")
    s3.put_object(Bucket="files", Key="src.txt", Body=b"copied", ContentType="text/plain")
    moved: list[int] = []
    s3.copy({"Bucket": "files", "Key": "src.txt"}, "files", "dst.txt", Callback=moved.append)
    copied = s3.get_object(Bucket="files", Key="dst.txt")
    assert copied["Body"].read() == b"copied"
    assert copied["ContentType"] == "text/plain"
    assert moved == [6]
    with pytest.raises(ClientError) as missing:
        s3.copy({"Bucket": "files", "Key": "nothing"}, "files", "x")
    assert missing.value.response["Error"]["Code"] == "404"


def test_copy_over_the_multipart_threshold_goes_in_parts(hw: Headwater) -> None:
    """A managed copy of an object over ``multipart_threshold`` copies ranges of it with
    UploadPartCopy, as boto3's does: the copy is multipart, part by part as cut."""
    s3 = hw.client("s3")
    s3.put_object(Bucket="files", Key="large.bin", Body=LARGE)
    moved: list[int] = []
    s3.copy(
        {"Bucket": "files", "Key": "large.bin"},
        "files",
        "large-copy.bin",
        Callback=moved.append,
        Config=PARTS,
    )
    copied = s3.get_object(Bucket="files", Key="large-copy.bin")
    assert copied["Body"].read() == LARGE
    assert copied["ETag"].endswith('-3"')
    assert moved == [5 * MIB, 5 * MIB, len(LARGE) - 10 * MIB]
    last = s3.head_object(Bucket="files", Key="large-copy.bin", PartNumber=3)
    assert last["ContentLength"] == len(LARGE) - 10 * MIB
    assert last["PartsCount"] == 3


def _boto3_s3() -> Any:
    return boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(s3={"addressing_style": "path"}),
    )


def test_copy_source_as_boto3_takes_it(hw: Headwater) -> None:
    s3 = hw.client("s3")
    key = "odd key+100%.txt"
    s3.put_object(Bucket="files", Key=key, Body=b"odd")
    s3.copy_object(CopySource={"Bucket": "files", "Key": key}, Bucket="files", Key="a")
    s3.copy_object(CopySource=f"files/{key}", Bucket="files", Key="b")
    for copied in ("a", "b"):
        assert s3.get_object(Bucket="files", Key=copied)["Body"].read() == b"odd"


def test_parameters_boto3_refuses_before_sending(hw: Headwater) -> None:
    s3 = hw.client("s3")
    with boto3_in_process(hw):
        real = _boto3_s3()
        with pytest.raises(ParamValidationError) as boto3s_bucket:
            real.list_objects_v2(Bucket="no/slashes")
        with pytest.raises(ParamValidationError) as boto3s_metadata:
            real.put_object(Bucket="files", Key="k", Body=b"", Metadata={"n": "caf\u00e9"})
    with pytest.raises(ParamValidationError) as ours_bucket:
        s3.list_objects_v2(Bucket="no/slashes")
    with pytest.raises(ParamValidationError) as ours_metadata:
        s3.put_object(Bucket="files", Key="k", Body=b"", Metadata={"n": "caf\u00e9"})
    assert str(ours_bucket.value) == str(boto3s_bucket.value)
    assert str(ours_metadata.value) == str(boto3s_metadata.value)
    assert "Contents" not in s3.list_objects_v2(Bucket="files")


def test_empty_lists_answer_as_over_the_wire(hw: Headwater) -> None:
    # S3 writes these lists without a wrapper: an empty one is no element, no key in boto3
    s3 = hw.client("s3")
    s3.create_bucket(Bucket="empty")
    upload = s3.create_multipart_upload(Bucket="files", Key="parts")["UploadId"]
    calls: list[tuple[str, dict[str, Any]]] = [
        ("list_parts", {"Bucket": "files", "Key": "parts", "UploadId": upload}),
        ("list_multipart_uploads", {"Bucket": "empty"}),
        ("list_objects", {"Bucket": "empty"}),
        ("list_objects_v2", {"Bucket": "empty"}),
        ("list_object_versions", {"Bucket": "empty"}),
        ("get_bucket_notification_configuration", {"Bucket": "empty"}),
    ]
    with boto3_in_process(hw):
        real = _boto3_s3()
        for method, params in calls:
            ours = set(getattr(s3, method)(**params)) - {"ResponseMetadata"}
            theirs = set(getattr(real, method)(**params)) - {"ResponseMetadata"}
            theirs.discard("EncodingType")  # boto3 asks for url-encoded keys itself
            assert ours == theirs, method


def test_a_part_without_its_number_is_malformed_xml(hw: Headwater) -> None:
    # found by the odd-input properties: a KeyError (a 500 over the wire)
    s3 = hw.client("s3")
    upload = s3.create_multipart_upload(Bucket="files", Key="k")["UploadId"]
    with pytest.raises(ClientError) as caught:
        s3.complete_multipart_upload(
            Bucket="files", Key="k", UploadId=upload, MultipartUpload={"Parts": [{}]}
        )
    assert caught.value.response["Error"]["Code"] == "MalformedXML"
    assert s3.list_multipart_uploads(Bucket="files")["Uploads"][0]["UploadId"] == upload


def test_a_copy_source_that_is_not_utf8_is_the_services_error(hw: Headwater) -> None:
    # botocore's CopySource quoting cannot encode a lone surrogate; in process such text
    # gets S3's answer, as everywhere else in the client, not a UnicodeEncodeError
    s3 = hw.client("s3")
    with pytest.raises(ClientError):
        s3.copy_object(CopySource="files/\ud800", Bucket="files", Key="k")
    assert "Contents" not in s3.list_objects_v2(Bucket="files")


def test_default_checksums_as_boto3_sends_and_asks_for_them(hw: Headwater) -> None:
    # boto3's defaults (when_supported, both ways): a CRC32 with every upload that takes a
    # checksum and none given, and GetObject asking for the stored checksums.
    s3 = hw.client("s3")
    upload = s3.create_multipart_upload(Bucket="files", Key="parts")["UploadId"]

    def answers(client: Any, key: str) -> list[dict[str, Any]]:
        calls = [
            client.put_object(Bucket="files", Key=key, Body=b"hello"),
            client.get_object(Bucket="files", Key=key),
            client.list_objects_v2(Bucket="files", Prefix=key)["Contents"][0],
            client.upload_part(
                Bucket="files", Key="parts", UploadId=upload, PartNumber=1, Body=b"part"
            ),
            client.put_object(
                Bucket="files", Key=key, Body=b"hello", ChecksumSHA256=SHA256_OF_HELLO
            ),
        ]
        return [
            {name: value for name, value in answer.items() if name.startswith("Checksum")}
            for answer in calls
        ]

    ours = answers(s3, "ours")
    with boto3_in_process(hw):
        theirs = answers(_boto3_s3(), "theirs")
    assert ours == theirs
    assert ours[1] == {"ChecksumCRC32": "NhCmhg==", "ChecksumType": "FULL_OBJECT"}
    assert ours[4] == {"ChecksumSHA256": SHA256_OF_HELLO, "ChecksumType": "FULL_OBJECT"}


SHA256_OF_HELLO = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="


def test_expires_as_boto3_parses_the_header(hw: Headwater) -> None:
    # botocore's S3 handler: the header's text in ExpiresString, a datetime in Expires
    s3 = hw.client("s3")
    when = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    later = dt.datetime(2031, 6, 1, 12, tzinfo=dt.UTC)

    def answers(client: Any, key: str) -> list[dict[str, Any]]:
        client.put_object(Bucket="files", Key=key, Body=b"x", Expires=when)
        calls = [
            client.head_object(Bucket="files", Key=key),
            client.get_object(Bucket="files", Key=key),
            client.get_object(Bucket="files", Key=key, ResponseExpires=later),
        ]
        return [{k: v for k, v in answer.items() if k.startswith("Expires")} for answer in calls]

    ours = answers(s3, "ours")
    with boto3_in_process(hw):
        theirs = answers(_boto3_s3(), "theirs")
    assert ours == theirs
    assert ours[0] == {"Expires": when, "ExpiresString": "Tue, 01 Jan 2030 00:00:00 GMT"}
    assert ours[2]["Expires"] == later


def test_an_unsupported_operation_is_s3s_not_implemented_both_ways(hw: Headwater) -> None:
    s3 = hw.client("s3")
    s3.put_object(Bucket="files", Key="k", Body=b"x")

    def error(client: Any) -> tuple[str, str, int]:
        with pytest.raises(ClientError) as caught:
            client.restore_object(Bucket="files", Key="k", RestoreRequest={"Days": 1})
        response = caught.value.response
        return (
            response["Error"]["Code"],
            response["Error"]["Message"],
            response["ResponseMetadata"]["HTTPStatusCode"],
        )

    with boto3_in_process(hw):
        theirs = error(_boto3_s3())
    assert error(s3) == theirs
    assert theirs == (
        "NotImplemented",
        "Operation RestoreObject is not supported by headwater's s3",
        501,
    )


def test_timestamps_given_as_text_or_epoch_seconds_as_boto3_sends_them(hw: Headwater) -> None:
    # botocore takes a timestamp as a datetime, ISO 8601 text or epoch seconds; in process
    # the service got the text (stored as the Expires header) or the number (ignored as a
    # condition)
    s3 = hw.client("s3")
    s3.put_object(Bucket="files", Key="k", Body=b"x", Expires="2030-01-01T00:00:00Z")
    head = s3.head_object(Bucket="files", Key="k")
    assert head["ExpiresString"] == "Tue, 01 Jan 2030 00:00:00 GMT"
    with pytest.raises(ClientError) as refused:
        s3.get_object(Bucket="files", Key="k", IfUnmodifiedSince=946684800)  # 2000-01-01
    assert refused.value.response["Error"]["Code"] == "PreconditionFailed"
    with pytest.raises(ClientError) as unchanged:
        s3.get_object(Bucket="files", Key="k", IfModifiedSince=head["LastModified"].isoformat())
    assert unchanged.value.response["Error"]["Code"] == "304"


def test_line_ends_in_an_xml_body_reach_s3_as_boto3_sends_them(hw: Headwater) -> None:
    # botocore writes CR unescaped in XML bodies, which S3 reads as LF; except in the
    # bodies it escapes whole (DeleteObjects), where a key with CR stays one
    s3 = hw.client("s3")

    def answers(client: Any, key: str) -> tuple[Any, Any]:
        client.put_object(Bucket="files", Key=key, Body=b"x")
        client.put_object(Bucket="files", Key=f"{key}\r", Body=b"x")
        tags = {"TagSet": [{"Key": "k\r", "Value": "a\r\nb\rc"}]}
        client.put_object_tagging(Bucket="files", Key=key, Tagging=tags)
        deleted = client.delete_objects(Bucket="files", Delete={"Objects": [{"Key": f"{key}\r"}]})
        return client.get_object_tagging(Bucket="files", Key=key)["TagSet"], deleted["Deleted"]

    ours = answers(s3, "ours")
    with boto3_in_process(hw):
        theirs = answers(_boto3_s3(), "theirs")
    assert ours[0] == theirs[0] == [{"Key": "k\n", "Value": "a\nb\nc"}]
    assert ours[1] == [{"Key": "ours\r"}]
    assert theirs[1] == [{"Key": "theirs\r"}]


def test_presigned_urls_and_posts_as_boto3_makes_them(
    hw: Headwater, monkeypatch: pytest.MonkeyPatch
) -> None:
    # They were AttributeErrors; made for hw's endpoint with the credentials boto3 finds
    # only these credentials to find, for both (a profile or a token left in the
    # environment by the rest of a run would otherwise be found by one and not the other)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDPRESIGNING")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    s3 = hw.client("s3")
    s3.put_object(Bucket="files", Key="a key", Body=b"presigned")
    # a new session, as hw.client's presigner is: boto3's default one may predate the env
    real = boto3.session.Session().client("s3", endpoint_url=ENDPOINT, region_name="us-east-1")
    params = {"Bucket": "files", "Key": "a key"}

    def unsigned(url: str) -> str:
        # what depends on the second each was made in: the two may fall either side of one
        return re.sub(r"&(X-Amz-Date|X-Amz-Signature|Signature|Expires)=[^&]*", "", url)

    def expires(url: str) -> int:
        found = re.search(r"[?&]Expires=(\d+)", url)
        return int(found.group(1)) if found else 0

    ours = s3.generate_presigned_url("get_object", Params=params, ExpiresIn=60)
    theirs = real.generate_presigned_url("get_object", Params=params, ExpiresIn=60)
    assert unsigned(ours) == unsigned(theirs)
    assert 0 <= expires(theirs) - expires(ours) <= 1
    with boto3_in_process(hw) as transport:
        status, _, body = transport.send("GET", ours, {}, b"")
    assert (status, body) == (200, b"presigned")
    post = s3.generate_presigned_post("files", "upload")
    real_post = real.generate_presigned_post("files", "upload")
    assert post["url"] == real_post["url"]
    assert set(post["fields"]) == set(real_post["fields"])


@pytest.mark.parametrize("algorithm", ["CRC32C", "MD5", "nonsense"])
def test_a_checksum_algorithm_boto3_cannot_compute_is_refused_before_sending(
    hw: Headwater, algorithm: str
) -> None:
    # botocore refuses it client-side (CRC32C needs its CRT extension); in process the
    # call went through
    s3 = hw.client("s3")

    def refusal(client: Any) -> tuple[str, str]:
        with pytest.raises((FlexibleChecksumError, MissingDependencyException)) as caught:
            client.put_object(Bucket="files", Key="k", Body=b"x", ChecksumAlgorithm=algorithm)
        return type(caught.value).__name__, str(caught.value)

    with boto3_in_process(hw):
        theirs = refusal(_boto3_s3())
    assert refusal(s3) == theirs
    assert "Contents" not in s3.list_objects_v2(Bucket="files")
