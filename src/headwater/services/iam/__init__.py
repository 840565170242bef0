"""IAM: roles, users, groups, managed and inline policies, instance profiles, access keys.

IAM is global (one set of entities per account, whatever region signs the request) and
its policies are **stored, not enforced**: documents are validated the way IAM validates
them (``MalformedPolicyDocument``) and answered back exactly, but no request headwater
serves is checked against them. Applications and infrastructure tools (Terraform, SAM,
CDK) that create roles and policies work unchanged; enforcement is a later step. What a
policy would allow can be asked with SimulatePrincipalPolicy / SimulateCustomPolicy.
"""

from __future__ import annotations

from typing import ClassVar

from headwater.services.base import ServiceEnvironment
from headwater.services.iam.instance_profiles import InstanceProfileOperations
from headwater.services.iam.managed_policies import PolicyOperations
from headwater.services.iam.roles import RoleOperations
from headwater.services.iam.simulation import SimulationOperations
from headwater.services.iam.users import UserOperations
from headwater.store.iam import IamStore


class IamService(
    RoleOperations,
    PolicyOperations,
    UserOperations,
    InstanceProfileOperations,
    SimulationOperations,
):
    """``hw.client("iam")``: IAM's entities, stored as IAM answers them."""

    service_name: ClassVar[str] = "iam"
    unencodable_text_code = "ValidationError"

    def __init__(self, env: ServiceEnvironment) -> None:
        super().__init__(env)
        self.store = env.database.store(IamStore)


__all__ = ["IamService"]
