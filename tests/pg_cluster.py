"""A throwaway PostgreSQL cluster on a free port, for the tests and benchmarks that need one.

``python -m tests.pg_cluster start DIR`` prints the URL of a new cluster in ``DIR`` (which it
creates), ``python -m tests.pg_cluster stop DIR`` stops it. ``.ci/run`` starts one and exports
``HEADWATER_TEST_POSTGRESQL``; without it, the ``pg_url`` fixture starts its own when the
binaries are installed (Debian's ``postgresql`` package).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

BIN_DIRS = [Path("/usr/lib/postgresql/15/bin"), *sorted(Path("/usr/lib/postgresql").glob("*/bin"))]


def binary(name: str) -> str | None:
    """The path of a PostgreSQL server program, or ``None`` when none is installed."""
    for directory in BIN_DIRS:
        candidate = directory / name
        if candidate.exists():
            return str(candidate)
    return shutil.which(name)


def available() -> bool:
    return binary("initdb") is not None and binary("pg_ctl") is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_owner(command: list[str], owner: str | None) -> list[str]:
    # initdb and postgres refuse to run as root: run them as the cluster's owner.
    return ["runuser", "-u", owner, "--", *command] if owner else command


def _owner() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError("running as root needs a 'postgres' user to own the cluster") from None
    return "postgres"


def start(directory: Path) -> str:
    """Create and start a cluster in ``directory``; returns its connection URL."""
    initdb, pg_ctl = binary("initdb"), binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    owner = _owner()
    directory.mkdir(parents=True, exist_ok=True)
    if owner is not None:
        shutil.chown(directory, owner)
    data = directory / "data"
    subprocess.run(
        _as_owner(
            [initdb, "-D", str(data), "-A", "trust", "-U", "headwater", "-E", "UTF8", "--no-sync"],
            owner,
        ),
        check=True,
        capture_output=True,
    )
    port = _free_port()
    options = (
        f"-p {port} -c listen_addresses=127.0.0.1 -k {directory} -c fsync=off"
        " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    subprocess.run(
        _as_owner(
            [pg_ctl, "-D", str(data), "-o", options, "-l", str(directory / "log"), "-w", "start"],
            owner,
        ),
        check=True,
        capture_output=True,
    )
    (directory / "port").write_text(str(port))
    url = f"postgresql://headwater@127.0.0.1:{port}/postgres"
    _wait_ready(url)
    return url


def _wait_ready(url: str, timeout: float = 30.0) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def stop(directory: Path) -> None:
    """Stop the cluster in ``directory`` (if it runs) and delete its files."""
    pg_ctl = binary("pg_ctl")
    data = directory / "data"
    if pg_ctl is not None and (data / "postmaster.pid").exists():
        subprocess.run(
            _as_owner([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], _owner()),
            check=False,
            capture_output=True,
        )
    shutil.rmtree(directory, ignore_errors=True)


def create_database(url: str, name: str) -> str:
    """A new empty database on ``url``'s server; returns its URL."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name


if __name__ == "__main__":
    action, where = sys.argv[1], Path(sys.argv[2])
    if action == "start":
        print(start(where))
    elif action == "stop":
        stop(where)
    else:
        raise SystemExit(f"usage: {sys.argv[0]} start|stop DIR")
