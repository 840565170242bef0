"""Who may call ``headwater serve``: the checks every request passes before anything runs.

headwater runs code, so a request it should not answer must be refused before it reaches a
service. Four kinds of caller are kept out:

- **Web pages in the developer's browser.** A page on any site can send ``fetch()`` POSTs
  with ``Content-Type: text/plain`` or a plain form to ``http://127.0.0.1:4599`` without a
  CORS preflight, and read nothing back, but it need not: creating and invoking a function
  is enough. Browsers mark such requests with an ``Origin`` (and ``Sec-Fetch-Site``)
  header, so a request with a browser origin is refused unless that origin is allowed
  (``--cors-origin``), and a CORS preflight never grants a foreign origin.
- **DNS rebinding.** A page on ``evil.example`` whose name then resolves to 127.0.0.1 is
  same-origin with the server, but its requests say ``Host: evil.example``: the Host must
  be a loopback name or address, the address the server is bound to, or one allowed
  (``--allow-host``).
- **Other users' processes on this machine.** On a shared machine another user's process
  can connect to 127.0.0.1 too: a connection from a loopback peer whose socket another
  user owns (``headwater.peer_owner``, looked up once per connection) has every request
  refused, unless ``--allow-other-users``, or ``--verify-signatures`` (they then need the
  keys). Root's processes are not refused: root can act as any user anyway.
- **Anything that is not an AWS client.** Every AWS API request carries a Signature
  Version 4 shape (an ``AWS4-HMAC-SHA256`` Authorization header or a presigned query),
  which a browser cannot send cross-site without a preflight. The signature is checked for
  real only with ``--verify-signatures`` (and configured access keys); the region in it is
  always checked, because it becomes part of ARNs and file names. An S3 POST upload (a
  browser's ``multipart/form-data`` form) carries its signature in its fields instead:
  S3 refuses a form without a policy and signature, and with ``--verify-signatures`` the
  policy's signature is checked here. The form still needs an allowed ``Origin``.

Refusals are AWS's errors for the same faults, in the error shape of the request's
protocol (``Refusal.error(family)``): the router renders them as it renders any error.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

import orjson

from headwater.api import sigv4
from headwater.api.aws_query import read_form
from headwater.api.form_data import MalformedForm, fields_and_file, is_form_data, parse_form_data
from headwater.api.http import WireRequest, WireResponse
from headwater.api.rest_xml import virtual_host_bucket
from headwater.core.errors import AwsError
from headwater.peer_owner import other_user_of, user_name

#: The error shapes a refusal takes: awsJson / restJson / rpc-v2-cbor services ("json"),
#: awsQuery services ("query"), S3's restXml ("xml").
Family = Literal["json", "query", "xml"]

#: Operations AWS answers without a signature: the links in SNS messages (a GET a mail
#: reader opens from anywhere) and STS's web-identity and SAML sign-in.
UNSIGNED_LINK_ACTIONS = frozenset({"ConfirmSubscription", "Unsubscribe"})
UNSIGNED_ACTIONS = frozenset({"AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"})
COGNITO_TARGET_PREFIX = "AWSCognitoIdentityProviderService"

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
#: Headers an allowed web page may read from a cross-origin answer (the SDKs' request ids,
#: error types, S3's ETag and Lambda's function error and log tail).
_EXPOSED = (
    "x-amzn-RequestId, x-amzn-ErrorType, x-amz-request-id, x-amz-id-2, ETag, "
    "x-amz-version-id, x-amz-function-error, x-amz-log-result, x-amz-executed-version"
)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request is refused: per error family, AWS's (code, HTTP status, message)."""

    json: tuple[str, int, str]
    query: tuple[str, int, str]
    xml: tuple[str, int, str]

    def error(self, family: Family) -> AwsError:
        """The refusal as the ``AwsError`` a service of ``family`` would answer."""
        code, status, message = getattr(self, family)
        return AwsError(code, message, status=status)


def _same(codes: tuple[str, str, str], status: int, message: str) -> Refusal:
    json_code, query_code, xml_code = codes
    return Refusal(
        (json_code, status, message), (query_code, status, message), (xml_code, status, message)
    )


_ACCESS_DENIED = ("AccessDeniedException", "AccessDenied", "AccessDenied")
_BAD_SIGNATURE = ("InvalidSignatureException", "SignatureDoesNotMatch", "SignatureDoesNotMatch")


