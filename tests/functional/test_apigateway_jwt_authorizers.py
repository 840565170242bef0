"""Token authorizers API Gateway runs itself, against headwater's own user pools: REST
``COGNITO_USER_POOLS`` authorizers (ID tokens, access tokens with a method's scopes, the
validation expression, answers cached per token on the headwater clock) and HTTP API
``JWT`` authorizers (a pool's issuer and audience, ``Bearer`` tokens, route scopes, the
``www-authenticate`` challenge, payload 2.0 and 1.0 shapes), an issuer that is no pool
(its keys fetched from a local OpenID discovery document), and a SAM deploy."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from headwater.deploy.local import load_local_template
from headwater.server.asgi import create_app
from headwater.services.cognitoidp.tokens import new_signing_key, public_jwk, sign
from tests.asgi_boto import AsgiTransport, InProcessAws
from tests.functional.cfn_support import deploy, physical_ids
from tests.functional.lambda_proxy_support import (
    ARN,
    create_functions,
    send_to_api,
    serving_headwater,
    write_sam_app,
)

ECHO = """
import json


def echo(event, context):
    return {"statusCode": 200, "body": json.dumps(event)}
"""
INVOCATIONS = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{}/invocations"
PASSWORD = "Corr3ct-horse"
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
SIGN_IN_SCOPE = "aws.cognito.signin.user.admin"


@pytest.fixture
def hw(tmp_path: Path, clock: ManualClock) -> Iterator[Headwater]:
    """A headwater serving functions, on the shared ManualClock (tests/conftest.py)."""
    with serving_headwater(tmp_path, clock) as made:
        yield made


@pytest.fixture
def aws(hw: Headwater) -> Iterator[InProcessAws]:
    made = InProcessAws(hw)
    create_functions(made.client("lambda"), ECHO, ("echo",))
    yield made
    made.close()


@pytest.fixture
def served(hw: Headwater) -> Iterator[AsgiTransport]:
    transport = AsgiTransport(create_app(hw))
    yield transport
    transport.close()


def user_pool(hw: Headwater, name: str = "users") -> tuple[str, str, str]:
    """(pool id, pool ARN, client id) of a pool whose user ``ann`` (groups admins, staff)
    signs in with USER_PASSWORD_AUTH."""
    idp = hw.client("cognito-idp")
    pool = idp.create_user_pool(PoolName=name)["UserPool"]
    client = idp.create_user_pool_client(
        UserPoolId=pool["Id"], ClientName="web", ExplicitAuthFlows=FLOWS
    )["UserPoolClient"]
    idp.admin_create_user(
        UserPoolId=pool["Id"],
        Username="ann",
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": "ann@example.com"},
            {"Name": "email_verified", "Value": "true"},
        ],
    )
    idp.admin_set_user_password(
        UserPoolId=pool["Id"], Username="ann", Password=PASSWORD, Permanent=True
    )
    for group in ("admins", "staff"):
        idp.create_group(UserPoolId=pool["Id"], GroupName=group)
        idp.admin_add_user_to_group(UserPoolId=pool["Id"], Username="ann", GroupName=group)
    return pool["Id"], pool["Arn"], client["ClientId"]


def sign_in(hw: Headwater, client_id: str) -> dict[str, Any]:
    """``ann``'s tokens, signed in through the cognito-idp client."""
    answer = hw.client("cognito-idp").initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ann", "PASSWORD": PASSWORD},
    )
    tokens: dict[str, Any] = answer["AuthenticationResult"]
    return tokens


def call(
    served: AsgiTransport, api_id: str, path: str, token: str | None = None
) -> tuple[int, dict[str, str], Any]:
    headers = {} if token is None else {"authorization": token}
    status, got, body = send_to_api(served, api_id, "GET", path, headers=headers)
    return status, got, json.loads(body) if body else None


# -- REST APIs -------------------------------------------------------------------------


