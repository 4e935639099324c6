"""Repeated stratified cross-validation of every model family, and the choice between them.

Two splitting schemes run on the same seed:

* ``stratified``: repeated stratified K-fold over rows, the textbook estimate.
* ``grouped``: repeated stratified K-fold that keeps all rows sharing the same predictor values
  in one fold (:class:`~sklearn.model_selection.StratifiedGroupKFold`). A held-out row's
  "twins" (same predictors, other prices) are then held out too.

Why both: the table holds every attribute combination once, so in row-wise folds a held-out
row's twins sit in the training fold with, by construction, *other* prices; a model that learns
the table well is pushed away from the held-out price (accuracy can fall below guessing). The
grouped scheme asks the question the business asks: how well do we price a combination we have
never seen? Models are chosen on the grouped scheme by mean log-loss, a strictly proper scoring
rule: it rewards honest probabilities, which the marginalisation over missing attributes needs,
while accuracy is coarse here (the best possible accuracy is about 36%).
"""

from __future__ import annotations

import itertools
import statistics
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from shopdata.carprice.data import CLASSES, FEATURES, TARGET
from shopdata.carprice.models import build_model, single_threaded

SCHEMES: tuple[str, ...] = ("grouped", "stratified")
"""Splitting schemes, the one models are chosen on first."""

METRICS: tuple[str, ...] = ("accuracy", "macro_f1", "log_loss")
"""Reported scores; log-loss (natural log, lower is better) is the one models are chosen by."""


@dataclass(frozen=True)
class Spread:
    """Mean and sample standard deviation over the folds of all repeats."""

    mean: float
    std: float

    def as_dict(self) -> dict[str, float]:
        """Plain dict for the metrics JSON."""
        return {"mean": self.mean, "std": self.std}


@dataclass
class ModelScores:
    """Per-fold scores of one model family under one scheme, plus out-of-fold probabilities."""

    name: str
    folds: dict[str, list[float]] = field(default_factory=dict)
    oof: npt.NDArray[np.float64] | None = None
    """Shape (repeats, rows, classes): each row's probabilities from the fold that held it out."""

    def spread(self, metric: str) -> Spread:
        """Mean and standard deviation of ``metric`` over all folds."""
        values = self.folds[metric]
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        return Spread(statistics.fmean(values), std)


@dataclass(frozen=True)
class Selection:
    """The chosen family and how clearly it beat the runner-up on paired folds."""

    scheme: str
    metric: str
    chosen: str
    runner_up: str
    difference: Spread
    """Runner-up minus chosen log-loss, per fold (same splits), mean and std."""


def encode(frame: pd.DataFrame) -> tuple[pd.DataFrame, npt.NDArray[np.int64]]:
    """Predictors as strings and the target as price-level codes 0..3 (low..vhigh)."""
    x = frame[list(FEATURES)].astype(str)
    codes = frame[TARGET].astype(str).map({c: i for i, c in enumerate(CLASSES)})
    y: npt.NDArray[np.int64] = np.asarray(codes, dtype=np.int64)
    return x, y


def split_indices(
    x: pd.DataFrame,
    y: npt.NDArray[np.int64],
    scheme: str,
    folds: int,
    repeats: int,
    seed: int,
) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
    """The (train, test) index pairs of all repeats, in repeat-major order."""
    from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedGroupKFold

    if scheme == "stratified":
        splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
        return [(tr, te) for tr, te in splitter.split(x, y)]
    if scheme == "grouped":
        groups = pd.factorize(x.agg("|".join, axis=1))[0]
        pairs: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = []
        for repeat in range(repeats):
            grouped = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed + repeat)
            pairs.extend((tr, te) for tr, te in grouped.split(x, y, groups))
        return pairs
    raise ValueError(f"unknown scheme {scheme!r}, expected one of: {', '.join(SCHEMES)}")


