"""``hw.client(name)`` answers as boto3 does over the wire.

Each service runs one realistic sequence of calls (create, write, read, list empty and not,
describe, update, tag, delete, and some errors) twice: through the in-process client, and
through a real boto3 client whose requests reach a second Headwater through its ASGI app
(``boto3_in_process``), so botocore serializes and parses them. Both Headwaters run on a
``ManualClock`` from the same start, so timestamps agree; what legitimately differs (request
ids, generated ids and the ARNs or URLs holding them, response headers) is masked. Every
other difference (a missing or extra key, a str for a datetime, another error class or
message) is a mismatch code written for boto3 would see.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore import xform_name
from botocore.config import Config
from botocore.eventstream import EventStream
from botocore.exceptions import ClientError, ParamValidationError
from botocore.response import StreamingBody

from headwater import Headwater, ManualClock
from headwater.in_process import boto3_in_process
from headwater.models import service_model
from headwater.wiring import service_class

ENDPOINT = "http://127.0.0.1:4599"  # never connected to: boto3_in_process answers
ACCOUNT = "000000000000"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/lambda-role"

#: Values that differ between two runs of the same calls: UUIDs (request, message and
#: mapping ids), and the hex digests or random tokens some services mint (function URL ids).
_GENERATED = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|(?<=//)[a-z0-9]{32}(?=\.lambda-url\.)",
    re.IGNORECASE,
)


class Recorder:
    """Runs calls, keeping each outcome (a result or a ClientError) in comparable form."""

    def __init__(self) -> None:
        self.outcomes: list[tuple[str, Any]] = []

    def __call__(self, label: str, call: Callable[[], Any]) -> Any:
        """Runs ``call``; returns its result, or None when it raised a ClientError."""
        try:
            result = call()
        except ParamValidationError as error:
            self.outcomes.append((label, ("invalid", str(error))))
            return None
        except ClientError as error:
            response = {k: v for k, v in error.response.items() if k != "ResponseMetadata"}
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            self.outcomes.append(
                (label, ("error", type(error).__name__, status, _comparable(response)))
            )
            return None
        if isinstance(result, dict):
            # A body read here is gone for the scenario: hand it the bytes instead.
            for key, value in list(result.items()):
                if isinstance(value, StreamingBody):
                    result[key] = value.read()
                elif isinstance(value, EventStream):
                    result[key] = ("EventStream", list(value))
            status = result.get("ResponseMetadata", {}).get("HTTPStatusCode")
            # S3 listings: boto3 asks for url-encoded keys itself (and decodes them).
            kept = {
                k: v
                for k, v in result.items()
                if k != "ResponseMetadata" and (k, v) != ("EncodingType", "url")
            }
            self.outcomes.append((label, ("ok", status, _comparable(kept))))
        else:
            self.outcomes.append((label, ("value", _comparable(result))))
        return result


#: Members whose values are minted at random (IAM's unique ids and keys, STS credentials,
#: S3's version ids).
_MINTED = frozenset({
    "RoleId", "PolicyId", "UserId", "GroupId", "AccessKeyId", "SecretAccessKey",
    "SessionToken", "AssumedRoleId", "InstanceProfileId", "RandomPassword",
    "ClientId", "ClientSecret", "AccessToken", "IdToken", "RefreshToken", "Session",
    "VersionId", "NextVersionIdMarker", "DeleteMarkerVersionId", "CopySourceVersionId",
})  # fmt: skip
#: Paths in a Headwater's own data directory (a Lambda function's code location, the file
#: names of a handler's stack trace), and CloudFormation's physical names, which end in a
#: random suffix (``<stack>-<logical id>-<12 characters>``), as secrets' ARNs do
#: (``:secret:<name>-<6 characters>``).
_LOCAL = re.compile(r"(?:file://)?/[^\s\"']*?headwater-mem-\w+|code-[0-9a-f]{16}|"
                    r"\b(?:st|cs|CFN)-[A-Za-z]+-[A-Za-z0-9]{12}\b|"
                    r":secret:[\w/+=.@-]+-[A-Za-z0-9]{6}\b|"
                    r"\b[a-z]{2}-[a-z]+-\d_[A-Za-z0-9]{9}\b")  # fmt: skip


def _comparable(value: Any, key: str = "") -> Any:
    """``value`` with generated ids masked and each leaf tagged with its type."""
    if isinstance(value, dict):
        return {k: _comparable(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_comparable(v) for v in value]
    if isinstance(value, str):
        if key in _MINTED:
            return "<minted>"
        if _opaque_token_with_id(value):  # receipt handles, upload ids
            return "<token>"
        return _LOCAL.sub("<local>", _GENERATED.sub("<id>", value))
    if isinstance(value, bytes | bytearray):
        text = bytes(value).decode("latin-1")
        return ("bytes", _LOCAL.sub("<local>", _GENERATED.sub("<id>", text)))
    if isinstance(value, dt.datetime):
        return ("datetime", value.astimezone(dt.UTC).isoformat())
    return (type(value).__name__, value)


def _opaque_token_with_id(value: str) -> bool:
    """Whether ``value`` is base64 text holding a generated id (an SQS receipt handle)."""
    if len(value) < 24 or not re.fullmatch(r"[A-Za-z0-9+/_=-]+", value):
        return False
    try:
        decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        return False
    return _GENERATED.search(decoded.decode("latin-1")) is not None


def zip_bytes(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            # A fixed date: the same code gives the same CodeSha256 on both paths.
            archive.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


CODE = zip_bytes({"app.py": "def handler(event, context):\n    return {'got': event}\n"})


# ------------------------------------------------------------------ scenarios


def sqs_calls(c: Any, run: Recorder) -> None:
    run("list empty", c.list_queues)
    url = run("create", lambda: c.create_queue(QueueName="jobs", tags={"team": "a"}))["QueueUrl"]
    run("create fifo", lambda: c.create_queue(
        QueueName="jobs.fifo", Attributes={"FifoQueue": "true"}
    ))  # fmt: skip
    run("list", c.list_queues)
    run("get url", lambda: c.get_queue_url(QueueName="jobs"))
    run("get url missing", lambda: c.get_queue_url(QueueName="nope"))
    run("attributes", lambda: c.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]))
    run("set attributes", lambda: c.set_queue_attributes(
        QueueUrl=url, Attributes={"VisibilityTimeout": "60"}
    ))  # fmt: skip
    run("bad attribute", lambda: c.set_queue_attributes(
        QueueUrl=url, Attributes={"VisibilityTimeout": "-1"}
    ))  # fmt: skip
    run("receive empty", lambda: c.receive_message(QueueUrl=url))
    run("send", lambda: c.send_message(
        QueueUrl=url,
        MessageBody="hello",
        MessageAttributes={
            "n": {"DataType": "Number", "StringValue": "5"},
            "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    ))  # fmt: skip
    run("send batch", lambda: c.send_message_batch(
        QueueUrl=url,
        Entries=[{"Id": "1", "MessageBody": "a"}, {"Id": "2", "MessageBody": ""}],
    ))  # fmt: skip
    got = run("receive", lambda: c.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
        MessageSystemAttributeNames=["All"],
    ))  # fmt: skip
    handles = [m["ReceiptHandle"] for m in got.get("Messages", [])]
    run("change visibility", lambda: c.change_message_visibility(
        QueueUrl=url, ReceiptHandle=handles[0], VisibilityTimeout=10
    ))  # fmt: skip
    run("delete batch", lambda: c.delete_message_batch(
        QueueUrl=url,
        Entries=[{"Id": "x", "ReceiptHandle": handles[1]}, {"Id": "y", "ReceiptHandle": "bad"}],
    ))  # fmt: skip
    run("delete", lambda: c.delete_message(QueueUrl=url, ReceiptHandle=handles[0]))
    run("tag", lambda: c.tag_queue(QueueUrl=url, Tags={"env": "dev"}))
    run("tags", lambda: c.list_queue_tags(QueueUrl=url))
    run("untag", lambda: c.untag_queue(QueueUrl=url, TagKeys=["team", "env"]))
    run("tags empty", lambda: c.list_queue_tags(QueueUrl=url))
    run("purge", lambda: c.purge_queue(QueueUrl=url))
    run("dlq sources empty", lambda: c.list_dead_letter_source_queues(QueueUrl=url))
    run("delete queue", lambda: c.delete_queue(QueueUrl=url))
    run("send to deleted", lambda: c.send_message(QueueUrl=url, MessageBody="x"))


def kinesis_calls(c: Any, run: Recorder) -> None:
    run("list empty", c.list_streams)
    run("create", lambda: c.create_stream(StreamName="s", ShardCount=2))
    run("create again", lambda: c.create_stream(StreamName="s", ShardCount=2))
    run("list", c.list_streams)
    run("describe", lambda: c.describe_stream(StreamName="s"))
    run("summary", lambda: c.describe_stream_summary(StreamName="s"))
    run("shards", lambda: c.list_shards(StreamName="s"))
    run("put", lambda: c.put_record(StreamName="s", Data=b"one", PartitionKey="k"))
    run("put records", lambda: c.put_records(
        StreamName="s", Records=[{"Data": b"two", "PartitionKey": "k"}]
    ))  # fmt: skip
    shard = c.list_shards(StreamName="s")["Shards"]
    iterator = run("iterator", lambda: c.get_shard_iterator(
        StreamName="s", ShardId=shard[0]["ShardId"], ShardIteratorType="TRIM_HORIZON"
    ))  # fmt: skip
    run("get records", lambda: c.get_records(ShardIterator=iterator["ShardIterator"]))
    run("bad iterator", lambda: c.get_records(ShardIterator="nonsense"))
    run("tag", lambda: c.add_tags_to_stream(StreamName="s", Tags={"a": "1"}))
    run("tags", lambda: c.list_tags_for_stream(StreamName="s"))
    run("untag", lambda: c.remove_tags_from_stream(StreamName="s", TagKeys=["a"]))
    run("tags empty", lambda: c.list_tags_for_stream(StreamName="s"))
    run("retention", lambda: c.increase_stream_retention_period(
        StreamName="s", RetentionPeriodHours=48
    ))  # fmt: skip
    run("consumers empty", lambda: c.list_stream_consumers(
        StreamARN=f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/s"
    ))  # fmt: skip
    run("consumer", lambda: c.register_stream_consumer(
        StreamARN=f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/s", ConsumerName="c"
    ))  # fmt: skip
    run("consumers", lambda: c.list_stream_consumers(
        StreamARN=f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/s"
    ))  # fmt: skip
    run("delete", lambda: c.delete_stream(StreamName="s", EnforceConsumerDeletion=True))
    run("describe missing", lambda: c.describe_stream(StreamName="s"))


def dynamodb_calls(c: Any, run: Recorder) -> None:
    run("list empty", c.list_tables)
    run("create", lambda: c.create_table(
        TableName="tbl",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        Tags=[{"Key": "team", "Value": "a"}],
    ))  # fmt: skip
    run("list", c.list_tables)
    run("describe", lambda: c.describe_table(TableName="tbl"))
    run("describe missing", lambda: c.describe_table(TableName="nope"))
    item = {
        "pk": {"S": "a"},
        "sk": {"N": "1"},
        "blob": {"B": b"\x00\xff"},
        "set": {"BS": [b"x", b"y"]},
        "flag": {"BOOL": True},
        "none": {"NULL": True},
        "list": {"L": [{"S": "x"}, {"N": "2.50"}]},
        "map": {"M": {"k": {"SS": ["p", "q"]}}},
    }
    run("put", lambda: c.put_item(TableName="tbl", Item=item))
    run("put old", lambda: c.put_item(TableName="tbl", Item=item, ReturnValues="ALL_OLD"))
    run("put conditional", lambda: c.put_item(
        TableName="tbl", Item=item, ConditionExpression="attribute_not_exists(pk)",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    ))  # fmt: skip
    run("get", lambda: c.get_item(TableName="tbl", Key={"pk": {"S": "a"}, "sk": {"N": "1"}}))
    missing = {"pk": {"S": "b"}, "sk": {"N": "1"}}
    run("get missing", lambda: c.get_item(TableName="tbl", Key=missing))
    run("get bad key", lambda: c.get_item(TableName="tbl", Key={"pk": {"S": "a"}}))
    run("update", lambda: c.update_item(
        TableName="tbl",
        Key={"pk": {"S": "a"}, "sk": {"N": "1"}},
        UpdateExpression="SET n = :n ADD c :one",
        ExpressionAttributeValues={":n": {"N": "7"}, ":one": {"N": "1"}},
        ReturnValues="ALL_NEW",
        ReturnConsumedCapacity="TOTAL",
    ))  # fmt: skip
    run("query", lambda: c.query(
        TableName="tbl",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "a"}},
    ))  # fmt: skip
    run("query empty", lambda: c.query(
        TableName="tbl",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "zz"}},
    ))  # fmt: skip
    run("scan", lambda: c.scan(TableName="tbl", Limit=1))
    run("batch write", lambda: c.batch_write_item(RequestItems={"tbl": [
        {"PutRequest": {"Item": {"pk": {"S": "b"}, "sk": {"N": "2"}}}},
    ]}))  # fmt: skip
    run("batch get", lambda: c.batch_get_item(RequestItems={"tbl": {"Keys": [
        {"pk": {"S": "b"}, "sk": {"N": "2"}}, {"pk": {"S": "c"}, "sk": {"N": "2"}},
    ]}}))  # fmt: skip
    run("transact", lambda: c.transact_write_items(TransactItems=[
        {"ConditionCheck": {
            "TableName": "tbl",
            "Key": {"pk": {"S": "c"}, "sk": {"N": "9"}},
            "ConditionExpression": "attribute_exists(pk)",
        }},
    ]))  # fmt: skip
    run("transact get", lambda: c.transact_get_items(TransactItems=[
        {"Get": {"TableName": "tbl", "Key": {"pk": {"S": "b"}, "sk": {"N": "2"}}}},
    ]))  # fmt: skip
    run("partiql", lambda: c.execute_statement(Statement="SELECT * FROM tbl WHERE pk = 'a'"))
    arn = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/tbl"
    run("tag", lambda: c.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "x"}]))
    run("tags", lambda: c.list_tags_of_resource(ResourceArn=arn))
    run("untag", lambda: c.untag_resource(ResourceArn=arn, TagKeys=["env", "team"]))
    run("tags empty", lambda: c.list_tags_of_resource(ResourceArn=arn))
    run("ttl", lambda: c.update_time_to_live(
        TableName="tbl", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    ))  # fmt: skip
    run("describe ttl", lambda: c.describe_time_to_live(TableName="tbl"))
    run("update table", lambda: c.update_table(
        TableName="tbl",
        AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "byG",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }}],
    ))  # fmt: skip
    run("delete item", lambda: c.delete_item(
        TableName="tbl", Key={"pk": {"S": "a"}, "sk": {"N": "1"}}, ReturnValues="ALL_OLD"
    ))  # fmt: skip
    run("delete", lambda: c.delete_table(TableName="tbl"))
    run("put deleted", lambda: c.put_item(TableName="tbl", Item=item))


def dynamodbstreams_calls(c: Any, run: Recorder, hw: Headwater) -> None:
    run("list empty", c.list_streams)
    ddb = hw.client("dynamodb")
    ddb.create_table(
        TableName="tbl",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    ddb.put_item(TableName="tbl", Item={"pk": {"S": "a"}, "b": {"B": b"\x01"}})
    ddb.update_item(
        TableName="tbl",
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "1"}},
    )
    streams = run("list", lambda: c.list_streams(TableName="tbl"))
    arn = streams["Streams"][0]["StreamArn"]
    described = run("describe", lambda: c.describe_stream(StreamArn=arn))
    shard = described["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = run("iterator", lambda: c.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    ))  # fmt: skip
    run("records", lambda: c.get_records(ShardIterator=iterator["ShardIterator"]))
    run("describe missing", lambda: c.describe_stream(StreamArn=arn + "x"))
    run("bad iterator", lambda: c.get_records(ShardIterator="nonsense"))


def lambda_calls(c: Any, run: Recorder) -> None:
    run("list empty", c.list_functions)
    run("create", lambda: c.create_function(
        FunctionName="fn",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": CODE},
        Environment={"Variables": {"A": "1"}},
        Tags={"team": "a"},
    ))  # fmt: skip
    run("create again", lambda: c.create_function(
        FunctionName="fn", Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": CODE},
    ))  # fmt: skip
    run("list", c.list_functions)
    run("get", lambda: c.get_function(FunctionName="fn"))
    run("get configuration", lambda: c.get_function_configuration(FunctionName="fn"))
    run("get missing", lambda: c.get_function(FunctionName="nope"))
    run("invoke", lambda: c.invoke(FunctionName="fn", Payload=b'{"x": 1}'))
    run("invoke event", lambda: c.invoke(FunctionName="fn", InvocationType="Event", Payload=b"{}"))
    run("invoke dry run", lambda: c.invoke(FunctionName="fn", InvocationType="DryRun"))
    run("update configuration", lambda: c.update_function_configuration(
        FunctionName="fn", Timeout=10, Description="d"
    ))  # fmt: skip
    run("publish", lambda: c.publish_version(FunctionName="fn"))
    run("versions", lambda: c.list_versions_by_function(FunctionName="fn"))
    run("alias", lambda: c.create_alias(FunctionName="fn", Name="live", FunctionVersion="1"))
    run("aliases", lambda: c.list_aliases(FunctionName="fn"))
    run("permission", lambda: c.add_permission(
        FunctionName="fn", StatementId="s1", Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
    ))  # fmt: skip
    run("policy", lambda: c.get_policy(FunctionName="fn"))
    run("concurrency", lambda: c.put_function_concurrency(
        FunctionName="fn", ReservedConcurrentExecutions=2
    ))  # fmt: skip
    run("get concurrency", lambda: c.get_function_concurrency(FunctionName="fn"))
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:fn"
    run("tag", lambda: c.tag_resource(Resource=arn, Tags={"env": "x"}))
    run("tags", lambda: c.list_tags(Resource=arn))
    run("untag", lambda: c.untag_resource(Resource=arn, TagKeys=["env", "team"]))
    run("tags empty", lambda: c.list_tags(Resource=arn))
    run("mappings empty", c.list_event_source_mappings)
    run("event invoke config", lambda: c.put_function_event_invoke_config(
        FunctionName="fn", MaximumRetryAttempts=1
    ))  # fmt: skip
    run("account settings", c.get_account_settings)
    run("delete", lambda: c.delete_function(FunctionName="fn"))
    run("delete missing", lambda: c.delete_function(FunctionName="fn"))


def s3_calls(c: Any, run: Recorder) -> None:
    run("list empty", c.list_buckets)
    run("create", lambda: c.create_bucket(Bucket="files"))
    run("create again", lambda: c.create_bucket(Bucket="files"))
    run("list", c.list_buckets)
    run("head bucket", lambda: c.head_bucket(Bucket="files"))
    run("location", lambda: c.get_bucket_location(Bucket="files"))
    run("objects empty", lambda: c.list_objects_v2(Bucket="files"))
    run("objects v1 empty", lambda: c.list_objects(Bucket="files"))
    run("put", lambda: c.put_object(
        Bucket="files", Key="a/b.txt", Body=b"hello", ContentType="text/plain",
        Metadata={"team": "a"},
    ))  # fmt: skip
    run("get", lambda: c.get_object(Bucket="files", Key="a/b.txt"))
    run("get range", lambda: c.get_object(Bucket="files", Key="a/b.txt", Range="bytes=1-2"))
    run("head", lambda: c.head_object(Bucket="files", Key="a/b.txt"))
    run("get missing", lambda: c.get_object(Bucket="files", Key="nope"))
    run("head missing", lambda: c.head_object(Bucket="files", Key="nope"))
    run("objects", lambda: c.list_objects_v2(Bucket="files"))
    run("objects delimited", lambda: c.list_objects_v2(Bucket="files", Delimiter="/"))
    run("objects v1", lambda: c.list_objects(Bucket="files", Prefix="a/"))
    run("copy", lambda: c.copy_object(
        Bucket="files", Key="copy.txt", CopySource={"Bucket": "files", "Key": "a/b.txt"}
    ))  # fmt: skip
    run("tag object", lambda: c.put_object_tagging(
        Bucket="files", Key="a/b.txt", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]}
    ))  # fmt: skip
    run("object tags", lambda: c.get_object_tagging(Bucket="files", Key="a/b.txt"))
    run("bucket tags missing", lambda: c.get_bucket_tagging(Bucket="files"))
    run("tag bucket", lambda: c.put_bucket_tagging(
        Bucket="files", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]}
    ))  # fmt: skip
    run("bucket tags", lambda: c.get_bucket_tagging(Bucket="files"))
    run("versioning", lambda: c.get_bucket_versioning(Bucket="files"))
    run("uploads empty", lambda: c.list_multipart_uploads(Bucket="files"))
    upload = run("start upload", lambda: c.create_multipart_upload(Bucket="files", Key="big"))
    upload_id = upload["UploadId"]
    run("parts empty", lambda: c.list_parts(Bucket="files", Key="big", UploadId=upload_id))
    part = run("upload part", lambda: c.upload_part(
        Bucket="files", Key="big", UploadId=upload_id, PartNumber=1, Body=b"x" * 10
    ))  # fmt: skip
    run("parts", lambda: c.list_parts(Bucket="files", Key="big", UploadId=upload_id))
    run("uploads", lambda: c.list_multipart_uploads(Bucket="files"))
    run("complete", lambda: c.complete_multipart_upload(
        Bucket="files", Key="big", UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    ))  # fmt: skip
    run("notifications empty", lambda: c.get_bucket_notification_configuration(Bucket="files"))
    run("delete objects", lambda: c.delete_objects(
        Bucket="files",
        Delete={"Objects": [{"Key": "copy.txt"}, {"Key": "big"}, {"Key": "never"}]},
    ))  # fmt: skip
    run("delete", lambda: c.delete_object(Bucket="files", Key="a/b.txt"))
    run("delete bucket", lambda: c.delete_bucket(Bucket="files"))
    run("delete bucket missing", lambda: c.delete_bucket(Bucket="files"))


def sns_calls(c: Any, run: Recorder, hw: Headwater) -> None:
    run("list empty", c.list_topics)
    arn = run("create", lambda: c.create_topic(Name="news", Tags=[{"Key": "a", "Value": "1"}]))[
        "TopicArn"
    ]
    run("list", c.list_topics)
    run("attributes", lambda: c.get_topic_attributes(TopicArn=arn))
    run("set attribute", lambda: c.set_topic_attributes(
        TopicArn=arn, AttributeName="DisplayName", AttributeValue="News"
    ))  # fmt: skip
    run("subscriptions empty", lambda: c.list_subscriptions_by_topic(TopicArn=arn))
    queue = hw.client("sqs").create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:inbox"
    sub = run("subscribe", lambda: c.subscribe(
        TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True
    ))  # fmt: skip
    run("subscriptions", lambda: c.list_subscriptions_by_topic(TopicArn=arn))
    run("all subscriptions", c.list_subscriptions)
    run("subscription attributes", lambda: c.get_subscription_attributes(
        SubscriptionArn=sub["SubscriptionArn"]
    ))  # fmt: skip
    run("publish", lambda: c.publish(
        TopicArn=arn, Message="hi", Subject="s",
        MessageAttributes={"n": {"DataType": "String", "StringValue": "v"}},
    ))  # fmt: skip
    run("publish batch", lambda: c.publish_batch(
        TopicArn=arn, PublishBatchRequestEntries=[{"Id": "1", "Message": "a"}]
    ))  # fmt: skip
    run("delivered", lambda: hw.client("sqs").receive_message(QueueUrl=queue)["Messages"][0]["Body"]
        .count("Notification"))  # fmt: skip
    run("publish missing", lambda: c.publish(TopicArn=arn + "x", Message="hi"))
    run("tags", lambda: c.list_tags_for_resource(ResourceArn=arn))
    run("tag", lambda: c.tag_resource(ResourceArn=arn, Tags=[{"Key": "b", "Value": "2"}]))
    run("untag", lambda: c.untag_resource(ResourceArn=arn, TagKeys=["a", "b"]))
    run("tags empty", lambda: c.list_tags_for_resource(ResourceArn=arn))
    run("unsubscribe", lambda: c.unsubscribe(SubscriptionArn=sub["SubscriptionArn"]))
    run("delete", lambda: c.delete_topic(TopicArn=arn))
    run("attributes deleted", lambda: c.get_topic_attributes(TopicArn=arn))


def cloudwatch_calls(c: Any, run: Recorder) -> None:
    run("metrics empty", c.list_metrics)
    run("alarms empty", c.describe_alarms)
    when = dt.datetime.fromtimestamp(MANUAL_START, dt.UTC)
    run("put", lambda: c.put_metric_data(Namespace="App", MetricData=[
        {"MetricName": "Hits", "Value": 3.0, "Unit": "Count", "Timestamp": when,
         "Dimensions": [{"Name": "Page", "Value": "home"}]},
    ]))  # fmt: skip
    run("metrics", lambda: c.list_metrics(Namespace="App"))
    run("statistics", lambda: c.get_metric_statistics(
        Namespace="App", MetricName="Hits", Dimensions=[{"Name": "Page", "Value": "home"}],
        StartTime=when - dt.timedelta(minutes=5), EndTime=when + dt.timedelta(minutes=5),
        Period=60, Statistics=["Sum", "SampleCount"],
    ))  # fmt: skip
    run("data", lambda: c.get_metric_data(
        MetricDataQueries=[{"Id": "q", "MetricStat": {
            "Metric": {"Namespace": "App", "MetricName": "Hits",
                       "Dimensions": [{"Name": "Page", "Value": "home"}]},
            "Period": 60, "Stat": "Sum",
        }}],
        StartTime=when - dt.timedelta(minutes=5), EndTime=when + dt.timedelta(minutes=5),
    ))  # fmt: skip
    run("alarm", lambda: c.put_metric_alarm(
        AlarmName="hot", Namespace="App", MetricName="Hits", Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=10.0, ComparisonOperator="GreaterThanThreshold",
        Tags=[{"Key": "a", "Value": "1"}],
    ))  # fmt: skip
    run("alarms", c.describe_alarms)
    run("alarms for metric", lambda: c.describe_alarms_for_metric(
        Namespace="App", MetricName="Hits"
    ))  # fmt: skip
    run("set state", lambda: c.set_alarm_state(
        AlarmName="hot", StateValue="ALARM", StateReason="test"
    ))  # fmt: skip
    run("history", lambda: c.describe_alarm_history(AlarmName="hot"))
    arn = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:hot"
    run("tags", lambda: c.list_tags_for_resource(ResourceARN=arn))
    run("untag", lambda: c.untag_resource(ResourceARN=arn, TagKeys=["a"]))
    run("tags empty", lambda: c.list_tags_for_resource(ResourceARN=arn))
    run("set state missing", lambda: c.set_alarm_state(
        AlarmName="cold", StateValue="ALARM", StateReason="test"
    ))  # fmt: skip
    run("bad alarm", lambda: c.put_metric_alarm(
        AlarmName="x", EvaluationPeriods=1, ComparisonOperator="GreaterThanThreshold"
    ))  # fmt: skip
    run("delete", lambda: c.delete_alarms(AlarmNames=["hot"]))
    run("alarms gone", lambda: c.describe_alarms(AlarmNames=["hot"]))


def logs_calls(c: Any, run: Recorder) -> None:
    run("groups empty", c.describe_log_groups)
    run("create", lambda: c.create_log_group(logGroupName="/app", tags={"a": "1"}))
    run("create again", lambda: c.create_log_group(logGroupName="/app"))
    run("groups", c.describe_log_groups)
    run("streams empty", lambda: c.describe_log_streams(logGroupName="/app"))
    run("create stream", lambda: c.create_log_stream(logGroupName="/app", logStreamName="s"))
    run("put", lambda: c.put_log_events(
        logGroupName="/app", logStreamName="s",
        logEvents=[{"timestamp": int(MANUAL_START * 1000), "message": "hello"}],
    ))  # fmt: skip
    run("streams", lambda: c.describe_log_streams(logGroupName="/app"))
    run("get", lambda: c.get_log_events(logGroupName="/app", logStreamName="s"))
    run("filter", lambda: c.filter_log_events(logGroupName="/app", filterPattern="hello"))
    run("retention", lambda: c.put_retention_policy(logGroupName="/app", retentionInDays=7))
    arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/app"
    run("tags", lambda: c.list_tags_for_resource(resourceArn=arn))
    run("tag", lambda: c.tag_resource(resourceArn=arn, tags={"b": "2"}))
    run("untag", lambda: c.untag_resource(resourceArn=arn, tagKeys=["a", "b"]))
    run("tags empty", lambda: c.list_tags_for_resource(resourceArn=arn))
    run("get missing", lambda: c.get_log_events(logGroupName="/app", logStreamName="nope"))
    run("delete stream", lambda: c.delete_log_stream(logGroupName="/app", logStreamName="s"))
    run("delete", lambda: c.delete_log_group(logGroupName="/app"))
    run("delete missing", lambda: c.delete_log_group(logGroupName="/app"))


TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
})  # fmt: skip
POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
})  # fmt: skip


def iam_calls(c: Any, run: Recorder) -> None:
    run("roles empty", c.list_roles)
    run("create role", lambda: c.create_role(
        RoleName="r", AssumeRolePolicyDocument=TRUST, Tags=[{"Key": "a", "Value": "1"}]
    ))  # fmt: skip
    run("create role again", lambda: c.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST))
    run("roles", c.list_roles)
    run("get role", lambda: c.get_role(RoleName="r"))
    run("get role missing", lambda: c.get_role(RoleName="nope"))
    run("inline policies empty", lambda: c.list_role_policies(RoleName="r"))
    run("put inline", lambda: c.put_role_policy(
        RoleName="r", PolicyName="p", PolicyDocument=POLICY
    ))  # fmt: skip
    run("get inline", lambda: c.get_role_policy(RoleName="r", PolicyName="p"))
    policy = run("create policy", lambda: c.create_policy(PolicyName="mp", PolicyDocument=POLICY))
    policy_arn = policy["Policy"]["Arn"]
    run("attach", lambda: c.attach_role_policy(RoleName="r", PolicyArn=policy_arn))
    run("attached", lambda: c.list_attached_role_policies(RoleName="r"))
    run("policy version", lambda: c.get_policy_version(PolicyArn=policy_arn, VersionId="v1"))
    run("tag", lambda: c.tag_role(RoleName="r", Tags=[{"Key": "b", "Value": "2"}]))
    run("tags", lambda: c.list_role_tags(RoleName="r"))
    run("untag", lambda: c.untag_role(RoleName="r", TagKeys=["a", "b"]))
    run("tags empty", lambda: c.list_role_tags(RoleName="r"))
    run("update role", lambda: c.update_role(RoleName="r", Description="d"))
    run("users empty", c.list_users)
    run("create user", lambda: c.create_user(UserName="u"))
    run("access key", lambda: c.create_access_key(UserName="u"))
    run("delete role attached", lambda: c.delete_role(RoleName="r"))
    run("detach", lambda: c.detach_role_policy(RoleName="r", PolicyArn=policy_arn))
    run("delete inline", lambda: c.delete_role_policy(RoleName="r", PolicyName="p"))
    run("delete role", lambda: c.delete_role(RoleName="r"))


def sts_calls(c: Any, run: Recorder) -> None:
    run("identity", c.get_caller_identity)
    run("assume", lambda: c.assume_role(
        RoleArn=ROLE, RoleSessionName="session", DurationSeconds=900
    ))  # fmt: skip
    run("assume bad", lambda: c.assume_role(
        RoleArn="not-an-arn-at-all-really", RoleSessionName="session"
    ))  # fmt: skip
    run("session token", c.get_session_token)


def ssm_calls(c: Any, run: Recorder) -> None:
    run("describe empty", c.describe_parameters)
    run("put", lambda: c.put_parameter(Name="/app/a", Value="1", Type="String"))
    run("put again", lambda: c.put_parameter(Name="/app/a", Value="2", Type="String"))
    run("overwrite", lambda: c.put_parameter(Name="/app/a", Value="2", Overwrite=True))
    run("put secure", lambda: c.put_parameter(Name="/app/s", Value="x", Type="SecureString"))
    run("get", lambda: c.get_parameter(Name="/app/a"))
    run("get decrypted", lambda: c.get_parameter(Name="/app/s", WithDecryption=True))
    run("get missing", lambda: c.get_parameter(Name="/nope"))
    run("get many", lambda: c.get_parameters(Names=["/app/a", "/nope"]))
    run("by path", lambda: c.get_parameters_by_path(Path="/app"))
    run("by path empty", lambda: c.get_parameters_by_path(Path="/other"))
    run("describe", c.describe_parameters)
    run("history", lambda: c.get_parameter_history(Name="/app/a"))
    run("tag", lambda: c.add_tags_to_resource(
        ResourceType="Parameter", ResourceId="/app/a", Tags=[{"Key": "a", "Value": "1"}]
    ))  # fmt: skip
    run("tags", lambda: c.list_tags_for_resource(ResourceType="Parameter", ResourceId="/app/a"))
    run("untag", lambda: c.remove_tags_from_resource(
        ResourceType="Parameter", ResourceId="/app/a", TagKeys=["a"]
    ))  # fmt: skip
    run("tags empty", lambda: c.list_tags_for_resource(
        ResourceType="Parameter", ResourceId="/app/a"
    ))  # fmt: skip
    run("delete", lambda: c.delete_parameter(Name="/app/a"))
    run("delete many", lambda: c.delete_parameters(Names=["/app/s", "/nope"]))
    run("delete missing", lambda: c.delete_parameter(Name="/app/a"))


def events_calls(c: Any, run: Recorder) -> None:
    queue = f"arn:aws:sqs:us-east-1:{ACCOUNT}:nowhere"
    run("buses", c.list_event_buses)
    run("default bus", c.describe_event_bus)
    run("create bus", lambda: c.create_event_bus(Name="shop", Description="d"))
    run("create bus again", lambda: c.create_event_bus(Name="shop"))
    run("bad bus", lambda: c.create_event_bus(Name="a/b"))
    run("put rule", lambda: c.put_rule(
        Name="r", EventPattern='{"source": ["s"]}', Tags=[{"Key": "a", "Value": "1"}]
    ))  # fmt: skip
    run("put rule on bus", lambda: c.put_rule(
        Name="r", EventPattern='{"source": ["s"]}', EventBusName="shop"
    ))  # fmt: skip
    run("schedule", lambda: c.put_rule(Name="tick", ScheduleExpression="cron(0 12 * * ? *)"))
    run("bad schedule", lambda: c.put_rule(Name="x", ScheduleExpression="rate(1 minutes)"))
    run("bad pattern", lambda: c.put_rule(Name="x", EventPattern='{"source": "s"}'))
    run("neither", lambda: c.put_rule(Name="x"))
    run("describe", lambda: c.describe_rule(Name="r"))
    run("describe on bus", lambda: c.describe_rule(Name="r", EventBusName="shop"))
    run("describe missing", lambda: c.describe_rule(Name="nope"))
    run("rules", lambda: c.list_rules(Limit=1))
    run("disable", lambda: c.disable_rule(Name="r"))
    run("enable missing", lambda: c.enable_rule(Name="nope"))
    run("targets", lambda: c.put_targets(
        Rule="r", Targets=[{"Id": "t", "Arn": queue, "InputTransformer": {
            "InputPathsMap": {"a": "$.detail.a"}, "InputTemplate": '{"a": <a>}'
        }}]
    ))  # fmt: skip
    run("bad target", lambda: c.put_targets(Rule="r", Targets=[{"Id": "t", "Arn": "x"}]))
    run("list targets", lambda: c.list_targets_by_rule(Rule="r"))
    run("by target", lambda: c.list_rule_names_by_target(TargetArn=queue))
    run("delete with targets", lambda: c.delete_rule(Name="r"))
    run("put events", lambda: c.put_events(Entries=[
        {"Source": "s", "DetailType": "t", "Detail": "{}"},
        {"Source": "s", "DetailType": "t", "Detail": "[]"},
        {"DetailType": "t", "Detail": "{}"},
    ]))  # fmt: skip
    event = json.dumps({
        "id": "1", "account": ACCOUNT, "source": "s", "time": "2026-01-01T00:00:00Z",
        "region": "us-east-1", "detail-type": "t", "detail": {},
    })  # fmt: skip
    run("test pattern", lambda: c.test_event_pattern(
        EventPattern='{"source": ["s"]}', Event=event
    ))  # fmt: skip
    run("test bad event", lambda: c.test_event_pattern(EventPattern='{"a": [1]}', Event="{}"))
    arn = f"arn:aws:events:us-east-1:{ACCOUNT}:rule/r"
    run("tag", lambda: c.tag_resource(ResourceARN=arn, Tags=[{"Key": "b", "Value": "2"}]))
    run("tags", lambda: c.list_tags_for_resource(ResourceARN=arn))
    run("untag", lambda: c.untag_resource(ResourceARN=arn, TagKeys=["a"]))
    run("remove targets", lambda: c.remove_targets(Rule="r", Ids=["t"]))
    run("delete", lambda: c.delete_rule(Name="r"))
    run("delete again", lambda: c.delete_rule(Name="r"))
    run("delete default bus", lambda: c.delete_event_bus(Name="default"))
    run("delete bus", lambda: c.delete_event_bus(Name="shop"))


def cognito_idp_calls(c: Any, run: Recorder) -> None:
    pool = run("create pool", lambda: c.create_user_pool(
        PoolName="users", AutoVerifiedAttributes=["email"],
        Schema=[{"Name": "tenant", "AttributeDataType": "String"}],
    ))  # fmt: skip
    pool_id = pool["UserPool"]["Id"]
    run("describe pool", lambda: c.describe_user_pool(UserPoolId=pool_id))
    run("describe missing", lambda: c.describe_user_pool(UserPoolId="us-east-1_nosuchpoo"))
    run("pools", lambda: c.list_user_pools(MaxResults=5))
    client = run("create client", lambda: c.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    ))  # fmt: skip
    client_id = client["UserPoolClient"]["ClientId"]
    run("clients", lambda: c.list_user_pool_clients(UserPoolId=pool_id))
    run("sign up", lambda: c.sign_up(
        ClientId=client_id, Username="ann", Password="Passw0rd!",
        UserAttributes=[{"Name": "email", "Value": "ann@example.com"}],
    ))  # fmt: skip
    run("sign up again", lambda: c.sign_up(ClientId=client_id, Username="ann", Password="x"))
    run("weak password", lambda: c.sign_up(ClientId=client_id, Username="bo", Password="short1"))
    run("unconfirmed", lambda: c.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ann", "PASSWORD": "Passw0rd!"},
    ))  # fmt: skip
    run("confirm", lambda: c.admin_confirm_sign_up(UserPoolId=pool_id, Username="ann"))
    run("group", lambda: c.create_group(UserPoolId=pool_id, GroupName="admins", Precedence=1))
    run("join", lambda: c.admin_add_user_to_group(
        UserPoolId=pool_id, Username="ann", GroupName="admins"
    ))  # fmt: skip
    run("groups of user", lambda: c.admin_list_groups_for_user(UserPoolId=pool_id, Username="ann"))
    signed = run("sign in", lambda: c.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ann", "PASSWORD": "Passw0rd!"},
    ))  # fmt: skip
    access = signed["AuthenticationResult"]["AccessToken"]
    run("get user", lambda: c.get_user(AccessToken=access))
    run("admin get user", lambda: c.admin_get_user(UserPoolId=pool_id, Username="ann"))
    run("users", lambda: c.list_users(UserPoolId=pool_id, Filter='username = "ann"'))
    run("bad filter", lambda: c.list_users(UserPoolId=pool_id, Filter="username"))
    run("wrong password", lambda: c.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ann", "PASSWORD": "Wrong-pass1"},
    ))  # fmt: skip
    run("created user", lambda: c.admin_create_user(
        UserPoolId=pool_id, Username="carl", TemporaryPassword="Temp-pass1",
        MessageAction="SUPPRESS",
    ))  # fmt: skip
    run("sign out", lambda: c.global_sign_out(AccessToken=access))
    run("revoked", lambda: c.get_user(AccessToken=access))
    run("delete user", lambda: c.admin_delete_user(UserPoolId=pool_id, Username="carl"))
    run("delete pool", lambda: c.delete_user_pool(UserPoolId=pool_id))


def ses_calls(c: Any, run: Recorder) -> None:
    message = {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}
    to = {"ToAddresses": ["a@x.com"]}
    run("send unverified", lambda: c.send_email(Source="me@x.com", Destination=to, Message=message))
    run("verify", lambda: c.verify_email_identity(EmailAddress="me@x.com"))
    # DKIM and verification tokens are random: their count is compared
    run("verify domain", lambda: len(c.verify_domain_dkim(Domain="x.org")["DkimTokens"]))
    run("attributes", lambda: c.get_identity_verification_attributes(Identities=["me@x.com"]))
    run("send", lambda: c.send_email(Source="me@x.com", Destination=to, Message=message))
    run("template", lambda: c.create_template(
        Template={"TemplateName": "t", "SubjectPart": "Hi {{n}}", "TextPart": "{{n}}"}
    ))  # fmt: skip
    run("template again", lambda: c.create_template(Template={"TemplateName": "t"}))
    run("get template", lambda: c.get_template(TemplateName="t"))
    run("get missing template", lambda: c.get_template(TemplateName="nope"))
    run("render", lambda: c.test_render_template(TemplateName="t", TemplateData='{"n": 1}'))
    run("render missing", lambda: c.test_render_template(TemplateName="t", TemplateData="{}"))
    run("bulk", lambda: c.send_bulk_templated_email(
        Source="me@x.com", Template="t", DefaultTemplateData='{"n": 2}',
        Destinations=[{"Destination": to}, {"Destination": {"CcAddresses": ["b@x.com"]}}],
    ))  # fmt: skip
    run("config set", lambda: c.create_configuration_set(ConfigurationSet={"Name": "c"}))
    run("describe config set", lambda: c.describe_configuration_set(ConfigurationSetName="c"))
    run("quota", c.get_send_quota)
    run("delete identity", lambda: c.delete_identity(Identity="me@x.com"))


def sesv2_calls(c: Any, run: Recorder) -> None:
    simple = {"Simple": {"Subject": {"Data": "s"}, "Body": {"Html": {"Data": "<p/>"}}}}
    to = {"ToAddresses": ["a@x.com"]}
    # DKIM tokens are random: the identity's other members are compared
    run("create identity", lambda: c.create_email_identity(EmailIdentity="x.org")["IdentityType"])
    run("create again", lambda: c.create_email_identity(EmailIdentity="x.org"))
    run("get identity", lambda: {
        k: v for k, v in c.get_email_identity(EmailIdentity="x.org").items()
        if k != "DkimAttributes"
    })  # fmt: skip
    run("get missing", lambda: c.get_email_identity(EmailIdentity="y.org"))
    run("send", lambda: c.send_email(FromEmailAddress="me@x.org", Destination=to, Content=simple))
    run("send unverified", lambda: c.send_email(
        FromEmailAddress="me@y.org", Destination=to, Content=simple
    ))  # fmt: skip
    run("template", lambda: c.create_email_template(
        TemplateName="t", TemplateContent={"Subject": "Hi {{n}}", "Text": "{{#if n}}x{{/if}}"}
    ))  # fmt: skip
    run("render", lambda: c.test_render_email_template(TemplateName="t", TemplateData="{}"))
    run("templates", c.list_email_templates)
    run("tag", lambda: c.tag_resource(
        ResourceArn=f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/x.org",
        Tags=[{"Key": "k", "Value": "v"}],
    ))  # fmt: skip
    run("account", c.get_account)
    run("delete identity", lambda: c.delete_email_identity(EmailIdentity="x.org"))


def kms_calls(c: Any, run: Recorder) -> None:
    key = run("create", lambda: c.create_key(Description="d", Tags=[
        {"TagKey": "a", "TagValue": "1"}
    ]))["KeyMetadata"]["KeyId"]  # fmt: skip
    run("create hmac", lambda: c.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC"))
    run(
        "create bad usage",
        lambda: c.create_key(KeySpec="ECC_NIST_P256", KeyUsage="ENCRYPT_DECRYPT"),
    )
    run("describe", lambda: c.describe_key(KeyId=key))
    run("describe missing", lambda: c.describe_key(KeyId="alias/none"))
    run("alias", lambda: c.create_alias(AliasName="alias/a", TargetKeyId=key))
    run("alias again", lambda: c.create_alias(AliasName="alias/a", TargetKeyId=key))
    blob = c.encrypt(KeyId="alias/a", Plaintext=b"p", EncryptionContext={"k": "v"})
    run("decrypt", lambda: c.decrypt(CiphertextBlob=blob["CiphertextBlob"], EncryptionContext={
        "k": "v"
    }))  # fmt: skip
    run("decrypt wrong context", lambda: c.decrypt(CiphertextBlob=blob["CiphertextBlob"]))
    run("random", lambda: len(c.generate_random(NumberOfBytes=8)["Plaintext"]))
    run("policy", lambda: c.get_key_policy(KeyId=key, PolicyName="default"))
    run("rotation", lambda: c.enable_key_rotation(KeyId=key))
    run("rotation status", lambda: c.get_key_rotation_status(KeyId=key))
    run("tags", lambda: c.list_resource_tags(KeyId=key))
    run("disable", lambda: c.disable_key(KeyId=key))
    run("encrypt disabled", lambda: c.encrypt(KeyId=key, Plaintext=b"p"))
    run("schedule", lambda: c.schedule_key_deletion(KeyId=key, PendingWindowInDays=7))
    run("encrypt pending", lambda: c.encrypt(KeyId=key, Plaintext=b"p"))
    run("aliases", c.list_aliases)
    run("managed", lambda: c.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["KeyManager"])


def secretsmanager_calls(c: Any, run: Recorder) -> None:
    token = "0123456789abcdef0123456789abcdef"
    run("list empty", c.list_secrets)
    run("create", lambda: c.create_secret(
        Name="app/db", SecretString='{"u":"a"}', Description="d", ClientRequestToken=token,
        Tags=[{"Key": "a", "Value": "1"}],
    ))  # fmt: skip
    run("create again", lambda: c.create_secret(Name="app/db", SecretString="x"))
    run("create same token", lambda: c.create_secret(
        Name="app/db", SecretString='{"u":"a"}', ClientRequestToken=token
    ))  # fmt: skip
    # Versions are given their ids: VersionIdsToStages has them as keys, which are not masked.
    run("create binary", lambda: c.create_secret(
        Name="bin", SecretBinary=b"\x00\x01", ClientRequestToken="b" * 32
    ))  # fmt: skip
    run("create bad name", lambda: c.create_secret(Name="bad name", SecretString="x"))
    run("get", lambda: c.get_secret_value(SecretId="app/db"))
    run("get binary", lambda: c.get_secret_value(SecretId="bin"))
    run("get missing", lambda: c.get_secret_value(SecretId="nope"))
    run("get stage missing", lambda: c.get_secret_value(SecretId="app/db", VersionStage="X"))
    run("put", lambda: c.put_secret_value(
        SecretId="app/db", SecretString="two", ClientRequestToken="c" * 32
    ))  # fmt: skip
    run("put pending", lambda: c.put_secret_value(
        SecretId="app/db", SecretString="three", VersionStages=["AWSPENDING"],
        ClientRequestToken="d" * 32,
    ))  # fmt: skip
    run("previous", lambda: c.get_secret_value(SecretId="app/db", VersionStage="AWSPREVIOUS"))
    run("update", lambda: c.update_secret(SecretId="app/db", Description="new"))
    run("describe", lambda: c.describe_secret(SecretId="app/db"))
    run("versions", lambda: c.list_secret_version_ids(SecretId="app/db"))
    run("move current bad", lambda: c.update_secret_version_stage(
        SecretId="app/db", VersionStage="AWSCURRENT", MoveToVersionId=token
    ))  # fmt: skip
    run("list", c.list_secrets)
    run("list filtered", lambda: c.list_secrets(Filters=[{"Key": "name", "Values": ["app"]}]))
    run("batch", lambda: c.batch_get_secret_value(SecretIdList=["app/db", "nope"]))
    run("tag", lambda: c.tag_resource(SecretId="app/db", Tags=[{"Key": "b", "Value": "2"}]))
    run("untag", lambda: c.untag_resource(SecretId="app/db", TagKeys=["a"]))
    run("policy", lambda: c.put_resource_policy(
        SecretId="app/db", ResourcePolicy='{"Version":"2012-10-17","Statement":[]}'
    ))  # fmt: skip
    run("get policy", lambda: c.get_resource_policy(SecretId="app/db"))
    run("bad policy", lambda: c.validate_resource_policy(ResourcePolicy="{"))
    run("password", lambda: c.get_random_password(PasswordLength=10))
    run("rotate without function", lambda: c.rotate_secret(SecretId="app/db"))
    run("delete bad window", lambda: c.delete_secret(SecretId="app/db", RecoveryWindowInDays=1))
    run("delete", lambda: c.delete_secret(SecretId="app/db", RecoveryWindowInDays=7))
    run("get deleted", lambda: c.get_secret_value(SecretId="app/db"))
    run("list planned", lambda: c.list_secrets(IncludePlannedDeletion=True))
    run("restore", lambda: c.restore_secret(SecretId="app/db"))
    run("force delete", lambda: c.delete_secret(SecretId="bin", ForceDeleteWithoutRecovery=True))
    run("describe gone", lambda: c.describe_secret(SecretId="bin"))


TEMPLATE = json.dumps({
    "Parameters": {"Name": {"Type": "String", "Default": "q"}},
    "Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "Name"}}},
    },
    "Outputs": {"Url": {"Value": {"Ref": "Queue"}}},
})  # fmt: skip


def cloudformation_calls(c: Any, run: Recorder) -> None:
    run("stacks empty", c.list_stacks)
    run("describe empty", c.describe_stacks)
    run("validate", lambda: c.validate_template(TemplateBody=TEMPLATE))
    run("validate bad", lambda: c.validate_template(TemplateBody="{"))
    run("create", lambda: c.create_stack(
        StackName="st", TemplateBody=TEMPLATE, Tags=[{"Key": "a", "Value": "1"}]
    ))  # fmt: skip
    run("create again", lambda: c.create_stack(StackName="st", TemplateBody=TEMPLATE))
    run("describe", lambda: c.describe_stacks(StackName="st"))
    run("resources", lambda: c.list_stack_resources(StackName="st"))
    run("describe resources", lambda: c.describe_stack_resources(StackName="st"))
    run("resource", lambda: c.describe_stack_resource(StackName="st", LogicalResourceId="Queue"))
    run("template", lambda: c.get_template(StackName="st"))
    run("summary", lambda: c.get_template_summary(StackName="st"))
    run("stacks", c.list_stacks)
    run("update", lambda: c.update_stack(
        StackName="st", TemplateBody=TEMPLATE,
        Parameters=[{"ParameterKey": "Name", "ParameterValue": "q2"}],
    ))  # fmt: skip
    run("no update", lambda: c.update_stack(
        StackName="st", TemplateBody=TEMPLATE,
        Parameters=[{"ParameterKey": "Name", "UsePreviousValue": True}],
    ))  # fmt: skip
    run("exports empty", c.list_exports)
    run("delete", lambda: c.delete_stack(StackName="st"))
    run("describe deleted", lambda: c.describe_stacks(StackName="st"))


# ------------------------------------------------------------------ more of each service


def sqs_more_calls(c: Any, run: Recorder) -> None:
    run("list prefix none", lambda: c.list_queues(QueueNamePrefix="zzz"))
    fifo = run("create fifo 2", lambda: c.create_queue(
        QueueName="f2.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    ))["QueueUrl"]  # fmt: skip
    run("send fifo", lambda: c.send_message(
        QueueUrl=fifo, MessageBody="\u00e9t\u00e9 \U0001f600", MessageGroupId="g",
        MessageAttributes={"s": {"DataType": "String.custom", "StringValue": "caf\u00e9"}},
    ))  # fmt: skip
    run("send batch failing", lambda: c.send_message_batch(
        QueueUrl=fifo,
        Entries=[{"Id": "ok", "MessageBody": "x", "MessageGroupId": "g"},
                 {"Id": "bad", "MessageBody": "y"}],
    ))  # fmt: skip
    run("send batch duplicate ids", lambda: c.send_message_batch(
        QueueUrl=fifo,
        Entries=[{"Id": "a", "MessageBody": "x", "MessageGroupId": "g"},
                 {"Id": "a", "MessageBody": "y", "MessageGroupId": "g"}],
    ))  # fmt: skip
    got = run("receive fifo", lambda: c.receive_message(
        QueueUrl=fifo, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
        MessageSystemAttributeNames=["SequenceNumber", "MessageGroupId"],
        ReceiveRequestAttemptId="attempt",
    ))  # fmt: skip
    handles = [m["ReceiptHandle"] for m in got.get("Messages", [])]
    run("visibility batch", lambda: c.change_message_visibility_batch(
        QueueUrl=fifo,
        Entries=[{"Id": "1", "ReceiptHandle": handles[0], "VisibilityTimeout": 0},
                 {"Id": "2", "ReceiptHandle": "nonsense", "VisibilityTimeout": 0}],
    ))  # fmt: skip
    run("attributes some", lambda: c.get_queue_attributes(
        QueueUrl=fifo, AttributeNames=["FifoQueue", "ApproximateNumberOfMessages"]
    ))  # fmt: skip
    run("attributes none", lambda: c.get_queue_attributes(QueueUrl=fifo))
    run("bad receipt", lambda: c.delete_message(QueueUrl=fifo, ReceiptHandle="nonsense"))
    run("bad attribute name", lambda: c.get_queue_attributes(
        QueueUrl=fifo, AttributeNames=["Nope"]
    ))  # fmt: skip
    run("create mismatch", lambda: c.create_queue(
        QueueName="f2.fifo", Attributes={"FifoQueue": "true", "VisibilityTimeout": "5"}
    ))  # fmt: skip
    run("receive wait", lambda: c.receive_message(QueueUrl=fifo, WaitTimeSeconds=0))
    run("cancel move missing", lambda: c.cancel_message_move_task(TaskHandle="nonsense"))
    run("list move tasks", lambda: c.list_message_move_tasks(
        SourceArn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:f2.fifo"
    ))  # fmt: skip


def kinesis_more_calls(c: Any, run: Recorder) -> None:
    run("create on demand", lambda: c.create_stream(
        StreamName="od", StreamModeDetails={"StreamMode": "ON_DEMAND"}
    ))  # fmt: skip
    run("summary od", lambda: c.describe_stream_summary(StreamName="od"))
    run("limits", c.describe_limits)
    run("put records partial", lambda: c.put_records(
        StreamName="od",
        Records=[{"Data": b"", "PartitionKey": "k"}, {"Data": b"\xff", "PartitionKey": "k"}],
    ))  # fmt: skip
    shard = c.list_shards(StreamName="od")["Shards"][0]["ShardId"]
    iterator = c.get_shard_iterator(StreamName="od", ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    run("records none", lambda: c.get_records(ShardIterator=iterator, Limit=1))
    run("iterator at", lambda: c.get_shard_iterator(
        StreamName="od", ShardId=shard, ShardIteratorType="AT_TIMESTAMP",
        Timestamp=dt.datetime.fromtimestamp(MANUAL_START, dt.UTC),
    ))  # fmt: skip
    run("iterator bad shard", lambda: c.get_shard_iterator(
        StreamName="od", ShardId="shardId-000000000099", ShardIteratorType="LATEST"
    ))  # fmt: skip
    run("shards filtered", lambda: c.list_shards(
        StreamName="od", ShardFilter={"Type": "AT_LATEST"}, MaxResults=1
    ))  # fmt: skip
    run("monitoring", lambda: c.enable_enhanced_monitoring(
        StreamName="od", ShardLevelMetrics=["IncomingBytes"]
    ))  # fmt: skip
    run("mode", lambda: c.update_stream_mode(
        StreamARN=f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/od",
        StreamModeDetails={"StreamMode": "PROVISIONED"},
    ))  # fmt: skip
    run("encryption", lambda: c.start_stream_encryption(
        StreamName="od", EncryptionType="KMS", KeyId="alias/aws/kinesis"
    ))  # fmt: skip
    run("resource tags", lambda: c.list_tags_for_resource(
        ResourceARN=f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/od"
    ))  # fmt: skip
    run("long partition key", lambda: c.put_record(
        StreamName="od", Data=b"x", PartitionKey="k" * 257
    ))  # fmt: skip


def dynamodb_more_calls(c: Any, run: Recorder) -> None:
    run("create gsi", lambda: c.create_table(
        TableName="idx",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "B"},
                              {"AttributeName": "g", "AttributeType": "N"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        GlobalSecondaryIndexes=[{
            "IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        }],
    ))  # fmt: skip
    run("describe gsi", lambda: c.describe_table(TableName="idx"))
    run("put big number", lambda: c.put_item(TableName="idx", Item={
        "pk": {"B": b"\x00"}, "g": {"N": "12345678901234567890123456789012345678"},
        "ns": {"NS": ["1", "0.5", "-3e10"]}, "e": {"S": "\u00e9\U0001f600"},
    }, ReturnConsumedCapacity="INDEXES"))  # fmt: skip
    run("query index", lambda: c.query(
        TableName="idx", IndexName="byG", KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"N": "12345678901234567890123456789012345678"}},
        ReturnConsumedCapacity="TOTAL",
    ))  # fmt: skip
    run("scan count", lambda: c.scan(TableName="idx", Select="COUNT"))
    run("scan paged", lambda: c.scan(TableName="idx", Limit=1))
    run("update old", lambda: c.update_item(
        TableName="idx", Key={"pk": {"B": b"\x00"}}, UpdateExpression="REMOVE e",
        ReturnValues="UPDATED_OLD",
    ))  # fmt: skip
    run("update none", lambda: c.update_item(
        TableName="idx", Key={"pk": {"B": b"\x01"}}, UpdateExpression="SET x = :x",
        ExpressionAttributeValues={":x": {"BS": [b"a"]}},
    ))  # fmt: skip
    run("bad expression", lambda: c.update_item(
        TableName="idx", Key={"pk": {"B": b"\x00"}}, UpdateExpression="SET",
    ))  # fmt: skip
    run("empty set", lambda: c.put_item(
        TableName="idx", Item={"pk": {"B": b"\x02"}, "s": {"SS": []}}
    ))  # fmt: skip
    run("transact cancel", lambda: c.transact_write_items(TransactItems=[
        {"Put": {"TableName": "idx", "Item": {"pk": {"B": b"\x00"}},
                 "ConditionExpression": "attribute_not_exists(pk)",
                 "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
    ]))  # fmt: skip
    run("batch write unknown table", lambda: c.batch_write_item(RequestItems={"nope": [
        {"PutRequest": {"Item": {"pk": {"S": "b"}}}},
    ]}))  # fmt: skip
    run("partiql insert", lambda: c.execute_statement(
        Statement="INSERT INTO idx VALUE {'pk': ?, 'g': 1}", Parameters=[{"B": b"\x09"}]
    ))  # fmt: skip
    run("partiql batch", lambda: c.batch_execute_statement(Statements=[
        {"Statement": "SELECT * FROM idx WHERE pk = ?", "Parameters": [{"B": b"\x09"}]},
        {"Statement": "SELECT * FROM nope WHERE pk = 'x'"},
    ]))  # fmt: skip
    run("partiql error", lambda: c.execute_statement(Statement="SELEC * FROM idx"))
    run("backups", lambda: c.describe_continuous_backups(TableName="idx"))
    run("limits", c.describe_limits)
    run("endpoints", c.describe_endpoints)
    run("list limited", lambda: c.list_tables(Limit=1))
    run("kinesis destinations", lambda: c.describe_kinesis_streaming_destination(
        TableName="idx"
    ))  # fmt: skip


def lambda_more_calls(c: Any, run: Recorder, hw: Headwater) -> None:
    code = zip_bytes({"app.py": (
        "def handler(event, context):\n    print('hi')\n    return event\n"
        "def fail(event, context):\n    raise ValueError('no')\n"
    )})  # fmt: skip
    run("create 2", lambda: c.create_function(
        FunctionName="fn2", Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": code},
    ))  # fmt: skip
    run("invoke tail", lambda: c.invoke(FunctionName="fn2", Payload=b'"x"', LogType="None"))
    run("update handler", lambda: c.update_function_configuration(
        FunctionName="fn2", Handler="app.fail"
    ))  # fmt: skip
    run("invoke error", lambda: c.invoke(FunctionName="fn2", Payload=b"{}"))
    run("invoke bad json", lambda: c.invoke(FunctionName="fn2", Payload=b"{"))
    run("invoke missing", lambda: c.invoke(FunctionName="nope", Payload=b"{}"))
    run("url config missing", lambda: c.get_function_url_config(FunctionName="fn2"))
    run("url", lambda: c.create_function_url_config(FunctionName="fn2", AuthType="NONE"))
    run("url config", lambda: c.get_function_url_config(FunctionName="fn2"))
    run("layers empty", c.list_layers)
    run("layer", lambda: c.publish_layer_version(
        LayerName="lib", Content={"ZipFile": code}, CompatibleRuntimes=["python3.12"]
    ))  # fmt: skip
    run("layer versions", lambda: c.list_layer_versions(LayerName="lib"))
    run("layer version", lambda: c.get_layer_version(LayerName="lib", VersionNumber=1))
    run("layer version policy", lambda: c.get_layer_version_policy(
        LayerName="lib", VersionNumber=1
    ))  # fmt: skip
    run("layer permission", lambda: c.add_layer_version_permission(
        LayerName="lib", VersionNumber=1, StatementId="s", Action="lambda:GetLayerVersion",
        Principal="*",
    ))  # fmt: skip
    run("remove layer permission", lambda: c.remove_layer_version_permission(
        LayerName="lib", VersionNumber=1, StatementId="s"
    ))  # fmt: skip
    run("layer version missing", lambda: c.get_layer_version(LayerName="lib", VersionNumber=9))
    run("delete layer version", lambda: c.delete_layer_version(LayerName="lib", VersionNumber=1))
    queue = hw.client("sqs").create_queue(QueueName="src")["QueueUrl"]
    assert queue
    mapping = run("mapping", lambda: c.create_event_source_mapping(
        FunctionName="fn2", EventSourceArn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:src",
        BatchSize=5, Enabled=False,
    ))  # fmt: skip
    run("mappings", c.list_event_source_mappings)
    run("get mapping", lambda: c.get_event_source_mapping(UUID=mapping["UUID"]))
    run("get mapping missing", lambda: c.get_event_source_mapping(
        UUID="00000000-0000-0000-0000-000000000000"
    ))  # fmt: skip
    run("update mapping", lambda: c.update_event_source_mapping(
        UUID=mapping["UUID"], BatchSize=7
    ))  # fmt: skip
    run("delete mapping", lambda: c.delete_event_source_mapping(UUID=mapping["UUID"]))
    run("event invoke configs", lambda: c.list_function_event_invoke_configs(
        FunctionName="fn2"
    ))  # fmt: skip
    run("concurrency none", lambda: c.get_function_concurrency(FunctionName="fn2"))
    run("delete concurrency", lambda: c.delete_function_concurrency(FunctionName="fn2"))
    run("policy missing", lambda: c.get_policy(FunctionName="fn2"))
    run("remove permission missing", lambda: c.remove_permission(
        FunctionName="fn2", StatementId="nope"
    ))  # fmt: skip
    run("bad name", lambda: c.get_function(FunctionName="a:b:c:d:e:f:g:h"))
    run("code update", lambda: c.update_function_code(FunctionName="fn2", ZipFile=code))
    run("delete version missing", lambda: c.delete_function(
        FunctionName="fn2", Qualifier="9"
    ))  # fmt: skip


def s3_more_calls(c: Any, run: Recorder) -> None:
    run("create 2", lambda: c.create_bucket(Bucket="more"))
    odd = "dir/sp ace+plus%pct/\u00e9t\u00e9?&=.txt"
    run("put odd key", lambda: c.put_object(
        Bucket="more", Key=odd, Body="text body", Metadata={"Upper-Case": "V"},
        ContentDisposition="inline", CacheControl="no-cache", Expires=dt.datetime(2030, 1, 1),
        StorageClass="STANDARD_IA", Tagging="a=1&b=2",
    ))  # fmt: skip
    run("put empty", lambda: c.put_object(Bucket="more", Key="empty", Body=b""))
    run("get odd", lambda: c.get_object(Bucket="more", Key=odd))
    run("head odd", lambda: c.head_object(Bucket="more", Key=odd))
    run("get overrides", lambda: c.get_object(
        Bucket="more", Key="empty", ResponseContentType="x/y", ResponseCacheControl="z"
    ))  # fmt: skip
    run("get not modified", lambda: c.get_object(
        Bucket="more", Key="empty", IfNoneMatch='"d41d8cd98f00b204e9800998ecf8427e"'
    ))  # fmt: skip
    run("get precondition", lambda: c.get_object(Bucket="more", Key="empty", IfMatch='"x"'))
    run("get bad range", lambda: c.get_object(Bucket="more", Key="empty", Range="bytes=5-9"))
    run("list odd", lambda: c.list_objects_v2(Bucket="more", MaxKeys=1))
    run("list delimited", lambda: c.list_objects_v2(Bucket="more", Delimiter="/"))
    run("list v1 paged", lambda: c.list_objects(Bucket="more", MaxKeys=1, Marker="a"))
    run("list start after", lambda: c.list_objects_v2(Bucket="more", StartAfter="empty"))
    run("list fetch owner", lambda: c.list_objects_v2(Bucket="more", FetchOwner=True))
    run("versions", lambda: c.list_object_versions(Bucket="more"))
    run("attributes", lambda: c.get_object_attributes(
        Bucket="more", Key="empty", ObjectAttributes=["ETag", "ObjectSize", "StorageClass"]
    ))  # fmt: skip
    run("acl", lambda: c.get_bucket_acl(Bucket="more"))
    run("object acl", lambda: c.get_object_acl(Bucket="more", Key="empty"))
    run("policy missing", lambda: c.get_bucket_policy(Bucket="more"))
    run("put policy", lambda: c.put_bucket_policy(Bucket="more", Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": "arn:aws:s3:::more/*"}],
    })))  # fmt: skip
    run("policy", lambda: c.get_bucket_policy(Bucket="more"))
    run("enable versioning", lambda: c.put_bucket_versioning(
        Bucket="more", VersioningConfiguration={"Status": "Enabled"}
    ))  # fmt: skip
    run("versioned put", lambda: c.put_object(Bucket="more", Key="v", Body=b"1"))
    run("versioned delete", lambda: c.delete_object(Bucket="more", Key="v"))
    run("versions 2", lambda: c.list_object_versions(Bucket="more", Prefix="v"))
    run("cors missing", lambda: c.get_bucket_cors(Bucket="more"))
    run("lifecycle missing", lambda: c.get_bucket_lifecycle_configuration(Bucket="more"))
    run("encryption", lambda: c.get_bucket_encryption(Bucket="more"))
    run("notification", lambda: c.put_bucket_notification_configuration(
        Bucket="more", NotificationConfiguration={"QueueConfigurations": [{
            "QueueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:nope", "Events": ["s3:ObjectCreated:*"],
        }]},
    ))  # fmt: skip
    run("copy metadata", lambda: c.copy_object(
        Bucket="more", Key="copied", CopySource={"Bucket": "more", "Key": odd},
        MetadataDirective="REPLACE", Metadata={"x": "y"},
    ))  # fmt: skip
    run("copy missing", lambda: c.copy_object(
        Bucket="more", Key="copied", CopySource={"Bucket": "more", "Key": "nope"}
    ))  # fmt: skip
    run("delete non empty", lambda: c.delete_bucket(Bucket="more"))
    run("abort missing", lambda: c.abort_multipart_upload(
        Bucket="more", Key="x", UploadId="nope"
    ))  # fmt: skip
    run("no bucket", lambda: c.list_objects_v2(Bucket="nobucket"))
    run("no bucket head", lambda: c.head_bucket(Bucket="nobucket"))


def sns_more_calls(c: Any, run: Recorder, hw: Headwater) -> None:
    fifo = run("create fifo", lambda: c.create_topic(
        Name="t.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"}
    ))["TopicArn"]  # fmt: skip
    run("publish fifo", lambda: c.publish(TopicArn=fifo, Message="m", MessageGroupId="g"))
    run("publish fifo no group", lambda: c.publish(TopicArn=fifo, Message="m"))
    run("publish structure", lambda: c.publish(
        TopicArn=fifo, MessageGroupId="g", MessageStructure="json",
        Message=json.dumps({"default": "d", "sqs": "s"}),
    ))  # fmt: skip
    run("bad structure", lambda: c.publish(
        TopicArn=fifo, MessageGroupId="g", MessageStructure="json", Message="{}"
    ))  # fmt: skip
    run("subscribe http", lambda: c.subscribe(
        TopicArn=fifo, Protocol="http", Endpoint="http://127.0.0.1:1/x"
    ))  # fmt: skip
    run("subscriptions fifo", lambda: c.list_subscriptions_by_topic(TopicArn=fifo))
    run("confirm bad", lambda: c.confirm_subscription(TopicArn=fifo, Token="nope"))
    run("subscribe bad protocol", lambda: c.subscribe(
        TopicArn=fifo, Protocol="carrier-pigeon", Endpoint="x"
    ))  # fmt: skip
    run("set subscription attribute missing", lambda: c.set_subscription_attributes(
        SubscriptionArn=fifo + ":00000000-0000-0000-0000-000000000000",
        AttributeName="RawMessageDelivery", AttributeValue="true",
    ))  # fmt: skip
    run("batch errors", lambda: c.publish_batch(TopicArn=fifo, PublishBatchRequestEntries=[
        {"Id": "1", "Message": "a", "MessageGroupId": "g"},
        {"Id": "2", "Message": "b"},
    ]))  # fmt: skip
    run("sms attributes", c.get_sms_attributes)
    run("data protection", lambda: c.get_data_protection_policy(ResourceArn=fifo))
    run("platform applications", c.list_platform_applications)
    run("opted out", c.list_phone_numbers_opted_out)


def cloudwatch_more_calls(c: Any, run: Recorder) -> None:
    when = dt.datetime.fromtimestamp(MANUAL_START, dt.UTC)
    run("put values", lambda: c.put_metric_data(Namespace="App", MetricData=[
        {"MetricName": "Lat", "Values": [1.0, 2.5], "Counts": [1.0, 3.0], "Timestamp": when,
         "StorageResolution": 1},
        {"MetricName": "Lat", "StatisticValues": {
            "SampleCount": 2.0, "Sum": 4.0, "Minimum": 1.0, "Maximum": 3.0}, "Timestamp": when},
    ]))  # fmt: skip
    run("extended", lambda: c.get_metric_statistics(
        Namespace="App", MetricName="Lat", StartTime=when - dt.timedelta(minutes=1),
        EndTime=when + dt.timedelta(minutes=1), Period=60, ExtendedStatistics=["p50"],
    ))  # fmt: skip
    run("data empty", lambda: c.get_metric_data(
        MetricDataQueries=[{"Id": "q", "Expression": "SUM(METRICS())", "Period": 60}],
        StartTime=when - dt.timedelta(minutes=1), EndTime=when + dt.timedelta(minutes=1),
    ))  # fmt: skip
    run("bad data", lambda: c.put_metric_data(Namespace="AWS/x", MetricData=[
        {"MetricName": "m", "Value": 1.0}
    ]))  # fmt: skip
    run("dashboards empty", c.list_dashboards)
    run("put dashboard", lambda: c.put_dashboard(
        DashboardName="d", DashboardBody=json.dumps({"widgets": []})
    ))  # fmt: skip
    run("get dashboard", lambda: c.get_dashboard(DashboardName="d"))
    run("dashboards", c.list_dashboards)
    run("get dashboard missing", lambda: c.get_dashboard(DashboardName="nope"))
    run("composite", lambda: c.put_composite_alarm(
        AlarmName="comp", AlarmRule="ALARM(hot)"
    ))  # fmt: skip
    run("alarms composite", lambda: c.describe_alarms(AlarmTypes=["CompositeAlarm"]))
    run("alarms by state", lambda: c.describe_alarms(StateValue="INSUFFICIENT_DATA"))
    run("disable actions", lambda: c.disable_alarm_actions(AlarmNames=["comp"]))
    run("insight rules", c.describe_insight_rules)
    run("anomaly detectors", c.describe_anomaly_detectors)
    run("metric streams", c.list_metric_streams)


def logs_more_calls(c: Any, run: Recorder) -> None:
    run("create 2", lambda: c.create_log_group(logGroupName="/more"))
    run("create stream 2", lambda: c.create_log_stream(logGroupName="/more", logStreamName="s"))
    start = int(MANUAL_START * 1000)
    run("put many", lambda: c.put_log_events(
        logGroupName="/more", logStreamName="s",
        logEvents=[{"timestamp": start + i, "message": f"line {i} \u00e9"} for i in range(3)],
    ))  # fmt: skip
    run("put out of order", lambda: c.put_log_events(
        logGroupName="/more", logStreamName="s",
        logEvents=[{"timestamp": start + 5, "message": "b"}, {"timestamp": start, "message": "a"}],
    ))  # fmt: skip
    run("put too old", lambda: c.put_log_events(
        logGroupName="/more", logStreamName="s",
        logEvents=[{"timestamp": 1000, "message": "ancient"}],
    ))  # fmt: skip
    run("get head", lambda: c.get_log_events(
        logGroupName="/more", logStreamName="s", startFromHead=True, limit=2
    ))  # fmt: skip
    run("filter none", lambda: c.filter_log_events(logGroupName="/more", filterPattern="zzz"))
    run("groups prefix", lambda: c.describe_log_groups(logGroupNamePrefix="/mo"))
    run("streams ordered", lambda: c.describe_log_streams(
        logGroupName="/more", orderBy="LastEventTime", descending=True
    ))  # fmt: skip
    run("metric filter", lambda: c.put_metric_filter(
        logGroupName="/more", filterName="f", filterPattern="line",
        metricTransformations=[{"metricName": "m", "metricNamespace": "n", "metricValue": "1"}],
    ))  # fmt: skip
    run("metric filters", lambda: c.describe_metric_filters(logGroupName="/more"))
    run("subscription filters", lambda: c.describe_subscription_filters(logGroupName="/more"))
    run("subscription to nothing", lambda: c.put_subscription_filter(
        logGroupName="/more", filterName="f", filterPattern="",
        destinationArn=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:nope",
    ))  # fmt: skip
    run("subscription kinesis no role", lambda: c.put_subscription_filter(
        logGroupName="/more", filterName="f", filterPattern="",
        destinationArn=f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/nope",
    ))  # fmt: skip
    run("delete missing subscription", lambda: c.delete_subscription_filter(
        logGroupName="/more", filterName="nope"
    ))  # fmt: skip
    run("legacy tags", lambda: c.list_tags_log_group(logGroupName="/more"))
    run("delete retention", lambda: c.delete_retention_policy(logGroupName="/more"))
    run("bad retention", lambda: c.put_retention_policy(logGroupName="/more", retentionInDays=2))
    run("query", lambda: c.start_query(
        logGroupName="/more", startTime=int(MANUAL_START) - 60, endTime=int(MANUAL_START) + 60,
        queryString="fields @message",
    ))  # fmt: skip
    run("queries", c.describe_queries)


def iam_more_calls(c: Any, run: Recorder) -> None:
    policy_arn = f"arn:aws:iam::{ACCOUNT}:policy/mp"
    run("get policy", lambda: c.get_policy(PolicyArn=policy_arn))
    run("policies local", lambda: c.list_policies(Scope="Local"))
    run("new version", lambda: c.create_policy_version(
        PolicyArn=policy_arn, PolicyDocument=POLICY, SetAsDefault=True
    ))  # fmt: skip
    run("versions", lambda: c.list_policy_versions(PolicyArn=policy_arn))
    run("delete default version", lambda: c.delete_policy_version(
        PolicyArn=policy_arn, VersionId="v2"
    ))  # fmt: skip
    run("get user", lambda: c.get_user(UserName="u"))
    run("access keys", lambda: c.list_access_keys(UserName="u"))
    run("user policies", lambda: c.list_user_policies(UserName="u"))
    run("groups", c.list_groups)
    run("create group", lambda: c.create_group(GroupName="g"))
    run("add user", lambda: c.add_user_to_group(GroupName="g", UserName="u"))
    run("get group", lambda: c.get_group(GroupName="g"))
    run("groups for user", lambda: c.list_groups_for_user(UserName="u"))
    run("instance profile", lambda: c.create_instance_profile(InstanceProfileName="ip"))
    run("instance profiles", c.list_instance_profiles)
    run("summary", c.get_account_summary)
    run("bad document", lambda: c.create_policy(PolicyName="bad", PolicyDocument="{"))
    run("aliases", c.list_account_aliases)
    run("get missing user", lambda: c.get_user(UserName="nobody"))
    run("service linked", lambda: c.create_service_linked_role(
        AWSServiceName="elasticbeanstalk.amazonaws.com"
    ))  # fmt: skip


def sts_more_calls(c: Any, run: Recorder) -> None:
    run("key info", lambda: c.get_access_key_info(AccessKeyId="AKIAIOSFODNN7EXAMPLE"))
    run("federation", lambda: c.get_federation_token(Name="fed", DurationSeconds=900))
    run("decode bad", lambda: c.decode_authorization_message(EncodedMessage="nope"))
    run("web identity", lambda: c.assume_role_with_web_identity(
        RoleArn=ROLE, RoleSessionName="session", WebIdentityToken="x" * 10
    ))  # fmt: skip


def ssm_more_calls(c: Any, run: Recorder) -> None:
    run("put list", lambda: c.put_parameter(
        Name="list", Value="a,b", Type="StringList", Description="d",
        Tags=[{"Key": "k", "Value": "v"}],
    ))  # fmt: skip
    run("put advanced", lambda: c.put_parameter(
        Name="/deep/a/b", Value="x", Type="String", Tier="Advanced", DataType="text"
    ))  # fmt: skip
    run("overwrite with tags", lambda: c.put_parameter(
        Name="list", Value="c", Overwrite=True, Tags=[{"Key": "k", "Value": "v"}]
    ))  # fmt: skip
    run("selector", lambda: c.get_parameter(Name="list:1"))
    run("selector missing", lambda: c.get_parameter(Name="list:9"))
    run("label", lambda: c.label_parameter_version(Name="list", Labels=["prod"]))
    run("by label", lambda: c.get_parameter(Name="list:prod"))
    run("bad label", lambda: c.label_parameter_version(Name="list", Labels=["1bad"]))
    run("recursive", lambda: c.get_parameters_by_path(Path="/deep", Recursive=True))
    run("filtered", lambda: c.describe_parameters(
        ParameterFilters=[{"Key": "Type", "Values": ["StringList"]}]
    ))  # fmt: skip
    run("bad name", lambda: c.put_parameter(Name="aws/x", Value="x", Type="String"))
    run("bad type", lambda: c.put_parameter(Name="z", Value="x", Type="String", DataType="x"))
    run("history 2", lambda: c.get_parameter_history(Name="list", WithDecryption=True))


def cloudformation_more_calls(c: Any, run: Recorder) -> None:
    yaml = "Resources:\n  T:\n    Type: AWS::SNS::Topic\nOutputs:\n  A:\n    Value: !Ref T\n"
    run("validate yaml", lambda: c.validate_template(TemplateBody=yaml))
    run("change set", lambda: c.create_change_set(
        StackName="cs", ChangeSetName="one", TemplateBody=yaml, ChangeSetType="CREATE"
    ))  # fmt: skip
    run("describe change set", lambda: c.describe_change_set(
        StackName="cs", ChangeSetName="one"
    ))  # fmt: skip
    run("change sets", lambda: c.list_change_sets(StackName="cs"))
    run("execute", lambda: c.execute_change_set(StackName="cs", ChangeSetName="one"))
    run("events", lambda: c.describe_stack_events(StackName="cs"))
    run("outputs", lambda: c.describe_stacks(StackName="cs"))
    run("template yaml", lambda: c.get_template(StackName="cs"))
    run("policy", lambda: c.get_stack_policy(StackName="cs"))
    run("protect", lambda: c.update_termination_protection(
        StackName="cs", EnableTerminationProtection=True
    ))  # fmt: skip
    run("delete protected", lambda: c.delete_stack(StackName="cs"))
    run("limits", c.describe_account_limits)
    run("change set missing", lambda: c.describe_change_set(
        StackName="cs", ChangeSetName="nope"
    ))  # fmt: skip
    run("bad template", lambda: c.create_stack(
        StackName="bad", TemplateBody=json.dumps({"Resources": {"X": {"Type": "AWS::No::Such"}}})
    ))  # fmt: skip
    run("describe bad", lambda: c.describe_stacks(StackName="bad"))
    run("imports", lambda: c.list_imports(ExportName="nope"))
    run("resource missing", lambda: c.describe_stack_resource(
        StackName="cs", LogicalResourceId="Nope"
    ))  # fmt: skip


# ------------------------------------------------------------------ values boto3 converts


def dynamodb_coercion_calls(c: Any, run: Recorder) -> None:
    run("create c", lambda: c.create_table(
        TableName="coerce", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "B"}],
        BillingMode="PAY_PER_REQUEST",
    ))  # fmt: skip
    run("blob as text", lambda: c.put_item(TableName="coerce", Item={
        "pk": {"B": "text key"}, "b": {"B": "caf\u00e9"}, "bs": {"BS": ["x", b"y"]},
        "ba": {"B": bytearray(b"\x01")},
    }))  # fmt: skip
    run("get blob as text", lambda: c.get_item(TableName="coerce", Key={"pk": {"B": "text key"}}))
    run("get blob as bytes", lambda: c.get_item(
        TableName="coerce", Key={"pk": {"B": b"text key"}}
    ))  # fmt: skip
    run("scan", lambda: c.scan(TableName="coerce"))


def kinesis_coercion_calls(c: Any, run: Recorder) -> None:
    run("create c", lambda: c.create_stream(StreamName="coerce", ShardCount=1))
    run("data as text", lambda: c.put_record(
        StreamName="coerce", Data="caf\u00e9", PartitionKey="k"
    ))  # fmt: skip
    run("records as text", lambda: c.put_records(
        StreamName="coerce", Records=[{"Data": "t", "PartitionKey": "k"}]
    ))  # fmt: skip
    shard = c.list_shards(StreamName="coerce")["Shards"][0]["ShardId"]
    for label, when in (
        ("text", "2023-11-14T22:13:20Z"),
        ("epoch", MANUAL_START - 10),
        ("naive", dt.datetime(2023, 11, 14, 22, 13)),
    ):
        iterator = run(f"iterator at {label}", lambda when=when: c.get_shard_iterator(
            StreamName="coerce", ShardId=shard, ShardIteratorType="AT_TIMESTAMP",
            Timestamp=when,
        ))  # fmt: skip
        if iterator is not None:
            run(f"records at {label}", lambda i=iterator: c.get_records(
                ShardIterator=i["ShardIterator"]
            ))  # fmt: skip
    trim = c.get_shard_iterator(
        StreamName="coerce", ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    run("records", lambda: c.get_records(ShardIterator=trim))


def sqs_coercion_calls(c: Any, run: Recorder) -> None:
    url = c.create_queue(QueueName="coerce")["QueueUrl"]
    run("binary as text", lambda: c.send_message(QueueUrl=url, MessageBody="m", MessageAttributes={
        "b": {"DataType": "Binary", "BinaryValue": "caf\u00e9"},
    }))  # fmt: skip
    run("receive", lambda: c.receive_message(QueueUrl=url, MessageAttributeNames=["All"]))


def cloudwatch_coercion_calls(c: Any, run: Recorder) -> None:
    run("put text time", lambda: c.put_metric_data(Namespace="C", MetricData=[
        {"MetricName": "m", "Value": 1, "Timestamp": "2023-11-14T22:13:00Z"},
        {"MetricName": "m", "Value": 2, "Timestamp": MANUAL_START - 30},
    ]))  # fmt: skip
    for label, start, end in (
        ("text", "2023-11-14T22:00:00Z", "2023-11-14T23:00:00Z"),
        ("epoch", MANUAL_START - 3600, MANUAL_START + 3600),
        ("naive", dt.datetime(2023, 11, 14, 22), dt.datetime(2023, 11, 14, 23)),
    ):
        run(f"statistics {label}", lambda s=start, e=end: c.get_metric_statistics(
            Namespace="C", MetricName="m", StartTime=s, EndTime=e, Period=3600,
            Statistics=["Sum"],
        ))  # fmt: skip


def lambda_coercion_calls(c: Any, run: Recorder) -> None:
    run("create c", lambda: c.create_function(
        FunctionName="coerce", Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": CODE},
    ))  # fmt: skip
    run("payload as text", lambda: c.invoke(FunctionName="coerce", Payload='{"a": "caf\u00e9"}'))
    run("payload as file", lambda: c.invoke(
        FunctionName="coerce", Payload=io.BytesIO(b'{"f": 1}')
    ))  # fmt: skip
    run("payload as bytearray", lambda: c.invoke(
        FunctionName="coerce", Payload=bytearray(b"[1]")
    ))  # fmt: skip


def s3_coercion_calls(c: Any, run: Recorder) -> None:
    c.create_bucket(Bucket="coerce")
    run("body as text", lambda: c.put_object(Bucket="coerce", Key="t", Body="caf\u00e9"))
    run("body as file", lambda: c.put_object(Bucket="coerce", Key="f", Body=io.BytesIO(b"f")))
    run("body as bytearray", lambda: c.put_object(Bucket="coerce", Key="b", Body=bytearray(b"b")))
    run("get text", lambda: c.get_object(Bucket="coerce", Key="t"))
    run("expires as text", lambda: c.put_object(
        Bucket="coerce", Key="e", Body=b"", Expires="2030-01-01T00:00:00Z"
    ))  # fmt: skip
    run("head expires", lambda: c.head_object(Bucket="coerce", Key="e"))
    run("if modified since text", lambda: c.get_object(
        Bucket="coerce", Key="e", IfModifiedSince="2000-01-01T00:00:00Z"
    ))  # fmt: skip
    run("if unmodified since epoch", lambda: c.get_object(
        Bucket="coerce", Key="e", IfUnmodifiedSince=946684800
    ))  # fmt: skip


def logs_coercion_calls(c: Any, run: Recorder) -> None:
    c.create_log_group(logGroupName="/coerce")
    c.create_log_stream(logGroupName="/coerce", logStreamName="s")
    run("put", lambda: c.put_log_events(
        logGroupName="/coerce", logStreamName="s",
        logEvents=[{"timestamp": int(MANUAL_START * 1000), "message": "m"}],
    ))  # fmt: skip


def param_validation_calls(c: Any, run: Recorder, service: str) -> None:
    """Parameters botocore refuses before sending: the same ParamValidationError."""
    cases: dict[str, list[tuple[str, dict[str, Any]]]] = {
        "sqs": [("send_message", {"QueueUrl": 1, "MessageBody": "x"}),
                ("send_message", {"MessageBody": "x"}),
                ("receive_message", {"QueueUrl": "u", "MaxNumberOfMessages": "1"})],
        "dynamodb": [("get_item", {"TableName": "t", "Key": {"pk": {"S": 1}}}),
                     ("put_item", {"TableName": "t", "Item": {"a": {"N": 1}}}),
                     ("scan", {"TableName": "t", "Limit": 1.5})],
        "s3": [("put_object", {"Bucket": "b", "Key": "k", "Body": 12}),
               ("get_object", {"Bucket": "b"})],
        "lambda": [("invoke", {"FunctionName": "f", "Payload": 12})],
        "cloudwatch": [("put_metric_data", {"Namespace": "n", "MetricData": [
            {"MetricName": "m", "Value": "1"}]}),
            ("get_metric_statistics", {"Namespace": "n", "MetricName": "m", "StartTime": "x",
                                       "EndTime": "y", "Period": 60})],
        "kinesis": [("put_record", {"StreamName": "s", "Data": 1, "PartitionKey": "k"})],
    }  # fmt: skip
    for method, params in cases.get(service, []):
        run(f"invalid {method} {sorted(params)}", lambda m=method, p=params: getattr(c, m)(**p))


#: Past the 64 bits a JSON body carries as an integer (read as a float there), and on
#: either side of that edge.
PAST_64_BITS = 2**64
BELOW_64_BITS = -(2**63) - 1


def integer_width_calls(c: Any, run: Recorder, service: str) -> None:
    """Integers past 64 bits, which botocore's validator takes: a JSON or CBOR body's reader
    refuses them as floats, a query string, header or XML hands them to the service (whose
    range check answers); DynamoDB's reader floors the float into an integer."""
    big, low = PAST_64_BITS, BELOW_64_BITS
    cases: dict[str, list[tuple[str, dict[str, Any]]]] = {
        "sqs": [("send_message", {"QueueUrl": "u", "MessageBody": "x", "DelaySeconds": big}),
                ("receive_message", {"QueueUrl": "u", "MaxNumberOfMessages": low}),
                ("send_message_batch", {"QueueUrl": "u", "Entries": [
                    {"Id": "a", "MessageBody": "x"},
                    {"Id": "b", "MessageBody": "x", "DelaySeconds": big}]}),
                ("receive_message", {"QueueUrl": "u", "MaxNumberOfMessages": 2**63})],
        "lambda": [("update_function_configuration", {"FunctionName": "f", "Timeout": big}),
                   ("list_functions", {"MaxItems": big}),
                   ("put_function_concurrency", {"FunctionName": "f",
                                                 "ReservedConcurrentExecutions": low})],
        "kinesis": [("create_stream", {"StreamName": "wide", "ShardCount": big}),
                    ("create_stream", {"StreamName": "wide", "ShardCount": 2**63})],
        "dynamodb": [("scan", {"TableName": "absent", "Limit": big})],
        "logs": [("describe_log_groups", {"limit": big}),
                 ("filter_log_events", {"logGroupName": "absent", "startTime": low})],
        "events": [("list_rules", {"Limit": big})],
        "ssm": [("describe_parameters", {"MaxResults": big})],
        "s3": [("list_objects_v2", {"Bucket": "absent", "MaxKeys": big})],
        "iam": [("list_users", {"MaxItems": big})],
        "cloudwatch": [("describe_alarms", {"MaxRecords": big})],
    }  # fmt: skip
    for method, params in cases.get(service, []):
        run(f"wide {method} {params}", lambda m=method, p=params: getattr(c, m)(**p))


