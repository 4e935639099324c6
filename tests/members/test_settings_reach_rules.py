"""The rule settings reach the rules, through every layer the settings object promises.

``src/shopdata/config.py`` promises: defaults < ``.env`` < environment variables < CLI options.
Each test runs the real CLI as a subprocess in its own working directory (where ``.env`` is
read), with every ``SHOPDATA_*`` variable of the caller removed, and reads the real output files.
The applicants are chosen so that only the setting under test decides their fate: the default
and the configured value give opposite answers for each of them.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import settle

HEADER = "name,email,date_of_birth,mobile_no\n"
#: On the default reference date 2022-01-01: 16 years old, 20 years old, 30 years old.
AGE_16 = "Ann Sixteen,ann@sixteen.com,2005-06-01,81234567\n"
AGE_20 = "Bob Twenty,bob@twenty.com,2001-06-01,81234568\n"
AGE_30 = "Cy Thirty,cy@thirty.com,1991-06-01,81234569\n"
#: All adults; only the e-mail endings differ.
DOT_ORG = "Dee Org,dee@example.org,1990-01-01,81234570\n"
DOT_COM = "Eve Com,eve@example.com,1990-01-01,81234571\n"
DOT_NET = "Fay Net,fay@example.NET,1990-01-01,81234572\n"


def run_cli(
    root: Path, rows: str, *extra: str, env: dict[str, str] | None = None, dotenv: str = ""
) -> tuple[int, dict[str, list[str]]]:
    """Run ``shopdata members run`` in ``root``; return its exit code and, per last name, reasons.

    A successful applicant maps to ``[]``; an unsuccessful one to its list of reasons.
    """
    landing = root / "landing"
    landing.mkdir()
    (landing / "applications.csv").write_text(HEADER + rows, encoding="utf-8")
    settle(landing / "applications.csv")  # older than the producer's settle window
    if dotenv:
        (root / ".env").write_text(dotenv, encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SHOPDATA_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "shopdata.cli",
            "members",
            "run",
            "--json",
            "--landing",
            str(landing),
            "--output",
            str(root / "out"),
            # The file was just written: no settling wait (not a setting under test here).
            "--settle-seconds",
            "0",
            *extra,
        ],
        capture_output=True,
        text=True,
        cwd=root,
        env={**clean, **(env or {})},
        timeout=120,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    assert report["totals"]["rows_in"] == rows.count("\n")
    outcome: dict[str, list[str]] = {}
    for kind in ("successful", "unsuccessful"):
        for path in sorted((root / "out" / kind).glob("date=*/hour=*/*.csv")):
            with path.open(newline="", encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    if kind == "successful":
                        outcome[row["last_name"]] = []
                    else:
                        outcome[row["derived_last_name"]] = row["reasons"].split(";")
    return result.returncode, outcome


def test_default_minimum_age_is_18(tmp_path: Path) -> None:
    code, outcome = run_cli(tmp_path, AGE_16 + AGE_20 + AGE_30)
    assert code == 0
    assert outcome == {"Sixteen": ["under_18"], "Twenty": [], "Thirty": []}


@pytest.mark.parametrize(
    ("minimum_age", "expected"),
    [
        ("16", {"Sixteen": [], "Twenty": [], "Thirty": []}),
        ("21", {"Sixteen": ["under_18"], "Twenty": ["under_18"], "Thirty": []}),
        ("31", {"Sixteen": ["under_18"], "Twenty": ["under_18"], "Thirty": ["under_18"]}),
    ],
)
def test_minimum_age_from_the_environment_reaches_the_rule(
    tmp_path: Path, minimum_age: str, expected: dict[str, list[str]]
) -> None:
    _, outcome = run_cli(
        tmp_path, AGE_16 + AGE_20 + AGE_30, env={"SHOPDATA_MEMBERS__MINIMUM_AGE": minimum_age}
    )
    assert outcome == expected


def test_minimum_age_from_dotenv_reaches_the_rule(tmp_path: Path) -> None:
    _, outcome = run_cli(
        tmp_path, AGE_16 + AGE_20 + AGE_30, dotenv="SHOPDATA_MEMBERS__MINIMUM_AGE=16\n"
    )
    assert outcome == {"Sixteen": [], "Twenty": [], "Thirty": []}


def test_environment_beats_dotenv(tmp_path: Path) -> None:
    _, outcome = run_cli(
        tmp_path,
        AGE_16 + AGE_20 + AGE_30,
        env={"SHOPDATA_MEMBERS__MINIMUM_AGE": "21"},
        dotenv="SHOPDATA_MEMBERS__MINIMUM_AGE=16\n",
    )
    assert outcome == {"Sixteen": ["under_18"], "Twenty": ["under_18"], "Thirty": []}


def test_cli_reference_date_beats_environment_and_dotenv(tmp_path: Path) -> None:
    """Ann turns 18 on 2023-06-01: the CLI's date decides, not .env's nor the environment's."""
    _, outcome = run_cli(
        tmp_path,
        AGE_16,
        "--reference-date",
        "2023-06-01",
        env={"SHOPDATA_MEMBERS__REFERENCE_DATE": "2022-01-01"},
        dotenv="SHOPDATA_MEMBERS__REFERENCE_DATE=2021-01-01\n",
    )
    assert outcome == {"Sixteen": []}


