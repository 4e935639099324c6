"""The model families compared for the buying price, each as a scikit-learn pipeline.

All attributes are ordered categories, and each family gets the encoding that lets it use the
order (or says why it cannot):

* ``majority``: the class prior; the floor every model must beat.
* ``naive_bayes``: :class:`~sklearn.naive_bayes.CategoricalNB` on the level codes with Laplace
  smoothing. Naive Bayes for categorical data treats levels as unordered by construction.
* ``logistic``: multinomial L2-regularised logistic regression on a *thermometer* (cumulative)
  coding, one indicator ``level >= j`` per step up the order. The L2 penalty then shrinks the
  difference between *adjacent* levels, a smoothness prior along the order that one-hot coding
  cannot express. ``C`` is chosen by an inner 5-fold CV on log-loss, so it stays honest inside
  the outer cross-validation.
* ``decision_tree``: a CART tree on the level codes (splits are thresholds, so they respect the
  order); ``min_samples_leaf`` is chosen by an inner 5-fold CV on log-loss, because pure leaves
  give probabilities of 0 and an unbounded log-loss.
* ``gradient_boosting``: histogram gradient boosting on the level codes (threshold splits again),
  early-stopped on a held-out 20% of the training fold by log-loss.

Targets are the level codes ``0..3`` of ``CLASSES`` (low, med, high, vhigh), so every model's
probability columns come out in price order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.naive_bayes import CategoricalNB
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder
from sklearn.tree import DecisionTreeClassifier

from shopdata.carprice.data import FEATURES, LEVELS
from shopdata.carprice.families import MODEL_LABELS, MODEL_NAMES

__all__ = ["MODEL_LABELS", "MODEL_NAMES", "ThermometerEncoder", "build_model", "finalise"]


class ThermometerEncoder(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Cumulative coding of ordinal codes: level ``c`` of ``k`` becomes ``[c>=1, ..., c>=k-1]``.

    Stateless apart from the number of levels per column, which is given, not learnt, so a
    training fold that lacks a level still produces the same columns.
    """

    def __init__(self, n_levels: Sequence[int] = ()) -> None:
        self.n_levels = n_levels

    def fit(self, x: Any, y: Any = None) -> ThermometerEncoder:
        """Nothing to learn; checks the column count."""
        codes = np.asarray(x)
        if codes.shape[1] != len(self.n_levels):
            raise ValueError(f"expected {len(self.n_levels)} columns, got {codes.shape[1]}")
        self.n_features_in_ = codes.shape[1]
        return self

    def transform(self, x: Any) -> npt.NDArray[np.float64]:
        """One block of ``k - 1`` indicators per column."""
        codes = np.asarray(x)
        blocks = [
            (codes[:, [i]] >= np.arange(1, k)[np.newaxis, :]).astype(np.float64)
            for i, k in enumerate(self.n_levels)
        ]
        return np.hstack(blocks)


def _ordinal() -> OrdinalEncoder:
    """Level codes 0..k-1 in each attribute's documented order."""
    return OrdinalEncoder(categories=[list(LEVELS[f]) for f in FEATURES], dtype=np.int64)


def _majority(seed: int) -> Pipeline:
    return Pipeline([("codes", _ordinal()), ("model", DummyClassifier(strategy="prior"))])


def _naive_bayes(seed: int) -> Pipeline:
    sizes = [len(LEVELS[f]) for f in FEATURES]
    return Pipeline(
        [("codes", _ordinal()), ("model", CategoricalNB(alpha=1.0, min_categories=sizes))]
    )


def _logistic(seed: int) -> Pipeline:
    sizes = [len(LEVELS[f]) for f in FEATURES]
    search = GridSearchCV(
        LogisticRegression(solver="newton-cholesky", max_iter=500),
        {"C": [float(c) for c in np.logspace(-2, 3, 11)]},
        scoring="neg_log_loss",
        cv=5,
    )
    return Pipeline(
        [("codes", _ordinal()), ("thermometer", ThermometerEncoder(sizes)), ("model", search)]
    )


def _decision_tree(seed: int) -> Pipeline:
    search = GridSearchCV(
        DecisionTreeClassifier(random_state=seed),
        {"min_samples_leaf": [5, 10, 20, 40, 80, 160]},
        scoring="neg_log_loss",
        cv=5,
    )
    return Pipeline([("codes", _ordinal()), ("model", search)])


def _gradient_boosting(seed: int) -> Pipeline:
    model = HistGradientBoostingClassifier(
        learning_rate=0.05,
        max_iter=300,
        max_leaf_nodes=15,
        min_samples_leaf=10,
        l2_regularization=1.0,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=20,
        scoring="loss",
        random_state=seed,
    )
    return Pipeline([("codes", _ordinal()), ("model", model)])


_BUILDERS: dict[str, Callable[[int], Pipeline]] = {
    "majority": _majority,
    "naive_bayes": _naive_bayes,
    "logistic": _logistic,
    "decision_tree": _decision_tree,
    "gradient_boosting": _gradient_boosting,
}


def single_threaded() -> Any:
    """Context manager limiting OpenMP/BLAS to one thread for a fit or a prediction.

    The table is tiny, so gradient boosting's OpenMP threads cost more in synchronisation than
    they save; on a busy machine (CI, several jobs on 2 cores) their spin-waiting turned a 0.5 s
    fit into 20-40 s. Parallelism comes from fitting folds in separate processes instead.
    """
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    return threadpool_limits(limits=1)


def build_model(name: str, seed: int) -> Pipeline:
    """A fresh, unfitted pipeline of family ``name``, seeded with ``seed``."""
    try:
        return _BUILDERS[name](seed)
    except KeyError:
        raise ValueError(
            f"unknown model {name!r}, expected one of: {', '.join(MODEL_NAMES)}"
        ) from None


def finalise(pipeline: Pipeline) -> Pipeline:
    """Replace a fitted inner hyper-parameter search by the estimator it refitted.

    The search object carries its scorer and splitter, which a saved model does not need and
    which would widen the set of types the loader must trust.
    """
    steps = [
        (name, step.best_estimator_ if isinstance(step, GridSearchCV) else step)
        for name, step in pipeline.steps
    ]
    return Pipeline(steps)
