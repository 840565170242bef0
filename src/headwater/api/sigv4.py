"""Who signed a request, and whether the signature holds (AWS Signature Version 4).

By default signatures are *not* verified (like LocalStack and moto): any credentials are
accepted and only the scope is read, because boto3 signs with its configured region even
when ``endpoint_url`` points at headwater. ``verify`` checks a signature for real (payload
hash, clock skew, presigned expiry) for ``headwater serve --verify-signatures``.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import functools
import hashlib
import hmac
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from botocore.auth import HmacV1Auth

from headwater.api.aws_chunked import ChunkFramingError, split_chunks, trailer_lines
from headwater.api.http import WireRequest


@dataclass(frozen=True, slots=True)
class CredentialScope:
    access_key: str | None = None
    region: str | None = None
    service: str | None = None


_NONE = CredentialScope()


def credential_scope(authorization: str | None, query_string: str = "") -> CredentialScope:
    """Parse ``Credential=AKID/date/region/service/aws4_request`` from the Authorization
    header, or from ``X-Amz-Credential`` in the query string (presigned URLs)."""
    global _last_credential
    credential: str | None = None
    if authorization:
        last = _last_credential
        if last is not None and authorization.startswith(last[0]):
            return last[1]
        start = authorization.find("Credential=")
        if start >= 0:
            start += len("Credential=")
            end = authorization.find(",", start)
            if end < 0:
                credential = authorization[start:]
            else:
                credential = authorization[start:end]
                if credential:
                    scope = _scope_of(credential)
                    _last_credential = (authorization[: end + 1], scope)
                    return scope
    elif "X-Amz-Credential=" in query_string:
        start = query_string.find("X-Amz-Credential=") + len("X-Amz-Credential=")
        end = query_string.find("&", start)
        credential = unquote(query_string[start:] if end < 0 else query_string[start:end])
    if not credential:
        return _NONE
    return _scope_of(credential)


#: The start of the Authorization header last read, through the comma that ends its
#: credential, and that credential's scope: any header starting the same way has the same
#: credential (its first ``Credential=`` and the comma after it lie in that start), and a
#: client signs a day's requests with one. Three routing steps read the scope of every
#: request, and finding and hashing the credential was most of their cost.
_last_credential: tuple[str, CredentialScope] | None = None


@functools.lru_cache(maxsize=256)
def _scope_of(credential: str) -> CredentialScope:
    """The scope of a ``Credential`` value (a client sends the same one all day)."""
    parts = credential.strip().split("/")
    if len(parts) < 4:
        return CredentialScope(access_key=parts[0] or None)
    return CredentialScope(
        access_key=parts[0] or None, region=parts[2] or None, service=parts[3] or None
    )


# ---------------------------------------------------------------------------- signatures

ALGORITHM = "AWS4-HMAC-SHA256"
#: How far a request's time may be from the server's (AWS: 15 minutes either way).
MAX_SKEW_SECONDS = 15 * 60
#: An AWS region name as AWS accepts it in a credential scope (``us-east-1``,
#: ``us-gov-west-1``, ``ap-southeast-5``); the scope becomes part of ARNs and file names.
REGION_PATTERN = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}", re.ASCII)
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def valid_region(region: str) -> bool:
    """Whether ``region`` has the shape of an AWS region name."""
    return len(region) <= 32 and REGION_PATTERN.fullmatch(region) is not None


@dataclass(frozen=True, slots=True)
class Signature:
    """The parts of a SigV4 signature, from the Authorization header or a presigned query."""

    access_key: str
    date: str  # YYYYMMDD of the credential scope
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str  # YYYYMMDDTHHMMSSZ
    presigned: bool
    expires: int | None = None


class SignatureProblem(Exception):
    """Why a signature cannot be accepted: ``kind`` names the AWS error family (see
    ``server.request_checks``), ``str()`` is the message AWS gives."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _fields(authorization: str) -> dict[str, str]:
    rest = authorization[len(ALGORITHM) :]
    found: dict[str, str] = {}
    for part in rest.split(","):
        name, eq, value = part.strip().partition("=")
        if eq:
            found[name.strip()] = value.strip()
    return found