# ------------------------------------------------------------------ paging, and what is not served


#: For each service: a paginator to run over what the scenario left, and its arguments.
ONE = {"PaginationConfig": {"PageSize": 1}}
PAGINATED: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "sqs": [("list_queues", {"PaginationConfig": {"PageSize": 1}})],
    "kinesis": [("list_shards", {"StreamName": "od", "PaginationConfig": {"PageSize": 1}})],
    "dynamodb": [("scan", {"TableName": "idx", "PaginationConfig": {"PageSize": 1}}),
                 ("list_tables", {"PaginationConfig": {"PageSize": 1}})],
    "lambda": [("list_functions", {"PaginationConfig": {"PageSize": 1}}),
               ("list_versions_by_function", {"FunctionName": "fn2"})],
    "s3": [("list_objects_v2", {"Bucket": "more", "PaginationConfig": {"PageSize": 1}}),
           ("list_objects", {"Bucket": "more", "PaginationConfig": {"PageSize": 2}}),
           ("list_object_versions", {"Bucket": "more", "PaginationConfig": {"PageSize": 1}})],
    "sns": [("list_topics", {}), ("list_subscriptions", {})],
    "cloudwatch": [("list_metrics", {}), ("describe_alarms", ONE)],
    "logs": [("describe_log_groups", {"PaginationConfig": {"PageSize": 1}}),
             ("filter_log_events", {"logGroupName": "/more", **ONE})],
    "iam": [("list_roles", {}), ("list_policies", {"Scope": "Local", **ONE})],
    "ssm": [("describe_parameters", {"PaginationConfig": {"PageSize": 1}}),
            ("get_parameters_by_path", {"Path": "/", "Recursive": True, **ONE})],
    "secretsmanager": [("list_secrets", {"PaginationConfig": {"PageSize": 1}})],
    "cloudformation": [("list_stacks", {}), ("describe_stack_events", {"StackName": "cs"})],
    "events": [("list_rules", {"PaginationConfig": {"PageSize": 1}}),
               ("list_targets_by_rule", {"Rule": "tick", **ONE})],
}  # fmt: skip


