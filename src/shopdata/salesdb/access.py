"""The team permission matrix: one machine-readable source for SQL review, docs and the proof.

``db/access/matrix.yaml`` says, for every team, table/view and column, which of SELECT, INSERT,
UPDATE, DELETE and TRUNCATE is allowed. ``db/initdb/090_roles.sql`` implements it by hand (so a
reviewer reads real SQL, not generated SQL), ``tests/access`` connects as real login users of each
team and proves that the database does exactly what this file says, and ``docs/access.md`` plus
``docs/access-matrix.png`` are rendered from it. The docs and the tests therefore cannot drift
apart: both read the same file.

Run ``python -m shopdata.salesdb.access docs`` to regenerate the docs after editing the matrix.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

#: The repository root (``src/shopdata/salesdb/access.py`` -> four levels up).
REPO_ROOT = Path(__file__).resolve().parents[3]
MATRIX_PATH = REPO_ROOT / "db" / "access" / "matrix.yaml"

Operation = Literal["select", "insert", "update", "delete", "truncate"]
#: Operations in the order the docs and the tests list them.
OPERATIONS: tuple[Operation, ...] = ("select", "insert", "update", "delete", "truncate")
#: Operations that PostgreSQL can grant per column.
COLUMN_OPERATIONS: tuple[Operation, ...] = ("select", "insert", "update")

if TYPE_CHECKING:
    import psycopg

GENERATED_BEGIN = "<!-- BEGIN GENERATED FROM db/access/matrix.yaml: do not edit by hand -->"
GENERATED_END = "<!-- END GENERATED FROM db/access/matrix.yaml -->"


class MatrixError(ValueError):
    """The matrix file is missing or malformed; the message names the file and the problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Team(_Strict):
    """A NOLOGIN group role; people get LOGIN roles that are members of it."""

    description: str
    #: Role-level settings. PostgreSQL does not inherit ``ALTER ROLE ... SET`` through
    #: membership, so ``shopdata db add-user`` copies them onto every login role of the team.
    #: A list is a list-valued setting (``search_path``), each element quoted on its own.
    settings: dict[str, str | list[str]] = Field(default_factory=dict)
    connection_limit: int = Field(-1, ge=-1)


class Grant(_Strict):
    """What one team may do on one relation.

    ``True`` means the privilege on the whole table (new columns included), a list means those
    columns only, ``False`` means nothing.
    """

    select: bool | list[str] = False
    insert: bool | list[str] = False
    update: bool | list[str] = False
    delete: bool = False
    truncate: bool = False


class Relation(_Strict):
    """A table or view and every team's grants on it."""

    kind: Literal["table", "view"]
    #: Every column, in table order. The proof compares this with the live catalog, so a new
    #: column cannot appear without someone deciding who may see it.
    columns: list[str]
    why: str
    #: Row-level security on top of the grants, in words (implemented in 090_roles.sql).
    row_security: str | None = None
    grants: dict[str, Grant] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _columns_exist(self) -> Relation:
        for team, grant in self.grants.items():
            for op in COLUMN_OPERATIONS:
                value = getattr(grant, op)
                if isinstance(value, list):
                    unknown = [c for c in value if c not in self.columns]
                    if unknown:
                        raise ValueError(
                            f"{team}.{op} names unknown column(s) {', '.join(unknown)}"
                        )
            if self.kind == "view" and (grant.insert or grant.update or grant.delete):
                raise ValueError(f"{team}: views are read-only in this policy")
            if self.kind == "view" and grant.truncate:
                raise ValueError(f"{team}: a view cannot be truncated")
        return self


class Schema(_Strict):
    """Who may look up objects in a schema (USAGE); nobody but the owner gets CREATE."""

    usage: list[str]
    why: str
    #: A schema whose relations a tool builds (the dbt marts): they are not listed one by one;
    #: every relation in it may be read whole by ``read_by`` and by nobody else, and written by
    #: no team. The audit checks each live relation against that rule.
    built_by: str | None = None
    read_by: list[str] = Field(default_factory=list)


