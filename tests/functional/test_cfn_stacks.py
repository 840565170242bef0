"""CloudFormation stacks in process: create, update in place, replace, roll back, delete."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from tests.functional.cfn_support import (
    body,
    deploy,
    events_of,
    outputs_of,
    physical_ids,
    stack_of,
    status_of,
)

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
HANDLER = "def handler(event, context):\n    return {'batchItemFailures': []}\n"


def app(batch_size: int = 10, visibility: int = 180, **extra: Any) -> dict[str, Any]:
    """A queue with a DLQ feeding a function, as in the seed's SAM application."""
    resources: dict[str, Any] = {
        "Dlq": {"Type": "AWS::SQS::Queue"},
        "Queue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "VisibilityTimeout": visibility,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]},
                    "maxReceiveCount": 3,
                },
            },
        },
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": TRUST}},
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": "python3.12",
                "Handler": "index.handler",
                "Timeout": 30,
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Code": {"ZipFile": HANDLER},
            },
        },
        "Mapping": {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "FunctionName": {"Ref": "Fn"},
                "EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]},
                "BatchSize": batch_size,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
            },
        },
        **extra,
    }
    return {
        "Resources": resources,
        "Outputs": {
            "QueueUrl": {"Value": {"Ref": "Queue"}},
            "FunctionName": {"Value": {"Ref": "Fn"}},
            "MappingId": {"Value": {"Ref": "Mapping"}},
        },
    }


def queue_attributes(hw: Headwater, url: str) -> dict[str, str]:
    found: dict[str, str] = hw.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
        "Attributes"
    ]
    return found


