"""``shopdata db seed``: a realistic, reproducible catalogue, members and sales, loaded with COPY.

Realistic where analysts would notice: item prices are log-normal, a fifth of the items changed
price during the period (older line items keep the old price), a few are discontinued (after
their last sale), item popularity and member activity are skewed (a few best-sellers and heavy
buyers), most purchases hold 1-5 different items, most in quantity 1, and statuses follow the
lifecycle (recent purchases pending, ~3 % cancelled). The same seed gives the same rows.

Generation is vectorised (numpy + polars, CSV text built in Rust) so that the database, not
Python, is the bottleneck: rows go through ``COPY ... FROM STDIN (FORMAT csv)`` straight into
the tables, whose triggers maintain totals and summaries per COPY statement. Each chunk of
transactions and their line items is one database transaction, so the "a finished purchase is
written together with all its line items" rule holds.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import polars as pl
import psycopg

from shopdata.salesdb.queries import read_sql
from shopdata.salesdb.staging import StagedSource, copy_rows, create_staging, move_staged

#: The synthetic membership ID suffix is a bijection of the member number on 20 bits.
MAX_SYNTHETIC_MEMBERS = 1 << 20

#: The synthetic names (people, e-mail domains, makers, items), a data file in the package.
_NAMES: dict[str, list[str]] = json.loads(
    resources.files("shopdata.salesdb").joinpath("data", "seed_names.json").read_text("utf-8")
)
FIRST_NAMES = _NAMES["first_names"]
LAST_NAMES = _NAMES["last_names"]
DOMAINS = tuple(_NAMES["email_domains"])
MAKER_PREFIXES = _NAMES["maker_prefixes"]
MAKER_SUFFIXES = _NAMES["maker_suffixes"]
ADJECTIVES = _NAMES["item_adjectives"]
NOUNS = _NAMES["item_nouns"]


@dataclass(frozen=True)
class SeedPlan:
    """How much to generate, from which seed, over which period."""

    members: int
    items: int
    transactions: int
    seed: int
    chunk_transactions: int = 200_000
    #: From this many transactions on, load through sales.begin/finish_bulk_load() (set-based
    #: checks) instead of the row-by-row foreign keys and per-statement triggers.
    bulk_threshold: int = 50_000
    period_end: dt.datetime = dt.datetime(2024, 6, 30, 23, 59, tzinfo=dt.UTC)
    period_days: int = 730


@dataclass
class SeedReport:
    """Rows added and the time each load phase took (seconds)."""

    skipped_existing: int = 0
    members: int = 0
    manufacturers: int = 0
    items: int = 0
    transactions: int = 0
    line_items: int = 0
    bulk: bool = False
    seconds: dict[str, float] = field(default_factory=dict)

    def rate(self, phase: str, rows: int) -> float:
        """Rows per second of one phase."""
        spent = self.seconds.get(phase, 0.0)
        return rows / spent if spent > 0 else 0.0

    @property
    def load_seconds(self) -> float:
        """Database time of the sales load: both COPYs plus the bulk verification."""
        return sum(
            self.seconds.get(k, 0.0) for k in ("transactions", "line_items", "finish_bulk_load")
        )


def _money(cents: pl.Expr) -> pl.Expr:
    """Integer cents as exact ``123.45`` text (no float rounding on the way to numeric)."""
    return pl.format("{}.{}", cents // 100, (cents % 100).cast(pl.String).str.zfill(2))


def _grams(grams: pl.Expr) -> pl.Expr:
    """Integer grams as exact ``1.250`` kg text."""
    return pl.format("{}.{}", grams // 1000, (grams % 1000).cast(pl.String).str.zfill(3))


def _copy_csv(conn: psycopg.Connection[Any], statement: bytes, frame: pl.DataFrame) -> None:
    payload = frame.write_csv(include_header=False).encode()
    with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.write(payload)


def synthetic_member_ids(last_names: list[str], numbers: np.ndarray[Any, Any]) -> list[str]:
    """``<last name>_<5 hex>`` where the hex is a bijection of the number (unique below 2**20)."""
    mixed = (numbers.astype(np.int64) * 0x9E3B5 + 0x5A5A5) & (MAX_SYNTHETIC_MEMBERS - 1)
    return [f"{last}_{value:05x}" for last, value in zip(last_names, mixed.tolist(), strict=True)]


def _members(plan: SeedPlan, rng: np.random.Generator) -> pl.DataFrame:
    n = plan.members
    first = rng.choice(FIRST_NAMES, n).tolist()
    last = rng.choice(LAST_NAMES, n).tolist()
    numbers = np.arange(n)
    dob_days = rng.integers(
        (dt.date(1950, 1, 1) - dt.date(1970, 1, 1)).days,
        (dt.date(2006, 12, 31) - dt.date(1970, 1, 1)).days,
        n,
    )
    domains = rng.choice(DOMAINS, n).tolist()
    frame = pl.DataFrame(
        {
            "membership_id": synthetic_member_ids(last, numbers),
            "first_name": first,
            "last_name": last,
            "n": numbers,
            "domain": domains,
            "mobile_no": rng.integers(80_000_000, 100_000_000, n),
            "dob": pl.Series(dob_days, dtype=pl.Int32).cast(pl.Date),
        }
    )
    adult_before = dt.date(2004, 1, 1)  # 18 on the pipeline's reference date 2022-01-01
    return frame.select(
        "membership_id",
        "first_name",
        "last_name",
        email=pl.format(
            "{}.{}{}@{}",
            pl.col("first_name").str.to_lowercase(),
            pl.col("last_name").str.to_lowercase(),
            pl.col("n"),
            pl.col("domain"),
        ),
        mobile_no=pl.col("mobile_no").cast(pl.String),
        date_of_birth=pl.col("dob").dt.strftime("%Y%m%d"),
        above_18=pl.when(pl.col("dob") <= adult_before)
        .then(pl.lit("true"))
        .otherwise(pl.lit("false")),
    )


@dataclass(frozen=True)
class _Catalogue:
    item_ids: np.ndarray[Any, Any]
    popularity: np.ndarray[Any, Any]
    cost_cents: np.ndarray[Any, Any]
    old_cost_cents: np.ndarray[Any, Any]
    change_at: np.ndarray[Any, Any]  # epoch seconds; sales before it used old_cost
    grams: np.ndarray[Any, Any]


def _catalogue(
    conn: psycopg.Connection[Any], plan: SeedPlan, rng: np.random.Generator, report: SeedReport
) -> _Catalogue:
    start = plan.period_end - dt.timedelta(days=plan.period_days)
    state = _state(conn)
    first_mf, first_item = state.next_manufacturer_id, state.next_item_id
    n_makers = max(1, plan.items // 25)
    maker_ids = np.arange(first_mf, first_mf + n_makers)
    combos = [f"{p} {s}" for s in MAKER_SUFFIXES for p in MAKER_PREFIXES]
    order = rng.permutation(len(combos))
    maker_names = [
        combos[order[i % len(combos)]] + (f" {i // len(combos) + 1}" if i >= len(combos) else "")
        for i in range(n_makers)
    ]
    makers = pl.DataFrame({"manufacturer_id": maker_ids, "name": maker_names})
    _copy_csv(
        conn,
        b"copy sales.manufacturers (manufacturer_id, name) from stdin (format csv)",
        makers,
    )
    n = plan.items
    item_ids = np.arange(first_item, first_item + n)
    cost_cents = np.maximum(50, np.round(rng.lognormal(np.log(2500), 0.9, n))).astype(np.int64)
    grams = np.maximum(5, np.round(rng.lognormal(np.log(800), 1.0, n))).astype(np.int64)
    changed = rng.random(n) < 0.2
    old_cost = np.where(
        changed, np.maximum(50, np.round(cost_cents * rng.uniform(0.75, 1.05, n))), cost_cents
    ).astype(np.int64)
    start_s = int(start.timestamp())
    end_s = int(plan.period_end.timestamp())
    change_at = np.where(changed, rng.integers(start_s, end_s, n), start_s)
    discontinued = rng.random(n) < 0.03
    items = pl.DataFrame(
        {
            "item_id": item_ids,
            "manufacturer_id": rng.choice(maker_ids, n),
            "adj": rng.choice(ADJECTIVES, n),
            "noun": rng.choice(NOUNS, n),
            "cost": cost_cents,
            "grams": grams,
            "discontinued": discontinued,
        }
    ).select(
        "item_id",
        "manufacturer_id",
        name=pl.format("{} {} {}", "adj", "noun", pl.col("item_id").cast(pl.String).str.zfill(5)),
        cost=_money(pl.col("cost")),
        weight_kg=_grams(pl.col("grams")),
        listed_at=pl.lit((start - dt.timedelta(days=30)).isoformat()),
        discontinued_at=pl.when(pl.col("discontinued"))
        .then(pl.lit((plan.period_end + dt.timedelta(days=1)).isoformat()))
        .otherwise(None),
    )
    _copy_csv(
        conn,
        b"copy sales.items (item_id, manufacturer_id, name, cost, weight_kg, listed_at,"
        b" discontinued_at) from stdin (format csv)",
        items,
    )
    report.manufacturers = n_makers
    report.items = n
    # Zipf-like popularity over a random order of the items.
    ranks = rng.permutation(n) + 1
    popularity = 1.0 / ranks**0.9
    return _Catalogue(
        item_ids=item_ids,
        popularity=popularity / popularity.sum(),
        cost_cents=cost_cents,
        old_cost_cents=old_cost,
        change_at=change_at,
        grams=grams,
    )


@dataclass(frozen=True)
class _State:
    existing_transactions: int
    next_manufacturer_id: int
    next_item_id: int
    next_transaction_id: int


def _state(conn: psycopg.Connection[Any]) -> _State:
    row = conn.execute(read_sql("salesdb/seed_state.sql")).fetchone()
    assert row is not None
    return _State(*(int(v) for v in row))


def _transactions_chunk(
    plan: SeedPlan,
    rng: np.random.Generator,
    first_id: int,
    count: int,
    member_ids: np.ndarray[Any, Any],
    member_weights: np.ndarray[Any, Any],
    cat: _Catalogue,
    with_totals: bool,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    end_s = int(plan.period_end.timestamp())
    start_s = end_s - plan.period_days * 86_400
    tx_ids = np.arange(first_id, first_id + count)
    created = np.sort(rng.integers(start_s, end_s, count))
    members = member_ids[rng.choice(len(member_ids), count, p=member_weights)]
    roll = rng.random(count)
    recent = created > end_s - 3 * 86_400
    status = np.where(recent, "pending", np.where(roll < 0.03, "cancelled", "completed"))
    done_at = created + rng.integers(3_600, 5 * 86_400, count)
    tx = pl.DataFrame(
        {
            "transaction_id": tx_ids,
            "membership_id": members,
            "status": status,
            "created": created,
            "done": done_at,
        }
    ).select(
        "transaction_id",
        "membership_id",
        "status",
        created_at=pl.from_epoch("created", time_unit="s").dt.replace_time_zone("UTC"),
        completed_at=pl.when(pl.col("status") == "completed").then(
            pl.from_epoch("done", time_unit="s").dt.replace_time_zone("UTC")
        ),
        cancelled_at=pl.when(pl.col("status") == "cancelled").then(
            pl.from_epoch("done", time_unit="s").dt.replace_time_zone("UTC")
        ),
    )
    lines_per_tx = np.minimum(1 + rng.poisson(2.0, count), 8)
    tx_of_line = np.repeat(np.arange(count), lines_per_tx)
    n_lines = len(tx_of_line)
    item_idx = rng.choice(len(cat.item_ids), n_lines, p=cat.popularity)
    quantity = np.minimum(rng.geometric(0.65, n_lines), 12)
    sold_at = created[tx_of_line]
    unit_cents = np.where(
        sold_at < cat.change_at[item_idx], cat.old_cost_cents[item_idx], cat.cost_cents[item_idx]
    )
    raw = pl.DataFrame(
        {
            "transaction_id": tx_ids[tx_of_line],
            "item_id": cat.item_ids[item_idx],
            "quantity": quantity,
            "cents": unit_cents,
            "grams": cat.grams[item_idx],
        }
    ).unique(subset=["transaction_id", "item_id"], keep="first", maintain_order=True)
    lines = raw.select(
        "transaction_id",
        "item_id",
        "quantity",
        unit_price=_money(pl.col("cents")),
        unit_weight_kg=_grams(pl.col("grams")),
    )
    if with_totals:
        # Bulk loads carry the totals; finish_bulk_load() verifies them against the lines.
        sums = raw.group_by("transaction_id").agg(
            cents=(pl.col("quantity") * pl.col("cents")).sum(),
            grams=(pl.col("quantity") * pl.col("grams")).sum(),
            units=pl.col("quantity").sum(),
        )
        tx = tx.join(sums, on="transaction_id", how="left", maintain_order="left").select(
            *tx.columns,
            total_price=_money(pl.col("cents").fill_null(0)),
            total_weight_kg=_grams(pl.col("grams").fill_null(0)),
            total_quantity=pl.col("units").fill_null(0),
        )
    return tx, lines


def seed(url: str, plan: SeedPlan, progress: Callable[[str], None] | None = None) -> SeedReport:
    """Generate and load ``plan``; does nothing if the database already holds transactions."""
    say = progress or (lambda _message: None)
    rng = np.random.default_rng(plan.seed)
    report = SeedReport()
    with psycopg.connect(url) as conn:
        existing = _state(conn).existing_transactions
        if existing:
            report.skipped_existing = existing
            return report
        if plan.members > MAX_SYNTHETIC_MEMBERS:
            raise ValueError(f"at most {MAX_SYNTHETIC_MEMBERS} synthetic members")

        began = time.perf_counter()
        with conn.transaction():
            if plan.members:
                frame = _members(plan, rng)
                create_staging(conn, "members", "members_seed")
                copy_rows(
                    conn,
                    "members_seed",
                    frame.columns,
                    frame.iter_rows(),
                    StagedSource("seed members", first_line=1),
                )
                report.members = move_staged(
                    conn,
                    "members_seed",
                    "members",
                    frame.columns,
                    on_conflict_do_nothing="membership_id",
                )
        report.seconds["members"] = time.perf_counter() - began
        say(f"members: {report.members} added")

        began = time.perf_counter()
        with conn.transaction():
            cat = _catalogue(conn, plan, rng, report)
        report.seconds["catalogue"] = time.perf_counter() - began
        say(f"catalogue: {report.manufacturers} manufacturers, {report.items} items")

        ids = [r[0] for r in conn.execute(read_sql("salesdb/seed_member_ids.sql")).fetchall()]
        conn.commit()
        if plan.transactions and not ids:
            raise ValueError("no members to buy anything: load members or seed some")
        member_ids = np.array(ids, dtype=object)
        activity = rng.lognormal(0.0, 1.0, len(member_ids))
        weights = activity / activity.sum()
        first_tx = _state(conn).next_transaction_id
        conn.commit()
        report.seconds["transactions"] = 0.0
        report.seconds["line_items"] = 0.0
        report.seconds["generate"] = 0.0
        done = 0
        bulk = plan.transactions >= plan.bulk_threshold
        tx_columns = (
            b"transaction_id, membership_id, status, created_at, completed_at, cancelled_at"
        )
        if bulk:
            tx_columns += b", total_price, total_weight_kg, total_quantity"
        with conn.transaction():
            if bulk:
                conn.execute(b"select sales.begin_bulk_load()")
            while done < plan.transactions:
                count = min(plan.chunk_transactions, plan.transactions - done)
                began = time.perf_counter()
                tx, lines = _transactions_chunk(
                    plan, rng, first_tx + done, count, member_ids, weights, cat, bulk
                )
                report.seconds["generate"] += time.perf_counter() - began
                with conn.transaction():
                    began = time.perf_counter()
                    _copy_csv(
                        conn,
                        b"copy sales.transactions (" + tx_columns + b") from stdin (format csv)",
                        tx,
                    )
                    mid = time.perf_counter()
                    _copy_csv(
                        conn,
                        b"copy sales.transaction_items (transaction_id, item_id, quantity,"
                        b" unit_price, unit_weight_kg) from stdin (format csv)",
                        lines,
                    )
                    end = time.perf_counter()
                report.seconds["transactions"] += mid - began
                report.seconds["line_items"] += end - mid
                report.transactions += count
                report.line_items += lines.height
                done += count
                say(f"transactions: {done}/{plan.transactions}, line items: {report.line_items}")
            if bulk:
                began = time.perf_counter()
                conn.execute(b"select sales.finish_bulk_load()")
                report.seconds["finish_bulk_load"] = time.perf_counter() - began
                say(f"bulk load verified and indexed in {report.seconds['finish_bulk_load']:.1f} s")
        report.bulk = bulk

        began = time.perf_counter()
        conn.execute(read_sql("salesdb/sync_identities.sql"))
        conn.commit()
        conn.autocommit = True
        conn.execute(read_sql("salesdb/analyze.sql"))
        report.seconds["analyze"] = time.perf_counter() - began
    return report