def _signature_refusal(problem: sigv4.SignatureProblem) -> Refusal:
    message = str(problem)
    if problem.kind == "missing":
        hint = (
            "Missing Authentication Token: headwater answers AWS Signature Version 4 "
            "requests only (any access key signs; the AWS SDKs and CLI always sign)"
        )
        return _same(
            ("MissingAuthenticationTokenException", "MissingAuthenticationToken", "AccessDenied"),
            403,
            hint,
        )
    if problem.kind == "incomplete":
        return Refusal(
            ("IncompleteSignatureException", 403, message),
            ("IncompleteSignature", 400, message),
            ("AuthorizationHeaderMalformed", 400, message),
        )
    if problem.kind == "payload":
        return Refusal(
            ("InvalidSignatureException", 403, message),
            ("SignatureDoesNotMatch", 403, message),
            ("XAmzContentSHA256Mismatch", 400, message),
        )
    if problem.kind == "incomplete-body":
        return Refusal(
            ("SerializationException", 400, message),
            ("MalformedInput", 400, message),
            ("IncompleteBody", 400, message),
        )
    if problem.kind == "skew":
        return Refusal(
            ("InvalidSignatureException", 403, message),
            ("SignatureDoesNotMatch", 403, message),
            (
                "RequestTimeTooSkewed",
                403,
                "The difference between the request time and the current time is too large.",
            ),
        )
    if problem.kind == "expired":
        return Refusal(
            ("InvalidSignatureException", 403, "Signature expired"),
            ("SignatureDoesNotMatch", 403, "Signature expired"),
            ("AccessDenied", 403, message),
        )
    if problem.kind == "mismatch":
        return Refusal(
            ("InvalidSignatureException", 403, message),
            ("SignatureDoesNotMatch", 403, message),
            ("SignatureDoesNotMatch", 403, sigv4.S3_MISMATCH),  # S3 words it its own way
        )
    return _same(_BAD_SIGNATURE, 403, message)


def _unknown_key() -> Refusal:
    invalid = "The security token included in the request is invalid."
    return Refusal(
        ("UnrecognizedClientException", 403, invalid),
        ("InvalidClientTokenId", 403, invalid),
        (
            "InvalidAccessKeyId",
            403,
            "The AWS Access Key Id you provided does not exist in our records.",
        ),
    )


@dataclass(frozen=True, slots=True)
class TemporaryKey:
    """Temporary credentials STS issued (AssumeRole, GetSessionToken...): the secret that
    signs, the session token every request must carry, and whether they have expired."""

    secret: str
    token: str
    expired: bool


def _invalid_token() -> Refusal:
    invalid = "The security token included in the request is invalid."
    return Refusal(
        ("UnrecognizedClientException", 403, invalid),
        ("InvalidClientTokenId", 403, invalid),
        ("InvalidToken", 400, "The provided token is malformed or otherwise invalid."),
    )


def _expired_token() -> Refusal:
    expired = "The security token included in the request is expired"
    return Refusal(
        ("ExpiredTokenException", 403, expired),
        ("ExpiredToken", 403, expired),
        ("ExpiredToken", 400, "The provided token has expired."),
    )


def _session_refusal(session: TemporaryKey, token: str | None) -> Refusal | None:
    """Why a request signed with temporary credentials is refused before its signature is
    checked: no session token (AWS does not know the key without one), a token that is
    not the one issued with the key, or expired credentials."""
    if token is None:
        return _unknown_key()
    if not hmac.compare_digest(token.encode("utf-8"), session.token.encode("utf-8")):
        return _invalid_token()
    if session.expired:
        return _expired_token()
    return None


def _session_token(request: WireRequest) -> str | None:
    """The ``X-Amz-Security-Token`` of a request: a header, or in a presigned query."""
    token = request.headers.get("x-amz-security-token")
    if token is not None or "ecurity-" not in request.query_string:
        return token
    for name, value in request.query_items():
        if name.lower() == "x-amz-security-token":
            return value
    return None


