"""STS: who is calling (GetCallerIdentity) and temporary credentials (AssumeRole & co).

By default headwater does not verify signatures, so any access key works; STS still
answers as AWS would for it: an access key IAM issued is its user, a key STS issued is its
assumed-role or federated session, and any other key is the account's root. Temporary
credentials are remembered with their secret, session token and session tags (so role
chaining keeps transitive tags) until a day after they expire: ``headwater serve
--verify-signatures`` checks requests signed with them against the issued secret, refuses
a missing or wrong ``X-Amz-Security-Token`` and, once expired, answers ``ExpiredToken``
(``server.request_checks``).
"""

from __future__ import annotations

import base64
import secrets
from typing import Any, ClassVar

import orjson

from headwater.core.errors import AwsError
from headwater.core.values import as_millisecond_datetime
from headwater.services.base import (
    Params,
    RequestContext,
    Result,
    Service,
    ServiceEnvironment,
    operation,
)
from headwater.services.iam import validation as check
from headwater.services.iam.entities import new_id, new_secret
from headwater.store.iam import IamStore, Session

DEFAULT_DURATION = 3600
#: How long expired credentials are remembered, so that requests still signed with them
#: get ``ExpiredToken`` (as from AWS) rather than "invalid token".
EXPIRED_REMEMBERED_SECONDS = 24 * 3600
SESSION_TOKEN_BYTES = 180


def invalid_parameter(message: str) -> AwsError:
    return AwsError("InvalidParameterValue", message)


def _session_token() -> str:
    return "FwoGZXIvYXdzE" + base64.b64encode(secrets.token_bytes(SESSION_TOKEN_BYTES)).decode()


