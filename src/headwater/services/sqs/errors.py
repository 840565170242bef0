"""SQS errors with the codes boto3 users see against AWS (JSON protocol, query-compatible).

``code`` is the ``__type`` name (the botocore error shape, or AWS's unmodeled name) and
``query_code`` the legacy code AWS sends in ``x-amzn-query-error``, which botocore puts in
``e.response["Error"]["Code"]``.
"""

from __future__ import annotations

from headwater.core.errors import AwsError

_LEGACY_CODES = {
    "QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue",
    "QueueNameExists": "QueueAlreadyExists",
    "QueueDeletedRecently": "AWS.SimpleQueueService.QueueDeletedRecently",
    "MessageNotInflight": "AWS.SimpleQueueService.MessageNotInflight",
    "TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    "EmptyBatchRequest": "AWS.SimpleQueueService.EmptyBatchRequest",
    "BatchEntryIdsNotDistinct": "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    "InvalidBatchEntryId": "AWS.SimpleQueueService.InvalidBatchEntryId",
    "BatchRequestTooLong": "AWS.SimpleQueueService.BatchRequestTooLong",
    "UnsupportedOperation": "AWS.SimpleQueueService.UnsupportedOperation",
    "PurgeQueueInProgress": "AWS.SimpleQueueService.PurgeQueueInProgress",
    "InvalidParameterValueException": "InvalidParameterValue",
    "MissingRequiredParameterException": "MissingParameter",
}

_STATUS = {
    "PurgeQueueInProgress": 403,
    "ReceiptHandleIsInvalid": 404,
    "OverLimit": 403,
    "ResourceNotFoundException": 404,
    "InvalidAddress": 404,
}


def sqs_error(code: str, message: str) -> AwsError:
    """An SQS error by ``__type`` name, with its legacy code and HTTP status."""
    return AwsError(
        code,
        message,
        status=_STATUS.get(code, 400),
        query_code=_LEGACY_CODES.get(code, code),
    )


def invalid_parameter(message: str) -> AwsError:
    """``InvalidParameterValue`` (unmodeled; boto3 raises a plain ``ClientError``)."""
    return sqs_error("InvalidParameterValueException", message)


def invalid_value(value: object, parameter: str, reason: str) -> AwsError:
    """``Value X for parameter P is invalid. Reason: R`` as SQS words it."""
    return invalid_parameter(
        f"Value {value} for parameter {parameter} is invalid. Reason: {reason}"
    )


def missing_parameter(parameter: str) -> AwsError:
    return sqs_error(
        "MissingRequiredParameterException", f"The request must contain the parameter {parameter}."
    )


def queue_does_not_exist() -> AwsError:
    return sqs_error("QueueDoesNotExist", "The specified queue does not exist.")


def receipt_handle_invalid(handle: str) -> AwsError:
    return sqs_error(
        "ReceiptHandleIsInvalid",
        f'The input receipt handle "{handle}" is not a valid receipt handle.',
    )


def unknown_attribute(name: str) -> AwsError:
    return sqs_error("InvalidAttributeName", f"Unknown Attribute {name}.")


def invalid_attribute_value(name: str) -> AwsError:
    return sqs_error("InvalidAttributeValue", f"Invalid value for the parameter {name}.")
