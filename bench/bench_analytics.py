"""Benchmark of the analytics layer: dbt build time and every catalogue question's latency.

Full scale (the issue's): 1,000,000 members, 10,000 items, 10,000,000 transactions (~30,000,000
line items). ``--scale`` runs a fraction of that (default 0.02 so ``make bench`` stays short):

    .venv/bin/python bench/bench_analytics.py --scale 1.0     # see docs/analytics.md

It starts its own embedded PostgreSQL 18 (var/bench-analytics-pg, the analytical settings of
``shopdata db up``), seeds it through the bulk-load path with purchases ending a week ago (so
"last month", "the last 30 days" and the backlog hold rows), runs ``dbt run`` (full build) and
``dbt test``, then times every question of analytics/project/questions: wall time of execute + fetch
all on a warm connection, as an analyst's client sees it, ``--runs`` times, alternating with a
yardstick (the summary query analyst/top_items.sql, 0.3 ms at every scale), and prints the
median and its ratio to the yardstick's median. Then it buys ``--new`` purchases through the
triggers and times the incremental ``dbt run``, then an incremental run with nothing new (what
an idle hourly refresh costs) and, unless ``--skip-dbt-test``, the ``dbt build`` (run + every
test) that ``db refresh-analytics`` and the Dagster schedule run. ``--reference`` also times
each question's plain base-table reference query once (tests/analytics/reference; minutes at full
scale).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
from benchkit import free_port, mem_gib

from shopdata.analytics.catalogue import question_files
from shopdata.analytics.dbt import run_dbt
from shopdata.salesdb import server as server_module
from shopdata.salesdb.queries import read_sql
from shopdata.salesdb.seed import SeedPlan, seed

REPO = Path(__file__).resolve().parents[1]
FULL = {"members": 1_000_000, "items": 10_000, "transactions": 10_000_000}
YARDSTICK = "analyst/top_items.sql"
REFERENCE_DIR = REPO / "tests" / "analytics" / "reference"
BUDGET_MS = 200.0


def _timed(conn: psycopg.Connection[Any], query: bytes) -> tuple[float, int]:
    """(ms, rows) of one execute + fetchall."""
    began = time.perf_counter()
    rows = conn.execute(query).fetchall()
    return (time.perf_counter() - began) * 1000, len(rows)


def _timed_dbt(url: str, args: list[str]) -> float:
    began = time.perf_counter()
    run_dbt(url, args)
    return time.perf_counter() - began


def _buy(conn: psycopg.Connection[Any], purchases: int) -> None:
    """``purchases`` new purchases of 3 lines each, made now, through the triggers."""
    with conn.transaction():
        mark = conn.execute(b"select max(transaction_id) from sales.transactions").fetchone()
        conn.execute(
            b"insert into sales.transactions (membership_id)"
            b" select m.membership_id from sales.members as m order by m.membership_id desc"
            b" limit %s",
            (purchases,),
        )
        conn.execute(
            b"with on_sale as ("
            b"    select array_agg(item_id order by item_id) as ids from sales.items"
            b"    where discontinued_at is null or discontinued_at > now()"
            b"), t as ("
            b"    select transaction_id, row_number() over (order by transaction_id) as n"
            b"    from sales.transactions where transaction_id > %s"
            b") "
            b"insert into sales.transaction_items"
            b" (transaction_id, item_id, quantity, unit_price, unit_weight_kg)"
            b" select t.transaction_id, i.item_id, 1, i.cost, i.weight_kg"
            b" from t cross join on_sale cross join generate_series(0, 2) as j"
            b" inner join sales.items as i"
            b"     on i.item_id = on_sale.ids[1 + ((t.n * 3 + j) %% cardinality(on_sale.ids))]",
            (mark[0] if mark else 0,),
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.02, help="fraction of full scale")
    parser.add_argument("--runs", type=int, default=11, help="timed runs per question")
    parser.add_argument("--new", type=int, default=10_000, help="purchases before the re-run")
    parser.add_argument("--reference", action="store_true", help="time the reference queries")
    parser.add_argument("--skip-dbt-test", action="store_true", help="do not run `dbt test`")
    parser.add_argument("--keep", action="store_true", help="leave the server running")
    args = parser.parse_args()

    end = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=7)
    plan = SeedPlan(
        members=min(1_048_576, max(1, round(FULL["members"] * args.scale))),
        items=max(10, round(FULL["items"] * min(1.0, args.scale * 10))),
        transactions=max(1, round(FULL["transactions"] * args.scale)),
        seed=20240601,
        period_end=end,
    )
    data_dir = REPO / "var" / "bench-analytics-pg"
    out_dir = REPO / "var" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    server = server_module.EmbeddedServer(data_dir, port=free_port())
    server.stop()
    shutil.rmtree(data_dir, ignore_errors=True)
    server.start()
    results: dict[str, Any] = {"scale": args.scale, "questions": {}}
    try:
        url = server_module.create_database_from_init(server.url(), "bench")
        print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {mem_gib():.0f} GiB RAM,")
        print(f"         load average before: {os.getloadavg()[0]:.1f}")
        print(
            f"scale {args.scale}: {plan.members:,} members, {plan.items:,} items, "
            f"{plan.transactions:,} transactions, purchases up to {end:%Y-%m-%d}"
        )
        began = time.perf_counter()
        report = seed(url, plan, lambda m: print("  " + m, file=sys.stderr))
        print(f"seed {time.perf_counter() - began:.1f} s: {report.line_items:,} line items")

        full_s = _timed_dbt(url, ["run"])
        print(f"dbt run (full build of staging + marts)  {full_s:8.1f} s")
        results["dbt_run_full_s"] = full_s
        if not args.skip_dbt_test:
            test_s = _timed_dbt(url, ["test"])
            print(f"dbt test (all data tests, invariants)    {test_s:8.1f} s")
            results["dbt_test_s"] = test_s

        questions = question_files()
        yardstick = read_sql(YARDSTICK)
        with psycopg.connect(url, autocommit=True) as conn:
            # The yardstick reads the trigger-kept summaries: roll their deltas up first (the
            # periodic job's work), as in bench_salesdb.py.
            conn.execute(b"select sales.roll_up_summaries()")
            for name, path in questions.items():
                query = path.read_bytes()
                _timed(conn, query)  # warm the cache and the plan
                mine, theirs, rows = [], [], 0
                for _ in range(args.runs):
                    ms, rows = _timed(conn, query)
                    mine.append(ms)
                    theirs.append(_timed(conn, yardstick)[0])
                median, yard = statistics.median(mine), statistics.median(theirs)
                verdict = "ok" if median < BUDGET_MS else "OVER 200 ms"
                print(
                    f"  {name:<30} median {median:8.2f} ms  ({rows:>4} rows; "
                    f"yardstick {yard:.2f} ms, ratio {median / yard:6.1f})  {verdict}"
                )
                entry: dict[str, Any] = {"median_ms": median, "runs_ms": mine, "rows": rows}
                entry |= {"yardstick_median_ms": yard}
                if args.reference:
                    ref_ms, _ = _timed(conn, (REFERENCE_DIR / path.name).read_bytes())
                    entry["reference_ms"] = ref_ms
                    print(f"  {'':<30} base-table reference {ref_ms:10.1f} ms (one run)")
                results["questions"][name] = entry
            _buy(conn, args.new)
        incremental_s = _timed_dbt(url, ["run"])
        print(f"{args.new:,} new purchases, then dbt run (incremental)  {incremental_s:8.1f} s")
        results["dbt_run_incremental_s"] = incremental_s
        idle_s = _timed_dbt(url, ["run"])
        print(f"nothing new, dbt run (incremental, idle)   {idle_s:8.1f} s")
        results["dbt_run_idle_s"] = idle_s
        if not args.skip_dbt_test:
            # What `db refresh-analytics` and the Dagster schedule run: dbt build = run + test.
            build_s = _timed_dbt(url, ["build"])
            print(f"nothing new, dbt build (run + every test) {build_s:8.1f} s")
            results["dbt_build_idle_s"] = build_s
        worst = max(q["median_ms"] for q in results["questions"].values())
        print(f"slowest question median {worst:.2f} ms (budget {BUDGET_MS:.0f} ms)")
        results["load_average_after"] = os.getloadavg()[0]
        (out_dir / f"bench_analytics_scale{args.scale}.json").write_text(
            json.dumps(results, indent=2), encoding="utf-8"
        )
        print(f"load average after: {os.getloadavg()[0]:.1f}; JSON in {out_dir}")
    finally:
        if not args.keep:
            server.stop()
            shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
