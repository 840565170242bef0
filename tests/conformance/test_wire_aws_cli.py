"""The high-level AWS CLI commands users run against ``headwater serve``, each answered as
AWS answers it (the real ``aws`` binary, a real server on a free port). The CLI costs about
half a second a call: each test groups the checks of one command family."""

from __future__ import annotations

import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conformance.server_process import (
    CLIENT_ENV,
    CliResult,
    ServerProcess,
    aws_cli,
    boto_client,
    headwater_server,
)

pytestmark = pytest.mark.integration

MIB = 1024 * 1024
_CLI_ERROR = re.compile(
    r"An error occurred \((.+?)\) when calling the (\w+) operation"
    r"(?: \(reached max retries: \d+\))?: (.*)"
)


def cli_error(result: CliResult) -> tuple[str, str, str]:
    """(code, operation, message) of the error a failed CLI call printed."""
    assert result.returncode != 0, result.stdout
    found = _CLI_ERROR.search(result.stderr)
    assert found is not None, result.stderr
    return found.group(1), found.group(2), found.group(3).strip()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with headwater_server(tmp_path_factory.mktemp("aws-cli")) as running:
        yield running


def test_get_and_head_object_answer_one_part_of_a_multipart_object(
    server: ServerProcess, tmp_path: Path
) -> None:
    """``--part-number N`` answers part N's bytes (206, its Content-Range, the object's part
    count), as the CLI's 8 MB chunks cut it; an object put in one piece is one part; a part
    past the count is S3's InvalidPartNumber (HEAD: a bare 416)."""
    aws_cli(server, "s3", "mb", "s3://parts-bucket")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * MIB))  # the CLI uploads 8 MB + 1 MB parts
    small = tmp_path / "small.txt"
    small.write_text("one piece\n")
    aws_cli(server, "s3", "cp", str(big), "s3://parts-bucket/big.bin")
    aws_cli(server, "s3", "cp", str(small), "s3://parts-bucket/small.txt")
    base = ("s3api", "get-object", "--bucket", "parts-bucket")

    second = tmp_path / "part2.bin"
    got = aws_cli(server, *base, "--key", "big.bin", "--part-number", "2", str(second)).json()
    assert second.read_bytes() == big.read_bytes()[8 * MIB :]
    assert got["ContentLength"] == MIB
    assert got["ContentRange"] == f"bytes {8 * MIB}-{9 * MIB - 1}/{9 * MIB}"
    assert got["PartsCount"] == 2
    assert got["ETag"].endswith('-2"')  # the whole object's ETag, not the part's

    head = ("s3api", "head-object", "--bucket", "parts-bucket")
    first = aws_cli(server, *head, "--key", "big.bin", "--part-number", "1").json()
    assert first["ContentLength"] == 8 * MIB
    assert first["ContentRange"] == f"bytes 0-{8 * MIB - 1}/{9 * MIB}"
    assert first["PartsCount"] == 2
    whole = aws_cli(server, *head, "--key", "big.bin").json()
    assert whole["ContentLength"] == 9 * MIB
    assert "PartsCount" not in whole and "ContentRange" not in whole  # only for a part

    piece = tmp_path / "piece.txt"
    one = aws_cli(server, *base, "--key", "small.txt", "--part-number", "1", str(piece)).json()
    assert piece.read_text() == "one piece\n"
    assert one["ContentRange"] == "bytes 0-9/10"
    assert "PartsCount" not in one  # S3 counts parts of multipart objects only

    past = aws_cli(server, *base, "--key", "big.bin", "--part-number", "3", "x", check=False)
    assert cli_error(past) == (
        "InvalidPartNumber",
        "GetObject",
        "The requested partnumber is not satisfiable",
    )
    past_head = aws_cli(server, *head, "--key", "small.txt", "--part-number", "2", check=False)
    assert cli_error(past_head)[:2] == ("416", "HeadObject")
    ranged = (*base, "--key", "big.bin", "--part-number", "1", "--range", "bytes=0-1", "x")
    assert cli_error(aws_cli(server, *ranged, check=False)) == (
        "InvalidRequest",
        "GetObject",
        "Cannot specify both Range header and partNumber query parameter",
    )
    zero = aws_cli(server, *base, "--key", "big.bin", "--part-number", "0", "x", check=False)
    assert cli_error(zero) == (
        "InvalidArgument",
        "GetObject",
        "Part number must be an integer between 1 and 10000, inclusive",
    )
    assert not (tmp_path / "x").exists()


