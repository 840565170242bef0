"""The HTTP request and response the protocol modules translate to and from."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl


@dataclass(slots=True)
class WireRequest:
    """One HTTP request as received: raw path, raw query string, lower-cased header names.

    ``headers`` keeps a repeated header's last value (what the AWS protocols read);
    ``repeated_headers`` has every value, in order, of each name sent more than once (a
    function URL's or API's event carries them all)."""

    method: str
    raw_path: str
    query_string: str
    headers: dict[str, str]
    body: bytes
    repeated_headers: dict[str, list[str]] | None = None

    @property
    def host(self) -> str:
        return self.headers.get("host", "localhost")

    def query_items(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query_string, keep_blank_values=True)


@dataclass(slots=True)
class WireResponse:
    """One HTTP response; ``headers`` excludes Content-Length, which the server adds."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
