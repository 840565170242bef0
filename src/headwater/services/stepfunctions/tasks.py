"""Task state resources: what a Task calls, through headwater's own services.

- a Lambda function ARN (``arn:aws:lambda:...:function:NAME``): the function gets the
  state's input and its answer is the result (history: LambdaFunction* events);
- ``arn:aws:states:::lambda:invoke``: Parameters ``FunctionName`` and ``Payload`` (and
  ``InvocationType``, ``Qualifier``, ``ClientContext``, ``LogType`` passed on); the result is
  ``{ExecutedVersion, Payload, StatusCode, SdkHttpMetadata...}`` as AWS shapes it;
- ``arn:aws:states:::sqs:sendMessage``, ``sns:publish``, ``dynamodb:getItem``/``putItem``/
  ``updateItem``/``deleteItem`` and ``events:putEvents``: the call with Parameters as its
  request (a ``MessageBody``/``Message``/``Detail`` object is sent as its JSON text), the
  service's answer as the result.

A function error fails the state with the function's ``errorType`` as the error and the
function's error document (JSON) as the cause, as Step Functions does; a service error
fails it with ``<Service>.<code>`` (``SQS.QueueDoesNotExist``: the prefix is AWS's form,
the exact names of each service's errors in Step Functions are guessed).

Each integration also takes the ``.waitForTaskToken`` pattern: the call is made with
``$$.Task.Token`` available to Parameters, and the state waits for SendTaskSuccess or
SendTaskFailure with that token (the interpreter does the waiting). ``aws-sdk:*``
resources are ``sdk_integration``'s, ``states:startExecution`` (and its ``.sync``
patterns, which the interpreter waits for) ``nested``'s. Everything else (other
``.sync`` integrations, activities, services headwater does not serve) is refused when
the machine is created (``unsupported_resource``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from headwater.core.errors import AwsError
from headwater.core.values import as_bytes
from headwater.services.base import RequestContext, ServiceEnvironment
from headwater.services.stepfunctions.failures import StatesError
from headwater.services.stepfunctions.nested import (
    NESTED_RESOURCES,
    START_EXECUTION,
    SYNC_PATTERNS,
    start_child,
)
from headwater.services.stepfunctions.sdk_integration import SDK_PREFIX, call_sdk, sdk_operation

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
#: The integration pattern whose task waits for SendTaskSuccess/SendTaskFailure.
WAIT_FOR_TASK_TOKEN = ".waitForTaskToken"
#: Optimised integration resource -> (headwater service, operation, error prefix).
INTEGRATIONS: dict[str, tuple[str, str, str]] = {
    "arn:aws:states:::sqs:sendMessage": ("sqs", "SendMessage", "SQS"),
    "arn:aws:states:::sns:publish": ("sns", "Publish", "SNS"),
    "arn:aws:states:::dynamodb:getItem": ("dynamodb", "GetItem", "DynamoDB"),
    "arn:aws:states:::dynamodb:putItem": ("dynamodb", "PutItem", "DynamoDB"),
    "arn:aws:states:::dynamodb:updateItem": ("dynamodb", "UpdateItem", "DynamoDB"),
    "arn:aws:states:::dynamodb:deleteItem": ("dynamodb", "DeleteItem", "DynamoDB"),
    "arn:aws:states:::events:putEvents": ("events", "PutEvents", "EventBridge"),
}
#: lambda:invoke Parameters passed on to Invoke as they are.
_INVOKE_OPTIONS = ("InvocationType", "Qualifier", "ClientContext", "LogType")
#: Parameters the integration sends as JSON text when given as an object.
_JSON_TEXT_FIELDS = ("MessageBody", "Message")

#: Called with (history event type, details member, details) for the execution's history.
Emit = Callable[[str, str, dict[str, Any]], None]


def is_lambda_function_arn(resource: str) -> bool:
    return resource.startswith("arn:aws:lambda:") and ":function:" in resource


def unsupported_resource(resource: str) -> str | None:
    """Why headwater cannot run Task resource ``resource`` (``None``: it can)."""
    if is_lambda_function_arn(resource) or resource == LAMBDA_INVOKE:
        return None
    base = resource.removesuffix(WAIT_FOR_TASK_TOKEN)
    if base.startswith(SDK_PREFIX):
        if ".sync" in base:
            # AWS: an aws-sdk task takes request-response and .waitForTaskToken only.
            return f"The '{resource}' integration pattern is not supported by aws-sdk tasks"
        try:
            sdk_operation(base)
        except ValueError as error:
            return f"{error} (Task resource '{resource}')"
        return None
    if base == LAMBDA_INVOKE or base in INTEGRATIONS or resource in NESTED_RESOURCES:
        return None
    if resource.endswith(WAIT_FOR_TASK_TOKEN) or ".sync" in resource:
        return f"headwater does not support the '{resource}' integration pattern"
    return f"headwater does not support the Task resource '{resource}'"


def resource_type_and_name(resource: str) -> tuple[str, str]:
    """TaskScheduled's ``resourceType`` and ``resource``: ``lambda`` and ``invoke``,
    ``aws-sdk:dynamodb`` and ``getItem``."""
    rest = resource.removeprefix("arn:aws:states:::")
    if rest.startswith("aws-sdk:"):
        resource_type, _, name = rest.rpartition(":")
        return resource_type, name
    resource_type, _, name = rest.partition(":")
    return resource_type, name


def run_task(
    env: ServiceEnvironment,
    ctx: RequestContext,
    resource: str,
    parameters: Any,
    *,
    timeout: float | None,
    emit: Emit,
    child_name: str | None = None,
) -> Any:
    """Run Task resource ``resource`` with the state's effective input; its result. For a
    ``.waitForTaskToken`` resource the call is only *submitted* (history: TaskSubmitted);
    the caller waits for the token's answer (for ``.sync``, for the child to end).
    ``child_name`` names the child execution a
    ``states:startExecution`` task starts when its Parameters name none."""
    if is_lambda_function_arn(resource):
        details: dict[str, Any] = {"resource": resource, "input": json.dumps(parameters)}
        if timeout is not None:
            details["timeoutInSeconds"] = int(timeout)
        emit("LambdaFunctionScheduled", "lambdaFunctionScheduledEventDetails", details)
        emit("LambdaFunctionStarted", "", {})
        try:
            payload, _, _ = _invoke(env, ctx, resource, parameters)
        except StatesError as failed:
            emit(
                "LambdaFunctionFailed",
                "lambdaFunctionFailedEventDetails",
                {"error": failed.error, "cause": failed.cause},
            )
            raise
        emit(
            "LambdaFunctionSucceeded",
            "lambdaFunctionSucceededEventDetails",
            {"output": json.dumps(payload)},
        )
        return payload
    resource_type, action = resource_type_and_name(resource)
    scheduled: dict[str, Any] = {
        "resourceType": resource_type,
        "resource": action,
        "region": ctx.region,
        "parameters": json.dumps(parameters),
    }
    if timeout is not None:
        scheduled["timeoutInSeconds"] = int(timeout)
    emit("TaskScheduled", "taskScheduledEventDetails", scheduled)
    emit(
        "TaskStarted",
        "taskStartedEventDetails",
        {"resourceType": resource_type, "resource": action},
    )
    try:
        result = _integration(
            env, ctx, resource.removesuffix(WAIT_FOR_TASK_TOKEN), parameters, child_name
        )
    except StatesError as failed:
        emit(
            "TaskFailed",
            "taskFailedEventDetails",
            {
                "resourceType": resource_type,
                "resource": action,
                "error": failed.error,
                "cause": failed.cause,
            },
        )
        raise
    waits = resource.endswith(WAIT_FOR_TASK_TOKEN) or resource.endswith(SYNC_PATTERNS)
    done = "TaskSubmitted" if waits else "TaskSucceeded"
    emit(
        done,
        f"{done[0].lower()}{done[1:]}EventDetails",
        {"resourceType": resource_type, "resource": action, "output": json.dumps(result)},
    )
    return result


def _integration(
    env: ServiceEnvironment,
    ctx: RequestContext,
    resource: str,
    parameters: Any,
    child_name: str | None = None,
) -> Any:
    if not isinstance(parameters, dict):
        raise StatesError("States.Runtime", f"The Parameters of '{resource}' must be an object")
    if resource.startswith(SDK_PREFIX):
        return call_sdk(env, ctx, resource, parameters)
    if resource.startswith(START_EXECUTION):
        return start_child(env, ctx, parameters, child_name)
    if resource == LAMBDA_INVOKE:
        if "FunctionName" not in parameters:
            # AWS refuses this at creation; headwater finds it here (guessed text).
            raise StatesError("States.Runtime", "The field 'FunctionName' is required")
        options = {key: parameters[key] for key in _INVOKE_OPTIONS if key in parameters}
        payload, status, version = _invoke(
            env, ctx, str(parameters["FunctionName"]), parameters.get("Payload", {}), options
        )
        return {
            "ExecutedVersion": version,
            "Payload": payload,
            "SdkHttpMetadata": {"HttpStatusCode": status},
            "SdkResponseMetadata": {},
            "StatusCode": status,
        }
    service, operation, prefix = INTEGRATIONS[resource]
    request = dict(parameters)
    for field in _JSON_TEXT_FIELDS:
        if field in request and not isinstance(request[field], str):
            request[field] = json.dumps(request[field])
    if service == "events":
        request["Entries"] = [
            {**entry, "Detail": json.dumps(entry["Detail"])}
            if not isinstance(entry.get("Detail", ""), str)
            else entry
            for entry in request.get("Entries") or []
        ]
    try:
        return _plain(env.service(service).call(operation, request, ctx))
    except AwsError as error:
        raise StatesError(f"{prefix}.{error.code}", error.message) from None


def _plain(value: Any) -> Any:
    """A service answer as JSON: datetimes as text, bytes as text."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _invoke(
    env: ServiceEnvironment,
    ctx: RequestContext,
    function: str,
    payload: Any,
    options: dict[str, Any] | None = None,
) -> tuple[Any, int, str]:
    """Invoke ``function`` synchronously; (its answer as JSON, status, version). A function
    error raises StatesError(errorType, the error document)."""
    try:
        answer = env.service("lambda").call(
            "Invoke",
            {
                "FunctionName": function,
                "InvocationType": "RequestResponse",
                "Payload": json.dumps(payload).encode(),
                **(options or {}),
            },
            ctx,
        )
    except AwsError as error:
        raise StatesError(f"Lambda.{error.code}", error.message) from None
    body = as_bytes(answer.get("Payload") or b"").decode("utf-8", "replace")
    if answer.get("FunctionError"):
        try:
            document = json.loads(body)
        except ValueError:
            document = {}
        error_type = document.get("errorType") if isinstance(document, dict) else None
        raise StatesError(str(error_type or "Lambda.Unknown"), body)
    try:
        result = json.loads(body) if body else None
    except ValueError:
        result = body
    return result, int(answer.get("StatusCode", 200)), str(answer.get("ExecutedVersion", "$LATEST"))
