"""Run the dbt project under ``analytics/`` against the sales database of the settings.

``analytics/profiles.yml`` reads its connection from environment variables only; this module
sets them from the one settings object (``DATABASE_URL`` or the embedded server), so dbt talks
to the same database as every ``shopdata db`` command. The embedded server's password stays in
its 0600 password file (libpq's ``PGPASSFILE``), never in the environment or on a command line.
Usage statistics are never sent.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

PROJECT_DIR = Path(__file__).resolve().parents[3] / "analytics"
#: Where dbt writes its target/ (manifest, catalog, docs) and logs/.
WORK_DIR = PROJECT_DIR.parent / "var" / "dbt"

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
    work = WORK_DIR if work_dir is None else work_dir
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
            "DO_NOT_TRACK": "1",
        }
    )
    if "passfile" in query:
        env["PGPASSFILE"] = query["passfile"]
    if "require_auth" in query:
        env["PGREQUIREAUTH"] = query["require_auth"]
    return env


def dbt_executable() -> str:
    """The ``dbt`` installed next to this Python (the project's virtual environment)."""
    return str(Path(sys.executable).parent / "dbt")


def run_dbt(url: str, args: Sequence[str], work_dir: Path | None = None) -> str:
    """Run ``dbt ARGS`` (for example ``["build"]``) against ``url``; returns its output.

    Raises :class:`DbtError` with dbt's last lines when it exits non-zero.
    """
    command = [dbt_executable(), *args]
    result = subprocess.run(
        command,
        env=dbt_env(url, work_dir=work_dir),
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        lines = [line.strip() for line in output.splitlines() if line.strip()]
        errors = [line for line in lines if "error" in line.lower()] or lines[-8:]
        raise DbtError(
            f"dbt {' '.join(args)} failed (exit {result.returncode}): " + " | ".join(errors[:8])
        )
    return output
