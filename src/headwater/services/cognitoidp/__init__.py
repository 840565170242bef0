"""Amazon Cognito user pools: pools, app clients, users, groups, sign-in, JWTs, triggers."""

from __future__ import annotations

from headwater.services.cognitoidp.service import CognitoIdpService
from headwater.services.cognitoidp.tokens import TokenProblem

__all__ = ["CognitoIdpService", "TokenProblem"]
