"""Time of the car buying-price model: `predict` as a whole process, batch scoring, and training.

Run: ``.venv/bin/python bench/bench_carprice.py [--model-dir DIR] [--runs N] [--skip-training]
[--baseline SRC]`` (``SRC``: e.g. ``git archive main src | tar -x -C /tmp/main``, then
``/tmp/main/src``, to run main's ``predict`` alternately with this checkout's).

* **predict, whole process**: ``shopdata carprice predict`` for the issue's question, started as
  a fresh process each time, against yardsticks run alternately with it (so a busy machine
  slows all alike): the bare interpreter (``python -c pass``); ``shopdata carprice evaluate``,
  the cheapest command with options (Typer, which imports pydantic to check option values, and
  the settings object, then a JSON file and a table printed); and the old way of answering,
  which loaded ``model.skops`` with scikit-learn and skops and asked the model (the same script as
  before the probability table, minus the CLI). Wall and CPU time (user + system, from the child's
  rusage), median of ``--runs``. A third variant passes ``--model-dir`` and ``--margin``, so the
  settings object (pydantic-settings) is never imported: the difference is its cost.
* **batch**: ``predict --csv`` on 10,000 random cars (mixed subsets of attributes).
* **training** (unless ``--skip-training``): per family, one fit on all 1,728 rows (median of 3),
  one 5-fold grouped CV repeat, so the cost of ``train`` (10 repeats x 2 schemes) can be
  estimated before running it.

Without ``--model-dir`` a small model (3 folds, 1 repeat) is trained into a temporary folder
first; the table's numbers do not depend on the CV settings, only on the seed.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shopdata.carprice.data import FEATURES, LEVELS

QUESTION = {"maint": "high", "doors": "4", "lug_boot": "big", "safety": "high", "class": "good"}
OPTIONS = ["--maint", "high", "--doors", "4", "--lug-boot", "big", "--safety", "high"]
OPTIONS += ["--class", "good"]

OLD_WAY = """
import sys
from pathlib import Path
from shopdata.carprice.persist import load_model, training_data
from shopdata.carprice.predict import model_scorer, predict
model, manifest = load_model(Path(sys.argv[1]))
rows = training_data(manifest)
query = {"maint": "high", "doors": "4", "lug_boot": "big", "safety": "high", "class": "good"}
print(predict(model_scorer(model), rows, query).probabilities)
"""


def _run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds of one child process running ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _train_small(directory: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "shopdata.cli",
            "carprice",
            "train",
            "--model-dir",
            str(directory),
            "--folds",
            "3",
            "--repeats",
            "1",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def bench_predict(model_dir: Path, runs: int, baseline: Path | None = None) -> None:
    """Whole-process predict against the bare interpreter and the old way, alternating.

    ``baseline``: the ``src`` folder of another checkout (say ``git archive main src``), whose
    ``predict`` runs alternately too (``PYTHONPATH``), so a change is measured side by side.
    """
    commands = {
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
        "evaluate (CLI floor: reads metrics.json)": [
            sys.executable, "-m", "shopdata.cli", "carprice", "evaluate",
            "--model-dir", str(model_dir),
        ],
        "predict (probability table)": [
            sys.executable, "-m", "shopdata.cli", "carprice", "predict", *OPTIONS,
            "--model-dir", str(model_dir),
        ],
        "predict, --model-dir and --margin given": [
            sys.executable, "-m", "shopdata.cli", "carprice", "predict", *OPTIONS,
            "--model-dir", str(model_dir), "--margin", "0.05",
        ],
        "old way (load model.skops, ask the model)": [
            sys.executable, "-c", OLD_WAY, str(model_dir)
        ],
    }  # fmt: skip
    envs: dict[str, dict[str, str] | None] = {name: None for name in commands}
    if baseline is not None:
        name = "predict, baseline (--baseline src)"
        commands[name] = commands["predict (probability table)"]
        envs[name] = {**os.environ, "PYTHONPATH": str(baseline.resolve())}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for name, command in commands.items():  # warm the file cache once
        _run(command, envs[name])
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(_run(command, envs[name]))
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (cpus: {os.cpu_count()})")
    print(f"{'process':<44}{'wall (s)':>10}{'CPU (s)':>10}   median of {runs}")
    for name, measured in times.items():
        wall = statistics.median(w for w, _ in measured)
        cpu = statistics.median(c for _, c in measured)
        print(f"{name:<44}{wall:>10.3f}{cpu:>10.3f}")
    fast = statistics.median(c for _, c in times["predict (probability table)"])
    old = statistics.median(c for _, c in times["old way (load model.skops, ask the model)"])
    floor = statistics.median(c for _, c in times["evaluate (CLI floor: reads metrics.json)"])
    print(
        f"CPU ratio old way / predict: {old / fast:.1f}x; predict - evaluate: {fast - floor:.3f} s"
    )


def bench_batch(model_dir: Path, rows: int = 10_000, seed: int = 42) -> None:
    """``predict --csv`` on ``rows`` random cars, each attribute left out with probability 1/4."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "cars.csv"
        lines = [",".join(FEATURES)]
        for _ in range(rows):
            values = [rng.choice(LEVELS[name]) if rng.random() < 0.75 else "" for name in FEATURES]
            lines.append(",".join(values))
        source.write_text("\n".join(lines) + "\n")
        command = [
            sys.executable, "-m", "shopdata.cli", "carprice", "predict", "--csv", str(source),
            "--output", str(Path(folder) / "scores.csv"), "--model-dir", str(model_dir),
        ]  # fmt: skip
        wall, cpu = _run(command)
    print(f"batch: {rows:,} cars scored in {wall:.2f} s wall, {cpu:.2f} s CPU (whole process)")


