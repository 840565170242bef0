"""Object versioning: how a bucket's versioning status turns writes and removals into
versions and delete markers, version ids, and S3's errors about versions.

A bucket never versioned keeps one (``null``) version per key, as before versioning was
served. Once ``Enabled``, every write makes a new version with its own id and a removal
without a version id makes a delete marker; ``Suspended``, writes and delete markers take
the ``null`` version id, replacing the key's null version. Versions are rows of the index
(``store.objects``): the bytes of a replaced or removed version are deleted only when the
version itself is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import secrets
import string

from headwater.core.errors import AwsError
from headwater.services.s3.errors import invalid_argument, s3_error
from headwater.store.objects import NULL_VERSION, BucketRecord, ObjectRecord, ObjectStore

_ID_ALPHABET = string.ascii_letters + string.digits + "._"
_ID_LENGTH = 32
_VERSION_ID = re.compile(r"[A-Za-z0-9._]{32}", re.ASCII)


def versioning_status(bucket: BucketRecord) -> str | None:
    """``Enabled``, ``Suspended``, or None for a bucket never versioned."""
    status = (bucket.settings.get("BucketVersioning") or {}).get("Status")
    return str(status) if status in ("Enabled", "Suspended") else None


def new_version_id() -> str:
    """A version id as S3's look: 32 URL-safe characters."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))


def check_version_id(version_id: str) -> None:
    """S3's InvalidArgument for a version id it could not have given."""
    if version_id != NULL_VERSION and _VERSION_ID.fullmatch(version_id) is None:
        raise invalid_argument("Invalid version id specified", "versionId", version_id)


def shown_version(bucket: BucketRecord, obj: ObjectRecord) -> str | None:
    """The ``VersionId`` S3 answers for an object: its id in a bucket that has versioning
    (``null`` for the null version), none in a bucket never versioned."""
    if obj.version_id is None and versioning_status(bucket) is None:
        return None
    return obj.version_id or NULL_VERSION


def no_such_version(key: str, version_id: str) -> AwsError:
    return s3_error(
        "NoSuchVersion",
        "The specified version does not exist.",
        404,
        Key=key,
        VersionId=version_id,
    )


def _http_date(epoch: float) -> str:
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


def marker_not_allowed(marker: ObjectRecord, method: str) -> AwsError:
    """S3's 405 for a GET or HEAD of a delete marker named by its version id, with the
    headers S3 sends."""
    return AwsError(
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
        status=405,
        fields={"Method": method, "ResourceType": "DeleteMarker"},
        headers=marker_headers(marker) | {"Last-Modified": _http_date(marker.last_modified)},
    )


def marker_headers(marker: ObjectRecord) -> dict[str, str]:
    """The headers S3 adds to an answer about a delete marker."""
    return {"x-amz-delete-marker": "true", "x-amz-version-id": marker.version_id or NULL_VERSION}


def no_such_key_behind(marker: ObjectRecord, key: str) -> AwsError:
    """S3's NoSuchKey for a key whose current version is a delete marker."""
    return AwsError(
        "NoSuchKey",
        "The specified key does not exist.",
        status=404,
        fields={"Key": key},
        headers=marker_headers(marker),
    )


def write_version(
    store: ObjectStore, bucket: BucketRecord, record: ObjectRecord
) -> tuple[ObjectRecord, list[str]]:
    """Make ``record`` the key's current version as the bucket's versioning says (inside
    the caller's transaction): the record as stored (its version id), and the blobs no
    version uses any more (to delete after the commit)."""
    status = versioning_status(bucket)
    if status is None:
        replaced = store.put_object(record)
        return record, [] if replaced is None else [replaced]
    version_id = new_version_id() if status == "Enabled" else NULL_VERSION
    stored = dataclasses.replace(
        record, version_id=version_id, seq=store.next_seq(record.bucket, record.key)
    )
    unused = _make_room(store, status, record.bucket, record.key)
    store.put_object(stored)
    return stored, unused


def add_delete_marker(
    store: ObjectStore, bucket: BucketRecord, key: str, now: float
) -> tuple[ObjectRecord, list[str]]:
    """A delete marker as the key's current version (a removal without a version id in a
    versioned bucket): the marker, and the blobs no version uses any more."""
    status = versioning_status(bucket) or "Enabled"
    marker = ObjectRecord(
        bucket=bucket.name,
        key=key,
        size=0,
        etag="",
        last_modified=now,
        blob_id="",
        content_type="",
        headers={},
        metadata={},
        tags={},
        checksums={},
        version_id=new_version_id() if status == "Enabled" else NULL_VERSION,
        seq=store.next_seq(bucket.name, key),
        delete_marker=True,
    )
    unused = _make_room(store, status, bucket.name, key)
    store.insert_version(marker)
    return marker, unused


def _make_room(store: ObjectStore, status: str, bucket: str, key: str) -> list[str]:
    """Move the key's current object among its older versions; while versioning is
    suspended, the key's null version is replaced instead (its blob returned)."""
    unused: list[str] = []
    if status == "Suspended":
        removed = store.delete_version(bucket, key, NULL_VERSION)
        if removed is not None and not removed.delete_marker:
            unused.append(removed.blob_id)
    store.archive_current(bucket, key)
    return unused
