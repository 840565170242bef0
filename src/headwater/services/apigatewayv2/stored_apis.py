"""What API Gateway's two services (HTTP APIs ``apigatewayv2``, REST APIs ``apigateway``)
share in keeping their APIs: one stored document per API (``store.api_documents``),
changed under a lock so a change is one read and one write of whole documents, ids in
API Gateway's alphabet, epoch-second dates answered as datetimes, and tagging an API and
its stages (TagResource, UntagResource, GetTags).

The two services' members are named differently (``ApiId``/``CreatedDate`` against
``id``/``createdDate``) and their errors are worded differently; each says its own.
"""

from __future__ import annotations

import secrets
import string
import threading
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from headwater.core.errors import AwsError
from headwater.core.values import as_datetime
from headwater.services.base import RequestContext, Result, Service
from headwater.store.api_documents import ApiDocument, ApiDocumentStore

_ID_ALPHABET = string.ascii_lowercase + string.digits


def new_id(length: int) -> str:
    """An API Gateway id (API, route, resource, stage deployment): lower-case letters and
    digits."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def with_datetimes(item: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """A stored item as answered: its epoch-second dates (``names``) as datetimes."""
    shown = dict(item)
    for name in names:
        if isinstance(shown.get(name), int | float):
            shown[name] = as_datetime(float(shown[name]))
    return shown


def api_and_stage(arn: str, prefix: str) -> tuple[str, str | None] | None:
    """The API id and stage name (``None``: the API itself) a tag ARN names below
    ``prefix`` (``arn:aws:apigateway:<region>::/apis/``); ``None``: neither."""
    if not arn.startswith(prefix):
        return None
    api_id, _, rest = arn[len(prefix) :].partition("/")
    if not rest:
        return api_id, None
    kind, _, name = rest.partition("/")
    if kind != "stages" or not name:
        return None
    return api_id, name


class StoredApiService(Service):
    """A service keeping its APIs as ``ApiDocument`` rows of ``store_class``."""

    #: The store of the service's kind of API (a subclass says).
    store_class: ClassVar[type[ApiDocumentStore]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._store = self.store_class(self.env.database)
        # One change at a time: a change reads, alters and writes a whole document.
        self._lock = threading.Lock()

    def api_region(self, api_id: str) -> str | None:
        """The region API ``api_id`` is in (``None``: no such API), for serving by host."""
        found = self._store.find(api_id)
        return None if found is None else found[0]

    def _no_such_api(self, ctx: RequestContext, api_id: str) -> AwsError:
        """The service's error for an API id it does not have."""
        raise NotImplementedError

    def _document(self, ctx: RequestContext, api_id: str) -> ApiDocument:
        found = self._store.get(ctx.account, ctx.region, api_id)
        if found is None:
            raise self._no_such_api(ctx, api_id)
        return found

    def _add_document(self, ctx: RequestContext, api_id: str, document: ApiDocument) -> None:
        """Store a new API's document."""
        with self._lock:
            self._store.put(ctx.account, ctx.region, api_id, document)

    def _delete_document(self, ctx: RequestContext, api_id: str) -> None:
        with self._lock:
            if not self._store.delete(ctx.account, ctx.region, api_id):
                raise self._no_such_api(ctx, api_id)

    def _change(
        self, ctx: RequestContext, api_id: str, change: Callable[[ApiDocument], Result]
    ) -> Result:
        """Apply ``change`` to the API's document and store it (nothing is stored when the
        change raises)."""
        with self._lock:
            document = self._document(ctx, api_id)
            result = change(document)
            self._store.put(ctx.account, ctx.region, api_id, document)
            return result

    # -- tags of an API and its stages -------------------------------------------------------

    def _tagged(self, arn: str, ctx: RequestContext) -> tuple[str, str | None]:
        """The API id and stage name (``None``: the API itself) a tag ARN names (the
        service's ARN form and error)."""
        raise NotImplementedError

    def _tags_of(
        self, document: ApiDocument, ctx: RequestContext, stage: str | None
    ) -> dict[str, str]:
        """The stored tags of the API or of its stage ``stage`` (the service's member)."""
        raise NotImplementedError

    def _tag(self, ctx: RequestContext, arn: str, tags: dict[str, str]) -> Result:
        """TagResource: add ``tags`` to what ``arn`` names."""
        api_id, stage = self._tagged(arn, ctx)

        def change(document: ApiDocument) -> Result:
            self._tags_of(document, ctx, stage).update(tags)
            return {}

        return self._change(ctx, api_id, change)

    def _untag(self, ctx: RequestContext, arn: str, keys: Iterable[str]) -> Result:
        """UntagResource: remove the tags ``keys`` names (a missing one is no error)."""
        api_id, stage = self._tagged(arn, ctx)

        def change(document: ApiDocument) -> Result:
            tags = self._tags_of(document, ctx, stage)
            for key in keys:
                tags.pop(key, None)
            return {}

        return self._change(ctx, api_id, change)

    def _tags(self, ctx: RequestContext, arn: str) -> dict[str, str]:
        """GetTags: the tags of what ``arn`` names."""
        api_id, stage = self._tagged(arn, ctx)
        return dict(self._tags_of(self._document(ctx, api_id), ctx, stage))
