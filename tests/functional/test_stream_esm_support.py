"""Harness for stream-mapping tests (no tests here): one ``StreamPoller`` over a real
headwater Kinesis stream, a fake function (``esm_fakes.FakeInvoker``) and a ManualClock.

``drain()`` plays retries out: whenever the poller sleeps with a clock deadline (backoff,
window, poll cadence) the clock jumps to it, until nothing is left to do.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from typing import Any

import orjson

from headwater import Headwater, ManualClock
from headwater.core.mapping_config import MappingConfig
from headwater.esm.streams.stream_poller import StreamMappingHost, StreamPoller
from headwater.store.checkpoints import open_checkpoint_store
from headwater.store.mappings import MappingRecord
from headwater.wiring.adapters import LocalDestinations, LocalKinesisSource
from tests.functional.esm_fakes import FUNCTION_ARN, FakeInvoker, PollerRun

STREAM_ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/"
ROLE_ARN = "arn:aws:iam::000000000000:role/worker-role"
UUID = "00000000-0000-4000-8000-00000000000a"


def stream_mapping(stream: str = "s", uuid: str = UUID, **params: Any) -> MappingRecord:
    params.setdefault("StartingPosition", "TRIM_HORIZON")
    return MappingRecord(
        uuid=uuid,
        source_arn=STREAM_ARN + stream,
        function_arn=FUNCTION_ARN,
        function_name="fake",
        state="Enabled",
        state_reason="User action",
        last_modified=0.0,
        config=MappingConfig.create("kinesis", params),
    )


def make_stream(hw: Headwater, name: str = "s", shards: int = 1) -> str:
    hw.client("kinesis").create_stream(StreamName=name, ShardCount=shards)
    return STREAM_ARN + name


def put(hw: Headwater, *datas: bytes | str, key: str = "p", stream: str = "s") -> list[str]:
    entries = [{"Data": d, "PartitionKey": key} for d in datas]
    out = hw.client("kinesis").put_records(StreamName=stream, Records=entries)
    return [r["SequenceNumber"] for r in out["Records"]]


def make_queue(hw: Headwater, name: str = "failures") -> tuple[str, str]:
    url: str = hw.client("sqs").create_queue(QueueName=name)["QueueUrl"]
    return url, f"arn:aws:sqs:us-east-1:000000000000:{name}"


def queue_bodies(hw: Headwater, url: str) -> list[dict[str, Any]]:
    sqs = hw.client("sqs")
    bodies: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return bodies
        bodies.extend(orjson.loads(m["Body"]) for m in got)


def datas(event: dict[str, Any]) -> list[str]:
    """Decoded ``data`` of each record of an event."""
    return [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]


class StreamHarness(PollerRun):
    """Runs one stream poller inside the test's ``asyncio.run``."""

    until_timeout = 10.0
    start_pause = 0.005

    def __init__(
        self,
        hw: Headwater,
        clock: ManualClock,
        record: MappingRecord,
        invoker: FakeInvoker,
        *,
        poll_interval: float | None = None,
        backoff_seconds: float = 1.0,
        mapping_exists: Callable[[str], bool] | None = None,
    ) -> None:
        super().__init__(hw, clock, record, invoker)
        self.results: list[str] = []
        self.host = StreamMappingHost(
            checkpoints=open_checkpoint_store(hw.database),
            destinations=LocalDestinations(hw.service),
            function_role=lambda arn: ROLE_ARN,
            processing_result=lambda uuid, result: self.results.append(result),
            mapping_exists=mapping_exists or (lambda uuid: True),
            poll_interval=poll_interval,
            backoff_seconds=backoff_seconds,
        )
        self.poller: StreamPoller | None = None

    def start_poller(self, loop: asyncio.AbstractEventLoop) -> StreamPoller:
        source = LocalKinesisSource(self.hw.service("kinesis"), self.record.source_arn)
        self.poller = StreamPoller(
            self.record, source, self.invoker, self.clock, loop, host=self.host
        )
        return self.poller

    async def settled(self) -> None:
        """Wait until the poller sleeps with no invoke running."""
        poller = self.running()
        await asyncio.sleep(0.002)
        await self.until(lambda: poller.asleep)
        await asyncio.sleep(0.002)
        await self.until(lambda: poller.asleep)

    async def drain(self, max_steps: int = 10_000) -> None:
        """Settle, jumping the clock to each deadline, until the poller is idle."""
        poller = self.poller
        assert poller is not None
        for _ in range(max_steps):
            await self.settled()
            if poller.idle:
                return
            wake = poller.wake_at()
            if wake is None:
                return
            self.clock.set(max(wake, self.clock.now()))
        raise AssertionError("poller never went idle")

    def checkpoint(self, shard_id: str = "shardId-000000000000") -> str | None:
        found = self.host.checkpoints.get(self.record.uuid, shard_id)
        return None if found is None else found.sequence_number


def drain_mapping(
    hw: Headwater, clock: ManualClock, record: MappingRecord, invoker: FakeInvoker, **options: Any
) -> None:
    """Run ``record``'s stream poller until it is idle (retries and backoffs played out)."""

    async def scenario() -> None:
        async with StreamHarness(hw, clock, record, invoker, **options) as h:
            await h.drain()

    asyncio.run(scenario())
