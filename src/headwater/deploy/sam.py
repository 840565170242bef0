"""The SAM transform (``AWS::Serverless-2016-10-31``) through aws-sam-translator.

The same library AWS runs turns ``AWS::Serverless::Function`` and friends, with every
event type it knows, into plain CloudFormation. For ``headwater deploy``'s direct path, a
local ``CodeUri``/``ContentUri`` is swapped for a placeholder S3 location before the
transform and turned into ``Code: {Directory: ...}`` after it, so functions run from the
directory in place (no packaging, edits picked up on redeploy). The placeholder of a
function with ``AutoPublishAlias`` carries the hash of its files: SAM names the published
version after the code location, so an edit must change it to publish the next version
(and, with ``DeploymentPreference``, shift the alias to it through CodeDeploy).
"""

from __future__ import annotations

import base64
import copy
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from headwater.deploy.errors import validation_error

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
#: Placeholder bucket that marks a local code directory through the transform.
LOCAL_CODE_BUCKET = "headwater-local-code"

#: Local directory text (as written in the template) -> absolute path, or None if it is
#: not a local path.
LocalCode = Callable[[str], str | None]


def declares_sam(document: dict[str, Any]) -> bool:
    transform = document.get("Transform")
    names = transform if isinstance(transform, list) else [transform]
    return SAM_TRANSFORM in names


def transform_sam(
    document: dict[str, Any],
    parameter_values: dict[str, Any],
    *,
    region: str,
    local_code: LocalCode | None = None,
) -> dict[str, Any]:
    """The CloudFormation template ``document`` (a SAM template) stands for.

    Raises ``ValidationError`` with the text CloudFormation reports when the transform fails.
    """
    from samtranslator.internal.managed_policies import get_bundled_managed_policy_map
    from samtranslator.metrics.metrics import DummyMetricsPublisher, Metrics
    from samtranslator.model.exceptions import InvalidDocumentException, InvalidTemplateException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    _cache_policy_templates()
    template = copy.deepcopy(document)
    directories = _swap_local_code(template, local_code) if local_code else {}
    partition = "aws-cn" if region.startswith("cn-") else "aws"
    session = _session(region)
    metrics = Metrics("ServerlessTransform", DummyMetricsPublisher())
    translator = Translator(None, Parser(), boto_session=session, metrics=metrics)
    try:
        translated: dict[str, Any] = translator.translate(
            template,
            parameter_values=dict(parameter_values),
            get_managed_policy_map=lambda: get_bundled_managed_policy_map(partition) or {},
        )
    except InvalidDocumentException as error:
        causes = " ".join(cause.message for cause in error.causes)
        raise validation_error(
            f"Transform {SAM_TRANSFORM} failed with: {error.message} {causes}".strip()
        ) from None
    except InvalidTemplateException as error:
        raise validation_error(f"Transform {SAM_TRANSFORM} failed with: {error.message}") from None
    finally:
        metrics.publish()
    if directories:
        _restore_local_code(translated, directories)
    return translated


@functools.cache
def _session(region: str) -> Any:
    """A boto3 session per region: the translator reads the region and partition from it.

    Building one registers botocore's handlers (~40 ms), so it is made once per region.
    """
    import boto3

    return boto3.Session(region_name=region, aws_access_key_id="x", aws_secret_access_key="x")


@functools.cache
def _cache_policy_templates() -> None:
    """Build the translator's policy-template plugin once instead of on every transform.

    aws-sam-translator validates its bundled policy templates against their JSON schema each
    time it prepares its plugins (~90 ms of a ~120 ms transform); the plugin keeps no state
    between templates, so one instance serves every transform.
    """
    from samtranslator.translator import translator

    make = getattr(translator, "make_policy_template_for_function_plugin", None)
    if make is not None:
        translator.make_policy_template_for_function_plugin = functools.cache(make)


def _swap_local_code(template: dict[str, Any], local_code: LocalCode) -> dict[str, str]:
    """Replace local CodeUri/ContentUri values with placeholders; key -> directory."""
    directories: dict[str, str] = {}
    globals_function = (template.get("Globals") or {}).get("Function") or {}
    default_uri = globals_function.get("CodeUri")
    default_alias = globals_function.get("AutoPublishAlias")
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, dict):
            continue
        kind = resource.get("Type")
        key = {
            "AWS::Serverless::Function": "CodeUri",
            "AWS::Serverless::LayerVersion": "ContentUri",
        }
        prop = key.get(str(kind))
        if prop is None:
            continue
        properties = resource.setdefault("Properties", {})
        uri = properties.get(prop, default_uri if prop == "CodeUri" else None)
        if not isinstance(uri, str):
            continue
        directory = local_code(uri)
        if directory is None:
            continue
        placeholder = f"{logical_id}/{Path(directory).name}"
        if prop == "CodeUri" and properties.get("AutoPublishAlias", default_alias):
            placeholder = f"{logical_id}/{_files_hash(directory)}/{Path(directory).name}"
        directories[placeholder] = directory
        properties[prop] = f"s3://{LOCAL_CODE_BUCKET}/{placeholder}"
    return directories


def _files_hash(directory: str) -> str:
    """A short hex digest of a code directory's files (paths and contents)."""
    from headwater.runtime import code as function_code

    sha = function_code.directory_code(directory).sha256
    return base64.b64decode(sha).hex()[:16]


def _restore_local_code(template: dict[str, Any], directories: dict[str, str]) -> None:
    for resource in (template.get("Resources") or {}).values():
        properties = resource.get("Properties") or {}
        for prop in ("Code", "Content"):
            code = properties.get(prop)
            if isinstance(code, dict) and code.get("S3Bucket") == LOCAL_CODE_BUCKET:
                properties[prop] = {"Directory": directories[str(code["S3Key"])]}
