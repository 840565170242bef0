"""DynamoDB over the wire: boto3's client and Table resource, and the AWS CLI, against
``headwater serve``; and the seed's order processor fed by an SQS mapping."""

from __future__ import annotations

import datetime
import io
import json
import time
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from tests.conformance.recorded import assert_like_recording, recordings
from tests.conformance.server_process import (
    CLIENT_ENV,
    ServerProcess,
    aws_cli,
    boto_client,
    headwater_server,
)

pytestmark = [pytest.mark.integration]

APPS = Path(__file__).resolve().parents[1] / "data" / "apps"
SEED_HANDLER = APPS / "seed001" / "handler.py.txt"
#: The seed's metrics module, byte for byte: it publishes to headwater's CloudWatch.
SEED_METRICS = APPS / "seed001-terraform" / "src" / "metrics.py.txt"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with headwater_server(tmp_path_factory.mktemp("ddb")) as running:
        yield running


@pytest.fixture(scope="module")
def ddb(server: ServerProcess) -> Any:
    return boto_client(server.endpoint, "dynamodb")


@pytest.fixture(scope="module")
def resource(server: ServerProcess) -> Any:
    return boto3.resource(
        "dynamodb",
        endpoint_url=server.endpoint,
        region_name=CLIENT_ENV["AWS_REGION"],
        aws_access_key_id=CLIENT_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CLIENT_ENV["AWS_SECRET_ACCESS_KEY"],
    )


def make_table(ddb: Any, name: str, range_key: tuple[str, str] | None = None) -> None:
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    if range_key is not None:
        keys.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
        attributes.append({"AttributeName": range_key[0], "AttributeType": range_key[1]})
    ddb.create_table(
        TableName=name,
        KeySchema=keys,
        AttributeDefinitions=attributes,
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5})


def test_client_items_binary_numbers_and_errors(ddb: Any) -> None:
    make_table(ddb, "wire-items", ("sk", "N"))
    key = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    ddb.put_item(
        TableName="wire-items",
        Item={**key, "b": {"B": b"\x00\x90"}, "bs": {"BS": [b"x", b"y"]}, "n": {"N": "0.10"}},
    )
    item = ddb.get_item(TableName="wire-items", Key=key)["Item"]
    assert (
        item["b"] == {"B": b"\x00\x90"}
        and item["bs"] == {"BS": [b"x", b"y"]}
        and item["n"] == {"N": "0.1"}
    )
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException) as caught:
        ddb.put_item(
            TableName="wire-items",
            Item=key,
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert caught.value.response["Item"]["b"] == {"B": b"\x00\x90"}
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as missing:
        ddb.get_item(TableName="nowhere", Key=key)
    assert missing.value.response["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": "Requested resource not found",
    }
    with pytest.raises(ClientError) as invalid:
        ddb.update_item(
            TableName="wire-items",
            Key=key,
            UpdateExpression="SET status = :s",
            ExpressionAttributeValues={":s": {"S": "x"}},
        )
    assert invalid.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved "
        "keyword: status",
    }
    with pytest.raises(ddb.exceptions.TransactionCanceledException) as cancelled:
        ddb.transact_write_items(
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": "wire-items",
                        "Key": key,
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {"Put": {"TableName": "wire-items", "Item": {"pk": {"S": "b"}, "sk": {"N": "2"}}}},
            ]
        )
    assert cancelled.value.response["CancellationReasons"] == [
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
        {"Code": "None"},
    ]
    insert = "INSERT INTO \"wire-items\" VALUE {'pk': 'b', 'sk': 2}"
    assert ddb.execute_statement(Statement=insert)["Items"] == []
    selected = ddb.execute_statement(
        Statement='SELECT sk FROM "wire-items" WHERE pk = ?', Parameters=[{"S": "b"}]
    )
    assert selected["Items"] == [{"sk": {"N": "2"}}]
    with pytest.raises(ClientError) as duplicate:
        ddb.execute_statement(Statement=insert)
    assert duplicate.value.response["Error"] == {
        "Code": "DuplicateItemException",
        "Message": "Duplicate primary key exists in table",
    }


