"""Turn one landed file's bytes into a frame of applications, or a readable reason to quarantine it.

The input contract: CSV, UTF-8 (a BOM is allowed), LF or CRLF line ends, RFC 4180 quoting, a
header naming at least ``name, email, date_of_birth, mobile_no`` in any order (matched
case-insensitively after trimming), every record with exactly as many fields as the header, no
field longer than :data:`FIELD_LIMIT` characters (quoted or not). Fully blank lines are ignored.
Any other column is kept, renamed ``extra_<name>`` so that it can never collide with a column the
pipeline derives or delivers.

Error messages quote the file only as far as needed, bounded and with control characters escaped
(:func:`sanitise`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl

from shopdata.members.contract import REQUIRED_COLUMNS

_BOM = b"\xef\xbb\xbf"
LINE = "line_number"
# A byte that str.strip() keeps in ASCII text (bytes.strip() knows fewer whitespace bytes):
# searched for, so that an ASCII file is not copied just to learn that it is not blank.
_NOT_ASCII_WHITESPACE = re.compile(rb"[^ \t\n\r\x0b\x0c\x1c-\x1f]")
_LINE_BREAK = re.compile(rb"[\r\n]")
_LONE_CR = re.compile(rb"\r(?!\n)")
# Longest field accepted, in characters, on both the quoted and the unquoted path. (The csv
# module's own limit, 131,072 by default, is lifted so that both paths give the same message.)
FIELD_LIMIT = 131_072
# Longest record a file read in pieces may have, in bytes: far more than any valid one needs (a
# field of FIELD_LIMIT characters takes at most 1 MiB, quoted and with every quote doubled),
# so that a line that never ends (hostile, or no line breaks at all) is never held whole.
RECORD_LIMIT = 64 * 1024 * 1024
EXTRA_PREFIX = "extra_"
CR_LINE_ENDS = "lines end in a lone CR (old Mac/Excel format); save as CSV UTF-8 with LF or CRLF"
# How much of a header an error message may quote.
QUOTE_LIMIT = 200
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True)
class BadFile(Exception):
    """A landed file that cannot be processed: ``kind`` is a stable code, ``message`` for people."""

    kind: str
    message: str
    records: int = 0  # ragged_rows: how many records are ragged

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ParsedFile:
    """One file's applications: stripped string columns, ``line_number`` (header = line 1)."""

    frame: pl.DataFrame
    extra_columns: tuple[str, ...]
    has_controls: bool = True  # whether any field may hold a control character (see rules)


def content_hash(data: bytes) -> str:
    """SHA-256 of the raw bytes: the identity of a landed file, whatever its name."""
    return hashlib.sha256(data).hexdigest()


def check_utf8(data: bytes, first_byte: int = 0) -> None:
    """Raise :class:`BadFile` if ``data``, found at offset ``first_byte``, is not UTF-8."""
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadFile(
                "not_utf8",
                f"not UTF-8: invalid byte 0x{data[exc.start]:02x} at offset "
                f"{first_byte + exc.start}",
            ) from None


def parse_applications(data: bytes) -> ParsedFile:
    """Parse one file's bytes; raise :class:`BadFile` when they break the input contract."""
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    text: str | None = None  # decoded only when needed: ASCII is valid UTF-8
    if not data.isascii():
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadFile(
                "not_utf8", f"not UTF-8: invalid byte 0x{data[exc.start]:02x} at offset {exc.start}"
            ) from None
    if not (text.strip() if text is not None else _NOT_ASCII_WHITESPACE.search(data)):
        raise BadFile("empty", "file is empty")
    if b"\n" not in data and b"\r" in data.rstrip(b"\r"):
        raise BadFile("cr_line_ends", CR_LINE_ENDS)
    # Quoted fields (RFC 4180) need the CSV parser, on text; a quoted header may even span lines.
    # So do lone CRs among LF line ends (a broken export): the CSV parser reads them as line
    # breaks, as the header is read, where the fast path would not.
    lone_cr = b"\r" in data and data.count(b"\r") != data.count(b"\r\n")
    needs_parser = b'"' in data or lone_cr
    quoted = (text if text is not None else data.decode("ascii")) if needs_parser else None
    if quoted is not None:
        try:
            first_record = next(csv.reader(io.StringIO(quoted, newline=""), strict=True), [])
        except csv.Error as exc:
            raise BadFile("malformed_csv", f"malformed CSV at line 1: {exc}") from None
    else:
        # As the CSV parser reads it: up to the first line break, \r included; blank = no fields.
        first_break = _LINE_BREAK.search(data)
        first_line = data[: first_break.start()] if first_break else data
        first_record = first_line.decode("utf-8").split(",") if first_line else []
    header = _read_header(first_record)
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise BadFile(
            "missing_columns",
            f"missing required column(s): {', '.join(missing)} "
            f"(header: {sanitise(', '.join(header))})",
        )
    names = tuple(c if c in REQUIRED_COLUMNS else EXTRA_PREFIX + c for c in header)
    frame = _read_quoted(quoted, names) if quoted is not None else _read_unquoted(data, names)
    if frame.height == 0:
        raise BadFile("header_only", "file has a header but no data rows")
    if len(data) > FIELD_LIMIT:
        _check_field_lengths(frame)
    frame = frame.with_columns(pl.exclude(LINE).str.strip_chars())
    extras = tuple(column for column in names if column not in REQUIRED_COLUMNS)
    return ParsedFile(frame=frame, extra_columns=extras, has_controls=has_controls(data))


