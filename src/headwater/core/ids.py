"""Identifiers: UUIDs, request ids."""

from __future__ import annotations

import os
import uuid


def new_uuid() -> str:
    """A random UUID4 string (message ids, mapping UUIDs, request ids)."""
    return str(uuid.UUID(bytes=os.urandom(16), version=4))


def request_id() -> str:
    """An AWS-style request id."""
    return new_uuid()
