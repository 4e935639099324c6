"""Run the pipeline on a clock: at a fixed minute of every hour by default.

A failing run is logged and the schedule goes on; the next run picks up whatever the failed one left
(its crash recovery makes that safe). cron or a systemd timer calling ``shopdata members run`` are
equivalent alternatives (docs/members.md).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable

log = logging.getLogger("shopdata.members.schedule")


def next_run_at(now: dt.datetime, *, minute: int, interval_minutes: int) -> dt.datetime:
    """The first slot strictly after ``now``: slots are ``minute`` past the hour + k * interval.

    With the defaults (minute 0, interval 60) that is the top of the next hour. Slots are aligned to
    midnight UTC so every process computes the same ones.
    """
    anchor = now.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(minutes=minute)
    step = dt.timedelta(minutes=interval_minutes)
    return anchor + ((now - anchor) // step + 1) * step


def run_forever(
    job: Callable[[], object],
    *,
    minute: int,
    interval_minutes: int,
    run_now: bool = False,
    max_runs: int | None = None,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Call ``job`` at every slot; return the number of runs (only when ``max_runs`` is reached)."""
    runs = 0
    pending_immediate = run_now
    while max_runs is None or runs < max_runs:
        if pending_immediate:
            pending_immediate = False
        else:
            target = next_run_at(clock(), minute=minute, interval_minutes=interval_minutes)
            log.info("next run at %s", target.isoformat())
            while (remaining := (target - clock()).total_seconds()) > 0:
                sleep(min(remaining, 60.0))
        runs += 1
        try:
            job()
        except Exception:  # a failing run must not stop the schedule
            log.exception("run %d failed; the schedule goes on", runs)
    return runs
