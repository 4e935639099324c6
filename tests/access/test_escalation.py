"""Escalation attempts: a member of each team tries to get more than its grants, and fails.

Every attempt runs as a real login user of the team (SCRAM password over TCP) in a transaction
that is rolled back, and must fail with PostgreSQL's own error: SQLSTATE 42501
(insufficient_privilege) and its exact message. Creating objects anywhere, granting, switching
role or session user, altering or taking over any object, COPY to or from server files and
programs, reading password hashes, server files or large objects, switching off triggers, row
security or the read-only default: all of it is tried here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql

from shopdata.access.matrix import load_matrix

from .conftest import TEAMS, Outcome, ProofDb, attempt

MATRIX = load_matrix()

DENIED = "42501"


@dataclass(frozen=True)
class Attempt:
    """One escalation attempt by one team and PostgreSQL's exact answer to it."""

    team: str
    name: str
    statement: str
    message: str
    #: Statements PostgreSQL refuses inside a transaction block run on their own.
    in_transaction: bool = True

    @property
    def id(self) -> str:
        return f"{self.team}:{self.name}"


def attempts(team: str, me: str, db: str, other_users: dict[str, str]) -> list[Attempt]:
    """Everything a member of ``team`` (login role ``me``) tries, with the expected message."""
    out: list[Attempt] = []

    def add(name: str, statement: str, message: str, *, in_transaction: bool = True) -> None:
        out.append(Attempt(team, name, statement, message, in_transaction))

    # Creating objects: in every schema, in the temporary schema, and new schemas/databases.
    for schema in ("public", "sales", "analytics", "pg_catalog", "information_schema"):
        denied_schema = f"permission denied for schema {schema}"
        add(f"create table in {schema}", f"create table {schema}.evil (x int)", denied_schema)
        add(
            f"create function in {schema}",
            f"create function {schema}.evil() returns int language sql as 'select 1'",
            denied_schema,
        )
        add(f"create view in {schema}", f"create view {schema}.evil as select 1", denied_schema)
        add(f"create sequence in {schema}", f"create sequence {schema}.evil", denied_schema)
        add(f"create type in {schema}", f"create type {schema}.evil as (x int)", denied_schema)
    temp = f'permission denied to create temporary tables in database "{db}"'
    add("create temp table", "create temporary table evil (x int)", temp)
    add("create temp view", "create temporary view evil as select 1", temp)
    add(
        "create function in pg_temp",
        "create function pg_temp.evil() returns int language sql as 'select 1'",
        temp,
    )
    add("create schema", "create schema evil", f"permission denied for database {db}")
    add(
        "create database",
        "create database evil",
        "permission denied to create database",
        in_transaction=False,
    )
    add("create role", "create role evil", "permission denied to create role")
    add(
        "create extension",
        "create extension pg_trgm",
        'permission denied to create extension "pg_trgm"',
    )
    add("create large object", "select lo_create(0)", "permission denied for function lo_create")
    add(
        "create large object from bytea",
        "select lo_from_bytea(0, 'x')",
        "permission denied for function lo_from_bytea",
    )
    add(
        "create trigger on transactions",
        "create trigger evil before update on sales.transactions "
        "for each row execute function sales.touch_item()",
        "permission denied for table transactions",
    )
    add(
        "create policy on transactions",
        "create policy evil on sales.transactions using (true)",
        "must be owner of table transactions",
    )
    add(
        "create index on items",
        "create index evil on sales.items (name)",
        "must be owner of table items",
    )

    # Granting: roles to oneself or others, privileges one holds without grant option.
    for other_team, other_user in other_users.items():
        add(
            f"grant {other_team} to self",
            f"grant {other_team} to {me}",
            f'permission denied to grant role "{other_team}"',
        )
        add(
            f"grant own team to {other_team} member",
            f"grant {team} to {other_user}",
            f'permission denied to grant role "{team}"',
        )
    add(
        "grant superuser's role to self",
        f"grant postgres to {me}",
        'permission denied to grant role "postgres"',
    )
    for relation in MATRIX.relations:
        schema, _, rel_name = relation.partition(".")
        if team not in MATRIX.schemas[schema].usage:
            message = f"permission denied for schema {schema}"
        elif any(v is True for v in MATRIX.grant(team, relation).model_dump().values()):
            # Holding a whole-table privilege without grant option: PostgreSQL grants nothing
            # and says so in a WARNING; _assert_outcome checks the warning instead.
            message = f'WARNING: no privileges were granted for "{rel_name}"'
        else:
            # GRANT checks a view as a table: PostgreSQL says "table" for both kinds here.
            message = f"permission denied for table {rel_name}"
        add(f"grant all on {relation} to self", f"grant all on {relation} to {me}", message)
    add("alter own role superuser", f"alter role {me} superuser", "permission denied to alter role")
    add(
        "alter own role createrole",
        f"alter role {me} createrole",
        "permission denied to alter role",
    )
    add("alter own role bypassrls", f"alter role {me} bypassrls", "permission denied to alter role")
    add("alter team role login", f"alter role {team} login", "permission denied to alter role")

    # Switching identity.
    for other_team in other_users:
        add(
            f"set role {other_team}",
            f"set role {other_team}",
            f'permission denied to set role "{other_team}"',
        )
    add("set role postgres", "set role postgres", 'permission denied to set role "postgres"')
    for other_team, other_user in other_users.items():
        add(
            f"set session authorization {other_team} member",
            f"set session authorization {other_user}",
            f'permission denied to set session authorization "{other_user}"',
        )
    add(
        "set session authorization postgres",
        "set session authorization postgres",
        'permission denied to set session authorization "postgres"',
    )

    # Switching off what protects the data.
    add(
        "disable triggers by replication role",
        "set session_replication_role = replica",
        'permission denied to set parameter "session_replication_role"',
    )
    add(
        "alter system",
        "alter system set work_mem = '1GB'",
        'permission denied to set parameter "work_mem"',
        in_transaction=False,
    )
    add(
        "disable row level security",
        "alter table sales.transactions disable row level security",
        "must be owner of table transactions",
    )
    for policy in ("transactions_read", "transactions_logistics_complete"):
        add(
            f"alter policy {policy}",
            f"alter policy {policy} on sales.transactions using (true)",
            "must be owner of table transactions",
        )
        add(
            f"drop policy {policy}",
            f"drop policy {policy} on sales.transactions",
            "must be owner of relation transactions",
        )
    add(
        "disable triggers",
        "alter table sales.transactions disable trigger all",
        "must be owner of table transactions",
    )
    add(
        "lock transactions exclusively",
        "lock table sales.transactions in access exclusive mode",
        "permission denied for table transactions",
    )

    # Server files, programs and secrets.
    add(
        "copy to server file",
        "copy sales.manufacturers to '/tmp/evil.csv'",
        "permission denied to COPY to a file",
    )
    add(
        "copy from server file",
        "copy sales.manufacturers from '/etc/passwd'",
        "permission denied to COPY from a file",
    )
    add(
        "copy to program",
        "copy (select 1) to program 'id'",
        "permission denied to COPY to or from an external program",
    )
    add(
        "copy from program",
        "copy sales.manufacturers from program 'id'",
        "permission denied to COPY to or from an external program",
    )
    add(
        "read pg_authid",
        "select rolname, rolpassword from pg_catalog.pg_authid",
        "permission denied for table pg_authid",
    )
    add(
        "read pg_shadow",
        "select usename, passwd from pg_catalog.pg_shadow",
        "permission denied for view pg_shadow",
    )
    add(
        "read server file",
        "select pg_read_file('/etc/passwd')",
        "permission denied for function pg_read_file",
    )
    add(
        "list server directory", "select pg_ls_dir('.')", "permission denied for function pg_ls_dir"
    )
    add(
        "import large object",
        "select lo_import('/etc/passwd')",
        "permission denied for function lo_import",
    )
    return out


