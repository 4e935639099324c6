"""``add-user``'s password never reaches the server: not its log, not ``pg_stat_activity``.

``pg_stat_activity.query`` shows the text of the statement a backend runs, and with
``log_statement = all`` the server log records every such text (and, for the extended protocol,
every parameter value). So the command's session is run with ``log_statement = all`` (through
``PGOPTIONS``, which only that session reads), and the log must then hold the ``CREATE ROLE``
statement with the SCRAM verifier and the role's name, but not the printed password. The log
assertion is checked to see the statement at all, so it cannot pass by logging nothing.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from shopdata.access.users import drop_user
from shopdata.cli import app

from .conftest import RUN, ProofDb, owner_url

PASSWORD_LINE = re.compile(r"^    ([A-Za-z0-9_-]{32})$", re.M)


@pytest.fixture
def secret_name(proof_db: ProofDb) -> Iterator[str]:
    name = f"secret_{RUN}"
    yield name
    with psycopg.connect(proof_db.cluster.admin_url, autocommit=True) as conn:
        drop_user(conn, name)


def _server_log(proof_db: ProofDb) -> Path:
    with psycopg.connect(owner_url(proof_db)) as conn:
        row = conn.execute("select current_setting('data_directory')").fetchone()
    assert row is not None
    return Path(str(row[0])) / "server.log"


def test_password_is_in_neither_the_log_nor_pg_stat_activity(
    proof_db: ProofDb, secret_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _server_log(proof_db)
    start = log.stat().st_size
    seen: list[str] = []
    done = threading.Event()

    def watch() -> None:
        """Everything pg_stat_activity shows of the command's session while it runs."""
        with psycopg.connect(owner_url(proof_db), autocommit=True) as conn:
            while not done.is_set():
                seen.extend(
                    str(r[0])
                    for r in conn.execute(
                        "select query from pg_catalog.pg_stat_activity "
                        "where application_name = 'add-user-secrecy'"
                    ).fetchall()
                )
                time.sleep(0.001)

    monkeypatch.setenv("PGOPTIONS", "-c log_statement=all")
    monkeypatch.setenv("PGAPPNAME", "add-user-secrecy")
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        result = CliRunner().invoke(
            app,
            [
                "db",
                "add-user",
                secret_name,
                "--team",
                "sales",
                "--database-url",
                owner_url(proof_db),
            ],
        )
    finally:
        done.set()
        watcher.join()
    assert result.exit_code == 0, result.output
    (password,) = PASSWORD_LINE.findall(result.stdout)

    with log.open("rb") as handle:
        handle.seek(start)
        logged = handle.read().decode("utf-8", errors="replace")
    statements = [line for line in logged.splitlines() if "statement: " in line]
    creates = [line for line in statements if f'create role "{secret_name}"' in line.lower()]
    assert len(creates) == 1, f"log_statement did not record the CREATE ROLE: {statements}"
    block = logged[logged.index(creates[0]) :].split("\n20", 1)[0]  # up to the next log line
    assert "password 'SCRAM-SHA-256$4096:" in block
    assert password not in logged
    assert all(password not in query for query in seen)
