"""SNS over the wire (awsQuery) with boto3 and the AWS CLI, replaying AWS's recordings."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conformance.recorded import assert_like_recording, recordings
from tests.conformance.server_process import (
    ServerProcess,
    aws_cli,
    boto_client,
    headwater_server,
)

pytestmark = pytest.mark.integration

REGION = "us-west-2"
ACCOUNT = "000000000000"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with headwater_server(tmp_path_factory.mktemp("sns-wire")) as running:
        yield running


@pytest.fixture(scope="module")
def sns(server: ServerProcess) -> Any:
    return boto_client(server.endpoint, "sns")


@pytest.fixture(scope="module")
def sqs(server: ServerProcess) -> Any:
    return boto_client(server.endpoint, "sqs")


def snapshot(test: str) -> dict[str, Any]:
    return recordings("sns")[test]


def response_error(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response


def assert_like(expected: Any, actual: Any) -> None:
    assert_like_recording(expected, actual, "us-west-2")


def parsed_json_values(attributes: dict[str, str], *names: str) -> dict[str, Any]:
    """The snapshot tool turned JSON strings into objects: do the same before comparing."""
    out: dict[str, Any] = dict(attributes)
    for name in names:
        if name in out:
            out[name] = json.loads(out[name])
    return out


def make_queue(sqs: Any, name: str, **attributes: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def test_topic_attributes_as_recorded(sns: Any) -> None:
    shot = snapshot("TestSNSTopicCrud::test_create_topic_with_attributes")
    arn = sns.create_topic(
        Name="attrs.fifo",
        Attributes={"FifoTopic": "true", "DisplayName": "TestTopic", "SignatureVersion": "2"},
    )["TopicArn"]
    got = sns.get_topic_attributes(TopicArn=arn)
    got["Attributes"] = parsed_json_values(got["Attributes"], "Policy", "EffectiveDeliveryPolicy")
    assert_like(shot["get-topic-attrs"], got)
    assert_like(
        shot["get-attrs-nonexistent-topic"],
        response_error(sns.get_topic_attributes, TopicArn=arn.replace("attrs", "nope")),
    )
    assert_like(
        shot["get-attrs-malformed-topic"],
        response_error(sns.get_topic_attributes, TopicArn="malformed"),
    )


def test_sqs_subscription_with_filter_policy_as_recorded(sns: Any, sqs: Any) -> None:
    shot = snapshot("TestSNSSubscriptionSQS::test_subscribe_sqs_queue")
    topic = sns.create_topic(Name="filtered")["TopicArn"]
    url, queue_arn = make_queue(sqs, "filtered-q")
    policy = {"attr1": [{"numeric": [">", 0, "<=", 100]}]}
    sub = sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"FilterPolicy": json.dumps(policy)},
    )["SubscriptionArn"]
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)
    attributes["Attributes"] = parsed_json_values(attributes["Attributes"], "FilterPolicy")
    assert_like(shot["subscription-attributes"], attributes)
    for value in ("101", "99.12"):
        sns.publish(
            TopicArn=topic,
            Message="This is a test message",
            MessageAttributes={"attr1": {"DataType": "Number", "StringValue": value}},
        )
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    for message in messages["Messages"]:
        message["Body"] = json.loads(message["Body"])
    assert_like(shot["messages"], messages)


def test_raw_and_enveloped_delivery_as_recorded(sns: Any, sqs: Any) -> None:
    shot = snapshot("TestSNSSubscriptionSQS::test_publish_sqs_from_sns")
    topic = sns.create_topic(Name="raw-or-not")["TopicArn"]
    url, queue_arn = make_queue(sqs, "raw-or-not-q")
    sub = sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )["SubscriptionArn"]
    assert_like(shot["sub-attrs-raw-true"], sns.get_subscription_attributes(SubscriptionArn=sub))
    sns.publish(
        TopicArn=topic,
        Message="Test msg",
        MessageAttributes={"attr1": {"DataType": "Number", "StringValue": "99.12"}},
    )
    raw = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=1)
    assert_like(shot["message-raw-true"], raw)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=raw["Messages"][0]["ReceiptHandle"])
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="false"
    )
    assert_like(shot["sub-attrs-raw-false"], sns.get_subscription_attributes(SubscriptionArn=sub))
    sns.publish(
        TopicArn=topic,
        Message="Test msg",
        MessageAttributes={"attr1": {"DataType": "Number", "StringValue": "100.12"}},
    )
    enveloped = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=1)
    enveloped["Messages"][0]["Body"] = json.loads(enveloped["Messages"][0]["Body"])
    assert_like(shot["message-raw-false"], enveloped)


def test_fifo_topic_batch_to_fifo_queue_as_recorded(sns: Any, sqs: Any) -> None:
    shot = snapshot(
        "TestSNSSubscriptionSQSFifo::test_publish_batch_messages_from_fifo_topic_to_fifo_queue[True]"
    )
    topic = sns.create_topic(
        Name="batch.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"}
    )["TopicArn"]
    topic_attributes = sns.get_topic_attributes(TopicArn=topic)
    topic_attributes["Attributes"] = parsed_json_values(
        topic_attributes["Attributes"], "Policy", "EffectiveDeliveryPolicy"
    )
    assert_like(shot["topic-attrs"], topic_attributes)
    url, queue_arn = make_queue(
        sqs, "batch-q.fifo", FifoQueue="true", ContentBasedDeduplication="true"
    )
    sub = sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )["SubscriptionArn"]
    assert_like(shot["sub-attrs-raw-true"], sns.get_subscription_attributes(SubscriptionArn=sub))
    group = "complexMessageGroupId"
    entries = [
        {
            "Id": "1",
            "Message": "Test Message with two attributes",
            "MessageGroupId": group,
            "MessageAttributes": {
                "attr1": {"DataType": "Number", "StringValue": "99.12"},
                "attr2": {"DataType": "Number", "StringValue": "109.12"},
            },
        },
        {
            "Id": "2",
            "Message": "Test Message with one attribute",
            "MessageGroupId": group,
            "MessageAttributes": {"attr1": {"DataType": "Number", "StringValue": "19.12"}},
        },
        {"Id": "3", "Message": "Test Message without attribute", "MessageGroupId": group},
    ]
    published = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
    assert_like(shot["publish-batch-response-fifo"], published)
    messages = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
        WaitTimeSeconds=1,
    )
    assert_like(shot["messages"], {k: v for k, v in messages.items() if k != "ResponseMetadata"})
    republished = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
    assert republished["Successful"] == published["Successful"]


def test_recorded_error_texts(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(Name="errors")["TopicArn"]
    fifo_topic = sns.create_topic(Name="errors.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    _, queue_arn = make_queue(sqs, "errors-q")
    wrong_arn = snapshot("TestSNSPublishCrud::test_publish_wrong_arn_format")
    assert_like(
        wrong_arn["invalid-topic-arn"],
        response_error(sns.publish, TopicArn="test-topic", Message="m"),
    )
    assert_like(
        wrong_arn["invalid-topic-arn-1"],
        response_error(sns.publish, TopicArn="arn:test-topic", Message="m"),
    )
    subs = snapshot("TestSNSSubscriptionCrud::test_create_subscriptions_with_attributes")
    assert_like(
        subs["subscribe-wrong-attr"],
        response_error(
            sns.subscribe,
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "wrongvalue"},
        ),
    )
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    validate = snapshot("TestSNSSubscriptionCrud::test_validate_set_sub_attributes")
    set_attr = sns.set_subscription_attributes
    for key, name, value in [
        ("fake-attribute", "Fake", "test-value"),
        ("raw-message-wrong-value", "RawMessageDelivery", "test-ValUe"),
        ("raw-message-empty-value", "RawMessageDelivery", ""),
        ("fake-arn-redrive-policy", "RedrivePolicy", '{"deadLetterTargetArn": "fake-arn"}'),
    ]:
        got = response_error(
            set_attr, SubscriptionArn=sub, AttributeName=name, AttributeValue=value
        )
        assert_like(validate[key], got)
    for key, name in [
        ("invalid-json-redrive-policy", "RedrivePolicy"),
        ("invalid-json-filter-policy", "FilterPolicy"),
    ]:
        got = response_error(
            set_attr, SubscriptionArn=sub, AttributeName=name, AttributeValue="{invalid json}"
        )["Error"]
        # AWS's message goes on with the JSON parser's own words (Jackson's); the prefix is
        # what clients match on.
        assert got["Code"] == validate[key]["Error"]["Code"]
        assert got["Message"].startswith(f"Invalid parameter: {name}: failed to parse JSON.")
    unsubscribe = snapshot("TestSNSSubscriptionCrud::test_unsubscribe_wrong_arn_format")
    assert_like(
        unsubscribe["invalid-unsubscribe-arn-1"],
        response_error(sns.unsubscribe, SubscriptionArn="randomstring"),
    )
    assert_like(
        unsubscribe["invalid-unsubscribe-arn-3"],
        response_error(sns.unsubscribe, SubscriptionArn=topic),
    )
    batch = snapshot("TestSNSSubscriptionSQS::test_publish_batch_exceptions")
    assert_like(
        batch["no-group-id"],
        response_error(
            sns.publish_batch,
            TopicArn=fifo_topic,
            PublishBatchRequestEntries=[{"Id": "1", "Message": "m"}],
        ),
    )
    assert_like(
        batch["too-many-msg"],
        response_error(
            sns.publish_batch,
            TopicArn=topic,
            PublishBatchRequestEntries=[{"Id": str(i), "Message": "m"} for i in range(11)],
        ),
    )
    assert_like(
        batch["same-msg-id"],
        response_error(
            sns.publish_batch,
            TopicArn=topic,
            PublishBatchRequestEntries=[{"Id": "1", "Message": "m"}] * 2,
        ),
    )
    assert_like(
        batch["no-dedup-id"],
        response_error(
            sns.publish_batch,
            TopicArn=fifo_topic,
            PublishBatchRequestEntries=[{"Id": "1", "Message": "m", "MessageGroupId": "g"}],
        ),
    )
    structure = snapshot("TestSNSPublishCrud::test_message_structure_json_exc")
    assert_like(
        structure["missing-default-key"],
        response_error(
            sns.publish, TopicArn=topic, Message='{"sqs": "x"}', MessageStructure="json"
        ),
    )
    assert_like(
        structure["invalid-json"],
        response_error(sns.publish, TopicArn=topic, Message="{x", MessageStructure="json"),
    )
    attributes = snapshot("TestSNSSubscriptionSQS::test_empty_or_wrong_message_attributes")
    cases = {
        "missing_string_attr": {"attr1": {"DataType": "String", "StringValue": ""}},
        "missing_binary_attr": {"attr1": {"DataType": "Binary", "BinaryValue": b""}},
        "str_attr_binary_value": {"attr1": {"DataType": "String", "BinaryValue": b"x"}},
        "int_attr_binary_value": {"attr1": {"DataType": "Number", "BinaryValue": b"1"}},
        "binary_attr_string_value": {"attr1": {"DataType": "Binary", "StringValue": "x"}},
        "invalid_attr_string_value": {"attr1": {"DataType": "SomeType", "StringValue": "x"}},
        "too_long_name": {"a" * 257: {"DataType": "String", "StringValue": "x"}},
        "invalid_name": {"a^*?": {"DataType": "String", "StringValue": "x"}},
        "invalid_name_2": {".abc": {"DataType": "String", "StringValue": "x"}},
        "invalid_name_3": {"abc.": {"DataType": "String", "StringValue": "x"}},
        "invalid_name_4": {"a..bc": {"DataType": "String", "StringValue": "x"}},
    }
    for key, given in cases.items():
        got = response_error(sns.publish, TopicArn=topic, Message="m", MessageAttributes=given)
        assert_like(attributes[key], got)
        entries = [{"Id": "1", "Message": "m", "MessageAttributes": given}]
        got = response_error(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=entries)
        assert_like(attributes[f"batch-{key}"], got)
    fifo = snapshot("TestSNSSubscriptionSQSFifo::test_validations_for_fifo")
    _, fifo_queue_arn = make_queue(sqs, "errors-q.fifo", FifoQueue="true")
    assert_like(
        fifo["not-fifo-topic"],
        response_error(sns.subscribe, TopicArn=topic, Protocol="sqs", Endpoint=fifo_queue_arn),
    )
    assert_like(
        fifo["regular-queue-for-dlq-of-fifo-topic"],
        response_error(
            sns.set_subscription_attributes,
            SubscriptionArn=sns.subscribe(
                TopicArn=fifo_topic, Protocol="sqs", Endpoint=fifo_queue_arn
            )["SubscriptionArn"],
            AttributeName="RedrivePolicy",
            AttributeValue=json.dumps({"deadLetterTargetArn": queue_arn}),
        ),
    )
    assert_like(
        fifo["no-msg-dedup-regular-topic"],
        response_error(sns.publish, TopicArn=topic, Message="m", MessageDeduplicationId="d"),
    )
    names = snapshot("TestSNSTopicCrudV2::test_create_topic_name_constraints")
    assert_like(names["valid-name-max-length"], sns.create_topic(Name="a" * 256))
    for key, name in [
        ("name-too-short", ""),
        ("name-too-long", "a" * 257),
        ("name-contains-fifo", "topic.fifo"),
        ("name-invalid-char-0", "topic!"),
    ]:
        assert_like(names[key], response_error(sns.create_topic, Name=name))
    assert_like(
        names["fifo-name-not-contains-fifo"],
        response_error(sns.create_topic, Name="topic", Attributes={"FifoTopic": "true"}),
    )


def test_tags_as_recorded(sns: Any) -> None:
    shot = snapshot("TestSNSTopicCrud::test_tags")
    topic = sns.create_topic(Name="tagged")["TopicArn"]
    assert_like(
        shot["duplicate-key-error"],
        response_error(
            sns.tag_resource,
            ResourceArn=topic,
            Tags=[{"Key": "k1", "Value": "v1"}, {"Key": "k1", "Value": "v2"}],
        ),
    )
    sns.tag_resource(
        ResourceArn=topic, Tags=[{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}]
    )
    assert_like(shot["list-created-tags"], sns.list_tags_for_resource(ResourceArn=topic))
    sns.untag_resource(ResourceArn=topic, TagKeys=["k1"])
    assert_like(shot["list-after-delete-tags"], sns.list_tags_for_resource(ResourceArn=topic))
    sns.tag_resource(ResourceArn=topic, Tags=[{"Key": "k2", "Value": "v2b"}])
    assert_like(shot["list-after-update-tags"], sns.list_tags_for_resource(ResourceArn=topic))


def test_aws_cli_topic_subscribe_publish(server: ServerProcess, sqs: Any) -> None:
    topic = aws_cli(server, "sns", "create-topic", "--name", "cli-topic").json()["TopicArn"]
    url, queue_arn = make_queue(sqs, "cli-q")
    aws_cli(
        server,
        "sns",
        "subscribe",
        "--topic-arn",
        topic,
        "--protocol",
        "sqs",
        "--notification-endpoint",
        queue_arn,
        "--attributes",
        "RawMessageDelivery=true",
    )
    listed = aws_cli(server, "sns", "list-subscriptions-by-topic", "--topic-arn", topic).json()
    assert [s["Endpoint"] for s in listed["Subscriptions"]] == [queue_arn]
    published = aws_cli(
        server,
        "sns",
        "publish",
        "--topic-arn",
        topic,
        "--subject",
        "hello",
        "--message",
        "from the cli",
        "--message-attributes",
        '{"kind": {"DataType": "String", "StringValue": "cli"}}',
    ).json()
    assert published["MessageId"]
    got = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=1)
    (message,) = got["Messages"]
    assert message["Body"] == "from the cli"
    assert message["MessageAttributes"]["kind"]["StringValue"] == "cli"
    missing = aws_cli(
        server, "sns", "publish", "--topic-arn", topic + "-gone", "--message", "m", check=False
    )
    assert missing.returncode != 0
    assert "NotFound" in missing.stderr and "Topic does not exist" in missing.stderr
    topics = aws_cli(server, "sns", "list-topics").json()["Topics"]
    assert {"TopicArn": topic} in topics


def test_http_endpoint_confirms_by_visiting_the_subscribe_url(
    server: ServerProcess, sns: Any
) -> None:
    received: list[dict[str, Any]] = []

    class Endpoint(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            message = json.loads(self.rfile.read(length))
            received.append(message)
            if message["Type"] == "SubscriptionConfirmation":
                # what endpoint code usually does: visit the SubscribeURL
                with urllib.request.urlopen(message["SubscribeURL"], timeout=10) as answer:
                    assert answer.status == 200
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    http = HTTPServer(("127.0.0.1", 0), Endpoint)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        topic = sns.create_topic(Name="web-hooks")["TopicArn"]
        url = f"http://127.0.0.1:{http.server_port}/hook"
        assert sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url)["SubscriptionArn"] == (
            "pending confirmation"
        )
        deadline = time.monotonic() + 20
        subscriptions: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
            if subscriptions and subscriptions[0]["SubscriptionArn"] != "PendingConfirmation":
                break
            time.sleep(0.05)
        assert subscriptions[0]["SubscriptionArn"].startswith(topic + ":")
        sns.publish(TopicArn=topic, Message="to the web", Subject="hook")
        while time.monotonic() < deadline and len(received) < 2:
            time.sleep(0.05)
        notification = received[1]
        assert (notification["Type"], notification["Message"]) == ("Notification", "to the web")
        assert notification["UnsubscribeURL"].startswith(server.endpoint)
        with urllib.request.urlopen(notification["UnsubscribeURL"], timeout=10) as answer:
            assert answer.status == 200
        assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    finally:
        http.shutdown()
        http.server_close()
