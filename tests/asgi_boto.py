"""Real boto3 clients whose HTTP requests go straight into headwater's ASGI app.

botocore signs and serializes as against AWS; a ``before-send`` hook hands the prepared
request to the app on a private event loop instead of a socket. Tests get the whole wire
path (request checks, protocols, error shapes) with a ``ManualClock`` and no server process.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from botocore.config import Config

from headwater import Headwater
from headwater.in_process import InProcessTransport
from headwater.server.asgi import HeadwaterApp, create_app

if TYPE_CHECKING:
    from pathlib import Path

ENDPOINT = "http://127.0.0.1:4599"
CREDENTIALS = {"aws_access_key_id": "AKIDHEADWATERTEST", "aws_secret_access_key": "secret"}


#: The transport lives in headwater (``boto3_in_process`` uses it for inline handlers).
AsgiTransport = InProcessTransport


class InProcessAws:
    """boto3 clients for one ``Headwater`` served through its ASGI app, no sockets."""

    def __init__(self, hw: Headwater, app: HeadwaterApp | None = None) -> None:
        self.hw = hw
        self.transport = AsgiTransport(app or create_app(hw))

    def client(
        self, service: str, region: str = "us-east-1", *, session: Any = None, **config: Any
    ) -> Any:
        factory = boto3.Session(botocore_session=session) if session else boto3
        made = factory.client(
            service,
            endpoint_url=ENDPOINT,
            region_name=region,
            config=Config(retries={"max_attempts": 1}, **config),
            **CREDENTIALS,
        )
        made.meta.events.register("before-send", self.transport)
        return made

    def close(self) -> None:
        self.transport.close()


@contextmanager
def in_process_aws(hw: Headwater) -> Iterator[InProcessAws]:
    aws = InProcessAws(hw)
    try:
        yield aws
    finally:
        aws.close()


def legacy_sqs_session(directory: Path) -> botocore.session.Session:
    """A botocore session whose SQS client speaks the query protocol, as boto3 < 1.34.90."""
    from tests.unit.test_api_query import legacy_sqs_model

    model_dir = directory / "sqs" / "2012-11-05"
    model_dir.mkdir(parents=True, exist_ok=True)
    import json

    (model_dir / "service-2.json").write_text(json.dumps(legacy_sqs_model()._service_description))
    session = botocore.session.get_session()
    session.get_component("data_loader").search_paths.insert(0, str(directory))
    return session
