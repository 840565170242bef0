"""The composition root: typed options, the service table, generic protocols, SQL stores."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from headwater import Headwater, ManualClock
from headwater.app import HeadwaterClosed
from headwater.core.errors import AwsError
from headwater.models import service_model
from headwater.options import HeadwaterOptions
from headwater.services.base import Params, RequestContext, Result, Service, operation
from headwater.store.database import MemoryDatabase, SqliteDatabase
from headwater.wiring import SERVICES, UnknownService, service_class
from tests.unit.api_wire_fakes import botocore_parse, botocore_request, handle, make_router


def test_a_misspelt_option_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(
        TypeError,
        match=r"unknown headwater option 'function_worker'.*did you mean 'function_workers'",
    ):
        Headwater.in_memory(function_worker=2)


def test_options_are_typed_and_shared_by_services() -> None:
    with Headwater.in_memory(function_workers=3, kinesis_shard_limit=7) as hw:
        assert hw.options == HeadwaterOptions(function_workers=3, kinesis_shard_limit=7)
        assert hw.service("kinesis").env.options.kinesis_shard_limit == 7


def test_embedded_headwater_does_not_freeze_the_users_heap() -> None:
    assert HeadwaterOptions().esm_gc_freeze is False
    frozen_before = gc.get_freeze_count()
    with Headwater.in_memory(clock=ManualClock()) as hw:
        url = hw.sqs.create_queue(QueueName="q")["QueueUrl"]
        hw.start()  # the engine runs in this (the user's) process
        hw.sqs.send_message(QueueUrl=url, MessageBody="x")
        assert gc.get_freeze_count() == frozen_before


def test_every_listed_service_has_a_botocore_model() -> None:
    for name in SERVICES:
        assert service_model(name).service_name


def test_unknown_and_unbuilt_services() -> None:
    with pytest.raises(UnknownService):
        service_class("ec2")
    original = SERVICES.get("sts")
    SERVICES["sts"] = "headwater.services.not_built_yet:Nothing"
    try:
        with pytest.raises(AwsError, match="does not support the sts service yet"):
            service_class("sts")
    finally:
        if original is None:
            del SERVICES["sts"]
        else:
            SERVICES["sts"] = original


def test_hw_sqs_is_the_boto3_client() -> None:
    with Headwater.in_memory() as hw:
        url = hw.sqs.create_queue(QueueName="q")["QueueUrl"]
        hw.sqs.send_message(QueueUrl=url, MessageBody="hi")
        got = hw.sqs.receive_message(QueueUrl=url)["Messages"]
        assert [m["Body"] for m in got] == ["hi"]


def test_python_api_extras_raise_client_errors(tmp_path: Any) -> None:
    from botocore.exceptions import ClientError

    with Headwater.in_memory(functions="inline") as hw:
        (tmp_path / "app.py").write_text("def handle(event, context):\n    return 1\n")
        hw.lambda_.create_function_from_directory("f", tmp_path, "app.handle")
        with pytest.raises(ClientError) as caught:
            hw.lambda_.create_function_from_directory("f", tmp_path, "app.handle")
        assert caught.value.response["Error"]["Code"] == "ResourceConflictException"


def test_a_closed_headwater_says_so(tmp_path: Any) -> None:
    hw = Headwater(tmp_path / "data", functions="inline")
    sqs, lam = hw.sqs, hw.lambda_  # clients taken before close() say it too
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    hw.close()
    with pytest.raises(HeadwaterClosed):
        hw.service("sqs")
    with pytest.raises(HeadwaterClosed, match="closed"):
        sqs.send_message(QueueUrl=url, MessageBody="x")
    with pytest.raises(HeadwaterClosed):
        lam.create_function_from_directory("f", tmp_path, "app.handle")


class FakeSns(Service):
    service_name = "sns"

    def __init__(self) -> None:
        self.calls: list[Params] = []

    @operation("CreateTopic")
    def create_topic(self, params: Params, ctx: RequestContext) -> Result:
        self.calls.append(params)
        return {"TopicArn": f"arn:aws:sns:{ctx.region}:{ctx.account}:{params['Name']}"}

    @operation("ListTopics")
    def list_topics(self, params: Params, ctx: RequestContext) -> Result:
        return {"Topics": [{"TopicArn": "arn:1"}, {"TopicArn": "arn:2"}], "NextToken": "n"}

    @operation("GetTopicAttributes")
    def get_topic_attributes(self, params: Params, ctx: RequestContext) -> Result:
        raise AwsError("NotFound", "Topic does not exist", status=404)


class QueryServices:
    def __init__(self) -> None:
        self.sns = FakeSns()

    def __call__(self, name: str) -> Service:
        if name == "sns":
            return self.sns
        raise ValueError(name)


def test_a_query_service_round_trips_through_botocore_from_its_model() -> None:
    services = QueryServices()
    model = service_model("sns")
    params = {"Name": "t", "Attributes": {"DisplayName": "d"}, "Tags": [{"Key": "k", "Value": "v"}]}
    response = handle(make_router(services), botocore_request(model, "CreateTopic", params))
    assert response.status == 200
    assert (
        botocore_parse(model, "CreateTopic", response)["TopicArn"]
        == "arn:aws:sns:eu-west-1:000000000000:t"
    )
    assert services.sns.calls[-1] == params
    listed = handle(make_router(services), botocore_request(model, "ListTopics", {}))
    parsed = botocore_parse(model, "ListTopics", listed)
    assert parsed["Topics"] == [{"TopicArn": "arn:1"}, {"TopicArn": "arn:2"}]
    assert parsed["NextToken"] == "n"
    failed = handle(
        make_router(services), botocore_request(model, "GetTopicAttributes", {"TopicArn": "x"})
    )
    assert failed.status == 404
    error = botocore_parse(model, "GetTopicAttributes", failed)["Error"]
    assert (error["Code"], error["Message"]) == ("NotFound", "Topic does not exist")
    assert b"<Detail/>" not in failed.body


def test_an_unimplemented_query_operation_names_itself() -> None:
    services = QueryServices()
    model = service_model("sns")
    response = handle(make_router(services), botocore_request(model, "ListSubscriptions", {}))
    error = botocore_parse(model, "ListSubscriptions", response)["Error"]
    assert "ListSubscriptions is not supported by headwater's sns" in error["Message"]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_sql_stores_run_on_both_databases_and_roll_back(kind: str, tmp_path: Any) -> None:
    db = MemoryDatabase() if kind == "memory" else SqliteDatabase(tmp_path)
    try:
        db.migrate("t", ["CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)"])
        db.migrate("t", ["CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)"])  # once
        with db.transaction():
            db.conn.execute("INSERT INTO t VALUES ('a', 1)")
        with pytest.raises(RuntimeError), db.transaction():
            db.conn.execute("INSERT INTO t VALUES ('b', 2)")
            with db.transaction():  # nested: joins the outer transaction
                db.conn.execute("UPDATE t SET v = 5 WHERE k = 'a'")
            raise RuntimeError("boom")
        rows = db.conn.execute("SELECT k, v FROM t").fetchall()
        assert rows == [("a", 1)]
    finally:
        db.close()


def test_the_in_process_client_validates_like_botocore() -> None:
    from botocore.exceptions import ParamValidationError

    with Headwater.in_memory() as hw:
        with pytest.raises(ParamValidationError, match="valid min length: 1"):
            hw.lambda_.get_function(FunctionName="")
        with pytest.raises(ParamValidationError, match="Unknown parameter"):
            hw.client("dynamodb").describe_table(TableName="abc", Bogus=1)
        with pytest.raises(ParamValidationError, match="Invalid type"):
            hw.sqs.receive_message(QueueUrl="u", MaxNumberOfMessages="ten")
