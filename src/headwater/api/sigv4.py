"""Who signed a request: access key and region from the SigV4 credential scope.

Signatures are *not* verified (like LocalStack and moto): any credentials are accepted and
only the scope is read, because boto3 signs with its configured region even when
``endpoint_url`` points at headwater.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote


@dataclass(frozen=True, slots=True)
class CredentialScope:
    access_key: str | None = None
    region: str | None = None
    service: str | None = None


_NONE = CredentialScope()


def credential_scope(authorization: str | None, query_string: str = "") -> CredentialScope:
    """Parse ``Credential=AKID/date/region/service/aws4_request`` from the Authorization
    header, or from ``X-Amz-Credential`` in the query string (presigned URLs)."""
    credential: str | None = None
    if authorization:
        start = authorization.find("Credential=")
        if start >= 0:
            start += len("Credential=")
            end = authorization.find(",", start)
            credential = authorization[start:] if end < 0 else authorization[start:end]
    elif "X-Amz-Credential=" in query_string:
        start = query_string.find("X-Amz-Credential=") + len("X-Amz-Credential=")
        end = query_string.find("&", start)
        credential = unquote(query_string[start:] if end < 0 else query_string[start:end])
    if not credential:
        return _NONE
    parts = credential.strip().split("/")
    if len(parts) < 4:
        return CredentialScope(access_key=parts[0] or None)
    return CredentialScope(
        access_key=parts[0] or None, region=parts[2] or None, service=parts[3] or None
    )
