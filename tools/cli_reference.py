"""Write the CLI reference into docs/cli.md: the exit codes, then every command's ``--help``.

``python tools/cli_reference.py DOCS_DIR`` (part of ``make docs``) rewrites the block this tool
owns in ``DOCS_DIR/cli.md`` (see tools/generated.py); the rest of the file is written by hand.
The exit codes come from the docstring of :mod:`shopdata.errors`, where they are defined.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generated import splice

from shopdata import errors
from shopdata.cli import app

TOOL = "cli_reference"
DOCUMENT = "cli.md"


def commands(command: Any, path: list[str]) -> list[list[str]]:
    """Every command path, depth first, groups before their commands."""
    found = [path]
    if hasattr(command, "commands"):  # a group
        for name in sorted(command.commands):
            found += commands(command.commands[name], [*path, name])
    return found


def help_text(path: list[str]) -> str:
    env = {**os.environ, "TYPER_USE_RICH": "0", "COLUMNS": "100", "NO_COLOR": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "shopdata.cli", *path, "--help"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    return out.replace("python -m shopdata.cli", "shopdata").rstrip()


def exit_code_table() -> str:
    """The table of exit codes in :mod:`shopdata.errors`' docstring, as it is written there."""
    lines = (errors.__doc__ or "").splitlines()
    rules = [i for i, line in enumerate(lines) if line.startswith("=====")]
    if len(rules) != 3:
        raise ValueError("shopdata.errors' docstring lost its table of exit codes")
    return "\n".join(lines[rules[0] : rules[2] + 1])


def render() -> str:
    parts = [
        "## Exit codes",
        "",
        "Every command reports a failure as one line `Error: ...` on stderr and exits with one",
        "of these codes (defined in `src/shopdata/errors.py`):",
        "",
        "```text",
        exit_code_table(),
        "```",
        "",
        "The one exception: arguments the argument parser itself refuses (an unknown option or",
        "command, a value out of range or of the wrong type) are shown in Typer's framed box with",
        "the command's usage, and exit with code 2 before the command runs.",
        "",
        "## Commands",
        "",
    ]
    for path in commands(typer.main.get_command(app), []):
        title = " ".join(["shopdata", *path])
        parts += [f"### `{title}`", "", "```text", help_text(path), "```", ""]
    return "\n".join(parts)


def write(docs: Path) -> Path:
    """Refresh the block in ``docs/cli.md``; return the file."""
    path = docs / DOCUMENT
    path.write_text(splice(path.read_text(encoding="utf-8"), TOOL, render()), encoding="utf-8")
    return path


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(f"usage: tools/{TOOL}.py DOCS_DIR", file=sys.stderr)
        return 2
    print(f"wrote {write(Path(argv[0]))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
