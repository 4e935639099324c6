"""Each team can really do its job (real rows, triggers and constraints included), and the
row-level and business rules around that job hold. Everything runs as the team's login user in
a transaction that is rolled back."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from shopdata.salesdb.queries import SQL_DIR

from .conftest import ProofDb, attempt

Conn = psycopg.Connection[tuple[object, ...]]
RLS_DENIED = ("42501", 'new row violates row-level security policy for table "transactions"')

# ---------------------------------------------------------------------------------------------
# logistics


def test_logistics_reads_a_packing_list(
    team_conn: dict[str, Conn], record_check: Callable[[str, int], None]
) -> None:
    outcome = attempt(
        team_conn["logistics"],
        """
        select m.first_name, m.last_name, m.mobile_no, i.name, li.quantity, li.unit_weight_kg,
            t.total_weight_kg
        from sales.transactions as t
        inner join sales.transaction_members as tm on t.transaction_id = tm.transaction_id
        inner join sales.members as m on tm.member_key = m.member_key
        inner join sales.transaction_items as li on t.transaction_id = li.transaction_id
        inner join sales.items as i on li.item_id = i.item_id
        where t.status = 'pending'
        order by i.name
        """,
    )
    assert outcome.sqlstate is None
    assert outcome.rows == (
        ("Mei", "Tan", "91234567", "Kettle", 2, Decimal("1.200"), Decimal("4.900")),
        ("Mei", "Tan", "91234567", "Toaster", 1, Decimal("2.500"), Decimal("4.900")),
    )
    record_check("team jobs and row rules", 1)


def test_logistics_completes_a_pending_transaction(
    team_conn: dict[str, Conn], record_check: Callable[[str, int], None]
) -> None:
    conn = team_conn["logistics"]
    with conn.transaction(force_rollback=True):
        cur = conn.execute(
            "update sales.transactions set status = 'completed', completed_at = now() "
            "where transaction_id = 1"
        )
        assert cur.rowcount == 1
        row = conn.execute(
            "select status::text, completed_at is not null from sales.transactions "
            "where transaction_id = 1"
        ).fetchone()
        assert row == ("completed", True)
    record_check("team jobs and row rules", 1)


def test_logistics_cannot_rewrite_a_completed_transaction(
    team_conn: dict[str, Conn],
    owner_conn: Conn,
    record_check: Callable[[str, int], None],
) -> None:
    """Row security hides non-pending rows from logistics' UPDATE: nothing changes."""
    before = owner_conn.execute(
        "select completed_at from sales.transactions where transaction_id = 2"
    ).fetchone()
    outcome = attempt(
        team_conn["logistics"],
        "update sales.transactions set completed_at = now() where transaction_id = 2",
        rollback=False,
    )
    assert (outcome.sqlstate, outcome.rowcount) == (None, 0)
    after = owner_conn.execute(
        "select completed_at from sales.transactions where transaction_id = 2"
    ).fetchone()
    assert after == before
    record_check("team jobs and row rules", 1)


