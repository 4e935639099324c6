"""Helpers every part of the suite shares, once (a pytest plugin, as psycopg's ``tests/fix_db.py``).

Registered by ``tests/conftest.py`` (``pytest_plugins``, so fixtures added here reach every test);
the functions are imported by name (``from plugin_helpers import free_port``): the tests folder
is on ``sys.path`` for every test module.

* :func:`free_port`: a TCP port on 127.0.0.1 that nothing listens on right now;
* :func:`reap_stale_runs`: stop the embedded server and delete the folder of every earlier pytest
  session (``<root>/run-<pid>``) whose process is gone (killed sessions leave them behind);
* :func:`copy_checkout`: the checkout's files as git sees them (tracked and new, not ignored),
  copied into another folder: what a fresh clone of the working tree would hold.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from pathlib import Path

from shopdata.salesdb import server

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (bound, read and released: the OS will not reuse it soon)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def reap_stale_runs(root: Path, data_dir: str = "data") -> None:
    """Stop and delete ``root/run-<pid>`` folders of sessions that died before cleaning up.

    A folder whose process still runs is left alone (parallel sessions in one checkout); the
    embedded server in ``run-<pid>/<data_dir>`` is stopped before the folder goes.
    """
    if not root.is_dir():
        return
    for run_dir in root.glob("run-*"):
        try:
            os.kill(int(run_dir.name.removeprefix("run-")), 0)
            continue  # that session is still running
        except ProcessLookupError:
            pass
        except (ValueError, PermissionError):
            continue
        with contextlib.suppress(server.DatabaseError):
            server.EmbeddedServer(run_dir / data_dir).stop()
        shutil.rmtree(run_dir, ignore_errors=True)


def checkout_files() -> list[str]:
    """The checkout's files as git sees them: tracked and new, not ignored (relative paths)."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in out.split("\0") if name and (REPO / name).is_file()]


def copy_checkout(target: Path) -> None:
    """Copy :func:`checkout_files` into ``target`` (created), keeping their relative paths."""
    for name in checkout_files():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target / name)
