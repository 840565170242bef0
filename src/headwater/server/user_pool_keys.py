"""The public documents of Cognito user pools on ``headwater serve``: each pool's JWKS and
OpenID discovery document, which JWT libraries and API Gateway's authorizers fetch to
check the pool's tokens.

AWS serves them at ``https://cognito-idp.<region>.amazonaws.com/<poolId>/.well-known/...``;
headwater answers the same paths on its own address, and under ``/_headwater/cognito-idp/``
(``PREFIX``), so a verifier given ``http://127.0.0.1:<port>/_headwater/cognito-idp/<poolId>``
(or the bare ``/<poolId>``) as its issuer URL finds the keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import orjson

from headwater.api.http import WireRequest, WireResponse

if TYPE_CHECKING:
    from headwater.services.cognitoidp import CognitoIdpService

PREFIX = "/_headwater/cognito-idp"
_PATH = re.compile(
    r"^(?:/_headwater/cognito-idp)?/([a-z]{2}(?:-[a-z]+)+-\d_[A-Za-z0-9]+)"
    r"/\.well-known/(jwks\.json|openid-configuration)$"
)


class UserPoolKeys:
    """Answers GETs of the pools' ``.well-known`` documents."""

    def __init__(self, service: Callable[[], CognitoIdpService]) -> None:
        self._service = service

    def match(self, request: WireRequest) -> tuple[str, str] | None:
        """The pool id and document a request asks for (``None``: not such a request)."""
        if request.method not in ("GET", "HEAD") or "x-amz-target" in request.headers:
            return None
        found = _PATH.match(request.raw_path.split("?", 1)[0])
        return None if found is None else (found.group(1), found.group(2))

    def answer(self, request: WireRequest, pool_id: str, document: str) -> WireResponse:
        service = self._service()
        if document == "jwks.json":
            body = service.jwks(pool_id)
        else:
            host = request.headers.get("host", "127.0.0.1")
            base = request.raw_path.rsplit("/.well-known/", 1)[0]
            body = service.openid_configuration(
                pool_id, f"http://{host}{base}/.well-known/jwks.json"
            )
        if body is None:
            # AWS's answer for a pool that does not exist.
            message = {"message": f"User pool {pool_id} does not exist."}
            return WireResponse(404, orjson.dumps(message))
        return WireResponse(200, orjson.dumps(body))
