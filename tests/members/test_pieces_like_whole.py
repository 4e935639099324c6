"""Issue 14's big-file reading, attacked: a file read in pieces must be the file read whole.

Three ways it was not: a literal quote inside an unquoted field (``O"Hara``, ``Dwayne "The
Rock" Johnson``) made the cut count quotes wrongly (a valid file quarantined as malformed, or the
whole file held as one piece); a first record longer than a piece left the header alone in the
first piece (a valid file quarantined as "header only"); and a bad file's message was that of
its first bad piece, not of the file (ragged rows counted in one piece; bad UTF-8 further on
hidden behind ragged rows; a field too long named before the ragged rows a whole read names).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, cast

import polars as pl
import pytest

from shopdata.members.ingest import RECORD_LIMIT, record_cut
from shopdata.members.landing import Entry, RecordTooLong, read_pieces, regular_identity
from shopdata.members.pipeline import Deferred, RuleConfig, RunOptions, _read_files, run_pipeline
from shopdata.members.state import StateStore

from .test_batches import _same_in_pieces

HEADER = "name,email,date_of_birth,mobile_no"


def _rows(first: int, last: int) -> list[str]:
    return [f"Ann Lee{i},a{i}@x.com,1990-01-01,1234 5678" for i in range(first, last)]


def _delivered(tmp_path: Path, landing: Path) -> tuple[dict[str, Any], list[str]]:
    """The run's report and error files, the same whether the file is read whole or in pieces."""
    return cast(
        "tuple[dict[str, Any], list[str]]", _same_in_pieces(tmp_path, landing, piece_bytes=1_024)
    )


def _land(tmp_path: Path, name: str, data: bytes) -> Path:
    landing = tmp_path / "in"
    landing.mkdir()
    (landing / name).write_bytes(data)
    return landing


def test_a_literal_quote_in_an_unquoted_field_does_not_break_the_cuts(tmp_path: Path) -> None:
    lines = [
        HEADER,
        'Dwayne "The Rock" Johnson,rock@x.com,1972-05-02,1234 5678',
        'O"Hara,o@x.com,1980-01-01,12345678',
    ]
    for i in range(300):
        lines.append(
            f'"Ann\nLee{i}",a{i}@x.com,1990-01-01,12345678' if i % 9 == 0 else _rows(i, i + 1)[0]
        )
    landing = _land(tmp_path, "stray.csv", ("\n".join(lines) + "\n").encode())

    report, errors = _delivered(tmp_path, landing)

    assert errors == []
    assert report["totals"]["rows_in"] == 302
    assert report["totals"]["successful"] == 302


def test_a_literal_quote_does_not_make_one_piece_of_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "stray.csv"
    path.write_text(
        "\n".join([HEADER, 'O"Hara,o@x.com,1980-01-01,12345678', *_rows(0, 3_000)]) + "\n"
    )
    pieces = list(read_pieces(path, regular_identity(path), 4_096))
    assert max(len(p) for p in pieces) <= 4_096 * 2
    assert len(pieces) > 20
    assert b"".join(pieces) == path.read_bytes()


def test_the_cut_reads_quotes_as_the_csv_parser_does() -> None:
    assert record_cut(b'O"Hara,x\nb,c\n') == 13
    assert record_cut(b'"a\nb",c\nd') == 8  # the line feed inside the quoted field is no cut
    assert record_cut(b'"a\nb') == 0
    assert record_cut(b'x,"a""\nb",c\nz\n') == 14
    assert record_cut(b'x,5\'11",c\n"open\nfield') == 10
    assert record_cut(b'\xef\xbb\xbf"n\na",b\nc,d\n') == 15


def test_a_first_record_longer_than_a_piece_is_no_header_only_file(tmp_path: Path) -> None:
    long_name = "A" * 3_000 + " Smith"
    lines = [HEADER, f"{long_name},long@x.com,1990-01-01,12345678", *_rows(0, 100)]
    landing = _land(tmp_path, "long.csv", ("\n".join(lines) + "\n").encode())

    report, errors = _delivered(tmp_path, landing)

    assert errors == []
    assert report["totals"]["rows_in"] == 101
    assert report["files"][0]["status"] == "processed"


def test_a_header_and_blank_lines_only_is_still_header_only(tmp_path: Path) -> None:
    landing = _land(tmp_path, "blank.csv", (HEADER + "\n" + "   \n" * 1_000).encode())
    _, errors = _delivered(tmp_path, landing)
    assert errors == ["header_only: file has a header but no data rows\n"]


def test_ragged_rows_are_counted_over_the_whole_file(tmp_path: Path) -> None:
    lines = [HEADER, *_rows(0, 400)]
    lines[5] = lines[300] = lines[390] = "a,b,c"
    landing = _land(tmp_path, "ragged.csv", ("\n".join(lines) + "\n").encode())
    _, errors = _delivered(tmp_path, landing)
    assert errors == [
        "ragged_rows: ragged rows: 3 record(s) do not have the header's 4 fields; "
        "the first is at line 6 with 3\n"
    ]


