"""The in-process S3 client: boto3's S3 parameter handling and its managed transfers.

boto3 adds ``upload_file``, ``upload_fileobj``, ``download_file``, ``download_fileobj`` and
``copy`` to its S3 client (s3transfer). ``S3Client`` answers the same calls through the
in-process client with s3transfer's rules: the same ``ExtraArgs`` allowed (the same
``ValueError`` otherwise), a multipart upload or copy from ``multipart_threshold`` with
parts of ``multipart_chunksize`` (adjusted to S3's part limits as s3transfer does), the
multipart upload aborted when a part fails, ``Callback`` told of the bytes moved, a
download written beside the target and renamed into place, and an upload's ``ClientError``
from ``upload_file`` wrapped in ``S3UploadFailedError``. Parts go one after another (no
threads: the calls run in process, with no network to overlap).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from email.utils import format_datetime
from functools import cache
from typing import IO, Any

from boto3.exceptions import S3UploadFailedError
from botocore import httpchecksum
from botocore.exceptions import ClientError, FlexibleChecksumError, MissingDependencyException
from botocore.handlers import (
    handle_copy_source_param,
    validate_ascii_metadata,
    validate_bucket_name,
)
from botocore.httpchecksum import DEFAULT_CHECKSUM_ALGORITHM
from botocore.model import Shape
from botocore.utils import parse_timestamp
from s3transfer.copies import CopySubmissionTask
from s3transfer.manager import TransferConfig, TransferManager
from s3transfer.upload import UploadSubmissionTask
from s3transfer.utils import ChunksizeAdjuster

from headwater.client import ServiceClient
from headwater.core.values import assume_utc
from headwater.models import operation_model
from headwater.services.s3.checksums import ALGORITHMS

Callback = Callable[[int], Any] | None
#: Sends part ``number`` of upload ``upload_id``; answers the part's ETag and its size.
_SendPart = Callable[[str, int], tuple[str, int]]

#: How much of a download is read and written at a time (s3transfer's IO chunk).
_DOWNLOAD_CHUNK = 256 * 1024


def _known_args(extra: Mapping[str, Any] | None, allowed: list[str]) -> dict[str, Any]:
    """``extra`` checked against the arguments s3transfer allows, with its error."""
    for name in extra or {}:
        if name not in allowed:
            raise ValueError(
                f"Invalid extra_args key '{name}', must be one of: {', '.join(allowed)}"
            )
    return dict(extra or {})


def _only(extra: Mapping[str, Any], names: list[str]) -> dict[str, Any]:
    return {name: value for name, value in extra.items() if name in names}


def _without(extra: Mapping[str, Any], names: list[str]) -> dict[str, Any]:
    return {name: value for name, value in extra.items() if name not in names}


#: botocore's own S3 parameter handlers that change or refuse what is sent (boto3 runs
#: them before validating): CopySource given as a dict, or as text whose key needs
#: quoting; bucket names and metadata that S3 would not take.
_PARAMETER_HANDLERS: dict[str, tuple[Callable[..., None], ...]] = {
    "CopyObject": (handle_copy_source_param, validate_ascii_metadata),
    "UploadPartCopy": (handle_copy_source_param,),
    "PutObject": (validate_ascii_metadata,),
    "CreateMultipartUpload": (validate_ascii_metadata,),
}


@cache
def checksum_members(operation_name: str) -> tuple[str | None, str | None]:
    """The operation's request checksum algorithm member (PutObject's ChecksumAlgorithm)
    and response checksum mode member (GetObject's ChecksumMode), from its model."""
    http_checksum = operation_model("s3", operation_name).http_checksum
    return (
        http_checksum.get("requestAlgorithmMember"),
        http_checksum.get("requestValidationModeMember"),
    )


def _default_checksums(operation_name: str, params: dict[str, Any]) -> None:
    """What boto3's default checksum settings (``when_supported``, both ways) send: a CRC32
    of the request where the operation takes a checksum and none was given, and a request
    for the stored checksums where the operation answers them (GetObject)."""
    algorithm_member, mode_member = checksum_members(operation_name)
    if algorithm_member is not None and not any(f"Checksum{n}" in params for n in ALGORITHMS):
        if algorithm_member not in params:
            params[algorithm_member] = DEFAULT_CHECKSUM_ALGORITHM
        else:
            _check_checksum_algorithm(str(params[algorithm_member]).lower())
    if mode_member is not None:
        params.setdefault(mode_member, "ENABLED")


def _check_checksum_algorithm(name: str) -> None:
    """botocore's refusal, before sending, of a checksum algorithm it cannot compute: one
    that needs its CRT extension (CRC32C, CRC64NVME) when that is not installed, or one it
    does not know."""
    if name in httpchecksum._SUPPORTED_CHECKSUM_ALGORITHMS:
        return
    if not httpchecksum.HAS_CRT and name in httpchecksum._CRT_CHECKSUM_ALGORITHMS:
        raise MissingDependencyException(
            msg=(
                f"Using {name.upper()} requires an additional dependency. You will need to "
                "pip install botocore[crt] before proceeding."
            )
        )
    raise FlexibleChecksumError(error_msg=f"Unsupported checksum algorithm: {name}")


def _expires_as_boto3_parses_it(result: dict[str, Any]) -> None:
    """An object's Expires as botocore's S3 handler leaves it: the header's text in
    ExpiresString, and Expires a datetime, or no key when the text is no timestamp."""
    value = result["Expires"]
    if isinstance(value, dt.datetime):
        value = format_datetime(assume_utc(value).astimezone(dt.UTC), usegmt=True)
    text = str(value)
    result["ExpiresString"] = text
    try:
        result["Expires"] = parse_timestamp(text)
    except (ValueError, RuntimeError):
        del result["Expires"]


#: Operations whose XML body botocore escapes whole (its ``escape_xml_payload`` handler),
#: so line ends in it reach S3 as given.
_ESCAPED_PAYLOADS = frozenset({"DeleteObjects", "PutBucketLifecycleConfiguration"})


@cache
def _xml_payload(operation_name: str) -> str | None:
    """The member botocore writes as the request's XML body (PutObjectTagging's Tagging),
    if its line ends reach S3 as an XML parser reads them."""
    shape = operation_model("s3", operation_name).input_shape
    payload = None if shape is None else shape.serialization.get("payload")
    if payload is None or operation_name in _ESCAPED_PAYLOADS:
        return None
    members: dict[str, Shape] = getattr(shape, "members", {})
    return payload if members[payload].type_name == "structure" else None


def _line_ends_as_xml_reads_them(value: Any) -> Any:
    """``value`` (a copy where it changes) with each CR LF and lone CR in its text a LF:
    botocore writes them unescaped in an XML body, and XML parsers read them so (S3's, and
    headwater's over the wire)."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n") if "\r" in value else value
    if isinstance(value, dict):
        return {key: _line_ends_as_xml_reads_them(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_line_ends_as_xml_reads_them(item) for item in value]
    return value


class S3Client(ServiceClient):
    """The S3 client, plus boto3's managed transfers."""

    def generate_presigned_post(
        self,
        Bucket: str,
        Key: str,
        Fields: dict[str, Any] | None = None,
        Conditions: list[Any] | None = None,
        ExpiresIn: int = 3600,
    ) -> dict[str, Any]:
        """boto3's presigned POST form for ``Bucket``/``Key`` (see ``generate_presigned_url``
        for the endpoint and credentials)."""
        form: dict[str, Any] = self._presigner().generate_presigned_post(
            Bucket, Key, Fields=Fields, Conditions=Conditions, ExpiresIn=ExpiresIn
        )
        return form

    def _make_api_call(self, operation_name: str, params: dict[str, Any]) -> dict[str, Any]:
        validate_bucket_name(params)
        try:
            for handle in _PARAMETER_HANDLERS.get(operation_name, ()):
                handle(params)
        except UnicodeEncodeError:
            # Text that is not UTF-8 (a lone surrogate in CopySource): answered below as
            # any such text is in process, with the service's error
            pass
        _default_checksums(operation_name, params)
        payload = _xml_payload(operation_name)
        if payload is not None and payload in params:
            params[payload] = _line_ends_as_xml_reads_them(params[payload])
        result = super()._make_api_call(operation_name, params)
        if "Expires" in result:
            _expires_as_boto3_parses_it(result)
        return result

    # ---- uploads ----

    def upload_file(
        self,
        Filename: str | os.PathLike[str],
        Bucket: str,
        Key: str,
        ExtraArgs: Mapping[str, Any] | None = None,
        Callback: Callback = None,
        Config: TransferConfig | None = None,
    ) -> None:
        """Upload a local file to ``Bucket``/``Key`` (boto3's ``upload_file``)."""
        if not isinstance(Filename, str | os.PathLike):
            raise ValueError("Filename must be a string or a path-like object")
        filename = os.fspath(Filename)
        extra = _known_args(ExtraArgs, TransferManager.ALLOWED_UPLOAD_ARGS)
        with open(filename, "rb") as body:
            try:
                self._upload(body, Bucket, Key, extra, Callback, Config)
            except ClientError as error:
                # boto3 reports an upload_file's ClientError in this wrapper
                raise S3UploadFailedError(
                    f"Failed to upload {filename} to {Bucket}/{Key}: {error}"
                ) from None

    def upload_fileobj(
        self,
        Fileobj: IO[bytes],
        Bucket: str,
        Key: str,
        ExtraArgs: Mapping[str, Any] | None = None,
        Callback: Callback = None,
        Config: TransferConfig | None = None,
    ) -> None:
        """Upload a readable binary file object (boto3's ``upload_fileobj``)."""
        if not hasattr(Fileobj, "read"):
            raise ValueError("Fileobj must implement read")
        extra = _known_args(ExtraArgs, TransferManager.ALLOWED_UPLOAD_ARGS)
        self._upload(Fileobj, Bucket, Key, extra, Callback, Config)

    def _upload(
        self,
        body: IO[bytes],
        bucket: str,
        key: str,
        extra: dict[str, Any],
        callback: Callback,
        config: TransferConfig | None,
    ) -> None:
        config = config or TransferConfig()
        # As s3transfer does for a stream of unknown size: a first read of the threshold
        # decides, and a body that fills it goes in parts.
        first = body.read(config.multipart_threshold)
        if len(first) < config.multipart_threshold:
            self.put_object(
                Bucket=bucket,
                Key=key,
                Body=first,
                **_without(extra, UploadSubmissionTask.PUT_OBJECT_BLOCKLIST),
            )
            _tell(callback, len(first))
            return
        chunk = ChunksizeAdjuster().adjust_chunksize(
            config.multipart_chunksize, _size_of(body, len(first))
        )
        part_args = _only(extra, UploadSubmissionTask.UPLOAD_PART_ARGS)

        def upload(data: bytes) -> _SendPart:
            def send(upload_id: str, number: int) -> tuple[str, int]:
                answer = self.upload_part(
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=data,
                    **part_args,
                )
                return answer["ETag"], len(data)

            return send

        self._in_parts(
            bucket,
            key,
            (upload(data) for data in _chunks(first, body, chunk)),
            create_args=_without(extra, UploadSubmissionTask.CREATE_MULTIPART_BLOCKLIST),
            complete_args=_only(extra, UploadSubmissionTask.COMPLETE_MULTIPART_ARGS),
            callback=callback,
        )

    def _in_parts(
        self,
        bucket: str,
        key: str,
        parts: Iterable[_SendPart],
        *,
        create_args: dict[str, Any],
        complete_args: dict[str, Any],
        callback: Callback,
    ) -> None:
        """A multipart upload of ``parts`` (each sends part N and answers its ETag and
        size), completed; aborted if a part fails, as s3transfer does, so none is kept."""
        upload_id = self.create_multipart_upload(Bucket=bucket, Key=key, **create_args)["UploadId"]
        sent = []
        try:
            for number, send in enumerate(parts, start=1):
                etag, amount = send(upload_id, number)
                sent.append({"ETag": etag, "PartNumber": number})
                _tell(callback, amount)
            self.complete_multipart_upload(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": sent},
                **complete_args,
            )
        except BaseException:
            self.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            raise

    # ---- downloads ----

    def download_file(
        self,
        Bucket: str,
        Key: str,
        Filename: str | os.PathLike[str],
        ExtraArgs: Mapping[str, Any] | None = None,
        Callback: Callback = None,
        Config: TransferConfig | None = None,
    ) -> None:
        """Download ``Bucket``/``Key`` to a local file (boto3's ``download_file``): written
        beside it under a temporary name and renamed into place once complete."""
        if not isinstance(Filename, str | os.PathLike):
            raise ValueError("Filename must be a string or a path-like object")
        filename = os.fspath(Filename)
        extra = _known_args(ExtraArgs, TransferManager.ALLOWED_DOWNLOAD_ARGS)
        self.head_object(Bucket=Bucket, Key=Key, **extra)  # a missing object: no file
        partial = f"{filename}.{secrets.token_hex(4)}"
        try:
            with open(partial, "wb") as target:
                self._download(Bucket, Key, target, extra, Callback)
            os.replace(partial, filename)
        except BaseException:
            if os.path.exists(partial):
                os.remove(partial)
            raise

    def download_fileobj(
        self,
        Bucket: str,
        Key: str,
        Fileobj: IO[bytes],
        ExtraArgs: Mapping[str, Any] | None = None,
        Callback: Callback = None,
        Config: TransferConfig | None = None,
    ) -> None:
        """Download ``Bucket``/``Key`` into a writable binary file object."""
        if not hasattr(Fileobj, "write"):
            raise ValueError("Fileobj must implement write")
        extra = _known_args(ExtraArgs, TransferManager.ALLOWED_DOWNLOAD_ARGS)
        self.head_object(Bucket=Bucket, Key=Key, **extra)
        self._download(Bucket, Key, Fileobj, extra, Callback)

    def _download(
        self, bucket: str, key: str, target: IO[bytes], extra: dict[str, Any], callback: Callback
    ) -> None:
        body = self.get_object(Bucket=bucket, Key=key, **extra)["Body"]
        while data := body.read(_DOWNLOAD_CHUNK):
            target.write(data)
            _tell(callback, len(data))

    # ---- copies ----

    def copy(
        self,
        CopySource: Mapping[str, str],
        Bucket: str,
        Key: str,
        ExtraArgs: Mapping[str, Any] | None = None,
        Callback: Callback = None,
        SourceClient: Any = None,
        Config: TransferConfig | None = None,
    ) -> None:
        """Copy an object between S3 locations (boto3's managed ``copy``): CopyObject below
        ``multipart_threshold``, else a multipart upload of UploadPartCopy ranges."""
        extra = _known_args(ExtraArgs, TransferManager.ALLOWED_COPY_ARGS)
        config = Config or TransferConfig()
        source = SourceClient or self
        head_args = {
            CopySubmissionTask.EXTRA_ARGS_TO_HEAD_ARGS_MAPPING[name]: value
            for name, value in extra.items()
            if name in CopySubmissionTask.EXTRA_ARGS_TO_HEAD_ARGS_MAPPING
        }
        if CopySource.get("VersionId"):
            head_args["VersionId"] = CopySource["VersionId"]
        size = source.head_object(Bucket=CopySource["Bucket"], Key=CopySource["Key"], **head_args)[
            "ContentLength"
        ]
        if size < config.multipart_threshold:
            self.copy_object(CopySource=dict(CopySource), Bucket=Bucket, Key=Key, **extra)
            _tell(Callback, size)
            return
        chunk = ChunksizeAdjuster().adjust_chunksize(config.multipart_chunksize, size)
        part_args = _only(extra, CopySubmissionTask.UPLOAD_PART_COPY_ARGS)

        def copy_range(start: int) -> _SendPart:
            end = min(start + chunk, size) - 1

            def send(upload_id: str, number: int) -> tuple[str, int]:
                answer = self.upload_part_copy(
                    CopySource=dict(CopySource),
                    CopySourceRange=f"bytes={start}-{end}",
                    Bucket=Bucket,
                    Key=Key,
                    UploadId=upload_id,
                    PartNumber=number,
                    **part_args,
                )
                return answer["CopyPartResult"]["ETag"], end - start + 1

            return send

        self._in_parts(
            Bucket,
            Key,
            (copy_range(start) for start in range(0, size, chunk)),
            create_args=_without(extra, CopySubmissionTask.CREATE_MULTIPART_ARGS_BLACKLIST),
            complete_args=_only(extra, CopySubmissionTask.COMPLETE_MULTIPART_ARGS),
            callback=Callback,
        )


def _tell(callback: Callback, amount: int) -> None:
    if callback is not None and amount:
        callback(amount)


def _size_of(body: IO[bytes], already: int) -> int | None:
    """What a seekable ``body`` holds from where its reading started (``already`` bytes
    ago) to its end; ``None`` for a stream."""
    try:
        if not body.seekable():
            return None
        here = body.tell()
        end = body.seek(0, os.SEEK_END)
        body.seek(here)
    except (AttributeError, OSError, ValueError):
        return None
    return end - here + already


def _chunks(first: bytes, body: IO[bytes], size: int) -> Iterator[bytes]:
    """``first`` and the rest of ``body`` in parts of ``size`` bytes."""
    pending = first
    while True:
        while len(pending) < size and (more := body.read(size - len(pending))):
            pending += more
        if not pending:
            return
        yield pending[:size]
        pending = pending[size:]
