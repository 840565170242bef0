"""Lambda authorizers of REST APIs (``TOKEN`` and ``REQUEST``) and HTTP APIs (``REQUEST``,
payload format 1.0 or 2.0), as API Gateway runs them before a method or route: the
identity sources read from the request (a missing one: 401 before the function runs),
the event the authorizer function gets, its answer (an IAM policy, or for an HTTP API's
2.0 authorizer with simple responses ``{"isAuthorized": ..., "context": ...}``), the
decision for the request's method ARN, and the answers cached by identity for the
authorizer's TTL on the headwater clock (AWS documents: "Use API Gateway Lambda
authorizers"; "Control access to HTTP APIs with AWS Lambda authorizers").

Pure translation and the cache: ``server.execute_api`` invokes the function.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import parse_qsl

import orjson

from headwater.core.proxy_payloads import ProxyRequest, request_event, rest_request_event
from headwater.services.iam.simulation import policy_decision

if TYPE_CHECKING:
    from headwater.core.clock import Clock
    from headwater.runtime.invocation import InvocationResult
    from headwater.services.apigateway.jwt_authorizers import JwtAuthorizer

#: A REST API's identity source (``method.request.header.Authorization``) and an HTTP
#: API's (``$request.header.Authorization``), by their prefixes -> what they read.
_SOURCE_KINDS = (
    ("method.request.multivalueheader.", "header"),
    ("method.request.header.", "header"),
    ("method.request.multivaluequerystring.", "query"),
    ("method.request.querystring.", "query"),
    ("$request.header.", "header"),
    ("$request.querystring.", "query"),
    ("stageVariables.", "stage"),
    ("$stageVariables.", "stage"),
    ("context.", "context"),
    ("$context.", "context"),
)
INVOKE_ACTION = "execute-api:Invoke"
#: Answers kept at most (the oldest go first past it).
_CACHE_LIMIT = 10000


def identity_sources(identity_source: Any) -> list[str]:
    """An authorizer's identity sources: a REST API's comma-separated text, an HTTP API's
    list."""
    if isinstance(identity_source, list):
        return [str(s).strip() for s in identity_source if str(s).strip()]
    return [s.strip() for s in str(identity_source or "").split(",") if s.strip()]


def valid_source(source: str) -> bool:
    """Whether ``source`` is an identity source expression headwater reads."""
    return any(source.startswith(prefix) and source[len(prefix) :] for prefix, _ in _SOURCE_KINDS)


@dataclass(frozen=True, slots=True)
class LambdaAuthorizer:
    """A Lambda authorizer as serving needs it."""

    #: The API's id and the authorizer's (the cache's key).
    api_id: str
    authorizer_id: str
    #: The function's ARN (from the authorizer URI).
    function: str
    #: ``TOKEN`` or ``REQUEST``.
    kind: str
    sources: tuple[str, ...]
    ttl: int
    #: A TOKEN authorizer's ``identityValidationExpression``.
    validation: str | None = None
    #: ``None``: a REST API's; ``"1.0"`` or ``"2.0"``: an HTTP API's payload format.
    http_payload_version: str | None = None
    simple_responses: bool = False

    @property
    def cache_key(self) -> tuple[str, ...]:
        """What a cached answer is kept under, with the identity (a changed function asks
        anew)."""
        return (self.api_id, self.authorizer_id, self.function)


@dataclass(slots=True)
class AuthorizerAnswer:
    """What an authorizer function answered (cached by identity)."""

    principal_id: str | None
    #: The IAM policy (``None`` for a simple response).
    policy: dict[str, Any] | None
    #: A simple response's ``isAuthorized`` (``None`` for a policy).
    authorized: bool | None
    context: dict[str, Any] = field(default_factory=dict)


def _context_value(request: ProxyRequest, name: str) -> str | None:
    known = {
        "httpMethod": request.method,
        "stage": request.stage,
        "requestId": request.request_id,
        "apiId": request.api_id,
        "path": request.path,
        "identity.sourceIp": request.source_ip,
    }
    return known.get(name)


def _source_value(source: str, request: ProxyRequest) -> str | None:
    for prefix, kind in _SOURCE_KINDS:
        if not source.startswith(prefix):
            continue
        name = source[len(prefix) :]
        if kind == "header":
            return request.headers.get(name.lower())
        if kind == "query":
            values = [v for n, v in parse_qsl(request.query_string, True) if n == name]
            return values[-1] if values else None
        if kind == "stage":
            return (request.stage_variables or {}).get(name)
        return _context_value(request, name)
    return None


def identity_of(
    authorizer: LambdaAuthorizer | JwtAuthorizer, request: ProxyRequest
) -> list[str] | None:
    """The identity source values of ``request`` (``None``: one is missing or empty, or a
    TOKEN's or Cognito token's fails the validation expression: API Gateway's 401 without
    calling the function or reading the token)."""
    values: list[str] = []
    for source in authorizer.sources:
        value = _source_value(source, request)
        if not value:
            return None
        values.append(value)
    if authorizer.kind in ("TOKEN", "COGNITO_USER_POOLS") and authorizer.validation and values:
        try:
            if re.fullmatch(authorizer.validation, values[0]) is None:
                return None
        except re.error:
            return None  # a pattern Python's regex cannot read never matches
    return values


def execute_api_arn(
    region: str, account: str, api_id: str, *, stage: str, method: str, path: str
) -> str:
    """The method ARN (a REST API's ``methodArn``, an HTTP API's ``routeArn``) of a
    request: ``arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/<path>``."""
    return f"arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/{method}/{path.lstrip('/')}"


def authorizer_event(
    authorizer: LambdaAuthorizer, request: ProxyRequest, identity: list[str], arn: str
) -> dict[str, Any]:
    """The event the authorizer function gets."""
    if authorizer.kind == "TOKEN":
        token = identity[0] if identity else ""
        return {"type": "TOKEN", "authorizationToken": token, "methodArn": arn}
    if authorizer.http_payload_version == "2.0":
        event = request_event(request)
        for name in ("body", "isBase64Encoded"):
            event.pop(name, None)
        return {
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": arn,
            "identitySource": identity,
            **{k: v for k, v in event.items() if k != "version"},
        }
    event = rest_request_event(request)
    for name in ("version", "body", "isBase64Encoded"):
        event.pop(name, None)
    head: dict[str, Any] = {"type": "REQUEST", "methodArn": arn}
    if authorizer.http_payload_version == "1.0":
        head = {
            "version": "1.0",
            **head,
            "identitySource": ",".join(identity),
            "authorizationToken": identity[0] if identity else "",
        }
    return {**head, **event}


def read_answer(authorizer: LambdaAuthorizer, payload: bytes) -> AuthorizerAnswer | None:
    """The authorizer function's answer (``None``: not one API Gateway accepts, its 500)."""
    try:
        answer = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(answer, dict):
        return None
    context = answer.get("context") or {}
    if not isinstance(context, dict) or any(isinstance(v, dict | list) for v in context.values()):
        # API Gateway passes only string, number and boolean context values
        return None
    principal = answer.get("principalId")
    if authorizer.simple_responses and authorizer.http_payload_version == "2.0":
        authorized = answer.get("isAuthorized")
        if not isinstance(authorized, bool):
            return None
        return AuthorizerAnswer(
            None if principal is None else str(principal), None, authorized, context
        )
    policy = answer.get("policyDocument")
    if not isinstance(policy, dict):
        return None
    if authorizer.http_payload_version is None and principal is None:
        return None  # a REST API's authorizer must name its principal
    return AuthorizerAnswer(None if principal is None else str(principal), policy, None, context)


