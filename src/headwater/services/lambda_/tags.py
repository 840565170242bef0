"""TagResource, UntagResource and ListTags for functions and event source mappings.

A function's tags live with the function (``FunctionRecord.extra["Tags"]``), a mapping's
with the mapping (``MappingConfig.tags``, which its description never shows),
so deleting either deletes its tags. Tags on versions and aliases are refused, as on AWS.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from headwater.core.arn import Arn
from headwater.core.errors import AwsError
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.lambda_ import validation as check
from headwater.services.lambda_.parts import LambdaParts

if TYPE_CHECKING:
    from headwater.store.mappings import MappingStore

MAX_TAGS = 50
RESOURCE_PATTERN = (
    r"arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:"
    r"\d{12}:(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|"
    r"code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)"
)
_RESOURCE = re.compile(RESOURCE_PATTERN)


def _not_found(message: str) -> AwsError:
    return check.user_error("ResourceNotFoundException", message, 404)


class TagOperations(LambdaParts):
    """Tags of functions and mappings (mixed into ``LambdaService``)."""

    if TYPE_CHECKING:
        mapping_store: MappingStore

    def _checked_tags(self, tags: Any) -> dict[str, str]:
        if not isinstance(tags, dict):
            raise check.invalid_parameter("An error occurred and the request cannot be processed.")
        if len(tags) > MAX_TAGS:
            raise check.invalid_parameter("Number of tags exceeds resource tag limit.")
        return {str(k): str(v) for k, v in tags.items()}

    def _tagged(self, arn: Any) -> tuple[str, Arn, str]:
        """(kind, parsed ARN, id) of a taggable resource ARN: "function" or "mapping"."""
        text = str(arn or "")
        if not _RESOURCE.fullmatch(text):
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{text}' at 'resource' failed to satisfy "
                f"constraint: Member must satisfy regular expression pattern: {RESOURCE_PATTERN}",
            )
        parsed = Arn.parse(text)
        kind, _, rest = parsed.resource.partition(":")
        if kind == "function":
            if ":" in rest:
                raise check.invalid_parameter(
                    "Tags on function aliases and versions are not supported. Please specify a "
                    "function ARN."
                )
            return "function", parsed, rest
        if kind == "event-source-mapping":
            return "mapping", parsed, rest
        noun = {"layer": "Layer", "code-signing-config": "Code signing config"}.get(
            kind, "Capacity provider"
        )
        raise _not_found(f"{noun} not found: {text}")

    def _current_tags(self, arn: Any, ctx: RequestContext) -> tuple[str, Any, dict[str, str]]:
        kind, parsed, ident = self._tagged(arn)
        if kind == "function":
            record = None
            if parsed.account == self.env.account and parsed.region == ctx.region:
                record = self._functions.get(parsed.region, ident)
            if record is None:
                raise _not_found(f"Function not found: {arn}")
            return kind, record, dict(record.extra.get("Tags") or {})
        mapping = self.mapping_store.get(ident)
        if mapping is None or mapping.region != ctx.region:
            raise _not_found(f"Event source mapping not found: {arn}")
        return kind, mapping, dict(mapping.config.tags)

    def _store_tags(self, kind: str, resource: Any, tags: dict[str, str]) -> None:
        if kind == "function":
            extra = {**resource.extra, "Tags": tags}
            if not tags:
                del extra["Tags"]
            # Tags are not part of the function's code or configuration: no new revision.
            self._functions.replace(resource.with_changes(extra=extra))
            return

        def change(current: Any) -> Any:
            return current.with_changes(config=current.config.replace(tags=MappingProxyType(tags)))

        self.mapping_store.update(resource.uuid, change)

    @operation("TagResource")
    def tag_resource(self, params: Params, ctx: RequestContext) -> Result:
        with self._function_lock:
            kind, resource, tags = self._current_tags(params.get("Resource"), ctx)
            new = params.get("Tags")
            if not new:
                raise check.invalid_parameter(
                    "An error occurred and the request cannot be processed."
                )
            self._store_tags(kind, resource, self._checked_tags({**tags, **new}))
        return {"_status": 204}

    @operation("UntagResource")
    def untag_resource(self, params: Params, ctx: RequestContext) -> Result:
        with self._function_lock:
            kind, resource, tags = self._current_tags(params.get("Resource"), ctx)
            for key in params.get("TagKeys") or []:
                tags.pop(key, None)
            self._store_tags(kind, resource, tags)
        return {"_status": 204}

    @operation("ListTags")
    def list_tags(self, params: Params, ctx: RequestContext) -> Result:
        _, _, tags = self._current_tags(params.get("Resource"), ctx)
        return {"Tags": tags}