def test_reference_date_from_dotenv_reaches_the_rule(tmp_path: Path) -> None:
    _, outcome = run_cli(tmp_path, AGE_16, dotenv="SHOPDATA_MEMBERS__REFERENCE_DATE=2023-06-01\n")
    assert outcome == {"Sixteen": []}


def test_default_email_endings_are_com_and_net(tmp_path: Path) -> None:
    _, outcome = run_cli(tmp_path, DOT_ORG + DOT_COM + DOT_NET)
    assert outcome == {"Org": ["email_domain_not_allowed"], "Com": [], "Net": []}


@pytest.mark.parametrize(
    ("suffixes", "expected"),
    [
        (
            '[".org"]',
            {"Org": [], "Com": ["email_domain_not_allowed"], "Net": ["email_domain_not_allowed"]},
        ),
        (
            '[".org", ".net"]',
            {"Org": [], "Com": ["email_domain_not_allowed"], "Net": []},
        ),
    ],
)
def test_email_endings_from_the_environment_reach_the_rule(
    tmp_path: Path, suffixes: str, expected: dict[str, list[str]]
) -> None:
    _, outcome = run_cli(
        tmp_path,
        DOT_ORG + DOT_COM + DOT_NET,
        env={"SHOPDATA_MEMBERS__EMAIL_DOMAIN_SUFFIXES": suffixes},
    )
    assert outcome == expected


def test_email_endings_from_dotenv_reach_the_rule(tmp_path: Path) -> None:
    _, outcome = run_cli(
        tmp_path,
        DOT_ORG + DOT_COM + DOT_NET,
        dotenv="SHOPDATA_MEMBERS__EMAIL_DOMAIN_SUFFIXES='[\".org\"]'\n",
    )
    assert outcome == {
        "Org": [],
        "Com": ["email_domain_not_allowed"],
        "Net": ["email_domain_not_allowed"],
    }


def test_a_malformed_setting_is_one_clear_error_and_nothing_is_written(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "applications.csv").write_text(HEADER + AGE_30, encoding="utf-8")
    settle(landing / "applications.csv")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SHOPDATA_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "shopdata.cli",
            "members",
            "run",
            "--quiet",
            "--landing",
            str(landing),
            "--output",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**clean, "SHOPDATA_MEMBERS__MINIMUM_AGE": "eighteen"},
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "minimum_age" in result.stderr
    assert not (tmp_path / "out").exists()
    assert (landing / "applications.csv").exists()
