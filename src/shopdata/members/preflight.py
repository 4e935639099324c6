"""Checks made before a run does any work, and one-line descriptions of what stopped a run."""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
from pathlib import Path

_CAP_FOWNER = 3  # linux/capability.h


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def usage_problem(landing: Path, output: Path) -> str | None:
    """Why ``landing``/``output`` cannot work, before anything is read or written; else None."""
    if not landing.is_dir():
        return f"landing folder {landing} does not exist or is not a folder"
    landing_real = landing.resolve()
    output_real = output.resolve()
    if _inside(output_real, landing_real) or _inside(landing_real, output_real):
        return (
            f"landing folder {landing} and output folder {output} overlap; use two separate folders"
        )
    if not os.access(landing, os.R_OK | os.W_OK | os.X_OK):
        return (
            f"landing folder {landing} does not let this user move files out of it "
            "(it needs read, write and search permission); nothing was done"
        )
    if _sticky_for_others(landing):
        return (
            f"landing folder {landing} has the sticky bit and belongs to another user, so this "
            "user cannot move other users' files out of it; nothing was done"
        )
    existing = output_real
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        return f"output folder {output} is not writable by this user; nothing was done"
    return None


def _has_fowner() -> bool:
    """Whether this process may rename other users' files out of a sticky folder (CAP_FOWNER)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) & (1 << _CAP_FOWNER))
    except OSError:
        pass
    return os.geteuid() == 0


def _sticky_for_others(landing: Path) -> bool:
    """A sticky landing folder (``chmod 1777``, as shared drop folders are) owned by another user:
    only a file's owner may rename it out, so producers' files could never be archived."""
    info = landing.stat()
    return bool(info.st_mode & stat.S_ISVTX) and info.st_uid != os.geteuid() and not _has_fowner()


def describe_failure(exc: BaseException) -> str:
    """A one-line reason for a crashed run; a full disk is named as such."""
    full = (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)) or (
        "No space left on device" in str(exc) or "(os error 28)" in str(exc)
    )
    if full:
        where = f" ({exc.filename})" if isinstance(exc, OSError) and exc.filename else ""
        return f"no space left on device{where}; free space, then run again"
    if isinstance(exc, sqlite3.OperationalError) and (
        "disk is full" in str(exc) or "disk I/O error" in str(exc)
    ):
        return f"no space left on device? the bookkeeping database reports: {exc}"
    return f"{type(exc).__name__}: {exc}"
