"""`shopdata carprice predict --csv`: one scored row per input row, or nothing at all."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from shopdata.carprice.batch import BatchError, parse_queries
from shopdata.carprice.cli import app
from shopdata.carprice.data import FEATURES
from shopdata.carprice.predict import check_query

runner = CliRunner()

CARS = """\
class,maint,doors,lug_boot,safety
good,high,4,big,high
vgood,low,,,
,,,,
unacc,vhigh,2,small,low
"""
"""Any subset of attributes, in any order; empty cells are not given."""


def _single(trained_dir: Path, given: dict[str, str]) -> dict[str, object]:
    options = [part for name, value in given.items() for part in (f"--{name}", value)]
    options = [o.replace("--lug_boot", "--lug-boot") for o in options]
    result = runner.invoke(app, ["predict", *options, "--json", "--model-dir", str(trained_dir)])
    assert result.exit_code == 0, result.output
    answer: dict[str, object] = json.loads(result.stdout)
    return answer


def test_scores_every_row_like_a_single_prediction(trained_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "cars.csv"
    source.write_text(CARS)
    result = runner.invoke(app, ["predict", "--csv", str(source), "--model-dir", str(trained_dir)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == [
        "line", "class", "maint", "doors", "lug_boot", "safety",
        "predicted", "low", "med", "high", "vhigh",
    ]  # fmt: skip
    assert [row[:6] for row in rows[1:]] == [
        ["2", "good", "high", "4", "big", "high"],
        ["3", "vgood", "low", "", "", ""],
        ["4", "", "", "", "", ""],
        ["5", "unacc", "vhigh", "2", "small", "low"],
    ]
    assert [row[6] for row in rows[1:]] == ["low", "med", "no clear answer", "no clear answer"]
    assert rows[1][7:] == ["0.935282", "0.046120", "0.009311", "0.009287"]
    for row in rows[1:]:
        given = {name: value for name, value in zip(rows[0][1:6], row[1:6], strict=True) if value}
        single = _single(trained_dir, given)
        probabilities = single["probabilities"]
        assert isinstance(probabilities, dict)
        assert row[7:] == [f"{probabilities[c]:.6f}" for c in ("low", "med", "high", "vhigh")]
        assert row[6] == (single["answer"] or "no clear answer")


def test_output_file_holds_what_stdout_would(trained_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "cars.csv"
    source.write_text(CARS)
    target = tmp_path / "scores.csv"
    shown = runner.invoke(app, ["predict", "--csv", str(source), "--model-dir", str(trained_dir)])
    written = runner.invoke(
        app,
        ["predict", "--csv", str(source), "--output", str(target), "--model-dir", str(trained_dir)],
    )
    assert written.exit_code == 0, written.output
    assert written.stdout == ""
    assert written.stderr == f"wrote 4 row(s) to {target}\n"
    assert target.read_text() == shown.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cars.csv", "scores.csv"]


def test_bad_rows_are_all_reported_and_nothing_is_written(
    trained_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "cars.csv"
    source.write_text(
        "maint,doors\n"
        "high,4\n"
        "high,7\n"  # line 3: bad value
        "low\n"  # line 4: too few values
        "cheap,2,3\n"  # line 5: too many values
        "med,5more\n"
    )
    target = tmp_path / "scores.csv"
    target.write_text("earlier results\n")
    result = runner.invoke(
        app,
        ["predict", "--csv", str(source), "--output", str(target), "--model-dir", str(trained_dir)],
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: {source}: line 3: doors cannot be '7', expected one of: 2, 3, 4, 5more\n"
        f"Error: {source}: line 4: expected 2 value(s) (maint, doors), got 1\n"
        f"Error: {source}: line 5: expected 2 value(s) (maint, doors), got 3\n"
        f"3 problem(s); nothing written to {target}\n"
    )
    assert target.read_text() == "earlier results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cars.csv", "scores.csv"]


def test_a_bad_row_on_stdout_writes_no_partial_output(trained_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "cars.csv"
    source.write_text("safety\nhigh\n" * 1 + "extreme\n")
    result = runner.invoke(app, ["predict", "--csv", str(source), "--model-dir", str(trained_dir)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: {source}: line 3: safety cannot be 'extreme', expected one of: low, med, high\n"
        "1 problem(s); nothing written to stdout\n"
    )


def test_many_bad_rows_are_counted_after_the_first_twenty(
    trained_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "cars.csv"
    source.write_text("persons\n" + "5\n" * 25)
    result = runner.invoke(app, ["predict", "--csv", str(source), "--model-dir", str(trained_dir)])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 22
    assert (
        lines[0] == f"Error: {source}: line 2: persons cannot be '5', expected one of: 2, 4, more"
    )
    assert lines[19].startswith(f"Error: {source}: line 21: ")
    assert lines[20] == "Error: … and 5 more problem(s)"
    assert lines[21] == "25 problem(s); nothing written to stdout"


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("", ["the file is empty; expected a header of attribute names"]),
        (
            "\n",
            [
                "line 1: no header; expected attribute names among: "
                "maint, doors, persons, lug_boot, safety, class"
            ],
        ),
        (
            "maint,colour\nhigh,red\n",
            [
                "line 1: column 2 is 'colour', expected attribute names among: "
                "maint, doors, persons, lug_boot, safety, class"
            ],
        ),
        (
            "buying,maint\nlow,high\n",
            [
                "line 1: column 1 is 'buying', the price the model predicts, not an input; "
                "expected attribute names among: maint, doors, persons, lug_boot, safety, class"
            ],
        ),
        ("maint,doors,maint\nhigh,2,low\n", ["line 1: column 'maint' appears twice"]),
        (
            'maint,doors\n"high,2\n',
            ["line 2: expected 2 value(s) (maint, doors), got 1"],
        ),
    ],
)
def test_malformed_files_are_refused(text: str, problems: list[str]) -> None:
    with pytest.raises(BatchError) as caught:
        parse_queries(text)
    assert caught.value.problems == problems


def test_header_only_gives_header_only() -> None:
    queries = parse_queries("doors\n")
    assert (queries.columns, queries.rows) == (["doors"], [])


def test_quoted_values_blank_lines_and_spaces(trained_dir: Path) -> None:
    queries = parse_queries(' maint , "doors"\n\n"high", 4 \n\nlow,"2"\n')
    assert queries.columns == ["maint", "doors"]
    assert queries.rows == [
        (3, {"maint": "high", "doors": "4"}),
        (5, {"maint": "low", "doors": "2"}),
    ]


def test_a_byte_order_mark_is_not_part_of_the_header(trained_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "cars.csv"
    source.write_bytes("\ufeffmaint\r\nhigh\r\n".encode())
    result = runner.invoke(app, ["predict", "--csv", str(source), "--model-dir", str(trained_dir)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "line,maint,predicted,low,med,high,vhigh"
    assert result.stdout.splitlines()[1].startswith("2,high,")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.csv", "{path}: no such file"),
        (lambda d: d, "{path}: is a directory, expected a CSV file"),
    ],
)
def test_unreadable_inputs(trained_dir: Path, tmp_path: Path, make: object, message: str) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    result = runner.invoke(app, ["predict", "--csv", str(path), "--model-dir", str(trained_dir)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {message.format(path=path)}\n1 problem(s); nothing written to stdout\n"
    )


def test_not_utf8_is_refused(trained_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "cars.csv"
    source.write_bytes(b"maint\n\xffhigh\n")
    result = runner.invoke(app, ["predict", "--csv", str(source), "--model-dir", str(trained_dir)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {source}: not UTF-8 text (invalid start byte)\n"
        "1 problem(s); nothing written to stdout\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--maint", "high"],
            "Error: --csv scores the file's rows; it cannot be combined with --maint\n",
        ),
        (["--json"], "Error: --csv scores the file's rows; it cannot be combined with --json\n"),
    ],
)
def test_csv_refuses_single_car_options(
    trained_dir: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    source = tmp_path / "cars.csv"
    source.write_text(CARS)
    result = runner.invoke(
        app, ["predict", "--csv", str(source), *args, "--model-dir", str(trained_dir)]
    )
    assert result.exit_code == 2
    assert result.stderr == message


def test_output_needs_csv(trained_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["predict", "--output", str(tmp_path / "x.csv"), "--model-dir", str(trained_dir)]
    )
    assert result.exit_code == 2
    assert result.stderr == "Error: --output needs --csv: a single prediction goes to stdout\n"
    assert list(tmp_path.iterdir()) == []


def test_output_may_not_overwrite_the_input(trained_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "cars.csv"
    source.write_text(CARS)
    result = runner.invoke(
        app,
        ["predict", "--csv", str(source), "--output", str(source), "--model-dir", str(trained_dir)],
    )
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: --output {source} is the input file; write the scores elsewhere\n"
    )
    assert source.read_text() == CARS


def test_unwritable_output_fails_cleanly(trained_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "cars.csv"
    source.write_text(CARS)
    target = tmp_path / "no" / "such" / "dir.csv"
    result = runner.invoke(
        app,
        ["predict", "--csv", str(source), "--output", str(target), "--model-dir", str(trained_dir)],
    )
    assert result.exit_code == 1
    assert result.stderr == f"Error: cannot write {target}: No such file or directory\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cars.csv"]


def _score_to(trained_dir: Path, source: Path, target: Path) -> str:
    result = runner.invoke(
        app,
        ["predict", "--csv", str(source), "--output", str(target), "--model-dir", str(trained_dir)],
    )
    assert result.exit_code == 0, result.output
    expected = runner.invoke(
        app, ["predict", "--csv", str(source), "--model-dir", str(trained_dir)]
    ).stdout
    assert expected.startswith("line,")
    return expected


def test_output_through_a_symlink_writes_its_target(trained_dir: Path, tmp_path: Path) -> None:
    # `--output /dev/stdout` is such a link: renaming over it replaced the link itself (as root,
    # /dev/stdout became a regular file for every process on the machine)
    source = tmp_path / "cars.csv"
    source.write_text(CARS)
    (tmp_path / "scores").mkdir()
    real = tmp_path / "scores" / "latest.csv"
    real.write_text("old\n")
    link = tmp_path / "latest.csv"
    link.symlink_to(real)
    expected = _score_to(trained_dir, source, link)
    assert link.is_symlink() and link.readlink() == real
    assert real.read_text() == expected
    assert sorted(p.name for p in (tmp_path / "scores").iterdir()) == ["latest.csv"]


def test_output_to_a_pipe_is_written_not_replaced(trained_dir: Path, tmp_path: Path) -> None:
    import os
    import stat
    import threading

    source = tmp_path / "cars.csv"
    source.write_text(CARS)
    pipe = tmp_path / "scores.pipe"
    os.mkfifo(pipe)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_text()))
    reader.start()
    expected = _score_to(trained_dir, source, pipe)
    reader.join(timeout=30)
    assert received == [expected]
    assert stat.S_ISFIFO(pipe.stat().st_mode)


def test_output_mode_follows_the_umask_or_the_replaced_file(
    trained_dir: Path, tmp_path: Path
) -> None:
    import os
    import stat

    source = tmp_path / "cars.csv"
    source.write_text(CARS)
    fresh = tmp_path / "fresh.csv"
    old = os.umask(0o022)
    try:
        _score_to(trained_dir, source, fresh)
    finally:
        os.umask(old)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644  # not mkstemp's 0600
    kept = tmp_path / "kept.csv"
    kept.write_text("old\n")
    kept.chmod(0o640)
    _score_to(trained_dir, source, kept)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "maint",
                "doors",
                "class",
                "high",
                "4",
                "good",
                "7",
                "buying",
                ",",
                '"',
                "\n",
                "\r",
                " ",
                "",
            ]
        ),
        max_size=40,
    )
)
def test_any_text_parses_or_fails_with_line_numbers(parts: list[str]) -> None:
    text = "".join(parts)
    try:
        queries = parse_queries(text)
    except BatchError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.startswith(("line ", "the file is empty")), problem
        return
    assert queries.columns and set(queries.columns) <= set(FEATURES)
    numbers = [number for number, _ in queries.rows]
    assert numbers == sorted(numbers) and all(n >= 2 for n in numbers)
    for _, given_values in queries.rows:
        assert check_query(given_values) == given_values


@pytest.mark.parametrize("mode", ["csv", "single"])
def test_a_full_disk_on_stdout_is_one_line_and_exit_1(
    trained_dir: Path, tmp_path: Path, mode: str
) -> None:
    import subprocess
    import sys

    if not Path("/dev/full").exists():
        pytest.fail("this test needs /dev/full (Linux)")
    source = tmp_path / "cars.csv"
    source.write_text(CARS)
    args = ["--csv", str(source)] if mode == "csv" else ["--maint", "high"]
    script = "import sys\nfrom shopdata.cli import app\napp(sys.argv[1:])\n"
    with Path("/dev/full").open("w") as full:
        done = subprocess.run(
            [sys.executable, "-c", script, "carprice", "predict", *args,
             "--model-dir", str(trained_dir)],
            stdout=full, stderr=subprocess.PIPE, text=True, check=False,
        )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr == "Error: cannot write to stdout: No space left on device\n"
