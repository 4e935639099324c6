"""The policy as the catalog records it: nothing outside the matrix, nothing the proof can't see.

The behavioural proof (test_matrix_proof.py) covers SELECT/INSERT/UPDATE/DELETE/TRUNCATE. Here:
the matrix lists exactly the live tables, views and columns (a new one fails until someone
decides who may touch it); team roles cannot log in and hold no attributes; PUBLIC lost CONNECT
and TEMPORARY; no team holds REFERENCES, TRIGGER, MAINTAIN, CREATE or EXECUTE anywhere; tables
created later follow the default privileges; 090_roles.sql can run twice; and every login user
created by add-user carries its team's settings and a SCRAM verifier.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest

from shopdata.access.matrix import Matrix
from shopdata.salesdb import server

from .conftest import TEAMS, ProofDb, attempt, owner_url

Conn = psycopg.Connection[tuple[object, ...]]
ROLES_SQL = server.DEFAULT_INIT_DIR / "090_roles.sql"


def test_matrix_lists_exactly_the_live_relations_and_columns(
    owner_conn: Conn, matrix: Matrix, record_check: Callable[[str, int], None]
) -> None:
    rows = owner_conn.execute(
        """
        select n.nspname || '.' || c.relname, case c.relkind when 'v' then 'view' else 'table' end,
            array_agg(a.attname::text order by a.attnum)
        from pg_class as c
        inner join pg_namespace as n on c.relnamespace = n.oid
        inner join pg_attribute as a on c.oid = a.attrelid and a.attnum > 0 and not a.attisdropped
        where n.nspname in ('sales', 'analytics', 'public') and c.relkind in ('r', 'p', 'v', 'm', 'f')
        group by 1, 2
        order by 1
        """
    ).fetchall()
    live = {name: (kind, cols) for name, kind, cols in rows}
    declared = {name: (rel.kind, rel.columns) for name, rel in sorted(matrix.relations.items())}
    assert live == declared
    record_check("catalog: policy matches the matrix", len(live))


def test_team_roles_cannot_log_in_and_hold_no_attributes(
    owner_conn: Conn, record_check: Callable[[str, int], None]
) -> None:
    rows = owner_conn.execute(
        "select rolname, rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolreplication, "
        "rolbypassrls, rolinherit from pg_roles where rolname = any(%s) order by rolname",
        (list(TEAMS),),
    ).fetchall()
    assert rows == [
        (team, False, False, False, False, False, False, True) for team in sorted(TEAMS)
    ]
    record_check("catalog: policy matches the matrix", len(rows))


def test_database_privileges(
    owner_conn: Conn, proof_db: ProofDb, record_check: Callable[[str, int], None]
) -> None:
    """Teams may connect and nothing else; PUBLIC may not even connect."""
    rows = owner_conn.execute(
        "select r, has_database_privilege(r, current_database(), 'CONNECT'), "
        "has_database_privilege(r, current_database(), 'TEMPORARY'), "
        "has_database_privilege(r, current_database(), 'CREATE') "
        "from unnest(%s::text[]) as r order by r",
        (list(TEAMS),),
    ).fetchall()
    assert rows == [(team, True, False, False) for team in sorted(TEAMS)]
    acl = owner_conn.execute(
        "select array(select a::text from pg_database as d, unnest(d.datacl) as a "
        "where d.datname = current_database() and a::text like '=%%')"
    ).fetchone()
    assert acl == ([],)  # no entry for PUBLIC at all
    record_check("catalog: policy matches the matrix", len(rows) * 3 + 1)


def test_schema_privileges(
    owner_conn: Conn, matrix: Matrix, record_check: Callable[[str, int], None]
) -> None:
    checks = 0
    for schema_name, schema in matrix.schemas.items():
        for role in (*TEAMS, "public"):
            row = owner_conn.execute(
                "select has_schema_privilege(%s, %s, 'USAGE'), has_schema_privilege(%s, %s, 'CREATE')",
                (role, schema_name, role, schema_name),
            ).fetchone()
            assert row == (role in schema.usage, False), (role, schema_name)
            checks += 2
    record_check("catalog: policy matches the matrix", checks)


@pytest.mark.parametrize("privilege", ["REFERENCES", "TRIGGER", "MAINTAIN"])
def test_no_team_holds_other_table_privileges(
    privilege: str, owner_conn: Conn, matrix: Matrix, record_check: Callable[[str, int], None]
) -> None:
    rows = owner_conn.execute(
        "select t, r, has_table_privilege(t, r, %s) from unnest(%s::text[]) as t, "
        "unnest(%s::text[]) as r where has_table_privilege(t, r, %s)",
        (privilege, list(TEAMS), list(matrix.relations), privilege),
    ).fetchall()
    assert rows == []
    record_check("catalog: policy matches the matrix", len(TEAMS) * len(matrix.relations))


def test_no_team_or_public_executes_sales_functions(
    owner_conn: Conn, record_check: Callable[[str, int], None]
) -> None:
    """Trigger functions fire without EXECUTE; nobody needs to call them."""
    functions = [
        str(r[0])
        for r in owner_conn.execute(
            "select p.oid::regprocedure::text from pg_proc as p "
            "inner join pg_namespace as n on p.pronamespace = n.oid where n.nspname = 'sales'"
        ).fetchall()
    ]
    assert functions
    rows = owner_conn.execute(
        "select r, f from unnest(%s::text[]) as r, unnest(%s::text[]) as f "
        "where has_function_privilege(r, f::regprocedure, 'EXECUTE')",
        ([*TEAMS, "public"], functions),
    ).fetchall()
    assert rows == []
    record_check("catalog: policy matches the matrix", (len(TEAMS) + 1) * len(functions))


@pytest.fixture
def future_table(owner_conn: Conn) -> Iterator[str]:
    """A table added after the init files ran, as a later migration would add one."""
    owner_conn.execute("create table sales.zz_future_report (day date primary key, n integer)")
    owner_conn.execute("insert into sales.zz_future_report values ('2024-01-01', 1)")
    try:
        yield "sales.zz_future_report"
    finally:
        owner_conn.execute("drop table sales.zz_future_report")


def test_tables_added_later_follow_the_policy(
    future_table: str, team_conn: dict[str, Conn], record_check: Callable[[str, int], None]
) -> None:
    """Nobody reads a new table until the matrix says so: a blanket read grant for analysts
    would hand them any new column that carries membership_id (issue 12), so there is none."""
    expected = {
        "analytics": ("42501", "permission denied for table zz_future_report"),
        "logistics": ("42501", "permission denied for table zz_future_report"),
        "sales": ("42501", "permission denied for table zz_future_report"),
    }
    seen = {}
    for team in TEAMS:
        outcome = attempt(team_conn[team], "select n from sales.zz_future_report")
        seen[team] = (outcome.sqlstate, outcome.message)
    assert seen == expected
    write = attempt(
        team_conn["analytics"], "insert into sales.zz_future_report values ('2024-01-02', 2)"
    )
    assert (write.sqlstate, write.message) == (
        "42501",
        "permission denied for table zz_future_report",
    )
    record_check("catalog: policy matches the matrix", len(TEAMS) + 1)


def test_roles_file_is_idempotent(
    owner_conn: Conn, record_check: Callable[[str, int], None]
) -> None:
    """Running 090_roles.sql again (a second database in the cluster) changes no privilege."""
    snapshot_sql = """
        select c.oid::regclass::text,
            coalesce((select array_agg(e::text order by e::text) from unnest(c.relacl) as e)::text, ''),
            coalesce((select array_agg(a.attname || '=' || (select array_agg(e::text order by e::text)
                                                          from unnest(a.attacl) as e)::text
                                       order by a.attnum)
                      from pg_attribute as a where a.attrelid = c.oid and a.attacl is not null), '{}')
        from pg_class as c inner join pg_namespace as n on c.relnamespace = n.oid
        where n.nspname in ('sales', 'analytics')
        order by 1
    """
    before = owner_conn.execute(snapshot_sql).fetchall()
    with psycopg.connect(owner_conn.info.dsn, autocommit=True) as conn:
        conn.execute(ROLES_SQL.read_text(encoding="utf-8"))
    assert owner_conn.execute(snapshot_sql).fetchall() == before
    record_check("catalog: policy matches the matrix", 1)


@pytest.mark.parametrize("team", TEAMS)
def test_login_users_carry_their_team_settings(
    team: str,
    proof_db: ProofDb,
    matrix: Matrix,
    owner_conn: Conn,
    record_check: Callable[[str, int], None],
) -> None:
    """add-user copied the team's settings: a fresh session shows them, and the password is
    stored only as a SCRAM-SHA-256 verifier."""
    user = proof_db.users[team]
    settings = matrix.teams[team].settings
    with psycopg.connect(proof_db.user_conninfo(user), autocommit=True) as conn:
        shown = {
            name: conn.execute("select current_setting(%s)", (name,)).fetchone()
            for name in settings
        }
        memberships = conn.execute(
            "select array_agg(b.rolname::text order by b.rolname) from pg_auth_members as m "
            "inner join pg_roles as b on m.roleid = b.oid "
            "inner join pg_roles as u on m.member = u.oid where u.rolname = current_user"
        ).fetchone()
    expected = {
        name: (", ".join(value) if isinstance(value, list) else value,)
        for name, value in settings.items()
    }
    assert shown == expected
    assert memberships == ([team],)
    row = owner_conn.execute(
        "select rolcanlogin, rolconnlimit, left(rolpassword, 14) from pg_authid where rolname = %s",
        (user.name,),
    ).fetchone()
    assert row == (True, matrix.teams[team].connection_limit, "SCRAM-SHA-256$")
    record_check("catalog: policy matches the matrix", len(settings) + 2)


def test_owner_url_is_the_proof_database(proof_db: ProofDb) -> None:
    assert psycopg.conninfo.conninfo_to_dict(owner_url(proof_db))["dbname"] == proof_db.name


@pytest.mark.parametrize("team", TEAMS)
@pytest.mark.parametrize("database", ["postgres", "template1"])
def test_members_cannot_connect_to_the_maintenance_databases(
    team: str, database: str, proof_db: ProofDb, record_check: Callable[[str, int], None]
) -> None:
    """Otherwise any login could connect there and create temporary objects."""
    user = proof_db.users[team]
    conninfo = psycopg.conninfo.make_conninfo(proof_db.user_conninfo(user), dbname=database)
    with pytest.raises(psycopg.OperationalError) as raised:
        psycopg.connect(conninfo)
    assert f'FATAL:  permission denied for database "{database}"' in str(raised.value)
    assert "User does not have CONNECT privilege." in str(raised.value)
    record_check("escalation attempts denied", 1)
