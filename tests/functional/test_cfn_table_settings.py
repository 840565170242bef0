"""AWS::DynamoDB::Table settings that are not CreateTable members reach the table."""

from __future__ import annotations

from typing import Any

from headwater import Headwater
from tests.functional.cfn_support import deploy, physical_ids


def table_template(recovery: dict[str, Any] | None) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    }
    if recovery is not None:
        properties["PointInTimeRecoverySpecification"] = recovery
    return {"Resources": {"Table": {"Type": "AWS::DynamoDB::Table", "Properties": properties}}}


def recovery_of(hw: Headwater, table: str) -> dict[str, Any]:
    described = hw.client("dynamodb").describe_continuous_backups(TableName=table)
    found: dict[str, Any] = described["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"
    ]
    return found


def test_point_in_time_recovery_is_enabled_changed_and_turned_off(hw: Headwater) -> None:
    enabled = {"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 10}
    assert deploy(hw, "table", table_template(enabled)) == "CREATE_COMPLETE"
    table = physical_ids(hw, "table")["Table"]
    recovery = recovery_of(hw, table)
    assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"
    assert recovery["RecoveryPeriodInDays"] == 10

    longer = {"PointInTimeRecoveryEnabled": "true", "RecoveryPeriodInDays": 20}  # as YAML gives
    assert deploy(hw, "table", table_template(longer)) == "UPDATE_COMPLETE"
    assert physical_ids(hw, "table")["Table"] == table  # in place
    assert recovery_of(hw, table)["RecoveryPeriodInDays"] == 20

    assert deploy(hw, "table", table_template(None)) == "UPDATE_COMPLETE"
    assert recovery_of(hw, table) == {"PointInTimeRecoveryStatus": "DISABLED"}
