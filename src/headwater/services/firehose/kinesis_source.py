"""KinesisStreamAsSource: a delivery stream reading its Kinesis data stream.

At each tick of the Firehose ticker, every shard of the source stream is read from where the
delivery stream left it (a checkpoint per shard in the database, stored in the transaction
that buffers the records read, so a restart neither loses nor repeats them), or, the first
time, from the delivery stream's creation (AWS's ``DeliveryStartTimestamp``: records put
before it are not delivered). The records keep their Kinesis arrival time. Parent and child
shards of a reshard are read side by side, not parent first.
"""

from __future__ import annotations

import logging
from typing import Any

from headwater.core.arn import Arn
from headwater.core.errors import AwsError
from headwater.services.base import RequestContext, ServiceEnvironment
from headwater.services.firehose.store import DeliveryStream, FirehoseStore

log = logging.getLogger(__name__)

#: GetRecords calls per shard and tick at most (10,000 records each).
MAX_READS_PER_TICK = 5


def _context(arn: str) -> RequestContext:
    parsed = Arn.parse(arn)
    return RequestContext(region=parsed.region, account=parsed.account)


def check_source(env: ServiceEnvironment, source: dict[str, Any]) -> None:
    """Refuse, at create, a source stream that does not exist (a guessed text)."""
    arn = str(source.get("KinesisStreamARN") or "")
    kinesis: Any = env.service("kinesis")
    try:
        kinesis.call("DescribeStreamSummary", {"StreamARN": arn}, _context(arn))
    except (AwsError, ValueError):
        raise AwsError(
            "InvalidArgumentException", f"Kinesis stream {arn} does not exist or is not active."
        ) from None


def read_source(
    env: ServiceEnvironment, store: FirehoseStore, account: str, region: str, stream: DeliveryStream
) -> int:
    """Buffer what the source stream's shards hold past the checkpoints; answers how many
    bytes the delivery stream buffers now (0 when nothing was read)."""
    arn = str((stream.kinesis_source or {})["KinesisStreamARN"])
    kinesis: Any = env.service("kinesis")
    ctx = _context(arn)
    try:
        shards = kinesis.call("ListShards", {"StreamARN": arn}, ctx)["Shards"]
    except AwsError as error:
        log.info("firehose %s: source %s not read: %s", stream.name, arn, error.message)
        return 0
    checkpoints = store.checkpoints(account, region, stream.name)
    buffered = 0
    for shard in shards:
        shard_id = str(shard["ShardId"])
        start: dict[str, Any] = {"ShardIteratorType": "AT_TIMESTAMP", "Timestamp": stream.created}
        if shard_id in checkpoints:
            start = {
                "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                "StartingSequenceNumber": checkpoints[shard_id],
            }
        try:
            iterator = kinesis.call(
                "GetShardIterator", {"StreamARN": arn, "ShardId": shard_id, **start}, ctx
            )["ShardIterator"]
            for _ in range(MAX_READS_PER_TICK):
                answer = kinesis.call("GetRecords", {"ShardIterator": iterator}, ctx)
                records = answer["Records"]
                if records:
                    with env.database.transaction():
                        buffered = store.add_records(
                            account,
                            region,
                            stream.name,
                            [
                                (
                                    f"{shard_id}:{r['SequenceNumber']}",
                                    r["ApproximateArrivalTimestamp"].timestamp(),
                                    bytes(r["Data"]),
                                )
                                for r in records
                            ],
                        )
                        store.set_checkpoint(
                            account, region, stream.name, shard_id, records[-1]["SequenceNumber"]
                        )
                iterator = answer.get("NextShardIterator")
                if not records or not iterator:
                    break
        except AwsError as error:
            log.info("firehose %s: shard %s not read: %s", stream.name, shard_id, error.message)
    return buffered
