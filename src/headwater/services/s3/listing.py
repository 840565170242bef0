"""ListObjectsV2, ListObjects and ListObjectVersions: prefix, delimiter (common prefixes),
paging, url encoding."""

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
from headwater.store.objects import NULL_VERSION, ObjectRecord

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


@dataclass(slots=True)
class VersionPage:
    """A page of ListObjectVersions: versions and delete markers, common prefixes, and
    where the next page starts (the last entry's key, and version id if it is one)."""

    versions: list[ObjectRecord]
    prefixes: list[str]
    truncated: bool
    next_key: str | None
    next_version: str | None

    def add(self, versions: list[ObjectRecord], limit: int) -> bool:
        """Add a key's versions while the page has room; False once it is full (and more
        was left: truncated)."""
        for version in versions:
            if not self._room(limit):
                return False
            self.versions.append(version)
            self.next_key, self.next_version = version.key, version.version_id or NULL_VERSION
        return True

    def add_prefix(self, prefix: str, limit: int) -> bool:
        """Add a common prefix if the page has room (False: it is full, truncated)."""
        if not self._room(limit):
            return False
        self.prefixes.append(prefix)
        self.next_key, self.next_version = prefix, None
        return True

    def _room(self, limit: int) -> bool:
        if len(self.versions) + len(self.prefixes) >= limit:
            self.truncated = True
            return False
        return True


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

    def _version_page(
        self,
        bucket: str,
        prefix: str,
        delimiter: str | None,
        markers: tuple[str | None, str | None],
        limit: int,
    ) -> VersionPage:
        """Versions (newest first within a key, keys in order) and common prefixes after
        the (key, version id) ``markers``; ``limit`` counts both."""
        page = VersionPage([], [], False, None, None)
        key_marker, version_marker = markers
        if limit == 0:
            return page
        if key_marker is not None and version_marker is not None:
            versions = self.store.versions_of(bucket, key_marker)
            ids = [v.version_id or NULL_VERSION for v in versions]
            rest = versions[ids.index(version_marker) + 1 :] if version_marker in ids else []
            if not page.add(rest, limit):
                return page
        cursor = key_marker
        while True:
            keys = self.store.version_keys_after(bucket, prefix, cursor, limit + 1)
            for key in keys:
                cut = key.find(delimiter, len(prefix)) if delimiter else -1
                if delimiter and cut >= 0:
                    common = key[: cut + len(delimiter)]
                    cursor = common + _AFTER_ALL  # re-query past the whole common prefix
                    if common == key_marker:  # the page before ended on this prefix
                        break
                    if not page.add_prefix(common, limit):
                        return page
                    break
                if not page.add(self.store.versions_of(bucket, key), limit):
                    return page
                cursor = key
            else:
                if len(keys) <= limit:
                    return page

    @operation("ListObjectVersions")
    def list_object_versions(self, params: Params, ctx: RequestContext) -> Result:
        bucket = str(params["Bucket"])
        encode = _encoder(params.get("EncodingType"))
        prefix = str(params.get("Prefix") or "")
        delimiter = params.get("Delimiter") or None
        limit = _page_size(params, VERSIONS_MAX_KEYS)
        marker = params.get("KeyMarker") or None
        version_marker = params.get("VersionIdMarker") or None
        if version_marker is not None and marker is None:
            raise invalid_argument(
                "A version-id marker cannot be specified without a key marker.",
                "version-id-marker",
                str(version_marker),
            )
        with self.store.db.transaction():
            bucket_record = self._bucket(bucket)
            page = self._version_page(bucket, prefix, delimiter, (marker, version_marker), limit)
        versions: list[dict[str, Any]] = []
        markers: list[dict[str, Any]] = []
        for obj in page.versions:
            version_id = obj.version_id or NULL_VERSION
            if obj.delete_marker:
                markers.append(
                    {
                        "Owner": owner(bucket_record.account),
                        "Key": encode(obj.key),
                        "VersionId": version_id,
                        "IsLatest": obj.latest,
                        "LastModified": dt.datetime.fromtimestamp(int(obj.last_modified), dt.UTC),
                    }
                )
                continue
            entry = self._entry(obj, encode, bucket_record.account, True)
            entry["VersionId"] = version_id
            entry["IsLatest"] = obj.latest
            versions.append(entry)
        result: Result = {
            "IsTruncated": page.truncated,
            "KeyMarker": encode(marker or ""),
            "VersionIdMarker": version_marker or "",
            "Name": bucket,
            "Prefix": encode(prefix),
            "MaxKeys": limit,
        }
        if versions:
            result["Versions"] = versions
        if markers:
            result["DeleteMarkers"] = markers
        if delimiter:
            result["Delimiter"] = encode(delimiter)
        if page.prefixes:
            result["CommonPrefixes"] = [{"Prefix": encode(p)} for p in page.prefixes]
        if page.truncated and page.next_key is not None:
            result["NextKeyMarker"] = encode(page.next_key)
            if page.next_version is not None:
                result["NextVersionIdMarker"] = page.next_version
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
