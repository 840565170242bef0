"""``{{resolve:secretsmanager:...}}`` dynamic references: parsing and the value they give.

The reference is ``secret-id:SecretString:json-key:version-stage:version-id``, every part
after the secret id optional (an empty part takes its default), as CloudFormation's
"Using dynamic references" guide describes it: the secret id is a name or an ARN (full,
or partial without the random suffix; an ARN holds colons of its own), ``SecretString``
is the only value type, no json key gives the whole secret text, and a version is chosen
by its stage (default ``AWSCURRENT``) or its id, not both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from headwater.deploy.errors import TemplateError

#: ``(secret_id, version_stage, version_id) -> SecretString``; raises ``TemplateError``.
SecretLookup = Callable[[str, str | None, str | None], str]

#: The colon-separated parts of a secret's ARN (``arn:aws:secretsmanager:r:a:secret:name``).
_ARN_PARTS = 7


@dataclass(frozen=True, slots=True)
class SecretReference:
    secret_id: str
    json_key: str | None = None
    version_stage: str | None = None
    version_id: str | None = None


def parse_secret_reference(reference: str) -> SecretReference:
    """The parts of what follows ``{{resolve:secretsmanager:``."""
    parts = reference.split(":")
    if reference.startswith("arn:"):
        head, rest = ":".join(parts[:_ARN_PARTS]), parts[_ARN_PARTS:]
    else:
        head, rest = parts[0], parts[1:]
    if not head or len(rest) > 4:
        raise TemplateError(f"Incorrect format of dynamic reference: secretsmanager:{reference}")
    value_type, json_key, stage, version_id = (rest + [""] * 4)[:4]
    if value_type not in ("", "SecretString"):
        # A guess at CloudFormation's words; SecretString is the only value type it takes.
        raise TemplateError(
            f"Dynamic reference secretsmanager:{reference}: {value_type} is not supported, "
            "only SecretString is."
        )
    if stage and version_id:
        raise TemplateError(
            f"Dynamic reference secretsmanager:{reference}: specify a version stage or a "
            "version id, not both."
        )  # guessed text
    return SecretReference(head, json_key or None, stage or None, version_id or None)


def resolve_secret_reference(reference: str, secrets: SecretLookup) -> str:
    """The text a ``{{resolve:secretsmanager:...}}`` reference stands for."""
    parsed = parse_secret_reference(reference)
    text = secrets(parsed.secret_id, parsed.version_stage, parsed.version_id)
    if parsed.json_key is None:
        return text
    try:
        document: Any = orjson.loads(text)
    except orjson.JSONDecodeError:
        document = None
    if not isinstance(document, dict):
        # A guess at CloudFormation's words.
        raise TemplateError(
            f"Dynamic reference secretsmanager:{reference}: the secret's value is not a JSON "
            f"object, so it has no key {parsed.json_key}."
        )
    if parsed.json_key not in document:
        raise TemplateError(
            f"Could not find SecretString key {parsed.json_key} in the secret {parsed.secret_id}"
        )  # guessed text
    value = document[parsed.json_key]
    return value if isinstance(value, str) else orjson.dumps(value).decode()