def paging_calls(c: Any, run: Recorder, service: str) -> None:
    """Paginators over the scenario's resources, every listing or describing operation that
    needs no arguments, and an operation headwater does not serve."""
    for method, params in PAGINATED.get(service, []):
        run(f"paginate {method}", lambda m=method, p=params: c.get_paginator(m).paginate(
            **p
        ).build_full_result())  # fmt: skip
    model = service_model(service)
    for name in sorted(service_class(service).operation_names()):
        shape = model.operation_model(name).input_shape
        if (shape is None or not shape.required_members) and name.startswith(
            ("List", "Describe", "Get")
        ):
            run(f"without arguments {name}", getattr(c, xform_name(name)))
    unserved = _unserved_operation(service)
    if unserved is not None:
        run(f"unserved {unserved}", getattr(c, xform_name(unserved)))


def _unserved_operation(service: str) -> str | None:
    """An operation of ``service`` that headwater does not implement and that takes no
    parameters."""
    implemented = set(service_class(service).operation_names())
    model = service_model(service)
    for name in model.operation_names:
        operation = model.operation_model(name)
        if any(
            p.name == "UseS3ExpressControlEndpoint" for p in operation.static_context_parameters
        ):
            continue  # boto3 signs these for another endpoint, which cannot know the name
        shape = operation.input_shape
        if name not in implemented and (shape is None or not shape.required_members):
            return name
    return None


