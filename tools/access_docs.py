"""Render docs/access.md's generated block and docs/access-matrix.png from the access matrix.

``python tools/access_docs.py docs`` (part of ``make docs``) after editing
``src/shopdata/access/matrix.yaml``; tests/test_generated_docs.py and
tests/access/test_matrix_file.py fail while the committed docs differ from what this renders.
A docs generator, not runtime code: it lives in tools/ and ships in no wheel.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generated import END, begin

from shopdata.access.matrix import (
    OPERATIONS,
    Matrix,
    MatrixError,
    Operation,
    load_matrix,
)

# The markers of every generated block (tools/generated.py).
GENERATED_BEGIN = begin("access_docs")
GENERATED_END = END

_LETTER = {"select": "S", "insert": "I", "update": "U", "delete": "D", "truncate": "T"}


def _cell_text(matrix: Matrix, team: str, relation: str, column: str | None) -> str:
    rel = matrix.relations[relation]
    if column is None:
        ops: tuple[Operation, ...] = ("delete", "truncate")
        allowed = [op.upper() for op in ops if matrix.table_allowed(team, relation, op)]
    else:
        ops = ("select",) if rel.kind == "view" else ("select", "insert", "update")
        allowed = [op.upper() for op in ops if matrix.column_allowed(team, relation, op, column)]
    return ", ".join(allowed) if allowed else "-"


def render_markdown(matrix: Matrix) -> str:
    """The generated part of ``docs/access.md``: teams, schemas, then one table per relation."""
    teams = list(matrix.teams)
    out: list[str] = [GENERATED_BEGIN, "", "### Teams", ""]
    out.append("| team | what it does | role settings (copied onto each login role) |")
    out.append("|---|---|---|")
    for name, team in matrix.teams.items():
        settings = (
            ", ".join(
                f"`{k} = {', '.join(v) if isinstance(v, list) else v}`"
                for k, v in team.settings.items()
            )
            or "-"
        )
        out.append(f"| `{name}` | {team.description} | {settings} |")
    out += ["", "### Schemas", "", "| schema | USAGE | CREATE | why |", "|---|---|---|---|"]
    for name, schema in matrix.schemas.items():
        usage = ", ".join(f"`{t}`" for t in schema.usage) or "-"
        out.append(f"| `{name}` | {usage} | owner only | {schema.why} |")
    out += [
        "",
        "### Tables and views",
        "",
        "Each cell lists what the team may do: `SELECT`, `INSERT`, `UPDATE` per column (a row",
        "can be inserted when every column it sets is insertable); the *(rows)* line holds",
        "`DELETE` and `TRUNCATE`. `-` means denied. Views are read-only for every team.",
    ]
    for name, relation in matrix.relations.items():
        out += ["", f"#### `{name}` ({relation.kind})", "", relation.why, ""]
        if relation.row_security:
            out += [f"**Row-level security:** {relation.row_security}", ""]
        out.append("| column | " + " | ".join(f"`{t}`" for t in teams) + " |")
        out.append("|---|" + "---|" * len(teams))
        if relation.kind == "table":
            row = [_cell_text(matrix, t, name, None) for t in teams]
            out.append("| *(rows)* | " + " | ".join(row) + " |")
        for column in relation.columns:
            row = [_cell_text(matrix, t, name, column) for t in teams]
            out.append(f"| `{column}` | " + " | ".join(row) + " |")
    out += ["", GENERATED_END]
    return "\n".join(out)


def splice_markdown(document: str, generated: str) -> str:
    """Replace the generated block of ``document``; raise if the markers are missing."""
    start = document.find(GENERATED_BEGIN)
    end = document.find(GENERATED_END)
    if start < 0 or end < start:
        raise MatrixError("docs/access.md: generated-block markers not found")
    return document[:start] + generated + document[end + len(GENERATED_END) :]


def render_png(matrix: Matrix, path: Path) -> None:
    """A heat-map picture of the matrix: one row per column, one block of cells per team."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    teams = list(matrix.teams)
    rows: list[str] = []
    grid: list[list[int]] = []
    for name, relation in matrix.relations.items():
        targets: list[str | None] = [None, *relation.columns]
        row_ops = (
            ("delete", "truncate") if relation.kind == "table" else ("insert", "update", "delete")
        )
        for column in targets:
            label = f"{name}  (rows)" if column is None else f"{name}.{column}"
            rows.append(label)
            line: list[int] = []
            for team in teams:
                for op in OPERATIONS:
                    if column is None:
                        applicable = op in row_ops
                        ok = applicable and matrix.table_allowed(team, name, op)
                    else:
                        applicable = op in ("select", "insert", "update") and (
                            relation.kind == "table" or op == "select"
                        )
                        ok = applicable and matrix.column_allowed(team, name, op, column)
                    line.append(2 if ok else (1 if applicable else 0))
            grid.append(line)

    height = 0.22 * len(rows) + 1.6
    fig, ax = plt.subplots(figsize=(11, height), dpi=110)
    cmap = ListedColormap(["#f2f2f2", "#d9534f", "#3c9d5d"])
    ax.imshow(grid, cmap=cmap, vmin=0, vmax=2, aspect="auto", interpolation="nearest")
    ax.set_yticks(range(len(rows)), labels=rows, fontsize=7)
    ax.set_xticks(
        range(len(teams) * len(OPERATIONS)),
        labels=[_LETTER[op] for _ in teams for op in OPERATIONS],
        fontsize=8,
    )
    ax.xaxis.tick_top()
    for i, team in enumerate(teams):
        centre = i * len(OPERATIONS) + (len(OPERATIONS) - 1) / 2
        ax.text(centre, -2.2, team, ha="center", va="bottom", fontsize=10, weight="bold")
        if i:
            ax.axvline(i * len(OPERATIONS) - 0.5, color="black", linewidth=1.5)
    ax.set_xticks([x - 0.5 for x in range(len(teams) * len(OPERATIONS))], minor=True)
    ax.set_yticks([y - 0.5 for y in range(len(rows))], minor=True)
    ax.grid(which="minor", color="white", linewidth=0.6)
    ax.tick_params(which="minor", length=0)
    fig.suptitle(
        "Team access matrix: green = allowed, red = denied, grey = not applicable\n"
        "S select, I insert, U update (per column); D delete, T truncate (rows line)",
        fontsize=9,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def write_docs(matrix: Matrix, docs_dir: Path) -> None:
    """Refresh the generated block of ``access.md`` and the picture in ``docs_dir``."""
    doc = docs_dir / "access.md"
    doc.write_text(
        splice_markdown(doc.read_text(encoding="utf-8"), render_markdown(matrix)), encoding="utf-8"
    )
    render_png(matrix, docs_dir / "access-matrix.png")


def main(argv: list[str] | None = None) -> int:
    """``python tools/access_docs.py DOCS_DIR``: regenerate the docs from the matrix."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python tools/access_docs.py DOCS_DIR", file=sys.stderr)
        return 2
    try:
        write_docs(load_matrix(), Path(args[0]))
    except MatrixError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
