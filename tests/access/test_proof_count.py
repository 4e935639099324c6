"""The figure the docs quote for the access proof is asserted, and counts only matrix decisions.

The headline number is the number of decisions ``src/shopdata/access/matrix.yaml`` makes (one per team x
relation x column x operation, allowed or denied), each tried once by ``test_matrix_proof``. The
refusals PostgreSQL gives every non-superuser anyway (CREATE DATABASE, ALTER SYSTEM, reading
server files, ...) are checked too, but they say nothing about the matrix and are not counted in
it. When the schema or the matrix changes, the numbers in README.md and docs/access.md must be
updated with it: the failure message gives the new ones.
"""

from __future__ import annotations

import re
from pathlib import Path

from shopdata.access.matrix import cells, load_matrix

from .test_matrix_proof import CELLS, _id

REPO = Path(__file__).resolve().parents[2]


def decision_counts() -> tuple[int, int]:
    """(allowed, denied) decisions of the matrix as it is now."""
    decisions = list(cells(load_matrix()))
    allowed = sum(1 for cell in decisions if cell.allowed)
    return allowed, len(decisions) - allowed


def test_the_proof_tries_every_decision_exactly_once() -> None:
    ids = [_id(cell) for cell in CELLS]
    assert len(ids) == len(set(ids))
    assert sum(decision_counts()) == len(CELLS)
    assert set(CELLS) == set(cells(load_matrix()))


def test_docs_quote_the_number_of_decisions() -> None:
    allowed, denied = decision_counts()
    text = (REPO / "docs" / "access.md").read_text(encoding="utf-8")
    quoted = {
        "allowed": re.search(r"^\| matrix cells allowed \| (\d+) \|", text, re.M),
        "denied": re.search(r"^\| matrix cells denied \| (\d+) \|", text, re.M),
        "total": re.search(r"^\| \*\*matrix decisions proven\*\* \| \*\*(\d+)\*\* \|", text, re.M),
        "intro": re.search(r"the proof: (\d+) matrix decisions", text),
    }
    found = {key: int(match.group(1)) if match else None for key, match in quoted.items()}
    expected = {
        "allowed": allowed,
        "denied": denied,
        "total": allowed + denied,
        "intro": allowed + denied,
    }
    assert found == expected, f"docs/access.md: update the proof's figures to {expected}"


def test_readme_quotes_the_number_of_decisions() -> None:
    total = sum(decision_counts())
    text = (REPO / "README.md").read_text(encoding="utf-8")
    quoted = [int(n.replace(",", "")) for n in re.findall(r"([\d,]+)\s+matrix\s+decisions", text)]
    assert quoted == [total, total], f"README.md: quote {total:,} matrix decisions (twice)"
