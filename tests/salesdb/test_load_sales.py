"""`shopdata db load-sales`: rows that break a constraint name their line and the constraint,
and leave the database exactly as it was."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from shopdata.cli import app

from .helpers import HERE

GOOD = HERE / "data" / "sales_ok"
MEMBERS = HERE / "data" / "pipeline_output"
COUNTS = (
    "select (select count(*) from sales.manufacturers), (select count(*) from sales.items),"
    " (select count(*) from sales.transactions), (select count(*) from sales.transaction_items),"
    " (select count(*) from sales.member_spending), (select count(*) from sales.item_sales)"
)


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["db", *args])
    return result.exit_code, result.stdout, result.stderr


def _counts(url: str) -> tuple[int, ...]:
    with psycopg.connect(url) as conn:
        row = conn.execute(COUNTS).fetchone()
    assert row is not None
    return tuple(row)


@pytest.fixture
def with_members(db_env: str) -> str:
    assert _invoke("load-members", str(MEMBERS))[0] == 0
    return db_env


def test_loads_catalogue_and_transactions(with_members: str) -> None:
    assert _invoke("load-sales", str(GOOD)) == (
        0,
        "loaded: 2 manufacturers, 2 items, 2 transactions, 3 transaction_items\n",
        "",
    )
    with psycopg.connect(with_members) as conn:
        rows = conn.execute(
            "select transaction_id, status::text, total_price, total_weight_kg, total_quantity"
            " from sales.transactions order by transaction_id"
        ).fetchall()
        next_item = conn.execute(
            "insert into sales.items (manufacturer_id, name, cost, weight_kg)"
            " values (1, 'Lid', 1.00, 0.100) returning item_id"
        ).fetchone()
    assert rows == [
        (1, "completed", Decimal("55.00"), Decimal("3.900"), 5),
        (2, "pending", Decimal("5.00"), Decimal("0.300"), 1),
    ]
    assert next_item == (3,)  # identities moved past the loaded ids


def _variant(tmp_path: Path, name: str, body: str) -> Path:
    folder = tmp_path / "sales"
    shutil.copytree(GOOD, folder)
    (folder / name).write_text(body, encoding="utf-8")
    return folder


ITEMS_HEADER = "item_id,manufacturer_id,name,cost,weight_kg\n"
TX_HEADER = "transaction_id,membership_id,status,created_at,completed_at\n"
LINES_HEADER = "transaction_id,item_id,quantity,unit_price,unit_weight_kg\n"

BAD = [
    pytest.param(
        "transactions.csv",
        TX_HEADER + "1,Dixon_7d1c8,pending,2024-03-05T10:00:00+00:00,\n"
        "2,Nobody_00000,pending,2024-03-07T10:00:00+00:00,\n",
        "transactions.csv line 3: violates foreign key constraint"
        ' "transactions_membership_id_fkey": Key (membership_id)=(Nobody_00000) is not present'
        ' in table "members".',
        id="unknown-membership-id",
    ),
    pytest.param(
        "items.csv",
        ITEMS_HEADER + "1,1,Kettle,-20.00,1.500\n2,2,Mug,5.00,0.300\n",
        'items.csv line 2: violates check constraint "items_cost_nonnegative"',
        id="negative-cost",
    ),
    pytest.param(
        "transaction_items.csv",
        LINES_HEADER + "1,1,2,20.00,1.500\n1,2,0,5.00,0.300\n2,2,1,5.00,0.300\n",
        "transaction_items.csv line 3: violates check constraint"
        ' "transaction_items_quantity_positive"',
        id="zero-quantity",
    ),
    pytest.param(
        "items.csv",
        ITEMS_HEADER + "1,1,Kettle,20.00,0\n2,2,Mug,5.00,0.300\n",
        'items.csv line 2: violates check constraint "items_weight_positive"',
        id="zero-weight",
    ),
    pytest.param(
        "items.csv",
        ITEMS_HEADER + "1,1,Kettle,twenty,1.500\n",
        'items.csv line 2: cost: invalid input syntax for type numeric: "twenty"',
        id="cost-not-a-number",
    ),
    pytest.param(
        "transaction_items.csv",
        LINES_HEADER + "1,1,2,20.00,1.500\n1,9,3,5.00,0.300\n",
        "transaction_items.csv line 3: violates foreign key constraint"
        ' "transaction_items_item_id_fkey": Key (item_id)=(9) is not present in table "items".',
        id="unknown-item",
    ),
    pytest.param(
        "transactions.csv",
        TX_HEADER + "1,Dixon_7d1c8,completed,2024-03-05T10:00:00+00:00,\n",
        "transactions.csv line 2: violates check constraint"
        ' "transactions_completed_at_iff_completed"',
        id="completed-without-time",
    ),
    pytest.param(
        "transactions.csv",
        TX_HEADER + "1,Dixon_7d1c8,shipped,2024-03-05T10:00:00+00:00,\n",
        "transactions.csv line 2: status: invalid input value for enum"
        ' sales.transaction_status: "shipped"',
        id="unknown-status",
    ),
    pytest.param(
        "transactions.csv",
        TX_HEADER + "1,Dixon_7d1c8,pending,2024-03-05T10:00:00+00:00,\n"
        "1,Horn_3a9f2,pending,2024-03-07T10:00:00+00:00,\n",
        'transactions.csv line 3: violates unique constraint "transactions_pkey":'
        " Key (transaction_id)=(1) already exists.",
        id="duplicate-transaction-id",
    ),
    # Issue 12: values PostgreSQL would have taken quietly, and messages that said too little.
    pytest.param(
        "items.csv",
        ITEMS_HEADER + "1,1,Kettle,NaN,1.500\n",
        "items.csv line 2: cost: 'NaN' is not a finite number (NaN and infinity are refused)",
        id="cost-nan",
    ),
    pytest.param(
        "items.csv",
        ITEMS_HEADER + "1,1,Kettle,20.00,1.500\n2,2,Mug,5.00,Infinity\n",
        "items.csv line 3: weight_kg: 'Infinity' is not a finite number"
        " (NaN and infinity are refused)",
        id="weight-infinity",
    ),
    pytest.param(
        "transaction_items.csv",
        LINES_HEADER + "1,1,2,-inf,1.500\n",
        "transaction_items.csv line 2: unit_price: '-inf' is not a finite number"
        " (NaN and infinity are refused)",
        id="unit-price-minus-infinity",
    ),
    pytest.param(
        "items.csv",
        ITEMS_HEADER + "1,1,Kettle,1.005,1.500\n",
        "items.csv line 2: cost: '1.005' has more than 2 decimal places"
        " (it would be rounded; round it in the file if that is meant)",
        id="cost-rounded",
    ),
    pytest.param(
        "items.csv",
        ITEMS_HEADER + "1,1,Kettle,1e30,1.500\n",
        "items.csv line 2: cost: numeric field overflow",
        id="cost-1e30-was-a-traceback",
    ),
    pytest.param(
        "items.csv",
        ITEMS_HEADER + "1,1,Kettle,20.00,1e400\n",
        "items.csv line 2: weight_kg: numeric field overflow",
        id="weight-1e400-was-a-traceback",
    ),
    pytest.param(
        "transaction_items.csv",
        LINES_HEADER + "1,1,2,20.0000000000000000000000000000001,1.500\n",
        "transaction_items.csv line 2: unit_price: '20.0000000000000000000000000000001' has"
        " more than 2 decimal places (it would be rounded; round it in the file if that is"
        " meant)",
        id="unit-price-33-digits-rounded",
    ),
    pytest.param(
        "items.csv",
        ITEMS_HEADER + '1,1,Kettle,20.00,1.500\n2,2,"Mug\nlarge",5.00,0.300\n3,1,Lid,-1,0.1\n',
        'items.csv line 5: violates check constraint "items_cost_nonnegative"',
        id="line-after-a-quoted-line-break",
    ),
    pytest.param(
        "items.csv",
        ITEMS_HEADER + '1,1,Kettle,20.00,1.500\n2,2,"Mug\nlarge",5.00,0.300\n1,1,Lid,1,0.1\n',
        'items.csv line 5: violates unique constraint "items_pkey": Key (item_id)=(1) already'
        " exists.",
        id="duplicate-after-a-quoted-line-break",
    ),
    pytest.param(
        "items.csv",
        ITEMS_HEADER + "1,1,Kettle,20.00,1.500\n2,2,Mu\0g,5.00,0.300\n",
        "items.csv line 3: name: holds a NUL byte (0x00), which PostgreSQL text cannot store",
        id="nul-byte-named-its-line",
    ),
    pytest.param(
        "transactions.csv",
        TX_HEADER + "1,Dixon_7d1c8,pending,-infinity,\n",
        "transactions.csv line 2: created_at: -infinity is not a finite time",
        id="purchase-at-minus-infinity",
    ),
    pytest.param(
        "items.csv",
        "manufacturer_id,name,cost,weight_kg\n1,Kettle,20.00,1.500\n",
        "items.csv line 1: header lacks the required column(s) item_id",
        id="no-id-column",
    ),
    pytest.param(
        "transactions.csv",
        TX_HEADER + "1,Dixon_7d1c8,pending,2024-03-05T10:00:00+00:00,\n"
        "2,Horn_3a9f2,pending,2099-03-07T10:00:00+00:00,\n",
        "transactions.csv line 3: created_at: 2099-03-07 10:00:00+00 is in the future",
        id="purchase-in-2099",
    ),
    pytest.param(
        "transaction_items.csv",
        LINES_HEADER + "1,1,2,20.00,1.500\n1,2,3,5.00,0.300\n1,1,1,20.00,1.500\n",
        'transaction_items.csv line 4: violates unique constraint "transaction_items_pkey":'
        " Key (transaction_id, item_id)=(1, 1) already exists.",
        id="duplicate-composite-key",
    ),
    pytest.param(
        "items.csv",
        ITEMS_HEADER.replace("cost", "price") + "1,1,Kettle,20.00,1.500\n",
        "items.csv: header 'item_id,manufacturer_id,name,price,weight_kg' must name distinct"
        " columns among item_id,manufacturer_id,name,cost,weight_kg,listed_at,discontinued_at",
        id="unknown-column",
    ),
    pytest.param(
        "items.csv",
        "item_id,manufacturer_id,name,cost,weight_kg,listed_at,discontinued_at\n"
        "1,1,Kettle,20.00,1.500,2023-01-01T00:00:00+00:00,2024-01-01T00:00:00+00:00\n"
        "2,2,Mug,5.00,0.300,2023-01-01T00:00:00+00:00,\n",
        "transaction_items.csv line 2: line item (transaction_id=1, item_id=1): item 1 was"
        " discontinued at 2024-01-01 00:00:00+00, before the transaction was made"
        ' (constraint "transaction_items_item_on_sale")',
        id="discontinued-item-sold",
    ),
]


@pytest.mark.parametrize(("name", "body", "message"), BAD)
def test_bad_rows_load_nothing(
    with_members: str, tmp_path: Path, name: str, body: str, message: str
) -> None:
    folder = _variant(tmp_path, name, body)
    code, out, err = _invoke("load-sales", str(folder))
    assert (code, out) == (1, "")
    assert err == f"Error: {message}; nothing was loaded\n"
    assert _counts(with_members) == (0, 0, 0, 0, 0, 0)


def test_a_latin1_file_is_one_line_naming_line_and_column(
    with_members: str, tmp_path: Path
) -> None:
    folder = tmp_path / "sales"
    shutil.copytree(GOOD, folder)
    (folder / "items.csv").write_bytes(
        (ITEMS_HEADER + "1,1,Kettle,20.00,1.500\n2,2,Caf\u00e9 mug,5.00,0.300\n").encode("latin-1")
    )
    code, out, err = _invoke("load-sales", str(folder))
    assert (code, out) == (1, "")
    assert err == (
        "Error: items.csv line 3: name: not UTF-8 text (byte 0xe9; save the file as UTF-8);"
        " nothing was loaded\n"
    )
    assert _counts(with_members) == (0, 0, 0, 0, 0, 0)


@pytest.mark.parametrize(
    ("statement", "constraint"),
    [
        ("update sales.items set cost = 'NaN'", "items_cost_finite"),
        ("update sales.items set weight_kg = 'NaN'", "items_weight_finite"),
        (
            "update sales.transaction_items set unit_price = 'NaN' where transaction_id = 2",
            "transaction_items_unit_price_finite",
        ),
        (
            "update sales.transaction_items set unit_weight_kg = 'NaN' where transaction_id = 2",
            "transaction_items_unit_weight_finite",
        ),
    ],
)
def test_base_tables_refuse_nan_and_infinity(
    with_members: str, statement: str, constraint: str
) -> None:
    """'NaN'::numeric >= 0 is true in PostgreSQL, so the range checks alone let it in.
    Infinity does not fit a numeric(p, s) column anyway; the checks refuse it too, should the
    type ever lose its precision. Line items are changed on the pending purchase (2): lines of a
    completed one are frozen by the schema before any check is reached."""
    assert _invoke("load-sales", str(GOOD))[0] == 0
    with psycopg.connect(with_members) as conn:
        assert conn.execute("select 'NaN'::numeric >= 0").fetchone() == (True,)
        with pytest.raises(psycopg.errors.CheckViolation) as refused:
            conn.execute(statement)
        conn.rollback()
        for infinite in ("'Infinity'", "'-Infinity'"):
            with pytest.raises(
                (psycopg.errors.CheckViolation, psycopg.errors.NumericValueOutOfRange)
            ):
                conn.execute(statement.replace("'NaN'", infinite))
            conn.rollback()
    assert refused.value.diag.constraint_name == constraint


def test_the_finite_checks_cover_every_numeric_column(sales_db: str) -> None:
    """Generic over the catalog: every numeric column of a base table has a check naming it
    together with 'NaN' (so a new numeric column cannot reopen the hole). Summary tables belong
    to the summaries' own file and are left out here."""
    with psycopg.connect(sales_db) as conn:
        columns = conn.execute(
            "select c.table_name, c.column_name from information_schema.columns as c"
            " where c.table_schema = 'sales' and c.data_type = 'numeric'"
            " and c.table_name in ('items', 'transactions', 'transaction_items')"
            " order by 1, 2"
        ).fetchall()
        checks = conn.execute(
            "select conrelid::regclass::text, pg_get_constraintdef(oid) from pg_constraint"
            " where contype = 'c' and connamespace = 'sales'::regnamespace"
        ).fetchall()
    uncovered = [
        (table, column)
        for table, column in columns
        if not any(
            rel == f"sales.{table}" and column in text and "'NaN'" in text for rel, text in checks
        )
    ]
    assert len(columns) == 6
    assert uncovered == []