def rest_api(
    aws: InProcessAws, pool_arns: list[str], scopes: list[str] | None = None, **authorizer: Any
) -> str:
    """A REST API whose ``GET /items`` (Lambda proxy -> echo, stage ``dev``) a Cognito
    user pools authorizer guards."""
    rest = aws.client("apigateway")
    api = rest.create_rest_api(name="pool-guarded")
    made = rest.create_authorizer(
        restApiId=api["id"],
        name="pool",
        type="COGNITO_USER_POOLS",
        providerARNs=pool_arns,
        **authorizer,
    )
    items = rest.create_resource(
        restApiId=api["id"], parentId=api["rootResourceId"], pathPart="items"
    )
    address = {"restApiId": api["id"], "resourceId": items["id"], "httpMethod": "GET"}
    rest.put_method(
        **address,
        authorizationType="COGNITO_USER_POOLS",
        authorizerId=made["id"],
        **({"authorizationScopes": scopes} if scopes else {}),
    )
    rest.put_integration(
        **address,
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=INVOCATIONS.format(f"{ARN}:echo"),
    )
    rest.create_deployment(restApiId=api["id"], stageName="dev")
    return str(api["id"])


def test_rest_cognito_authorizer_takes_id_tokens(
    hw: Headwater, aws: InProcessAws, served: AsgiTransport, clock: ManualClock
) -> None:
    _, pool_arn, client_id = user_pool(hw)
    tokens = sign_in(hw, client_id)
    api_id = rest_api(aws, [pool_arn], authorizerResultTtlInSeconds=0)
    status, _, event = call(served, api_id, "/dev/items", tokens["IdToken"])
    assert status == 200
    claims = event["requestContext"]["authorizer"]["claims"]
    assert all(isinstance(v, str) for v in claims.values())
    assert claims["cognito:username"] == "ann"
    assert claims["email_verified"] == "true"
    assert claims["cognito:groups"] == "admins,staff"
    assert claims["aud"] == client_id and claims["token_use"] == "id"
    assert claims["exp"].endswith("UTC " + claims["exp"][-4:])  # "Fri Jul 29 18:52:53 UTC 2016"
    assert claims["auth_time"].isdigit()
    # "Bearer " before the token is taken too
    assert call(served, api_id, "/dev/items", "Bearer " + tokens["IdToken"])[0] == 200
    unauthorized = (401, {"message": "Unauthorized"})
    for token in (None, "not-a-jwt", tokens["AccessToken"]):  # no scopes: ID tokens only
        status, headers, body = call(served, api_id, "/dev/items", token)
        assert (status, body) == unauthorized, token
        assert headers["x-amzn-errortype"] == "UnauthorizedException"
    # a pool the authorizer does not name
    _, _, other_client = user_pool(hw, "others")
    other = sign_in(hw, other_client)
    assert call(served, api_id, "/dev/items", other["IdToken"])[::2] == unauthorized
    clock.advance(3601)  # the ID token's hour has passed
    assert call(served, api_id, "/dev/items", tokens["IdToken"])[::2] == unauthorized


def test_rest_cognito_authorizer_scopes_want_access_tokens(
    hw: Headwater, aws: InProcessAws, served: AsgiTransport
) -> None:
    _, pool_arn, client_id = user_pool(hw)
    tokens = sign_in(hw, client_id)
    api_id = rest_api(aws, [pool_arn], scopes=["other/read", SIGN_IN_SCOPE])
    status, _, event = call(served, api_id, "/dev/items", tokens["AccessToken"])
    assert status == 200
    claims = event["requestContext"]["authorizer"]["claims"]
    assert (claims["token_use"], claims["scope"]) == ("access", SIGN_IN_SCOPE)
    assert call(served, api_id, "/dev/items", tokens["IdToken"])[0] == 401
    narrow = rest_api(aws, [pool_arn], scopes=["other/read"])
    assert call(served, narrow, "/dev/items", tokens["AccessToken"])[0] == 401


