"""Replacement rules: create-only properties replace, others update in place."""

from __future__ import annotations

from headwater.deploy.replacement import (
    changed_properties,
    kept_custom_name,
    replacing_properties,
    requires_replacement,
)


def test_mutable_changes_update_in_place() -> None:
    assert not requires_replacement(
        "AWS::SQS::Queue", {"VisibilityTimeout": 30}, {"VisibilityTimeout": 60}
    )
    assert not requires_replacement(
        "AWS::Lambda::EventSourceMapping", {"BatchSize": 10}, {"BatchSize": 5}
    )
    assert changed_properties({"A": 1, "B": 2}, {"A": 1, "C": 3}) == ["B", "C"]


def test_create_only_changes_replace() -> None:
    assert replacing_properties(
        "AWS::SQS::Queue", {}, {"FifoQueue": True, "QueueName": "q.fifo"}
    ) == ["FifoQueue", "QueueName"]
    assert requires_replacement(
        "AWS::Lambda::EventSourceMapping", {"EventSourceArn": "a"}, {"EventSourceArn": "b"}
    )
    assert requires_replacement("AWS::DynamoDB::Table", {"KeySchema": [1]}, {"KeySchema": [2]})
    assert requires_replacement(
        "AWS::ECR::Repository",
        {"EncryptionConfiguration": {"EncryptionType": "AES256"}},
        {"EncryptionConfiguration": {"EncryptionType": "KMS"}},
    )
    assert not requires_replacement("AWS::Unknown::Thing", {"A": 1}, {"A": 2})


def test_a_kept_custom_name_blocks_replacement() -> None:
    old = {"QueueName": "orders", "FifoQueue": False}
    assert (
        kept_custom_name("AWS::SQS::Queue", old, {"QueueName": "orders", "FifoQueue": True})
        == "orders"
    )
    assert kept_custom_name("AWS::SQS::Queue", old, {"QueueName": "orders2"}) is None
    assert kept_custom_name("AWS::SQS::Queue", {}, {"FifoQueue": True}) is None
