"""Nothing an analyst can read reaches contact data, the birthday or membership_id.

The lead's decision (docs/analytics.md, "Access"): analysts may read members' names and
member_key in sales.members (a top-spenders list must say who), so member_key in the marts
re-identifies a member only as far as analysts already see. What stays out of their reach is
email, mobile number, date of birth and membership_id (which encodes the birthday). Proven as a
real login user of the analytics team, by value: every column of every relation it may SELECT,
in every schema (the marts, the sales grants, the analytics views), is read in full and none
holds one of those values. The same sweep run as the owner finds them (the detector works).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from shopdata.access.matrix import load_matrix
from shopdata.access.users import NewUser, add_user, drop_user

from .helpers import connect_as, fetch

SECRETS = ("email", "mobile_no", "date_of_birth", "membership_id")

#: Every column the session may SELECT, of every table, view and materialised view outside the
#: catalogs: (schema, relation, column).
READABLE = """
select n.nspname::text, c.relname::text, a.attname::text
from pg_class as c
inner join pg_namespace as n on c.relnamespace = n.oid
inner join pg_attribute as a on c.oid = a.attrelid and a.attnum > 0 and not a.attisdropped
where
    c.relkind in ('r', 'v', 'm', 'p', 'f')
    and n.nspname not in ('pg_catalog', 'information_schema')
    and n.nspname not like 'pg\\_%'
    and has_schema_privilege(n.oid, 'USAGE')
    and has_column_privilege(c.oid, a.attnum, 'SELECT')
order by 1, 2, 3
"""


@pytest.fixture(scope="module")
def analyst(built_db: str, pg_server: Any) -> Iterator[NewUser]:
    with psycopg.connect(built_db, autocommit=True) as conn:
        user = add_user(conn, pg_server.unique_name("pii_analyst"), "analytics", load_matrix())
    try:
        yield user
    finally:
        with psycopg.connect(built_db, autocommit=True) as conn:
            drop_user(conn, user.name)


def _secret_values(url: str) -> dict[str, set[str]]:
    """Every member's value of each secret column, as text (read as the owner)."""
    values: dict[str, set[str]] = {}
    for column in SECRETS:
        rows = fetch(
            url,
            sql.SQL("select distinct {}::text from sales.members")
            .format(sql.Identifier(column))
            .as_string(),
        )
        values[column] = {str(r[0]) for r in rows}
    return values


def _leaks(conn: psycopg.Connection[tuple[Any, ...]], secrets: dict[str, set[str]]) -> set[str]:
    """``schema.relation.column -> secret`` for every readable column holding a secret value."""
    found = set()
    for schema, relation, column in conn.execute(READABLE.encode()).fetchall():
        query = sql.SQL("select distinct {}::text from {}.{}").format(
            sql.Identifier(column), sql.Identifier(schema), sql.Identifier(relation)
        )
        values = {str(r[0]) for r in conn.execute(query).fetchall() if r[0] is not None}
        for secret, secret_values in secrets.items():
            if values & secret_values:
                found.add(f"{schema}.{relation}.{column} -> {secret}")
    return found


def test_analyst_reads_no_contact_data_birthday_or_membership_id(
    built_db: str, analyst: NewUser
) -> None:
    secrets = _secret_values(built_db)
    assert all(len(v) == 8 for v in secrets.values())  # the fixture's 8 members
    with connect_as(built_db, analyst) as conn:
        readable = conn.execute(READABLE.encode()).fetchall()
        schemas = {r[0] for r in readable}
        assert {"marts", "sales", "analytics"} <= schemas
        assert "staging" not in schemas
        assert {r[2] for r in readable} & set(SECRETS) == set()
        assert _leaks(conn, secrets) == set()


def test_member_key_reaches_only_what_analysts_already_see(built_db: str, analyst: NewUser) -> None:
    """member_key in the marts joins to sales.members' names (granted), and to nothing more."""
    with connect_as(built_db, analyst) as conn:
        top = conn.execute(
            b"select m.first_name, m.last_name, d.total_spent from marts.dim_members as d "
            b"inner join sales.members as m on d.member_key = m.member_key "
            b"order by d.total_spent desc, m.member_key limit 1"
        ).fetchall()
        assert [(f, n) for f, n, _ in top] == [("Bob", "Bala")]
        for column in SECRETS:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(
                    sql.SQL("select m.{} from sales.members as m limit 1").format(
                        sql.Identifier(column)
                    )
                )


def test_the_sweep_finds_the_secrets_where_they_are(built_db: str) -> None:
    """Run as the owner, the same sweep reports sales.members' columns: it would see a leak."""
    with psycopg.connect(built_db, autocommit=True) as conn:
        leaks = _leaks(conn, _secret_values(built_db))
    assert {
        "sales.members.email -> email",
        "sales.members.mobile_no -> mobile_no",
        "sales.members.date_of_birth -> date_of_birth",
        "sales.members.membership_id -> membership_id",
    } <= leaks
