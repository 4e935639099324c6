"""The pipeline's bookkeeping: what was processed, which IDs were issued, which run is in flight.

Everything lives under ``<output>/_state/``:

- the folder itself is the lock: a run holds an exclusive ``flock`` on an open descriptor of
  ``_state/`` for its whole life, so that two runs never work at once. Deleting a file cannot free
  it, and no PID is written (none can look stale).
- ``bookkeeping.sqlite``: committed runs and the content hash of every landed file they handled.
  A run counts as done exactly when its row is committed here, which happens last.
- ``registry/<run_id>.parquet``: the IDs a run issued; read only for committed runs.
- ``pending/<run_id>.json``: the manifest of a run in flight (its outputs and input files),
  written before any output. A later run uses it to roll the crashed run back (staged outputs
  deleted, inputs still in the landing folder) or forward (outputs published, inputs moved, if the
  commit had happened).
- ``staging/<run_id>/``: a run's outputs until its commit; published (renamed into place) after it.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from shopdata.members.ids import REGISTRY_SCHEMA, empty_registry
from shopdata.members.write import (
    DEFAULT_DIR_MODE,
    DEFAULT_FILE_MODE,
    TMP_SUFFIX,
    make_dirs,
    write_json_atomic,
)

_SCHEMA = """
create table if not exists runs (
    run_id text primary key,
    started_at text not null,
    committed_at text not null,
    report_path text not null,
    registry_segment text
);
create table if not exists files (
    sha256 text not null,
    name text not null,
    run_id text not null references runs (run_id),
    status text not null check (status in ('processed', 'quarantined', 'duplicate')),
    moved_to text not null,
    detail text not null default ''
);
create table if not exists file_identity (
    sha256 text primary key,
    name text not null,
    device integer not null,
    inode integer not null,
    size integer not null
);
create unique index if not exists files_processed_once on files (sha256) where status = 'processed';
"""


# Folders a run publishes into, and the name its temporary files have there (write.tmp_path).
PUBLIC_FOLDERS = ("committed", "archive", "quarantine", "successful", "unsuccessful", "reports")
_TMP_NAME = re.compile(r"\..+\.[0-9]+" + re.escape(TMP_SUFFIX))


class LockBusy(Exception):
    """Another run holds the lock."""


@dataclass(frozen=True)
class FileRecord:
    """How a run disposed of one landed file."""

    sha256: str
    name: str
    status: str  # processed | quarantined | duplicate
    moved_to: str  # path relative to the output folder
    detail: str = ""
    device: int = 0  # identity of the file read (processed files only)
    inode: int = 0
    size: int = 0
    mtime_ns: int = 0
    ctime_ns: int = 0  # 0 in manifests written before it was recorded
    landing_name_hex: str = ""  # the entry's exact name in the landing folder, as hex bytes
    prefix_sha256: str = ""  # a growing file: the already processed prefix it continues


class StateStore:
    """Bookkeeping of one output folder."""

    def __init__(
        self,
        output_dir: Path,
        dir_mode: int = DEFAULT_DIR_MODE,
        file_mode: int = DEFAULT_FILE_MODE,
    ) -> None:
        self.output_dir = output_dir
        self.root = output_dir / "_state"
        self.pending_dir = self.root / "pending"
        self.registry_dir = self.root / "registry"
        self.staging_dir = self.root / "staging"
        for folder in (self.root, self.pending_dir, self.registry_dir, self.staging_dir):
            make_dirs(folder, dir_mode)
        self.db_path = self.root / "bookkeeping.sqlite"
        with closing(self._connect()) as conn, conn:
            conn.executescript(_SCHEMA)
        self.db_path.chmod(file_mode)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path, timeout=30)
        conn.execute("pragma journal_mode = wal")
        conn.execute("pragma synchronous = full")
        return conn

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the run lock, or raise :class:`LockBusy` at once."""
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise LockBusy(f"another run holds the lock on {self.root}") from None
            yield
        finally:
            os.close(fd)  # releases the lock

    def processed_file(self, sha256: str) -> tuple[str, str] | None:
        """``(name, run_id)`` of the processed file with this content, if any."""
        with closing(self._connect()) as conn:
            row = conn.execute(
                "select name, run_id from files where sha256 = ? and status = 'processed'",
                (sha256,),
            ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def is_committed(self, run_id: str) -> bool:
        """Whether ``run_id``'s bookkeeping was committed."""
        with closing(self._connect()) as conn:
            row = conn.execute("select 1 from runs where run_id = ?", (run_id,)).fetchone()
        return row is not None

    def commit_run(
        self,
        *,
        run_id: str,
        started_at: str,
        committed_at: str,
        report_path: str,
        registry_segment: str | None,
        files: list[FileRecord],
    ) -> None:
        """Record a run and its files in one transaction: the moment the run becomes done."""
        with closing(self._connect()) as conn, conn:
            conn.execute(
                "insert into runs values (?, ?, ?, ?, ?)",
                (run_id, started_at, committed_at, report_path, registry_segment),
            )
            conn.executemany(
                "insert into files values (?, ?, ?, ?, ?, ?)",
                [(f.sha256, f.name, run_id, f.status, f.moved_to, f.detail) for f in files],
            )
            conn.executemany(
                "insert or replace into file_identity values (?, ?, ?, ?, ?)",
                [
                    (f.sha256, f.name, f.device, f.inode, f.size)
                    for f in files
                    if f.status == "processed"
                ],
            )

    def processed_prefix(self, name: str, device: int, inode: int) -> list[tuple[str, int]]:
        """``(sha256, size)`` of processed contents read from this very file (same inode)."""
        with closing(self._connect()) as conn:
            rows = conn.execute(
                "select sha256, size from file_identity"
                " where name = ? and device = ? and inode = ? order by size desc",
                (name, device, inode),
            ).fetchall()
        return [(str(row[0]), int(row[1])) for row in rows]

    def recently_archived(self, since: str) -> list[tuple[str, str, int, int, int]]:
        """``(name, moved_to, device, inode, size)`` of files archived by runs committed since
        ``since`` (ISO), each inode once with the largest size processed so far."""
        with closing(self._connect()) as conn:
            rows = conn.execute(
                # SQLite takes a bare column (moved_to) from the row holding max(size).
                "select f.name, f.moved_to, i.device, i.inode, max(i.size)"
                " from files as f join runs as r on r.run_id = f.run_id"
                " join file_identity as i on i.sha256 = f.sha256"
                " where f.status = 'processed' and r.committed_at >= ?"
                " group by f.name, i.device, i.inode order by f.moved_to",
                (since,),
            ).fetchall()
        return [(str(r[0]), str(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows]

    def last_started_at(self) -> str | None:
        """The latest start time (ISO, UTC) of a committed run."""
        with closing(self._connect()) as conn:
            row = conn.execute("select max(started_at) from runs").fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def registry(self) -> pl.DataFrame:
        """Every membership ID issued by committed runs."""
        with closing(self._connect()) as conn:
            rows = conn.execute(
                "select registry_segment from runs where registry_segment is not null"
            ).fetchall()
        segments = [self.output_dir / str(row[0]) for row in rows]
        if not segments:
            return empty_registry()
        return pl.read_parquet(segments).select(list(REGISTRY_SCHEMA))

    def registry_segment_path(self, run_id: str) -> Path:
        """Where ``run_id`` writes the IDs it issues."""
        return self.registry_dir / f"{run_id}.parquet"

    def write_manifest(self, run_id: str, manifest: dict[str, Any]) -> None:
        """Record a run's planned outputs and inputs before writing any output."""
        write_json_atomic(manifest, self.pending_dir / f"{run_id}.json")

    def pending_manifests(self) -> list[dict[str, Any]]:
        """Manifests of runs that did not finish, oldest first."""
        return [
            json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(self.pending_dir.glob("*.json"))
        ]

    def staging_path(self, run_id: str) -> Path:
        """Where ``run_id`` writes its outputs until they are published."""
        return self.staging_dir / run_id

    def sweep_orphans(self) -> list[str]:
        """Delete temporary files and staging folders no live run can own (the lock is held).

        Every run writes only under its staging folder, as ``.<name>.<pid>.tmp`` next to a target,
        or into ``pending/`` and ``registry/``; with the lock held, all of those are orphans of
        dead runs. Returns what was removed, relative to the output folder.
        """
        removed: list[str] = []
        pending = {path.stem for path in self.pending_dir.glob("*.json")}
        for staged in sorted(self.staging_dir.iterdir()):
            if staged.name not in pending:
                shutil.rmtree(staged, ignore_errors=True)
                removed.append(str(staged.relative_to(self.output_dir)))
        for folder in (self.pending_dir, self.registry_dir, self.root):
            for tmp in sorted(folder.glob(f".*{TMP_SUFFIX}")):
                tmp.unlink(missing_ok=True)
                removed.append(str(tmp.relative_to(self.output_dir)))
        # Outside _state, runs write temporary files beside their targets too: the committed
        # marker, and inputs copied into archive/ or quarantine/ (another file system, or a file
        # owned by a producer). A copy killed half-way is as large as its input.
        for name in PUBLIC_FOLDERS:
            for parent, _dirs, names in os.walk(self.output_dir / name):
                for tmp_name in sorted(names):
                    if _TMP_NAME.fullmatch(tmp_name):
                        tmp = Path(parent) / tmp_name
                        tmp.unlink(missing_ok=True)
                        removed.append(str(tmp.relative_to(self.output_dir)))
        return removed

    def drop_manifest(self, run_id: str) -> None:
        """Forget a finished (or rolled-back) run's manifest."""
        (self.pending_dir / f"{run_id}.json").unlink(missing_ok=True)
