"""Soak (issue 11): producers that write-then-rename and append slowly, runs killed at random.

For about 40 seconds a producer thread lands files under ``.part`` names and renames them into
place, a slow appender grows files under their final names (pausing past the settle window now and
then), and the test starts ``shopdata members run`` over and over, SIGKILLing about half of the runs
at a random moment. A watcher polls the output folder the whole time. Then the producers stop and
plain runs drain the landing folder. Every application must appear exactly once in the committed
outputs with a unique ID, and no output file of a run that did not commit may ever have been seen.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

Workspace = Any  # see conftest.py

HEADER = "name,email,date_of_birth,mobile_no\n"
CHAOS_SECONDS = 40.0  # at least; longer (up to HARD_LIMIT) until MIN_KILLS runs were killed
HARD_LIMIT = 80.0
MIN_KILLS = 5
SETTLE = "1"


class Applications:
    """Unique, valid applications, and every email handed out."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def next_row(self) -> str:
        with self.lock:
            self.count += 1
            n = self.count
        return f"P{n} Lee,p{n}@x.com,1990-01-{1 + n % 28:02d},{10_000_000 + n}\n"


def producer(landing: Path, apps: Applications, stop: threading.Event, rng: random.Random) -> None:
    index = 0
    while not stop.is_set():
        index += 1
        part = landing / f"batch_{index:05d}.csv.part"
        part.write_text(HEADER + "".join(apps.next_row() for _ in range(rng.randint(1, 20))))
        os.replace(part, landing / f"batch_{index:05d}.csv")
        time.sleep(rng.uniform(0.05, 0.4))


def appender(landing: Path, apps: Applications, stop: threading.Event, rng: random.Random) -> None:
    index = 0
    while not stop.is_set():
        index += 1
        path = landing / f"slow_{index:05d}.csv"
        with path.open("w") as handle:
            handle.write(HEADER)
            handle.flush()
            for _ in range(rng.randint(5, 40)):
                if stop.is_set():
                    break
                handle.write(apps.next_row())  # one whole line per write
                handle.flush()
                time.sleep(1.5 if rng.random() < 0.05 else rng.uniform(0.01, 0.08))


def watcher(output: Path, seen: set[str], stop: threading.Event) -> None:
    while not stop.is_set():
        for kind in ("successful", "unsuccessful", "reports"):
            folder = output / kind
            if folder.is_dir():
                for path in folder.rglob("*.*"):
                    if path.suffix in (".csv", ".json") and not path.name.startswith("."):
                        seen.add(path.name)
        time.sleep(0.01)


def run_id_of(name: str) -> str:
    stem = name.rsplit(".", 1)[0]
    return stem.split("_", 1)[1]


@pytest.mark.slow
def test_soak_producers_kills_and_readers(ws: Workspace) -> None:
    rng = random.Random(11)
    apps = Applications()
    stop_producers, stop_watcher = threading.Event(), threading.Event()
    seen: set[str] = set()
    threads = [
        threading.Thread(target=producer, args=(ws.landing, apps, stop_producers, rng)),
        threading.Thread(
            target=appender, args=(ws.landing, apps, stop_producers, random.Random(12))
        ),
        threading.Thread(target=watcher, args=(ws.output, seen, stop_watcher)),
    ]
    for thread in threads:
        thread.start()
    env = {**os.environ, "SHOPDATA_MEMBERS__SETTLE_SECONDS": SETTLE}
    command = [sys.executable, "-m", "shopdata.cli", *ws.args("--quiet")]
    runs = kills = 0
    durations: list[float] = []  # of runs that were not killed
    codes: Counter[int] = Counter()
    try:
        start = time.monotonic()
        while (elapsed := time.monotonic() - start) < CHAOS_SECONDS or (
            kills < MIN_KILLS and elapsed < HARD_LIMIT
        ):
            proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
            began = time.monotonic()
            runs += 1
            killing = rng.random() < 0.5
            if killing:
                # A moment within a typical run's life, so that kills land on fast and slow
                # machines alike (a fixed 0.3-2.5 s missed every run on a quiet machine).
                typical = statistics.median(durations) if durations else 1.0
                time.sleep(rng.uniform(0.05, max(0.1, typical)))
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    kills += 1
                else:
                    killing = False
            _, stderr = proc.communicate(timeout=60)
            if not killing:
                durations.append(time.monotonic() - began)
            codes[proc.returncode] += 1
            assert proc.returncode in (0, -9), stderr
    finally:
        stop_producers.set()
        for thread in threads[:2]:
            thread.join(timeout=30)
    time.sleep(float(SETTLE) + 0.2)
    for _ in range(5):  # drain: recovery, then whatever is left
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        if not any(ws.landing.iterdir()):
            break
    time.sleep(0.1)
    stop_watcher.set()
    threads[2].join(timeout=10)

    assert kills >= MIN_KILLS and runs >= 10, (runs, kills, codes)
    assert sorted(p.name for p in ws.landing.iterdir() if not p.name.endswith(".part")) == []
    with closing(sqlite3.connect(ws.output / "_state" / "bookkeeping.sqlite")) as conn:
        committed = {str(row[0]) for row in conn.execute("select run_id from runs")}
    markers = {p.stem for p in (ws.output / "committed").glob("*.json")}
    assert markers == committed
    published = set()
    for marker in markers:
        outputs = json.loads((ws.output / "committed" / f"{marker}.json").read_text())["outputs"]
        published |= {Path(relative).name for relative in outputs.values()}
    # No output of a run that never committed was ever visible, even for a moment.
    assert {name for name in seen if run_id_of(name) not in committed} == set()
    assert seen <= published

    successful = ws.rows("successful")
    emails = Counter(row["email"] for row in successful)
    assert emails == Counter({f"p{n}@x.com": 1 for n in range(1, apps.count + 1)})
    ids = Counter(row["membership_id"] for row in successful)
    assert max(ids.values()) == 1
    assert ws.rows("unsuccessful") == []
    assert list((ws.output / "_state" / "staging").iterdir()) == []
    assert list((ws.output / "_state" / "pending").iterdir()) == []
