"""The custom resource provider's request and its reading of answers, with a stand-in
function that answers at once (the deployed path: tests/functional/test_cfn_custom_resources)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from headwater.deploy.custom_responses import RESPONSE_PREFIX, CustomResponses
from headwater.deploy.errors import ResourceFailure
from headwater.deploy.providers.base import ResourceRequest
from headwater.deploy.providers.custom import CustomResourceProvider, as_sent, provider_type

FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:handler"


class AnsweringFunction:
    """A Lambda client whose Event invoke PUTs ``answer`` (bytes) to the ResponseURL."""

    def __init__(self, responses: CustomResponses, answer: bytes | None) -> None:
        self.responses = responses
        self.answer = answer
        self.requests: list[dict[str, Any]] = []

    def invoke(self, **params: Any) -> None:
        assert params["InvocationType"] == "Event"
        request = json.loads(params["Payload"])
        self.requests.append(request)
        if self.answer is not None:
            path = request["ResponseURL"].split("://", 1)[1]
            path = path[path.index("/") :]
            self.responses.answer_put(path, self.answer)


@pytest.fixture
def responses() -> Iterator[CustomResponses]:
    found = CustomResponses(served_url=lambda: "http://127.0.0.1:4599", closing=lambda: False)
    yield found
    found.close()


def call(
    responses: CustomResponses, answer: bytes | None, **properties: Any
) -> tuple[AnsweringFunction, Any]:
    function = AnsweringFunction(responses, answer)
    request = ResourceRequest(
        logical_id="Thing",
        type="Custom::Thing",
        properties={"ServiceToken": FUNCTION, **properties},
        stack_name="s",
        stack_id="arn:aws:cloudformation:us-east-1:000000000000:stack/s/1",
        region="us-east-1",
        account="000000000000",
        clients=lambda name, validate=True: function,
    )
    try:
        return function, CustomResourceProvider(responses).create(request)
    except ResourceFailure as failure:
        return function, failure


def test_types_and_values_as_cloudformation_sends_them() -> None:
    assert provider_type("Custom::Anything") == "AWS::CloudFormation::CustomResource"
    assert provider_type("AWS::SQS::Queue") == "AWS::SQS::Queue"
    assert as_sent({"a": 1, "b": [True, 2.5, None, "x"], "c": {"d": False}}) == {
        "a": "1",
        "b": ["true", "2.5", None, "x"],
        "c": {"d": "false"},
    }


def test_the_response_url_is_on_the_served_endpoint(responses: CustomResponses) -> None:
    answer = {"Status": "SUCCESS", "PhysicalResourceId": "p", "Data": {"K": "v"}}
    function, result = call(responses, json.dumps(answer).encode())
    [request] = function.requests
    assert request["ResponseURL"].startswith("http://127.0.0.1:4599" + RESPONSE_PREFIX)
    assert (result.physical_id, result.attributes) == ("p", {"K": "v"})


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (b"not json", "Invalid response object: the response is not a JSON object"),
        (b'{"Status": "MAYBE"}', "Invalid response object: Status [MAYBE] is not valid"),
        (b'{"Status": "SUCCESS"}', "Invalid PhysicalResourceId"),
        (
            b'{"Status": "SUCCESS", "PhysicalResourceId": "p", "Data": [1]}',
            "Invalid response object: Data must be a JSON object",
        ),
    ],
)
def test_a_malformed_answer_fails_the_resource(
    responses: CustomResponses, answer: bytes, reason: str
) -> None:
    _, failure = call(responses, answer)
    assert isinstance(failure, ResourceFailure)
    assert failure.reason == reason


def test_bad_service_timeouts_and_tokens_fail_before_anything_is_sent(
    responses: CustomResponses,
) -> None:
    for timeout in ("0", "3601", "soon"):
        function, failure = call(responses, None, ServiceTimeout=timeout)
        assert failure.reason == "ServiceTimeout must be an integer from 1 to 3600"
        assert function.requests == []
    function = AnsweringFunction(responses, None)
    request = ResourceRequest(
        logical_id="Thing",
        type="Custom::Thing",
        properties={"ServiceToken": "arn:aws:sqs:us-east-1:000000000000:q"},
        stack_name="s",
        stack_id="id",
        region="us-east-1",
        account="000000000000",
        clients=lambda name, validate=True: function,
    )
    with pytest.raises(ResourceFailure, match="Invalid service token"):
        CustomResourceProvider(responses).create(request)


def test_no_answer_times_out_with_awss_text(responses: CustomResponses) -> None:
    _, failure = call(responses, None, ServiceTimeout=1)
    assert failure.reason.startswith(
        "CloudFormation did not receive a response from your Custom Resource. Please check "
        "your logs for requestId ["
    )
