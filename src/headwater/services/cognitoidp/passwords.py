"""User pool passwords: the pool's password policy, with AWS's texts, and how they are kept
(scrypt hashes with a salt of their own, never the password)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from typing import Any

from headwater.core.errors import AwsError

#: The policy of a pool made without one (AWS's defaults).
DEFAULT_POLICY: dict[str, Any] = {
    "MinimumLength": 8,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
    "TemporaryPasswordValidityDays": 7,
}
#: The symbols AWS counts as special characters in a password.
SYMBOLS = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- "
#: scrypt's cost: about 16 MB and a few tens of milliseconds a password.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def policy_of(pool: dict[str, Any]) -> dict[str, Any]:
    """The pool's policy: AWS's defaults for a pool made without one; a policy given
    requires only what it says (the SDKs leave false members out)."""
    given = (pool.get("Policies") or {}).get("PasswordPolicy")
    if not given:
        return dict(DEFAULT_POLICY)
    lenient = {key: False for key in DEFAULT_POLICY if key.startswith("Require")}
    return {
        "MinimumLength": 8,
        **lenient,
        "TemporaryPasswordValidityDays": DEFAULT_POLICY["TemporaryPasswordValidityDays"],
        **given,
    }


def check_password(password: str, policy: dict[str, Any]) -> None:
    """Raise AWS's InvalidPasswordException for the first rule ``password`` breaks."""
    problem = None
    if len(password) < int(policy["MinimumLength"]):
        problem = "Password not long enough"
    elif policy["RequireLowercase"] and not any(c.islower() for c in password):
        problem = "Password must have lowercase characters"
    elif policy["RequireUppercase"] and not any(c.isupper() for c in password):
        problem = "Password must have uppercase characters"
    elif policy["RequireNumbers"] and not any(c.isdigit() for c in password):
        problem = "Password must have numeric characters"
    elif policy["RequireSymbols"] and not any(c in SYMBOLS for c in password):
        problem = "Password must have symbol characters"
    if problem is not None:
        raise AwsError(
            "InvalidPasswordException", f"Password did not conform with policy: {problem}"
        )


def hash_password(password: str) -> dict[str, str]:
    """What is kept of ``password``: its salt and scrypt hash."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)
    return {"salt": salt.hex(), "scrypt": digest.hex()}


def password_matches(password: str, kept: dict[str, str] | None) -> bool:
    if not kept:
        return False
    digest = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(kept["salt"]), **_SCRYPT)
    return hmac.compare_digest(digest.hex(), kept["scrypt"])


def temporary_password(policy: dict[str, Any]) -> str:
    """A password AdminCreateUser makes up, one that meets ``policy``."""
    length = max(int(policy["MinimumLength"]), 12)
    alphabet = string.ascii_letters + string.digits
    body = [secrets.choice(alphabet) for _ in range(length - 4)]
    body += [
        secrets.choice(string.ascii_lowercase),
        secrets.choice(string.ascii_uppercase),
        secrets.choice(string.digits),
        secrets.choice("!#%&*"),
    ]
    return "".join(body)
