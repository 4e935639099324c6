"""Golden test: the two bundled sample batches give exact counts and hand-checked rows."""

from __future__ import annotations

import json
from typing import Any

import pytest

Workspace = Any  # tests/members/conftest.py's Workspace, handed out by the workspace_class fixture


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory, workspace_class: type[Any]) -> Workspace:
    ws = workspace_class(tmp_path_factory.mktemp("golden"))
    ws.land_samples()
    code, _, stderr = ws.run()
    assert (code, stderr) == (0, "")
    return ws


def by_email(rows: list[dict[str, str]], email: str) -> dict[str, str]:
    (row,) = [r for r in rows if r["email"] == email]
    return row


def test_counts(sample_run: Workspace) -> None:
    assert len(sample_run.rows("successful")) == 706
    assert len(sample_run.rows("unsuccessful")) == 4293
    (report_path,) = (sample_run.output / "reports").glob("date=*/hour=*/run_*.json")
    report = json.loads(report_path.read_text())
    assert report["totals"] == {
        "files": 2,
        "files_processed": 2,
        "files_quarantined": 0,
        "files_duplicate": 0,
        "rows_in": 4999,
        "successful": 706,
        "unsuccessful": 4293,
        "duplicate_applications": 0,
    }
    assert report["unsuccessful_by_reason"] == {
        "email_domain_not_allowed": 1476,
        "mobile_invalid": 3758,
        "under_18": 1063,
    }
    assert [
        (f["name"], f["rows"], f["successful"], f["unsuccessful"]) for f in report["files_detail"]
    ] == [
        ("applications_dataset_1.csv", 1999, 294, 1705),
        ("applications_dataset_2.csv", 3000, 412, 2588),
    ]


def test_successful_header_is_the_contract(sample_run: Workspace) -> None:
    (path,) = (sample_run.output / "successful").glob("date=*/hour=*/successful_*.csv")
    assert path.read_text().splitlines()[0] == (
        "membership_id,first_name,last_name,email,mobile_no,date_of_birth,above_18"
    )


def test_mobile_with_a_space_is_normalised(sample_run: Workspace) -> None:
    # Travis Rice, 3631 6303: the mobile is fine, but he was born 05/08/2006 (under 18).
    row = by_email(sample_run.rows("unsuccessful"), "Travis_Rice@bradley.net")
    assert (row["mobile_no"], row["derived_mobile_no"]) == ("3631 6303", "36316303")
    assert (row["reasons"], row["derived_date_of_birth"], row["line_number"]) == (
        "under_18",
        "20060508",
        "27",
    )


def test_honorific_and_suffix_are_dropped(sample_run: Workspace) -> None:
    row = by_email(sample_run.rows("unsuccessful"), "Larry_Grimes@lewis-richardson.info")
    assert row == {
        "source_file": "applications_dataset_1.csv",
        "line_number": "56",
        "reasons": "mobile_invalid;under_18;email_domain_not_allowed",
        "name": "Mr. Larry Grimes MD",
        "email": "Larry_Grimes@lewis-richardson.info",
        "date_of_birth": "12/31/2005",
        "mobile_no": "966177",
        "derived_first_name": "Larry",
        "derived_last_name": "Grimes",
        "derived_date_of_birth": "20051231",
        "derived_mobile_no": "",
        "derived_above_18": "false",
        "duplicate_of": "",
    }


def test_month_first_when_slashes_and_year_last(sample_run: Workspace) -> None:
    row = by_email(sample_run.rows("unsuccessful"), "Sarah_Jacobson@mclean-jacobs.info")
    assert (row["date_of_birth"], row["derived_date_of_birth"]) == ("03/09/1958", "19580309")


def test_successful_row(sample_run: Workspace) -> None:
    row = by_email(sample_run.rows("successful"), "Kenneth_Williamson@perez.com")
    assert row == {
        "membership_id": "Williamson_2b72a",
        "first_name": "Kenneth",
        "last_name": "Williamson",
        "email": "Kenneth_Williamson@perez.com",
        "mobile_no": "36169599",
        "date_of_birth": "19540310",  # 10-03-1954: day first when dashes and year last
        "above_18": "true",
    }


def test_same_last_name_and_birthday_get_distinct_ids(sample_run: Workspace) -> None:
    bethany = by_email(sample_run.rows("successful"), "Bethany_Williamson@flores.com")
    assert bethany["membership_id"] == "Williamson_2b72a_2"
    ids = [r["membership_id"] for r in sample_run.rows("successful")]
    assert len(ids) == len(set(ids)) == 706


def test_inputs_are_archived(sample_run: Workspace) -> None:
    assert sample_run.landed() == []
    archived = sample_run.files("archive")
    assert [a.rsplit("/", 1)[1] for a in archived] == [
        "applications_dataset_1.csv",
        "applications_dataset_2.csv",
    ]
