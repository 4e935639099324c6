"""``make docs``: every generated document and picture, from one list.

Each generator is ``tools/<tool>.py DOCS_DIR`` and writes only the files listed for it here,
under ``DOCS_DIR``. ``tests/test_generated_docs.py`` reads the same list, regenerates every file
into a scratch copy of ``docs/`` and fails, naming ``make docs``, when a committed one differs:
text exactly, pictures within the tolerance it documents. Generated Markdown marks its block
with the convention of tools/generated.py.

``python tools/make_docs.py [DOCS_DIR] [--only TOOL ...]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
REPO = TOOLS.parent


@dataclass(frozen=True)
class Generator:
    """``tools/<tool>.py`` and the files it writes, relative to the docs folder."""

    tool: str
    outputs: tuple[str, ...]
    needs: str = ""  # what it runs against besides the code: "database", "browser"


GENERATORS: tuple[Generator, ...] = (
    Generator("cli_reference", ("cli.md",)),
    Generator("erd", ("erd.md", "erd.png"), needs="database"),
    Generator("access_docs", ("access.md", "access-matrix.png")),
    Generator(
        "architecture_diagrams",
        ("architecture/image-processing.png", "architecture/image-processing-delivery.png"),
    ),
    Generator(
        "screenshots",
        (
            "screenshots/covid-dashboard.png",
            "screenshots/covid-2023-reporting-pauses.png",
            "screenshots/covid-log-scale.png",
            "screenshots/covid-phone.png",
            "screenshots/covid-phone-2023.png",
        ),
        needs="browser",
    ),
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Regenerate every generated doc and picture.")
    parser.add_argument("docs", nargs="?", type=Path, default=REPO / "docs")
    parser.add_argument(
        "--only",
        action="append",
        choices=[g.tool for g in GENERATORS],
        help="run only this generator (repeatable)",
    )
    args = parser.parse_args(argv)
    for generator in GENERATORS:
        if args.only and generator.tool not in args.only:
            continue
        print(f"== tools/{generator.tool}.py", flush=True)
        done = subprocess.run(
            [sys.executable, str(TOOLS / f"{generator.tool}.py"), str(args.docs)], check=False
        )
        if done.returncode != 0:
            print(
                f"Error: tools/{generator.tool}.py failed (exit {done.returncode})", file=sys.stderr
            )
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