def other_user_refusal(uid: int) -> Refusal:
    """The refusal of every request on a connection from another user's process (``uid``)."""
    return _same(
        _ACCESS_DENIED,
        403,
        f"headwater does not answer other users' processes: this connection is from user "
        f"'{user_name(uid)}' (uid {uid}), and headwater runs code as "
        f"'{user_name(os.getuid())}'; allow other users with --allow-other-users, or "
        "with --verify-signatures (they then need your access keys)",
    )


def _bad_region(region: str) -> Refusal:
    shown = region[:64]
    message = f"Credential should be scoped to a valid region, not '{shown}'."
    return Refusal(
        ("InvalidSignatureException", 403, message),
        ("SignatureDoesNotMatch", 403, message),
        (
            "AuthorizationHeaderMalformed",
            400,
            f"The authorization header is malformed; the region '{shown}' is not a valid region.",
        ),
    )


@dataclass(frozen=True, slots=True)
class RequestPolicy:
    """What ``headwater serve`` accepts (see the module docstring)."""

    #: Browser origins (``http://localhost:3000``) whose pages may call the API; ``"*"``
    #: allows every origin.
    cors_origins: frozenset[str] = frozenset()
    #: Host names (besides loopback ones) requests may be addressed to; ``"*"``: any.
    allowed_hosts: frozenset[str] = frozenset()
    #: Verify SigV4 signatures against ``secret_for``.
    verify_signatures: bool = False
    #: Answer connections from loopback peers of other users (``connection_refusal``; with
    #: ``verify_signatures`` they are answered anyway: they need the keys).
    other_users_allowed: bool = False
    #: The secret access key of an access key id (``None``: unknown key).
    secret_for: Callable[[str], str | None] = field(default=lambda _: None)
    #: The temporary credentials STS issued with an access key id (``None``: none).
    session_for: Callable[[str], TemporaryKey | None] = field(default=lambda _: None)
    #: Wall-clock time for the 15-minute skew check (never a scaled or manual clock:
    #: clients sign with the real time).
    now: Callable[[], float] = time.time

    @classmethod
    def build(
        cls,
        *,
        cors_origins: Iterable[str] = (),
        allowed_hosts: Iterable[str] = (),
        bound_host: str | None = None,
        verify_signatures: bool = False,
        allow_other_users: bool = False,
        access_keys: dict[str, str] | None = None,
        other_keys: Callable[[str], str | None] | None = None,
        sessions: Callable[[str], TemporaryKey | None] | None = None,
        now: Callable[[], float] = time.time,
    ) -> RequestPolicy:
        """A policy from the server's options; ``bound_host`` (the address it listens on,
        when a specific one) is allowed as a Host too; ``other_keys`` finds the secret of
        a key that is not among ``access_keys`` (IAM users' keys), ``sessions`` the
        temporary credentials STS issued with one. Other users' processes are answered
        when ``allow_other_users`` or ``verify_signatures`` (they then need the keys)."""
        hosts = {host_name(host) for host in allowed_hosts}
        if bound_host and bound_host not in ("0.0.0.0", "::", ""):
            hosts.add(host_name(bound_host))
        keys = dict(access_keys or {})

        def secret_for(access_key: str) -> str | None:
            found = keys.get(access_key)
            if found is None and other_keys is not None:
                found = other_keys(access_key)
            return found

        return cls(
            cors_origins=frozenset(origin.rstrip("/") for origin in cors_origins),
            allowed_hosts=frozenset(hosts),
            verify_signatures=verify_signatures,
            other_users_allowed=allow_other_users,
            secret_for=secret_for,
            session_for=sessions if sessions is not None else (lambda _: None),
            now=now,
        )

    # ---- the checks ----

    def connection_refusal(self, transport: object) -> Refusal | None:
        """Why every request on a new connection (``transport``) is refused: a loopback
        peer owned by another user than this process's (and root), unless other users are
        allowed. ``None`` for the rest: remote peers, and systems other than Linux. Asked
        once per connection, never per request."""
        if self.other_users_allowed or self.verify_signatures:
            return None
        uid = other_user_of(transport)
        return None if uid is None else other_user_refusal(uid)

    def host_allowed(self, request: WireRequest) -> bool:
        """Whether the request's Host is loopback or allowed (no Host: not a browser)."""
        host = request.headers.get("host")
        if host is None or "*" in self.allowed_hosts:
            return True
        name = host_name(host)
        return _is_loopback(name) or name in self.allowed_hosts

    def origin_allowed(self, origin: str) -> bool:
        return "*" in self.cors_origins or origin in self.cors_origins

    def check(self, request: WireRequest) -> Refusal | None:
        """Why an AWS API request is refused (``None``: it may go on)."""
        headers = request.headers
        if not self.host_allowed(request):
            return _same(_ACCESS_DENIED, 403, _host_refused(headers.get("host", "")))
        origin = headers.get("origin")
        if origin is not None and not self.origin_allowed(origin):
            return _same(_ACCESS_DENIED, 403, _origin_refused(origin))
        if origin is None and _unsigned_link(request):
            return None
        site = headers.get("sec-fetch-site")
        if (
            origin is None
            and site not in (None, "same-origin", "none")
            and not self.verify_signatures
            and not _s3_read(request)
        ):
            # a no-cors GET (<img>, a link) with a forged presigned query
            return _same(_ACCESS_DENIED, 403, _cross_site_refused(site))
        authorization = headers.get("authorization")
        if authorization is not None and not self.verify_signatures:
            # Unverified, acceptance depends on the header alone, less its signature value
            # (the query plays no part): one parse per client and day, not per request.
            shape = _without_signature_value(authorization)
            if shape is not None and _unverified_shape_accepted(shape):
                return None
        if "authorization" not in headers and "Signature=" in request.query_string:
            v2 = sigv4.parse_presigned_v2(request.query_items())
            if v2 is not None:
                return self._check_v2(v2, request)
        try:
            sig = sigv4.parse_signature(
                headers.get("authorization"), request.query_items(), headers
            )
        except sigv4.SignatureProblem as problem:
            if problem.kind == "missing" and _unsigned_operation(request):
                return None
            if problem.kind == "missing" and _s3_post_form(request):
                return self._post_form_refused(request)
            return _signature_refusal(problem)
        return self._signature_refused(sig, request)

    def _post_form_refused(self, request: WireRequest) -> Refusal | None:
        """Why an S3 POST form (a browser upload, signed in its fields) is refused: when
        signatures are verified, a form whose ``x-amz-signature`` is not the policy's
        signature by its credential's secret. A form without a policy or signature goes
        on to S3, which refuses it with its own texts (S3 checks the policy too)."""
        if not self.verify_signatures:
            return None
        try:
            fields, _ = fields_and_file(
                parse_form_data(request.headers.get("content-type", ""), request.body)
            )
        except MalformedForm:
            return None  # S3 answers MalformedPOSTRequest
        if "policy" not in fields:
            return None
        if "x-amz-signature" not in fields:
            return self._post_form_v2_refused(fields, request)
        try:
            sig = sigv4.post_form_signature(
                fields.get("x-amz-credential", ""),
                fields.get("x-amz-date", ""),
                fields["x-amz-signature"],
            )
        except sigv4.SignatureProblem as problem:
            return _signature_refusal(problem)
        if not sigv4.valid_region(sig.region):
            return _bad_region(sig.region)
        secret = self._secret(sig.access_key, request, fields.get("x-amz-security-token"))
        if isinstance(secret, Refusal):
            return secret
        try:
            sigv4.verify_post_policy(sig, secret, fields["policy"])
        except sigv4.SignatureProblem as problem:
            return _signature_refusal(problem)
        return None

    def _signature_refused(self, sig: sigv4.Signature, request: WireRequest) -> Refusal | None:
        """Why a parsed signature is refused: a region AWS has no such name for, or (when
        signatures are verified) an unknown key or a wrong signature."""
        if not sigv4.valid_region(sig.region):
            return _bad_region(sig.region)
        if self.verify_signatures:
            secret = self._secret(sig.access_key, request)
            if isinstance(secret, Refusal):
                return secret
            try:
                sigv4.verify(sig, secret, request, self.now())
            except sigv4.SignatureProblem as problem:
                return _signature_refusal(problem)
        return None

    def function_url_refusal(
        self, request: WireRequest, own_origin: str | None = None
    ) -> str | None:
        """Why a request to a function URL is refused before its function runs (``None``:
        it may go on): the browser checks every request passes (Host, a page's Origin
        unless allowed with ``--cors-origin``, a cross-site request without one), so a web
        page cannot run a function through its URL unless the user allowed the page.
        ``own_origin``, the URL's own origin (its host form), is allowed too: only the
        function itself serves pages there (a form posting back to its URL)."""
        headers = request.headers
        if not self.host_allowed(request):
            return _host_refused(headers.get("host", ""))
        origin = headers.get("origin")
        if origin is not None:
            if origin == own_origin or self.origin_allowed(origin):
                return None
            return _origin_refused(origin)
        site = headers.get("sec-fetch-site")
        if site not in (None, "same-origin", "none"):
            # <img src>, a link or a form from another site: no Origin on a GET
            return _cross_site_refused(site)
        return None

    def signed_caller(self, request: WireRequest, service: str) -> sigv4.Signature | None:
        """The signature of a request an AWS_IAM function URL answers (``None``: refused):
        SigV4 for ``service`` in a valid region, checked against the caller's secret when
        signatures are verified (else, as for every API call, its shape is enough)."""
        try:
            sig = sigv4.parse_signature(
                request.headers.get("authorization"), request.query_items(), request.headers
            )
        except sigv4.SignatureProblem:
            return None
        if sig.service != service or self._signature_refused(sig, request) is not None:
            return None
        return sig

    def _check_v2(self, v2: sigv4.PresignedV2, request: WireRequest) -> Refusal | None:
        if not self.verify_signatures:
            return None
        secret = self._secret(v2.access_key, request)
        if isinstance(secret, Refusal):
            return secret
        bucket = virtual_host_bucket(request.host)
        resource = request.raw_path if bucket is None else f"/{bucket}{request.raw_path}"
        try:
            sigv4.verify_presigned_v2(v2, secret, request, resource, self.now())
        except sigv4.SignatureProblem as problem:
            return _signature_refusal(problem)
        return None

    def _post_form_v2_refused(self, fields: dict[str, str], request: WireRequest) -> Refusal | None:
        """Why a POST form signed with signature version 2 (``AWSAccessKeyId``,
        ``signature``) is refused; a form without them goes on to S3."""
        if "awsaccesskeyid" not in fields or "signature" not in fields:
            return None
        secret = self._secret(fields["awsaccesskeyid"], request, fields.get("x-amz-security-token"))
        if isinstance(secret, Refusal):
            return secret
        try:
            sigv4.verify_post_policy_v2(secret, fields["policy"], fields["signature"])
        except sigv4.SignatureProblem as problem:
            return _signature_refusal(problem)
        return None

    def _secret(
        self, access_key: str, request: WireRequest, form_token: str | None = None
    ) -> str | Refusal:
        """The secret that must have signed ``request``, or why it is refused: a long-term
        key's, or temporary credentials' when the request carries their session token (a
        header, in the query, or ``form_token``: a POST form's field) and they have not
        expired."""
        secret = self.secret_for(access_key)
        if secret is not None:
            return secret
        session = self.session_for(access_key)
        if session is None:
            return _unknown_key()
        token = form_token if form_token is not None else _session_token(request)
        refusal = _session_refusal(session, token)
        return session.secret if refusal is None else refusal

    # ---- CORS ----

    def preflight(self, request: WireRequest) -> WireResponse:
        """The answer to a CORS preflight: a grant for an allowed origin, else a 403 that
        grants nothing."""
        origin = request.headers.get("origin", "")
        if not self.host_allowed(request) or not self.origin_allowed(origin):
            message = (
                f"CORS preflight from origin '{origin[:100]}' refused; allow it with --cors-origin"
            )
            return WireResponse(
                403, orjson.dumps({"message": message}), headers=[("Vary", "Origin")]
            )
        requested = request.headers.get("access-control-request-headers", "")
        headers = [
            *self.cors_headers(origin),
            ("Access-Control-Allow-Methods", "GET, HEAD, PUT, POST, DELETE, PATCH"),
            ("Access-Control-Max-Age", "600"),
        ]
        if requested:
            headers.append(("Access-Control-Allow-Headers", requested))
        return WireResponse(200, b"", "text/plain", headers)

    def cors_headers(self, origin: str | None) -> list[tuple[str, str]]:
        """Headers that let an allowed origin's page read an answer (none for others)."""
        if origin is None or not self.origin_allowed(origin):
            return []
        return [
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Expose-Headers", _EXPOSED),
            ("Vary", "Origin"),
        ]