def test_bad_utf8_further_on_is_named_before_earlier_ragged_rows(tmp_path: Path) -> None:
    lines = [HEADER, *_rows(0, 400)]
    lines[5] = "a,b,c"
    data = ("\n".join(lines) + "\n").encode()
    data = data[:-200] + b"\xff" + data[-199:]
    landing = _land(tmp_path, "mixed.csv", data)
    _, errors = _delivered(tmp_path, landing)
    assert errors == [f"not_utf8: not UTF-8: invalid byte 0xff at offset {len(data) - 200}\n"]


def test_later_ragged_rows_are_named_before_an_earlier_field_too_long(tmp_path: Path) -> None:
    lines = [HEADER, *_rows(0, 400)]
    lines[3] = "x" * 131_073 + ",a@x.com,1990-01-01,12345678"
    lines[390] = "a,b"
    landing = _land(tmp_path, "long_ragged.csv", ("\n".join(lines) + "\n").encode())
    _, errors = _delivered(tmp_path, landing)
    assert errors == [
        "ragged_rows: ragged rows: 1 record(s) do not have the header's 4 fields; "
        "the first is at line 391 with 2\n"
    ]


def test_a_record_that_never_ends_is_not_held_until_it_does(tmp_path: Path) -> None:
    path = tmp_path / "one_line.csv"
    path.write_bytes(HEADER.encode() + b"\n" + b"a" * 100_000)
    pieces = read_pieces(path, regular_identity(path), 1_024, record_limit=8_192)
    assert next(pieces) == HEADER.encode() + b"\n"
    with pytest.raises(RecordTooLong):
        next(pieces)


def test_a_file_of_one_endless_line_is_quarantined_with_its_own_hash(tmp_path: Path) -> None:
    """Before: 200 MB without a line break peaked at 907 MiB (1 MiB pieces), 3 GB would not fit."""
    landing = tmp_path / "in"
    landing.mkdir()
    data = HEADER.encode() + b"\n" + b"a" * (RECORD_LIMIT + 2_000_000)
    (landing / "endless.csv").write_bytes(data)

    report = run_pipeline(
        landing, tmp_path / "out", RuleConfig(), options=RunOptions(piece_bytes=1_048_576)
    )

    detail = report.document.to_json()["files_detail"][0]
    assert detail["status"] == "quarantined"
    assert detail["sha256"] == hashlib.sha256(data).hexdigest()
    assert detail["error"] == (
        f"field_too_long: field too long: the record at line 2 runs over {RECORD_LIMIT:,} bytes "
        "without ending; the limit is 131,072 characters a field"
    )


def test_many_small_files_are_not_all_held_in_memory(tmp_path: Path) -> None:
    """Before: every file under a piece was held parsed until evaluated, so memory grew with the
    batch of files (30 files of 20 MB peaked at 1.63 GiB, one 1 GB file at 629 MiB). Now rows of
    files read whole are held up to ``hold_rows``; the next files' wait in the staging folder."""
    landing = tmp_path / "in"
    landing.mkdir()
    for index in range(5):
        rows = _rows(index * 100, index * 100 + 100)
        (landing / f"f{index}.csv").write_text("\n".join([HEADER, *rows]) + "\n")
    store = StateStore(tmp_path / "out")
    run_id = "20260101T000000.000000Z-000000"
    _, frames, rows_by_file, _, _ = _read_files(
        landing,
        [Entry(f"f{index}.csv", None) for index in range(5)],
        store,
        run_id,
        "date=2026-01-01/hour=00",
        None,
        hold_rows=250,
    )

    held = [frame for frame in frames if isinstance(frame, pl.DataFrame)]
    assert [frame.height for frame in held] == [100, 100]
    waiting = sorted((store.staging_path(run_id) / "spill").rglob("*.arrow"))
    assert len(waiting) == 3
    assert {oct(path.stat().st_mode & 0o777) for path in waiting} == {"0o640"}
    assert rows_by_file == {f"f{index}.csv": 100 for index in range(5)}
    read_back = [
        frame
        for item in frames
        if isinstance(item, Deferred)
        for frame in item.produce(item.source_file)
    ]
    assert [frame["line_number"].to_list() for frame in read_back] == [list(range(2, 102))] * 3
    assert [frame["source_file"][0] for frame in read_back] == ["f2.csv", "f3.csv", "f4.csv"]
    assert read_back[0]["name"][0] == "Ann Lee200"
    assert not list((store.staging_path(run_id) / "spill").rglob("*.arrow"))  # deleted once read
