"""Predicting the buying price from some or all attributes, and what the data says about it.

When attributes are left out, the prediction is the average of the model's predictions over
every *completion* (combination of values of the missing attributes), weighted by how likely
that completion is given the attributes that *were* given. The weights come from the data, by
the first rule that applies:

1. ``exact``: the share of rows matching all given attributes that have that completion.
2. ``independence`` (no row matches all given attributes): ``P(m) * prod_j P(x_j | m)``, the
   completion's overall frequency times, for each given attribute, how often its value occurs
   together with that completion, normalised. This keeps a completion that contradicts a given
   value at weight 0 (no ``persons = 2`` car is ever rated ``good``) while still defining
   weights for combinations the table lacks.
3. ``overall`` (even that is 0 everywhere): the completion's overall frequency.

The result always lists the weights and the rule used; nothing is silently filled in.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shopdata.carprice.data import CLASSES, FEATURES, LEVELS, TARGET


@dataclass(frozen=True)
class Completion:
    """One combination of values of the missing attributes, with its weight and prediction."""

    values: dict[str, str]
    weight: float
    probabilities: dict[str, float]
    rows: int
    """Rows of the table matching the given attributes plus this completion (any price)."""


@dataclass(frozen=True)
class Prediction:
    """The (marginalised) price distribution for one query."""

    given: dict[str, str]
    missing: list[str]
    weighting: str
    """``none`` (nothing missing), ``exact``, ``independence`` or ``overall``."""
    completions: list[Completion]
    probabilities: dict[str, float]

    @property
    def predicted(self) -> str:
        """The most probable price level (the cheaper one on a tie)."""
        return max(CLASSES, key=lambda level: (self.probabilities[level], -CLASSES.index(level)))


@dataclass(frozen=True)
class Neighbour:
    """A row of the table close to the query, and where it differs."""

    row: dict[str, str]
    differs: list[str]


@dataclass(frozen=True)
class Support:
    """How much of the query the table covers: exact matches, else the nearest rows."""

    exact: dict[str, dict[str, int]]
    """Per completion label (e.g. ``persons=4``): price level -> number of matching rows."""
    distance: int
    """Given attributes in which the nearest rows differ (0 when the query occurs)."""
    neighbours: list[Neighbour]
    """The first nearest rows (at most the limit given to :func:`support`)."""
    nearest_prices: dict[str, int]
    """Price level -> count over *all* nearest rows, not only the listed ones."""

    @property
    def occurs(self) -> bool:
        """Whether any row matches all given attributes."""
        return any(sum(counts.values()) for counts in self.exact.values())


def check_query(given: Mapping[str, str]) -> dict[str, str]:
    """Validate attribute names and levels; return them in feature order."""
    for name, value in given.items():
        if name not in FEATURES:
            raise ValueError(f"unknown attribute {name!r}, expected one of: {', '.join(FEATURES)}")
        if value not in LEVELS[name]:
            raise ValueError(
                f"{name} cannot be {value!r}, expected one of: {', '.join(LEVELS[name])}"
            )
    return {name: given[name] for name in FEATURES if name in given}


def _matches(frame: pd.DataFrame, values: Mapping[str, str]) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for name, value in values.items():
        mask &= frame[name].astype(str) == value
    return mask


def completion_weights(
    frame: pd.DataFrame, given: Mapping[str, str], missing: Sequence[str]
) -> tuple[str, list[tuple[dict[str, str], float, int]]]:
    """Weighting rule used and (completion, weight, matching rows) for every completion."""
    combos = list(itertools.product(*(LEVELS[name] for name in missing)))
    completions = [dict(zip(missing, combo, strict=True)) for combo in combos]
    if not missing:
        return "none", [({}, 1.0, int(_matches(frame, given).sum()))]
    text = frame[[*missing, *given]].astype(str)
    with_given = text[_matches(text, given)]
    exact = _counts(with_given, missing)
    rows = [exact.get(combo, 0) for combo in combos]
    total = sum(rows)
    if total:
        return "exact", [(m, n / total, n) for m, n in zip(completions, rows, strict=True)]
    size = len(frame)
    overall = _counts(text, missing)
    scores = [overall.get(combo, 0) / size for combo in combos]
    for name, value in given.items():
        joint = _counts(text[text[name] == value], missing)
        scores = [
            score * joint.get(combo, 0) / overall[combo] if overall.get(combo) else 0.0
            for score, combo in zip(scores, combos, strict=True)
        ]
    if sum(scores) > 0:
        norm = sum(scores)
        return "independence", [
            (m, s / norm, n) for m, s, n in zip(completions, scores, rows, strict=True)
        ]
    prior = [overall.get(combo, 0) / size for combo in combos]
    return "overall", [(m, w, n) for m, w, n in zip(completions, prior, rows, strict=True)]


def _counts(text: pd.DataFrame, columns: Sequence[str]) -> dict[tuple[str, ...], int]:
    """Rows per combination of values of ``columns`` (absent combinations are left out)."""
    if text.empty:
        return {}
    sizes = text.groupby(list(columns), sort=False).size()
    return {(key if isinstance(key, tuple) else (key,)): int(n) for key, n in sizes.items()}


def predict_proba(model: Any, rows: Sequence[Mapping[str, str]]) -> np.ndarray[Any, Any]:
    """The model's price probabilities (columns in ``CLASSES`` order) for complete rows."""
    from shopdata.carprice.models import single_threaded

    x = pd.DataFrame([{name: row[name] for name in FEATURES} for row in rows])
    with single_threaded():
        return np.asarray(model.predict_proba(x), dtype=np.float64)


