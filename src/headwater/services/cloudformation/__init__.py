"""CloudFormation: stacks, change sets and exports, deployed by ``headwater.deploy``."""

from __future__ import annotations

from headwater.services.cloudformation.service import CloudFormationService

__all__ = ["CloudFormationService"]
