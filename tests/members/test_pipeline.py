"""End-to-end behaviour of `shopdata members run`: outputs, IDs across runs, bad files, formulas."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from typer.testing import CliRunner

from shopdata.cli import app

Workspace = Any  # see conftest.py

GOOD = ("Ann Lee", "ann@x.com", "1990-01-01", "12345678")


def test_outputs_are_partitioned_by_the_runs_hour(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    ws.land("a.csv", applications(GOOD))
    code, stdout, stderr = ws.run("--json")
    assert (code, stderr) == (0, "")
    report = json.loads(stdout)
    run_id = report["run_id"]
    day, hour = report["started_at"][:10], report["started_at"][11:13]
    partition = f"date={day}/hour={hour}"
    assert report["outputs"] == {
        "successful": f"successful/{partition}/successful_{run_id}.csv",
        "unsuccessful": f"unsuccessful/{partition}/unsuccessful_{run_id}.csv",
        "report": f"reports/{partition}/run_{run_id}.json",
    }
    for relative in report["outputs"].values():
        assert (ws.output / relative).is_file()
    assert ws.files("archive") == [f"{partition}/run={run_id}/a.csv"]
    assert ws.rows("successful") == [
        {
            "membership_id": "Lee_d6165",
            "first_name": "Ann",
            "last_name": "Lee",
            "email": "ann@x.com",
            "mobile_no": "12345678",
            "date_of_birth": "19900101",
            "above_18": "true",
        }
    ]
    assert ws.rows("unsuccessful") == []


def test_empty_landing_folder_does_nothing(ws: Workspace) -> None:
    result = CliRunner().invoke(app, ws.args())
    assert (result.exit_code, result.stdout) == (
        0,
        "No files in the landing folder; nothing to do.\n",
    )
    assert not (ws.output / "successful").exists()


def test_missing_landing_folder_is_a_usage_error(ws: Workspace) -> None:
    missing = ws.landing / "nope"
    result = CliRunner().invoke(
        app, ["members", "run", "--landing", str(missing), "--output", str(ws.output)]
    )
    assert result.exit_code == 2
    assert result.stderr == f"Error: landing folder {missing} does not exist or is not a folder\n"


def test_bad_reference_date_is_a_usage_error(ws: Workspace, plain: Callable[[str], str]) -> None:
    result = CliRunner().invoke(app, ws.args("--reference-date", "01/01/2022"))
    assert result.exit_code == 2
    assert plain(result.stderr) == (
        "Usage: shopdata members run [OPTIONS] Try 'shopdata members run --help' for help. Error "
        "Invalid value for '--reference-date': Value error, '01/01/2022' does not match the "
        "formats '%Y-%m-%d'."
    )


def test_reference_date_option_overrides_the_setting(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    ws.land("a.csv", applications(("Ann Lee", "ann@x.com", "2004-01-02", "12345678")))
    assert ws.run("--reference-date", "2022-01-02")[0] == 0
    assert [r["email"] for r in ws.rows("successful")] == ["ann@x.com"]


def test_unsuccessful_rows_carry_extra_columns_and_every_reason(ws: Workspace) -> None:
    ws.land(
        "a.csv",
        "referrer,name,email,date_of_birth,mobile_no\n"
        "tv, Dr. Bo Chan Jr. ,bo@x.org,2005-06-07,+6512345678\n"
        "radio,,bad,31/12/1990,1234 567\n",
    )
    ws.land(
        "b.csv",
        "name,email,date_of_birth,mobile_no,channel\nCy Dee,cy@x.com,1990-01-01,12345678,web\n",
    )
    assert ws.run()[0] == 0
    assert ws.rows("unsuccessful") == [
        {
            "source_file": "a.csv",
            "line_number": "2",
            "reasons": "mobile_invalid;under_18;email_domain_not_allowed",
            "name": "Dr. Bo Chan Jr.",
            "email": "bo@x.org",
            "date_of_birth": "2005-06-07",
            "mobile_no": "'+6512345678",  # defused: a spreadsheet would read +... as a formula
            "extra_referrer": "tv",
            "extra_channel": "",
            "derived_first_name": "Bo",
            "derived_last_name": "Chan",
            "derived_date_of_birth": "20050607",
            "derived_mobile_no": "",
            "derived_above_18": "false",
            "duplicate_of": "",
        },
        {
            "source_file": "a.csv",
            "line_number": "3",
            "reasons": "name_blank;mobile_invalid;date_of_birth_invalid;email_invalid",
            "name": "",
            "email": "bad",
            "date_of_birth": "31/12/1990",
            "mobile_no": "1234 567",
            "extra_referrer": "radio",
            "extra_channel": "",
            "derived_first_name": "",
            "derived_last_name": "",
            "derived_date_of_birth": "",
            "derived_mobile_no": "",
            "derived_above_18": "",
            "duplicate_of": "",
        },
    ]
    assert [r["email"] for r in ws.rows("successful")] == ["cy@x.com"]


def test_spreadsheet_formulas_are_defused(ws: Workspace) -> None:
    ws.land(
        "a.csv",
        "name,email,date_of_birth,mobile_no\n"
        '"=HYPERLINK(""http://evil"",""x"") Lee",eve@x.com,1990-01-01,12345678\n'
        "@SUM(A1) Kay,kay@x.com,1990-01-01,12345678\n"
        "-Bob Ray,+bob@x.com,1990-01-01,12345678\n"
        "Ann =Lee,ann@x.com,1990-01-01,12345678\n",
    )
    assert ws.run()[0] == 0
    assert [
        (r["membership_id"], r["first_name"], r["last_name"], r["email"])
        for r in ws.rows("successful")
    ] == [
        ("Lee_d6165", '\'=HYPERLINK("http://evil","x")', "Lee", "eve@x.com"),
        ("Kay_d6165", "'@SUM(A1)", "Kay", "kay@x.com"),
        ("Ray_d6165", "'-Bob", "Ray", "'+bob@x.com"),
        ("Lee_d6165_2", "Ann", "'=Lee", "ann@x.com"),  # the ID's stem never starts a formula
    ]