def predict(model: Any, frame: pd.DataFrame, given: Mapping[str, str]) -> Prediction:
    """Price distribution for ``given``, marginalised over the attributes it leaves out."""
    query = check_query(given)
    missing = [name for name in FEATURES if name not in query]
    weighting, weighted = completion_weights(frame, query, missing)
    proba = predict_proba(model, [{**query, **m} for m, _, _ in weighted])
    weights = np.array([w for _, w, _ in weighted])
    mixed = weights @ proba
    completions = [
        Completion(
            values=m,
            weight=w,
            probabilities={c: float(p) for c, p in zip(CLASSES, row, strict=True)},
            rows=n,
        )
        for (m, w, n), row in zip(weighted, proba, strict=True)
    ]
    return Prediction(
        given=query,
        missing=missing,
        weighting=weighting,
        completions=completions,
        probabilities={c: float(p) for c, p in zip(CLASSES, mixed, strict=True)},
    )


def support(frame: pd.DataFrame, given: Mapping[str, str], limit: int = 12) -> Support:
    """Exact matches per completion of the first missing attribute, else the nearest rows.

    Distance is the number of *given* attributes in which a row differs (missing attributes
    are free). Rows are listed nearest first, then in table order, at most ``limit``.
    """
    query = check_query(given)
    missing = [name for name in FEATURES if name not in query]
    exact: dict[str, dict[str, int]] = {}
    split = missing[0] if missing else None
    for value in LEVELS[split] if split else ("",):
        values = {**query, split: value} if split else dict(query)
        label = f"{split}={value}" if split else "all given"
        prices = frame.loc[_matches(frame, values), TARGET].astype(str)
        exact[label] = {level: int((prices == level).sum()) for level in CLASSES}
    if not query:
        return Support(exact=exact, distance=0, neighbours=[], nearest_prices={})
    differs = pd.DataFrame(
        {name: frame[name].astype(str) != value for name, value in query.items()}
    )
    distance = differs.sum(axis=1)
    nearest = int(distance.min())
    at_nearest = frame.index[distance == nearest]
    prices = frame.loc[at_nearest, TARGET].astype(str)
    chosen = at_nearest[:limit]
    neighbours = [
        Neighbour(
            row={name: str(frame.at[i, name]) for name in (TARGET, *FEATURES)},
            differs=[name for name in query if bool(differs.at[i, name])],
        )
        for i in chosen
    ]
    return Support(
        exact=exact,
        distance=nearest,
        neighbours=neighbours,
        nearest_prices={level: int((prices == level).sum()) for level in CLASSES},
    )
