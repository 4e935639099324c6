"""Entity-relationship diagram of the live ``sales`` schema: Mermaid (docs/erd.md) and PNG.

``python tools/erd.py DOCS_DIR`` (part of ``make docs``) builds a scratch database from the init
files on the sales database server, reads the catalog (tables, columns, keys, foreign keys, table
comments) and writes ``DOCS_DIR/erd.md`` (GitHub renders the Mermaid block) and
``DOCS_DIR/erd.png`` (Graphviz ``dot``).
tests/test_generated_docs.py renders both again from a fresh database and requires them to equal
the committed files, so the diagram cannot drift from the DDL.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generated import wrap

from shopdata.salesdb.queries import read_sql

TOOL = "erd"


@dataclass
class Column:
    name: str
    type: str
    not_null: bool
    primary_key: bool
    foreign_key: bool


@dataclass
class Table:
    name: str
    comment: str
    columns: list[Column] = field(default_factory=list)


@dataclass(frozen=True)
class Relation:
    child: str
    parent: str
    columns: str
    nullable: bool
    one_to_one: bool


@dataclass
class Schema:
    tables: list[Table]
    relations: list[Relation]


def introspect(url: str) -> Schema:
    """Read tables, columns and foreign keys of schema ``sales`` from the catalog."""
    with psycopg.connect(url) as conn:
        tables: dict[str, Table] = {}
        for name, comment in conn.execute(read_sql("salesdb/erd_tables.sql")):
            tables[name] = Table(name, comment or "")
        for table, column, type_, not_null, pk, fk in conn.execute(
            read_sql("salesdb/erd_columns.sql")
        ):
            tables[table].columns.append(Column(column, type_, not_null, pk, fk))
        relations = [
            Relation(child, parent, cols, nullable, one_to_one)
            for child, parent, cols, nullable, one_to_one in conn.execute(
                read_sql("salesdb/erd_foreign_keys.sql")
            )
        ]
    return Schema(list(tables.values()), relations)


_SHORT_TYPES = {"timestamp with time zone": "timestamptz"}


def _short_type(sql_type: str) -> str:
    """``timestamp with time zone`` -> ``timestamptz``; enums without their schema."""
    short = _SHORT_TYPES.get(sql_type, sql_type)
    return short.removeprefix("sales.")


def _mermaid_type(sql_type: str) -> str:
    """Mermaid attribute types are single words: ``numeric(12,2)`` -> ``numeric``."""
    return _short_type(sql_type).split("(")[0]


def render_mermaid(schema: Schema) -> str:
    """The ``erDiagram`` source (stable order: tables and columns as the catalog lists them)."""
    lines = ["erDiagram"]
    for table in schema.tables:
        lines.append(f"    {table.name} {{")
        for col in table.columns:
            keys = ",".join(k for k, on in (("PK", col.primary_key), ("FK", col.foreign_key)) if on)
            notes = [col.type] if "(" in col.type else []
            notes += [] if col.not_null else ["nullable"]
            key_part = f" {keys}" if keys else ""
            note_part = f' "{", ".join(notes)}"' if notes else ""
            lines.append(f"        {_mermaid_type(col.type)} {col.name}{key_part}{note_part}")
        lines.append("    }")
    for rel in schema.relations:
        left = "|o" if rel.nullable else "||"
        right = "o|" if rel.one_to_one else "o{"
        lines.append(f'    {rel.parent} {left}--{right} {rel.child} : "{rel.columns}"')
    return "\n".join(lines) + "\n"


def render_markdown(schema: Schema) -> str:
    """docs/erd.md: the diagram, the picture, and each table's grain and invariants."""
    parts = [
        "![ERD of the sales schema](erd.png)",
        "",
        "```mermaid",
        render_mermaid(schema).rstrip("\n"),
        "```",
        "",
        "## Tables: grain and invariants",
        "",
    ]
    for table in schema.tables:
        parts += [f"### `sales.{table.name}`", "", table.comment, ""]
    head = [
        "# Sales database: entity-relationship diagram",
        "",
        "Generated whole from the live schema by `tools/erd.py` (`make docs`); a test fails when",
        "this file no longer matches the init files.",
        "",
        "",
    ]
    return "\n".join(head) + wrap(TOOL, "\n".join(parts)) + "\n"


