"""The access matrix's block in docs/access.md and docs/access-matrix.png (part of ``make docs``).

``python tools/access_docs.py DOCS_DIR`` renders both from ``db/access/matrix.yaml``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from shopdata.salesdb.access import MatrixError, load_matrix, write_docs

TOOL = "access_docs"


def write(docs: Path) -> list[Path]:
    """Refresh ``docs/access.md``'s block and ``docs/access-matrix.png``; return both."""
    write_docs(load_matrix(), docs)
    return [docs / "access.md", docs / "access-matrix.png"]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(f"usage: tools/{TOOL}.py DOCS_DIR", file=sys.stderr)
        return 2
    try:
        written = write(Path(argv[0]))
    except MatrixError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print("wrote " + " and ".join(str(path) for path in written))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
