"""tools/erd.py reads the schema the init files build (tests/test_generated_docs.py checks that
the committed docs/erd.md and docs/erd.png are what it renders from it)."""

from __future__ import annotations

import erd  # tools/erd.py

from .helpers import HERE

DOCS = HERE.parents[1] / "docs"


def test_erd_covers_every_foreign_key(sales_db: str) -> None:
    schema = erd.introspect(sales_db)
    assert [(r.parent, r.child, r.columns, r.one_to_one) for r in schema.relations] == [
        ("items", "item_sales", "item_id", True),
        ("manufacturers", "items", "manufacturer_id", False),
        ("members", "member_spending", "membership_id", True),
        ("items", "transaction_items", "item_id", False),
        ("transactions", "transaction_items", "transaction_id", False),
        ("members", "transactions", "membership_id", False),
    ]


def test_committed_png_is_a_rendered_image() -> None:
    assert (DOCS / "erd.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_dot_source_renders(tmp_path: object) -> None:
    from pathlib import Path

    schema = erd.Schema(
        tables=[
            erd.Table("t", "Grain: one row per t.", [erd.Column("id", "bigint", True, True, False)])
        ],
        relations=[],
    )
    target = Path(str(tmp_path)) / "t.png"
    erd.write_png(erd.render_dot(schema), target)
    assert target.read_bytes()[:4] == b"\x89PNG"
