"""Cognito user pools: pools and app clients, sign-up and confirmation, sign-in with the
password flows, refresh and sign-out, the NEW_PASSWORD_REQUIRED challenge, users, groups,
AWS's errors, and the RS256 tokens (claims, expiry on the clock, the JWKS); through
``hw.client`` and through boto3 over the wire (the ASGI app, no sockets)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from headwater import Headwater, ManualClock
from headwater.services.cognitoidp import CognitoIdpService, TokenProblem
from headwater.services.cognitoidp.service import secret_hash
from headwater.services.cognitoidp.store import USER, UserPoolStore
from tests.asgi_boto import in_process_aws

PASSWORD = "Corr3ct-horse"
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


@pytest.fixture(params=["in-process", "wire"])
def idp(request: pytest.FixtureRequest, hw: Headwater) -> Iterator[Any]:
    """A cognito-idp client of ``hw``: ``hw.client``, or boto3 through the ASGI app."""
    if request.param == "in-process":
        yield hw.client("cognito-idp")
        return
    with in_process_aws(hw) as aws:
        yield aws.client("cognito-idp")


def service_of(hw: Headwater) -> CognitoIdpService:
    found = hw.service("cognito-idp")
    assert isinstance(found, CognitoIdpService)
    return found


def error_of(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def claims_of(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def pool_and_client(idp: Any, **client: Any) -> tuple[str, str]:
    pool_id = idp.create_user_pool(PoolName="users", AutoVerifiedAttributes=["email"])["UserPool"][
        "Id"
    ]
    made = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=FLOWS, **client
    )
    return pool_id, made["UserPoolClient"]["ClientId"]


def signed_up(hw: Headwater, idp: Any, pool_id: str, client_id: str, name: str = "ann") -> None:
    idp.sign_up(
        ClientId=client_id,
        Username=name,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}],
    )
    code = service_of(hw).confirmation_code(pool_id, name)
    assert code is not None
    idp.confirm_sign_up(ClientId=client_id, Username=name, ConfirmationCode=code)


def sign_in(idp: Any, client_id: str, name: str = "ann", password: str = PASSWORD) -> Any:
    answer = idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": name, "PASSWORD": password},
    )
    return answer["AuthenticationResult"]


def test_pools_and_clients(idp: Any) -> None:
    made = idp.create_user_pool(
        PoolName="users",
        Policies={"PasswordPolicy": {"MinimumLength": 10, "RequireSymbols": False}},
    )["UserPool"]
    pool_id = made["Id"]
    region, _, suffix = pool_id.partition("_")
    assert region == "us-east-1" and len(suffix) == 9 and suffix.isalnum()
    assert made["Arn"] == f"arn:aws:cognito-idp:us-east-1:000000000000:userpool/{pool_id}"
    policy = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] == 10 and policy["RequireSymbols"] is False
    # a policy given requires only what it says, as AWS reads members left out
    assert policy["RequireUppercase"] is False and policy["TemporaryPasswordValidityDays"] == 7
    default = idp.create_user_pool(PoolName="defaults")["UserPool"]["Policies"]["PasswordPolicy"]
    assert default["MinimumLength"] == 8 and default["RequireUppercase"] is True
    listed = idp.list_user_pools(MaxResults=10)["UserPools"]
    assert sorted(p["Name"] for p in listed) == ["defaults", "users"]
    idp.update_user_pool(UserPoolId=pool_id, MfaConfiguration="OFF", UserPoolTags={"team": "a"})
    assert idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["UserPoolTags"] == {"team": "a"}

    plain = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web")["UserPoolClient"]
    assert len(plain["ClientId"]) == 26 and "ClientSecret" not in plain
    secret = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="api", GenerateSecret=True, ExplicitAuthFlows=FLOWS
    )["UserPoolClient"]
    assert len(secret["ClientSecret"]) > 40
    described = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=secret["ClientId"])
    assert described["UserPoolClient"]["ExplicitAuthFlows"] == FLOWS
    listed = idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=10)["UserPoolClients"]
    assert sorted(c["ClientName"] for c in listed) == ["api", "web"]
    updated = idp.update_user_pool_client(
        UserPoolId=pool_id, ClientId=plain["ClientId"], ClientName="web2", AccessTokenValidity=2
    )["UserPoolClient"]
    assert (updated["ClientName"], updated["AccessTokenValidity"]) == ("web2", 2)
    idp.delete_user_pool_client(UserPoolId=pool_id, ClientId=plain["ClientId"])
    assert error_of(
        idp.describe_user_pool_client, UserPoolId=pool_id, ClientId=plain["ClientId"]
    ) == ("ResourceNotFoundException", f"User pool client {plain['ClientId']} does not exist.")
    idp.delete_user_pool(UserPoolId=pool_id)
    assert error_of(idp.describe_user_pool, UserPoolId=pool_id) == (
        "ResourceNotFoundException",
        f"User pool {pool_id} does not exist.",
    )


def test_updates_reset_the_settings_they_leave_out(idp: Any) -> None:
    # AWS: "If you don't provide a value for an attribute, Amazon Cognito sets it to its
    # default value" (UpdateUserPool, UpdateUserPoolClient)
    pool_id = idp.create_user_pool(
        PoolName="users",
        AutoVerifiedAttributes=["email"],
        Policies={"PasswordPolicy": {"MinimumLength": 12}},
        MfaConfiguration="OFF",
        DeletionProtection="ACTIVE",
        EmailVerificationSubject="Your code",
        UsernameAttributes=["email"],
        UserPoolTags={"team": "a"},
    )["UserPool"]["Id"]
    idp.update_user_pool(UserPoolId=pool_id, EmailVerificationMessage="Code: {####}")
    pool = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert pool["EmailVerificationMessage"] == "Code: {####}"
    for reset in ("AutoVerifiedAttributes", "DeletionProtection", "EmailVerificationSubject"):
        assert reset not in pool, reset
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 8
    assert (pool["MfaConfiguration"], pool["LambdaConfig"]) == ("OFF", {})
    # what UpdateUserPool cannot set stays; the name and tags left out stay (guesses)
    assert pool["UsernameAttributes"] == ["email"]
    assert (pool["Name"], pool["UserPoolTags"]) == ("users", {"team": "a"})

    made = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="web",
        GenerateSecret=True,
        ExplicitAuthFlows=FLOWS,
        AccessTokenValidity=2,
        RefreshTokenValidity=5,
        CallbackURLs=["https://example.com/cb"],
    )["UserPoolClient"]
    updated = idp.update_user_pool_client(
        UserPoolId=pool_id, ClientId=made["ClientId"], LogoutURLs=["https://example.com/out"]
    )["UserPoolClient"]
    assert updated["LogoutURLs"] == ["https://example.com/out"]
    for reset in ("ExplicitAuthFlows", "AccessTokenValidity", "CallbackURLs"):
        assert reset not in updated, reset
    assert updated["RefreshTokenValidity"] == 30
    assert (updated["ClientName"], updated["ClientSecret"]) == ("web", made["ClientSecret"])


def test_sign_up_confirm_and_sign_in(hw: Headwater, idp: Any) -> None:
    pool_id, client_id = pool_and_client(idp)
    made = idp.sign_up(
        ClientId=client_id,
        Username="ann",
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "ann@example.com"}],
    )
    assert made["UserConfirmed"] is False
    assert made["CodeDeliveryDetails"] == {
        "Destination": "a***@e***",
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    }
    assert error_of(idp.sign_up, ClientId=client_id, Username="ann", Password=PASSWORD) == (
        "UsernameExistsException",
        "User already exists",
    )
    assert error_of(
        idp.initiate_auth,
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ann", "PASSWORD": PASSWORD},
    ) == ("UserNotConfirmedException", "User is not confirmed.")
    assert error_of(
        idp.confirm_sign_up, ClientId=client_id, Username="ann", ConfirmationCode="000000x"
    ) == ("CodeMismatchException", "Invalid verification code provided, please try again.")
    code = service_of(hw).confirmation_code(pool_id, "ann")
    assert code is not None and len(code) == 6
    idp.confirm_sign_up(ClientId=client_id, Username="ann", ConfirmationCode=code)
    assert error_of(
        idp.confirm_sign_up, ClientId=client_id, Username="ann", ConfirmationCode=code
    ) == ("NotAuthorizedException", "User cannot be confirmed. Current status is CONFIRMED")
    got = idp.admin_get_user(UserPoolId=pool_id, Username="ann")
    assert got["UserStatus"] == "CONFIRMED" and got["Enabled"] is True
    attributes = {a["Name"]: a["Value"] for a in got["UserAttributes"]}
    assert attributes["email_verified"] == "true" and attributes["sub"] == made["UserSub"]

    tokens = sign_in(idp, client_id)
    assert tokens["TokenType"] == "Bearer" and tokens["ExpiresIn"] == 3600
    me = idp.get_user(AccessToken=tokens["AccessToken"])
    assert me["Username"] == "ann"
    assert {"Name": "email", "Value": "ann@example.com"} in me["UserAttributes"]
    assert error_of(
        idp.initiate_auth,
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ann", "PASSWORD": "Wrong-pass1"},
    ) == ("NotAuthorizedException", "Incorrect username or password.")
    assert error_of(
        idp.initiate_auth,
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "nobody", "PASSWORD": PASSWORD},
    ) == ("UserNotFoundException", "User does not exist.")
    assert error_of(
        idp.initiate_auth,
        ClientId=client_id,
        AuthFlow="USER_SRP_AUTH",
        AuthParameters={"USERNAME": "ann", "SRP_A": "1"},
    )[0] == ("InvalidParameterException")
    idp.admin_disable_user(UserPoolId=pool_id, Username="ann")
    assert error_of(
        idp.initiate_auth,
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ann", "PASSWORD": PASSWORD},
    ) == ("NotAuthorizedException", "User is disabled.")


def test_password_policy_texts(idp: Any) -> None:
    _, client_id = pool_and_client(idp)
    cases = {
        "Sh0rt!": "Password not long enough",
        "NOLOWER1!": "Password must have lowercase characters",
        "noupper1!": "Password must have uppercase characters",
        "NoNumbers!": "Password must have numeric characters",
        "NoSymbols1": "Password must have symbol characters",
    }
    for password, problem in cases.items():
        assert error_of(idp.sign_up, ClientId=client_id, Username="bob", Password=password) == (
            "InvalidPasswordException",
            f"Password did not conform with policy: {problem}",
        )


def test_passwords_are_kept_hashed(hw: Headwater, idp: Any) -> None:
    pool_id, client_id = pool_and_client(idp)
    signed_up(hw, idp, pool_id, client_id)
    store = hw.database.store(UserPoolStore)
    user = store.get(("000000000000", "us-east-1", pool_id), USER, "ann")
    assert user is not None
    assert PASSWORD not in json.dumps(user)
    assert set(user["password"]) == {"salt", "scrypt"}


def test_flows_the_client_does_not_allow_and_user_existence_errors(idp: Any) -> None:
    pool_id = idp.create_user_pool(PoolName="p")["UserPool"]["Id"]
    bare = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="bare")["UserPoolClient"]
    params = {"AuthParameters": {"USERNAME": "x", "PASSWORD": "y"}}
    assert error_of(
        idp.initiate_auth, ClientId=bare["ClientId"], AuthFlow="USER_PASSWORD_AUTH", **params
    ) == ("InvalidParameterException", "USER_PASSWORD_AUTH flow not enabled for this client")
    assert error_of(
        idp.admin_initiate_auth,
        UserPoolId=pool_id,
        ClientId=bare["ClientId"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        **params,
    ) == ("InvalidParameterException", "Auth flow not enabled for this client")
    hidden = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="hidden",
        ExplicitAuthFlows=FLOWS,
        PreventUserExistenceErrors="ENABLED",
    )["UserPoolClient"]
    assert error_of(
        idp.initiate_auth, ClientId=hidden["ClientId"], AuthFlow="USER_PASSWORD_AUTH", **params
    ) == ("NotAuthorizedException", "Incorrect username or password.")
    assert error_of(
        idp.initiate_auth, ClientId="nosuchclient", AuthFlow="USER_PASSWORD_AUTH", **params
    ) == ("ResourceNotFoundException", "User pool client nosuchclient does not exist.")


def test_a_client_with_a_secret_needs_the_secret_hash(hw: Headwater, idp: Any) -> None:
    pool_id, client_id = pool_and_client(idp, GenerateSecret=True)
    secret = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)[
        "UserPoolClient"
    ]["ClientSecret"]
    assert error_of(idp.sign_up, ClientId=client_id, Username="ann", Password=PASSWORD) == (
        "NotAuthorizedException",
        f"Client {client_id} is configured with secret but SECRET_HASH was not received",
    )
    assert error_of(
        idp.sign_up, ClientId=client_id, Username="ann", Password=PASSWORD, SecretHash="bad"
    ) == ("NotAuthorizedException", f"Unable to verify secret hash for client {client_id}")
    good = secret_hash("ann", client_id, secret)
    idp.sign_up(ClientId=client_id, Username="ann", Password=PASSWORD, SecretHash=good)
    idp.admin_confirm_sign_up(UserPoolId=pool_id, Username="ann")
    answer = idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ann", "PASSWORD": PASSWORD, "SECRET_HASH": good},
    )["AuthenticationResult"]
    renewed = idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": answer["RefreshToken"], "SECRET_HASH": good},
    )["AuthenticationResult"]
    assert "IdToken" in renewed


def test_admin_created_user_answers_new_password_required(
    hw: Headwater, idp: Any, clock: ManualClock
) -> None:
    pool_id, client_id = pool_and_client(idp)
    made = idp.admin_create_user(
        UserPoolId=pool_id,
        Username="carl",
        TemporaryPassword="Temp-pass1",
        UserAttributes=[{"Name": "email", "Value": "carl@example.com"}],
        MessageAction="SUPPRESS",
    )["User"]
    assert made["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert error_of(
        idp.admin_create_user, UserPoolId=pool_id, Username="carl", MessageAction="SUPPRESS"
    ) == ("UsernameExistsException", "User account already exists")
    challenge = idp.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "carl", "PASSWORD": "Temp-pass1"},
    )
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert challenge["ChallengeParameters"]["USER_ID_FOR_SRP"] == "carl"
    assert json.loads(challenge["ChallengeParameters"]["userAttributes"]) == {
        "email": "carl@example.com"
    }
    assert error_of(
        idp.respond_to_auth_challenge,
        ClientId=client_id,
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": "carl", "NEW_PASSWORD": "short"},
    ) == (
        "InvalidPasswordException",
        "Password did not conform with policy: Password not long enough",
    )
    answered = idp.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=challenge["Session"],
        ChallengeResponses={
            "USERNAME": "carl",
            "NEW_PASSWORD": "Brand-new-1",
            "userAttributes.name": "Carl",
        },
    )
    assert claims_of(answered["AuthenticationResult"]["IdToken"])["name"] == "Carl"
    assert idp.admin_get_user(UserPoolId=pool_id, Username="carl")["UserStatus"] == "CONFIRMED"
    sign_in(idp, client_id, "carl", "Brand-new-1")

    # a temporary password lasts TemporaryPasswordValidityDays on the clock
    idp.admin_create_user(
        UserPoolId=pool_id, Username="dee", TemporaryPassword="Temp-pass1", MessageAction="SUPPRESS"
    )
    clock.advance(8 * 86400)
    assert error_of(
        idp.admin_initiate_auth,
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "dee", "PASSWORD": "Temp-pass1"},
    ) == (
        "NotAuthorizedException",
        "Temporary password has expired and must be reset by an administrator.",
    )
    idp.admin_set_user_password(
        UserPoolId=pool_id, Username="dee", Password="Perm-pass-1", Permanent=True
    )
    assert idp.admin_get_user(UserPoolId=pool_id, Username="dee")["UserStatus"] == "CONFIRMED"
    sign_in(idp, client_id, "dee", "Perm-pass-1")


def test_users_list_filter_update_and_delete(hw: Headwater, idp: Any) -> None:
    pool_id, client_id = pool_and_client(idp)
    for name in ("ann", "anna", "bob"):
        signed_up(hw, idp, pool_id, client_id, name)
    listed = idp.list_users(UserPoolId=pool_id)["Users"]
    assert [u["Username"] for u in listed] == ["ann", "anna", "bob"]
    found = idp.list_users(UserPoolId=pool_id, Filter='username ^= "ann"')["Users"]
    assert [u["Username"] for u in found] == ["ann", "anna"]
    found = idp.list_users(UserPoolId=pool_id, Filter='email = "bob@example.com"')["Users"]
    assert [u["Username"] for u in found] == ["bob"]
    only = idp.list_users(UserPoolId=pool_id, Filter='username = "bob"', AttributesToGet=["email"])
    assert only["Users"][0]["Attributes"] == [{"Name": "email", "Value": "bob@example.com"}]
    assert error_of(idp.list_users, UserPoolId=pool_id, Filter="username is bob") == (
        "InvalidParameterException",
        "Error while parsing filter.",
    )
    paged = idp.list_users(UserPoolId=pool_id, Limit=2)
    rest = idp.list_users(UserPoolId=pool_id, Limit=2, PaginationToken=paged["PaginationToken"])
    assert [u["Username"] for u in paged["Users"] + rest["Users"]] == ["ann", "anna", "bob"]

    idp.admin_update_user_attributes(
        UserPoolId=pool_id, Username="ann", UserAttributes=[{"Name": "name", "Value": "Ann"}]
    )
    tokens = sign_in(idp, client_id)
    idp.update_user_attributes(
        AccessToken=tokens["AccessToken"],
        UserAttributes=[{"Name": "family_name", "Value": "Lee"}],
    )
    attributes = {
        a["Name"]: a["Value"]
        for a in idp.admin_get_user(UserPoolId=pool_id, Username="ann")["UserAttributes"]
    }
    assert (attributes["name"], attributes["family_name"]) == ("Ann", "Lee")
    assert error_of(
        idp.admin_update_user_attributes,
        UserPoolId=pool_id,
        Username="ann",
        UserAttributes=[{"Name": "custom:nope", "Value": "x"}],
    )[0] == ("InvalidParameterException")
    idp.delete_user(AccessToken=tokens["AccessToken"])
    idp.admin_delete_user(UserPoolId=pool_id, Username="bob")
    assert error_of(idp.admin_get_user, UserPoolId=pool_id, Username="bob") == (
        "UserNotFoundException",
        "User does not exist.",
    )
    assert [u["Username"] for u in idp.list_users(UserPoolId=pool_id)["Users"]] == ["anna"]


def test_email_as_username(hw: Headwater, idp: Any) -> None:
    pool_id = idp.create_user_pool(PoolName="p", UsernameAttributes=["email"])["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="c", ExplicitAuthFlows=FLOWS
    )["UserPoolClient"]["ClientId"]
    assert error_of(idp.sign_up, ClientId=client_id, Username="ann", Password=PASSWORD) == (
        "InvalidParameterException",
        "Username should be an email.",
    )
    sub = idp.sign_up(ClientId=client_id, Username="ann@example.com", Password=PASSWORD)["UserSub"]
    idp.admin_confirm_sign_up(UserPoolId=pool_id, Username="ann@example.com")
    claims = claims_of(sign_in(idp, client_id, "ann@example.com")["IdToken"])
    assert claims["cognito:username"] == sub and claims["email"] == "ann@example.com"
    assert error_of(
        idp.sign_up, ClientId=client_id, Username="ann@example.com", Password=PASSWORD
    ) == ("UsernameExistsException", "User already exists")


def test_email_or_phone_as_username(idp: Any) -> None:
    pool_id = idp.create_user_pool(PoolName="p", UsernameAttributes=["email", "phone_number"])[
        "UserPool"
    ]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="c")["UserPoolClient"][
        "ClientId"
    ]
    # neither has a phone number: two users all the same
    for email in ("ann@example.com", "bob@example.com"):
        idp.sign_up(ClientId=client_id, Username=email, Password=PASSWORD)
    idp.sign_up(ClientId=client_id, Username="+15550100", Password=PASSWORD)
    users = idp.list_users(UserPoolId=pool_id)["Users"]
    assert len(users) == 3
    assert error_of(idp.sign_up, ClientId=client_id, Username="ann", Password=PASSWORD) == (
        "InvalidParameterException",
        "Username should be either an email or a phone number.",
    )


def test_groups_become_the_cognito_groups_claim(hw: Headwater, idp: Any) -> None:
    pool_id, client_id = pool_and_client(idp)
    signed_up(hw, idp, pool_id, client_id)
    idp.create_group(UserPoolId=pool_id, GroupName="readers", Precedence=5)
    idp.create_group(UserPoolId=pool_id, GroupName="admins", Precedence=1, Description="all")
    assert error_of(idp.create_group, UserPoolId=pool_id, GroupName="admins") == (
        "GroupExistsException",
        "A group with the name admins already exists.",
    )
    for group in ("readers", "admins"):
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username="ann", GroupName=group)
    assert error_of(
        idp.admin_add_user_to_group, UserPoolId=pool_id, Username="ann", GroupName="nope"
    ) == ("ResourceNotFoundException", "Group not found.")
    groups = idp.admin_list_groups_for_user(UserPoolId=pool_id, Username="ann")["Groups"]
    assert [g["GroupName"] for g in groups] == ["admins", "readers"]
    tokens = sign_in(idp, client_id)
    assert claims_of(tokens["IdToken"])["cognito:groups"] == ["admins", "readers"]
    assert claims_of(tokens["AccessToken"])["cognito:groups"] == ["admins", "readers"]
    in_group = idp.list_users_in_group(UserPoolId=pool_id, GroupName="admins")["Users"]
    assert [u["Username"] for u in in_group] == ["ann"]
    idp.admin_remove_user_from_group(UserPoolId=pool_id, Username="ann", GroupName="readers")
    idp.delete_group(UserPoolId=pool_id, GroupName="admins")
    assert "cognito:groups" not in claims_of(sign_in(idp, client_id)["IdToken"])


def test_token_claims_and_expiry_on_the_clock(hw: Headwater, idp: Any, clock: ManualClock) -> None:
    pool_id, client_id = pool_and_client(idp)
    signed_up(hw, idp, pool_id, client_id)
    tokens = sign_in(idp, client_id)
    now = int(clock.now())
    issuer = f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}"
    id_claims = claims_of(tokens["IdToken"])
    access = claims_of(tokens["AccessToken"])
    assert id_claims["iss"] == access["iss"] == issuer
    assert id_claims["sub"] == access["sub"]
    assert (id_claims["aud"], access["client_id"]) == (client_id, client_id)
    assert (id_claims["token_use"], access["token_use"]) == ("id", "access")
    assert id_claims["cognito:username"] == "ann" and access["username"] == "ann"
    assert id_claims["email"] == "ann@example.com" and id_claims["email_verified"] is True
    assert access["scope"] == "aws.cognito.signin.user.admin"
    assert id_claims["iat"] == id_claims["auth_time"] == now
    assert id_claims["exp"] == access["exp"] == now + 3600
    assert id_claims["origin_jti"] == access["origin_jti"]
    assert id_claims["jti"] != access["jti"] and id_claims["event_id"] == access["event_id"]

    service = service_of(hw)
    assert service.verify_jwt(tokens["IdToken"], token_use="id", client_ids=[client_id])["sub"]
    assert service.verify_jwt(tokens["AccessToken"], pool_ids=[pool_id])["username"] == "ann"
    with pytest.raises(TokenProblem):
        service.verify_jwt(tokens["AccessToken"], pool_ids=["us-east-1_another00"])
    with pytest.raises(TokenProblem):
        service.verify_jwt(tokens["IdToken"], client_ids=["another"])
    with pytest.raises(TokenProblem):
        service.verify_jwt(tokens["AccessToken"], token_use="id")
    tampered = tokens["IdToken"].rsplit(".", 1)[0] + "." + "A" * 40
    with pytest.raises(TokenProblem):
        service.verify_jwt(tampered)

    clock.advance(3601)
    with pytest.raises(TokenProblem):
        service.verify_jwt(tokens["IdToken"])
    assert error_of(idp.get_user, AccessToken=tokens["AccessToken"]) == (
        "NotAuthorizedException",
        "Access Token has expired",
    )
    renewed = idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
    )["AuthenticationResult"]
    assert "RefreshToken" not in renewed
    assert claims_of(renewed["IdToken"])["auth_time"] == now
    assert idp.get_user(AccessToken=renewed["AccessToken"])["Username"] == "ann"
    assert error_of(idp.get_user, AccessToken="not.a.token") == (
        "NotAuthorizedException",
        "Invalid Access Token",
    )


def test_sign_out_and_revoke(hw: Headwater, idp: Any) -> None:
    pool_id, client_id = pool_and_client(idp)
    signed_up(hw, idp, pool_id, client_id)
    first = sign_in(idp, client_id)
    second = sign_in(idp, client_id)
    idp.revoke_token(Token=first["RefreshToken"], ClientId=client_id)
    refresh = {"ClientId": client_id, "AuthFlow": "REFRESH_TOKEN_AUTH"}
    assert error_of(
        idp.initiate_auth, AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]}, **refresh
    ) == ("NotAuthorizedException", "Invalid Refresh Token")
    assert error_of(idp.get_user, AccessToken=first["AccessToken"]) == (
        "NotAuthorizedException",
        "Access Token has been revoked",
    )
    assert idp.get_user(AccessToken=second["AccessToken"])["Username"] == "ann"
    idp.global_sign_out(AccessToken=second["AccessToken"])
    assert error_of(idp.get_user, AccessToken=second["AccessToken"])[1] == (
        "Access Token has been revoked"
    )
    assert error_of(
        idp.initiate_auth, AuthParameters={"REFRESH_TOKEN": second["RefreshToken"]}, **refresh
    )[0] == ("NotAuthorizedException")
    third = sign_in(idp, client_id)
    idp.admin_user_global_sign_out(UserPoolId=pool_id, Username="ann")
    assert error_of(idp.get_user, AccessToken=third["AccessToken"])[0] == ("NotAuthorizedException")


def verify_with_jwks(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """What a JWT library does with the pool's published keys."""
    header_part, claims_part, signature_part = token.split(".")
    header = json.loads(base64.urlsafe_b64decode(header_part + "=" * (-len(header_part) % 4)))
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])

    def number(text: str) -> int:
        return int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")

    public = rsa.RSAPublicNumbers(number(key["e"]), number(key["n"])).public_key()
    signature = base64.urlsafe_b64decode(signature_part + "=" * (-len(signature_part) % 4))
    public.verify(
        signature, f"{header_part}.{claims_part}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    return claims_of(token)


def test_jwks_and_discovery_over_the_asgi_app(hw: Headwater) -> None:
    with in_process_aws(hw) as aws:
        idp = aws.client("cognito-idp")
        pool_id, client_id = pool_and_client(idp)
        signed_up(hw, idp, pool_id, client_id)
        token = sign_in(idp, client_id)["IdToken"]
        for prefix in ("/_headwater/cognito-idp", ""):
            status, _, body = aws.transport.send(
                "GET", f"http://127.0.0.1:4599{prefix}/{pool_id}/.well-known/jwks.json", {}, b""
            )
            assert status == 200
            jwks = json.loads(body)
            assert jwks["keys"][0]["alg"] == "RS256" and jwks["keys"][0]["kty"] == "RSA"
            assert verify_with_jwks(token, jwks)["cognito:username"] == "ann"
        status, _, body = aws.transport.send(
            "GET",
            f"http://127.0.0.1:4599/_headwater/cognito-idp/{pool_id}/.well-known/openid-configuration",
            {},
            b"",
        )
        discovery = json.loads(body)
        assert discovery["issuer"] == f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}"
        assert discovery["jwks_uri"] == (
            f"http://127.0.0.1:4599/_headwater/cognito-idp/{pool_id}/.well-known/jwks.json"
        )
        status, _, _ = aws.transport.send(
            "GET", "http://127.0.0.1:4599/us-east-1_nosuchpoo/.well-known/jwks.json", {}, b""
        )
        assert status == 404


