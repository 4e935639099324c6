"""Benchmark: online purchase throughput with concurrent clients, triggers on vs. the ceiling.

Each purchase is one database transaction: one ``sales.transactions`` row plus 1-3 line items
(plain INSERTs, as a shop front end sends them). ``--clients`` processes (default 8) buy as fast
as they can for ``--seconds`` per run, in two item mixes:

* spread: items drawn uniformly from the catalogue;
* hot:    every purchase holds the same item (a flash sale), plus 0-2 others.

Per mix, three variants run side by side, alternating within every round (so machine drift
hits all of them alike):

* shipped: the schema (the init SQL) as it is now, with its periodic roll-up running
  (``sales.roll_up_summaries()`` every second, as ``shopdata db roll-up --every 1`` does);
* before:  the schema of ``--before-rev`` (default: the commit before issue 13's triggers),
  built from ``git show`` of its src/shopdata/salesdb/sql/initdb; skipped with ``--before-rev ''``;
* ceiling: a database with the shipped schema whose user triggers are disabled (primary keys,
  foreign keys and checks only): what PostgreSQL costs without any of the invariants'
  bookkeeping.

It prints purchases/s per run, the median per variant and the ratio shipped / ceiling, and
after each shipped run the analyst queries' latency with the roll-up's backlog present.

    .venv/bin/python bench/bench_concurrency.py --seconds 15 --rounds 3   # docs/salesdb.md
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from benchkit import free_port, mem_gib

from shopdata.salesdb import purchases as shop
from shopdata.salesdb import server
from shopdata.salesdb.queries import read_sql
from shopdata.salesdb.seed import SeedPlan, seed

REPO = Path(__file__).resolve().parents[1]
#: The last commit before issue 13's triggers (on the h13 branch); any rev with db/initdb works.
DEFAULT_BEFORE = "d411532~1"
PLAN = SeedPlan(members=20_000, items=2_000, transactions=20_000, seed=13)


def _client(url: str, hot: bool, seconds: float, seed_value: int, out: Any) -> None:
    """One shop front end: purchases until the deadline; puts its count on ``out``."""
    rnd = random.Random(seed_value)
    with psycopg.connect(url) as conn:
        members = [r[0] for r in conn.execute(b"select membership_id from sales.members")]
        items = conn.execute(
            b"select item_id, cost, weight_kg from sales.items where discontinued_at is null"
            b" order by item_id"
        ).fetchall()
        conn.commit()
        hot_item = items[0]
        done = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            chosen = {rnd.choice(items) for _ in range(rnd.randint(1, 3))}
            if hot:
                chosen = {hot_item, *list(chosen)[: rnd.randint(0, 2)]}
            try:
                with conn.transaction():
                    lines = [(i, rnd.randint(1, 3), c, w) for i, c, w in chosen]
                    shop.add_purchase(conn, rnd.choice(members), lines)
            except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure):
                # The old statement-level triggers deadlock on summary rows; a shop front would
                # retry, so the purchase is not counted and the loop goes on.
                continue
            done += 1
    out.put(done)


def _roll_up_loop(url: str, stop: Any) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.is_set():
            conn.execute(b"select sales.roll_up_summaries()")
            stop.wait(1.0)


def _run(url: str, *, hot: bool, seconds: float, clients: int, roll_up: bool) -> float:
    """Purchases per second of ``clients`` processes against ``url``."""
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    stop = ctx.Event()
    helper = ctx.Process(target=_roll_up_loop, args=(url, stop)) if roll_up else None
    if helper is not None:
        helper.start()
    procs = [
        ctx.Process(target=_client, args=(url, hot, seconds, random.randrange(1 << 30), out))
        for _ in range(clients)
    ]
    began = time.perf_counter()
    for proc in procs:
        proc.start()
    total = sum(out.get(timeout=seconds + 120) for _ in procs)
    elapsed = time.perf_counter() - began
    for proc in procs:
        proc.join()
    if helper is not None:
        stop.set()
        helper.join()
    return total / elapsed


def _set_triggers(url: str, enabled: bool) -> None:
    action = b"enable" if enabled else b"disable"
    with psycopg.connect(url, autocommit=True) as conn:
        for table in (b"sales.transactions", b"sales.transaction_items"):
            conn.execute(b"alter table " + table + b" " + action + b" trigger user")


def _query_ms(url: str) -> dict[str, float]:
    """Median ms (5 runs) of each analyst query, as it runs right now."""
    result = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for name in ("top_members", "top_items"):
            timings = []
            for _ in range(5):
                began = time.perf_counter()
                conn.execute(read_sql(f"analyst/{name}.sql")).fetchall()
                timings.append((time.perf_counter() - began) * 1000)
            result[name] = statistics.median(timings)
        backlog = conn.execute(b"select count(*) from sales.summary_deltas").fetchone()
    result["backlog_rows"] = float(backlog[0]) if backlog else 0.0
    return result


#: Where the init files were at a revision: in the package since issue 19, db/initdb before.
INIT_FOLDERS = ("src/shopdata/salesdb/sql/initdb", "db/initdb")


def init_dir_at(rev: str, target: Path) -> Path:
    """The init files as they were at ``rev`` (git show), written under ``target``."""
    for folder in INIT_FOLDERS:
        listing = subprocess.run(
            ["git", "-C", str(REPO), "ls-tree", "--name-only", f"{rev}:{folder}"],
            check=False,
            capture_output=True,
            text=True,
        )
        if listing.returncode == 0:
            break
    else:
        raise SystemExit(f"no init files at {rev} (looked in {', '.join(INIT_FOLDERS)})")
    target.mkdir(parents=True, exist_ok=True)
    for name in listing.stdout.split():
        text = subprocess.run(
            ["git", "-C", str(REPO), "show", f"{rev}:{folder}/{name}"],
            check=True,
            capture_output=True,
        ).stdout
        (target / name).write_bytes(text)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one run")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client processes")
    parser.add_argument("--before-rev", default=DEFAULT_BEFORE, help="git rev of 'before'")
    args = parser.parse_args()

    data_dir = REPO / "var" / "bench-concurrency-pg"
    embedded = server.EmbeddedServer(data_dir, port=free_port())
    embedded.stop()
    shutil.rmtree(data_dir, ignore_errors=True)
    embedded.start()
    try:
        admin = embedded.url()
        urls = {"shipped": server.create_database_from_init(admin, "shipped")}
        if args.before_rev:
            try:
                with tempfile.TemporaryDirectory() as tmp:
                    init = init_dir_at(args.before_rev, Path(tmp))
                    urls["before"] = server.create_database_from_init(admin, "before", init)
            except subprocess.CalledProcessError:
                print(f"before: git rev {args.before_rev!r} not found here; variant skipped")
        urls["ceiling"] = server.create_database_from_init(admin, "ceiling")
        for url in urls.values():
            seed(url, PLAN)
        _set_triggers(urls["ceiling"], enabled=False)  # its own copy: nothing to restore
        print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {mem_gib():.0f} GiB RAM,")
        print(f"         load average before: {os.getloadavg()[0]:.1f}")
        with psycopg.connect(urls["shipped"]) as conn:
            row = conn.execute(b"show server_version").fetchone()
            sync = conn.execute(b"show synchronous_commit").fetchone()
        version = row[0] if row else "?"
        print(f"server:  PostgreSQL {version}, synchronous_commit {sync[0] if sync else '?'}")
        print(
            f"workload: {args.clients} clients, {args.seconds:.0f} s per run, {args.rounds} rounds;"
            f" {PLAN.members:,} members, {PLAN.items:,} items, {PLAN.transactions:,} purchases"
            " seeded first"
        )
        results: dict[tuple[str, str], list[float]] = {}
        for round_no in range(1, args.rounds + 1):
            for mix in ("spread", "hot"):
                for variant in urls:
                    url = urls[variant]
                    rate = _run(
                        url,
                        hot=mix == "hot",
                        seconds=args.seconds,
                        clients=args.clients,
                        roll_up=variant == "shipped",
                    )
                    results.setdefault((mix, variant), []).append(rate)
                    extra = ""
                    if variant == "shipped":
                        q = _query_ms(url)
                        extra = (
                            f"  (top-members {q['top_members']:.1f} ms, top-items"
                            f" {q['top_items']:.1f} ms with {q['backlog_rows']:.0f} delta rows)"
                        )
                    label = f"round {round_no} {mix:<6} {variant:<8}"
                    print(f"{label} {rate:>8,.0f} purchases/s{extra}")
        print()
        print(f"{'mix':<7}{'variant':<9}{'median purchases/s':>20}  runs")
        for (mix, variant), rates in results.items():
            runs = ", ".join(f"{r:,.0f}" for r in rates)
            print(f"{mix:<7}{variant:<9}{statistics.median(rates):>20,.0f}  {runs}")
        for mix in ("spread", "hot"):
            shipped = statistics.median(results[(mix, "shipped")])
            ceiling = statistics.median(results[(mix, "ceiling")])
            line = f"ratio {mix}: shipped / ceiling = {shipped / ceiling:.0%}"
            if (mix, "before") in results:
                before = statistics.median(results[(mix, "before")])
                line += f"; before / ceiling = {before / ceiling:.0%}"
            print(line)
        # The same ratio per round (each shipped run against the ceiling run seconds after it):
        # load that drifts between rounds cancels out of these, not out of a ratio of medians.
        for mix in ("spread", "hot"):
            paired = [
                s / c
                for s, c in zip(results[(mix, "shipped")], results[(mix, "ceiling")], strict=True)
            ]
            runs = ", ".join(f"{r:.0%}" for r in paired)
            print(
                f"paired {mix}: shipped / ceiling per round, median"
                f" {statistics.median(paired):.0%} ({runs})"
            )
        with psycopg.connect(urls["shipped"]) as conn:
            diff = conn.execute(read_sql("salesdb/check_summaries.sql")).fetchall()
        print(f"db check of the shipped database after the runs: {len(diff)} differences")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        embedded.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