def invocation_outcome(
    authorizer: LambdaAuthorizer, result: InvocationResult
) -> AuthorizerAnswer | str:
    """What an authorizer's invocation comes to: its answer, or ``"unauthorized"`` (the
    function failed with ``Unauthorized``, API Gateway's 401) or ``"error"`` (it failed
    otherwise, or answered what API Gateway does not accept: its 500)."""
    if result.status != "ok":
        return "unauthorized" if _says_unauthorized(result) else "error"
    answer = read_answer(authorizer, result.payload)
    return "error" if answer is None else answer


def _says_unauthorized(result: InvocationResult) -> bool:
    if result.status != "function_error":
        return False
    try:
        error = orjson.loads(result.payload)
    except orjson.JSONDecodeError:
        return False
    return isinstance(error, dict) and error.get("errorMessage") == "Unauthorized"


def decision(answer: AuthorizerAnswer, arn: str) -> str:
    """``allowed``, ``explicitDeny`` or ``implicitDeny`` of ``answer`` for ``arn``."""
    if answer.policy is None:
        return "allowed" if answer.authorized else "implicitDeny"
    return policy_decision(answer.policy, INVOKE_ACTION, arn)


#: A cached answer's key: the authorizer's ``cache_key`` and the identity values.
_CacheKey = tuple[tuple[str, ...], tuple[str, ...]]
_Answer = TypeVar("_Answer")


class AuthorizerCache(Generic[_Answer]):
    """Authorizer answers (a Lambda authorizer's, a Cognito authorizer's grant) by
    authorizer and identity until their TTL passes on the headwater clock (a TTL of 0: not
    kept). Memory only, per server: a restart asks again."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._answers: OrderedDict[_CacheKey, tuple[float, _Answer]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(authorizer: LambdaAuthorizer | JwtAuthorizer, identity: list[str]) -> _CacheKey:
        return authorizer.cache_key, tuple(identity)

    def get(
        self, authorizer: LambdaAuthorizer | JwtAuthorizer, identity: list[str]
    ) -> _Answer | None:
        """The cached answer for ``identity`` (``None``: none, or expired)."""
        if authorizer.ttl <= 0 or not identity:
            return None
        with self._lock:
            found = self._answers.get(self._key(authorizer, identity))
            if found is None or found[0] <= self._clock.now():
                return None
            return found[1]

    def put(
        self, authorizer: LambdaAuthorizer | JwtAuthorizer, identity: list[str], answer: _Answer
    ) -> None:
        """Keep ``answer`` for the authorizer's TTL."""
        if authorizer.ttl <= 0 or not identity:
            return
        with self._lock:
            key = self._key(authorizer, identity)
            self._answers.pop(key, None)
            self._answers[key] = (self._clock.now() + authorizer.ttl, answer)
            while len(self._answers) > _CACHE_LIMIT:
                self._answers.popitem(last=False)
