"""boto3's paginators and waiters through the in-process client, as code written for
boto3 uses them (``client.get_paginator(...)``, ``client.get_waiter(...)``)."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import OperationNotPageableError, WaiterError

from headwater import Headwater


def test_s3_list_objects_v2_pages_through_every_key(hw: Headwater) -> None:
    s3 = hw.client("s3")
    s3.create_bucket(Bucket="pages")
    keys = [f"k/{i:04d}" for i in range(25)]
    for key in keys:
        s3.put_object(Bucket="pages", Key=key, Body=b"x")
    paginator = s3.get_paginator("list_objects_v2")
    pages = list(paginator.paginate(Bucket="pages", PaginationConfig={"PageSize": 10}))
    assert [page["KeyCount"] for page in pages] == [10, 10, 5]
    assert [o["Key"] for page in pages for o in page["Contents"]] == keys
    # build_full_result merges the pages and stops at MaxItems with a resume token
    first = paginator.paginate(
        Bucket="pages", PaginationConfig={"MaxItems": 12}
    ).build_full_result()
    assert [o["Key"] for o in first["Contents"]] == keys[:12]
    rest = paginator.paginate(
        Bucket="pages", PaginationConfig={"StartingToken": first["NextToken"]}
    ).build_full_result()
    assert [o["Key"] for o in rest["Contents"]] == keys[12:]


def test_dynamodb_scan_paginator_and_search(hw: Headwater) -> None:
    ddb = hw.client("dynamodb")
    ddb.create_table(
        TableName="paged",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for i in range(7):
        ddb.put_item(TableName="paged", Item={"pk": {"S": f"p{i}"}, "n": {"N": str(i)}})
    pages = list(ddb.get_paginator("scan").paginate(TableName="paged", Limit=3))
    assert [page["Count"] for page in pages] == [3, 3, 1]
    found = ddb.get_paginator("scan").paginate(TableName="paged").search("Items[].n.N")
    assert sorted(found) == [str(i) for i in range(7)]


def test_paginators_of_other_services(hw: Headwater) -> None:
    sqs = hw.client("sqs")
    for i in range(3):
        sqs.create_queue(QueueName=f"q{i}")
    pages = list(sqs.get_paginator("list_queues").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(page["QueueUrls"]) for page in pages] == [2, 1]
    logs = hw.client("logs")
    for i in range(3):
        logs.create_log_group(logGroupName=f"/g/{i}")
    groups = logs.get_paginator("describe_log_groups").paginate(PaginationConfig={"PageSize": 2})
    assert [g["logGroupName"] for page in groups for g in page["logGroups"]] == [
        "/g/0",
        "/g/1",
        "/g/2",
    ]


def test_can_paginate_and_an_operation_without_a_paginator(hw: Headwater) -> None:
    s3 = hw.client("s3")
    assert s3.can_paginate("list_objects_v2")
    assert not s3.can_paginate("put_object")
    assert not s3.can_paginate("ListObjectsV2")  # boto3 takes the method name
    assert not s3.can_paginate("no_such_method")
    with pytest.raises(OperationNotPageableError):
        s3.get_paginator("put_object")
    s3.close()  # boto3's clients have it; nothing to release in process
    assert s3.can_paginate("list_buckets")


def test_waiters_see_resources_appear_and_go(hw: Headwater) -> None:
    ddb = hw.client("dynamodb")
    assert "table_exists" in ddb.waiter_names
    ddb.create_table(
        TableName="waited",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.get_waiter("table_exists").wait(TableName="waited")
    ddb.delete_table(TableName="waited")
    ddb.get_waiter("table_not_exists").wait(TableName="waited")

    s3 = hw.client("s3")
    s3.create_bucket(Bucket="waited")
    s3.get_waiter("bucket_exists").wait(Bucket="waited")
    s3.put_object(Bucket="waited", Key="k", Body=b"x")
    s3.get_waiter("object_exists").wait(Bucket="waited", Key="k")
    s3.delete_object(Bucket="waited", Key="k")
    s3.get_waiter("object_not_exists").wait(Bucket="waited", Key="k")


def test_a_waiter_gives_up_as_boto3_does(hw: Headwater) -> None:
    # object_exists retries on a 404; with one attempt it gives up at once
    s3 = hw.client("s3")
    with pytest.raises(WaiterError) as caught:
        s3.get_waiter("object_exists").wait(
            Bucket="nowhere", Key="k", WaiterConfig={"Delay": 0, "MaxAttempts": 1}
        )
    assert "Max attempts exceeded" in str(caught.value)


def test_unknown_waiter_and_a_service_without_waiters(hw: Headwater) -> None:
    with pytest.raises(ValueError, match="Waiter does not exist: no_such"):
        hw.client("s3").get_waiter("no_such")
    sts = hw.client("sts")
    assert sts.waiter_names == []
    with pytest.raises(ValueError, match="Waiter does not exist: anything"):
        sts.get_waiter("anything")


@pytest.mark.parametrize("region", ["us-east-1", "cn-north-1", "eu-south-9"])
def test_meta_answers_what_boto3s_does(region: str) -> None:
    # partition, method_to_api_mapping and config.region_name were AttributeErrors
    with Headwater.in_memory() as hw:
        ours = hw.client("sqs", region).meta
        theirs = boto3.client("sqs", region_name=region).meta
        assert ours.partition == theirs.partition
        assert ours.method_to_api_mapping == theirs.method_to_api_mapping
        assert ours.config.region_name == theirs.config.region_name == region
