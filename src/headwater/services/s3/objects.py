"""Object operations: Put, Get (ranges, conditions, header overrides), Head, Delete,
DeleteObjects, Copy, tagging, and ``put_object_bytes`` for in-process writers."""

from __future__ import annotations

import datetime as dt
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from headwater.core.errors import AwsError
from headwater.core.values import assume_utc
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.s3.buckets import BucketOperations
from headwater.services.s3.checksums import (
    ALGORITHMS,
    Digests,
    check_content_md5,
    digests_of,
)
from headwater.services.s3.errors import (
    check_key_length,
    check_part_number,
    invalid_argument,
    no_such_key,
    s3_error,
)
from headwater.services.s3.notifications import ObjectEvent
from headwater.services.s3.versions import (
    add_delete_marker,
    check_version_id,
    marker_not_allowed,
    no_such_key_behind,
    no_such_version,
    shown_version,
    versioning_status,
    write_version,
)
from headwater.store.objects import BucketRecord, ObjectRecord

#: System headers stored with an object and returned by Get/Head (boto3 member names).
STORED_HEADERS = (
    "CacheControl",
    "ContentDisposition",
    "ContentEncoding",
    "ContentLanguage",
    "Expires",
    "WebsiteRedirectLocation",
    "StorageClass",
)
#: The event a removal without versioning (or of a given version) is.
REMOVED = "ObjectRemoved:Delete"
#: The event a removal that leaves a delete marker is.
MARKER_CREATED = "ObjectRemoved:DeleteMarkerCreated"
_RANGE = re.compile(r"bytes=(\d*)-(\d*)", re.ASCII)
#: Bodies at least this big are hashed on another thread while they are written.
PARALLEL_DIGEST_BYTES = 1024 * 1024
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _digest_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="headwater-s3-digest")
        return _pool


MAX_TAGS = 10
MAX_DELETE = 1000


def body_bytes(body: Any) -> bytes:
    """A PutObject/UploadPart ``Body`` (bytes, str or a file object) as bytes."""
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, bytearray | memoryview):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    read = getattr(body, "read", None)
    if callable(read):
        data = read()
        return data.encode() if isinstance(data, str) else bytes(data)
    raise AwsError("InvalidArgument", "Body must be bytes, a string or a file object")


def parse_tagging(text: str | None) -> dict[str, str]:
    """The ``x-amz-tagging`` form (``k1=v1&k2=v2``)."""
    if not text:
        return {}
    tags = dict(parse_qsl(text, keep_blank_values=True))
    if len(tags) > MAX_TAGS:
        raise s3_error("BadRequest", "Object tags cannot be greater than 10")
    return tags


def given_checksums(params: Params) -> dict[str, str]:
    return {
        name: str(params[f"Checksum{name}"])
        for name in ALGORITHMS
        if params.get(f"Checksum{name}") is not None
    }


def _http_date(value: Any) -> dt.datetime | None:
    """A conditional request's date, timezone-aware. In process, boto3's caller may pass a
    naive datetime, which botocore reads as UTC; comparing it with the object's aware
    LastModified raised TypeError."""
    if not isinstance(value, dt.datetime):
        return None
    return assume_utc(value)


def _not_modified() -> AwsError:
    return s3_error("304", "Not Modified", 304)


def _precondition_failed(condition: str) -> AwsError:
    return s3_error(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        Condition=condition,
    )


def check_conditions(obj: ObjectRecord, params: Params, now: float, prefix: str = "If") -> None:
    """If-Match / If-None-Match / If-(Un)Modified-Since, in S3's order of precedence;
    ``now``: the headwater clock's time (an If-Modified-Since after it is ignored)."""
    etag = obj.etag.strip('"')
    modified = dt.datetime.fromtimestamp(int(obj.last_modified), dt.UTC)
    if_match = params.get(f"{prefix}Match")
    if_none_match = params.get(f"{prefix}NoneMatch")
    since = _http_date(params.get(f"{prefix}ModifiedSince"))
    unmodified_since = _http_date(params.get(f"{prefix}UnmodifiedSince"))
    if if_match is not None:
        if not _etag_matches(if_match, etag):
            raise _precondition_failed("If-Match")
    elif unmodified_since is not None and modified > unmodified_since:
        raise _precondition_failed("If-Unmodified-Since")
    if if_none_match is not None:
        if _etag_matches(if_none_match, etag):
            raise _not_modified()
    elif since is not None and modified <= since <= dt.datetime.fromtimestamp(now, dt.UTC):
        raise _not_modified()


