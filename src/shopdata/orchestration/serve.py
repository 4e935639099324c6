"""``shopdata orchestrate``: the Dagster UI and daemon on this machine, with one command.

``DAGSTER_HOME`` is ``orchestration.dagster_home`` (``var/dagster``): its ``dagster.yaml`` turns
telemetry off and keeps the default SQLite storage unless an operator wrote their own (for
PostgreSQL storage, see docs/orchestration.md). The sales database is brought up first, so the
embedded PostgreSQL runs before any asset needs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from shopdata.config import Settings

CODE_LOCATION = "shopdata.orchestration.definitions"
INSTANCE_FILE = "dagster.yaml"
#: Written when DAGSTER_HOME has no dagster.yaml yet; an operator's own file is left alone.
DEFAULT_INSTANCE_YAML = """\
# Written by `shopdata orchestrate`. Storage: SQLite under this folder (Dagster's default).
# Beyond one machine, replace it by PostgreSQL storage: see docs/orchestration.md.
telemetry:
  enabled: false
"""


#: DAGSTER_HOME holds personal data (the top members' names and membership IDs as metadata, the
#: quarantined files' errors, step logs): owner only, like the embedded server's data directory.
HOME_MODE = 0o700


def dagster_home(settings: Settings) -> Path:
    """The absolute DAGSTER_HOME (Dagster refuses a relative one), created if missing, and
    closed to other users (the run history under it holds personal data)."""
    home = settings.orchestration.dagster_home.resolve()
    home.mkdir(mode=HOME_MODE, parents=True, exist_ok=True)
    info = home.stat()
    if info.st_uid == os.getuid() and info.st_mode & 0o077:
        home.chmod(HOME_MODE)
    instance = home / INSTANCE_FILE
    if not instance.exists():
        instance.write_text(DEFAULT_INSTANCE_YAML, encoding="utf-8")
    return home


def environment(settings: Settings) -> dict[str, str]:
    """This process's environment plus DAGSTER_HOME (settings travel as they are: env, .env)."""
    return {**os.environ, "DAGSTER_HOME": str(dagster_home(settings))}


def dev_command(host: str, port: int, working_directory: Path) -> list[str]:
    """``dagster dev``: webserver and daemon (schedules, sensors, run queue) together."""
    return [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "-m",
        CODE_LOCATION,
        "-d",
        str(working_directory),
        "-h",
        host,
        "-p",
        str(port),
    ]


def webserver_command(host: str, port: int, working_directory: Path) -> list[str]:
    """The UI alone (``dagster-webserver``), no daemon: for looking at run history."""
    return [
        sys.executable,
        "-m",
        "dagster_webserver",
        "-m",
        CODE_LOCATION,
        "-d",
        str(working_directory),
        "-h",
        host,
        "-p",
        str(port),
    ]


def load_error(settings: Settings) -> str | None:
    """Why the code location does not load (a schedule setting cron cannot say, say), or None.

    ``dagster dev`` would start anyway and show the error only in the UI, with no sensor and no
    schedule running: a fresh interpreter imports the definitions first, as the code server will.
    """
    result = subprocess.run(
        [sys.executable, "-c", f"import {CODE_LOCATION}"],
        env=environment(settings),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == 0:
        return None
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    return lines[-1] if lines else f"exit status {result.returncode}"


def serve(settings: Settings, host: str, port: int) -> int:
    """Bring the database up, then become ``dagster dev`` (exec: signals reach it directly, so
    a Ctrl-C or a service manager's SIGTERM stops its webserver, daemon and code servers).

    Returns only on failure: 1 when the definitions do not load or the sales database cannot be
    brought up.
    """
    from shopdata.errors import fail
    from shopdata.orchestration.resources import database_url
    from shopdata.orchestration.rules import one_line

    error_line = load_error(settings)
    if error_line is not None:
        fail(f"the Dagster definitions do not load: {error_line}")
    try:
        database_url(settings)
    except Exception as error:  # one line, not a traceback: the UI would have nothing to run
        fail(f"the sales database is not available: {one_line(error)}")
    command = dev_command(host, port, Path.cwd())
    os.execve(command[0], command, environment(settings))
