"""Amazon Data Firehose: DirectPut delivery streams that buffer records into S3.

Records put (PutRecord, PutRecordBatch, a Logs subscription filter, an EventBridge
target) are stored in the database until the flush that delivers them, so a restart
loses none. A stream flushes when it buffers ``SizeInMBs`` (at once, once the put has
committed) or when its oldest record is ``IntervalInSeconds`` old on the headwater clock
(a ``ClockTicker``, so a ``ManualClock`` drives it). One flush writes one object (records
concatenated as given, no newline added, as AWS), run first through the Lambda processor
when there is one. Delivery is at least once: an object written before its records are
forgotten may be written again if the process dies between the two, as AWS may.

A KinesisStreamAsSource stream reads its Kinesis stream at each tick (``kinesis_source``).
Only S3 and ExtendedS3 destinations; the others, MSK and database sources, compression
other than GZIP, dynamic partitioning and format conversion are refused at create.
Error texts follow AWS's where known; guesses say so.
"""

from __future__ import annotations

import gzip
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from headwater.core.arn import Arn
from headwater.core.errors import AwsError
from headwater.core.tag_lists import tag_list, tag_pairs
from headwater.core.values import as_bytes, as_datetime
from headwater.services.base import (
    Params,
    RequestContext,
    Result,
    Service,
    ServiceEnvironment,
    operation,
)
from headwater.services.firehose.kinesis_source import check_source, read_source
from headwater.services.firehose.naming import (
    PROCESSING_FAILED,
    check_prefixes,
    evaluate_prefix,
    invalid_argument,
    object_name,
)
from headwater.services.firehose.store import BufferedRecord, DeliveryStream, FirehoseStore
from headwater.services.firehose.transformation import (
    lambda_processor,
    record_delimiter,
    transform,
)
from headwater.services.ticker import ClockTicker

log = logging.getLogger(__name__)

MIB = 1024 * 1024
MAX_RECORD_BYTES = 1000 * 1024
MAX_BATCH_RECORDS = 500
MAX_BATCH_BYTES = 4 * MIB
DEFAULT_BUFFERING = {"SizeInMBs": 5, "IntervalInSeconds": 300}
#: Clock seconds between checks for streams whose oldest record is due.
TICK_SECONDS = 1.0
#: How long AWS keeps retrying an S3 destination it cannot write to before it drops data.
S3_RETRY_SECONDS = 86400.0
DESTINATION_ID = "destinationId-000000000001"
REFUSED_DESTINATIONS = {
    "RedshiftDestinationConfiguration": "Redshift",
    "ElasticsearchDestinationConfiguration": "Elasticsearch",
    "AmazonopensearchserviceDestinationConfiguration": "OpenSearch Service",
    "AmazonOpenSearchServerlessDestinationConfiguration": "OpenSearch Serverless",
    "SplunkDestinationConfiguration": "Splunk",
    "HttpEndpointDestinationConfiguration": "HTTP endpoint",
    "SnowflakeDestinationConfiguration": "Snowflake",
    "IcebergDestinationConfiguration": "Apache Iceberg Tables",
}
#: Starts a flush due once the caller's transaction committed.
AfterCommit = Callable[[], None]


def not_found(name: str, account: str) -> AwsError:
    # The text AWS answers (moto's too).
    return AwsError(
        "ResourceNotFoundException", f"Firehose {name} under account {account} not found."
    )


def stream_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:firehose:{region}:{account}:deliverystream/{name}"


def _bucket(destination: dict[str, Any]) -> str:
    return str(destination["BucketARN"]).split(":::", 1)[-1]


