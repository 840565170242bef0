"""AWS::ApiGateway::RestApi, Resource, Method, Authorizer, Deployment and Stage through the
apigateway client: the REST APIs SAM's ``Api`` events translate to (a RestApi whose ``Body`` is the
Swagger definition, a Deployment that makes stage ``Stage``, and stage ``Prod``), served
by ``headwater serve`` (docs/api-gateway.md)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from headwater.deploy.providers.apigatewayv2 import openapi_definition
from headwater.deploy.providers.base import (
    ProviderResult,
    ResourceProvider,
    ResourceRequest,
    random_suffix,
    tags_dict,
    to_params,
)
from headwater.services.apigateway.service import rest_api_arn

SERVICE = "apigateway"


def _ignore_missing(error: ClientError) -> None:
    """Re-raise ``error`` unless the resource is already gone (it went with its API)."""
    if error.response["Error"]["Code"] != "NotFoundException":
        raise error


class RestApiProvider(ResourceProvider):
    """``Ref`` is the REST API id; ``RootResourceId`` its ``/`` resource."""

    type_name = "AWS::ApiGateway::RestApi"
    service = SERVICE
    operations = ("CreateRestApi", "ImportRestApi", "PutRestApi", "DeleteRestApi")

    def _result(self, made: dict[str, Any]) -> ProviderResult:
        return ProviderResult(
            str(made["id"]),
            {"RestApiId": made["id"], "RootResourceId": made["rootResourceId"]},
        )

    def _patches(self, request: ResourceRequest) -> list[dict[str, str]]:
        return [
            {"op": "replace", "path": f"/{name.lower()}", "value": str(request.properties[name])}
            for name in ("Name", "Description")
            if request.properties.get(name) is not None
        ]

    def create(self, request: ResourceRequest) -> ProviderResult:
        client = request.client(SERVICE)
        definition = openapi_definition(request)
        if definition is None:
            params: dict[str, Any] = {"name": str(request.properties.get("Name", ""))}
            if request.properties.get("Description") is not None:
                params["description"] = str(request.properties["Description"])
            if request.properties.get("BinaryMediaTypes"):
                params["binaryMediaTypes"] = [
                    str(t) for t in request.properties["BinaryMediaTypes"]
                ]
            made = client.create_rest_api(**params)
        else:
            made = client.import_rest_api(body=definition.encode("utf-8"))
            patches = self._patches(request)
            if patches:  # Name and Description beside a Body override the definition's
                made = client.update_rest_api(restApiId=made["id"], patchOperations=patches)
        self._tag(request, str(made["id"]))
        return self._result(made)

    def _tag(self, request: ResourceRequest, api_id: str) -> None:
        tags = tags_dict(request.properties.get("Tags"))
        if tags:
            request.client(SERVICE).tag_resource(
                resourceArn=rest_api_arn(api_id, request.region), tags=tags
            )

    def update(self, request: ResourceRequest) -> ProviderResult:
        client = request.client(SERVICE)
        api_id = str(request.physical_id)
        definition = openapi_definition(request)
        if definition is not None:
            # CloudFormation's Mode: the new definition replaces the API's resources
            mode = str(request.properties.get("Mode") or "overwrite")
            client.put_rest_api(restApiId=api_id, mode=mode, body=definition.encode("utf-8"))
        made = client.update_rest_api(restApiId=api_id, patchOperations=self._patches(request))
        self._tag(request, api_id)
        return self._result(made)

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client(SERVICE).delete_rest_api(restApiId=str(request.physical_id))
        except ClientError as error:
            _ignore_missing(error)


class RestResourceProvider(ResourceProvider):
    """``Ref`` is the resource id (every property is create-only)."""

    type_name = "AWS::ApiGateway::Resource"
    service = SERVICE
    operations = ("CreateResource", "DeleteResource")

    def create(self, request: ResourceRequest) -> ProviderResult:
        made = request.client(SERVICE).create_resource(
            restApiId=str(request.properties["RestApiId"]),
            parentId=str(request.properties["ParentId"]),
            pathPart=str(request.properties["PathPart"]),
        )
        return ProviderResult(str(made["id"]), {"ResourceId": made["id"]})

    def update(self, request: ResourceRequest) -> ProviderResult:
        return ProviderResult(str(request.physical_id), {"ResourceId": request.physical_id})

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client(SERVICE).delete_resource(
                restApiId=str(request.properties["RestApiId"]),
                resourceId=str(request.physical_id),
            )
        except ClientError as error:
            _ignore_missing(error)


class RestMethodProvider(ResourceProvider):
    """A method, its Lambda proxy or MOCK ``Integration`` (with its
    ``IntegrationResponses``) and its ``MethodResponses``; ``Ref`` is a generated id."""

    type_name = "AWS::ApiGateway::Method"
    service = SERVICE
    operations = (
        "PutMethod",
        "UpdateMethod",
        "PutIntegration",
        "PutMethodResponse",
        "PutIntegrationResponse",
        "DeleteMethod",
    )

    def _address(self, request: ResourceRequest) -> dict[str, str]:
        return {
            "restApiId": str(request.properties["RestApiId"]),
            "resourceId": str(request.properties["ResourceId"]),
            "httpMethod": str(request.properties["HttpMethod"]),
        }

    def _integrate(self, request: ResourceRequest) -> None:
        client = request.client(SERVICE)
        address = self._address(request)
        for response in request.properties.get("MethodResponses") or []:
            client.put_method_response(
                **address,
                statusCode=str(response.get("StatusCode")),
                **_members(
                    response,
                    {
                        "ResponseParameters": "responseParameters",
                        "ResponseModels": "responseModels",
                    },
                ),
            )
        integration = request.properties.get("Integration")
        if not isinstance(integration, dict):
            return
        kind = str(integration.get("Type", ""))
        params: dict[str, Any] = {"type": kind}
        if kind != "MOCK":
            params["integrationHttpMethod"] = str(integration.get("IntegrationHttpMethod", "POST"))
            params["uri"] = str(integration.get("Uri", ""))
        params.update(
            _members(
                integration,
                {
                    "RequestTemplates": "requestTemplates",
                    "PassthroughBehavior": "passthroughBehavior",
                    "TimeoutInMillis": "timeoutInMillis",
                },
            )
        )
        client.put_integration(**address, **params)
        for response in integration.get("IntegrationResponses") or []:
            client.put_integration_response(
                **address,
                statusCode=str(response.get("StatusCode")),
                **_members(
                    response,
                    {
                        "SelectionPattern": "selectionPattern",
                        "ResponseParameters": "responseParameters",
                        "ResponseTemplates": "responseTemplates",
                        "ContentHandling": "contentHandling",
                    },
                ),
            )

    def create(self, request: ResourceRequest) -> ProviderResult:
        request.client(SERVICE).put_method(
            **self._address(request),
            authorizationType=str(request.properties.get("AuthorizationType", "NONE")),
            **_members(
                request.properties,
                {"AuthorizerId": "authorizerId", "AuthorizationScopes": "authorizationScopes"},
            ),
        )
        self._integrate(request)
        return ProviderResult(f"{request.stack_name}-{request.logical_id}-{random_suffix(8)}")

    def update(self, request: ResourceRequest) -> ProviderResult:
        patches = [
            {
                "op": "replace",
                "path": f"/{member}",
                "value": str(request.properties.get(name, default)),
            }
            for name, member, default in (
                ("AuthorizationType", "authorizationType", "NONE"),
                ("AuthorizerId", "authorizerId", ""),
            )
            if request.properties.get(name) != request.previous_properties.get(name)
        ]
        # scopes are patched one at a time: the old ones removed, the new ones added
        scopes = [str(s) for s in request.properties.get("AuthorizationScopes") or []]
        before = [str(s) for s in request.previous_properties.get("AuthorizationScopes") or []]
        patches += [
            {"op": "remove", "path": "/authorizationScopes", "value": scope}
            for scope in before
            if scope not in scopes
        ]
        patches += [
            {"op": "add", "path": "/authorizationScopes", "value": scope}
            for scope in scopes
            if scope not in before
        ]
        if patches:
            request.client(SERVICE).update_method(**self._address(request), patchOperations=patches)
        self._integrate(request)
        return ProviderResult(str(request.physical_id))

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client(SERVICE).delete_method(**self._address(request))
        except ClientError as error:
            _ignore_missing(error)


class RestAuthorizerProvider(ResourceProvider):
    """``Ref`` is the authorizer id."""

    type_name = "AWS::ApiGateway::Authorizer"
    service = SERVICE
    operations = ("CreateAuthorizer", "UpdateAuthorizer", "DeleteAuthorizer")

    @staticmethod
    def _params(properties: dict[str, Any]) -> dict[str, Any]:
        # the resource's properties are the API's members with a capital first letter
        return to_params(
            SERVICE, "CreateAuthorizer", {k[:1].lower() + k[1:]: v for k, v in properties.items()}
        )

    def create(self, request: ResourceRequest) -> ProviderResult:
        made = request.client(SERVICE).create_authorizer(**self._params(request.properties))
        return ProviderResult(str(made["id"]), {"AuthorizerId": made["id"]})

    def update(self, request: ResourceRequest) -> ProviderResult:
        new = self._params(request.properties)
        old = self._params(request.previous_properties)
        patches = [
            {"op": "replace", "path": f"/{name}", "value": _patch_value(new.get(name))}
            for name in sorted(set(new) | set(old))
            if name != "restApiId" and new.get(name) != old.get(name)
        ]
        if patches:
            request.client(SERVICE).update_authorizer(
                restApiId=new["restApiId"],
                authorizerId=str(request.physical_id),
                patchOperations=patches,
            )
        return ProviderResult(str(request.physical_id), {"AuthorizerId": request.physical_id})

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client(SERVICE).delete_authorizer(
                restApiId=str(request.properties["RestApiId"]),
                authorizerId=str(request.physical_id),
            )
        except ClientError as error:
            _ignore_missing(error)


def _patch_value(value: Any) -> str | None:
    """A patch operation's value: text (a list, ``providerARNs``, comma-joined)."""
    if value is None:
        return None
    return ",".join(str(v) for v in value) if isinstance(value, list) else str(value)


