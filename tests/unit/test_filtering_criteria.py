"""FilterCriteria per source: data decoding, AWS's format rules, validation errors."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from headwater.core.errors import AwsError
from headwater.filtering import compile_filter_criteria


def criteria(*patterns: Any) -> dict[str, Any]:
    return {"Filters": [{"Pattern": p if isinstance(p, str) else json.dumps(p)} for p in patterns]}


def sqs(body: str, **extra: Any) -> dict[str, Any]:
    record = {
        "messageId": "m-1",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SenderId": "AIDA"},
        "messageAttributes": {
            "tenant": {
                "stringValue": "acme",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            }
        },
        "eventSource": "aws:sqs",
    }
    record.update(extra)
    return record


def kinesis(data: bytes, partition_key: str = "pk-1") -> dict[str, Any]:
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": "4959",
            "data": base64.b64encode(data).decode(),
            "approximateArrivalTimestamp": 1700000000.5,
        },
        "eventSource": "aws:kinesis",
        "eventName": "aws:kinesis:record",
        "awsRegion": "us-east-1",
    }


def dynamodb(event_name: str, new_image: dict[str, Any]) -> dict[str, Any]:
    return {
        "eventName": event_name,
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "ApproximateCreationDateTime": 1733418659.0,
            "Keys": {"id": {"S": "1"}},
            "NewImage": new_image,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


def invalid(error: AwsError) -> bool:
    return (
        error.code == "InvalidParameterValueException"
        and error.message == "Invalid filter pattern definition."
        and error.status == 400
        and error.fields == {"Type": "User"}
    )


# -- no filters --------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [None, {}, {"Filters": []}])
def test_no_filters_keep_everything(value: Any) -> None:
    record_filter = compile_filter_criteria(value, "sqs")
    assert record_filter.keeps_all
    assert record_filter.keep(sqs("anything"))


# -- SQS ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "pattern", "kept"),
    [
        # JSON body + object pattern: matched normally
        ('{"k": "v"}', {"body": {"k": ["v"]}}, True),
        ('{"k": "w"}', {"body": {"k": ["v"]}}, False),
        # plain body + object pattern: dropped, even for exists:false
        ("plain text", {"body": {"k": ["v"]}}, False),
        ("plain text", {"body": {"k": [{"exists": False}]}}, False),
        # plain body + value pattern: matched as a string
        ("plain text", {"body": ["plain text"]}, True),
        ("plain text", {"body": [{"prefix": "plain"}]}, True),
        ("plain text", {"body": ["other"]}, False),
        # JSON body + value pattern: dropped
        ('{"k": "v"}', {"body": [{"exists": True}]}, False),
        ('"quoted"', {"body": ["quoted"]}, False),
        ("123", {"body": [123]}, False),
        # no body in the pattern: metadata only, whatever the body is
        ("plain text", {"attributes": {"ApproximateReceiveCount": ["1"]}}, True),
        ('{"k": 1}', {"messageAttributes": {"tenant": {"stringValue": ["acme"]}}}, True),
        ('{"k": 1}', {"messageAttributes": {"tenant": {"stringValue": ["other"]}}}, False),
        # both at once
        ('{"k": 1}', {"body": {"k": [1]}, "eventSource": ["aws:sqs"]}, True),
        ('{"k": 1}', {"body": {"k": [1]}, "eventSource": ["aws:kinesis"]}, False),
        # numbers in JSON bodies are numbers
        ('{"n": 105}', {"body": {"n": [{"numeric": [">", 100]}]}}, True),
        ('{"n": "105"}', {"body": {"n": [{"numeric": [">", 100]}]}}, False),
        ('[{"k": "v"}, {"k": "w"}]', {"body": {"k": ["w"]}}, True),
    ],
)
def test_sqs_body_format_rules(body: str, pattern: Any, kept: bool) -> None:
    assert compile_filter_criteria(criteria(pattern), "sqs").keep(sqs(body)) is kept


def test_sqs_or_across_filters_and_or_inside_pattern() -> None:
    record_filter = compile_filter_criteria(
        criteria(
            {"body": {"kind": ["a"]}},
            {"body": ["plain"]},
            {"$or": [{"body": {"kind": ["b"]}}, {"attributes": {"SenderId": ["x"]}}]},
        ),
        "sqs",
    )
    assert record_filter.keep(sqs('{"kind": "a"}'))
    assert record_filter.keep(sqs('{"kind": "b"}'))
    assert record_filter.keep(sqs("plain"))
    assert not record_filter.keep(sqs('{"kind": "c"}'))
    assert record_filter.keep(sqs("not json", attributes={"SenderId": "x"}))


def test_sqs_record_is_not_modified() -> None:
    record = sqs('{"k": "v"}')
    compile_filter_criteria(criteria({"body": {"k": ["v"]}}), "sqs").keep(record)
    assert record["body"] == '{"k": "v"}'


def test_prepare_and_keep_prepared_agree_with_keep() -> None:
    record_filter = compile_filter_criteria(criteria({"body": {"k": ["v"]}}), "sqs")
    for body in ('{"k": "v"}', '{"k": "w"}', "plain"):
        record = sqs(body)
        view, is_json = record_filter.prepare(record)
        assert record_filter.keep_prepared(view, is_json) is record_filter.keep(record)


# -- Kinesis -----------------------------------------------------------------------------------
def test_kinesis_data_is_decoded_and_parsed() -> None:
    record_filter = compile_filter_criteria(criteria({"data": {"type": ["order"]}}), "kinesis")
    assert record_filter.keep(kinesis(b'{"type": "order"}'))
    assert not record_filter.keep(kinesis(b'{"type": "refund"}'))
    assert not record_filter.keep(kinesis(b"not json"))
    assert not record_filter.keep(kinesis(b"\xff\xfe binary"))


def test_kinesis_non_json_data_still_matches_metadata_filters() -> None:
    record_filter = compile_filter_criteria(
        criteria({"kinesis": {"partitionKey": ["pk-1"]}}), "kinesis"
    )
    assert record_filter.keep(kinesis(b"not json"))
    assert not record_filter.keep(kinesis(b"not json", partition_key="pk-2"))


def test_kinesis_metadata_at_both_paths() -> None:
    short = compile_filter_criteria(criteria({"partitionKey": [{"prefix": "pk"}]}), "kinesis")
    assert short.keep(kinesis(b"{}"))
    assert not short.keep(kinesis(b"{}", partition_key="other"))


def test_kinesis_data_exists_false_needs_json() -> None:
    record_filter = compile_filter_criteria(
        criteria({"data": {"k": [{"exists": False}]}}), "kinesis"
    )
    assert record_filter.keep(kinesis(b'{"other": 1}'))
    assert not record_filter.keep(kinesis(b"plain"))


@pytest.mark.parametrize(
    ("source", "pattern"),
    [
        ("kinesis", {"data": ["x"]}),
        ("kinesis", {"data": [{"exists": True}]}),
        ("dynamodb", {"dynamodb": [{"exists": True}]}),
        ("dynamodb", {"$or": [{"dynamodb": ["x"]}, {"eventName": ["INSERT"]}]}),
    ],
)
def test_value_pattern_for_the_data_key_is_rejected(source: str, pattern: Any) -> None:
    with pytest.raises(AwsError) as info:
        compile_filter_criteria(criteria(pattern), source)
    assert invalid(info.value)


# -- DynamoDB ----------------------------------------------------------------------------------
def test_dynamodb_typed_values_and_event_name() -> None:
    record_filter = compile_filter_criteria(
        criteria(
            {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"status": {"S": ["ACTIVE"]}}}}
        ),
        "dynamodb",
    )
    assert record_filter.keep(dynamodb("INSERT", {"status": {"S": "ACTIVE"}}))
    assert not record_filter.keep(dynamodb("MODIFY", {"status": {"S": "ACTIVE"}}))
    assert not record_filter.keep(dynamodb("INSERT", {"status": {"S": "GONE"}}))


def test_dynamodb_numbers_are_strings() -> None:
    record_filter = compile_filter_criteria(
        criteria({"dynamodb": {"NewImage": {"n": {"N": [{"numeric": [">", 100]}]}}}}),
        "dynamodb",
    )
    assert not record_filter.keep(dynamodb("INSERT", {"n": {"N": "500"}}))
    top_level = compile_filter_criteria(
        criteria({"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">", 0]}]}}),
        "dynamodb",
    )
    assert top_level.keep(dynamodb("INSERT", {}))


# -- validation --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        {"Filters": [{"Pattern": "null"}]},
        {"Filters": [{"Pattern": "simple string"}]},
        {"Filters": [{"Pattern": '{"eventSource": "aws:sqs"}'}]},
        {"Filters": [{"Pattern": '{"eventSource": []}'}]},
        {"Filters": [{"Pattern": ""}]},
        {"Filters": [{"Pattern": "   "}]},
        {"Filters": [{}]},
        {"Filters": [{"Pattern": '{"a": ["b"]}'}, {"Pattern": "{"}]},
        {"Filters": "not a list"},
        {"Filters": ["not an object"]},
        "not an object",
    ],
)
def test_invalid_criteria(value: Any) -> None:
    with pytest.raises(AwsError) as info:
        compile_filter_criteria(value, "sqs")
    assert invalid(info.value)


def test_at_most_five_filters() -> None:
    five = criteria(*({"body": {"k": [i]}} for i in range(5)))
    assert not compile_filter_criteria(five, "sqs").keeps_all
    with pytest.raises(AwsError) as info:
        compile_filter_criteria(criteria(*({"body": {"k": [i]}} for i in range(6))), "sqs")
    assert invalid(info.value)


def test_pattern_length_limit() -> None:
    at_limit = '{"k": ["' + "x" * (4096 - 11) + '"]}'
    assert len(at_limit) == 4096
    compile_filter_criteria({"Filters": [{"Pattern": at_limit}]}, "sqs")
    too_long = '{"k": ["' + "x" * (4096 - 10) + '"]}'
    with pytest.raises(AwsError) as info:
        compile_filter_criteria({"Filters": [{"Pattern": "{}"}, {"Pattern": too_long}]}, "sqs")
    assert info.value.code == "ValidationException"
    assert info.value.message.startswith('1 validation error detected: Value \'{"k"')
    assert info.value.message.endswith(
        "at 'filterCriteria.filters.2.member.pattern' failed to satisfy constraint: "
        "Member must have length less than or equal to 4096"
    )


def test_unknown_source() -> None:
    with pytest.raises(ValueError, match="unknown event source"):
        compile_filter_criteria(None, "kafka")


def test_sqs_json_body_with_escaped_lone_surrogate_is_json() -> None:
    record_filter = compile_filter_criteria(criteria({"body": {"a": [{"exists": True}]}}), "sqs")
    assert record_filter.keep(sqs('{"a": "\\ud800"}'))
    assert not record_filter.keep(sqs('{"a": NaN}'))  # not JSON: a plain body
