"""A PostgreSQL 18 cluster of the access tests' own, with password (SCRAM) logins over TCP.

Why a separate cluster: the proof creates and drops cluster-wide roles and changes role
settings; keeping that out of the shared test server keeps other components' tests independent.
The cluster is the embedded server exactly as ``shopdata db up`` makes it: ``scram-sha-256``
for everyone, the superuser included (its password comes from the 0600 password file that
``EmbeddedServer.url()`` names).

The database is built exactly like the Docker image builds it: every ``src/shopdata/salesdb/sql/initdb/*.sql`` file in
sorted order through ``psql -v ON_ERROR_STOP=1`` (``shopdata.salesdb.server``). The team
members are created by the real ``add-user`` code path (:func:`shopdata.access.users.add_user`),
and every check runs in a transaction that is rolled back, so tests do not depend on order.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from plugin_helpers import free_port, reap_stale_runs
from psycopg import sql

from shopdata.access.matrix import Matrix, load_matrix
from shopdata.access.users import NewUser, add_user, drop_user
from shopdata.salesdb.server import (
    TEST_SETTINGS,
    EmbeddedServer,
    conninfo_for,
    create_database_from_init,
    drop_database,
    wait_until_ready,
)

REPO = Path(__file__).resolve().parents[2]
CLUSTERS = REPO / "var" / "test-pg-access"
TEAMS = ("logistics", "analytics", "sales")
RUN = f"{os.getpid()}"


@dataclass(frozen=True)
class Cluster:
    """The running test cluster: its superuser URL and its port."""

    admin_url: str
    port: int


@dataclass(frozen=True)
class ProofDb:
    """The database the proof runs against and the login users of each team."""

    cluster: Cluster
    name: str
    url: str
    users: dict[str, NewUser]

    def user_conninfo(self, user: NewUser, password: str | None = None) -> str:
        """Conninfo for a login user; the password travels as a keyword, never in a URL."""
        secret = user.password if password is None else password
        return psycopg.conninfo.make_conninfo(
            host="127.0.0.1",
            port=self.cluster.port,
            dbname=self.name,
            user=user.name,
            password=secret,
            connect_timeout=5,
        )


@pytest.fixture(scope="session")
def access_cluster() -> Iterator[Cluster]:
    """Start this session's cluster (``var/test-pg-access/run-<pid>``) with SCRAM logins."""
    reap_stale_runs(CLUSTERS)
    run_dir = CLUSTERS / f"run-{RUN}"
    run_dir.mkdir(parents=True, exist_ok=True)
    server = EmbeddedServer(run_dir / "data", port=free_port(), settings=TEST_SETTINGS)
    server.start()
    try:
        admin_url = server.url()
        wait_until_ready(admin_url)
        port = server.running_port()
        assert port is not None
        yield Cluster(admin_url=admin_url, port=port)
    finally:
        server.stop()
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def matrix() -> Matrix:
    """The policy under test, read from src/shopdata/access/matrix.yaml."""
    return load_matrix()