def _all_attempts() -> list[Attempt]:
    """The attempts of every team, with placeholder names resolved at run time."""
    out: list[Attempt] = []
    for team in TEAMS:
        others = {t: f"{{user:{t}}}" for t in TEAMS if t != team}
        out += attempts(team, f"{{user:{team}}}", "{db}", others)
    return out


ATTEMPTS = _all_attempts()


def _resolve(text: str, proof_db: ProofDb) -> str:
    for team, user in proof_db.users.items():
        text = text.replace(f"{{user:{team}}}", user.name)
    return text.replace("{db}", proof_db.name)


def _autocommit(conn: psycopg.Connection[tuple[object, ...]], statement: str) -> Outcome:
    try:
        conn.execute(statement)
    except psycopg.Error as error:
        return Outcome(error.sqlstate, error.diag.message_primary, -1, ())
    return Outcome(None, None, 0, ())


@pytest.mark.parametrize("case", ATTEMPTS, ids=lambda a: a.id)
def test_escalation_denied(
    case: Attempt,
    proof_db: ProofDb,
    team_conn: dict[str, psycopg.Connection[tuple[object, ...]]],
    record_check: Callable[[str, int], None],
) -> None:
    conn = team_conn[case.team]
    statement = _resolve(case.statement, proof_db)
    outcome = attempt(conn, statement) if case.in_transaction else _autocommit(conn, statement)
    expected = _resolve(case.message, proof_db)
    if expected.startswith("WARNING: "):
        assert (outcome.sqlstate, outcome.warnings) == (None, (expected,))
    else:
        assert (outcome.sqlstate, outcome.message) == (DENIED, expected)
    record_check("escalation attempts denied", 1)


