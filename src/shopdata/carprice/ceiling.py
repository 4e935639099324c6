"""What the best possible classifier could achieve, and what guessing achieves.

The car table holds every combination of the six attributes exactly once, so rows that agree on
all predictors can still differ in the target: no classifier can tell them apart. Grouping the
rows by the predictors gives the *Bayes (lookup-table) classifier* of this table: for each group
predict its most frequent target value, with probabilities equal to the group's frequencies.

* Its accuracy, ``sum(max count per group) / rows``, is the highest accuracy any function of the
  predictors can reach on these rows.
* Its log-loss, the conditional entropy ``H(target | predictors)`` in nats, is the lowest log-loss
  any probabilistic classifier can reach on these rows.
* Macro-F1 has no such simple bound; we report the lookup classifier's macro-F1 with ties broken
  towards the first level in ``classes`` order, as a reference point, not a bound.

The opposite end is the *majority* baseline: always predict the most frequent target value, with
the overall class frequencies as probabilities (log-loss = entropy ``H(target)``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import pandas as pd


@dataclass(frozen=True)
class Bound:
    """Scores of a reference classifier computed on the whole table (no cross-validation)."""

    accuracy: float
    macro_f1: float
    log_loss: float

    def as_dict(self) -> dict[str, float]:
        """Plain dict for the metrics JSON."""
        return asdict(self)


@dataclass(frozen=True)
class Ceiling:
    """The lookup-table bound plus the facts that explain it."""

    best: Bound
    majority: Bound
    rows: int
    groups: int
    ambiguous_groups: int
    """Groups whose rows do not all share one target value."""


def _macro_f1(pairs: Sequence[tuple[str, str]], classes: Sequence[str]) -> float:
    """Unweighted mean of per-class F1 over ``classes`` for (true, predicted) pairs."""
    scores: list[float] = []
    for level in classes:
        tp = sum(1 for true, pred in pairs if true == level and pred == level)
        fp = sum(1 for true, pred in pairs if true != level and pred == level)
        fn = sum(1 for true, pred in pairs if true == level and pred != level)
        denominator = 2 * tp + fp + fn
        scores.append(0.0 if denominator == 0 else 2 * tp / denominator)
    return sum(scores) / len(scores)


def _entropy(counts: Counter[str]) -> float:
    """Shannon entropy in nats of a frequency table, times its total (a sum of -log p)."""
    total = sum(counts.values())
    return -sum(n * math.log(n / total) for n in counts.values() if n)


def compute_ceiling(
    frame: pd.DataFrame, target: str, features: Sequence[str], classes: Sequence[str]
) -> Ceiling:
    """The lookup-table bound and the majority baseline of predicting ``target`` from ``features``.

    ``classes`` fixes the tie-breaking order (first wins) so the result is deterministic.
    """
    if frame.empty:
        raise ValueError("cannot compute a ceiling on an empty table")
    unknown = sorted(set(frame[target].astype(str)) - set(classes))
    if unknown:
        raise ValueError(f"target values not in classes: {', '.join(unknown)}")
    rank = {level: i for i, level in enumerate(classes)}
    keys = frame[list(features)].astype(str).itertuples(index=False, name=None)
    groups: dict[tuple[str, ...], Counter[str]] = {}
    truths = [str(v) for v in frame[target]]
    for key, truth in zip(keys, truths, strict=True):
        groups.setdefault(key, Counter())[truth] += 1

    def mode(counts: Counter[str]) -> str:
        return min(counts, key=lambda level: (-counts[level], rank[level]))

    rows = len(truths)
    hits = sum(max(counts.values()) for counts in groups.values())
    lookup = {key: mode(counts) for key, counts in groups.items()}
    keys = frame[list(features)].astype(str).itertuples(index=False, name=None)
    best_pairs = [(truth, lookup[key]) for key, truth in zip(keys, truths, strict=True)]
    best = Bound(
        accuracy=hits / rows,
        macro_f1=_macro_f1(best_pairs, classes),
        log_loss=sum(_entropy(counts) for counts in groups.values()) / rows,
    )

    overall: Counter[str] = Counter(truths)
    top = mode(overall)
    majority = Bound(
        accuracy=overall[top] / rows,
        macro_f1=_macro_f1([(truth, top) for truth in truths], classes),
        log_loss=_entropy(overall) / rows,
    )
    ambiguous = sum(1 for counts in groups.values() if len(counts) > 1)
    return Ceiling(
        best=best, majority=majority, rows=rows, groups=len(groups), ambiguous_groups=ambiguous
    )