def bench_training() -> None:
    """One line per family: fit, one 5-fold grouped CV repeat, one marginalised prediction."""
    from shopdata.carprice.data import load_car_data
    from shopdata.carprice.evaluate import cross_validate
    from shopdata.carprice.models import MODEL_LABELS, MODEL_NAMES
    from shopdata.carprice.predict import model_scorer, predict
    from shopdata.carprice.train import fit_family

    data = load_car_data()
    frame = data.frame

    def seconds(action: object, repeats: int = 3) -> float:
        measured = []
        for _ in range(repeats):
            start = time.perf_counter()
            action()  # type: ignore[operator]
            measured.append(time.perf_counter() - start)
        return statistics.median(measured)

    print(f"{'family':<40}{'fit (s)':>9}{'5-fold CV (s)':>15}{'predict (ms)':>14}")
    total = 0.0
    for name in MODEL_NAMES:
        fit = seconds(lambda name=name: fit_family(frame, name, 42))
        start = time.perf_counter()
        cross_validate(frame, [name], "grouped", folds=5, repeats=1, seed=42)
        cv = time.perf_counter() - start
        total += cv
        score = model_scorer(fit_family(frame, name, 42))
        latency = seconds(lambda score=score: predict(score, data.rows, QUESTION), repeats=5)
        print(f"{MODEL_LABELS[name]:<40}{fit:>9.3f}{cv:>15.2f}{latency * 1000:>14.1f}")
    print(
        f"one 5-fold repeat of every family: {total:.1f} s on 1 job; "
        f"`train` runs 10 repeats x 2 schemes: about {total * 20:.0f} s on 1 job"
    )


def main() -> None:
    """Parse the options and run the sections."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, help="a trained model (default: train one)")
    parser.add_argument("--runs", type=int, default=9, help="runs per process (default 9)")
    parser.add_argument("--skip-training", action="store_true", help="skip the training section")
    parser.add_argument(
        "--baseline", type=Path, help="src folder of another checkout to run predict from too"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        model_dir = args.model_dir
        if model_dir is None:
            model_dir = Path(folder) / "model"
            _train_small(model_dir)
        bench_predict(model_dir, args.runs, args.baseline)
        bench_batch(model_dir)
    if not args.skip_training:
        bench_training()


if __name__ == "__main__":
    main()
