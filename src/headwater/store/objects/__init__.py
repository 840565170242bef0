"""The S3 store: the index of buckets, objects and multipart uploads (portable SQL), with
the bytes in a ``BlobStore`` beside the database.

Keys sort as S3 sorts them, by their UTF-8 bytes (SQLite's BINARY collation; PostgreSQL
needs ``COLLATE "C"`` on ``key``). Every method runs inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from headwater.store.database import Database
from headwater.store.objects.blobs import BlobStore

_SCHEMA = """
CREATE TABLE s3_buckets (
    name TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    account TEXT NOT NULL,
    created REAL NOT NULL,
    settings TEXT NOT NULL
);
CREATE TABLE s3_objects (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified REAL NOT NULL,
    blob_id TEXT NOT NULL,
    content_type TEXT NOT NULL,
    headers TEXT NOT NULL,
    metadata TEXT NOT NULL,
    tags TEXT NOT NULL,
    checksums TEXT NOT NULL,
    parts INTEGER NOT NULL,
    PRIMARY KEY (bucket, key)
);
CREATE TABLE s3_uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    initiated REAL NOT NULL,
    content_type TEXT NOT NULL,
    headers TEXT NOT NULL,
    metadata TEXT NOT NULL,
    tags TEXT NOT NULL,
    checksum_algorithm TEXT
);
CREATE INDEX s3_uploads_by_bucket ON s3_uploads (bucket, key, initiated);
CREATE TABLE s3_parts (
    upload_id TEXT NOT NULL,
    part_number INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    blob_id TEXT NOT NULL,
    last_modified REAL NOT NULL,
    checksums TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
)
"""
#: The sizes of a multipart object's parts, in order, so GetObject / HeadObject can answer
#: one part (``partNumber``). Rows written before this step keep ``[]``: boundaries unknown.
_PART_SIZES = "ALTER TABLE s3_objects ADD COLUMN part_sizes TEXT NOT NULL DEFAULT '[]'"
#: Object versions. ``s3_objects`` keeps each key's current version when it is an object
#: (so listings read it alone, as before); ``s3_versions`` the older versions and every
#: delete marker. ``version_id`` NULL in ``s3_objects`` is the ``null`` version (every
#: row written before this step, and every write to a bucket never versioned); ``seq``
#: orders a key's versions (later is greater), 0 for rows written before this step.
_VERSIONS = """
ALTER TABLE s3_objects ADD COLUMN version_id TEXT;
ALTER TABLE s3_objects ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
CREATE TABLE s3_versions (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    version_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    delete_marker INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified REAL NOT NULL,
    blob_id TEXT NOT NULL,
    content_type TEXT NOT NULL,
    headers TEXT NOT NULL,
    metadata TEXT NOT NULL,
    tags TEXT NOT NULL,
    checksums TEXT NOT NULL,
    parts INTEGER NOT NULL,
    part_sizes TEXT NOT NULL,
    PRIMARY KEY (bucket, key, version_id)
)
"""
#: The version id of objects written without versioning (and while it is suspended).
NULL_VERSION = "null"


@dataclass(frozen=True, slots=True)
class BucketRecord:
    name: str
    region: str
    account: str
    created: float
    #: Sub-resource configurations as boto3 shapes (tagging, versioning, cors, policy...).
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ObjectRecord:
    bucket: str
    key: str
    size: int
    etag: str
    last_modified: float
    blob_id: str
    content_type: str
    #: Stored system headers (ContentEncoding, CacheControl, ...) as boto3 member names.
    headers: dict[str, Any]
    metadata: dict[str, str]
    tags: dict[str, str]
    checksums: dict[str, str]
    #: How many parts a multipart upload assembled it from (0: put in one piece).
    parts: int = 0
    #: Those parts' sizes, in order (empty when put in one piece, or completed before
    #: headwater kept them).
    part_sizes: tuple[int, ...] = ()
    #: The version's id; None for the ``null`` version of a bucket never versioned.
    version_id: str | None = None
    #: Orders a key's versions (later is greater).
    seq: int = 0
    #: A delete marker (only ever in the versions table), not an object.
    delete_marker: bool = False
    #: Whether it is its key's current version (answered by ``versions_of``).
    latest: bool = True


@dataclass(frozen=True, slots=True)
class UploadRecord:
    upload_id: str
    bucket: str
    key: str
    initiated: float
    content_type: str
    headers: dict[str, Any]
    metadata: dict[str, str]
    tags: dict[str, str]
    checksum_algorithm: str | None = None


@dataclass(frozen=True, slots=True)
class PartRecord:
    upload_id: str
    part_number: int
    size: int
    etag: str
    blob_id: str
    last_modified: float
    checksums: dict[str, str]


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


_OBJECT_COLUMNS = (
    "bucket, key, size, etag, last_modified, blob_id, content_type, headers, metadata, tags,"
    " checksums, parts, part_sizes, version_id, seq"
)
_VERSION_COLUMNS = (
    "bucket, key, size, etag, last_modified, blob_id, content_type, headers, metadata, tags,"
    " checksums, parts, part_sizes, version_id, seq, delete_marker"
)
_UPLOAD_COLUMNS = (
    "upload_id, bucket, key, initiated, content_type, headers, metadata, tags, checksum_algorithm"
)


def _row(obj: ObjectRecord) -> tuple[Any, ...]:
    """An object's values in ``_OBJECT_COLUMNS`` order."""
    return (
        obj.bucket,
        obj.key,
        obj.size,
        obj.etag,
        obj.last_modified,
        obj.blob_id,
        obj.content_type,
        _dumps(obj.headers),
        _dumps(obj.metadata),
        _dumps(obj.tags),
        _dumps(obj.checksums),
        obj.parts,
        _dumps(obj.part_sizes),
        obj.version_id,
        obj.seq,
    )