def test_s3_to_s3_copy_of_an_object_over_the_multipart_threshold(
    server: ServerProcess, tmp_path: Path
) -> None:
    """``aws s3 cp`` and ``aws s3 mv`` between S3 locations copy an object over 8 MB in
    parts (UploadPartCopy with ``x-amz-copy-source-range``); a range S3 cannot copy is
    refused with its InvalidArgument."""
    aws_cli(server, "s3", "mb", "s3://copy-bucket")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * MIB))
    aws_cli(server, "s3", "cp", str(big), "s3://copy-bucket/big.bin")
    aws_cli(server, "s3", "cp", "s3://copy-bucket/big.bin", "s3://copy-bucket/copied.bin")
    aws_cli(server, "s3", "mv", "s3://copy-bucket/copied.bin", "s3://copy-bucket/moved.bin")
    back = tmp_path / "back.bin"
    aws_cli(server, "s3", "cp", "s3://copy-bucket/moved.bin", str(back))
    assert back.read_bytes() == big.read_bytes()
    listing = aws_cli(server, "s3api", "list-objects-v2", "--bucket", "copy-bucket").json()
    assert {item["Key"]: item["ETag"][-3:] for item in listing["Contents"]} == {
        "big.bin": '-2"',
        "moved.bin": '-2"',  # copied in the CLI's two 8 MB-cut parts
    }

    upload = aws_cli(
        server, "s3api", "create-multipart-upload", "--bucket", "copy-bucket", "--key", "part"
    ).json()
    copy_part = (
        *("s3api", "upload-part-copy", "--bucket", "copy-bucket", "--key", "part"),
        *("--upload-id", upload["UploadId"], "--part-number", "1"),
        *("--copy-source", "copy-bucket/big.bin", "--copy-source-range"),
    )
    past_end = aws_cli(server, *copy_part, f"bytes=0-{9 * MIB}", check=False)
    assert cli_error(past_end) == (
        "InvalidArgument",
        "UploadPartCopy",
        f"Range specified is not valid for source object of size: {9 * MIB}",
    )
    open_ended = aws_cli(server, *copy_part, "bytes=5-", check=False)
    assert cli_error(open_ended) == (
        "InvalidArgument",
        "UploadPartCopy",
        "The x-amz-copy-source-range value must be of the form bytes=first-last where first "
        "and last are the zero-based offsets of the first and last bytes to copy",
    )
    parts = aws_cli(
        server,
        "s3api",
        "list-parts",
        "--bucket",
        "copy-bucket",
        "--key",
        "part",
        "--upload-id",
        upload["UploadId"],
    ).json()
    assert "Parts" not in parts or parts["Parts"] == []  # nothing was stored


def test_head_and_get_name_a_storage_class_other_than_standard(
    server: ServerProcess, tmp_path: Path
) -> None:
    """S3 answers ``x-amz-storage-class`` for every object but a STANDARD one."""
    aws_cli(server, "s3", "mb", "s3://class-bucket")
    note = tmp_path / "note.txt"
    note.write_text("rarely read\n")
    for key, storage_class in (("ia.txt", "STANDARD_IA"), ("standard.txt", "STANDARD")):
        target = f"s3://class-bucket/{key}"
        aws_cli(server, "s3", "cp", str(note), target, "--storage-class", storage_class)
    head = ("s3api", "head-object", "--bucket", "class-bucket", "--key")
    assert aws_cli(server, *head, "ia.txt").json()["StorageClass"] == "STANDARD_IA"
    assert "StorageClass" not in aws_cli(server, *head, "standard.txt").json()
    got = aws_cli(
        server,
        "s3api",
        "get-object",
        "--bucket",
        "class-bucket",
        "--key",
        "ia.txt",
        str(tmp_path / "ia.txt"),
    ).json()
    assert got["StorageClass"] == "STANDARD_IA"


