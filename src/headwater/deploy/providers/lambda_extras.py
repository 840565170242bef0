"""AWS::Lambda::Permission, Version, Alias, EventInvokeConfig and Url, through Lambda's
permission, version, alias, event-invoke-config and function URL operations."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from headwater.deploy.providers.base import (
    ProviderResult,
    ResourceProvider,
    ResourceRequest,
    missing_is_deleted,
    to_params,
)
from headwater.deploy.providers.codedeploy import deploy_alias_version


class PermissionProvider(ResourceProvider):
    """Every property but Id is create-only, so there is no update."""

    type_name = "AWS::Lambda::Permission"
    service = "lambda"
    operations = ("AddPermission", "RemovePermission")

    def create(self, request: ResourceRequest) -> ProviderResult:
        statement_id = request.physical_name(100)
        params = to_params("lambda", "AddPermission", request.properties)
        params["StatementId"] = statement_id
        request.client("lambda").add_permission(**params)
        return ProviderResult(statement_id, {"Id": statement_id})

    def update(self, request: ResourceRequest) -> ProviderResult:
        return ProviderResult(str(request.physical_id), request.previous_attributes)

    def delete(self, request: ResourceRequest) -> None:
        with missing_is_deleted():
            request.client("lambda").remove_permission(
                FunctionName=str(request.properties["FunctionName"]),
                StatementId=str(request.physical_id),
            )


class VersionProvider(ResourceProvider):
    type_name = "AWS::Lambda::Version"
    service = "lambda"
    operations = ("PublishVersion",)

    def create(self, request: ResourceRequest) -> ProviderResult:
        params = to_params("lambda", "PublishVersion", request.properties)
        published = request.client("lambda").publish_version(**params)
        arn = published["FunctionArn"]
        provisioned = request.properties.get("ProvisionedConcurrencyConfig")
        if provisioned:  # not a PublishVersion member (create-only: a change replaces)
            request.client("lambda").put_provisioned_concurrency_config(
                FunctionName=str(request.properties["FunctionName"]),
                Qualifier=str(published["Version"]),
                ProvisionedConcurrentExecutions=int(provisioned["ProvisionedConcurrentExecutions"]),
            )
        return ProviderResult(
            arn,
            {"Version": published["Version"], "FunctionArn": arn.rsplit(":", 1)[0]},
        )

    def update(self, request: ResourceRequest) -> ProviderResult:
        return ProviderResult(str(request.physical_id), request.previous_attributes)

    def delete(self, request: ResourceRequest) -> None:
        name, _, version = str(request.physical_id).rpartition(":")
        with missing_is_deleted():
            request.client("lambda").delete_function(FunctionName=name, Qualifier=version)


class AliasProvider(ResourceProvider):
    type_name = "AWS::Lambda::Alias"
    service = "lambda"
    operations = ("CreateAlias", "UpdateAlias", "DeleteAlias")

    def create(self, request: ResourceRequest) -> ProviderResult:
        params = to_params("lambda", "CreateAlias", request.properties)
        arn = request.client("lambda").create_alias(**params)["AliasArn"]
        try:
            self._provisioned_concurrency(request, None)
        except ClientError:
            self.delete(request)  # a failed create leaves nothing behind
            raise
        return ProviderResult(arn, {"AliasArn": arn})

    def _provisioned_concurrency(self, request: ResourceRequest, old: Any) -> None:
        """ProvisionedConcurrencyConfig (SAM puts it on the AutoPublishAlias) is not an
        alias member: it is put on the alias as a qualifier, and deleted when removed."""
        new = request.properties.get("ProvisionedConcurrencyConfig")
        if new == old:
            return
        lam = request.client("lambda")
        function = str(request.properties["FunctionName"])
        alias = str(request.properties["Name"])
        if new:
            lam.put_provisioned_concurrency_config(
                FunctionName=function,
                Qualifier=alias,
                ProvisionedConcurrentExecutions=int(new["ProvisionedConcurrentExecutions"]),
            )
        else:
            with missing_is_deleted():
                lam.delete_provisioned_concurrency_config(FunctionName=function, Qualifier=alias)

    def update(self, request: ResourceRequest) -> ProviderResult:
        changes: dict[str, Any] = {
            key: request.properties.get(key)
            for key in ("FunctionVersion", "Description", "RoutingConfig")
            if request.properties.get(key) != request.previous_properties.get(key)
        }
        policy = request.update_policy.get("CodeDeployLambdaAliasUpdate")
        if isinstance(policy, dict) and "FunctionVersion" in changes:
            # CodeDeploy shifts the traffic (and puts it back if the deployment fails)
            deploy_alias_version(request, policy)
            changes.pop("FunctionVersion")
            changes.pop("RoutingConfig", None)
        params = to_params("lambda", "UpdateAlias", {k: v for k, v in changes.items() if v})
        request.client("lambda").update_alias(
            FunctionName=str(request.properties["FunctionName"]),
            Name=str(request.properties["Name"]),
            **params,
        )
        self._provisioned_concurrency(
            request, request.previous_properties.get("ProvisionedConcurrencyConfig")
        )
        return ProviderResult(str(request.physical_id), request.previous_attributes)

    def delete(self, request: ResourceRequest) -> None:
        with missing_is_deleted():
            request.client("lambda").delete_alias(
                FunctionName=str(request.properties["FunctionName"]),
                Name=str(request.properties["Name"]),
            )


class EventInvokeConfigProvider(ResourceProvider):
    """Retries, event age and destinations of a function's asynchronous invocations."""

    type_name = "AWS::Lambda::EventInvokeConfig"
    service = "lambda"
    operations = ("PutFunctionEventInvokeConfig", "DeleteFunctionEventInvokeConfig")

    def create(self, request: ResourceRequest) -> ProviderResult:
        self._put(request)
        properties = request.properties
        physical_id = f"{properties['FunctionName']}${properties.get('Qualifier', '$LATEST')}"
        return ProviderResult(physical_id, {})

    def update(self, request: ResourceRequest) -> ProviderResult:
        self._put(request)
        return ProviderResult(str(request.physical_id), {})

    def _put(self, request: ResourceRequest) -> None:
        params = to_params("lambda", "PutFunctionEventInvokeConfig", request.properties)
        request.client("lambda").put_function_event_invoke_config(**params)

    def delete(self, request: ResourceRequest) -> None:
        params = {"FunctionName": str(request.properties["FunctionName"])}
        if request.properties.get("Qualifier"):
            params["Qualifier"] = str(request.properties["Qualifier"])
        with missing_is_deleted():
            request.client("lambda").delete_function_event_invoke_config(**params)