def _etag_matches(header: str, etag: str) -> bool:
    wanted = [item.strip().strip('"') for item in str(header).split(",")]
    return "*" in wanted or etag in wanted


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end) inclusive for a satisfiable ``bytes=`` range, None to send everything."""
    if not header:
        return None
    found = _RANGE.fullmatch(header.strip())
    if found is None:
        return None
    first, last = found.group(1), found.group(2)
    if first == "" and last == "":
        return None
    if first == "":
        length = int(last)
        if length == 0:
            raise _invalid_range(header, size)
        return max(0, size - length), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if last != "" and int(last) < start:
        return None  # syntactically invalid: ignored, as S3 does
    if start >= size:
        raise _invalid_range(header, size)
    return start, end


_COPY_SOURCE_RANGE = re.compile(r"bytes=(\d+)-(\d+)", re.ASCII)


def copy_source_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive of an UploadPartCopy's ``x-amz-copy-source-range``, None to
    copy the whole source. Unlike a GET's ``Range``, S3 refuses a malformed one or one past
    the source's end rather than ignoring or trimming it."""
    if header is None:
        return None
    found = _COPY_SOURCE_RANGE.fullmatch(header.strip())
    if found is None or int(found.group(1)) > int(found.group(2)):
        raise invalid_argument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where "
            "first and last are the zero-based offsets of the first and last bytes to copy",
            "x-amz-copy-source-range",
            header,
        )
    first, last = int(found.group(1)), int(found.group(2))
    if last >= size:
        raise invalid_argument(
            f"Range specified is not valid for source object of size: {size}",
            "x-amz-copy-source-range",
            header,
        )
    return first, last


def _invalid_range(header: str, size: int) -> AwsError:
    return s3_error(
        "InvalidRange",
        "The requested range is not satisfiable",
        416,
        RangeRequested=header,
        ActualObjectSize=str(size),
    )


def part_range(obj: ObjectRecord, number: int) -> tuple[int, int]:
    """(start, end) inclusive of part ``number`` of ``obj``: a multipart object's parts
    where its upload put them, an object put in one piece one part. A part past the count
    is S3's 416 ``InvalidPartNumber``."""
    check_part_number(number)
    # An object completed before headwater kept its parts' sizes answers as one part.
    sizes = obj.part_sizes or (obj.size,)
    if number > len(sizes):
        raise s3_error(
            "InvalidPartNumber",
            "The requested partnumber is not satisfiable",
            416,
            PartNumberRequested=str(number),
            ActualPartCount=str(len(sizes)),
        )
    start = sum(sizes[: number - 1])
    return start, start + sizes[number - 1] - 1


def _chosen_bytes(obj: ObjectRecord, params: Params, result: Result) -> tuple[int, int] | None:
    """The bytes a Get or Head answers, (start, end) inclusive, or None for all of them: a
    ``Range``, or the part ``PartNumber`` names (with ``PartsCount`` when the object is
    multipart, as S3 answers it only then). Sets the 206 and ``ContentRange``."""
    number = params.get("PartNumber")
    if number is None:
        chosen = parse_range(params.get("Range"), obj.size)
    elif params.get("Range"):
        raise s3_error(
            "InvalidRequest", "Cannot specify both Range header and partNumber query parameter"
        )
    else:
        chosen = part_range(obj, int(number))
        if obj.part_sizes:  # one count with the boundaries answered, old objects' too
            result["PartsCount"] = len(obj.part_sizes)
        if chosen[1] < chosen[0]:
            return None  # an empty object's one part: nothing to range over
    if chosen is not None:
        start, end = chosen
        result["ContentRange"] = f"bytes {start}-{end}/{obj.size}"
        result["ContentLength"] = end - start + 1
        result["_status"] = 206
    return chosen


def describe(obj: ObjectRecord, version_id: str | None = None) -> Result:
    """The headers Get and Head share (``version_id``: the VersionId to answer)."""
    result: Result = {
        "AcceptRanges": "bytes",
        "LastModified": dt.datetime.fromtimestamp(int(obj.last_modified), dt.UTC),
        "ContentLength": obj.size,
        "ETag": obj.etag,
        "ContentType": obj.content_type,
        "ServerSideEncryption": "AES256",
        "Metadata": dict(obj.metadata),
    }
    for name in STORED_HEADERS:
        if obj.headers.get(name) is not None:
            result[name] = obj.headers[name]
    if result.get("StorageClass") == "STANDARD":
        del result["StorageClass"]  # S3 names every storage class but the standard one
    if obj.tags:
        result["TagCount"] = len(obj.tags)
    if version_id is not None:
        result["VersionId"] = version_id
    return result