# ---------------------------------------------------------------------------------------------
# ALTER of every object the schema files create: tables, views, sequences, functions, types,
# schemas and the database itself. The objects come from the live catalog, so a new one is
# covered without editing this file.

OBJECTS_SQL = """
with owned as (
    select 'table' as kind, format('%I.%I', n.nspname, c.relname) as target, c.relname as name
    from pg_class as c
    inner join pg_namespace as n on c.relnamespace = n.oid
    where n.nspname in ('sales', 'analytics') and c.relkind in ('r', 'p')
    union all
    select 'view', format('%I.%I', n.nspname, c.relname), c.relname
    from pg_class as c
    inner join pg_namespace as n on c.relnamespace = n.oid
    where n.nspname in ('sales', 'analytics') and c.relkind = 'v'
    union all
    select 'sequence', format('%I.%I', n.nspname, c.relname), c.relname
    from pg_class as c
    inner join pg_namespace as n on c.relnamespace = n.oid
    where n.nspname in ('sales', 'analytics') and c.relkind = 'S'
    union all
    select 'function', p.oid::regprocedure::text, p.proname
    from pg_proc as p
    inner join pg_namespace as n on p.pronamespace = n.oid
    where n.nspname in ('sales', 'analytics')
    union all
    select 'type', format('%I.%I', n.nspname, t.typname), t.typname
    from pg_type as t
    inner join pg_namespace as n on t.typnamespace = n.oid
    where n.nspname in ('sales', 'analytics') and t.typtype in ('e', 'd', 'c')
        and not exists (select from pg_class as c where c.oid = t.typrelid and c.relkind <> 'c')
    union all
    select 'schema', quote_ident(nspname), nspname
    from pg_namespace
    where nspname in ('sales', 'analytics', 'public')
    union all
    select 'database', quote_ident(current_database()), current_database()
)

select kind, target, name from owned order by kind, target
"""


def _owner_message(team: str, kind: str, target: str, name: str, verb: str = "alter") -> str:
    """Not even allowed to look into the schema, or else not the owner. DROP FUNCTION names
    the function as it was written (schema-qualified, without arguments)."""
    schema = target.partition(".")[0] if kind in ("table", "view", "sequence", "type") else None
    if schema is not None and schema in MATRIX.schemas and team not in MATRIX.schemas[schema].usage:
        return f"permission denied for schema {schema}"
    if verb == "drop" and kind == "function":
        return f"must be owner of function {target.partition('(')[0]}"
    return f"must be owner of {kind} {name}"