class UrlProvider(ResourceProvider):
    """A function URL (SAM's ``FunctionUrlConfig`` translates to one). ``Ref`` and the
    physical id are the (qualified) function ARN; ``FunctionUrl`` is the URL headwater
    serves it at."""

    type_name = "AWS::Lambda::Url"
    service = "lambda"
    operations = (
        "CreateFunctionUrlConfig",
        "UpdateFunctionUrlConfig",
        "DeleteFunctionUrlConfig",
    )

    def _target(self, request: ResourceRequest) -> dict[str, str]:
        target = {"FunctionName": str(request.properties["TargetFunctionArn"])}
        if request.properties.get("Qualifier"):
            target["Qualifier"] = str(request.properties["Qualifier"])
        return target

    def _settings(self, request: ResourceRequest, operation: str) -> dict[str, Any]:
        values = {
            key: request.properties[key]
            for key in ("AuthType", "Cors", "InvokeMode")
            if request.properties.get(key) is not None
        }
        return to_params("lambda", operation, values)

    def create(self, request: ResourceRequest) -> ProviderResult:
        made = request.client("lambda").create_function_url_config(
            **self._target(request), **self._settings(request, "CreateFunctionUrlConfig")
        )
        return ProviderResult(
            made["FunctionArn"],
            {"FunctionArn": made["FunctionArn"], "FunctionUrl": made["FunctionUrl"]},
        )

    def update(self, request: ResourceRequest) -> ProviderResult:
        settings = self._settings(request, "UpdateFunctionUrlConfig")
        if "Cors" not in settings and request.previous_properties.get("Cors") is not None:
            settings["Cors"] = {}  # a removed Cors allows nothing any more
        settings.setdefault("InvokeMode", "BUFFERED")
        updated = request.client("lambda").update_function_url_config(
            **self._target(request), **settings
        )
        return ProviderResult(
            str(request.physical_id),
            {"FunctionArn": updated["FunctionArn"], "FunctionUrl": updated["FunctionUrl"]},
        )

    def delete(self, request: ResourceRequest) -> None:
        with missing_is_deleted():
            request.client("lambda").delete_function_url_config(**self._target(request))
