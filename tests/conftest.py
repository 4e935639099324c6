"""Shared PostgreSQL fixtures: one real server per test session, a fresh database per test.

* ``pg_server`` (session): a real PostgreSQL 18. With ``DATABASE_URL`` set, that server (its
  URL must be a superuser's, or at least allowed to CREATE DATABASE); otherwise an embedded
  server of its own in ``var/test-pg/run-<pid>/`` (fsync off), stopped and removed at the end.
  Each session has its own cluster, so parallel pytest runs in one checkout do not collide.
* ``sales_template`` (session): the name of a database built ONCE from every file in
  ``src/shopdata/salesdb/sql/initdb`` (sorted by name, each through ``psql -v ON_ERROR_STOP=1``, as the ``postgres``
  image runs them, including other teams' files such as ``090_*.sql``).
* ``sales_db`` (function): the URL of a fresh copy of that template (``CREATE DATABASE ...
  TEMPLATE``, a few tens of milliseconds), dropped after the test.

Other components can call ``pg_server.create_database_from_init(name)`` to build a database from
the init files themselves, or ``pg_server.create_database(name, template=...)``.

The one skip rule of the whole suite also lives here: when the ``CI`` environment variable is
set, to any value at all (``true``, ``1``, even empty), a skipped test is reported as a failure,
because in CI a missing dependency is a broken build, not a reason to test less.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import settings
from plugin_helpers import free_port, reap_stale_runs

from shopdata.salesdb import server

# Helpers the whole suite shares (free ports, stale-cluster reaping, checkout copies).
pytest_plugins = ["plugin_helpers"]

# No Hypothesis deadline: timing belongs in bench/, and on a shared 2-core machine (or under
# mutmut) a 200 ms deadline fails examples for being slow, not wrong.
settings.register_profile("shopdata", deadline=None)
settings.load_profile("shopdata")

REPO = Path(__file__).resolve().parents[1]
NEVER_SKIP_MESSAGE = (
    "CI is set (CI={value!r}): nothing may be skipped in CI, but {where} was: {reason}"
)


def _in_ci() -> str | None:
    """The value of ``CI`` when it is set (any value, even empty), else None."""
    return os.environ.get("CI")


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """In CI a skipped test fails (an expected failure, ``xfail``, is not a skip)."""
    report: pytest.TestReport = yield
    value = _in_ci()
    if value is not None and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = NEVER_SKIP_MESSAGE.format(
            value=value, where=item.nodeid, reason=_skip_reason(report)
        )
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """In CI a module skipped at collection (``importorskip``, ``allow_module_level``) fails."""
    report: pytest.CollectReport = yield
    value = _in_ci()
    if value is not None and report.skipped:
        report.outcome = "failed"
        report.longrepr = NEVER_SKIP_MESSAGE.format(
            value=value, where=collector.nodeid, reason=_skip_reason(report)
        )
    return report


TEST_PG_ROOT = REPO / "var" / "test-pg"


@dataclass
class PgServer:
    """A running server and the superuser URL of its maintenance database."""

    admin_url: str
    embedded: server.EmbeddedServer | None = None
    _counter: Iterator[int] = field(default_factory=itertools.count)

    def url(self, dbname: str) -> str:
        """The superuser URL of ``dbname`` on this server."""
        return server.conninfo_for(self.admin_url, dbname)

    def unique_name(self, prefix: str) -> str:
        """A database (or role) name no other session or test uses."""
        return f"{prefix}_{os.getpid()}_{next(self._counter)}"

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """CREATE DATABASE (optionally from a template); returns its URL."""
        return server.create_database(self.admin_url, name, template=template)

    def create_database_from_init(self, name: str, init_dir: Path = server.DEFAULT_INIT_DIR) -> str:
        """CREATE DATABASE and run every init file into it, sorted by name; returns its URL."""
        return server.create_database_from_init(self.admin_url, name, init_dir)

    def drop_database(self, name: str) -> None:
        """DROP DATABASE IF EXISTS ... WITH (FORCE)."""
        server.drop_database(self.admin_url, name)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A real PostgreSQL for the whole session (DATABASE_URL, or our own embedded one)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        server.wait_until_ready(url)
        yield PgServer(admin_url=url)
        return
    reap_stale_runs(TEST_PG_ROOT)
    run_dir = TEST_PG_ROOT / f"run-{os.getpid()}"
    run_dir.mkdir(parents=True, exist_ok=True)
    embedded = server.EmbeddedServer(
        run_dir / "data", port=free_port(), settings=server.TEST_SETTINGS
    )
    embedded.start()
    try:
        yield PgServer(admin_url=embedded.url(), embedded=embedded)
    finally:
        embedded.stop()
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def sales_template(pg_server: PgServer) -> Iterator[str]:
    """Name of a database built once from all init files; copy it, never connect to it."""
    name = pg_server.unique_name("sales_template")
    pg_server.create_database_from_init(name)
    try:
        yield name
    finally:
        pg_server.drop_database(name)


@pytest.fixture
def sales_db(pg_server: PgServer, sales_template: str) -> Iterator[str]:
    """URL of a fresh database holding the schema from src/shopdata/salesdb/sql/initdb (and nothing else)."""
    name = pg_server.unique_name("sales_test")
    url = pg_server.create_database(name, template=sales_template)
    try:
        yield url
    finally:
        pg_server.drop_database(name)
