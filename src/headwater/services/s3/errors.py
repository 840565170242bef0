"""S3's errors: codes, statuses, AWS's texts and the extra elements its XML carries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from headwater.core.errors import AwsError
from headwater.core.values import JAVA_INT, utf8_length

if TYPE_CHECKING:
    from headwater.services.base import Params


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


#: The longest object key S3 stores, in UTF-8 bytes.
MAX_KEY_BYTES = 1024


def check_key_length(key: str) -> None:
    """S3's KeyTooLongError for a key to be written that is over ``MAX_KEY_BYTES``."""
    size = utf8_length(key)
    if size > MAX_KEY_BYTES:
        raise s3_error(
            "KeyTooLongError",
            "Your key is too long",
            Size=str(size),
            MaxSizeAllowed=str(MAX_KEY_BYTES),
        )


def invalid_argument(message: str, name: str | None = None, value: str | None = None) -> AwsError:
    fields: dict[str, str] = {}
    if name is not None:
        fields["ArgumentName"] = name
    if value is not None:
        fields["ArgumentValue"] = value
    return s3_error("InvalidArgument", message, 400, **fields)


#: Parts are numbered 1 to this, in uploads and in the objects they make.
MAX_PART_NUMBER = 10_000


def check_part_number(number: int) -> None:
    """S3's InvalidArgument for a part number outside 1 to ``MAX_PART_NUMBER``."""
    if not 1 <= number <= MAX_PART_NUMBER:
        raise invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive",
            "partNumber",
            str(number),
        )


def malformed_xml() -> AwsError:
    return s3_error(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )


def invalid_bucket_name(bucket: str) -> AwsError:
    return s3_error("InvalidBucketName", "The specified bucket is not valid.", BucketName=bucket)


@dataclass(frozen=True, slots=True)
class CountArgument:
    """An integer query argument of a listing (``max-keys``, ``max-parts``...), with S3's
    words for a negative one, which differ per operation (and name the argument's model
    name, ``maxKeys``, for ListObjects)."""

    member: str
    name: str
    negative_message: str
    negative_name: str
    negative_shows_value: bool = True

    def read(self, params: Params) -> int | None:
        """The argument (``None`` when absent); S3's InvalidArgument for one outside a Java
        int or negative."""
        value = params.get(self.member)
        if value is None:
            return None
        number = int(value)
        if number not in JAVA_INT:  # S3 reads them as a Java int
            raise invalid_argument(
                f"Provided {self.name} not an integer or within integer range",
                self.name,
                str(value),
            )
        if number < 0:
            raise invalid_argument(
                self.negative_message,
                self.negative_name,
                str(value) if self.negative_shows_value else None,
            )
        return number


def _between(name: str) -> str:
    return f"Argument {name} must be an integer between 0 and 2147483647"


#: ListObjects and ListObjectsV2.
LISTING_MAX_KEYS = CountArgument("MaxKeys", "max-keys", _between("maxKeys"), "maxKeys")
#: ListObjectVersions words it differently, and without the value.
VERSIONS_MAX_KEYS = CountArgument(
    "MaxKeys", "max-keys", "max-keys cannot be negative", "max-keys", negative_shows_value=False
)
MAX_UPLOADS = CountArgument("MaxUploads", "max-uploads", _between("max-uploads"), "max-uploads")
MAX_PARTS = CountArgument("MaxParts", "max-parts", _between("max-parts"), "max-parts")
PART_NUMBER_MARKER = CountArgument(
    "PartNumberMarker", "part-number-marker", _between("part-number-marker"), "part-number-marker"
)
