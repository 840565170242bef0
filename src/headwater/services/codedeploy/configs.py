"""The predefined Lambda deployment configurations and the traffic schedule each makes.

Names, percentages and intervals are CodeDeploy's (docs: "Deployment configurations on
an AWS Lambda compute platform"): a canary shifts ``percentage`` first and the rest
``interval`` minutes later; a linear one shifts ``percentage`` more every ``interval``
minutes; all-at-once shifts everything at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Epoch seconds the predefined configurations give as their createTime (any fixed instant).
PREDEFINED_CREATE_TIME = 1_420_070_400.0


@dataclass(frozen=True, slots=True)
class TrafficRouting:
    """How a deployment shifts an alias: ``kind`` AllAtOnce, TimeBasedCanary or
    TimeBasedLinear, ``percentage`` and ``interval`` (minutes) for the last two."""

    kind: str
    percentage: int = 100
    interval: int = 0

    def weight_at(self, elapsed: float) -> float:
        """The share of traffic (0..1) on the new version ``elapsed`` seconds into the
        AllowTraffic phase; 1.0 when the shift is complete."""
        if self.kind == "AllAtOnce":
            return 1.0
        steps = int(elapsed // (self.interval * 60))
        if self.kind == "TimeBasedCanary":
            return 1.0 if steps >= 1 else self.percentage / 100
        return min(1.0, (steps + 1) * self.percentage / 100)

    def describe(self) -> dict[str, Any]:
        if self.kind == "AllAtOnce":
            return {"type": "AllAtOnce"}
        if self.kind == "TimeBasedCanary":
            return {
                "type": "TimeBasedCanary",
                "timeBasedCanary": {
                    "canaryPercentage": self.percentage,
                    "canaryInterval": self.interval,
                },
            }
        return {
            "type": "TimeBasedLinear",
            "timeBasedLinear": {
                "linearPercentage": self.percentage,
                "linearInterval": self.interval,
            },
        }


def _predefined() -> dict[str, TrafficRouting]:
    configs = {"CodeDeployDefault.LambdaAllAtOnce": TrafficRouting("AllAtOnce")}
    for minutes in (5, 10, 15, 30):
        configs[f"CodeDeployDefault.LambdaCanary10Percent{minutes}Minutes"] = TrafficRouting(
            "TimeBasedCanary", 10, minutes
        )
    for minutes in (1, 2, 3, 10):
        unit = "Minute" if minutes == 1 else "Minutes"
        configs[f"CodeDeployDefault.LambdaLinear10PercentEvery{minutes}{unit}"] = TrafficRouting(
            "TimeBasedLinear", 10, minutes
        )
    return configs


#: Name -> routing of every predefined Lambda deployment configuration.
LAMBDA_CONFIGS: dict[str, TrafficRouting] = _predefined()


def config_id(name: str) -> str:
    """A stable id for a predefined configuration (AWS's are fixed UUIDs per region)."""
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"codedeploy:{name}"))


def describe_config(name: str) -> dict[str, Any]:
    """GetDeploymentConfig's ``deploymentConfigInfo`` of a predefined configuration."""
    return {
        "deploymentConfigId": config_id(name),
        "deploymentConfigName": name,
        "createTime": PREDEFINED_CREATE_TIME,
        "computePlatform": "Lambda",
        "trafficRoutingConfig": LAMBDA_CONFIGS[name].describe(),
    }
