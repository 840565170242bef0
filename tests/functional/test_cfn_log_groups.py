"""AWS::Logs::LogGroup properties reach the log group."""

from __future__ import annotations

from headwater import Headwater
from tests.functional.cfn_support import deploy, physical_ids


def test_log_group_class_retention_and_tags_are_applied(hw: Headwater) -> None:
    template = {
        "Resources": {
            "Group": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {
                    "LogGroupClass": "INFREQUENT_ACCESS",
                    "RetentionInDays": 14,
                    "Tags": [{"Key": "team", "Value": "data"}],
                },
            }
        }
    }
    assert deploy(hw, "logs", template) == "CREATE_COMPLETE"
    name = physical_ids(hw, "logs")["Group"]
    logs = hw.client("logs")
    (group,) = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    assert group["logGroupClass"] == "INFREQUENT_ACCESS"
    assert group["retentionInDays"] == 14
    assert logs.list_tags_for_resource(resourceArn=group["logGroupArn"])["tags"] == {"team": "data"}
