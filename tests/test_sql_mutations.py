"""tools/sql_mutations.py: its list matches the SQL as it is, and it refuses bad arguments.

The full run (``make sql-mutation``) takes half an hour and is not part of ``make test``; these
checks keep the list from rotting silently between runs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOOL = REPO / "tools" / "sql_mutations.py"

sys.path.insert(0, str(TOOL.parent))
import sql_mutations  # noqa: E402


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), *args], capture_output=True, text=True, check=False
    )


def test_every_mutation_applies_to_exactly_one_place() -> None:
    stale = [
        f"{n} {m.path}: {m.original!r}"
        for n, m in enumerate(sql_mutations.MUTATIONS, start=1)
        if (REPO / m.path).read_text(encoding="utf-8").count(m.original) != 1
    ]
    assert stale == [], "the SQL changed: update these lines in tools/sql_mutations.py"


def test_every_mutation_changes_the_file_and_covers_init_and_analyst_sql() -> None:
    mutations = sql_mutations.MUTATIONS
    assert all(m.original != m.mutant for m in mutations)
    folders = {Path(m.path).parent.as_posix() for m in mutations}
    assert folders == {
        "src/shopdata/salesdb/sql/initdb",
        "src/shopdata/salesdb/sql/analyst",
        "src/shopdata/salesdb/sql/salesdb",  # db check, its repair, the reference answers
    }


def test_list_prints_every_mutation() -> None:
    result = run("--list", "--only", "1", "2")
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == (
        "  1 src/shopdata/salesdb/sql/initdb/020_members.sql: membership_id has exactly 5 hex digits"
    )
    assert len(result.stdout.splitlines()) == 4


def test_unknown_mutation_number_is_a_usage_error() -> None:
    result = run("--only", "999")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == ("sql_mutations.py: error: no mutation numbered 999")


def test_non_numeric_mutation_number_is_a_usage_error() -> None:
    result = run("--only", "one")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "sql_mutations.py: error: argument --only: invalid int value: 'one'"
    )
