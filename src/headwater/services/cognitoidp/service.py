"""Amazon Cognito user pools (``cognito-idp``): pools, app clients, users, groups, sign-in
and the tokens it hands out.

Users sign in with their password (USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH), renew
with REFRESH_TOKEN_AUTH and answer NEW_PASSWORD_REQUIRED after AdminCreateUser. Tokens are
RS256 JWTs with AWS's claims, signed with the pool's own key (``tokens``), their times on
the headwater clock; ``verify_jwt`` checks one for API Gateway's authorizers. Passwords
are kept as scrypt hashes (``passwords``). No mail or SMS leaves: a confirmation code is
logged and answered by ``confirmation_code`` (tests read it there). Triggers in the pool's
LambdaConfig run synchronously (``triggers``).

Error texts come from AWS's answers as documented and observed; the guesses say so.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import string
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson

from headwater.core.errors import AwsError
from headwater.core.paging import LENIENT_DIGITS
from headwater.core.values import as_datetime
from headwater.models import service_model
from headwater.services.base import (
    Params,
    RequestContext,
    Result,
    Service,
    ServiceEnvironment,
    operation,
)
from headwater.services.cognitoidp import passwords, srp, tokens
from headwater.services.cognitoidp.store import (
    CHALLENGE,
    CLIENT,
    GROUP,
    POOL,
    SESSION,
    USER,
    UserPoolStore,
)
from headwater.services.cognitoidp.triggers import run_trigger, trigger_function
from headwater.services.cognitoidp.validation import check_constraints
from headwater.services.ticker import ClockTicker

#: The messages a pool would have sent (codes, temporary passwords): ``headwater serve``
#: prints this log, as it prints the mapping log.
messages = logging.getLogger("headwater.messages")

SCOPE = "aws.cognito.signin.user.admin"
DAY = 86400.0
#: How long a challenge's Session may be answered (AWS's AuthSessionValidity default).
CHALLENGE_SECONDS = 180.0
#: Clock seconds between sweeps for ended sign-in sessions and challenges.
SWEEP_INTERVAL = 3600.0
#: How long a confirmation code holds (AWS: 24 hours).
CODE_SECONDS = DAY
_ID_ALPHABET = string.ascii_letters + string.digits
_CLIENT_ALPHABET = string.ascii_lowercase + string.digits
#: The standard attributes every pool has (AWS's schema), besides custom:* ones.
STANDARD_ATTRIBUTES = frozenset(
    [
        "address",
        "birthdate",
        "email",
        "email_verified",
        "family_name",
        "gender",
        "given_name",
        "locale",
        "middle_name",
        "name",
        "nickname",
        "phone_number",
        "phone_number_verified",
        "picture",
        "preferred_username",
        "profile",
        "updated_at",
        "website",
        "zoneinfo",
        "sub",
    ]
)
#: Attributes ListUsers filters on, as AWS documents them.
FILTER_ATTRIBUTES = frozenset(
    [
        "username",
        "email",
        "phone_number",
        "name",
        "given_name",
        "family_name",
        "preferred_username",
        "cognito:user_status",
        "status",
        "sub",
    ]
)
_FILTER = re.compile(r'^\s*([\w:]+)\s*(=|\^=)\s*"([^"]*)"\s*$')
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_TOKEN_SECONDS = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0, "days": DAY}


def _pool_missing(pool_id: Any) -> AwsError:
    return AwsError("ResourceNotFoundException", f"User pool {pool_id} does not exist.")


def _client_missing(client_id: Any) -> AwsError:
    return AwsError("ResourceNotFoundException", f"User pool client {client_id} does not exist.")


def _user_missing() -> AwsError:
    return AwsError("UserNotFoundException", "User does not exist.")


def _not_authorized(message: str = "Incorrect username or password.") -> AwsError:
    return AwsError("NotAuthorizedException", message)


def _invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message)


def _random_id(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _attribute_list(attributes: dict[str, str], only: Any = None) -> list[dict[str, str]]:
    names = [name for name in attributes if only is None or name in only]
    return [{"Name": name, "Value": attributes[name]} for name in names]


def _attributes_given(given: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in given or []:
        found[str(item["Name"])] = str(item.get("Value", ""))
    return found


def _masked(value: str) -> str:
    """A code destination as AWS shows it (``j***@e***``)."""
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain[:1]}***"
    return f"+*******{value[-4:]}"


def secret_hash(username: str, client_id: str, client_secret: str) -> str:
    """The SECRET_HASH a client with a secret sends: HMAC-SHA256 of username + client id."""
    digest = hmac.new(
        client_secret.encode("utf-8"), (username + client_id).encode("utf-8"), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def _seconds(client: dict[str, Any], kind: str, default: float) -> float:
    """A client's token validity (``AccessToken``, ``IdToken``, ``RefreshToken``) in seconds:
    its value in its unit (hours for access and ID tokens, days for refresh tokens, as AWS
    reads them without TokenValidityUnits)."""
    value = client.get(f"{kind}Validity")
    if value is None:
        return default
    unit = (client.get("TokenValidityUnits") or {}).get(kind)
    if unit is None:
        unit = "days" if kind == "RefreshToken" else "hours"
    return float(value) * _TOKEN_SECONDS.get(str(unit), 1.0)


class CognitoIdpService(Service):
    """The user pools of one headwater; see the module docstring."""

    service_name = "cognito-idp"

    def __init__(self, env: ServiceEnvironment) -> None:
        super().__init__(env)
        self._store = env.database.store(UserPoolStore)
        self._lock = threading.RLock()
        self._sweeper = ClockTicker(
            env.clock, SWEEP_INTERVAL, self._store.purge_expired, name="cognito-idp-sweeper"
        ).start()

    def close(self) -> None:
        self._sweeper.stop()
        super().close()

    def call(
        self, operation_name: str, params: Params, ctx: RequestContext | None = None
    ) -> Result:
        """Refuse what breaks the model's constraints before any operation runs (nested
        values too: a pool keeps its settings as given)."""
        if operation_name in self._operations:
            check_constraints(operation_name, params)
        return super().call(operation_name, params, ctx)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One read-then-write: a transaction other writers of the process wait for."""
        with self._lock, self.env.database.transaction():
            yield

    # ------------------------------------------------------------------------ look-ups

    def _where(self, pool_id: Any, ctx: RequestContext) -> tuple[str, str, str]:
        if not isinstance(pool_id, str) or "_" not in pool_id:
            raise _pool_missing(pool_id)
        return (ctx.account, pool_id.split("_", 1)[0], pool_id)

    def _pool(self, pool_id: Any, ctx: RequestContext) -> dict[str, Any]:
        where = self._where(pool_id, ctx)
        pool = self._store.get(where, POOL, "")
        if pool is None:
            raise _pool_missing(pool_id)
        return pool

    def _client(self, pool: dict[str, Any], client_id: Any, ctx: RequestContext) -> dict[str, Any]:
        found = self._store.get(self._where(pool["Id"], ctx), CLIENT, str(client_id))
        if found is None:
            raise _client_missing(client_id)
        return found

    def _client_anywhere(
        self, client_id: Any, ctx: RequestContext
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The pool and app client an unsigned call names by its ClientId."""
        found = self._store.client_anywhere(str(client_id)) if client_id else None
        if found is None:
            raise _client_missing(client_id)
        account, region, pool_id, client = found
        pool = self._store.get((account, region, pool_id), POOL, "")
        if pool is None:
            raise _client_missing(client_id)
        return pool, client

    def _key(self, pool: dict[str, Any], username: str) -> str:
        """How a username is kept: lower-cased unless the pool's usernames are
        case-sensitive (the API's default)."""
        sensitive = (pool.get("UsernameConfiguration") or {}).get("CaseSensitive", True)
        return username if sensitive else username.lower()

    def _find_user(self, pool: dict[str, Any], name: Any, ctx: RequestContext) -> dict[str, Any]:
        """The user ``name`` signs in as: its username, or (pools with UsernameAttributes or
        AliasAttributes) an email, phone number or preferred username it holds."""
        if not isinstance(name, str) or not name:
            raise _user_missing()
        where = self._where(pool["Id"], ctx)
        user = self._store.get(where, USER, self._key(pool, name))
        if user is not None:
            return user
        aliases = list(pool.get("UsernameAttributes") or []) + list(
            pool.get("AliasAttributes") or []
        )
        if aliases:
            for candidate in self._store.all(where, USER):
                attributes = candidate["Attributes"]
                if any(attributes.get(alias) == name for alias in aliases):
                    return candidate
        raise _user_missing()

    def _save_user(self, pool: dict[str, Any], user: dict[str, Any], ctx: RequestContext) -> None:
        user["UserLastModifiedDate"] = self.env.clock.now()
        self._store.put(self._where(pool["Id"], ctx), USER, self._key(pool, user["Username"]), user)

    # -------------------------------------------------------------------------- pools

    @operation("CreateUserPool")
    def create_user_pool(self, params: Params, ctx: RequestContext) -> Result:
        name = params["PoolName"]
        pool_id = f"{ctx.region}_{_random_id(_ID_ALPHABET, 9)}"
        now = self.env.clock.now()
        pool: dict[str, Any] = {
            key: value for key, value in params.items() if key not in ("PoolName",)
        }
        pool.update(
            {
                "Id": pool_id,
                "Name": name,
                "Arn": f"arn:aws:cognito-idp:{ctx.region}:{ctx.account}:userpool/{pool_id}",
                "CreationDate": now,
                "LastModifiedDate": now,
                "signing_key": tokens.new_signing_key(),
            }
        )
        _pool_defaults(pool)
        self._store.put(self._where(pool_id, ctx), POOL, "", pool)
        return {"UserPool": self._pool_view(pool, ctx)}

    def _pool_view(self, pool: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        view = {key: value for key, value in pool.items() if key != "signing_key"}
        view["CreationDate"] = as_datetime(pool["CreationDate"])
        view["LastModifiedDate"] = as_datetime(pool["LastModifiedDate"])
        view["EstimatedNumberOfUsers"] = len(self._store.all(self._where(pool["Id"], ctx), USER))
        view.setdefault("LambdaConfig", {})
        schema = view.pop("Schema", None)
        if schema:
            view["SchemaAttributes"] = [_schema_attribute(entry) for entry in schema]
        return view

    @operation("DescribeUserPool")
    def describe_user_pool(self, params: Params, ctx: RequestContext) -> Result:
        return {"UserPool": self._pool_view(self._pool(params["UserPoolId"], ctx), ctx)}

    @operation("ListUserPools")
    def list_user_pools(self, params: Params, ctx: RequestContext) -> Result:
        pools = self._store.pools(ctx.account, ctx.region)
        page, token = LENIENT_DIGITS.page(pools, params.get("NextToken"), int(params["MaxResults"]))
        answer: Result = {
            "UserPools": [
                {
                    "Id": pool["Id"],
                    "Name": pool["Name"],
                    "LambdaConfig": pool.get("LambdaConfig") or {},
                    "CreationDate": as_datetime(pool["CreationDate"]),
                    "LastModifiedDate": as_datetime(pool["LastModifiedDate"]),
                }
                for pool in page
            ]
        }
        if token:
            answer["NextToken"] = token
        return answer

    @operation("UpdateUserPool")
    def update_user_pool(self, params: Params, ctx: RequestContext) -> Result:
        """The request's settings replace the pool's: one it leaves out returns to its
        default, as AWS documents ("If you don't provide a value for an attribute, Amazon
        Cognito sets it to its default value"); what UpdateUserPool cannot change (the
        schema, username attributes) stays, and so do the name and the tags when left out
        (guesses: AWS does not say)."""
        with self._writing():
            pool = _reset_settings(self._pool(params["UserPoolId"], ctx), "UpdateUserPool")
            for key, value in params.items():
                if key != "UserPoolId":
                    pool["Name" if key == "PoolName" else key] = value
            _pool_defaults(pool)
            pool["LastModifiedDate"] = self.env.clock.now()
            self._store.put(self._where(pool["Id"], ctx), POOL, "", pool)
        return {}

    @operation("DeleteUserPool")
    def delete_user_pool(self, params: Params, ctx: RequestContext) -> Result:
        pool = self._pool(params["UserPoolId"], ctx)
        if pool.get("DeletionProtection") == "ACTIVE":
            raise _invalid(
                "The user pool cannot be deleted because deletion protection is activated. "
                "Deletion protection must be inactivated first."
            )
        self._store.delete_pool(self._where(pool["Id"], ctx))
        return {}

    @operation("GetUserPoolMfaConfig")
    def get_user_pool_mfa_config(self, params: Params, ctx: RequestContext) -> Result:
        pool = self._pool(params["UserPoolId"], ctx)
        return _mfa_view(pool)

    @operation("SetUserPoolMfaConfig")
    def set_user_pool_mfa_config(self, params: Params, ctx: RequestContext) -> Result:
        """Stored and answered; headwater asks for no second factor at sign-in."""
        with self._writing():
            pool = self._pool(params["UserPoolId"], ctx)
            for key in MFA_SETTINGS:
                if key in params:
                    pool[key] = params[key]
            if "MfaConfiguration" in params:
                pool["MfaConfiguration"] = params["MfaConfiguration"]
            self._store.put(self._where(pool["Id"], ctx), POOL, "", pool)
        return _mfa_view(pool)

    def _pool_of_arn(self, arn: Any, ctx: RequestContext) -> dict[str, Any]:
        pool_id = str(arn).rsplit("/", 1)[-1]
        pool = self._store.get(self._where(pool_id, ctx), POOL, "") if "_" in pool_id else None
        if pool is None or pool["Arn"] != arn:
            raise _pool_missing(pool_id)
        return pool

    @operation("ListTagsForResource")
    def list_tags_for_resource(self, params: Params, ctx: RequestContext) -> Result:
        return {"Tags": self._pool_of_arn(params["ResourceArn"], ctx).get("UserPoolTags") or {}}

    @operation("TagResource")
    def tag_resource(self, params: Params, ctx: RequestContext) -> Result:
        with self._writing():
            pool = self._pool_of_arn(params["ResourceArn"], ctx)
            pool["UserPoolTags"] = {**(pool.get("UserPoolTags") or {}), **params["Tags"]}
            self._store.put(self._where(pool["Id"], ctx), POOL, "", pool)
        return {}

    @operation("UntagResource")
    def untag_resource(self, params: Params, ctx: RequestContext) -> Result:
        with self._writing():
            pool = self._pool_of_arn(params["ResourceArn"], ctx)
            tags = dict(pool.get("UserPoolTags") or {})
            for key in params["TagKeys"]:
                tags.pop(str(key), None)
            pool["UserPoolTags"] = tags
            self._store.put(self._where(pool["Id"], ctx), POOL, "", pool)
        return {}

    # -------------------------------------------------------------------- app clients

    @operation("CreateUserPoolClient")
    def create_user_pool_client(self, params: Params, ctx: RequestContext) -> Result:
        pool = self._pool(params["UserPoolId"], ctx)
        now = self.env.clock.now()
        client: dict[str, Any] = {
            key: value for key, value in params.items() if key != "GenerateSecret"
        }
        client.update(
            {
                "ClientId": _random_id(_CLIENT_ALPHABET, 26),
                "CreationDate": now,
                "LastModifiedDate": now,
            }
        )
        _client_defaults(client)
        if params.get("GenerateSecret"):
            client["ClientSecret"] = _random_id(_CLIENT_ALPHABET, 51)
        self._store.put(self._where(pool["Id"], ctx), CLIENT, client["ClientId"], client)
        return {"UserPoolClient": _client_view(client)}

    @operation("DescribeUserPoolClient")
    def describe_user_pool_client(self, params: Params, ctx: RequestContext) -> Result:
        pool = self._pool(params["UserPoolId"], ctx)
        return {"UserPoolClient": _client_view(self._client(pool, params["ClientId"], ctx))}

    @operation("ListUserPoolClients")
    def list_user_pool_clients(self, params: Params, ctx: RequestContext) -> Result:
        pool = self._pool(params["UserPoolId"], ctx)
        clients = self._store.all(self._where(pool["Id"], ctx), CLIENT)
        return {
            "UserPoolClients": [
                {"ClientId": c["ClientId"], "UserPoolId": pool["Id"], "ClientName": c["ClientName"]}
                for c in clients
            ]
        }

    @operation("UpdateUserPoolClient")
    def update_user_pool_client(self, params: Params, ctx: RequestContext) -> Result:
        """The request's settings replace the client's: one it leaves out returns to its
        default, as for UpdateUserPool (AWS: "If you don't provide a value for an attribute,
        Amazon Cognito sets it to its default value"); the secret stays, and the name when
        left out (a guess)."""
        with self._writing():
            pool = self._pool(params["UserPoolId"], ctx)
            client = self._client(pool, params["ClientId"], ctx)
            client = _reset_settings(client, "UpdateUserPoolClient")
            client.update(params)
            _client_defaults(client)
            client["LastModifiedDate"] = self.env.clock.now()
            self._store.put(self._where(pool["Id"], ctx), CLIENT, client["ClientId"], client)
        return {"UserPoolClient": _client_view(client)}

    @operation("DeleteUserPoolClient")
    def delete_user_pool_client(self, params: Params, ctx: RequestContext) -> Result:
        pool = self._pool(params["UserPoolId"], ctx)
        if not self._store.delete(self._where(pool["Id"], ctx), CLIENT, str(params["ClientId"])):
            raise _client_missing(params["ClientId"])
        return {}

    # ------------------------------------------------------------------------ groups

    @operation("CreateGroup")
    def create_group(self, params: Params, ctx: RequestContext) -> Result:
        with self._writing():
            pool = self._pool(params["UserPoolId"], ctx)
            where = self._where(pool["Id"], ctx)
            name = str(params["GroupName"])
            if self._store.get(where, GROUP, name) is not None:
                raise AwsError(
                    "GroupExistsException", f"A group with the name {name} already exists."
                )
            now = self.env.clock.now()
            group = {**params, "CreationDate": now, "LastModifiedDate": now}
            self._store.put(where, GROUP, name, group)
        return {"Group": _group_view(group)}

    def _group(self, pool: dict[str, Any], name: Any, ctx: RequestContext) -> dict[str, Any]:
        group = self._store.get(self._where(pool["Id"], ctx), GROUP, str(name))
        if group is None:
            raise AwsError("ResourceNotFoundException", "Group not found.")
        return group

    @operation("GetGroup")
    def get_group(self, params: Params, ctx: RequestContext) -> Result:
        pool = self._pool(params["UserPoolId"], ctx)
        return {"Group": _group_view(self._group(pool, params["GroupName"], ctx))}

    @operation("ListGroups")
    def list_groups(self, params: Params, ctx: RequestContext) -> Result:
        pool = self._pool(params["UserPoolId"], ctx)
        groups = self._store.all(self._where(pool["Id"], ctx), GROUP)
        return {"Groups": [_group_view(group) for group in groups]}

    @operation("UpdateGroup")
    def update_group(self, params: Params, ctx: RequestContext) -> Result:
        with self._writing():
            pool = self._pool(params["UserPoolId"], ctx)
            group = self._group(pool, params["GroupName"], ctx)
            group.update(params)
            group["LastModifiedDate"] = self.env.clock.now()
            self._store.put(self._where(pool["Id"], ctx), GROUP, group["GroupName"], group)
        return {"Group": _group_view(group)}

    @operation("DeleteGroup")
    def delete_group(self, params: Params, ctx: RequestContext) -> Result:
        with self._writing():
            pool = self._pool(params["UserPoolId"], ctx)
            name = str(params["GroupName"])
            self._group(pool, name, ctx)
            where = self._where(pool["Id"], ctx)
            self._store.delete(where, GROUP, name)
            for user in self._store.all(where, USER):
                if name in user["Groups"]:
                    user["Groups"].remove(name)
                    self._save_user(pool, user, ctx)
        return {}

    @operation("AdminAddUserToGroup")
    def admin_add_user_to_group(self, params: Params, ctx: RequestContext) -> Result:
        with self._writing():
            pool = self._pool(params["UserPoolId"], ctx)
            group = self._group(pool, params["GroupName"], ctx)
            user = self._find_user(pool, params["Username"], ctx)
            if group["GroupName"] not in user["Groups"]:
                user["Groups"].append(group["GroupName"])
                self._save_user(pool, user, ctx)
        return {}

    @operation("AdminRemoveUserFromGroup")
    def admin_remove_user_from_group(self, params: Params, ctx: RequestContext) -> Result:
        with self._writing():
            pool = self._pool(params["UserPoolId"], ctx)
            group = self._group(pool, params["GroupName"], ctx)
            user = self._find_user(pool, params["Username"], ctx)
            if group["GroupName"] in user["Groups"]:
                user["Groups"].remove(group["GroupName"])
                self._save_user(pool, user, ctx)
        return {}

    def _groups_of(
        self, pool: dict[str, Any], user: dict[str, Any], ctx: RequestContext
    ) -> list[dict[str, Any]]:
        """The user's groups, by precedence (lowest first) as AWS lists them in tokens."""
        where = self._where(pool["Id"], ctx)
        found = [self._store.get(where, GROUP, name) for name in user["Groups"]]
        groups = [group for group in found if group is not None]
        return sorted(groups, key=lambda g: (g.get("Precedence", 2**31), g["GroupName"]))

    @operation("AdminListGroupsForUser")
    def admin_list_groups_for_user(self, params: Params, ctx: RequestContext) -> Result:
        pool = self._pool(params["UserPoolId"], ctx)
        user = self._find_user(pool, params["Username"], ctx)
        return {"Groups": [_group_view(group) for group in self._groups_of(pool, user, ctx)]}

    @operation("ListUsersInGroup")
    def list_users_in_group(self, params: Params, ctx: RequestContext) -> Result:
        pool = self._pool(params["UserPoolId"], ctx)
        name = self._group(pool, params["GroupName"], ctx)["GroupName"]
        users = self._store.all(self._where(pool["Id"], ctx), USER)
        return {
            "Users": [_user_view(user, "Attributes") for user in users if name in user["Groups"]]
        }

    # ------------------------------------------------------------------------- users

    def _checked_attributes(
        self, pool: dict[str, Any], attributes: dict[str, str], *, creating: bool
    ) -> None:
        """Refuse attributes the pool's schema lacks, and (``creating``) required ones
        missing. The texts are guesses at AWS's."""
        schema = {str(a["Name"]): a for a in pool.get("Schema") or []}
        for name in attributes:
            known = name in STANDARD_ATTRIBUTES or (
                name.startswith("custom:") and name[len("custom:") :] in schema
            )
            if not known:
                raise _invalid(
                    f"Attributes did not conform to the schema: {name}: "
                    "Attribute does not exist in the schema.\n"
                )
        if creating:
            for name, entry in schema.items():
                if entry.get("Required") and name not in attributes:
                    raise _invalid(
                        f"Attributes did not conform to the schema: {name}: "
                        "The attribute is required\n"
                    )

    def _new_user(
        self,
        pool: dict[str, Any],
        username: str,
        attributes: dict[str, str],
        ctx: RequestContext,
        *,
        taken: str,
    ) -> dict[str, Any]:
        """A user record for ``username`` (an email or phone number in a pool whose
        UsernameAttributes say so: the user is then named by its sub)."""
        sub = str(uuid.uuid4())
        username_attributes = list(pool.get("UsernameAttributes") or [])
        if username_attributes:
            if "email" in username_attributes and _EMAIL.match(username):
                attributes.setdefault("email", username)
            elif "phone_number" in username_attributes and username.startswith("+"):
                attributes.setdefault("phone_number", username)
            elif username_attributes == ["email"]:
                raise _invalid("Username should be an email.")
            else:
                raise _invalid("Username should be either an email or a phone number.")
            username = sub
        self._checked_attributes(pool, attributes, creating=True)
        for existing in self._store.all(self._where(pool["Id"], ctx), USER):
            if self._key(pool, existing["Username"]) == self._key(pool, username) or (
                username_attributes
                and any(
                    a in attributes and existing["Attributes"].get(a) == attributes[a]
                    for a in username_attributes
                )
            ):
                raise AwsError("UsernameExistsException", taken)
        now = self.env.clock.now()
        attributes["sub"] = sub
        return {
            "Username": username,
            "Attributes": attributes,
            "Enabled": True,
            "UserStatus": "UNCONFIRMED",
            "UserCreateDate": now,
            "UserLastModifiedDate": now,
            "password": None,
            "password_expires": None,
            "code": None,
            "Groups": [],
        }

    def _send_code(
        self,
        pool: dict[str, Any],
        user: dict[str, Any],
        source: str,
        ctx: RequestContext,
        *,
        to_verified: bool = False,
    ) -> dict[str, str] | None:
        """Make the user a confirmation code and "deliver" it (log it; the CustomMessage
        trigger sees it); answers CodeDeliveryDetails, or None when there is nowhere to
        send it: an attribute the pool verifies, or (``to_verified``, a password reset)
        one the user verified."""
        verified = list(pool.get("AutoVerifiedAttributes") or [])
        attributes = user["Attributes"]
        medium = next(
            (
                a
                for a in ("email", "phone_number")
                if a in attributes
                and (attributes.get(f"{a}_verified") == "true" if to_verified else a in verified)
            ),
            None,
        )
        code = f"{secrets.randbelow(10**6):06d}"
        user["code"] = {"value": code, "expires": self.env.clock.now() + CODE_SECONDS}
        messages.info(
            "cognito-idp: confirmation code for %s in %s: %s", user["Username"], pool["Id"], code
        )
        if trigger_function(pool, "CustomMessage") is not None:
            self._trigger(
                pool,
                "CustomMessage",
                source,
                user,
                client_id=None,
                request={
                    "codeParameter": "{####}",
                    "linkParameter": "{##Click Here##}",
                    "usernameParameter": None,
                    "clientMetadata": {},
                },
                response={"smsMessage": None, "emailMessage": None, "emailSubject": None},
                ctx=ctx,
            )
        if medium is None:
            return None
        return {
            "Destination": _masked(attributes[medium]),
            "DeliveryMedium": "EMAIL" if medium == "email" else "SMS",
            "AttributeName": medium,
        }

    def confirmation_code(self, pool_id: str, username: str) -> str | None:
        """The confirmation code last sent to ``username`` (SignUp, ResendConfirmationCode,
        ForgotPassword): no mail leaves headwater, so tests read it here (it is also
        logged at INFO by ``headwater.messages``, which ``headwater serve`` prints)."""
        ctx = self.env.default_context()
        pool = self._pool(pool_id, ctx)
        code = self._find_user(pool, username, ctx).get("code")
        return None if code is None else str(code["value"])

    def _check_secret_hash(self, client: dict[str, Any], username: str, given: Any) -> None:
        secret = client.get("ClientSecret")
        if not secret:
            return
        if not given:
            raise _not_authorized(
                f"Client {client['ClientId']} is configured with secret but SECRET_HASH was not "
                "received"
            )
        if not hmac.compare_digest(str(given), secret_hash(username, client["ClientId"], secret)):
            raise _not_authorized(f"Unable to verify secret hash for client {client['ClientId']}")

    @operation("SignUp")
    def sign_up(self, params: Params, ctx: RequestContext) -> Result:
        pool, client = self._client_anywhere(params["ClientId"], ctx)
        username = str(params["Username"])
        self._check_secret_hash(client, username, params.get("SecretHash"))
        password = str(params.get("Password") or "")
        passwords.check_password(password, passwords.policy_of(pool))
        attributes = _attributes_given(params.get("UserAttributes"))
        with self._writing():
            user = self._new_user(pool, username, attributes, ctx, taken="User already exists")
        answer = (
            self._trigger(
                pool,
                "PreSignUp",
                "PreSignUp_SignUp",
                user,
                client_id=client["ClientId"],
                request={
                    "userAttributes": dict(attributes),
                    "validationData": _attributes_given(params.get("ValidationData")) or None,
                    "clientMetadata": params.get("ClientMetadata") or {},
                },
                response={
                    "autoConfirmUser": False,
                    "autoVerifyEmail": False,
                    "autoVerifyPhone": False,
                },
                ctx=ctx,
            )
            or {}
        )
        _keep_password(pool, user, password)
        delivery = None
        if answer.get("autoConfirmUser"):
            user["UserStatus"] = "CONFIRMED"
            if answer.get("autoVerifyEmail") and "email" in attributes:
                attributes["email_verified"] = "true"
            if answer.get("autoVerifyPhone") and "phone_number" in attributes:
                attributes["phone_number_verified"] = "true"
        else:
            delivery = self._send_code(pool, user, "CustomMessage_SignUp", ctx)
        with self._writing():
            self._new_user_exists_check(pool, user, ctx)
            self._save_user(pool, user, ctx)
        if user["UserStatus"] == "CONFIRMED":
            self._post_confirmation(pool, user, client["ClientId"], params, ctx)
        result: Result = {
            "UserConfirmed": user["UserStatus"] == "CONFIRMED",
            "UserSub": attributes["sub"],
        }
        if delivery is not None:
            result["CodeDeliveryDetails"] = delivery
        return result

    def _new_user_exists_check(
        self, pool: dict[str, Any], user: dict[str, Any], ctx: RequestContext
    ) -> None:
        """A user of the same name made while a trigger ran wins (AWS's answer to the
        second of two racing sign-ups)."""
        key = self._key(pool, user["Username"])
        if self._store.get(self._where(pool["Id"], ctx), USER, key, for_update=True) is not None:
            raise AwsError("UsernameExistsException", "User already exists")

    def _trigger(
        self,
        pool: dict[str, Any],
        trigger: str,
        source: str,
        user: dict[str, Any],
        *,
        client_id: str | None,
        request: dict[str, Any],
        response: dict[str, Any] | None = None,
        ctx: RequestContext,
    ) -> dict[str, Any] | None:
        """Run the pool's ``trigger`` for ``user``: its attributes (with its status) are
        the request's ``userAttributes`` unless ``request`` gives them."""
        return run_trigger(
            self.env.service("lambda"),
            pool,
            trigger,
            source,
            username=user["Username"],
            client_id=client_id,
            request={"userAttributes": _trigger_attributes(user), **request},
            response=response or {},
            ctx=ctx,
        )

    def _post_confirmation(
        self,
        pool: dict[str, Any],
        user: dict[str, Any],
        client_id: str | None,
        params: Params,
        ctx: RequestContext,
    ) -> None:
        self._trigger(
            pool,
            "PostConfirmation",
            "PostConfirmation_ConfirmSignUp",
            user,
            client_id=client_id,
            request={"clientMetadata": params.get("ClientMetadata") or {}},
            ctx=ctx,
        )

    def _confirm_with_code(self, pool: dict[str, Any], user: dict[str, Any], code: Any) -> None:
        kept = user.get("code")
        if kept is None or not hmac.compare_digest(str(code), kept["value"]):
            raise AwsError(
                "CodeMismatchException", "Invalid verification code provided, please try again."
            )
        if self.env.clock.now() > kept["expires"]:
            raise AwsError(
                "ExpiredCodeException", "Invalid code provided, please request a code again."
            )
        user["code"] = None

    @operation("ConfirmSignUp")
    def confirm_sign_up(self, params: Params, ctx: RequestContext) -> Result:
        pool, client = self._client_anywhere(params["ClientId"], ctx)
        self._check_secret_hash(client, str(params["Username"]), params.get("SecretHash"))
        with self._writing():
            user = self._find_user(pool, params["Username"], ctx)
            if user["UserStatus"] != "UNCONFIRMED":
                raise _not_authorized(
                    f"User cannot be confirmed. Current status is {user['UserStatus']}"
                )
            self._confirm_with_code(pool, user, params["ConfirmationCode"])
            self._confirmed(pool, user)
            self._save_user(pool, user, ctx)
        self._post_confirmation(pool, user, client["ClientId"], params, ctx)
        return {}

    def _confirmed(self, pool: dict[str, Any], user: dict[str, Any]) -> None:
        """CONFIRMED, with the attribute its code went to verified."""
        user["UserStatus"] = "CONFIRMED"
        verified = list(pool.get("AutoVerifiedAttributes") or [])
        for attribute in ("email", "phone_number"):
            if attribute in verified and attribute in user["Attributes"]:
                user["Attributes"][f"{attribute}_verified"] = "true"
                break

    @operation("AdminConfirmSignUp")
    def admin_confirm_sign_up(self, params: Params, ctx: RequestContext) -> Result:
        pool = self._pool(params["UserPoolId"], ctx)
        with self._writing():
            user = self._find_user(pool, params["Username"], ctx)
            if user["UserStatus"] != "UNCONFIRMED":
                raise _not_authorized(
                    f"User cannot be confirmed. Current status is {user['UserStatus']}"
                )
            user["UserStatus"] = "CONFIRMED"
            user["code"] = None
            self._save_user(pool, user, ctx)
        self._post_confirmation(pool, user, None, params, ctx)
        return {}

    @operation("ResendConfirmationCode")
    def resend_confirmation_code(self, params: Params, ctx: RequestContext) -> Result:
        pool, client = self._client_anywhere(params["ClientId"], ctx)
        self._check_secret_hash(client, str(params["Username"]), params.get("SecretHash"))
        with self._writing():
            user = self._find_user(pool, params["Username"], ctx)
            delivery = self._send_code(pool, user, "CustomMessage_ResendCode", ctx)
            self._save_user(pool, user, ctx)
        return {"CodeDeliveryDetails": delivery or {}}

    @operation("ForgotPassword")
    def forgot_password(self, params: Params, ctx: RequestContext) -> Result:
        pool, client = self._client_anywhere(params["ClientId"], ctx)
        self._check_secret_hash(client, str(params["Username"]), params.get("SecretHash"))
        with self._writing():
            user = self._find_user(pool, params["Username"], ctx)
            delivery = self._send_code(
                pool, user, "CustomMessage_ForgotPassword", ctx, to_verified=True
            )
            if delivery is None:
                raise _invalid(
                    "Cannot reset password for the user as there is no registered/verified "
                    "email or phone_number"
                )
            self._save_user(pool, user, ctx)
        return {"CodeDeliveryDetails": delivery}

    @operation("ConfirmForgotPassword")
    def confirm_forgot_password(self, params: Params, ctx: RequestContext) -> Result:
        pool, client = self._client_anywhere(params["ClientId"], ctx)
        self._check_secret_hash(client, str(params["Username"]), params.get("SecretHash"))
        password = str(params["Password"])
        with self._writing():
            user = self._find_user(pool, params["Username"], ctx)
            self._confirm_with_code(pool, user, params["ConfirmationCode"])
            passwords.check_password(password, passwords.policy_of(pool))
            _keep_password(pool, user, password)
            user["password_expires"] = None
            if user["UserStatus"] in ("RESET_REQUIRED", "FORCE_CHANGE_PASSWORD"):
                user["UserStatus"] = "CONFIRMED"
            self._save_user(pool, user, ctx)
        self._trigger(
            pool,
            "PostConfirmation",
            "PostConfirmation_ConfirmForgotPassword",
            user,
            client_id=client["ClientId"],
            request={"clientMetadata": params.get("ClientMetadata") or {}},
            ctx=ctx,
        )
        return {}

    @operation("AdminResetUserPassword")
    def admin_reset_user_password(self, params: Params, ctx: RequestContext) -> Result:
        """The password stops working: the user signs in again only after
        ConfirmForgotPassword with the code sent now."""
        pool = self._pool(params["UserPoolId"], ctx)
        with self._writing():
            user = self._find_user(pool, params["Username"], ctx)
            self._send_code(pool, user, "CustomMessage_ForgotPassword", ctx, to_verified=True)
            user["UserStatus"] = "RESET_REQUIRED"
            self._save_user(pool, user, ctx)
        return {}

    @operation("AdminCreateUser")
    def admin_create_user(self, params: Params, ctx: RequestContext) -> Result:
        pool = self._pool(params["UserPoolId"], ctx)
        policy = passwords.policy_of(pool)
        temporary = params.get("TemporaryPassword")
        if temporary is not None:
            passwords.check_password(str(temporary), policy)
        else:
            temporary = passwords.temporary_password(policy)
        attributes = _attributes_given(params.get("UserAttributes"))
        if params.get("MessageAction") == "RESEND":
            with self._writing():
                user = self._find_user(pool, params["Username"], ctx)
                self._set_temporary(pool, user, str(temporary), policy)
                self._save_user(pool, user, ctx)
            return {"User": _user_view(user, "Attributes")}
        with self._writing():
            user = self._new_user(
                pool, str(params["Username"]), attributes, ctx, taken="User account already exists"
            )
        self._trigger(
            pool,
            "PreSignUp",
            "PreSignUp_AdminCreateUser",
            user,
            client_id=None,
            request={
                "userAttributes": dict(attributes),
                "validationData": _attributes_given(params.get("ValidationData")) or None,
                "clientMetadata": params.get("ClientMetadata") or {},
            },
            response={"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False},
            ctx=ctx,
        )
        self._set_temporary(pool, user, str(temporary), policy)
        messages.info(
            "cognito-idp: temporary password for %s in %s: %s",
            user["Username"],
            pool["Id"],
            temporary,
        )
        with self._writing():
            self._new_user_exists_check(pool, user, ctx)
            self._save_user(pool, user, ctx)
        return {"User": _user_view(user, "Attributes")}

    def _set_temporary(
        self, pool: dict[str, Any], user: dict[str, Any], password: str, policy: dict[str, Any]
    ) -> None:
        user["UserStatus"] = "FORCE_CHANGE_PASSWORD"
        _keep_password(pool, user, password)
        days = float(policy.get("TemporaryPasswordValidityDays") or 7)
        user["password_expires"] = self.env.clock.now() + days * DAY

    @operation("AdminGetUser")
    def admin_get_user(self, params: Params, ctx: RequestContext) -> Result:
        pool = self._pool(params["UserPoolId"], ctx)
        user = self._find_user(pool, params["Username"], ctx)
        return _user_view(user, "UserAttributes")

    @operation("ListUsers")
    def list_users(self, params: Params, ctx: RequestContext) -> Result:
        pool = self._pool(params["UserPoolId"], ctx)
        users = self._store.all(self._where(pool["Id"], ctx), USER)
        given = params.get("Filter")
        if given:
            found = _FILTER.match(str(given))
            if found is None or found.group(1) not in FILTER_ATTRIBUTES:
                raise _invalid("Error while parsing filter.")
            name, how, value = found.groups()
            users = [u for u in users if _filter_matches(u, name, how, value)]
        page, token = LENIENT_DIGITS.page(
            users, params.get("PaginationToken"), int(params.get("Limit") or 60)
        )
        only = params.get("AttributesToGet")
        answer: Result = {"Users": [_user_view(u, "Attributes", only) for u in page]}
        if token:
            answer["PaginationToken"] = token
        return answer

    @operation("AdminDeleteUser")
    def admin_delete_user(self, params: Params, ctx: RequestContext) -> Result:
        pool = self._pool(params["UserPoolId"], ctx)
        with self._writing():
            user = self._find_user(pool, params["Username"], ctx)
            self._forget_user(pool, user, ctx)
        return {}

    def _forget_user(self, pool: dict[str, Any], user: dict[str, Any], ctx: RequestContext) -> None:
        where = self._where(pool["Id"], ctx)
        self._store.delete(where, USER, self._key(pool, user["Username"]))
        self._sign_out(pool, user, ctx)

    @operation("AdminSetUserPassword")
    def admin_set_user_password(self, params: Params, ctx: RequestContext) -> Result:
        pool = self._pool(params["UserPoolId"], ctx)
        policy = passwords.policy_of(pool)
        password = str(params["Password"])
        passwords.check_password(password, policy)
        with self._writing():
            user = self._find_user(pool, params["Username"], ctx)
            if params.get("Permanent"):
                _keep_password(pool, user, password)
                user["password_expires"] = None
                user["UserStatus"] = "CONFIRMED"
            else:
                self._set_temporary(pool, user, password, policy)
            self._save_user(pool, user, ctx)
        return {}

    @operation("AdminUpdateUserAttributes")
    def admin_update_user_attributes(self, params: Params, ctx: RequestContext) -> Result:
        pool = self._pool(params["UserPoolId"], ctx)
        with self._writing():
            user = self._find_user(pool, params["Username"], ctx)
            self._update_attributes(pool, user, params["UserAttributes"], ctx)
        return {}

    def _update_attributes(
        self, pool: dict[str, Any], user: dict[str, Any], given: Any, ctx: RequestContext
    ) -> None:
        changes = _attributes_given(given)
        if "sub" in changes:
            raise _invalid("Cannot modify the non-mutable attribute sub")  # a guess at the text
        self._checked_attributes(pool, changes, creating=False)
        user["Attributes"].update(changes)
        self._save_user(pool, user, ctx)

    @operation("AdminDeleteUserAttributes")
    def admin_delete_user_attributes(self, params: Params, ctx: RequestContext) -> Result:
        pool = self._pool(params["UserPoolId"], ctx)
        with self._writing():
            user = self._find_user(pool, params["Username"], ctx)
            for name in params["UserAttributeNames"]:
                user["Attributes"].pop(str(name), None)
            self._save_user(pool, user, ctx)
        return {}

    @operation("AdminDisableUser")
    def admin_disable_user(self, params: Params, ctx: RequestContext) -> Result:
        return self._set_enabled(params, ctx, enabled=False)

    @operation("AdminEnableUser")
    def admin_enable_user(self, params: Params, ctx: RequestContext) -> Result:
        return self._set_enabled(params, ctx, enabled=True)

    def _set_enabled(self, params: Params, ctx: RequestContext, *, enabled: bool) -> Result:
        pool = self._pool(params["UserPoolId"], ctx)
        with self._writing():
            user = self._find_user(pool, params["Username"], ctx)
            user["Enabled"] = enabled
            self._save_user(pool, user, ctx)
        return {}

    # ----------------------------------------------------------- the signed-in user

    def _access(self, token: Any, ctx: RequestContext) -> tuple[dict[str, Any], dict[str, Any]]:
        """The pool and user of an access token a signed-in user's call carries."""
        try:
            claims = self._verified(str(token))
        except tokens.TokenProblem as problem:
            if str(problem) == "expired":
                raise _not_authorized("Access Token has expired") from None
            raise _not_authorized("Invalid Access Token") from None
        if claims.get("token_use") != "access":
            raise _not_authorized("Invalid Access Token")
        pool_id = str(claims["iss"]).rsplit("/", 1)[1]
        pool = self._pool(pool_id, ctx)
        where = self._where(pool_id, ctx)
        if self._store.get(where, SESSION, str(claims.get("origin_jti"))) is None:
            raise _not_authorized("Access Token has been revoked")
        return pool, self._find_user(pool, claims["username"], ctx)

    @operation("GetUser")
    def get_user(self, params: Params, ctx: RequestContext) -> Result:
        _, user = self._access(params["AccessToken"], ctx)
        return {"Username": user["Username"], "UserAttributes": _attribute_list(user["Attributes"])}

    @operation("UpdateUserAttributes")
    def update_user_attributes(self, params: Params, ctx: RequestContext) -> Result:
        pool, user = self._access(params["AccessToken"], ctx)
        with self._writing():
            self._update_attributes(pool, user, params["UserAttributes"], ctx)
        return {"CodeDeliveryDetailsList": []}

    @operation("DeleteUser")
    def delete_user(self, params: Params, ctx: RequestContext) -> Result:
        pool, user = self._access(params["AccessToken"], ctx)
        with self._writing():
            self._forget_user(pool, user, ctx)
        return {}

    @operation("ChangePassword")
    def change_password(self, params: Params, ctx: RequestContext) -> Result:
        pool, user = self._access(params["AccessToken"], ctx)
        if not passwords.password_matches(
            str(params.get("PreviousPassword") or ""), user["password"]
        ):
            raise _not_authorized()
        password = str(params["ProposedPassword"])
        passwords.check_password(password, passwords.policy_of(pool))
        with self._writing():
            _keep_password(pool, user, password)
            self._save_user(pool, user, ctx)
        return {}

    @operation("GlobalSignOut")
    def global_sign_out(self, params: Params, ctx: RequestContext) -> Result:
        pool, user = self._access(params["AccessToken"], ctx)
        self._sign_out(pool, user, ctx)
        return {}

    @operation("AdminUserGlobalSignOut")
    def admin_user_global_sign_out(self, params: Params, ctx: RequestContext) -> Result:
        pool = self._pool(params["UserPoolId"], ctx)
        self._sign_out(pool, self._find_user(pool, params["Username"], ctx), ctx)
        return {}

    def _sign_out(self, pool: dict[str, Any], user: dict[str, Any], ctx: RequestContext) -> None:
        """End every sign-in of the user: its refresh tokens and the access tokens they
        gave (both carry the sign-in's origin_jti) stop working."""
        where = self._where(pool["Id"], ctx)
        for session in self._store.all(where, SESSION):
            if session["sub"] == user["Attributes"]["sub"]:
                self._store.delete(where, SESSION, session["origin_jti"])

    @operation("RevokeToken")
    def revoke_token(self, params: Params, ctx: RequestContext) -> Result:
        pool, client = self._client_anywhere(params["ClientId"], ctx)
        if client.get("ClientSecret") and params.get("ClientSecret") != client["ClientSecret"]:
            raise _not_authorized(f"Unable to verify secret hash for client {client['ClientId']}")
        session = self._session_of_refresh(pool, str(params["Token"]), ctx)
        if session is not None and session["client_id"] == client["ClientId"]:
            self._store.delete(self._where(pool["Id"], ctx), SESSION, session["origin_jti"])
        return {}

    # ---------------------------------------------------------------------- sign-in

    @operation("InitiateAuth")
    def initiate_auth(self, params: Params, ctx: RequestContext) -> Result:
        pool, client = self._client_anywhere(params["ClientId"], ctx)
        flow = str(params["AuthFlow"])
        if flow == "USER_PASSWORD_AUTH" and not _allows(client, "USER_PASSWORD_AUTH"):
            raise _invalid("USER_PASSWORD_AUTH flow not enabled for this client")
        return self._authenticate(pool, client, flow, params, ctx)

    @operation("AdminInitiateAuth")
    def admin_initiate_auth(self, params: Params, ctx: RequestContext) -> Result:
        pool = self._pool(params["UserPoolId"], ctx)
        client = self._client(pool, params["ClientId"], ctx)
        flow = str(params["AuthFlow"])
        if flow in ("ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH") and not _allows(
            client, "ADMIN_USER_PASSWORD_AUTH"
        ):
            raise _invalid("Auth flow not enabled for this client")
        if flow == "ADMIN_NO_SRP_AUTH":
            flow = "ADMIN_USER_PASSWORD_AUTH"
        return self._authenticate(pool, client, flow, params, ctx)

    def _authenticate(
        self,
        pool: dict[str, Any],
        client: dict[str, Any],
        flow: str,
        params: Params,
        ctx: RequestContext,
    ) -> Result:
        auth = {str(k): str(v) for k, v in (params.get("AuthParameters") or {}).items()}
        if flow in ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"):
            return self._refresh(pool, client, auth, params, ctx)
        if flow in ("CUSTOM_AUTH", "USER_AUTH"):
            raise _invalid(
                f"headwater does not implement the {flow} flow: sign in with USER_SRP_AUTH, "
                "USER_PASSWORD_AUTH or ADMIN_USER_PASSWORD_AUTH"
            )
        if flow not in ("USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH", "USER_SRP_AUTH"):
            raise _invalid(f"Unsupported auth flow {flow}")  # a guess at the text
        username = auth.get("USERNAME")
        password = auth.get("PASSWORD")
        if not username:
            raise _invalid("Missing required parameter USERNAME")
        if flow == "USER_SRP_AUTH":
            if not _allows(client, "USER_SRP_AUTH"):
                raise _invalid("USER_SRP_AUTH is not enabled for the client.")  # a guess
            if not auth.get("SRP_A"):
                raise _invalid("Missing required parameter SRP_A")
        elif password is None:
            raise _invalid("Missing required parameter PASSWORD")
        self._check_secret_hash(client, username, auth.get("SECRET_HASH"))
        try:
            user = self._find_user(pool, username, ctx)
        except AwsError:
            if client.get("PreventUserExistenceErrors") == "ENABLED":
                raise _not_authorized() from None
            raise
        metadata = params.get("ClientMetadata") or {}
        self._trigger(
            pool,
            "PreAuthentication",
            "PreAuthentication_Authentication",
            user,
            client_id=client["ClientId"],
            request={
                "validationData": metadata,
                "userNotFound": False,
            },
            ctx=ctx,
        )
        if not user["Enabled"]:
            raise _not_authorized("User is disabled.")
        if flow == "USER_SRP_AUTH":
            return self._srp_challenge(pool, client, user, auth["SRP_A"], ctx)
        if not passwords.password_matches(str(password), user["password"]):
            raise _not_authorized()
        return self._password_verified(pool, client, user, metadata, ctx)

    def _password_verified(
        self,
        pool: dict[str, Any],
        client: dict[str, Any],
        user: dict[str, Any],
        metadata: dict[str, Any],
        ctx: RequestContext,
    ) -> Result:
        """What a sign-in whose password was right answers, by the user's status."""
        if user["UserStatus"] == "UNCONFIRMED":
            raise AwsError("UserNotConfirmedException", "User is not confirmed.")
        if user["UserStatus"] == "RESET_REQUIRED":
            raise AwsError("PasswordResetRequiredException", "Password reset required for the user")
        if user["UserStatus"] == "FORCE_CHANGE_PASSWORD":
            if (
                user["password_expires"] is not None
                and self.env.clock.now() > user["password_expires"]
            ):
                raise _not_authorized(
                    "Temporary password has expired and must be reset by an administrator."
                )
            return self._new_password_challenge(pool, client, user, ctx)
        return self._signed_in(
            pool, client, user, "TokenGeneration_Authentication", metadata=metadata, ctx=ctx
        )

    def _signed_in(
        self,
        pool: dict[str, Any],
        client: dict[str, Any],
        user: dict[str, Any],
        source: str,
        *,
        metadata: dict[str, Any],
        ctx: RequestContext,
    ) -> Result:
        self._trigger(
            pool,
            "PostAuthentication",
            "PostAuthentication_Authentication",
            user,
            client_id=client["ClientId"],
            request={
                "newDeviceUsed": False,
                "clientMetadata": metadata,
            },
            ctx=ctx,
        )
        origin = str(uuid.uuid4())
        now = self.env.clock.now()
        expires = now + _seconds(client, "RefreshToken", 30 * DAY)
        refresh_token = _refresh_token(origin, expires)
        session = {
            "origin_jti": origin,
            "sub": user["Attributes"]["sub"],
            "username": user["Username"],
            "client_id": client["ClientId"],
            "auth_time": int(now),
            "expires": expires,
            "refresh": hashlib.sha256(refresh_token.encode()).hexdigest(),
        }
        self._store.put(self._where(pool["Id"], ctx), SESSION, origin, session)
        result = self._tokens(
            pool, client, user, session, source=source, metadata=metadata, ctx=ctx
        )
        result["RefreshToken"] = refresh_token
        return {"ChallengeParameters": {}, "AuthenticationResult": result}

    def _session_of_refresh(
        self, pool: dict[str, Any], token: str, ctx: RequestContext
    ) -> dict[str, Any] | None:
        found = _refresh_origin(token)
        if found is None:
            return None
        session = self._store.get(self._where(pool["Id"], ctx), SESSION, found[0])
        if session is None:
            return None
        if not hmac.compare_digest(session["refresh"], hashlib.sha256(token.encode()).hexdigest()):
            return None
        return session

    def _refresh(
        self,
        pool: dict[str, Any],
        client: dict[str, Any],
        auth: dict[str, str],
        params: Params,
        ctx: RequestContext,
    ) -> Result:
        token = auth.get("REFRESH_TOKEN")
        if not token:
            raise _invalid("Missing required parameter REFRESH_TOKEN")
        found = _refresh_origin(token)
        if found is not None and self.env.clock.now() > found[1]:
            # its session may be swept already: the token says when it ended
            raise _not_authorized("Refresh Token has expired")
        session = self._session_of_refresh(pool, token, ctx)
        if session is None or session["client_id"] != client["ClientId"]:
            raise _not_authorized("Invalid Refresh Token")
        # A client with a secret hashes the user's username (or sub) with it here too.
        if client.get("ClientSecret"):
            given = auth.get("SECRET_HASH")
            if not given:
                self._check_secret_hash(client, session["username"], given)
                return {}
            names = (session["username"], session["sub"])
            if not any(
                hmac.compare_digest(
                    given, secret_hash(n, client["ClientId"], client["ClientSecret"])
                )
                for n in names
            ):
                raise _not_authorized(
                    f"Unable to verify secret hash for client {client['ClientId']}"
                )
        user = self._find_user(pool, session["username"], ctx)
        if not user["Enabled"]:
            raise _not_authorized("User is disabled.")
        metadata = params.get("ClientMetadata") or {}
        result = self._tokens(
            pool,
            client,
            user,
            session,
            source="TokenGeneration_RefreshTokens",
            metadata=metadata,
            ctx=ctx,
        )
        return {"ChallengeParameters": {}, "AuthenticationResult": result}

    def _new_password_challenge(
        self,
        pool: dict[str, Any],
        client: dict[str, Any],
        user: dict[str, Any],
        ctx: RequestContext,
    ) -> Result:
        token = base64.urlsafe_b64encode(secrets.token_bytes(96)).decode("ascii")
        challenge = {
            "username": user["Username"],
            "client_id": client["ClientId"],
            "expires": self.env.clock.now() + CHALLENGE_SECONDS,
        }
        self._store.put(self._where(pool["Id"], ctx), CHALLENGE, token, challenge)
        shown = {k: v for k, v in user["Attributes"].items() if k != "sub"}
        return {
            "ChallengeName": "NEW_PASSWORD_REQUIRED",
            "Session": token,
            "ChallengeParameters": {
                "USER_ID_FOR_SRP": user["Username"],
                "requiredAttributes": "[]",
                "userAttributes": orjson.dumps(shown).decode(),
            },
        }

    @operation("RespondToAuthChallenge")
    def respond_to_auth_challenge(self, params: Params, ctx: RequestContext) -> Result:
        pool, client = self._client_anywhere(params["ClientId"], ctx)
        return self._answer_challenge(pool, client, params, ctx)

    @operation("AdminRespondToAuthChallenge")
    def admin_respond_to_auth_challenge(self, params: Params, ctx: RequestContext) -> Result:
        pool = self._pool(params["UserPoolId"], ctx)
        return self._answer_challenge(
            pool, self._client(pool, params["ClientId"], ctx), params, ctx
        )

    def _srp_challenge(
        self,
        pool: dict[str, Any],
        client: dict[str, Any],
        user: dict[str, Any],
        a_hex: str,
        ctx: RequestContext,
    ) -> Result:
        """USER_SRP_AUTH's first step: the PASSWORD_VERIFIER challenge (salt, B and a
        secret block the answer must sign); its state is kept by the secret block."""
        try:
            a_public = int(a_hex, 16)
        except ValueError:
            a_public = 0
        if a_public % srp.N == 0:
            raise _invalid("SRP_A is not valid")  # a guess at the text
        kept = user.get("srp") or srp.new_verifier(_pool_name(pool), user["Username"], "")
        b, b_public = srp.server_values(kept)
        block = base64.b64encode(secrets.token_bytes(64)).decode("ascii")
        challenge = {
            "username": user["Username"],
            "client_id": client["ClientId"],
            "expires": self.env.clock.now() + CHALLENGE_SECONDS,
            "a": a_hex,
            "b": f"{b:x}",
            "b_public": f"{b_public:x}",
        }
        self._store.put(self._where(pool["Id"], ctx), CHALLENGE, _block_key(block), challenge)
        return {
            "ChallengeName": "PASSWORD_VERIFIER",
            "ChallengeParameters": {
                "SALT": kept["salt"],
                "SECRET_BLOCK": block,
                "SRP_B": f"{b_public:x}",
                "USERNAME": user["Username"],
                "USER_ID_FOR_SRP": user["Username"],
            },
        }

    def _answer_password_verifier(
        self, pool: dict[str, Any], client: dict[str, Any], params: Params, ctx: RequestContext
    ) -> Result:
        answers = {str(k): str(v) for k, v in (params.get("ChallengeResponses") or {}).items()}
        block = answers.get("PASSWORD_CLAIM_SECRET_BLOCK", "")
        where = self._where(pool["Id"], ctx)
        challenge = self._store.get(where, CHALLENGE, _block_key(block)) if block else None
        if (
            challenge is None
            or "b" not in challenge
            or challenge["client_id"] != client["ClientId"]
            or self.env.clock.now() > challenge["expires"]
        ):
            raise _not_authorized("Invalid session for the user, session is expired.")
        self._store.delete(where, CHALLENGE, _block_key(block))
        self._check_secret_hash(client, answers.get("USERNAME", ""), answers.get("SECRET_HASH"))
        user = self._find_user(pool, challenge["username"], ctx)
        kept = user.get("srp")
        if kept is None:
            raise _not_authorized()
        try:
            key = srp.password_key(
                int(challenge["a"], 16),
                int(challenge["b_public"], 16),
                int(challenge["b"], 16),
                kept,
            )
            expected = srp.claim_signature(
                key, _pool_name(pool), user["Username"], block, answers.get("TIMESTAMP", "")
            )
        except ValueError:
            raise _not_authorized() from None
        if not hmac.compare_digest(expected, answers.get("PASSWORD_CLAIM_SIGNATURE", "")):
            raise _not_authorized()
        return self._password_verified(pool, client, user, params.get("ClientMetadata") or {}, ctx)

    def _answer_challenge(
        self, pool: dict[str, Any], client: dict[str, Any], params: Params, ctx: RequestContext
    ) -> Result:
        if params["ChallengeName"] == "PASSWORD_VERIFIER":
            return self._answer_password_verifier(pool, client, params, ctx)
        if params["ChallengeName"] != "NEW_PASSWORD_REQUIRED":
            raise _invalid(f"headwater does not implement the {params['ChallengeName']} challenge")
        answers = {str(k): str(v) for k, v in (params.get("ChallengeResponses") or {}).items()}
        where = self._where(pool["Id"], ctx)
        token = str(params.get("Session") or "")
        challenge = self._store.get(where, CHALLENGE, token) if token else None
        if (
            challenge is None
            or challenge["client_id"] != client["ClientId"]
            or self.env.clock.now() > challenge["expires"]
        ):
            raise _not_authorized("Invalid session for the user, session is expired.")
        username = answers.get("USERNAME", "")
        self._check_secret_hash(client, username, answers.get("SECRET_HASH"))
        password = answers.get("NEW_PASSWORD")
        if password is None:
            raise _invalid("Missing required parameter NEW_PASSWORD")  # a guess at the text
        passwords.check_password(password, passwords.policy_of(pool))
        with self._writing():
            user = self._find_user(pool, challenge["username"], ctx)
            if username and self._find_user(pool, username, ctx)["Username"] != user["Username"]:
                raise _not_authorized("Invalid session for the user, session is expired.")
            changes = {
                key[len("userAttributes.") :]: value
                for key, value in answers.items()
                if key.startswith("userAttributes.")
            }
            self._checked_attributes(pool, changes, creating=False)
            user["Attributes"].update(changes)
            _keep_password(pool, user, password)
            user["password_expires"] = None
            user["UserStatus"] = "CONFIRMED"
            self._save_user(pool, user, ctx)
            self._store.delete(where, CHALLENGE, token)
        metadata = params.get("ClientMetadata") or {}
        return self._signed_in(
            pool, client, user, "TokenGeneration_NewPasswordChallenge", metadata=metadata, ctx=ctx
        )

    # ------------------------------------------------------------------------- tokens

    def _issuer(self, pool_id: str) -> str:
        return f"https://cognito-idp.{pool_id.split('_', 1)[0]}.amazonaws.com/{pool_id}"

    def _tokens(
        self,
        pool: dict[str, Any],
        client: dict[str, Any],
        user: dict[str, Any],
        session: dict[str, Any],
        *,
        source: str,
        metadata: dict[str, Any],
        ctx: RequestContext,
    ) -> dict[str, Any]:
        """The ID and access tokens of one sign-in, after the pre token generation
        trigger's overrides."""
        now = int(self.env.clock.now())
        groups = [g["GroupName"] for g in self._groups_of(pool, user, ctx)]
        event_id = str(uuid.uuid4())
        common: dict[str, Any] = {
            "sub": user["Attributes"]["sub"],
            "iss": self._issuer(pool["Id"]),
            "origin_jti": session["origin_jti"],
            "event_id": event_id,
            "auth_time": session["auth_time"],
            "iat": now,
        }
        id_claims: dict[str, Any] = dict(common)
        for name, value in user["Attributes"].items():
            if name == "sub":
                continue
            id_claims[name] = value == "true" if name.endswith("_verified") else value
        id_claims.update(
            {
                "cognito:username": user["Username"],
                "aud": client["ClientId"],
                "token_use": "id",
                "exp": now + int(_seconds(client, "IdToken", 3600.0)),
                "jti": str(uuid.uuid4()),
            }
        )
        access_seconds = int(_seconds(client, "AccessToken", 3600.0))
        access: dict[str, Any] = dict(common)
        access.update(
            {
                "client_id": client["ClientId"],
                "token_use": "access",
                "scope": SCOPE,
                "exp": now + access_seconds,
                "jti": str(uuid.uuid4()),
                "username": user["Username"],
            }
        )
        if groups:
            id_claims["cognito:groups"] = groups
            access["cognito:groups"] = groups
        self._pre_token_generation(
            pool,
            client,
            user,
            groups=groups,
            source=source,
            metadata=metadata,
            id_claims=id_claims,
            access=access,
            ctx=ctx,
        )
        key = pool["signing_key"]
        return {
            "AccessToken": tokens.sign(access, key),
            "ExpiresIn": access_seconds,
            "TokenType": "Bearer",
            "IdToken": tokens.sign(id_claims, key),
        }

    def _pre_token_generation(
        self,
        pool: dict[str, Any],
        client: dict[str, Any],
        user: dict[str, Any],
        *,
        groups: list[str],
        source: str,
        metadata: dict[str, Any],
        id_claims: dict[str, Any],
        access: dict[str, Any],
        ctx: RequestContext,
    ) -> None:
        """Apply the trigger's answer: version 1 (``claimsOverrideDetails``) changes the
        ID token and both tokens' groups; version 2 (``claimsAndScopeOverrideDetails``)
        each token on its own. Claims the tokens need (sub, iss, token_use...) stay."""
        answer = self._trigger(
            pool,
            "PreTokenGeneration",
            source,
            user,
            client_id=client["ClientId"],
            request={
                "groupConfiguration": {
                    "groupsToOverride": groups,
                    "iamRolesToOverride": [],
                    "preferredRole": None,
                },
                "clientMetadata": metadata,
            },
            response={"claimsOverrideDetails": None},
            ctx=ctx,
        )
        if not answer:
            return
        v1 = answer.get("claimsOverrideDetails") or {}
        v2 = answer.get("claimsAndScopeOverrideDetails") or {}
        overrides = [(id_claims, v1)] if v1 else []
        if v2:
            overrides = [
                (id_claims, v2.get("idTokenGeneration") or {}),
                (access, v2.get("accessTokenGeneration") or {}),
            ]
        for claims, change in overrides:
            for name in change.get("claimsToSuppress") or []:
                if name not in _KEPT_CLAIMS:
                    claims.pop(str(name), None)
            for name, value in (change.get("claimsToAddOrOverride") or {}).items():
                if name not in _KEPT_CLAIMS:
                    claims[str(name)] = value
        scopes = (v2.get("accessTokenGeneration") or {}) if v2 else {}
        if scopes:
            kept = [
                s
                for s in access["scope"].split()
                if s not in (scopes.get("scopesToSuppress") or [])
            ]
            kept += [str(s) for s in scopes.get("scopesToAdd") or [] if s not in kept]
            access["scope"] = " ".join(kept)
        group_change = (v2 or v1).get("groupOverrideDetails")
        if isinstance(group_change, dict) and group_change.get("groupsToOverride") is not None:
            overridden = [str(g) for g in group_change["groupsToOverride"]]
            for claims in (id_claims, access):
                if overridden:
                    claims["cognito:groups"] = overridden
                else:
                    claims.pop("cognito:groups", None)

    def _verified(self, token: str) -> dict[str, Any]:
        claims = tokens.unverified_claims(token)
        issuer = str(claims.get("iss", ""))
        pool_id = issuer.rsplit("/", 1)[-1]
        found = self._store.pool_anywhere(pool_id) if "_" in pool_id else None
        if found is None or issuer != self._issuer(pool_id):
            raise tokens.TokenProblem("issuer is no pool of this headwater")
        verified = tokens.verify_signature(token, found[2]["signing_key"])
        exp = verified.get("exp")
        if not isinstance(exp, int | float) or self.env.clock.now() >= exp:
            raise tokens.TokenProblem("expired")
        return verified

    def verify_jwt(
        self,
        token: str,
        *,
        token_use: str | None = None,
        client_ids: list[str] | None = None,
        pool_ids: list[str] | None = None,
    ) -> dict[str, Any]:
        """The claims of a user pool's ID or access token, for API Gateway authorizers
        (COGNITO_USER_POOLS on REST APIs, JWT on HTTP APIs).

        Checks that ``token`` is an RS256 JWT whose ``iss`` is
        ``https://cognito-idp.<region>.amazonaws.com/<poolId>`` of a pool of this headwater,
        signed with that pool's key, and not expired (``exp`` on the headwater clock).
        ``token_use`` (``"id"`` or ``"access"``), ``client_ids`` (its ``aud``, or an
        access token's ``client_id``: an HTTP API JWT authorizer's audience) and
        ``pool_ids`` (the issuing pool: a REST authorizer's providerARNs name them) are
        checked when given. It does not check whether
        the token was revoked (GlobalSignOut), as API Gateway does not either.
        Raises ``TokenProblem`` (a ``ValueError``) saying why a token is refused.
        """
        claims = self._verified(token)
        if pool_ids is not None and str(claims["iss"]).rsplit("/", 1)[-1] not in pool_ids:
            raise tokens.TokenProblem("issued by another pool")
        use = claims.get("token_use")
        if use not in ("id", "access") or (token_use is not None and use != token_use):
            raise tokens.TokenProblem(f"token_use is {use!r}")
        if client_ids is not None:
            client = claims.get("aud") if use == "id" else claims.get("client_id")
            if client not in client_ids:
                raise tokens.TokenProblem("issued to another client")
        return claims

    def jwks(self, pool_id: str) -> dict[str, Any] | None:
        """The pool's JSON Web Key Set (its public key), or None for no such pool."""
        found = self._store.pool_anywhere(pool_id)
        if found is None:
            return None
        return {"keys": [tokens.public_jwk(found[2]["signing_key"])]}

    def openid_configuration(self, pool_id: str, keys_url: str) -> dict[str, Any] | None:
        """The pool's OpenID discovery document, its keys at ``keys_url``."""
        if self._store.pool_anywhere(pool_id) is None:
            return None
        return {
            "issuer": self._issuer(pool_id),
            "jwks_uri": keys_url,
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["public"],
            "response_types_supported": ["code", "token"],
            "scopes_supported": ["openid", "email", "phone", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }


#: Claims the pre token generation trigger may not change (AWS ignores those changes).
_KEPT_CLAIMS = frozenset(
    [
        "acr",
        "amr",
        "at_hash",
        "auth_time",
        "azp",
        "c_hash",
        "exp",
        "iat",
        "iss",
        "jti",
        "nbf",
        "nonce",
        "origin_jti",
        "sub",
        "token_use",
        "aud",
        "client_id",
        "cognito:username",
        "username",
        "identities",
        "event_id",
    ]
)


def _allows(client: dict[str, Any], flow: str) -> bool:
    """Whether the client's ExplicitAuthFlows allow ``flow`` (none given: SRP, custom
    and refresh, as AWS makes a client without them)."""
    flows = set(client.get("ExplicitAuthFlows") or [])
    if not flows:
        flows = {"ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
    legacy = {
        "USER_PASSWORD_AUTH": "USER_PASSWORD_AUTH",
        "ADMIN_USER_PASSWORD_AUTH": "ADMIN_NO_SRP_AUTH",
        "USER_SRP_AUTH": "ALLOW_USER_SRP_AUTH",
    }
    return f"ALLOW_{flow}" in flows or legacy[flow] in flows


def _pool_name(pool: dict[str, Any]) -> str:
    """The part of the pool id after its region: SRP hashes it with the password."""
    return str(pool["Id"]).split("_", 1)[1]


def _keep_password(pool: dict[str, Any], user: dict[str, Any], password: str) -> None:
    """Keep what checks ``password`` later: its scrypt hash, and the SRP verifier."""
    user["password"] = passwords.hash_password(password)
    user["srp"] = srp.new_verifier(_pool_name(pool), user["Username"], password)


def _block_key(block: str) -> str:
    """The key a PASSWORD_VERIFIER challenge is kept under: its secret block's hash."""
    return "srp-" + hashlib.sha256(block.encode()).hexdigest()


def _refresh_token(origin: str, expires: float) -> str:
    """An opaque refresh token (AWS's are JWE) carrying the sign-in's origin_jti and when
    it ends (the session is checked too: its hash of the whole token)."""
    head = base64.urlsafe_b64encode(b'{"cty":"JWT","enc":"A256GCM","alg":"RSA-OAEP"}')
    body = base64.urlsafe_b64encode(f"{origin}|{expires!r}".encode()).rstrip(b"=").decode()
    return f"{head.rstrip(b'=').decode()}.{body}.{secrets.token_urlsafe(96)}"


def _refresh_origin(token: str) -> tuple[str, float] | None:
    """The origin_jti and end a refresh token carries (``None``: not one of ours)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        text = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)).decode()
        origin, _, expires = text.partition("|")
        return origin, float(expires)
    except (ValueError, UnicodeDecodeError):
        return None


def _trigger_attributes(user: dict[str, Any]) -> dict[str, str]:
    """The user's attributes as triggers see them (with its status)."""
    return {**user["Attributes"], "cognito:user_status": user["UserStatus"]}


def _filter_matches(user: dict[str, Any], name: str, how: str, value: str) -> bool:
    if name == "username":
        actual = user["Username"]
    elif name == "cognito:user_status":
        actual = user["UserStatus"]
    elif name == "status":
        actual = "Enabled" if user["Enabled"] else "Disabled"
    else:
        actual = user["Attributes"].get(name)
    if actual is None:
        return False
    return bool(actual == value if how == "=" else str(actual).startswith(value))


#: SetUserPoolMfaConfig's settings, kept in the pool as given.
#: Settings an update keeps when its request leaves them out (guesses: AWS resets the
#: others to their defaults and says nothing of these).
KEPT_WHEN_LEFT_OUT = frozenset({"PoolName", "UserPoolTags", "ClientName"})


def _reset_settings(record: dict[str, Any], operation: str) -> dict[str, Any]:
    """``record`` (a pool's or an app client's) without the settings ``operation`` (its
    Update operation) sets, for the request's to replace: those it leaves out go back to
    their defaults (``_pool_defaults``, ``_client_defaults``), as AWS resets them."""
    shape = service_model("cognito-idp").operation_model(operation).input_shape
    settable = set(shape.members) - KEPT_WHEN_LEFT_OUT - set(shape.required_members)
    return {key: value for key, value in record.items() if key not in settable}


def _pool_defaults(pool: dict[str, Any]) -> None:
    """The settings a pool has when its request leaves them out: the password policy's
    members AWS fills in, and MFA off."""
    pool.setdefault("Policies", {})
    pool["Policies"]["PasswordPolicy"] = passwords.policy_of(pool)
    pool.setdefault("MfaConfiguration", "OFF")


def _client_defaults(client: dict[str, Any]) -> None:
    """The settings an app client has when its request leaves them out, as AWS answers
    them."""
    client.setdefault("RefreshTokenValidity", 30)
    client.setdefault("PreventUserExistenceErrors", "LEGACY")
    client.setdefault("EnableTokenRevocation", True)
    client.setdefault("AuthSessionValidity", 3)


MFA_SETTINGS = (
    "SmsMfaConfiguration",
    "SoftwareTokenMfaConfiguration",
    "EmailMfaConfiguration",
    "WebAuthnConfiguration",
)


def _schema_attribute(entry: dict[str, Any]) -> dict[str, Any]:
    """A Schema entry as DescribeUserPool lists it: custom attributes named ``custom:...``,
    AWS's defaults for the flags left out."""
    name = str(entry.get("Name", ""))
    if name not in STANDARD_ATTRIBUTES:
        name = f"custom:{name}"
    defaults = {"DeveloperOnlyAttribute": False, "Mutable": True, "Required": False}
    return {**defaults, **entry, "Name": name}


def _mfa_view(pool: dict[str, Any]) -> dict[str, Any]:
    view = {key: pool[key] for key in MFA_SETTINGS if key in pool}
    view["MfaConfiguration"] = pool.get("MfaConfiguration", "OFF")
    return view


def _user_view(user: dict[str, Any], attributes_key: str, only: Any = None) -> dict[str, Any]:
    return {
        "Username": user["Username"],
        attributes_key: _attribute_list(user["Attributes"], only),
        "UserCreateDate": as_datetime(user["UserCreateDate"]),
        "UserLastModifiedDate": as_datetime(user["UserLastModifiedDate"]),
        "Enabled": user["Enabled"],
        "UserStatus": user["UserStatus"],
    }


def _client_view(client: dict[str, Any]) -> dict[str, Any]:
    view = dict(client)
    view["CreationDate"] = as_datetime(client["CreationDate"])
    view["LastModifiedDate"] = as_datetime(client["LastModifiedDate"])
    return view


def _group_view(group: dict[str, Any]) -> dict[str, Any]:
    view = dict(group)
    view["CreationDate"] = as_datetime(group["CreationDate"])
    view["LastModifiedDate"] = as_datetime(group["LastModifiedDate"])
    return view
