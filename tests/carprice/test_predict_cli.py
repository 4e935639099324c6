"""`shopdata carprice predict` edges: near-ties, empty queries, repeated and valueless options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopdata.carprice.cli import app
from shopdata.config import get_settings

runner = CliRunner()

TIED = [
    "predict",
    "--maint", "vhigh",
    "--doors", "2",
    "--persons", "2",
    "--lug-boot", "small",
    "--safety", "low",
    "--class", "unacc",
]  # fmt: skip
"""The issue's near-tie: gradient boosting gives low 0.259 and med 0.259."""


def error_box(output: str) -> str:
    """The text inside Typer's boxed usage error, with its line wrapping undone."""
    inside = [line.strip("│ ") for line in output.splitlines() if line.startswith("│")]
    return " ".join(inside)


def test_a_near_tie_gives_no_clear_answer(trained_dir: Path) -> None:
    result = runner.invoke(app, [*TIED, "--model-dir", str(trained_dir)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1] == (
        "answer: no clear answer: low and med are 0.000 apart for gradient boosting (hist), "
        "less than the margin 0.05"
    )
    assert lines[2] == (
        "why uncertain: 4 row(s) of the table have these values, at 4 different prices "
        "(low 1, med 1, high 1, vhigh 1): these attributes do not fix the price"
    )
    assert lines[7] == "  gradient boosting (hist) *               0.259  0.259  0.246  0.236  -"
    assert lines[8] == "  data alone (exact rule)                  0.250  0.250  0.250  0.250  -"
    answer = json.loads(
        runner.invoke(app, [*TIED, "--json", "--model-dir", str(trained_dir)]).stdout
    )
    assert answer["answer"] is None
    assert answer["predicted"] == "low"  # the most probable level is still reported
    assert answer["supported"] == "weakly"


def test_a_smaller_margin_answers_the_near_tie(trained_dir: Path) -> None:
    result = runner.invoke(app, [*TIED, "--margin", "0", "--model-dir", str(trained_dir)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].startswith("answer: low, weakly supported: ")


def test_the_margin_comes_from_the_settings(
    trained_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPDATA_CARPRICE__TIE_MARGIN", "0.5")
    get_settings.cache_clear()
    try:
        result = runner.invoke(
            app, ["predict", "--class", "vgood", "--json", "--model-dir", str(trained_dir)]
        )
    finally:
        get_settings.cache_clear()
    answer = json.loads(result.stdout)
    assert answer["margin"] == 0.5
    assert answer["answer"] is None  # 0.629 vs 0.333 is closer than 0.5


def test_an_empty_query_says_it_averages_over_everything(trained_dir: Path) -> None:
    result = runner.invoke(app, ["predict", "--model-dir", str(trained_dir)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "query: (nothing)"
    assert lines[1].startswith("answer: no clear answer: ")
    assert lines[2] == (
        "why uncertain: nothing was given, so the answer averages over all 1,728 cars of the "
        "table; it describes the whole table, not a car"
    )
    assert "  nothing given: the prediction averages over every car in the table" in lines
    assert not any("interpolates" in line for line in lines)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--maint", "high", "--maint", "low"],
            "Option '--maint' is given more than once ('high', then 'low'); give it once.",
        ),
        (
            ["--maint=high", "--maint", "low"],
            "Option '--maint' is given more than once ('high', then 'low'); give it once.",
        ),
        (["--json", "--json"], "Option '--json' is given more than once; give it once."),
        (
            ["--safety", "--model-dir", "m"],
            "Option '--safety' requires a value, but the next argument is the option "
            "'--model-dir'.",
        ),
        (
            ["--class", "--safety=low"],
            "Option '--class' requires a value, but the next argument is the option '--safety'.",
        ),
        (["--safety"], "Option '--safety' requires an argument."),
    ],
)
def test_predict_refuses_ambiguous_options(
    trained_dir: Path, args: list[str], message: str
) -> None:
    # a valueless option last must stay last, or it would take --model-dir's place
    where = [] if args == ["--safety"] else ["--model-dir", str(trained_dir)]
    result = runner.invoke(app, ["predict", *args, *where])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert error_box(result.output) == message


def test_train_refuses_a_repeated_seed(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["train", "--seed", "1", "--seed", "2", "--model-dir", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert error_box(result.output) == (
        "Option '--seed' is given more than once ('1', then '2'); give it once."
    )
    assert list(tmp_path.iterdir()) == []


def test_repeatable_options_stay_repeatable(tmp_path: Path) -> None:
    # --model may be given several times; the check must not refuse it
    result = runner.invoke(
        app, ["train", "--model", "forest", "--model", "logistic", "--model-dir", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: unknown model 'forest'")


def test_plot_draws_the_spread(trained_dir: Path, tmp_path: Path) -> None:
    from .test_cli import EXPECTED_ANSWER, QUESTION, png_size

    picture = tmp_path / "pictures" / "spread.png"
    result = runner.invoke(
        app, [*QUESTION, "--plot", str(picture), "--model-dir", str(trained_dir)]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == EXPECTED_ANSWER
    assert result.stderr == f"drew {picture}\n"
    assert png_size(picture) == (1210, 478)


def test_plot_is_for_one_car(trained_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "cars.csv"
    source.write_text("maint\nhigh\n")
    result = runner.invoke(
        app,
        [
            "predict", "--csv", str(source), "--plot", str(tmp_path / "p.png"),
            "--model-dir", str(trained_dir),
        ],
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --csv scores the file's rows; it cannot be combined with --plot\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cars.csv"]


@pytest.mark.parametrize(
    ("variable", "value", "args", "message"),
    [
        (
            "TIE_MARGIN",
            "nan",
            ["predict", "--class", "good"],
            "Error: invalid setting carprice.tie_margin (SHOPDATA_CARPRICE__TIE_MARGIN='nan'): "
            "Input should be less than or equal to 1\n",
        ),
        (
            "SEED",
            "abc",
            ["train"],
            "Error: invalid setting carprice.seed (SHOPDATA_CARPRICE__SEED='abc'): "
            "Input should be a valid integer, unable to parse string as an integer\n",
        ),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_2(
    trained_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.setenv(f"SHOPDATA_CARPRICE__{variable}", value)
    get_settings.cache_clear()
    target = trained_dir if args[0] == "predict" else tmp_path / "model"
    try:
        result = runner.invoke(app, [*args, "--model-dir", str(target)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == message
    assert not (tmp_path / "model").exists()


def test_the_margin_option_refuses_nan(trained_dir: Path) -> None:
    result = runner.invoke(app, ["predict", "--margin", "nan", "--model-dir", str(trained_dir)])
    assert result.exit_code == 2
    assert error_box(result.output) == (
        "Invalid value for '--margin': Input should be less than or equal to 1"
    )


def test_strict_options_use_only_public_typer_names() -> None:
    """pyproject allows typer>=0.15: releases before the vendored Click have no ``typer._click``.

    Importing it made every ``shopdata`` command fail with ImportError on those releases, so the
    module may import nothing private (no dotted part starting with an underscore).
    """
    import ast

    import shopdata.carprice.strict_options as module

    tree = ast.parse(Path(module.__file__).read_text())
    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            imported += [f"{node.module}.{alias.name}" for alias in node.names]
    assert imported == ["typing.Any", "typer.core.TyperCommand", "typer.core.TyperOption"]
    assert not [name for name in imported if any(p.startswith("_") for p in name.split("."))]
