"""``S3Service``: Amazon S3 in Python, bytes on disk and the index in the database."""

from __future__ import annotations

from typing import ClassVar

from headwater.services.s3.object_attributes import ObjectAttributeOperations
from headwater.services.s3.post_uploads import POST_OBJECT


class S3Service(ObjectAttributeOperations):
    """The S3 operations headwater serves (and PostObject, a browser form's upload, which
    botocore's model lacks), plus ``put_object_bytes`` for in-process writers (on-failure
    destinations)."""

    service_name: ClassVar[str] = "s3"
    unencodable_text_code = "InvalidArgument"
    unsupported_operation_code = "NotImplemented"
    unsupported_operation_status = 501

    @classmethod
    def operation_names(cls) -> list[str]:
        """The operations of botocore's model served: PostObject (a browser form's
        upload, answered on the wire only) is not among them."""
        return [name for name in super().operation_names() if name != POST_OBJECT]
