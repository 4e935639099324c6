"""`shopdata db add-user` and `shopdata db audit-access` (issue 4).

Only Typer is imported here: the access matrix (pydantic, YAML) and psycopg are imported when a
command runs, so that `shopdata --help` and every other command start fast.
"""

from __future__ import annotations

import typer


def add_user_command(
    name: str = typer.Argument(..., metavar="NAME", help="Login name of the person (a-z, 0-9, _)."),
    team: str = typer.Option(
        ..., "--team", "-t", help="Team role to join: logistics, analytics or sales."
    ),
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="Superuser (or CREATEROLE) URL. [default: DATABASE_URL, else the embedded server]",
        show_default=False,
    ),
) -> None:
    """Create a LOGIN role in a team with a generated password, printed once and stored nowhere."""
    import psycopg

    from shopdata.salesdb.access import MatrixError, load_matrix
    from shopdata.salesdb.connection import DatabaseError
    from shopdata.salesdb.users import UserError, add_user, connect_hint, validate

    def fail(message: str, code: int) -> typer.Exit:
        typer.echo(f"Error: {message}", err=True)
        return typer.Exit(code)

    try:
        matrix = load_matrix()
        validate(name, team, matrix)
        if database_url is None:
            from shopdata.config import get_settings
            from shopdata.salesdb.runtime import target

            settings = get_settings()
            database_url = target(settings.database_url, settings.db).url()
        with psycopg.connect(database_url, autocommit=True, connect_timeout=10) as conn:
            user = add_user(conn, name, team, matrix)
    except UserError as error:
        raise fail(str(error), error.exit_code) from None
    except (MatrixError, DatabaseError) as error:
        raise fail(str(error), 1) from None
    except psycopg.errors.InsufficientPrivilege as error:
        raise fail(f"not allowed to create roles: {error.diag.message_primary}", 1) from None
    except psycopg.OperationalError as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise fail(f"cannot reach the database: {first}", 1) from None
    except psycopg.Error as error:
        raise fail(f"the database refused: {error.diag.message_primary or error}", 1) from None
    typer.echo(f'Created LOGIN role "{user.name}" in team "{user.team}".')
    typer.echo(
        "Its password is shown this once and stored nowhere "
        "(the server keeps only a SCRAM-SHA-256 verifier):"
    )
    typer.echo("")
    typer.echo(f"    {user.password}")
    typer.echo("")
    typer.echo(f"Connect with: {connect_hint(database_url, user.name)}")


def audit_command(
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="Database to audit. [default: DATABASE_URL, else the embedded server]",
        show_default=False,
    ),
) -> None:
    """Check that a live database grants the teams exactly what db/access/matrix.yaml says."""
    import psycopg

    from shopdata.salesdb.access import MatrixError, audit, load_matrix
    from shopdata.salesdb.connection import DatabaseError, redact

    try:
        matrix = load_matrix()
        if database_url is None:
            from shopdata.config import get_settings
            from shopdata.salesdb.runtime import target

            settings = get_settings()
            database_url = target(settings.database_url, settings.db).url()
        with psycopg.connect(database_url, autocommit=True, connect_timeout=10) as conn:
            checked, problems = audit(conn, matrix)
    except (MatrixError, DatabaseError) as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(1) from None
    except psycopg.Error as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        typer.echo(f"Error: cannot audit the database: {first}", err=True)
        raise typer.Exit(1) from None
    for problem in problems:
        typer.echo(problem)
    if problems:
        typer.echo(
            f"Error: {len(problems)} difference(s) between {redact(database_url)} and "
            "db/access/matrix.yaml",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(
        f"{redact(database_url)}: {checked} decisions checked, all as db/access/matrix.yaml says"
    )
