"""Issue 12.5: a misbehaving team user against everyone else's availability.

PostgreSQL lets a user switch its own timeouts off, even persistently (``ALTER ROLE current_user
SET``), so a Sales user can hold ACCESS EXCLUSIVE on the catalogue while idle. What the owner
*can* enforce is proved here: a per-person connection limit, and ``shopdata db sessions
--kill-idle`` ending the idle lock holder so that everyone else proceeds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from typer.testing import CliRunner

from shopdata.access.matrix import Matrix
from shopdata.cli import app

from .conftest import ProofDb, owner_url


@pytest.fixture
def restore_sales_defaults(proof_db: ProofDb) -> Iterator[str]:
    """The test lets the Sales user persist a setting on its own role; put it back after."""
    name = proof_db.users["sales"].name
    yield name
    with psycopg.connect(proof_db.cluster.admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("alter role {} set idle_in_transaction_session_timeout = '1min'").format(
                sql.Identifier(name)
            )
        )


def test_kill_idle_ends_a_session_that_sits_on_a_lock(
    proof_db: ProofDb, restore_sales_defaults: str
) -> None:
    user = proof_db.users["sales"]
    hostile = psycopg.connect(proof_db.user_conninfo(user))
    try:
        # What PostgreSQL cannot prevent: the user turns its own idle timeout off, persistently.
        hostile.execute("alter role current_user set idle_in_transaction_session_timeout = 0")
        hostile.execute("set idle_in_transaction_session_timeout = 0")
        hostile.execute("lock table sales.items in access exclusive mode")  # opens a transaction
        pid = hostile.info.backend_pid
        time.sleep(1.5)

        with psycopg.connect(owner_url(proof_db), autocommit=True) as owner:
            owner.execute("set lock_timeout = '300ms'")
            with pytest.raises(psycopg.errors.LockNotAvailable):
                owner.execute("select count(*) from sales.items")

            listed = CliRunner().invoke(
                app, ["db", "sessions", "--database-url", owner_url(proof_db)]
            )
            assert listed.exit_code == 0, listed.output
            mine = [line for line in listed.stdout.splitlines() if f"pid {pid} " in line]
            assert len(mine) == 1
            assert mine[0].startswith(
                f"pid {pid} {user.name} on {proof_db.name}: idle in transaction "
            )

            result = CliRunner().invoke(
                app, ["db", "sessions", "--kill-idle", "1", "--database-url", owner_url(proof_db)]
            )
            assert result.exit_code == 0, result.output
            killed = [
                line for line in result.stdout.splitlines() if line.startswith("terminated: ")
            ]
            assert len(killed) == 1
            assert killed[0].startswith(
                f"terminated: pid {pid} {user.name} on {proof_db.name}: idle in transaction "
            )
            assert result.stdout.splitlines()[-1].endswith(
                "; 1 idle in a transaction for >= 1 s terminated"
            )
            assert owner.execute("select count(*) from sales.items").fetchone() == (3,)
        with pytest.raises(psycopg.OperationalError):
            hostile.execute("select 1")
    finally:
        hostile.close()


def test_kill_blocking_ends_a_busy_session_that_sits_on_a_lock(proof_db: ProofDb) -> None:
    """The same lock held while *busy*: statement timeout off, then pg_sleep. The session is
    active, not idle in a transaction, so --kill-idle passes it by while the owner waits."""
    user = proof_db.users["sales"]
    hostile = psycopg.connect(proof_db.user_conninfo(user))
    hostile_error: list[BaseException] = []
    owner_rows: list[object] = []

    def sleep_on_the_lock() -> None:
        try:
            hostile.execute("select pg_sleep(60)")
        except psycopg.Error as error:
            hostile_error.append(error)

    def owner_reads() -> None:
        with psycopg.connect(owner_url(proof_db)) as owner:
            owner.execute("set lock_timeout = '50s'")
            owner_rows.append(owner.execute("select count(*) from sales.items").fetchone())

    try:
        hostile.execute("set statement_timeout = 0")
        hostile.execute("lock table sales.items in access exclusive mode")
        pid = hostile.info.backend_pid
        sleeper = threading.Thread(target=sleep_on_the_lock)
        sleeper.start()
        reader = threading.Thread(target=owner_reads)
        reader.start()
        url = owner_url(proof_db)
        deadline = time.monotonic() + 20
        while True:  # until the owner's read waits on the lock and the transaction is 1 s old
            listed = CliRunner().invoke(app, ["db", "sessions", "--database-url", url])
            mine = [line for line in listed.stdout.splitlines() if f"pid {pid} " in line]
            if mine == [f"pid {pid} {user.name} on {proof_db.name}: active, blocking 1 session(s)"]:
                break
            assert time.monotonic() < deadline, listed.stdout
            time.sleep(0.2)
        time.sleep(1.2)

        idle = CliRunner().invoke(
            app, ["db", "sessions", "--kill-idle", "1", "--database-url", url]
        )
        assert idle.exit_code == 0, idle.output
        assert "terminated: " not in idle.stdout
        assert reader.is_alive()  # still waiting

        result = CliRunner().invoke(
            app, ["db", "sessions", "--kill-blocking", "1", "--database-url", url]
        )
        assert result.exit_code == 0, result.output
        assert (
            f"terminated: pid {pid} {user.name} on {proof_db.name}: active, blocking 1 session(s)"
            in result.stdout.splitlines()
        )
        assert result.stdout.splitlines()[-1].endswith(
            "; 1 blocking others from a transaction open >= 1 s terminated"
        )
        reader.join(timeout=20)
        sleeper.join(timeout=20)
        assert owner_rows == [(3,)]
        assert len(hostile_error) == 1
        assert isinstance(hostile_error[0], psycopg.OperationalError)
    finally:
        hostile.close()


def test_kill_idle_needs_a_positive_number() -> None:
    result = CliRunner().invoke(app, ["db", "sessions", "--kill-idle", "0"])
    assert result.exit_code == 2
    assert "--kill-idle" in result.stderr


def test_a_person_cannot_take_more_than_the_team_connection_limit(
    proof_db: ProofDb, matrix: Matrix, team_conn: dict[str, psycopg.Connection[tuple[object, ...]]]
) -> None:
    """team_conn already holds one connection of the Sales user; up to the limit more work,
    the next is refused by the server."""
    user = proof_db.users["sales"]
    limit = matrix.teams["sales"].connection_limit
    assert limit == 5
    assert not team_conn["sales"].closed
    extra = [psycopg.connect(proof_db.user_conninfo(user)) for _ in range(limit - 1)]
    try:
        with pytest.raises(psycopg.OperationalError) as refused:
            psycopg.connect(proof_db.user_conninfo(user)).close()
        assert f'too many connections for role "{user.name}"' in str(refused.value)
    finally:
        for conn in extra:
            conn.close()
