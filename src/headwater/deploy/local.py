"""``headwater deploy``'s direct path: a template whose code is in local directories.

No packaging and no S3: a SAM ``CodeUri`` (or a plain function's ``Code``) naming a local
directory becomes ``Code: {Directory: <absolute path>}``, which headwater's Lambda runs in
place. A layer's ``ContentUri`` (or ``Content``) becomes ``Content: {Directory: ...,
DirectorySha256: ...}``: a layer version is zipped when published, so the hash of the
files makes a redeploy after an edit publish the next version. A SAM state machine's
``DefinitionUri`` naming a local file (``statemachine/flow.asl.json``, as ``sam init``
writes it) is read into its ``Definition``, as ``sam package`` would upload it. The SAM
transform runs here, with the caller's parameter values, so the server gets a plain
CloudFormation template.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headwater.deploy.sam import declares_sam, transform_sam
from headwater.deploy.template import parse_document
from headwater.runtime import code as function_code

FUNCTION_TYPE = "AWS::Lambda::Function"
SAM_STATE_MACHINE_TYPE = "AWS::Serverless::StateMachine"
LAYER_TYPE = "AWS::Lambda::LayerVersion"


@dataclass(frozen=True, slots=True)
class LocalTemplate:
    """A template ready for CreateStack/UpdateStack, and the code directories it uses."""

    document: dict[str, Any]
    #: Logical id of each function whose code is a local directory -> that directory.
    code_directories: dict[str, Path]


def load_local_template(path: Path, parameters: Mapping[str, str], *, region: str) -> LocalTemplate:
    """Read ``path`` and resolve its local code directories (relative to the template)."""
    base = path.resolve().parent
    document = parse_document(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        return LocalTemplate(document={"Template": document}, code_directories={})

    def local_code(uri: str) -> str | None:
        if "://" in uri:
            return None
        candidate = (base / uri).resolve()
        return str(candidate) if candidate.is_dir() else None

    if declares_sam(document):
        _read_local_definitions(document, base)
        values: dict[str, Any] = {}
        for name, declaration in (document.get("Parameters") or {}).items():
            if isinstance(declaration, dict) and "Default" in declaration:
                values[name] = declaration["Default"]
        values.update(parameters)
        document = transform_sam(document, values, region=region, local_code=local_code)
    _use_cdk_assets_in_place(document, base)
    directories: dict[str, Path] = {}
    for logical_id, resource in (document.get("Resources") or {}).items():
        if not isinstance(resource, dict) or resource.get("Type") != FUNCTION_TYPE:
            continue
        properties = resource.get("Properties") or {}
        code = properties.get("Code")
        if isinstance(code, str) and (directory := local_code(code)) is not None:
            properties["Code"] = code = {"Directory": directory}
        if isinstance(code, dict) and code.get("Directory"):
            directories[logical_id] = Path(code["Directory"])
    _hash_layer_directories(document, local_code)
    return LocalTemplate(document=document, code_directories=directories)


def _read_local_definitions(document: dict[str, Any], base: Path) -> None:
    """Put the local file a SAM state machine's ``DefinitionUri`` names in its
    ``Definition`` (JSON or YAML)."""
    for resource in (document.get("Resources") or {}).values():
        if not isinstance(resource, dict) or resource.get("Type") != SAM_STATE_MACHINE_TYPE:
            continue
        properties = resource.get("Properties") or {}
        uri = properties.get("DefinitionUri")
        if not isinstance(uri, str) or "://" in uri:
            continue
        candidate = (base / uri).resolve()
        if candidate.is_file():
            properties["Definition"] = parse_document(candidate.read_text(encoding="utf-8"))
            del properties["DefinitionUri"]


def _hash_layer_directories(
    document: dict[str, Any], local_code: Callable[[str], str | None]
) -> None:
    for resource in (document.get("Resources") or {}).values():
        if not isinstance(resource, dict) or resource.get("Type") != LAYER_TYPE:
            continue
        properties = resource.get("Properties") or {}
        content = properties.get("Content")
        if isinstance(content, str) and (directory := local_code(content)) is not None:
            properties["Content"] = content = {"Directory": directory}
        if isinstance(content, dict) and content.get("Directory"):
            content["DirectorySha256"] = function_code.directory_code(content["Directory"]).sha256


def _use_cdk_assets_in_place(document: dict[str, Any], base: Path) -> None:
    """A template from ``cdk synth``: functions run from their asset folders in cdk.out.

    CDK marks each asset-backed property (``aws:asset:path``, ``aws:asset:property``); the
    direct path needs neither the bootstrap bucket nor the bootstrap version check then, so
    CDK's ``BootstrapVersion`` parameter and ``CheckBootstrapVersion`` rule are dropped too.
    """
    replaced = False
    for resource in (document.get("Resources") or {}).values():
        if not isinstance(resource, dict) or resource.get("Type") != FUNCTION_TYPE:
            continue
        metadata = resource.get("Metadata") or {}
        asset = metadata.get("aws:asset:path")
        if metadata.get("aws:asset:property") != "Code" or not isinstance(asset, str):
            continue
        directory = (base / asset).resolve()
        if directory.is_dir():
            resource.setdefault("Properties", {})["Code"] = {"Directory": str(directory)}
            replaced = True
    if replaced:
        (document.get("Parameters") or {}).pop("BootstrapVersion", None)
        (document.get("Rules") or {}).pop("CheckBootstrapVersion", None)
        if document.get("Rules") == {}:
            del document["Rules"]


def parse_overrides(items: list[str]) -> dict[str, str]:
    """``["Key=Value", ...]`` (as ``--parameter-overrides`` takes them) as a mapping."""
    found: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"parameter override {item!r} is not Key=Value")
        found[key] = value
    return found


#: How ``cdk synth`` names the template of each stack in ``cdk.out``: ``<Stack>.template.json``.
CDK_TEMPLATE_SUFFIX = ".template.json"


def default_stack_name(path: Path) -> str:
    """A stack name from the template's directory (``seed000-sam``), as CloudFormation allows.

    A template from ``cdk synth`` (``cdk.out/Orders.template.json``) is named after its CDK
    stack, as ``cdk deploy`` names it: the stacks of one app share their directory, and one
    name for all would make each deploy replace the one before.
    """
    if path.name.endswith(CDK_TEMPLATE_SUFFIX) and len(path.name) > len(CDK_TEMPLATE_SUFFIX):
        raw = path.name[: -len(CDK_TEMPLATE_SUFFIX)]
    else:
        raw = path.resolve().parent.name or "stack"
    cleaned = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in raw).strip("-")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = "stack-" + cleaned
    return cleaned[:128]
