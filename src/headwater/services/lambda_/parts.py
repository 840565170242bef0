"""What the Lambda operation groups (versions, aliases, permissions, layers, tags,
settings) use of the function core, declared once for type checking.

``LambdaParts`` is empty at run time: ``FunctionOperations`` provides these members in
``LambdaService``. The groups derive from it so each reads as a small class of its own.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from headwater.core.errors import validation_error
from headwater.core.paging import OffsetTokens
from headwater.services.base import Params, Result
from headwater.services.lambda_ import validation as check

if TYPE_CHECKING:
    import threading

    from headwater.runtime.environment import FunctionSpec
    from headwater.services.base import ServiceEnvironment
    from headwater.services.lambda_.qualifiers import QualifierResolver, Target
    from headwater.store.functions import FunctionRecord, FunctionStore
    from headwater.store.lambda_resources import LambdaResourceStore


MAX_LIST_ITEMS = 50


class LambdaParts:
    """Members of ``FunctionOperations`` that the other operation groups call."""

    if TYPE_CHECKING:
        env: ServiceEnvironment
        _functions: FunctionStore
        _resources: LambdaResourceStore
        _qualifiers: QualifierResolver
        _version_specs: dict[tuple[str, str, str], FunctionSpec]
        _function_lock: threading.RLock

        def _drain(self, function_key: str) -> None: ...

        def _arn(self, region: str, name: str, qualifier: str | None = None) -> str: ...

        def _locate(
            self,
            ref: str,
            qualifier: str | None = None,
            region: str | None = None,
            *,
            create: bool = False,
        ) -> tuple[check.FunctionRef, str]: ...

        def _target(
            self, ref: str, qualifier: str | None = None, region: str | None = None
        ) -> Target: ...

        def _configuration(
            self, record: FunctionRecord, arn: str | None = None, version: str = "$LATEST"
        ) -> Result: ...

        def _changed(self, record: FunctionRecord) -> None: ...

        def _check_revision(self, record: FunctionRecord, revision_id: str | None) -> None: ...

        def _function_key(self, region: str, name: str) -> str: ...


# Lambda's markers are the offset in URL-safe base64.
_MARKERS = OffsetTokens(
    invalid=lambda _: check.invalid_parameter("Invalid marker"),
    encode=lambda offset: base64.urlsafe_b64encode(str(offset).encode()).decode(),
    decode=lambda marker: int(base64.urlsafe_b64decode(marker.encode()).decode()),
)


def marker_page(items: list[Result], params: Params, key: str) -> Result:
    """Lambda's ``Marker``/``MaxItems`` paging (``NextMarker`` when there is more)."""
    # The marker is read before the limit is checked: a bad one is the error a caller sees.
    _MARKERS.position(params.get("Marker"))
    limit = params.get("MaxItems") or MAX_LIST_ITEMS
    if not isinstance(limit, int) or not 1 <= limit <= 10000:
        raise validation_error(
            limit, "maxItems", "Member must have value less than or equal to 10000"
        )
    page, marker = _MARKERS.page(items, params.get("Marker"), limit)
    result: Result = {key: page}
    if marker is not None:
        result["NextMarker"] = marker
    return result