def test_a_token_verifies_with_the_jwks_of_a_real_server(tmp_path: Any) -> None:
    """``headwater serve`` over sockets: boto3's unsigned sign-in calls, then the JWKS read
    with urllib from the discovery document, as a JWT library finds it."""
    import urllib.request

    from tests.conformance.server_process import boto_client, headwater_server

    with headwater_server(tmp_path) as server:
        idp = boto_client(server.endpoint, "cognito-idp", "eu-west-1")
        pool_id = idp.create_user_pool(PoolName="live")["UserPool"]["Id"]
        assert pool_id.startswith("eu-west-1_")
        client_id = idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName="c", ExplicitAuthFlows=FLOWS
        )["UserPoolClient"]["ClientId"]
        idp.sign_up(
            ClientId=client_id,
            Username="ann",
            Password=PASSWORD,
            UserAttributes=[{"Name": "email", "Value": "ann@example.com"}],
        )
        # the code the user would have been mailed is in the server's output
        logged = re.search(f"confirmation code for ann in {pool_id}: (\\d{{6}})", server.output())
        assert logged is not None, server.output()
        idp.confirm_sign_up(ClientId=client_id, Username="ann", ConfirmationCode=logged[1])
        token = sign_in(idp, client_id)["IdToken"]
        base = f"{server.endpoint}/_headwater/cognito-idp/{pool_id}"
        with urllib.request.urlopen(f"{base}/.well-known/openid-configuration") as answer:
            discovery = json.loads(answer.read())
        with urllib.request.urlopen(discovery["jwks_uri"]) as answer:
            jwks = json.loads(answer.read())
        claims = verify_with_jwks(token, jwks)
        assert claims["iss"] == discovery["issuer"]
        assert claims["iss"] == f"https://cognito-idp.eu-west-1.amazonaws.com/{pool_id}"