class Matrix(_Strict):
    """The whole policy: teams, schemas, relations."""

    teams: dict[str, Team]
    schemas: dict[str, Schema]
    relations: dict[str, Relation]

    @model_validator(mode="after")
    def _teams_known(self) -> Matrix:
        for schema_name, schema in self.schemas.items():
            for team in [*schema.usage, *schema.read_by]:
                if team not in self.teams:
                    raise ValueError(f"schema {schema_name}: unknown team {team!r}")
        for name, relation in self.relations.items():
            schema_name, _, _ = name.partition(".")
            if schema_name not in self.schemas or "." not in name:
                raise ValueError(f"relation {name!r} must be schema-qualified with a listed schema")
            for team in relation.grants:
                if team not in self.teams:
                    raise ValueError(f"relation {name}: unknown team {team!r}")
        return self

    def grant(self, team: str, relation: str) -> Grant:
        """The team's grant on a relation (nothing if the matrix does not mention the team)."""
        return self.relations[relation].grants.get(team, Grant())

    def column_allowed(self, team: str, relation: str, op: Operation, column: str) -> bool:
        """Whether ``team`` may apply ``op`` (select/insert/update) to ``column``."""
        value = getattr(self.grant(team, relation), op)
        return column in value if isinstance(value, list) else bool(value)

    def table_allowed(self, team: str, relation: str, op: Operation) -> bool:
        """Whether ``op`` works on the whole row: every column for select/insert/update."""
        value = getattr(self.grant(team, relation), op)
        if isinstance(value, list):
            return set(value) == set(self.relations[relation].columns)
        return bool(value)

    def has_any(self, team: str, relation: str) -> bool:
        """Whether the team holds any privilege at all on the relation."""
        grant = self.grant(team, relation)
        return any(bool(getattr(grant, op)) for op in OPERATIONS)


