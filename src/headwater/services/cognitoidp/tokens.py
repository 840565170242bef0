"""The JSON Web Tokens of a user pool: RS256 signing with the pool's own key pair, its
JWKS, and verification.

Each pool has one 2048-bit RSA key pair, made with the pool and kept (PEM) in its body, as
AWS keeps one signing key per pool and publishes its public half at the pool's
``.well-known/jwks.json``.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


class TokenProblem(ValueError):
    """Why a token is not good: unreadable, a bad signature, expired, another issuer."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_signing_key() -> dict[str, str]:
    """A pool's key pair: its key id (``kid``) and private key (PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # AWS's kids are 44 base64 characters (a SHA-256 of the key); any unique text serves.
    return {"kid": base64.b64encode(secrets.token_bytes(32)).decode("ascii"), "pem": pem.decode()}


def _private_key(signing_key: dict[str, str]) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(signing_key["pem"].encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def public_jwk(signing_key: dict[str, str]) -> dict[str, str]:
    """The public half of ``signing_key`` as one JWK of the pool's JWKS."""
    numbers = _private_key(signing_key).public_key().public_numbers()
    return {
        "alg": "RS256",
        "e": _b64(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
        "kid": signing_key["kid"],
        "kty": "RSA",
        "n": _b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        "use": "sig",
    }


def sign(claims: dict[str, Any], signing_key: dict[str, str]) -> str:
    """``claims`` as an RS256 JWT signed with ``signing_key``."""
    header = {"kid": signing_key["kid"], "alg": "RS256"}
    signing_input = f"{_b64(orjson.dumps(header))}.{_b64(orjson.dumps(claims))}"
    signature = _private_key(signing_key).sign(
        signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256()
    )
    return f"{signing_input}.{_b64(signature)}"


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims of ``token`` without checking anything (to find its pool by ``iss``)."""
    try:
        header_part, claims_part, _ = token.split(".")
        header = orjson.loads(_unb64(header_part))
        claims = orjson.loads(_unb64(claims_part))
    except (ValueError, TypeError) as error:
        raise TokenProblem("not a JWT") from error
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenProblem("not a JWT")
    return claims


def _token_parts(token: str) -> tuple[dict[str, Any], str, str, str]:
    """The header of ``token`` and its three parts (claims read by ``unverified_claims``)."""
    unverified_claims(token)
    header_part, claims_part, signature_part = token.split(".")
    header = orjson.loads(_unb64(header_part))
    return header, header_part, claims_part, signature_part


#: The RSA signing algorithms a JWT may name -> their hash (API Gateway's JWT authorizers
#: take RSA-based algorithms only).
_RSA_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "RS256": hashes.SHA256,
    "RS384": hashes.SHA384,
    "RS512": hashes.SHA512,
}


def _check_rsa(
    public_key: rsa.RSAPublicKey, alg: str, signing_input: str, signature_part: str
) -> None:
    try:
        public_key.verify(
            _unb64(signature_part),
            signing_input.encode("ascii"),
            padding.PKCS1v15(),
            _RSA_HASHES[alg](),
        )
    except (InvalidSignature, ValueError) as error:
        raise TokenProblem("bad signature") from error


def verify_signature(token: str, signing_key: dict[str, str]) -> dict[str, Any]:
    """The claims of ``token`` if ``signing_key`` signed it (RS256, its kid)."""
    header, header_part, claims_part, signature_part = _token_parts(token)
    if header.get("alg") != "RS256" or header.get("kid") != signing_key["kid"]:
        raise TokenProblem("signed with another key")
    public_key = _private_key(signing_key).public_key()
    _check_rsa(public_key, "RS256", f"{header_part}.{claims_part}", signature_part)
    return unverified_claims(token)


def _jwk_public_key(jwk: dict[str, Any]) -> rsa.RSAPublicKey:
    try:
        numbers = rsa.RSAPublicNumbers(
            int.from_bytes(_unb64(str(jwk["e"])), "big"),
            int.from_bytes(_unb64(str(jwk["n"])), "big"),
        )
        return numbers.public_key()
    except (KeyError, ValueError, TypeError) as error:
        raise TokenProblem("the signing key is no RSA key") from error


#: Why ``verify_with_jwks`` refuses a token whose ``kid`` the key set lacks.
NO_SUCH_KID = "no key of the issuer has the token's kid"


def verify_with_jwks(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """The claims of ``token`` if a key of the JSON Web Key Set ``jwks`` (an issuer's
    ``jwks_uri`` document) signed it: its ``kid`` names an RSA key of the set and its
    ``alg`` is RS256, RS384 or RS512. Claims (issuer, audience, times) are the caller's
    to check."""
    header, header_part, claims_part, signature_part = _token_parts(token)
    alg = header.get("alg")
    if alg not in _RSA_HASHES:
        raise TokenProblem(f"signing method {alg} is invalid")
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    found = [
        k
        for k in (keys if isinstance(keys, list) else [])
        if isinstance(k, dict) and k.get("kid") == header.get("kid") and k.get("kty") == "RSA"
    ]
    if not found:
        raise TokenProblem(NO_SUCH_KID)
    _check_rsa(_jwk_public_key(found[0]), str(alg), f"{header_part}.{claims_part}", signature_part)
    return unverified_claims(token)
