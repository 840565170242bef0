"""Where a stack operation's template comes from, and what is checked before it runs.

``TemplateBody`` or ``TemplateURL`` (an S3 URL, read from headwater's S3), transforms (the
SAM transform), the capabilities the template needs, and whether headwater can deploy
every resource type in it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

from headwater.core.errors import AwsError
from headwater.deploy.errors import validation_error
from headwater.deploy.sam import SAM_TRANSFORM, declares_sam, transform_sam
from headwater.deploy.template import Template, check_template, parse_document

IAM_TYPES = frozenset(
    {
        "AWS::IAM::AccessKey",
        "AWS::IAM::Group",
        "AWS::IAM::InstanceProfile",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::Policy",
        "AWS::IAM::Role",
        "AWS::IAM::User",
        "AWS::IAM::UserToGroupAddition",
    }
)
_NAME_PROPERTIES = ("RoleName", "ManagedPolicyName", "UserName", "GroupName", "InstanceProfileName")
_S3_HOST = re.compile(
    r"^(?:(?P<vhost>[a-z0-9][a-z0-9.\-]*)\.)?s3(?:[.\-](?:dualstack\.)?[a-z0-9\-]+)?\.amazonaws\.com(?:\.cn)?$"
)

#: (bucket, key) -> the object's bytes; raises AwsError.
ObjectReader = Callable[[str, str], bytes]


def insufficient_capabilities(capability: str) -> AwsError:
    return AwsError("InsufficientCapabilitiesException", f"Requires capabilities : [{capability}]")


def read_body(params: Mapping[str, Any], read_object: ObjectReader, endpoint: str | None) -> str:
    """The template text of a CreateStack/UpdateStack/CreateChangeSet/... call."""
    body, url = params.get("TemplateBody"), params.get("TemplateURL")
    if (body is None) == (url is None):
        raise validation_error("Either Template URL or Template Body must be specified.")
    if body is not None:
        return str(body)
    bucket, key = parse_template_url(str(url), endpoint)
    try:
        return read_object(bucket, key).decode("utf-8")
    except AwsError as error:
        raise validation_error(f"S3 error: {error.message}") from None


def parse_template_url(url: str, endpoint: str | None) -> tuple[str, str]:
    """``(bucket, key)`` of an S3 TemplateURL (path or virtual-host style, or headwater's)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https"):
        if parsed.scheme == "s3":
            raise validation_error(
                "S3 error: Domain name specified in " + parsed.netloc + " is not a valid S3 domain"
            )
        raise validation_error("TemplateURL must be a supported URL.")
    host = parsed.hostname or ""
    path = unquote(parsed.path.lstrip("/"))
    matched = _S3_HOST.match(host)
    local = endpoint is not None and urlparse(endpoint).hostname == host
    if matched is None and not local and host not in ("localhost", "127.0.0.1"):
        raise validation_error("TemplateURL must be a supported URL.")
    if matched is not None and matched.group("vhost"):
        bucket, key = matched.group("vhost"), path
    else:
        bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise validation_error("TemplateURL must be a supported URL.")
    return bucket, key


@dataclass(frozen=True, slots=True)
class PreparedTemplate:
    """A template ready to plan: its text, the document after transforms, and checks done."""

    body: str
    document: dict[str, Any]
    template: Template
    transforms: tuple[str, ...]


def prepare(
    body: str,
    *,
    region: str,
    parameter_values: Callable[[dict[str, Any]], dict[str, Any]],
) -> PreparedTemplate:
    """Parse ``body``, run its transforms and check its structure; ValidationError."""
    document = parse_document(body)
    if not isinstance(document, dict):
        check_template(document)  # raises the structure error
    transforms: tuple[str, ...] = ()
    if document.get("Transform") is not None:
        names = document["Transform"]
        names = names if isinstance(names, list) else [names]
        unsupported = [n for n in names if n != SAM_TRANSFORM]
        if unsupported:
            raise validation_error(
                f"Template format error: headwater does not support the transform(s) "
                f"{', '.join(map(str, unsupported))}"
            )
        transforms = (SAM_TRANSFORM,)
        if declares_sam(document):
            document = transform_sam(document, parameter_values(document), region=region)
    template = check_template(document)
    return PreparedTemplate(body=body, document=document, template=template, transforms=transforms)


def required_capability(template: Template) -> str | None:
    """The IAM capability ``template`` needs (``CAPABILITY_NAMED_IAM`` wins), if any."""
    needed = None
    for resource in template.resources.values():
        if resource.type not in IAM_TYPES:
            continue
        if any(resource.properties.get(name) is not None for name in _NAME_PROPERTIES):
            return "CAPABILITY_NAMED_IAM"
        needed = "CAPABILITY_IAM"
    return needed


def check_capabilities(
    prepared: PreparedTemplate, capabilities: Iterable[str], *, through_change_set: bool
) -> None:
    granted = set(capabilities)
    if prepared.transforms and not through_change_set and "CAPABILITY_AUTO_EXPAND" not in granted:
        raise insufficient_capabilities("CAPABILITY_AUTO_EXPAND")
    needed = required_capability(prepared.template)
    if needed == "CAPABILITY_NAMED_IAM" and needed not in granted:
        raise insufficient_capabilities(needed)
    if needed == "CAPABILITY_IAM" and not granted & {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"}:
        raise insufficient_capabilities(needed)


def check_supported(template: Template, supported: Callable[[str], bool]) -> None:
    """Refuse types headwater cannot deploy (never skip them silently)."""
    missing = sorted({r.type for r in template.resources.values() if not supported(r.type)})
    if missing:
        raise validation_error(
            f"Template format error: Unrecognized resource types: [{', '.join(missing)}]. "
            "headwater does not support these resource types yet."
        )


def resource_identifier_summaries(template: Template) -> list[dict[str, Any]]:
    by_type: dict[str, list[str]] = {}
    for resource in template.resources.values():
        by_type.setdefault(resource.type, []).append(resource.logical_id)
    return [
        {"ResourceType": type_name, "LogicalResourceIds": ids} for type_name, ids in by_type.items()
    ]
