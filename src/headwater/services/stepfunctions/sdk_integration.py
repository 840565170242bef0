"""AWS SDK integrations: ``arn:aws:states:::aws-sdk:<service>:<apiAction>``, any operation
of any service headwater serves, called through its in-process client.

Names are those of the AWS SDK for Java 2.x, which Step Functions runs on: the service is
its client's name lowercased (``dynamodb``, ``sfn``, ``cloudwatchlogs``, ``eventbridge``,
``secretsmanager``: derived here from botocore's ``serviceId``), the action is the
operation with its first letter lowercased (``getItem``). Parameters are PascalCase even
where the API's members are camelCase (Step Functions' own), and so is the result. A blob
in the result is its UTF-8 text (S3 GetObject's ``Body``, Lambda Invoke's ``Payload``:
AWS documents that the SDK integration leaves it escaped JSON), base64 when it is not
text (guessed); a timestamp is ISO 8601 text (guessed).

An error fails the state with ``<Service>.<Exception>`` as AWS documents: both PascalCase
as the Java SDK names them (``DynamoDb.ConditionalCheckFailedException``,
``Sqs.QueueDoesNotExistException``, ``S3.NoSuchKeyException``: acronyms cased as words,
``Fault`` made ``Exception`` and ``Exception`` added where the model's name lacks it), the
cause the service's message followed by ``(Service: <Service>, Status Code: <status>,
Request ID: <id>)`` as the Java SDK writes it. Parameters the model refuses at run time
fail with ``<Service>.<Service>Exception``, the Java SDK's catch-all (guessed).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from functools import cache
from typing import Any

from botocore import xform_name
from botocore.exceptions import ClientError, ParamValidationError
from botocore.model import Shape
from botocore.response import StreamingBody

from headwater.models import service_model
from headwater.services.base import RequestContext, ServiceEnvironment
from headwater.services.stepfunctions.failures import StatesError
from headwater.wiring import SERVICES, service_class

SDK_PREFIX = "arn:aws:states:::aws-sdk:"
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def java_words(name: str) -> str:
    """``name`` with each word capitalised and the rest of it lowercased, as the Java SDK
    names classes: ``DynamoDB`` -> ``DynamoDb``, ``KMSInvalidState`` -> ``KmsInvalidState``."""
    return "".join(word[:1].upper() + word[1:].lower() for word in _WORDS.findall(name))


def java_service_name(service_id: str) -> str:
    """The Java SDK's name of a service from its botocore ``serviceId``."""
    words = service_id.split()
    while len(words) > 1 and words[0] in ("Amazon", "AWS"):
        words = words[1:]
    return "".join(java_words(word) for word in words)


def java_exception_name(shape_name: str) -> str:
    name = java_words(shape_name.removesuffix("Fault"))
    return name if name.endswith("Exception") else f"{name}Exception"


@cache
def _sdk_services() -> dict[str, str]:
    """aws-sdk service name -> botocore name, for every service headwater serves."""
    found = {}
    for name in SERVICES:
        service_id = service_model(name).metadata.get("serviceId", name)
        found[java_service_name(service_id).lower()] = name
    return found


def sdk_operation(resource: str) -> tuple[str, str]:
    """(botocore service, operation) of aws-sdk resource ``resource`` (no pattern suffix);
    ``ValueError`` naming why headwater cannot call it."""
    service, _, action = resource.removeprefix(SDK_PREFIX).partition(":")
    botocore_name = _sdk_services().get(service)
    if botocore_name is None:
        raise ValueError(f"headwater does not serve the aws-sdk service '{service}'")
    operations = {
        op[:1].lower() + op[1:]: op for op in service_class(botocore_name).operation_names()
    }
    if action not in operations:
        raise ValueError(f"headwater does not serve the action '{action}' of '{service}'")
    return botocore_name, operations[action]


def sdk_parameter_problem(resource: str, parameters: Any) -> str | None:
    """Why the Parameters of an aws-sdk task name a field its action does not take
    (``None``: they do not), as AWS refuses at creation (text guessed)."""
    botocore_name, operation = sdk_operation(resource)
    shape = service_model(botocore_name).operation_model(operation).input_shape
    if not isinstance(parameters, dict):
        return None
    members = {name.lower(): name for name in (shape.members if shape is not None else {})}
    for key in parameters:
        if key.removesuffix(".$").lower() not in members:
            return f"The field '{key.removesuffix('.$')}' is not supported by Step Functions"
    return None


def call_sdk(env: ServiceEnvironment, ctx: RequestContext, resource: str, parameters: Any) -> Any:
    """Call aws-sdk resource ``resource`` with ``parameters``; the response as Step
    Functions answers it. Raises StatesError ``<Service>.<Exception>``."""
    from headwater.client import ServiceClient

    botocore_name, operation = sdk_operation(resource)
    model = service_model(botocore_name)
    java_name = java_service_name(model.metadata.get("serviceId", botocore_name))
    operation_model = model.operation_model(operation)
    request = _to_request(parameters or {}, operation_model.input_shape)
    client = ServiceClient(env.service(botocore_name), ctx)
    try:
        response = getattr(client, xform_name(operation))(**request)
    except ClientError as error:
        details = error.response.get("Error", {})
        code = str(details.get("QueryErrorCode") or details.get("Code") or "")
        shape = model.shape_for_error_code(code)
        metadata = error.response.get("ResponseMetadata", {})
        raise StatesError(
            f"{java_name}.{java_exception_name(shape.name if shape is not None else code)}",
            f"{details.get('Message', '')} (Service: {java_name}, Status Code:"
            f" {metadata.get('HTTPStatusCode', 400)}, Request ID: {metadata.get('RequestId', '')})",
        ) from None
    except ParamValidationError as error:
        raise StatesError(f"{java_name}.{java_name}Exception", str(error)) from None
    response.pop("ResponseMetadata", None)
    return _to_result(response, operation_model.output_shape)


def _to_request(value: Any, shape: Shape | None) -> Any:
    """Step Functions' Parameters as boto3 takes them: PascalCase keys to the model's
    member names, objects given for blobs as their JSON text."""
    if shape is None:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = {name.lower(): name for name in shape.members}
        converted = {}
        for key, item in value.items():
            name = members.get(key.lower(), key)
            member = shape.members.get(name)
            converted[name] = _to_request(item, member)
        return converted
    if kind == "list" and isinstance(value, list):
        return [_to_request(item, shape.member) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {key: _to_request(item, shape.value) for key, item in value.items()}
    if kind == "blob" and not isinstance(value, str | bytes):
        return json.dumps(value)
    return value


def _to_result(value: Any, shape: Shape | None) -> Any:
    """A boto3 response as Step Functions answers it: PascalCase keys, blobs as text,
    timestamps as ISO 8601 text."""
    if isinstance(value, StreamingBody):
        value = value.read()
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(value).decode()
    if isinstance(value, dt.datetime):
        return value.isoformat()
    kind = shape.type_name if shape is not None else ""
    if isinstance(value, dict):
        if kind == "structure" and shape is not None:
            return {
                key[:1].upper() + key[1:]: _to_result(item, shape.members.get(key))
                for key, item in value.items()
            }
        inner = shape.value if kind == "map" else None  # type: ignore[union-attr]
        return {key: _to_result(item, inner) for key, item in value.items()}
    if isinstance(value, list):
        inner = shape.member if kind == "list" else None  # type: ignore[union-attr]
        return [_to_result(item, inner) for item in value]
    return value