def _host_refused(host: str) -> str:
    return (
        f"headwater does not answer requests for host '{host[:100]}' (a DNS rebinding "
        "attack looks like this); allow the name with --allow-host"
    )


def _origin_refused(origin: str) -> str:
    return (
        f"headwater does not answer web pages from origin '{origin[:100]}' (any "
        "site could otherwise run code on this machine); allow it with --cors-origin"
    )


def _cross_site_refused(site: str | None) -> str:
    return (
        f"headwater does not answer cross-site browser requests (Sec-Fetch-Site: "
        f"{site[:40] if site else ''})"
    )


def _without_signature_value(authorization: str) -> str | None:
    """The Authorization header before its last ``Signature=``, whose value is the only
    part that changes with every request; ``None`` when the header does not end that way."""
    head, found, signature = authorization.rpartition("Signature=")
    # bytes.isalnum looks each character up in a table; str.isalnum asks Unicode's
    # character database up to four questions for each of the 64
    alnum = signature.encode().isalnum() if signature.isascii() else signature.isalnum()
    if not found or not alnum:
        return None
    return head


@functools.lru_cache(maxsize=256)
def _unverified_shape_accepted(head: str) -> bool:
    """Whether a request whose Authorization header is ``head``, ``Signature=`` and a
    signature value passes when signatures are not verified: SigV4's shape
    and a region that is a region. (A refused one takes the full path, whose message
    quotes the real header.)"""
    try:
        sig = sigv4.parse_signature(head + "Signature=0", [], {})
    except sigv4.SignatureProblem:
        return False
    return sigv4.valid_region(sig.region)


