"""AWS::SecretsManager::Secret and AWS::SecretsManager::ResourcePolicy through the Secrets
Manager client."""

from __future__ import annotations

import json
from typing import Any

from headwater.core.tag_lists import tag_list
from headwater.deploy.providers.base import (
    ProviderResult,
    ResourceProvider,
    ResourceRequest,
    missing_is_deleted,
    random_suffix,
    retag,
    tags_dict,
)

MAX_NAME = 512
#: GenerateSecretString's members that are GetRandomPassword's parameters.
_PASSWORD_OPTIONS = (
    "PasswordLength",
    "ExcludeCharacters",
    "ExcludeLowercase",
    "ExcludeNumbers",
    "ExcludePunctuation",
    "ExcludeUppercase",
    "IncludeSpace",
    "RequireEachIncludedType",
)


class GenerateSecretStringError(ValueError):
    """A GenerateSecretString CloudFormation refuses."""


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def generated_secret_string(request: ResourceRequest, spec: dict[str, Any]) -> str:
    """The value GenerateSecretString describes: a password, or a JSON object
    (SecretStringTemplate) with the password under GenerateStringKey."""
    options: dict[str, Any] = {}
    for key in _PASSWORD_OPTIONS:
        if spec.get(key) is None:
            continue
        if key == "PasswordLength":
            options[key] = int(spec[key])
        elif key == "ExcludeCharacters":
            options[key] = str(spec[key])
        else:
            options[key] = _flag(spec[key])
    password = str(
        request.client("secretsmanager").get_random_password(**options)["RandomPassword"]
    )
    template, field = spec.get("SecretStringTemplate"), spec.get("GenerateStringKey")
    if template is None and field is None:
        return password
    if template is None or field is None:
        # CloudFormation's handler refuses one without the other (text a guess).
        raise GenerateSecretStringError(
            "SecretStringTemplate and GenerateStringKey must both be specified"
        )
    try:
        document = json.loads(str(template))
    except json.JSONDecodeError:
        document = None
    if not isinstance(document, dict):
        raise GenerateSecretStringError("SecretStringTemplate must be a valid JSON object")
    document[str(field)] = password
    return json.dumps(document)


def _secret_value(request: ResourceRequest) -> str:
    properties = request.properties
    if properties.get("SecretString") is not None:
        if properties.get("GenerateSecretString") is not None:
            raise GenerateSecretStringError(
                "You can't specify both SecretString and GenerateSecretString"
            )  # guessed text
        return str(properties["SecretString"])
    # Neither given: CloudFormation generates a password with the defaults, as for
    # GenerateSecretString: {} (CDK's Secret without options).
    return generated_secret_string(request, properties.get("GenerateSecretString") or {})


class SecretProvider(ResourceProvider):
    type_name = "AWS::SecretsManager::Secret"
    service = "secretsmanager"
    operations = ("CreateSecret", "UpdateSecret", "DeleteSecret", "GetRandomPassword")

    def create(self, request: ResourceRequest) -> ProviderResult:
        properties = request.properties
        # CloudFormation names secrets <LogicalId>-<12 random characters>.
        name = str(properties.get("Name") or f"{request.logical_id}-{random_suffix(12)}")
        params: dict[str, Any] = {"Name": name, "SecretString": _secret_value(request)}
        for key in ("Description", "KmsKeyId"):
            if properties.get(key) is not None:
                params[key] = str(properties[key])
        tags = tags_dict(properties.get("Tags"))
        if tags:
            params["Tags"] = tag_list(tags)
        arn = str(request.client("secretsmanager").create_secret(**params)["ARN"])
        return ProviderResult(arn, {"Id": arn})

    def update(self, request: ResourceRequest) -> ProviderResult:
        arn = str(request.physical_id)
        properties, previous = request.properties, request.previous_properties
        client = request.client("secretsmanager")
        params: dict[str, Any] = {"SecretId": arn}
        for key in ("Description", "KmsKeyId"):
            if properties.get(key) != previous.get(key) and properties.get(key) is not None:
                params[key] = str(properties[key])
        value_keys = ("SecretString", "GenerateSecretString")
        if any(properties.get(key) != previous.get(key) for key in value_keys):
            params["SecretString"] = _secret_value(request)
        if len(params) > 1:
            client.update_secret(**params)
        retag(
            previous.get("Tags"),
            properties.get("Tags"),
            untag=lambda keys: client.untag_resource(SecretId=arn, TagKeys=keys),
            tag=lambda tags: client.tag_resource(SecretId=arn, Tags=tag_list(tags)),
        )
        return ProviderResult(arn, {"Id": arn})

    def delete(self, request: ResourceRequest) -> None:
        # CloudFormation deletes a stack's secret at once, with no recovery window, so a
        # stack made again can take the same name.
        with missing_is_deleted():
            request.client("secretsmanager").delete_secret(
                SecretId=str(request.physical_id), ForceDeleteWithoutRecovery=True
            )


def _policy_text(policy: Any) -> str:
    return policy if isinstance(policy, str) else json.dumps(policy)


class ResourcePolicyProvider(ResourceProvider):
    """A secret's resource policy; ``Ref`` (and ``Id``) is the secret's ARN."""

    type_name = "AWS::SecretsManager::ResourcePolicy"
    service = "secretsmanager"
    operations = ("PutResourcePolicy", "DeleteResourcePolicy")

    def create(self, request: ResourceRequest) -> ProviderResult:
        return self._put(request)

    def update(self, request: ResourceRequest) -> ProviderResult:
        return self._put(request)

    def _put(self, request: ResourceRequest) -> ProviderResult:
        properties = request.properties
        params: dict[str, Any] = {
            "SecretId": str(properties.get("SecretId", "")),
            "ResourcePolicy": _policy_text(properties.get("ResourcePolicy", {})),
        }
        if properties.get("BlockPublicPolicy") is not None:
            params["BlockPublicPolicy"] = _flag(properties["BlockPublicPolicy"])
        arn = str(request.client("secretsmanager").put_resource_policy(**params)["ARN"])
        return ProviderResult(arn, {"Id": arn})

    def delete(self, request: ResourceRequest) -> None:
        with missing_is_deleted():
            request.client("secretsmanager").delete_resource_policy(
                SecretId=str(request.properties.get("SecretId") or request.physical_id)
            )
