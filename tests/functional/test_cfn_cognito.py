"""CloudFormation and SAM deploys with Cognito: AWS::Cognito::UserPool, UserPoolClient
and UserPoolGroup (Ref and GetAtt), and SAM's ``Cognito`` event, which sets the pool's
LambdaConfig: the deployed trigger runs on sign-up."""

from __future__ import annotations

from typing import Any

from headwater import Headwater
from tests.functional.cfn_support import deploy, outputs_of, physical_ids

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
TRIGGER = (
    "def handler(event, context):\n"
    "    event['response']['autoConfirmUser'] = True\n"
    "    return event\n"
)


def template(min_length: int = 8, group: str = "Admins") -> dict[str, Any]:
    return {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "Pool": {
                "Type": "AWS::Cognito::UserPool",
                "Properties": {
                    "UserPoolName": "stack-users",
                    "AutoVerifiedAttributes": ["email"],
                    "Policies": {
                        "PasswordPolicy": {
                            "MinimumLength": str(min_length),
                            "RequireSymbols": "false",
                        }
                    },
                    "UserPoolTags": {"team": "web"},
                },
            },
            "Client": {
                "Type": "AWS::Cognito::UserPoolClient",
                "Properties": {
                    "UserPoolId": {"Ref": "Pool"},
                    "ClientName": "web",
                    "GenerateSecret": False,
                    "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                },
            },
            "Server": {
                "Type": "AWS::Cognito::UserPoolClient",
                "Properties": {"UserPoolId": {"Ref": "Pool"}, "GenerateSecret": True},
            },
            "Group": {
                "Type": "AWS::Cognito::UserPoolGroup",
                "Properties": {"UserPoolId": {"Ref": "Pool"}, "GroupName": group, "Precedence": 1},
            },
            "AutoConfirm": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "InlineCode": TRIGGER,
                    "Handler": "index.handler",
                    "Runtime": "python3.12",
                    "Events": {
                        "SignUp": {
                            "Type": "Cognito",
                            "Properties": {"UserPool": {"Ref": "Pool"}, "Trigger": "PreSignUp"},
                        }
                    },
                },
            },
        },
        "Outputs": {
            "PoolId": {"Value": {"Ref": "Pool"}},
            "PoolArn": {"Value": {"Fn::GetAtt": ["Pool", "Arn"]}},
            "ProviderName": {"Value": {"Fn::GetAtt": ["Pool", "ProviderName"]}},
            "ProviderURL": {"Value": {"Fn::GetAtt": ["Pool", "ProviderURL"]}},
            "ClientId": {"Value": {"Ref": "Client"}},
            "ServerSecret": {"Value": {"Fn::GetAtt": ["Server", "ClientSecret"]}},
            "GroupName": {"Value": {"Ref": "Group"}},
        },
    }


def test_a_sam_app_with_a_user_pool_and_a_cognito_trigger(hw: Headwater) -> None:
    assert deploy(hw, "auth", template(), Capabilities=CAPABILITIES) == "CREATE_COMPLETE"
    outputs = outputs_of(hw, "auth")
    pool_id = outputs["PoolId"]
    assert outputs["PoolArn"] == f"arn:aws:cognito-idp:us-east-1:000000000000:userpool/{pool_id}"
    assert outputs["ProviderName"] == f"cognito-idp.us-east-1.amazonaws.com/{pool_id}"
    assert outputs["ProviderURL"] == f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}"
    assert outputs["GroupName"] == "Admins" and len(outputs["ServerSecret"]) > 40
    idp = hw.client("cognito-idp")
    pool = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert pool["Name"] == "stack-users" and pool["UserPoolTags"] == {"team": "web"}
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 8
    function_arn = physical_ids(hw, "auth")["AutoConfirm"]
    assert pool["LambdaConfig"]["PreSignUp"].endswith(function_arn.rsplit(":", 1)[-1])

    made = idp.sign_up(ClientId=outputs["ClientId"], Username="ann", Password="Passw0rdss")
    assert made["UserConfirmed"] is True
    tokens = idp.initiate_auth(
        ClientId=outputs["ClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ann", "PASSWORD": "Passw0rdss"},
    )["AuthenticationResult"]
    assert idp.get_user(AccessToken=tokens["AccessToken"])["Username"] == "ann"

    assert (
        deploy(hw, "auth", template(min_length=12, group="Staff"), Capabilities=CAPABILITIES)
        == "UPDATE_COMPLETE"
    )
    updated = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert updated["Policies"]["PasswordPolicy"]["MinimumLength"] == 12
    groups = idp.list_groups(UserPoolId=pool_id)["Groups"]
    assert [g["GroupName"] for g in groups] == ["Staff"]

    hw.client("cloudformation").delete_stack(StackName="auth")
    assert idp.list_user_pools(MaxResults=10)["UserPools"] == []


def test_a_property_dropped_from_the_template_returns_to_its_default(hw: Headwater) -> None:
    # the update sends the template's properties; UpdateUserPool resets the others
    document = template()
    assert deploy(hw, "dropped", document, Capabilities=CAPABILITIES) == "CREATE_COMPLETE"
    pool_properties = document["Resources"]["Pool"]["Properties"]
    del pool_properties["AutoVerifiedAttributes"], pool_properties["Policies"]
    client_properties = document["Resources"]["Client"]["Properties"]
    client_properties["ExplicitAuthFlows"] = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert deploy(hw, "dropped", document, Capabilities=CAPABILITIES) == "UPDATE_COMPLETE"
    outputs = outputs_of(hw, "dropped")
    idp = hw.client("cognito-idp")
    pool = idp.describe_user_pool(UserPoolId=outputs["PoolId"])["UserPool"]
    assert "AutoVerifiedAttributes" not in pool
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 8
    assert pool["Name"] == "stack-users" and pool["UserPoolTags"] == {"team": "web"}
    # the SAM trigger's LambdaConfig is part of the pool's properties: still there
    assert pool["LambdaConfig"].get("PreSignUp")
    client = idp.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=outputs["ClientId"])
    assert client["UserPoolClient"]["ExplicitAuthFlows"] == [
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    ]
