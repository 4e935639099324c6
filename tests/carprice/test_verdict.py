"""The data-only estimate, near-ties and how the answer's support is worded."""

from __future__ import annotations

import pandas as pd
import pytest

from shopdata.carprice.data import CLASSES
from shopdata.carprice.predict import Prediction, data_estimate, never_together, support
from shopdata.carprice.verdict import clear_top, headline, judge

Rows = tuple[tuple[str, ...], ...]
QUESTION = {"maint": "high", "doors": "4", "lug_boot": "big", "safety": "high", "class": "good"}
LABELS = {"a": "family a", "b": "family b"}


def test_data_estimate_of_the_question_counts_the_good_cars(
    car_rows: Rows, cars: pd.DataFrame
) -> None:
    # full factorial design: maint, doors, lug_boot and safety are independent of the price, so
    # the independence rule leaves P(price | class = good): 46 low and 23 med of 69 good cars
    good = cars[cars["class"].astype(str) == "good"]["buying"].astype(str).value_counts()
    assert (good["low"], good["med"], len(good[good > 0])) == (46, 23, 2)
    rule, estimate = data_estimate(car_rows, QUESTION)
    assert rule == "independence"
    assert estimate == pytest.approx({"low": 46 / 69, "med": 23 / 69, "high": 0.0, "vhigh": 0.0})


def test_data_estimate_of_an_occurring_car_is_its_rows(car_rows: Rows) -> None:
    rule, estimate = data_estimate(car_rows, {**QUESTION, "class": "acc", "persons": "4"})
    assert rule == "exact"
    assert estimate == {"low": 0.0, "med": 0.5, "high": 0.5, "vhigh": 0.0}


def test_the_question_pairs_that_never_occur(car_rows: Rows) -> None:
    assert never_together(car_rows, QUESTION) == [("maint=high", "class=good")]
    assert never_together(car_rows, {"maint": "low", "class": "good"}) == []


@pytest.mark.parametrize(
    ("probabilities", "margin", "top"),
    [
        ({"low": 0.259, "med": 0.259, "high": 0.246, "vhigh": 0.236}, 0.05, None),
        ({"low": 0.30, "med": 0.26, "high": 0.22, "vhigh": 0.22}, 0.05, None),
        ({"low": 0.32, "med": 0.26, "high": 0.22, "vhigh": 0.20}, 0.05, "low"),
        ({"low": 0.25, "med": 0.25, "high": 0.25, "vhigh": 0.25}, 0.0, "low"),
        ({"low": 0.1, "med": 0.2, "high": 0.3, "vhigh": 0.4}, 0.05, "vhigh"),
    ],
)
def test_clear_top(probabilities: dict[str, float], margin: float, top: str | None) -> None:
    assert clear_top(probabilities, margin) == top


def _answer(probabilities: list[float]) -> Prediction:
    return Prediction(
        given={"maint": "low"},
        missing=[],
        weighting="none",
        completions=[],
        probabilities=dict(zip(CLASSES, probabilities, strict=True)),
    )


def test_disagreeing_families_weaken_the_answer(car_rows: Rows) -> None:
    answers = {"a": _answer([0.6, 0.3, 0.05, 0.05]), "b": _answer([0.2, 0.7, 0.05, 0.05])}
    data = {"low": 0.5, "med": 0.5, "high": 0.0, "vhigh": 0.0}
    found = support(car_rows, {"maint": "low"})
    verdict = judge(answers, "a", data, found, car_rows)
    assert (verdict.answer, verdict.strength, verdict.low, verdict.high) == (
        "low",
        "weakly",
        0.2,
        0.6,
    )
    assert headline(verdict, LABELS, "a") == (
        "answer: low, weakly supported: 1 of 2 families put it first (family b: med); "
        "the data alone has no clear answer; P(low) 0.200-0.600 by family, 0.500 by the data alone"
    )


def test_agreement_above_080_is_strong(car_rows: Rows) -> None:
    answers = {"a": _answer([0.9, 0.05, 0.03, 0.02]), "b": _answer([0.85, 0.1, 0.03, 0.02])}
    data = {"low": 0.8, "med": 0.2, "high": 0.0, "vhigh": 0.0}
    verdict = judge(answers, "b", data, support(car_rows, {"maint": "low"}), car_rows)
    assert headline(verdict, LABELS, "b") == (
        "answer: low, strongly supported: every family (2) and the data alone put it first; "
        "P(low) 0.850-0.900 by family, 0.800 by the data alone"
    )
    assert verdict.reason == (
        "432 row(s) of the table have these values, at 4 different prices "
        "(low 108, med 108, high 108, vhigh 108): these attributes do not fix the price"
    )
