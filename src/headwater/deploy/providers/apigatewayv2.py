"""AWS::ApiGatewayV2::Api, Stage, Route, Integration, Authorizer and Deployment through the
apigatewayv2 client: the HTTP APIs SAM's ``HttpApi`` events and ``AWS::Serverless::HttpApi``
translate to (an Api whose ``Body`` is the OpenAPI definition, and its ``$default`` stage),
served by ``headwater serve`` (docs/api-gateway.md)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from headwater.deploy.providers.base import (
    ProviderResult,
    ResourceProvider,
    ResourceRequest,
    to_params,
)
from headwater.services.apigatewayv2.service import API_SETTINGS, api_arn

SERVICE = "apigatewayv2"


def _ignore_missing(error: ClientError) -> None:
    """Re-raise ``error`` unless the resource is already gone (it went with its API)."""
    if error.response["Error"]["Code"] != "NotFoundException":
        raise error


def openapi_definition(request: ResourceRequest) -> str | None:
    """The OpenAPI (or Swagger) definition of an API resource: its ``Body`` (an object or
    text) or the object ``BodyS3Location`` names; ``None`` for an API built from
    properties."""
    body = request.properties.get("Body")
    if body is not None:
        return body if isinstance(body, str) else json.dumps(body)
    location = request.properties.get("BodyS3Location")
    if not isinstance(location, dict):
        return None
    params: dict[str, Any] = {"Bucket": str(location["Bucket"]), "Key": str(location["Key"])}
    if location.get("Version"):
        params["VersionId"] = str(location["Version"])
    answer = request.client("s3").get_object(**params)
    data: bytes = answer["Body"].read()
    return data.decode("utf-8")


class HttpApiProvider(ResourceProvider):
    """``Ref`` is the API id; ``ApiEndpoint`` the address headwater serves it at."""

    type_name = "AWS::ApiGatewayV2::Api"
    service = SERVICE
    operations = ("CreateApi", "ImportApi", "ReimportApi", "UpdateApi", "DeleteApi")

    def _settings(self, request: ResourceRequest, operation: str) -> dict[str, Any]:
        values = {
            key: request.properties[key]
            for key in API_SETTINGS
            if request.properties.get(key) is not None
        }
        return to_params(SERVICE, operation, values)

    def _result(self, made: dict[str, Any]) -> ProviderResult:
        return ProviderResult(
            str(made["ApiId"]), {"ApiId": made["ApiId"], "ApiEndpoint": made["ApiEndpoint"]}
        )

    def create(self, request: ResourceRequest) -> ProviderResult:
        client = request.client(SERVICE)
        definition = openapi_definition(request)
        if definition is None:
            params = self._settings(request, "CreateApi")
            params.setdefault("ProtocolType", str(request.properties.get("ProtocolType", "")))
            for key in ("Target", "RouteKey", "CredentialsArn"):
                if request.properties.get(key) is not None:
                    params[key] = str(request.properties[key])
            tags = request.properties.get("Tags")
            if isinstance(tags, dict) and tags:
                params["Tags"] = {str(k): str(v) for k, v in tags.items()}
            return self._result(client.create_api(**params))
        made = client.import_api(Body=definition)
        api_id = str(made["ApiId"])
        settings = self._settings(request, "UpdateApi")
        if settings:  # properties beside the Body override the definition's
            made = client.update_api(ApiId=api_id, **settings)
        self._tag(request, api_id)
        return self._result(made)

    def _tag(self, request: ResourceRequest, api_id: str) -> None:
        tags = request.properties.get("Tags")
        if isinstance(tags, dict) and tags:
            request.client(SERVICE).tag_resource(
                ResourceArn=api_arn(api_id, request.region),
                Tags={str(k): str(v) for k, v in tags.items()},
            )

    def update(self, request: ResourceRequest) -> ProviderResult:
        client = request.client(SERVICE)
        api_id = str(request.physical_id)
        definition = openapi_definition(request)
        if definition is not None:
            client.reimport_api(ApiId=api_id, Body=definition)
        made = client.update_api(ApiId=api_id, **self._settings(request, "UpdateApi"))
        self._tag(request, api_id)
        return self._result(made)

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client(SERVICE).delete_api(ApiId=str(request.physical_id))
        except ClientError as error:
            _ignore_missing(error)


class HttpApiStageProvider(ResourceProvider):
    """``Ref`` is the stage name."""

    type_name = "AWS::ApiGatewayV2::Stage"
    service = SERVICE
    operations = ("CreateStage", "UpdateStage", "DeleteStage")

    def create(self, request: ResourceRequest) -> ProviderResult:
        params = to_params(SERVICE, "CreateStage", request.properties)
        made = request.client(SERVICE).create_stage(**params)
        return ProviderResult(str(made["StageName"]))

    def update(self, request: ResourceRequest) -> ProviderResult:
        values = {k: v for k, v in request.properties.items() if k != "Tags"}
        params = to_params(SERVICE, "UpdateStage", values)
        made = request.client(SERVICE).update_stage(**params)
        return ProviderResult(str(made["StageName"]))

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client(SERVICE).delete_stage(
                ApiId=str(request.properties["ApiId"]), StageName=str(request.physical_id)
            )
        except ClientError as error:
            _ignore_missing(error)


class HttpApiRouteProvider(ResourceProvider):
    """``Ref`` is the route id."""

    type_name = "AWS::ApiGatewayV2::Route"
    service = SERVICE
    operations = ("CreateRoute", "UpdateRoute", "DeleteRoute")

    def create(self, request: ResourceRequest) -> ProviderResult:
        made = request.client(SERVICE).create_route(
            **to_params(SERVICE, "CreateRoute", request.properties)
        )
        return ProviderResult(str(made["RouteId"]), {"RouteId": made["RouteId"]})

    def update(self, request: ResourceRequest) -> ProviderResult:
        params = to_params(SERVICE, "UpdateRoute", request.properties)
        made = request.client(SERVICE).update_route(RouteId=str(request.physical_id), **params)
        return ProviderResult(str(made["RouteId"]), {"RouteId": made["RouteId"]})

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client(SERVICE).delete_route(
                ApiId=str(request.properties["ApiId"]), RouteId=str(request.physical_id)
            )
        except ClientError as error:
            _ignore_missing(error)


class HttpApiAuthorizerProvider(ResourceProvider):
    """``Ref`` is the authorizer id."""

    type_name = "AWS::ApiGatewayV2::Authorizer"
    service = SERVICE
    operations = ("CreateAuthorizer", "UpdateAuthorizer", "DeleteAuthorizer")

    def create(self, request: ResourceRequest) -> ProviderResult:
        made = request.client(SERVICE).create_authorizer(
            **to_params(SERVICE, "CreateAuthorizer", request.properties)
        )
        return ProviderResult(str(made["AuthorizerId"]), {"AuthorizerId": made["AuthorizerId"]})

    def update(self, request: ResourceRequest) -> ProviderResult:
        params = to_params(SERVICE, "UpdateAuthorizer", request.properties)
        made = request.client(SERVICE).update_authorizer(
            AuthorizerId=str(request.physical_id), **params
        )
        return ProviderResult(str(made["AuthorizerId"]), {"AuthorizerId": made["AuthorizerId"]})

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client(SERVICE).delete_authorizer(
                ApiId=str(request.properties["ApiId"]), AuthorizerId=str(request.physical_id)
            )
        except ClientError as error:
            _ignore_missing(error)


class HttpApiIntegrationProvider(ResourceProvider):
    """``Ref`` is the integration id."""

    type_name = "AWS::ApiGatewayV2::Integration"
    service = SERVICE
    operations = ("CreateIntegration", "UpdateIntegration", "DeleteIntegration")

    def create(self, request: ResourceRequest) -> ProviderResult:
        made = request.client(SERVICE).create_integration(
            **to_params(SERVICE, "CreateIntegration", request.properties)
        )
        return ProviderResult(str(made["IntegrationId"]), {"IntegrationId": made["IntegrationId"]})

    def update(self, request: ResourceRequest) -> ProviderResult:
        params = to_params(SERVICE, "UpdateIntegration", request.properties)
        made = request.client(SERVICE).update_integration(
            IntegrationId=str(request.physical_id), **params
        )
        return ProviderResult(str(made["IntegrationId"]), {"IntegrationId": made["IntegrationId"]})

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client(SERVICE).delete_integration(
                ApiId=str(request.properties["ApiId"]), IntegrationId=str(request.physical_id)
            )
        except ClientError as error:
            _ignore_missing(error)


class HttpApiDeploymentProvider(ResourceProvider):
    """``Ref`` is the deployment id (headwater serves an API's current routes whether
    deployed or not: a deployment is a record)."""

    type_name = "AWS::ApiGatewayV2::Deployment"
    service = SERVICE
    operations = ("CreateDeployment", "DeleteDeployment")

    def create(self, request: ResourceRequest) -> ProviderResult:
        made = request.client(SERVICE).create_deployment(
            **to_params(SERVICE, "CreateDeployment", request.properties)
        )
        return ProviderResult(str(made["DeploymentId"]), {"DeploymentId": made["DeploymentId"]})

    def update(self, request: ResourceRequest) -> ProviderResult:
        return self.create(request)

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client(SERVICE).delete_deployment(
                ApiId=str(request.properties["ApiId"]), DeploymentId=str(request.physical_id)
            )
        except ClientError as error:
            _ignore_missing(error)