def render_dot(schema: Schema) -> str:
    """Graphviz source for the PNG: one HTML-table node per table, one edge per foreign key."""
    out = [
        "digraph sales {",
        '  graph [rankdir=LR, fontname="Helvetica", bgcolor="white", nodesep=0.4, ranksep=0.9];',
        '  node [shape=plaintext, fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9, color="#555555", arrowhead=crow, '
        "arrowtail=tee, dir=both];",
    ]
    for table in schema.tables:
        summary = table.name in {"member_spending", "item_sales"}
        colour = "#FCE8C8" if summary else "#CFE3F7"
        rows = [
            f'<TR><TD BGCOLOR="{colour}" COLSPAN="2"><B>sales.{escape(table.name)}</B></TD></TR>'
        ]
        for col in table.columns:
            keys = " ".join(k for k, on in (("PK", col.primary_key), ("FK", col.foreign_key)) if on)
            name = f"<U>{escape(col.name)}</U>" if col.primary_key else escape(col.name)
            nullable = "" if col.not_null else " ?"
            key_cell = f' <FONT COLOR="#888888">{escape(keys)}</FONT>' if keys else ""
            rows.append(
                f'<TR><TD ALIGN="LEFT" PORT="{escape(col.name)}">{name}{key_cell}</TD>'
                f'<TD ALIGN="LEFT"><FONT COLOR="#444444">'
                f"{escape(_short_type(col.type))}{nullable}</FONT></TD></TR>"
            )
        label = '<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">'
        out.append(f"  {table.name} [label=<{label}{''.join(rows)}</TABLE>>];")
    for rel in schema.relations:
        style = "dashed" if rel.one_to_one else "solid"
        out.append(
            f'  {rel.parent} -> {rel.child} [label="{rel.columns}", style={style}, '
            f"arrowhead={'teeodot' if rel.one_to_one else 'crowodot'}];"
        )
    out.append("}")
    return "\n".join(out) + "\n"


def write_png(dot_source: str, target: Path) -> None:
    """Render with Graphviz ``dot`` (installed by scripts/install-system-deps.sh)."""
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError("Graphviz `dot` not found: run make system-deps")
    subprocess.run(
        [dot, "-Tpng", "-Gdpi=110", "-o", str(target)],
        input=dot_source.encode(),
        check=True,
    )


def write(docs: Path, url: str) -> list[Path]:
    """Write ``erd.md`` and ``erd.png`` into ``docs`` from the schema of the database at ``url``."""
    schema = introspect(url)
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "erd.md").write_text(render_markdown(schema), encoding="utf-8")
    write_png(render_dot(schema), docs / "erd.png")
    return [docs / "erd.md", docs / "erd.png"]


def main(argv: list[str]) -> int:
    """``python tools/erd.py DOCS_DIR``: regenerate erd.md and erd.png from the init files."""
    from shopdata.config import get_settings
    from shopdata.salesdb.runtime import bring_up, target
    from shopdata.salesdb.server import create_database_from_init, drop_database

    if len(argv) != 1:
        print(f"usage: tools/{TOOL}.py DOCS_DIR", file=sys.stderr)
        return 2
    settings = get_settings()
    tgt = target(settings.database_url, settings.db)
    bring_up(tgt)
    # A scratch database built from the init files right now, so the diagram shows the DDL as it
    # is in the working tree, not whatever an older local database still holds.
    scratch = f"erd_{os.getpid()}"
    url = create_database_from_init(tgt.admin_url(), scratch)
    try:
        written = write(Path(argv[0]), url)
    finally:
        drop_database(tgt.admin_url(), scratch)
    print("wrote " + " and ".join(str(path) for path in written))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