def regional_calls(c: Any, run: Recorder, service: str) -> None:
    """Resources made in another region (``eu-west-1``): their ARNs, URLs and locations."""
    if service == "sqs":
        url = run("create", lambda: c.create_queue(QueueName="r"))["QueueUrl"]
        run("attributes", lambda: c.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]))
        run("list", c.list_queues)
    elif service == "sns":
        run("create", lambda: c.create_topic(Name="r"))
        run("list", c.list_topics)
    elif service == "s3":
        run("create", lambda: c.create_bucket(
            Bucket="regional", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        ))  # fmt: skip
        run("location", lambda: c.get_bucket_location(Bucket="regional"))
        run("head", lambda: c.head_bucket(Bucket="regional"))
        run("list", c.list_buckets)
    elif service == "lambda":
        run("create", lambda: c.create_function(
            FunctionName="r", Runtime="python3.12", Role=ROLE, Handler="app.handler",
            Code={"ZipFile": CODE},
        ))  # fmt: skip
        run("invoke", lambda: c.invoke(FunctionName="r", Payload=b"{}", LogType="Tail"))
        run("list", c.list_functions)
    elif service == "dynamodb":
        run("create", lambda: c.create_table(
            TableName="regional", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        ))  # fmt: skip
        run("describe", lambda: c.describe_table(TableName="regional"))
    elif service == "kinesis":
        run("create", lambda: c.create_stream(StreamName="r", ShardCount=1))
        run("summary", lambda: c.describe_stream_summary(StreamName="r"))
    elif service == "logs":
        run("create", lambda: c.create_log_group(logGroupName="/r"))
        run("groups", c.describe_log_groups)
    elif service == "ssm":
        run("put", lambda: c.put_parameter(Name="r", Value="v", Type="String"))
        run("get", lambda: c.get_parameter(Name="r"))
    elif service == "events":
        run("rule", lambda: c.put_rule(Name="r", EventPattern='{"source": ["s"]}'))
        run("describe", lambda: c.describe_rule(Name="r"))
        run("bus", lambda: c.create_event_bus(Name="b"))
    elif service == "secretsmanager":
        run("create", lambda: c.create_secret(Name="r", SecretString="v"))
        run("get", lambda: c.get_secret_value(SecretId="r"))
    elif service == "cloudwatch":
        run("alarm", lambda: c.put_metric_alarm(
            AlarmName="r", Namespace="n", MetricName="m", Statistic="Sum", Period=60,
            EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold",
        ))  # fmt: skip
        run("alarms", c.describe_alarms)
    elif service == "sts":
        run("identity", c.get_caller_identity)


