"""AWS::CloudFormation::CustomResource and every ``Custom::*`` type: CloudFormation's
request/response protocol with a Lambda function or an SNS topic.

Each create, update and delete sends the resource's ``ServiceToken`` CloudFormation's
request (a Lambda function is invoked asynchronously, ``Event``; a topic gets it as the
message of a publish) and waits, in real time, for the answer the function PUTs to the
request's ``ResponseURL`` (``deploy.custom_responses``). ``SUCCESS`` gives the physical id
(what ``Ref`` returns) and ``Data`` (what ``Fn::GetAtt`` reads); ``FAILED`` fails the
resource with its ``Reason``.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from headwater.core.ids import new_uuid
from headwater.deploy.custom_responses import CustomResponses, parse_response
from headwater.deploy.errors import ResourceFailure
from headwater.deploy.providers.base import ProviderResult, ResourceProvider, ResourceRequest

CUSTOM_RESOURCE_TYPE = "AWS::CloudFormation::CustomResource"
#: How long a request waits for its answer without a ServiceTimeout. AWS waits 3600 s; a
#: local deploy whose function never answers should not hang for an hour (a guess, see
#: docs/cloudformation.md).
DEFAULT_SERVICE_TIMEOUT = 300
MAX_SERVICE_TIMEOUT = 3600
_LAMBDA_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[^:]+(:[^:]+)?$")
_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[^:]+$")


def provider_type(type_name: str) -> str:
    """The type whose provider deploys ``type_name``: every ``Custom::*`` type is a custom
    resource."""
    return CUSTOM_RESOURCE_TYPE if type_name.startswith("Custom::") else type_name


def is_custom(type_name: str) -> bool:
    """Whether ``type_name`` is a custom resource type."""
    return provider_type(type_name) == CUSTOM_RESOURCE_TYPE


def as_sent(value: Any) -> Any:
    """A property value as CloudFormation sends it in ``ResourceProperties``: numbers and
    booleans become strings (``5`` -> ``"5"``, ``true`` -> ``"true"``), at any depth."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return {key: as_sent(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_sent(item) for item in value]
    return value


class CustomResourceProvider(ResourceProvider):
    """Custom resources backed by a Lambda function or an SNS topic."""

    type_name = CUSTOM_RESOURCE_TYPE

    def __init__(self, responses: CustomResponses) -> None:
        self.responses = responses

    def create(self, request: ResourceRequest) -> ProviderResult:
        return self._call("Create", request)

    def update(self, request: ResourceRequest) -> ProviderResult:
        old_token = request.previous_properties.get("ServiceToken")
        if old_token is not None and old_token != request.properties.get("ServiceToken"):
            if request.rollback:
                # the update was refused before anything was sent: nothing to put back
                return ProviderResult(str(request.physical_id), request.previous_attributes)
            raise ResourceFailure("Modifying service token is not allowed.")
        return self._call("Update", request)

    def delete(self, request: ResourceRequest) -> None:
        self._call("Delete", request)

    def _call(self, kind: str, request: ResourceRequest) -> ProviderResult:
        token_arn = request.properties.get("ServiceToken")
        if not isinstance(token_arn, str) or not token_arn:
            raise ResourceFailure("Property ServiceToken cannot be empty.")  # guessed text
        timeout = _service_timeout(request.properties.get("ServiceTimeout"))
        token, url = self.responses.expect()
        request_id = new_uuid()
        message: dict[str, Any] = {
            "RequestType": kind,
            "ServiceToken": token_arn,
            "ResponseURL": url,
            "StackId": request.stack_id,
            "RequestId": request_id,
            "LogicalResourceId": request.logical_id,
            "ResourceType": request.type,
            "ResourceProperties": as_sent(request.properties),
        }
        if kind != "Create":
            message["PhysicalResourceId"] = request.physical_id
        if kind == "Update":
            message["OldResourceProperties"] = as_sent(request.previous_properties)
        _send(request, token_arn, orjson.dumps(message))
        body = self.responses.wait(token, timeout)
        if body is None:
            raise ResourceFailure(
                "CloudFormation did not receive a response from your Custom Resource. Please "
                f"check your logs for requestId [{request_id}]. If you are using the Python "
                "cfn-response module, you may need to update your Lambda function code so "
                "that CloudFormation can attach the updated version."
            )
        return _result(body, request)


def _service_timeout(value: Any) -> int:
    if value is None:
        return DEFAULT_SERVICE_TIMEOUT
    try:
        seconds = int(str(value))
    except ValueError:
        seconds = 0
    if not 1 <= seconds <= MAX_SERVICE_TIMEOUT:
        raise ResourceFailure(
            f"ServiceTimeout must be an integer from 1 to {MAX_SERVICE_TIMEOUT}"
        )  # guessed text
    return seconds


def _send(request: ResourceRequest, target: str, message: bytes) -> None:
    """Deliver the request to the function or topic ``target`` names."""
    if _LAMBDA_ARN.match(target):
        request.client("lambda").invoke(
            FunctionName=target, InvocationType="Event", Payload=message
        )
    elif _TOPIC_ARN.match(target):
        request.client("sns").publish(TopicArn=target, Message=message.decode())
    else:
        # guessed text: AWS names the token it cannot use
        raise ResourceFailure(f"Invalid service token: {target}")


def _result(body: bytes, request: ResourceRequest) -> ProviderResult:
    """The resource's physical id and attributes from the function's answer."""
    answer = parse_response(body)
    if answer is None:
        raise ResourceFailure("Invalid response object: the response is not a JSON object")
    status = answer.get("Status")
    if status == "FAILED":
        named = answer.get("PhysicalResourceId")
        raise ResourceFailure(
            "Received response status [FAILED] from custom resource. Message returned: "
            f"{answer.get('Reason', '')}",
            physical_id=named if isinstance(named, str) and named else None,
        )
    if status != "SUCCESS":
        raise ResourceFailure(f"Invalid response object: Status [{status}] is not valid")
    physical_id = answer.get("PhysicalResourceId") or request.physical_id
    if not isinstance(physical_id, str) or not physical_id:
        raise ResourceFailure("Invalid PhysicalResourceId")
    data = answer.get("Data") or {}
    if not isinstance(data, dict):
        raise ResourceFailure("Invalid response object: Data must be a JSON object")
    return ProviderResult(physical_id, {str(key): value for key, value in data.items()})
