"""Key material and what KMS does with it, through the ``cryptography`` package.

Symmetric ciphertext is headwater's own format (AWS's is opaque too): a version byte, the
key id (36 ASCII characters, so Decrypt needs no KeyId), a 12-byte nonce and the AES-256-GCM
sealed plaintext, with the canonical JSON of the encryption context as associated data (a
context that differs fails to open, as on AWS). Asymmetric encryption is RSAES-OAEP, raw.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ENCRYPT_DECRYPT = "ENCRYPT_DECRYPT"
SIGN_VERIFY = "SIGN_VERIFY"
GENERATE_VERIFY_MAC = "GENERATE_VERIFY_MAC"

_RSA_BITS = {"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}
_CURVES: dict[str, ec.EllipticCurve] = {
    "ECC_NIST_P256": ec.SECP256R1(),
    "ECC_NIST_P384": ec.SECP384R1(),
    "ECC_NIST_P521": ec.SECP521R1(),
    "ECC_SECG_P256K1": ec.SECP256K1(),
}
_ECDSA = {
    "ECC_NIST_P256": "ECDSA_SHA_256",
    "ECC_NIST_P384": "ECDSA_SHA_384",
    "ECC_NIST_P521": "ECDSA_SHA_512",
    "ECC_SECG_P256K1": "ECDSA_SHA_256",
}
_HMAC_BYTES = {"HMAC_224": 28, "HMAC_256": 32, "HMAC_384": 48, "HMAC_512": 64}
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "224": hashes.SHA224,
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
RSA_SIGNING = [
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
]
RSA_ENCRYPTION = ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
KEY_SPECS = ("SYMMETRIC_DEFAULT", *_RSA_BITS, *_CURVES, *_HMAC_BYTES)
#: GenerateDataKeyPair's KeyPairSpec values headwater makes.
PAIR_SPECS = (*_RSA_BITS, *_CURVES)
_CIPHERTEXT_VERSION = b"\x01"
_KEY_ID_LENGTH = 36


class CiphertextUnreadable(ValueError):
    """A blob this key (or any key) did not make, or made under another context."""


def usages(spec: str) -> tuple[str, ...]:
    """The KeyUsage values ``spec`` allows, the default first."""
    if spec == "SYMMETRIC_DEFAULT":
        return (ENCRYPT_DECRYPT,)
    if spec in _RSA_BITS:
        return (ENCRYPT_DECRYPT, SIGN_VERIFY)
    if spec in _CURVES:
        return (SIGN_VERIFY,)
    return (GENERATE_VERIFY_MAC,)


def new_material(spec: str) -> str:
    """New key material for ``spec``: raw bytes or a PKCS#8 DER private key, base64."""
    return base64.b64encode(_private_der(spec) if spec in PAIR_SPECS else _secret(spec)).decode()


def _secret(spec: str) -> bytes:
    return os.urandom(_HMAC_BYTES.get(spec, 32))


def _private_der(spec: str) -> bytes:
    key: Any
    if spec in _RSA_BITS:
        key = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS[spec])
    else:
        key = ec.generate_private_key(_CURVES[spec])
    return bytes(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def key_pair(spec: str) -> tuple[bytes, bytes]:
    """(PKCS#8 DER private key, SubjectPublicKeyInfo DER public key) of a new pair."""
    private = _private_der(spec)
    return private, public_der(base64.b64encode(private).decode())


def algorithms(spec: str, usage: str) -> dict[str, list[str]]:
    """DescribeKey's EncryptionAlgorithms / SigningAlgorithms / MacAlgorithms of a key."""
    if spec == "SYMMETRIC_DEFAULT":
        return {"EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"]}
    if spec in _HMAC_BYTES:
        return {"MacAlgorithms": [f"HMAC_SHA_{spec[5:]}"]}
    if usage == ENCRYPT_DECRYPT:
        return {"EncryptionAlgorithms": list(RSA_ENCRYPTION)}
    if spec in _RSA_BITS:
        return {"SigningAlgorithms": list(RSA_SIGNING)}
    return {"SigningAlgorithms": [_ECDSA[spec]]}


def _private(material: str) -> Any:
    return serialization.load_der_private_key(base64.b64decode(material), password=None)