TRIGGERS = '''
import json
import boto3


def pre_sign_up(event, context):
    if event["request"]["userAttributes"].get("email", "").endswith("@blocked.example"):
        raise Exception("that domain may not sign up")
    if event["request"]["userAttributes"].get("email", "").endswith("@trusted.example"):
        event["response"]["autoConfirmUser"] = True
        event["response"]["autoVerifyEmail"] = True
    return event


def record(event, context):
    """Keep the event in a queue, for the test to read."""
    queue = boto3.client("sqs").get_queue_url(QueueName="seen")["QueueUrl"]
    boto3.client("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps(event))
    return event


def pre_authentication(event, context):
    if event["userName"] == "locked":
        raise Exception("account locked")
    return event


def pre_token_v1(event, context):
    event["response"]["claimsOverrideDetails"] = {
        "claimsToAddOrOverride": {"tenant": "acme", "email": "hidden@example.com"},
        "claimsToSuppress": ["family_name"],
        "groupOverrideDetails": {"groupsToOverride": ["from-trigger"]},
    }
    return event


def pre_token_v2(event, context):
    event["response"]["claimsAndScopeOverrideDetails"] = {
        "idTokenGeneration": {"claimsToAddOrOverride": {"tenant": "id-only"}},
        "accessTokenGeneration": {
            "claimsToAddOrOverride": {"tenant": "access-only"},
            "scopesToAdd": ["orders/read"],
        },
    }
    return event


def returns_nothing(event, context):
    return None
'''


