"""Fixtures for the membership pipeline tests: landing/output folders and ways to run the CLI."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopdata.cli import app

REPO = Path(__file__).resolve().parents[2]
SETTLED = 60.0  # seconds: files landed by tests are older than the settle window
SAMPLES = REPO / "data" / "applications"
HEADER = "name,email,date_of_birth,mobile_no\n"


# As root, file permissions bind only once the capabilities that override them are dropped: the
# pipeline then meets a chmod-ed file as any other user would (CI runs as a normal user).
UNPRIVILEGED = (
    ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]
    if os.geteuid() == 0
    else []
)


def settle(path: Path, age: float = SETTLED) -> None:
    """Date a landed file back so that it is older than the settle window."""
    past = time.time() - age
    os.utime(path, (past, past))


class Workspace:
    """A landing folder and an output folder, with helpers to run the pipeline on them."""

    def __init__(self, root: Path) -> None:
        self.landing = root / "landing"
        self.output = root / "output"
        self.landing.mkdir()

    def land(self, name: str | bytes, content: str | bytes, *, settled: bool = True) -> Path:
        path = self.landing / os.fsdecode(name)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        if settled:
            settle(path)
        return path

    def land_samples(self) -> None:
        for sample in sorted(SAMPLES.glob("*.csv")):
            shutil.copy(sample, self.landing / sample.name)
            settle(self.landing / sample.name)

    def args(self, *extra: str) -> list[str]:
        return [
            "members",
            "run",
            "--landing",
            str(self.landing),
            "--output",
            str(self.output),
            *extra,
        ]

    def run(self, *extra: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(app, self.args("--quiet", *extra))
        return result.exit_code, result.stdout, result.stderr

    def run_process(
        self, *extra: str, env: dict[str, str] | None = None, unprivileged: bool = False
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                *(UNPRIVILEGED if unprivileged else []),
                sys.executable,
                "-m",
                "shopdata.cli",
                *self.args("--quiet", *extra),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            timeout=120,
        )

    def rows(self, kind: str) -> list[dict[str, str]]:
        """Every row of every output file of ``kind`` (successful/unsuccessful)."""
        rows: list[dict[str, str]] = []
        for path in sorted((self.output / kind).glob("date=*/hour=*/*.csv")):
            with path.open(newline="", encoding="utf-8") as handle:
                rows.extend(csv.DictReader(handle))
        return rows

    def files(self, folder: str) -> list[str]:
        base = self.output / folder
        return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())

    def landed(self) -> list[str]:
        return sorted(p.name for p in self.landing.iterdir())


@pytest.fixture(scope="session")
def workspace_class() -> type[Workspace]:
    """The Workspace class, for fixtures with a wider scope than ``ws``."""
    return Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)


@pytest.fixture
def applications() -> Callable[..., str]:
    """Build a CSV from rows of (name, email, date_of_birth, mobile_no)."""

    def build(*rows: tuple[str, str, str, str], header: str = HEADER) -> str:
        return header + "".join(",".join(row) + "\n" for row in rows)

    return build


def _plain(text: str) -> str:
    for frame in "│╭╮╰╯─":
        text = text.replace(frame, " ")
    return " ".join(text.split())


@pytest.fixture(scope="session")
def plain() -> Callable[[str], str]:
    """Typer draws usage errors in a box wrapped to the terminal: reduce them to one line of words."""
    return _plain
