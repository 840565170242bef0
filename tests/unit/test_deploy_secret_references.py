"""``{{resolve:secretsmanager:...}}``: the parts of a reference and the value it gives."""

from __future__ import annotations

import pytest

from headwater.deploy.errors import TemplateError
from headwater.deploy.secret_references import (
    SecretReference,
    parse_secret_reference,
    resolve_secret_reference,
)

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db/creds-AbCdEf"


@pytest.mark.parametrize(
    ("reference", "parsed"),
    [
        ("db/creds", SecretReference("db/creds")),
        ("db/creds:SecretString", SecretReference("db/creds")),
        ("db/creds:SecretString:password", SecretReference("db/creds", "password")),
        ("db/creds::password", SecretReference("db/creds", "password")),
        (
            "db/creds:SecretString:password:AWSPREVIOUS",
            SecretReference("db/creds", "password", version_stage="AWSPREVIOUS"),
        ),
        ("db/creds:SecretString:::v-1", SecretReference("db/creds", version_id="v-1")),
        (ARN, SecretReference(ARN)),
        (f"{ARN}:SecretString:user", SecretReference(ARN, "user")),
        (
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:db/creds:SecretString:user",
            SecretReference(
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:db/creds", "user"
            ),
        ),
    ],
)
def test_parts(reference: str, parsed: SecretReference) -> None:
    assert parse_secret_reference(reference) == parsed


@pytest.mark.parametrize(
    "reference",
    ["", "s:SecretBinary", "s:SecretString:k:AWSCURRENT:v-1", "s:SecretString:k:st:v:extra"],
)
def test_refused(reference: str) -> None:
    with pytest.raises(TemplateError):
        parse_secret_reference(reference)


def test_values() -> None:
    asked: list[tuple[str, str | None, str | None]] = []

    def lookup(secret_id: str, stage: str | None, version_id: str | None) -> str:
        asked.append((secret_id, stage, version_id))
        return '{"user": "u", "port": 5432, "nested": {"a": 1}}'

    assert resolve_secret_reference("s::user", lookup) == "u"
    assert resolve_secret_reference("s::port", lookup) == "5432"
    assert resolve_secret_reference("s::nested", lookup) == '{"a":1}'
    assert resolve_secret_reference("s:SecretString::AWSPENDING", lookup).startswith("{")
    assert asked[-1] == ("s", "AWSPENDING", None)
    with pytest.raises(TemplateError, match="missing"):
        resolve_secret_reference("s::missing", lookup)
    with pytest.raises(TemplateError, match="not a JSON object"):
        resolve_secret_reference("s::k", lambda *_: "plain")
