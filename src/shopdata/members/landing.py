"""The landing folder, treated as hostile: what the pipeline will open, and how.

The security model (docs/members.md):

- Only regular files directly in the landing folder are read. Every entry is opened with
  ``O_NOFOLLOW | O_NONBLOCK`` and checked with ``fstat`` on the open descriptor, so a symbolic
  link (to ``/etc/shadow``, ``/proc/self/environ`` or a CSV elsewhere), a FIFO, a socket or a
  device is never followed or read: it is quarantined with a reason that quotes nothing of it.
  Sub-folders are left alone.
- A file is read whole through one descriptor (a large one in pieces, twice, through descriptors
  whose identity must match: :func:`read_pieces`), and its identity (device, inode, size, mtime)
  is recorded with the SHA-256 of exactly the bytes read. It is moved out of the landing folder only
  while its path still names that same, unchanged file (:func:`still_same`).
- A file modified within the settle window waits for a later run; hidden files and in-flight
  suffixes are producers' work in progress.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from shopdata.members.ingest import first_lone_cr, record_cut

# Files a producer is still writing must not be picked up: producers write under a hidden or
# temporary name and rename when done (documented in docs/members.md).
IN_FLIGHT_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".filepart")
# Longest file name (bytes) most file systems accept; quarantine names must fit it.
NAME_MAX = 255
_KINDS = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a folder",
}


@dataclass(frozen=True)
class Identity:
    """Which file, in which state, was read."""

    device: int
    inode: int
    size: int
    mtime_ns: int
    # Only the kernel sets ctime: a file rewritten in place at the same size with its mtime put
    # back (``touch -d``, ``cp -p``) keeps size and mtime but not ctime. 0: not recorded.
    ctime_ns: int = 0


@dataclass(frozen=True)
class Entry:
    """One candidate in the landing folder: its raw name and what ``lstat`` said of it."""

    name: str  # as os.listdir returns it (undecodable bytes as surrogates)
    kind: str | None  # None: a regular file; else why it will not be opened


class NotReadable(Exception):
    """A landed entry that cannot be read as a regular file; ``kind`` is a stable code."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class RecordTooLong(Exception):
    """A record runs over ``limit`` bytes without ending (see :func:`read_pieces`)."""

    def __init__(self, limit: int, lone_cr: int = -1, lines_before: int = 0) -> None:
        super().__init__(f"a record runs over {limit} bytes")
        self.limit = limit
        # The offset in the record of its first CR not before a LF (old Mac line ends?), or -1,
        # and how many line feeds (inside quotes) come before it.
        self.lone_cr = lone_cr
        self.lines_before = lines_before


class StillChanging(Exception):
    """The file changed while it was read: a later run will take it."""


def display_name(name: str) -> str:
    """A file name fit for reports, logs and JSON: undecodable bytes and controls escaped."""
    raw = os.fsencode(name)
    text = raw.decode("utf-8", errors="backslashreplace")
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )


def bounded_name(name: str, reserve: int) -> str:
    """``display_name(name)`` cut so that it plus ``reserve`` bytes fits in :data:`NAME_MAX`."""
    shown = display_name(name).replace("/", "_")
    limit = NAME_MAX - reserve
    if len(shown.encode("utf-8")) <= limit:
        return shown
    cut = shown.encode("utf-8")[: limit - 1].decode("utf-8", errors="ignore")
    return cut + "~"


def hard_link(links: int) -> str | None:
    """Why a regular file with more than one name is not read (None if it has one).

    A hard link to a file elsewhere (``ln /root/secret landing/x.csv``) is a regular file: only
    its link count tells it from a landed one. Producers write, then rename; they never link.
    """
    return f"a hard link ({links} names for one file)" if links > 1 else None