@pytest.fixture
def with_triggers(tmp_path: Any) -> Iterator[tuple[Headwater, dict[str, str]]]:
    """Inline trigger functions whose boto3 calls reach this Headwater; their ARNs."""
    from headwater.in_process import boto3_in_process

    code = tmp_path / "code"
    code.mkdir()
    (code / "triggers.py").write_text(TRIGGERS)
    app = Headwater.in_memory(
        clock=ManualClock(), functions="inline", endpoint_url="http://127.0.0.1:4599"
    )
    names = ("pre_sign_up", "record", "pre_authentication", "pre_token_v1", "pre_token_v2")
    arns = {}
    for name in (*names, "returns_nothing"):
        app.lambda_.create_function_from_directory(name, code, f"triggers.{name}", timeout=30)
        arns[name] = app.client("lambda").get_function(FunctionName=name)["Configuration"][
            "FunctionArn"
        ]
    app.client("sqs").create_queue(QueueName="seen")
    try:
        with boto3_in_process(app):
            yield app, arns
    finally:
        app.close()


def seen_events(hw: Headwater) -> list[dict[str, Any]]:
    sqs = hw.client("sqs")
    url = sqs.get_queue_url(QueueName="seen")["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    return [json.loads(m["Body"]) for m in messages]


def triggered_pool(hw: Headwater, lambda_config: dict[str, Any]) -> tuple[Any, str, str]:
    idp = hw.client("cognito-idp")
    pool_id = idp.create_user_pool(
        PoolName="p", AutoVerifiedAttributes=["email"], LambdaConfig=lambda_config
    )["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="c", ExplicitAuthFlows=FLOWS
    )["UserPoolClient"]["ClientId"]
    return idp, pool_id, client_id


def test_pre_sign_up_confirms_or_refuses_and_post_confirmation_runs(
    with_triggers: tuple[Headwater, dict[str, str]],
) -> None:
    hw, arns = with_triggers
    idp, pool_id, client_id = triggered_pool(
        hw, {"PreSignUp": arns["pre_sign_up"], "PostConfirmation": arns["record"]}
    )
    made = idp.sign_up(
        ClientId=client_id,
        Username="tim",
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "tim@trusted.example"}],
        ClientMetadata={"source": "test"},
    )
    assert made["UserConfirmed"] is True and "CodeDeliveryDetails" not in made
    user = idp.admin_get_user(UserPoolId=pool_id, Username="tim")
    assert {"Name": "email_verified", "Value": "true"} in user["UserAttributes"]
    (event,) = seen_events(hw)
    assert event["triggerSource"] == "PostConfirmation_ConfirmSignUp"
    assert (event["userPoolId"], event["userName"], event["version"]) == (pool_id, "tim", "1")
    assert event["callerContext"]["clientId"] == client_id
    assert event["request"]["userAttributes"]["cognito:user_status"] == "CONFIRMED"
    assert event["request"]["clientMetadata"] == {"source": "test"}
    assert error_of(
        idp.sign_up,
        ClientId=client_id,
        Username="bad",
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "x@blocked.example"}],
    ) == (
        "UserLambdaValidationException",
        "PreSignUp failed with error that domain may not sign up.",
    )
    assert error_of(idp.admin_get_user, UserPoolId=pool_id, Username="bad")[0] == (
        "UserNotFoundException"
    )
    # without autoConfirmUser the user waits for its code as before
    plain = idp.sign_up(
        ClientId=client_id,
        Username="pat",
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "pat@example.com"}],
    )
    assert plain["UserConfirmed"] is False