def test_rest_method_scopes_are_added_and_removed_a_scope_at_a_time(
    hw: Headwater, aws: InProcessAws, served: AsgiTransport
) -> None:
    _, pool_arn, client_id = user_pool(hw)
    tokens = sign_in(hw, client_id)
    api_id = rest_api(aws, [pool_arn], scopes=["other/read"], authorizerResultTtlInSeconds=0)
    assert call(served, api_id, "/dev/items", tokens["AccessToken"])[0] == 401
    rest = aws.client("apigateway")
    items = next(r for r in rest.get_resources(restApiId=api_id)["items"] if r["path"] == "/items")
    address = {"restApiId": api_id, "resourceId": items["id"], "httpMethod": "GET"}
    scopes = "/authorizationScopes"
    updated = rest.update_method(
        **address,
        patchOperations=[
            {"op": "add", "path": scopes, "value": SIGN_IN_SCOPE},
            {"op": "add", "path": scopes, "value": "other/write"},
            {"op": "remove", "path": scopes, "value": "other/read"},
        ],
    )
    assert updated["authorizationScopes"] == [SIGN_IN_SCOPE, "other/write"]
    rest.update_method(**address, patchOperations=[{"op": "remove", "path": scopes, "value": "x"}])
    assert rest.get_method(**address)["authorizationScopes"] == [SIGN_IN_SCOPE, "other/write"]
    with pytest.raises(ClientError) as caught:
        rest.update_method(**address, patchOperations=[{"op": "replace", "path": scopes}])
    assert caught.value.response["Error"]["Code"] == "BadRequestException"
    rest.create_deployment(restApiId=api_id, stageName="dev")
    assert call(served, api_id, "/dev/items", tokens["AccessToken"])[0] == 200


def test_rest_test_invoke_of_a_cognito_authorizer(hw: Headwater, aws: InProcessAws) -> None:
    _, pool_arn, client_id = user_pool(hw)
    tokens = sign_in(hw, client_id)
    rest = aws.client("apigateway")
    api_id = rest_api(aws, [pool_arn])
    (authorizer,) = rest.get_authorizers(restApiId=api_id)["items"]
    address = {"restApiId": api_id, "authorizerId": authorizer["id"]}
    tested = rest.test_invoke_authorizer(**address, headers={"Authorization": tokens["IdToken"]})
    assert (tested["clientStatus"], tested["claims"]["cognito:username"]) == (200, "ann")
    assert rest.test_invoke_authorizer(**address)["clientStatus"] == 401
    tested = rest.test_invoke_authorizer(**address, headers={"Authorization": "nope"})
    assert tested["clientStatus"] == 401


def test_rest_cognito_answers_are_cached_and_validated(
    hw: Headwater, aws: InProcessAws, served: AsgiTransport, clock: ManualClock
) -> None:
    _, pool_arn, client_id = user_pool(hw)
    tokens = sign_in(hw, client_id)
    api_id = rest_api(
        aws, [pool_arn], authorizerResultTtlInSeconds=300, identityValidationExpression="ey.*"
    )
    assert call(served, api_id, "/dev/items", "Bearer " + tokens["IdToken"])[0] == 401
    clock.advance(3590)
    assert call(served, api_id, "/dev/items", tokens["IdToken"])[0] == 200
    clock.advance(20)  # expired, but the answer is kept for the TTL, as API Gateway keeps it
    assert call(served, api_id, "/dev/items", tokens["IdToken"])[0] == 200
    clock.advance(300)
    assert call(served, api_id, "/dev/items", tokens["IdToken"])[0] == 401


# -- HTTP APIs -------------------------------------------------------------------------


def http_api(
    aws: InProcessAws,
    issuer: str,
    audience: list[str],
    scopes: list[str] | None = None,
    payload: str = "2.0",
) -> str:
    """An HTTP API whose ``GET /items`` (-> echo) a JWT authorizer guards."""
    apis = aws.client("apigatewayv2")
    api_id = apis.create_api(Name="jwt-guarded", ProtocolType="HTTP")["ApiId"]
    made = apis.create_authorizer(
        ApiId=api_id,
        Name="jwt",
        AuthorizerType="JWT",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": issuer, "Audience": audience},
    )
    integration = apis.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=f"{ARN}:echo",
        PayloadFormatVersion=payload,
    )
    apis.create_route(
        ApiId=api_id,
        RouteKey="GET /items",
        Target=f"integrations/{integration['IntegrationId']}",
        AuthorizationType="JWT",
        AuthorizerId=made["AuthorizerId"],
        **({"AuthorizationScopes": scopes} if scopes else {}),
    )
    apis.create_stage(ApiId=api_id, StageName="$default")
    return str(api_id)


def issuer_of(pool_id: str) -> str:
    return f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}"


def challenge(headers: dict[str, str]) -> str:
    return headers["www-authenticate"]


