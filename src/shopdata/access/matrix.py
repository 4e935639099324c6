"""The team permission matrix: one machine-readable source for SQL review, docs and the proof.

``matrix.yaml`` (beside this module) says, for every team, table/view and column, which of SELECT,
INSERT, UPDATE, DELETE and TRUNCATE is allowed. ``salesdb/sql/initdb/090_roles.sql`` implements it
by hand (so a reviewer reads real SQL, not generated SQL), ``tests/access`` connects as real login
users of each team and proves that the database does exactly what this file says, and
``docs/access.md`` plus ``docs/access-matrix.png`` are rendered from it
(``python tools/access_docs.py docs``). The docs and the tests therefore cannot drift apart: both
read the same file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shopdata.resources import package_path

#: The policy, shipped inside the package (an installed wheel reads the same file).
MATRIX_PATH = package_path("shopdata.access", "matrix.yaml")

Operation = Literal["select", "insert", "update", "delete", "truncate"]
#: Operations in the order the docs and the tests list them.
OPERATIONS: tuple[Operation, ...] = ("select", "insert", "update", "delete", "truncate")
#: Operations that PostgreSQL can grant per column.
COLUMN_OPERATIONS: tuple[Operation, ...] = ("select", "insert", "update")


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
