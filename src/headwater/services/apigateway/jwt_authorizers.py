"""Token authorizers API Gateway runs itself: a REST API's ``COGNITO_USER_POOLS``
authorizer and an HTTP API's ``JWT`` authorizer (AWS documents: "Control access to REST
APIs using Amazon Cognito user pools as an authorizer"; "Control access to HTTP APIs with
JWT authorizers").

A token whose issuer is a headwater user pool
(``https://cognito-idp.<region>.amazonaws.com/<poolId>``) is checked by the Cognito
service (``CognitoIdpService.verify_jwt``: its key, its expiry on the headwater clock);
any other issuer's keys are fetched as AWS fetches them, from the issuer's
``/.well-known/openid-configuration`` and its ``jwks_uri`` (``IssuerKeys``), and the token's
claims checked here. The claims reach the integration as strings, as API Gateway gives them.

Pure checking and shaping: ``server.execute_api`` reads the request and answers.
"""

from __future__ import annotations

import re
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from headwater.services.cognitoidp.tokens import (
    NO_SUCH_KID,
    TokenProblem,
    unverified_claims,
    verify_with_jwks,
)

if TYPE_CHECKING:
    from headwater.core.clock import Clock
    from headwater.services.cognitoidp import CognitoIdpService

#: A user pool's issuer URL -> its pool id.
_POOL_ISSUER = re.compile(
    r"https://cognito-idp\.[a-z0-9-]+\.amazonaws\.com/([a-z]{2}(?:-[a-z]+)+-\d_[A-Za-z0-9]+)"
)
#: How long an issuer's keys are kept (AWS: "API Gateway caches the public key for two
#: hours").
KEYS_TTL = 7200.0
#: How long fetching an issuer's documents may take (a local test server answers at once;
#: a real issuer is unreachable without internet).
_FETCH_SECONDS = 3.0


@dataclass(frozen=True, slots=True)
class JwtAuthorizer:
    """A Cognito user pools (REST) or JWT (HTTP) authorizer as serving runs it, with the
    authorization scopes of the method or route it guards."""

    #: The API's id and the authorizer's (the answer cache's key).
    api_id: str
    authorizer_id: str
    #: ``COGNITO_USER_POOLS`` (a REST API's) or ``JWT`` (an HTTP API's).
    kind: str
    sources: tuple[str, ...]
    #: Seconds a REST authorizer's answer is kept per token (HTTP: 0).
    ttl: int = 0
    #: The REST authorizer's ``identityValidationExpression``.
    validation: str | None = None
    #: The pools a REST authorizer's ``providerARNs`` name.
    pool_ids: tuple[str, ...] = ()
    #: An HTTP authorizer's ``JwtConfiguration``.
    issuer: str = ""
    audience: tuple[str, ...] = ()
    #: The method's ``authorizationScopes`` or the route's ``AuthorizationScopes``.
    scopes: tuple[str, ...] = ()

    @property
    def cache_key(self) -> tuple[str, ...]:
        """What a cached answer is kept under, with the token (a changed authorizer or
        method asks anew)."""
        return (self.api_id, self.authorizer_id, *self.pool_ids, "|", *self.scopes)


@dataclass(frozen=True, slots=True)
class JwtGrant:
    """A token let in: its claims, and its scopes (``None`` when the method or route asks
    for none, as API Gateway's events give them)."""

    claims: dict[str, Any]
    scopes: list[str] | None


@dataclass(frozen=True, slots=True)
class JwtRefusal:
    """A token kept out: ``unauthorized`` (401) or ``forbidden`` (403, an HTTP route's
    scopes not met), and why (an HTTP API's ``www-authenticate`` description)."""

    kind: str
    description: str


def pool_id_of_arn(arn: str) -> str:
    """The pool id a ``providerARNs`` entry names (``arn:...:userpool/<poolId>``)."""
    return arn.rsplit("/", 1)[-1]


def pool_id_of_issuer(issuer: str) -> str | None:
    """The pool id of a user pool's issuer URL (``None``: another issuer)."""
    found = _POOL_ISSUER.fullmatch(issuer.rstrip("/"))
    return None if found is None else found.group(1)


def bare_token(value: str) -> str:
    """The token of an identity source value: API Gateway takes the token alone or after
    ``Bearer `` (its HTTP API guide says so; REST Cognito authorizers accept both too)."""
    scheme, space, rest = value.strip().partition(" ")
    return rest.strip() if space and scheme.lower() == "bearer" else value.strip()


def _token_scopes(claims: dict[str, Any]) -> list[str]:
    """The scopes of a token's ``scope`` (space-separated) or ``scp`` claim."""
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            return value.split()
        if isinstance(value, list):
            return [str(v) for v in value]
    return []