def _s3_destination(given: dict[str, Any], extended: bool) -> dict[str, Any]:
    """The destination as described, AWS's defaults filled, after headwater's refusals."""
    if not given.get("BucketARN") or not given.get("RoleARN"):
        raise invalid_argument("RoleARN and BucketARN are required.")  # botocore checks first
    bucket_arn = Arn.try_parse(str(given["BucketARN"]))
    if bucket_arn is None or bucket_arn.service != "s3" or not bucket_arn.resource:
        raise invalid_argument(f"BucketARN {given['BucketARN']} is not a valid S3 bucket ARN.")
    hints = given.get("BufferingHints") or {}
    for member, low, high in (("SizeInMBs", 1, 128), ("IntervalInSeconds", 0, 900)):
        value = hints.get(member)
        if isinstance(value, int) and not low <= value <= high:
            bound = (
                f"less than or equal to {high}"
                if value > high
                else f"greater than or equal to {low}"
            )
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{value}' at 'bufferingHints."
                f"{member[0].lower() + member[1:]}' failed to satisfy constraint: Member must "
                f"have value {bound}",
            )
    compression = given.get("CompressionFormat") or "UNCOMPRESSED"
    if compression not in ("UNCOMPRESSED", "GZIP"):
        raise invalid_argument(
            f"headwater does not support CompressionFormat {compression}; use GZIP or UNCOMPRESSED."
        )
    destination: dict[str, Any] = {
        "RoleARN": given["RoleARN"],
        "BucketARN": given["BucketARN"],
        "Prefix": given.get("Prefix") or "",
        "BufferingHints": {**DEFAULT_BUFFERING, **(given.get("BufferingHints") or {})},
        "CompressionFormat": compression,
        "EncryptionConfiguration": given.get("EncryptionConfiguration")
        or {"NoEncryptionConfig": "NoEncryption"},
        "CloudWatchLoggingOptions": given.get("CloudWatchLoggingOptions") or {"Enabled": False},
    }
    if given.get("ErrorOutputPrefix"):
        destination["ErrorOutputPrefix"] = given["ErrorOutputPrefix"]
    if extended:
        _check_extended(given)
        for member in ("ProcessingConfiguration", "FileExtension", "CustomTimeZone"):
            if given.get(member) is not None:
                destination[member] = given[member]
        destination["S3BackupMode"] = given.get("S3BackupMode") or "Disabled"
        if given.get("DynamicPartitioningConfiguration") is not None:
            destination["DynamicPartitioningConfiguration"] = given[
                "DynamicPartitioningConfiguration"
            ]
    check_prefixes(destination["Prefix"], destination.get("ErrorOutputPrefix"))
    return destination


def _check_extended(given: dict[str, Any]) -> None:
    if (given.get("DynamicPartitioningConfiguration") or {}).get("Enabled"):
        raise invalid_argument("headwater does not support dynamic partitioning.")
    if (given.get("DataFormatConversionConfiguration") or {}).get("Enabled", True) and given.get(
        "DataFormatConversionConfiguration"
    ):
        raise invalid_argument("headwater does not support record format conversion.")
    if given.get("S3BackupMode") == "Enabled":
        raise invalid_argument("headwater does not support S3 backup of source records.")
    if given.get("CustomTimeZone") not in (None, "", "UTC"):
        raise invalid_argument("headwater evaluates prefixes in UTC only (CustomTimeZone).")
    for processor in (given.get("ProcessingConfiguration") or {}).get("Processors") or []:
        if processor.get("Type") not in ("Lambda", "AppendDelimiterToRecord"):
            raise invalid_argument(
                f"headwater does not support {processor.get('Type')} processors; use Lambda."
            )


