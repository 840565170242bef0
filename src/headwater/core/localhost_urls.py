"""Addresses headwater's server answers under ``*.localhost`` (function URLs, API Gateway's
execute-api endpoints): ``*.localhost`` resolves to loopback on most systems, so a host
name can say which URL or API a request is for while reaching the server's own port."""

from __future__ import annotations

from urllib.parse import urlsplit


def localhost_url(host_label: str, endpoint: str) -> str:
    """``<scheme>://<host_label>.localhost[:<port>]`` for a caller of ``endpoint`` (the
    server's own address, ``http://127.0.0.1:4599``): its scheme and port, no path."""
    parts = urlsplit(endpoint)
    try:
        port = parts.port
    except ValueError:
        port = None
    suffix = f":{port}" if port is not None else ""
    return f"{parts.scheme or 'http'}://{host_label}.localhost{suffix}"
