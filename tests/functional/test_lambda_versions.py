"""Versions and aliases: immutable snapshots, qualified invocation, weighted routing, and
event source mappings on an alias (the version the alias points to runs, and moving the
alias moves the traffic)."""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater
from headwater.testing import wait_for_drain

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
ARN = "arn:aws:lambda:us-east-1:000000000000:function"

HANDLER = """
import json, os, time

def handler(event, context):
    if "Records" in event and os.environ.get("JOURNAL"):
        with open(os.environ["JOURNAL"], "a", encoding="utf-8") as out:
            for record in event["Records"]:
                out.write(json.dumps([context.function_version, record["body"]]) + "\\n")
    arn = context.invoked_function_arn
    return {"code": "CODE", "version": context.function_version, "arn": arn}
"""


@pytest.fixture
def hw_options() -> dict[str, Any]:
    return {"functions": "inline"}


def code(tag: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER.replace("CODE", tag))
    return buffer.getvalue()


def invoke(hw: Headwater, name: str, qualifier: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"FunctionName": name}
    if qualifier is not None:
        params["Qualifier"] = qualifier
    response = hw.lambda_.invoke(**params)
    payload = json.loads(response["Payload"].read())
    payload["executed"] = response["ExecutedVersion"]
    return payload


def two_versions(hw: Headwater, name: str = "f", **extra: Any) -> None:
    """$LATEST runs code "v3"; versions 1 and 2 run "v1" and "v2"."""
    lam = hw.lambda_
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": code("v1")},
        **extra,
    )
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    lam.update_function_code(FunctionName=name, ZipFile=code("v2"))
    assert lam.publish_version(FunctionName=name, Description="second")["Version"] == "2"
    lam.update_function_code(FunctionName=name, ZipFile=code("v3"))


def test_versions_are_immutable_snapshots(hw: Headwater) -> None:
    two_versions(hw)
    lam = hw.lambda_
    assert invoke(hw, "f", "1") == {
        "code": "v1",
        "version": "1",
        "arn": f"{ARN}:f:1",
        "executed": "1",
    }
    assert invoke(hw, f"{ARN}:f:2")["code"] == "v2"
    assert invoke(hw, "f")["code"] == invoke(hw, "f", "$LATEST")["code"] == "v3"
    assert invoke(hw, "f")["executed"] == "$LATEST"
    lam.update_function_configuration(FunctionName="f", Timeout=9)
    version_1 = lam.get_function_configuration(FunctionName="f", Qualifier="1")
    assert (version_1["Version"], version_1["Timeout"]) == ("1", 3)
    assert version_1["FunctionArn"] == f"{ARN}:f:1"
    assert lam.get_function(FunctionName="f:2")["Configuration"]["Description"] == "second"
    listed = lam.list_versions_by_function(FunctionName="f")["Versions"]
    assert [v["Version"] for v in listed] == ["$LATEST", "1", "2"]
    assert listed[0]["FunctionArn"] == f"{ARN}:f:$LATEST"
    assert "State" not in listed[1]


def test_publishing_an_unchanged_function_answers_the_last_version(hw: Headwater) -> None:
    lam = hw.lambda_
    created = lam.create_function(
        FunctionName="g",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": code("x")},
        Publish=True,
    )
    assert (created["Version"], created["FunctionArn"]) == ("1", f"{ARN}:g")
    again = lam.publish_version(FunctionName="g")
    assert again["Version"] == "1"
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 201
    latest = lam.get_function(FunctionName="g")["Configuration"]
    with pytest.raises(ClientError, match="PreconditionFailedException"):
        lam.publish_version(FunctionName="g", RevisionId="not-the-revision")
    with pytest.raises(ClientError, match=r"CodeSHA256 \(nope\) is different"):
        lam.publish_version(FunctionName="g", CodeSha256="nope")
    lam.update_function_configuration(FunctionName="g", MemorySize=256)
    assert (
        lam.publish_version(
            FunctionName="g",
            RevisionId=lam.get_function(FunctionName="g")["Configuration"]["RevisionId"],
        )["Version"]
        == "2"
    )
    assert latest["Version"] == "$LATEST"


def test_deleting_versions_and_functions(hw: Headwater) -> None:
    two_versions(hw)
    lam = hw.lambda_
    lam.create_alias(FunctionName="f", Name="live", FunctionVersion="1")
    with pytest.raises(ClientError) as refused:
        lam.delete_function(FunctionName="f", Qualifier="1")
    assert refused.value.response["Error"]["Message"] == (
        "Unable to delete version because the following aliases reference it: [live]"
    )
    assert lam.delete_function(FunctionName="f", Qualifier="2")["StatusCode"] == 204
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName="f")["Versions"]] == [
        "$LATEST",
        "1",
    ]
    with pytest.raises(ClientError, match=r"Function not found: .*:f:2"):
        lam.invoke(FunctionName="f", Qualifier="2")
    # version numbers are not reused while the function exists
    assert lam.publish_version(FunctionName="f")["Version"] == "3"
    lam.delete_function(FunctionName="f")
    two_versions(hw)  # a new function with the same name starts at version 1 again
    assert lam.list_aliases(FunctionName="f")["Aliases"] == []


