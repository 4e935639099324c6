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

from shopdata.access.audit import NEVER
from shopdata.access.matrix import Matrix, cells
from shopdata.access.people_audit import ATTRIBUTES, RoleFacts, compare_people, expected_settings
from shopdata.cli import app

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


def people_line(proof_db: ProofDb) -> str:
    users = ", ".join(f"{u.name} ({team})" for team, u in sorted(proof_db.users.items()))
    return f"people who can log in: {users}\n"


def expected_people_decisions(matrix: Matrix, people: int) -> int:
    """Per role (people and teams): 5 attributes, memberships, settings, nothing tied to it;
    per team role also LOGIN; per person also connection limit and settings; plus default
    privileges, the sum of connection limits, session defaults for every role and grant
    options once each."""
    teams = len(matrix.teams)
    per_role = len(ATTRIBUTES) + 2 + 1
    return (teams + people) * per_role + teams + 2 * people + 1 + 1 + 2


def test_the_proof_database_is_compliant(proof_db: ProofDb, matrix: Matrix) -> None:
    url = owner_url(proof_db)
    n = expected_decisions(matrix) + expected_people_decisions(matrix, len(proof_db.users))
    assert run(url) == (
        0,
        people_line(proof_db)
        + f"{url}: {n} decisions checked, all as shopdata/access/matrix.yaml says\n",
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
        "public holds CONNECT on the database, the matrix says the opposite\n"
        + people_line(proof_db),
        f"Error: 3 difference(s) between {url} and shopdata/access/matrix.yaml\n",
    )


@pytest.fixture
def people_drift(
    owner_conn: psycopg.Connection[tuple[object, ...]], proof_db: ProofDb
) -> Iterator[dict[str, str]]:
    """Issue 12.4: what an operator can hand a person behind the matrix's back (undone after).

    The team grants stay exactly as the matrix says, so the team audit alone passes."""
    names = {team: user.name for team, user in proof_db.users.items()}
    a, lg, s = (sql.Identifier(names[t]) for t in ("analytics", "logistics", "sales"))
    db = sql.Identifier(proof_db.name)
    statements = [
        (
            sql.SQL("grant select on sales.members to {}").format(s),
            sql.SQL("revoke select on sales.members from {}").format(s),
        ),
        (
            sql.SQL("grant analytics to {}").format(lg),
            sql.SQL("revoke analytics from {}").format(lg),
        ),
        (
            sql.SQL("alter role {} set default_transaction_read_only = off").format(a),
            sql.SQL("alter role {} set default_transaction_read_only = on").format(a),
        ),
        (
            sql.SQL("alter role {} in database {} set statement_timeout = 0").format(s, db),
            sql.SQL("alter role {} in database {} reset statement_timeout").format(s, db),
        ),
        (
            sql.SQL("alter role {} bypassrls").format(lg),
            sql.SQL("alter role {} nobypassrls").format(lg),
        ),
        (
            sql.SQL("create schema zz_people authorization {}").format(a),
            sql.SQL("drop schema zz_people"),
        ),
        (
            sql.SQL("alter default privileges in schema sales grant select on tables to logistics"),
            sql.SQL(
                "alter default privileges in schema sales revoke select on tables from logistics"
            ),
        ),
    ]
    done: list[sql.Composed | sql.SQL] = []
    try:
        for apply, undo in statements:
            owner_conn.execute(apply)
            done.append(undo)
        yield names
    finally:
        for undo in reversed(done):
            owner_conn.execute(undo)


def test_people_are_audited_not_only_teams(people_drift: dict[str, str], proof_db: ProofDb) -> None:
    url = owner_url(proof_db)
    a, lg, s = (people_drift[t] for t in ("analytics", "logistics", "sales"))
    code, out, err = run(url)
    assert out.splitlines() == [
        f"login {a} has session defaults [default_transaction_read_only=off, "
        "idle_in_transaction_session_timeout=10min, lock_timeout=5s, search_path=sales, "
        "analytics, statement_timeout=5min], team analytics says "
        "[default_transaction_read_only=on, idle_in_transaction_session_timeout=10min, "
        "lock_timeout=5s, search_path=sales, analytics, statement_timeout=5min]",
        f"login {lg} has BYPASSRLS; no person or team may",
        f"login {lg} is a member of analytics, logistics; a person belongs to exactly one "
        "team role and nothing else",
        f"login {s} has session defaults [idle_in_transaction_session_timeout=1min, "
        f"in database {proof_db.name}: statement_timeout=0, lock_timeout=5s, "
        "search_path=sales, statement_timeout=15s], team sales says "
        "[idle_in_transaction_session_timeout=1min, lock_timeout=5s, search_path=sales, "
        "statement_timeout=15s]",
        f"login {a} owns schema zz_people",
        f"login {s} holds a grant of its own on table sales.members",
        "default privileges: new tables in schema sales created by postgres grant SELECT to "
        "logistics; the matrix grants nothing by default",
        people_line(proof_db).strip().replace(f"{lg} (logistics)", f"{lg} (no team)"),
    ]
    assert (code, err) == (
        1,
        f"Error: 7 difference(s) between {url} and shopdata/access/matrix.yaml\n",
    )