def test_create_deploys_every_resource_with_its_references(hw: Headwater) -> None:
    assert deploy(hw, "shop", app()) == "CREATE_COMPLETE"
    out = outputs_of(hw, "shop")
    attributes = queue_attributes(hw, out["QueueUrl"])
    assert attributes["VisibilityTimeout"] == "180"
    dlq_url = physical_ids(hw, "shop")["Dlq"]
    dlq_arn = queue_attributes(hw, dlq_url)["QueueArn"]
    assert '"deadLetterTargetArn":"' + dlq_arn in attributes["RedrivePolicy"].replace(" ", "")
    mapping = hw.lambda_.get_event_source_mapping(UUID=out["MappingId"])
    assert mapping["BatchSize"] == 10
    assert mapping["EventSourceArn"] == attributes["QueueArn"]
    assert mapping["FunctionArn"].endswith(":function:" + out["FunctionName"])
    assert out["FunctionName"].startswith("shop-Fn-")
    assert (
        hw.lambda_.get_function(FunctionName=out["FunctionName"])["Configuration"]["Timeout"] == 30
    )
    events = events_of(hw, "shop")
    assert events[0] == ("shop", "CREATE_IN_PROGRESS")
    assert events[-1] == ("shop", "CREATE_COMPLETE")
    for logical_id in ("Dlq", "Queue", "Role", "Fn", "Mapping"):
        mine = [status for lid, status in events if lid == logical_id]
        assert mine == ["CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
    order = [lid for lid, status in events if status == "CREATE_COMPLETE"]
    assert order.index("Dlq") < order.index("Queue") < order.index("Mapping")
    assert order.index("Role") < order.index("Fn") < order.index("Mapping")


def test_update_touches_only_what_changed_and_keeps_the_mapping(hw: Headwater) -> None:
    deploy(hw, "shop", app())
    before = physical_ids(hw, "shop")
    seen = len(events_of(hw, "shop"))
    assert deploy(hw, "shop", app(batch_size=5)) == "UPDATE_COMPLETE"
    assert physical_ids(hw, "shop") == before
    assert hw.lambda_.get_event_source_mapping(UUID=before["Mapping"])["BatchSize"] == 5
    changed = events_of(hw, "shop")[seen:]
    assert changed == [
        ("shop", "UPDATE_IN_PROGRESS"),
        ("Mapping", "UPDATE_IN_PROGRESS"),
        ("Mapping", "UPDATE_COMPLETE"),
        ("shop", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
        ("shop", "UPDATE_COMPLETE"),
    ]


def test_no_changes_is_refused(hw: Headwater) -> None:
    deploy(hw, "shop", app())
    with pytest.raises(ClientError) as caught:
        deploy(hw, "shop", app())
    assert caught.value.response["Error"]["Message"] == "No updates are to be performed."


def test_create_only_change_replaces_and_repoints_dependents(hw: Headwater) -> None:
    deploy(hw, "shop", app())
    before = physical_ids(hw, "shop")
    document = app()
    document["Resources"]["Queue"]["Properties"]["QueueName"] = "orders-v2"
    assert deploy(hw, "shop", document) == "UPDATE_COMPLETE"
    after = physical_ids(hw, "shop")
    assert after["Queue"].endswith("/orders-v2")
    # the mapping's event source is create-only: it was replaced too, pointing at the new queue
    assert after["Mapping"] != before["Mapping"]
    assert hw.lambda_.get_event_source_mapping(UUID=after["Mapping"])["EventSourceArn"].endswith(
        ":orders-v2"
    )
    urls = hw.sqs.list_queues().get("QueueUrls", [])
    assert before["Queue"] not in urls and after["Queue"] in urls
    with pytest.raises(ClientError):
        hw.lambda_.get_event_source_mapping(UUID=before["Mapping"])
    assert after["Dlq"] == before["Dlq"] and after["Fn"] == before["Fn"]


def test_replacing_a_custom_named_resource_rolls_back(hw: Headwater) -> None:
    document = app()
    document["Resources"]["Dlq"]["Properties"] = {"QueueName": "fixed-dlq"}
    deploy(hw, "shop", document)
    before = physical_ids(hw, "shop")
    changed = app(visibility=60)
    changed["Resources"]["Dlq"]["Properties"] = {"QueueName": "fixed-dlq", "FifoQueue": True}
    assert deploy(hw, "shop", changed) == "UPDATE_ROLLBACK_COMPLETE"
    stack = stack_of(hw, "shop")
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    reasons = hw.client("cloudformation").describe_stack_events(StackName="shop")["StackEvents"]
    failed = [e for e in reasons if e["ResourceStatus"] == "UPDATE_FAILED"]
    assert failed[0]["ResourceStatusReason"] == (
        "CloudFormation cannot update a stack when a custom-named resource requires replacing. "
        "Rename fixed-dlq and update the stack again."
    )
    assert physical_ids(hw, "shop") == before
    assert queue_attributes(hw, before["Queue"])["VisibilityTimeout"] == "180"


def test_failed_update_restores_the_previous_state(hw: Headwater) -> None:
    deploy(hw, "shop", app())
    before = physical_ids(hw, "shop")
    broken = app(
        batch_size=7,
        visibility=90,
        Broken={
            "Type": "AWS::SQS::Queue",
            "DependsOn": "Mapping",
            "Properties": {"VisibilityTimeout": 99999},
        },
        Extra={"Type": "AWS::SQS::Queue"},
    )
    assert deploy(hw, "shop", broken) == "UPDATE_ROLLBACK_COMPLETE"
    assert physical_ids(hw, "shop") == before
    assert queue_attributes(hw, before["Queue"])["VisibilityTimeout"] == "180"
    assert hw.lambda_.get_event_source_mapping(UUID=before["Mapping"])["BatchSize"] == 10
    urls = hw.sqs.list_queues().get("QueueUrls", [])
    assert sorted(urls) == sorted([before["Queue"], before["Dlq"]])
    statuses = [status for lid, status in events_of(hw, "shop") if lid == "shop"]
    assert statuses[-4:] == [
        "UPDATE_IN_PROGRESS",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE",
    ]
    reason = stack_of(hw, "shop")
    assert reason["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    # the stack is usable again: a good update goes through
    assert deploy(hw, "shop", app(batch_size=7)) == "UPDATE_COMPLETE"


def test_failed_create_rolls_back_everything(hw: Headwater) -> None:
    document = app(
        Broken={"Type": "AWS::SQS::Queue", "DependsOn": "Fn", "Properties": {"DelaySeconds": 5000}}
    )
    assert deploy(hw, "shop", document) == "ROLLBACK_COMPLETE"
    stack = stack_of(hw, "shop")
    assert "StackStatusReason" not in stack and "DeletionTime" in stack  # as AWS shows it
    reasons = [
        e.get("ResourceStatusReason", "")
        for e in hw.client("cloudformation").describe_stack_events(StackName="shop")["StackEvents"]
    ]
    assert (
        "The following resource(s) failed to create: [Broken]. Rollback requested by user."
        in reasons
    )
    assert hw.sqs.list_queues().get("QueueUrls", []) == []
    assert hw.lambda_.list_functions()["Functions"] == []
    events = hw.client("cloudformation").describe_stack_events(StackName="shop")["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed[0]["LogicalResourceId"] == "Broken"
    assert "DelaySeconds" in failed[0]["ResourceStatusReason"]
    with pytest.raises(ClientError, match="ROLLBACK_COMPLETE state and can not be updated"):
        deploy(hw, "shop", app())


def test_disable_rollback_keeps_what_was_created(hw: Headwater) -> None:
    document = app(
        Broken={
            "Type": "AWS::SQS::Queue",
            "DependsOn": "Queue",
            "Properties": {"DelaySeconds": 5000},
        }
    )
    assert deploy(hw, "shop", document, DisableRollback=True) == "CREATE_FAILED"
    assert len(hw.sqs.list_queues()["QueueUrls"]) == 2


def test_delete_removes_everything_but_retained_resources(hw: Headwater) -> None:
    document = app()
    document["Resources"]["Dlq"]["DeletionPolicy"] = "Retain"
    deploy(hw, "shop", document)
    ids = physical_ids(hw, "shop")
    stack_id = stack_of(hw, "shop")["StackId"]
    hw.client("cloudformation").delete_stack(StackName="shop")
    assert stack_of(hw, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    assert hw.sqs.list_queues()["QueueUrls"] == [ids["Dlq"]]
    assert hw.lambda_.list_functions()["Functions"] == []
    assert hw.lambda_.list_event_source_mappings()["EventSourceMappings"] == []
    deleted = [(lid, s) for lid, s in events_of(hw, stack_id) if s.startswith("DELETE")]
    assert ("Dlq", "DELETE_SKIPPED") in deleted
    done = [lid for lid, s in deleted if s == "DELETE_COMPLETE"]
    assert done.index("Mapping") < done.index("Fn") < done.index("Role")
    assert done.index("Mapping") < done.index("Queue")
    with pytest.raises(ClientError, match="Stack with id shop does not exist"):
        stack_of(hw, "shop")


def test_exports_imports_and_their_protection(hw: Headwater) -> None:
    producer = {
        "Resources": {"Topic": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {"Url": {"Value": {"Ref": "Topic"}, "Export": {"Name": "shared-url"}}},
    }
    consumer = {
        "Resources": {
            "Param": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Type": "String", "Value": {"Fn::ImportValue": "shared-url"}},
            }
        }
    }
    deploy(hw, "producer", producer)
    deploy(hw, "consumer", consumer)
    cfn = hw.client("cloudformation")
    url = outputs_of(hw, "producer")["Url"]
    assert cfn.list_exports()["Exports"][0]["Value"] == url
    assert cfn.list_imports(ExportName="shared-url")["Imports"] == ["consumer"]
    name = physical_ids(hw, "consumer")["Param"]
    assert hw.client("ssm").get_parameter(Name=name)["Parameter"]["Value"] == url
    cfn.delete_stack(StackName="producer")
    assert status_of(hw, "producer") == "DELETE_FAILED"
    assert stack_of(hw, "producer")["StackStatusReason"] == (
        "Export shared-url cannot be deleted as it is in use by consumer"
    )
    duplicate = {
        "Resources": {"Other": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {"Url": {"Value": {"Ref": "Other"}, "Export": {"Name": "shared-url"}}},
    }
    assert deploy(hw, "copycat", duplicate) == "ROLLBACK_COMPLETE"
    reasons = [
        e.get("ResourceStatusReason", "")
        for e in cfn.describe_stack_events(StackName="copycat")["StackEvents"]
    ]
    assert any(
        "Export with name shared-url is already exported by stack producer" in r for r in reasons
    )
    assert cfn.list_exports()["Exports"][0]["Value"] == url


def test_unsupported_types_are_refused_by_name(hw: Headwater) -> None:
    document = {"Resources": {"Thing": {"Type": "AWS::EC2::VPC"}, "Q": {"Type": "AWS::SQS::Queue"}}}
    with pytest.raises(ClientError) as caught:
        deploy(hw, "vpc", document)
    assert caught.value.response["Error"]["Message"] == (
        "Template format error: Unrecognized resource types: [AWS::EC2::VPC]. headwater does "
        "not support these resource types yet."
    )


def test_parameters_conditions_and_no_echo(hw: Headwater) -> None:
    document = {
        "Parameters": {
            "Env": {"Type": "String", "AllowedValues": ["dev", "prod"], "Default": "dev"},
            "Secret": {"Type": "String", "NoEcho": True},
        },
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
        "Resources": {
            "Always": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"QueueName": {"Fn::Sub": "${AWS::StackName}-${Env}"}},
            },
            "ProdOnly": {"Type": "AWS::SQS::Queue", "Condition": "IsProd"},
        },
        "Outputs": {"Name": {"Value": {"Fn::GetAtt": ["Always", "QueueName"]}}},
    }
    params = [{"ParameterKey": "Secret", "ParameterValue": "hunter2"}]
    deploy(hw, "cfg", document, Parameters=params)
    assert set(physical_ids(hw, "cfg")) == {"Always"}
    assert outputs_of(hw, "cfg")["Name"] == "cfg-dev"
    shown = {p["ParameterKey"]: p["ParameterValue"] for p in stack_of(hw, "cfg")["Parameters"]}
    assert shown == {"Env": "dev", "Secret": "****"}
    prod = [
        {"ParameterKey": "Env", "ParameterValue": "prod"},
        {"ParameterKey": "Secret", "UsePreviousValue": True},
    ]
    assert deploy(hw, "cfg", document, Parameters=prod) == "UPDATE_COMPLETE"
    assert set(physical_ids(hw, "cfg")) == {"Always", "ProdOnly"}
    assert outputs_of(hw, "cfg")["Name"] == "cfg-prod"
    with pytest.raises(ClientError, match="Parameter 'Env' must be one of AllowedValues"):
        deploy(
            hw,
            "cfg",
            document,
            Parameters=[
                {"ParameterKey": "Env", "ParameterValue": "x"},
                {"ParameterKey": "Secret", "ParameterValue": "s"},
            ],
        )


def test_ssm_parameter_types_and_dynamic_references(hw: Headwater) -> None:
    ssm = hw.client("ssm")
    ssm.put_parameter(Name="/app/visibility", Value="77", Type="String")
    document = {
        "Parameters": {
            "Vis": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/app/visibility"}
        },
        "Resources": {
            "Q": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "VisibilityTimeout": {"Ref": "Vis"},
                    "DelaySeconds": "{{resolve:ssm:/app/visibility:1}}",
                },
            },
        },
    }
    deploy(hw, "ssmref", document)
    attributes = queue_attributes(hw, physical_ids(hw, "ssmref")["Q"])
    assert attributes["VisibilityTimeout"] == "77" and attributes["DelaySeconds"] == "77"
    parameters = stack_of(hw, "ssmref")["Parameters"]
    assert parameters == [
        {"ParameterKey": "Vis", "ParameterValue": "/app/visibility", "ResolvedValue": "77"}
    ]


def test_iam_resources_need_the_capability(hw: Headwater) -> None:
    cfn = hw.client("cloudformation")
    with pytest.raises(ClientError) as caught:
        cfn.create_stack(StackName="iam", TemplateBody=body(app()))
    assert caught.value.response["Error"]["Code"] == "InsufficientCapabilitiesException"
    assert caught.value.response["Error"]["Message"] == "Requires capabilities : [CAPABILITY_IAM]"
    named = app()
    named["Resources"]["Role"]["Properties"]["RoleName"] = "fixed"
    with pytest.raises(ClientError, match=r"\[CAPABILITY_NAMED_IAM\]"):
        cfn.create_stack(StackName="iam", TemplateBody=body(named), Capabilities=["CAPABILITY_IAM"])


def test_sam_templates_are_transformed(hw: Headwater) -> None:
    sam = {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue"},
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "InlineCode": HANDLER,
                    "Handler": "index.handler",
                    "Runtime": "python3.12",
                    "Events": {
                        "Sqs": {
                            "Type": "SQS",
                            "Properties": {
                                "Queue": {"Fn::GetAtt": ["Queue", "Arn"]},
                                "BatchSize": 3,
                            },
                        }
                    },
                },
            },
        },
    }
    deploy(hw, "sam", sam, Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    ids = physical_ids(hw, "sam")
    assert set(ids) == {"Queue", "Fn", "FnRole", "FnSqs"}
    assert hw.lambda_.get_event_source_mapping(UUID=ids["FnSqs"])["BatchSize"] == 3
    template = hw.client("cloudformation").get_template(StackName="sam", TemplateStage="Processed")
    assert "AWS::Lambda::EventSourceMapping" in str(template["TemplateBody"])
    with pytest.raises(ClientError, match="CAPABILITY_AUTO_EXPAND"):
        hw.client("cloudformation").create_stack(
            StackName="sam2", TemplateBody=body(sam), Capabilities=["CAPABILITY_IAM"]
        )


def test_dynamodb_table_with_stream_ttl_and_an_index(hw: Headwater) -> None:
    table = {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "AttributeDefinitions": [{"AttributeName": "productId", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "productId", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
            "TimeToLiveSpecification": {"AttributeName": "expires", "Enabled": True},
        },
    }
    document = {
        "Resources": {"Inventory": table},
        "Outputs": {
            "Stream": {"Value": {"Fn::GetAtt": ["Inventory", "StreamArn"]}},
            "Name": {"Value": {"Ref": "Inventory"}},
        },
    }
    assert deploy(hw, "inv", document) == "CREATE_COMPLETE"
    name = outputs_of(hw, "inv")["Name"]
    described = hw.client("dynamodb").describe_table(TableName=name)["Table"]
    assert described["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert described["LatestStreamArn"] == outputs_of(hw, "inv")["Stream"]
    ttl = hw.client("dynamodb").describe_time_to_live(TableName=name)
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires"
    table["Properties"]["AttributeDefinitions"].append(
        {"AttributeName": "sku", "AttributeType": "S"}
    )
    table["Properties"]["GlobalSecondaryIndexes"] = [
        {
            "IndexName": "bySku",
            "KeySchema": [{"AttributeName": "sku", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }
    ]
    assert deploy(hw, "inv", document) == "UPDATE_COMPLETE"
    described = hw.client("dynamodb").describe_table(TableName=name)["Table"]
    assert [i["IndexName"] for i in described["GlobalSecondaryIndexes"]] == ["bySku"]
    table["Properties"]["KeySchema"] = [{"AttributeName": "sku", "KeyType": "HASH"}]
    table["Properties"]["AttributeDefinitions"] = [{"AttributeName": "sku", "AttributeType": "S"}]
    del table["Properties"]["GlobalSecondaryIndexes"]
    assert deploy(hw, "inv", document) == "UPDATE_COMPLETE"  # a new key replaces the table
    assert outputs_of(hw, "inv")["Name"] != name
    assert name not in hw.client("dynamodb").list_tables()["TableNames"]


def test_types_whose_service_operations_are_missing_are_refused(hw: Headwater) -> None:
    cfn: Any = hw.service("cloudformation")
    has_permissions = {"AddPermission", "RemovePermission"} <= set(
        hw.service("lambda").operation_names()
    )
    assert cfn.supports_type("AWS::Lambda::Permission") is has_permissions
    assert cfn.supports_type("AWS::SQS::Queue")
    assert cfn.supports_type("AWS::IAM::Role")
    assert not cfn.supports_type("AWS::EC2::VPC")


def test_nested_stacks_read_their_template_url(
    hw: Headwater, monkeypatch: pytest.MonkeyPatch
) -> None:
    child = {
        "Parameters": {"Delay": {"Type": "Number"}},
        "Resources": {
            "Q": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": {"Ref": "Delay"}}}
        },
        "Outputs": {"Url": {"Value": {"Ref": "Q"}}},
    }
    templates = {("templates", "child.json"): body(child)}
    cfn: Any = hw.service("cloudformation")
    # the TemplateURL is read from S3; the test stands in for the bucket
    monkeypatch.setattr(
        cfn, "read_object", lambda ctx: lambda bucket, key: templates[(bucket, key)].encode()
    )
    parent = {
        "Resources": {
            "Child": {
                "Type": "AWS::CloudFormation::Stack",
                "Properties": {
                    "TemplateURL": "https://templates.s3.amazonaws.com/child.json",
                    "Parameters": {"Delay": 7},
                },
            }
        },
        "Outputs": {"ChildUrl": {"Value": {"Fn::GetAtt": ["Child", "Outputs.Url"]}}},
    }
    assert deploy(hw, "parent", parent) == "CREATE_COMPLETE"
    url = outputs_of(hw, "parent")["ChildUrl"]
    assert queue_attributes(hw, url)["DelaySeconds"] == "7"
    child_id = physical_ids(hw, "parent")["Child"]
    assert stack_of(hw, child_id)["StackStatus"] == "CREATE_COMPLETE"
    hw.client("cloudformation").delete_stack(StackName="parent")
    assert stack_of(hw, child_id)["StackStatus"] == "DELETE_COMPLETE"
    assert hw.sqs.list_queues().get("QueueUrls", []) == []


def test_sns_topic_subscription_and_policy(hw: Headwater) -> None:
    document: dict[str, Any] = {
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "orders"}},
            "Inbox": {"Type": "AWS::SQS::Queue"},
            "Sub": {
                "Type": "AWS::SNS::Subscription",
                "Properties": {
                    "TopicArn": {"Ref": "Topic"},
                    "Protocol": "sqs",
                    "Endpoint": {"Fn::GetAtt": ["Inbox", "Arn"]},
                    "RawMessageDelivery": True,
                },
            },
            "Policy": {
                "Type": "AWS::SNS::TopicPolicy",
                "Properties": {
                    "Topics": [{"Ref": "Topic"}],
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "events.amazonaws.com"},
                                "Action": "sns:Publish",
                                "Resource": {"Ref": "Topic"},
                            }
                        ],
                    },
                },
            },
        },
        "Outputs": {
            "Arn": {"Value": {"Ref": "Topic"}},
            "Name": {"Value": {"Fn::GetAtt": ["Topic", "TopicName"]}},
        },
    }
    assert deploy(hw, "sns", document) == "CREATE_COMPLETE"
    out = outputs_of(hw, "sns")
    sns = hw.client("sns")
    attributes = sns.get_topic_attributes(TopicArn=out["Arn"])["Attributes"]
    assert attributes["DisplayName"] == "orders"
    assert "events.amazonaws.com" in attributes["Policy"]
    assert out["Arn"].endswith(":" + out["Name"])
    sns.publish(TopicArn=out["Arn"], Message="hello")
    inbox = physical_ids(hw, "sns")["Inbox"]
    received = hw.sqs.receive_message(QueueUrl=inbox).get("Messages", [])
    assert [m["Body"] for m in received] == ["hello"]  # raw delivery
    document["Resources"]["Topic"]["Properties"]["DisplayName"] = "renamed"
    assert deploy(hw, "sns", document) == "UPDATE_COMPLETE"
    attributes = sns.get_topic_attributes(TopicArn=out["Arn"])["Attributes"]
    assert attributes["DisplayName"] == "renamed"
    hw.client("cloudformation").delete_stack(StackName="sns")
    assert sns.list_topics()["Topics"] == []


