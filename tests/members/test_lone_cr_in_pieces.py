"""Issue 14's last hole: lone CRs must not make a file over a piece be read whole.

A lone CR is a line break to the CSV parser, but pieces are cut after line feeds only, so such a
file used to fall back to the whole read: one stray CR in a 3 GB file defeated the memory bound.
A file over ``read_piece_bytes`` with a lone CR is now quarantined (``cr_line_ends``, file kept,
nothing published) with the line and offset of the first one; a file up to a piece is read whole
as before, so old Mac files of a normal size still get today's answer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shopdata.members.ingest import RECORD_LIMIT
from shopdata.members.pipeline import RuleConfig, RunOptions, run_pipeline

from .test_batches import _same_in_pieces

Workspace = Any  # see conftest.py

HEADER = b"name,email,date_of_birth,mobile_no\n"
PIECE = 1_024  # the smallest piece the settings allow


def _rows(count: int) -> list[bytes]:
    return [b"Ann Lee%d,a%d@x.com,1990-01-01,1234 5678\n" % (i, i) for i in range(count)]


def _stray_cr_file(count: int) -> bytes:
    """``count`` rows, the 20th of which holds a stray CR (line 21 of the file)."""
    rows = _rows(count)
    rows[19] = b"Bo\rTan,b@x.com,1990-01-01,12345678\n"
    return HEADER + b"".join(rows)


def _report(ws: Workspace) -> dict[str, Any]:
    path = sorted((ws.output / "reports").glob("date=*/hour=*/run_*.json"))[-1]
    return dict(json.loads(path.read_text()))


def _message(line: int, offset: int, piece: int = PIECE) -> str:
    return (
        f"cr_line_ends: a lone CR (old Mac/Excel line end) at line {line} (offset {offset}); "
        f"a file over {piece:,} bytes (read_piece_bytes) is read in pieces cut after line "
        "feeds only: convert CR to LF (save as CSV UTF-8 with LF or CRLF)"
    )


def test_a_stray_cr_in_a_file_over_a_piece_quarantines_it(ws: Workspace) -> None:
    data = _stray_cr_file(200)
    assert len(data) > 4 * PIECE
    ws.land("big.csv", data)
    result = ws.run_process(env={"SHOPDATA_MEMBERS__READ_PIECE_BYTES": str(PIECE)})
    assert (result.returncode, result.stderr) == (1, "")
    report = _report(ws)
    assert [(f["name"], f["status"], f["error"]) for f in report["files_detail"]] == [
        ("big.csv", "quarantined", _message(21, data.index(b"\r")))
    ]
    assert report["totals"]["rows_in"] == 0
    assert ws.rows("successful") == [] and ws.rows("unsuccessful") == []
    run_id = report["run_id"]
    assert ws.files("quarantine") == [f"{run_id}__big.csv", f"{run_id}__big.csv.error.txt"]
    kept = ws.output / "quarantine" / f"{run_id}__big.csv"
    assert kept.read_bytes() == data  # nothing lost
    error = (ws.output / "quarantine" / f"{run_id}__big.csv.error.txt").read_text()
    assert error == _message(21, data.index(b"\r")) + "\n"
    assert ws.landed() == []


def test_the_same_content_within_a_piece_is_read_whole_as_before(ws: Workspace) -> None:
    data = _stray_cr_file(200)
    ws.land("big.csv", data)
    result = ws.run_process(env={"SHOPDATA_MEMBERS__READ_PIECE_BYTES": str(len(data))})
    report = _report(ws)
    # The CSV parser reads the lone CR as a line end: "Bo" is a ragged row, as it always was.
    assert (result.returncode, result.stderr) == (1, "")
    assert [(f["name"], f["status"], f["error"]) for f in report["files_detail"]] == [
        (
            "big.csv",
            "quarantined",
            "ragged_rows: ragged rows: 1 record(s) do not have the header's 4 fields; "
            "the first is at line 21 with 1",
        )
    ]


def test_a_stray_cr_within_a_piece_is_still_a_line_end(ws: Workspace) -> None:
    data = HEADER + b"Bo Tan,b@x.com,1990-01-01,12345678\rCy Ho,c@x.com,1990-01-01,87654321\n"
    ws.land("small.csv", data)
    result = ws.run_process(env={"SHOPDATA_MEMBERS__READ_PIECE_BYTES": str(PIECE)})
    assert (result.returncode, result.stderr) == (0, "")
    assert [r["email"] for r in ws.rows("successful")] == ["b@x.com", "c@x.com"]


def test_a_lone_cr_ending_a_file_over_a_piece_is_named(ws: Workspace) -> None:
    """The last piece, which need not end with a line feed, is checked too."""
    data = HEADER + b"".join(_rows(100)) + b"Bo Tan,b@x.com,1990-01-01,12345678\r"
    ws.land("tail.csv", data)
    result = ws.run_process(env={"SHOPDATA_MEMBERS__READ_PIECE_BYTES": str(PIECE)})
    assert result.returncode == 1
    assert [f["error"] for f in _report(ws)["files_detail"]] == [_message(102, len(data) - 1)]


def test_a_big_old_mac_file_is_quarantined_without_being_read_whole(tmp_path: Path) -> None:
    """No line feed in the first 64 MiB: the record limit stops the read, and names the CR."""
    landing = tmp_path / "in"
    landing.mkdir()
    row = b"Ann Lee,a@x.com,1990-01-01,12345678\r"
    data = HEADER[:-1] + b"\r" + row * (RECORD_LIMIT // len(row) + 1_000)
    (landing / "mac.csv").write_bytes(data)

    report = run_pipeline(
        landing, tmp_path / "out", RuleConfig(), options=RunOptions(piece_bytes=1_048_576)
    )

    detail = report.document.to_json()["files_detail"][0]
    assert (detail["status"], detail["error"]) == (
        "quarantined",
        _message(1, len(HEADER) - 1, 1_048_576),
    )
    kept = list((tmp_path / "out" / "quarantine").glob("*__mac.csv"))
    assert [path.stat().st_size for path in kept] == [len(data)]


def test_a_lone_cr_inside_quotes_is_data_and_the_file_is_read_in_pieces(tmp_path: Path) -> None:
    """A CR inside a quoted field is no line break: the file is read in pieces like a whole read."""
    rows = _rows(300)
    rows[150] = b'"Bo\rTan",b@x.com,1990-01-01,12345678\n'
    rows[200] = b'"Cy ""x""\rHo",c@x.com,1990-01-01,12345678\n'
    landing = tmp_path / "in"
    landing.mkdir()
    (landing / "quoted.csv").write_bytes(HEADER + b"".join(rows))
    report, errors = _same_in_pieces(tmp_path, landing, piece_bytes=PIECE)  # type: ignore[misc]
    assert errors == []
    assert (report["totals"]["rows_in"], report["totals"]["files_quarantined"]) == (300, 0)


def test_a_lone_cr_after_a_quoted_field_is_still_named(ws: Workspace) -> None:
    data = _stray_cr_file(200).replace(b"Ann Lee5,", b'"Ann\rLee5",')
    ws.land("big.csv", data)
    result = ws.run_process(env={"SHOPDATA_MEMBERS__READ_PIECE_BYTES": str(PIECE)})
    assert result.returncode == 1
    assert [f["error"] for f in _report(ws)["files_detail"]] == [
        _message(21, data.index(b"Bo\r") + 2)
    ]


def _old_mac_file(count: int, header: bytes = HEADER.rstrip(b"\n") + b"\r") -> bytes:
    """Old Mac/Excel line ends: every line ends in a lone CR, so no line feed at all."""
    return header + b"".join(r.replace(b"\n", b"\r") for r in _rows(count))


def test_an_old_mac_file_stops_the_read_at_its_first_cr(ws: Workspace) -> None:
    """Without a line feed no piece ends: the read used to carry the whole file (up to 64 MiB)
    and scan it again for every piece added, 20 s for 9.5 MB at 1 KiB pieces, before finding
    the CR it could have named at once (found by the acceptance tester of issue 14's CR change)."""
    from shopdata.members.ingest import RECORD_LIMIT as LIMIT
    from shopdata.members.landing import RecordTooLong, read_pieces, regular_identity

    data = _old_mac_file(20_000)
    assert len(data) > 800 * PIECE and b"\n" not in data
    path = ws.land("mac.csv", data)
    pieces = read_pieces(path, regular_identity(path), PIECE, LIMIT)
    try:
        first = next(pieces)
    except RecordTooLong as long:
        assert (long.lone_cr, long.lines_before) == (data.index(b"\r"), 0)
    else:  # before the fix: the whole file, as one "piece"
        raise AssertionError(f"a piece of {len(first):,} bytes was read, not stopped at the CR")
    result = ws.run_process(env={"SHOPDATA_MEMBERS__READ_PIECE_BYTES": str(PIECE)})
    assert (result.returncode, result.stderr) == (1, "")
    report = _report(ws)
    assert [(f["name"], f["status"], f["error"]) for f in report["files_detail"]] == [
        ("mac.csv", "quarantined", _message(1, data.index(b"\r")))
    ]
    run_id = report["run_id"]
    assert (ws.output / "quarantine" / f"{run_id}__mac.csv").read_bytes() == data
    assert ws.rows("successful") == [] and ws.rows("unsuccessful") == []


def test_an_old_mac_body_after_an_lf_header_names_line_2(ws: Workspace) -> None:
    data = _old_mac_file(5_000, header=HEADER)
    ws.land("mac.csv", data)
    result = ws.run_process(env={"SHOPDATA_MEMBERS__READ_PIECE_BYTES": str(PIECE)})
    assert (result.returncode, result.stderr) == (1, "")
    assert [(f["name"], f["status"], f["error"]) for f in _report(ws)["files_detail"]] == [
        ("mac.csv", "quarantined", _message(2, data.index(b"\r")))
    ]


def test_a_crlf_split_across_reads_inside_a_long_record_is_no_lone_cr(ws: Workspace) -> None:
    """A record longer than a piece is read on block after block: when a block ends with the CR
    of its CRLF, that CR is not lone (its LF is the next block's first byte)."""
    header = b"name,email,date_of_birth,mobile_no,note\r\n"
    for shift in range(-2, 3):
        root = ws.landing.parent / f"shift{shift + 2}"
        root.mkdir()
        ws = type(ws)(root)
        # Reads are PIECE bytes: put the long record's CR at byte 2 * PIECE - 1 + shift, the end
        # of the second read, which ends no record.
        first = b"Ann Lee,a@x.com,1990-01-01,1234 5678,"
        note = b"n" * (2 * PIECE - 1 + shift - len(header) - len(first))
        data = (
            header
            + first
            + note
            + b"\r\n"
            + b"".join(r.replace(b"\n", b"\r\n").replace(b"5678", b"5678,x") for r in _rows(100))
        )
        assert data[2 * PIECE - 1 + shift : 2 * PIECE + 1 + shift] == b"\r\n"
        ws.land("crlf.csv", data)
        result = ws.run_process(env={"SHOPDATA_MEMBERS__READ_PIECE_BYTES": str(PIECE)})
        assert (result.returncode, result.stderr) == (0, ""), shift
        assert [(f["name"], f["status"]) for f in _report(ws)["files_detail"]] == [
            ("crlf.csv", "processed")
        ]
        assert len(ws.rows("successful")) + len(ws.rows("unsuccessful")) == 101
