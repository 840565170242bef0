"""Pure SQS pieces: digests (AWS vectors), receipt handles, URLs, attribute rules."""

from __future__ import annotations

import json

import pytest

from headwater.core.errors import AwsError
from headwater.services.sqs.attributes import (
    allows_source,
    effective_attributes,
    normalize_attributes,
    settings_of,
)
from headwater.services.sqs.message_digest import content_dedup_id, md5_of_attributes, md5_of_body
from headwater.services.sqs.queue_access import parse_queue_url
from headwater.services.sqs.validation import (
    check_queue_name,
    decode_attributes,
    decode_receipt_handle,
    encode_attributes,
    encode_receipt_handle,
    select_attributes,
)


def test_md5_vectors_from_the_reference() -> None:
    assert md5_of_body("hello") == "5d41402abc4b2a76b9719d911017c592"
    assert (
        md5_of_attributes({"a": {"DataType": "String", "StringValue": "x"}})
        == "a512aac9938034acb0b3c3d965944bf1"
    )
    assert (
        md5_of_attributes(
            {
                "zeta": {"DataType": "String", "StringValue": "héllo"},
                "Alpha": {"DataType": "Number.int", "StringValue": "42"},
                "bin": {"DataType": "Binary", "BinaryValue": bytes([0, 255, 16])},
                "cust": {"DataType": "String.json", "StringValue": '{"a":1}'},
            }
        )
        == "b9d3e2748bcac7b32c20068d5fc2acc2"
    )
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    assert (
        md5_of_attributes({"AWSTraceHeader": {"DataType": "String", "StringValue": trace}})
        == "5f48eef650c1d0207456969c85af2fdd"
    )
    assert content_dedup_id("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_receipt_handles_round_trip_and_reject_garbage() -> None:
    handle = encode_receipt_handle(3, 42, 7, "0f0e-uuid")
    assert decode_receipt_handle(handle) == (3, 42, 7, "0f0e-uuid")
    assert handle != encode_receipt_handle(3, 42, 8, "0f0e-uuid")
    for bad in ("", "xyz", "AQEB", "AQEB%%%", "AQEBMXwy"):
        with pytest.raises(AwsError) as caught:
            decode_receipt_handle(bad)
        assert caught.value.code == "ReceiptHandleIsInvalid"
        assert caught.value.status == 404


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://sqs.us-east-1.amazonaws.com/000000000000/q", ("000000000000", "q")),
        ("http://127.0.0.1:4599/000000000000/q.fifo", ("000000000000", "q.fifo")),
        ("http://localhost:4566/queue/eu-west-1/123456789012/q/", ("123456789012", "q")),
        ("q", None),
        ("http://host/", None),
    ],
)
def test_parse_queue_url(url: str, expected: tuple[str, str] | None) -> None:
    assert parse_queue_url(url) == expected


def test_queue_names() -> None:
    check_queue_name("a" * 80, fifo_attribute=False)
    check_queue_name("a" * 75 + ".fifo", fifo_attribute=True)
    for name, fifo in (
        ("a" * 81, False),
        ("a" * 76 + ".fifo", True),
        ("x.fifo", False),
        ("", False),
    ):
        with pytest.raises(AwsError):
            check_queue_name(name, fifo_attribute=fifo)


def test_attribute_normalization_and_settings() -> None:
    normalized = normalize_attributes(
        {
            "VisibilityTimeout": 10,
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": "arn:aws:sqs:r:1:d", "maxReceiveCount": "4"}
            ),
            "ContentBasedDeduplication": "TRUE",
        },
        fifo=True,
    )
    assert normalized["VisibilityTimeout"] == "10"
    assert normalized["ContentBasedDeduplication"] == "true"
    assert (
        normalized["RedrivePolicy"]
        == '{"deadLetterTargetArn":"arn:aws:sqs:r:1:d","maxReceiveCount":4}'
    )
    settings = settings_of(normalized, fifo=True)
    assert settings.redrive is not None and settings.redrive.max_receive_count == 4
    assert settings.content_based_dedup
    assert settings.retention_seconds == 345_600
    shown = effective_attributes(normalized, fifo=True)
    assert shown["DeduplicationScope"] == "queue"
    with pytest.raises(AwsError) as caught:
        normalize_attributes(
            {"DeduplicationScope": "queue", "FifoThroughputLimit": "perMessageGroupId"}, True
        )
    assert caught.value.code == "InvalidParameterValueException"


def test_redrive_allow_policy() -> None:
    assert allows_source(None, "a")
    assert not allows_source({"redrivePermission": "denyAll"}, "a")
    assert allows_source({"redrivePermission": "byQueue", "sourceQueueArns": ["a"]}, "a")
    assert not allows_source({"redrivePermission": "byQueue", "sourceQueueArns": ["a"]}, "b")
    with pytest.raises(AwsError):
        normalize_attributes({"RedriveAllowPolicy": '{"redrivePermission":"byQueue"}'}, False)


def test_attribute_codec_and_selection() -> None:
    attributes = {
        "s": {"DataType": "String", "StringValue": "é"},
        "b": {"DataType": "Binary.raw", "BinaryValue": b"\x00\x01"},
        "p.one": {"DataType": "Number", "StringValue": "1"},
    }
    assert decode_attributes(encode_attributes(attributes)) == attributes
    assert select_attributes(attributes, ["All"]) == attributes
    assert select_attributes(attributes, [".*"]) == attributes
    assert set(select_attributes(attributes, ["p.*", "s"])) == {"p.one", "s"}
    assert select_attributes(attributes, None) == {}