def lambda_stream_calls(c: Any, run: Recorder, hw: Headwater) -> None:
    """Event source mappings on streams, aliases and qualified invokes."""
    hw.client("kinesis").create_stream(StreamName="feed", ShardCount=1)
    hw.client("dynamodb").create_table(
        TableName="rows", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )  # fmt: skip
    stream_arn = hw.client("dynamodb").describe_table(TableName="rows")["Table"]["LatestStreamArn"]
    run("create s", lambda: c.create_function(
        FunctionName="streamer", Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": CODE}, Publish=True,
    ))  # fmt: skip
    run("kinesis mapping", lambda: c.create_event_source_mapping(
        FunctionName="streamer", EventSourceArn=f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/feed",
        StartingPosition="AT_TIMESTAMP",
        StartingPositionTimestamp=dt.datetime.fromtimestamp(MANUAL_START, dt.UTC),
        Enabled=False, BisectBatchOnFunctionError=True, MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {
            "Destination": f"arn:aws:sqs:us-east-1:{ACCOUNT}:nowhere"}},
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"a": [1]}})}]},
        TumblingWindowInSeconds=10, FunctionResponseTypes=["ReportBatchItemFailures"],
    ))  # fmt: skip
    run("dynamodb mapping", lambda: c.create_event_source_mapping(
        FunctionName="streamer:1", EventSourceArn=stream_arn, StartingPosition="LATEST",
        Enabled=False, BatchSize=50, MaximumBatchingWindowInSeconds=1,
    ))  # fmt: skip
    run("bad mapping", lambda: c.create_event_source_mapping(
        FunctionName="streamer", EventSourceArn=stream_arn,
    ))  # fmt: skip
    run("mappings s", lambda: c.list_event_source_mappings(FunctionName="streamer"))
    run("alias", lambda: c.create_alias(
        FunctionName="streamer", Name="live", FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {}},
    ))  # fmt: skip
    run("get alias", lambda: c.get_alias(FunctionName="streamer", Name="live"))
    run("invoke alias", lambda: c.invoke(FunctionName="streamer", Qualifier="live", Payload=b"1"))
    run("invoke version", lambda: c.invoke(FunctionName="streamer:1", Payload=b"2"))
    run("invoke streamed", lambda: c.invoke_with_response_stream(
        FunctionName="streamer", Payload=b'{"x": 1}'
    ))  # fmt: skip
    run("invoke streamed dry run", lambda: c.invoke_with_response_stream(
        FunctionName="streamer", InvocationType="DryRun"
    ))  # fmt: skip
    run("invoke client context", lambda: c.invoke(
        FunctionName="streamer", Payload=b"3",
        ClientContext=base64.b64encode(b'{"custom": {"a": 1}}').decode(),
    ))  # fmt: skip
    run("get qualified", lambda: c.get_function(FunctionName="streamer", Qualifier="1"))
    run("get configuration alias", lambda: c.get_function_configuration(
        FunctionName="streamer", Qualifier="live"
    ))  # fmt: skip
    run("get missing alias", lambda: c.get_alias(FunctionName="streamer", Name="nope"))
    run("async config", lambda: c.put_function_event_invoke_config(
        FunctionName="streamer", Qualifier="live", MaximumEventAgeInSeconds=60,
    ))  # fmt: skip
    run("get async config", lambda: c.get_function_event_invoke_config(
        FunctionName="streamer", Qualifier="live"
    ))  # fmt: skip
    run("provisioned", lambda: c.get_provisioned_concurrency_config(
        FunctionName="streamer", Qualifier="live"
    ))  # fmt: skip
    run("no concurrency", lambda: c.put_function_concurrency(
        FunctionName="streamer", ReservedConcurrentExecutions=0
    ))  # fmt: skip
    run("throttled", lambda: c.invoke(FunctionName="streamer", Payload=b"{}"))
    run("throttled async", lambda: c.invoke(
        FunctionName="streamer", Payload=b"{}", InvocationType="Event"
    ))  # fmt: skip
    run("throttled streamed", lambda: c.invoke_with_response_stream(
        FunctionName="streamer", Payload=b"{}"
    ))  # fmt: skip
    run("too large", lambda: c.invoke(FunctionName="fn2", Payload=b"1" * 6_300_000))
    run("recursion", lambda: c.get_function_recursion_config(FunctionName="streamer"))
    run("code signing", lambda: c.get_function_code_signing_config(FunctionName="streamer"))


