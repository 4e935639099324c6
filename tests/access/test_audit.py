"""``shopdata db audit-access``: a live database's catalog compared with the matrix.

The proof needs test users; a production server needs a check that only reads the catalog.
Here it runs on the proof database (compliant), then after three kinds of drift an operator
could introduce by hand: a stray column grant, a table nobody decided about, PUBLIC regaining
CONNECT.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from typer.testing import CliRunner

from shopdata.cli import app
from shopdata.salesdb.access import NEVER, Matrix, cells

from .conftest import ProofDb, owner_url


def run(url: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["db", "audit-access", "--database-url", url])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def expected_decisions(matrix: Matrix) -> int:
    """Relations, every cell but SELECT * (implied by the columns), the never-granted table
    privileges, and schema/database privileges of the teams and PUBLIC."""
    relations = len(matrix.relations)
    teams = len(matrix.teams)
    column_cells = len(list(cells(matrix))) - relations * teams
    never = len(NEVER) * relations * teams
    scope = (teams + 1) * (2 * len(matrix.schemas) + 3)
    return relations + column_cells + never + scope


def test_the_proof_database_is_compliant(proof_db: ProofDb, matrix: Matrix) -> None:
    url = owner_url(proof_db)
    n = expected_decisions(matrix)
    assert run(url) == (
        0,
        f"{url}: {n} decisions checked, all as db/access/matrix.yaml says\n",
        "",
    )


@pytest.fixture
def drift(owner_conn: psycopg.Connection[tuple[object, ...]], proof_db: ProofDb) -> Iterator[None]:
    """Three hand-made deviations from the matrix, undone afterwards."""
    db = sql.Identifier(proof_db.name)
    owner_conn.execute("grant select (email) on sales.members to logistics")
    owner_conn.execute("create table sales.zz_audit_new (id integer)")
    owner_conn.execute(sql.SQL("grant connect on database {} to public").format(db))
    try:
        yield
    finally:
        owner_conn.execute(sql.SQL("revoke connect on database {} from public").format(db))
        owner_conn.execute("drop table sales.zz_audit_new")
        owner_conn.execute("revoke select (email) on sales.members from logistics")


def test_drift_is_reported_line_by_line(drift: None, proof_db: ProofDb) -> None:
    url = owner_url(proof_db)
    assert run(url) == (
        1,
        "sales.zz_audit_new exists but is not in the matrix: decide who may use it\n"
        "logistics SELECT sales.members.email: the database allows, the matrix denies\n"
        "public holds CONNECT on the database, the matrix says the opposite\n",
        f"Error: 3 difference(s) between {url} and db/access/matrix.yaml\n",
    )


def test_unreachable_database() -> None:
    code, out, err = run("postgresql://postgres@127.0.0.1:1/x")
    assert (code, out) == (1, "")
    assert err.startswith("Error: cannot audit the database: ")
    assert err.count("\n") == 1
