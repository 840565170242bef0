"""S3's errors: codes, statuses, AWS's texts and the extra elements its XML carries."""

from __future__ import annotations

from headwater.core.errors import AwsError


def s3_error(code: str, message: str, status: int = 400, **fields: str) -> AwsError:
    """An S3 error; ``fields`` become extra elements of ``<Error>`` (``BucketName``...)."""
    return AwsError(code, message, status=status, fields=dict(fields))


def s3_error_with(code: str, message: str, fields: dict[str, str], status: int = 400) -> AwsError:
    """``s3_error`` for element names that are not Python identifiers (``Content-MD5``)."""
    return AwsError(code, message, status=status, fields=fields)


def no_such_bucket(bucket: str) -> AwsError:
    return s3_error("NoSuchBucket", "The specified bucket does not exist", 404, BucketName=bucket)


def no_such_key(key: str) -> AwsError:
    return s3_error("NoSuchKey", "The specified key does not exist.", 404, Key=key)


def no_such_upload(upload_id: str) -> AwsError:
    return s3_error(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may "
        "have been aborted or completed.",
        404,
        UploadId=upload_id,
    )


def invalid_argument(message: str, name: str | None = None, value: str | None = None) -> AwsError:
    fields: dict[str, str] = {}
    if name is not None:
        fields["ArgumentName"] = name
    if value is not None:
        fields["ArgumentValue"] = value
    return s3_error("InvalidArgument", message, 400, **fields)


def malformed_xml() -> AwsError:
    return s3_error(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )


def invalid_bucket_name(bucket: str) -> AwsError:
    return s3_error("InvalidBucketName", "The specified bucket is not valid.", BucketName=bucket)
