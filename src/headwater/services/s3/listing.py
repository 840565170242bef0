"""ListObjectsV2 and ListObjects: prefix, delimiter (common prefixes), paging, url encoding."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.s3.buckets import owner
from headwater.services.s3.errors import (
    LISTING_MAX_KEYS,
    VERSIONS_MAX_KEYS,
    CountArgument,
    invalid_argument,
)
from headwater.services.s3.objects import ObjectOperations
from headwater.store.objects import ObjectRecord

MAX_KEYS = 1000
#: Sorts after every character a key can hold: skips the rest of a common prefix.
_AFTER_ALL = "\U0010ffff"
_TOKEN_PREFIX = "hw1:"


@dataclass(slots=True)
class ListingPage:
    contents: list[ObjectRecord]
    prefixes: list[str]
    truncated: bool
    #: The last key or common prefix of the page (where the next page starts).
    last: str | None


def _encoder(encoding: Any) -> Any:
    if encoding is None:
        return lambda text: text
    if encoding != "url":
        raise invalid_argument(
            "Invalid Encoding Method specified in Request", "encoding-type", str(encoding)
        )
    return lambda text: quote(text, safe="/") if text is not None else text


def _page_size(params: Params, argument: CountArgument) -> int:
    """A listing's page size: its max-keys argument, at most 1,000."""
    limit = argument.read(params)
    return MAX_KEYS if limit is None else min(limit, MAX_KEYS)


def _token(last: str) -> str:
    return base64.urlsafe_b64encode((_TOKEN_PREFIX + last).encode()).decode()


def _from_token(token: str) -> str:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeError):
        text = ""
    if not text.startswith(_TOKEN_PREFIX):
        raise invalid_argument("The continuation token provided is incorrect", "continuation-token")
    return text[len(_TOKEN_PREFIX) :]


