"""CloudFormation's response shapes for stacks, resources, events and change sets."""

from __future__ import annotations

import json
from typing import Any

from headwater.core.values import as_millisecond_datetime
from headwater.deploy.changes import without_values
from headwater.deploy.records import ChangeSetRecord, EventRecord, ResourceRecord, StackRecord

NOT_CHECKED = {"StackDriftStatus": "NOT_CHECKED"}


def stack(record: StackRecord) -> dict[str, Any]:
    """One entry of DescribeStacks."""
    described: dict[str, Any] = {
        "StackId": record.stack_id,
        "StackName": record.name,
        "CreationTime": as_millisecond_datetime(record.creation_time),
        "StackStatus": record.status,
        "DisableRollback": record.disable_rollback,
        "NotificationARNs": list(record.notification_arns),
        "RollbackConfiguration": {},
        "Tags": list(record.tags),
        "DriftInformation": dict(NOT_CHECKED),
    }
    if record.change_set_id:
        described["ChangeSetId"] = record.change_set_id
    if record.description is not None:
        described["Description"] = record.description
    if record.parameters:
        described["Parameters"] = list(record.parameters)
    if record.capabilities:
        described["Capabilities"] = list(record.capabilities)
    if record.outputs:
        described["Outputs"] = list(record.outputs)
    if record.status_reason:
        described["StackStatusReason"] = record.status_reason
    if record.last_updated_time is not None:
        described["LastUpdatedTime"] = as_millisecond_datetime(record.last_updated_time)
    if record.deletion_time is not None:
        described["DeletionTime"] = as_millisecond_datetime(record.deletion_time)
    if record.status != "DELETE_COMPLETE":
        described["EnableTerminationProtection"] = record.termination_protection
    if record.role_arn:
        described["RoleARN"] = record.role_arn
    if record.timeout_in_minutes is not None:
        described["TimeoutInMinutes"] = record.timeout_in_minutes
    if record.parent_id:
        described["ParentId"] = record.parent_id
        described["RootId"] = record.root_id or record.parent_id
    return described


def stack_summary(record: StackRecord) -> dict[str, Any]:
    """One entry of ListStacks."""
    summary: dict[str, Any] = {
        "StackId": record.stack_id,
        "StackName": record.name,
        "CreationTime": as_millisecond_datetime(record.creation_time),
        "StackStatus": record.status,
        "DriftInformation": dict(NOT_CHECKED),
    }
    if record.description is not None:
        summary["TemplateDescription"] = record.description
    if record.status_reason:
        summary["StackStatusReason"] = record.status_reason
    if record.last_updated_time is not None:
        summary["LastUpdatedTime"] = as_millisecond_datetime(record.last_updated_time)
    if record.deletion_time is not None:
        summary["DeletionTime"] = as_millisecond_datetime(record.deletion_time)
    if record.parent_id:
        summary["ParentId"] = record.parent_id
        summary["RootId"] = record.root_id or record.parent_id
    return summary


def event(stack_record: StackRecord, record: EventRecord) -> dict[str, Any]:
    described: dict[str, Any] = {
        "StackId": stack_record.stack_id,
        "EventId": record.event_id,
        "StackName": stack_record.name,
        "LogicalResourceId": record.logical_id,
        "PhysicalResourceId": record.physical_id,
        "ResourceType": record.type,
        "Timestamp": as_millisecond_datetime(record.timestamp),
        "ResourceStatus": record.status,
    }
    if record.reason:
        described["ResourceStatusReason"] = record.reason
    if record.properties is not None:
        described["ResourceProperties"] = json.dumps(record.properties)
    if record.client_request_token:
        described["ClientRequestToken"] = record.client_request_token
    return described


def resource(stack_record: StackRecord, record: ResourceRecord, *, shape: str) -> dict[str, Any]:
    """A resource as ``shape``: "summary" (ListStackResources), "resource"
    (DescribeStackResources) or "detail" (DescribeStackResource)."""
    described: dict[str, Any] = {
        "LogicalResourceId": record.logical_id,
        "ResourceType": record.type,
        "ResourceStatus": record.status,
        "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"},
    }
    if record.physical_id is not None:
        described["PhysicalResourceId"] = record.physical_id
    if record.status_reason:
        described["ResourceStatusReason"] = record.status_reason
    if shape == "summary":
        described["LastUpdatedTimestamp"] = as_millisecond_datetime(record.timestamp)
        return described
    described["StackName"] = stack_record.name
    described["StackId"] = stack_record.stack_id
    if shape == "detail":
        described["LastUpdatedTimestamp"] = as_millisecond_datetime(record.timestamp)
        described["Metadata"] = json.dumps(record.metadata)
    else:
        described["Timestamp"] = as_millisecond_datetime(record.timestamp)
    return described


def change_set(record: ChangeSetRecord, *, include_values: bool) -> dict[str, Any]:
    described: dict[str, Any] = {
        "ChangeSetName": record.name,
        "ChangeSetId": record.change_set_id,
        "StackId": record.stack_id,
        "StackName": record.stack_name,
        "CreationTime": as_millisecond_datetime(record.creation_time),
        "ExecutionStatus": record.execution_status,
        "Status": record.status,
        "NotificationARNs": list(record.notification_arns),
        "RollbackConfiguration": {},
        "Capabilities": list(record.capabilities),
        "Changes": record.changes if include_values else without_values(record.changes),
        "IncludeNestedStacks": record.include_nested_stacks,
    }
    if record.status_reason:
        described["StatusReason"] = record.status_reason
    if record.description is not None:
        described["Description"] = record.description
    if record.parameters:
        described["Parameters"] = list(record.parameters)
    if record.tags:
        described["Tags"] = list(record.tags)
    return described


def change_set_summary(record: ChangeSetRecord) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "StackId": record.stack_id,
        "StackName": record.stack_name,
        "ChangeSetId": record.change_set_id,
        "ChangeSetName": record.name,
        "ExecutionStatus": record.execution_status,
        "Status": record.status,
        "CreationTime": as_millisecond_datetime(record.creation_time),
        "IncludeNestedStacks": record.include_nested_stacks,
    }
    if record.status_reason:
        summary["StatusReason"] = record.status_reason
    if record.description is not None:
        summary["Description"] = record.description
    return summary