def is_preflight(request: WireRequest) -> bool:
    """Whether ``request`` is a browser's CORS preflight."""
    return (
        request.method == "OPTIONS"
        and "origin" in request.headers
        and "access-control-request-method" in request.headers
    )


@functools.lru_cache(maxsize=256)
def host_name(host: str) -> str:
    """The name of a Host header or address, without port, brackets or trailing dot."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


@functools.lru_cache(maxsize=256)
def _is_loopback(name: str) -> bool:
    """Loopback names and addresses; also AWS's own names (``*.amazonaws.com``, which users
    point at headwater with a hosts file or proxy): no attacker controls their DNS."""
    if name in _LOOPBACK_NAMES or name.endswith((".localhost", ".amazonaws.com")):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _s3_read(request: WireRequest) -> bool:
    """A presigned S3 GET or HEAD (S3 never changes state on those): an ``<img>`` or a link
    in a web page may load it, as from S3."""
    if request.method not in ("GET", "HEAD") or "x-amz-target" in request.headers:
        return False
    query = dict(request.query_items())
    if "Action" in query:  # the router would take it for an awsQuery call
        return False
    if "AWSAccessKeyId" in query:
        return True
    return "%2Fs3%2Faws4_request" in query.get("X-Amz-Credential", "").replace("/", "%2F")


def _s3_post_form(request: WireRequest) -> bool:
    """An S3 POST upload (a browser's form, its signature in the fields)."""
    return request.method == "POST" and is_form_data(request.headers.get("content-type", ""))


def _unsigned_link(request: WireRequest) -> bool:
    """An SNS SubscribeURL / UnsubscribeURL opened in a browser or mail reader."""
    if request.method != "GET" or "Action=" not in request.query_string:
        return False
    return dict(request.query_items()).get("Action") in UNSIGNED_LINK_ACTIONS


def _unsigned_operation(request: WireRequest) -> bool:
    """A call AWS answers unsigned: STS sign-in with a web identity or SAML (query), or a
    Cognito user's own call (SignUp, InitiateAuth, GetUser...: awsJson)."""
    if request.method == "GET" and _unsigned_link(request):
        return True
    target = request.headers.get("x-amz-target")
    if target is not None:
        prefix, _, operation = target.partition(".")
        return prefix == COGNITO_TARGET_PREFIX and operation in _cognito_unsigned_operations()
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return False
    return read_form(request).get("Action") in UNSIGNED_ACTIONS


@functools.cache
def _cognito_unsigned_operations() -> frozenset[str]:
    """The Cognito user pool operations botocore sends unsigned (``smithy.api#noAuth``)."""
    from headwater.models import service_model

    model = service_model("cognito-idp")
    return frozenset(
        name for name in model.operation_names if model.operation_model(name).auth_type == "none"
    )
