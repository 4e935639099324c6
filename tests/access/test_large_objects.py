"""No team member can create a large object, by any of PostgreSQL's ways to make one.

Large objects need no schema privilege: by default every role may create them, and each one is
storage the owner never granted. 090_roles.sql promises that in the sales database only the
owner creates them. Each team's login user (its own password, over TCP) calls every creating
function of ``pg_catalog``; each call must be refused by PostgreSQL's privilege check, and no
large object may exist afterwards. The list of creating functions is compared with the live
catalog, so a new overload in a later PostgreSQL shows up here as a failure, not as a gap.
"""

from __future__ import annotations

import psycopg
import pytest

from .conftest import TEAMS, ProofDb, assert_function_denied

#: Every function that creates a large object, and a call of it.
CREATORS: dict[str, str] = {
    "lo_creat(integer)": "select pg_catalog.lo_creat(-1)",
    "lo_create(oid)": "select pg_catalog.lo_create(0)",
    "lo_from_bytea(oid,bytea)": "select pg_catalog.lo_from_bytea(0, 'x'::bytea)",
    "lo_import(text)": "select pg_catalog.lo_import('/dev/null')",
    "lo_import(text,oid)": "select pg_catalog.lo_import('/dev/null', 0)",
}


def test_the_list_of_creating_functions_is_complete(
    owner_conn: psycopg.Connection[tuple[object, ...]],
) -> None:
    rows = owner_conn.execute(
        "select p.oid::regprocedure::text from pg_catalog.pg_proc as p "
        "where p.pronamespace = 'pg_catalog'::regnamespace "
        "and p.proname in ('lo_creat', 'lo_create', 'lo_from_bytea', 'lo_import') "
        "order by 1"
    ).fetchall()
    assert sorted(r[0] for r in rows) == sorted(CREATORS)


@pytest.mark.parametrize("signature", sorted(CREATORS))
@pytest.mark.parametrize("team", TEAMS)
def test_team_cannot_create_a_large_object(
    team: str,
    signature: str,
    proof_db: ProofDb,
    team_conn: dict[str, psycopg.Connection[tuple[object, ...]]],
    owner_conn: psycopg.Connection[tuple[object, ...]],
) -> None:
    user = proof_db.users[team].name
    assert_function_denied(owner_conn, team_conn[team], user, signature, CREATORS[signature])
    count = owner_conn.execute("select count(*) from pg_catalog.pg_largeobject_metadata").fetchone()
    assert count == (0,)
