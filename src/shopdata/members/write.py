"""Durable, atomic writes: a reader sees a whole file or none, even after kill -9 or power loss.

Every file written here gets ``file_mode`` and every folder created here ``dir_mode`` (outputs hold
personal data: 0640 and 0750 by default), whatever the process umask.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import stat
from collections.abc import Collection
from pathlib import Path
from typing import Any

import polars as pl

from shopdata.members.contract import ESCAPED_STARTS, FORMULA_ESCAPE

DEFAULT_FILE_MODE = 0o640
DEFAULT_DIR_MODE = 0o750
TMP_SUFFIX = ".tmp"


def defuse_formulas(frame: pl.DataFrame, safe: Collection[str] = ()) -> pl.DataFrame:
    """:func:`shopdata.members.contract.escape_cell` on every string cell, column-wise.

    A cell that already starts with a quote gets one more, so that the escape is reversible
    (readers drop exactly one leading quote: ``contract.unescape_cell``) and two different values
    never look the same. ``safe`` names columns whose values cannot start with an escaped
    character by construction (digits, reason codes, IDs): they are not scanned.
    """
    pattern = "^[" + "".join("\\" + c if c in "-" else c for c in ESCAPED_STARTS) + "]"
    # One cheap pass finds the columns that need it; only those are rebuilt (usually one or none).
    scanned = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    hits = frame.select(
        pl.col(name).str.contains(pattern).any() for name in scanned if name not in safe
    )
    columns = [name for name in hits.columns if hits[name].item()]
    if not columns:
        return frame
    return frame.with_columns(
        pl.when(pl.col(columns).str.contains(pattern))
        .then(FORMULA_ESCAPE + pl.col(columns))
        .otherwise(pl.col(columns))
        .name.keep()
    )


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs(path: Path, dir_mode: int = DEFAULT_DIR_MODE) -> None:
    """Create ``path`` and its missing parents, each with exactly ``dir_mode``."""
    missing: list[Path] = []
    current = path
    while not current.is_dir():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, dir_mode)
        except FileExistsError:
            continue
        os.chmod(folder, dir_mode)


def tmp_path(path: Path) -> Path:
    """The temporary name ``path`` is written under before its rename (hidden, same folder).

    A name too long to take the prefix and suffix is replaced by its hash.
    """
    name = path.name
    if len(os.fsencode(name)) > 200:
        name = hashlib.sha256(os.fsencode(name)).hexdigest()
    return path.with_name(f".{name}.{os.getpid()}{TMP_SUFFIX}")


def _publish(tmp: Path, path: Path, file_mode: int) -> None:
    with open(tmp, "rb") as handle:
        os.fchmod(handle.fileno(), file_mode)
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def write_csv_atomic(
    frame: pl.DataFrame,
    path: Path,
    file_mode: int = DEFAULT_FILE_MODE,
    dir_mode: int = DEFAULT_DIR_MODE,
) -> None:
    """Write ``frame`` as CSV (header, RFC 4180 quoting, UTF-8) at ``path`` atomically."""
    make_dirs(path.parent, dir_mode)
    tmp = tmp_path(path)
    frame.write_csv(tmp)
    _publish(tmp, path, file_mode)


class StagedCsv:
    """A CSV written batch by batch under its temporary name, then made durable and renamed.

    Readers see the whole file or none, as with :func:`write_csv_atomic`; the first batch written
    (maybe empty) gives the header.
    """

    def __init__(
        self, path: Path, file_mode: int = DEFAULT_FILE_MODE, dir_mode: int = DEFAULT_DIR_MODE
    ) -> None:
        make_dirs(path.parent, dir_mode)
        self.path = path
        self.file_mode = file_mode
        self._tmp = tmp_path(path)
        self._handle = open(self._tmp, "wb")  # noqa: SIM115 - closed by close() or discard()
        self._header = True

    def write(self, frame: pl.DataFrame) -> None:
        """Append ``frame``'s rows (and the header, the first time)."""
        if frame.height or self._header:
            frame.write_csv(self._handle, include_header=self._header)
        self._header = False

    def close(self) -> None:
        """Publish the file: durable, ``file_mode``, under its name."""
        self._handle.close()
        _publish(self._tmp, self.path, self.file_mode)

    def discard(self) -> None:
        """Remove the unfinished file."""
        self._handle.close()
        self._tmp.unlink(missing_ok=True)


