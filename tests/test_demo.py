"""``make demo``, the README's first command, end to end on a fresh copy of the checkout.

``make demo`` is ``setup`` plus ``scripts/demo.sh``. The script runs in a temporary copy of the
tracked files under ``var/test-demo/run-<pid>/`` (so ``var/`` and the embedded server are the
copy's, never the checkout's; not under the pytest temporary folder, which other pytest sessions
make private, locking the server's own user out of its data directory), with
this checkout's ``.venv`` and the copy's ``src`` first on ``PYTHONPATH``, its embedded
PostgreSQL on a free port, and no ``DATABASE_URL`` or ``SHOPDATA_*`` from the caller. Its output
is checked line by line where the answer is known (the bundled sample: 706 / 4,293) and by
shape where it depends on seeded data. The server the demo leaves running is stopped after.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from plugin_helpers import copy_checkout, free_port, reap_stale_runs

from shopdata.salesdb.server import DatabaseError, EmbeddedServer

REPO = Path(__file__).resolve().parents[1]
RUNS = REPO / "var" / "test-demo"
pytestmark = pytest.mark.slow


def _stop_server(copy: Path) -> None:
    with contextlib.suppress(DatabaseError):
        EmbeddedServer(copy / "var" / "pgdata").stop()


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[int, str, str, Path]]:
    reap_stale_runs(RUNS, data_dir="var/pgdata")
    copy = RUNS / f"run-{os.getpid()}"
    shutil.rmtree(copy, ignore_errors=True)
    copy.mkdir(parents=True)
    copy_checkout(copy)
    (copy / ".venv").symlink_to(Path(sys.prefix))
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("SHOPDATA_") and k != "DATABASE_URL"
    }
    env |= {"SHOPDATA_DB__PORT": str(free_port()), "PYTHONPATH": str(copy / "src")}
    try:
        result = subprocess.run(
            ["bash", "scripts/demo.sh"],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        yield result.returncode, result.stdout, result.stderr, copy
    finally:
        _stop_server(copy)
        shutil.rmtree(copy, ignore_errors=True)


def test_make_demo_is_setup_then_the_demo_script() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^demo: (.*)##.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe is not None
    assert (recipe[1].split(), recipe[2]) == (["setup"], "\tbash scripts/demo.sh\n")


def test_demo_succeeds_and_processes_the_bundled_sample(
    demo: tuple[int, str, str, Path],
) -> None:
    code, out, err, copy = demo
    assert code == 0, f"stdout:\n{out[-3000:]}\nstderr:\n{err[-3000:]}"
    lines = out.splitlines()
    assert "4999 applications: 706 successful, 4293 unsuccessful (0 duplicates)" in lines
    assert "members: 706 new, 0 already present (706 rows in 1 files)" in lines
    assert err.splitlines()[:2] == [
        "[1/2] reading applications_dataset_1.csv",
        "[2/2] reading applications_dataset_2.csv",
    ]
    assert sorted(p.name for p in (copy / "var" / "landing").iterdir()) == []


def test_demo_seeds_the_database_and_prints_both_answers(
    demo: tuple[int, str, str, Path],
) -> None:
    code, out, _, _ = demo
    assert code == 0
    lines = out.splitlines()
    seeds = [line for line in lines if line.startswith("seed: ")]
    assert len(seeds) == 1
    assert re.fullmatch(
        r"seed: 2000 members, \d+ manufacturers, 200 items, 20000 transactions, "
        r"\d+ line items in .*",
        seeds[0],
    )

    def table(title: str) -> list[list[str]]:
        start = next(i for i, line in enumerate(lines) if line.strip().startswith(title))
        rows = []
        for line in lines[start + 4 :]:
            if not line.startswith("│"):
                break
            rows.append([cell.strip() for cell in line.strip("│").split("│")])
        return rows

    members = table("Top 10 members by spending")
    assert len(members) >= 10
    ranks = [int(row[0]) for row in members]
    spent = [float(row[4]) for row in members]
    assert ranks[0] == 1 and ranks == sorted(ranks) and max(ranks) <= 10
    assert spent == sorted(spent, reverse=True) and min(spent) > 0
    items = table("Top 3 items by number of purchases")
    assert len(items) >= 3
    assert [int(row[0]) for row in items][:1] == [1]
    assert "summaries consistent: member_spending, item_sales and transaction totals" in lines


def test_demo_trains_and_answers_the_car_question(demo: tuple[int, str, str, Path]) -> None:
    code, out, _, copy = demo
    assert code == 0
    # `predict` prints one "answer:" line; the README's answer for this car is low.
    answers = [line for line in out.splitlines() if line.startswith("answer: ")]
    assert len(answers) == 1
    assert answers[0].startswith("answer: low, "), answers[0]
    assert any((copy / "var" / "carprice").iterdir())