def _object(row: Any) -> ObjectRecord:
    return ObjectRecord(
        bucket=row[0],
        key=row[1],
        size=row[2],
        etag=row[3],
        last_modified=row[4],
        blob_id=row[5],
        content_type=row[6],
        headers=orjson.loads(row[7]),
        metadata=orjson.loads(row[8]),
        tags=orjson.loads(row[9]),
        checksums=orjson.loads(row[10]),
        parts=row[11],
        part_sizes=tuple(orjson.loads(row[12])),
        version_id=row[13],
        seq=row[14],
        delete_marker=bool(row[15]) if len(row) > 15 else False,
        latest=len(row) <= 15,
    )


def _same_version(version_id: str | None, wanted: str) -> bool:
    return (version_id or NULL_VERSION) == wanted


def _upload(row: Any) -> UploadRecord:
    return UploadRecord(
        upload_id=row[0],
        bucket=row[1],
        key=row[2],
        initiated=row[3],
        content_type=row[4],
        headers=orjson.loads(row[5]),
        metadata=orjson.loads(row[6]),
        tags=orjson.loads(row[7]),
        checksum_algorithm=row[8],
    )


class ObjectStore:
    """Buckets, objects, uploads and parts; ``blobs`` holds the bytes."""

    def __init__(self, db: Database, *, fsync: bool = False) -> None:
        self.db = db
        db.migrate("s3", [_SCHEMA, _PART_SIZES, _VERSIONS])
        self.blobs = BlobStore(db.data_dir / "s3", fsync=fsync)

    # ---- buckets ----

    def get_bucket(self, name: str) -> BucketRecord | None:
        row = self.db.conn.execute(
            "SELECT name, region, account, created, settings FROM s3_buckets WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            return None
        return BucketRecord(row[0], row[1], row[2], row[3], orjson.loads(row[4]))

    def put_bucket(self, bucket: BucketRecord) -> None:
        self.db.conn.execute(
            "INSERT INTO s3_buckets (name, region, account, created, settings)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET settings = excluded.settings",
            (bucket.name, bucket.region, bucket.account, bucket.created, _dumps(bucket.settings)),
        )

    def delete_bucket(self, name: str) -> None:
        self.db.conn.execute("DELETE FROM s3_buckets WHERE name = ?", (name,))

    def list_buckets(self) -> list[BucketRecord]:
        rows = self.db.conn.execute(
            "SELECT name, region, account, created, settings FROM s3_buckets ORDER BY name"
        ).fetchall()
        return [BucketRecord(r[0], r[1], r[2], r[3], orjson.loads(r[4])) for r in rows]

    def bucket_has_content(self, name: str) -> bool:
        conn = self.db.conn
        found = conn.execute(
            "SELECT 1 FROM s3_objects WHERE bucket = ? LIMIT 1", (name,)
        ).fetchone()
        for table in ("s3_versions", "s3_uploads"):
            if found is None:
                found = conn.execute(
                    f"SELECT 1 FROM {table} WHERE bucket = ? LIMIT 1", (name,)
                ).fetchone()
        return found is not None

    # ---- objects ----

    def get_object(self, bucket: str, key: str) -> ObjectRecord | None:
        row = self.db.conn.execute(
            f"SELECT {_OBJECT_COLUMNS} FROM s3_objects WHERE bucket = ? AND key = ?",
            (bucket, key),
        ).fetchone()
        return None if row is None else _object(row)

    def put_object(self, obj: ObjectRecord) -> str | None:
        """Insert or replace an object; returns the blob the replaced version used."""
        old = self.db.conn.execute(
            "SELECT blob_id FROM s3_objects WHERE bucket = ? AND key = ?", (obj.bucket, obj.key)
        ).fetchone()
        self.db.conn.execute(
            f"INSERT INTO s3_objects ({_OBJECT_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (bucket, key) DO UPDATE SET size = excluded.size,"
            " etag = excluded.etag, last_modified = excluded.last_modified,"
            " blob_id = excluded.blob_id, content_type = excluded.content_type,"
            " headers = excluded.headers, metadata = excluded.metadata, tags = excluded.tags,"
            " checksums = excluded.checksums, parts = excluded.parts,"
            " part_sizes = excluded.part_sizes, version_id = excluded.version_id,"
            " seq = excluded.seq",
            _row(obj),
        )
        return None if old is None or old[0] == obj.blob_id else str(old[0])

    # ---- versions ----

    def get_version(self, bucket: str, key: str, version_id: str) -> ObjectRecord | None:
        """The version ``version_id`` of a key (``null``: the null version), current or
        not, delete markers included."""
        current = self.get_object(bucket, key)
        if current is not None and _same_version(current.version_id, version_id):
            return current
        row = self.db.conn.execute(
            f"SELECT {_VERSION_COLUMNS} FROM s3_versions WHERE bucket = ? AND key = ?"
            " AND version_id = ?",
            (bucket, key, version_id),
        ).fetchone()
        if row is None:
            return None
        found = _object(row)
        if current is None:
            return replace(found, latest=self._newest_seq(bucket, key) == found.seq)
        return found

    def _newest_seq(self, bucket: str, key: str) -> int | None:
        row = self.db.conn.execute(
            "SELECT MAX(seq) FROM s3_versions WHERE bucket = ? AND key = ?", (bucket, key)
        ).fetchone()
        return None if row is None else row[0]

    def latest_marker(self, bucket: str, key: str) -> ObjectRecord | None:
        """The delete marker that is the key's current version, if one is (call when the
        key has no current object)."""
        row = self.db.conn.execute(
            f"SELECT {_VERSION_COLUMNS} FROM s3_versions WHERE bucket = ? AND key = ?"
            " ORDER BY seq DESC LIMIT 1",
            (bucket, key),
        ).fetchone()
        if row is None or not row[15]:
            return None
        return replace(_object(row), latest=True)

    def next_seq(self, bucket: str, key: str) -> int:
        """The ``seq`` of a key's next version."""
        row = self.db.conn.execute(
            "SELECT MAX(seq) FROM (SELECT seq FROM s3_objects WHERE bucket = ? AND key = ?"
            " UNION ALL SELECT seq FROM s3_versions WHERE bucket = ? AND key = ?) AS seqs",
            (bucket, key, bucket, key),
        ).fetchone()
        return 1 + (row[0] or 0)

    def archive_current(self, bucket: str, key: str) -> None:
        """Make the key's current object a noncurrent version (a newer one follows)."""
        current = self.get_object(bucket, key)
        if current is None:
            return
        self.insert_version(replace(current, version_id=current.version_id or NULL_VERSION))
        self.db.conn.execute("DELETE FROM s3_objects WHERE bucket = ? AND key = ?", (bucket, key))

    def insert_version(self, obj: ObjectRecord) -> None:
        """Store a noncurrent version or a delete marker."""
        self.db.conn.execute(
            f"INSERT INTO s3_versions ({_VERSION_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*_row(obj), int(obj.delete_marker)),
        )

    def delete_version(self, bucket: str, key: str, version_id: str) -> ObjectRecord | None:
        """Remove one version (current or not; its blob is the caller's to delete) and make
        the newest remaining one current if it is an object; the removed version."""
        found = self.get_version(bucket, key, version_id)
        if found is None:
            return None
        current = self.get_object(bucket, key)
        if current is not None and _same_version(current.version_id, version_id):
            self.delete_object(bucket, key)
        else:
            self.db.conn.execute(
                "DELETE FROM s3_versions WHERE bucket = ? AND key = ? AND version_id = ?",
                (bucket, key, version_id),
            )
        self._promote_newest(bucket, key)
        return found

    def _promote_newest(self, bucket: str, key: str) -> None:
        if self.get_object(bucket, key) is not None:
            return
        row = self.db.conn.execute(
            f"SELECT {_VERSION_COLUMNS} FROM s3_versions WHERE bucket = ? AND key = ?"
            " ORDER BY seq DESC LIMIT 1",
            (bucket, key),
        ).fetchone()
        if row is None or row[15]:
            return  # nothing left, or a delete marker is current
        newest = _object(row)
        self.db.conn.execute(
            "DELETE FROM s3_versions WHERE bucket = ? AND key = ? AND version_id = ?",
            (bucket, key, newest.version_id),
        )
        self.put_object(newest)

    def versions_of(self, bucket: str, key: str) -> list[ObjectRecord]:
        """Every version of a key, newest first, ``latest`` set on the current one."""
        found: list[ObjectRecord] = []
        current = self.get_object(bucket, key)
        if current is not None:
            found.append(current)
        rows = self.db.conn.execute(
            f"SELECT {_VERSION_COLUMNS} FROM s3_versions WHERE bucket = ? AND key = ?"
            " ORDER BY seq DESC",
            (bucket, key),
        ).fetchall()
        for number, row in enumerate(rows):
            found.append(replace(_object(row), latest=current is None and number == 0))
        return found

    def version_keys_after(
        self, bucket: str, prefix: str, after: str | None, limit: int
    ) -> list[str]:
        """Keys of ``bucket`` with any version, starting with ``prefix``, after ``after``."""
        rows = self.db.conn.execute(
            "SELECT key FROM s3_objects WHERE bucket = ? AND key > ? AND substr(key, 1, ?) = ?"
            " UNION SELECT key FROM s3_versions WHERE bucket = ? AND key > ?"
            " AND substr(key, 1, ?) = ? ORDER BY key LIMIT ?",
            (bucket, after or "", len(prefix), prefix) * 2 + (limit,),
        ).fetchall()
        return [str(row[0]) for row in rows]

    def set_version_tags(
        self, bucket: str, key: str, version_id: str, tags: dict[str, str]
    ) -> None:
        """Tag one version of a key (the current one if it is that version)."""
        current = self.get_object(bucket, key)
        if current is not None and _same_version(current.version_id, version_id):
            self.set_object_tags(bucket, key, tags)
            return
        self.db.conn.execute(
            "UPDATE s3_versions SET tags = ? WHERE bucket = ? AND key = ? AND version_id = ?",
            (_dumps(tags), bucket, key, version_id),
        )

    def set_object_tags(self, bucket: str, key: str, tags: dict[str, str]) -> None:
        self.db.conn.execute(
            "UPDATE s3_objects SET tags = ? WHERE bucket = ? AND key = ?",
            (_dumps(tags), bucket, key),
        )

    def delete_object(self, bucket: str, key: str) -> str | None:
        """Delete an object; returns its blob id (to remove after commit) or None."""
        row = self.db.conn.execute(
            "DELETE FROM s3_objects WHERE bucket = ? AND key = ? RETURNING blob_id",
            (bucket, key),
        ).fetchone()
        return None if row is None else str(row[0])

    def keys_after(
        self, bucket: str, prefix: str, after: str | None, limit: int
    ) -> list[ObjectRecord]:
        """Objects of ``bucket`` whose key starts with ``prefix``, after ``after``, in order."""
        rows = self.db.conn.execute(
            f"SELECT {_OBJECT_COLUMNS} FROM s3_objects WHERE bucket = ? AND key > ?"
            " AND substr(key, 1, ?) = ? ORDER BY key LIMIT ?",
            (bucket, after or "", len(prefix), prefix, limit),
        ).fetchall()
        return [_object(row) for row in rows]

    def iter_objects(self, bucket: str) -> Iterator[ObjectRecord]:
        rows = self.db.conn.execute(
            f"SELECT {_OBJECT_COLUMNS} FROM s3_objects WHERE bucket = ? ORDER BY key", (bucket,)
        ).fetchall()
        for row in rows:
            yield _object(row)

    # ---- multipart uploads ----

    def add_upload(self, upload: UploadRecord) -> None:
        self.db.conn.execute(
            f"INSERT INTO s3_uploads ({_UPLOAD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                upload.upload_id,
                upload.bucket,
                upload.key,
                upload.initiated,
                upload.content_type,
                _dumps(upload.headers),
                _dumps(upload.metadata),
                _dumps(upload.tags),
                upload.checksum_algorithm,
            ),
        )

    def get_upload(self, upload_id: str) -> UploadRecord | None:
        row = self.db.conn.execute(
            f"SELECT {_UPLOAD_COLUMNS} FROM s3_uploads WHERE upload_id = ?", (upload_id,)
        ).fetchone()
        return None if row is None else _upload(row)

    def list_uploads(self, bucket: str, prefix: str) -> list[UploadRecord]:
        rows = self.db.conn.execute(
            f"SELECT {_UPLOAD_COLUMNS} FROM s3_uploads WHERE bucket = ?"
            " AND substr(key, 1, ?) = ? ORDER BY key, initiated",
            (bucket, len(prefix), prefix),
        ).fetchall()
        return [_upload(row) for row in rows]

    def put_part(self, part: PartRecord) -> str | None:
        """Insert or replace a part; returns the replaced part's blob id."""
        old = self.db.conn.execute(
            "SELECT blob_id FROM s3_parts WHERE upload_id = ? AND part_number = ?",
            (part.upload_id, part.part_number),
        ).fetchone()
        self.db.conn.execute(
            "INSERT INTO s3_parts (upload_id, part_number, size, etag, blob_id, last_modified,"
            " checksums) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (upload_id, part_number)"
            " DO UPDATE SET size = excluded.size, etag = excluded.etag,"
            " blob_id = excluded.blob_id, last_modified = excluded.last_modified,"
            " checksums = excluded.checksums",
            (
                part.upload_id,
                part.part_number,
                part.size,
                part.etag,
                part.blob_id,
                part.last_modified,
                _dumps(part.checksums),
            ),
        )
        return None if old is None else str(old[0])

    def parts(self, upload_id: str) -> list[PartRecord]:
        rows = self.db.conn.execute(
            "SELECT upload_id, part_number, size, etag, blob_id, last_modified, checksums"
            " FROM s3_parts WHERE upload_id = ? ORDER BY part_number",
            (upload_id,),
        ).fetchall()
        return [PartRecord(r[0], r[1], r[2], r[3], r[4], r[5], orjson.loads(r[6])) for r in rows]

    def delete_upload(self, upload_id: str) -> list[str]:
        """Forget an upload and its parts; returns the parts' blob ids."""
        conn = self.db.conn
        blobs = [
            str(row[0])
            for row in conn.execute(
                "DELETE FROM s3_parts WHERE upload_id = ? RETURNING blob_id", (upload_id,)
            ).fetchall()
        ]
        conn.execute("DELETE FROM s3_uploads WHERE upload_id = ?", (upload_id,))
        return blobs
