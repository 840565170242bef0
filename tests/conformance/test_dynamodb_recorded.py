"""Replay the AWS-recorded DynamoDB responses (tests/data/recorded/dynamodb.json) in scope
of the tables-and-items service, through hw.dynamodb (boto3 shapes, in process).

Requests are rebuilt from each snapshot's keys; placeholders in the recording match any
value. Streams records (GetRecords), Kinesis streaming destinations, global tables and
KMS key descriptions belong to other services and are not replayed here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from tests.conformance.recorded import assert_like_recording, recordings

SNAPSHOTS = recordings("dynamodb")


def snapshot(name: str) -> dict[str, Any]:
    return SNAPSHOTS[f"TestDynamoDB::{name}"]


@pytest.fixture
def ddb() -> Iterator[Any]:
    with Headwater.in_memory(clock=ManualClock()) as hw:
        yield hw.dynamodb


def hash_table(ddb: Any, name: str, key: str = "id", **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": key, "AttributeType": "S"}],
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    }
    params.update(extra)
    result: dict[str, Any] = ddb.create_table(**params)
    return result


def check(expected: Any, actual: Any) -> None:
    assert_like_recording(expected, actual, "us-east-1")


def failure(call: Any, **params: Any) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return caught.value


def test_table_crud(ddb: Any) -> None:
    recording = snapshot("test_table_crud")
    check(recording["create-table"], hash_table(ddb, "crud-table"))
    check(recording["describe-table"], ddb.describe_table(TableName="crud-table"))
    check(recording["delete-table"], ddb.delete_table(TableName="crud-table"))
    error = failure(ddb.delete_table, TableName="non-existent")
    check(recording["delete-non-existent-table"], error.response)


def test_table_warm_throughput(ddb: Any) -> None:
    recording = snapshot("test_table_warm_throughput")
    created = hash_table(
        ddb, "warm-table", WarmThroughput={"ReadUnitsPerSecond": 1000, "WriteUnitsPerSecond": 1200}
    )
    check(recording["create-table"], created)
    check(recording["describe-table"], ddb.describe_table(TableName="warm-table"))


@pytest.mark.parametrize("billing", ["PAY_PER_REQUEST", "PROVISIONED"])
def test_gsi_with_billing_mode(ddb: Any, billing: str) -> None:
    recording = snapshot(f"test_gsi_with_billing_mode[{billing}]")
    throughput = {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
    index: dict[str, Any] = {
        "IndexName": "TransactionRecordID",
        "KeySchema": [{"AttributeName": "TRID", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
    }
    params: dict[str, Any] = {"BillingMode": billing}
    if billing == "PROVISIONED":
        index["ProvisionedThroughput"] = throughput
        params["ProvisionedThroughput"] = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    created = ddb.create_table(
        TableName="gsi-table",
        KeySchema=[{"AttributeName": "TID", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "TID", "AttributeType": "S"},
            {"AttributeName": "TRID", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[index],
        **params,
    )
    check(recording["create-table-with-gsi"], created)
    check(recording["describe-table"], ddb.describe_table(TableName="gsi-table"))


def test_create_duplicate_table(ddb: Any) -> None:
    recording = snapshot("test_create_duplicate_table")
    hash_table(ddb, "dup-table")
    error = failure(lambda: hash_table(ddb, "dup-table"))
    assert str(error) == recording["Error"].replace("<test-table>", "dup-table")


def test_dynamodb_pay_per_request(ddb: Any) -> None:
    recording = snapshot("test_dynamodb_pay_per_request")
    error = failure(lambda: hash_table(ddb, "ppr-table", BillingMode="PAY_PER_REQUEST"))
    assert str(error) == recording["Error"]


def test_return_values_in_put_item(ddb: Any) -> None:
    recording = snapshot("test_return_values_in_put_item")
    hash_table(ddb, "rv-table")
    item1 = {"id": {"S": "id1"}, "data": {"S": "foobar"}}
    item1b = {"id": {"S": "id1"}, "data": {"S": "barfoo"}}
    item2 = {"id": {"S": "id2"}, "data": {"S": "foobar"}}
    check(
        recording["PutFirstItem"],
        put := ddb.put_item(TableName="rv-table", Item=item1, ReturnValues="ALL_OLD"),
    )
    assert "Attributes" not in put
    check(
        recording["PutFirstItemOLD"],
        ddb.put_item(TableName="rv-table", Item=item1, ReturnValues="ALL_OLD"),
    )
    check(
        recording["PutFirstItemB"],
        ddb.put_item(TableName="rv-table", Item=item1b, ReturnValues="ALL_OLD"),
    )
    check(recording["PutSecondItem"], ddb.put_item(TableName="rv-table", Item=item2))
    check(
        recording["PutSecondItemReturnNone"],
        ddb.put_item(TableName="rv-table", Item=item2, ReturnValues="NONE"),
    )


def test_return_values_on_conditions_check_failure(ddb: Any) -> None:
    recording = snapshot("test_return_values_on_conditions_check_failure")
    hash_table(ddb, "ccf-table")
    item = {"id": {"S": "456"}, "price": {"N": "650"}, "product": {"S": "sporting goods"}}
    ddb.put_item(TableName="ccf-table", Item=item)
    error = failure(
        ddb.update_item,
        TableName="ccf-table",
        Key={"id": {"S": "456"}},
        UpdateExpression="SET price = :p",
        ConditionExpression="price < :limit",
        ExpressionAttributeValues={":p": {"N": "500"}, ":limit": {"N": "600"}},
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )
    check(recording["items"], error.response)


def test_empty_and_binary_values(ddb: Any) -> None:
    recording = snapshot("test_empty_and_binary_values")
    hash_table(ddb, "empty-table")
    check(
        recording["PutFirstItem"],
        ddb.put_item(TableName="empty-table", Item={"id": {"S": "id1"}, "data": {"B": b""}}),
    )
    check(
        recording["PutSecondItem"],
        ddb.put_item(TableName="empty-table", Item={"id": {"S": "id2"}, "data": {"S": ""}}),
    )


def test_batch_write_items_and_binary(ddb: Any) -> None:
    hash_table(ddb, "batch-table")
    response = ddb.batch_write_item(
        RequestItems={
            "batch-table": [
                {"PutRequest": {"Item": {"id": {"S": f"Fred{i}"}, "data": {"B": b"\x00\x90"}}}}
                for i in range(3)
            ]
        }
    )
    check(snapshot("test_batch_write_binary")["Response"], response)
    response = ddb.batch_write_item(
        RequestItems={"batch-table": [{"DeleteRequest": {"Key": {"id": {"S": "Fred0"}}}}]}
    )
    check(snapshot("test_batch_write_items")["BatchWriteResponse"], response)


def test_batch_write_not_matching_schema(ddb: Any) -> None:
    recording = snapshot("test_batch_write_not_matching_schema")
    hash_table(ddb, "schema-table")
    error = failure(
        ddb.batch_write_item,
        RequestItems={"schema-table": [{"PutRequest": {"Item": {"not-id": {"S": "x"}}}}]},
    )
    assert str(error) == recording["ValidationException"]


def test_batch_write_not_existing_table(ddb: Any) -> None:
    recording = snapshot("test_batch_write_not_existing_table")
    error = failure(
        ddb.transact_write_items,
        TransactItems=[{"Put": {"TableName": "missing-table", "Item": {"id": {"S": "x"}}}}],
    )
    check(recording["exc-not-found-transact-write-items"], error.response)


def test_dynamodb_get_batch_items(ddb: Any) -> None:
    recording = snapshot("test_dynamodb_get_batch_items")
    hash_table(ddb, "get-table")
    response = ddb.batch_get_item(RequestItems={"get-table": {"Keys": [{"id": {"S": "nothing"}}]}})
    check(recording["Response"], response)


def test_dynamodb_idempotent_writing(ddb: Any) -> None:
    recording = snapshot("test_dynamodb_idempotent_writing")
    hash_table(ddb, "idem-table")
    item = {"id": {"S": "id1"}, "name": {"S": "x"}}
    check(recording["Response1"], ddb.put_item(TableName="idem-table", Item=item))
    check(recording["Response2"], ddb.put_item(TableName="idem-table", Item=item))


def test_transaction_write_items_by_name_and_arn(ddb: Any) -> None:
    recording = snapshot("test_transaction_write_items")
    arn = hash_table(ddb, "tx-table")["TableDescription"]["TableArn"]
    actions = [
        {
            "ConditionCheck": {
                "TableName": "tx-table",
                "Key": {"id": {"S": "a"}},
                "ConditionExpression": "attribute_not_exists(id)",
            }
        },
        {"Put": {"TableName": "tx-table", "Item": {"id": {"S": "b"}}}},
        {
            "Update": {
                "TableName": "tx-table",
                "Key": {"id": {"S": "c"}},
                "UpdateExpression": "SET v = :v",
                "ExpressionAttributeValues": {":v": {"N": "1"}},
            }
        },
        {"Delete": {"TableName": "tx-table", "Key": {"id": {"S": "d"}}}},
    ]
    check(recording["Response"], ddb.transact_write_items(TransactItems=actions))
    by_arn = [
        {kind: {**body, "TableName": arn}} for action in actions for kind, body in action.items()
    ]
    by_arn[1]["Put"]["Item"] = {"id": {"S": "e"}}
    check(recording["Response_using_table_arn"], ddb.transact_write_items(TransactItems=by_arn))


def test_transaction_write_canceled(ddb: Any) -> None:
    recording = snapshot("test_transaction_write_canceled")
    hash_table(ddb, "cancel-table")
    ddb.put_item(TableName="cancel-table", Item={"id": {"S": "user"}})
    error = failure(
        ddb.transact_write_items,
        TransactItems=[
            {
                "ConditionCheck": {
                    "TableName": "cancel-table",
                    "Key": {"id": {"S": "user"}},
                    "ConditionExpression": "attribute_not_exists(id)",
                }
            },
            {"Delete": {"TableName": "cancel-table", "Key": {"id": {"S": "other"}}}},
        ],
    )
    assert str(error) == recording["Error"]


def test_transaction_write_binary_data(ddb: Any) -> None:
    recording = snapshot("test_transaction_write_binary_data")
    hash_table(ddb, "txbin-table")
    item = {"id": {"S": "someUser"}, "binaryData": {"B": b"foobar"}}
    check(
        recording["WriteResponse"],
        ddb.transact_write_items(
            TransactItems=[{"Put": {"TableName": "txbin-table", "Item": item}}]
        ),
    )
    got = ddb.get_item(TableName="txbin-table", Key={"id": {"S": "someUser"}})["Item"]
    # the snapshot tool recorded the bytes value as its repr
    assert {
        k: {t: repr(v) if t == "B" else v for t, v in av.items()} for k, av in got.items()
    } == recording["GetItem"]


def test_transact_get_items(ddb: Any) -> None:
    recording = snapshot("test_transact_get_items")
    arn = hash_table(ddb, "txget-table")["TableDescription"]["TableArn"]
    for name in ("John", "Sarah"):
        ddb.put_item(TableName="txget-table", Item={"id": {"S": name}})
    response = ddb.transact_get_items(
        TransactItems=[{"Get": {"TableName": "txget-table", "Key": {"id": {"S": "John"}}}}]
    )
    check(recording["TransactGetItems"], response)
    response = ddb.transact_get_items(
        TransactItems=[{"Get": {"TableName": arn, "Key": {"id": {"S": "Sarah"}}}}]
    )
    check(recording["TransactGetItems-with-TableArn"], response)


def test_data_encoding_consistency(ddb: Any) -> None:
    recording = snapshot("test_data_encoding_consistency")
    hash_table(ddb, "enc-table")
    ddb.put_item(
        TableName="enc-table",
        Item={"id": {"S": "id1"}, "version": {"N": "1"}, "data": {"B": b"\x90"}},
    )
    item = ddb.get_item(TableName="enc-table", Key={"id": {"S": "id1"}})["Item"]
    shown = {k: {t: repr(v) if t == "B" else v for t, v in av.items()} for k, av in item.items()}
    assert shown == recording["GetItem"]
    ddb.update_item(
        TableName="enc-table",
        Key={"id": {"S": "id1"}},
        UpdateExpression="SET version = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    )
    item = ddb.get_item(TableName="enc-table", Key={"id": {"S": "id1"}})["Item"]
    shown = {k: {t: repr(v) if t == "B" else v for t, v in av.items()} for k, av in item.items()}
    assert shown == recording["GetItemAfterUpdate"]


def test_valid_local_secondary_index(ddb: Any) -> None:
    recording = snapshot("test_valid_local_secondary_index")
    ddb.create_table(
        TableName="lsi-table",
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
            {"AttributeName": "LSI1SK", "AttributeType": "N"},
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "LSI1",
                "KeySchema": [
                    {"AttributeName": "PK", "KeyType": "HASH"},
                    {"AttributeName": "LSI1SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(
        TableName="lsi-table",
        Item={"PK": {"S": "test one"}, "SK": {"S": "hello"}, "LSI1SK": {"N": "123"}},
    )
    response = ddb.query(
        TableName="lsi-table",
        IndexName="LSI1",
        KeyConditionExpression="PK = :v1",
        ExpressionAttributeValues={":v1": {"S": "test one"}},
        Select="ALL_ATTRIBUTES",
    )
    check(recording["Items"], response)


def test_continuous_backup_update(ddb: Any) -> None:
    recording = snapshot("test_continuous_backup_update")
    hash_table(ddb, "pitr-table")
    response = ddb.update_continuous_backups(
        TableName="pitr-table",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    check(recording["update-continuous-backup"], response)
    check(
        recording["describe-continuous-backup"],
        ddb.describe_continuous_backups(TableName="pitr-table"),
    )


def test_sse_specification(ddb: Any) -> None:
    partial = snapshot("test_dynamodb_create_table_with_partial_sse_specification")
    created = hash_table(ddb, "sse-table", SSESpecification={"Enabled": True})
    check(partial["SSEDescription"], created["TableDescription"]["SSEDescription"])
    unchanged = snapshot("test_dynamodb_update_table_without_sse_specification_change")
    check(unchanged["create_table_sse_description"], created["TableDescription"]["SSEDescription"])
    updated = ddb.update_table(TableName="sse-table", BillingMode="PAY_PER_REQUEST")
    check(unchanged["update_table_sse_description"], updated["TableDescription"]["SSEDescription"])
    key = created["TableDescription"]["SSEDescription"]["KMSMasterKeyArn"]
    assert (
        key
        == ddb.describe_table(TableName="sse-table")["Table"]["SSEDescription"]["KMSMasterKeyArn"]
    )


def test_table_with_stream_describes_it(ddb: Any) -> None:
    recording = snapshot("test_batch_write_items_streaming")
    created = hash_table(
        ddb,
        "stream-table",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    check(recording["create-table"], created)
    check(
        recording["put-item-1"], ddb.put_item(TableName="stream-table", Item={"id": {"S": "Fred"}})
    )
    check(
        recording["batch-write-response-overwrite-item-1"],
        ddb.batch_write_item(
            RequestItems={
                "stream-table": [
                    {"PutRequest": {"Item": {"id": {"S": "Fred"}, "name": {"S": "Fred"}}}}
                ]
            }
        ),
    )


def test_dynamodb_describe_contributor_insights(ddb: Any) -> None:
    recording = snapshot("test_dynamodb_describe_contributor_insights")
    hash_table(ddb, "ci-table")
    check(
        recording["describe-contributor-insights-disabled"],
        ddb.describe_contributor_insights(TableName="ci-table"),
    )


def test_execute_statement_empty_parameters() -> None:
    recording = snapshot("test_dynamodb_execute_statement_empy_parameter")
    with Headwater.in_memory(clock=ManualClock()) as hw:
        unchecked = hw.client("dynamodb", validate=False)  # as AWS saw it: no client-side check
        hash_table(unchecked, "partiql-table")
        error = failure(
            unchecked.execute_statement, Statement='SELECT * FROM "partiql-table"', Parameters=[]
        )
    check(recording["invalid-param-error"], error.response)


def username_table(ddb: Any, name: str) -> None:
    hash_table(ddb, name, key="Username")


def test_execute_transaction_of_inserts(ddb: Any) -> None:
    recording = snapshot("test_dynamodb_execute_transaction")
    username_table(ddb, "tx-table")
    statements = [
        {"Statement": "INSERT INTO \"tx-table\" VALUE {'Username': 'user01'}"},
        {"Statement": "INSERT INTO \"tx-table\" VALUE {'Username': 'user02'}"},
    ]
    check(recording["ExecutedTransaction"], ddb.execute_transaction(TransactStatements=statements))
    scan = ddb.scan(TableName="tx-table")
    scan["Items"].sort(key=lambda item: item["Username"]["S"])
    check(recording["TableScan"], scan)


def test_batch_execute_statement_insert_and_update(ddb: Any) -> None:
    recording = snapshot("test_dynamodb_batch_execute_statement")
    username_table(ddb, "batch-table")
    ddb.put_item(TableName="batch-table", Item={"Username": {"S": "user02"}})
    statements = [
        {"Statement": "INSERT INTO \"batch-table\" VALUE {'Username': 'user01'}"},
        {"Statement": "UPDATE \"batch-table\" SET Age=20 WHERE Username='user02'"},
    ]
    result = ddb.batch_execute_statement(Statements=statements)
    check(recording["ExecutedStatement"], result)
    user2 = ddb.get_item(TableName="batch-table", Key={"Username": {"S": "user02"}})["Item"]
    check(recording["ItemUser2"], user2)
    user1 = ddb.get_item(TableName="batch-table", Key={"Username": {"S": "user01"}})["Item"]
    check(recording["ItemUser1"], user1)


def test_partiql_is_missing(ddb: Any) -> None:
    recording = snapshot("test_dynamodb_partiql_missing")
    username_table(ddb, "missing-table")
    alice = "{'Username': 'Alice123', 'FirstName':'Alice'}"
    ddb.execute_statement(Statement=f'INSERT INTO "missing-table" VALUE {alice}')
    ddb.execute_statement(Statement="INSERT INTO \"missing-table\" VALUE {'Username': 'Bob'}")
    present = ddb.execute_statement(
        Statement='SELECT * FROM "missing-table" WHERE FirstName IS NOT MISSING'
    )["Items"]
    check(recording["FirstNameNotMissing"], present)
    missing = ddb.execute_statement(
        Statement='SELECT * FROM "missing-table" WHERE FirstName IS MISSING'
    )["Items"]
    assert missing == [{"Username": {"S": "Bob"}}]