def test_logistics_cannot_switch_row_security_off(
    team_conn: dict[str, Conn], record_check: Callable[[str, int], None]
) -> None:
    conn = team_conn["logistics"]
    with conn.transaction(force_rollback=True):
        conn.execute("set local row_security = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as raised:
            conn.execute(
                "update sales.transactions set completed_at = now() where transaction_id = 2"
            )
    assert raised.value.diag.message_primary == (
        'query would be affected by row-level security policy for table "transactions"'
    )
    record_check("team jobs and row rules", 1)


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        pytest.param(
            "update sales.transactions set status = 'completed', "
            "completed_at = now() + interval '1 day' where transaction_id = 1",
            RLS_DENIED,
            id="complete in the future",
        ),
        pytest.param(
            "update sales.transactions set completed_at = null where transaction_id = 1",
            RLS_DENIED,
            id="leave pending",
        ),
        pytest.param(
            "update sales.transactions set status = 'cancelled', cancelled_at = now() "
            "where transaction_id = 1",
            ("42501", "permission denied for table transactions"),
            id="cancel",
        ),
        pytest.param(
            "update sales.transactions set total_price = 0 where transaction_id = 1",
            ("42501", "permission denied for table transactions"),
            id="change the price",
        ),
        pytest.param(
            "update sales.transaction_items set quantity = 1 where transaction_id = 1",
            ("42501", "permission denied for table transaction_items"),
            id="change a line item",
        ),
        pytest.param(
            "insert into sales.transactions (membership_id) values ('tan_f205a')",
            ("42501", "permission denied for table transactions"),
            id="insert a transaction",
        ),
        pytest.param(
            "delete from sales.transactions where transaction_id = 1",
            ("42501", "permission denied for table transactions"),
            id="delete a transaction",
        ),
        pytest.param(
            "select email from sales.members",
            ("42501", "permission denied for table members"),
            id="read a member's email",
        ),
        pytest.param(
            "select cost from sales.items",
            ("42501", "permission denied for table items"),
            id="read an item's price",
        ),
    ],
)
def test_logistics_beyond_its_job(
    statement: str,
    expected: tuple[str, str],
    team_conn: dict[str, Conn],
    record_check: Callable[[str, int], None],
) -> None:
    outcome = attempt(team_conn["logistics"], statement)
    assert (outcome.sqlstate, outcome.message) == expected
    record_check("team jobs and row rules", 1)


# ---------------------------------------------------------------------------------------------
# sales


def test_sales_runs_the_catalogue(
    team_conn: dict[str, Conn], record_check: Callable[[str, int], None]
) -> None:
    """Add a manufacturer and an item, reprice, discontinue, delete a never-sold item."""
    conn = team_conn["sales"]
    with conn.transaction(force_rollback=True):
        row = conn.execute(
            "insert into sales.manufacturers (name) values ('Globex') returning manufacturer_id"
        ).fetchone()
        assert row is not None
        cur = conn.execute(
            "insert into sales.items (manufacturer_id, name, cost, weight_kg) "
            "values (%s, 'Blender', 59.90, 3.100)",
            (row[0],),
        )
        assert cur.rowcount == 1
        assert (
            conn.execute("update sales.items set cost = 27.00 where name = 'Kettle'").rowcount == 1
        )
        assert (
            conn.execute(
                "update sales.items set discontinued_at = now() where name = 'Toaster'"
            ).rowcount
            == 1
        )
        assert conn.execute("delete from sales.items where name = 'Lamp'").rowcount == 1
        assert (
            conn.execute("delete from sales.manufacturers where name = 'Idle Works'").rowcount == 1
        )
        popularity = conn.execute(
            "select i.name, s.purchase_count, s.units_sold from sales.item_sales as s "
            "inner join sales.items as i on s.item_id = i.item_id order by i.name"
        ).fetchall()
        # Cancelled purchases do not count (the Toasters of transaction 3).
        assert popularity == [("Kettle", 2, 3), ("Toaster", 1, 1)]
    record_check("team jobs and row rules", 1)


