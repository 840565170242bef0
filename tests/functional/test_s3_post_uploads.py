"""S3 POST uploads (a browser's form, boto3's ``generate_presigned_post``) through the
wire: the policy's conditions, expiry and size range with S3's errors, the answers
(204, 200, 201, a redirect), what the fields set on the object, the signature when
signatures are verified, and the browser checks (only an allowed origin may post)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

import pytest
from urllib3.filepost import encode_multipart_formdata

from headwater import Headwater
from headwater.server.asgi import create_app
from headwater.server.request_checks import RequestPolicy
from tests.asgi_boto import CREDENTIALS, ENDPOINT, AsgiTransport, InProcessAws

BUCKET = "uploads"
Form = list[tuple[str, Any]]


@pytest.fixture
def hw_options() -> dict[str, Any]:
    return {"endpoint_url": ENDPOINT}


@pytest.fixture
def aws(hw: Headwater) -> Iterator[InProcessAws]:
    found = InProcessAws(hw)
    found.client("s3").create_bucket(Bucket=BUCKET)
    yield found
    found.close()


def presigned(
    aws: InProcessAws, key: str = "photos/${filename}", *, v4: bool = False, **options: Any
) -> Any:
    """boto3's form (signature version 2, its default for S3, or 4) to upload ``key``."""
    client = aws.client("s3", signature_version="s3v4") if v4 else aws.client("s3")
    return client.generate_presigned_post(BUCKET, key, **options)


def post(
    transport: AsgiTransport,
    fields: dict[str, str] | Form,
    data: bytes = b"hello",
    *,
    filename: str = "a.txt",
    headers: dict[str, str] | None = None,
    url: str = f"{ENDPOINT}/{BUCKET}",
) -> tuple[int, dict[str, str], bytes]:
    """POST the form (the file last, as browsers send it)."""
    items: Form = list(fields.items()) if isinstance(fields, dict) else list(fields)
    body, content_type = encode_multipart_formdata([*items, ("file", (filename, data))])
    sent = {"Content-Type": content_type, **(headers or {})}
    status, answer_headers, answer = transport.send("POST", url, sent, body)
    return status, {k.lower(): v for k, v in answer_headers}, answer


def error(answer: bytes) -> dict[str, str]:
    return {child.tag: child.text or "" for child in ElementTree.fromstring(answer)}


@pytest.mark.parametrize("v4", [False, True])
def test_presigned_post_stores_the_file(aws: InProcessAws, v4: bool) -> None:
    form = presigned(aws, v4=v4)
    status, headers, body = post(aws.transport, form["fields"], b"hello", filename="cat.jpg")
    assert (status, body) == (204, b"")
    assert headers["etag"] == '"5d41402abc4b2a76b9719d911017c592"'
    assert headers["location"] == f"{ENDPOINT}/{BUCKET}/photos/cat.jpg"
    got = aws.client("s3").get_object(Bucket=BUCKET, Key="photos/cat.jpg")
    assert got["Body"].read() == b"hello"
    assert got["ContentType"] == "binary/octet-stream"


def test_fields_set_content_type_metadata_and_tags(aws: InProcessAws) -> None:
    fields = {
        "Content-Type": "image/png",
        "x-amz-meta-owner": "ana",
        "Cache-Control": "max-age=60",
        "tagging": "<Tagging><TagSet><Tag><Key>team</Key><Value>web</Value></Tag>"
        "</TagSet></Tagging>",
    }
    conditions: list[Any] = [{name: value} for name, value in fields.items()]
    form = presigned(aws, "a.png", Fields=fields, Conditions=conditions)
    status, _, body = post(aws.transport, form["fields"])
    assert status == 204, body
    s3 = aws.client("s3")
    head = s3.head_object(Bucket=BUCKET, Key="a.png")
    assert head["ContentType"] == "image/png"
    assert head["Metadata"] == {"owner": "ana"}
    assert head["CacheControl"] == "max-age=60"
    assert s3.get_object_tagging(Bucket=BUCKET, Key="a.png")["TagSet"] == [
        {"Key": "team", "Value": "web"}
    ]


