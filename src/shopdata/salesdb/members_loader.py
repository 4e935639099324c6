"""``shopdata db load-members``: the membership pipeline's successful output into sales.members.

Contract (the pipeline's, relied on exactly): ``successful/**/*.csv`` under the output folder,
UTF-8, header ``membership_id,first_name,last_name,email,mobile_no,date_of_birth,above_18``,
``date_of_birth`` as ``YYYYMMDD``, ``above_18`` as ``true``/``false``. Any cell may carry the one
leading ``'`` that defuses spreadsheet formulas; it is removed. The header and both directions of
the escaping come from :mod:`shopdata.members.contract`, the pipeline's own definitions.

One run is one database transaction (all files or nothing), COPY-based through a staging table
that carries the members table's own CHECK constraints, and idempotent: members already present
(same membership_id) are counted and left alone.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from shopdata.members.contract import SUCCESSFUL_COLUMNS, unescape_cell
from shopdata.salesdb.queries import read_sql
from shopdata.salesdb.staging import (
    LoadError,
    StagedSource,
    copy_rows,
    create_staging,
    move_staged,
)

#: The pipeline's successful-output header, exactly (also the staging table's column order).
HEADER = list(SUCCESSFUL_COLUMNS)
STAGING = "members_in"


@dataclass(frozen=True)
class MembersReport:
    """What one run found and did."""

    files: int
    rows: int
    new: int
    already_present: int


def find_member_files(output_dir: Path) -> list[Path]:
    """Every committed successful CSV under the pipeline's output folder, in a stable order.

    The pipeline marks each run that counts with ``committed/<run_id>.json`` once its outputs are
    published; when the folder has such markers, only the successful files they name are read (a
    run caught half-published is read once it is finished). A folder without any marker (written
    by hand, or before markers existed) is read whole.
    """
    markers = sorted((output_dir / "committed").glob("*.json"))
    if not markers:
        return sorted((output_dir / "successful").glob("**/*.csv"))
    files = []
    for marker in markers:
        display = marker.relative_to(output_dir).as_posix()
        try:
            named = (
                output_dir / json.loads(marker.read_text(encoding="utf-8"))["outputs"]["successful"]
            )
        except (ValueError, KeyError, TypeError) as error:
            raise LoadError(
                f"{display}: not a run marker of the pipeline ({type(error).__name__}: "
                f"{error}); nothing was loaded"
            ) from None
        if not named.is_file():
            raise LoadError(
                f"{display} names {named.relative_to(output_dir).as_posix()}, which is missing; "
                "nothing was loaded"
            )
        files.append(named)
    return sorted(files)


def _rows(path: Path, display: str) -> Iterator[list[str | None]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header != HEADER:
            raise LoadError(
                f"{display}: header is {','.join(header or [])!r}, expected "
                f"{','.join(HEADER)!r}; nothing was loaded"
            )
        for line_no, row in enumerate(reader, start=2):
            if len(row) != len(HEADER):
                raise LoadError(
                    f"{display} line {line_no}: expected {len(HEADER)} fields, found "
                    f"{len(row)}; nothing was loaded"
                )
            # Every cell unescaped; empty is NULL, except first_name ('' for a one-word name).
            yield [
                value if column == "first_name" else value or None
                for column, value in zip(HEADER, map(unescape_cell, row), strict=True)
            ]


def load_members(url: str, output_dir: Path) -> MembersReport:
    """Load every successful file under ``output_dir``; all or nothing, idempotent."""
    files = find_member_files(output_dir)
    if not files:
        raise LoadError(f"no successful/**/*.csv files under {output_dir}; nothing was loaded")
    total = 0
    with psycopg.connect(url) as conn, conn.transaction():
        create_staging(conn, "members", STAGING)
        for path in files:
            display = path.relative_to(output_dir).as_posix()
            total += copy_rows(conn, STAGING, HEADER, _rows(path, display), StagedSource(display))
        conflict = conn.execute(read_sql("salesdb/members_conflicting_duplicates.sql")).fetchone()
        if conflict is not None:
            membership_id, first_at, second_at = conflict
            raise LoadError(
                f"membership_id {membership_id} appears twice with different details "
                f"({first_at} and {second_at}); nothing was loaded"
            )
        distinct_row = conn.execute(read_sql("salesdb/members_staged_count.sql")).fetchone()
        distinct = int(distinct_row[0]) if distinct_row else 0
        new = move_staged(conn, STAGING, "members", HEADER, on_conflict_do_nothing="membership_id")
    return MembersReport(files=len(files), rows=total, new=new, already_present=distinct - new)
