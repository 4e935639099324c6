"""Pure decisions of the orchestration: check outcomes, transient errors, schedules.

No Dagster and no I/O here, so each rule is tested on plain values.
"""

from __future__ import annotations

import errno
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shopdata.errors import first_line


@dataclass(frozen=True)
class Outcome:
    """One quality check's verdict and the sentence that explains it."""

    passed: bool
    description: str


def quarantine_outcome(files: Sequence[Mapping[str, Any]]) -> Outcome:
    """Passed when no file of a run went to quarantine (malformed, or a duplicate file)."""
    bad = [f for f in files if f.get("status") != "processed"]
    if not bad:
        return Outcome(True, f"all {len(files)} files processed")
    names = "; ".join(f"{f['name']} ({f['status']}: {f.get('error', '')})" for f in bad)
    return Outcome(False, f"{len(bad)} of {len(files)} files quarantined: {names}")


def share_outcome(successful: int, rows: int, low: float, high: float) -> Outcome:
    """Passed when the successful share of a run's applications lies within [low, high]."""
    if rows == 0:
        return Outcome(True, "no applications in the run")
    share = successful / rows
    where = f"successful share {share:.1%} ({successful:,} of {rows:,})"
    if low <= share <= high:
        return Outcome(True, f"{where} within [{low:.0%}, {high:.0%}]")
    side = "below" if share < low else "above"
    return Outcome(False, f"{where} {side} the band [{low:.0%}, {high:.0%}]")


def summaries_outcome(differences: Sequence[Sequence[Any]]) -> Outcome:
    """Passed when every stored summary equals its recomputation (``db check``)."""
    if not differences:
        return Outcome(True, "summaries consistent: member_spending, item_sales, totals")
    first = differences[0]
    return Outcome(
        False,
        f"{len(differences)} summary rows differ from the base tables (first: {first[0]} "
        f"{first[1]}: stored {first[2]}, recomputed {first[3]})",
    )


def flags_outcome(anomalies: Sequence[str], jumps: Sequence[str]) -> Outcome:
    """Passed when the cached series has no count the source took back and no implausible jump."""
    if not anomalies and not jumps:
        return Outcome(True, "no suspect counts")
    lines = [*(f"taken back: {a}" for a in anomalies), *(f"jump: {j}" for j in jumps)]
    return Outcome(
        False,
        f"{len(anomalies)} suspect count(s) taken back, {len(jumps)} implausible jump(s): "
        + "; ".join(lines),
    )


def accuracy_outcome(metrics: Mapping[str, Any]) -> Outcome:
    """Passed when the chosen model's cross-validated accuracy is not above the data's ceiling.

    The ceiling is the accuracy of a lookup table on the whole data (no model can beat it out of
    sample); a mean above it means leakage between folds, or a bug in the evaluation.
    """
    chosen = metrics["selection"]["chosen"]
    ceiling = float(metrics["ceiling"]["best"]["accuracy"])
    above = []
    parts = []
    for scheme, scores in metrics["scores"].items():
        mean = float(scores[chosen]["accuracy"]["mean"])
        parts.append(f"{scheme} {mean:.4f}")
        if mean > ceiling:
            above.append(scheme)
    summary = f"{chosen}: accuracy {', '.join(parts)}; ceiling {ceiling:.4f}"
    if above:
        return Outcome(False, f"{summary}: above the ceiling under {', '.join(above)}")
    return Outcome(True, summary)


#: PostgreSQL error classes worth a retry: connection lost, serialisation or deadlock, shutdown.
_TRANSIENT_SQLSTATE_CLASSES = ("08", "40", "53", "57")
_TRANSIENT_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.ETIMEDOUT, errno.EAGAIN}


def is_transient(error: BaseException, transient_types: Iterable[type[BaseException]] = ()) -> bool:
    """Whether a later attempt may succeed: a network, server or lock hiccup, not bad data.

    ``transient_types`` are exception classes of the components that always are (the COVID
    client's ``ApiError`` after its own retries, say). A PostgreSQL error counts when the server
    was not reached (no SQLSTATE) or its SQLSTATE class is one of connection, transaction
    rollback (deadlock, serialisation), insufficient resources or operator intervention.
    """
    if isinstance(error, tuple(transient_types)):
        return True
    if isinstance(error, ConnectionError | TimeoutError):
        return True
    if isinstance(error, OSError) and error.errno in _TRANSIENT_ERRNOS:
        return True
    sqlstate = getattr(error, "sqlstate", "missing")
    if sqlstate != "missing" and type(error).__module__.startswith("psycopg"):
        return sqlstate is None or str(sqlstate)[:2] in _TRANSIENT_SQLSTATE_CLASSES
    return False


def one_line(error: BaseException) -> str:
    """The error as one line: its type and the first line of its message."""
    first = first_line(error)
    name = type(error).__name__
    return name if first == name else f"{name}: {first}"


def cron_for(minute: int, interval_minutes: int) -> str:
    """The cron expression of slots ``minute`` past midnight UTC + k * ``interval_minutes``.

    The members' schedule settings (minute 0, every 60 by default) as Dagster wants them. The
    interval must divide an hour or a day into whole slots, as cron can only say those.
    """
    if interval_minutes < 60 and 60 % interval_minutes == 0:
        minutes = sorted({(minute + k * interval_minutes) % 60 for k in range(60)})
        return f"{','.join(map(str, minutes))} * * * *"
    if interval_minutes % 60 == 0 and 1440 % interval_minutes == 0:
        hours_step = interval_minutes // 60
        hours = ",".join(str(h) for h in range(0, 24, hours_step))
        return f"{minute} {'*' if hours_step == 1 else hours} * * *"
    raise ValueError(
        f"members.schedule_interval_minutes={interval_minutes} does not divide an hour or a day "
        "into whole slots; use a divisor of 60 or of 1440 that is a multiple of 60"
    )


def landing_run_key(ready: Sequence[tuple[str, int, int]]) -> str:
    """One key per set of ready landed files: the sensor asks for one run per set, not per tick."""
    digest = hashlib.sha256()
    for name, size, mtime_ns in sorted(ready):
        digest.update(f"{name}\0{size}\0{mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return f"landing-{digest.hexdigest()[:16]}"