def parse_signature(
    authorization: str | None, query: list[tuple[str, str]], headers: dict[str, str]
) -> Signature:
    """The signature of a request, or ``SignatureProblem("incomplete", ...)`` when its
    shape is not SigV4's (``"missing"`` when there is no signature at all)."""
    params = dict(query)
    if authorization is not None:
        if not authorization.startswith(ALGORITHM + " "):
            raise SignatureProblem(
                "incomplete", f"Authorization header requires '{ALGORITHM}' as the algorithm."
            )
        found = _fields(authorization)
        missing = [
            name for name in ("Credential", "SignedHeaders", "Signature") if not found.get(name)
        ]
        if missing:
            raise SignatureProblem(
                "incomplete",
                "Authorization header requires "
                + ", ".join(f"'{name}' parameter" for name in missing)
                + f". Authorization={authorization[:200]}",
            )
        credential, signed, signature = (
            found["Credential"],
            found["SignedHeaders"],
            found["Signature"],
        )
        amz_date = headers.get("x-amz-date", "")
        if not amz_date and "date" in headers:
            amz_date = _from_http_date(headers["date"])
        presigned, expires = False, None
    elif params.get("X-Amz-Algorithm") is not None or params.get("X-Amz-Signature") is not None:
        if params.get("X-Amz-Algorithm") != ALGORITHM:
            raise SignatureProblem("incomplete", f"X-Amz-Algorithm only supports '{ALGORITHM}'")
        missing = [
            name
            for name in ("X-Amz-Credential", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Date")
            if not params.get(name)
        ]
        if missing:
            raise SignatureProblem(
                "incomplete", "Query-string authentication requires " + ", ".join(missing)
            )
        credential, signed = params["X-Amz-Credential"], params["X-Amz-SignedHeaders"]
        signature, amz_date = params["X-Amz-Signature"], params["X-Amz-Date"]
        presigned = True
        try:
            expires = int(params.get("X-Amz-Expires", "604800"))
        except ValueError:
            raise SignatureProblem("incomplete", "X-Amz-Expires must be a number") from None
    else:
        raise SignatureProblem("missing", "Missing Authentication Token")
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise SignatureProblem(
            "incomplete",
            f"Credential should have five slash-separated parts "
            f"(AKID/date/region/service/aws4_request): {credential[:200]!r}",
        )
    return Signature(
        access_key=parts[0],
        date=parts[1],
        region=parts[2],
        service=parts[3],
        signed_headers=tuple(signed.split(";")),
        signature=signature,
        amz_date=amz_date,
        presigned=presigned,
        expires=expires,
    )


def _from_http_date(value: str) -> str:
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return ""
    return when.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _timestamp(amz_date: str) -> float | None:
    try:
        return dt.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC).timestamp()
    except ValueError:
        return None


def check_time(sig: Signature, now: float) -> None:
    """AWS's clock checks: a header-signed request within 15 minutes of ``now``; a presigned
    URL not before its date (less the skew) and not after it expires."""
    when = _timestamp(sig.amz_date)
    if when is None:
        raise SignatureProblem(
            "incomplete", f"Date must be in ISO-8601 'basic format'. Got '{sig.amz_date[:40]}'."
        )
    if sig.date != sig.amz_date[:8]:
        raise SignatureProblem(
            "signature",
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{sig.date[:16]}' != '{sig.amz_date[:8]}'",
        )
    stamp = _stamp(now)
    if sig.presigned:
        if when - now > MAX_SKEW_SECONDS:
            raise SignatureProblem(
                "skew", f"Request is not yet valid: {sig.amz_date} is after {stamp}"
            )
        if now > when + (sig.expires or 0):
            raise SignatureProblem("expired", "Request has expired")
        return
    if abs(now - when) > MAX_SKEW_SECONDS:
        earlier = now - when > 0
        bound = _stamp(now - MAX_SKEW_SECONDS if earlier else now + MAX_SKEW_SECONDS)
        relation = "earlier" if earlier else "later"
        sign = "-" if earlier else "+"
        raise SignatureProblem(
            "skew",
            f"Signature expired: {sig.amz_date} is now {relation} than {bound} "
            f"({stamp} {sign} 15 min.)",
        )


