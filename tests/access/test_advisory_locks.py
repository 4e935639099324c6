"""No team member can take an advisory lock, so none can stop the summary roll-up.

``sales.roll_up_summaries()`` runs one at a time under ``pg_try_advisory_xact_lock(hashtext(
'sales.roll_up_summaries'))`` and returns 0 while someone else holds that key. Advisory locks have
no privileges of their own and every role may call the functions that take them, so the outside
tester of issue 13 logged in as a Logistics member, ran ``select pg_advisory_lock(hashtext(
'sales.roll_up_summaries'))`` and left the session idle (not in a transaction, so no idle timeout
and no ``db sessions --kill-idle`` applies): every roll-up then moved 0 rows, the delta backlog
grew without bound, and with it the analyst queries' time past their 200 ms bound. The same key
trick stopped ``refresh-analytics`` (its lock is an advisory one too). 090_roles.sql takes
EXECUTE on every lock-taking advisory function away from PUBLIC in this database; each team's
login user (its own password, over TCP) calls each of them and must be refused, and the list is
compared with the live catalog so that a new overload shows up here as a failure.
"""

from __future__ import annotations

import psycopg
import pytest

from .conftest import TEAMS, ProofDb, assert_function_denied

#: Every function that takes an advisory lock, and a call of it.
TAKERS: dict[str, str] = {
    f"{name}({args})": f"select pg_catalog.{name}({call})"
    for name in (
        "pg_advisory_lock",
        "pg_advisory_lock_shared",
        "pg_advisory_xact_lock",
        "pg_advisory_xact_lock_shared",
        "pg_try_advisory_lock",
        "pg_try_advisory_lock_shared",
        "pg_try_advisory_xact_lock",
        "pg_try_advisory_xact_lock_shared",
    )
    for args, call in (
        ("bigint", "hashtext('sales.roll_up_summaries')::bigint"),
        ("integer,integer", "1, 2"),
    )
}


def test_the_list_of_lock_taking_functions_is_complete(
    owner_conn: psycopg.Connection[tuple[object, ...]],
) -> None:
    rows = owner_conn.execute(
        "select p.oid::regprocedure::text from pg_catalog.pg_proc as p "
        "where p.pronamespace = 'pg_catalog'::regnamespace "
        "and p.proname like 'pg%advisory%lock%' and p.proname not like '%unlock%' "
        "order by 1"
    ).fetchall()
    assert sorted(r[0] for r in rows) == sorted(TAKERS)


@pytest.mark.parametrize("signature", sorted(TAKERS))
@pytest.mark.parametrize("team", TEAMS)
def test_team_cannot_take_an_advisory_lock(
    team: str,
    signature: str,
    proof_db: ProofDb,
    team_conn: dict[str, psycopg.Connection[tuple[object, ...]]],
    owner_conn: psycopg.Connection[tuple[object, ...]],
) -> None:
    user = proof_db.users[team].name
    assert_function_denied(owner_conn, team_conn[team], user, signature, TAKERS[signature])
    held = owner_conn.execute(
        "select count(*) from pg_catalog.pg_locks where locktype = 'advisory'"
        " and database = (select oid from pg_catalog.pg_database"
        " where datname = current_database())"
    ).fetchone()
    assert held == (0,)


def test_the_roll_up_still_runs_for_the_owner(
    owner_conn: psycopg.Connection[tuple[object, ...]],
) -> None:
    # Rolled back: the other proofs share this database and need its un-rolled deltas.
    with owner_conn.transaction(force_rollback=True):
        row = owner_conn.execute("select sales.roll_up_summaries() > 0").fetchone()
    assert row == (True,)
    left = owner_conn.execute("select count(*) from sales.summary_deltas").fetchone()
    assert left is not None and int(str(left[0])) > 0
