"""Helpers for CloudFormation tests: deploy a template in process and read what happened."""

from __future__ import annotations

import json
from typing import Any

from headwater import Headwater


def body(document: dict[str, Any]) -> str:
    return json.dumps(document)


def stack_of(hw: Headwater, name: str) -> dict[str, Any]:
    stack: dict[str, Any] = hw.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    return stack


def status_of(hw: Headwater, name: str) -> str:
    return str(stack_of(hw, name)["StackStatus"])


def outputs_of(hw: Headwater, name: str) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack_of(hw, name).get("Outputs", [])}


def events_of(hw: Headwater, name: str) -> list[tuple[str, str]]:
    """(logical id, status) of every event, oldest first."""
    events = hw.client("cloudformation").describe_stack_events(StackName=name)["StackEvents"]
    return [(e["LogicalResourceId"], e["ResourceStatus"]) for e in reversed(events)]


def physical_ids(hw: Headwater, name: str) -> dict[str, str]:
    resources = hw.client("cloudformation").list_stack_resources(StackName=name)
    return {
        r["LogicalResourceId"]: r.get("PhysicalResourceId", "")
        for r in resources["StackResourceSummaries"]
    }


def deploy(hw: Headwater, name: str, document: dict[str, Any] | str, **kwargs: Any) -> str:
    """Create or update stack ``name`` with CreateStack/UpdateStack; its final status."""
    cfn = hw.client("cloudformation")
    text = document if isinstance(document, str) else body(document)
    kwargs.setdefault("Capabilities", ["CAPABILITY_IAM"])
    exists = any(s["StackName"] == name for s in cfn.describe_stacks()["Stacks"])
    if exists:
        cfn.update_stack(StackName=name, TemplateBody=text, **kwargs)
    else:
        cfn.create_stack(StackName=name, TemplateBody=text, **kwargs)
    return status_of(hw, name)