def test_success_action_status_and_redirect(aws: InProcessAws) -> None:
    form = presigned(
        aws,
        "k",
        Fields={"success_action_status": "201"},
        Conditions=[{"success_action_status": "201"}],
    )
    status, _, body = post(aws.transport, form["fields"])
    assert status == 201
    document = ElementTree.fromstring(body)
    assert document.tag == "PostResponse"
    assert [child.tag for child in document] == ["Location", "Bucket", "Key", "ETag"]
    assert document.findtext("Key") == "k"
    assert document.findtext("ETag") == '"5d41402abc4b2a76b9719d911017c592"'

    form = presigned(
        aws,
        "k",
        Fields={"success_action_status": "200"},
        Conditions=[["eq", "$success_action_status", "200"]],
    )
    assert post(aws.transport, form["fields"])[:3:2] == (200, b"")

    done = "http://localhost:3000/done?from=form"
    form = presigned(
        aws,
        "k",
        Fields={"success_action_redirect": done},
        Conditions=[["starts-with", "$success_action_redirect", "http://localhost:3000/"]],
    )
    status, headers, _ = post(aws.transport, form["fields"])
    assert status == 303
    assert headers["location"] == (
        done + "&bucket=uploads&key=k&etag=%225d41402abc4b2a76b9719d911017c592%22"
    )


def test_conditions_refuse_with_s3s_texts(aws: InProcessAws) -> None:
    form = presigned(aws, "uploads/${filename}")
    fields = dict(form["fields"])
    fields["key"] = "elsewhere/a.txt"
    status, _, body = post(aws.transport, fields)
    assert status == 403
    assert error(body)["Code"] == "AccessDenied"
    assert error(body)["Message"] == (
        'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "uploads/"]'
    )

    form = presigned(aws, "exact.txt")
    fields = {**form["fields"], "key": "other.txt"}
    assert error(post(aws.transport, fields)[2])["Message"] == (
        'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "exact.txt"]'
    )

    # a field no condition names
    fields = {**form["fields"], "x-amz-meta-extra": "1"}
    status, _, body = post(aws.transport, fields)
    assert status == 403
    assert (
        error(body)["Message"]
        == "Invalid according to Policy: Extra input fields: x-amz-meta-extra"
    )
    # x-ignore- fields are free
    assert post(aws.transport, {**form["fields"], "x-ignore-note": "1"})[0] == 204

    # the bucket condition names the bucket posted to
    other = aws.client("s3")
    other.create_bucket(Bucket="other")
    status, _, body = post(aws.transport, form["fields"], url=f"{ENDPOINT}/other")
    assert status == 403
    assert error(body)["Message"] == (
        'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "uploads"]'
    )
    assert "Contents" not in other.list_objects_v2(Bucket="other")


def test_expired_policy_is_refused(aws: InProcessAws) -> None:
    form = presigned(aws, "k", ExpiresIn=-60)
    status, _, body = post(aws.transport, form["fields"])
    assert status == 403
    assert error(body) | {"RequestId": "", "HostId": ""} == {
        "Code": "AccessDenied",
        "Message": "Invalid according to Policy: Policy expired.",
        "RequestId": "",
        "HostId": "",
    }


def test_content_length_range(aws: InProcessAws) -> None:
    form = presigned(aws, "k", Conditions=[["content-length-range", 2, 4]])
    status, _, body = post(aws.transport, form["fields"], b"12345")
    assert status == 400
    assert error(body)["Code"] == "EntityTooLarge"
    assert error(body)["Message"] == "Your proposed upload exceeds the maximum allowed size"
    assert (error(body)["ProposedSize"], error(body)["MaxSizeAllowed"]) == ("5", "4")
    status, _, body = post(aws.transport, form["fields"], b"1")
    assert error(body)["Code"] == "EntityTooSmall"
    assert (error(body)["ProposedSize"], error(body)["MinSizeAllowed"]) == ("1", "2")
    assert post(aws.transport, form["fields"], b"123")[0] == 204


def test_malformed_forms(aws: InProcessAws) -> None:
    form = presigned(aws, "k")
    fields = {k: v for k, v in form["fields"].items() if k != "key"}
    status, _, body = post(aws.transport, fields)
    assert status == 400
    assert error(body)["Code"] == "InvalidArgument"
    assert error(body)["Message"] == (
        "Bucket POST must contain a field named 'key'.  If it is specified, please check the "
        "order of the fields."
    )
    # no file
    body_bytes, content_type = encode_multipart_formdata(list(form["fields"].items()))
    status, _, body = aws.transport.send(
        "POST", f"{ENDPOINT}/{BUCKET}", {"Content-Type": content_type}, body_bytes
    )
    assert (status, error(body)["Code"]) == (400, "InvalidArgument")
    assert error(body)["Message"] == "POST requires exactly one file upload per request."
    # a policy that is not base64 JSON
    status, _, body = post(aws.transport, {**form["fields"], "policy": "not json"})
    assert (status, error(body)["Code"]) == (400, "InvalidPolicyDocument")
    # not multipart at all
    status, _, body = aws.transport.send(
        "POST",
        f"{ENDPOINT}/{BUCKET}",
        {"Content-Type": "multipart/form-data; boundary=xyz"},
        b"nothing here",
    )
    assert (status, error(body)["Code"]) == (400, "MalformedPOSTRequest")


