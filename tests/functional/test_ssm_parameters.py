"""The SSM Parameter Store subset: versions, overwrite, selectors, paths, tags, errors."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater


def test_put_get_versions_and_selectors(hw: Headwater) -> None:
    ssm = hw.client("ssm")
    assert ssm.put_parameter(Name="/app/level", Value="info", Type="String")["Version"] == 1
    with pytest.raises(ClientError) as caught:
        ssm.put_parameter(Name="/app/level", Value="debug", Type="String")
    assert caught.value.response["Error"]["Code"] == "ParameterAlreadyExists"
    assert ssm.put_parameter(Name="/app/level", Value="debug", Overwrite=True)["Version"] == 2
    found = ssm.get_parameter(Name="/app/level")["Parameter"]
    assert (found["Value"], found["Version"], found["Type"]) == ("debug", 2, "String")
    assert found["ARN"] == "arn:aws:ssm:us-east-1:000000000000:parameter/app/level"
    assert ssm.get_parameter(Name="/app/level:1")["Parameter"]["Value"] == "info"
    history = ssm.get_parameter_history(Name="/app/level")["Parameters"]
    assert [p["Value"] for p in history] == ["info", "debug"]
    both = ssm.get_parameters(Names=["/app/level", "/app/missing"])
    assert [p["Name"] for p in both["Parameters"]] == ["/app/level"]
    assert both["InvalidParameters"] == ["/app/missing"]


def test_paths_describe_tags_and_delete(hw: Headwater) -> None:
    ssm = hw.client("ssm")
    ssm.put_parameter(Name="/svc/a", Value="1", Type="String", Tags=[{"Key": "team", "Value": "x"}])
    ssm.put_parameter(Name="/svc/nested/b", Value="2", Type="SecureString")
    ssm.put_parameter(Name="plain", Value="p1,p2", Type="StringList")
    shallow = ssm.get_parameters_by_path(Path="/svc")["Parameters"]
    assert [p["Name"] for p in shallow] == ["/svc/a"]
    deep = ssm.get_parameters_by_path(Path="/svc", Recursive=True)["Parameters"]
    assert [p["Name"] for p in deep] == ["/svc/a", "/svc/nested/b"]
    names = [p["Name"] for p in ssm.describe_parameters()["Parameters"]]
    assert names == ["/svc/a", "/svc/nested/b", "plain"]
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/svc/a")["TagList"] == [
        {"Key": "team", "Value": "x"}
    ]
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId="/svc/a", TagKeys=["team"])
    assert (
        ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/svc/a")["TagList"] == []
    )
    deleted = ssm.delete_parameters(Names=["/svc/a", "/svc/none"])
    assert deleted == {
        **deleted,
        "DeletedParameters": ["/svc/a"],
        "InvalidParameters": ["/svc/none"],
    }
    ssm.delete_parameter(Name="plain")
    with pytest.raises(ClientError) as caught:
        ssm.get_parameter(Name="plain")
    assert caught.value.response["Error"]["Code"] == "ParameterNotFound"
    with pytest.raises(ClientError) as caught:
        ssm.delete_parameter(Name="plain")
    assert caught.value.response["Error"]["Code"] == "ParameterNotFound"


def test_invalid_input(hw: Headwater) -> None:
    ssm = hw.client("ssm")
    with pytest.raises(ClientError, match="A parameter type is required"):
        ssm.put_parameter(Name="/new", Value="v")
    with pytest.raises(ClientError, match="fully qualified name"):
        ssm.put_parameter(Name="a/b", Value="v", Type="String")
    with pytest.raises(ClientError) as caught:
        ssm.put_parameter(Name="/p", Value="abc", Type="String", AllowedPattern="[0-9]+")
    assert caught.value.response["Error"]["Code"] == "ParameterPatternMismatchException"
    # a pattern that is not a regular expression: re.error escaped from the call
    with pytest.raises(ClientError) as caught:
        ssm.put_parameter(Name="/p", Value="abc", Type="String", AllowedPattern="[")
    assert caught.value.response["Error"]["Code"] == "InvalidAllowedPatternException"
    assert ssm.describe_parameters()["Parameters"] == []


def test_parameters_by_path_filtered_and_paged(hw: Headwater) -> None:
    """GetParametersByPath keeps only the parameters its Type / KeyId filters match and
    answers at most MaxResults (10 by default) a page, NextToken leading on; filters it does
    not take are refused as SSM refuses them."""
    ssm = hw.client("ssm")
    for number in range(12):
        ssm.put_parameter(Name=f"/fleet/host{number:02}", Value=str(number), Type="String")
    ssm.put_parameter(Name="/fleet/secret", Value="s", Type="SecureString")
    ssm.put_parameter(Name="/fleet/keyed", Value="k", Type="SecureString", KeyId="alias/mine")

    def names(**filters: object) -> list[str]:
        """Every name the pages hold, following NextToken."""
        found: list[str] = []
        token: dict[str, object] = {}
        while True:
            page = ssm.get_parameters_by_path(Path="/fleet", **filters, **token)
            found += [p["Name"] for p in page["Parameters"]]
            if "NextToken" not in page:
                return found
            token = {"NextToken": page["NextToken"]}

    secure = [{"Key": "Type", "Values": ["SecureString"]}]
    assert names(ParameterFilters=secure) == ["/fleet/keyed", "/fleet/secret"]
    default_key = [{"Key": "KeyId", "Values": ["alias/aws/ssm"]}]
    assert names(ParameterFilters=default_key) == ["/fleet/secret"]
    mine = [{"Key": "KeyId", "Option": "BeginsWith", "Values": ["alias/m"]}]
    assert names(ParameterFilters=mine) == ["/fleet/keyed"]
    strings = [{"Key": "Type", "Option": "BeginsWith", "Values": ["String"]}]
    assert len(names(ParameterFilters=strings)) == 12
    assert names(ParameterFilters=[{"Key": "Label", "Values": ["prod"]}]) == []

    first = ssm.get_parameters_by_path(Path="/fleet")
    assert len(first["Parameters"]) == 10
    rest = ssm.get_parameters_by_path(Path="/fleet", NextToken=first["NextToken"])
    assert "NextToken" not in rest
    assert len(first["Parameters"]) + len(rest["Parameters"]) == 14
    small = ssm.get_parameters_by_path(Path="/fleet", MaxResults=3)
    assert [p["Name"] for p in small["Parameters"]] == [
        "/fleet/host00",
        "/fleet/host01",
        "/fleet/host02",
    ]

    def refused(**given: object) -> tuple[str, str]:
        with pytest.raises(ClientError) as caught:
            ssm.get_parameters_by_path(Path="/fleet", **given)
        error = caught.value.response["Error"]
        return error["Code"], error["Message"]

    assert refused(NextToken="not a token!") == (
        "InvalidNextToken",
        "The specified token is not valid.",
    )
    assert refused(MaxResults=11) == (
        "ValidationException",
        "1 validation error detected: Value '11' at 'maxResults' failed to satisfy constraint: "
        "Member must have value less than or equal to 10",
    )
    assert refused(ParameterFilters=[{"Key": "Name", "Values": ["/fleet/secret"]}]) == (
        "InvalidFilterKey",
        "The following filter key is not valid: Name. Valid filter keys include: [Type, KeyId].",
    )
    assert refused(ParameterFilters=[{"Key": "Type", "Option": "Contains", "Values": ["S"]}]) == (
        "InvalidFilterOption",
        "The following filter option is not valid: Contains. Valid options include: "
        "[BeginsWith, Equals].",
    )
    assert refused(ParameterFilters=[{"Key": "Type", "Values": ["Number"]}]) == (
        "InvalidFilterOption",
        "The following filter value is not valid: Number. Valid values include: [String, "
        "StringList, SecureString].",
    )


def test_describe_and_history_give_the_allowed_pattern_and_key(hw: Headwater) -> None:
    # terraform's aws_ssm_parameter reads allowed_pattern back from DescribeParameters:
    # without it every plan wanted to set the pattern again.
    ssm = hw.client("ssm")
    ssm.put_parameter(Name="/batch", Value="25", Type="String", AllowedPattern="^[0-9]+$")
    ssm.put_parameter(Name="/token", Value="s3cr3t", Type="SecureString")
    ssm.put_parameter(Name="/plain", Value="p", Type="String")
    described = {p["Name"]: p for p in ssm.describe_parameters()["Parameters"]}
    assert described["/batch"]["AllowedPattern"] == "^[0-9]+$"
    assert described["/token"]["KeyId"] == "alias/aws/ssm"
    assert "AllowedPattern" not in described["/plain"]
    assert "KeyId" not in described["/plain"]
    history = ssm.get_parameter_history(Name="/batch")["Parameters"]
    assert [p.get("AllowedPattern") for p in history] == ["^[0-9]+$"]
    token = ssm.get_parameter_history(Name="/token")["Parameters"]
    assert [p.get("KeyId") for p in token] == ["alias/aws/ssm"]


def test_intelligent_tiering_stores_the_tier_it_chose(hw: Headwater) -> None:
    # Intelligent-Tiering is not a tier: Parameter Store answers Standard for a value a
    # standard parameter holds, Advanced for a larger one, and keeps an advanced one advanced.
    ssm = hw.client("ssm")
    small = ssm.put_parameter(Name="/small", Value="1", Type="String", Tier="Intelligent-Tiering")
    assert small["Tier"] == "Standard"
    large = ssm.put_parameter(
        Name="/large", Value="x" * 4097, Type="String", Tier="Intelligent-Tiering"
    )
    assert large["Tier"] == "Advanced"
    again = ssm.put_parameter(
        Name="/large", Value="short now", Overwrite=True, Tier="Intelligent-Tiering"
    )
    assert again["Tier"] == "Advanced"
    tiers = {p["Name"]: p["Tier"] for p in ssm.describe_parameters()["Parameters"]}
    assert tiers == {"/large": "Advanced", "/small": "Standard"}
    history = ssm.get_parameter_history(Name="/large")["Parameters"]
    assert [p["Tier"] for p in history] == ["Advanced", "Advanced"]


def test_a_secure_string_is_plain_text_only_with_decryption(hw: Headwater) -> None:
    # SSM answers a SecureString's ciphertext unless WithDecryption is set: code that
    # forgets it must not pass here and fail on AWS.
    ssm = hw.client("ssm")
    ssm.put_parameter(Name="/app/secret", Value="s3cr3t", Type="SecureString")
    ssm.put_parameter(Name="/app/plain", Value="open", Type="String")

    def values(decrypt: bool) -> list[str]:
        return [
            ssm.get_parameter(Name="/app/secret", WithDecryption=decrypt)["Parameter"]["Value"],
            ssm.get_parameters(Names=["/app/secret"], WithDecryption=decrypt)["Parameters"][0][
                "Value"
            ],
            {
                p["Name"]: p["Value"]
                for p in ssm.get_parameters_by_path(Path="/app", WithDecryption=decrypt)[
                    "Parameters"
                ]
            }["/app/secret"],
            ssm.get_parameter_history(Name="/app/secret", WithDecryption=decrypt)["Parameters"][0][
                "Value"
            ],
        ]

    assert values(True) == ["s3cr3t"] * 4
    sealed = values(False)
    assert len(set(sealed)) == 1  # the same stand-in for one version, every time
    assert "s3cr3t" not in sealed[0]
    assert sealed[0].startswith("AQICAH")  # a KMS ciphertext blob in base64, as on AWS
    assert ssm.get_parameter(Name="/app/secret")["Parameter"]["Value"] == sealed[0]
    # String parameters ignore the flag
    assert ssm.get_parameter(Name="/app/plain")["Parameter"]["Value"] == "open"
    ssm.put_parameter(Name="/app/secret", Value="s3cr3t", Type="SecureString", Overwrite=True)
    assert ssm.get_parameter(Name="/app/secret")["Parameter"]["Value"] != sealed[0]