def _stamp(when: float) -> str:
    return dt.datetime.fromtimestamp(when, dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def payload_hash(sig: Signature, headers: dict[str, str], body: bytes) -> str:
    """The payload hash the signature covers; a stated hash that is not the body's is a
    ``SignatureProblem("payload")``. ``UNSIGNED-PAYLOAD`` and the streaming (aws-chunked)
    markers are signed as they are."""
    stated = headers.get("x-amz-content-sha256")
    if stated is None:
        if sig.presigned and sig.service == "s3":
            return "UNSIGNED-PAYLOAD"
        return hashlib.sha256(body).hexdigest() if body else _EMPTY_SHA256
    if _HEX_SHA256.fullmatch(stated) and hashlib.sha256(body).hexdigest() != stated:
        raise SignatureProblem(
            "payload",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    return stated


def canonical_request(sig: Signature, request: WireRequest, body_hash: str) -> str:
    """SigV4's canonical request of what was received (raw path, sorted query, signed
    headers as sent, payload hash)."""
    path = request.raw_path or "/"
    headers = request.headers
    if sig.service != "s3":
        # Every service but S3 signs the normalized path, percent-encoded once more.
        path = quote(_remove_dot_segments(path), safe="/~")
    pairs = sorted(
        (_encode(name), _encode(value))
        for name, value in request.query_items()
        if not (sig.presigned and name == "X-Amz-Signature")
    )
    canonical_query = "&".join(f"{name}={value}" for name, value in pairs)
    lines = [f"{name}:{' '.join(headers.get(name, '').split())}" for name in sig.signed_headers]
    return "\n".join(
        [
            request.method.upper(),
            path,
            canonical_query,
            "\n".join(lines) + "\n",
            ";".join(sig.signed_headers),
            body_hash,
        ]
    )


def _encode(value: str) -> str:
    return quote(value, safe="-_.~")


def _remove_dot_segments(path: str) -> str:
    kept: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if kept:
                kept.pop()
        else:
            kept.append(part)
    trailing = "/" if path.endswith("/") and kept else ""
    return "/" + "/".join(kept) + trailing


def _scope(sig: Signature) -> str:
    return f"{sig.date}/{sig.region}/{sig.service}/aws4_request"


def signing_key(sig: Signature, secret: str) -> bytes:
    """The key ``secret`` derives for ``sig``'s credential scope (date, region, service)."""
    key = ("AWS4" + secret).encode("utf-8")
    for part in (sig.date, sig.region, sig.service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def _sign(key: bytes, lines: list[str]) -> str:
    return hmac.new(key, "\n".join(lines).encode("utf-8"), hashlib.sha256).hexdigest()


def expected_signature(sig: Signature, secret: str, canonical: str) -> str:
    """The signature ``secret`` gives ``canonical`` in ``sig``'s credential scope."""
    canonical_hash = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return _sign(signing_key(sig, secret), [ALGORITHM, sig.amz_date, _scope(sig), canonical_hash])


def verify(sig: Signature, secret: str, request: WireRequest, now: float) -> None:
    """Raise ``SignatureProblem`` unless ``sig`` is ``secret``'s signature of ``request``,
    made within AWS's clock limits."""
    check_time(sig, now)
    if "host" not in sig.signed_headers:
        raise SignatureProblem(
            "signature", "'Host' must be a 'SignedHeader' in the AWS Authorization."
        )
    body_hash = payload_hash(sig, request.headers, request.body)
    canonical = canonical_request(sig, request, body_hash)
    if not hmac.compare_digest(expected_signature(sig, secret, canonical), sig.signature):
        raise SignatureProblem("mismatch", MISMATCH)
    if body_hash in SIGNED_STREAMING:
        verify_chunks(sig, secret, request.body, trailer=body_hash == STREAMING_SIGNED_TRAILER)


def post_form_signature(credential: str, amz_date: str, signature: str) -> Signature:
    """The signature of an S3 POST form (its ``x-amz-credential``, ``x-amz-date`` and
    ``x-amz-signature`` fields); ``SignatureProblem("incomplete", ...)`` for a credential
    that is not ``AKID/date/region/service/aws4_request``."""
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts[:4]):
        raise SignatureProblem(
            "incomplete",
            f"Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
            f'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request". {credential!r}',
        )
    access_key, date, region, service, _ = parts
    return Signature(access_key, date, region, service, (), signature, amz_date, presigned=True)


def verify_post_policy(sig: Signature, secret: str, policy: str) -> None:
    """Raise ``SignatureProblem("mismatch", ...)`` unless ``sig`` is ``secret``'s signature
    of an S3 POST form's base64 ``policy`` (the string to sign is the policy itself)."""
    expected = hmac.new(signing_key(sig, secret), policy.encode("utf-8"), hashlib.sha256)
    if not hmac.compare_digest(expected.hexdigest(), sig.signature):
        raise SignatureProblem("mismatch", MISMATCH)


def verify_post_policy_v2(secret: str, policy: str, signature: str) -> None:
    """Raise ``SignatureProblem("mismatch", ...)`` unless ``signature`` is ``secret``'s
    signature version 2 of an S3 POST form's ``policy`` (base64 of its HMAC-SHA1)."""
    digest = hmac.new(secret.encode("utf-8"), policy.encode("utf-8"), hashlib.sha1).digest()
    if not hmac.compare_digest(base64.b64encode(digest).decode(), signature):
        raise SignatureProblem("mismatch", MISMATCH)


#: The message of a signature that is not the one the secret gives (kind ``mismatch``),
#: as every service but S3 words it; S3 says ``S3_MISMATCH``.
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service "
    "documentation for details."
)
S3_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)