def test_aliases_route_and_move(hw: Headwater) -> None:
    two_versions(hw)
    lam = hw.lambda_
    alias = lam.create_alias(FunctionName="f", Name="live", FunctionVersion="1")
    assert alias["AliasArn"] == f"{ARN}:f:live"
    assert invoke(hw, "f", "live") == {
        "code": "v1",
        "version": "1",
        "arn": f"{ARN}:f:live",
        "executed": "1",
    }
    config = lam.get_function(FunctionName="f", Qualifier="live")["Configuration"]
    assert (config["FunctionArn"], config["Version"]) == (f"{ARN}:f:live", "1")
    lam.update_alias(FunctionName="f", Name="live", FunctionVersion="2")
    assert invoke(hw, f"{ARN}:f:live")["code"] == "v2"
    with pytest.raises(ClientError, match="PreconditionFailedException"):
        lam.update_alias(FunctionName="f", Name="live", RevisionId="stale")
    with pytest.raises(ClientError, match="Alias already exists"):
        lam.create_alias(FunctionName="f", Name="live", FunctionVersion="1")
    with pytest.raises(ClientError, match="Cannot find alias arn"):
        lam.get_alias(FunctionName="f", Name="nope")
    lam.delete_alias(FunctionName="f", Name="live")
    with pytest.raises(ClientError, match=r"Function not found: .*:f:live"):
        lam.invoke(FunctionName="f", Qualifier="live")


def test_a_weighted_alias_splits_1000_invocations_within_5_percent(hw: Headwater) -> None:
    two_versions(hw)
    hw.lambda_.create_alias(
        FunctionName="f",
        Name="canary",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}},
    )
    counts = Counter(invoke(hw, "f", "canary")["executed"] for _ in range(1000))
    assert set(counts) == {"1", "2"}
    assert abs(counts["2"] / 1000 - 0.3) <= 0.05
    assert abs(counts["1"] / 1000 - 0.7) <= 0.05


@pytest.mark.parametrize(
    ("routing", "error"),
    [
        ({"2": 2.0}, "Map value must satisfy constraint"),
        ({"$LATEST": 0.5}, "Map keys must satisfy constraint"),
        ({"1": 0.5}, "Function version 1 is already included in routing configuration."),
        ({"9": 0.5}, r"Function not found: .*:f:9"),
    ],
)
def test_invalid_routing_is_refused(hw: Headwater, routing: dict[str, float], error: str) -> None:
    two_versions(hw)
    with pytest.raises(ClientError, match=error):
        hw.lambda_.create_alias(
            FunctionName="f",
            Name="bad",
            FunctionVersion="1",
            RoutingConfig={"AdditionalVersionWeights": routing},
        )
    assert hw.lambda_.list_aliases(FunctionName="f")["Aliases"] == []


def test_a_mapping_on_an_alias_invokes_the_version_the_alias_points_to(
    hw: Headwater, tmp_path: Path
) -> None:
    journal = tmp_path / "journal"
    two_versions(hw, Environment={"Variables": {"JOURNAL": str(journal)}})
    lam, sqs = hw.lambda_, hw.client("sqs")
    lam.create_alias(FunctionName="f", Name="live", FunctionVersion="1")
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    mapping = lam.create_event_source_mapping(
        FunctionName=f"{ARN}:f:live", EventSourceArn=arn, BatchSize=1
    )
    assert mapping["FunctionArn"] == f"{ARN}:f:live"
    with hw.start():
        sqs.send_message(QueueUrl=url, MessageBody="before")
        wait_for_drain(hw, url)
        lam.update_alias(FunctionName="f", Name="live", FunctionVersion="2")
        sqs.send_message(QueueUrl=url, MessageBody="after")
        wait_for_drain(hw, url)
    runs = [json.loads(line) for line in journal.read_text().splitlines()]
    assert runs == [["1", "before"], ["2", "after"]]


def test_tags_of_functions_and_mappings(hw: Headwater) -> None:
    lam = hw.lambda_
    lam.create_function(
        FunctionName="t",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": code("t")},
        Tags={"team": "orders"},
    )
    arn = f"{ARN}:t"
    lam.tag_resource(Resource=arn, Tags={"env": "test", "team": "billing"})
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "billing", "env": "test"}
    lam.untag_resource(Resource=arn, TagKeys=["team", "missing"])
    assert lam.get_function(FunctionName="t")["Tags"] == {"env": "test"}
    with pytest.raises(ClientError, match="Tags on function aliases and versions"):
        lam.list_tags(Resource=f"{arn}:1")
    with pytest.raises(ClientError, match=r"Number of tags exceeds resource tag limit\."):
        lam.tag_resource(Resource=arn, Tags={f"k{n}": "v" for n in range(51)})
    sqs = hw.client("sqs")
    url = sqs.create_queue(QueueName="tagged")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    mapping = lam.create_event_source_mapping(
        FunctionName="t", EventSourceArn=queue_arn, Tags={"a": "1"}
    )
    mapping_arn = mapping["EventSourceMappingArn"]
    assert "Tags" not in mapping
    lam.tag_resource(Resource=mapping_arn, Tags={"b": "2"})
    lam.update_event_source_mapping(UUID=mapping["UUID"], BatchSize=5)
    assert lam.list_tags(Resource=mapping_arn)["Tags"] == {"a": "1", "b": "2"}
    lam.delete_event_source_mapping(UUID=mapping["UUID"])
    with pytest.raises(ClientError, match="Event source mapping not found"):
        lam.list_tags(Resource=mapping_arn)


def test_a_versions_logs_go_to_the_functions_log_group(hw: Headwater) -> None:
    two_versions(hw)
    hw.lambda_.invoke(FunctionName="f", Qualifier="1")
    hw.lambda_.invoke(FunctionName="f")
    logs = hw.client("logs")
    streams = logs.describe_log_streams(logGroupName="/aws/lambda/f")["logStreams"]
    assert sorted(s["logStreamName"].split("]")[0].split("[")[1] for s in streams) == [
        "$LATEST",
        "1",
    ]
    text = hw.lambda_.function_logs("f")
    assert "Version: 1" in text and "Version: $LATEST" in text