@pytest.fixture(scope="module")
def verifying_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    key = f"{CLIENT_ENV['AWS_ACCESS_KEY_ID']}:{CLIENT_ENV['AWS_SECRET_ACCESS_KEY']}"
    with headwater_server(
        tmp_path_factory.mktemp("aws-cli-verify"),
        ["--verify-signatures", "--access-key", key],
    ) as running:
        yield running


def fetch(url: str) -> tuple[int, bytes]:
    """GET ``url`` as a browser or curl would: (status, body), errors included."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def test_presigned_urls_and_signatures_checked_as_s3_checks_them(
    verifying_server: ServerProcess, tmp_path: Path
) -> None:
    """``aws s3 presign`` URLs (signature version 2, the CLI's default, and 4) fetch the
    object; a tampered or expired one, and a request signed with the wrong secret, are
    refused with S3's errors and S3's wording."""
    server = verifying_server
    aws_cli(server, "s3", "mb", "s3://presign-bucket")
    note = tmp_path / "note.txt"
    note.write_text("shared by link\n")
    aws_cli(server, "s3", "cp", str(note), "s3://presign-bucket/note.txt")
    v4_config = tmp_path / "config"
    v4_config.write_text("[default]\ns3 =\n    signature_version = s3v4\n")
    v2_url = aws_cli(server, "s3", "presign", "s3://presign-bucket/note.txt").stdout.strip()
    v4_url = aws_cli(
        server,
        *("s3", "presign", "s3://presign-bucket/note.txt", "--expires-in", "60"),
        env_overrides={"AWS_CONFIG_FILE": str(v4_config)},
    ).stdout.strip()
    assert "Signature=" in v2_url and "X-Amz-Signature=" in v4_url
    assert fetch(v2_url) == (200, b"shared by link\n")
    assert fetch(v4_url) == (200, b"shared by link\n")

    mismatch = (
        "<Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated "
        "does not match the signature you provided. Check your key and signing method."
        "</Message>"
    )
    for url, field in ((v2_url, "Signature="), (v4_url, "X-Amz-Signature=")):
        status, body = fetch(url.replace(field, field + "0"))
        assert status == 403 and mismatch in body.decode(), body
    expired_url = aws_cli(
        server, "s3", "presign", "s3://presign-bucket/note.txt", "--expires-in", "-1"
    ).stdout.strip()
    status, body = fetch(expired_url)
    assert status == 403
    assert "<Code>AccessDenied</Code><Message>Request has expired</Message>" in body.decode()

    wrong_secret = aws_cli(
        server,
        *("s3", "ls", "s3://presign-bucket"),
        check=False,
        env_overrides={"AWS_SECRET_ACCESS_KEY": "not-the-secret"},
    )
    assert cli_error(wrong_secret) == (
        "SignatureDoesNotMatch",
        "ListObjectsV2",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
    )


def test_ssm_get_parameters_by_path_filtered_and_paged(server: ServerProcess) -> None:
    """``aws ssm get-parameters-by-path`` follows SSM's 10-a-page NextToken to the end, and
    ``--parameter-filters`` keeps only what matches (they were ignored: every parameter)."""
    ssm = boto_client(server.endpoint, "ssm")
    for number in range(11):
        ssm.put_parameter(Name=f"/shop/config/key{number:02}", Value="v", Type="String")
    ssm.put_parameter(Name="/shop/db/password", Value="hunter2", Type="SecureString")
    by_path = ("ssm", "get-parameters-by-path", "--path", "/shop", "--recursive")
    everything = aws_cli(server, *by_path).json()["Parameters"]
    assert len(everything) == 12
    secure = aws_cli(server, *by_path, "--parameter-filters", "Key=Type,Values=SecureString").json()
    assert [p["Name"] for p in secure["Parameters"]] == ["/shop/db/password"]
    first = aws_cli(server, *by_path, "--max-items", "3").json()
    assert len(first["Parameters"]) == 3 and first["NextToken"]
    wrong_key = aws_cli(
        server, *by_path, "--parameter-filters", "Key=Tier,Values=Standard", check=False
    )
    assert cli_error(wrong_key) == (
        "InvalidFilterKey",
        "GetParametersByPath",
        "The following filter key is not valid: Tier. Valid filter keys include: [Type, KeyId].",
    )


QUEUE_TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  QueueName:
    Type: String
  Retention:
    Type: Number
    Default: 345600
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Ref QueueName
      MessageRetentionPeriod: !Ref Retention
  QueueUrlParameter:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub /deployed/${QueueName}/url
      Type: String
      Value: !Ref Queue
Outputs:
  QueueUrl:
    Value: !Ref Queue
"""


def _next_second() -> None:
    """Until the clock's second changes: ``aws cloudformation deploy`` names its change set
    after the second (``awscli-cloudformation-package-deploy-<epoch>``), and a name in use
    by the stack's last change set is AlreadyExistsException, here as on AWS (where a
    deploy takes longer than a second). One wait, not a poll for behaviour."""
    time.sleep(1.01 - time.time() % 1)


def test_cloudformation_deploy_then_use_what_it_made(server: ServerProcess, tmp_path: Path) -> None:
    """``aws cloudformation deploy`` with ``--parameter-overrides`` creates, then updates,
    a stack (a deploy with nothing to change fails unless ``--no-fail-on-empty-changeset``,
    as on AWS); the queue it made answers ``receive-message --attribute-names All``."""
    template = tmp_path / "queue.yaml"
    template.write_text(QUEUE_TEMPLATE)
    deploy = ("cloudformation", "deploy", "--template-file", str(template))
    stack = ("--stack-name", "cli-queue-stack")
    created = aws_cli(server, *deploy, *stack, "--parameter-overrides", "QueueName=cli-orders")
    assert "Successfully created/updated stack - cli-queue-stack" in created.stdout
    (described,) = aws_cli(server, "cloudformation", "describe-stacks", *stack).json()["Stacks"]
    assert described["StackStatus"] == "CREATE_COMPLETE"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]} == {
        "QueueName": "cli-orders",
        "Retention": "345600",
    }
    (output,) = described["Outputs"]
    queue_url = output["OutputValue"]
    assert queue_url.endswith("/000000000000/cli-orders")

    _next_second()
    unchanged = aws_cli(
        server, *deploy, *stack, "--parameter-overrides", "QueueName=cli-orders", check=False
    )
    assert unchanged.returncode == 255
    assert "No changes to deploy. Stack cli-queue-stack is up to date" in unchanged.stderr
    # the previous values stay: only Retention is given
    _next_second()
    aws_cli(server, *deploy, *stack, "--parameter-overrides", "Retention=600")
    attributes = aws_cli(
        server,
        "sqs",
        "get-queue-attributes",
        "--queue-url",
        queue_url,
        "--attribute-names",
        "MessageRetentionPeriod",
    ).json()
    assert attributes["Attributes"] == {"MessageRetentionPeriod": "600"}
    _next_second()
    aws_cli(server, *deploy, *stack, "--no-fail-on-empty-changeset")

    aws_cli(
        server,
        "sqs",
        "send-message",
        "--queue-url",
        queue_url,
        "--message-body",
        "order 1",
    )
    received = aws_cli(
        server,
        "sqs",
        "receive-message",
        "--queue-url",
        queue_url,
        "--attribute-names",
        "All",
        "--message-attribute-names",
        "All",
    ).json()
    (message,) = received["Messages"]
    assert message["Body"] == "order 1"
    assert set(message["Attributes"]) == {
        "SenderId",
        "SentTimestamp",
        "ApproximateReceiveCount",
        "ApproximateFirstReceiveTimestamp",
    }
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"