def test_authentication_triggers(with_triggers: tuple[Headwater, dict[str, str]]) -> None:
    hw, arns = with_triggers
    idp, pool_id, client_id = triggered_pool(
        hw,
        {"PreAuthentication": arns["pre_authentication"], "PostAuthentication": arns["record"]},
    )
    for name in ("locked", "ann"):
        idp.admin_create_user(UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS")
        idp.admin_set_user_password(
            UserPoolId=pool_id, Username=name, Password=PASSWORD, Permanent=True
        )
    assert error_of(
        idp.initiate_auth,
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "locked", "PASSWORD": PASSWORD},
    ) == ("UserLambdaValidationException", "PreAuthentication failed with error account locked.")
    sign_in(idp, client_id)
    (event,) = seen_events(hw)
    assert event["triggerSource"] == "PostAuthentication_Authentication"
    assert event["request"]["newDeviceUsed"] is False


def test_pre_token_generation_changes_the_claims(
    with_triggers: tuple[Headwater, dict[str, str]],
) -> None:
    hw, arns = with_triggers
    idp, pool_id, client_id = triggered_pool(hw, {"PreTokenGeneration": arns["pre_token_v1"]})
    idp.admin_create_user(
        UserPoolId=pool_id,
        Username="ann",
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": "ann@example.com"},
            {"Name": "family_name", "Value": "Lee"},
        ],
    )
    idp.admin_set_user_password(
        UserPoolId=pool_id, Username="ann", Password=PASSWORD, Permanent=True
    )
    idp.create_group(UserPoolId=pool_id, GroupName="real")
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username="ann", GroupName="real")
    tokens = sign_in(idp, client_id)
    id_claims = claims_of(tokens["IdToken"])
    assert (id_claims["tenant"], id_claims["email"]) == ("acme", "hidden@example.com")
    assert "family_name" not in id_claims
    assert id_claims["cognito:groups"] == ["from-trigger"]
    access = claims_of(tokens["AccessToken"])
    assert access["cognito:groups"] == ["from-trigger"] and "tenant" not in access
    assert service_of(hw).verify_jwt(tokens["IdToken"])["tenant"] == "acme"

    idp.update_user_pool(
        UserPoolId=pool_id,
        LambdaConfig={
            "PreTokenGenerationConfig": {"LambdaVersion": "V2_0", "LambdaArn": arns["pre_token_v2"]}
        },
    )
    tokens = sign_in(idp, client_id)
    assert claims_of(tokens["IdToken"])["tenant"] == "id-only"
    access = claims_of(tokens["AccessToken"])
    assert access["tenant"] == "access-only"
    assert access["scope"] == "aws.cognito.signin.user.admin orders/read"
    assert access["cognito:groups"] == ["real"]

    idp.update_user_pool(
        UserPoolId=pool_id, LambdaConfig={"PreTokenGeneration": arns["returns_nothing"]}
    )
    assert error_of(
        idp.initiate_auth,
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ann", "PASSWORD": PASSWORD},
    ) == (
        "UserLambdaValidationException",
        "PreTokenGeneration failed with error Unrecognizable lambda output.",
    )


