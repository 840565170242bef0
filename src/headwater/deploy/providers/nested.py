"""AWS::CloudFormation::Stack: a nested stack, made through the CloudFormation API itself.

The child stack's template comes from ``TemplateURL`` (headwater's S3); its outputs are the
parent's ``Fn::GetAtt Child.Outputs.Name``; ``Ref`` is its stack id.
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from headwater.deploy.providers.base import ProviderResult, ResourceProvider, ResourceRequest

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
#: How long a parent waits for a child operation (CloudFormation's default stack timeout
#: is unlimited; an hour bounds a stuck child).
WAIT_SECONDS = 3600.0
TERMINAL_OK = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE"}


def _parameters(properties: dict[str, Any]) -> list[dict[str, str]]:
    values = properties.get("Parameters") or {}
    return [{"ParameterKey": str(k), "ParameterValue": str(v)} for k, v in values.items()]


def _wait(cfn: Any, stack_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        stack: dict[str, Any] = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
        status = str(stack["StackStatus"])
        if not status.endswith("_IN_PROGRESS"):
            if status not in TERMINAL_OK:
                raise ValueError(
                    f"Embedded stack {stack_id} was not successfully created: {status}"
                )
            return stack
        if time.monotonic() > deadline:
            raise ValueError(f"Embedded stack {stack_id} did not finish in time")
        time.sleep(0.05)


def _attributes(stack: dict[str, Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = {"StackId": stack["StackId"]}
    for output in stack.get("Outputs") or []:
        attributes[f"Outputs.{output['OutputKey']}"] = output["OutputValue"]
    return attributes


class NestedStackProvider(ResourceProvider):
    type_name = "AWS::CloudFormation::Stack"
    service = "cloudformation"

    def create(self, request: ResourceRequest) -> ProviderResult:
        cfn = request.client("cloudformation")
        name = request.physical_name(128)
        params: dict[str, Any] = {
            "StackName": name,
            "TemplateURL": str(request.properties["TemplateURL"]),
            "Parameters": _parameters(request.properties),
            "Capabilities": CAPABILITIES,
        }
        if request.properties.get("NotificationARNs"):
            params["NotificationARNs"] = list(request.properties["NotificationARNs"])
        stack_id = cfn.create_stack(**params)["StackId"]
        return ProviderResult(stack_id, _attributes(_wait(cfn, stack_id)))

    def update(self, request: ResourceRequest) -> ProviderResult:
        cfn = request.client("cloudformation")
        stack_id = str(request.physical_id)
        try:
            cfn.update_stack(
                StackName=stack_id,
                TemplateURL=str(request.properties["TemplateURL"]),
                Parameters=_parameters(request.properties),
                Capabilities=CAPABILITIES,
            )
        except ClientError as error:
            if error.response["Error"]["Message"] != "No updates are to be performed.":
                raise
        return ProviderResult(stack_id, _attributes(_wait(cfn, stack_id)))

    def delete(self, request: ResourceRequest) -> None:
        cfn = request.client("cloudformation")
        cfn.delete_stack(StackName=str(request.physical_id))
        _wait(cfn, str(request.physical_id))