class IssuerKeys:
    """The JSON Web Key Sets of issuers that are no headwater pool, fetched over HTTP from
    ``<issuer>/.well-known/openid-configuration``'s ``jwks_uri`` and kept ``KEYS_TTL``
    seconds on the headwater clock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._sets: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def of(self, issuer: str, *, fresh: bool = False) -> dict[str, Any]:
        """The issuer's key set (``fresh``: fetched anew, not kept); raises
        ``TokenProblem`` if it cannot be fetched."""
        with self._lock:
            found = self._sets.get(issuer)
            if not fresh and found is not None and found[0] > self._clock.now():
                return found[1]
        discovery = _fetch_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
        keys = _fetch_json(str(discovery.get("jwks_uri", "")))
        with self._lock:
            self._sets[issuer] = (self._clock.now() + KEYS_TTL, keys)
        return keys


def _fetch_json(url: str) -> dict[str, Any]:
    if not url.startswith(("http://", "https://")):
        raise TokenProblem("unable to fetch the issuer's keys")
    try:
        with urllib.request.urlopen(url, timeout=_FETCH_SECONDS) as answer:
            body = orjson.loads(answer.read())
    except (OSError, urllib.error.URLError, orjson.JSONDecodeError, ValueError) as error:
        raise TokenProblem("unable to fetch the issuer's keys") from error
    if not isinstance(body, dict):
        raise TokenProblem("unable to fetch the issuer's keys")
    return body


def _check_times(claims: dict[str, Any], now: float) -> None:
    """A token's ``exp`` after now, ``nbf`` and ``iat`` not after it (API Gateway's JWT
    checks)."""
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or now >= exp:
        raise TokenProblem("the token has expired")
    for name in ("nbf", "iat"):
        value = claims.get(name)
        if value is not None and (not isinstance(value, int | float) or value > now):
            raise TokenProblem(f"the token's {name} is in the future")


def _check_audience(claims: dict[str, Any], audience: tuple[str, ...]) -> None:
    """The token's ``aud`` (or, without one, its ``client_id``) is one of ``audience``."""
    if not audience:
        return
    aud = claims.get("aud")
    said = aud if isinstance(aud, list) else [claims.get("client_id") if aud is None else aud]
    if not any(str(a) in audience for a in said if a is not None):
        raise TokenProblem("the token does not have a valid audience")


def _other_issuer_claims(
    authorizer: JwtAuthorizer, token: str, keys: IssuerKeys, now: float
) -> dict[str, Any]:
    if unverified_claims(token).get("iss") != authorizer.issuer:
        raise TokenProblem("the token does not have a valid issuer")
    try:
        claims = verify_with_jwks(token, keys.of(authorizer.issuer))
    except TokenProblem as problem:
        if str(problem) != NO_SUCH_KID:
            raise
        # the issuer may have rotated its keys since they were fetched
        claims = verify_with_jwks(token, keys.of(authorizer.issuer, fresh=True))
    _check_times(claims, now)
    _check_audience(claims, authorizer.audience)
    return claims


def check_token(
    authorizer: JwtAuthorizer,
    value: str,
    *,
    user_pools: CognitoIdpService | None,
    keys: IssuerKeys,
    now: float,
) -> JwtGrant | JwtRefusal:
    """Whether the identity source ``value`` lets the request in.

    REST (``COGNITO_USER_POOLS``): an ID token of one of the authorizer's pools when the
    method asks for no scopes, else an access token with one of them (AWS: "If any OAuth
    scope is specified, API Gateway treats the supplied token as an access token").
    HTTP (``JWT``): a token of the configured issuer for one of its audiences, with one
    of the route's scopes if it has any.
    """
    token = bare_token(value)
    scopes = authorizer.scopes
    try:
        if authorizer.kind == "COGNITO_USER_POOLS":
            if user_pools is None:
                raise TokenProblem("no user pools here")
            claims = user_pools.verify_jwt(
                token,
                token_use="access" if scopes else "id",
                pool_ids=list(authorizer.pool_ids),
            )
        elif (pool_id := pool_id_of_issuer(authorizer.issuer)) is not None:
            if user_pools is None:
                raise TokenProblem("no user pools here")
            try:
                claims = user_pools.verify_jwt(
                    token, client_ids=list(authorizer.audience) or None, pool_ids=[pool_id]
                )
            except TokenProblem as problem:
                # AWS's descriptions for the two a client can act on
                if str(problem) == "expired":
                    raise TokenProblem("the token has expired") from problem
                if str(problem) == "issued to another client":
                    raise TokenProblem("the token does not have a valid audience") from problem
                raise
        else:
            claims = _other_issuer_claims(authorizer, token, keys, now)
    except TokenProblem as problem:
        return JwtRefusal("unauthorized", str(problem))
    held = _token_scopes(claims)
    if scopes and not any(s in held for s in scopes):
        kind = "unauthorized" if authorizer.kind == "COGNITO_USER_POOLS" else "forbidden"
        return JwtRefusal(kind, "the token does not hold one of the route's scopes")
    return JwtGrant(claims, held if scopes else None)


def _rest_time(value: Any) -> str:
    """A REST event's ``exp``/``iat``: a date as API Gateway writes it
    (``Fri Jul 29 18:52:53 UTC 2016``)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(value))
    return _claim_text(value, rest=True)


def _claim_text(value: Any, *, rest: bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        items = [_claim_text(v, rest=rest) for v in value]
        # a REST event joins a list with commas, an HTTP API's writes it "[a b]"
        return ",".join(items) if rest else "[" + " ".join(items) + "]"
    if isinstance(value, dict):
        return orjson.dumps(value).decode()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def string_claims(claims: dict[str, Any], *, rest: bool) -> dict[str, str]:
    """A token's claims as API Gateway hands them to the integration: every value a
    string."""
    return {
        name: _rest_time(value)
        if rest and name in ("exp", "iat")
        else _claim_text(value, rest=rest)
        for name, value in claims.items()
    }


def authorizer_context(grant: JwtGrant, *, rest: bool, payload_version: str) -> dict[str, Any]:
    """``requestContext.authorizer`` of the integration's event: a REST API's
    ``{"claims": ...}``, an HTTP API's ``{"jwt": {"claims", "scopes"}}`` (payload 2.0) or
    ``{"claims", "scopes"}`` (1.0)."""
    claims = string_claims(grant.claims, rest=rest)
    if rest:
        return {"claims": claims}
    if payload_version == "2.0":
        return {"jwt": {"claims": claims, "scopes": grant.scopes}}
    return {"claims": claims, "scopes": grant.scopes}