class StsService(Service):
    """``hw.client("sts")``."""

    service_name: ClassVar[str] = "sts"
    unencodable_text_code = "ValidationError"

    def __init__(self, env: ServiceEnvironment) -> None:
        super().__init__(env)
        self.store = env.database.store(IamStore)

    # -- identity -------------------------------------------------------------------------

    def caller(self, ctx: RequestContext) -> Result:
        """``{UserId, Account, Arn}`` of the caller's access key."""
        key = ctx.access_key or ""
        session = self.store.session(key) if key else None
        if session is not None:
            return {
                "UserId": session.body["UserId"],
                "Account": session.account,
                "Arn": session.body["Arn"],
            }
        owner = self.store.access_key(key) if key else None
        if owner is not None:
            account, access_key = owner
            user = self.store.get(account, "user", access_key.user_key)
            if user is not None:
                return {
                    "UserId": user.entity_id,
                    "Account": account,
                    "Arn": f"arn:aws:iam::{account}:user{user.path}{user.name}",
                }
        return {
            "UserId": ctx.account,
            "Account": ctx.account,
            "Arn": f"arn:aws:iam::{ctx.account}:root",
        }

    @operation("GetCallerIdentity")
    def get_caller_identity(self, params: Params, ctx: RequestContext) -> Result:
        return self.caller(ctx)

    @operation("GetAccessKeyInfo")
    def get_access_key_info(self, params: Params, ctx: RequestContext) -> Result:
        check.check_constraints("sts", "GetAccessKeyInfo", params)
        key = params["AccessKeyId"]
        session = self.store.session(key)
        if session is not None:
            return {"Account": session.account}
        owner = self.store.access_key(key)
        return {"Account": owner[0] if owner is not None else ctx.account}

    # -- credentials ----------------------------------------------------------------------

    def _issue(self, ctx: RequestContext, duration: int, body: dict[str, Any]) -> Result:
        now = self.env.clock.now()
        self.store.expire_sessions(now - EXPIRED_REMEMBERED_SECONDS)
        access_key = new_id("ASIA", 16)
        secret = new_secret()
        token = _session_token()
        expires = now + duration
        self.store.add_session(Session(access_key, ctx.account, expires, body, secret, token))
        return {
            "AccessKeyId": access_key,
            "SecretAccessKey": secret,
            "SessionToken": token,
            "Expiration": as_millisecond_datetime(expires),
        }

    @operation("AssumeRole")
    def assume_role(self, params: Params, ctx: RequestContext) -> Result:
        check.check_constraints("sts", "AssumeRole", params)
        role_arn = params["RoleArn"]
        parts = role_arn.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or not parts[1] or not parts[2] or not parts[5]:
            raise check.validation_error(f"{role_arn} is invalid")
        session_name = params["RoleSessionName"]
        tags = _session_tags(params.get("Tags"), params.get("TransitiveTagKeys"))
        inherited = self._inherited_tags(ctx, tags)
        role_name = parts[5].rsplit("/", 1)[-1]
        role = None
        if parts[2] == "iam" and parts[5].startswith("role/") and parts[4] == ctx.account:
            role = self.store.get(ctx.account, "role", role_name)
        if role is None:
            caller = self.caller(ctx)["Arn"]
            raise AwsError(
                "AccessDenied",
                f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: "
                f"{role_arn}",
                status=403,
            )
        duration = params.get("DurationSeconds", DEFAULT_DURATION)
        if duration > role.body.get("MaxSessionDuration", DEFAULT_DURATION):
            raise check.validation_error(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
            )
        assumed_arn = f"arn:aws:sts::{ctx.account}:assumed-role/{role.name}/{session_name}"
        assumed_id = f"{role.entity_id}:{session_name}"
        body = {
            "Arn": assumed_arn,
            "UserId": assumed_id,
            "Tags": inherited + tags[0],
            "TransitiveTagKeys": [t["Key"] for t in inherited] + tags[1],
        }
        result: Result = {
            "Credentials": self._issue(ctx, duration, body),
            "AssumedRoleUser": {"AssumedRoleId": assumed_id, "Arn": assumed_arn},
        }
        if params.get("Policy") or params.get("PolicyArns") or tags[0]:
            result["PackedPolicySize"] = _packed_size(params, tags[0])
        if params.get("SourceIdentity"):
            result["SourceIdentity"] = params["SourceIdentity"]
        return result

    def _inherited_tags(
        self, ctx: RequestContext, tags: tuple[list[dict[str, str]], list[str]]
    ) -> list[dict[str, str]]:
        """The calling session's transitive tags, which a chained session keeps."""
        session = self.store.session(ctx.access_key or "") if ctx.access_key else None
        if session is None:
            return []
        transitive = {key.lower() for key in session.body.get("TransitiveTagKeys", [])}
        requested = {tag["Key"].lower() for tag in tags[0]}
        if transitive & requested:
            raise invalid_parameter(
                "One of the specified transitive tag keys can't be set because it conflicts "
                "with a transitive tag key from the calling session."
            )
        return [t for t in session.body.get("Tags", []) if t["Key"].lower() in transitive]

    @operation("AssumeRoleWithWebIdentity")
    def assume_role_with_web_identity(self, params: Params, ctx: RequestContext) -> Result:
        check.check_constraints("sts", "AssumeRoleWithWebIdentity", params)
        claims = _jwt_claims(params["WebIdentityToken"])
        subject = str(claims.get("sub", "unknown"))
        audience = str(claims.get("aud", params.get("ProviderId") or "unknown"))
        provider = str(claims.get("iss", params.get("ProviderId") or "unknown"))
        role_name = params["RoleArn"].rsplit("/", 1)[-1]
        session_name = params["RoleSessionName"]
        assumed_arn = f"arn:aws:sts::{ctx.account}:assumed-role/{role_name}/{session_name}"
        role = self.store.get(ctx.account, "role", role_name)
        assumed_id = f"{role.entity_id if role else new_id('AROA')}:{session_name}"
        body = {"Arn": assumed_arn, "UserId": assumed_id, "Tags": [], "TransitiveTagKeys": []}
        return {
            "Credentials": self._issue(ctx, params.get("DurationSeconds", DEFAULT_DURATION), body),
            "SubjectFromWebIdentityToken": subject,
            "AssumedRoleUser": {"AssumedRoleId": assumed_id, "Arn": assumed_arn},
            "Provider": provider,
            "Audience": audience,
        }

    @operation("GetSessionToken")
    def get_session_token(self, params: Params, ctx: RequestContext) -> Result:
        check.check_constraints("sts", "GetSessionToken", params)
        caller = self.caller(ctx)
        body = {
            "Arn": caller["Arn"],
            "UserId": caller["UserId"],
            "Tags": [],
            "TransitiveTagKeys": [],
        }
        duration = params.get("DurationSeconds", 43200)
        return {"Credentials": self._issue(ctx, duration, body)}

    @operation("GetFederationToken")
    def get_federation_token(self, params: Params, ctx: RequestContext) -> Result:
        check.check_constraints("sts", "GetFederationToken", params)
        name = params["Name"]
        tags = _session_tags(params.get("Tags"), None)
        arn = f"arn:aws:sts::{ctx.account}:federated-user/{name}"
        user_id = f"{ctx.account}:{name}"
        body = {"Arn": arn, "UserId": user_id, "Tags": tags[0], "TransitiveTagKeys": []}
        duration = params.get("DurationSeconds", 43200)
        return {
            "Credentials": self._issue(ctx, duration, body),
            "FederatedUser": {"FederatedUserId": user_id, "Arn": arn},
            "PackedPolicySize": _packed_size(params, tags[0]),
        }


def _session_tags(tags: Any, transitive: Any) -> tuple[list[dict[str, str]], list[str]]:
    """Session tags and transitive keys, checked as STS checks them."""
    found = [{"Key": str(t.get("Key", "")), "Value": str(t.get("Value", ""))} for t in tags or []]
    keys = [tag["Key"].lower() for tag in found]
    if len(set(keys)) != len(keys):
        raise invalid_parameter(
            "Duplicate tag keys found. Please note that Tag keys are case insensitive."
        )
    transitive_keys = [str(key) for key in transitive or []]
    if any(key.lower() not in keys for key in transitive_keys):
        raise invalid_parameter(
            "The specified transitive tag key must be included in the requested tags."
        )
    return found, transitive_keys


def _packed_size(params: Params, tags: list[dict[str, str]]) -> int:
    """How full the packed session policy and tags are, in percent of STS's limit."""
    policy = params.get("Policy") or ""
    arns = sum(len(p.get("arn", "")) for p in params.get("PolicyArns") or [])
    size = len(policy) + arns + sum(len(t["Key"]) + len(t["Value"]) for t in tags)
    return min(100, size * 100 // 2048)


def _jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT (not verified: headwater trusts any identity provider)."""
    parts = token.split(".")
    if len(parts) < 2:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, orjson.JSONDecodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


__all__ = ["StsService"]
