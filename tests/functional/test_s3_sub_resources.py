"""Every S3 operation botocore's model tells apart by a query-string sub-resource
(``?retention``, ``?analytics``...), sent over the wire: it is served, or refused with S3's
NotImplemented naming it, never routed to another operation nor answered with a 500."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from headwater import Headwater
from headwater.core.clock import ManualClock
from headwater.models import service_model
from tests.asgi_boto import CREDENTIALS, ENDPOINT, InProcessAws


def sub_resource_operations() -> list[str]:
    """The model's operations whose requestUri carries a query-string discriminator."""
    model = service_model("s3")
    return [
        name
        for name in model.operation_names
        if "?" in model.operation_model(name).http["requestUri"]
    ]


def wire_request(operation: str) -> tuple[str, str]:
    """(method, path and query) of a request for ``operation``, path style, with the
    discriminator and a placeholder for each required query-string member."""
    model = service_model("s3").operation_model(operation)
    path, _, literals = model.http["requestUri"].partition("?")
    path = path.replace("{Bucket}", "bucket").replace("{Key+}", "key")
    query = [literals]
    shape = model.input_shape
    for name in shape.required_members if shape is not None else ():
        member = shape.members[name]
        if member.serialization.get("location") == "querystring":
            query.append(f"{member.serialization['name']}=x")
    return model.http["method"], f"{path}?{'&'.join(query)}"


def same_request(operation: str) -> set[str]:
    """The operations sent exactly as ``operation`` is (GetBucketLifecycle and
    GetBucketLifecycleConfiguration): S3 cannot tell them apart, nor can headwater."""
    model = service_model("s3")
    http = model.operation_model(operation).http
    return {
        name
        for name in model.operation_names
        if model.operation_model(name).http["requestUri"] == http["requestUri"]
        and model.operation_model(name).http["method"] == http["method"]
    }


def signed_headers(method: str, url: str) -> dict[str, str]:
    """SigV4 headers for an empty-bodied S3 request, as an SDK sends them."""
    request = AWSRequest(method=method, url=url, data=b"")
    credentials = Credentials(
        CREDENTIALS["aws_access_key_id"], CREDENTIALS["aws_secret_access_key"]
    )
    S3SigV4Auth(credentials, "s3", "us-east-1").add_auth(request)
    return {name: str(value) for name, value in request.headers.items()}


@pytest.fixture
def aws(clock: ManualClock) -> Iterator[InProcessAws]:
    # routing does not depend on the store: the memory one is enough
    with Headwater(clock=clock, endpoint_url=ENDPOINT) as hw:
        hw.s3.create_bucket(Bucket="bucket")
        hw.s3.put_object(Bucket="bucket", Key="key", Body=b"x")
        made = InProcessAws(hw)
        try:
            yield made
        finally:
            made.close()


@pytest.mark.parametrize("operation", sub_resource_operations())
def test_a_sub_resource_is_served_or_not_implemented_by_name(
    aws: InProcessAws, operation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = aws.hw.service("s3")
    called: list[str] = []
    original = service.call

    def recording(name: str, params: Any, ctx: Any = None) -> Any:
        called.append(name)
        return original(name, params, ctx)

    monkeypatch.setattr(service, "call", recording)
    method, target = wire_request(operation)
    url = f"{ENDPOINT}{target}"
    status, _, body = aws.transport.send(method, url, signed_headers(method, url), b"")
    text = body.decode()
    assert status != 500, text
    if status == 501:
        assert "<Code>NotImplemented</Code>" in text
        named = re.search(r"Operation (\w+) is not supported", text)
        assert named is not None, text
        assert named.group(1) in same_request(operation)
    else:
        assert called and called[0] in same_request(operation), (called, text)
