"""boto3 CloudWatch clients for each wire protocol CloudWatch speaks.

botocore picks the first protocol its model lists (smithy-rpc-v2-cbor in 1.44); older
botocore releases sent awsJson (``GraniteServiceVersion20100801``) and the Terraform
provider's Go SDK sends awsQuery. A client whose model lists one protocol only speaks it.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import boto3
import botocore.session
from botocore.config import Config

from tests.conformance.server_process import CLIENT_ENV

#: pytest ids (as in the recordings) -> botocore protocol names.
PROTOCOLS = {"query": "query", "json": "json", "smithy-rpc-v2-cbor": "smithy-rpc-v2-cbor"}


@cache
def cloudwatch_client(endpoint: str, protocol: str, region: str = "us-west-2") -> Any:
    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    original = loader.load_service_model

    def load(service_name: str, type_name: str, api_version: str | None = None) -> Any:
        model = original(service_name, type_name, api_version)
        if service_name == "cloudwatch" and type_name == "service-2":
            model = copy.deepcopy(model)
            model["metadata"]["protocol"] = protocol
            model["metadata"]["protocols"] = [protocol]
        return model

    loader.load_service_model = load
    return boto3.Session(botocore_session=session).client(
        "cloudwatch",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=CLIENT_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CLIENT_ENV["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"max_attempts": 1}),
    )
