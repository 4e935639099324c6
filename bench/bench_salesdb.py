"""Benchmark of the sales database: bulk-load rate and the analyst queries' latency.

Full scale (the issue's): 1,000,000 members, 10,000 items, 10,000,000 transactions (~30,000,000
line items). ``--scale`` runs a fraction of that (default 0.02 so ``make bench`` stays short):

    .venv/bin/python bench/bench_salesdb.py --scale 1.0     # the full run, see docs/salesdb.md

It starts its own embedded PostgreSQL 18 (var/bench-pg, the same analytical settings as
``shopdata db up``), builds a database from the init SQL, seeds it with COPY through the bulk-load
path, then runs each analyst query (and its plain GROUP BY reference over the base tables) with
EXPLAIN ANALYZE five times and prints the median, plus the cost the summary triggers add to an
ordinary online purchase. The plans of the last runs are written to var/bench/.
"""

from __future__ import annotations

import argparse
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

from shopdata.salesdb import server
from shopdata.salesdb.queries import read_sql
from shopdata.salesdb.seed import SeedPlan, seed

REPO = Path(__file__).resolve().parents[1]
FULL = {"members": 1_000_000, "items": 10_000, "transactions": 10_000_000}
QUERIES = {
    "top-members (summary)": "analyst/top_members.sql",
    "top-items (summary)": "analyst/top_items.sql",
    "top-members (plain GROUP BY)": "salesdb/reference_top_members.sql",
    "top-items (plain GROUP BY)": "salesdb/reference_top_items.sql",
}


def _explain(conn: psycopg.Connection[Any], relative: str) -> tuple[float, str]:
    """(planning + execution ms, text plan) of one EXPLAIN (ANALYZE, BUFFERS) run."""
    rows = conn.execute(b"explain (analyze, buffers) " + read_sql(relative)).fetchall()
    text = "\n".join(r[0] for r in rows)
    total = 0.0
    for line in text.splitlines():
        if line.startswith(("Planning Time:", "Execution Time:")):
            total += float(line.split(":")[1].split()[0])
    return total, text


def _online_purchase_ms(conn: psycopg.Connection[Any], runs: int = 200) -> float:
    """Median ms of one ordinary purchase (3 lines) through the row-level FKs and triggers."""
    member = conn.execute(b"select membership_id from sales.members limit 1").fetchone()
    items = conn.execute(
        b"select item_id, cost, weight_kg from sales.items where discontinued_at is null"
        b" order by item_id limit 3"
    ).fetchall()
    assert member is not None
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        with conn.transaction():
            row = conn.execute(
                b"insert into sales.transactions (membership_id) values (%s)"
                b" returning transaction_id",
                member,
            ).fetchone()
            assert row is not None
            with conn.cursor() as cur:
                cur.executemany(
                    b"insert into sales.transaction_items values (%s, %s, 1, %s, %s)",
                    [(row[0], i, c, w) for i, c, w in items],
                )
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings)


