"""`shopdata carprice` commands: train, evaluate, predict.

``predict`` never trains on the fly: a prediction should come from a model whose evaluation
someone could read, so without a trained model it stops with exit code 1 and says to run
``shopdata carprice train``.
"""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import typer

from shopdata.carprice.strict_options import StrictCommand
from shopdata.errors import EXIT_USAGE, SettingsError, fail

if TYPE_CHECKING:
    from collections.abc import Sequence

    from shopdata.carprice.data import Row
    from shopdata.carprice.metrics import Metrics
    from shopdata.carprice.predict import Scorer
    from shopdata.carprice.settings import CarPriceSettings

app = typer.Typer(help="Car buying-price model: train, evaluate, predict.", no_args_is_help=True)


def _choices(name: str, attribute: str) -> type[StrEnum]:
    """The CLI choices of one attribute: its levels in ``data.LEVELS``, the single source."""
    from shopdata.carprice.data import LEVELS

    return StrEnum(name, [(level, level) for level in LEVELS[attribute]])  # type: ignore[return-value]


# Typer reads the choices from the annotation's enum; mypy sees the base class.
if TYPE_CHECKING:
    Maint: TypeAlias = StrEnum
    Doors: TypeAlias = StrEnum
    Persons: TypeAlias = StrEnum
    LugBoot: TypeAlias = StrEnum
    Safety: TypeAlias = StrEnum
    CarClass: TypeAlias = StrEnum
else:
    Maint = _choices("Maint", "maint")
    Doors = _choices("Doors", "doors")
    Persons = _choices("Persons", "persons")
    LugBoot = _choices("LugBoot", "lug_boot")
    Safety = _choices("Safety", "safety")
    CarClass = _choices("CarClass", "class")


class Scheme(StrEnum):
    """Cross-validation splitting schemes (see shopdata.carprice.evaluate)."""

    grouped = "grouped"
    stratified = "stratified"


def _environment_is_silent() -> bool:
    """True when neither a ``SHOPDATA_*`` variable nor a ``.env`` file could change a setting.

    The settings object then holds every section's defaults, so its car-price section is
    ``CarPriceSettings()``, and pydantic-settings (about a third of `predict`'s start-up) need not
    be imported. Any such variable, valid or not, or any ``.env`` file takes the full path.
    """
    if any(name.upper().startswith("SHOPDATA_") for name in os.environ):
        return False
    return not Path(".env").exists()


def _settings() -> CarPriceSettings:
    """The car-price settings; a bad environment value stops with one line and exit code 2."""
    if _environment_is_silent():
        from shopdata.carprice.settings import CarPriceSettings

        return CarPriceSettings()
    from shopdata.config import get_settings

    try:
        return get_settings().carprice
    except SettingsError as error:
        fail(str(error), EXIT_USAGE)


def _emit(text: str, nl: bool = True) -> None:
    """Print the answer to stdout; a full disk or closed stdout is one line and exit code 1."""
    try:
        typer.echo(text, nl=nl)
        sys.stdout.flush()
    except OSError as error:
        fail(f"cannot write to stdout: {error.strerror or error}")


def _model_dir(option: Path | None) -> Path:
    return option if option is not None else _settings().model_dir


