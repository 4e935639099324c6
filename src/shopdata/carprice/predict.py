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

The same rules, applied to the *price* instead of the missing attributes, give the
**data-only estimate** (:func:`data_estimate`): the price distribution of the rows with all given
values, else ``P(price) * prod_j P(x_j | price)`` from the table's counts, with no fitted model.

Everything here is plain Python over the table's rows (1,728 tuples), so ``predict`` answers
without importing pandas, numpy or scikit-learn; a *scorer* maps complete rows to the price
probabilities (from the probability table, or from a fitted model via :func:`model_scorer`).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shopdata.carprice.data import CLASSES, COLUMNS, FEATURES, LEVELS, TARGET, Row

Scorer = Callable[[Sequence[Mapping[str, str]]], list[Sequence[float]]]
"""Price probabilities (in ``CLASSES`` order) for complete rows (every feature given)."""

_COLUMN = {name: index for index, name in enumerate(COLUMNS)}


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
        return top_level(self.probabilities)


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


def top_level(probabilities: Mapping[str, float]) -> str:
    """The most probable price level (the cheaper one on a tie)."""
    return max(CLASSES, key=lambda level: (probabilities[level], -CLASSES.index(level)))


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


def _matches(row: Row, given: Sequence[tuple[int, str]]) -> bool:
    return all(row[index] == value for index, value in given)


_COUNTS: dict[int, tuple[Sequence[Row], list[tuple[str, ...]], dict[Any, Counter[Any]]]] = {}
"""Per table (by identity, holding a reference so the id stays unique): its columns, and rows
per combination of values of each set of columns, built on first use. Batch scoring asks
thousands of queries of one table; each weight is then a dictionary look-up."""


def _count(rows: Sequence[Row], values: Mapping[int, str]) -> int:
    """Rows of ``rows`` whose columns (by index) hold ``values``."""
    cached = _COUNTS.get(id(rows))
    if cached is None or cached[0] is not rows:
        if len(_COUNTS) >= 4:
            _COUNTS.clear()
        cached = (rows, list(zip(*rows, strict=True)), {})
        _COUNTS[id(rows)] = cached
    columns = tuple(sorted(values))
    counts = cached[2].get(columns)
    if counts is None:
        counts = Counter(zip(*(cached[1][c] for c in columns), strict=True))
        cached[2][columns] = counts
    return counts.get(tuple(values[c] for c in columns), 0)


def weigh(
    rows: Sequence[Row], given: Mapping[str, str], over: Sequence[str]
) -> tuple[str, list[tuple[dict[str, str], float, int]]]:
    """Rule used and (values, weight, matching rows) for every combination of ``over``.

    ``over`` are the attributes not given (or the price, for the data-only estimate); the rules
    are the module's: ``exact``, else ``independence``, else ``overall``.
    """
    wanted = {_COLUMN[name]: value for name, value in given.items()}
    if not over:
        return "none", [({}, 1.0, _count(rows, wanted))]
    positions = [_COLUMN[name] for name in over]
    combos = list(itertools.product(*(LEVELS[name] for name in over)))
    completions = [dict(zip(over, combo, strict=True)) for combo in combos]
    keyed = [dict(zip(positions, combo, strict=True)) for combo in combos]
    counts = [_count(rows, {**wanted, **key}) for key in keyed]
    total = sum(counts)
    if total:
        return "exact", [(m, n / total, n) for m, n in zip(completions, counts, strict=True)]
    size = len(rows)
    overall = [_count(rows, key) for key in keyed]
    scores = [n / size for n in overall]
    for index, value in wanted.items():
        scores = [
            score * _count(rows, {**key, index: value}) / n if n else 0.0
            for score, key, n in zip(scores, keyed, overall, strict=True)
        ]
    if sum(scores) > 0:
        norm = sum(scores)
        return "independence", [
            (m, s / norm, n) for m, s, n in zip(completions, scores, counts, strict=True)
        ]
    prior = [n / size for n in overall]
    return "overall", [(m, w, n) for m, w, n in zip(completions, prior, counts, strict=True)]


def completion_weights(
    rows: Sequence[Row], given: Mapping[str, str], missing: Sequence[str]
) -> tuple[str, list[tuple[dict[str, str], float, int]]]:
    """Weighting rule used and (completion, weight, matching rows) for every completion."""
    return weigh(rows, given, missing)


