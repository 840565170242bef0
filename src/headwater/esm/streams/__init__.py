"""Stream event source mappings (Kinesis now, DynamoDB Streams next).

``StreamPoller`` (one per mapping) discovers shards and runs a ``ShardPoller`` per shard;
a shard poller reads, filters, spreads records over ParallelizationFactor lanes, batches,
invokes and settles (``stream_settle``), then checkpoints. Everything source-specific
(record shape, failure-record batch info, poll cadence, reads) sits behind ``StreamSource``.
"""