class ObjectOperations(BucketOperations):
    """Objects: their bytes in blobs, their index rows in the store."""

    def write_blob(self, data: bytes, params: Params, algorithm: str | None) -> tuple[str, Digests]:
        """Store ``data`` as a blob and compute its MD5 and checksums, checking the ones the
        client sent (the blob is removed if they do not match).

        Hashing and writing a large body overlap, on two cores: hashlib and file writes
        release the GIL, and an 8 MB body's MD5 costs about as much as writing it.
        """
        given = given_checksums(params)
        if len(data) < PARALLEL_DIGEST_BYTES:
            digests = digests_of(data, given, algorithm)
            check_content_md5(digests.md5, params.get("ContentMD5"))
            return self.store.blobs.write(data), digests
        pending = _digest_pool().submit(digests_of, data, given, algorithm)
        blob_id = self.store.blobs.write(data)
        try:
            digests = pending.result()
            check_content_md5(digests.md5, params.get("ContentMD5"))
        except BaseException:
            self.store.blobs.delete(blob_id)
            raise
        return blob_id, digests

    def _store_object(
        self,
        bucket: str,
        key: str,
        data: bytes,
        params: Params,
        *,
        content_type: str | None = None,
        event_name: str = "ObjectCreated:Put",
    ) -> ObjectRecord:
        """Write the bytes, then swap the index row in one transaction (old blob removed
        after the commit); a missing bucket leaves nothing behind. The bucket's event
        notifications for ``event_name`` go out with the index row."""
        tags = parse_tagging(params.get("Tagging"))
        blob_id, digests = self.write_blob(data, params, params.get("ChecksumAlgorithm"))
        record = ObjectRecord(
            bucket=bucket,
            key=key,
            size=len(data),
            etag=digests.etag,
            last_modified=self.env.clock.now(),
            blob_id=blob_id,
            content_type=content_type or str(params.get("ContentType") or "binary/octet-stream"),
            headers={
                name: _header_value(params[name])
                for name in STORED_HEADERS
                if params.get(name) is not None
            },
            metadata={str(k).lower(): str(v) for k, v in (params.get("Metadata") or {}).items()},
            tags=tags,
            checksums=digests.checksums,
        )
        try:
            with self.store.db.transaction():
                bucket_record = self._bucket(bucket)
                record, unused = write_version(self.store, bucket_record, record)
                event = ObjectEvent(event_name, key, record.size, record.etag, record.version_id)
                invocations = self.notifier.in_transaction(bucket_record, [event])
        except BaseException:
            self.store.blobs.delete(blob_id)
            raise
        for blob in unused:
            self.store.blobs.delete(blob)
        self.notifier.after_commit(invocations)
        return record

    def put_object_bytes(
        self, bucket: str, key: str, data: bytes, *, content_type: str = "binary/octet-stream"
    ) -> str:
        """Write an object from inside headwater (on-failure destinations); its ETag."""
        return self._store_object(bucket, key, data, {}, content_type=content_type).etag

    @operation("PutObject")
    def put_object(self, params: Params, ctx: RequestContext) -> Result:
        check_key_length(str(params["Key"]))
        data = body_bytes(params.get("Body"))
        record = self._store_object(str(params["Bucket"]), str(params["Key"]), data, params)
        result: Result = {"ETag": record.etag, "ServerSideEncryption": "AES256"}
        result.update(answered_checksums(record.checksums, params))
        if record.version_id is not None:
            result["VersionId"] = record.version_id
        return result

    def _object(self, bucket: str, key: str) -> ObjectRecord:
        return self._version(bucket, key, None)[1]

    def _version(
        self, bucket: str, key: str, version_id: Any, method: str = "GET"
    ) -> tuple[BucketRecord, ObjectRecord]:
        """The bucket and the object a request names (by ``version_id``, or the current
        one), inside the caller's transaction; S3's NoSuchKey (with the delete marker's
        headers when one is current), NoSuchVersion, or 405 for a delete marker named by
        its id."""
        bucket_record = self._bucket(bucket)
        if version_id is None:
            found = self.store.get_object(bucket, key)
            if found is None:
                marker = self.store.latest_marker(bucket, key)
                raise no_such_key(key) if marker is None else no_such_key_behind(marker, key)
            return bucket_record, found
        check_version_id(str(version_id))
        found = self.store.get_version(bucket, key, str(version_id))
        if found is None:
            raise no_such_version(key, str(version_id))
        if found.delete_marker:
            raise marker_not_allowed(found, method)
        return bucket_record, found

    @operation("GetObject")
    def get_object(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.db.transaction():
            bucket, obj = self._version(
                str(params["Bucket"]), str(params["Key"]), params.get("VersionId")
            )
        check_conditions(obj, params, self.env.clock.now())
        result = describe(obj, shown_version(bucket, obj))
        chosen = _chosen_bytes(obj, params, result)
        if chosen is None:
            body = self.store.blobs.read(obj.blob_id)
            if params.get("ChecksumMode") == "ENABLED":
                result.update(answered_checksums(obj.checksums, {}, full=True))
        else:
            body = self.store.blobs.read(obj.blob_id, *chosen)
        for name in (
            "ResponseCacheControl",
            "ResponseContentDisposition",
            "ResponseContentEncoding",
            "ResponseContentLanguage",
            "ResponseContentType",
            "ResponseExpires",
        ):
            if params.get(name) is not None:
                result[name[len("Response") :]] = params[name]
        result["Body"] = body
        return result

    @operation("HeadObject")
    def head_object(self, params: Params, ctx: RequestContext) -> Result:
        try:
            with self.store.db.transaction():
                bucket, obj = self._version(
                    str(params["Bucket"]), str(params["Key"]), params.get("VersionId"), "HEAD"
                )
            check_conditions(obj, params, self.env.clock.now())
        except AwsError as error:  # HEAD has no body: only the status (and headers) speak
            raise _head_error(error) from None
        result = describe(obj, shown_version(bucket, obj))
        try:
            chosen = _chosen_bytes(obj, params, result)
        except AwsError as error:  # HEAD has no body: only the status speaks
            raise _head_error(error) from None
        if chosen is None and params.get("ChecksumMode") == "ENABLED":
            result.update(answered_checksums(obj.checksums, {}, full=True))
        return result

    def _remove(
        self, bucket: BucketRecord, key: str, version_id: Any
    ) -> tuple[Result, ObjectEvent | None, list[str]]:
        """Remove a key (a delete marker in a versioned bucket) or one of its versions,
        inside the caller's transaction: what DeleteObject answers, the event (None when
        nothing was there to remove) and the blobs to delete after the commit."""
        if version_id is not None:
            check_version_id(str(version_id))
            removed = self.store.delete_version(bucket.name, key, str(version_id))
            result: Result = {"VersionId": str(version_id)}
            if removed is None:
                return result, None, []
            if removed.delete_marker:
                result["DeleteMarker"] = True
            blobs = [] if removed.delete_marker else [removed.blob_id]
            return result, ObjectEvent(REMOVED, key, version_id=str(version_id)), blobs
        if versioning_status(bucket) is None:
            blob = self.store.delete_object(bucket.name, key)
            if blob is None:
                return {}, None, []
            return {}, ObjectEvent(REMOVED, key), [blob]
        marker, blobs = add_delete_marker(self.store, bucket, key, self.env.clock.now())
        marker_id = marker.version_id or "null"
        event = ObjectEvent(MARKER_CREATED, key, version_id=marker_id)
        return {"DeleteMarker": True, "VersionId": marker_id}, event, blobs

    @operation("DeleteObject")
    def delete_object(self, params: Params, ctx: RequestContext) -> Result:
        key = str(params["Key"])
        name = str(params["Bucket"])
        with self.store.db.transaction():
            bucket = self._bucket(name)
            result, event, blobs = self._remove(bucket, key, params.get("VersionId"))
            events = [] if event is None else [event]
            invocations = self.notifier.in_transaction(bucket, events)
        for blob in blobs:
            self.store.blobs.delete(blob)
        self.notifier.after_commit(invocations)
        return result

    @operation("DeleteObjects")
    def delete_objects(self, params: Params, ctx: RequestContext) -> Result:
        bucket = str(params["Bucket"])
        delete = params.get("Delete") or {}
        objects = delete.get("Objects") or []
        if len(objects) > MAX_DELETE:
            raise s3_error(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our "
                "published schema",
            )
        deleted: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        blobs: list[str] = []
        removed: list[ObjectEvent] = []
        with self.store.db.transaction():
            bucket_record = self._bucket(bucket)
            for item in objects:
                key = str(item["Key"])
                try:
                    answer, event, unused = self._remove(bucket_record, key, item.get("VersionId"))
                except AwsError as error:
                    errors.append({"Key": key, "Code": error.code, "Message": error.message})
                    continue
                blobs.extend(unused)
                if event is not None:
                    removed.append(event)
                deleted.append(_deleted_entry(key, item.get("VersionId"), answer))
            invocations = self.notifier.in_transaction(bucket_record, removed)
        for blob in blobs:
            self.store.blobs.delete(blob)
        self.notifier.after_commit(invocations)
        result: Result = {"Errors": errors} if delete.get("Quiet") else {"Deleted": deleted}
        if errors and not delete.get("Quiet"):
            result["Errors"] = errors
        return result

    @operation("CopyObject")
    def copy_object(self, params: Params, ctx: RequestContext) -> Result:
        source_bucket, source_key = parse_copy_source(params["CopySource"])
        source_version = copy_source_version(params["CopySource"])
        bucket, key = str(params["Bucket"]), str(params["Key"])
        check_key_length(key)
        with self.store.db.transaction():
            try:
                source_record, source = self._version(source_bucket, source_key, source_version)
            except AwsError as error:
                if error.code != "MethodNotAllowed":
                    raise
                raise s3_error(
                    "InvalidRequest",
                    "The source of a copy request may not specifically refer to a delete "
                    "marker by version id.",
                ) from None
            self._bucket(bucket)
        check_conditions(source, params, self.env.clock.now(), prefix="CopySourceIf")
        replace = params.get("MetadataDirective") == "REPLACE"
        if (
            (source_bucket, source_key) == (bucket, key)
            and not replace
            and not any(params.get(name) for name in ("StorageClass", "WebsiteRedirectLocation"))
        ):
            raise s3_error(
                "InvalidRequest",
                "This copy request is illegal because it is trying to copy an object to itself "
                "without changing the object's metadata, storage class, website redirect "
                "location or encryption attributes.",
            )
        data = self.store.blobs.read(source.blob_id)
        new_params: Params = (
            dict(params)
            if replace
            else {
                **{name: source.headers[name] for name in source.headers},
                "ContentType": source.content_type,
                "Metadata": source.metadata,
            }
        )
        if params.get("TaggingDirective") == "REPLACE":
            new_params["Tagging"] = params.get("Tagging")
        else:
            new_params["Tagging"] = urlencode(source.tags)
        for field in ("ChecksumAlgorithm",):
            if params.get(field):
                new_params[field] = params[field]
        record = self._store_object(bucket, key, data, new_params, event_name="ObjectCreated:Copy")
        modified = dt.datetime.fromtimestamp(int(record.last_modified), dt.UTC)
        copy_result: dict[str, Any] = {"ETag": record.etag, "LastModified": modified}
        result: Result = {"CopyObjectResult": copy_result, "ServerSideEncryption": "AES256"}
        shown_source = shown_version(source_record, source)
        if shown_source is not None:
            result["CopySourceVersionId"] = shown_source
        if record.version_id is not None:
            result["VersionId"] = record.version_id
        return result

    # ---- tagging ----

    @operation("PutObjectTagging")
    def put_object_tagging(self, params: Params, ctx: RequestContext) -> Result:
        tag_set = (params.get("Tagging") or {}).get("TagSet") or []
        if len(tag_set) > MAX_TAGS:
            raise s3_error("BadRequest", "Object tags cannot be greater than 10")
        keys = [t["Key"] for t in tag_set]
        if len(keys) != len(set(keys)):
            raise invalid_argument("Cannot provide multiple Tags with the same key")
        tags = {t["Key"]: t["Value"] for t in tag_set}
        return self._set_tags(params, tags, "ObjectTagging:Put")

    def _set_tags(self, params: Params, tags: dict[str, str], event_name: str) -> Result:
        """Replace the tags of the object (or version) a tagging request names; the
        bucket's ``event_name`` notifications go out with the change."""
        bucket, key = str(params["Bucket"]), str(params["Key"])
        with self.store.db.transaction():
            bucket_record, obj = self._version(bucket, key, params.get("VersionId"))
            if obj.version_id is None:
                self.store.set_object_tags(bucket, key, tags)
            else:
                self.store.set_version_tags(bucket, key, obj.version_id, tags)
            event = ObjectEvent(event_name, key, etag=obj.etag, version_id=obj.version_id)
            invocations = self.notifier.in_transaction(bucket_record, [event])
        self.notifier.after_commit(invocations)
        shown = shown_version(bucket_record, obj)
        return {} if shown is None else {"VersionId": shown}

    @operation("GetObjectTagging")
    def get_object_tagging(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.db.transaction():
            bucket, obj = self._version(
                str(params["Bucket"]), str(params["Key"]), params.get("VersionId")
            )
        result: Result = {"TagSet": [{"Key": k, "Value": v} for k, v in obj.tags.items()]}
        shown = shown_version(bucket, obj)
        if shown is not None:
            result["VersionId"] = shown
        return result

    @operation("DeleteObjectTagging")
    def delete_object_tagging(self, params: Params, ctx: RequestContext) -> Result:
        return self._set_tags(params, {}, "ObjectTagging:Delete")


_STATUS_TEXT = {
    304: "Not Modified",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    412: "Precondition Failed",
    416: "Requested Range Not Satisfiable",
}


def _head_error(error: AwsError) -> AwsError:
    """A HEAD's error: its status (and headers: a delete marker's) without the code."""
    return AwsError(
        str(error.status),
        _STATUS_TEXT.get(error.status, "Bad Request"),
        status=error.status,
        headers=error.headers,
    )


def _deleted_entry(key: str, version_id: Any, answer: Result) -> dict[str, Any]:
    """A DeleteObjects ``Deleted`` entry: the version asked for, or the delete marker made."""
    entry: dict[str, Any] = {"Key": key}
    if version_id is not None:
        entry["VersionId"] = str(version_id)
        if answer.get("DeleteMarker"):
            entry["DeleteMarker"] = True
            entry["DeleteMarkerVersionId"] = str(version_id)
    elif answer.get("DeleteMarker"):
        entry["DeleteMarker"] = True
        entry["DeleteMarkerVersionId"] = answer["VersionId"]
    return entry


def _header_value(value: Any) -> Any:
    """A header member as its header text; a datetime as an HTTP date.

    In process, boto3's caller may pass a naive datetime, which botocore reads as UTC (it
    was read as the machine's local time, and year 1 raised ValueError), or an aware one
    whose UTC falls outside the years a datetime holds (OverflowError): that is the
    nearest date there is."""
    if not isinstance(value, dt.datetime):
        return value
    if value.tzinfo is None:
        utc = value.replace(tzinfo=dt.UTC)
    else:
        try:
            utc = value.astimezone(dt.UTC)
        except OverflowError:
            utc = (dt.datetime.min if value.year == 1 else dt.datetime.max).replace(tzinfo=dt.UTC)
    # %Y writes year 1 as "1"; an HTTP date has four digits.
    return f"{utc:%a, %d %b} {utc.year:04d} {utc:%H:%M:%S} GMT"


def answered_checksums(
    checksums: dict[str, str], params: Params, *, full: bool = False
) -> dict[str, str]:
    """The ``Checksum<ALG>`` members to answer: those asked for (Put) or all (Get/Head)."""
    out: dict[str, str] = {}
    asked = str(params.get("ChecksumAlgorithm") or "").upper()
    for name, value in checksums.items():
        if full or name == asked or params.get(f"Checksum{name}") is not None:
            out[f"Checksum{name}"] = value
    if out:
        composite = any("-" in v for v in out.values())
        out["ChecksumType"] = "COMPOSITE" if composite else "FULL_OBJECT"
    return out


def copy_source_version(source: Any) -> str | None:
    """The version a CopySource names (``?versionId=`` or a dict's ``VersionId``)."""
    if isinstance(source, dict):
        found = source.get("VersionId")
        return None if found is None else str(found)
    _, separator, version = str(source).partition("?versionId=")
    return unquote(version) if separator else None


def parse_copy_source(source: Any) -> tuple[str, str]:
    """``bucket/key`` (URL-encoded, maybe with a leading ``/`` and ``?versionId=``)."""
    if isinstance(source, dict):
        return str(source["Bucket"]), str(source["Key"])
    text = unquote(str(source).split("?versionId=", 1)[0]).lstrip("/")
    bucket, _, key = text.partition("/")
    if not bucket or not key:
        raise invalid_argument("Invalid copy source object key", "x-amz-copy-source", str(source))
    return bucket, key
