"""Mutation testing of the SQL: does a one-line change to a rule make a database test fail?

``python tools/sql_mutations.py [--tests PATH ...] [--only N ...] [--list]`` (``make
sql-mutation``) copies the checkout's tracked files into a temporary folder once, then for each
mutation below writes the mutated file into that copy, runs the database tests there (``pytest
-x``, the copy's ``src`` first on ``PYTHONPATH``, so the code, init SQL and analyst SQL are all
the copy's), and restores the file. A mutation is *killed* when the tests fail, *survived* when
they pass, and *stale* when its original line is no longer in the file exactly once (the SQL
changed: update the list). The checkout itself is never written to.

Exit status: 0 when every mutation was killed, 1 when any survived or is stale, 2 on usage errors.
The survivors and the reasons they may stay are recorded in docs/testing.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_TESTS = ("tests/salesdb", "tests/access")


@dataclass(frozen=True)
class Mutation:
    """Replace ``original`` (found exactly once in ``path``) by ``mutant``."""

    path: str
    original: str
    mutant: str
    rule: str


MUTATIONS: tuple[Mutation, ...] = (
    # 020_members.sql -------------------------------------------------------------------------
    Mutation(
        "src/shopdata/salesdb/sql/initdb/020_members.sql",
        "_[0-9a-f]{5}(_[1-9][0-9]*)?$'",
        "_[0-9a-f]{4,6}(_[1-9][0-9]*)?$'",
        "membership_id has exactly 5 hex digits",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/020_members.sql",
        "_[0-9a-f]{5}(_[1-9][0-9]*)?$'",
        "_[0-9a-f]{5}(_[0-9]+)?$'",
        "membership_id sequence numbers start at 1, without leading zeros",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/020_members.sql",
        "membership_id ~ '^[^[:space:]].*_",
        "membership_id ~ '^.*_",
        "membership_id starts with a last name",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/020_members.sql",
        "check (first_name = btrim(first_name))",
        "check (true)",
        "first_name has no surrounding spaces (it may be empty: one-word names)",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/020_members.sql",
        "check (email ~ '^[^@[:space:]]+@[^@[:space:]]+$')",
        "check (email ~ '@')",
        "email has one @ and no white space",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/020_members.sql",
        "check (mobile_no ~ '^[0-9]{8}$')",
        "check (mobile_no ~ '^[0-9]{7,8}$')",
        "mobile_no is 8 digits",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/020_members.sql",
        "check (status_changed_at >= joined_at)",
        "check (status_changed_at >= joined_at - interval '1 day')",
        "status changes after joining",
    ),
    # 030_catalog.sql -------------------------------------------------------------------------
    Mutation(
        "src/shopdata/salesdb/sql/initdb/030_catalog.sql",
        "check (weight_kg > 0)",
        "check (weight_kg >= 0)",
        "items weigh something",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/030_catalog.sql",
        "check (cost >= 0)",
        "check (cost >= -1)",
        "items do not cost less than nothing",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/030_catalog.sql",
        "check (discontinued_at >= listed_at)",
        "check (discontinued_at >= listed_at - interval '1 day')",
        "an item is discontinued after it was listed",
    ),
    # 040_transactions.sql --------------------------------------------------------------------
    Mutation(
        "src/shopdata/salesdb/sql/initdb/040_transactions.sql",
        "check (quantity > 0)",
        "check (quantity >= 0)",
        "a line item holds at least one unit",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/040_transactions.sql",
        "check (completed_at >= created_at)",
        "check (completed_at >= created_at - interval '1 day')",
        "a purchase is completed after it was made",
    ),
    # 060_triggers.sql ------------------------------------------------------------------------
    Mutation(
        "src/shopdata/salesdb/sql/initdb/060_triggers.sql",
        "    if old.status <> 'pending' then\n"
        "        raise exception using\n"
        "            errcode = 'check_violation',\n"
        "            constraint = 'transactions_history_kept',",
        "    if false then\n"
        "        raise exception using\n"
        "            errcode = 'check_violation',\n"
        "            constraint = 'transactions_history_kept',",
        "only pending purchases are deleted",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/060_triggers.sql",
        "    if old.status <> 'pending' then\n"
        "        raise exception using\n"
        "            errcode = 'check_violation',\n"
        "            constraint = 'transactions_status_lifecycle',",
        "    if false then\n"
        "        raise exception using\n"
        "            errcode = 'check_violation',\n"
        "            constraint = 'transactions_status_lifecycle',",
        "status moves only from pending",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/060_triggers.sql",
        "    if new.status = 'completed' and new.total_quantity = 0 then",
        "    if false then",
        "a purchase without line items cannot be completed",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/060_triggers.sql",
        "if adding and purchase.discontinued_at <= purchase.created_at then",
        "if adding and purchase.discontinued_at < purchase.created_at then",
        "no line item for an item discontinued at (or before) the purchase",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/060_triggers.sql",
        "and not (tg_op = 'INSERT' and sales.finished_here(line.transaction_id)) then",
        "and not (tg_op = 'INSERT') then",
        "lines of a finished purchase with lines cannot be added to",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/060_triggers.sql",
        "        if purchase.status <> 'cancelled' then",
        "        if true then",
        "lines of cancelled purchases count nowhere (item_sales, member_spending)",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/060_triggers.sql",
        "    is_counted boolean := new.status <> 'cancelled' and new.total_quantity > 0;",
        "    is_counted boolean := new.total_quantity > 0;",
        "a cancelled purchase leaves member_spending and item_sales",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/060_triggers.sql",
        "before truncate on sales.transactions\n",
        "before truncate on sales.manufacturers\n",
        "sales history is never truncated",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/060_triggers.sql",
        "    pg_trigger_depth() = 0\n",
        "    pg_trigger_depth() < 0\n",
        "totals are never written directly",
    ),
    # 090_roles.sql ---------------------------------------------------------------------------
    Mutation(
        "src/shopdata/salesdb/sql/initdb/090_roles.sql",
        "revoke execute on function pg_catalog.lo_creat(integer) from public;",
        "-- (mutated: lo_creat left to public)",
        "no team creates large objects",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/090_roles.sql",
        "revoke execute on function pg_catalog.lo_from_bytea(oid, bytea) from public;",
        "-- (mutated: lo_from_bytea left to public)",
        "no team creates large objects",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/090_roles.sql",
        "alter default privileges revoke execute on functions from public;",
        "-- (mutated: new functions executable by public)",
        "functions created later are not executable by the teams",
    ),
    # analyst/ -------------------------------------------------------------------------------------
    Mutation(
        "src/shopdata/salesdb/sql/analyst/top_members.sql",
        "    where cs.total_spent > 0",
        "    where cs.total_spent >= 0",
        "members who spent nothing are never listed",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/analyst/top_members.sql",
        "    order by cs.total_spent desc\n    fetch first 10 rows with ties",
        "    order by cs.total_spent desc\n    fetch first 10 rows only",
        "every member tied with the 10th is listed",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/analyst/top_members.sql",
        "rank() over (order by cs.total_spent desc) as spending_rank",
        "dense_rank() over (order by cs.total_spent desc) as spending_rank",
        "spending_rank is the SQL rank (1, 2, 2, 4)",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/analyst/top_members.sql",
        "order by r.spending_rank asc, r.membership_id asc;",
        "order by r.spending_rank asc, r.membership_id desc;",
        "equal spenders are listed by membership_id",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/analyst/top_items.sql",
        "    where cs.purchase_count > 0",
        "    where cs.purchase_count >= 0",
        "items never bought are never listed",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/analyst/top_items.sql",
        "    order by cs.purchase_count desc\n    fetch first 3 rows with ties",
        "    order by cs.purchase_count desc\n    fetch first 3 rows only",
        "every item tied with the 3rd is listed",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/analyst/top_items.sql",
        "rank() over (order by cs.purchase_count desc) as purchase_rank",
        "rank() over (order by cs.units_sold desc) as purchase_rank",
        "items are ranked by purchases, not units",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/analyst/top_items.sql",
        "order by r.purchase_rank asc, r.item_id asc;",
        "order by r.purchase_rank asc, r.item_id desc;",
        "equal items are listed by item_id",
    ),
    # added after issue 13 (summary deltas) and issue 12 (member_key) ---------------------------
    Mutation(
        "src/shopdata/salesdb/sql/analyst/top_members.sql",
        "coalesce(s.total_spent, 0) + coalesce(p.total_spent, 0) as total_spent",
        "coalesce(s.total_spent, 0) as total_spent",
        "spending between roll-ups counts (member_spending plus the pending deltas)",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/analyst/top_members.sql",
        "        order by s.total_spent desc\n        fetch first 10 rows with ties",
        "        order by s.total_spent desc\n        fetch first 9 rows with ties",
        "the summary's top 10 (with ties) are candidates",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/analyst/top_items.sql",
        "coalesce(s.purchase_count, 0) + coalesce(p.purchase_count, 0) as purchase_count",
        "coalesce(s.purchase_count, 0) as purchase_count",
        "purchases between roll-ups count (item_sales plus the pending deltas)",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/050_summaries.sql",
        "        set total_spent = s.total_spent + d.amount,",
        "        set total_spent = d.amount,",
        "a roll-up adds the deltas to member_spending",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/050_summaries.sql",
        "            units_sold = s.units_sold + d.units,",
        "            units_sold = s.units_sold,",
        "a roll-up adds the units to item_sales",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/020_members.sql",
        "check (btrim(last_name) <> '')",
        "check (true)",
        "last_name is not blank (it feeds the ID)",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/020_members.sql",
        "member_key bigint not null generated always as identity,",
        "member_key bigint not null generated by default as identity,",
        "member_key is handed out by the database",
    ),
    # issue 13, goal 2: the member key is checked once per purchase, at commit --------------
    Mutation(
        "src/shopdata/salesdb/sql/initdb/040_transactions.sql",
        "on update restrict on delete restrict deferrable initially deferred,",
        "on update restrict on delete restrict,",
        "the member key of a purchase is checked at commit (once, not per line)",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/070_bulk_load.sql",
        "    deferrable initially deferred;  -- as 040_transactions.sql declares it",
        "    ;",
        "a bulk load puts the member key back as declared (deferred)",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/060_triggers.sql",
        'create trigger "Line_items_changed"',
        "create trigger line_items_changed",
        "a line write locks its purchase before the foreign-key check's KEY SHARE lock",
    ),
    # issue 13, found by its outside tester ------------------------------------------------
    Mutation(
        "src/shopdata/salesdb/sql/initdb/040_transactions.sql",
        "on update restrict on delete restrict deferrable initially deferred,",
        "deferrable initially deferred,",
        "a member with purchases cannot be deleted, even when inserted again before COMMIT",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/060_triggers.sql",
        "after insert on sales.transactions",
        "before insert on sales.transactions",
        "a purchase re-sent with ON CONFLICT DO NOTHING is neither counted twice nor unfrozen",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/060_triggers.sql",
        "            if not adding and not exists (",
        "            if false and not exists (",
        "a basket deleted with its lines in one statement leaves item_sales",
    ),
    # a purchase with no line item is no purchase (counts from its first line to its last) ----
    Mutation(
        "src/shopdata/salesdb/sql/initdb/060_triggers.sql",
        "when purchase.total_quantity = case when adding then line.quantity else 0 end",
        "when true",
        "an empty basket counts from its first line to its last, not per line",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/060_triggers.sql",
        "    was_counted boolean := old.status <> 'cancelled' and old.total_quantity > 0;",
        "    was_counted boolean := old.status <> 'cancelled';",
        "cancelling an empty basket changes no count",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/060_triggers.sql",
        "    if old.total_quantity > 0 then",
        "    if true then",
        "deleting an empty (or emptied) basket changes no count",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/070_bulk_load.sql",
        "        (count(*) filter (where t.total_quantity > 0))::integer",
        "        count(*)::integer",
        "a bulk-loaded empty basket is no purchase",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/salesdb/check_summaries.sql",
        "        count(tt.transaction_id)::integer as transaction_count",
        "        count(*)::integer as transaction_count",
        "db check recomputes transaction_count without empty baskets",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/salesdb/repair_summaries.sql",
        "            count(*) filter (where t.status <> 'cancelled' and t.total_quantity > 0)",
        "            count(*) filter (where t.status <> 'cancelled')",
        "the repair counts no empty basket (a member with a summary row)",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/salesdb/repair_summaries.sql",
        "    (\n        count(*) filter (where t.status <> 'cancelled' and t.total_quantity > 0)\n",
        "    (\n        count(*) filter (where t.status <> 'cancelled')\n",
        "the repair counts no empty basket (a member without a summary row yet)",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/salesdb/reference_top_members.sql",
        "        count(*) filter (where t.total_quantity > 0) as transaction_count",
        "        count(*) as transaction_count",
        "the reference top members counts no empty basket",
    ),
    Mutation(
        "src/shopdata/salesdb/sql/initdb/090_roles.sql",
        "        execute format('revoke execute on function %s from public', taker);",
        "        null;",
        "no team member can take the roll-up's advisory lock",
    ),
)


def tracked_files() -> list[str]:
    """The checkout's files as git sees them (tracked and new, not ignored)."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout
    return [name for name in out.decode().split("\0") if name and (REPO / name).is_file()]


