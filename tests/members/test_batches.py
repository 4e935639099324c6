"""Memory is bounded by a batch of rows, never by the run: and the batch size never shows.

A run evaluated ``batch_rows`` at a time must deliver the very bytes of the run evaluated at once:
same rows in the same order, same IDs (collisions numbered across batches and files), same
duplicates (an email issued in an earlier batch, or in an earlier run), same report counts.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import polars as pl
import pytest

from shopdata.members.pipeline import RuleConfig, RunOptions, batches, run_pipeline

SURNAMES = ("Lee", "Tan", "=Ng", "Smith", "  ", "O'Hara", "-Koh", "Lim")
FIRSTS = ("Ann", "Mr. Bo", "Dr. Cy", "Di", "Miss Eve", "Fay", "Gus")
DATES = ("1990-01-01", "01/02/1990", "02-01-1990", "1990/01/01", "2010-05-05", "1990-02-30", "x")
MOBILES = ("12345678", "1234 5678", "1234567", "87654321")
DOMAINS = ("x.com", "y.net", "z.org", "bad")


def _rows(rng: random.Random, count: int, emails: int) -> list[tuple[str, str, str, str]]:
    """Few distinct names and birthdays (IDs collide), few emails (duplicates everywhere)."""
    return [
        (
            f"{rng.choice(FIRSTS)} {rng.choice(SURNAMES)}".strip(),
            f"u{rng.randrange(emails)}@{rng.choice(DOMAINS)}",
            rng.choice(DATES),
            rng.choice(MOBILES),
        )
        for _ in range(count)
    ]


def _land(folder: Path, seed: int) -> None:
    """Three files, one with an extra column, one with another, different row counts."""
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    headers = (
        "name,email,date_of_birth,mobile_no",
        "mobile_no,name,note,email,date_of_birth",
        "name,email,date_of_birth,mobile_no,channel",
    )
    for index, (header, count) in enumerate(zip(headers, (1_500, 9, 2_491), strict=True)):
        columns = header.split(",")
        lines = [header]
        for row in _rows(rng, count, emails=1_200):
            values = dict(zip(("name", "email", "date_of_birth", "mobile_no"), row, strict=True))
            values.update(note=f"n{index}", channel="web")
            lines.append(",".join(values[c] for c in columns))
        (folder / f"batch_{index}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _run_twice(root: Path, batch_rows: int) -> tuple[Path, list[dict[str, object]]]:
    """A first run fills the registry; the second run meets it. Returns outputs and reports."""
    output = root / "output"
    reports = []
    for seed in (1, 2):
        landing = root / f"landing{seed}"
        _land(landing, seed)
        report = run_pipeline(
            landing, output, RuleConfig(), options=RunOptions(batch_rows=batch_rows)
        )
        reports.append(report.document.to_json())
    return output, reports


def _outputs(output: Path, kind: str) -> list[bytes]:
    return [p.read_bytes() for p in sorted((output / kind).rglob("*.csv"))]


def _registry(output: Path) -> pl.DataFrame:
    return pl.concat(
        pl.read_parquet(p) for p in sorted((output / "_state").rglob("registry/*.parquet"))
    )


def _comparable(report: dict[str, object]) -> dict[str, object]:
    files = [
        {k: v for k, v in entry.items() if k != "moved_to"}
        for entry in report["files_detail"]  # type: ignore[attr-defined]
    ]
    return {
        "totals": report["totals"],
        "by_reason": report["unsuccessful_by_reason"],
        "files": files,
    }


@pytest.mark.parametrize("batch_rows", [97, 1_499, 1_500, 2_000])
def test_a_batched_run_delivers_the_bytes_of_an_unbatched_one(
    tmp_path: Path, batch_rows: int
) -> None:
    whole, whole_reports = _run_twice(tmp_path / "whole", batch_rows=1_000_000)
    batched, batched_reports = _run_twice(tmp_path / "batched", batch_rows=batch_rows)

    for kind in ("successful", "unsuccessful"):
        expected = _outputs(whole, kind)
        assert len(expected) == 2
        assert _outputs(batched, kind) == expected
    assert _registry(batched).equals(_registry(whole))
    assert [_comparable(r) for r in batched_reports] == [_comparable(r) for r in whole_reports]
    # The data is hostile enough to prove something: collisions, both kinds of duplicates.
    first, second = whole_reports
    assert first["totals"]["rows_in"] == second["totals"]["rows_in"] == 4_000  # type: ignore[index]
    ids = _registry(whole)["membership_id"]
    assert ids.str.contains(r"_[0-9a-f]{5}_[0-9]+$").sum() > 10  # numbered collisions
    assert second["totals"]["duplicate_applications"] > 500  # type: ignore[index]
    assert ids.n_unique() == ids.len()


def test_batch_rows_reaches_the_run_from_the_environment(tmp_path: Path) -> None:
    import subprocess
    import sys

    landing, output = tmp_path / "l", tmp_path / "o"
    _land(landing, 3)
    expected_root = tmp_path / "expected"
    shutil.copytree(landing, expected_root / "landing1")
    run_pipeline(expected_root / "landing1", expected_root / "output", RuleConfig())
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "shopdata.cli",
            "members",
            "run",
            "--landing",
            str(landing),
            "--output",
            str(output),
            "--settle-seconds",
            "0",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        env={"SHOPDATA_MEMBERS__BATCH_ROWS": "0", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert bad.returncode != 0
    assert "batch_rows" in bad.stderr
    assert not output.exists()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "shopdata.cli",
            "members",
            "run",
            "--landing",
            str(landing),
            "--output",
            str(output),
            "--settle-seconds",
            "0",
            "--json",
        ],
        capture_output=True,
        text=True,
        env={"SHOPDATA_MEMBERS__BATCH_ROWS": "13", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["totals"]["rows_in"] == 4_000
    for kind in ("successful", "unsuccessful"):
        assert _outputs(output, kind) == _outputs(expected_root / "output", kind)


def _frame(name: str, rows: int, extra: str | None = None) -> pl.DataFrame:
    columns: dict[str, object] = {
        "line_number": pl.Series(range(2, rows + 2), dtype=pl.Int64),
        "name": [f"{name}{i}" for i in range(rows)],
        "email": ["e"] * rows,
        "date_of_birth": ["d"] * rows,
        "mobile_no": ["m"] * rows,
    }
    if extra:
        columns[extra] = ["x"] * rows
    return pl.DataFrame(columns).with_columns(source_file=pl.lit(name))


COLUMNS = ["line_number", "name", "email", "date_of_birth", "mobile_no", "extra_a", "source_file"]


def test_batches_slice_across_files_in_order_and_free_them() -> None:
    frames = [_frame("a", 5, "extra_a"), _frame("b", 0), _frame("c", 4)]
    out = list(batches(frames, 4, COLUMNS))
    assert frames == []  # consumed: each file's rows can be freed once batched
    assert [b.height for b in out] == [4, 4, 1]
    assert all(b.columns == COLUMNS for b in out)
    names = pl.concat(out)["name"].to_list()
    assert names == [f"a{i}" for i in range(5)] + [f"c{i}" for i in range(4)]
    assert pl.concat(out)["extra_a"].to_list() == ["x"] * 5 + [None] * 4


def test_batches_of_nothing_is_one_empty_batch_with_every_column() -> None:
    out = list(batches([], 10, COLUMNS))
    assert [(b.height, b.columns) for b in out] == [(0, COLUMNS)]
    exact = list(batches([_frame("a", 3)], 3, COLUMNS))
    assert [b.height for b in exact] == [3]


# A file larger than ``piece_bytes`` is read a piece at a time, twice, and never held whole: the
# outputs, the report (sha256 included) and every error message are those of the whole read.


def _deliveries(root: Path, landing: Path, options: RunOptions) -> tuple[list[bytes], object]:
    copy = root / "landing"
    shutil.copytree(landing, copy)
    report = run_pipeline(copy, root / "output", RuleConfig(), options=options)
    outputs = _outputs(root / "output", "successful") + _outputs(root / "output", "unsuccessful")
    errors = sorted(p.read_text(encoding="utf-8") for p in (root / "output").rglob("*.error.txt"))
    return outputs, (_comparable(report.document.to_json()), errors)


def _same_in_pieces(tmp_path: Path, landing: Path, piece_bytes: int = 1024) -> object:
    whole = _deliveries(tmp_path / "whole", landing, RunOptions())
    pieces = _deliveries(
        tmp_path / "pieces", landing, RunOptions(piece_bytes=piece_bytes, batch_rows=97)
    )
    assert pieces == whole
    return whole[1]


def test_large_files_read_in_pieces_deliver_the_same(tmp_path: Path) -> None:
    landing = tmp_path / "in"
    _land(landing, 5)
    report, errors = _same_in_pieces(tmp_path, landing)  # type: ignore[misc]
    assert report["totals"]["rows_in"] == 4_000
    assert errors == []


def test_quoted_fields_bom_crlf_and_blank_lines_survive_the_cuts(tmp_path: Path) -> None:
    landing = tmp_path / "in"
    landing.mkdir()
    lines = ['"name","email","date_of_birth","mobile_no","note\r\nspanning"']
    for i in range(600):
        note = '"say ""hi"",\r\nthen\nbye"' if i % 7 == 0 else f"n{i}"
        lines.append(f'"Ann Lee{i}",a{i}@x.com,1990-01-01,1234 5678,{note}')
        if i % 50 == 0:
            lines.append("")
    data = b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n"
    (landing / "quoted.csv").write_bytes(data)
    assert len(data) > 20_000
    report, errors = _same_in_pieces(tmp_path, landing, piece_bytes=1_000)  # type: ignore[misc]
    assert report["totals"]["rows_in"] == 600
    assert report["totals"]["successful"] == 600
    assert errors == []


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (
            b"Bo Tan,b@x.com,1990-01-01\n",
            "ragged_rows: ragged rows: 1 record(s) do not have the header's 4 fields; the first "
            "is at line 1280 with 3",
        ),
        (
            b"Bo \xff Tan,b@x.com,1990-01-01,12345678\n",
            "not_utf8: not UTF-8: invalid byte 0xff at offset 50048",
        ),
        (
            b'"Bo Tan,b@x.com,1990-01-01,12345678\n',  # a quote never closed: to the end
            "malformed_csv: malformed CSV at line 2002: unexpected end of data",
        ),
        (b"Bo Tan,b@x.com,1990-01-01,12345678\n", ""),
    ],
)
def test_a_flaw_deep_in_a_large_file_is_reported_as_a_whole_read_reports_it(
    tmp_path: Path, damage: bytes, expected: str
) -> None:
    landing = tmp_path / "in"
    landing.mkdir()
    good = b"".join(b"Ann Lee,a%d@x.com,1990-01-01,12345678\n" % i for i in range(2_000))
    head = b"name,email,date_of_birth,mobile_no\n"
    cut = good.index(b"\n", 50_000) + 1  # the damage is line 1,280, byte 50,045 of the file
    (landing / "big.csv").write_bytes(head + good[:cut] + damage + good[cut:])
    report, errors = _same_in_pieces(tmp_path, landing)  # type: ignore[misc]
    if expected:
        assert errors == [expected + "\n"]
        assert report["totals"]["files_quarantined"] == 1
    else:
        assert errors == []
        assert report["totals"]["rows_in"] == 2_001


def test_a_large_file_that_changes_between_its_two_reads_fails_the_run_not_the_data(
    tmp_path: Path,
) -> None:
    from shopdata.members.landing import StillChanging
    from shopdata.members.pipeline import _Loaded, _stream_load, _Streamed

    path = tmp_path / "big.csv"
    rows = b"".join(b"Ann Lee,a%d@x.com,1990-01-01,12345678\n" % i for i in range(500))
    path.write_bytes(b"name,email,date_of_birth,mobile_no\n" + rows)
    loaded = _stream_load(path, 1024)
    assert isinstance(loaded, _Loaded) and isinstance(loaded.parsed, _Streamed)
    assert (loaded.parsed.rows, loaded.data) == (500, b"")
    assert sum(f.height for f in loaded.parsed.frames("big.csv")) == 500
    path.write_bytes(path.read_bytes().replace(b"Ann", b"Bob"))  # same size, other bytes
    with pytest.raises(StillChanging):
        list(loaded.parsed.frames("big.csv"))


# The pipeline keeps a large file's parsed pieces in its staging folder ("spill") between the
# check and the evaluation: the file is read and parsed once, the rows evaluated are those of the
# bytes hashed, and nothing of the spill outlives the run, whatever became of the file.


def _big(rows: int, name: str = "Ann") -> bytes:
    body = b"".join(
        b"%s Lee,a%d@x.com,1990-01-01,12345678\n" % (name.encode(), i) for i in range(rows)
    )
    return b"name,email,date_of_birth,mobile_no\n" + body


def test_spilled_pieces_are_the_rows_hashed_even_if_the_file_changes_after(
    tmp_path: Path,
) -> None:
    import os
    import stat

    from shopdata.members.pipeline import Spill, _Loaded, _stream_load, _Streamed

    path = tmp_path / "big.csv"
    path.write_bytes(_big(500))
    spill = Spill(tmp_path / "spill", file_mode=0o600, dir_mode=0o700)
    old_umask = os.umask(0)
    try:
        loaded = _stream_load(path, 1024, spill)
    finally:
        os.umask(old_umask)
    assert isinstance(loaded, _Loaded) and isinstance(loaded.parsed, _Streamed)
    pieces = sorted((tmp_path / "spill").iterdir())
    assert len(pieces) == len(loaded.parsed.spilled) > 1
    assert {stat.S_IMODE(p.stat().st_mode) for p in pieces} == {0o600}
    assert stat.S_IMODE((tmp_path / "spill").stat().st_mode) == 0o700
    path.write_bytes(path.read_bytes().replace(b"Ann", b"Bob"))  # same size, other bytes
    frames = list(loaded.parsed.frames("big.csv"))
    names = pl.concat(frames)["name"]
    assert (names.len(), names.str.starts_with("Ann").sum()) == (500, 500)
    assert pl.concat(frames)["line_number"].to_list() == list(range(2, 502))
    assert list((tmp_path / "spill").iterdir()) == []  # each piece deleted once read


def test_a_flawed_large_file_leaves_no_spill(tmp_path: Path) -> None:
    from shopdata.members.ingest import BadFile
    from shopdata.members.pipeline import Spill, _Loaded, _stream_load

    path = tmp_path / "big.csv"
    path.write_bytes(_big(400) + b"Bo Tan,b@x.com\n" + _big(100)[35:])
    loaded = _stream_load(path, 1024, Spill(tmp_path / "spill"))
    assert isinstance(loaded, _Loaded) and isinstance(loaded.parsed, BadFile)
    assert loaded.parsed.kind == "ragged_rows"
    assert not (tmp_path / "spill").exists()


def test_no_spill_outlives_a_run_of_kept_duplicate_and_quarantined_large_files(
    tmp_path: Path,
) -> None:
    landing, output = tmp_path / "in", tmp_path / "out"
    landing.mkdir()
    (landing / "a.csv").write_bytes(_big(300))
    (landing / "b.csv").write_bytes(_big(300))  # same bytes: a duplicate file
    (landing / "c.csv").write_bytes(_big(300, "Cy") + b"Bo Tan,b@x.com\n")
    options = RunOptions(piece_bytes=1024, batch_rows=97)
    report = run_pipeline(landing, output, RuleConfig(), options=options)
    totals = report.document.totals
    assert (totals.files_processed, totals.files_duplicate, totals.files_quarantined) == (1, 1, 1)
    assert (totals.rows_in, totals.successful) == (300, 300)
    assert list((output / "_state" / "staging").iterdir()) == []
    (landing / "d.csv").write_bytes(_big(300, "Di"))
    again = run_pipeline(landing, output, RuleConfig(), options=options)
    assert again.document.removed_orphans == []
    assert again.document.totals.rows_in == 300