def test_an_unsigned_form_is_refused(aws: InProcessAws) -> None:
    status, _, body = post(aws.transport, {"key": "k"})
    assert (status, error(body)["Code"]) == (403, "AccessDenied")
    policy = base64.b64encode(
        json.dumps({"expiration": "2999-01-01T00:00:00Z", "conditions": []}).encode()
    ).decode()
    status, _, body = post(aws.transport, {"key": "k", "policy": policy})
    assert status == 400
    assert "x-amz-algorithm" in error(body)["Message"]
    assert "Contents" not in aws.client("s3").list_objects_v2(Bucket=BUCKET)


def test_verified_signatures_check_the_policys_signature(hw: Headwater) -> None:
    policy = RequestPolicy.build(
        verify_signatures=True,
        access_keys={CREDENTIALS["aws_access_key_id"]: CREDENTIALS["aws_secret_access_key"]},
    )
    aws = InProcessAws(hw, create_app(hw, policy=policy))
    try:
        aws.client("s3").create_bucket(Bucket=BUCKET)
        version_2 = presigned(aws, "k")
        assert post(aws.transport, version_2["fields"])[0] == 204
        forged = {**version_2["fields"], "signature": "AAAA"}
        status, _, body = post(aws.transport, forged)
        assert (status, error(body)["Code"]) == (403, "SignatureDoesNotMatch")

        form = presigned(aws, "k", v4=True)
        assert "x-amz-signature" in form["fields"]
        assert post(aws.transport, form["fields"])[0] == 204
        forged = {**form["fields"], "x-amz-signature": "0" * 64}
        status, _, body = post(aws.transport, forged)
        assert (status, error(body)["Code"]) == (403, "SignatureDoesNotMatch")
        # the policy is what is signed: changing it breaks the signature
        decoded = json.loads(base64.b64decode(form["fields"]["policy"]))
        decoded["conditions"].append(["content-length-range", 0, 10**9])
        changed = base64.b64encode(json.dumps(decoded).encode()).decode()
        status, _, body = post(aws.transport, {**form["fields"], "policy": changed})
        assert (status, error(body)["Code"]) == (403, "SignatureDoesNotMatch")
        unknown = {
            **form["fields"],
            "x-amz-credential": form["fields"]["x-amz-credential"].replace("AKID", "NOPE"),
        }
        assert post(aws.transport, unknown)[0] == 403
    finally:
        aws.close()


def test_a_page_of_another_origin_may_post_only_when_allowed(hw: Headwater) -> None:
    page = {"Origin": "http://localhost:3000", "Sec-Fetch-Site": "cross-site"}
    aws = InProcessAws(hw)
    try:
        aws.client("s3").create_bucket(Bucket=BUCKET)
        form = presigned(aws, "k")
        status, headers, body = post(aws.transport, form["fields"], headers=page)
        assert status == 403
        assert "access-control-allow-origin" not in headers
        assert b"localhost:3000" in body
        # a form posted with no Origin from another site is refused too
        status, _, _ = post(aws.transport, form["fields"], headers={"Sec-Fetch-Site": "cross-site"})
        assert status == 403
        assert "Contents" not in aws.client("s3").list_objects_v2(Bucket=BUCKET)
    finally:
        aws.close()
    allowed = InProcessAws(
        hw, create_app(hw, policy=RequestPolicy.build(cors_origins=["http://localhost:3000"]))
    )
    try:
        status, headers, _ = post(allowed.transport, form["fields"], headers=page)
        assert status == 204
        assert headers["access-control-allow-origin"] == "http://localhost:3000"
        assert "ETag" in headers["access-control-expose-headers"]
    finally:
        allowed.close()


def test_post_sends_object_created_post(hw: Headwater, aws: InProcessAws) -> None:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    aws.client("s3").put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:Post"]}]
        },
    )
    sqs.purge_queue(QueueUrl=url)
    assert post(aws.transport, presigned(aws, "k")["fields"])[0] == 204
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    assert json.loads(message["Body"])["Records"][0]["eventName"] == "ObjectCreated:Post"
