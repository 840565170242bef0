"""``HeadwaterOptions``: every tunable of a headwater, typed, with its default in one place.

``Headwater(data_dir, function_workers=8)`` and ``HeadwaterOptions(function_workers=8)`` take
the same names; a name that is not a field is an error (with a suggestion), so a misspelt
option never silently falls back to its default.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

from headwater.esm.leases import DEFAULT_LEASE_TTL_SECONDS
from headwater.esm.scaling import INITIAL_CONCURRENCY, MAX_CONCURRENCY, SCALE_UP_PER_MINUTE
from headwater.esm.streams.stream_settle import RETRY_BACKOFF_MAX_SECONDS, RETRY_BACKOFF_SECONDS
from headwater.runtime.logs import DEFAULT_RETENTION_BYTES
from headwater.runtime.pool import DEFAULT_IDLE_TIMEOUT
from headwater.store.database import DEFAULT_POLL_FALLBACK_SECONDS

FunctionMode = Literal["process", "inline"]
PythonClient = Literal["worker", "awslambdaric"]


@dataclass(frozen=True, slots=True, kw_only=True)
class HeadwaterOptions:
    """Settings of one headwater (embedded or served). All have AWS-like defaults."""

    # ---- storage ----
    #: Real seconds between checks for writes by other processes or nodes sharing the
    #: database: the longest a poller or a long poll takes to see them (local writes wake
    #: them at once).
    poll_fallback_seconds: float = DEFAULT_POLL_FALLBACK_SECONDS

    # ---- functions (runtime) ----
    #: "process": warm worker processes (default); "inline": handlers run in this process.
    functions: FunctionMode = "process"
    #: Cap on worker processes over all functions (the local "account" concurrency);
    #: ``None``: 4 per CPU.
    function_workers: int | None = None
    #: Real seconds an idle execution environment is kept warm.
    function_idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    #: Bytes of log lines kept per function (``headwater logs``).
    function_log_retention_bytes: int = DEFAULT_RETENTION_BYTES
    #: Keep function logs (CloudWatch Logs groups ``/aws/lambda/<name>``).
    function_logs: bool = True
    #: Interpreter per runtime (``{"python3.12": "/usr/bin/python3.12"}``); by default a
    #: matching ``pythonX.Y`` found on PATH, pyenv or uv, else headwater's own.
    function_interpreters: dict[str, str] = field(default_factory=dict)
    #: How Python functions run: "worker" (headwater's fast worker) or "awslambdaric"
    #: (AWS's runtime interface client through the Runtime API: exact AWS behaviour).
    function_python_runtime_client: PythonClient = "worker"
    #: The node executable for nodejs functions (``None``: ``node`` on PATH).
    function_node: str | None = None
    #: An installed aws-lambda-ric package directory to run nodejs functions with
    #: (``None``: headwater's own bootstrap, which behaves the same and needs no build).
    function_node_runtime_client: str | None = None
    #: The esbuild executable for TypeScript code directories (``None``: searched).
    function_esbuild: str | None = None

    # ---- Kinesis ----
    #: Open shards per account and region (AWS's default quota is far lower; a local
    #: machine is not the limit people test).
    kinesis_shard_limit: int = 10_000
    #: Enforce AWS's per-shard write limits (1,000 records/s, 1 MiB/s) as partial failures.
    kinesis_enforce_throughput: bool = False

    # ---- DynamoDB ----
    #: Clock seconds between TTL sweeps (AWS deletes expired items within days; a
    #: ManualClock sweeps whenever it is advanced).
    dynamodb_ttl_sweep_interval: float = 1.0
    #: Clock seconds a DynamoDB Streams shard stays open before it closes and a child
    #: shard takes over (AWS: about 4 hours), so readers meet parent/child lineage.
    dynamodb_stream_shard_seconds: float = 4 * 3600.0

    # ---- event source mapping engine ----
    #: Concurrent batches an SQS mapping starts with (AWS: 5).
    esm_initial_concurrency: int = INITIAL_CONCURRENCY
    #: Growth of an SQS mapping's concurrency per minute of backlog (AWS: 300).
    esm_scale_up_per_minute: float = SCALE_UP_PER_MINUTE
    #: Ceiling of an SQS mapping's concurrency (AWS: 1,250).
    esm_max_concurrency: int = MAX_CONCURRENCY
    #: Wall-clock seconds a stream shard's lease lasts without renewal: when an engine node
    #: dies, another takes its shards over within this (plus one heartbeat, <= 0.5 s).
    esm_lease_ttl_seconds: float = DEFAULT_LEASE_TTL_SECONDS
    #: Real seconds ``stop()`` lets in-flight batches finish before returning messages.
    esm_stop_grace_seconds: float = 10.0
    #: Freeze the startup heap out of the garbage collector's reach when the engine starts
    #: (a third of the engine's CPU at high rates); only servers should do it.
    esm_gc_freeze: bool = False
    #: Clock seconds between reads of an idle shard; ``None``: woken by writes, like SQS.
    #: AWS polls a Kinesis shard once a second (``1.0`` for fidelity tests).
    esm_stream_poll_interval: float | None = None
    #: First retry delay of a failed stream batch (doubled up to the maximum).
    esm_stream_retry_backoff: float = RETRY_BACKOFF_SECONDS
    esm_stream_retry_backoff_max: float = RETRY_BACKOFF_MAX_SECONDS

    # ---- CloudFormation ----
    #: Real seconds a call that starts a stack operation (CreateStack, ExecuteChangeSet, ...)
    #: waits for it to finish before answering, so pollers see the result on their first
    #: poll; the operation goes on in the background after that.
    cloudformation_wait_seconds: float = 10.0

    # ---- observability ----
    #: Publish the built-in CloudWatch metrics (AWS/SQS, AWS/Lambda, AWS/Kinesis).
    metrics: bool = True
    #: Record what happens to each message and stream record (``headwater trace``).
    journeys: bool = True
    #: Clock seconds a record's journey is kept.
    journey_retention_seconds: float = 3600.0

    # ---- who may call the server (docs/security.md) ----
    #: Browser origins (``"http://localhost:3000"``; ``"*"``: any) whose web pages may call
    #: the AWS API of ``headwater serve``; requests from other pages are refused.
    cors_origins: tuple[str, ...] = ()
    #: Host names besides loopback ones that requests may be addressed to (``"*"``: any);
    #: others are refused, as DNS rebinding attacks send them.
    allowed_hosts: tuple[str, ...] = ()
    #: Verify SigV4 signatures (payload hash, 15-minute clock skew, presigned expiry)
    #: against ``access_keys``; off by default, like AWS emulators: any key signs.
    verify_signatures: bool = False
    #: Access key id -> secret access key, for ``verify_signatures``.
    access_keys: dict[str, str] = field(default_factory=dict)
    #: Answer processes of other users of this machine connecting over loopback (Linux
    #: knows each socket's owner); refused by default, unless ``verify_signatures``.
    allow_other_users: bool = False

    @classmethod
    def from_kwargs(cls, base: HeadwaterOptions | None = None, **kwargs: Any) -> HeadwaterOptions:
        """``base`` (or the defaults) with ``kwargs`` changed; unknown names are a TypeError."""
        known = cls.field_names()
        for name in kwargs:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise TypeError(f"unknown headwater option {name!r}{hint}")
        return replace(base or cls(), **kwargs)

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]