# ---------------------------------------------------------- S3's signed aws-chunked bodies

#: ``x-amz-content-sha256`` of an ``aws-chunked`` body whose chunks carry signatures
#: (without and with signed trailing headers); ``STREAMING-UNSIGNED-PAYLOAD-TRAILER``
#: bodies carry none.
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
SIGNED_STREAMING = frozenset({STREAMING_SIGNED, STREAMING_SIGNED_TRAILER})
_CHUNK_ALGORITHM = "AWS4-HMAC-SHA256-PAYLOAD"
_TRAILER_ALGORITHM = "AWS4-HMAC-SHA256-TRAILER"


def chunk_signature(key: bytes, sig: Signature, previous: str, data: bytes | memoryview) -> str:
    """The signature of one chunk of a streaming upload: it chains from ``previous`` (the
    seed signature of the request for the first chunk), so chunks cannot be reordered,
    dropped or changed."""
    return _sign(
        key,
        [
            _CHUNK_ALGORITHM,
            sig.amz_date,
            _scope(sig),
            previous,
            _EMPTY_SHA256,
            hashlib.sha256(data).hexdigest(),
        ],
    )


def trailer_signature(key: bytes, sig: Signature, previous: str, trailers: str) -> str:
    """The signature of a streaming upload's trailing headers (``name:value\\n`` each, as
    sent), chained from the final (empty) chunk's signature."""
    trailers_hash = hashlib.sha256(trailers.encode("utf-8")).hexdigest()
    return _sign(key, [_TRAILER_ALGORITHM, sig.amz_date, _scope(sig), previous, trailers_hash])


