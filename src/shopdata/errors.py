"""How every ``shopdata`` command reports a failure: one line on stderr, one exit code.

A failing command prints one line ``Error: <what went wrong>`` on stderr (never a traceback) and
exits with one of these codes, the same in every component:

=====  ==================  =====================================================================
code   name                meaning
=====  ==================  =====================================================================
0                          done
1      ``EXIT_FAILURE``    the work could not be done (bad data, an unreachable database or API,
                           no trained model, differences found by a check), or it was done but
                           needs a look (``members run``: some files went to quarantine)
2      ``EXIT_USAGE``      bad arguments, options or settings; nothing was done
3      ``EXIT_LOCKED``     ``members run``: another run holds the lock; nothing was done
3      ``EXIT_SUSPECT``    ``covid fetch``: fetched and cached, but some counts look wrong
4      ``EXIT_INTERNAL``   ``members run`` crashed (a bug, a full disk); the next run recovers
=====  ==================  =====================================================================

Arguments the parser itself refuses (an unknown option or command, a value out of range or of
the wrong type) are the exception: they are shown in Typer's framed box with the command's
usage, and also exit with code 2, before the command starts.

Only the command layer decides a code: the components' own exceptions say what went wrong and
carry no exit code; a command catches them and calls :func:`fail`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    import psycopg

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_SUSPECT = 3
EXIT_INTERNAL = 4


class SettingsError(ValueError):
    """A setting (a ``SHOPDATA_*`` variable, ``DATABASE_URL`` or a ``.env`` line) is invalid.

    Raised by :func:`shopdata.config.get_settings` with a one-line message; the root command
    turns it into ``Error: ...`` and :data:`EXIT_USAGE`, whichever component read the settings.
    """


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    """Print ``Error: message`` on stderr and stop the command with exit code ``code``.

    A message of several lines (a server's or a tool's own output) is joined into one line.
    """
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    typer.echo(f"Error: {' | '.join(lines)}", err=True)
    raise typer.Exit(code)


def first_line(error: BaseException) -> str:
    """The first line of an exception's message (psycopg's add a DETAIL/HINT), or its type."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def database_problem(error: psycopg.OperationalError) -> str:
    """One line for an operational database error: the server refused, or was not reached.

    With a SQLSTATE the server answered (a deadlock, a lock or statement timeout...), so it was
    reached and the transaction rolled back; without one it could not be reached at all.
    """
    if error.sqlstate:
        return f"{first_line(error)} (SQLSTATE {error.sqlstate}); nothing was changed"
    return f"cannot reach the database: {first_line(error)}"