class ListingOperations(ObjectOperations):
    """Key listings over the index."""

    def _page(
        self, bucket: str, prefix: str, delimiter: str | None, after: str | None, limit: int
    ) -> ListingPage:
        contents: list[ObjectRecord] = []
        prefixes: list[str] = []
        cursor = after
        last: str | None = None
        if limit == 0:
            return ListingPage([], [], False, None)
        while True:
            batch = self.store.keys_after(bucket, prefix, cursor, limit + 1)
            if not batch:
                return ListingPage(contents, prefixes, False, last)
            for obj in batch:
                if len(contents) + len(prefixes) >= limit:
                    return ListingPage(contents, prefixes, True, last)
                if delimiter:
                    cut = obj.key.find(delimiter, len(prefix))
                    if cut >= 0:
                        common = obj.key[: cut + len(delimiter)]
                        if common == after:  # the page before ended on this prefix
                            cursor = common + _AFTER_ALL
                            break
                        prefixes.append(common)
                        last = common
                        cursor = common + _AFTER_ALL
                        break  # re-query past the whole common prefix
                contents.append(obj)
                last = cursor = obj.key
            else:
                if len(batch) <= limit:
                    return ListingPage(contents, prefixes, False, last)

    @operation("ListObjectsV2")
    def list_objects_v2(self, params: Params, ctx: RequestContext) -> Result:
        bucket = str(params["Bucket"])
        encode = _encoder(params.get("EncodingType"))
        prefix = str(params.get("Prefix") or "")
        delimiter = params.get("Delimiter") or None
        limit = _page_size(params, LISTING_MAX_KEYS)
        token = params.get("ContinuationToken")
        start_after = params.get("StartAfter")
        after = _from_token(str(token)) if token is not None else start_after
        with self.store.db.transaction():
            bucket_record = self._bucket(bucket)
            page = self._page(bucket, prefix, delimiter, after, limit)
        result: Result = {
            "IsTruncated": page.truncated,
            "Contents": [
                self._entry(obj, encode, bucket_record.account, params.get("FetchOwner"))
                for obj in page.contents
            ],
            "Name": bucket,
            "Prefix": encode(prefix),
            "MaxKeys": limit,
            "KeyCount": len(page.contents) + len(page.prefixes),
        }
        if not result["Contents"]:
            del result["Contents"]
        if delimiter:
            result["Delimiter"] = encode(delimiter)
        if page.prefixes:
            result["CommonPrefixes"] = [{"Prefix": encode(p)} for p in page.prefixes]
        if params.get("EncodingType"):
            result["EncodingType"] = params["EncodingType"]
        if token is not None:
            result["ContinuationToken"] = token
        if start_after:
            result["StartAfter"] = encode(start_after)
        if page.truncated and page.last is not None:
            result["NextContinuationToken"] = _token(page.last)
        return result

    @operation("ListObjects")
    def list_objects(self, params: Params, ctx: RequestContext) -> Result:
        bucket = str(params["Bucket"])
        encode = _encoder(params.get("EncodingType"))
        prefix = str(params.get("Prefix") or "")
        delimiter = params.get("Delimiter") or None
        limit = _page_size(params, LISTING_MAX_KEYS)
        marker = params.get("Marker") or None
        with self.store.db.transaction():
            bucket_record = self._bucket(bucket)
            page = self._page(bucket, prefix, delimiter, marker, limit)
        result: Result = {
            "IsTruncated": page.truncated,
            "Marker": encode(marker or ""),
            "Contents": [
                self._entry(obj, encode, bucket_record.account, True) for obj in page.contents
            ],
            "Name": bucket,
            "Prefix": encode(prefix),
            "MaxKeys": limit,
        }
        if not result["Contents"]:
            del result["Contents"]
        if delimiter:
            result["Delimiter"] = encode(delimiter)
            if page.truncated and page.last is not None:
                result["NextMarker"] = encode(page.last)
        if page.prefixes:
            result["CommonPrefixes"] = [{"Prefix": encode(p)} for p in page.prefixes]
        if params.get("EncodingType"):
            result["EncodingType"] = params["EncodingType"]
        return result

    @operation("ListObjectVersions")
    def list_object_versions(self, params: Params, ctx: RequestContext) -> Result:
        """Buckets keep one version per key (versioning is not served): each object is its
        ``null`` version, the latest."""
        bucket = str(params["Bucket"])
        encode = _encoder(params.get("EncodingType"))
        prefix = str(params.get("Prefix") or "")
        delimiter = params.get("Delimiter") or None
        limit = _page_size(params, VERSIONS_MAX_KEYS)
        marker = params.get("KeyMarker") or None
        with self.store.db.transaction():
            bucket_record = self._bucket(bucket)
            page = self._page(bucket, prefix, delimiter, marker, limit)
        versions = []
        for obj in page.contents:
            entry = self._entry(obj, encode, bucket_record.account, True)
            entry["VersionId"] = "null"
            entry["IsLatest"] = True
            versions.append(entry)
        result: Result = {
            "IsTruncated": page.truncated,
            "KeyMarker": encode(marker or ""),
            "VersionIdMarker": params.get("VersionIdMarker") or "",
            "Name": bucket,
            "Prefix": encode(prefix),
            "MaxKeys": limit,
        }
        if versions:
            result["Versions"] = versions
        if delimiter:
            result["Delimiter"] = encode(delimiter)
        if page.prefixes:
            result["CommonPrefixes"] = [{"Prefix": encode(p)} for p in page.prefixes]
        if page.truncated and page.last is not None:
            result["NextKeyMarker"] = encode(page.last)
            result["NextVersionIdMarker"] = "null"
        if params.get("EncodingType"):
            result["EncodingType"] = params["EncodingType"]
        return result

    @staticmethod
    def _entry(obj: ObjectRecord, encode: Any, account: str, with_owner: Any) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "Key": encode(obj.key),
            "LastModified": dt.datetime.fromtimestamp(int(obj.last_modified), dt.UTC),
            "ETag": obj.etag,
        }
        algorithms = [name for name in obj.checksums if name != "CRC32" or len(obj.checksums) == 1]
        if algorithms:
            entry["ChecksumAlgorithm"] = algorithms[:1]
            entry["ChecksumType"] = (
                "COMPOSITE" if any("-" in v for v in obj.checksums.values()) else "FULL_OBJECT"
            )
        entry["Size"] = obj.size
        entry["StorageClass"] = obj.headers.get("StorageClass", "STANDARD")
        if with_owner:
            entry["Owner"] = owner(account)
        return entry