def copy_checkout(target: Path) -> None:
    for name in tracked_files():
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, destination)


def run_tests(copy: Path, tests: tuple[str, ...]) -> tuple[bool, float]:
    """True when the tests pass in ``copy``; and the seconds they took."""
    env = {**os.environ, "PYTHONPATH": str(copy / "src")}
    env.pop("PYTEST_ADDOPTS", None)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", nargs="+", default=list(DEFAULT_TESTS), help="pytest paths")
    parser.add_argument("--only", nargs="+", type=int, default=None, help="mutation numbers")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    args = parser.parse_args(argv)
    numbered = list(enumerate(MUTATIONS, start=1))
    if args.only:
        unknown = sorted(set(args.only) - {n for n, _ in numbered})
        if unknown:
            parser.error(f"no mutation numbered {', '.join(map(str, unknown))}")
        numbered = [(n, m) for n, m in numbered if n in args.only]
    if args.list:
        for n, m in numbered:
            print(f"{n:>3} {m.path}: {m.rule}\n      {m.original.strip()} -> {m.mutant.strip()}")
        return 0
    tests = tuple(args.tests)
    with tempfile.TemporaryDirectory(prefix="sql-mutations-") as tmp:
        copy = Path(tmp)
        copy_checkout(copy)
        ok, seconds = run_tests(copy, tests)
        if not ok:
            print(f"the tests fail without any mutation ({seconds:.0f} s); fix them first")
            return 1
        print(f"baseline: {' '.join(tests)} pass in {seconds:.0f} s", flush=True)
        killed, survived, stale = [], [], []
        for n, mutation in numbered:
            path = copy / mutation.path
            text = path.read_text(encoding="utf-8")
            if text.count(mutation.original) != 1:
                stale.append(n)
                print(f"{n:>3} STALE    {mutation.path}: {mutation.rule}", flush=True)
                continue
            path.write_text(text.replace(mutation.original, mutation.mutant), encoding="utf-8")
            try:
                passed, seconds = run_tests(copy, tests)
            finally:
                path.write_text(text, encoding="utf-8")
            verdict = "SURVIVED" if passed else "killed  "
            (survived if passed else killed).append(n)
            print(
                f"{n:>3} {verdict} {mutation.path}: {mutation.rule} ({seconds:.0f} s)", flush=True
            )
    total = len(killed) + len(survived)
    score = f"{len(killed)}/{total} killed" + (f" ({len(killed) / total:.0%})" if total else "")
    print(f"score: {score}; survived: {survived or 'none'}; stale: {stale or 'none'}")
    return 0 if not survived and not stale else 1


if __name__ == "__main__":
    sys.exit(main())