def seed(url: str) -> None:
    """A small, known data set (as the loader, i.e. the owner): enough rows for every check."""
    with psycopg.connect(url) as conn:
        conn.execute((Path(__file__).parent / "seed.sql").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def proof_db(access_cluster: Cluster, matrix: Matrix) -> Iterator[ProofDb]:
    """A database built from the init files, seeded, with one login user per team."""
    name = f"access_proof_{RUN}"
    url = create_database_from_init(access_cluster.admin_url, name)
    seed(url)
    users: dict[str, NewUser] = {}
    with psycopg.connect(access_cluster.admin_url, autocommit=True) as conn:
        for team in TEAMS:
            users[team] = add_user(conn, f"proof_{team}_{RUN}", team, matrix)
    try:
        yield ProofDb(cluster=access_cluster, name=name, url=url, users=users)
    finally:
        drop_database(access_cluster.admin_url, name)
        with psycopg.connect(access_cluster.admin_url, autocommit=True) as conn:
            for user in users.values():
                drop_user(conn, user.name)


@pytest.fixture(scope="session")
def team_conn(proof_db: ProofDb) -> Iterator[dict[str, psycopg.Connection[tuple[object, ...]]]]:
    """One open connection per team, logged in with the team member's password.

    The analytics member first switches its read-only default off, as an analyst trying to
    write would: every denial the proof then sees comes from privileges, not from read-only mode.
    """
    conns = {
        team: psycopg.connect(proof_db.user_conninfo(user), autocommit=True)
        for team, user in proof_db.users.items()
    }
    conns["analytics"].execute("set default_transaction_read_only = off")
    try:
        yield conns
    finally:
        for conn in conns.values():
            conn.close()


def owner_url(proof_db: ProofDb) -> str:
    """The superuser URL of the proof database (for fixtures and after-the-fact inspection)."""
    return conninfo_for(proof_db.cluster.admin_url, proof_db.name)


# ---------------------------------------------------------------------------------------------
# Counting checks: every assertion about an allowed or denied operation is one check. Tests
# that loop over catalog objects record each object they tried; the total is printed at the end.

CHECKS: dict[str, int] = {}


@pytest.fixture
def record_check() -> Iterator[Callable[[str, int], None]]:
    """Call ``record_check(category, n)`` after ``n`` checks of a category passed."""

    def record(category: str, n: int = 1) -> None:
        CHECKS[category] = CHECKS.get(category, 0) + n

    yield record


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how many access checks passed, per category (the figure docs/access.md quotes)."""
    if not CHECKS:
        return
    terminalreporter.section("access proof")
    for category, n in sorted(CHECKS.items()):
        terminalreporter.write_line(f"{category:<40} {n:>5} checks passed")
    terminalreporter.write_line(f"{'total':<40} {sum(CHECKS.values()):>5} checks passed")


@pytest.fixture(scope="session")
def owner_conn(proof_db: ProofDb) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """The superuser on the proof database, to compare what a team reads with the truth."""
    with psycopg.connect(owner_url(proof_db), autocommit=True) as conn:
        yield conn


@dataclass(frozen=True)
class Outcome:
    """What one statement did: its error (SQLSTATE + message) or row count, and any warnings."""

    sqlstate: str | None
    message: str | None
    rowcount: int
    warnings: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...] = ()


def attempt(
    conn: psycopg.Connection[tuple[object, ...]],
    statement: str | sql.Composable,
    *,
    rollback: bool = True,
) -> Outcome:
    """Run one statement in its own transaction (rolled back by default) and report the result."""
    warnings: list[str] = []

    def on_notice(diag: psycopg.errors.Diagnostic) -> None:
        warnings.append(f"{diag.severity}: {diag.message_primary}")

    conn.add_notice_handler(on_notice)
    try:
        with conn.transaction(force_rollback=rollback):
            cur = conn.execute(statement)
            rows = tuple(cur.fetchall()) if cur.description else ()
            return Outcome(None, None, cur.rowcount, tuple(warnings), rows)
    except psycopg.Error as error:
        return Outcome(error.sqlstate, error.diag.message_primary, -1, tuple(warnings))
    finally:
        conn.remove_notice_handler(on_notice)


def assert_function_denied(
    owner_conn: psycopg.Connection[tuple[object, ...]],
    conn: psycopg.Connection[tuple[object, ...]],
    user: str,
    signature: str,
    statement: str,
) -> None:
    """``user`` lacks EXECUTE on ``pg_catalog.<signature>`` and ``statement`` (which calls it)
    fails on its connection with PostgreSQL's own permission error, naming the function."""
    granted = owner_conn.execute(
        "select pg_catalog.has_function_privilege(%s, %s::regprocedure, 'EXECUTE')",
        (user, f"pg_catalog.{signature}"),
    ).fetchone()
    assert granted == (False,), f"{user} may execute {signature}"
    outcome = attempt(conn, statement, rollback=False)
    name = signature.partition("(")[0]
    assert (outcome.sqlstate, outcome.message) == (
        "42501",
        f"permission denied for function {name}",
    )
