"""Small fake services and a botocore round trip through ``Router`` (no sockets)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from urllib.parse import urlencode

from botocore.awsrequest import AWSRequest, HeadersDict
from botocore.model import ServiceModel
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from headwater.api.http import WireRequest, WireResponse
from headwater.api.router import Router
from headwater.core.errors import AwsError
from headwater.models import service_model
from headwater.services.base import Params, RequestContext, Result, Service, operation
from headwater.wiring import SERVICES

AUTH = (
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/eu-west-1/{svc}/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=abc"
)


class FakeSqs(Service):
    service_name = "sqs"

    def __init__(self) -> None:
        self.calls: list[tuple[str, Params, RequestContext]] = []
        self.queues: dict[str, dict[str, str]] = {}

    def _queue(self, url: str) -> str:
        name = url.rstrip("/").rsplit("/", 1)[-1]
        if name not in self.queues:
            raise AwsError(
                "QueueDoesNotExist",
                "The specified queue does not exist.",
                query_code="AWS.SimpleQueueService.NonExistentQueue",
            )
        return name

    @operation("CreateQueue")
    def create_queue(self, params: Params, ctx: RequestContext) -> Result:
        self.calls.append(("CreateQueue", params, ctx))
        self.queues[params["QueueName"]] = dict(params.get("Attributes", {}))
        return {"QueueUrl": f"{ctx.endpoint}/{ctx.account}/{params['QueueName']}"}

    @operation("GetQueueAttributes")
    def get_queue_attributes(self, params: Params, ctx: RequestContext) -> Result:
        name = self._queue(params["QueueUrl"])
        return {"Attributes": {"QueueArn": f"arn:aws:sqs:{ctx.region}:{ctx.account}:{name}"}}

    @operation("SendMessage")
    def send_message(self, params: Params, ctx: RequestContext) -> Result:
        self.calls.append(("SendMessage", params, ctx))
        self._queue(params["QueueUrl"])
        return {"MessageId": "m-1", "MD5OfMessageBody": "d41d8cd98f00b204e9800998ecf8427e"}

    @operation("SendMessageBatch")
    def send_message_batch(self, params: Params, ctx: RequestContext) -> Result:
        self.calls.append(("SendMessageBatch", params, ctx))
        return {
            "Successful": [
                {"Id": e["Id"], "MessageId": f"m-{e['Id']}", "MD5OfMessageBody": "x"}
                for e in params["Entries"]
            ],
            "Failed": [],
        }

    @operation("ReceiveMessage")
    def receive_message(self, params: Params, ctx: RequestContext) -> Result:
        self.calls.append(("ReceiveMessage", params, ctx))
        return {
            "Messages": [
                {
                    "MessageId": "m-1",
                    "ReceiptHandle": "rh-1",
                    "MD5OfBody": "x",
                    "Body": "hello\r\n<&>",
                    "Attributes": {"ApproximateReceiveCount": "1"},
                    "MessageAttributes": {
                        "bin": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
                        "s": {"DataType": "String", "StringValue": "v"},
                    },
                }
            ]
        }

    @operation("DeleteMessage")
    def delete_message(self, params: Params, ctx: RequestContext) -> Result:
        self._queue(params["QueueUrl"])
        return {}

    @operation("ListQueues")
    def list_queues(self, params: Params, ctx: RequestContext) -> Result:
        return {"QueueUrls": [f"{ctx.endpoint}/{ctx.account}/{n}" for n in sorted(self.queues)]}

    @operation("PurgeQueue")
    def purge_queue(self, params: Params, ctx: RequestContext) -> Result:
        raise RuntimeError("bug in the service")


class FakeLambda(Service):
    service_name = "lambda"

    def __init__(self) -> None:
        self.calls: list[tuple[str, Params]] = []

    @operation("CreateFunction")
    def create_function(self, params: Params, ctx: RequestContext) -> Result:
        self.calls.append(("CreateFunction", params))
        return {
            "FunctionName": params["FunctionName"],
            "FunctionArn": f"arn:aws:lambda:{ctx.region}:{ctx.account}:function:f",
            "CodeSize": len(params["Code"]["ZipFile"]),
            "LastModified": "2026-11-25T00:00:00.000+0000",
        }

    @operation("GetFunction")
    def get_function(self, params: Params, ctx: RequestContext) -> Result:
        self.calls.append(("GetFunction", params))
        if params["FunctionName"].endswith("missing"):
            raise AwsError(
                "ResourceNotFoundException",
                f"Function not found: {params['FunctionName']}",
                status=404,
            )
        return {"Configuration": {"FunctionName": params["FunctionName"]}}

    @operation("Invoke")
    def invoke(self, params: Params, ctx: RequestContext) -> Result:
        self.calls.append(("Invoke", params))
        if params.get("InvocationType") == "Event":
            return {"StatusCode": 202, "Payload": b""}
        return {
            "StatusCode": 200,
            "FunctionError": "Unhandled",
            "LogResult": "bG9n",
            "ExecutedVersion": "$LATEST",
            "Payload": b'{"errorMessage":"boom"}',
        }

    @operation("GetEventSourceMapping")
    def get_event_source_mapping(self, params: Params, ctx: RequestContext) -> Result:
        raise AwsError(
            "ResourceNotFoundException",
            "The resource you requested does not exist.",
            status=404,
            fields={"Message": "The resource you requested does not exist."},
        )

    @operation("ListEventSourceMappings")
    def list_event_source_mappings(self, params: Params, ctx: RequestContext) -> Result:
        self.calls.append(("ListEventSourceMappings", params))
        return {
            "EventSourceMappings": [
                {"UUID": "u", "LastModified": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}
            ]
        }

    @operation("CreateEventSourceMapping")
    def create_event_source_mapping(self, params: Params, ctx: RequestContext) -> Result:
        self.calls.append(("CreateEventSourceMapping", params))
        return {"UUID": "u", "State": "Creating", "BatchSize": params.get("BatchSize", 10)}

    @operation("GetLayerVersion")
    def get_layer_version(self, params: Params, ctx: RequestContext) -> Result:
        self.calls.append(("GetLayerVersion", params))
        return {"Version": params["VersionNumber"]}


class FakeServices:
    def __init__(self) -> None:
        self.sqs = FakeSqs()
        self.lambda_ = FakeLambda()

    def __call__(self, name: str) -> Service:
        if name == "sqs":
            return self.sqs
        if name == "lambda":
            return self.lambda_
        raise ValueError(f"headwater has no {name!r} service")


def make_router(services: FakeServices) -> Router:
    return Router(services, service_names=SERVICES)


def handle(router: Router, request: WireRequest) -> WireResponse:
    return asyncio.run(router.handle(request))


def botocore_request(
    model: ServiceModel, operation: str, params: dict[str, Any], host: str = "127.0.0.1:4599"
) -> WireRequest:
    """The HTTP request botocore would send for ``operation``."""
    op = model.operation_model(operation)
    serialized = create_serializer(model.metadata["protocol"]).serialize_to_request(params, op)
    body = serialized["body"]
    if isinstance(body, dict):  # query protocol: form fields
        body = urlencode(body)
    if isinstance(body, str):
        body = body.encode("utf-8")
    query = serialized["query_string"]
    query_string = urlencode(query, doseq=True) if isinstance(query, dict) else query
    request = AWSRequest(method=serialized["method"], url="http://x" + serialized["url_path"])
    headers = {k.lower(): str(v) for k, v in serialized["headers"].items()}
    headers["host"] = host
    headers["authorization"] = AUTH.format(svc=model.signing_name)
    if model.metadata["protocol"] == "query":
        headers["content-type"] = "application/x-www-form-urlencoded; charset=utf-8"
    return WireRequest(
        method=request.method,
        raw_path=serialized["url_path"],
        query_string=query_string or "",
        headers=headers,
        body=body or b"",
    )


def botocore_parse(model: ServiceModel, operation: str, response: WireResponse) -> dict[str, Any]:
    """What botocore's parser makes of ``response``."""
    op = model.operation_model(operation)
    headers = HeadersDict(dict(response.headers))
    headers["content-type"] = response.content_type
    http = {"status_code": response.status, "headers": headers, "body": response.body}
    parsed: dict[str, Any] = create_parser(model.metadata["protocol"]).parse(http, op.output_shape)
    return parsed


def sqs_model() -> ServiceModel:
    return service_model("sqs")
