"""Multipart uploads: create, upload parts, complete (S3's part checks and ETag), abort, list."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from headwater.core.ids import new_uuid
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.s3.buckets import owner
from headwater.services.s3.checksums import composite, multipart_etag
from headwater.services.s3.errors import (
    MAX_PARTS,
    MAX_UPLOADS,
    PART_NUMBER_MARKER,
    check_key_length,
    check_part_number,
    malformed_xml,
    no_such_upload,
    s3_error,
)
from headwater.services.s3.listing import ListingOperations
from headwater.services.s3.notifications import ObjectEvent
from headwater.services.s3.objects import (
    STORED_HEADERS,
    _header_value,
    body_bytes,
    check_conditions,
    copy_source_range,
    given_checksums,
    parse_copy_source,
    parse_tagging,
)
from headwater.services.s3.versions import write_version
from headwater.store.objects import ObjectRecord, PartRecord, UploadRecord

#: Every part but the last must be at least this big.
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS_PAGE = 1000


def _when(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC)


class MultipartOperations(ListingOperations):
    """Uploads in parts, each part a blob; completion concatenates them into one."""

    def _upload(self, params: Params) -> UploadRecord:
        upload_id = str(params["UploadId"])
        self._bucket(str(params["Bucket"]))
        found = self.store.get_upload(upload_id)
        if found is None or found.bucket != params["Bucket"] or found.key != params["Key"]:
            raise no_such_upload(upload_id)
        return found

    @operation("CreateMultipartUpload")
    def create_multipart_upload(self, params: Params, ctx: RequestContext) -> Result:
        bucket, key = str(params["Bucket"]), str(params["Key"])
        check_key_length(key)
        algorithm = params.get("ChecksumAlgorithm")
        upload = UploadRecord(
            upload_id=base64.urlsafe_b64encode(new_uuid().encode()).decode().rstrip("="),
            bucket=bucket,
            key=key,
            initiated=self.env.clock.now(),
            content_type=str(params.get("ContentType") or "binary/octet-stream"),
            headers={
                name: _header_value(params[name])
                for name in STORED_HEADERS
                if params.get(name) is not None
            },
            metadata={str(k).lower(): str(v) for k, v in (params.get("Metadata") or {}).items()},
            tags=parse_tagging(params.get("Tagging")),
            checksum_algorithm=str(algorithm).upper() if algorithm else None,
        )
        with self.store.db.transaction():
            self._bucket(bucket)
            self.store.add_upload(upload)
        result: Result = {"Bucket": bucket, "Key": key, "UploadId": upload.upload_id}
        if upload.checksum_algorithm:
            result["ChecksumAlgorithm"] = upload.checksum_algorithm
            result["ChecksumType"] = "COMPOSITE"
        result["ServerSideEncryption"] = "AES256"
        return result

    @operation("UploadPart")
    def upload_part(self, params: Params, ctx: RequestContext) -> Result:
        number = int(params["PartNumber"])
        check_part_number(number)
        data = body_bytes(params.get("Body"))
        with self.store.db.transaction():
            upload = self._upload(params)
        part = self._store_part(upload, number, data, params)
        result: Result = {"ETag": part.etag, "ServerSideEncryption": "AES256"}
        # The upload's algorithm, and the one this part was sent with (as PutObject answers).
        for name in (upload.checksum_algorithm, str(params.get("ChecksumAlgorithm") or "").upper()):
            if name and name in part.checksums:
                result[f"Checksum{name}"] = part.checksums[name]
        for name, value in given_checksums(params).items():
            result[f"Checksum{name}"] = value
        return result

    @operation("UploadPartCopy")
    def upload_part_copy(self, params: Params, ctx: RequestContext) -> Result:
        """A part copied from (a range of) an existing object: what ``aws s3 cp`` and
        ``aws s3 mv`` send between buckets for an object over the CLI's 8 MB threshold."""
        number = int(params["PartNumber"])
        check_part_number(number)
        source_bucket, source_key = parse_copy_source(params["CopySource"])
        with self.store.db.transaction():
            upload = self._upload(params)
            source = self._object(source_bucket, source_key)
        check_conditions(source, params, self.env.clock.now(), prefix="CopySourceIf")
        chosen = copy_source_range(params.get("CopySourceRange"), source.size)
        if chosen is None:
            data = self.store.blobs.read(source.blob_id)
        else:
            data = self.store.blobs.read(source.blob_id, *chosen)
        part = self._store_part(upload, number, data, {})
        copied: Result = {"ETag": part.etag, "LastModified": _when(part.last_modified)}
        if upload.checksum_algorithm and upload.checksum_algorithm in part.checksums:
            name = upload.checksum_algorithm
            copied[f"Checksum{name}"] = part.checksums[name]
        return {"CopyPartResult": copied, "ServerSideEncryption": "AES256"}

    def _store_part(
        self, upload: UploadRecord, number: int, data: bytes, params: Params
    ) -> PartRecord:
        """Write part ``number`` of ``upload`` (checking the checksums ``params`` give),
        replacing one uploaded before with that number; the upload must still be there."""
        blob_id, digests = self.write_blob(
            data, params, params.get("ChecksumAlgorithm") or upload.checksum_algorithm
        )
        part = PartRecord(
            upload.upload_id,
            number,
            len(data),
            digests.etag,
            blob_id,
            self.env.clock.now(),
            digests.checksums,
        )
        try:
            with self.store.db.transaction():
                # still there: not completed or aborted while the bytes were written
                self._upload(
                    {"UploadId": upload.upload_id, "Bucket": upload.bucket, "Key": upload.key}
                )
                replaced = self.store.put_part(part)
        except BaseException:
            self.store.blobs.delete(blob_id)
            raise
        if replaced is not None:
            self.store.blobs.delete(replaced)
        return part

    @operation("CompleteMultipartUpload")
    def complete_multipart_upload(self, params: Params, ctx: RequestContext) -> Result:
        requested = (params.get("MultipartUpload") or {}).get("Parts") or []
        if not requested or any("PartNumber" not in part for part in requested):
            # S3's schema requires a PartNumber in every Part
            raise malformed_xml()
        with self.store.db.transaction():
            upload = self._upload(params)
            stored = {part.part_number: part for part in self.store.parts(upload.upload_id)}
        numbers = [int(p["PartNumber"]) for p in requested]
        if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
            raise s3_error(
                "InvalidPartOrder",
                "The list of parts was not in ascending order. Parts must be ordered by part "
                "number.",
                UploadId=upload.upload_id,
            )
        chosen: list[PartRecord] = []
        for given in requested:
            part = stored.get(int(given["PartNumber"]))
            if part is None or str(given.get("ETag", "")).strip('"') != part.etag.strip('"'):
                raise s3_error(
                    "InvalidPart",
                    "One or more of the specified parts could not be found.  The part may not "
                    "have been uploaded, or the specified entity tag may not match the part's "
                    "entity tag.",
                    UploadId=upload.upload_id,
                    PartNumber=str(given["PartNumber"]),
                    ETag=str(given.get("ETag", "")),
                )
            chosen.append(part)
        for part in chosen[:-1]:
            if part.size < MIN_PART_SIZE:
                raise s3_error(
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size",
                    ProposedSize=str(part.size),
                    MinSizeAllowed=str(MIN_PART_SIZE),
                )
        blob_id, size = self.store.blobs.concatenate([p.blob_id for p in chosen])
        checksums: dict[str, str] = {}
        algorithm = upload.checksum_algorithm or "CRC32"
        if all(algorithm in p.checksums for p in chosen):
            value = composite(algorithm, [p.checksums[algorithm] for p in chosen])
            if value is not None:
                checksums[algorithm] = value
        record = ObjectRecord(
            bucket=upload.bucket,
            key=upload.key,
            size=size,
            etag=multipart_etag(p.etag for p in chosen),
            last_modified=self.env.clock.now(),
            blob_id=blob_id,
            content_type=upload.content_type,
            headers=upload.headers,
            metadata=upload.metadata,
            tags=upload.tags,
            checksums=checksums,
            parts=len(chosen),
            part_sizes=tuple(p.size for p in chosen),
        )
        try:
            with self.store.db.transaction():
                self._upload(params)
                bucket = self._bucket(upload.bucket)
                record, unused = write_version(self.store, bucket, record)
                part_blobs = self.store.delete_upload(upload.upload_id)
                event = ObjectEvent(
                    "ObjectCreated:CompleteMultipartUpload",
                    upload.key,
                    size,
                    record.etag,
                    record.version_id,
                )
                invocations = self.notifier.in_transaction(bucket, [event])
        except BaseException:
            self.store.blobs.delete(blob_id)
            raise
        for blob in [*part_blobs, *unused]:
            self.store.blobs.delete(blob)
        self.notifier.after_commit(invocations)
        result: Result = {
            "Location": f"{self._base_url(ctx)}/{upload.bucket}/{upload.key}",
            "Bucket": upload.bucket,
            "Key": upload.key,
            "ETag": record.etag,
            "ServerSideEncryption": "AES256",
        }
        if upload.checksum_algorithm and upload.checksum_algorithm in checksums:
            result[f"Checksum{upload.checksum_algorithm}"] = checksums[upload.checksum_algorithm]
            result["ChecksumType"] = "COMPOSITE"
        if record.version_id is not None:
            result["VersionId"] = record.version_id
        return result

    def _base_url(self, ctx: RequestContext) -> str:
        return (ctx.endpoint or f"https://s3.{ctx.region}.amazonaws.com").rstrip("/")

    @operation("AbortMultipartUpload")
    def abort_multipart_upload(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.db.transaction():
            upload = self._upload(params)
            blobs = self.store.delete_upload(upload.upload_id)
        for blob in blobs:
            self.store.blobs.delete(blob)
        return {}

    @operation("ListParts")
    def list_parts(self, params: Params, ctx: RequestContext) -> Result:
        # S3 checks its query arguments before it looks the upload up
        marker = PART_NUMBER_MARKER.read(params) or 0
        limit = min(MAX_PARTS.read(params) or MAX_PARTS_PAGE, MAX_PARTS_PAGE)
        with self.store.db.transaction():
            upload = self._upload(params)
            bucket = self._bucket(upload.bucket)
            parts = self.store.parts(upload.upload_id)
        after = [p for p in parts if p.part_number > marker]
        page = after[:limit]
        who = owner(bucket.account)
        result: Result = {
            "Bucket": upload.bucket,
            "Key": upload.key,
            "UploadId": upload.upload_id,
            "PartNumberMarker": marker,
            "MaxParts": limit,
            "IsTruncated": len(after) > limit,
            "Parts": [
                {
                    "PartNumber": p.part_number,
                    "LastModified": _when(p.last_modified),
                    "ETag": p.etag,
                    "Size": p.size,
                    **{
                        f"Checksum{name}": value
                        for name, value in p.checksums.items()
                        if name == upload.checksum_algorithm
                    },
                }
                for p in page
            ],
            "Initiator": who,
            "Owner": who,
            "StorageClass": "STANDARD",
        }
        if page:
            result["NextPartNumberMarker"] = page[-1].part_number
        if upload.checksum_algorithm:
            result["ChecksumAlgorithm"] = upload.checksum_algorithm
        return result

    @operation("ListMultipartUploads")
    def list_multipart_uploads(self, params: Params, ctx: RequestContext) -> Result:
        bucket_name = str(params["Bucket"])
        prefix = str(params.get("Prefix") or "")
        limit = min(MAX_UPLOADS.read(params) or 1000, 1000)
        with self.store.db.transaction():
            bucket = self._bucket(bucket_name)
            uploads = self.store.list_uploads(bucket_name, prefix)
        who = owner(bucket.account)
        result: dict[str, Any] = {
            "Bucket": bucket_name,
            "KeyMarker": params.get("KeyMarker") or "",
            "UploadIdMarker": params.get("UploadIdMarker") or "",
            "MaxUploads": limit,
            "IsTruncated": len(uploads) > limit,
            "Uploads": [
                {
                    "UploadId": u.upload_id,
                    "Key": u.key,
                    "Initiated": _when(u.initiated),
                    "StorageClass": "STANDARD",
                    "Owner": who,
                    "Initiator": who,
                }
                for u in uploads[:limit]
            ],
        }
        if prefix:
            result["Prefix"] = prefix
        return result
