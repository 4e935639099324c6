"""A function the owner creates after the roles were set up is not executable by any team.

src/shopdata/salesdb/sql/initdb/090_roles.sql, step 4: "PUBLIC may execute every new function by default. Revoke that
... for functions created later." A function added by a later migration (here: created by the
owner in ``sales``, where every team has USAGE) must refuse each team's login with
``42501 insufficient_privilege``; the owner can still call it. The function is dropped after.
"""

from __future__ import annotations

import psycopg

from .conftest import attempt

TEAMS = ("logistics", "analytics", "sales")


def test_a_function_created_later_is_not_executable_by_the_teams(
    owner_conn: psycopg.Connection[tuple[object, ...]],
    team_conn: dict[str, psycopg.Connection[tuple[object, ...]]],
) -> None:
    owner_conn.execute(
        "create function sales.added_by_a_later_migration() returns integer "
        "language sql as 'select 42'"
    )
    try:
        assert owner_conn.execute("select sales.added_by_a_later_migration()").fetchone() == (42,)
        outcomes = {
            team: attempt(team_conn[team], "select sales.added_by_a_later_migration()")
            for team in TEAMS
        }
        assert {team: (o.sqlstate, o.message) for team, o in outcomes.items()} == {
            team: ("42501", "permission denied for function added_by_a_later_migration")
            for team in TEAMS
        }
    finally:
        owner_conn.execute("drop function sales.added_by_a_later_migration()")