def _members(properties: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The API call's members (``names``: property -> member) a resource's ``properties``
    set."""
    return {member: properties[name] for name, member in names.items() if name in properties}


class RestDeploymentProvider(ResourceProvider):
    """``Ref`` is the deployment id. With ``StageName`` the deployment makes (or moves)
    that stage, and deleting the deployment deletes the stage it made, as CloudFormation
    does."""

    type_name = "AWS::ApiGateway::Deployment"
    service = SERVICE
    operations = ("CreateDeployment", "DeleteDeployment", "DeleteStage")

    def create(self, request: ResourceRequest) -> ProviderResult:
        params: dict[str, Any] = {"restApiId": str(request.properties["RestApiId"])}
        if request.properties.get("StageName"):
            params["stageName"] = str(request.properties["StageName"])
        if request.properties.get("Description") is not None:
            params["description"] = str(request.properties["Description"])
        stage = request.properties.get("StageDescription")
        if isinstance(stage, dict) and isinstance(stage.get("Variables"), dict):
            params["variables"] = {str(k): str(v) for k, v in stage["Variables"].items()}
        made = request.client(SERVICE).create_deployment(**params)
        return ProviderResult(str(made["id"]), {"DeploymentId": made["id"]})

    def update(self, request: ResourceRequest) -> ProviderResult:
        """A new ``StageName`` is made (or moved) to this deployment."""
        deployment_id = str(request.physical_id)
        stage_name = request.properties.get("StageName")
        if stage_name and stage_name != request.previous_properties.get("StageName"):
            client = request.client(SERVICE)
            api_id = str(request.properties["RestApiId"])
            try:
                client.update_stage(
                    restApiId=api_id,
                    stageName=str(stage_name),
                    patchOperations=[
                        {"op": "replace", "path": "/deploymentId", "value": deployment_id}
                    ],
                )
            except ClientError as error:
                _ignore_missing(error)
                client.create_stage(
                    restApiId=api_id, stageName=str(stage_name), deploymentId=deployment_id
                )
        return ProviderResult(deployment_id, {"DeploymentId": deployment_id})

    def delete(self, request: ResourceRequest) -> None:
        client = request.client(SERVICE)
        api_id = str(request.properties["RestApiId"])
        stage_name = request.properties.get("StageName")
        try:
            if stage_name:
                stage = client.get_stage(restApiId=api_id, stageName=str(stage_name))
                if stage.get("deploymentId") == request.physical_id:
                    client.delete_stage(restApiId=api_id, stageName=str(stage_name))
        except ClientError as error:
            _ignore_missing(error)
        try:
            client.delete_deployment(restApiId=api_id, deploymentId=str(request.physical_id))
        except ClientError as error:
            _ignore_missing(error)


class RestStageProvider(ResourceProvider):
    """``Ref`` is the stage name."""

    type_name = "AWS::ApiGateway::Stage"
    service = SERVICE
    operations = ("CreateStage", "UpdateStage", "DeleteStage")

    def create(self, request: ResourceRequest) -> ProviderResult:
        params: dict[str, Any] = {
            "restApiId": str(request.properties["RestApiId"]),
            "stageName": str(request.properties["StageName"]),
            "deploymentId": str(request.properties["DeploymentId"]),
        }
        if request.properties.get("Description") is not None:
            params["description"] = str(request.properties["Description"])
        variables = request.properties.get("Variables")
        if isinstance(variables, dict):
            params["variables"] = {str(k): str(v) for k, v in variables.items()}
        tags = tags_dict(request.properties.get("Tags"))
        if tags:
            params["tags"] = tags
        made = request.client(SERVICE).create_stage(**params)
        return ProviderResult(str(made["stageName"]))

    def update(self, request: ResourceRequest) -> ProviderResult:
        patches: list[dict[str, str]] = [
            {
                "op": "replace",
                "path": "/deploymentId",
                "value": str(request.properties["DeploymentId"]),
            }
        ]
        if request.properties.get("Description") is not None:
            patches.append(
                {
                    "op": "replace",
                    "path": "/description",
                    "value": str(request.properties["Description"]),
                }
            )
        old = request.previous_properties.get("Variables") or {}
        new = request.properties.get("Variables") or {}
        for name in old:
            if name not in new:
                patches.append({"op": "remove", "path": f"/variables/{name}"})
        for name, value in new.items():
            patches.append({"op": "replace", "path": f"/variables/{name}", "value": str(value)})
        made = request.client(SERVICE).update_stage(
            restApiId=str(request.properties["RestApiId"]),
            stageName=str(request.physical_id),
            patchOperations=patches,
        )
        return ProviderResult(str(made["stageName"]))

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client(SERVICE).delete_stage(
                restApiId=str(request.properties["RestApiId"]),
                stageName=str(request.physical_id),
            )
        except ClientError as error:
            _ignore_missing(error)