def data_estimate(rows: Sequence[Row], given: Mapping[str, str]) -> tuple[str, dict[str, float]]:
    """The price distribution the table alone gives for ``given`` (no model), and its rule."""
    rule, weighted = weigh(rows, check_query(given), [TARGET])
    return rule, {values[TARGET]: weight for values, weight, _ in weighted}


def model_scorer(model: Any) -> Scorer:
    """A scorer calling a fitted pipeline's ``predict_proba`` (imports pandas and numpy)."""

    def score(rows: Sequence[Mapping[str, str]]) -> list[Sequence[float]]:
        import numpy as np
        import pandas as pd

        from shopdata.carprice.models import single_threaded

        x = pd.DataFrame([{name: row[name] for name in FEATURES} for row in rows])
        with single_threaded():
            proba = np.asarray(model.predict_proba(x), dtype=np.float64)
        return [tuple(float(p) for p in line) for line in proba]

    return score


def predict_many(
    scorers: Mapping[str, Scorer], rows: Sequence[Row], given: Mapping[str, str]
) -> dict[str, Prediction]:
    """Each scorer's price distribution for ``given``, all with the same completion weights."""
    query = check_query(given)
    missing = [name for name in FEATURES if name not in query]
    weighting, weighted = weigh(rows, query, missing)
    complete = [{**query, **m} for m, _, _ in weighted]
    answers: dict[str, Prediction] = {}
    for name, score in scorers.items():
        proba = score(complete)
        mixed = [
            sum(w * line[k] for (_, w, _), line in zip(weighted, proba, strict=True))
            for k in range(len(CLASSES))
        ]
        answers[name] = Prediction(
            given=query,
            missing=missing,
            weighting=weighting,
            completions=[
                Completion(
                    values=m,
                    weight=w,
                    probabilities=dict(zip(CLASSES, line, strict=True)),
                    rows=n,
                )
                for (m, w, n), line in zip(weighted, proba, strict=True)
            ],
            probabilities=dict(zip(CLASSES, mixed, strict=True)),
        )
    return answers


def predict(score: Scorer, rows: Sequence[Row], given: Mapping[str, str]) -> Prediction:
    """Price distribution for ``given``, marginalised over the attributes it leaves out."""
    return predict_many({"": score}, rows, given)[""]


def never_together(rows: Sequence[Row], given: Mapping[str, str]) -> list[tuple[str, str]]:
    """Pairs of given ``name=value`` that no row of the table has together.

    In the full factorial table only pairs involving ``class`` can be missing: such a pair means
    the rules that generated the classes exclude the car, not merely that the table lacks it.
    """
    query = check_query(given)
    named = [(name, _COLUMN[name], value) for name, value in query.items()]
    return [
        (f"{a}={x}", f"{b}={y}")
        for (a, i, x), (b, j, y) in itertools.combinations(named, 2)
        if not _count(rows, {i: x, j: y})
    ]


def support(rows: Sequence[Row], given: Mapping[str, str], limit: int = 12) -> Support:
    """Exact matches per completion of the first missing attribute, else the nearest rows.

    Distance is the number of *given* attributes in which a row differs (missing attributes
    are free). Rows are listed nearest first, then in table order, at most ``limit``.
    """
    query = check_query(given)
    missing = [name for name in FEATURES if name not in query]
    price = _COLUMN[TARGET]
    exact: dict[str, dict[str, int]] = {}
    split = missing[0] if missing else None
    for value in LEVELS[split] if split else ("",):
        values = {**query, split: value} if split else dict(query)
        label = f"{split}={value}" if split else "all given"
        wanted = [(_COLUMN[name], v) for name, v in values.items()]
        prices = Counter(row[price] for row in rows if _matches(row, wanted))
        exact[label] = {level: prices.get(level, 0) for level in CLASSES}
    if not query:
        return Support(exact=exact, distance=0, neighbours=[], nearest_prices={})
    named = [(name, _COLUMN[name], value) for name, value in query.items()]
    differs = [[name for name, index, value in named if row[index] != value] for row in rows]
    nearest = min(len(names) for names in differs)
    at_nearest = [i for i, names in enumerate(differs) if len(names) == nearest]
    prices = Counter(rows[i][price] for i in at_nearest)
    neighbours = [
        Neighbour(
            row={name: rows[i][_COLUMN[name]] for name in (TARGET, *FEATURES)},
            differs=differs[i],
        )
        for i in at_nearest[:limit]
    ]
    return Support(
        exact=exact,
        distance=nearest,
        neighbours=neighbours,
        nearest_prices={level: prices.get(level, 0) for level in CLASSES},
    )
