"""`shopdata db` against a server that answers but has no sales schema, and against a pipeline
output folder whose run markers are broken: one ``Error:`` line and exit code 1, no traceback.

Found by an outside test of issue 19: ``DATABASE_URL`` pointing at a database where ``db up``
never ran gave a psycopg traceback from every command that reads the schema; a corrupt or
dangling ``committed/*.json`` gave a JSONDecodeError / FileNotFoundError traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shopdata.cli import app
from shopdata.config import get_settings

SALES_OK = Path(__file__).parent / "data" / "sales_ok"


@pytest.fixture
def empty_db_env(pg_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """DATABASE_URL of a database that exists but holds no sales schema."""
    name = pg_server.unique_name("no_schema")
    url = pg_server.create_database(name)
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        yield url
    finally:
        get_settings.cache_clear()
        pg_server.drop_database(name)


NO_SCHEMA = [
    (["db", "query", "top-members"], 'relation "sales.summary_deltas" does not exist'),
    (["db", "query", "top-items"], 'relation "sales.summary_deltas" does not exist'),
    (["db", "check"], 'relation "sales.summary_deltas" does not exist'),
    (["db", "roll-up"], 'schema "sales" does not exist'),
    (["db", "repair-summaries"], 'schema "sales" does not exist'),
    (["db", "seed", "-q", "--transactions", "5"], 'relation "sales.transactions" does not exist'),
    (["db", "load-sales", str(SALES_OK)], 'schema "sales" does not exist'),
]


@pytest.mark.parametrize(("args", "cause"), NO_SCHEMA, ids=[" ".join(a[:3]) for a, _ in NO_SCHEMA])
def test_a_database_without_the_schema_is_one_error_line(
    empty_db_env: str, args: list[str], cause: str
) -> None:
    result = CliRunner().invoke(app, args)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"Error: the database has no sales schema ({cause}): `shopdata db up` creates it; "
        "nothing was changed\n"
    )


def test_load_members_into_a_database_without_the_schema(empty_db_env: str, tmp_path: Path) -> None:
    folder = tmp_path / "out" / "successful"
    folder.mkdir(parents=True)
    (folder / "a.csv").write_text(
        "membership_id,first_name,last_name,email,mobile_no,date_of_birth,above_18\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["db", "load-members", str(tmp_path / "out")])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        'Error: the database has no sales schema (schema "sales" does not exist): '
        "`shopdata db up` creates it; nothing was changed\n"
    )


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        (
            "{",
            "committed/run1.json: not a run marker of the pipeline (JSONDecodeError: Expecting "
            "property name enclosed in double quotes: line 2 column 1 (char 2)); nothing was loaded",
        ),
        (
            '{"run_id": "run1"}',
            "committed/run1.json: not a run marker of the pipeline (KeyError: 'outputs'); "
            "nothing was loaded",
        ),
        (
            '{"outputs": {"successful": "successful/gone.csv"}}',
            "committed/run1.json names successful/gone.csv, which is missing; nothing was loaded",
        ),
    ],
    ids=["not-json", "no-outputs", "dangling"],
)
def test_a_broken_run_marker_is_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, marker: str, message: str
) -> None:
    (tmp_path / "out" / "committed").mkdir(parents=True)
    (tmp_path / "out" / "committed" / "run1.json").write_text(marker + "\n", encoding="utf-8")
    # Refused before any connection: the URL need not answer.
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["db", "load-members", str(tmp_path / "out")])
    finally:
        get_settings.cache_clear()
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"Error: {message}\n")