class FirehoseService(Service):
    service_name = "firehose"

    def __init__(self, env: ServiceEnvironment) -> None:
        super().__init__(env)
        self._store = FirehoseStore(env.database)
        self._flush_lock = threading.Lock()
        self._ticker = ClockTicker(
            env.clock, TICK_SECONDS, self.flush_due, name="firehose-flusher"
        ).start()

    def close(self) -> None:
        self._ticker.stop()
        super().close()

    # -- lookups -----------------------------------------------------------------------------

    def _stream(self, params: Params, ctx: RequestContext) -> DeliveryStream:
        name = params.get("DeliveryStreamName")
        stream = self._store.get(ctx.account, ctx.region, str(name)) if name else None
        if stream is None:
            raise not_found(str(name), ctx.account)
        return stream

    @contextmanager
    def _changing(self, params: Params, ctx: RequestContext) -> Iterator[DeliveryStream]:
        """The named stream, stored again once the caller changed it, in one transaction."""
        with self.env.database.transaction():
            stream = self._stream(params, ctx)
            yield stream
            self._store.put(ctx.account, ctx.region, stream)

    # -- buffering and flushing ----------------------------------------------------------------

    def accept_records(
        self, arn_or_name: str, records: list[bytes], ctx: RequestContext | None = None
    ) -> tuple[list[str], AfterCommit | None]:
        """Buffer ``records`` in the named stream inside the caller's transaction (Logs
        subscriptions and EventBridge targets call this); answers their record ids and what
        flushes the stream once the transaction committed, when its buffer is full."""
        ctx = ctx or self.env.default_context()
        name = arn_or_name
        if arn_or_name.startswith("arn:"):
            arn = Arn.parse(arn_or_name)
            ctx = RequestContext(region=arn.region, account=arn.account)
            name = arn.resource.split("/", 1)[-1]
        stream = self._store.get(ctx.account, ctx.region, name)
        if stream is None:
            raise not_found(name, ctx.account)
        if stream.kinesis_source is not None:
            # AWS's text.
            raise invalid_argument(
                "This operation is not permitted on KinesisStreamAsSource delivery stream type."
            )
        now = self.env.clock.now()
        ids = [uuid.uuid4().hex + uuid.uuid4().hex for _ in records]
        buffered = self._store.add_records(
            ctx.account, ctx.region, name, [(i, now, d) for i, d in zip(ids, records, strict=True)]
        )
        limit = int(stream.destination["BufferingHints"]["SizeInMBs"]) * MIB
        if buffered < limit:
            return ids, None
        account, region = ctx.account, ctx.region

        def flush_full() -> None:
            self.flush(account, region, name)

        return ids, flush_full

    def flush_due(self, now: float | None = None) -> int:
        """Flush every stream whose oldest buffered record waited its buffering interval;
        answers how many objects were written."""
        now = self.env.clock.now() if now is None else now
        written = 0
        for account, region, sourced in self._store.sourced():
            buffered = read_source(self.env, self._store, account, region, sourced)
            limit = int(sourced.destination["BufferingHints"]["SizeInMBs"]) * MIB
            if buffered >= limit:
                written += self.flush(account, region, sourced.name)
        for account, region, name, oldest in self._store.oldest_by_stream():
            stream = self._store.get(account, region, name)
            if stream is None:
                continue
            interval = float(stream.destination["BufferingHints"]["IntervalInSeconds"])
            if now - oldest >= interval:
                written += self.flush(account, region, name)
        return written

    def flush(self, account: str, region: str, name: str) -> int:
        """Deliver what the stream buffers: one object per ``SizeInMBs`` of records (and
        one error object for failed ones); answers how many objects were written."""
        with self._flush_lock:
            stream = self._store.get(account, region, name)
            records = self._store.buffered(account, region, name)
            if stream is None or not records:
                return 0
            limit = int(stream.destination["BufferingHints"]["SizeInMBs"]) * MIB
            written = 0
            batch: list[BufferedRecord] = []
            size = 0
            for record in records:
                if batch and size + len(record.data) > limit:
                    written += self._deliver(stream, batch, account, region)
                    batch, size = [], 0
                batch.append(record)
                size += len(record.data)
            if batch:
                written += self._deliver(stream, batch, account, region)
            return written

    def _deliver(
        self, stream: DeliveryStream, batch: list[BufferedRecord], account: str, region: str
    ) -> int:
        destination = stream.destination
        ctx = RequestContext(region=region, account=account)
        processor = lambda_processor(destination)
        failed: list[bytes] = []
        if processor is None:
            delivered = [r.data for r in batch]
        else:
            outcome = transform(self.env, stream.arn, processor, batch, ctx)
            delivered, failed = outcome.delivered, outcome.failed
        delimiter = record_delimiter(destination)
        if delimiter:
            delivered = [data + delimiter for data in delivered]
        oldest = batch[0].arrived
        written = 0
        try:
            if delivered:
                key = evaluate_prefix(str(destination.get("Prefix") or ""), oldest)
                self._write(stream, key, b"".join(delivered), oldest)
                written += 1
            if failed:
                error_prefix = destination.get("ErrorOutputPrefix")
                key = (
                    evaluate_prefix(str(error_prefix), oldest, PROCESSING_FAILED)
                    if error_prefix
                    else evaluate_prefix(
                        str(destination.get("Prefix") or ""), oldest, PROCESSING_FAILED
                    )
                )
                self._write(stream, key, b"".join(failed), oldest)
                written += 1
        except AwsError as error:
            # AWS retries an S3 destination it cannot write to for a day, then drops.
            if self.env.clock.now() - oldest < S3_RETRY_SECONDS:
                log.info(
                    "firehose %s: delivery to S3 failed, retried: %s", stream.name, error.message
                )
                return written
            log.warning(
                "firehose %s: records older than a day dropped: %s", stream.name, error.message
            )
        self._store.remove_records(account, region, stream.name, batch[-1].seq)
        return written

    def _write(self, stream: DeliveryStream, prefix: str, data: bytes, oldest: float) -> None:
        destination = stream.destination
        gzipped = destination.get("CompressionFormat") == "GZIP"
        extension = destination.get("FileExtension") or (".gz" if gzipped else "")
        key = prefix + object_name(stream.name, stream.version, oldest, str(extension))
        body = gzip.compress(data, mtime=0) if gzipped else data
        s3: Any = self.env.service("s3")
        s3.put_object_bytes(_bucket(destination), key, body)

    # -- streams -------------------------------------------------------------------------------

    @operation("CreateDeliveryStream")
    def create_delivery_stream(self, params: Params, ctx: RequestContext) -> Result:
        name = str(params.get("DeliveryStreamName") or "")
        stream_type = params.get("DeliveryStreamType") or "DirectPut"
        source = params.get("KinesisStreamSourceConfiguration")
        if stream_type not in ("DirectPut", "KinesisStreamAsSource"):
            raise invalid_argument(
                f"headwater does not support {stream_type} delivery streams; use DirectPut or "
                "KinesisStreamAsSource."
            )
        if (stream_type == "KinesisStreamAsSource") != (source is not None):
            # A guess at AWS's words.
            raise invalid_argument(
                "KinesisStreamSourceConfiguration is required for, and only for, "
                "KinesisStreamAsSource delivery streams."
            )
        if source is not None:
            check_source(self.env, source)
        for member, kind in REFUSED_DESTINATIONS.items():
            if params.get(member) is not None:
                raise invalid_argument(
                    f"headwater does not support {kind} destinations; use an ExtendedS3 "
                    "destination."
                )
        extended = params.get("ExtendedS3DestinationConfiguration")
        plain = params.get("S3DestinationConfiguration")
        if (extended is None) == (plain is None):
            # A guess at AWS's words.
            raise invalid_argument("Exactly one destination configuration must be specified.")
        destination = _s3_destination(dict(extended or plain or {}), extended is not None)
        tags = [{"Key": k, "Value": v} for k, v in tag_pairs(params.get("Tags"))]
        now = self.env.clock.now()
        encryption = None
        if params.get("DeliveryStreamEncryptionConfigurationInput"):
            encryption = self._encryption(params["DeliveryStreamEncryptionConfigurationInput"])
        stream = DeliveryStream(
            name=name,
            arn=stream_arn(ctx.region, ctx.account, name),
            stream_type=stream_type,
            created=now,
            updated=now,
            destination=destination,
            tags=tags,
            encryption=encryption,
            kinesis_source=dict(source) if source is not None else None,
        )
        with self.env.database.transaction():
            if self._store.get(ctx.account, ctx.region, name) is not None:
                raise AwsError(
                    "ResourceInUseException",
                    f"Firehose {name} under accountId {ctx.account} already exists",
                )
            self._store.put(ctx.account, ctx.region, stream)
        return {"DeliveryStreamARN": stream.arn}

    @operation("DescribeDeliveryStream")
    def describe_delivery_stream(self, params: Params, ctx: RequestContext) -> Result:
        stream = self._stream(params, ctx)
        plain = {
            k: v
            for k, v in stream.destination.items()
            if k
            in (
                "RoleARN",
                "BucketARN",
                "Prefix",
                "ErrorOutputPrefix",
                "BufferingHints",
                "CompressionFormat",
                "EncryptionConfiguration",
                "CloudWatchLoggingOptions",
            )
        }
        description: Result = {
            "DeliveryStreamName": stream.name,
            "DeliveryStreamARN": stream.arn,
            # Created at once: CREATING is never seen here.
            "DeliveryStreamStatus": "ACTIVE",
            "DeliveryStreamEncryptionConfiguration": stream.encryption or {"Status": "DISABLED"},
            "DeliveryStreamType": stream.stream_type,
            "VersionId": str(stream.version),
            "CreateTimestamp": as_datetime(stream.created),
            "Source": self._source(stream),
            "Destinations": [
                {
                    "DestinationId": DESTINATION_ID,
                    "S3DestinationDescription": plain,
                    "ExtendedS3DestinationDescription": dict(stream.destination),
                }
            ],
            "HasMoreDestinations": False,
        }
        if stream.version > 1:
            description["LastUpdateTimestamp"] = as_datetime(stream.updated)
        return {"DeliveryStreamDescription": description}

    @staticmethod
    def _source(stream: DeliveryStream) -> Result:
        if stream.kinesis_source is None:
            return {"DirectPutSourceDescription": {"ThroughputHintInMBs": 5}}
        return {
            "KinesisStreamSourceDescription": {
                **stream.kinesis_source,
                "DeliveryStartTimestamp": as_datetime(stream.created),
            }
        }

    @operation("ListDeliveryStreams")
    def list_delivery_streams(self, params: Params, ctx: RequestContext) -> Result:
        limit = params.get("Limit") or 10
        if not isinstance(limit, int) or not 1 <= limit <= 10000:
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
                "constraint: Member must have value less than or equal to 10000",
            )
        wanted = params.get("DeliveryStreamType")
        start = params.get("ExclusiveStartDeliveryStreamName") or ""
        names = [
            s.name
            for s in self._store.all(ctx.account, ctx.region)
            if s.name > start and (wanted is None or s.stream_type == wanted)
        ]
        return {"DeliveryStreamNames": names[:limit], "HasMoreDeliveryStreams": len(names) > limit}

    @operation("DeleteDeliveryStream")
    def delete_delivery_stream(self, params: Params, ctx: RequestContext) -> Result:
        stream = self._stream(params, ctx)
        # What the stream still buffers goes with it (AWS makes no promise to deliver it).
        self._store.delete(ctx.account, ctx.region, stream.name)
        return {}

    @operation("UpdateDestination")
    def update_destination(self, params: Params, ctx: RequestContext) -> Result:
        with self._changing(params, ctx) as stream:
            given = str(params.get("CurrentDeliveryStreamVersionId") or "")
            if given != str(stream.version):
                raise AwsError(
                    "ConcurrentModificationException",
                    f"Cannot update firehose: {stream.name} since the current version id: "
                    f"{stream.version} and specified version id: {given} do not match",
                )
            if params.get("DestinationId") != DESTINATION_ID:
                raise invalid_argument(
                    f"Destination Id {params.get('DestinationId')} not found."
                )  # guessed text
            update = params.get("ExtendedS3DestinationUpdate") or params.get("S3DestinationUpdate")
            if update is None:
                raise invalid_argument(
                    "headwater's delivery streams deliver to S3 only: give an "
                    "ExtendedS3DestinationUpdate or S3DestinationUpdate."
                )
            merged = dict(stream.destination)
            for key, value in update.items():
                if key == "BufferingHints":
                    merged[key] = {**merged["BufferingHints"], **value}
                else:
                    merged[key] = value
            merged.pop("S3BackupUpdate", None)
            stream.destination = _s3_destination(merged, True)
            stream.version += 1
            stream.updated = self.env.clock.now()
        return {}

    # -- records -------------------------------------------------------------------------------

    @operation("PutRecord")
    def put_record(self, params: Params, ctx: RequestContext) -> Result:
        record = params.get("Record")
        if not isinstance(record, dict):
            raise _validation("record", "Member must not be null")
        data = as_bytes(record.get("Data") or b"")
        _check_record(data, "record.data")
        with self.env.database.transaction():
            self._stream(params, ctx)
            ids, flush = self.accept_records(str(params["DeliveryStreamName"]), [data], ctx)
        if flush is not None:
            flush()
        return {"RecordId": ids[0], "Encrypted": False}

    @operation("PutRecordBatch")
    def put_record_batch(self, params: Params, ctx: RequestContext) -> Result:
        entries = params.get("Records") or []
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise _validation("records", "Member must not be null")
        if not 1 <= len(entries) <= MAX_BATCH_RECORDS:
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{entries}' at 'records' failed to satisfy "
                "constraint: Member must have length "
                + ("less than or equal to 500" if entries else "greater than or equal to 1"),
            )
        records = [as_bytes(entry.get("Data") or b"") for entry in entries]
        for number, data in enumerate(records, start=1):
            _check_record(data, f"records.{number}.member.data")
        if sum(map(len, records)) > MAX_BATCH_BYTES:
            # A guess at AWS's words: its API reference sets the 4 MiB request limit.
            raise invalid_argument("Records size exceeds 4 MB limit")
        with self.env.database.transaction():
            self._stream(params, ctx)
            ids, flush = self.accept_records(str(params["DeliveryStreamName"]), records, ctx)
        if flush is not None:
            flush()
        return {
            "FailedPutCount": 0,
            "Encrypted": False,
            "RequestResponses": [{"RecordId": i} for i in ids],
        }

    # -- encryption and tags ---------------------------------------------------------------------

    @staticmethod
    def _encryption(given: dict[str, Any]) -> dict[str, Any]:
        key_type = given.get("KeyType") or "AWS_OWNED_CMK"
        if key_type == "CUSTOMER_MANAGED_CMK" and not given.get("KeyARN"):
            raise invalid_argument("KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK.")
        encryption: dict[str, Any] = {"KeyType": key_type, "Status": "ENABLED"}
        if given.get("KeyARN"):
            encryption["KeyARN"] = given["KeyARN"]
        return encryption

    @operation("StartDeliveryStreamEncryption")
    def start_delivery_stream_encryption(self, params: Params, ctx: RequestContext) -> Result:
        with self._changing(params, ctx) as stream:
            given = params.get("DeliveryStreamEncryptionConfigurationInput") or {}
            stream.encryption = self._encryption(given)
        return {}

    @operation("StopDeliveryStreamEncryption")
    def stop_delivery_stream_encryption(self, params: Params, ctx: RequestContext) -> Result:
        with self._changing(params, ctx) as stream:
            stream.encryption = {**(stream.encryption or {}), "Status": "DISABLED"}
        return {}

    @operation("TagDeliveryStream")
    def tag_delivery_stream(self, params: Params, ctx: RequestContext) -> Result:
        with self._changing(params, ctx) as stream:
            merged = {t["Key"]: t["Value"] for t in stream.tags}
            merged.update(dict(tag_pairs(params.get("Tags"))))
            if len(merged) > 50:
                raise AwsError(
                    "LimitExceededException",
                    "The number of tags on the delivery stream exceeds the limit of 50.",
                )  # guessed text
            stream.tags = tag_list(merged)
        return {}

    @operation("UntagDeliveryStream")
    def untag_delivery_stream(self, params: Params, ctx: RequestContext) -> Result:
        with self._changing(params, ctx) as stream:
            removed = set(params.get("TagKeys") or [])
            stream.tags = [t for t in stream.tags if t["Key"] not in removed]
        return {}

    @operation("ListTagsForDeliveryStream")
    def list_tags_for_delivery_stream(self, params: Params, ctx: RequestContext) -> Result:
        stream = self._stream(params, ctx)
        limit = params.get("Limit") or 50
        start = params.get("ExclusiveStartTagKey")
        tags = sorted(stream.tags, key=lambda t: t["Key"])
        if start is not None:
            tags = [t for t in tags if t["Key"] > start]
        return {"Tags": tags[:limit], "HasMoreTags": len(tags) > limit}


def _validation(member: str, constraint: str) -> AwsError:
    """AWS's validation error for a malformed member (botocore refuses these before sending;
    a raw request may not)."""
    return AwsError(
        "ValidationException",
        f"1 validation error detected: Value at '{member}' failed to satisfy constraint: "
        f"{constraint}",
    )


def _check_record(data: bytes, member: str) -> None:
    if len(data) > MAX_RECORD_BYTES:
        raise _validation(member, "Member must have length less than or equal to 1024000")