def test_retain_resources_after_a_failed_delete(hw: Headwater) -> None:
    producer = {
        "Resources": {"Q": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {"Url": {"Value": {"Ref": "Q"}, "Export": {"Name": "kept"}}},
    }
    consumer = {
        "Resources": {
            "P": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Type": "String", "Value": {"Fn::ImportValue": "kept"}},
            }
        }
    }
    deploy(hw, "producer", producer)
    deploy(hw, "consumer", consumer)
    cfn = hw.client("cloudformation")
    with pytest.raises(ClientError, match="RetainResources can only be specified"):
        cfn.delete_stack(StackName="producer", RetainResources=["Q"])
    url = outputs_of(hw, "producer")["Url"]
    stack_id = stack_of(hw, "producer")["StackId"]
    cfn.delete_stack(StackName="producer")  # the export is in use: DELETE_FAILED
    assert stack_of(hw, "producer")["StackStatus"] == "DELETE_FAILED"
    cfn.delete_stack(StackName="consumer")
    cfn.delete_stack(StackName="producer", RetainResources=["Q"])
    assert stack_of(hw, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    assert url in hw.sqs.list_queues().get("QueueUrls", [])  # retained
    assert ("Q", "DELETE_SKIPPED") in events_of(hw, stack_id)


def test_an_operation_cut_short_by_a_stop_is_failed_on_restart(tmp_path: Path) -> None:
    with Headwater(data_dir=tmp_path) as first:
        deploy(first, "cut", {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}})
        service: Any = first.service("cloudformation")
        record = service.store.find_live_stack("000000000000", "us-east-1", "cut")
        record.status = "UPDATE_IN_PROGRESS"  # as if the process died mid-update
        service.store.put_stack(record)
    with Headwater(data_dir=tmp_path) as second:
        stack = stack_of(second, "cut")
        assert stack["StackStatus"] == "UPDATE_FAILED"
        assert stack["StackStatusReason"] == "headwater stopped while the operation was running"


