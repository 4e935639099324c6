"""Training and prediction time of the car buying-price model families.

Run: ``.venv/bin/python bench/bench_carprice.py``. Prints, per family, the time of one fit on
all 1,728 rows (median of 3), of one 5-fold grouped CV repeat, and of one marginalised
prediction for the issue's question, so the cost of ``shopdata carprice train`` (10 repeats x
2 schemes) can be estimated before running it.
"""

from __future__ import annotations

import os
import statistics
import time

from shopdata.carprice.data import load_car_data
from shopdata.carprice.evaluate import cross_validate
from shopdata.carprice.models import MODEL_LABELS, MODEL_NAMES
from shopdata.carprice.predict import predict
from shopdata.carprice.train import fit_family

QUESTION = {"maint": "high", "doors": "4", "lug_boot": "big", "safety": "high", "class": "good"}


def _seconds(action: object, repeats: int = 3) -> float:
    """Median wall time of ``action()`` over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Print one line per family."""
    frame = load_car_data().frame
    print(f"cpus: {os.cpu_count()}, rows: {len(frame)}")
    print(f"{'family':<40}{'fit (s)':>9}{'5-fold CV (s)':>15}{'predict (ms)':>14}")
    total = 0.0
    for name in MODEL_NAMES:
        fit = _seconds(lambda name=name: fit_family(frame, name, 42))
        start = time.perf_counter()
        cross_validate(frame, [name], "grouped", folds=5, repeats=1, seed=42)
        cv = time.perf_counter() - start
        total += cv
        model = fit_family(frame, name, 42)
        latency = _seconds(lambda model=model: predict(model, frame, QUESTION), repeats=5)
        print(f"{MODEL_LABELS[name]:<40}{fit:>9.3f}{cv:>15.2f}{latency * 1000:>14.1f}")
    print(
        f"one 5-fold repeat of every family: {total:.1f} s on 1 job; "
        f"`train` runs 10 repeats x 2 schemes: about {total * 20:.0f} s on 1 job"
    )


if __name__ == "__main__":
    main()
