"""The input contract: every kind of bad file gets a stable kind and a readable message."""

from __future__ import annotations

import pytest

from shopdata.members.ingest import BadFile, has_controls, parse_applications

HEADER = b"name,email,date_of_birth,mobile_no"


@pytest.mark.parametrize(
    ("data", "kind", "message"),
    [
        (b"", "empty", "file is empty"),
        (b" \r\n\n", "empty", "file is empty"),
        (HEADER + b"\n", "header_only", "file has a header but no data rows"),
        (HEADER + b"\r\n\r\n", "header_only", "file has a header but no data rows"),
        (
            b"name,e\xe9mail\n",
            "not_utf8",
            "not UTF-8: invalid byte 0xe9 at offset 6",
        ),
        (
            b"name,email,mobile_no\nA B,a@b.com,12345678\n",
            "missing_columns",
            "missing required column(s): date_of_birth (header: name, email, mobile_no)",
        ),
        (
            HEADER + b",name\n",
            "duplicate_columns",
            "duplicate column(s) in header: name",
        ),
        (
            HEADER + b"\nA B,a@b.com,1990-01-01,12345678\nC D,c@d.com,1990-01-01\n",
            "ragged_rows",
            "ragged rows: 1 record(s) do not have the header's 4 fields; the first is at line 3 with 3",
        ),
        (
            HEADER + b"\nA B,a@b.com,1990-01-01,12345678,extra\nC,c,d,e,f\n",
            "ragged_rows",
            "ragged rows: 2 record(s) do not have the header's 4 fields; the first is at line 2 with 5",
        ),
        (
            HEADER + b'\n"A B",a@b.com,1990-01-01,"1234 5678"\n"C D",c@d.com,1990\n',
            "ragged_rows",
            "ragged rows: 1 record(s) do not have the header's 4 fields; the first is at line 3 with 3",
        ),
        (
            # A short line and a last line with one trailing comma and no newline: the comma
            # count still matches the header's width, so only a per-line check catches it.
            HEADER + b"\nA B,a@b.com,1990-01-01\nC D,c@d.com,1990-01-01,12345678,",
            "ragged_rows",
            "ragged rows: 2 record(s) do not have the header's 4 fields; the first is at line 2 with 3",
        ),
        (
            b"\n" + HEADER + b"\nA B,a@b.com,1990-01-01,12345678\n",
            "missing_columns",
            "missing required column(s): name, email, date_of_birth, mobile_no (header: )",
        ),
        (
            b"  \r" + HEADER + b"\r\nA B,a@b.com,1990-01-01,12345678\r\n",
            "blank_column",
            "blank column name at position 1",
        ),
        (
            HEADER.rstrip(b"\n") + b",,\nA B,a@b.com,1990-01-01,12345678,,\n",
            "blank_column",
            "blank column name at position 5",
        ),
        (
            HEADER + b'\n"A B,a@b.com,1990-01-01,12345678\n',
            "malformed_csv",
            "malformed CSV at line 2: unexpected end of data",
        ),
    ],
    ids=[
        "empty",
        "whitespace-only",
        "header-only",
        "header-and-blank-lines",
        "not-utf8",
        "missing-column",
        "duplicate-column",
        "short-row",
        "long-rows",
        "short-row-quoted",
        "short-row-and-trailing-comma-at-eof",
        "blank-first-line",
        "spaces-then-cr-before-header",
        "two-blank-column-names",
        "unclosed-quote",
    ],
)
def test_bad_files(data: bytes, kind: str, message: str) -> None:
    with pytest.raises(BadFile) as caught:
        parse_applications(data)
    assert (caught.value.kind, caught.value.message) == (kind, message)


def test_bom_crlf_quoting_any_column_order_and_extra_columns() -> None:
    data = (
        b"\xef\xbb\xbf Mobile_No ,email,Name,date_of_birth,Referrer\r\n"
        b'"3631 6303", a@b.com ,"Smith, Jr., Ann","1990-01-01","said ""hi"""\r\n'
        b"\r\n"
        b'12345678,c@d.net,"Multi\r\nLine",1990-01-01,x\r\n'
    )
    parsed = parse_applications(data)
    assert parsed.extra_columns == ("extra_referrer",)
    assert parsed.frame.columns == [
        "line_number",
        "mobile_no",
        "email",
        "name",
        "date_of_birth",
        "extra_referrer",
    ]
    assert parsed.frame.rows() == [
        (2, "3631 6303", "a@b.com", "Smith, Jr., Ann", "1990-01-01", 'said "hi"'),
        (4, "12345678", "c@d.net", "Multi\r\nLine", "1990-01-01", "x"),
    ]


def test_line_numbers_skip_blank_lines_and_count_the_header() -> None:
    data = HEADER + b"\nA B,a@b.com,1990-01-01,12345678\n\n  \nC D,c@d.com,1990-01-01,12345678\n\n"
    assert parse_applications(data).frame["line_number"].to_list() == [2, 5]


def test_empty_fields_are_kept_as_empty_strings() -> None:
    parsed = parse_applications(HEADER + b"\n,,,\n")
    assert parsed.frame.rows() == [(2, "", "", "", "")]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (HEADER + b"\nA B,a@b.com,1990-01-01,12345678\r\n", False),
        ("Jos\u00e9 M\u00fcller,a,b,c\n".encode(), False),
        (b"A\x00B,a,b,c\n", True),
        (b"\x1b[31mA,a,b,c\n", True),
        (b"A\x7f,a,b,c\n", True),
        ("A\u0085B,a,b,c\n".encode(), True),
        ("\u00c2\u00a0A,a,b,c\n".encode(), False),  # a C2 lead byte that is not a C1 control
    ],
)
def test_control_bytes_are_found_in_one_pass(data: bytes, expected: bool) -> None:
    assert has_controls(data) is expected
