"""The team audit: compare a live database's catalog with the matrix.

For a production server, where the proof's test users cannot be created (``shopdata db
audit-access``; the people half is :mod:`shopdata.access.people_audit`). Read-only; needs a role
that can read pg_catalog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopdata.access.matrix import Matrix, cells
from shopdata.resources import read_sql

if TYPE_CHECKING:
    import psycopg

#: Privileges no team may hold anywhere (the matrix has no column for them).
NEVER: tuple[str, ...] = ("REFERENCES", "TRIGGER", "MAINTAIN")


def _sql(name: str) -> str:
    return read_sql("shopdata.access", f"{name}.sql")


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
