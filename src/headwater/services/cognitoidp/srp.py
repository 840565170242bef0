"""Cognito's Secure Remote Password sign-in (USER_SRP_AUTH): the server's half.

The group is RFC 3526's 3072-bit MODP prime with generator 2, as AWS's SDKs use it; the
hashes, the padding of numbers and the key derivation (HKDF-SHA256, "Caldera Derived Key",
16 bytes) are those of AWS's Amplify and Cognito SDKs. A user's verifier g^x (x
from a salt of its own and the pool name, username and password) is kept beside the
password's scrypt hash when a password is set: the password itself never is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

N_HEX = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"
    "29024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245"
    "E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D"
    "C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D"
    "670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9"
    "DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64"
    "ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6B"
    "F12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB31"
    "43DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
)
N = int(N_HEX, 16)
G = 2
INFO = b"Caldera Derived Key"


def _hash_hex(hex_text: str) -> str:
    return hashlib.sha256(bytes.fromhex(hex_text)).hexdigest().rjust(64, "0")


def pad_hex(value: int | str) -> str:
    """A number's hex as the SDKs hash it: even length, and a leading 00 when the first
    digit would read as a negative sign."""
    text = value if isinstance(value, str) else f"{value:x}"
    if len(text) % 2 == 1:
        return "0" + text
    if text[0] in "89ABCDEFabcdef":
        return "00" + text
    return text


K = int(_hash_hex("00" + N_HEX + "0" + "2"), 16)


def _x(pool_name: str, username: str, password: str, salt_hex: str) -> int:
    inner = hashlib.sha256(f"{pool_name}{username}:{password}".encode()).hexdigest()
    return int(_hash_hex(pad_hex(salt_hex) + inner.rjust(64, "0")), 16)


def new_verifier(pool_name: str, username: str, password: str) -> dict[str, str]:
    """What is kept for SRP sign-in with password: a salt and the verifier (hex)."""
    salt_hex = secrets.token_bytes(16).hex()
    verifier = pow(G, _x(pool_name, username, password, salt_hex), N)
    return {"salt": salt_hex, "verifier": f"{verifier:x}"}


def server_values(kept: dict[str, str]) -> tuple[int, int]:
    """A fresh secret b and the public B = k*v + g^b to send."""
    b = secrets.randbits(256)
    return b, (K * int(kept["verifier"], 16) + pow(G, b, N)) % N


def password_key(a_public: int, b_public: int, b: int, kept: dict[str, str]) -> bytes:
    """The key both sides derive: HKDF of S = (A * v^u)^b with u = H(A | B)."""
    u = int(_hash_hex(pad_hex(a_public) + pad_hex(b_public)), 16)
    if u == 0:
        raise ValueError("u is zero")
    s = pow(a_public * pow(int(kept["verifier"], 16), u, N), b, N)
    prk = hmac.new(bytes.fromhex(pad_hex(f"{u:x}")), bytes.fromhex(pad_hex(s)), "sha256").digest()
    return hmac.new(prk, INFO + b"\x01", "sha256").digest()[:16]


def claim_signature(
    key: bytes, pool_name: str, user_id: str, secret_block: str, timestamp: str
) -> str:
    """PASSWORD_CLAIM_SIGNATURE as a client that knows the password computes it."""
    message = (
        pool_name.encode() + user_id.encode() + base64.b64decode(secret_block) + timestamp.encode()
    )
    return base64.b64encode(hmac.new(key, message, "sha256").digest()).decode("ascii")