def test_srp_sign_in_with_a_real_srp_client(hw: Headwater, idp: Any) -> None:
    """USER_SRP_AUTH as pycognito (the SRP client of AWS's SDKs, in Python) runs it:
    InitiateAuth's PASSWORD_VERIFIER challenge, answered with the password's proof."""
    from pycognito.aws_srp import AWSSRP

    pool_id, client_id = pool_and_client(idp)
    idp.update_user_pool_client(
        UserPoolId=pool_id, ClientId=client_id, ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH"]
    )
    signed_up(hw, idp, pool_id, client_id)
    tokens = AWSSRP("ann", PASSWORD, pool_id, client_id, client=idp).authenticate_user()
    result = tokens["AuthenticationResult"]
    assert claims_of(result["IdToken"])["cognito:username"] == "ann"
    assert idp.get_user(AccessToken=result["AccessToken"])["Username"] == "ann"

    with pytest.raises(ClientError) as wrong:
        AWSSRP("ann", "Wrong-pass-1", pool_id, client_id, client=idp).authenticate_user()
    assert wrong.value.response["Error"]["Message"] == "Incorrect username or password."
    # a challenge answers once
    srp = AWSSRP("ann", PASSWORD, pool_id, client_id, client=idp)
    challenge = idp.initiate_auth(
        ClientId=client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=srp.get_auth_params()
    )
    assert challenge["ChallengeName"] == "PASSWORD_VERIFIER"
    answer = srp.process_challenge(challenge["ChallengeParameters"], srp.get_auth_params())
    respond = {"ClientId": client_id, "ChallengeName": "PASSWORD_VERIFIER"}
    idp.respond_to_auth_challenge(ChallengeResponses=answer, **respond)
    assert error_of(idp.respond_to_auth_challenge, ChallengeResponses=answer, **respond)[0] == (
        "NotAuthorizedException"
    )
    # a client that allows only passwords refuses SRP
    assert error_of(
        idp.initiate_auth,
        ClientId=pool_and_client(idp)[1],
        AuthFlow="USER_SRP_AUTH",
        AuthParameters=srp.get_auth_params(),
    )[0] == ("InvalidParameterException")


