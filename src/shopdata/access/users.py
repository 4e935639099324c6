"""``shopdata db add-user``: give a person a LOGIN role in one team, with a one-time password.

Why it is done this way:

* The password is generated here (``secrets``, 192 bits) and printed once. It is never written to
  a file, and it is not even sent to the server: the client computes the SCRAM-SHA-256 verifier
  (libpq's ``PQencryptPasswordConn``) and only that verifier travels in ``CREATE ROLE``, so it
  cannot leak into server logs or ``pg_stat_activity``.
* The person's role only holds membership in the team's NOLOGIN group role; every privilege
  lives on the team role (``salesdb/sql/initdb/090_roles.sql``), so people never accumulate grants.
* PostgreSQL does not inherit ``ALTER ROLE ... SET`` through membership, so the team's session
  defaults from ``access/matrix.yaml`` (statement timeout, read-only default) are copied onto
  the login role here.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shopdata.access.matrix import Matrix
from shopdata.resources import read_sql

if TYPE_CHECKING:  # psycopg is imported inside the functions: `shopdata --help` stays fast.
    import psycopg
    from psycopg import sql

#: Lower-case SQL identifiers only: no quoting surprises, no clash with reserved ``pg_`` names.
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
#: Names that mean something else in role statements: a role called ``current_user`` turns
#: ``ALTER ROLE current_user ...`` (which names the caller) into a trap for operators. The
#: server's own keyword list (``reserved_keyword.sql``) is asked as well, in ``add_user``.
RESERVED_NAMES = frozenset(
    {"public", "current_user", "current_role", "session_user", "user", "none", "all", "postgres"}
)


class UserError(Exception):
    """A refused ``add-user``: the cluster cannot take this user (it exists, no team role)."""


class BadUserArgument(UserError):
    """A refused ``add-user``: the name or the team given is not acceptable."""


@dataclass(frozen=True)
class NewUser:
    """What ``add_user`` created; ``password`` exists only in memory and on the user's screen."""

    name: str
    team: str
    password: str


def _statement(name: str) -> sql.SQL:
    """A statement template from ``access/sql`` (identifiers and literals filled by psycopg)."""
    from psycopg import sql

    text = read_sql("shopdata.access", f"{name}.sql")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return sql.SQL("\n".join(lines).strip().rstrip(";"))


def validate(name: str, team: str, matrix: Matrix) -> None:
    """Reject bad names and unknown teams before touching the database (exit code 2)."""
    if not NAME_PATTERN.match(name):
        raise BadUserArgument(
            f"invalid user name {name!r}: use 2-63 characters a-z, 0-9 and _, "
            "starting with a letter"
        )
    if name.startswith("pg_") or name in matrix.teams or name in RESERVED_NAMES:
        raise BadUserArgument(f"invalid user name {name!r}: reserved name")
    if team not in matrix.teams:
        choices = ", ".join(sorted(matrix.teams))
        raise BadUserArgument(f"unknown team {team!r}: choose one of {choices}")


def generate_password() -> str:
    """A 32-character URL-safe password (24 random bytes)."""
    return secrets.token_urlsafe(24)


def add_user(
    conn: psycopg.Connection[tuple[object, ...]], name: str, team: str, matrix: Matrix
) -> NewUser:
    """Create LOGIN role ``name`` in ``team`` on the server behind ``conn`` (a superuser or
    CREATEROLE connection), all-or-nothing, and return it with its generated password."""
    from psycopg import sql

    validate(name, team, matrix)
    keyword = conn.execute(_statement("reserved_keyword"), {"name": name}).fetchone()
    if keyword is not None:
        raise BadUserArgument(
            f"invalid user name {name!r}: reserved name (an SQL keyword: {keyword[0]})"
        )
    with conn.transaction():
        exists = conn.execute(_statement("role_exists"), {"name": name}).fetchone()
        if exists and exists[0]:
            raise UserError(f'role "{name}" already exists')
        team_exists = conn.execute(_statement("role_exists"), {"name": team}).fetchone()
        if not (team_exists and team_exists[0]):
            raise UserError(
                f'team role "{team}" does not exist in this cluster: '
                "apply shopdata/salesdb/sql/initdb/090_roles.sql first"
            )
        password = generate_password()
        verifier = conn.pgconn.encrypt_password(
            password.encode(), name.encode(), b"scram-sha-256"
        ).decode()
        conn.execute(
            _statement("create_login_role").format(
                name=sql.Identifier(name),
                verifier=sql.Literal(verifier),
                team=sql.Identifier(team),
                connection_limit=sql.Literal(matrix.teams[team].connection_limit),
            )
        )
        for setting, value in matrix.teams[team].settings.items():
            values = value if isinstance(value, list) else [value]
            conn.execute(
                _statement("set_role_default").format(
                    name=sql.Identifier(name),
                    setting=sql.Identifier(setting),
                    value=sql.SQL(", ").join(sql.Literal(v) for v in values),
                )
            )
    return NewUser(name=name, team=team, password=password)


def drop_user(conn: psycopg.Connection[tuple[object, ...]], name: str) -> None:
    """Remove a login role created by :func:`add_user` (it owns nothing, so a plain DROP)."""
    from psycopg import sql

    conn.execute(_statement("drop_login_role").format(name=sql.Identifier(name)))


def connect_hint(url: str, user: str) -> str:
    """A psql command for the new user, built from the server URL (without its credentials).

    ``require_auth=scram-sha-256``: the password is a SCRAM one, and without it libpq hands
    the password in clear to whatever listens on the port and asks for it (any OS user can
    while the server is down).
    """
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    parts = conninfo_to_dict(url)
    keep = {k: parts[k] for k in ("host", "port", "dbname") if parts.get(k) is not None}
    conninfo = make_conninfo("", **keep, user=user, require_auth="scram-sha-256")
    return f'psql "{conninfo}"'
