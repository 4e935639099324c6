"""The question catalogue: ``analytics/questions/NAME.sql``, each over the dbt marts.

``shopdata db query NAME`` runs one (``top_items_last_month.sql`` is ``top-items-last-month``).
Each file starts with a comment whose first line is the question and whose next lines define
it; the SQL takes no parameters, so its text is sent as it is (like ``salesdb/sql/analyst``).
"""

from __future__ import annotations

from pathlib import Path

import psycopg

from shopdata.salesdb.queries import QueryResult

QUESTIONS_DIR = Path(__file__).resolve().parents[3] / "analytics" / "questions"


def command_name(path: Path) -> str:
    """``top_items_last_month.sql`` -> ``top-items-last-month``."""
    return path.stem.replace("_", "-")


def question_files(directory: Path = QUESTIONS_DIR) -> dict[str, Path]:
    """Every question by command name, sorted by name."""
    return {command_name(p): p for p in sorted(directory.glob("*.sql"))}


def title(path: Path) -> str:
    """The question: the first line of the file's leading comment, without ``-- ``."""
    first = path.read_text(encoding="utf-8").splitlines()[0] if path.stat().st_size else ""
    return first.removeprefix("--").strip() or path.stem


def run_question(url: str, name: str, directory: Path = QUESTIONS_DIR) -> QueryResult:
    """Run question ``name`` against the database in ``url`` (KeyError if there is none)."""
    path = question_files(directory)[name]
    with psycopg.connect(url) as conn:
        cur = conn.execute(path.read_bytes())
        columns = [c.name for c in cur.description or []]
        return QueryResult(columns=columns, rows=list(cur.fetchall()))
