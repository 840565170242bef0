"""What the IAM operation groups share: the store, ids, ARNs, lookups and paging.

IAM is global: every entity belongs to the caller's account, whatever region signed the
request. Policy documents are stored as given and answered URL-encoded, as IAM's API
answers them (boto3 and headwater's in-process client decode them to dicts; the AWS SDK
for Go, hence Terraform, decodes them itself).
"""

from __future__ import annotations

import base64
import secrets
import string
from typing import Any, ClassVar
from urllib.parse import quote

from headwater.core.paging import OffsetTokens
from headwater.core.values import as_datetime
from headwater.services.base import Params, RequestContext, Result, Service
from headwater.services.iam import validation as check
from headwater.services.iam.aws_managed import (
    AWS_MANAGED_POLICIES,
    AwsManagedPolicy,
    is_aws_managed,
)
from headwater.store.iam import Entity, IamStore

_ID_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"

#: Entity kind -> (ARN resource type, id prefix, what NoSuchEntity calls it).
KINDS: dict[str, tuple[str, str]] = {
    "role": ("role", "AROA"),
    "user": ("user", "AIDA"),
    "group": ("group", "AGPA"),
    "policy": ("policy", "ANPA"),
    "instance-profile": ("instance-profile", "AIPA"),
}


def new_id(prefix: str, length: int = 17) -> str:
    """An IAM unique id: ``AROA`` + 17 upper-case letters and digits (roles)."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def new_secret() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def entity_arn(account: str, kind: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account}:{KINDS[kind][0]}{path}{name}"


def encoded(document: str) -> str:
    """A policy document as IAM's API answers it: URL-encoded JSON text."""
    return quote(document, safe="")


# IAM's markers are the offset in base64.
_MARKERS = OffsetTokens(
    invalid=lambda _: check.validation_error("Invalid Marker."),
    encode=lambda offset: base64.b64encode(str(offset).encode()).decode(),
    decode=lambda marker: int(base64.b64decode(marker.encode(), validate=True).decode()),
)


def page(items: list[Any], params: Params, key: str) -> Result:
    """``{key: items, IsTruncated, Marker?}`` for IAM's ``Marker``/``MaxItems`` paging."""
    limit = params.get("MaxItems") or 100
    # The marker is read before the limit is checked: a bad one is the error a caller sees.
    _MARKERS.position(params.get("Marker"))
    if not 1 <= limit <= 1000:
        raise check.validation_error(
            f"1 validation error detected: Value '{limit}' at 'maxItems' failed to satisfy "
            "constraint: Member must have value less than or equal to 1000"
        )
    chunk, marker = _MARKERS.page(items, params.get("Marker"), limit)
    result: Result = {key: chunk, "IsTruncated": marker is not None}
    if marker is not None:
        result["Marker"] = marker
    return result


def check_path(params: Params, member: str = "Path") -> str:
    path = params.get(member) or "/"
    if not path.startswith("/") or not path.endswith("/"):
        raise check.validation_error(
            f"The specified value for {member[0].lower() + member[1:]} is invalid. It must "
            "begin and end with / and contain only alphanumeric characters and/or / characters."
        )
    return str(path)


class IamParts(Service):
    """The state and lookups every IAM operation group uses (``IamService`` mixes them)."""

    service_name: ClassVar[str] = "iam"
    store: IamStore

    def _now(self) -> float:
        """IAM's dates have whole seconds."""
        return float(int(self.env.clock.now()))

    def _checked(self, operation: str, params: Params) -> None:
        check.check_constraints("iam", operation, params)

    def _entity(self, ctx: RequestContext, kind: str, name: Any) -> Entity:
        found = self.store.get(ctx.account, kind, str(name or ""))
        if found is None:
            raise check.no_such_entity(_missing(kind, str(name)))
        return found

    def _arn(self, ctx: RequestContext, entity: Entity) -> str:
        return entity_arn(ctx.account, entity.kind, entity.path, entity.name)

    def _created(self, entity: Entity) -> Any:
        return as_datetime(entity.created)

    @staticmethod
    def _tags_of(entity: Entity) -> list[dict[str, str]]:
        return list(entity.body.get("Tags") or [])

    def _managed_policy(
        self, ctx: RequestContext, arn: Any, *, missing: str = "was not found."
    ) -> Entity | AwsManagedPolicy:
        """The customer managed policy (or AWS managed one) an ARN names.

        ``ValidationError`` for text that is not a policy ARN, ``NoSuchEntity`` (with
        ``missing`` as the end of its message) for one that does not exist.
        """
        text = str(arn or "")
        parts = text.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or not parts[5].startswith("policy/"):
            raise check.validation_error("Invalid ARN:  Could not be parsed!")
        if is_aws_managed(text):
            known = AWS_MANAGED_POLICIES.get(text)
            if known is None:
                raise check.no_such_entity(f"Policy {text} {missing}")
            return known
        resource = parts[5][len("policy") :]
        path, _, name = resource.rpartition("/")
        found = self.store.get(ctx.account, "policy", name) if parts[4] == ctx.account else None
        if found is None or found.path != path + "/":
            raise check.no_such_entity(f"Policy {text} {missing}")
        return found

    def _attachable(self, ctx: RequestContext, arn: Any) -> str:
        """A policy ARN that may be attached: known, or any AWS managed policy ARN."""
        text = str(arn or "")
        if is_aws_managed(text) and text.count("/") >= 1:
            return text
        self._managed_policy(ctx, text, missing="does not exist or is not attachable.")
        return text


def _missing(kind: str, name: str) -> str:
    if kind == "instance-profile":
        return f"Instance Profile {name} cannot be found."
    return f"The {kind} with name {name} cannot be found."
