"""Template text -> Template: JSON and YAML, short-form tags, CloudFormation's format errors."""

from __future__ import annotations

import json

import pytest

from headwater.core.errors import AwsError
from headwater.deploy.template import load_template, parse_document

YAML_TEMPLATE = """
AWSTemplateFormatVersion: 2010-09-09
Parameters:
  Env: {Type: String, Default: dev}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  NotProd: !Not [!Condition IsProd]
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${AWS::StackName}-${Env}"
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dlq.Arn
        maxReceiveCount: 3
      Tags:
        - Key: zones
          Value: !Join [",", !GetAZs ""]
        - Key: pick
          Value: !Select [1, !Split [",", "a,b,c"]]
  Dlq:
    Type: AWS::SQS::Queue
    Condition: NotProd
    Properties:
      VisibilityTimeout: !If [IsProd, 60, !Ref AWS::NoValue]
      Other: !GetAtt [Queue, Arn]
      Code: !Base64 "x"
      Nested: !FindInMap [M, !Ref "AWS::Region", Key]
      Json: !ToJsonString {a: 1}
      Count: !Length [1, 2]
      Net: !Cidr ["10.0.0.0/16", 2, 8]
      Imp: !ImportValue Shared
      Both: !And [!Condition IsProd, !Or [!Condition IsProd, !Condition NotProd]]
Outputs:
  Url: {Value: !Ref Queue}
"""


def test_yaml_short_forms_become_long_forms() -> None:
    document = parse_document(YAML_TEMPLATE)
    assert document["AWSTemplateFormatVersion"] == "2010-09-09"  # a string, not a date
    queue = document["Resources"]["Queue"]["Properties"]
    assert queue["QueueName"] == {"Fn::Sub": "${AWS::StackName}-${Env}"}
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["Dlq", "Arn"]}
    assert queue["Tags"][0]["Value"] == {"Fn::Join": [",", {"Fn::GetAZs": ""}]}
    assert queue["Tags"][1]["Value"] == {"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}
    dlq = document["Resources"]["Dlq"]["Properties"]
    assert dlq["VisibilityTimeout"] == {"Fn::If": ["IsProd", 60, {"Ref": "AWS::NoValue"}]}
    assert dlq["Other"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert dlq["Code"] == {"Fn::Base64": "x"}
    assert dlq["Nested"] == {"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "Key"]}
    assert dlq["Json"] == {"Fn::ToJsonString": {"a": 1}}
    assert dlq["Count"] == {"Fn::Length": [1, 2]}
    assert dlq["Net"] == {"Fn::Cidr": ["10.0.0.0/16", 2, 8]}
    assert dlq["Imp"] == {"Fn::ImportValue": "Shared"}
    assert document["Conditions"]["NotProd"] == {"Fn::Not": [{"Condition": "IsProd"}]}
    template = load_template(YAML_TEMPLATE)
    assert template.resources["Dlq"].condition == "NotProd"
    assert list(template.resources) == ["Queue", "Dlq"]


def test_getatt_short_form_keeps_dotted_attribute_names() -> None:
    document = parse_document(
        "Resources:\n  A:\n    Type: X\n    Properties:\n      P: !GetAtt Db.Endpoint.Address\n"
    )
    assert document["Resources"]["A"]["Properties"]["P"] == {
        "Fn::GetAtt": ["Db", "Endpoint.Address"]
    }


def test_json_and_yaml_give_the_same_document() -> None:
    as_yaml = parse_document(YAML_TEMPLATE)
    assert parse_document(json.dumps(as_yaml)) == as_yaml


def _error(body: str) -> AwsError:
    with pytest.raises(AwsError) as caught:
        load_template(body)
    assert caught.value.code == "ValidationError"
    return caught.value


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "Template format error: At least one Resources member must be defined."),
        (
            {"Resources": {"A": {"Properties": {}}}},
            "Template format error: [/Resources/A] Every Resources object must contain a Type "
            "member.",
        ),
        (
            {"Resources": {"A": {"Type": "AWS::SNS::Topic", "Invalid": 10}}},
            "Invalid template resource property 'Invalid'",
        ),
        (
            {"Resources": {"A": "text"}},
            "Template format error: Any Resources member must be an object.",
        ),
        (
            {
                "Resources": {"Foo": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {"MyOutput": {"Value": None}},
            },
            "[/Outputs/MyOutput/Value] 'null' values are not allowed in templates",
        ),
        (
            {"Resources": {"Foo": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"MyOutput": {}}},
            "Template format error: Every Outputs member must contain a Value object",
        ),
        (
            {"Resources": {"AWS::NoValue": {"Type": "AWS::SNS::Topic"}}},
            "Template format error: Resource name AWS::NoValue is non alphanumeric.",
        ),
        (
            {"Parameters": {"AWS::NoValue": {"Type": "String"}}, "Resources": {"A": {"Type": "T"}}},
            "Template format error: Parameter name AWS::NoValue is non alphanumeric.",
        ),
        (
            {"Resources": {"A": {"Type": "T"}}, "Bogus": 1},
            "Template format error: Invalid template property or properties [Bogus]",
        ),
        (
            {"Resources": {"A": {"Type": "T", "Properties": {"P": None}}}},
            "[/Resources/A/Properties/P] 'null' values are not allowed in templates",
        ),
    ],
)
def test_structure_errors_use_cloudformation_texts(document: object, message: str) -> None:
    assert _error(json.dumps(document)).message == message


def test_malformed_text_errors() -> None:
    assert _error('{"Resources": {"A": }').message.startswith(
        "Template format error: JSON not well-formed. (line 1, column"
    )
    assert (
        _error("Resources:\n  A: [unclosed\n").message
        == "Template format error: YAML not well-formed."
    )
    assert _error("https://example.com/template.yaml").message == (
        "Template format error: unsupported structure."
    )
