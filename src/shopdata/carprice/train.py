"""Train, evaluate and persist: the work behind ``shopdata carprice train``.

Writes into the model folder:

* ``model.skops`` + ``model.json``: the chosen family refitted on the whole table (see
  :mod:`shopdata.carprice.persist`),
* ``metrics.json``: the cross-validated scores of every family under both schemes, the ceiling,
  the choice, the data set's SHA-256, the library versions, the seed and the CV settings. It has
  no timestamp and no model-file hash (the skops zip stores write times), so the same data, seed
  and libraries give a byte-identical file.
"""

from __future__ import annotations

import platform
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from shopdata.carprice.ceiling import compute_ceiling
from shopdata.carprice.data import CLASSES, FEATURES, TARGET, CarData
from shopdata.carprice.evaluate import (
    SCHEMES,
    ModelScores,
    cross_validate,
    encode,
    select,
    top_label_reliability,
)
from shopdata.carprice.metrics import (
    Bound,
    CeilingScores,
    CrossValidation,
    DataSet,
    FamilyScores,
    Metrics,
    ReliabilityBin,
    Selection,
    Spread,
)
from shopdata.carprice.models import (
    MODEL_LABELS,
    MODEL_NAMES,
    build_model,
    finalise,
    single_threaded,
)
from shopdata.carprice.persist import METRICS_FILE, Manifest, save_model
from shopdata.carprice.predict import model_scorer
from shopdata.carprice.table import combinations

_VERSIONED = ("scikit-learn", "skops", "numpy", "scipy", "pandas", "joblib")


@dataclass(frozen=True)
class TrainResult:
    """What training produced, for the CLI to summarise."""

    metrics: Metrics
    manifest: Manifest
    results: dict[str, dict[str, ModelScores]]


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries that determine the numbers."""
    versions = {"python": platform.python_version()}
    for name in _VERSIONED:
        versions[name] = metadata.version(name)
    return versions


def _spread(scores: ModelScores, metric: str) -> Spread:
    spread = scores.spread(metric)
    return Spread(mean=spread.mean, std=spread.std)


def _scheme_summary(results: dict[str, ModelScores]) -> dict[str, FamilyScores]:
    return {
        name: FamilyScores(
            accuracy=_spread(scores, "accuracy"),
            macro_f1=_spread(scores, "macro_f1"),
            log_loss=_spread(scores, "log_loss"),
        )
        for name, scores in results.items()
    }


def fit_family(frame: pd.DataFrame, name: str, seed: int) -> Pipeline:
    """Fit family ``name`` on every row of ``frame``, ready to save or predict."""
    x, y = encode(frame)
    with warnings.catch_warnings(), single_threaded():
        warnings.simplefilter("ignore", category=UserWarning)
        return finalise(build_model(name, seed).fit(x, y))


def table_families(names: Sequence[str], chosen: str) -> list[str]:
    """Families whose probabilities ``train`` tabulates: all but the class prior, unless chosen."""
    return [name for name in names if name != "majority" or name == chosen]


def probability_table(model: Pipeline) -> list[Sequence[float]]:
    """``model``'s probabilities for every combination, in the probability table's order."""
    return model_scorer(model)(combinations())


def train(
    data: CarData,
    model_dir: Path,
    seed: int,
    folds: int,
    repeats: int,
    n_jobs: int = 1,
    names: Sequence[str] = MODEL_NAMES,
) -> TrainResult:
    """Cross-validate ``names`` under both schemes, refit the winner, write model and metrics."""
    frame = data.frame
    ceiling = compute_ceiling(frame, TARGET, FEATURES, CLASSES)
    results = {
        scheme: cross_validate(frame, names, scheme, folds, repeats, seed, n_jobs)
        for scheme in SCHEMES
    }
    selection = select(results[SCHEMES[0]], SCHEMES[0])
    model = fit_family(frame, selection.chosen, seed)
    fitted = {
        name: model if name == selection.chosen else fit_family(frame, name, seed)
        for name in table_families(names, selection.chosen)
    }
    oof = results[selection.scheme][selection.chosen].oof
    checked = round(float(np.nanmax(oof)), 6) if oof is not None else 1.0
    _, y = encode(frame)
    manifest = save_model(
        model,
        model_dir,
        {
            "model": selection.chosen,
            "data_source": data.source,
            "data_sha256": data.sha256,
            "seed": seed,
            "checked_max_probability": checked,
        },
        probabilities={name: probability_table(fitted[name]) for name in fitted},
    )
    metrics = Metrics(
        data=DataSet(source=data.source, sha256=data.sha256, rows=len(frame)),
        target=TARGET,
        classes=list(CLASSES),
        features=list(FEATURES),
        seed=seed,
        cross_validation=CrossValidation(folds=folds, repeats=repeats, schemes=list(SCHEMES)),
        versions=library_versions(),
        ceiling=CeilingScores(
            rows=ceiling.rows,
            groups=ceiling.groups,
            ambiguous_groups=ceiling.ambiguous_groups,
            best=Bound.model_validate(ceiling.best.as_dict()),
            majority=Bound.model_validate(ceiling.majority.as_dict()),
        ),
        models={name: MODEL_LABELS[name] for name in names},
        scores={scheme: _scheme_summary(results[scheme]) for scheme in SCHEMES},
        selection=Selection(
            scheme=selection.scheme,
            metric=selection.metric,
            chosen=selection.chosen,
            runner_up=selection.runner_up,
            log_loss_gap_to_runner_up=Spread(
                mean=selection.difference.mean, std=selection.difference.std
            ),
            checked_max_probability=checked,
            top_label_reliability=[
                ReliabilityBin.model_validate(b) for b in top_label_reliability(oof, y)
            ]
            if oof is not None
            else [],
        ),
    )
    metrics.write(model_dir / METRICS_FILE)
    return TrainResult(metrics=metrics, manifest=manifest, results=results)
