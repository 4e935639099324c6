"""Batch scoring: ``shopdata carprice predict --csv cars.csv``.

The input is a CSV file whose header names attributes (any subset of maint, doors, persons,
lug_boot, safety, class, in any order); an empty cell means the attribute is not given for that
row, which is marginalised over like a left-out option. The output has one row per input row:
its line number, its values, the chosen model's predicted price (``no clear answer`` when the
top two probabilities are within the margin) and the four probabilities.

The whole file is checked before anything is written: every bad row is reported with its line
number and nothing (not even a header) reaches stdout or ``--output``. The output file is
written to a temporary file next to it and renamed, so a reader never sees half of it.
"""

from __future__ import annotations

import csv
import io
import os
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shopdata.carprice.data import CLASSES, FEATURES, TARGET, Row
from shopdata.carprice.predict import Scorer, check_query, predict_many
from shopdata.carprice.verdict import clear_top

NO_CLEAR_ANSWER = "no clear answer"
SHOWN_ERRORS = 20
"""Bad rows listed one by one; the rest are counted."""


class BatchError(ValueError):
    """The input cannot be scored; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems[0] if problems else "bad input")
        self.problems = problems


@dataclass(frozen=True)
class Queries:
    """The parsed input: its columns and, per data row, its line number and given values."""

    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]


def _header(fields: list[str]) -> list[str]:
    columns = [field.strip() for field in fields]
    expected = ", ".join(FEATURES)
    if not any(columns):
        raise BatchError([f"line 1: no header; expected attribute names among: {expected}"])
    problems: list[str] = []
    for number, name in enumerate(columns, start=1):
        if name == TARGET:
            problems.append(
                f"line 1: column {number} is {TARGET!r}, the price the model predicts, "
                f"not an input; expected attribute names among: {expected}"
            )
        elif name not in FEATURES:
            problems.append(
                f"line 1: column {number} is {name!r}, expected attribute names among: {expected}"
            )
        elif columns.index(name) != number - 1:
            problems.append(f"line 1: column {name!r} appears twice")
    if problems:
        raise BatchError(problems)
    return columns


def parse_queries(text: str) -> Queries:
    """Parse the CSV text; raise :class:`BatchError` listing every bad line."""
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    try:
        first = next(reader, None)
    except csv.Error as error:
        raise BatchError([f"line 1: {error}"]) from None
    if first is None:
        raise BatchError(["the file is empty; expected a header of attribute names"])
    columns = _header(first)
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[str] = []
    line = reader.line_num
    while True:
        start = line + 1
        try:
            fields = next(reader, None)
        except csv.Error as error:
            problems.append(f"line {start}: {error}")
            break
        line = reader.line_num
        if fields is None:
            break
        if not fields or (len(fields) == 1 and not fields[0].strip() and len(columns) > 1):
            continue  # a blank line
        if len(fields) != len(columns):
            problems.append(
                f"line {start}: expected {len(columns)} value(s) ({', '.join(columns)}), "
                f"got {len(fields)}"
            )
            continue
        values = {
            name: value.strip()
            for name, value in zip(columns, fields, strict=True)
            if value.strip()
        }
        try:
            rows.append((start, check_query(values)))
        except ValueError as error:
            problems.append(f"line {start}: {error}")
    if problems:
        raise BatchError(problems)
    return Queries(columns=columns, rows=rows)


def read_queries(path: Path) -> Queries:
    """Read and parse ``path``; every problem, the file's included, as :class:`BatchError`."""
    try:
        payload = path.read_bytes()
    except FileNotFoundError:
        raise BatchError([f"{path}: no such file"]) from None
    except IsADirectoryError:
        raise BatchError([f"{path}: is a directory, expected a CSV file"]) from None
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BatchError([f"{path}: not UTF-8 text ({error.reason})"]) from None
    try:
        return parse_queries(text)
    except BatchError as error:
        raise BatchError([f"{path}: {problem}" for problem in error.problems]) from None


def score(
    queries: Queries,
    scorer: Scorer,
    table_rows: Sequence[Row],
    margin: float,
) -> list[list[str]]:
    """The output rows (header first) for every query, each distinct query computed once."""
    header = ["line", *queries.columns, "predicted", *CLASSES]
    out = [header]
    cache: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for number, given in queries.rows:
        key = tuple(given.items())
        if key not in cache:
            prediction = predict_many({"": scorer}, table_rows, given)[""]
            probabilities = prediction.probabilities
            top = clear_top(probabilities, margin)
            cache[key] = [top or NO_CLEAR_ANSWER, *(f"{probabilities[c]:.6f}" for c in CLASSES)]
        values = [given.get(name, "") for name in queries.columns]
        out.append([str(number), *values, *cache[key]])
    return out


def render(rows: Sequence[Sequence[str]]) -> str:
    """The rows as CSV text (``\\n`` line ends)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename.

    A symbolic link is written through, never replaced: the rename goes to the link's target.
    A target that is not a regular file (``/dev/stdout``, a named pipe) cannot be renamed over,
    so it is written directly. The file keeps the mode of the file it replaces; a new one gets
    the mode a plain ``open`` would give it (``0o666`` less the umask), not ``mkstemp``'s 0600.
    """
    target = path.resolve()
    if target.exists() and not target.is_file():
        with target.open("w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        return
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o666 & ~_umask()
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def summary(problems: Sequence[str], output: Path | None) -> list[str]:
    """The lines reported for a rejected input: the first problems, then the count."""
    shown = list(problems[:SHOWN_ERRORS])
    if len(problems) > SHOWN_ERRORS:
        shown.append(f"… and {len(problems) - SHOWN_ERRORS} more problem(s)")
    where = str(output) if output is not None else "stdout"
    shown.append(f"{len(problems)} problem(s); nothing written to {where}")
    return shown