def test_sales_repricing_leaves_history_alone(
    team_conn: dict[str, Conn], owner_conn: Conn, record_check: Callable[[str, int], None]
) -> None:
    conn = team_conn["sales"]
    with conn.transaction(force_rollback=True):
        conn.execute("update sales.items set cost = 99.00 where name = 'Kettle'")
        # Read inside the same transaction through the owner? No: the owner has another
        # session. History is checked through sales' own allowed column instead.
        rows = conn.execute(
            "select li.quantity from sales.transaction_items as li "
            "inner join sales.items as i on li.item_id = i.item_id where i.name = 'Kettle' "
            "order by li.transaction_id"
        ).fetchall()
        assert rows == [(2,), (1,)]
    prices = owner_conn.execute(
        "select li.unit_price from sales.transaction_items as li "
        "inner join sales.items as i on li.item_id = i.item_id where i.name = 'Kettle' "
        "order by li.transaction_id"
    ).fetchall()
    assert prices == [(Decimal("25.50"),), (Decimal("25.50"),)]
    record_check("team jobs and row rules", 1)


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        pytest.param(
            "insert into sales.items (item_id, manufacturer_id, name, cost, weight_kg) "
            "values (999, 1, 'Forged', 1, 1)",
            ("42501", "permission denied for table items"),
            id="choose an item id",
        ),
        pytest.param(
            "update sales.items set updated_at = now()",
            ("42501", "permission denied for table items"),
            id="rewrite updated_at",
        ),
        pytest.param(
            "select unit_price from sales.transaction_items",
            ("42501", "permission denied for table transaction_items"),
            id="read the price charged",
        ),
        pytest.param(
            "select revenue from sales.item_sales",
            ("42501", "permission denied for table item_sales"),
            id="read revenue",
        ),
        pytest.param(
            "select total_price from sales.transactions",
            ("42501", "permission denied for table transactions"),
            id="read transactions",
        ),
        pytest.param(
            "select membership_id from sales.members",
            ("42501", "permission denied for table members"),
            id="read members",
        ),
    ],
)
def test_sales_beyond_its_job(
    statement: str,
    expected: tuple[str, str],
    team_conn: dict[str, Conn],
    record_check: Callable[[str, int], None],
) -> None:
    outcome = attempt(team_conn["sales"], statement)
    assert (outcome.sqlstate, outcome.message) == expected
    record_check("team jobs and row rules", 1)


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("delete from sales.items where name = 'Kettle'", id="delete a sold item"),
        pytest.param(
            "delete from sales.manufacturers where name = 'Acme'",
            id="delete a manufacturer with items",
        ),
    ],
)
def test_sales_deletes_stop_at_history_like_the_owners(
    statement: str,
    team_conn: dict[str, Conn],
    owner_conn: Conn,
    record_check: Callable[[str, int], None],
) -> None:
    """Sales may DELETE catalogue rows, but the schema keeps sales history: the refusal is the
    schema's foreign-key rule (23503), word for word the one the owner gets, not a privilege."""
    as_sales = attempt(team_conn["sales"], statement)
    as_owner = attempt(owner_conn, statement)
    assert as_sales.sqlstate == "23503"
    assert (as_sales.sqlstate, as_sales.message) == (as_owner.sqlstate, as_owner.message)
    record_check("team jobs and row rules", 1)


# ---------------------------------------------------------------------------------------------
# analytics


def test_analytics_reads_members_without_contact_data(
    team_conn: dict[str, Conn], record_check: Callable[[str, int], None]
) -> None:
    outcome = attempt(
        team_conn["analytics"],
        "select member_key, status::text, above_18, birth_year, email_domain "
        "from analytics.member_profiles order by member_key",
    )
    assert outcome.rows == (
        (1, "active", True, 1990, "example.com"),
        (2, "active", True, 1985, "example.org"),
        (3, "active", True, 2001, "example.net"),
    )
    record_check("team jobs and row rules", 1)


def test_analytics_answers_spending_questions(
    team_conn: dict[str, Conn], record_check: Callable[[str, int], None]
) -> None:
    outcome = attempt(
        team_conn["analytics"],
        "select m.first_name, m.last_name, s.total_spent, s.transaction_count "
        "from analytics.member_spending as s "
        "inner join sales.members as m on s.member_key = m.member_key "
        "order by s.total_spent desc, s.member_key",
    )
    assert outcome.sqlstate is None, outcome.message
    assert outcome.rows == (
        ("Mei", "Tan", Decimal("91.00"), 1),
        ("Jun", "Lee", Decimal("25.50"), 1),
        ("Ana", "Ong", Decimal("0.00"), 0),
    )
    record_check("team jobs and row rules", 1)


