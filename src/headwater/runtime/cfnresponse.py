"""The ``cfnresponse`` module CloudFormation packages with a Python function's inline
``ZipFile`` code: ``send`` PUTs a custom resource's answer to the request's ResponseURL.

headwater's own implementation of the documented interface (``SUCCESS``, ``FAILED``,
``send(event, context, responseStatus, responseData, physicalResourceId=None,
noEcho=False, reason=None)``), with the standard library only, written into the code
beside ``index.py`` by the Lambda function provider. It runs inside functions, not in
headwater.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

SUCCESS = "SUCCESS"
FAILED = "FAILED"


def send(  # noqa: PLR0917 - the documented positional interface
    event: dict[str, Any],
    context: Any,
    responseStatus: str,
    responseData: dict[str, Any] | None,
    physicalResourceId: str | None = None,
    noEcho: bool = False,
    reason: str | None = None,
) -> None:
    """PUT the answer to ``event["ResponseURL"]``; a failed PUT is printed, not raised, as
    AWS's module does."""
    log_stream = getattr(context, "log_stream_name", "")
    body = {
        "Status": responseStatus,
        "Reason": reason or f"See the details in CloudWatch Log Stream: {log_stream}",
        "PhysicalResourceId": physicalResourceId or log_stream,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": noEcho,
        "Data": responseData,
    }
    data = json.dumps(body).encode()
    print("Response body:")
    print(data.decode())
    request = urllib.request.Request(event["ResponseURL"], data=data, method="PUT")
    request.add_header("content-type", "")
    request.add_header("content-length", str(len(data)))
    try:
        with urllib.request.urlopen(request) as response:
            print("Status code:", response.status)
    except Exception as error:
        print("send(..) failed executing http.request(..):", error)
