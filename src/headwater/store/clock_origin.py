"""The ``--time-scale`` clock's origin, kept in the data directory across restarts.

A scaled clock runs ahead of the wall clock (60x for an hour is 59 hours ahead), and
visibility timeouts, delays and retention are stored in its time. Were its origin
forgotten at a restart, the new clock would start back at the wall clock and in-flight
messages would stay hidden about as long as the previous run lasted. So the origin is
saved beside the database: every process on the data directory, and every restart,
continues the same clock. A restart with another scale (1 included) continues from where
the old clock is now, at the new rate; deleting the file returns to the wall clock.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from headwater.core.clock import Clock, ScaledClock, SystemClock

log = logging.getLogger(__name__)

CLOCK_ORIGIN_FILE = "clock-origin.json"
#: Below this, a clock ahead of the wall clock is not worth a note.
NOTEWORTHY_SECONDS = 1.0


def resume_clock(data_dir: Path | None, time_scale: float) -> Clock:
    """The clock for ``time_scale`` on ``data_dir``, continuing the one saved there."""
    path = None if data_dir is None else data_dir / CLOCK_ORIGIN_FILE
    saved = None if path is None else _read(path)
    if saved is None:
        if time_scale == 1.0:
            return SystemClock()
        clock = ScaledClock(time_scale)
    elif saved.time_scale == time_scale:
        clock = saved
    else:
        now = time.time()
        clock = ScaledClock(time_scale, origin=saved.now(), real_origin=now)
    if path is not None:
        _write(path, clock)
    ahead = clock.now() - time.time()
    if time_scale == 1.0 and ahead > NOTEWORTHY_SECONDS:
        log.warning(
            "headwater: the clock of %s is %.0f s ahead of the wall clock (it ran with "
            "--time-scale); it goes on from there at 1x. Delete %s to return to the wall "
            "clock (in-flight timers then wait for the wall clock to catch up).",
            data_dir,
            ahead,
            path,
        )
    return clock


def _read(path: Path) -> ScaledClock | None:
    try:
        saved = json.loads(path.read_text("utf-8"))
        return ScaledClock(
            float(saved["time_scale"]),
            origin=float(saved["origin"]),
            real_origin=float(saved["real_origin"]),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.warning("headwater: ignoring unreadable %s (%s)", path, error)
        return None


def _write(path: Path, clock: ScaledClock) -> None:
    text = json.dumps(
        {"time_scale": clock.time_scale, "origin": clock.origin, "real_origin": clock.real_origin}
    )
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(text, "utf-8")
    os.replace(temporary, path)