def _fit_fold(
    name: str,
    seed: int,
    x: pd.DataFrame,
    y: npt.NDArray[np.int64],
    train: npt.NDArray[np.int64],
    test: npt.NDArray[np.int64],
) -> tuple[dict[str, float], npt.NDArray[np.float64]]:
    """Fit ``name`` on one training fold; score it on the test fold."""
    from sklearn.metrics import accuracy_score, f1_score, log_loss

    labels = list(range(len(CLASSES)))
    with warnings.catch_warnings(), single_threaded():
        warnings.simplefilter("ignore", category=UserWarning)
        model = build_model(name, seed).fit(x.iloc[train], y[train])
        proba = np.asarray(model.predict_proba(x.iloc[test]), dtype=np.float64)
    predicted = proba.argmax(axis=1)
    scores = {
        "accuracy": float(accuracy_score(y[test], predicted)),
        "macro_f1": float(
            f1_score(y[test], predicted, labels=labels, average="macro", zero_division=0)
        ),
        "log_loss": float(log_loss(y[test], proba, labels=labels)),
    }
    return scores, proba


def cross_validate(
    frame: pd.DataFrame,
    names: Sequence[str],
    scheme: str,
    folds: int,
    repeats: int,
    seed: int,
    n_jobs: int = 1,
) -> dict[str, ModelScores]:
    """Scores of every family in ``names`` on the same splits (so differences are paired).

    Deterministic for a given seed whatever ``n_jobs`` is: every fold fits a fresh model seeded
    with ``seed`` and the splits depend on ``seed`` only.
    """
    from joblib import Parallel, delayed

    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    x, y = encode(frame)
    pairs = split_indices(x, y, scheme, folds, repeats, seed)
    jobs = [(name, tr, te) for name in names for tr, te in pairs]
    outputs = Parallel(n_jobs=n_jobs)(
        delayed(_fit_fold)(name, seed, x, y, tr, te) for name, tr, te in jobs
    )
    results = {name: ModelScores(name, {m: [] for m in METRICS}) for name in names}
    for name in names:
        results[name].oof = np.full((repeats, len(y), len(CLASSES)), np.nan)
    for index, ((name, _, test), (scores, proba)) in enumerate(zip(jobs, outputs, strict=True)):
        result = results[name]
        for metric in METRICS:
            result.folds[metric].append(scores[metric])
        repeat = (index % len(pairs)) // folds
        assert result.oof is not None
        result.oof[repeat, test] = proba
    return results


def select(results: dict[str, ModelScores], scheme: str, baseline: str = "majority") -> Selection:
    """The family with the lowest mean log-loss; the baseline is never chosen."""
    candidates = sorted(
        (name for name in results if name != baseline),
        key=lambda name: (results[name].spread("log_loss").mean, name),
    )
    if len(candidates) < 2:
        raise ValueError("need at least two model families besides the baseline to choose")
    chosen, runner_up = candidates[0], candidates[1]
    gaps = [
        b - a
        for a, b in zip(
            results[chosen].folds["log_loss"], results[runner_up].folds["log_loss"], strict=True
        )
    ]
    std = statistics.stdev(gaps) if len(gaps) > 1 else 0.0
    return Selection(
        scheme=scheme,
        metric="log_loss",
        chosen=chosen,
        runner_up=runner_up,
        difference=Spread(statistics.fmean(gaps), std),
    )


RELIABILITY_EDGES: tuple[float, ...] = (0.0, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)
"""Bins of the top predicted probability for :func:`top_label_reliability`."""


def top_label_reliability(
    oof: npt.NDArray[np.float64],
    y: npt.NDArray[np.int64],
    edges: Sequence[float] = RELIABILITY_EDGES,
) -> list[dict[str, float | None]]:
    """How often the most probable level was right, per bin of its probability.

    Pools all repeats of the out-of-fold probabilities ``oof`` (repeats, rows, classes). A
    calibrated model has ``accuracy`` close to ``confidence`` in every bin; the bins show how
    far up the probability scale that was checked at all.
    """
    proba = oof.reshape(-1, oof.shape[2])
    truth = np.tile(y, oof.shape[0])
    top = proba.max(axis=1)
    hit = proba.argmax(axis=1) == truth
    bins: list[dict[str, float | None]] = []
    for low, high in itertools.pairwise(edges):
        inside = (top >= low) & ((top < high) if high < edges[-1] else (top <= high))
        count = int(inside.sum())
        bins.append(
            {
                "from": low,
                "to": high,
                "predictions": count,
                "confidence": float(top[inside].mean()) if count else None,
                "accuracy": float(hit[inside].mean()) if count else None,
            }
        )
    return bins
