"""AWS KMS: keys, aliases, encryption and data keys, signing, MACs, deletion on the clock."""

from __future__ import annotations

from headwater.services.kms.service import KmsService

__all__ = ["KmsService"]
