"""Which database the ``shopdata db`` commands talk to, from the settings.

``DATABASE_URL`` wins; otherwise the embedded server under ``db.data_dir`` and its database
``db.database``. Kept apart from ``cli.py`` so that scripts (bench, demo) resolve it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from shopdata.salesdb import server
from shopdata.salesdb.settings import SalesDbSettings


@dataclass(frozen=True)
class Target:
    """The resolved database: an explicit URL, or the embedded server plus a database name."""

    database_url: str | None
    embedded: server.EmbeddedServer | None
    database: str

    @property
    def description(self) -> str:
        if self.database_url is not None:
            return f"DATABASE_URL {server.redact(self.database_url)}"
        assert self.embedded is not None
        return f"embedded PostgreSQL in {self.embedded.data_dir}"

    def url(self) -> str:
        """URL of the application database (raises DatabaseError if the server is down)."""
        if self.database_url is not None:
            return self.database_url
        assert self.embedded is not None
        return self.embedded.url(self.database)

    def admin_url(self) -> str:
        """URL used to create or drop the application database."""
        if self.database_url is not None:
            return server.conninfo_for(self.database_url, "postgres")
        assert self.embedded is not None
        return self.embedded.url(server.SUPERUSER)


def target(database_url: str | None, settings: SalesDbSettings) -> Target:
    """Resolve the database from ``DATABASE_URL`` and the ``db`` settings section."""
    if database_url:
        return Target(database_url, None, server.database_of(database_url))
    embedded = server.EmbeddedServer(
        Path(settings.data_dir), port=settings.port, settings=settings.server_settings
    )
    return Target(None, embedded, settings.database)


def url_with_password(tgt: Target) -> str:
    """The application URL with the embedded superuser's password inline (asked for only)."""
    url = tgt.url()
    if tgt.embedded is None:
        return url
    parts = urlsplit(url)
    netloc = f"{server.SUPERUSER}:{quote(tgt.embedded.password(), safe='')}@{parts.hostname}"
    return urlunsplit(parts._replace(netloc=f"{netloc}:{parts.port}", query=""))


@dataclass(frozen=True)
class UpReport:
    """What ``db up`` did."""

    started: bool
    schema_applied: bool
    url: str


def bring_up(tgt: Target, init_dir: Path = server.DEFAULT_INIT_DIR) -> UpReport:
    """Start the embedded server if needed and make sure the database has the schema.

    Idempotent: a running server and an existing schema are left as they are. With
    ``DATABASE_URL`` nothing is started; the init files are applied once if ``sales`` is missing.
    """
    started = False
    if tgt.embedded is not None:
        # One lock around start *and* first-time database creation: two simultaneous first
        # `db up` calls must not both CREATE DATABASE.
        with tgt.embedded.lock():
            started = tgt.embedded.start()
            applied = server.ensure_database(tgt.admin_url(), tgt.database, init_dir)
    else:
        url = tgt.url()
        server.wait_until_ready(url, timeout_s=10)
        applied = False
        if not server.schema_present(url):
            server.apply_init_files(url, init_dir)
            applied = True
    return UpReport(started=started, schema_applied=applied, url=tgt.url())


def reset(tgt: Target, init_dir: Path = server.DEFAULT_INIT_DIR) -> str:
    """Drop the application database and build it again from the init files; returns its URL."""
    admin = tgt.admin_url()
    server.drop_database(admin, tgt.database)
    return server.create_database_from_init(admin, tgt.database, init_dir)
