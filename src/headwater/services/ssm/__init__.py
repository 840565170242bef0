"""The SSM Parameter Store subset that CloudFormation and CDK need."""

from __future__ import annotations

from headwater.services.ssm.service import SsmService

__all__ = ["SsmService"]
