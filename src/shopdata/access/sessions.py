"""``shopdata db sessions``: see, and end, what people's sessions do to everyone else.

PostgreSQL lets any user change its own ``statement_timeout``, ``lock_timeout`` and
``idle_in_transaction_session_timeout`` (``SET``, or ``ALTER ROLE current_user SET``), so the
teams' timeouts in ``access/matrix.yaml`` are defaults, not limits. A session that opens a
transaction, takes a lock and then idles can block a table for as long as it likes. This module
is the operator's answer: list people's sessions (superusers excluded) with their idle time
inside a transaction and how many sessions wait on them, and terminate those idle in a
transaction for at least N seconds, or that block others from a transaction open that long.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shopdata.resources import read_sql

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class Session:
    """One row of ``team_sessions.sql``."""

    pid: int
    user: str
    database: str
    state: str
    idle_in_transaction_s: int | None
    transaction_s: int | None
    blocking: int

    def idle_for_at_least(self, seconds: int) -> bool:
        return self.idle_in_transaction_s is not None and self.idle_in_transaction_s >= seconds


def list_sessions(conn: psycopg.Connection[tuple[object, ...]]) -> list[Session]:
    """People's sessions on the server of ``conn`` (needs a superuser or pg_read_all_stats)."""
    text = read_sql("shopdata.access", "team_sessions.sql")
    sessions = []
    for pid, user, database, state, idle, xact, blocking in conn.execute(text).fetchall():
        sessions.append(
            Session(
                pid=int(str(pid)),
                user=str(user),
                database=str(database),
                state=str(state),
                idle_in_transaction_s=None if idle is None else int(str(idle)),
                transaction_s=None if xact is None else int(str(xact)),
                blocking=int(str(blocking)),
            )
        )
    return sessions


def to_kill(sessions: list[Session], idle_seconds: int) -> list[Session]:
    """The sessions idle inside a transaction for at least ``idle_seconds`` (pure)."""
    return [s for s in sessions if s.idle_for_at_least(idle_seconds)]


def to_kill_blocking(sessions: list[Session], seconds: int) -> list[Session]:
    """The sessions that make others wait, in a transaction open for at least ``seconds`` (pure).

    A user who switched its statement timeout off holds its locks just as well while *busy*
    (``select pg_sleep(3600)`` after ``LOCK TABLE``) as while idle, and ``--kill-idle`` does
    not see a busy session.
    """
    return [
        s
        for s in sessions
        if s.blocking > 0 and s.transaction_s is not None and s.transaction_s >= seconds
    ]


def terminate(conn: psycopg.Connection[tuple[object, ...]], session: Session) -> bool:
    """``pg_terminate_backend``: True if the session was ended (False if it had already gone)."""
    row = conn.execute(
        "select pg_catalog.pg_terminate_backend(%s, 5000)", (session.pid,)
    ).fetchone()
    return bool(row and row[0])


def describe(session: Session) -> str:
    """One line for the operator."""
    idle = (
        f"idle in transaction {session.idle_in_transaction_s} s"
        if session.idle_in_transaction_s is not None
        else session.state or "no state"
    )
    return (
        f"pid {session.pid} {session.user} on {session.database or '-'}: {idle}, "
        f"blocking {session.blocking} session(s)"
    )
