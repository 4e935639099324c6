"""A scorer's answer that is not one probability per price level is refused, never cut to fit.

From ``shopdata.carprice.predict``: a scorer gives the price probabilities "in ``CLASSES``
order" for each complete row, and "nothing is silently filled in". A line with a fifth value
(a model fitted on a table with another price level) used to be refused only by the
``strict=True`` of one ``zip``; mutmut's ``predict_many`` 49, 52 and 53 (that ``zip`` made
non-strict), once recorded as equivalent, silently dropped the fifth value and answered with
probabilities summing to 0.8. Too few lines or too few values are refused as well.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pytest

from shopdata.carprice.data import CLASSES, load_car_data
from shopdata.carprice.predict import predict, predict_many

Scorer = Callable[[Sequence[Mapping[str, str]]], list[Sequence[float]]]


def _five_values(rows: Sequence[Mapping[str, str]]) -> list[Sequence[float]]:
    return [(0.2, 0.2, 0.2, 0.2, 0.2) for _ in rows]


def _three_values(rows: Sequence[Mapping[str, str]]) -> list[Sequence[float]]:
    return [(0.5, 0.25, 0.25) for _ in rows]


def _one_line_short(rows: Sequence[Mapping[str, str]]) -> list[Sequence[float]]:
    lines: list[Sequence[float]] = [(0.25, 0.25, 0.25, 0.25) for _ in rows]
    return lines[:-1]


def _one_line_extra(rows: Sequence[Mapping[str, str]]) -> list[Sequence[float]]:
    lines: list[Sequence[float]] = [(0.25, 0.25, 0.25, 0.25) for _ in rows]
    return [*lines, (1.0, 0.0, 0.0, 0.0)]


@pytest.mark.parametrize(
    "scorer",
    [_five_values, _three_values, _one_line_short, _one_line_extra],
    ids=["five values a line", "three values a line", "a line too few", "a line too many"],
)
@pytest.mark.parametrize(
    "given",
    [{"safety": "low"}, {"persons": "2", "class": "good"}, {}],
    ids=["exact weights", "independence weights", "nothing given"],
)
def test_a_scorer_not_answering_one_probability_per_level_and_row_is_refused(
    scorer: Scorer, given: dict[str, str]
) -> None:
    rows = load_car_data().rows
    with pytest.raises((ValueError, IndexError)):
        predict(scorer, rows, given)
    with pytest.raises((ValueError, IndexError)):
        predict_many({"good": _uniform, "bad": scorer}, rows, given)


def _uniform(rows: Sequence[Mapping[str, str]]) -> list[Sequence[float]]:
    return [(0.25, 0.25, 0.25, 0.25) for _ in rows]


def test_a_well_shaped_scorer_answers_a_full_distribution() -> None:
    answer = predict(_uniform, load_car_data().rows, {"persons": "2", "class": "good"})
    assert list(answer.probabilities) == list(CLASSES)
    assert sum(answer.probabilities.values()) == pytest.approx(1.0)
    for completion in answer.completions:
        assert list(completion.probabilities) == list(CLASSES)
        assert completion.probabilities == dict.fromkeys(CLASSES, 0.25)
