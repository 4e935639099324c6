"""The local cache: the last good answer of the live API, in one JSON file.

Written atomically (temporary file + rename) so a crash never leaves half a file; read back
through the same invariants as the API data.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopdata.covid.schema import DayCount, MalformedDataError, check_series

CACHE_FILE = "singapore_confirmed.json"
CACHE_FORMAT = 1


@dataclass(frozen=True, slots=True)
class CachedSeries:
    """What ``covid fetch`` stored."""

    source_url: str
    fetched_at: dt.datetime
    days: tuple[DayCount, ...]


def cache_path(cache_dir: Path) -> Path:
    """The cache file inside ``cache_dir``."""
    return cache_dir / CACHE_FILE


def write_cache(path: Path, cached: CachedSeries) -> None:
    """Replace the cache file atomically; ``OSError`` (with its ``strerror``) when it cannot."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # the folder's name is taken by a file
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path)) from None
    document = {
        "format": CACHE_FORMAT,
        "source_url": cached.source_url,
        "fetched_at": cached.fetched_at.isoformat(),
        "days": [[day.date.isoformat(), day.cumulative] for day in cached.days],
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".cache-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, separators=(",", ":"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_cache(path: Path) -> CachedSeries | None:
    """The cached series, ``None`` when there is no cache; malformed files raise."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:  # a folder name taken by a file, a directory here, no permission
        raise MalformedDataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        document: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedDataError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(document, dict) or document.get("format") != CACHE_FORMAT:
        raise MalformedDataError(f"{path}: not a format-{CACHE_FORMAT} covid cache file")
    try:
        days = [
            DayCount(dt.date.fromisoformat(date), int(count)) for date, count in document["days"]
        ]
        return CachedSeries(
            str(document["source_url"]),
            dt.datetime.fromisoformat(document["fetched_at"]),
            check_series(days, str(path)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, MalformedDataError):
            raise
        raise MalformedDataError(f"{path}: unexpected content ({exc})") from None
