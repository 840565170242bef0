"""AWS::SSM::Parameter through the SSM client."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from headwater.core.tag_lists import tag_list
from headwater.deploy.providers.base import (
    ProviderResult,
    ResourceProvider,
    ResourceRequest,
    retag,
    tags_dict,
)

MAX_NAME = 2048


def _value(properties: dict[str, Any]) -> str:
    value = properties.get("Value", "")
    if isinstance(value, list):  # StringList given as a list
        return ",".join(str(item) for item in value)
    return str(value)


class ParameterProvider(ResourceProvider):
    type_name = "AWS::SSM::Parameter"
    service = "ssm"

    def create(self, request: ResourceRequest) -> ProviderResult:
        properties = request.properties
        # CloudFormation names parameters CFN-<LogicalId>-<random>.
        name = str(properties.get("Name") or request.physical_name(MAX_NAME, prefix="CFN"))
        params: dict[str, Any] = {
            "Name": name,
            "Value": _value(properties),
            "Type": str(properties.get("Type", "String")),
        }
        for key in ("Description", "AllowedPattern", "Tier", "DataType"):
            if properties.get(key) is not None:
                params[key] = str(properties[key])
        tags = tags_dict(properties.get("Tags"))
        if tags:
            params["Tags"] = tag_list(tags)
        request.client("ssm").put_parameter(**params)
        return ProviderResult(name, self._attributes(request, name))

    def _attributes(self, request: ResourceRequest, name: str) -> dict[str, Any]:
        return {
            "Type": str(request.properties.get("Type", "String")),
            "Value": _value(request.properties),
        }

    def update(self, request: ResourceRequest) -> ProviderResult:
        name = str(request.physical_id)
        properties = request.properties
        params: dict[str, Any] = {
            "Name": name,
            "Value": _value(properties),
            "Type": str(properties.get("Type", "String")),
            "Overwrite": True,
        }
        for key in ("Description", "AllowedPattern", "Tier", "DataType"):
            if properties.get(key) is not None:
                params[key] = str(properties[key])
        ssm = request.client("ssm")
        ssm.put_parameter(**params)
        retag(
            request.previous_properties.get("Tags"),
            properties.get("Tags"),
            untag=lambda keys: ssm.remove_tags_from_resource(
                ResourceType="Parameter", ResourceId=name, TagKeys=keys
            ),
            tag=lambda tags: ssm.add_tags_to_resource(
                ResourceType="Parameter", ResourceId=name, Tags=tag_list(tags)
            ),
        )
        return ProviderResult(name, self._attributes(request, name))

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client("ssm").delete_parameter(Name=str(request.physical_id))
        except ClientError as error:
            if error.response["Error"]["Code"] != "ParameterNotFound":
                raise
