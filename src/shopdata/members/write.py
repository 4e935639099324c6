"""Durable, atomic writes: a reader sees a whole file or none, even after kill -9 or power loss."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path
from typing import Any

import polars as pl

# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def defuse_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix a single quote to every string cell a spreadsheet would execute (OWASP's advice)."""
    pattern = "^[" + "".join("\\" + c if c in "-" else c for c in FORMULA_TRIGGERS) + "]"
    # One cheap pass finds the columns that need it; only those are rebuilt (usually one or none).
    hits = frame.select(pl.col(pl.String).str.contains(pattern).any())
    columns = [name for name in hits.columns if hits[name].item()]
    if not columns:
        return frame
    return frame.with_columns(
        pl.when(pl.col(columns).str.contains(pattern))
        .then("'" + pl.col(columns))
        .otherwise(pl.col(columns))
        .name.keep()
    )


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _tmp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _publish(tmp: Path, path: Path) -> None:
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def write_csv_atomic(frame: pl.DataFrame, path: Path) -> None:
    """Write ``frame`` as CSV (header, RFC 4180 quoting, UTF-8) at ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_path(path)
    frame.write_csv(tmp)
    _publish(tmp, path)


def write_parquet_atomic(frame: pl.DataFrame, path: Path) -> None:
    """Write ``frame`` as Parquet at ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_path(path)
    frame.write_parquet(tmp)
    _publish(tmp, path)


def write_json_atomic(document: Any, path: Path) -> None:
    """Write ``document`` as indented JSON at ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_path(path)
    tmp.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _publish(tmp, path)


def write_text_atomic(text: str, path: Path) -> None:
    """Write ``text`` (UTF-8) at ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_path(path)
    tmp.write_text(text, encoding="utf-8")
    _publish(tmp, path)


def move_durably(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target`` (same file system) and make both directories durable."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        tmp = _tmp_path(target)  # another file system: copy, make durable, then remove
        shutil.copy2(source, tmp)
        _publish(tmp, target)
        source.unlink()
    fsync_dir(target.parent)
    fsync_dir(source.parent)