def test_recorded_table_lifecycle_over_the_wire(ddb: Any) -> None:
    recording = recordings("dynamodb")["TestDynamoDB::test_table_crud"]
    created = ddb.create_table(
        TableName="wire-crud",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    assert_like_recording(recording["create-table"], created, "us-west-2")
    assert_like_recording(
        recording["describe-table"], ddb.describe_table(TableName="wire-crud"), "us-west-2"
    )
    assert_like_recording(
        recording["delete-table"], ddb.delete_table(TableName="wire-crud"), "us-west-2"
    )
    with pytest.raises(ClientError) as caught:
        ddb.delete_table(TableName="non-existent")
    assert_like_recording(
        recording["delete-non-existent-table"], caught.value.response, "us-west-2"
    )


def test_table_resource_conditions_and_batch_writer(ddb: Any, resource: Any) -> None:
    make_table(ddb, "wire-resource", ("sk", "S"))
    table = resource.Table("wire-resource")
    with table.batch_writer() as writer:
        for i in range(60):
            writer.put_item(
                Item={
                    "pk": f"user#{i % 3}",
                    "sk": f"order#{i:03d}",
                    "total": Decimal(i) / 4,
                    "tags": {"a", "b"},
                }
            )
    page = table.query(
        KeyConditionExpression=Key("pk").eq("user#1") & Key("sk").begins_with("order#0"),
        ScanIndexForward=False,
    )
    assert [i["sk"] for i in page["Items"]][:2] == ["order#058", "order#055"]
    assert page["Items"][0]["total"] == Decimal("14.5") and page["Items"][0]["tags"] == {"a", "b"}
    filtered = table.scan(
        FilterExpression=Attr("total").between(Decimal(1), Decimal(2)) & Attr("pk").ne("user#0")
    )
    assert sorted(i["sk"] for i in filtered["Items"]) == [
        "order#004",
        "order#005",
        "order#007",
        "order#008",
    ]
    table.update_item(
        Key={"pk": "user#0", "sk": "order#000"},
        UpdateExpression="SET #s = :s ADD visits :one",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": "paid", ":one": 1},
        ConditionExpression=Attr("total").eq(0),
    )
    got = table.get_item(Key={"pk": "user#0", "sk": "order#000"})["Item"]
    assert got["status"] == "paid" and got["visits"] == 1
    with pytest.raises(ClientError):
        table.put_item(
            Item={"pk": "user#0", "sk": "order#000"}, ConditionExpression=Attr("pk").not_exists()
        )
    assert table.item_count == 60


def test_aws_cli(server: ServerProcess) -> None:
    aws_cli(
        server,
        "dynamodb",
        "create-table",
        "--table-name",
        "cli-table",
        "--attribute-definitions",
        "AttributeName=pk,AttributeType=S",
        "--key-schema",
        "AttributeName=pk,KeyType=HASH",
        "--billing-mode",
        "PAY_PER_REQUEST",
    )
    aws_cli(server, "dynamodb", "wait", "table-exists", "--table-name", "cli-table")
    aws_cli(
        server,
        "dynamodb",
        "put-item",
        "--table-name",
        "cli-table",
        "--item",
        '{"pk": {"S": "k1"}, "n": {"N": "42"}}',
    )
    got = aws_cli(
        server, "dynamodb", "get-item", "--table-name", "cli-table", "--key", '{"pk": {"S": "k1"}}'
    ).json()
    assert got["Item"] == {"pk": {"S": "k1"}, "n": {"N": "42"}}
    scanned = aws_cli(server, "dynamodb", "scan", "--table-name", "cli-table").json()
    assert scanned["Count"] == 1
    failed = aws_cli(
        server,
        "dynamodb",
        "put-item",
        "--table-name",
        "cli-table",
        "--item",
        '{"pk": {"S": "k1"}}',
        "--condition-expression",
        "attribute_not_exists(pk)",
        check=False,
    )
    assert failed.returncode != 0 and "ConditionalCheckFailedException" in failed.stderr
    tables = aws_cli(server, "dynamodb", "list-tables").json()
    assert "cli-table" in tables["TableNames"]


IDEMPOTENT_HANDLER = """
import json
import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def handler(event, context):
    failures = []
    for record in event["Records"]:
        order = json.loads(record["body"])
        try:
            table.put_item(
                Item={"pk": "ORDER#" + order["order_id"], "status": "pending", "deliveries": 1},
                ConditionExpression="attribute_not_exists(pk)",
            )
            table.update_item(
                Key={"pk": "ORDER#" + order["order_id"]},
                UpdateExpression="SET #status = :status, processed_at = :ts",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":status": "processed", ":ts": order["timestamp"]},
            )
        except table.meta.client.exceptions.ConditionalCheckFailedException:
            table.update_item(
                Key={"pk": "ORDER#" + order["order_id"]},
                UpdateExpression="ADD rejected_redeliveries :one",
                ExpressionAttributeValues={":one": 1},
            )
    return {"batchItemFailures": failures}
"""


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def deploy(
    server: ServerProcess, name: str, files: dict[str, str], handler: str, table: str
) -> str:
    sqs = boto_client(server.endpoint, "sqs")
    lam = boto_client(server.endpoint, "lambda")
    queue_url = sqs.create_queue(QueueName=f"{name}-queue")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/r",
        Handler=handler,
        Code={"ZipFile": zipped(files)},
        Timeout=30,
        Environment={"Variables": {"TABLE_NAME": table, "QUEUE_URL": queue_url}},
    )
    lam.create_event_source_mapping(
        EventSourceArn=queue_arn,
        FunctionName=name,
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    return str(queue_url)


def wait_for(check: Any, deadline_s: float = 60.0) -> Any:
    deadline = time.monotonic() + deadline_s
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


@pytest.mark.slow
def test_order_processor_second_delivery_rejected_by_the_condition(
    server: ServerProcess, ddb: Any
) -> None:
    ddb.create_table(
        TableName="orders-cond",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    queue_url = deploy(
        server, "order-cond", {"app.py": IDEMPOTENT_HANDLER}, "app.handler", "orders-cond"
    )
    sqs = boto_client(server.endpoint, "sqs")
    body = json.dumps({"order_id": "42", "timestamp": "2026-01-01T00:00:00Z"})
    sqs.send_message(QueueUrl=queue_url, MessageBody=body)
    key = {"pk": {"S": "ORDER#42"}}
    assert wait_for(
        lambda: (
            ddb.get_item(TableName="orders-cond", Key=key).get("Item", {}).get("status")
            == {"S": "processed"}
        )
    )
    sqs.send_message(QueueUrl=queue_url, MessageBody=body)  # the same order delivered again
    item = wait_for(
        lambda: (
            ddb.get_item(TableName="orders-cond", Key=key)
            .get("Item", {})
            .get("rejected_redeliveries")
        )
    )
    assert item == {"N": "1"}
    final = ddb.get_item(TableName="orders-cond", Key=key)["Item"]
    assert final["deliveries"] == {"N": "1"} and final["processed_at"] == {
        "S": "2026-01-01T00:00:00Z"
    }


@pytest.mark.slow
def test_seed_order_processor_runs_unmodified(server: ServerProcess, ddb: Any) -> None:
    ddb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    files = {
        "handler.py": SEED_HANDLER.read_text("utf-8"),
        "metrics.py": SEED_METRICS.read_text("utf-8"),
    }
    queue_url = deploy(server, "order-processor", files, "handler.process_order", "orders")
    sqs = boto_client(server.endpoint, "sqs")
    created = {
        "type": "order_created",
        "timestamp": "2026-01-01T00:00:00Z",
        "data": {
            "order_id": "7",
            "timestamp": "2026-01-01T00:00:00Z",
            "customer_id": "c1",
            "items": [{"sku": "A", "qty": 2}],
            "total": 30,
        },
    }
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(created))
    key = {"pk": {"S": "ORDER#7"}}
    item = wait_for(lambda: ddb.get_item(TableName="orders", Key=key).get("Item"))
    assert item == {
        "pk": {"S": "ORDER#7"},
        "sk": {"S": "METADATA"},
        "status": {"S": "pending"},
        "created_at": {"S": "2026-01-01T00:00:00Z"},
        "customer_id": {"S": "c1"},
        "items": {"L": [{"M": {"sku": {"S": "A"}, "qty": {"N": "2"}}}]},
        "total": {"N": "30"},
    }
    # a second delivery is skipped by the handler's own read; the item is unchanged
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(created))
    assert wait_for(
        lambda: (
            sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"][
                "ApproximateNumberOfMessages"
            ]
            == "0"
        )
    )
    assert ddb.get_item(TableName="orders", Key=key)["Item"] == item
    # the seed's metrics.py published each batch's figures to CloudWatch
    cloudwatch = boto_client(server.endpoint, "cloudwatch")

    def processed(status: str) -> float:
        now = datetime.datetime.now(datetime.UTC)
        points = cloudwatch.get_metric_statistics(
            Namespace="OrderProcessing",
            MetricName="MessagesProcessed",
            Dimensions=[{"Name": "Status", "Value": status}],
            StartTime=now - datetime.timedelta(hours=1),
            EndTime=now + datetime.timedelta(minutes=5),
            Period=3600,
            Statistics=["Sum", "SampleCount"],
        )["Datapoints"]
        return sum(point["Sum"] for point in points)

    assert wait_for(lambda: processed("Success") == 2)  # both deliveries succeeded
    assert processed("Failure") == 0
    durations = cloudwatch.list_metrics(
        Namespace="OrderProcessing", MetricName="ProcessingDuration"
    )
    assert [m["Dimensions"] for m in durations["Metrics"]] == [[]]