CFN_RESOURCES = json.dumps({
    "Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": json.loads(TRUST),
            "Policies": [{"PolicyName": "p", "PolicyDocument": json.loads(POLICY)}],
        }},
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        }},
        "Param": {"Type": "AWS::SSM::Parameter", "Properties": {
            "Type": "String", "Value": {"Fn::GetAtt": ["Table", "Arn"]}}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": "python3.12", "Handler": "index.handler",
            "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Code": {"ZipFile": "def handler(e, c):\\n    return e\\n"}}},
        "Bucket": {"Type": "AWS::S3::Bucket"},
    },
    "Outputs": {
        "TableName": {"Value": {"Ref": "Table"}, "Export": {"Name": "table-name"}},
        "Fn": {"Value": {"Fn::GetAtt": ["Fn", "Arn"]}, "Description": "the function"},
    },
})  # fmt: skip


def cloudformation_resource_calls(c: Any, run: Recorder) -> None:
    run("create resources", lambda: c.create_stack(
        StackName="st", TemplateBody=CFN_RESOURCES, Capabilities=["CAPABILITY_IAM"]
    ))  # fmt: skip
    run("describe resources stack", lambda: c.describe_stacks(StackName="st"))
    run("stack resources", lambda: c.list_stack_resources(StackName="st"))
    run("exports", c.list_exports)
    run("imports none", lambda: c.list_imports(ExportName="table-name"))
    run("summary resources", lambda: c.get_template_summary(TemplateBody=CFN_RESOURCES))
    run("no capability", lambda: c.create_stack(StackName="st2", TemplateBody=CFN_RESOURCES))
    run("delete resources", lambda: c.delete_stack(StackName="st"))
    run("stacks deleted", lambda: c.list_stacks(StackStatusFilter=["DELETE_COMPLETE"]))


