"""AWS::Cognito::UserPool, ::UserPoolClient and ::UserPoolGroup through the cognito-idp
client. SAM's ``Cognito`` event is the pool's LambdaConfig (and a permission), as the SAM
translator writes it, so it deploys through these."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from headwater.deploy.providers.base import (
    ProviderResult,
    ResourceProvider,
    ResourceRequest,
    to_params,
)

SERVICE = "cognito-idp"


def _delete_quietly(delete: Callable[[], object]) -> None:
    """Run ``delete``; a resource already gone is no error (CloudFormation's deletes)."""
    try:
        delete()
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise


class UserPoolProvider(ResourceProvider):
    """A user pool; ``Ref`` is its id."""

    type_name = "AWS::Cognito::UserPool"
    service = SERVICE
    operations = ("CreateUserPool", "UpdateUserPool", "DeleteUserPool")

    def create(self, request: ResourceRequest) -> ProviderResult:
        values = dict(request.properties)
        values["PoolName"] = str(values.pop("UserPoolName", None) or request.physical_name(128))
        pool = request.client(SERVICE).create_user_pool(
            **to_params(SERVICE, "CreateUserPool", values)
        )["UserPool"]
        return self._result(request, str(pool["Id"]), str(pool["Arn"]))

    def update(self, request: ResourceRequest) -> ProviderResult:
        pool_id = str(request.physical_id)
        values = dict(request.properties)
        values["UserPoolId"] = pool_id
        if values.get("UserPoolName"):
            values["PoolName"] = values.pop("UserPoolName")
        client = request.client(SERVICE)
        client.update_user_pool(**to_params(SERVICE, "UpdateUserPool", values))
        arn = client.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Arn"]
        return self._result(request, pool_id, str(arn))

    def _result(self, request: ResourceRequest, pool_id: str, arn: str) -> ProviderResult:
        provider_name = f"cognito-idp.{request.region}.amazonaws.com/{pool_id}"
        return ProviderResult(
            pool_id,
            {
                "Arn": arn,
                "ProviderName": provider_name,
                "ProviderURL": f"https://{provider_name}",
                "UserPoolId": pool_id,
            },
        )

    def delete(self, request: ResourceRequest) -> None:
        client = request.client(SERVICE)
        _delete_quietly(lambda: client.delete_user_pool(UserPoolId=str(request.physical_id)))


class UserPoolClientProvider(ResourceProvider):
    """An app client; ``Ref`` is its client id."""

    type_name = "AWS::Cognito::UserPoolClient"
    service = SERVICE
    operations = ("CreateUserPoolClient", "UpdateUserPoolClient", "DeleteUserPoolClient")

    def create(self, request: ResourceRequest) -> ProviderResult:
        values = dict(request.properties)
        values.setdefault("ClientName", request.logical_id)
        made = request.client(SERVICE).create_user_pool_client(
            **to_params(SERVICE, "CreateUserPoolClient", values)
        )["UserPoolClient"]
        return _client_result(made)

    def update(self, request: ResourceRequest) -> ProviderResult:
        values = dict(request.properties)
        values.setdefault("ClientName", request.logical_id)
        values["ClientId"] = str(request.physical_id)
        made = request.client(SERVICE).update_user_pool_client(
            **to_params(SERVICE, "UpdateUserPoolClient", values)
        )["UserPoolClient"]
        return _client_result(made)

    def delete(self, request: ResourceRequest) -> None:
        client = request.client(SERVICE)
        _delete_quietly(
            lambda: client.delete_user_pool_client(
                UserPoolId=str(request.properties.get("UserPoolId", "")),
                ClientId=str(request.physical_id),
            )
        )


def _client_result(made: dict[str, Any]) -> ProviderResult:
    attributes = {"ClientId": made["ClientId"], "Name": made["ClientName"]}
    if made.get("ClientSecret"):
        attributes["ClientSecret"] = made["ClientSecret"]
    return ProviderResult(str(made["ClientId"]), attributes)


class UserPoolGroupProvider(ResourceProvider):
    """A group of a pool; ``Ref`` is its name."""

    type_name = "AWS::Cognito::UserPoolGroup"
    service = SERVICE
    operations = ("CreateGroup", "UpdateGroup", "DeleteGroup")

    def create(self, request: ResourceRequest) -> ProviderResult:
        values = dict(request.properties)
        values.setdefault("GroupName", request.physical_name(128))
        made = request.client(SERVICE).create_group(**to_params(SERVICE, "CreateGroup", values))
        return ProviderResult(str(made["Group"]["GroupName"]))

    def update(self, request: ResourceRequest) -> ProviderResult:
        values = {**request.properties, "GroupName": str(request.physical_id)}
        request.client(SERVICE).update_group(**to_params(SERVICE, "UpdateGroup", values))
        return ProviderResult(str(request.physical_id))

    def delete(self, request: ResourceRequest) -> None:
        client = request.client(SERVICE)
        _delete_quietly(
            lambda: client.delete_group(
                UserPoolId=str(request.properties.get("UserPoolId", "")),
                GroupName=str(request.physical_id),
            )
        )
