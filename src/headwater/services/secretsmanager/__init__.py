"""AWS Secrets Manager: secrets, versions and staging labels, deletion windows, rotation."""

from __future__ import annotations

from headwater.services.secretsmanager.service import SecretsManagerService

__all__ = ["SecretsManagerService"]