def sqs_deep_calls(c: Any, run: Recorder) -> None:
    dlq = c.create_queue(QueueName="dead")["QueueUrl"]
    assert dlq
    url = run("create redriven", lambda: c.create_queue(QueueName="redriven", Attributes={
        "RedrivePolicy": json.dumps({
            "deadLetterTargetArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:dead", "maxReceiveCount": 1,
        }),
        "DelaySeconds": "0", "MaximumMessageSize": "2048", "ReceiveMessageWaitTimeSeconds": "0",
        "Policy": json.dumps({"Version": "2012-10-17", "Statement": []}),
    }))["QueueUrl"]  # fmt: skip
    run("redrive attributes", lambda: c.get_queue_attributes(
        QueueUrl=url, AttributeNames=["RedrivePolicy", "Policy", "QueueArn"]
    ))  # fmt: skip
    run("dlq sources", lambda: c.list_dead_letter_source_queues(QueueUrl=dlq))
    run("send delayed", lambda: c.send_message(
        QueueUrl=url, MessageBody="d", DelaySeconds=0,
        MessageSystemAttributes={"AWSTraceHeader": {
            "DataType": "String", "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793"}},
        MessageAttributes={
            "l": {"DataType": "String", "StringValue": "x" * 10},
            "n": {"DataType": "Number.int", "StringValue": "-1.50"},
        },
    ))  # fmt: skip
    run("too big", lambda: c.send_message(QueueUrl=url, MessageBody="x" * 3000))
    run("bad characters", lambda: c.send_message(QueueUrl=url, MessageBody="\x00"))
    got = run("receive all", lambda: c.receive_message(
        QueueUrl=url, AttributeNames=["All"], MessageAttributeNames=["n", "l.*"],
        VisibilityTimeout=0,
    ))  # fmt: skip
    assert got is not None
    run("receive again", lambda: c.receive_message(
        QueueUrl=url, MessageSystemAttributeNames=["ApproximateReceiveCount", "AWSTraceHeader"],
    ))  # fmt: skip
    run("dead letters", lambda: c.receive_message(QueueUrl=dlq, AttributeNames=["All"]))
    run("move task", lambda: c.start_message_move_task(
        SourceArn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:dead"
    ))  # fmt: skip
    run("move tasks", lambda: c.list_message_move_tasks(
        SourceArn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:dead"
    ))  # fmt: skip
    run("list paged", lambda: c.list_queues(MaxResults=1))
    run("permission", lambda: c.add_permission(
        QueueUrl=url, Label="l", AWSAccountIds=[ACCOUNT], Actions=["SendMessage"]
    ))  # fmt: skip
    run("remove permission", lambda: c.remove_permission(QueueUrl=url, Label="l"))
    run("purge twice", lambda: (c.purge_queue(QueueUrl=url), c.purge_queue(QueueUrl=url))[1])
    run("url of other account", lambda: c.get_queue_url(
        QueueName="redriven", QueueOwnerAWSAccountId="111111111111"
    ))  # fmt: skip


def dynamodb_deep_calls(c: Any, run: Recorder) -> None:
    run("create lsi", lambda: c.create_table(
        TableName="deep",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"},
                              {"AttributeName": "l", "AttributeType": "N"}],
        LocalSecondaryIndexes=[{
            "IndexName": "byL",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "l", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]},
        }],
        BillingMode="PAY_PER_REQUEST", TableClass="STANDARD_INFREQUENT_ACCESS",
        SSESpecification={"Enabled": True, "SSEType": "KMS"}, DeletionProtectionEnabled=True,
    ))  # fmt: skip
    run("describe lsi", lambda: c.describe_table(TableName="deep"))
    for i in range(3):
        c.put_item(TableName="deep", Item={
            "pk": {"S": "p"}, "sk": {"S": f"s{i}"}, "l": {"N": str(i)}, "x": {"S": "x"},
        })  # fmt: skip
    run("query paged", lambda: c.query(
        TableName="deep", KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}}, Limit=2, ScanIndexForward=False,
        ReturnConsumedCapacity="INDEXES", ProjectionExpression="sk, #l",
        ExpressionAttributeNames={"#l": "l"},
    ))  # fmt: skip
    run("query lsi", lambda: c.query(
        TableName="deep", IndexName="byL", KeyConditionExpression="pk = :p AND l > :l",
        ExpressionAttributeValues={":p": {"S": "p"}, ":l": {"N": "0"}},
        Select="ALL_PROJECTED_ATTRIBUTES",
    ))  # fmt: skip
    run("query from", lambda: c.query(
        TableName="deep", KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
        ExclusiveStartKey={"pk": {"S": "p"}, "sk": {"S": "s0"}},
    ))  # fmt: skip
    run("filter", lambda: c.scan(
        TableName="deep", FilterExpression="l >= :l", ExpressionAttributeValues={":l": {"N": "1"}},
        ReturnConsumedCapacity="TOTAL",
    ))  # fmt: skip
    run("segment", lambda: c.scan(TableName="deep", Segment=0, TotalSegments=2))
    run("item collection", lambda: c.put_item(
        TableName="deep", Item={"pk": {"S": "p"}, "sk": {"S": "s9"}},
        ReturnItemCollectionMetrics="SIZE", ReturnConsumedCapacity="TOTAL",
    ))  # fmt: skip
    run("batch write metrics", lambda: c.batch_write_item(
        RequestItems={"deep": [{"DeleteRequest": {"Key": {"pk": {"S": "p"}, "sk": {"S": "s9"}}}}]},
        ReturnConsumedCapacity="TOTAL", ReturnItemCollectionMetrics="SIZE",
    ))  # fmt: skip
    run("batch get projection", lambda: c.batch_get_item(RequestItems={"deep": {
        "Keys": [{"pk": {"S": "p"}, "sk": {"S": "s1"}}], "ProjectionExpression": "l",
        "ConsistentRead": True,
    }}, ReturnConsumedCapacity="INDEXES"))  # fmt: skip
    run("transact get missing", lambda: c.transact_get_items(TransactItems=[
        {"Get": {"TableName": "deep", "Key": {"pk": {"S": "zz"}, "sk": {"S": "zz"}}}},
    ], ReturnConsumedCapacity="TOTAL"))  # fmt: skip
    run("transact write", lambda: c.transact_write_items(TransactItems=[
        {"Update": {"TableName": "deep", "Key": {"pk": {"S": "p"}, "sk": {"S": "s1"}},
                    "UpdateExpression": "SET x = :x",
                    "ExpressionAttributeValues": {":x": {"S": "y"}}}},
        {"Delete": {"TableName": "deep", "Key": {"pk": {"S": "p"}, "sk": {"S": "s2"}}}},
    ], ReturnConsumedCapacity="INDEXES", ClientRequestToken="token"))  # fmt: skip
    run("transact idempotent mismatch", lambda: c.transact_write_items(TransactItems=[
        {"Delete": {"TableName": "deep", "Key": {"pk": {"S": "p"}, "sk": {"S": "s0"}}}},
    ], ClientRequestToken="token"))  # fmt: skip
    run("update ttl missing attr", lambda: c.update_item(
        TableName="deep", Key={"pk": {"S": "p"}, "sk": {"S": "s1"}},
        UpdateExpression="SET missing.inner = :v", ExpressionAttributeValues={":v": {"S": "v"}},
    ))  # fmt: skip
    run("condition with old", lambda: c.delete_item(
        TableName="deep", Key={"pk": {"S": "p"}, "sk": {"S": "s1"}},
        ConditionExpression="x = :no", ExpressionAttributeValues={":no": {"S": "no"}},
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    ))  # fmt: skip
    run("protected delete", lambda: c.delete_table(TableName="deep"))
    run("update billing", lambda: c.update_table(
        TableName="deep", DeletionProtectionEnabled=False,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
    ))  # fmt: skip
    run("partiql paged", lambda: c.execute_statement(
        Statement="SELECT * FROM deep WHERE pk = 'p'", Limit=1
    ))  # fmt: skip
    run("partiql transaction", lambda: c.execute_transaction(TransactStatements=[
        {"Statement": "UPDATE deep SET x = 'z' WHERE pk = 'p' AND sk = 's1'"},
    ]))  # fmt: skip
    run("backup", lambda: c.create_backup(TableName="deep", BackupName="b"))
    run("backups", lambda: c.list_backups(TableName="deep"))
    run("resource policy missing", lambda: c.get_resource_policy(
        ResourceArn=f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/deep"
    ))  # fmt: skip
    run("contributor insights", lambda: c.describe_contributor_insights(TableName="deep"))
    run("global tables", c.list_global_tables)
    run("exports", c.list_exports)
    run("imports", c.list_imports)


#: Text XML carries with care: empty, padded, line ends, escapes, characters past ASCII.
ODD_TEXT = ["", " padded ", "a\r\nb\rc", "tab\there", "caf\u00e9 \U0001f600", "<&>\"']]>"]