ALTER_KINDS = ("table", "view", "sequence", "function", "type", "schema", "database")


@pytest.mark.parametrize("team", TEAMS)
@pytest.mark.parametrize("kind", ALTER_KINDS)
def test_alter_or_drop_any_object_denied(
    team: str,
    kind: str,
    proof_db: ProofDb,
    owner_conn: psycopg.Connection[tuple[object, ...]],
    team_conn: dict[str, psycopg.Connection[tuple[object, ...]]],
    record_check: Callable[[str, int], None],
) -> None:
    """``ALTER <kind> <object> OWNER TO <me>`` (taking an object over) and ``DROP <kind>
    <object>`` fail for every object (DROP DATABASE is covered by the database's ACL: it cannot
    run in a transaction, and CONNECT-only roles never own it)."""
    objects = [row for row in owner_conn.execute(OBJECTS_SQL).fetchall() if row[0] == kind]
    assert objects, f"the schema files create no {kind}?"
    me = proof_db.users[team].name
    results = {}
    for _, target, _name in objects:
        statements = {
            "alter": sql.SQL("alter {} {} owner to {}").format(
                sql.SQL(str(kind)), sql.SQL(str(target)), sql.Identifier(me)
            )
        }
        if kind != "database":
            statements["drop"] = sql.SQL("drop {} {}").format(
                sql.SQL(str(kind)), sql.SQL(str(target))
            )
        for verb, statement in statements.items():
            outcome = attempt(team_conn[team], statement)
            results[(verb, str(target))] = (outcome.sqlstate, outcome.message)
    expected = {
        (verb, str(target)): (DENIED, _owner_message(team, kind, str(target), str(name), verb))
        for _, target, name in objects
        for verb in (("alter",) if kind == "database" else ("alter", "drop"))
    }
    assert results == expected
    record_check("ALTER/DROP of existing objects denied", len(expected))


# ---------------------------------------------------------------------------------------------
# Attempts whose exact outcome depends on the team.


@pytest.mark.parametrize("team", TEAMS)
def test_grant_without_grant_option_changes_nothing(
    team: str,
    proof_db: ProofDb,
    owner_conn: psycopg.Connection[tuple[object, ...]],
    team_conn: dict[str, psycopg.Connection[tuple[object, ...]]],
    record_check: Callable[[str, int], None],
) -> None:
    """Every team reads manufacturers; passing that on to PUBLIC grants nothing (a warning)."""
    acl_sql = "select relacl::text from pg_class where oid = 'sales.manufacturers'::regclass"
    before = owner_conn.execute(acl_sql).fetchone()
    outcome = attempt(
        team_conn[team], "grant select on sales.manufacturers to public", rollback=False
    )
    assert outcome.sqlstate is None
    assert outcome.warnings == ('WARNING: no privileges were granted for "manufacturers"',)
    assert owner_conn.execute(acl_sql).fetchone() == before
    record_check("escalation attempts denied", 1)


@pytest.mark.parametrize("team", TEAMS)
def test_cannot_terminate_or_cancel_the_owner(
    team: str,
    owner_conn: psycopg.Connection[tuple[object, ...]],
    team_conn: dict[str, psycopg.Connection[tuple[object, ...]]],
    record_check: Callable[[str, int], None],
) -> None:
    """Signalling another role's backend (here the superuser's) is refused."""
    pid = owner_conn.info.backend_pid
    terminate = attempt(team_conn[team], f"select pg_terminate_backend({pid})")
    cancel = attempt(team_conn[team], f"select pg_cancel_backend({pid})")
    assert (terminate.sqlstate, terminate.message) == (
        DENIED,
        "permission denied to terminate process",
    )
    assert (cancel.sqlstate, cancel.message) == (DENIED, "permission denied to cancel query")
    record_check("escalation attempts denied", 2)
