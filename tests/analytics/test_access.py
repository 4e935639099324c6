"""Who may use the marts, proven as real login users after ``dbt build``.

Analysts (a LOGIN user of the analytics team, made by the real add-user code) read every mart
and nothing of staging, write nothing; the other teams see no mart; no mart has a column of
personal data; the refresh role owns what dbt built; and the access audit of the whole
database (the matrix, with its rule for the dbt-built schemas) finds nothing to report.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from shopdata.access.audit import audit
from shopdata.access.matrix import load_matrix
from shopdata.access.users import NewUser, add_user, drop_user

from .helpers import connect_as, fetch

PERSONAL = {"membership_id", "first_name", "last_name", "email", "mobile_no", "date_of_birth"}


@pytest.fixture(scope="module")
def users(built_db: str, pg_server: Any) -> Iterator[dict[str, NewUser]]:
    """One login user per team (cluster-wide roles: unique names, dropped after)."""
    matrix = load_matrix()
    made: dict[str, NewUser] = {}
    with psycopg.connect(built_db, autocommit=True) as conn:
        for team in ("analytics", "logistics", "sales"):
            made[team] = add_user(conn, pg_server.unique_name(f"marts_{team}"), team, matrix)
    try:
        yield made
    finally:
        with psycopg.connect(built_db, autocommit=True) as conn:
            for user in made.values():
                drop_user(conn, user.name)


def _relations(url: str, schema: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select c.relname::text from pg_class as c "
            "join pg_namespace as n on c.relnamespace = n.oid "
            "where n.nspname = %s and c.relkind in ('r', 'v') order by 1",
            (schema,),
        ).fetchall()
    return [str(r[0]) for r in rows]


def test_dbt_built_every_mart_and_staging_view(built_db: str) -> None:
    assert len(_relations(built_db, "marts")) == 11
    assert _relations(built_db, "staging") == [
        "stg_sales__items",
        "stg_sales__line_items",
        "stg_sales__members",
        "stg_sales__purchases",
        "stg_sales__removed_purchases",
    ]


def test_refresh_role_owns_what_dbt_built(built_db: str) -> None:
    owners = fetch(
        built_db,
        "select distinct pg_get_userbyid(c.relowner) from pg_class as c "
        "join pg_namespace as n on c.relnamespace = n.oid "
        "where n.nspname in ('marts', 'staging') and c.relkind in ('r', 'v')",
    )
    assert owners == [("analytics_refresh",)]


def test_no_mart_holds_personal_data(built_db: str) -> None:
    columns = fetch(
        built_db,
        "select column_name from information_schema.columns where table_schema = 'marts'",
    )
    assert {c[0] for c in columns} & PERSONAL == set()


def test_analyst_reads_every_mart_but_no_staging_and_writes_nothing(
    built_db: str, users: dict[str, NewUser]
) -> None:
    with connect_as(built_db, users["analytics"]) as conn:
        for mart in _relations(built_db, "marts"):
            conn.execute(sql.SQL("select * from marts.{} limit 1").format(sql.Identifier(mart)))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(b"select * from staging.stg_sales__purchases limit 1")
        # Sessions start read-only; an analyst can switch that off, the grants still hold.
        conn.execute(b"set default_transaction_read_only = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(b"delete from marts.dim_members")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(b"create table marts.mine (x int)")


@pytest.mark.parametrize("team", ["logistics", "sales"])
def test_other_teams_see_no_mart(built_db: str, users: dict[str, NewUser], team: str) -> None:
    with (
        connect_as(built_db, users[team]) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(b"select * from marts.dim_members limit 1")


def test_access_audit_covers_the_built_schemas(built_db: str, pg_server: Any) -> None:
    with psycopg.connect(built_db) as conn:
        checked, problems = audit(conn, load_matrix())
    assert problems == []
    name = pg_server.unique_name("analytics_unbuilt")
    unbuilt = pg_server.create_database_from_init(name)
    try:
        with psycopg.connect(unbuilt) as conn:
            before, problems_before = audit(conn, load_matrix())
    finally:
        pg_server.drop_database(name)
    assert problems_before == []
    # 11 marts + 4 staging views + the staging table of removed purchases: each found (1), and
    # x 3 teams x 8 privileges (SELECT, 4 writes, 3 never granted).
    assert checked - before == 16 * (1 + 3 * 8)


def test_audit_reports_a_mart_granted_to_the_wrong_team(built_db: str) -> None:
    with psycopg.connect(built_db) as conn:
        conn.execute(b"grant select on marts.dim_items to sales")
        try:
            _, problems = audit(conn, load_matrix())
        finally:
            conn.rollback()
    assert problems == [
        "sales SELECT marts.dim_items: the database allows, the matrix denies",
    ]