def text_calls(c: Any, run: Recorder, service: str) -> None:
    """Odd text through the XML protocols' services, stored and read back."""
    for i, text in enumerate(ODD_TEXT):
        if service == "sns":
            arn = c.create_topic(Name=f"text{i}")["TopicArn"]
            run(f"set {i}", lambda a=arn, t=text: c.set_topic_attributes(
                TopicArn=a, AttributeName="DisplayName", AttributeValue=t
            ))  # fmt: skip
            run(f"get {i}", lambda a=arn: c.get_topic_attributes(TopicArn=a))
            run(f"tag {i}", lambda a=arn, t=text: c.tag_resource(
                ResourceArn=a, Tags=[{"Key": "k", "Value": t}]
            ))  # fmt: skip
            run(f"tags {i}", lambda a=arn: c.list_tags_for_resource(ResourceArn=a))
        elif service == "iam":
            run(f"role {i}", lambda i=i, t=text: c.create_role(
                RoleName=f"text{i}", AssumeRolePolicyDocument=TRUST, Description=t,
                Tags=[{"Key": "k", "Value": t}],
            ))  # fmt: skip
            run(f"get {i}", lambda i=i: c.get_role(RoleName=f"text{i}"))
        elif service == "cloudformation":
            body = json.dumps({
                "Description": text, "Resources": {"T": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {"O": {"Value": text or "x", "Description": text}},
            }).replace(", ", ",\r\n")  # fmt: skip
            run(f"create {i}", lambda i=i, b=body, t=text: c.create_stack(
                StackName=f"text{i}", TemplateBody=b, Tags=[{"Key": "k", "Value": t}]
            ))  # fmt: skip
            run(f"describe {i}", lambda i=i: c.describe_stacks(StackName=f"text{i}"))
            run(f"template {i}", lambda i=i: c.get_template(StackName=f"text{i}"))
        elif service == "s3":
            if i == 0:
                c.create_bucket(Bucket="text")
            run(f"put {i}", lambda i=i, t=text: c.put_object(
                Bucket="text", Key=f"k{i}{t}", Body=b"x", Metadata={"m": t}
            ))  # fmt: skip
            run(f"tagging {i}", lambda i=i, t=text: c.put_object_tagging(
                Bucket="text", Key=f"k{i}{t}", Tagging={"TagSet": [{"Key": "k", "Value": t}]}
            ))  # fmt: skip
            run(f"tags {i}", lambda i=i, t=text: c.get_object_tagging(
                Bucket="text", Key=f"k{i}{t}"
            ))  # fmt: skip
            run(f"head {i}", lambda i=i, t=text: c.head_object(Bucket="text", Key=f"k{i}{t}"))
    if service == "s3":
        run("list text", lambda: c.list_objects_v2(Bucket="text"))


def naming_calls(c: Any, run: Recorder, service: str) -> None:
    """Names that must cross a URL path or body unchanged: function references, object
    keys, queue URLs."""
    if service == "lambda":
        c.create_function(
            FunctionName="named", Runtime="python3.12", Role=ROLE, Handler="app.handler",
            Code={"ZipFile": CODE}, Publish=True,
        )  # fmt: skip
        arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:named"
        for ref in (
            arn, f"{arn}:$LATEST", f"{ACCOUNT}:function:named", "named:1", "named:nope",
            arn.replace("us-east-1", "eu-west-1"), arn.replace(ACCOUNT, "111111111111"),
            "na med", "named%3A1", "named/x",
        ):  # fmt: skip
            run(f"get {ref}", lambda r=ref: c.get_function_configuration(FunctionName=r))
            run(f"invoke {ref}", lambda r=ref: c.invoke(FunctionName=r, Payload=b"1"))
    elif service == "s3":
        c.create_bucket(Bucket="names")
        for key in (
            "a/../b", "/leading", "double//slash", "%2F", "q?x=1", "frag#x", " ", "+plus",
            "~tilde", "a\tb", ".", "..", "sp ace/", "\u00e9",
        ):  # fmt: skip
            run(f"put {key!r}", lambda k=key: c.put_object(Bucket="names", Key=k, Body=b"x"))
            run(f"get {key!r}", lambda k=key: c.get_object(Bucket="names", Key=k))
            run(f"copy {key!r}", lambda k=key: c.copy_object(
                Bucket="names", Key=k + "-copy", CopySource={"Bucket": "names", "Key": k}
            ))  # fmt: skip
            run(f"copy text {key!r}", lambda k=key: c.copy_object(
                Bucket="names", Key=k + "-copy2", CopySource=f"names/{k}"
            ))  # fmt: skip
        run("list names", lambda: c.list_objects_v2(Bucket="names"))
        run("list names v1", lambda: c.list_objects(Bucket="names"))
        run("delete names", lambda: c.delete_objects(Bucket="names", Delete={"Objects": [
            {"Key": "a\tb"}, {"Key": "q?x=1"}, {"Key": "\r"},
        ]}))  # fmt: skip
    elif service == "sqs":
        url = c.create_queue(QueueName="names")["QueueUrl"]
        for other in (
            url, f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/names", "names",
            f"{ACCOUNT}/names", f"http://x/{ACCOUNT}/names/",
            f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/names",
        ):  # fmt: skip
            run(f"attributes {other}", lambda u=other: c.get_queue_attributes(
                QueueUrl=u, AttributeNames=["QueueArn"]
            ))  # fmt: skip


def streams_more_calls(c: Any, run: Recorder, hw: Headwater) -> None:
    """Stream records of every kind, paging, and a second table's stream."""
    ddb = hw.client("dynamodb")
    for name in ("tbl2", "tbl3"):
        ddb.create_table(
            TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )  # fmt: skip
    ddb.put_item(TableName="tbl2", Item={"pk": {"S": "x"}, "n": {"N": "1"}, "s": {"SS": ["a"]}})
    ddb.update_item(
        TableName="tbl2", Key={"pk": {"S": "x"}}, UpdateExpression="ADD n :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )  # fmt: skip
    ddb.delete_item(TableName="tbl2", Key={"pk": {"S": "x"}})
    ddb.put_item(TableName="tbl2", Item={"pk": {"S": "big"}, "b": {"B": b"\x00" * 100}})
    listed = run("list limited", lambda: c.list_streams(Limit=1))
    if listed is not None and "LastEvaluatedStreamArn" in listed:
        run("list next", lambda: c.list_streams(
            ExclusiveStartStreamArn=listed["LastEvaluatedStreamArn"]
        ))  # fmt: skip
    arn = ddb.describe_table(TableName="tbl2")["Table"]["LatestStreamArn"]
    shard = c.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = c.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    page = run("records limited", lambda: c.get_records(ShardIterator=iterator, Limit=2))
    if page is not None and page.get("NextShardIterator"):
        run("records rest", lambda: c.get_records(ShardIterator=page["NextShardIterator"]))
    run("describe limited", lambda: c.describe_stream(StreamArn=arn, Limit=1))
    run("iterator after", lambda: c.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
        SequenceNumber="1",
    ))  # fmt: skip
    run("iterator bad type", lambda: c.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER"
    ))  # fmt: skip


def kinesis_resharding_calls(c: Any, run: Recorder) -> None:
    run("create r", lambda: c.create_stream(StreamName="rs", ShardCount=2))
    shards = c.list_shards(StreamName="rs")["Shards"]
    run("split", lambda: c.split_shard(
        StreamName="rs", ShardToSplit=shards[0]["ShardId"],
        NewStartingHashKey=str(int(shards[0]["HashKeyRange"]["EndingHashKey"]) // 2),
    ))  # fmt: skip
    run("shards after split", lambda: c.list_shards(StreamName="rs"))
    run("describe after split", lambda: c.describe_stream(StreamName="rs"))
    run("update count", lambda: c.update_shard_count(
        StreamName="rs", TargetShardCount=4, ScalingType="UNIFORM_SCALING"
    ))  # fmt: skip
    run("shards after update", lambda: c.list_shards(StreamName="rs"))
    run("bad merge", lambda: c.merge_shards(
        StreamName="rs", ShardToMerge="shardId-000000000000",
        AdjacentShardToMerge="shardId-000000000009",
    ))  # fmt: skip
    consumer = run("consumer r", lambda: c.register_stream_consumer(
        StreamARN=f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/rs", ConsumerName="c"
    ))  # fmt: skip
    if consumer is not None:
        run("describe consumer", lambda: c.describe_stream_consumer(
            ConsumerARN=consumer["Consumer"]["ConsumerARN"]
        ))  # fmt: skip
    run("decrease retention", lambda: c.decrease_stream_retention_period(
        StreamName="rs", RetentionPeriodHours=12
    ))  # fmt: skip


def sns_subscription_calls(c: Any, run: Recorder, hw: Headwater) -> None:
    arn = c.create_topic(Name="filtered")["TopicArn"]
    queue = hw.client("sqs").create_queue(QueueName="filtered")["QueueUrl"]
    sub = run("subscribe filtered", lambda: c.subscribe(
        TopicArn=arn, Protocol="sqs", Endpoint=f"arn:aws:sqs:us-east-1:{ACCOUNT}:filtered",
        Attributes={"RawMessageDelivery": "true",
                    "FilterPolicy": json.dumps({"kind": ["a"]})},
        ReturnSubscriptionArn=True,
    ))  # fmt: skip
    sub_arn = sub["SubscriptionArn"] if sub else "none"
    run("set filter scope", lambda: c.set_subscription_attributes(
        SubscriptionArn=sub_arn, AttributeName="FilterPolicyScope", AttributeValue="MessageBody"
    ))  # fmt: skip
    run("attributes filtered", lambda: c.get_subscription_attributes(SubscriptionArn=sub_arn))
    run("bad filter", lambda: c.set_subscription_attributes(
        SubscriptionArn=sub_arn, AttributeName="FilterPolicy", AttributeValue="{"
    ))  # fmt: skip
    run("publish filtered", lambda: c.publish(TopicArn=arn, Message=json.dumps({"kind": "a"})))
    run("publish dropped", lambda: c.publish(TopicArn=arn, Message=json.dumps({"kind": "b"})))
    run("raw delivered", lambda: hw.client("sqs").receive_message(
        QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ))  # fmt: skip
    run("subscribe lambda", lambda: c.subscribe(
        TopicArn=arn, Protocol="lambda",
        Endpoint=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:nowhere",
    ))  # fmt: skip
    run("policy attribute", lambda: c.set_topic_attributes(
        TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": arn}],
        }),
    ))  # fmt: skip
    run("attributes policy", lambda: c.get_topic_attributes(TopicArn=arn))
    run("add permission", lambda: c.add_permission(
        TopicArn=arn, Label="l", AWSAccountId=[ACCOUNT], ActionName=["Publish"]
    ))  # fmt: skip


#: Both clocks' start: with microseconds, as any real clock has, so a timestamp the wire
#: writes to the millisecond must be so in process too.
MANUAL_START = ManualClock().now() + 0.123456

Scenario = Callable[[Any, Recorder, Headwater], object]
SCENARIOS: dict[str, Scenario] = {
    "sqs": lambda c, run, hw: (
        sqs_calls(c, run),
        sqs_more_calls(c, run),
        sqs_coercion_calls(c, run),
        sqs_deep_calls(c, run),
    ),
    "kinesis": lambda c, run, hw: (
        kinesis_calls(c, run),
        kinesis_more_calls(c, run),
        kinesis_coercion_calls(c, run),
        kinesis_resharding_calls(c, run),
    ),
    "dynamodb": lambda c, run, hw: (
        dynamodb_calls(c, run),
        dynamodb_more_calls(c, run),
        dynamodb_coercion_calls(c, run),
        dynamodb_deep_calls(c, run),
    ),
    "dynamodbstreams": lambda c, run, hw: (
        dynamodbstreams_calls(c, run, hw),
        streams_more_calls(c, run, hw),
    ),
    "lambda": lambda c, run, hw: (
        lambda_calls(c, run),
        lambda_more_calls(c, run, hw),
        lambda_coercion_calls(c, run),
        lambda_stream_calls(c, run, hw),
    ),
    "s3": lambda c, run, hw: (s3_calls(c, run), s3_more_calls(c, run), s3_coercion_calls(c, run)),
    "sns": lambda c, run, hw: (
        sns_calls(c, run, hw),
        sns_more_calls(c, run, hw),
        sns_subscription_calls(c, run, hw),
    ),
    "cloudwatch": lambda c, run, hw: (
        cloudwatch_calls(c, run),
        cloudwatch_more_calls(c, run),
        cloudwatch_coercion_calls(c, run),
    ),
    "logs": lambda c, run, hw: (
        logs_calls(c, run),
        logs_more_calls(c, run),
        logs_coercion_calls(c, run),
    ),
    "iam": lambda c, run, hw: (iam_calls(c, run), iam_more_calls(c, run)),
    "sts": lambda c, run, hw: (sts_calls(c, run), sts_more_calls(c, run)),
    "ssm": lambda c, run, hw: (ssm_calls(c, run), ssm_more_calls(c, run)),
    "events": lambda c, run, hw: events_calls(c, run),
    "secretsmanager": lambda c, run, hw: secretsmanager_calls(c, run),
    "cognito-idp": lambda c, run, hw: cognito_idp_calls(c, run),
    "ses": lambda c, run, hw: ses_calls(c, run),
    "sesv2": lambda c, run, hw: sesv2_calls(c, run),
    "kms": lambda c, run, hw: kms_calls(c, run),
    "cloudformation": lambda c, run, hw: (
        cloudformation_calls(c, run),
        cloudformation_more_calls(c, run),
        cloudformation_resource_calls(c, run),
    ),
}


@pytest.fixture
def pair() -> Iterator[tuple[Headwater, Headwater]]:
    """Two Headwaters on the same clock start: one for each path."""
    options: dict[str, Any] = {"endpoint_url": ENDPOINT, "functions": "inline"}
    with (
        Headwater.in_memory(clock=ManualClock(MANUAL_START), **options) as ours,
        Headwater.in_memory(clock=ManualClock(MANUAL_START), **options) as theirs,
    ):
        yield ours, theirs


def _boto3_client(service: str, region: str = "us-east-1") -> Any:
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=region,
        aws_access_key_id="AKIDHEADWATERTEST",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.mark.parametrize("service", sorted(SCENARIOS))
def test_in_process_client_answers_as_boto3_over_the_wire(
    service: str, pair: tuple[Headwater, Headwater]
) -> None:
    ours, theirs = pair
    in_process = Recorder()
    SCENARIOS[service](ours.client(service), in_process, ours)
    param_validation_calls(ours.client(service), in_process, service)
    integer_width_calls(ours.client(service), in_process, service)
    paging_calls(ours.client(service), in_process, service)
    text_calls(ours.client(service), in_process, service)
    naming_calls(ours.client(service), in_process, service)
    over_the_wire = Recorder()
    with boto3_in_process(theirs):
        SCENARIOS[service](_boto3_client(service), over_the_wire, theirs)
        param_validation_calls(_boto3_client(service), over_the_wire, service)
        integer_width_calls(_boto3_client(service), over_the_wire, service)
        paging_calls(_boto3_client(service), over_the_wire, service)
        text_calls(_boto3_client(service), over_the_wire, service)
        naming_calls(_boto3_client(service), over_the_wire, service)
    assert [label for label, _ in in_process.outcomes] == [
        label for label, _ in over_the_wire.outcomes
    ]
    mismatches = [
        (label, ours_, wire)
        for (label, ours_), (_, wire) in zip(
            in_process.outcomes, over_the_wire.outcomes, strict=True
        )
        if ours_ != wire
    ]
    assert mismatches == []


@pytest.mark.parametrize("service", sorted(SCENARIOS))
def test_another_regions_resources_answer_alike(
    service: str, pair: tuple[Headwater, Headwater]
) -> None:
    ours, theirs = pair
    in_process = Recorder()
    regional_calls(ours.client(service, "eu-west-1"), in_process, service)
    over_the_wire = Recorder()
    with boto3_in_process(theirs):
        regional_calls(_boto3_client(service, "eu-west-1"), over_the_wire, service)
    assert in_process.outcomes == over_the_wire.outcomes
