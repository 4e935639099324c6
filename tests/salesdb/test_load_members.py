"""`shopdata db load-members`: idempotent, all-or-nothing, exact messages for bad files."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from shopdata.cli import app

from .helpers import HERE, scalar

GOOD = HERE / "data" / "pipeline_output"
HEADER = "membership_id,first_name,last_name,email,mobile_no,date_of_birth,above_18\n"
PARTITION = "successful/date=2024-03-02/hour=08/successful_bad.csv"


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["db", *args])
    return result.exit_code, result.stdout, result.stderr


def _output_with(tmp_path: Path, body: str) -> Path:
    """A copy of the good output plus one more partition file holding ``body``."""
    out = tmp_path / "out"
    shutil.copytree(GOOD, out)
    bad = out / PARTITION
    bad.parent.mkdir(parents=True)
    bad.write_text(body, encoding="utf-8")
    return out


def test_loads_every_partition_once(db_env: str) -> None:
    assert _invoke("load-members", str(GOOD)) == (
        0,
        "members: 5 new, 0 already present (5 rows in 2 files)\n",
        "",
    )
    assert _invoke("load-members", str(GOOD)) == (
        0,
        "members: 0 new, 5 already present (5 rows in 2 files)\n",
        "",
    )
    with psycopg.connect(db_env) as conn:
        rows = conn.execute(
            "select membership_id, first_name, last_name, email, mobile_no, date_of_birth,"
            " above_18, status::text from sales.members order by membership_id"
        ).fetchall()
    assert rows == [
        ("Ball_5c2aa", "Mary", "Ball", "mary@stevens.com", "88635900", dt.date(1968, 2, 5), True, "active"),
        ("Ball_5c2aa_2", "Maria", "Ball", "maria.ball@stevens.net", "88635901", dt.date(1968, 2, 5), True, "active"),
        ("Chang_b0e41", "=Kimberly", "Chang", "kim@johnson-lopez.net", "26920470", dt.date(1974, 2, 27), True, "active"),
        ("Dixon_7d1c8", "William", "Dixon", "William_Dixon@woodward-fuller.com", "40601711", dt.date(1986, 1, 10), True, "active"),
        ("Horn_3a9f2", "Kristen", "Horn", "kristen.horn@lin.com", "73793100", dt.date(1974, 9, 10), True, "active"),
    ]  # fmt: skip


def test_member_keys_follow_the_file_not_the_birthday_hash(db_env: str, tmp_path: Path) -> None:
    """member_key is the teams' stand-in for membership_id, which they may not read because its
    5 hex digits are sha256 of the birthday. Keys were handed out in membership_id order, so
    within a last name their order was the order of the birthday hashes: with the birth year
    (analytics) that narrows each birthday down, and with enough namesakes pins it. Keys now
    follow the applications' own order (the file's lines)."""
    born = [dt.date(1960, 1, 1) + dt.timedelta(days=97 * i) for i in range(6)]
    ids = [f"Tan_{hashlib.sha256(d.strftime('%Y%m%d').encode()).hexdigest()[:5]}" for d in born]
    by_hash_descending = sorted(zip(ids, born, strict=True), reverse=True)
    lines = [
        f"{mid},Ann{i},Tan,ann{i}@tan.com,{90000000 + i},{d.strftime('%Y%m%d')},true\n"
        for i, (mid, d) in enumerate(by_hash_descending)
    ]
    out = tmp_path / "out"
    part = out / "successful/date=2024-03-02/hour=08/successful_tan.csv"
    part.parent.mkdir(parents=True)
    part.write_text(HEADER + "".join(lines), encoding="utf-8")
    assert _invoke("load-members", str(out))[0] == 0
    with psycopg.connect(db_env) as conn:
        rows = conn.execute(
            "select membership_id from sales.members order by member_key"
        ).fetchall()
    assert [r[0] for r in rows] == [mid for mid, _ in by_hash_descending]


def test_a_later_partition_adds_only_its_new_members(db_env: str, tmp_path: Path) -> None:
    _invoke("load-members", str(GOOD))
    out = _output_with(
        tmp_path,
        HEADER
        + "Lee_0a1b2,Ann,Lee,ann@lee.com,91234567,20000101,true\n"
        + "Dixon_7d1c8,William,Dixon,William_Dixon@woodward-fuller.com,40601711,19860110,true\n",
    )
    assert _invoke("load-members", str(out)) == (
        0,
        "members: 1 new, 5 already present (7 rows in 3 files)\n",
        "",
    )
    assert scalar(db_env, "select count(*) from sales.members") == 6


BAD_FILES = [
    pytest.param(
        HEADER + "Lee_0a1b2,Ann,Lee,ann@lee.com,91234567,20000101,true\n"
        "Tan_0c1d2,Bo,Tan,bo@tan.com,9123456,19990101,true\n",
        f'{PARTITION} line 3: violates check constraint "members_mobile_no_8_digits"',
        id="mobile-7-digits",
    ),
    pytest.param(
        HEADER + "Lee_0a1b2,Ann,Lee,ann@lee.com,91234567,20230230,true\n",
        f'{PARTITION} line 2: date_of_birth: date/time field value out of range: "20230230"',
        id="impossible-birthday",
    ),
    pytest.param(
        HEADER + "Lee_0a1b2,Ann,Lee,ann@lee.com,91234567,20000101,maybe\n",
        f'{PARTITION} line 2: above_18: invalid input syntax for type boolean: "maybe"',
        id="above-18-not-boolean",
    ),
    pytest.param(
        HEADER + ",Ann,Lee,ann@lee.com,91234567,20000101,true\n",
        f"{PARTITION} line 2: membership_id is empty (violates its not-null constraint)",
        id="empty-id",
    ),
    pytest.param(
        HEADER + "Lee,Ann,Lee,ann@lee.com,91234567,20000101,true\n",
        f'{PARTITION} line 2: violates check constraint "members_membership_id_format"',
        id="id-without-hash",
    ),
    pytest.param(
        HEADER + "Lee_0a1b2,Ann,Lee,ann.lee.com,91234567,20000101,true\n",
        f'{PARTITION} line 2: violates check constraint "members_email_format"',
        id="email-without-at",
    ),
    pytest.param(
        HEADER + "Lee_0a1b2,Ann,Lee,ann@lee.com,91234567,20000101\n",
        f"{PARTITION} line 2: expected 7 fields, found 6",
        id="missing-field",
    ),
    pytest.param(
        "membership_id,first_name,last_name,email,mobile,date_of_birth,above_18\n",
        f"{PARTITION}: header is 'membership_id,first_name,last_name,email,mobile,"
        "date_of_birth,above_18', expected 'membership_id,first_name,last_name,email,"
        "mobile_no,date_of_birth,above_18'",
        id="wrong-header",
    ),
    pytest.param(
        HEADER + "Dixon_7d1c8,Will,Dixon,will@dixon.com,40601711,19860110,true\n",
        "membership_id Dixon_7d1c8 appears twice with different details "
        "(successful/date=2024-03-01/hour=09/successful_20240301T090000.csv line 2 and "
        f"{PARTITION} line 2)",
        id="conflicting-duplicate",
    ),
]


@pytest.mark.parametrize(("body", "message"), BAD_FILES)
def test_bad_file_loads_nothing(db_env: str, tmp_path: Path, body: str, message: str) -> None:
    out = _output_with(tmp_path, body)
    assert _invoke("load-members", str(out)) == (
        1,
        "",
        f"Error: {message}; nothing was loaded\n",
    )
    assert scalar(db_env, "select count(*) from sales.members") == 0


def test_missing_folder_is_a_usage_error(db_env: str, tmp_path: Path) -> None:
    assert _invoke("load-members", str(tmp_path / "nope")) == (
        2,
        "",
        f"Error: {tmp_path / 'nope'} does not exist or is not a folder\n",
    )


def test_folder_without_successful_files(db_env: str, tmp_path: Path) -> None:
    assert _invoke("load-members", str(tmp_path)) == (
        1,
        "",
        f"Error: no successful/**/*.csv files under {tmp_path}; nothing was loaded\n",
    )


def test_a_one_word_name_loads_with_an_empty_first_name(db_env: str, tmp_path: Path) -> None:
    # The pipeline accepts a one-word name (first_name ''); the schema must agree (issue 11).
    out = _output_with(tmp_path, HEADER + "Madonna_d6165,,Madonna,m@x.com,12345678,19900101,true\n")
    assert _invoke("load-members", str(out)) == (
        0,
        "members: 6 new, 0 already present (6 rows in 3 files)\n",
        "",
    )
    assert (
        scalar(
            db_env,
            "select first_name || '|' || last_name from sales.members where email = 'm@x.com'",
        )
        == "|Madonna"
    )


def test_formula_escaped_emails_load_as_received(db_env: str, tmp_path: Path) -> None:
    """The pipeline writes ``'`` before a cell that looks like a formula; the loader drops it."""
    landing = tmp_path / "landing"
    landing.mkdir()
    emails = ["=cmd@x.com", "+tag@x.com", "-dash@x.com", "'quote@x.com", "plain@x.com"]
    (landing / "a.csv").write_text(
        "name,email,date_of_birth,mobile_no\n"
        + "".join(
            f"Ann Lee{i},{email},1990-01-0{i + 1},12345678\n" for i, email in enumerate(emails)
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    args = ["--landing", str(landing), "--output", str(out), "--settle-seconds", "0", "--quiet"]
    result = CliRunner().invoke(app, ["members", "run", *args])
    assert result.exit_code == 0, result.output
    assert _invoke("load-members", str(out)) == (
        0,
        "members: 5 new, 0 already present (5 rows in 1 files)\n",
        "",
    )
    with psycopg.connect(db_env) as conn:
        loaded = [row[0] for row in conn.execute("select email from sales.members order by 1")]
    assert loaded == sorted(emails)


def test_emails_with_control_characters_are_invalid_and_the_load_succeeds(
    db_env: str, tmp_path: Path
) -> None:
    """A NUL in an email cannot be stored by PostgreSQL: it used to be issued an ID, and then
    every load of the folder failed."""
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.csv").write_bytes(
        b"name,email,date_of_birth,mobile_no\n"
        b'Ann Lee,"a\x00b@x.com",1990-01-01,12345678\n'
        b'Ben Ong,"b\x1b[31mo@x.com",1990-01-01,12345678\n'
        b"Cy Tan,cy@x.com,1990-01-01,12345678\n"
    )
    out = tmp_path / "out"
    args = ["--landing", str(landing), "--output", str(out), "--settle-seconds", "0", "--quiet"]
    result = CliRunner().invoke(app, ["members", "run", *args])
    assert result.exit_code == 0, result.output
    unsuccessful = sorted(out.glob("unsuccessful/*/*/*.csv"))[0].read_text().splitlines()
    assert [line.split(",")[:3] for line in unsuccessful[1:]] == [
        ["a.csv", "2", "email_invalid"],
        ["a.csv", "3", "email_invalid"],
    ]
    assert _invoke("load-members", str(out)) == (
        0,
        "members: 1 new, 0 already present (1 rows in 1 files)\n",
        "",
    )