@pytest.fixture
def everyone_drift(
    owner_conn: psycopg.Connection[tuple[object, ...]], proof_db: ProofDb
) -> Iterator[None]:
    """Drift that names no person: database-wide defaults and a team's grant option."""
    db = sql.Identifier(proof_db.name)
    statements = [
        (
            sql.SQL("alter database {} set row_security = off").format(db),
            sql.SQL("alter database {} reset row_security").format(db),
        ),
        (
            sql.SQL("alter role all set work_mem = '2GB'"),
            sql.SQL("alter role all reset work_mem"),
        ),
        (
            sql.SQL("grant select (name) on sales.items to sales with grant option"),
            # Sales reads items table-wide; the column grant is the drift, all of it goes.
            sql.SQL("revoke select (name) on sales.items from sales"),
        ),
        (
            sql.SQL("grant usage on schema sales to analytics with grant option"),
            sql.SQL("revoke grant option for usage on schema sales from analytics"),
        ),
    ]
    done: list[sql.Composed | sql.SQL] = []
    try:
        for apply, undo in statements:
            owner_conn.execute(apply)
            done.append(undo)
        yield
    finally:
        for undo in reversed(done):
            owner_conn.execute(undo)


def test_settings_for_everyone_and_grant_options_are_reported(
    everyone_drift: None, proof_db: ProofDb
) -> None:
    """Issue 12.4: per-database defaults (pg_db_role_setting with setrole 0) and a team's
    WITH GRANT OPTION passed the audit: every cell still said what the matrix says."""
    url = owner_url(proof_db)
    code, out, err = run(url)
    assert out.splitlines() == [
        f"database {proof_db.name} has session defaults for every role: row_security=off; "
        "the matrix sets defaults per team, on each person's login",
        "every database has session defaults for every role: work_mem=2GB; the matrix sets "
        "defaults per team, on each person's login",
        "analytics may grant USAGE on schema sales to others (WITH GRANT OPTION); only the "
        "owner grants",
        "sales may grant SELECT on column name of table sales.items to others (WITH GRANT "
        "OPTION); only the owner grants",
        people_line(proof_db).strip(),
    ]
    assert (code, err) == (
        1,
        f"Error: 4 difference(s) between {url} and shopdata/access/matrix.yaml\n",
    )


def test_unreachable_database() -> None:
    code, out, err = run("postgresql://postgres@127.0.0.1:1/x")
    assert (code, out) == (1, "")
    assert err.startswith("Error: cannot audit the database: ")
    assert err.count("\n") == 1


def test_connection_limits_that_outnumber_the_server_are_reported(matrix: Matrix) -> None:
    """Pure: 10 people at 5 connections need 50, a server with 47 free slots cannot serve them."""
    team = next(iter(matrix.teams))
    people = [
        RoleFacts(
            name=f"p{i}",
            can_login=True,
            attributes=frozenset(),
            connection_limit=matrix.teams[team].connection_limit,
            member_of=(team,),
            settings=expected_settings(matrix, team),
        )
        for i in range(10)
    ]
    fits = compare_people(matrix, people, [], [], connections_for_people=50)
    assert fits.problems == []
    too_many = compare_people(matrix, people, [], [], connections_for_people=47)
    assert too_many.problems == [
        "connection limits of the 10 people add up to 50, more than the 47 connections the "
        "server keeps for them: a few people can lock everyone else (and the loaders) out"
    ]


def test_team_roles_themselves_stay_plain(matrix: Matrix) -> None:
    """Pure: a team role that can log in, holds an attribute or joins another role (which hands
    every member of it that role's rights) is reported, as is anything it owns."""
    teams = [
        RoleFacts(
            name="logistics",
            can_login=True,
            attributes=frozenset({"can_create_role"}),
            connection_limit=-1,
            member_of=("analytics",),
            settings=(),
        ),
        RoleFacts(
            name="sales",
            can_login=False,
            attributes=frozenset(),
            connection_limit=-1,
            member_of=(),
            settings=(),
        ),
    ]
    report = compare_people(matrix, teams, [("sales", False, "o", "table sales.zz")], [])
    assert report.problems == [
        "team role logistics has CREATEROLE; no person or team may",
        "team role logistics can log in; team roles are NOLOGIN",
        "team role logistics is a member of analytics; team roles belong to no other role",
        "team role sales owns table sales.zz",
    ]
    assert report.people == []
