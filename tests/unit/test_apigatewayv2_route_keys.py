"""HTTP API route keys: parsing and API Gateway's choice of route for a request."""

from __future__ import annotations

import pytest

from headwater.core.errors import AwsError
from headwater.services.apigatewayv2.route_keys import match_route, parse_route_key

KEYS = [
    "GET /pets/{id}",
    "GET /pets/dog/{id}",
    "GET /pets/dog/1",
    "ANY /pets/{id}",
    "GET /pets/{proxy+}",
    "ANY /{proxy+}",
    "$default",
]


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/pets/dog/1", ("GET /pets/dog/1", {})),
        ("GET", "/pets/dog/2", ("GET /pets/dog/{id}", {"id": "2"})),
        ("GET", "/pets/7", ("GET /pets/{id}", {"id": "7"})),
        ("POST", "/pets/7", ("ANY /pets/{id}", {"id": "7"})),
        ("GET", "/pets/a/b/c", ("GET /pets/{proxy+}", {"proxy": "a/b/c"})),
        ("POST", "/pets/a/b", ("ANY /{proxy+}", {"proxy": "pets/a/b"})),
        ("GET", "/", ("$default", {})),
        ("GET", "/pets/caf%C3%A9", ("GET /pets/{id}", {"id": "café"})),
    ],
)
def test_most_specific_route_wins(
    method: str, path: str, expected: tuple[str, dict[str, str]]
) -> None:
    assert match_route(KEYS, method, path) == expected


def test_no_route_and_no_default() -> None:
    assert match_route(["GET /a"], "GET", "/b") is None
    assert match_route(["GET /a"], "GET", "/a/") == ("GET /a", {})
    # a greedy variable needs a segment of its own
    assert match_route(["GET /a/{p+}"], "GET", "/a") is None


@pytest.mark.parametrize("key", ["FETCH /a", "GET a", "GET /{p+}/b", "GET /a{b}", "GET"])
def test_malformed_keys_are_refused(key: str) -> None:
    with pytest.raises(AwsError) as caught:
        parse_route_key(key)
    assert caught.value.code == "BadRequestException"


def test_default_parses_to_none() -> None:
    assert parse_route_key("$default") is None
    parsed = parse_route_key("ANY /{proxy+}")
    assert parsed is not None and parsed.greedy