def write_parquet_atomic(
    frame: pl.DataFrame | pl.LazyFrame,
    path: Path,
    file_mode: int = DEFAULT_FILE_MODE,
    dir_mode: int = DEFAULT_DIR_MODE,
) -> None:
    """Write ``frame`` as Parquet at ``path`` atomically (a lazy one streamed, never held whole)."""
    make_dirs(path.parent, dir_mode)
    tmp = tmp_path(path)
    if isinstance(frame, pl.LazyFrame):
        frame.sink_parquet(tmp)
    else:
        frame.write_parquet(tmp)
    _publish(tmp, path, file_mode)


def write_json_atomic(
    document: Any,
    path: Path,
    file_mode: int = DEFAULT_FILE_MODE,
    dir_mode: int = DEFAULT_DIR_MODE,
) -> None:
    """Write ``document`` as indented JSON at ``path`` atomically."""
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    write_text_atomic(text, path, file_mode, dir_mode)


def write_text_atomic(
    text: str,
    path: Path,
    file_mode: int = DEFAULT_FILE_MODE,
    dir_mode: int = DEFAULT_DIR_MODE,
) -> None:
    """Write ``text`` (UTF-8) at ``path`` atomically."""
    make_dirs(path.parent, dir_mode)
    tmp = tmp_path(path)
    tmp.write_text(text, encoding="utf-8")
    _publish(tmp, path, file_mode)


def publish(staged: Path, target: Path, dir_mode: int = DEFAULT_DIR_MODE) -> None:
    """Rename a staged, already durable file into place and make the rename durable."""
    make_dirs(target.parent, dir_mode)
    os.replace(staged, target)
    fsync_dir(target.parent)


def move_durably(
    source: Path,
    target: Path,
    file_mode: int = DEFAULT_FILE_MODE,
    dir_mode: int = DEFAULT_DIR_MODE,
) -> None:
    """Rename ``source`` to ``target`` and make both directories durable.

    A regular file moved gets ``file_mode`` (landed files hold personal data); a symbolic link or
    other special entry is moved as it is, never followed.
    """
    make_dirs(target.parent, dir_mode)
    try:
        os.replace(source, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        tmp = tmp_path(target)  # another file system: copy, make durable, then remove
        shutil.copy2(source, tmp, follow_symlinks=False)
        if not tmp.is_symlink():
            _publish(tmp, target, file_mode)
        else:
            os.replace(tmp, target)
        source.unlink()
    _restrict(target, file_mode)
    fsync_dir(target.parent)
    fsync_dir(source.parent)


def _restrict(target: Path, file_mode: int) -> None:
    """Give a moved regular file ``file_mode``; never change a file that has another name.

    A file with a second hard link is not only ours: changing its mode would change the other
    name's too (a producer's ``ln /root/secret landing/x.csv`` must not widen the secret). A file
    owned by another user (a producer writing into a shared landing folder) cannot be chmod-ed by
    an unprivileged pipeline: it is replaced by a copy the pipeline owns, with ``file_mode``.
    """
    info = os.lstat(target)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        return
    try:
        os.chmod(target, file_mode)
    except PermissionError:
        _replace_with_own_copy(target, file_mode)


def _replace_with_own_copy(target: Path, file_mode: int) -> None:
    try:
        source_fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except PermissionError:  # unreadable to us: it cannot leak through us; it stays as it is
        return
    tmp = tmp_path(target)
    try:
        with (
            os.fdopen(source_fd, "rb") as source,
            open(
                os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, file_mode),
                "wb",
            ) as copy,
        ):
            os.fchmod(copy.fileno(), file_mode)
            shutil.copyfileobj(source, copy)
            copy.flush()
            os.fsync(copy.fileno())
        os.replace(tmp, target)
    finally:
        if os.path.lexists(tmp):
            tmp.unlink()