def test_s3_commands_users_chain(server: ServerProcess, tmp_path: Path) -> None:
    """The ``aws s3`` commands beyond plain cp / sync: from stdin and to stdout, stored
    metadata and headers, ``ls --human-readable --summarize``, sync's filters and
    ``--delete``, ``mv``, ``rb --force``."""
    aws_cli(server, "s3", "mb", "s3://chain-bucket")
    aws_cli(server, "s3", "cp", "-", "s3://chain-bucket/in.txt", stdin="from a pipe\n")
    assert aws_cli(server, "s3", "cp", "s3://chain-bucket/in.txt", "-").stdout == "from a pipe\n"
    note = tmp_path / "note.txt"
    note.write_text("{}\n")
    aws_cli(
        server,
        "s3",
        "cp",
        str(note),
        "s3://chain-bucket/meta/note.json",
        "--metadata",
        "team=web,stage=prod",
        "--content-type",
        "application/json",
        "--sse",
        "AES256",
        "--cache-control",
        "max-age=60",
    )
    head = aws_cli(
        server, "s3api", "head-object", "--bucket", "chain-bucket", "--key", "meta/note.json"
    ).json()
    assert head["Metadata"] == {"team": "web", "stage": "prod"}
    assert (head["ContentType"], head["ServerSideEncryption"], head["CacheControl"]) == (
        "application/json",
        "AES256",
        "max-age=60",
    )
    summary = aws_cli(
        server, "s3", "ls", "s3://chain-bucket", "--recursive", "--human-readable", "--summarize"
    ).stdout
    assert "12 Bytes in.txt" in summary and "3 Bytes meta/note.json" in summary
    assert "Total Objects: 2" in summary and "Total Size: 15 Bytes" in summary

    tree = tmp_path / "site"
    (tree / "css").mkdir(parents=True)
    for name in ("index.html", "css/site.css", "debug.log"):
        (tree / name).write_text(name)
    an_hour_ago = time.time() - 3600  # older than their upload: sync compares mtimes
    for written in tree.rglob("*.*"):
        os.utime(written, (an_hour_ago, an_hour_ago))
    synced = aws_cli(
        server, "s3", "sync", str(tree), "s3://chain-bucket/site", "--exclude", "*.log"
    )
    assert sorted(line.split(" to ")[1] for line in uploads(synced)) == [
        "s3://chain-bucket/site/css/site.css",
        "s3://chain-bucket/site/index.html",
    ]
    (tree / "css" / "site.css").unlink()
    pruned = aws_cli(
        server,
        "s3",
        "sync",
        str(tree),
        "s3://chain-bucket/site",
        "--delete",
        "--exclude",
        "*",
        "--include",
        "*.html",
        "--include",
        "css/*",
    )
    assert "delete: s3://chain-bucket/site/css/site.css" in pruned.stdout
    assert not uploads(pruned)  # index.html unchanged; debug.log still excluded
    aws_cli(server, "s3", "mv", "s3://chain-bucket/in.txt", "s3://chain-bucket/moved/in.txt")
    keys = aws_cli(server, "s3api", "list-objects-v2", "--bucket", "chain-bucket").json()
    assert [item["Key"] for item in keys["Contents"]] == [
        "meta/note.json",
        "moved/in.txt",
        "site/index.html",
    ]
    aws_cli(server, "s3", "rb", "s3://chain-bucket", "--force")
    buckets = aws_cli(server, "s3api", "list-buckets").json()["Buckets"]
    assert "chain-bucket" not in [bucket["Name"] for bucket in buckets]


def uploads(result: CliResult) -> list[str]:
    """The ``upload:`` lines of an ``aws s3`` transfer (progress lines dropped)."""
    lines = result.stdout.replace("\r", "\n").splitlines()
    return [line.strip() for line in lines if line.startswith("upload:")]