def load_matrix(path: Path = MATRIX_PATH) -> Matrix:
    """Read and validate the matrix; raise :class:`MatrixError` with a one-line reason."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MatrixError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise MatrixError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    try:
        return Matrix.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise MatrixError(
            f"{path}: {where}: {message}" if where else f"{path}: {message}"
        ) from None


# ---------------------------------------------------------------------------------------------
# Cells: the flat view of the matrix that both the docs and the proof iterate over.


@dataclass(frozen=True)
class Cell:
    """One decision: may ``team`` do ``op`` on ``relation`` (``column`` or the whole row)?"""

    team: str
    relation: str
    op: Operation
    column: str | None
    allowed: bool


def cells(matrix: Matrix) -> Iterator[Cell]:
    """Every decision, team by team and relation by relation.

    Per table: ``SELECT *``; then SELECT, INSERT and UPDATE of each column (the grain at which
    PostgreSQL grants them); then DELETE and TRUNCATE of rows. Per view: ``SELECT *``, SELECT of
    each column, and INSERT, UPDATE, DELETE through the view (views are read-only here).
    """
    for team in matrix.teams:
        for name, relation in matrix.relations.items():
            yield Cell(team, name, "select", None, matrix.table_allowed(team, name, "select"))
            column_ops = COLUMN_OPERATIONS if relation.kind == "table" else ("select",)
            for column in relation.columns:
                for op in column_ops:
                    allowed = matrix.column_allowed(team, name, op, column)
                    yield Cell(team, name, op, column, allowed)
            row_ops: tuple[Operation, ...] = (
                ("delete", "truncate")
                if relation.kind == "table"
                else ("insert", "update", "delete")
            )
            for op in row_ops:
                yield Cell(team, name, op, None, matrix.table_allowed(team, name, op))


# ---------------------------------------------------------------------------------------------
# Audit: compare a live database's catalog with the matrix (for a production server, where the
# proof's test users cannot be created). Read-only; needs a role that can read pg_catalog.

SQL_DIR = REPO_ROOT / "db" / "access" / "sql"
#: Privileges no team may hold anywhere (the matrix has no column for them).
NEVER: tuple[str, ...] = ("REFERENCES", "TRIGGER", "MAINTAIN")


def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def audit(conn: psycopg.Connection[tuple[object, ...]], matrix: Matrix) -> tuple[int, list[str]]:
    """Every decision of the matrix, looked up in the catalog of ``conn``'s database.

    Returns the number of decisions checked and one line per difference (empty = compliant).
    Relations or columns missing from either side are differences too.
    """
    problems: list[str] = []
    teams = list(matrix.teams)
    rows = conn.execute(
        "select rolname::text from pg_catalog.pg_roles where rolname = any(%s)", (teams,)
    ).fetchall()
    missing_roles = sorted(set(teams) - {str(r[0]) for r in rows})
    if missing_roles:
        return 0, [f"team role {t} does not exist (apply 090_roles.sql)" for t in missing_roles]
    schemas = list(matrix.schemas)
    live_rows = conn.execute(_sql("live_relations"), {"schemas": schemas}).fetchall()
    live: dict[str, tuple[str, list[str]]] = {}
    for relation_name, kind_name, column_names in live_rows:
        assert isinstance(column_names, list)
        live[str(relation_name)] = (str(kind_name), [str(c) for c in column_names])
    built = {n for n, schema in matrix.schemas.items() if schema.built_by is not None}
    for name in sorted(set(live) - set(matrix.relations)):
        if name.partition(".")[0] not in built:
            problems.append(f"{name} exists but is not in the matrix: decide who may use it")
    for name in sorted(set(matrix.relations) - set(live)):
        problems.append(f"{name} is in the matrix but not in the database")
    checked = len(live.keys() | matrix.relations.keys())

    questions: list[tuple[str, str, str | None, str, bool]] = []
    for name, relation in matrix.relations.items():
        if name not in live:
            continue
        kind, columns = live[name]
        if (kind, columns) != (relation.kind, relation.columns):
            problems.append(
                f"{name}: the database has {kind} columns ({', '.join(columns)}), the matrix "
                f"lists {relation.kind} columns ({', '.join(relation.columns)})"
            )
            continue
        for cell in cells(matrix):
            if cell.relation != name or (cell.op == "select" and cell.column is None):
                continue  # SELECT * is implied by the per-column answers
            questions.append((cell.team, name, cell.column, cell.op.upper(), cell.allowed))
        for team in teams:
            questions += [(team, name, None, privilege, False) for privilege in NEVER]
    for name in sorted(set(live) - set(matrix.relations)):
        schema = matrix.schemas[name.partition(".")[0]]
        if schema.built_by is None:
            continue
        for team in teams:
            questions.append((team, name, None, "SELECT", team in schema.read_by))
            for privilege in ("INSERT", "UPDATE", "DELETE", "TRUNCATE", *NEVER):
                questions.append((team, name, None, privilege, False))
    if questions:
        answers = conn.execute(
            _sql("privileges"),
            {
                "roles": [q[0] for q in questions],
                "relations": [q[1] for q in questions],
                "columns": [q[2] for q in questions],
                "privileges": [q[3] for q in questions],
            },
        ).fetchall()
        for (team, name, column, privilege, expected), (_, granted) in zip(
            questions, answers, strict=True
        ):
            if bool(granted) != expected:
                target = f"{name}.{column}" if column else name
                verdict = "allows" if granted else "denies"
                wanted = "allows" if expected else "denies"
                problems.append(
                    f"{team} {privilege} {target}: the database {verdict}, the matrix {wanted}"
                )
    checked += len(questions)

    scope = conn.execute(
        _sql("scope_privileges"), {"roles": [*teams, "public"], "schemas": schemas}
    )
    for role, schema_name, usage, create, connect, temporary, db_create in scope.fetchall():
        expected_usage = role in matrix.schemas[str(schema_name)].usage
        facts = {
            f"USAGE on schema {schema_name}": (bool(usage), expected_usage),
            f"CREATE on schema {schema_name}": (bool(create), False),
        }
        if schema_name == schemas[0]:
            facts |= {
                "CONNECT on the database": (bool(connect), role != "public"),
                "TEMPORARY on the database": (bool(temporary), False),
                "CREATE on the database": (bool(db_create), False),
            }
        for what, (granted, expected) in facts.items():
            checked += 1
            if granted != expected:
                verdict = "holds" if granted else "lacks"
                problems.append(f"{role} {verdict} {what}, the matrix says the opposite")
    return checked, problems


# ---------------------------------------------------------------------------------------------
# Rendering.

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
    """``python -m shopdata.salesdb.access DOCS_DIR``: regenerate the docs from the matrix."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m shopdata.salesdb.access DOCS_DIR", file=sys.stderr)
        return 2
    try:
        write_docs(load_matrix(), Path(args[0]))
    except MatrixError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
