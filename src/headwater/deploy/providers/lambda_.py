"""AWS::Lambda::Function and AWS::Lambda::EventSourceMapping through the Lambda client.

Function code comes from inline ``ZipFile`` source (written to ``index.py`` or
``index.js``, as CloudFormation does), from ``S3Bucket``/``S3Key`` (read from headwater's
S3), or, for ``headwater deploy``'s direct path, from a local ``Directory`` used in place.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from headwater.deploy.providers.base import (
    ProviderResult,
    ResourceProvider,
    ResourceRequest,
    missing_is_deleted,
    tags_dict,
    to_params,
)

#: Lambda's longest function name.
MAX_FUNCTION_NAME = 64
#: What a removed configuration property goes back to.
_FUNCTION_DEFAULTS: dict[str, Any] = {
    "Timeout": 3,
    "MemorySize": 128,
    "Description": "",
    "Environment": {"Variables": {}},
}
_CONFIGURATION_KEYS = (
    "Role",
    "Handler",
    "Runtime",
    "Timeout",
    "MemorySize",
    "Environment",
    "Description",
    "Layers",
    "TracingConfig",
    "DeadLetterConfig",
    "KMSKeyArn",
    "VpcConfig",
    "EphemeralStorage",
    "LoggingConfig",
    "SnapStart",
    "FileSystemConfigs",
    "ImageConfig",
)


RUNTIME_DIR = Path(__file__).parents[2] / "runtime"
#: The modules CloudFormation packages with inline code that uses them: (archive name,
#: headwater's implementation).
_CFN_RESPONSE_NODE = (
    "node_modules/cfn-response/index.js",
    RUNTIME_DIR / "node" / "cfn-response.js",
)
_CFN_RESPONSE_PYTHON = ("cfnresponse.py", RUNTIME_DIR / "cfnresponse.py")


def _inline_zip(source: str, runtime: str) -> bytes:
    node = runtime.startswith("nodejs")
    files = {"index.js" if node else "index.py": source}
    # AWS adds cfn-response (Node.js) / cfnresponse (Python) to inline code that uses it
    if node and "cfn-response" in source:
        files[_CFN_RESPONSE_NODE[0]] = _CFN_RESPONSE_NODE[1].read_text()
    elif runtime.startswith("python") and "cfnresponse" in source:
        files[_CFN_RESPONSE_PYTHON[0]] = _CFN_RESPONSE_PYTHON[1].read_text()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o644 << 16
            archive.writestr(info, text)
    return buffer.getvalue()


def s3_archive(request: ResourceRequest, location: dict[str, Any]) -> bytes:
    """The bytes of a template's ``S3Bucket`` / ``S3Key`` (/ ``S3ObjectVersion``) object,
    read from headwater's S3: a function's code or a layer's content."""
    params = {"Bucket": str(location["S3Bucket"]), "Key": str(location["S3Key"])}
    if location.get("S3ObjectVersion"):
        params["VersionId"] = str(location["S3ObjectVersion"])
    data = request.client("s3").get_object(**params)["Body"].read()
    assert isinstance(data, bytes)
    return data


def code_parameters(request: ResourceRequest, code: dict[str, Any]) -> dict[str, Any]:
    """The ``Code`` of a template as CreateFunction's ``Code`` (ZipFile bytes or Directory)."""
    if code.get("Directory"):
        return {"Directory": str(code["Directory"])}
    if code.get("ZipFile") is not None:
        return {"ZipFile": _inline_zip(str(code["ZipFile"]), str(request.properties["Runtime"]))}
    if code.get("S3Bucket") and code.get("S3Key"):
        return {"ZipFile": s3_archive(request, code)}
    if code.get("ImageUri"):
        raise ValueError("headwater runs Zip functions only; container images are not supported")
    raise ValueError("Properties validation failed: Code needs ZipFile, S3Bucket and S3Key")