def test_http_jwt_authorizer_with_a_pool_issuer(
    hw: Headwater, aws: InProcessAws, served: AsgiTransport, clock: ManualClock
) -> None:
    pool_id, _, client_id = user_pool(hw)
    tokens = sign_in(hw, client_id)
    api_id = http_api(aws, issuer_of(pool_id), [client_id])
    for token in (tokens["IdToken"], "Bearer " + tokens["AccessToken"]):
        status, _, event = call(served, api_id, "/items", token)
        assert status == 200
        jwt = event["requestContext"]["authorizer"]["jwt"]
        assert jwt["scopes"] is None  # the route asks for none
        assert all(isinstance(v, str) for v in jwt["claims"].values())
        assert jwt["claims"]["cognito:groups"] == "[admins staff]"
        assert jwt["claims"]["exp"].isdigit()
    status, headers, body = call(served, api_id, "/items")
    assert (status, body) == (401, {"message": "Unauthorized"})
    other_audience = http_api(aws, issuer_of(pool_id), ["someone-else"])
    status, headers, body = call(served, other_audience, "/items", tokens["AccessToken"])
    assert (status, body) == (401, {"message": "Unauthorized"})
    assert challenge(headers) == (
        'Bearer scope="" error="invalid_token" '
        'error_description="the token does not have a valid audience"'
    )
    other_pool, _, _ = user_pool(hw, "others")
    assert call(served, http_api(aws, issuer_of(other_pool), []), "/items", tokens["IdToken"])[
        0
    ] == (401)
    clock.advance(3600)
    status, headers, _ = call(served, api_id, "/items", tokens["AccessToken"])
    assert status == 401 and 'error_description="the token has expired"' in challenge(headers)


def test_http_jwt_route_scopes_and_payload_1(
    hw: Headwater, aws: InProcessAws, served: AsgiTransport
) -> None:
    pool_id, _, client_id = user_pool(hw)
    tokens = sign_in(hw, client_id)
    scoped = http_api(aws, issuer_of(pool_id), [client_id], scopes=["x/read", SIGN_IN_SCOPE])
    status, _, event = call(served, scoped, "/items", "Bearer " + tokens["AccessToken"])
    assert status == 200
    assert event["requestContext"]["authorizer"]["jwt"]["scopes"] == [SIGN_IN_SCOPE]
    narrow = http_api(aws, issuer_of(pool_id), [client_id], scopes=["x/read"])
    status, headers, body = call(served, narrow, "/items", tokens["AccessToken"])
    assert (status, body) == (403, {"message": "Forbidden"})
    assert challenge(headers).startswith('Bearer scope="x/read" error="insufficient_scope"')
    v1 = http_api(aws, issuer_of(pool_id), [client_id], payload="1.0")
    status, _, event = call(served, v1, "/items", tokens["IdToken"])
    assert status == 200
    authorizer = event["requestContext"]["authorizer"]
    assert (authorizer["claims"]["cognito:username"], authorizer["scopes"]) == ("ann", None)


class OidcIssuer:
    """An OpenID issuer on 127.0.0.1 serving its discovery document and a static JWKS."""

    def __init__(self) -> None:
        self.key = new_signing_key()
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": issuer.url + "/keys"}
                elif self.path == "/keys":
                    body = {"keys": [public_jwk(issuer.key)]}
                else:
                    self.send_error(404)
                    return
                raw = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def token(self, now: float, **claims: Any) -> str:
        base = {"iss": self.url, "sub": "u-1", "aud": "api", "iat": int(now), "exp": now + 600}
        return sign({**base, **claims}, self.key)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def oidc() -> Iterator[OidcIssuer]:
    issuer = OidcIssuer()
    yield issuer
    issuer.close()