def test_analytics_session_is_read_only_by_default(
    proof_db: ProofDb, record_check: Callable[[str, int], None]
) -> None:
    """A fresh analyst session is read-only; switching that off still leaves no write."""
    user = proof_db.users["analytics"]
    with psycopg.connect(proof_db.user_conninfo(user), autocommit=True) as conn:
        assert conn.execute("show default_transaction_read_only").fetchone() == ("on",)
        write = "update sales.items set cost = 0 where name = 'Kettle'"
        first = attempt(conn, write)
        assert (first.sqlstate, first.message) == (
            "25006",
            "cannot execute UPDATE in a read-only transaction",
        )
        conn.execute("set default_transaction_read_only = off")
        second = attempt(conn, write)
        assert (second.sqlstate, second.message) == ("42501", "permission denied for table items")
        with (
            pytest.raises(psycopg.errors.InsufficientPrivilege),
            conn.transaction(force_rollback=True),
        ):
            conn.execute("set transaction read write")
            conn.execute("truncate sales.item_sales")
    record_check("team jobs and row rules", 3)


ANALYST_SQL = sorted((SQL_DIR / "analyst").glob("*.sql"))
#: The owner's top-members query names members by membership_id, which analysts may not read
#: (issue 12: it encodes the birthday). Analysts ask the same question through member_key.
TOP_MEMBERS_FOR_ANALYSTS = """
with ranked as (
    select s.member_key, s.total_spent, s.transaction_count,
        rank() over (order by s.total_spent desc) as spending_rank
    from analytics.member_spending as s
    where s.total_spent > 0
    order by s.total_spent desc
    fetch first 10 rows with ties
)
select r.spending_rank, m.first_name, m.last_name, r.total_spent, r.transaction_count
from ranked as r
inner join sales.members as m on r.member_key = m.member_key
order by r.spending_rank, m.last_name
"""


@pytest.mark.parametrize("path", ANALYST_SQL, ids=lambda p: p.stem)
def test_analytics_runs_the_analyst_queries(
    path: Path,
    team_conn: dict[str, Conn],
    owner_conn: Conn,
    record_check: Callable[[str, int], None],
) -> None:
    """The analyst questions answer the same for an analyst as for the owner: the shipped SQL
    itself, or (top members) the same ranking through member_key instead of membership_id."""
    text = path.read_text(encoding="utf-8")
    as_analyst = attempt(team_conn["analytics"], text)
    as_owner = attempt(owner_conn, text)
    assert len(as_owner.rows) > 0
    if "membership_id" not in text:
        assert as_analyst.sqlstate is None, as_analyst.message
        assert as_analyst.rows == as_owner.rows
    else:
        assert (as_analyst.sqlstate, as_analyst.message) == (
            "42501",
            "permission denied for table members",
        )
        by_key = attempt(team_conn["analytics"], TOP_MEMBERS_FOR_ANALYSTS)
        assert by_key.sqlstate is None, by_key.message
        without_ids = tuple((r[0], *r[2:]) for r in as_owner.rows)
        assert by_key.rows == without_ids
    record_check("team jobs and row rules", 1)


@pytest.mark.parametrize("team", ["analytics", "logistics"])
def test_row_security_adds_nothing_to_readers_plans(
    team: str,
    team_conn: dict[str, Conn],
    owner_conn: Conn,
    record_check: Callable[[str, int], None],
) -> None:
    """The read policy is ``using (true)``: the planner drops it, so the readers' plans over
    sales.transactions are the owner's plans (no per-row filter on a 10M-row table)."""
    query = (
        "explain (costs off) select created_at::date, count(*) from sales.transactions "
        "where status = 'pending' group by created_at::date"
    )
    as_team = attempt(team_conn[team], query)
    with owner_conn.transaction(force_rollback=True):
        # Same search_path as the team, so that type names print the same way.
        owner_conn.execute("set local search_path = sales, analytics")
        owner_plan = tuple(owner_conn.execute(query).fetchall())
    assert as_team.sqlstate is None
    assert as_team.rows == owner_plan
    record_check("team jobs and row rules", 1)
