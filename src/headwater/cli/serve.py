"""``headwater serve``: the AWS-compatible endpoint (SQS, Lambda, Kinesis) on one port."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=4599, show_default=True, type=int, help="TCP port.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where queues, streams and functions are stored [default: ~/.headwater].",
)
@click.option(
    "--database",
    "database_url",
    metavar="URL",
    default=None,
    help="Share state with other headwater nodes in PostgreSQL (postgresql://user@host/db) "
    "instead of SQLite; --data-dir then only holds this node's unpacked function code.",
)
@click.option(
    "--time-scale",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Run queue and stream timers (visibility timeouts, delays, batching windows, "
    "retention) N times faster; function timeouts stay in real time.",
)
@click.option(
    "--durability",
    type=click.Choice(["normal", "full"]),
    default="normal",
    show_default=True,
    help="SQLite sync mode: 'full' survives power loss, 'normal' only process crashes.",
)
@click.option(
    "--example",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Deploy an example app (a directory with app.py defining deploy(hw)) at startup, "
    "e.g. examples/orders.",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="warning",
    show_default=True,
)
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    metavar="ORIGIN",
    help="Let web pages from ORIGIN (http://localhost:3000; '*': any) call the AWS APIs "
    "from a browser (repeatable). Other pages are refused: docs/security.md.",
)
@click.option(
    "--allow-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="Answer requests addressed to host NAME besides loopback names and addresses "
    "(repeatable; '*': any). Others are refused (DNS rebinding).",
)
@click.option(
    "--verify-signatures",
    is_flag=True,
    default=False,
    help="Verify SigV4 signatures (payload hash, 15-minute clock skew) against the keys "
    "given with --access-key, or else the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY "
    "of this shell.",
)
@click.option(
    "--access-key",
    "access_keys",
    multiple=True,
    metavar="ID:SECRET",
    help="An access key accepted by --verify-signatures (repeatable).",
)
@click.option(
    "--allow-other-users",
    is_flag=True,
    default=False,
    help="Answer processes of other users of this machine connecting over loopback "
    "(refused by default on Linux unless --verify-signatures: they could run code as you).",
)
def serve(
    *,
    host: str,
    port: int,
    data_dir: Path | None,
    database_url: str | None,
    time_scale: float,
    durability: str,
    log_level: str,
    example: Path | None,
    cors_origins: tuple[str, ...],
    allowed_hosts: tuple[str, ...],
    verify_signatures: bool,
    access_keys: tuple[str, ...],
    allow_other_users: bool,
) -> None:
    """Serve the AWS APIs so boto3 and the AWS CLI work with only --endpoint-url changed.

    \b
      headwater serve --port 4599
      aws --endpoint-url http://127.0.0.1:4599 sqs create-queue --queue-name orders

    Any credentials are accepted (signatures are not verified unless --verify-signatures);
    the region is taken from the request's signature and the account is 000000000000.
    Requests must be SigV4-signed, and web pages may not call it (docs/security.md).
    """
    from headwater.options import HeadwaterOptions
    from headwater.server.serve import serve as run

    if log_level not in ("error", "critical"):
        _print_server_logs()
    keys = _access_keys(access_keys, verify_signatures)
    options = HeadwaterOptions(
        cors_origins=cors_origins,
        allowed_hosts=allowed_hosts,
        verify_signatures=verify_signatures,
        access_keys=keys,
        allow_other_users=allow_other_users,
    )

    run(
        host=host,
        port=port,
        data_dir=data_dir,
        time_scale=time_scale,
        durability="full" if durability == "full" else "normal",
        log_level=log_level,
        example=example,
        database_url=database_url,
        options=options,
    )


def _print_server_logs() -> None:
    """headwater's mapping log (which messages a batch left to be retried, a visibility
    timeout shorter than an invocation) and the messages it would have sent (Cognito's
    confirmation codes: ``headwater.messages``) go to the server's output, line by line."""
    import logging
    import sys

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in ("headwater.mappings", "headwater.messages"):
        shown = logging.getLogger(name)
        shown.addHandler(handler)
        shown.setLevel(logging.INFO)
        shown.propagate = False


def _access_keys(given: tuple[str, ...], verify: bool) -> dict[str, str]:
    """``ID:SECRET`` pairs; with none given, this shell's AWS credentials. A verifying
    server also makes a key for its functions' own AWS calls (handlers sign with it)."""
    import os
    import secrets

    from headwater.runtime.environment import FUNCTION_KEY_ID_VARIABLE, FUNCTION_SECRET_VARIABLE

    keys: dict[str, str] = {}
    for pair in given:
        key_id, colon, secret = pair.partition(":")
        if not colon or not key_id or not secret:
            raise click.BadParameter(f"{pair!r} is not ID:SECRET", param_hint="--access-key")
        keys[key_id] = secret
    if verify and not keys:
        env_id = os.environ.get("AWS_ACCESS_KEY_ID")
        env_secret = os.environ.get("AWS_SECRET_ACCESS_KEY")
        if not env_id or not env_secret:
            raise click.UsageError(
                "--verify-signatures needs access keys: --access-key ID:SECRET, or "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment"
            )
        keys[env_id] = env_secret
    if verify:
        function_key = "AKIAHEADWATERFN" + secrets.token_hex(3).upper()
        function_secret = secrets.token_urlsafe(30)
        os.environ[FUNCTION_KEY_ID_VARIABLE] = function_key
        os.environ[FUNCTION_SECRET_VARIABLE] = function_secret
        keys[function_key] = function_secret
    return keys