def test_http_jwt_authorizer_with_another_issuer(
    aws: InProcessAws, served: AsgiTransport, clock: ManualClock, oidc: OidcIssuer
) -> None:
    api_id = http_api(aws, oidc.url, ["api"], scopes=["read"])
    now = clock.now()
    status, _, event = call(served, api_id, "/items", "Bearer " + oidc.token(now, scp=["read"]))
    assert status == 200
    assert event["requestContext"]["authorizer"]["jwt"]["scopes"] == ["read"]
    assert event["requestContext"]["authorizer"]["jwt"]["claims"]["scp"] == "[read]"
    refused = {
        "another audience": oidc.token(now, aud="web", scope="read"),
        "expired": oidc.token(now, exp=now - 1, scope="read"),
        "not yet": oidc.token(now, nbf=now + 60, scope="read"),
        "another key": sign(
            {"iss": oidc.url, "aud": "api", "exp": now + 60, "scope": "read"}, new_signing_key()
        ),
    }
    for why, token in refused.items():
        assert call(served, api_id, "/items", token)[0] == 401, why
    oidc.key = new_signing_key()  # the issuer rotates its key: fetched anew for its kid
    assert call(served, api_id, "/items", oidc.token(now, scope="read"))[0] == 200
    assert call(served, api_id, "/items", oidc.token(now, scope="write"))[0] == 403
    # an issuer whose keys cannot be fetched (nothing listens): refused
    gone = http_api(aws, "http://127.0.0.1:9", ["api"])
    token = sign({"iss": "http://127.0.0.1:9", "aud": "api", "exp": now + 60}, oidc.key)
    status, headers, _ = call(served, gone, "/items", token)
    assert status == 401 and "unable to fetch" in challenge(headers)


# -- SAM -------------------------------------------------------------------------------

SAM_HANDLER = """
import json


def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event["requestContext"]["authorizer"])}
"""
SAM_LINES = """      Events:
        Rest:
          Type: Api
          Properties: {Path: /guarded, Method: get, RestApiId: !Ref Rest}
        Scoped:
          Type: Api
          Properties:
            Path: /scoped
            Method: get
            RestApiId: !Ref Rest
            Auth: {Authorizer: Pool, AuthorizationScopes: [aws.cognito.signin.user.admin]}
        Http:
          Type: HttpApi
          Properties: {Path: /guarded, Method: get, ApiId: !Ref Http}
  Pool:
    Type: AWS::Cognito::UserPool
    Properties: {UserPoolName: sam-users}
  PoolClient:
    Type: AWS::Cognito::UserPoolClient
    Properties:
      UserPoolId: !Ref Pool
      ExplicitAuthFlows: [ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]
  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: Prod
      Auth:
        DefaultAuthorizer: Pool
        Authorizers:
          Pool:
            UserPoolArn: !GetAtt Pool.Arn
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Jwt
        Authorizers:
          Jwt:
            IdentitySource: $request.header.Authorization
            JwtConfiguration:
              issuer: !Sub https://cognito-idp.${AWS::Region}.amazonaws.com/${Pool}
              audience: [!Ref PoolClient]
"""


def test_sam_cognito_and_jwt_authorizers(hw: Headwater, tmp_path: Path) -> None:
    template = write_sam_app(
        tmp_path,
        SAM_HANDLER,
        "sam-pools",
        SAM_LINES,
        "  Nothing:\n    Value: none\n",
    )
    local = load_local_template(template, {}, region="us-east-1")
    assert deploy(hw, "sam-pools", local.document) == "CREATE_COMPLETE"
    ids = physical_ids(hw, "sam-pools")
    (authorizer,) = hw.client("apigateway").get_authorizers(restApiId=ids["Rest"])["items"]
    assert (authorizer["type"], authorizer["identitySource"]) == (
        "COGNITO_USER_POOLS",
        "method.request.header.Authorization",
    )
    idp = hw.client("cognito-idp")
    pool_id, client_id = ids["Pool"], ids["PoolClient"]
    idp.admin_create_user(UserPoolId=pool_id, Username="ann", MessageAction="SUPPRESS")
    idp.admin_set_user_password(
        UserPoolId=pool_id, Username="ann", Password=PASSWORD, Permanent=True
    )
    tokens = sign_in(hw, client_id)
    transport = AsgiTransport(create_app(hw))
    try:
        status, _, body = call(transport, ids["Rest"], "/Prod/guarded", tokens["IdToken"])
        assert (status, body["claims"]["cognito:username"]) == (200, "ann")
        assert call(transport, ids["Rest"], "/Prod/guarded")[0] == 401
        assert call(transport, ids["Rest"], "/Prod/scoped", tokens["AccessToken"])[0] == 200
        assert call(transport, ids["Rest"], "/Prod/scoped", tokens["IdToken"])[0] == 401
        status, _, body = call(transport, ids["Http"], "/guarded", tokens["AccessToken"])
        assert (status, body["jwt"]["claims"]["client_id"]) == (200, client_id)
        assert call(transport, ids["Http"], "/guarded", "Bearer nope")[0] == 401
    finally:
        transport.close()
