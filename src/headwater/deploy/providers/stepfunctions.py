"""``AWS::StepFunctions::StateMachine``: a state machine from ``Definition`` (an object),
``DefinitionString`` or ``DefinitionS3Location`` (read from headwater's S3), with
``DefinitionSubstitutions`` put in for ``${name}`` as CloudFormation does.

``Ref`` is the machine's ARN; ``GetAtt`` gives ``Arn``, ``Name`` and
``StateMachineRevisionId``. A new name or type replaces the machine (CloudFormation's
create-only properties); the definition, role, logging and tracing change in place.
"""

from __future__ import annotations

import json
import re
from typing import Any

from botocore.exceptions import ClientError

from headwater.deploy.providers.base import (
    ProviderResult,
    ResourceProvider,
    ResourceRequest,
    retag,
)

_SUBSTITUTION = re.compile(r"\$\{([^}]+)\}")


def definition_text(request: ResourceRequest) -> str:
    """The state machine definition a template gives, substitutions made."""
    properties = request.properties
    if properties.get("Definition") is not None:
        text = json.dumps(properties["Definition"])
    elif properties.get("DefinitionString") is not None:
        text = str(properties["DefinitionString"])
    elif properties.get("DefinitionS3Location") is not None:
        location = properties["DefinitionS3Location"]
        params = {"Bucket": str(location["Bucket"]), "Key": str(location["Key"])}
        if location.get("Version"):
            params["VersionId"] = str(location["Version"])
        body = request.client("s3").get_object(**params)["Body"].read()
        text = body.decode("utf-8")
    else:
        # CloudFormation's text for a machine with no definition (guessed).
        raise ValueError(
            "Properties validation failed: one of Definition, DefinitionString or"
            " DefinitionS3Location is required"
        )
    substitutions = properties.get("DefinitionSubstitutions") or {}
    return _SUBSTITUTION.sub(lambda match: _substituted(substitutions, match), text)


def _substituted(substitutions: dict[str, Any], match: re.Match[str]) -> str:
    name = match.group(1)
    if name not in substitutions:
        return match.group(0)
    value = substitutions[name]
    return value if isinstance(value, str) else json.dumps(value)


def _tag_list(tags: Any) -> list[dict[str, str]]:
    return [{"key": str(t["Key"]), "value": str(t["Value"])} for t in tags or []]


class StateMachineProvider(ResourceProvider):
    type_name = "AWS::StepFunctions::StateMachine"
    service = "stepfunctions"
    operations = (
        "CreateStateMachine",
        "UpdateStateMachine",
        "DeleteStateMachine",
        "TagResource",
        "UntagResource",
    )

    def create(self, request: ResourceRequest) -> ProviderResult:
        properties = request.properties
        # CloudFormation names machines <LogicalId>-<12 random characters>.
        name = str(properties.get("StateMachineName") or request.physical_name(80))
        params: dict[str, Any] = {
            "name": name,
            "definition": definition_text(request),
            "roleArn": str(properties["RoleArn"]),
            "type": str(properties.get("StateMachineType") or "STANDARD"),
        }
        for key, param in (
            ("LoggingConfiguration", "loggingConfiguration"),
            ("TracingConfiguration", "tracingConfiguration"),
        ):
            if properties.get(key) is not None:
                params[param] = _lower_keys(properties[key])
        tags = _tag_list(properties.get("Tags"))
        if tags:
            params["tags"] = tags
        arn = str(request.client("stepfunctions").create_state_machine(**params)["stateMachineArn"])
        return self._result(request, arn)

    def update(self, request: ResourceRequest) -> ProviderResult:
        arn = str(request.physical_id)
        properties, previous = request.properties, request.previous_properties
        client = request.client("stepfunctions")
        client.update_state_machine(
            stateMachineArn=arn,
            definition=definition_text(request),
            roleArn=str(properties["RoleArn"]),
        )
        retag(
            previous.get("Tags"),
            properties.get("Tags"),
            untag=lambda keys: client.untag_resource(resourceArn=arn, tagKeys=keys),
            tag=lambda tags: client.tag_resource(
                resourceArn=arn, tags=[{"key": k, "value": v} for k, v in tags.items()]
            ),
        )
        return self._result(request, arn)

    def _result(self, request: ResourceRequest, arn: str) -> ProviderResult:
        described = request.client("stepfunctions").describe_state_machine(stateMachineArn=arn)
        return ProviderResult(
            arn,
            {
                "Arn": arn,
                "Name": described["name"],
                "StateMachineRevisionId": described.get("revisionId", ""),
            },
        )

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client("stepfunctions").delete_state_machine(
                stateMachineArn=str(request.physical_id)
            )
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("StateMachineDoesNotExist", "InvalidArn"):
                raise


def _lower_keys(value: Any) -> Any:
    """CloudFormation's ``Level`` -> the API's ``level`` (first letter lowered, deep)."""
    if isinstance(value, dict):
        return {key[:1].lower() + key[1:]: _lower_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_lower_keys(item) for item in value]
    return value
