"""Run the dbt project (``shopdata/analytics/project/``) against the sales database of the settings.

The project ships inside the package and is found with :mod:`importlib.resources`, so an
installed wheel runs it as a checkout does (it used to live at the repository root, which a wheel
does not have). dbt's target/ and logs/ go under ``db.dbt_dir`` of the settings (``var/dbt``), never
into the package. ``profiles.yml`` reads its connection from environment variables only; this module
sets them from the one settings object (``DATABASE_URL`` or the embedded server), so dbt talks
to the same database as every ``shopdata db`` command. The embedded server's password stays in
its 0600 password file (libpq's ``PGPASSFILE``), never in the environment or on a command line.
Usage statistics are never sent.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from shopdata.resources import package_path

PROJECT_DIR = package_path("shopdata.analytics", "project")
#: Where dbt writes its target/ (manifest, catalog, docs) and logs/, unless told otherwise: the
#: settings' ``db.dbt_dir`` (relative to the working folder, like ``db.data_dir``).
WORK_DIR: Path | None = None

#: The role the refresh runs as (SET ROLE after login): owner of the staging and marts schemas.
REFRESH_ROLE = "analytics_refresh"


class DbtError(RuntimeError):
    """dbt failed; the message is its last lines of output."""


def dbt_env(
    url: str, base: Mapping[str, str] | None = None, work_dir: Path | None = None
) -> dict[str, str]:
    """The environment dbt needs for ``url`` (``postgresql://user[:pw]@host:port/db?...``);
    dbt writes its target/ and logs/ under ``work_dir`` (default :data:`WORK_DIR`)."""
    parts = urlsplit(url)
    work = work_dir or default_work_dir()
    query = dict(parse_qsl(parts.query))
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "SHOPDATA_DBT_HOST": parts.hostname or query.get("host", "127.0.0.1"),
            "SHOPDATA_DBT_PORT": str(parts.port or query.get("port", 5432)),
            "SHOPDATA_DBT_USER": unquote(parts.username or query.get("user", "postgres")),
            "SHOPDATA_DBT_DBNAME": unquote(parts.path.lstrip("/")) or "postgres",
            "SHOPDATA_DBT_ROLE": REFRESH_ROLE,
            "DBT_ENV_SECRET_PASSWORD": unquote(parts.password or query.get("password", "")),
            "DBT_PROFILES_DIR": str(PROJECT_DIR),
            "DBT_PROJECT_DIR": str(PROJECT_DIR),
            "DBT_TARGET_PATH": str(work / "target"),
            "DBT_LOG_PATH": str(work / "logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            # Plain text: the failure becomes one `Error:` line, without terminal escapes.
            "DBT_USE_COLORS": "false",
            "DO_NOT_TRACK": "1",
        }
    )
    if "passfile" in query:
        env["PGPASSFILE"] = query["passfile"]
    if "require_auth" in query:
        env["PGREQUIREAUTH"] = query["require_auth"]
    return env


def default_work_dir() -> Path:
    """:data:`WORK_DIR` if set, else the settings' ``db.dbt_dir``, as an absolute path."""
    if WORK_DIR is not None:
        return WORK_DIR
    from shopdata.config import get_settings

    return get_settings().db.dbt_dir.resolve()


def dbt_executable() -> str:
    """The ``dbt`` installed next to this Python (the project's virtual environment)."""
    return str(Path(sys.executable).parent / "dbt")


class RefreshBusy(RuntimeError):
    """Another dbt run holds this database's refresh lock (asked not to wait)."""


@contextmanager
def refresh_lock(url: str, *, wait: bool = True) -> Iterator[None]:
    """Hold the database's refresh lock (``sql/lock_refresh.sql``) for the block.

    One dbt run at a time per database: with ``wait`` this waits for a refresh under way to end;
    without, it raises :class:`RefreshBusy` at once (a scheduled refresh skips, as the members'
    run lock does). Released when its connection closes, however the block ends.
    """
    import psycopg

    from shopdata.resources import read_sql

    with psycopg.connect(url, autocommit=True) as lock:
        if wait:
            lock.execute(read_sql("shopdata.analytics", "lock_refresh.sql").encode())
        else:
            row = lock.execute(
                read_sql("shopdata.analytics", "try_lock_refresh.sql").encode()
            ).fetchone()
            if not (row and row[0]):
                raise RefreshBusy(
                    "another analytics refresh holds the refresh lock of this database"
                )
        yield


@contextmanager
def dbt_session(
    url: str, *, wait: bool = True, work_dir: Path | None = None
) -> Iterator[dict[str, str]]:
    """The one way dbt is run, by ``db refresh-analytics`` and by Dagster alike: the refresh lock
    held (see :func:`refresh_lock`) and the environment of :func:`dbt_env` (profiles.yml of the
    package, the role analytics_refresh, no usage statistics) for the block."""
    with refresh_lock(url, wait=wait):
        yield dbt_env(url, work_dir=work_dir)


def run_dbt(url: str, args: Sequence[str], work_dir: Path | None = None) -> str:
    """Run ``dbt ARGS`` (for example ``["build"]``) against ``url``; returns its output.

    Raises :class:`DbtError` with dbt's last lines when it exits non-zero. One run at a time per
    database: this waits for the refresh lock (``sql/lock_refresh.sql``) and holds it while
    dbt runs, so a second refresh (a schedule and an operator) starts after the first ends.
    """
    command = [dbt_executable(), *args]
    with dbt_session(url, work_dir=work_dir) as env:
        result = subprocess.run(
            command,
            env=env,
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        lines = [line.strip() for line in output.splitlines() if line.strip()]
        # dbt's own lines start with a timestamp; keep what names the problem: the failing
        # test or model ("Failure in test purchases_equal_source ..."), errors, the summary.
        errors = [
            line for line in lines if "error" in line.lower() or "failure in" in line.lower()
        ] or lines[-8:]
        raise DbtError(
            f"dbt {' '.join(args)} failed (exit {result.returncode}): " + " | ".join(errors[:8])
        )
    return output


def failures(run_results: Mapping[str, Any]) -> str:
    """What failed in a dbt ``run_results.json``, one clause per failed node: ``test
    purchases_equal_source fail (Got 1 result, configured to fail if != 0)``."""
    bad = [r for r in run_results.get("results", []) if r.get("status") in {"error", "fail"}]
    if not bad:
        return "dbt exited non-zero without a failed node (see its log)"
    clauses = []
    for result in bad:
        kind, _, name = str(result.get("unique_id", "?")).partition(".")
        name = name.partition(".")[2] or name
        message = " ".join(str(result.get("message") or "").split())
        clauses.append(f"{kind} {name} {result['status']}" + (f" ({message})" if message else ""))
    return "; ".join(clauses)


#: What ``dbt parse`` is given to connect to: parsing never connects, and a fixed target keeps
#: the manifest the same whatever database a refresh later runs against.
_PARSE_URL = "postgresql://parse@127.0.0.1:5432/parse"


def _project_mtime() -> float:
    return max(p.stat().st_mtime for p in PROJECT_DIR.rglob("*") if p.is_file())


def manifest_path(work_dir: Path | None = None) -> Path:
    """The project's ``manifest.json`` (what Dagster builds the dbt assets from), made by ``dbt
    parse`` under ``work_dir`` when missing or older than a file of the project.

    Parsing takes seconds and every Dagster process loads the definitions, so a current manifest
    is reused; a file lock keeps two processes from parsing at once, and the manifest is put in
    place by a rename, so a reader never sees half of one.
    """
    import fcntl

    work = work_dir or default_work_dir()
    final = work / "manifest.json"
    if final.is_file() and final.stat().st_mtime >= _project_mtime():
        return final
    work.mkdir(parents=True, exist_ok=True)
    with (work / "parse.lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if final.is_file() and final.stat().st_mtime >= _project_mtime():
            return final
        env = dbt_env(_PARSE_URL, work_dir=work / "parse")
        result = subprocess.run(
            [dbt_executable(), "parse"],
            env=env,
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
            raise DbtError(
                f"dbt parse failed (exit {result.returncode}): " + " | ".join(lines[-4:])
            )
        os.replace(work / "parse" / "target" / "manifest.json", final)
    return final