class FunctionProvider(ResourceProvider):
    type_name = "AWS::Lambda::Function"
    service = "lambda"

    def create(self, request: ResourceRequest) -> ProviderResult:
        properties = request.properties
        name = str(properties.get("FunctionName") or request.physical_name(MAX_FUNCTION_NAME))
        code = code_parameters(request, dict(properties.get("Code") or {}))
        params = to_params("lambda", "CreateFunction", properties)
        params["FunctionName"] = name
        params["Code"] = code
        tags = tags_dict(properties.get("Tags"))
        if tags:
            params["Tags"] = tags
        else:
            params.pop("Tags", None)
        lam = request.client("lambda", validate="Directory" not in code)
        lam.create_function(**params)
        concurrency = properties.get("ReservedConcurrentExecutions")
        if concurrency is not None:
            lam.put_function_concurrency(
                FunctionName=name, ReservedConcurrentExecutions=int(concurrency)
            )
        return ProviderResult(name, self._attributes(request, name))

    def _attributes(self, request: ResourceRequest, name: str) -> dict[str, Any]:
        configuration = request.client("lambda").get_function_configuration(FunctionName=name)
        return {
            "Arn": configuration["FunctionArn"],
            "SnapStartResponse": {"ApplyOn": "None", "OptimizationStatus": "Off"},
            "SnapStartResponse.ApplyOn": "None",
            "SnapStartResponse.OptimizationStatus": "Off",
        }

    def update(self, request: ResourceRequest) -> ProviderResult:
        name = str(request.physical_id)
        old, new = request.previous_properties, request.properties
        lam = request.client("lambda")
        changes = {
            key: new[key] for key in _CONFIGURATION_KEYS if key in new and new[key] != old.get(key)
        }
        for key in _CONFIGURATION_KEYS:
            if key in old and key not in new and key in _FUNCTION_DEFAULTS:
                changes[key] = _FUNCTION_DEFAULTS[key]
        if changes:
            params = to_params("lambda", "UpdateFunctionConfiguration", changes)
            lam.update_function_configuration(FunctionName=name, **params)
        if new.get("Code") != old.get("Code"):
            self.update_code(request, name)
        concurrency = new.get("ReservedConcurrentExecutions")
        if concurrency != old.get("ReservedConcurrentExecutions"):
            if concurrency is None:
                lam.delete_function_concurrency(FunctionName=name)
            else:
                lam.put_function_concurrency(
                    FunctionName=name, ReservedConcurrentExecutions=int(concurrency)
                )
        return ProviderResult(name, self._attributes(request, name))

    def update_code(self, request: ResourceRequest, name: str) -> None:
        """Point the function at the code of ``request.properties`` (workers restart)."""
        code = code_parameters(request, dict(request.properties.get("Code") or {}))
        lam = request.client("lambda", validate="Directory" not in code)
        lam.update_function_code(FunctionName=name, **code)

    def delete(self, request: ResourceRequest) -> None:
        with missing_is_deleted():
            request.client("lambda").delete_function(FunctionName=str(request.physical_id))


#: What a removed mapping property goes back to.
_MAPPING_DEFAULTS: dict[str, Any] = {
    "MaximumBatchingWindowInSeconds": 0,
    "FunctionResponseTypes": [],
    "FilterCriteria": {"Filters": []},
    "Enabled": True,
    "BisectBatchOnFunctionError": False,
    "MaximumRetryAttempts": -1,
    "MaximumRecordAgeInSeconds": -1,
    "ParallelizationFactor": 1,
    "DestinationConfig": {"OnFailure": {}},
}


class EventSourceMappingProvider(ResourceProvider):
    type_name = "AWS::Lambda::EventSourceMapping"
    service = "lambda"

    def create(self, request: ResourceRequest) -> ProviderResult:
        params = to_params("lambda", "CreateEventSourceMapping", request.properties)
        params.pop("Tags", None)
        created = request.client("lambda").create_event_source_mapping(**params)
        uuid = created["UUID"]
        return ProviderResult(
            uuid, {"Id": uuid, "EventSourceMappingArn": created.get("EventSourceMappingArn", "")}
        )

    def update(self, request: ResourceRequest) -> ProviderResult:
        old, new = request.previous_properties, request.properties
        changes = {key: value for key, value in new.items() if old.get(key) != value}
        for key in old.keys() - new.keys():
            if key in _MAPPING_DEFAULTS:
                changes[key] = _MAPPING_DEFAULTS[key]
        if key_source := self._batch_size_default(request, old, new):
            changes["BatchSize"] = key_source
        params = to_params("lambda", "UpdateEventSourceMapping", changes)
        params.pop("Tags", None)
        if params:
            request.client("lambda").update_event_source_mapping(
                UUID=str(request.physical_id), **params
            )
        return ProviderResult(str(request.physical_id), request.previous_attributes)

    @staticmethod
    def _batch_size_default(
        request: ResourceRequest, old: dict[str, Any], new: dict[str, Any]
    ) -> int | None:
        if "BatchSize" in old and "BatchSize" not in new:
            source = str(new.get("EventSourceArn", ""))
            return 10 if source.startswith("arn:aws:sqs:") or ":sqs:" in source else 100
        return None

    def delete(self, request: ResourceRequest) -> None:
        with missing_is_deleted():
            request.client("lambda").delete_event_source_mapping(UUID=str(request.physical_id))
