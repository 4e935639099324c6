"""The people half of ``shopdata db audit-access``: every role that can log in, not just teams.

The team audit (:func:`shopdata.access.audit.audit`) proves what the *team* roles may do. A
person's LOGIN role can still be given more behind the matrix's back: a direct grant, a second
team or another role, an attribute (CREATEROLE, BYPASSRLS...), a session default that undoes the
team's (``default_transaction_read_only = off``), an object it owns, or default privileges. This
module reads the catalog for each of those, for every login role of the cluster except the
bootstrap superuser (the owner, who runs the loaders), and for the team roles themselves.

Pure comparison over catalog rows (:func:`compare_people`), plus one function that fetches them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shopdata.access.matrix import Matrix
from shopdata.resources import read_sql

if TYPE_CHECKING:
    import psycopg

#: pg_roles attributes no person or team may hold, with the SQL keyword an operator would use.
ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("is_superuser", "SUPERUSER"),
    ("can_create_db", "CREATEDB"),
    ("can_create_role", "CREATEROLE"),
    ("can_replicate", "REPLICATION"),
    ("bypasses_rls", "BYPASSRLS"),
)
_DEPENDENCY = {"o": "owns", "a": "holds a grant of its own on", "r": "is named in"}


@dataclass(frozen=True)
class RoleFacts:
    """One row of ``login_roles.sql``."""

    name: str
    can_login: bool
    attributes: frozenset[str]
    connection_limit: int
    member_of: tuple[str, ...]
    settings: tuple[str, ...]


@dataclass(frozen=True)
class PeopleReport:
    """Decisions checked, one line per finding, and the people seen (``name (team)``)."""

    checked: int
    problems: list[str]
    people: list[str]


def expected_settings(matrix: Matrix, team: str) -> tuple[str, ...]:
    """The team's session defaults as ``pg_db_role_setting`` stores them (``name=value``)."""
    out = []
    for name, value in matrix.teams[team].settings.items():
        text = ", ".join(value) if isinstance(value, list) else value
        out.append(f"{name}={text}")
    return tuple(sorted(out))


def compare_people(
    matrix: Matrix,
    roles: list[RoleFacts],
    dependencies: list[tuple[str, bool, str, str]],
    default_privileges: list[tuple[str, str, str, str, str]],
    connections_for_people: int | None = None,
    *,
    everyone_settings: list[tuple[str, str]] | None = None,
    grant_options: list[tuple[str, str, str]] | None = None,
) -> PeopleReport:
    """Every finding about login roles, team roles and default privileges (pure)."""
    problems: list[str] = []
    people: list[str] = []
    checked = 0
    for role in roles:
        is_team = role.name in matrix.teams
        label = f"team role {role.name}" if is_team else f"login {role.name}"
        checked += len(ATTRIBUTES) + 2
        for attribute, keyword in ATTRIBUTES:
            if attribute in role.attributes:
                problems.append(f"{label} has {keyword}; no person or team may")
        if is_team:
            checked += 1
            if role.can_login:
                problems.append(f"{label} can log in; team roles are NOLOGIN")
            if role.member_of:
                problems.append(
                    f"{label} is a member of {', '.join(role.member_of)}; team roles belong to "
                    "no other role"
                )
            if role.settings:
                problems.append(f"{label} has session defaults {', '.join(role.settings)}")
            continue
        teams = [m for m in role.member_of if m in matrix.teams]
        team = teams[0] if len(teams) == 1 else None
        people.append(f"{role.name} ({team or 'no team'})")
        if team is None or len(role.member_of) != 1:
            problems.append(
                f"{label} is a member of {', '.join(role.member_of) or 'no role'}; a person "
                "belongs to exactly one team role and nothing else"
            )
            continue
        checked += 2
        limit = matrix.teams[team].connection_limit
        if role.connection_limit != limit:
            problems.append(
                f"{label} has connection limit {role.connection_limit}, team {team} allows {limit}"
            )
        expected = expected_settings(matrix, team)
        if tuple(sorted(role.settings)) != expected:
            problems.append(
                f"{label} has session defaults [{', '.join(sorted(role.settings))}], team {team} "
                f"says [{', '.join(expected)}]"
            )
    for name, can_login, dependency, object_name in dependencies:
        label = f"login {name}" if can_login else f"team role {name}"
        problems.append(f"{label} {_DEPENDENCY.get(dependency, dependency)} {object_name}")
    checked += len(roles)  # one "nothing tied to it" decision per role
    for creator, scope, kind, grantee, privilege in default_privileges:
        problems.append(
            f"default privileges: new {kind} {scope} created by {creator} grant {privilege} to "
            f"{grantee}; the matrix grants nothing by default"
        )
    checked += 1
    if everyone_settings is not None:
        checked += 1
        for scope, setting in everyone_settings:
            problems.append(
                f"{scope} has session defaults for every role: {setting}; the matrix sets "
                "defaults per team, on each person's login"
            )
    if grant_options is not None:
        checked += 1
        for grantee, privilege, object_name in grant_options:
            problems.append(
                f"{grantee} may grant {privilege} on {object_name} to others (WITH GRANT "
                "OPTION); only the owner grants"
            )
    if connections_for_people is not None:
        checked += 1
        limits = [r.connection_limit for r in roles if r.can_login and r.name not in matrix.teams]
        if any(limit < 0 for limit in limits) or sum(limits) > connections_for_people:
            total = "unlimited" if any(limit < 0 for limit in limits) else str(sum(limits))
            problems.append(
                f"connection limits of the {len(limits)} people add up to {total}, more than "
                f"the {connections_for_people} connections the server keeps for them: a few "
                "people can lock everyone else (and the loaders) out"
            )
    return PeopleReport(checked=checked, problems=problems, people=people)


def _sql(name: str) -> str:
    return read_sql("shopdata.access", f"{name}.sql")


def audit_people(conn: psycopg.Connection[tuple[object, ...]], matrix: Matrix) -> PeopleReport:
    """Fetch the catalog rows for :func:`compare_people` from ``conn``'s cluster and database."""
    params = {"teams": list(matrix.teams)}
    roles = []
    for row in conn.execute(_sql("login_roles"), params).fetchall():
        name, can_login, *flags, limit, member_of, settings = row
        assert isinstance(member_of, list) and isinstance(settings, list)
        held = frozenset(a for (a, _), flag in zip(ATTRIBUTES, flags, strict=True) if flag)
        roles.append(
            RoleFacts(
                name=str(name),
                can_login=bool(can_login),
                attributes=held,
                connection_limit=int(str(limit)),
                member_of=tuple(str(m) for m in member_of),
                settings=tuple(str(s) for s in settings),
            )
        )
    dependencies = [
        (str(a), bool(b), str(c), str(d))
        for a, b, c, d in conn.execute(_sql("login_dependencies"), params).fetchall()
    ]
    defaults = [
        (str(a), str(b), str(c), str(d), str(e))
        for a, b, c, d, e in conn.execute(_sql("default_privileges")).fetchall()
    ]
    room = conn.execute(
        "select current_setting('max_connections')::integer"
        " - current_setting('superuser_reserved_connections')::integer"
        " - current_setting('reserved_connections')::integer"
    ).fetchone()
    assert room is not None
    everyone = [(str(a), str(b)) for a, b in conn.execute(_sql("everyone_settings")).fetchall()]
    options = [
        (str(a), str(b), str(c)) for a, b, c in conn.execute(_sql("grant_options")).fetchall()
    ]
    return compare_people(
        matrix,
        roles,
        dependencies,
        defaults,
        int(str(room[0])),
        everyone_settings=everyone,
        grant_options=options,
    )