def public_der(material: str) -> bytes:
    return bytes(
        _private(material)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


# -- symmetric ---------------------------------------------------------------------------------


def _context_bytes(context: dict[str, str] | None) -> bytes:
    return orjson.dumps(context or {}, option=orjson.OPT_SORT_KEYS)


def seal(key_id: str, material: str, plaintext: bytes, context: dict[str, str] | None) -> bytes:
    """Symmetric ciphertext of ``plaintext`` under the key ``key_id``."""
    nonce = os.urandom(12)
    sealed = AESGCM(base64.b64decode(material)).encrypt(nonce, plaintext, _context_bytes(context))
    return _CIPHERTEXT_VERSION + key_id.encode("ascii") + nonce + sealed


def sealing_key_id(blob: bytes) -> str:
    """The id of the key that made ``blob``; ``CiphertextUnreadable`` if no key did."""
    if len(blob) < 1 + _KEY_ID_LENGTH + 12 + 16 or blob[:1] != _CIPHERTEXT_VERSION:
        raise CiphertextUnreadable("not a headwater ciphertext")
    try:
        return blob[1 : 1 + _KEY_ID_LENGTH].decode("ascii")
    except UnicodeDecodeError:
        raise CiphertextUnreadable("not a headwater ciphertext") from None


def unseal(material: str, blob: bytes, context: dict[str, str] | None) -> bytes:
    nonce = blob[1 + _KEY_ID_LENGTH : 1 + _KEY_ID_LENGTH + 12]
    try:
        return AESGCM(base64.b64decode(material)).decrypt(
            nonce, blob[1 + _KEY_ID_LENGTH + 12 :], _context_bytes(context)
        )
    except InvalidTag:
        raise CiphertextUnreadable("the ciphertext or its context does not match") from None


# -- RSA encryption ----------------------------------------------------------------------------


def _oaep(algorithm: str) -> padding.OAEP:
    digest = hashes.SHA1() if algorithm == "RSAES_OAEP_SHA_1" else hashes.SHA256()
    return padding.OAEP(mgf=padding.MGF1(digest), algorithm=digest, label=None)


def rsa_encrypt(material: str, algorithm: str, plaintext: bytes) -> bytes:
    """RSAES-OAEP ciphertext; ``ValueError`` when the plaintext is too long for the key."""
    return bytes(_private(material).public_key().encrypt(plaintext, _oaep(algorithm)))


def rsa_decrypt(material: str, algorithm: str, blob: bytes) -> bytes:
    try:
        return bytes(_private(material).decrypt(blob, _oaep(algorithm)))
    except ValueError:
        raise CiphertextUnreadable("RSA decryption failed") from None


# -- signing and MACs --------------------------------------------------------------------------


def _hash_of(algorithm: str) -> hashes.HashAlgorithm:
    return _HASHES[algorithm[-3:]]()


def _signing_args(
    algorithm: str, message: bytes, digest: bool
) -> tuple[bytes, Any, hashes.HashAlgorithm | utils.Prehashed]:
    chosen = _hash_of(algorithm)
    hashed: hashes.HashAlgorithm | utils.Prehashed = utils.Prehashed(chosen) if digest else chosen
    if algorithm.startswith("RSASSA_PSS"):
        pad: Any = padding.PSS(mgf=padding.MGF1(chosen), salt_length=chosen.digest_size)
    elif algorithm.startswith("RSASSA_PKCS1"):
        pad = padding.PKCS1v15()
    else:
        pad = None
    return message, pad, hashed


def sign(material: str, algorithm: str, message: bytes, *, digest: bool) -> bytes:
    """The signature; ``ValueError`` when a DIGEST is not the algorithm's digest length."""
    key = _private(material)
    message, pad, hashed = _signing_args(algorithm, message, digest)
    if digest and len(message) != _hash_of(algorithm).digest_size:
        raise ValueError("digest length")
    if pad is None:
        return bytes(key.sign(message, ec.ECDSA(hashed)))
    return bytes(key.sign(message, pad, hashed))


def verify(
    material: str, algorithm: str, message: bytes, signature: bytes, *, digest: bool
) -> bool:
    key = _private(material).public_key()
    message, pad, hashed = _signing_args(algorithm, message, digest)
    try:
        if pad is None:
            key.verify(signature, message, ec.ECDSA(hashed))
        else:
            key.verify(signature, message, pad, hashed)
    except (InvalidSignature, ValueError):
        return False
    return True


def mac(material: str, algorithm: str, message: bytes) -> bytes:
    name = {"224": "sha224", "256": "sha256", "384": "sha384", "512": "sha512"}[algorithm[-3:]]
    return hmac.new(base64.b64decode(material), message, getattr(hashlib, name)).digest()
