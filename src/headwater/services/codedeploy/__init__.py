"""AWS CodeDeploy for Lambda: applications, deployment groups and traffic-shifting
deployments of an alias, on the headwater clock."""

from __future__ import annotations

from headwater.services.codedeploy.service import CodeDeployService

__all__ = ["CodeDeployService"]
