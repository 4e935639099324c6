"""Benchmark: where a purchase's trigger cost goes (server CPU per purchase, one client).

bench_concurrency.py measures throughput; on a shared 2-core machine its absolute rates swing
with the other processes' load. This script measures the other thing a design decision needs:
the **CPU time the server backend spends per purchase** (user + system time of the backend
process, from /proc), which load changes much less than wall time. One client buys purchases
(1 transaction row + 1-3 line items, the same workload as bench_concurrency.py) against several
databases in turn, alternating within every round:

* shipped: the init SQL (src/shopdata/salesdb/sql/initdb) as it is;
* ceiling: the same schema with its user triggers disabled (keys, foreign keys, checks only);
* one probe per cost, each the shipped schema with ONE change applied (see PROBES). Probes
  that drop a trigger break the invariants (their `db check` differs): they only measure.

The session runs with synchronous_commit off (fsync is not CPU and is the same for all).

    .venv/bin/python bench/bench_trigger_costs.py --purchases 2000 --rounds 4   # docs/salesdb.md
    # against the schema of a git rev too (e.g. the commit before a cut), probes left out:
    .venv/bin/python bench/bench_trigger_costs.py --baseline-rev c2939ef --no-probes
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
from pathlib import Path

import psycopg
from bench_concurrency import init_dir_at
from benchkit import free_port

from shopdata.salesdb import purchases as shop
from shopdata.salesdb import server
from shopdata.salesdb.queries import read_sql
from shopdata.salesdb.seed import SeedPlan, seed

REPO = Path(__file__).resolve().parents[1]
PLAN = SeedPlan(members=20_000, items=2_000, transactions=20_000, seed=13)

#: Probe name -> SQL applied to its own copy of the shipped schema.
PROBES: dict[str, bytes] = {
    "member FK checked per statement": (
        b"alter table sales.transactions alter constraint transactions_membership_id_fkey"
        b" not deferrable"
    ),
    "line + purchase triggers without SET search_path": (
        b"alter function sales.line_item_changed() reset search_path;"
        b" alter function sales.transaction_inserting() reset search_path"
    ),
    "no line trigger (lock, checks, totals, deltas)": (
        b'drop trigger "Line_items_changed" on sales.transaction_items'
    ),
}


def _backend_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a local backend process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_us_per_purchase(url: str, purchases: int, hot: bool, rnd: random.Random) -> float:
    with psycopg.connect(url) as conn:
        conn.execute(b"set synchronous_commit = off")
        members = [r[0] for r in conn.execute(b"select membership_id from sales.members")]
        items = conn.execute(
            b"select item_id, cost, weight_kg from sales.items where discontinued_at is null"
            b" order by item_id"
        ).fetchall()
        conn.commit()
        pid = conn.info.backend_pid
        began = _backend_cpu_s(pid)
        for _ in range(purchases):
            chosen = {rnd.choice(items) for _ in range(rnd.randint(1, 3))}
            if hot:
                chosen = {items[0], *list(chosen)[: rnd.randint(0, 2)]}
            with conn.transaction():
                lines = [(i, rnd.randint(1, 3), c, w) for i, c, w in chosen]
                shop.add_purchase(conn, rnd.choice(members), lines)
        return (_backend_cpu_s(pid) - began) / purchases * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--purchases", type=int, default=300, help="purchases per run")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds")
    parser.add_argument(
        "--baseline-rev",
        default="",
        help="also run the schema of this git rev (its init SQL), e.g. the commit before a cut",
    )
    parser.add_argument(
        "--probes",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run one probe per cost (PROBES)",
    )
    args = parser.parse_args()
    probes = PROBES if args.probes else {}

    data_dir = REPO / "var" / "bench-trigger-costs-pg"
    cluster = server.EmbeddedServer(data_dir, port=free_port())
    cluster.stop()
    shutil.rmtree(data_dir, ignore_errors=True)
    cluster.start()
    try:
        admin = cluster.url()
        urls = {"shipped": server.create_database_from_init(admin, "shipped")}
        if args.baseline_rev:
            with tempfile.TemporaryDirectory() as tmp:
                init = init_dir_at(args.baseline_rev, Path(tmp))
                urls[f"at {args.baseline_rev}"] = server.create_database_from_init(
                    admin, "baseline", init
                )
        urls["ceiling"] = server.create_database_from_init(admin, "ceiling")
        for number, probe in enumerate(probes, start=1):
            urls[probe] = server.create_database_from_init(admin, f"probe{number}")
        for name, url in urls.items():
            seed(url, PLAN)
            with psycopg.connect(url, autocommit=True) as conn:
                if name == "ceiling":
                    for table in (b"sales.transactions", b"sales.transaction_items"):
                        conn.execute(b"alter table " + table + b" disable trigger user")
                elif name in probes:
                    conn.execute(probes[name])
        print(f"load average before: {os.getloadavg()[0]:.1f}; {args.purchases} purchases/run")
        rnd = random.Random(13)
        results: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.rounds):
            for mix in ("spread", "hot"):
                for name, url in urls.items():
                    cost = _cpu_us_per_purchase(url, args.purchases, mix == "hot", rnd)
                    results.setdefault((name, mix), []).append(cost)
        print(f"{'server CPU per purchase, us (median; runs)':<50}{'spread':>28}{'hot':>28}")
        for name in urls:
            cells = []
            for mix in ("spread", "hot"):
                runs = results[(name, mix)]
                cells.append(
                    f"{statistics.median(runs):.0f} ({', '.join(f'{r:.0f}' for r in runs)})"
                )
            print(f"{name:<50}{cells[0]:>28}{cells[1]:>28}")
        for name in [n for n in urls if n != "ceiling"]:
            with psycopg.connect(urls[name]) as conn:
                diff = conn.execute(read_sql("salesdb/check_summaries.sql")).fetchall()
            print(f"db check {name}: {len(diff)} differences")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        cluster.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