def verify_chunks(sig: Signature, secret: str, body: bytes, *, trailer: bool = False) -> None:
    """Raise ``SignatureProblem`` unless every chunk of the ``aws-chunked`` ``body`` carries
    the signature ``secret`` gives it, chained from the request's seed signature, and (with
    ``trailer``) the trailing headers carry theirs. Malformed framing is a
    ``SignatureProblem("incomplete-body")``."""
    key = signing_key(sig, secret)
    try:
        found, trailer_start = split_chunks(body, strict=True)
    except ChunkFramingError:
        raise SignatureProblem(
            "incomplete-body", "The request body terminated unexpectedly"
        ) from None
    previous = sig.signature
    for data, extension in found:
        name, _, stated = extension.partition(b"=")
        if name.strip() != b"chunk-signature":
            raise SignatureProblem("mismatch", MISMATCH)
        expected = chunk_signature(key, sig, previous, data)
        if not hmac.compare_digest(expected.encode("ascii"), stated.strip()):
            raise SignatureProblem("mismatch", MISMATCH)
        previous = expected
    if not trailer:
        return
    trailers: list[str] = []
    stated_trailer = b""
    for header, value in trailer_lines(body, trailer_start):
        if header.lower() == b"x-amz-trailer-signature":
            stated_trailer = value
        else:
            trailers.append(f"{header.decode('latin-1')}:{value.decode('latin-1')}\n")
    expected = trailer_signature(key, sig, previous, "".join(trailers))
    if not hmac.compare_digest(expected.encode("ascii"), stated_trailer):
        raise SignatureProblem("mismatch", MISMATCH)


# ---------------------------------------------------------------- S3's presigned URLs, v2

#: S3 sub-resources a version 2 signature covers (botocore's ``HmacV1Auth.QSAOfInterest``).
_V2_SUBRESOURCES = frozenset(HmacV1Auth.QSAOfInterest)


@dataclass(frozen=True, slots=True)
class PresignedV2:
    """An S3 URL presigned with signature version 2 (``AWSAccessKeyId``, ``Expires``,
    ``Signature``): what boto3's ``generate_presigned_url`` makes for S3 by default."""

    access_key: str
    signature: str
    expires: int


def parse_presigned_v2(query: list[tuple[str, str]]) -> PresignedV2 | None:
    """The version 2 presigned query of an S3 URL, if it is one."""
    params = dict(query)
    access_key, signature, expires = (
        params.get("AWSAccessKeyId"),
        params.get("Signature"),
        params.get("Expires"),
    )
    if not access_key or not signature or not expires:
        return None
    try:
        return PresignedV2(access_key, signature, int(expires))
    except ValueError:
        return None


def verify_presigned_v2(
    v2: PresignedV2, secret: str, request: WireRequest, resource: str, now: float
) -> None:
    """Raise ``SignatureProblem`` unless ``v2`` is ``secret``'s unexpired signature of
    ``request``; ``resource`` is ``/bucket/key`` as S3 signs it (path style)."""
    if now > v2.expires:
        raise SignatureProblem("expired", "Request has expired")
    headers = request.headers
    # ``x-amz-*`` values a presigned URL carries in its query (``x-amz-security-token`` of
    # temporary credentials) are signed as the headers they stand for
    carried = {
        name.lower(): value
        for name, value in request.query_items()
        if name.lower().startswith("x-amz-")
    }
    custom = sorted(
        (name, " ".join(value.split()))
        for name, value in {**carried, **headers}.items()
        if name.startswith("x-amz-")
    )
    pairs = sorted(
        (name, unquote(value))
        for name, _, value in (part.partition("=") for part in request.query_string.split("&"))
        if name in _V2_SUBRESOURCES
    )
    if pairs:
        resource += "?" + "&".join(f"{name}={value}" if value else name for name, value in pairs)
    lines = [
        request.method.upper(),
        headers.get("content-md5", ""),
        headers.get("content-type", ""),
        str(v2.expires),
        *(f"{name}:{value}" for name, value in custom),
        resource,
    ]
    digest = hmac.new(secret.encode("utf-8"), "\n".join(lines).encode("utf-8"), hashlib.sha1)
    expected = base64.b64encode(digest.digest()).decode("ascii")
    if not hmac.compare_digest(expected, v2.signature):
        raise SignatureProblem("mismatch", S3_MISMATCH)
