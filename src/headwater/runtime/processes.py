"""Execution environment processes: started so they die with headwater, reaped with their peak.

Every environment (a Python worker, a Node or ``provided`` bootstrap) is one process tree
started by ``start_process``:

- **Dies with headwater at once.** On Linux the child gets ``PR_SET_PDEATHSIG`` =
  ``SIGKILL`` before it execs, so a SIGKILL of the server kills its environments in the
  same instant, even one stuck in a long C call. The signal fires when the *thread* that
  forked the child ends, so every environment is forked by one long-lived launcher thread
  (not by whichever caller thread happened to need a worker). Elsewhere the environment
  polls its parent (the Python worker and headwater's Node bootstrap do; see
  ``WATCH_PARENT_VARIABLE``).
- **Its own session** (``setsid``): a Ctrl-C in the terminal does not hit handlers
  mid-invocation, and ``kill`` reaches the whole tree (the session's process group).
- **Memory bounded by the kernel**: ``RLIMIT_DATA`` (private writable memory) is set to
  the function's memory size plus ``limits.DATA_HEADROOM_MB``; see ``headwater.runtime.limits``.
- **Reaped** by its own pid only (``waitid``/``waitpid``), after a last kill of its process
  group while the leader is a zombie, so a bootstrap's children go with it. (``wait4``'s
  ``ru_maxrss`` is not used: it counts the forked copy of headwater before exec.)
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence

#: Set in an environment's variables when the platform has no parent-death signal: the
#: environment then polls its parent pid (the value) and exits when it changes.
WATCH_PARENT_VARIABLE = "_HEADWATER_WATCH_PARENT"

_PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[..., int] | None:
    if sys.platform != "linux":
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        prctl: Callable[..., int] = libc.prctl
    except (OSError, AttributeError):
        return None
    return prctl


_PRCTL = _load_prctl()

#: Whether environments get the kernel's parent-death signal (else they poll their parent).
HAS_PARENT_DEATH_SIGNAL = _PRCTL is not None


class _Launcher:
    """One long-lived daemon thread that forks every environment process.

    ``PR_SET_PDEATHSIG`` is tied to the forking thread: a worker forked by a short-lived
    caller thread would be killed when that thread ends.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[
            tuple[Callable[[], subprocess.Popen[bytes]], concurrent.futures.Future[object]]
        ] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def run(self, job: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="headwater-launcher", daemon=True
                )
                self._thread.start()
        future: concurrent.futures.Future[object] = concurrent.futures.Future()
        self._jobs.put((job, future))
        result = future.result()
        assert isinstance(result, subprocess.Popen)
        return result

    def _serve(self) -> None:
        while True:
            job, future = self._jobs.get()
            try:
                future.set_result(job())
            except BaseException as error:
                future.set_exception(error)


_LAUNCHER = _Launcher()


def _child_setup(parent: int, data_limit: int | None) -> Callable[[], None]:
    """The code run in the forked child before exec (async-signal-safe enough: no locks)."""
    prctl = _PRCTL

    def setup() -> None:
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:  # headwater died before the signal was armed
                os._exit(1)
        if data_limit is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_DATA, (data_limit, data_limit))

    return setup


class EnvironmentProcess:
    """A started environment process: poll, wait, kill its tree."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self._popen = popen
        self.pid = popen.pid
        self.returncode: int | None = None
        self._lock = threading.Lock()
        self._pidfd: int | None = None
        with contextlib.suppress(AttributeError, OSError):
            self._pidfd = os.pidfd_open(self.pid)

    def poll(self) -> int | None:
        """The exit code (negative: killed by that signal) or ``None`` while it runs."""
        with self._lock:
            if self.returncode is None:
                self._reap(os.WNOHANG)
            return self.returncode

    def wait(self, timeout: float) -> int | None:
        """Wait up to ``timeout`` seconds for the exit; its code, or ``None``."""
        deadline = time.monotonic() + timeout
        while True:
            code = self.poll()
            remaining = deadline - time.monotonic()
            if code is not None or remaining <= 0:
                return code
            if self._pidfd is not None:
                poller = select.poll()
                poller.register(self._pidfd, select.POLLIN)
                poller.poll(remaining * 1000.0)
            else:
                time.sleep(min(remaining, 0.005))

    def kill(self) -> None:
        """SIGKILL the environment's whole process group (no-op once reaped)."""
        with self._lock:
            if self.returncode is not None:
                return  # reaped: its pid may belong to someone else now
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except OSError:
                with contextlib.suppress(OSError):
                    os.kill(self.pid, signal.SIGKILL)

    def _reap(self, flags: int) -> None:
        # Called with the lock held. Peek first (WNOWAIT) so that the group can still be
        # killed by pgid while the leader is a zombie: a bootstrap's children go with it.
        try:
            exited = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOWAIT | flags)
        except ChildProcessError:
            exited = None
        if exited is None:
            return
        with contextlib.suppress(OSError):
            os.killpg(self.pid, signal.SIGKILL)
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            self.returncode = -signal.SIGKILL
            return
        self.returncode = os.waitstatus_to_exitcode(status)
        self._popen.returncode = self.returncode  # keeps Popen from warning at collection
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None


def start_process(
    args: Sequence[str],
    *,
    env: dict[str, str],
    cwd: str,
    output_fd: int,
    pass_fds: Sequence[int] = (),
    data_limit_bytes: int | None = None,
) -> EnvironmentProcess:
    """Start an environment process (stdout and stderr to ``output_fd``); see the module doc."""
    if not HAS_PARENT_DEATH_SIGNAL:
        env = {**env, WATCH_PARENT_VARIABLE: str(os.getpid())}
    setup = _child_setup(os.getpid(), data_limit_bytes)

    def launch() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            list(args),
            stdin=subprocess.DEVNULL,
            stdout=output_fd,
            stderr=output_fd,
            pass_fds=tuple(pass_fds),
            env=env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=setup,  # noqa: PLW1509 - only prctl/setrlimit, see _child_setup
        )

    return EnvironmentProcess(_LAUNCHER.run(launch))