def scan(landing: Path, *, settle_seconds: float, now: float | None = None) -> list[Entry]:
    """Entries ready in ``landing``, in name order (the order IDs are issued in).

    Skipped: hidden names, in-flight suffixes, sub-folders, and regular files modified less than
    ``settle_seconds`` ago (or, stamped in the future, changed while watched for that long).
    Every other entry is returned; non-regular ones carry their kind.
    """
    clock = time.time() if now is None else now
    entries: list[Entry] = []
    future: list[tuple[str, os.stat_result]] = []
    with os.scandir(landing) as iterator:
        for item in iterator:
            name = item.name
            if name.startswith(".") or name.lower().endswith(IN_FLIGHT_SUFFIXES):
                continue
            try:
                info = item.stat(follow_symlinks=False)
            except FileNotFoundError:  # vanished since listed
                continue
            mode = stat.S_IFMT(info.st_mode)
            if mode == stat.S_IFDIR:
                continue
            if mode == stat.S_IFREG:
                if info.st_mtime > clock + settle_seconds:
                    future.append((name, info))
                    continue
                if clock - info.st_mtime < settle_seconds:
                    continue
                entries.append(Entry(name, hard_link(info.st_nlink)))
            else:
                entries.append(Entry(name, _KINDS.get(mode, "not a regular file")))
    entries.extend(_settled_by_watching(landing, future, settle_seconds))
    return sorted(entries, key=lambda entry: os.fsencode(entry.name))


def _settled_by_watching(
    landing: Path, future: list[tuple[str, os.stat_result]], settle_seconds: float
) -> list[Entry]:
    """Files stamped later than the clock reads: settled if unchanged for ``settle_seconds``.

    After the clock is set back (or against a file server whose clock is ahead) every landed
    file looks modified in the future, and its age cannot be told from the clock: it would wait,
    unreported, until the clock caught up. Such files are watched instead, once per run for all
    of them: a file whose size, mtime and ctime stay the same for the settle window is settled.
    """
    if not future:
        return []
    time.sleep(settle_seconds)  # a monotonic wait: it does not depend on the wall clock
    settled = []
    for name, before in future:
        try:
            after = os.lstat(landing / name)
        except FileNotFoundError:
            continue
        if stat.S_ISREG(after.st_mode) and (
            after.st_ino,
            after.st_size,
            after.st_mtime_ns,
            after.st_ctime_ns,
        ) == (before.st_ino, before.st_size, before.st_mtime_ns, before.st_ctime_ns):
            settled.append(Entry(name, hard_link(after.st_nlink)))
    return settled


def regular_identity(path: Path) -> Identity:
    """The identity of a regular file, checked as :func:`read_regular` checks it (nothing read)."""
    fd, info = _open_regular(path)
    os.close(fd)
    return _identity(info)


def _open_regular(path: Path) -> tuple[int, os.stat_result]:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise NotReadable("vanished", "file vanished before it could be read") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  #: the entry became a symbolic link
            raise NotReadable(
                "not_regular_file", "a symbolic link; links are never followed"
            ) from None
        raise NotReadable("unreadable", f"cannot open: {exc.strerror}") from None
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            kind = _KINDS.get(stat.S_IFMT(before.st_mode), "not a regular file")
            raise NotReadable("not_regular_file", f"{kind}; only regular files are read")
        linked = hard_link(before.st_nlink)
        if linked:
            raise NotReadable("not_regular_file", f"{linked}; the pipeline never reads it")
    except BaseException:
        os.close(fd)
        raise
    return fd, before


def read_regular(path: Path) -> tuple[bytes, Identity]:
    """Read a regular file whole through one descriptor that never follows a link.

    Raises :class:`NotReadable` (a link, FIFO, device, vanished or unreadable file) or
    :class:`StillChanging` (its size or mtime moved while it was read).
    """
    fd, before = _open_regular(path)
    try:
        try:
            with os.fdopen(os.dup(fd), "rb", closefd=True) as handle:
                data = handle.read()
        except OSError as exc:
            raise NotReadable("unreadable", f"cannot read: {exc.strerror}") from None
        after = os.fstat(fd)
    finally:
        os.close(fd)
    if (after.st_size, after.st_mtime_ns, after.st_ctime_ns) != (
        before.st_size,
        before.st_mtime_ns,
        before.st_ctime_ns,
    ) or len(data) != after.st_size:
        raise StillChanging(str(path))
    return data, Identity(
        after.st_dev, after.st_ino, after.st_size, after.st_mtime_ns, after.st_ctime_ns
    )