# Every byte but the C0 controls other than tab, LF, CR, and DEL: deleting them leaves the controls.
_NOT_CONTROL = bytes(b for b in range(256) if (b >= 0x20 or b in (9, 10, 13)) and b != 0x7F)
_C1_CONTROL = re.compile(rb"\xc2[\x80-\x9f]")  # U+0080..U+009F in UTF-8


def has_controls(data: bytes) -> bool:
    """Whether UTF-8 ``data`` holds a control character a name must not have (one C-speed pass)."""
    if data.translate(None, _NOT_CONTROL):
        return True
    return b"\xc2" in data and _C1_CONTROL.search(data) is not None


def sanitise(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` fit to quote in one line: controls escaped, cut to ``limit`` characters."""
    shown = "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )
    return shown if len(shown) <= limit else shown[:limit] + f"... ({len(text)} characters)"


def _check_field_lengths(frame: pl.DataFrame) -> None:
    # A field has at most as many characters as bytes: count characters only when bytes exceed.
    widest = frame.select(pl.exclude(LINE).str.len_bytes().max()).row(0)
    if all(width is None or width <= FIELD_LIMIT for width in widest):
        return
    longest = frame.select(pl.exclude(LINE).str.len_chars().max())
    for column in longest.columns:
        length = longest[column].item()
        if length is not None and length > FIELD_LIMIT:
            line = frame.filter(pl.col(column).str.len_chars() > FIELD_LIMIT)[LINE][0]
            raise BadFile(
                "field_too_long",
                f"field too long: column {sanitise(column.removeprefix(EXTRA_PREFIX), 60)} at "
                f"line {line} has {length:,} characters; the limit is {FIELD_LIMIT:,}",
            )


def _read_header(first_record: list[str]) -> tuple[str, ...]:
    header = tuple(column.strip().lower() for column in first_record)
    if "" in header:  # before duplicates: two blank names would read "duplicate column(s): "
        raise BadFile("blank_column", f"blank column name at position {header.index('') + 1}")
    duplicated = sorted({column for column in header if header.count(column) > 1})
    if duplicated:
        raise BadFile(
            "duplicate_columns",
            f"duplicate column(s) in header: {sanitise(', '.join(duplicated))}",
        )
    return header


def _read_unquoted(data: bytes, header: tuple[str, ...]) -> pl.DataFrame:
    """Fast path for files without quotes: Polars parses, two counts prove every line's width.

    Polars refuses a line with more fields than the header. If no line has more, the file holds
    exactly ``(width - 1) * lines`` commas only when no line has fewer either (and none is blank):
    then rows map onto lines 2, 3, ... Anything else takes :func:`_read_unquoted_exact`, which
    finds the offending lines or drops blank ones.
    """
    lines = data.count(b"\n") + (not data.endswith(b"\n"))
    commas = data.count(b",")
    # Polars also takes one trailing empty field on a last line without a newline: check it here.
    last_line = data[data.rfind(b"\n") + 1 :]
    if commas != (len(header) - 1) * lines or last_line.rstrip(b"\r").endswith(b","):
        return _read_unquoted_exact(data, header)
    try:
        frame = _polars_read(data, header)
    except pl.exceptions.ComputeError:  # a line with too many fields
        return _read_unquoted_exact(data, header)
    if frame.height != lines - 1:
        return _read_unquoted_exact(data, header)
    return frame.select(pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias(LINE), *header)


def _polars_read(data: bytes, header: tuple[str, ...]) -> pl.DataFrame:
    return pl.read_csv(
        data,
        infer_schema=False,
        has_header=True,
        new_columns=list(header),
        empty_string_is_null=False,
        quote_char=None,
        raise_if_empty=False,
    )


def _read_unquoted_exact(data: bytes, header: tuple[str, ...]) -> pl.DataFrame:
    """Count the fields of every line (NumPy), name the ragged ones, skip blank lines."""
    import numpy as np  # only here: the fast path needs no NumPy, and importing it costs ~0.1 s

    raw = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(raw == ord("\n"))
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [raw.size]))
    if starts[-1] == raw.size:  # the file ends with a newline
        starts, ends = starts[:-1], ends[:-1]
    line_of_comma = np.searchsorted(ends, np.flatnonzero(raw == ord(",")))
    fields = np.bincount(line_of_comma, minlength=starts.size) + 1
    blank = np.zeros(starts.size, dtype=bool)
    for line in np.flatnonzero(fields == 1):  # few: lines without a comma
        blank[line] = not data[starts[line] : ends[line]].strip()
    line_numbers = np.arange(1, starts.size + 1)
    data_lines = ~blank & (line_numbers > 1)
    ragged = data_lines & (fields != len(header))
    if ragged.any():
        _raise_ragged(
            int(ragged.sum()), int(line_numbers[ragged][0]), int(fields[ragged][0]), len(header)
        )
    if blank.any():  # rare: drop blank lines so that Polars rows map onto line numbers
        data = b"\n".join(line for line in data.split(b"\n") if line.strip())
    frame = _polars_read(data, header)
    return frame.with_columns(pl.Series(LINE, line_numbers[data_lines], dtype=pl.Int64)).select(
        LINE, *header
    )


def _read_quoted(text: str, header: tuple[str, ...]) -> pl.DataFrame:
    """RFC 4180 path (quoted fields, maybe with line breaks): the standard library's C parser."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    columns: list[list[str]] = [[] for _ in header]
    lines: list[int] = []
    ragged: list[tuple[int, int]] = []
    previous_end = 0
    try:
        for index, record in enumerate(reader):
            first_line, previous_end = previous_end + 1, reader.line_num
            if index == 0 or not record or (len(record) == 1 and not record[0].strip()):
                continue
            if len(record) != len(header):
                ragged.append((first_line, len(record)))
                continue
            lines.append(first_line)
            for column, value in zip(columns, record, strict=True):
                column.append(value)
    except csv.Error as exc:
        raise BadFile("malformed_csv", f"malformed CSV at line {reader.line_num}: {exc}") from None
    if ragged:
        _raise_ragged(len(ragged), ragged[0][0], ragged[0][1], len(header))
    series = [
        pl.Series(name, values, dtype=pl.String)
        for name, values in zip(header, columns, strict=True)
    ]
    return pl.DataFrame([pl.Series(LINE, lines, dtype=pl.Int64), *series])


def _raise_ragged(count: int, line: int, fields: int, width: int) -> None:
    raise BadFile(
        "ragged_rows",
        f"ragged rows: {count} record(s) do not have the header's {width} fields; "
        f"the first is at line {line} with {fields}",
        count,
    )


# Data in which counting quotes finds the parser's quoted fields: each odd quote opens a field
# (at the data's or a line's start, after a comma, or as the second of a doubled ``""``) and the
# next quote closes it (or the data ends first). Matched in C, atomically (no backtracking).
_QUOTES_PAIR_AT_FIELD_STARTS = re.compile(
    rb'(?:[^"]++|(?:(?<=[,\n"])|(?<![\s\S]))"[^"]*+(?:"|\Z))*+'
)


def _outside_quotes(data: bytes) -> Iterator[tuple[int, int]]:
    """The stretches ``(start, stop)`` of ``data`` outside quoted fields, as the CSV parser reads
    it (``data`` starts at a record's start, maybe with a BOM): a line feed in one ends a record.

    A ``"`` opens a quoted field only at the start of a field (first in the data or the record,
    or after a comma); anywhere else, as in ``O"Hara`` or ``5'11"``, the parser keeps it as a
    literal, so counting quotes would take it for the start of a field that spans lines. Inside
    a quoted field ``""`` is a quote; the field ends at the next lone ``"`` (or runs to the end).
    """
    pos = 0
    first = len(_BOM) if data.startswith(_BOM) else 0
    while True:
        quote = data.find(b'"', pos)
        if quote < 0:
            yield pos, len(data)
            return
        if quote != first and data[quote - 1] not in b",\n":
            yield pos, quote + 1  # a literal quote inside an unquoted field
            pos = quote + 1
            continue
        yield pos, quote
        close = data.find(b'"', quote + 1)
        while close >= 0 and data[close + 1 : close + 2] == b'"':
            close = data.find(b'"', close + 2)
        if close < 0:
            return  # a quoted field still open at the end: no record ends in it
        pos = close + 1


def record_cut(buffer: bytes | memoryview) -> int:
    """Length of the longest prefix of ``buffer`` that ends a record: after a line feed outside
    quoted fields, as the CSV parser reads them (see :func:`_outside_quotes`).

    0 when no record ends in ``buffer``. Cutting a file there splits it into pieces each of which
    parses on its own, and never splits a UTF-8 character (0x0A is never inside one).
    """
    data = bytes(buffer) if isinstance(buffer, memoryview) else buffer
    end = data.rfind(b"\n")
    if end < 0 or b'"' not in data:
        return end + 1
    if not _QUOTES_PAIR_AT_FIELD_STARTS.fullmatch(data[3:] if data.startswith(_BOM) else data):
        cut = 0  # a literal quote somewhere: follow the parser's reading (slower, and rare)
        for start, stop in _outside_quotes(data):
            cut = max(cut, data.rfind(b"\n", start, stop) + 1)
        return cut
    # Every quote pairs up as the parser's do: a line feed after an even number ends a record.
    after = data.count(b'"', end)
    total = after + data.count(b'"', 0, end)
    while end >= 0 and (total - after) % 2:
        previous = data.rfind(b"\n", 0, end)
        after += data.count(b'"', previous + 1 if previous >= 0 else 0, end)
        end = previous
    return end + 1


def parse_piece(header: bytes, piece: bytes, first_line: int, first_byte: int) -> pl.DataFrame:
    """Parse one piece of a large file (whole records, see :func:`record_cut`) after the header.

    ``header`` is the file's header record as landed (line break included, BOM dropped), and
    ``first_line``/``first_byte`` the file's line number and offset of the piece's first byte.
    Line numbers and offsets in the frame and in any :class:`BadFile` message are the file's. A
    piece of nothing but blank lines gives no rows.
    """
    header_lines = header.count(b"\n")
    shift = first_line - 1 - header_lines
    try:
        parsed = parse_applications(header + piece)
    except BadFile as bad:
        if bad.kind in ("header_only", "empty"):
            return pl.DataFrame()
        message = re.sub(r"\bline (\d+)", lambda m: f"line {int(m[1]) + shift}", bad.message)
        moved = first_byte - len(header)
        message = re.sub(r"at offset (\d+)", lambda m: f"at offset {int(m[1]) + moved}", message)
        raise BadFile(bad.kind, message, bad.records) from None
    return parsed.frame.with_columns(pl.col(LINE) + shift)


BOM = _BOM


def first_lone_cr(data: bytes, end: int | None = None) -> int:
    """Offset of the first CR of ``data[:end]`` outside quoted fields and not followed by a line
    feed (a line break to the CSV parser, where :func:`record_cut` cuts after line feeds only);
    -1 when none. ``data`` starts at a record's start, as for :func:`record_cut`.

    A CR inside a quoted field is data, to the parser and to the cuts alike. A CR at ``end - 1``
    is not counted: its line feed may be the next byte, not yet read.
    """
    if b"\r" not in data or data.count(b"\r") == data.count(b"\r\n"):
        return -1
    limit = len(data) if end is None else end
    if b'"' not in data:
        found = _LONE_CR.search(data, 0, limit)
        return found.start() if found else -1
    # Up to the first lone CR outside quotes, the quotes are read as the cuts read them.
    for start, stop in _outside_quotes(data):
        if start >= limit:
            break
        found = _LONE_CR.search(data, start, min(stop, limit))
        if found:
            return found.start()
    return -1


def first_record_end(data: bytes) -> int:
    """Length of the first record of ``data`` with its line break (a quoted header may span
    lines, see :func:`_outside_quotes`); ``len(data)`` when none ends."""
    for start, stop in _outside_quotes(data):
        end = data.find(b"\n", start, stop)
        if end >= 0:
            return end + 1
    return len(data)
