"""SNS in process: topics, subscriptions, publishing, filter policies, FIFO, delivery, DLQs."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock

REGION = "us-east-1"
ACCOUNT = "000000000000"


@pytest.fixture
def hw_options() -> dict[str, Any]:
    return {"functions": "inline"}


def queue(hw: Headwater, name: str, **attributes: str) -> tuple[str, str]:
    url = hw.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = hw.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def bodies(hw: Headwater, url: str) -> list[str]:
    found = hw.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [m["Body"] for m in found]


def error_of(call: Any, **kwargs: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response["Error"]
    return (
        error["Code"],
        error["Message"],
        caught.value.response["ResponseMetadata"]["HTTPStatusCode"],
    )


# ---------------------------------------------------------------------------- topics


def test_topic_lifecycle_and_attributes(hw: Headwater) -> None:
    sns = hw.client("sns")
    arn = sns.create_topic(Name="alerts", Attributes={"DisplayName": "Alerts"})["TopicArn"]
    assert arn == f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
    assert sns.create_topic(Name="alerts")["TopicArn"] == arn  # idempotent
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["DisplayName"] == "Alerts"
    assert attributes["Owner"] == ACCOUNT
    assert attributes["SubscriptionsConfirmed"] == "0"
    assert "FifoTopic" not in attributes
    policy = json.loads(attributes["Policy"])
    assert policy["Statement"][0]["Resource"] == arn
    effective = json.loads(attributes["EffectiveDeliveryPolicy"])
    assert effective["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 3
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="New")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "New"
    assert [t["TopicArn"] for t in sns.list_topics()["Topics"]] == [arn]
    sns.delete_topic(TopicArn=arn)
    sns.delete_topic(TopicArn=arn)  # idempotent
    assert error_of(sns.get_topic_attributes, TopicArn=arn) == (
        "NotFound",
        "Topic does not exist",
        404,
    )


def test_topic_errors_are_awss(hw: Headwater) -> None:
    sns = hw.client("sns")
    assert error_of(sns.get_topic_attributes, TopicArn="junk") == (
        "InvalidParameter",
        "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1",
        400,
    )
    for name in ["", "a" * 257, "has.fifo", "bad name", "x/y"]:
        assert error_of(sns.create_topic, Name=name)[1] == "Invalid parameter: Topic Name"
    assert error_of(sns.create_topic, Name="nofifo", Attributes={"FifoTopic": "true"})[1] == (
        "Invalid parameter: Topic Name"
    )
    sns.create_topic(Name="t", Attributes={"DisplayName": "a"})
    assert error_of(sns.create_topic, Name="t", Attributes={"DisplayName": "b"})[1] == (
        "Invalid parameter: Attributes Reason: Topic already exists with different attributes"
    )
    other_region = f"arn:aws:sns:eu-west-1:{ACCOUNT}:t"
    assert error_of(sns.publish, TopicArn=other_region, Message="m")[1] == (
        "Invalid parameter: TopicArn"
    )
    arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:t"
    assert (
        error_of(
            sns.set_topic_attributes,
            TopicArn=arn,
            AttributeName="FifoTopic",
            AttributeValue="false",
        )[1]
        == "Invalid parameter: AttributeName"
    )


def test_tags(hw: Headwater) -> None:
    sns = hw.client("sns")
    arn = sns.create_topic(Name="t", Tags=[{"Key": "k1", "Value": "v1"}])["TopicArn"]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k2", "Value": "v2"}])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "k1", "Value": "v1"},
        {"Key": "k2", "Value": "v2"},
    ]
    sns.untag_resource(ResourceArn=arn, TagKeys=["k1"])
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k2", "Value": "v2b"}])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "k2", "Value": "v2b"}]
    assert (
        error_of(
            sns.tag_resource,
            ResourceArn=arn,
            Tags=[{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}],
        )[1]
        == "Invalid parameter: Duplicated keys are not allowed."
    )
    assert error_of(sns.create_topic, Name="t", Tags=[{"Key": "k9", "Value": "x"}])[1] == (
        "Invalid parameter: Tags Reason: Topic already exists with different tags"
    )


# ---------------------------------------------------------------------------- subscriptions


def test_subscriptions_crud_and_idempotency(hw: Headwater) -> None:
    sns = hw.client("sns")
    topic = sns.create_topic(Name="t")["TopicArn"]
    _, qarn = queue(hw, "q")
    sub = sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"}
    )["SubscriptionArn"]
    assert sub.startswith(topic + ":")
    same = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)["SubscriptionArn"]
    assert same == sub
    assert (
        error_of(
            sns.subscribe,
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=qarn,
            Attributes={"RawMessageDelivery": "false"},
        )[1]
        == "Invalid parameter: Attributes Reason: Subscription already exists with different "
        "attributes"
    )
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attributes["PendingConfirmation"] == "false"
    assert attributes["RawMessageDelivery"] == "true"
    assert attributes["Endpoint"] == qarn
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert listed == [
        {
            "SubscriptionArn": sub,
            "Owner": ACCOUNT,
            "Protocol": "sqs",
            "Endpoint": qarn,
            "TopicArn": topic,
        }
    ]
    assert sns.list_subscriptions()["Subscriptions"] == listed
    sns.unsubscribe(SubscriptionArn=sub)
    sns.unsubscribe(SubscriptionArn=sub)  # idempotent
    assert error_of(sns.get_subscription_attributes, SubscriptionArn=sub) == (
        "NotFound",
        "Subscription does not exist",
        404,
    )


def test_subscription_errors_are_awss(hw: Headwater) -> None:
    sns = hw.client("sns")
    topic = sns.create_topic(Name="t")["TopicArn"]
    assert error_of(sns.subscribe, TopicArn=topic, Protocol="test-protocol", Endpoint="x")[1] == (
        "Invalid parameter: Amazon SNS does not support this protocol string: test-protocol"
    )
    assert error_of(sns.subscribe, TopicArn=topic, Protocol="sqs", Endpoint="http://q")[1] == (
        "Invalid parameter: SQS endpoint ARN"
    )
    assert error_of(
        sns.subscribe,
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=f"arn:aws:sqs:{REGION}:{ACCOUNT}:q.fifo",
    )[1] == (
        "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be "
        "subscribed to standard SNS topics"
    )
    assert (
        error_of(sns.subscribe, TopicArn=topic, Protocol="sms", Endpoint="NAA+15551234567")[1]
        == "Invalid SMS endpoint: NAA+15551234567"
    )
    assert error_of(
        sns.subscribe,
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=f"arn:aws:sqs:{REGION}:{ACCOUNT}:q",
        Attributes={"RawMessageDelivery": "wrongvalue"},
    )[1] == (
        "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [wrongvalue]. "
        "Must be true or false."
    )
    sub = sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"
    )["SubscriptionArn"]
    set_attr = sns.set_subscription_attributes
    assert (
        error_of(set_attr, SubscriptionArn=sub, AttributeName="Fake", AttributeValue="x")[1]
        == "Invalid parameter: AttributeName"
    )
    assert (
        error_of(
            set_attr, SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue=""
        )[1]
        == "Invalid parameter: RawMessageDelivery: Invalid value []. Must be true or false."
    )
    assert (
        error_of(
            set_attr,
            SubscriptionArn=sub,
            AttributeName="RedrivePolicy",
            AttributeValue='{"deadLetterTargetArn": "fake-arn"}',
        )[1]
        == "Invalid parameter: RedrivePolicy: deadLetterTargetArn is an invalid arn"
    )
    assert error_of(
        set_attr,
        SubscriptionArn=sub,
        AttributeName="FilterPolicyScope",
        AttributeValue="RandomValue",
    )[1] == (
        "Invalid parameter: FilterPolicyScope: Invalid value [RandomValue]. Please use either "
        "MessageBody or MessageAttributes"
    )
    assert error_of(sns.unsubscribe, SubscriptionArn="junk")[1] == (
        "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 1"
    )
    assert error_of(sns.unsubscribe, SubscriptionArn=topic)[1] == (
        "Invalid parameter: SubscriptionId"
    )


@pytest.mark.parametrize(
    ("policy", "reason"),
    [
        ({"key": [["value"]]}, "Match value must be String, number, true, false, or null"),
        ({"key": [{"wrong-operator": True}]}, "Unrecognized match type wrong-operator"),
        ({"key": []}, "Empty arrays are not allowed"),
        ({"key": [{"suffix": 100}]}, "suffix match pattern must be a string"),
        ({"key": [{"numeric": [">", 3, "<", 1]}]}, "Bottom must be less than top"),
        ({"key": [{"exists": "no"}]}, "exists match pattern must be either true or false."),
        ({"key": [{"anything-but": {"suffix": "x"}}]}, "Unsupported anything-but pattern: suffix"),
        ({f"k{i}": ["v"] for i in range(6)}, "Filter policy can not have more than 5 keys"),
        (
            {f"k{i}": [str(j) for j in range(6)] for i in range(3)},
            "Filter policy is too complex",
        ),
    ],
)
def test_invalid_filter_policies_get_awss_reasons(
    hw: Headwater, policy: dict[str, Any], reason: str
) -> None:
    sns = hw.client("sns")
    topic = sns.create_topic(Name="t")["TopicArn"]
    code, message, status = error_of(
        sns.subscribe,
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=f"arn:aws:sqs:{REGION}:{ACCOUNT}:q",
        Attributes={"FilterPolicy": json.dumps(policy)},
    )
    assert (code, status) == ("InvalidParameter", 400)
    assert message.startswith(f"Invalid parameter: Attributes Reason: FilterPolicy: {reason}")


def test_nested_policy_needs_the_message_body_scope(hw: Headwater) -> None:
    sns = hw.client("sns")
    topic = sns.create_topic(Name="t")["TopicArn"]
    sub = sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"
    )["SubscriptionArn"]
    assert error_of(
        sns.set_subscription_attributes,
        SubscriptionArn=sub,
        AttributeName="FilterPolicy",
        AttributeValue='{"a": {"b": ["c"]}}',
    )[1] == (
        "Invalid parameter: Filter policy scope MessageAttributes does not support nested "
        "filter policy"
    )


# ---------------------------------------------------------------------------- publishing


def test_envelope_in_sqs_bodies_and_raw_delivery(hw: Headwater) -> None:
    sns = hw.client("sns")
    topic = sns.create_topic(Name="t")["TopicArn"]
    url, qarn = queue(hw, "envelope")
    raw_url, raw_arn = queue(hw, "raw")
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)["SubscriptionArn"]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=raw_arn, Attributes={"RawMessageDelivery": "true"}
    )
    attrs = {
        "attr1": {"DataType": "Number", "StringValue": "99.12"},
        "store": {"DataType": "Binary", "BinaryValue": b"\x02\x03\x04"},
    }
    message_id = sns.publish(
        TopicArn=topic, Message="Test msg", Subject="Hi", MessageAttributes=attrs
    )["MessageId"]
    (body,) = bodies(hw, url)
    envelope = json.loads(body)
    assert list(envelope) == [
        "Type",
        "MessageId",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
        "UnsubscribeURL",
        "MessageAttributes",
    ]
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == message_id
    assert envelope["Message"] == "Test msg"
    assert envelope["SignatureVersion"] == "1"
    assert envelope["Timestamp"].endswith("Z")
    assert envelope["UnsubscribeURL"].endswith(f"/?Action=Unsubscribe&SubscriptionArn={sub}")
    assert envelope["MessageAttributes"] == {
        "attr1": {"Type": "Number", "Value": "99.12"},
        "store": {"Type": "Binary", "Value": "AgME"},
    }
    raw = hw.sqs.receive_message(QueueUrl=raw_url, MessageAttributeNames=["All"])["Messages"][0]
    assert raw["Body"] == "Test msg"
    assert raw["MessageAttributes"]["attr1"] == {"DataType": "Number", "StringValue": "99.12"}
    assert raw["MessageAttributes"]["store"]["BinaryValue"] == b"\x02\x03\x04"


def test_publish_validation_errors(hw: Headwater) -> None:
    sns = hw.client("sns")
    topic = sns.create_topic(Name="t")["TopicArn"]
    assert (
        error_of(sns.publish, TopicArn=topic, Message="")[1] == "Invalid parameter: Empty message"
    )
    assert error_of(sns.publish, TopicArn=topic, Message="m", Subject="")[1] == (
        "Invalid parameter: Subject"
    )
    assert error_of(sns.publish, TopicArn=topic, Message="x" * 262_145)[1] == (
        "Invalid parameter: Message too long"
    )
    assert error_of(sns.publish, TopicArn=topic, Message="{}", MessageStructure="json")[1] == (
        "Invalid parameter: Message Structure - No default entry in JSON message body"
    )
    assert error_of(sns.publish, TopicArn=topic, Message="{x", MessageStructure="json")[1] == (
        "Invalid parameter: Message Structure - JSON message body failed to parse"
    )
    bad = {"attr1": {"DataType": "String", "StringValue": ""}}
    assert error_of(sns.publish, TopicArn=topic, Message="m", MessageAttributes=bad) == (
        "ParameterValueInvalid",
        "The message attribute 'attr1' must contain non-empty message attribute value for "
        "message attribute type 'String'.",
        400,
    )
    bad = {"a^b": {"DataType": "String", "StringValue": "v"}}
    assert error_of(sns.publish, TopicArn=topic, Message="m", MessageAttributes=bad)[1] == (
        "Invalid non-alphanumeric character '#x5E' was found in the message attribute name. "
        "Can only include alphanumeric characters, hyphens, underscores, or dots."
    )
    bad = {"attr1": {"DataType": "Stringo", "StringValue": "v"}}
    assert (
        "invalid message attribute type"
        in error_of(sns.publish, TopicArn=topic, Message="m", MessageAttributes=bad)[1]
    )
    assert error_of(sns.publish, TopicArn=topic, Message="m", MessageDeduplicationId="d")[1] == (
        "Invalid parameter: MessageDeduplicationId Reason: The request includes "
        "MessageDeduplicationId parameter that is not valid for this topic type"
    )
    missing = topic + "-gone"
    assert error_of(sns.publish, TopicArn=missing, Message="m")[0] == "NotFound"


def test_message_structure_json_per_protocol(hw: Headwater) -> None:
    sns = hw.client("sns")
    topic = sns.create_topic(Name="t")["TopicArn"]
    url, qarn = queue(hw, "q")
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"}
    )
    message = json.dumps({"default": "plain", "sqs": "for queues"})
    sns.publish(TopicArn=topic, Message=message, MessageStructure="json")
    assert bodies(hw, url) == ["for queues"]


def test_filter_policy_on_attributes_and_body(hw: Headwater) -> None:
    sns = hw.client("sns")
    topic = sns.create_topic(Name="t")["TopicArn"]
    attr_url, attr_arn = queue(hw, "by-attributes")
    body_url, body_arn = queue(hw, "by-body")
    raw = {"RawMessageDelivery": "true"}
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=attr_arn,
        Attributes={
            **raw,
            "FilterPolicy": json.dumps(
                {"price": [{"numeric": [">", 0, "<=", 100]}], "tags": ["red"]}
            ),
        },
    )
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=body_arn,
        Attributes={
            **raw,
            "FilterPolicyScope": "MessageBody",
            "FilterPolicy": json.dumps({"order": {"kind": [{"prefix": "big"}]}}),
        },
    )

    def publish(message: str, price: str | None = None, tags: str | None = None) -> None:
        attributes: dict[str, Any] = {}
        if price is not None:
            attributes["price"] = {"DataType": "Number", "StringValue": price}
        if tags is not None:
            attributes["tags"] = {"DataType": "String.Array", "StringValue": tags}
        sns.publish(TopicArn=topic, Message=message, MessageAttributes=attributes)

    publish("cheap red", "99.5", '["blue", "red"]')
    publish("too expensive", "100.5", '["red"]')
    publish("no tags", "5")
    publish('{"order": {"kind": "bigone"}}')
    publish('{"order": {"kind": "small"}}')
    publish("not json")
    assert bodies(hw, attr_url) == ["cheap red"]
    assert bodies(hw, body_url) == ['{"order": {"kind": "bigone"}}']


def test_fifo_topic_to_fifo_queue_in_order_with_deduplication(hw: Headwater) -> None:
    sns = hw.client("sns")
    topic = sns.create_topic(
        Name="orders.fifo",
        Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"},
    )["TopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert (attributes["FifoTopic"], attributes["ContentBasedDeduplication"]) == ("true", "true")
    url, qarn = queue(hw, "orders.fifo", FifoQueue="true")
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"}
    )
    entries = [{"Id": str(i), "Message": f"m{i}", "MessageGroupId": "g"} for i in range(5)]
    first = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
    again = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
    assert first["Successful"] == again["Successful"]
    numbers = [int(e["SequenceNumber"]) for e in first["Successful"]]
    assert numbers == sorted(numbers) and len(set(numbers)) == 5
    got = hw.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])[
        "Messages"
    ]
    assert [m["Body"] for m in got] == [f"m{i}" for i in range(5)]
    assert got[0]["Attributes"]["MessageGroupId"] == "g"
    # content-based deduplication: the SHA-256 of the message, as AWS computes it
    assert got[0]["Attributes"]["MessageDeduplicationId"] == hashlib.sha256(b"m0").hexdigest()
    assert error_of(sns.publish, TopicArn=topic, Message="m")[1] == (
        "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
    )


def test_fifo_topic_envelope_is_unsigned_and_sequenced(hw: Headwater) -> None:
    sns = hw.client("sns")
    topic = sns.create_topic(Name="t.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    url, qarn = queue(hw, "q.fifo", FifoQueue="true")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)
    assert error_of(sns.publish, TopicArn=topic, Message="m", MessageGroupId="g")[1] == (
        "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
        "MessageDeduplicationId provided explicitly"
    )
    published = sns.publish(
        TopicArn=topic, Message="Test", MessageGroupId="g", MessageDeduplicationId="d1"
    )
    (body,) = bodies(hw, url)
    envelope = json.loads(body)
    assert list(envelope) == [
        "Type",
        "MessageId",
        "SequenceNumber",
        "TopicArn",
        "Message",
        "Timestamp",
        "UnsubscribeURL",
    ]
    assert envelope["SequenceNumber"] == published["SequenceNumber"]


def test_publish_batch_errors(hw: Headwater) -> None:
    sns = hw.client("sns")
    topic = sns.create_topic(Name="t")["TopicArn"]
    many = [{"Id": str(i), "Message": "m"} for i in range(11)]
    assert error_of(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=many)[:2] == (
        "TooManyEntriesInBatchRequest",
        "The batch request contains more entries than permissible.",
    )
    same = [{"Id": "1", "Message": "m"}, {"Id": "1", "Message": "n"}]
    assert error_of(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=same)[0] == (
        "BatchEntryIdsNotDistinct"
    )
    dotted = [{"Id": "message.id", "Message": "m"}]
    assert error_of(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=dotted)[1] == (
        "The Id of a batch entry in the batch request contains an impermissible character: "
        "message.id"
    )
    big = [{"Id": str(i), "Message": "x" * 100_000} for i in range(3)]
    assert error_of(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=big)[0] == (
        "BatchRequestTooLong"
    )


# ---------------------------------------------------------------------------- other endpoints


HANDLER = """
import json, os
def handle(event, context):
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps(event) + "\\n")
"""


def test_filter_policy_to_a_function(hw: Headwater, tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(HANDLER)
    out = tmp_path / "events.jsonl"
    function = hw.lambda_.create_function_from_directory(
        "listener", code, "app.handle", environment={"OUT": str(out)}
    )["FunctionArn"]
    sns = hw.client("sns")
    topic = sns.create_topic(Name="t")["TopicArn"]
    sub = sns.subscribe(
        TopicArn=topic,
        Protocol="lambda",
        Endpoint=function,
        Attributes={"FilterPolicy": json.dumps({"level": ["error"]})},
    )["SubscriptionArn"]
    for level in ("info", "error", "debug"):
        sns.publish(
            TopicArn=topic,
            Message=f"{level} happened",
            MessageAttributes={"level": {"DataType": "String", "StringValue": level}},
        )
    sns_service: Any = hw.service("sns")
    assert sns_service.deliverer.wait_idle()
    assert hw.service("lambda").wait_for_event_invocations()
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(events) == 1
    (record,) = events[0]["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"] == sub
    assert list(record["Sns"]) == [
        "Type",
        "MessageId",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertUrl",
        "UnsubscribeUrl",
        "MessageAttributes",
    ]
    assert record["Sns"]["Message"] == "error happened"
    assert record["Sns"]["Subject"] is None
    assert record["Sns"]["MessageAttributes"] == {"level": {"Type": "String", "Value": "error"}}


def test_failed_deliveries_go_to_the_subscription_dlq(hw: Headwater) -> None:
    sns = hw.client("sns")
    topic = sns.create_topic(Name="t")["TopicArn"]
    url, qarn = queue(hw, "target")
    dlq_url, dlq_arn = queue(hw, "dlq")
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)["SubscriptionArn"]
    sns.publish(TopicArn=topic, Message="before")
    assert [json.loads(b)["Message"] for b in bodies(hw, url)] == ["before"]
    hw.sqs.delete_queue(QueueUrl=url)
    sns.publish(TopicArn=topic, Message="lost")  # no DLQ yet: dropped
    sns.set_subscription_attributes(
        SubscriptionArn=sub,
        AttributeName="RedrivePolicy",
        AttributeValue=json.dumps({"deadLetterTargetArn": dlq_arn}),
    )
    sns.publish(TopicArn=topic, Message="after")
    assert [json.loads(b)["Message"] for b in bodies(hw, dlq_url)] == ["after"]
    # a function that does not exist: the Lambda delivery is dead-lettered too
    fn = sns.subscribe(
        TopicArn=topic,
        Protocol="lambda",
        Endpoint=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:missing",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})},
    )["SubscriptionArn"]
    sns.unsubscribe(SubscriptionArn=sub)
    sns.publish(TopicArn=topic, Message="to nobody")
    sns_service: Any = hw.service("sns")
    assert sns_service.deliverer.wait_idle()
    assert [json.loads(b)["Message"] for b in bodies(hw, dlq_url)] == ["to nobody"]
    assert fn


class Recorder(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []
    status = 200

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        type(self).received.append((headers, self.rfile.read(length)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def http_endpoint() -> Iterator[tuple[str, type[Recorder]]]:
    class Handler(Recorder):
        received: list[tuple[dict[str, str], bytes]] = []

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", Handler
    finally:
        server.shutdown()
        server.server_close()


def test_http_subscription_handshake_then_notifications(
    hw: Headwater, http_endpoint: tuple[str, type[Recorder]]
) -> None:
    url, handler = http_endpoint
    sns = hw.client("sns")
    sns_service: Any = hw.service("sns")
    topic = sns.create_topic(Name="t")["TopicArn"]
    shown = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url)["SubscriptionArn"]
    assert shown == "pending confirmation"
    assert sns_service.deliverer.wait_idle()
    ((headers, body),) = handler.received
    confirmation = json.loads(body)
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert confirmation["Type"] == "SubscriptionConfirmation"
    assert "Action=ConfirmSubscription" in confirmation["SubscribeURL"]
    sns.publish(TopicArn=topic, Message="before confirmation")  # not sent: pending
    assert error_of(sns.confirm_subscription, TopicArn=topic, Token="zz")[1] == "Invalid token"
    confirmed = sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])
    attributes = sns.get_subscription_attributes(SubscriptionArn=confirmed["SubscriptionArn"])
    assert attributes["Attributes"]["PendingConfirmation"] == "false"
    sns.publish(TopicArn=topic, Message="hello web")
    assert sns_service.deliverer.wait_idle()
    assert len(handler.received) == 2
    headers, body = handler.received[1]
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["content-type"] == "text/plain; charset=UTF-8"
    assert json.loads(body)["Message"] == "hello web"


def test_http_delivery_retries_then_dead_letters(
    http_endpoint: tuple[str, type[Recorder]], tmp_path: Path
) -> None:
    url, handler = http_endpoint
    clock = ManualClock()
    with Headwater.in_memory(clock=clock) as hw:
        sns = hw.client("sns")
        sns_service: Any = hw.service("sns")
        topic = sns.create_topic(Name="t")["TopicArn"]
        dlq_url, dlq_arn = queue(hw, "dlq")
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url)
        assert sns_service.deliverer.wait_idle()
        token = json.loads(handler.received[0][1])["Token"]
        sub = sns.confirm_subscription(TopicArn=topic, Token=token)["SubscriptionArn"]
        sns.set_subscription_attributes(
            SubscriptionArn=sub,
            AttributeName="RedrivePolicy",
            AttributeValue=json.dumps({"deadLetterTargetArn": dlq_arn}),
        )
        handler.status = 500
        sns.publish(TopicArn=topic, Message="flaky")
        assert sns_service.deliverer.wait_idle()
        assert len(handler.received) == 2
        for _ in range(3):  # three retries, 20 s apart
            clock.advance(20)
            assert sns_service.deliverer.wait_idle()
        assert len(handler.received) == 5
        assert [json.loads(b)["Message"] for b in bodies(hw, dlq_url)] == ["flaky"]


def test_in_process_publish_for_other_services(hw: Headwater) -> None:
    sns = hw.client("sns")
    topic = sns.create_topic(Name="alarms")["TopicArn"]
    url, qarn = queue(hw, "q")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)
    service: Any = hw.service("sns")
    message_id = service.publish_message(
        topic, "ALARM", subject="Alarm", attributes={"level": "high", "n": 3}
    )
    envelope = json.loads(bodies(hw, url)[0])
    assert envelope["MessageId"] == message_id
    assert envelope["Subject"] == "Alarm"
    assert envelope["MessageAttributes"]["n"] == {"Type": "Number", "Value": "3"}


@pytest.mark.parametrize("token", [str(2**70), "-1"])
def test_a_subscription_token_outside_the_stored_sequence_numbers_is_invalid(
    token: str,
) -> None:
    # A number past 64 bits overflowed the store's SQL parameter (OverflowError; found by
    # the odd-input hunt).
    with Headwater.in_memory(clock=ManualClock()) as hw:
        sns = hw.client("sns")
        arn = sns.create_topic(Name="listed")["TopicArn"]
        for call, params in (
            (sns.list_subscriptions, {}),
            (sns.list_subscriptions_by_topic, {"TopicArn": arn}),
        ):
            with pytest.raises(ClientError) as caught:
                call(NextToken=token, **params)
            error = caught.value.response["Error"]
            assert (error["Code"], error["Message"]) == (
                "InvalidParameter",
                "Invalid parameter: NextToken",
            )