def test_cloudwatch_alarm_and_log_group(hw: Headwater) -> None:
    document: dict[str, Any] = {
        "Resources": {
            "Logs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": "/app/orders", "RetentionInDays": 7},
            },
            "Alarm": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmDescription": "DLQ has messages",
                    "Namespace": "AWS/SQS",
                    "MetricName": "ApproximateNumberOfMessagesVisible",
                    "Dimensions": [{"Name": "QueueName", "Value": "orders-dlq"}],
                    "Statistic": "Maximum",
                    "Period": 60,
                    "EvaluationPeriods": 1,
                    "Threshold": "1",
                    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                },
            },
        },
        "Outputs": {
            "AlarmArn": {"Value": {"Fn::GetAtt": ["Alarm", "Arn"]}},
            "LogArn": {"Value": {"Fn::GetAtt": ["Logs", "Arn"]}},
        },
    }
    assert deploy(hw, "obs", document) == "CREATE_COMPLETE"
    name = physical_ids(hw, "obs")["Alarm"]
    (alarm,) = hw.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert alarm["Threshold"] == 1.0 and alarm["AlarmArn"] == outputs_of(hw, "obs")["AlarmArn"]
    (group,) = hw.client("logs").describe_log_groups(logGroupNamePrefix="/app/orders")["logGroups"]
    assert group["retentionInDays"] == 7
    document["Resources"]["Logs"]["Properties"]["RetentionInDays"] = 14
    document["Resources"]["Alarm"]["Properties"]["Threshold"] = 5
    assert deploy(hw, "obs", document) == "UPDATE_COMPLETE"
    (alarm,) = hw.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert alarm["Threshold"] == 5.0
    (group,) = hw.client("logs").describe_log_groups(logGroupNamePrefix="/app/orders")["logGroups"]
    assert group["retentionInDays"] == 14
    hw.client("cloudformation").delete_stack(StackName="obs")
    assert hw.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"] == []
    assert hw.client("logs").describe_log_groups(logGroupNamePrefix="/app/")["logGroups"] == []