def _delta_backlog(conn: psycopg.Connection[Any], purchases: int) -> int:
    """Buy ``purchases`` purchases of 3 lines each through the triggers without rolling up
    (what piles up between two roll-ups, or while the roll-up job is down); returns the rows
    waiting in sales.summary_deltas."""
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
            b"    where discontinued_at is null"
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
    row = conn.execute(b"select count(*) from sales.summary_deltas").fetchone()
    return int(row[0]) if row else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.02, help="fraction of full scale")
    parser.add_argument("--runs", type=int, default=5, help="EXPLAIN ANALYZE runs per query")
    parser.add_argument("--keep", action="store_true", help="leave the server running")
    parser.add_argument(
        "--backlog",
        type=int,
        default=1_500,
        help=(
            "purchases (3 lines each) left un-rolled before timing the queries again; the"
            " default, 6,000-6,800 delta rows, is more than one second of writes at the highest"
            " measured rate, i.e. the bound `db roll-up --every 1` keeps (docs/salesdb.md)"
        ),
    )
    args = parser.parse_args()

    plan = SeedPlan(
        members=min(1_048_576, max(1, round(FULL["members"] * args.scale))),
        items=max(10, round(FULL["items"] * min(1.0, args.scale * 10))),
        transactions=max(1, round(FULL["transactions"] * args.scale)),
        seed=20240601,
    )
    data_dir = REPO / "var" / "bench-pg"
    out_dir = REPO / "var" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    embedded = server.EmbeddedServer(data_dir, port=free_port())
    embedded.stop()
    shutil.rmtree(data_dir, ignore_errors=True)
    embedded.start()
    try:
        admin = embedded.url()
        url = server.create_database_from_init(admin, "bench")
        print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {mem_gib():.0f} GiB RAM,")
        print(f"         load average before: {os.getloadavg()[0]:.1f}")
        with psycopg.connect(url) as conn:
            version = conn.execute(b"show server_version").fetchone()
            work_mem = conn.execute(b"show work_mem").fetchone()
        pg = version[0] if version else "?"
        print(f"server:  PostgreSQL {pg}, work_mem {work_mem[0] if work_mem else '?'}")
        print(
            f"scale {args.scale}: {plan.members:,} members, {plan.items:,} items, "
            f"{plan.transactions:,} transactions"
        )

        began = time.perf_counter()
        report = seed(url, plan, lambda m: print("  " + m, file=sys.stderr))
        wall = time.perf_counter() - began
        load_s = report.load_seconds
        print(
            f"seed wall time {wall:.1f} s (generation in Python {report.seconds['generate']:.1f} s)"
        )
        print(f"  members     {report.members:>12,} in {report.seconds['members']:.1f} s")
        print(
            f"  transactions{report.transactions:>12,} COPY {report.seconds['transactions']:.1f} s"
        )
        print(f"  line items  {report.line_items:>12,} COPY {report.seconds['line_items']:.1f} s")
        finish = report.seconds.get("finish_bulk_load", 0.0)
        print(f"  finish_bulk_load (verify, summaries, indexes, FKs) {finish:.1f} s")
        print(
            f"  => bulk-load rate: {report.line_items / load_s:,.0f} line items/s end to end"
            f" ({report.line_items / report.seconds['line_items']:,.0f}/s for the line-item COPY)"
        )

        results: dict[str, Any] = {}
        with psycopg.connect(url, autocommit=True) as conn:
            for name, relative in QUERIES.items():
                timings, text = [], ""
                for _ in range(args.runs):
                    ms, text = _explain(conn, relative)
                    timings.append(ms)
                results[name] = {"median_ms": statistics.median(timings), "runs_ms": timings}
                slug = Path(relative).stem
                (out_dir / f"explain_{slug}.txt").write_text(text + "\n", encoding="utf-8")
                median = statistics.median(timings)
                print(f"  {name:<30} median {median:>10.2f} ms  of {len(timings)} runs")
            purchase = _online_purchase_ms(conn)
            print(
                f"  online purchase (1 transaction + 3 lines, triggers + FKs)"
                f" median {purchase:.2f} ms"
            )
            backlog = _delta_backlog(conn, args.backlog)
            for name in ("top-members (summary)", "top-items (summary)"):
                timings = [_explain(conn, QUERIES[name])[0] for _ in range(args.runs)]
                median = statistics.median(timings)
                results[f"{name}, {backlog} delta rows"] = {
                    "median_ms": median,
                    "runs_ms": timings,
                }
                print(f"  {name:<30} median {median:>10.2f} ms  with {backlog:,} delta rows")
        summary = {
            "scale": args.scale,
            "members": report.members,
            "items": report.items,
            "transactions": report.transactions,
            "line_items": report.line_items,
            "seconds": report.seconds,
            "line_items_per_s": report.line_items / load_s,
            "queries": results,
            "online_purchase_ms": purchase,
            "load_average_after": os.getloadavg()[0],
        }
        (out_dir / f"bench_salesdb_scale{args.scale}.json").write_text(
            json.dumps(summary, indent=2), encoding="utf-8"
        )
        print(f"load average after: {os.getloadavg()[0]:.1f}; plans and JSON in {out_dir}")
    finally:
        if not args.keep:
            embedded.stop()
            shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
