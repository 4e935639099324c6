"""`shopdata db up|url|down` manage one embedded server, idempotently."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from plugin_helpers import free_port
from typer.testing import CliRunner

from shopdata.cli import app
from shopdata.config import get_settings
from shopdata.salesdb import server

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def embedded_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, int]]:
    data_dir = REPO / "var" / "test-pg" / f"cli-{os.getpid()}"
    port = free_port()
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent")  # no ~/.pgpass can help a refused login
    monkeypatch.setenv("SHOPDATA_DB__DATA_DIR", str(data_dir))
    monkeypatch.setenv("SHOPDATA_DB__PORT", str(port))
    monkeypatch.setenv("SHOPDATA_DB__SERVER_SETTINGS", '{"fsync": "off", "shared_buffers": "64MB"}')
    get_settings.cache_clear()
    yield data_dir, port
    CliRunner().invoke(app, ["db", "down"])
    get_settings.cache_clear()
    shutil.rmtree(data_dir, ignore_errors=True)


def test_up_url_down_round_trip(embedded_env: tuple[Path, int]) -> None:
    data_dir, port = embedded_env
    runner = CliRunner()
    # The URL names the password file, never the password (issue 12: no password-less login).
    passfile = data_dir.resolve().parent / f".{data_dir.name}.pgpass"
    url = (
        f"postgresql://postgres@127.0.0.1:{port}/shopdata?passfile={passfile}"
        "&require_auth=scram-sha-256"
    )

    down_first = runner.invoke(app, ["db", "url"])
    assert (down_first.exit_code, down_first.stderr) == (
        1,
        f"Error: the embedded database in {data_dir} is not running (start it with: shopdata db up)\n",
    )

    first = runner.invoke(app, ["db", "up"])
    assert first.exit_code == 0, first.output
    assert first.stdout == (
        f"embedded PostgreSQL in {data_dir}: started; schema created from shopdata/salesdb/sql/initdb; {url}\n"
    )
    again = runner.invoke(app, ["db", "up"])
    assert again.stdout == (
        f"embedded PostgreSQL in {data_dir}: already running; schema present; {url}\n"
    )
    assert runner.invoke(app, ["db", "url"]).stdout == url + "\n"
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select current_setting('work_mem'), current_setting('jit'),"
            " current_setting('fsync'), current_setting('server_version_num')::int / 10000"
        ).fetchone()
    assert row == ("64MB", "off", "off", 18)

    stop = runner.invoke(app, ["db", "down"])
    assert stop.stdout == f"embedded PostgreSQL in {data_dir}: stopped\n"
    assert runner.invoke(app, ["db", "down"]).stdout == (
        f"embedded PostgreSQL in {data_dir}: was not running\n"
    )
    restart = runner.invoke(app, ["db", "up"])
    assert restart.stdout == (
        f"embedded PostgreSQL in {data_dir}: started; schema present; {url}\n"
    )


def test_a_fake_server_on_the_port_gets_no_password(embedded_env: tuple[Path, int]) -> None:
    """Any OS user may listen on the port while the server is down. A listener that asks for a
    cleartext password used to receive the superuser's, read from the password file by libpq,
    from anyone who kept the URL (`export DATABASE_URL=$(shopdata db url)`)."""
    data_dir, port = embedded_env
    runner = CliRunner()
    assert runner.invoke(app, ["db", "up"]).exit_code == 0
    url = runner.invoke(app, ["db", "url"]).stdout.strip()
    password = server.EmbeddedServer(data_dir).password()
    assert runner.invoke(app, ["db", "down"]).exit_code == 0

    received: list[bytes] = []
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the server just left
        listener.bind(("127.0.0.1", port))
        listener.listen(1)

        def fake_server() -> None:
            client, _ = listener.accept()
            with client:
                while True:
                    size = struct.unpack("!I", client.recv(4))[0]
                    startup = client.recv(size - 4)
                    if startup[:4] != struct.pack("!I", 80877103):  # not an SSLRequest
                        break
                    client.sendall(b"N")
                client.sendall(b"R" + struct.pack("!II", 8, 3))  # AuthenticationCleartextPassword
                client.settimeout(5)
                try:
                    while chunk := client.recv(4096):
                        received.append(chunk)
                except OSError:
                    pass

        thread = threading.Thread(target=fake_server)
        thread.start()
        with pytest.raises(psycopg.OperationalError) as caught:
            psycopg.connect(url, connect_timeout=5).close()
        thread.join(timeout=10)
    assert "server requested a cleartext password" in str(caught.value)
    assert password.encode() not in b"".join(received)


def _login_error(conninfo: str) -> str:
    with pytest.raises(psycopg.OperationalError) as caught:
        psycopg.connect(conninfo, connect_timeout=5).close()
    return str(caught.value)


def test_no_login_without_the_right_password(embedded_env: tuple[Path, int]) -> None:
    """Issue 12.1: superuser and team login users need their password, over TCP."""
    _, port = embedded_env
    runner = CliRunner()
    up = runner.invoke(app, ["db", "up"])
    assert up.exit_code == 0, up.output
    base = f"postgresql://127.0.0.1:{port}/shopdata"

    assert 'password authentication failed for user "postgres"' in _login_error(
        f"{base}?user=postgres&password=wrong"
    )
    assert "no password supplied" in _login_error(f"{base}?user=postgres")

    added = runner.invoke(app, ["db", "add-user", "ada", "--team", "sales"])
    assert added.exit_code == 0, added.output
    password = added.stdout.splitlines()[3].strip()
    assert len(password) == 32
    assert 'password authentication failed for user "ada"' in _login_error(
        f"{base}?user=ada&password=wrong"
    )
    assert "no password supplied" in _login_error(f"{base}?user=ada")
    with psycopg.connect(f"{base}?user=ada&password={password}") as conn:
        assert conn.execute("select current_user").fetchone() == ("ada",)

    # The superuser password is printed only when asked for, and then it works on its own.
    secret = runner.invoke(app, ["db", "url", "--with-password"]).stdout.strip()
    assert secret.startswith("postgresql://postgres:") and "passfile" not in secret
    assert secret.split(":")[2].split("@")[0] not in up.stdout + added.stdout
    with psycopg.connect(secret) as conn:
        assert conn.execute("select current_user").fetchone() == ("postgres",)

    # pg_hba.conf holds no trust line at all: socket and TCP both need scram-sha-256.
    with psycopg.connect(secret) as conn:
        methods = conn.execute(
            "select distinct auth_method from pg_hba_file_rules where error is null"
        ).fetchall()
    assert methods == [("scram-sha-256",)]


def test_other_os_users_cannot_read_the_password_file(embedded_env: tuple[Path, int]) -> None:
    data_dir, port = embedded_env
    assert CliRunner().invoke(app, ["db", "up"]).exit_code == 0
    passfile = data_dir.resolve().parent / f".{data_dir.name}.pgpass"
    info = passfile.stat()
    assert (stat.S_IMODE(info.st_mode), info.st_uid) == (0o600, os.geteuid())
    if os.geteuid() == 0:  # as root (CI containers), prove it as the OS user `nobody`
        read = subprocess.run(
            ["cat", str(passfile)], user="nobody", capture_output=True, text=True, check=False
        )
        assert read.returncode == 1
        assert "Permission denied" in read.stderr
        # The server's own psql (readable by every user, unlike this venv's Python).
        psql = str(server._bin_dir() / "psql")
        conninfo = f"host=127.0.0.1 port={port} user=postgres dbname=shopdata passfile={passfile}"
        refused = subprocess.run(
            [psql, "-w", "-X", "-c", "copy (select 1) to program 'id'", conninfo],
            user="nobody",
            capture_output=True,
            text=True,
            check=False,
            cwd="/",
            env={"PATH": "/usr/bin:/bin", "PGPASSFILE": "/nonexistent"},
        )
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "no password supplied" in refused.stderr, refused.stderr


def test_other_os_users_cannot_hold_the_start_lock(embedded_env: tuple[Path, int]) -> None:
    """flock() needs only a read-only descriptor: a readable lock file let any OS user hold it
    and block every `db up` and `db down` of the owner indefinitely."""
    data_dir, _ = embedded_env
    lock_path = data_dir.resolve().parent / f".{data_dir.name}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock_path.touch(mode=0o644)
    lock_path.chmod(0o644)  # as an older shopdata left it
    assert CliRunner().invoke(app, ["db", "up"]).exit_code == 0
    info = lock_path.stat()
    assert (stat.S_IMODE(info.st_mode), info.st_uid) == (0o600, os.geteuid())
    if os.geteuid() == 0:  # as root (CI containers), prove it as the OS user `nobody`
        held = subprocess.run(
            ["flock", "--nonblock", "--exclusive", str(lock_path), "true"],
            user="nobody",
            capture_output=True,
            text=True,
            check=False,
            cwd="/",
        )
        assert (held.returncode, held.stderr) == (
            66,  # EX_NOINPUT: util-linux flock could not open the file
            f"flock: cannot open lock file {lock_path}: Permission denied\n",
        )
    down = CliRunner().invoke(app, ["db", "down"])
    assert down.exit_code == 0, down.output


def test_up_secures_a_cluster_made_with_trust(embedded_env: tuple[Path, int]) -> None:
    """A data folder from an older shopdata (trust, no password file) gets a password."""
    data_dir, port = embedded_env
    runner = CliRunner()
    assert runner.invoke(app, ["db", "up"]).exit_code == 0
    assert runner.invoke(app, ["db", "down"]).exit_code == 0
    passfile = data_dir.resolve().parent / f".{data_dir.name}.pgpass"
    old = passfile.read_text()
    passfile.unlink()
    (data_dir / "pg_hba.conf").write_text("host all all 127.0.0.1/32 trust\n")
    up = runner.invoke(app, ["db", "up"])
    assert up.exit_code == 0, up.output
    assert passfile.read_text() != old
    assert "no password supplied" in _login_error(
        f"postgresql://postgres@127.0.0.1:{port}/shopdata"
    )
    url = runner.invoke(app, ["db", "url"]).stdout.strip()
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from sales.members").fetchone() == (0,)


def test_up_after_the_server_was_killed(embedded_env: tuple[Path, int]) -> None:
    data_dir, _ = embedded_env
    runner = CliRunner()
    assert runner.invoke(app, ["db", "up"]).exit_code == 0
    pid = int((data_dir / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)
    again = runner.invoke(app, ["db", "up"])
    assert again.exit_code == 0, again.output
    assert ": started; schema present; " in again.stdout
    url = runner.invoke(app, ["db", "url"]).stdout.strip()
    with psycopg.connect(url) as conn:
        assert conn.execute("select to_regnamespace('sales') is not null").fetchone() == (True,)


def test_stale_pid_file_naming_a_live_unrelated_process(embedded_env: tuple[Path, int]) -> None:
    data_dir, _ = embedded_env
    runner = CliRunner()
    assert runner.invoke(app, ["db", "up"]).exit_code == 0
    pid_file = data_dir / "postmaster.pid"
    lines = pid_file.read_text().splitlines()
    assert runner.invoke(app, ["db", "down"]).exit_code == 0
    with subprocess.Popen(["sleep", "60"]) as unrelated:  # a live process that is not postgres
        try:
            pid_file.write_text("\n".join([str(unrelated.pid), *lines[1:]]) + "\n")
            down = runner.invoke(app, ["db", "down"])
            assert (down.exit_code, down.stdout) == (
                0,
                f"embedded PostgreSQL in {data_dir}: was not running\n",
            )
            pid_file.write_text("\n".join([str(unrelated.pid), *lines[1:]]) + "\n")
            up = runner.invoke(app, ["db", "up"])
            assert up.exit_code == 0, up.output
            assert ": started; schema present; " in up.stdout
        finally:
            unrelated.kill()


def test_stale_pid_file_naming_another_clusters_postmaster(
    embedded_env: tuple[Path, int],
) -> None:
    """A reused PID that is *a* postgres, but not the server of this data folder.

    Every embedded server on the machine runs as the same OS user, so after a restart the PID
    in a stale ``postmaster.pid`` can belong to another cluster's postmaster. ``db down`` used
    to send that server the shutdown signal (it stopped another engineer's database) and fail
    after 60 s; ``db up`` waited 60 s and said "Connection refused".
    """
    data_dir, _ = embedded_env
    runner = CliRunner()
    assert runner.invoke(app, ["db", "up"]).exit_code == 0
    pid_file = data_dir / "postmaster.pid"
    lines = pid_file.read_text().splitlines()
    assert runner.invoke(app, ["db", "down"]).exit_code == 0
    embedded = server.EmbeddedServer(data_dir)
    # Another cluster's postmaster: a program called postgres, run by the server's OS user,
    # in another folder (argv[0] "postgres", like the real one; the program is `sleep`).
    other = subprocess.Popen(
        ["postgres", "60"],
        executable="/bin/sleep",
        user=embedded._system_user(),
        cwd="/",
    )
    try:
        pid_file.write_text("\n".join([str(other.pid), *lines[1:]]) + "\n")
        down = runner.invoke(app, ["db", "down"])
        assert (down.exit_code, down.stdout, down.stderr) == (
            0,
            f"embedded PostgreSQL in {data_dir}: was not running\n",
            "",
        )
        assert other.poll() is None, "db down signalled a server that is not its own"
        pid_file.write_text("\n".join([str(other.pid), *lines[1:]]) + "\n")
        up = runner.invoke(app, ["db", "up"])
        assert up.exit_code == 0, up.output
        assert ": started; schema present; " in up.stdout
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_up_after_a_first_up_was_killed_during_initdb(embedded_env: tuple[Path, int]) -> None:
    """A first `db up` killed while initdb writes the cluster (Ctrl-C, OOM) left a half-built
    cluster with PG_VERSION in the data folder: the next `db up` started it, the server
    crash-looped ("could not find relation mapping") and `db up` failed without a hint."""
    data_dir, _ = embedded_env
    command = [str(Path(sys.executable).parent / "shopdata"), "db", "up"]
    first = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    building = data_dir.resolve().parent / f".{data_dir.name}.initdb"
    deadline = time.monotonic() + 120
    try:
        while not any((d / "base").exists() for d in (building, data_dir)):
            assert first.poll() is None, "db up finished before initdb could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # shopdata and its initdb
        first.wait()
    up = CliRunner().invoke(app, ["db", "up"])
    assert up.exit_code == 0, up.output
    assert ": started; schema created from shopdata/salesdb/sql/initdb; " in up.stdout
    assert not building.exists()
    url = CliRunner().invoke(app, ["db", "url"]).stdout.strip()
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from sales.members").fetchone() == (0,)


def test_two_simultaneous_first_ups(embedded_env: tuple[Path, int]) -> None:
    _ = embedded_env
    env = dict(os.environ)
    command = [str(Path(sys.executable).parent / "shopdata"), "db", "up"]
    procs = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [(p.wait(timeout=240), *p.communicate()) for p in procs]
    assert [code for code, _, _ in outputs] == [0, 0], outputs
    states = sorted("; ".join(out.split(": ", 1)[1].split("; ")[:2]) for _, out, _ in outputs)
    assert states == [
        "already running; schema present",
        "started; schema created from shopdata/salesdb/sql/initdb",
    ]
    assert all(err == "" for _, _, err in outputs)


def test_reset_needs_yes(db_env: str) -> None:
    result = CliRunner().invoke(app, ["db", "reset"])
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: reset deletes every row of the sales database; run again with --yes\n",
    )


def test_reset_rebuilds_an_empty_database(db_env: str) -> None:
    from .helpers import apply_sql_file, scalar

    apply_sql_file(db_env, "fixture_sales.sql")
    result = CliRunner().invoke(app, ["db", "reset", "--yes"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("DATABASE_URL ")
    assert scalar(db_env, "select count(*) from sales.transactions") == 0


def test_unreachable_database_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://nobody@127.0.0.1:{free_port()}/x")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["db", "query", "top-members"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot reach the database: ")
    assert result.stderr.count("\n") == 1
