"""ETags and checksums as S3 computes them.

A single-part object's ETag is the quoted MD5 of its bytes; a multipart object's is the MD5
of its parts' binary MD5s followed by ``-<part count>``. Checksums are base64 of the
big-endian digest; a multipart object's (COMPOSITE) checksum is the checksum of its parts'
checksums followed by ``-<part count>``. CRC32, SHA-1 and SHA-256 are computed (and given
values verified); CRC32C and CRC64NVME need libraries headwater does not ship, so a value
the client sends is kept as sent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from headwater.services.s3.errors import s3_error, s3_error_with

#: Checksum algorithm -> its boto3 member suffix (ChecksumCRC32...).
ALGORITHMS = ("CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME")


@dataclass(frozen=True, slots=True)
class Digests:
    """What S3 computes over an upload: its MD5 (the ETag) and the checksums to keep."""

    md5: bytes
    checksums: dict[str, str]

    @property
    def etag(self) -> str:
        return f'"{self.md5.hex()}"'


def digests_of(data: bytes | memoryview, given: dict[str, str], algorithm: str | None) -> Digests:
    return Digests(hashlib.md5(data).digest(), checksums_for(data, given, algorithm))


def multipart_etag(part_etags: Iterable[str]) -> str:
    etags = list(part_etags)
    digest = hashlib.md5(b"".join(bytes.fromhex(e.strip('"')) for e in etags)).hexdigest()
    return f'"{digest}-{len(etags)}"'


def compute(algorithm: str, data: bytes | memoryview) -> str | None:
    """base64 checksum of ``data``, or None for algorithms headwater cannot compute."""
    if algorithm == "CRC32":
        return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    if algorithm == "SHA1":
        return base64.b64encode(hashlib.sha1(data).digest()).decode()
    if algorithm == "SHA256":
        return base64.b64encode(hashlib.sha256(data).digest()).decode()
    return None


def checksums_for(
    data: bytes | memoryview, given: dict[str, str], algorithm: str | None
) -> dict[str, str]:
    """The checksums to store for an upload: those given (verified when computable) and the
    requested algorithm's."""
    out: dict[str, str] = {}
    for name, value in given.items():
        computed = compute(name, data)
        if computed is not None and computed != value:
            raise s3_error(
                "BadDigest",
                f"The {name} you specified did not match the calculated checksum.",
            )
        out[name] = value
    if algorithm is not None:
        name = algorithm.upper()
        if name not in out:
            computed = compute(name, data)
            if computed is not None:
                out[name] = computed
    return out


def composite(algorithm: str, part_checksums: list[str]) -> str | None:
    """The COMPOSITE checksum of a multipart object from its parts' checksums."""
    raw = b"".join(base64.b64decode(value) for value in part_checksums)
    value = compute(algorithm, raw)
    return None if value is None else f"{value}-{len(part_checksums)}"


def check_content_md5(actual: bytes, content_md5: str | None) -> None:
    """S3's InvalidDigest / BadDigest for a Content-MD5 header (``actual``: the body's MD5)."""
    if content_md5 is None:
        return
    try:
        expected = base64.b64decode(content_md5, validate=True)
    except (binascii.Error, ValueError):
        expected = b""
    if len(expected) != 16:
        raise s3_error_with(
            "InvalidDigest",
            "The Content-MD5 you specified was invalid.",
            {"Content-MD5": content_md5},
        )
    if actual != expected:
        raise s3_error(
            "BadDigest",
            "The Content-MD5 you specified did not match what we received.",
            ExpectedDigest=expected.hex(),
            CalculatedDigest=base64.b64encode(actual).decode(),
        )
