"""User pool triggers: the pool's LambdaConfig functions, invoked synchronously with AWS's
event shapes; what a function answers in ``response`` steers the operation."""

from __future__ import annotations

import logging
from typing import Any

import orjson

from headwater.core.errors import AwsError
from headwater.core.values import as_bytes
from headwater.services.base import RequestContext, Service

log = logging.getLogger(__name__)

#: The version AWS writes in its trigger events.
EVENT_VERSION = "1"


def trigger_function(pool: dict[str, Any], trigger: str) -> str | None:
    """The function ARN of ``trigger`` (``PreSignUp``...) in the pool's LambdaConfig; the
    pre token generation trigger may be given as ``PreTokenGenerationConfig`` instead."""
    config = pool.get("LambdaConfig") or {}
    if trigger == "PreTokenGeneration":
        v2 = config.get("PreTokenGenerationConfig") or {}
        if v2.get("LambdaArn"):
            return str(v2["LambdaArn"])
    found = config.get(trigger)
    return str(found) if found else None


def run_trigger(
    functions: Service,
    pool: dict[str, Any],
    trigger: str,
    source: str,
    *,
    username: str,
    client_id: str | None,
    request: dict[str, Any],
    response: dict[str, Any],
    ctx: RequestContext,
) -> dict[str, Any] | None:
    """Invoke the pool's ``trigger`` function, if it has one, with event ``triggerSource``
    ``source``; answers the ``response`` the function gave back (``None``: no trigger).

    A function that fails, or answers something that is not an event, fails the operation
    with AWS's UserLambdaValidationException "<trigger> failed with error <message>.".
    """
    function_arn = trigger_function(pool, trigger)
    if function_arn is None:
        return None
    event = {
        "version": EVENT_VERSION,
        "triggerSource": source,
        "region": pool["Id"].split("_", 1)[0],
        "userPoolId": pool["Id"],
        "userName": username,
        "callerContext": {
            "awsSdkVersion": "aws-sdk-unknown-unknown",
            "clientId": client_id or "CLIENT_ID_NOT_APPLICABLE",
        },
        "request": request,
        "response": response,
    }
    try:
        result = functions.call(
            "Invoke",
            {
                "FunctionName": function_arn,
                "InvocationType": "RequestResponse",
                "Payload": orjson.dumps(event),
            },
            ctx,
        )
    except AwsError as error:
        raise _failed(trigger, error.message) from None
    payload = as_bytes(result.get("Payload") or b"")
    if result.get("FunctionError"):
        try:
            message = str(orjson.loads(payload).get("errorMessage", ""))
        except (orjson.JSONDecodeError, AttributeError):
            message = payload.decode("utf-8", "replace")
        raise _failed(trigger, message)
    try:
        answered = orjson.loads(payload)
    except orjson.JSONDecodeError:
        answered = None
    if not isinstance(answered, dict):
        # AWS's words when a function returns something other than the event.
        raise _failed(trigger, "Unrecognizable lambda output")
    found = answered.get("response")
    return found if isinstance(found, dict) else {}


def _failed(trigger: str, message: str) -> AwsError:
    return AwsError("UserLambdaValidationException", f"{trigger} failed with error {message}.")