def timeline(hw: Headwater, name: str) -> list[tuple[str, str, str]]:
    """(logical id, status, reason) of every event, oldest first."""
    events = hw.client("cloudformation").describe_stack_events(StackName=name)["StackEvents"]
    return [
        (e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason", ""))
        for e in reversed(events)
    ]


def chain(*extra: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """Queues created one after the other (DependsOn), so the event order is deterministic."""
    resources: dict[str, Any] = {}
    previous = None
    for logical_id, properties in extra:
        resources[logical_id] = {"Type": "AWS::SQS::Queue", "Properties": properties}
        if previous is not None:
            resources[logical_id]["DependsOn"] = previous
        previous = logical_id
    return {"Resources": resources}


# AWS's DescribeStackEvents for a failed create (oldest first): the failed resource's
# CREATE_FAILED with the provider's reason, ROLLBACK_IN_PROGRESS, then every resource deleted in
# reverse dependency order -- the failed one too, as a lone DELETE_COMPLETE with an empty
# physical id and its properties (nothing was made, so no DELETE_IN_PROGRESS) -- and
# ROLLBACK_COMPLETE (issue #15).
def test_failed_create_events_delete_the_failed_resource_too(hw: Headwater) -> None:
    document = chain(("First", {}), ("Broken", {"DelaySeconds": 5000}))
    assert deploy(hw, "rolled", document) == "ROLLBACK_COMPLETE"
    events = timeline(hw, "rolled")
    failure = events[5][2]
    assert "DelaySeconds" in failure
    assert events == [
        ("rolled", "CREATE_IN_PROGRESS", "User Initiated"),
        ("First", "CREATE_IN_PROGRESS", ""),
        ("First", "CREATE_IN_PROGRESS", "Resource creation Initiated"),
        ("First", "CREATE_COMPLETE", ""),
        ("Broken", "CREATE_IN_PROGRESS", ""),
        ("Broken", "CREATE_FAILED", failure),
        (
            "rolled",
            "ROLLBACK_IN_PROGRESS",
            "The following resource(s) failed to create: [Broken]. Rollback requested by user.",
        ),
        ("Broken", "DELETE_COMPLETE", ""),
        ("First", "DELETE_IN_PROGRESS", ""),
        ("First", "DELETE_COMPLETE", ""),
        ("rolled", "ROLLBACK_COMPLETE", ""),
    ]
    raw = hw.client("cloudformation").describe_stack_events(StackName="rolled")["StackEvents"]
    gone = next(
        e
        for e in raw
        if (e["LogicalResourceId"], e["ResourceStatus"]) == ("Broken", "DELETE_COMPLETE")
    )
    assert gone["PhysicalResourceId"] == ""
    assert '"DelaySeconds"' in gone["ResourceProperties"]
    assert hw.sqs.list_queues().get("QueueUrls", []) == []
    assert (
        hw.client("cloudformation").list_stack_resources(StackName="rolled")[
            "StackResourceSummaries"
        ]
        == []
    )


# AWS's sequence for a failed update: UPDATE_ROLLBACK_IN_PROGRESS (a resource the update added is
# one that "failed to create", with no "Rollback requested by user."), the updated resources put
# back (UPDATE_IN_PROGRESS / UPDATE_COMPLETE), UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS, the
# resources the update added deleted -- the failed one first, as a lone DELETE_COMPLETE -- then
# UPDATE_ROLLBACK_COMPLETE (issue #15).
def test_failed_update_events_put_back_and_delete_what_was_added(hw: Headwater) -> None:
    assert deploy(hw, "rolled", chain(("Kept", {"VisibilityTimeout": 30}))) == "CREATE_COMPLETE"
    before = physical_ids(hw, "rolled")
    seen = len(timeline(hw, "rolled"))
    changed = chain(
        ("Kept", {"VisibilityTimeout": 60}),
        ("Added", {}),
        ("Broken", {"DelaySeconds": 5000}),
    )
    assert deploy(hw, "rolled", changed) == "UPDATE_ROLLBACK_COMPLETE"
    events = timeline(hw, "rolled")[seen:]
    failure = events[7][2]
    assert "DelaySeconds" in failure
    assert events == [
        ("rolled", "UPDATE_IN_PROGRESS", "User Initiated"),
        ("Kept", "UPDATE_IN_PROGRESS", ""),
        ("Kept", "UPDATE_COMPLETE", ""),
        ("Added", "CREATE_IN_PROGRESS", ""),
        ("Added", "CREATE_IN_PROGRESS", "Resource creation Initiated"),
        ("Added", "CREATE_COMPLETE", ""),
        ("Broken", "CREATE_IN_PROGRESS", ""),
        ("Broken", "CREATE_FAILED", failure),
        (
            "rolled",
            "UPDATE_ROLLBACK_IN_PROGRESS",
            "The following resource(s) failed to create: [Broken]. ",
        ),
        ("Kept", "UPDATE_IN_PROGRESS", ""),
        ("Kept", "UPDATE_COMPLETE", ""),
        ("rolled", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", ""),
        ("Broken", "DELETE_COMPLETE", ""),
        ("Added", "DELETE_IN_PROGRESS", ""),
        ("Added", "DELETE_COMPLETE", ""),
        ("rolled", "UPDATE_ROLLBACK_COMPLETE", ""),
    ]
    assert physical_ids(hw, "rolled") == before
    assert queue_attributes(hw, before["Kept"])["VisibilityTimeout"] == "30"
    assert hw.sqs.list_queues()["QueueUrls"] == [before["Kept"]]


def test_failed_in_place_update_is_named_as_an_update_failure(hw: Headwater) -> None:
    deploy(hw, "rolled", chain(("Kept", {"DelaySeconds": 5})))
    assert deploy(hw, "rolled", chain(("Kept", {"DelaySeconds": 5000}))) == (
        "UPDATE_ROLLBACK_COMPLETE"
    )
    reasons = [r for lid, s, r in timeline(hw, "rolled") if s == "UPDATE_ROLLBACK_IN_PROGRESS"]
    assert reasons == ["The following resource(s) failed to update: [Kept]. "]


def test_an_update_whose_properties_cannot_be_resolved_keeps_the_resource(hw: Headwater) -> None:
    deploy(hw, "rolled", chain(("Kept", {"VisibilityTimeout": 30})))
    before = physical_ids(hw, "rolled")
    seen = len(timeline(hw, "rolled"))
    unresolvable = chain(
        (
            "Kept",
            {
                "VisibilityTimeout": 30,
                "Tags": [{"Key": "k", "Value": {"Fn::ImportValue": "missing-export"}}],
            },
        )
    )
    assert deploy(hw, "rolled", unresolvable) == "UPDATE_ROLLBACK_COMPLETE"
    assert [(lid, s) for lid, s, _ in timeline(hw, "rolled")[seen:]] == [
        ("rolled", "UPDATE_IN_PROGRESS"),
        ("Kept", "UPDATE_FAILED"),
        ("rolled", "UPDATE_ROLLBACK_IN_PROGRESS"),
        ("rolled", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"),
        ("rolled", "UPDATE_ROLLBACK_COMPLETE"),
    ]
    assert physical_ids(hw, "rolled") == before
    resource = hw.client("cloudformation").describe_stack_resource(
        StackName="rolled", LogicalResourceId="Kept"
    )["StackResourceDetail"]
    assert resource["ResourceStatus"] == "CREATE_COMPLETE"
    # the stack still manages the queue: a good update reaches it
    assert deploy(hw, "rolled", chain(("Kept", {"VisibilityTimeout": 45}))) == "UPDATE_COMPLETE"
    assert queue_attributes(hw, before["Kept"])["VisibilityTimeout"] == "45"


def test_a_create_importing_a_missing_export_fails_before_any_resource(hw: Headwater) -> None:
    # CloudFormation resolves imports (whose names cannot depend on resources) first: the
    # stack fails with "No export named X found. Rollback requested by user." and no resource
    # is attempted
    template = {
        "Parameters": {"Producer": {"Type": "String"}},
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue"},
            "Param": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {
                    "Type": "String",
                    "Value": {"Fn::ImportValue": {"Fn::Sub": "${Producer}-table"}},
                },
            },
        },
    }
    parameters = [{"ParameterKey": "Producer", "ParameterValue": "absent"}]
    assert deploy(hw, "importer", template, Parameters=parameters) == "ROLLBACK_COMPLETE"
    assert timeline(hw, "importer") == [
        ("importer", "CREATE_IN_PROGRESS", "User Initiated"),
        (
            "importer",
            "ROLLBACK_IN_PROGRESS",
            "No export named absent-table found. Rollback requested by user.",
        ),
        ("importer", "ROLLBACK_COMPLETE", ""),
    ]
    assert hw.client("sqs").list_queues().get("QueueUrls", []) == []

    # an import in the branch a condition does not pick is not looked up
    template["Conditions"] = {"Shared": {"Fn::Equals": [{"Ref": "Producer"}, "shared"]}}
    template["Resources"]["Param"]["Properties"]["Value"] = {
        "Fn::If": ["Shared", {"Fn::ImportValue": "absent-table"}, "local"]
    }
    assert deploy(hw, "conditional", template, Parameters=parameters) == "CREATE_COMPLETE"


def test_a_timeout_beyond_a_java_integer_is_refused(hw: Headwater) -> None:
    # botocore sends any integer; one beyond 64 bits raised TypeError from the stored stack
    # record's JSON (found by grepping for unchecked integers).
    cfn = hw.client("cloudformation")
    template = body({"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}})
    with pytest.raises(ClientError) as caught:
        cfn.create_stack(StackName="timeout", TemplateBody=template, TimeoutInMinutes=2**70)
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "ValidationError",
        f"1 validation error detected: Value '{2**70}' at 'timeoutInMinutes' failed to satisfy "
        "constraint: Member must have value less than or equal to 2147483647",
    )
    assert cfn.describe_stacks()["Stacks"] == []


def test_stack_times_are_to_the_millisecond_as_boto3_reads_them(
    hw: Headwater, clock: ManualClock
) -> None:
    # CloudFormation's XML writes milliseconds: in process the microseconds went through
    clock.set(clock.now() + 0.123456)
    cfn = hw.client("cloudformation")
    template = '{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}'
    cfn.create_stack(StackName="millis", TemplateBody=template)
    described = cfn.describe_stacks(StackName="millis")["Stacks"][0]
    event = cfn.describe_stack_events(StackName="millis")["StackEvents"][0]
    assert described["CreationTime"].microsecond == 123000
    assert event["Timestamp"].microsecond == 123000