def test_load_never_moves_an_id_sequence_backwards(with_members: str) -> None:
    """A concurrent online insert took id 50; loading ids 1-2 afterwards must not hand out
    id 3..50 again (that would fail later with a duplicate key)."""
    with psycopg.connect(with_members) as conn:
        conn.execute("select setval(pg_get_serial_sequence('sales.items', 'item_id'), 50)")
    assert _invoke("load-sales", str(GOOD))[0] == 0
    with psycopg.connect(with_members) as conn:
        row = conn.execute(
            "insert into sales.items (manufacturer_id, name, cost, weight_kg)"
            " values (1, 'Lid', 1.00, 0.100) returning item_id"
        ).fetchone()
    assert row == (51,)


def test_a_later_load_does_not_reissue_ids_of_deleted_rows(
    with_members: str, tmp_path: Path
) -> None:
    """After a load the sequence stood at max(id) + 1 with is_called = false, where
    pg_sequence_last_value() is null: the next load reset it to the new max(id) + 1, so
    the id of a never-sold item deleted in between was handed out again."""
    folder = tmp_path / "sales"
    folder.mkdir()
    (folder / "manufacturers.csv").write_text("manufacturer_id,name\n1,Acme\n")
    (folder / "items.csv").write_text(ITEMS_HEADER + "1,1,Kettle,20.00,1.500\n9,1,Lid,1.00,0.1\n")
    assert _invoke("load-sales", str(folder))[0] == 0
    with psycopg.connect(with_members) as conn:
        conn.execute("delete from sales.items where item_id = 9")  # never sold: allowed
    (folder / "items.csv").unlink()
    (folder / "manufacturers.csv").write_text("manufacturer_id,name\n2,Brio\n")
    assert _invoke("load-sales", str(folder))[0] == 0
    with psycopg.connect(with_members) as conn:
        row = conn.execute(
            "insert into sales.items (manufacturer_id, name, cost, weight_kg)"
            " values (1, 'Mug', 5.00, 0.300) returning item_id"
        ).fetchone()
    assert row == (10,)


def test_missing_folder_is_a_usage_error(db_env: str, tmp_path: Path) -> None:
    assert _invoke("load-sales", str(tmp_path / "nope")) == (
        2,
        "",
        f"Error: {tmp_path / 'nope'} does not exist or is not a folder\n",
    )


def test_folder_without_known_files(db_env: str, tmp_path: Path) -> None:
    code, _, err = _invoke("load-sales", str(tmp_path))
    assert code == 1
    assert err == (
        "Error: none of manufacturers.csv, items.csv, transactions.csv, transaction_items.csv"
        f" found in {tmp_path}; nothing was loaded\n"
    )
