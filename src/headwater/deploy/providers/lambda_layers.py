"""AWS::Lambda::LayerVersion and AWS::Lambda::LayerVersionPermission.

A layer version's content comes from ``S3Bucket``/``S3Key`` (what ``aws cloudformation
package`` and ``sam deploy`` upload; read from headwater's S3) or, for ``headwater
deploy``'s direct path, from a local ``Directory`` (a SAM ``ContentUri``), zipped when the
version is published: a published layer version never changes, as on AWS. Every property
is create-only, so a change publishes a new version (a replacement) and there is no update.
"""

from __future__ import annotations

from typing import Any

from headwater.deploy.providers.base import (
    ProviderResult,
    ResourceProvider,
    ResourceRequest,
    missing_is_deleted,
    random_suffix,
    to_params,
)
from headwater.deploy.providers.lambda_ import s3_archive
from headwater.runtime import code as function_code
from headwater.services.lambda_.layers import MAX_LAYER_NAME

#: AddLayerVersionPermission's longest statement id.
MAX_STATEMENT_ID = 100


def layer_content(request: ResourceRequest, content: dict[str, Any]) -> bytes:
    """The zip bytes of a template's layer ``Content``."""
    if content.get("Directory"):
        return function_code.zip_directory(str(content["Directory"]))
    if content.get("S3Bucket") and content.get("S3Key"):
        return s3_archive(request, content)
    raise ValueError("Properties validation failed: Content needs S3Bucket and S3Key")


class LayerVersionProvider(ResourceProvider):
    """``Ref`` and ``LayerVersionArn`` are the published version's ARN."""

    type_name = "AWS::Lambda::LayerVersion"
    service = "lambda"
    operations = ("PublishLayerVersion", "DeleteLayerVersion")

    def create(self, request: ResourceRequest) -> ProviderResult:
        properties = request.properties
        params = to_params(
            "lambda", "PublishLayerVersion", {k: v for k, v in properties.items() if k != "Content"}
        )
        params["LayerName"] = str(
            properties.get("LayerName") or request.physical_name(MAX_LAYER_NAME)
        )
        params["Content"] = {
            "ZipFile": layer_content(request, dict(properties.get("Content") or {}))
        }
        published = request.client("lambda").publish_layer_version(**params)
        arn = str(published["LayerVersionArn"])
        return ProviderResult(arn, {"LayerVersionArn": arn})

    def update(self, request: ResourceRequest) -> ProviderResult:
        return ProviderResult(str(request.physical_id), request.previous_attributes)

    def delete(self, request: ResourceRequest) -> None:
        name, _, version = str(request.physical_id).rpartition(":")
        if not version.isdigit():
            return  # never published
        with missing_is_deleted():
            request.client("lambda").delete_layer_version(
                LayerName=name, VersionNumber=int(version)
            )


class LayerVersionPermissionProvider(ResourceProvider):
    """The physical id is ``<layer version ARN>#<statement id>``, as CloudFormation's."""

    type_name = "AWS::Lambda::LayerVersionPermission"
    service = "lambda"
    operations = ("AddLayerVersionPermission", "RemoveLayerVersionPermission")

    def create(self, request: ResourceRequest) -> ProviderResult:
        properties = request.properties
        arn = str(properties.get("LayerVersionArn") or "")
        name, _, version = arn.rpartition(":")
        if not name or not version.isdigit():
            raise ValueError(
                f"Properties validation failed: LayerVersionArn {arn!r} is not a layer version ARN"
            )
        statement_id = f"{request.logical_id}-{random_suffix(12)}"[-MAX_STATEMENT_ID:]
        params = to_params("lambda", "AddLayerVersionPermission", properties)
        params.pop("LayerVersionArn", None)
        request.client("lambda").add_layer_version_permission(
            LayerName=name, VersionNumber=int(version), StatementId=statement_id, **params
        )
        return ProviderResult(f"{arn}#{statement_id}", {"Id": f"{arn}#{statement_id}"})

    def update(self, request: ResourceRequest) -> ProviderResult:
        return ProviderResult(str(request.physical_id), request.previous_attributes)

    def delete(self, request: ResourceRequest) -> None:
        arn, _, statement_id = str(request.physical_id).partition("#")
        name, _, version = arn.rpartition(":")
        if not statement_id or not version.isdigit():
            return
        with missing_is_deleted():
            request.client("lambda").remove_layer_version_permission(
                LayerName=name, VersionNumber=int(version), StatementId=statement_id
            )