def test_srp_sign_in_of_an_admin_created_user_needs_a_new_password(hw: Headwater, idp: Any) -> None:
    from pycognito.aws_srp import AWSSRP
    from pycognito.exceptions import ForceChangePasswordException

    pool_id = idp.create_user_pool(PoolName="p")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="spa")["UserPoolClient"][
        "ClientId"
    ]
    idp.admin_create_user(
        UserPoolId=pool_id,
        Username="carl",
        TemporaryPassword="Temp-pass1",
        MessageAction="SUPPRESS",
    )
    with pytest.raises(ForceChangePasswordException):
        AWSSRP("carl", "Temp-pass1", pool_id, client_id, client=idp).authenticate_user()


def test_forgot_password_and_admin_reset(hw: Headwater, idp: Any) -> None:
    pool_id, client_id = pool_and_client(idp)
    signed_up(hw, idp, pool_id, client_id)
    sent = idp.forgot_password(ClientId=client_id, Username="ann")["CodeDeliveryDetails"]
    assert sent == {"Destination": "a***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    code = service_of(hw).confirmation_code(pool_id, "ann")
    assert error_of(
        idp.confirm_forgot_password,
        ClientId=client_id,
        Username="ann",
        ConfirmationCode="999999x",
        Password="Another-pass1",
    )[0] == ("CodeMismatchException")
    idp.confirm_forgot_password(
        ClientId=client_id, Username="ann", ConfirmationCode=code, Password="Another-pass1"
    )
    sign_in(idp, client_id, password="Another-pass1")
    assert error_of(
        idp.initiate_auth,
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ann", "PASSWORD": PASSWORD},
    )[1] == ("Incorrect username or password.")

    idp.admin_reset_user_password(UserPoolId=pool_id, Username="ann")
    assert idp.admin_get_user(UserPoolId=pool_id, Username="ann")["UserStatus"] == (
        "RESET_REQUIRED"
    )
    assert error_of(
        idp.initiate_auth,
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ann", "PASSWORD": "Another-pass1"},
    ) == ("PasswordResetRequiredException", "Password reset required for the user")
    idp.confirm_forgot_password(
        ClientId=client_id,
        Username="ann",
        ConfirmationCode=service_of(hw).confirmation_code(pool_id, "ann"),
        Password="Third-pass-1",
    )
    assert idp.admin_get_user(UserPoolId=pool_id, Username="ann")["UserStatus"] == "CONFIRMED"
    # no verified email or phone: nowhere to send a code
    idp.admin_create_user(UserPoolId=pool_id, Username="bob", MessageAction="SUPPRESS")
    assert error_of(idp.forgot_password, ClientId=client_id, Username="bob") == (
        "InvalidParameterException",
        "Cannot reset password for the user as there is no registered/verified email or "
        "phone_number",
    )


def test_only_a_users_own_calls_go_unsigned(hw: Headwater) -> None:
    """boto3 signs the admin calls and sends a user's own calls unsigned (the model's
    smithy.api#noAuth): the wire takes the latter unsigned, never the former."""
    from botocore import UNSIGNED

    with in_process_aws(hw) as aws:
        pool_id, client_id = pool_and_client(aws.client("cognito-idp"))
        unsigned = aws.client("cognito-idp", signature_version=UNSIGNED)
        unsigned.sign_up(ClientId=client_id, Username="ann", Password=PASSWORD)
        with pytest.raises(ClientError) as refused:
            unsigned.admin_confirm_sign_up(UserPoolId=pool_id, Username="ann")
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403)
        assert refused.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"


def test_ended_sessions_are_swept_on_the_clock(hw: Headwater, idp: Any, clock: ManualClock) -> None:
    from headwater.services.cognitoidp.store import SESSION

    pool_id, client_id = pool_and_client(idp, RefreshTokenValidity=1)
    signed_up(hw, idp, pool_id, client_id)
    tokens = sign_in(idp, client_id)
    store = hw.database.store(UserPoolStore)
    where = ("000000000000", "us-east-1", pool_id)
    assert len(store.all(where, SESSION)) == 1
    clock.advance(86400 + 3600)
    assert store.all(where, SESSION) == []
    assert error_of(
        idp.initiate_auth,
        ClientId=client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
    ) == ("NotAuthorizedException", "Refresh Token has expired")
