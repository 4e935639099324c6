"""The proof: every cell of src/shopdata/access/matrix.yaml, tried by a real login user of each team.

For each team, table/view, column and operation the matrix decides, a member of the team
(logged in with its own SCRAM password, not the superuser, not ``SET ROLE``) runs the smallest
statement that needs exactly that privilege:

* ``SELECT *`` and ``SELECT column``: allowed ones must return exactly what the owner sees;
* ``INSERT (column) ... WHERE false``, ``UPDATE ... SET column ... WHERE false``,
  ``DELETE ... WHERE false``: PostgreSQL checks privileges when the statement starts, before it
  looks at a single row, so the probe proves the privilege without changing data;
* ``TRUNCATE`` (inside a transaction that is rolled back).

Denied means PostgreSQL's own ``insufficient_privilege`` error (SQLSTATE 42501) with its exact
message; allowed means no error at all. Every probe runs in a transaction that is rolled back.
A view over a join (``sales.transaction_members``) is not updatable at all, so PostgreSQL refuses
writes to it before it looks at privileges; for those the catalog must also say "no privilege".
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from psycopg import sql

from shopdata.access.matrix import Cell, Matrix, cells, load_matrix

MATRIX = load_matrix()
CELLS = list(cells(MATRIX))


def _id(cell: Cell) -> str:
    verdict = "allowed" if cell.allowed else "denied"
    return f"{cell.team}:{cell.relation}:{cell.op}:{cell.column or '*'}:{verdict}"


def probe(cell: Cell, matrix: Matrix) -> sql.Composed:
    """The statement that needs exactly the privilege of ``cell``."""
    schema, _, name = cell.relation.partition(".")
    rel = sql.Identifier(schema, name)
    first = matrix.relations[cell.relation].columns[0]
    col = sql.Identifier(cell.column or first)
    templates = {
        ("select", True): "select * from {rel}",
        ("select", False): "select {col} from {rel}",
        # OVERRIDING SYSTEM VALUE and DEFAULT: an identity column (members.member_key) would
        # otherwise be refused for being an identity before its privilege is even looked at.
        ("insert", False): "insert into {rel} ({col}) overriding system value "
        "select null where false",
        ("insert", True): "insert into {rel} ({col}) overriding system value "
        "select null where false",
        ("update", False): "update {rel} set {col} = default where false",
        ("update", True): "update {rel} set {col} = default where false",
        ("delete", True): "delete from {rel} where false",
        ("truncate", True): "truncate {rel}",
    }
    return sql.SQL(templates[(cell.op, cell.column is None)]).format(rel=rel, col=col)


#: Errors PostgreSQL raises for a write into a view before it checks privileges: a view over a
#: join is not updatable (55000); a view column backed by an identity column cannot be set (428C9).
NOT_WRITABLE_VIEW = {"insert": "insert into", "update": "update", "delete": "delete from"}
NOT_WRITABLE: dict[str, Callable[[Cell], str]] = {
    "55000": lambda cell: (
        f'cannot {NOT_WRITABLE_VIEW[cell.op]} view "{cell.relation.partition(".")[2]}"'
    ),
    "428C9": lambda cell: (
        f'column "{cell.column or MATRIX.relations[cell.relation].columns[0]}" can only be '
        "updated to DEFAULT"
    ),
}


def denial(cell: Cell, matrix: Matrix) -> str:
    """PostgreSQL's message: the schema if the team may not look into it, else the relation."""
    schema, _, name = cell.relation.partition(".")
    if cell.team not in matrix.schemas[schema].usage:
        return f"permission denied for schema {schema}"
    return f"permission denied for {matrix.relations[cell.relation].kind} {name}"


@pytest.mark.parametrize("cell", CELLS, ids=_id)
def test_cell(
    cell: Cell,
    team_conn: dict[str, psycopg.Connection[tuple[object, ...]]],
    owner_conn: psycopg.Connection[tuple[object, ...]],
    record_check: Callable[[str, int], None],
) -> None:
    conn = team_conn[cell.team]
    statement = probe(cell, MATRIX)
    if cell.allowed:
        with conn.transaction(force_rollback=True):
            cur = conn.execute(statement)
            rows = cur.fetchall() if cur.description else None
        if cell.op == "select":
            assert rows is not None
            expected = owner_conn.execute(statement).fetchall()
            assert sorted(rows, key=repr) == sorted(expected, key=repr)
            assert len(rows) > 0, "the seed must give every readable relation rows"
        else:
            assert cur.rowcount == 0
        record_check("matrix cells allowed", 1)
    else:
        with (
            pytest.raises(psycopg.Error) as raised,
            conn.transaction(force_rollback=True),
        ):
            conn.execute(statement)
        if raised.value.sqlstate in NOT_WRITABLE:
            # Refused before privileges are looked at; the catalog must agree it is not held.
            assert MATRIX.relations[cell.relation].kind == "view"
            assert raised.value.diag.message_primary == NOT_WRITABLE[raised.value.sqlstate](cell)
            held = conn.execute(
                "select has_table_privilege(%s, %s)", (cell.relation, cell.op)
            ).fetchone()
            assert held == (False,)
        else:
            assert raised.value.sqlstate == "42501", raised.value.diag.message_primary
            assert raised.value.diag.message_primary == denial(cell, MATRIX)
        record_check("matrix cells denied", 1)