def read_pieces(
    path: Path, identity: Identity, piece_bytes: int, record_limit: int | None = None
) -> Iterator[bytes]:
    """Read a regular file in pieces of about ``piece_bytes``, each ending with a whole record.

    Opened as :func:`read_regular` opens (never following a link); raises :class:`StillChanging`
    unless the file is the one ``identity`` names, unchanged from the first byte to the last.
    Memory holds one piece (and the part of the next already read), never the file: a record
    longer than ``record_limit`` bytes (one line of a file without line breaks, say) raises
    :class:`RecordTooLong` instead of being held until it ends, and so does (at once) a record
    not yet ended that holds a lone CR outside quoted fields (``RecordTooLong.lone_cr``).
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError:
        raise StillChanging(str(path)) from None
    with os.fdopen(fd, "rb", buffering=0) as handle:
        if _identity(os.fstat(fd)) != identity:
            raise StillChanging(str(path))
        carry = b""
        total = 0
        while True:
            block = handle.read(piece_bytes)
            total += len(block)
            if not block:
                break
            buffer = carry + block if carry else block
            cut = record_cut(buffer)
            if cut == 0:  # no record ends yet (a very long one): read on
                if record_limit is not None:
                    # A lone CR (old Mac line ends, say) stops the read at once: the file is
                    # quarantined anyway, so it is never held up to the limit, nor scanned
                    # again for every piece added to it (quadratic with small pieces).
                    lone_cr = first_lone_cr(buffer, len(buffer) - 1)
                    if lone_cr >= 0 or len(buffer) > record_limit:
                        lines = buffer.count(b"\n", 0, max(lone_cr, 0))
                        raise RecordTooLong(record_limit, lone_cr, lines)
                carry = buffer
                continue
            carry = buffer[cut:]
            yield buffer[:cut]
        if carry:
            yield carry
        if _identity(os.fstat(fd)) != identity or total != identity.size:
            raise StillChanging(str(path))


def hash_regular(path: Path, identity: Identity, block_bytes: int) -> str:
    """SHA-256 of the file ``identity`` names, read a block at a time (never whole)."""
    digest = hashlib.sha256()
    for block in _blocks(path, identity, block_bytes):
        digest.update(block)
    return digest.hexdigest()


def _blocks(path: Path, identity: Identity, block_bytes: int) -> Iterator[bytes]:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError:
        raise StillChanging(str(path)) from None
    with os.fdopen(fd, "rb", buffering=0) as handle:
        if _identity(os.fstat(fd)) != identity:
            raise StillChanging(str(path))
        total = 0
        while block := handle.read(block_bytes):
            total += len(block)
            yield block
        if _identity(os.fstat(fd)) != identity or total != identity.size:
            raise StillChanging(str(path))


def _identity(info: os.stat_result) -> Identity:
    return Identity(info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def still_same(path: Path, identity: Identity) -> bool:
    """Whether ``path`` (not followed) still names the file read, unchanged since."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    return (
        stat.S_ISREG(info.st_mode)
        and (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
        == (identity.device, identity.inode, identity.size, identity.mtime_ns)
        and identity.ctime_ns in (0, info.st_ctime_ns)
    )


def entry_still_there(path: Path, kind: str | None) -> bool:
    """Whether a non-regular entry is still there as found (moved as a link, never followed)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    return not stat.S_ISREG(info.st_mode) if kind else True
