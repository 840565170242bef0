"""GetObjectAttributes: an object's (or version's) ETag, checksum, parts, storage class and
size, without its bytes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.s3.errors import MAX_PARTS, PART_NUMBER_MARKER, invalid_argument
from headwater.services.s3.objects import answered_checksums
from headwater.services.s3.post_uploads import FormUploadOperations
from headwater.services.s3.versions import shown_version
from headwater.store.objects import ObjectRecord

ATTRIBUTES = frozenset({"ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"})
#: The most parts one answer lists (S3's default ``MaxParts``).
MAX_PARTS_LISTED = 1000


def asked_attributes(value: Any) -> list[str]:
    """``ObjectAttributes``: a list in process, one comma-separated header on the wire;
    S3's InvalidArgument for a name it does not know (or none)."""
    names = value if isinstance(value, list) else str(value or "").split(",")
    asked = [str(name).strip() for name in names if str(name).strip()]
    if not asked or any(name not in ATTRIBUTES for name in asked):
        raise invalid_argument(
            "Invalid attribute name specified.", "x-amz-object-attributes", str(value or "")
        )
    return asked


def object_parts(obj: ObjectRecord, params: Params) -> dict[str, Any]:
    """``ObjectParts`` of a multipart object: the count, and a page of its parts' numbers
    and sizes (``PartNumberMarker``, ``MaxParts``)."""
    marker = PART_NUMBER_MARKER.read(params) or 0
    asked = MAX_PARTS.read(params)
    limit = MAX_PARTS_LISTED if asked is None else min(asked, MAX_PARTS_LISTED)
    numbered = list(enumerate(obj.part_sizes, start=1))
    after = [(number, size) for number, size in numbered if number > marker]
    page = after[:limit]
    parts: dict[str, Any] = {
        "TotalPartsCount": obj.parts,
        "PartNumberMarker": marker,
        "MaxParts": limit,
        "IsTruncated": len(after) > len(page),
        "Parts": [{"PartNumber": number, "Size": size} for number, size in page],
    }
    if page:
        parts["NextPartNumberMarker"] = page[-1][0]
    return parts


class ObjectAttributeOperations(FormUploadOperations):
    """GetObjectAttributes."""

    @operation("GetObjectAttributes")
    def get_object_attributes(self, params: Params, ctx: RequestContext) -> Result:
        asked = asked_attributes(params.get("ObjectAttributes"))
        with self.store.db.transaction():
            bucket, obj = self._version(
                str(params["Bucket"]), str(params["Key"]), params.get("VersionId")
            )
        result: Result = {"LastModified": dt.datetime.fromtimestamp(int(obj.last_modified), dt.UTC)}
        version_id = shown_version(bucket, obj)
        if version_id is not None:
            result["VersionId"] = version_id
        if "ETag" in asked:
            result["ETag"] = obj.etag.strip('"')  # unquoted, unlike every other answer
        if "Checksum" in asked and obj.checksums:
            result["Checksum"] = answered_checksums(obj.checksums, {}, full=True)
        if "ObjectParts" in asked and obj.parts:
            result["ObjectParts"] = object_parts(obj, params)
        if "StorageClass" in asked:
            result["StorageClass"] = obj.headers.get("StorageClass", "STANDARD")
        if "ObjectSize" in asked:
            result["ObjectSize"] = obj.size
        return result