@app.command(cls=StrictCommand)
def train(
    model_dir: Path | None = typer.Option(
        None, "--model-dir", help="Where to write the model and metrics (settings: model_dir)."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Random seed (settings: seed, 42)."),
    folds: int | None = typer.Option(
        None, "--folds", min=2, help="Folds per repeat (settings: folds, 5)."
    ),
    repeats: int | None = typer.Option(
        None, "--repeats", min=1, help="Repeats of the K-fold split (settings: repeats, 10)."
    ),
    jobs: int | None = typer.Option(
        None, "--jobs", min=1, help="Folds fitted in parallel (settings: jobs, 2)."
    ),
    data: Path | None = typer.Option(
        None, "--data", help="car.data file to train on (default: the bundled copy)."
    ),
    plots_dir: Path | None = typer.Option(
        None, "--plots-dir", help="Where to draw the PNGs (default: the model folder)."
    ),
    models: list[str] | None = typer.Option(
        None, "--model", help="Only these families (repeatable; default: all)."
    ),
) -> None:
    """Cross-validate every model family, refit the best on all rows, write model + metrics."""
    from shopdata.carprice.data import CarDataError, load_car_data
    from shopdata.carprice.evaluate import SCHEMES, encode
    from shopdata.carprice.models import MODEL_NAMES
    from shopdata.carprice.persist import METRICS_FILE
    from shopdata.carprice.plots import comparison_plot, reliability_plot
    from shopdata.carprice.report import evaluation_text
    from shopdata.carprice.train import train as run_training

    names = list(MODEL_NAMES) if not models else list(dict.fromkeys(models))
    unknown = [name for name in names if name not in MODEL_NAMES]
    if unknown:
        fail(f"unknown model {unknown[0]!r}, expected one of: {', '.join(MODEL_NAMES)}", EXIT_USAGE)
    if len([name for name in names if name != "majority"]) < 2:
        fail("give at least two model families besides majority to choose between", EXIT_USAGE)
    if "majority" not in names:
        names.insert(0, "majority")
    try:
        car = load_car_data(data)
    except CarDataError as error:
        fail(str(error))
    target = _model_dir(model_dir)
    settings = _settings()
    try:
        result = run_training(
            car,
            target,
            seed if seed is not None else settings.seed,
            folds if folds is not None else settings.folds,
            repeats if repeats is not None else settings.repeats,
            jobs if jobs is not None else settings.jobs,
            [name for name in MODEL_NAMES if name in names],
        )
    except ValueError as error:  # e.g. a data file too small for the folds
        fail(f"cannot train on {car.source}: {error}")
    pictures = plots_dir if plots_dir is not None else target
    chosen = result.metrics.selection.chosen
    oof = result.results[SCHEMES[0]][chosen].oof
    assert oof is not None
    comparison_plot(result.metrics, pictures / "comparison.png")
    reliability_plot(
        oof,
        encode(car.frame)[1],
        f"{result.metrics.models[chosen]}: out-of-fold on grouped folds",
        pictures / "reliability.png",
    )
    typer.echo(evaluation_text(result.metrics))
    typer.echo(
        f"\nwrote {target / 'model.skops'} (sha256 {result.manifest.sha256[:12]}…), "
        f"{target / 'probabilities.json'}, "
        f"{target / METRICS_FILE}, {pictures / 'comparison.png'}, {pictures / 'reliability.png'}"
    )


def _read_metrics(directory: Path) -> Metrics:
    from shopdata.carprice.metrics import Metrics, MetricsError
    from shopdata.carprice.persist import METRICS_FILE

    try:
        return Metrics.read(directory / METRICS_FILE)
    except MetricsError as error:
        fail(str(error))


@app.command(cls=StrictCommand)
def evaluate(
    model_dir: Path | None = typer.Option(
        None, "--model-dir", help="Folder of the trained model (settings: model_dir)."
    ),
    markdown: bool = typer.Option(
        False, "--markdown", help="Print one scheme's table as markdown (for the model card)."
    ),
    scheme: Scheme = typer.Option(Scheme.grouped, "--scheme", help="Scheme of the markdown table."),
) -> None:
    """Print the model comparison recorded by the last `train` (no refitting)."""
    from shopdata.carprice.report import comparison_markdown, evaluation_text

    directory = _model_dir(model_dir)
    metrics = _read_metrics(directory)
    if markdown and scheme.value not in metrics.cross_validation.schemes:
        fail(f"{directory / 'metrics.json'} has no {scheme.value} scores; train again to get them")
    text = comparison_markdown(metrics, scheme.value) if markdown else evaluation_text(metrics)
    typer.echo(text)


@app.command(cls=StrictCommand)
def predict(
    maint: Maint | None = typer.Option(None, "--maint", help="Maintenance price."),
    doors: Doors | None = typer.Option(None, "--doors", help="Number of doors."),
    persons: Persons | None = typer.Option(None, "--persons", help="Capacity in persons."),
    lug_boot: LugBoot | None = typer.Option(None, "--lug-boot", help="Luggage boot size."),
    safety: Safety | None = typer.Option(None, "--safety", help="Estimated safety."),
    car_class: CarClass | None = typer.Option(None, "--class", help="Evaluation class."),
    model_dir: Path | None = typer.Option(
        None, "--model-dir", help="Folder of the trained model (settings: model_dir)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
    margin: float | None = typer.Option(
        None,
        "--margin",
        min=0.0,
        max=1.0,
        help="Say 'no clear answer' when the top two probabilities are closer than this "
        "(settings: tie_margin, 0.05).",
    ),
    csv_file: Path | None = typer.Option(
        None,
        "--csv",
        help="Score every row of this CSV (header: attribute names, any subset, any order; "
        "an empty cell is not given) instead of one car.",
    ),
    output: Path | None = typer.Option(
        None, "--output", help="With --csv: write the scores here instead of stdout."
    ),
    plot: Path | None = typer.Option(
        None, "--plot", help="Also draw the spread of the answer as a PNG here."
    ),
) -> None:
    """Predict the buying price: the chosen model's answer, every family's and the data's.

    Attributes left out are averaged over (and reported). Answers from the probability table
    `train` wrote, without fitting or loading a model. Exit codes: 0 answered, 1 no usable
    model, 2 bad options or bad CSV rows (then nothing is written).
    """
    from shopdata.carprice.data import CarDataError
    from shopdata.carprice.persist import ModelError, training_data
    from shopdata.carprice.report import prediction_json, prediction_text
    from shopdata.carprice.table import load_table
    from shopdata.carprice.verdict import answer_query

    options = {
        "maint": maint,
        "doors": doors,
        "persons": persons,
        "lug_boot": lug_boot,
        "safety": safety,
        "class": car_class,
    }
    given = {name: option.value for name, option in options.items() if option is not None}
    if output is not None and csv_file is None:
        fail("--output needs --csv: a single prediction goes to stdout", EXIT_USAGE)
    if csv_file is not None and (given or as_json or plot):
        used = [f"--{name.replace('_', '-')}" for name in given] + (["--json"] if as_json else [])
        used += ["--plot"] if plot else []
        fail(
            f"--csv scores the file's rows; it cannot be combined with {', '.join(used)}",
            EXIT_USAGE,
        )
    if margin is None:
        margin = _settings().tie_margin
    try:
        table, manifest = load_table(_model_dir(model_dir))
        rows = training_data(manifest)
    except (ModelError, CarDataError) as error:
        fail(str(error))
    if csv_file is not None:
        _score_file(csv_file, output, table.scorer(table.chosen), rows, margin)
        return
    scorers = {name: table.scorer(name) for name in table.families}
    result = answer_query(scorers, manifest.model, rows, given, margin)
    if as_json:
        _emit(json.dumps(prediction_json(result, manifest), indent=2))
    else:
        _emit(prediction_text(result, manifest.checked_max_probability))
    if plot is not None:
        from shopdata.carprice.plots import spread_plot
        from shopdata.carprice.report import spread_rows, spread_title

        try:
            spread_plot(spread_rows(result), spread_title(result), result.verdict.margin, plot)
        except OSError as error:
            fail(f"cannot write {plot}: {error.strerror or error}")
        typer.echo(f"drew {plot}", err=True)


def _score_file(
    source: Path, output: Path | None, scorer: Scorer, rows: Sequence[Row], margin: float
) -> None:
    """Score every row of ``source``; report every bad row and write nothing if there is one."""
    from shopdata.carprice.batch import (
        BatchError,
        read_queries,
        render,
        score,
        summary,
        write_atomically,
    )

    if output is not None and output.resolve() == source.resolve():
        fail(f"--output {output} is the input file; write the scores elsewhere", EXIT_USAGE)
    try:
        queries = read_queries(source)
    except BatchError as error:
        for line in summary(error.problems, output)[:-1]:
            typer.echo(f"Error: {line}", err=True)
        typer.echo(summary(error.problems, output)[-1], err=True)
        raise typer.Exit(EXIT_USAGE) from None
    text = render(score(queries, scorer, rows, margin))
    if output is None:
        _emit(text, nl=False)
        return
    try:
        write_atomically(output, text)
    except OSError as error:
        fail(f"cannot write {output}: {error.strerror or error}")
    typer.echo(f"wrote {len(queries.rows)} row(s) to {output}", err=True)
