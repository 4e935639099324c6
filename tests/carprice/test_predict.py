"""Marginalisation weights, marginal predictions and what the table says about a query."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopdata.carprice.data import CLASSES, FEATURES, LEVELS
from shopdata.carprice.predict import (
    Scorer,
    check_query,
    completion_weights,
    model_scorer,
    predict,
    support,
)
from shopdata.carprice.train import fit_family

Rows = tuple[tuple[str, ...], ...]

QUESTION = {"maint": "high", "doors": "4", "lug_boot": "big", "safety": "high", "class": "good"}
"""The issue's question: persons is not given."""


@pytest.fixture(scope="module")
def boosting(cars: pd.DataFrame) -> Scorer:
    """The documented family, fitted on every row with the default seed, as a scorer."""
    return model_scorer(fit_family(cars, "gradient_boosting", 42))


def test_question_weights_back_off_to_independence(car_rows: Rows) -> None:
    weighting, weighted = completion_weights(car_rows, QUESTION, ["persons"])
    # no row has all five given values; P(maint|p), P(doors|p), P(lug_boot|p), P(safety|p) are
    # the same for every persons value (full factorial design), so only P(class=good | persons)
    # matters: 0 of 576 rows with persons=2, 36 with persons=4, 33 with persons=more
    assert weighting == "independence"
    assert [(m, n) for m, _, n in weighted] == [
        ({"persons": "2"}, 0),
        ({"persons": "4"}, 0),
        ({"persons": "more"}, 0),
    ]
    assert [w for _, w, _ in weighted] == pytest.approx([0.0, 36 / 69, 33 / 69])


def test_marginal_equals_weighted_explicit_predictions(boosting: Scorer, car_rows: Rows) -> None:
    explicit = {
        persons: predict(boosting, car_rows, {**QUESTION, "persons": persons})
        for persons in ("2", "4", "more")
    }
    for single in explicit.values():
        assert single.missing == []
        assert single.weighting == "none"
    weights = {"2": 0.0, "4": 36 / 69, "more": 33 / 69}
    by_hand = {
        level: sum(weights[p] * explicit[p].probabilities[level] for p in weights)
        for level in CLASSES
    }
    marginal = predict(boosting, car_rows, QUESTION)
    assert marginal.missing == ["persons"]
    assert marginal.probabilities == pytest.approx(by_hand, abs=1e-12)
    assert sum(marginal.probabilities.values()) == pytest.approx(1.0)


def test_documented_answer(boosting: Scorer, car_rows: Rows) -> None:
    answer = predict(boosting, car_rows, QUESTION)
    assert answer.predicted == "low"
    rounded = {level: round(p, 3) for level, p in answer.probabilities.items()}
    assert rounded == {"low": 0.935, "med": 0.046, "high": 0.009, "vhigh": 0.009}


def test_exact_weights_when_the_combination_occurs(car_rows: Rows) -> None:
    query = {**QUESTION, "class": "acc"}
    weighting, weighted = completion_weights(car_rows, query, ["persons"])
    assert weighting == "exact"
    assert [(m["persons"], w, n) for m, w, n in weighted] == [
        ("2", 0.0, 0),
        ("4", 0.5, 2),
        ("more", 0.5, 2),
    ]


def test_two_missing_attributes_weigh_their_combinations(
    car_rows: Rows, cars: pd.DataFrame
) -> None:
    weighting, weighted = completion_weights(
        car_rows, {"maint": "low", "class": "vgood"}, ["persons", "safety"]
    )
    assert weighting == "exact"
    nonzero = {(m["persons"], m["safety"]): n for m, w, n in weighted if w}
    total = sum(nonzero.values())
    assert set(nonzero) == {("4", "high"), ("more", "high")}
    assert total == len(cars.query("maint == 'low' and `class` == 'vgood'"))
    assert sum(w for _, w, _ in weighted) == pytest.approx(1.0)


def test_overall_frequency_when_nothing_co_occurs(car_rows: Rows, cars: pd.DataFrame) -> None:
    without_good = cars[cars["class"].astype(str) != "good"]
    rows = tuple(row for row in car_rows if row[-1] != "good")
    weighting, weighted = completion_weights(rows, QUESTION, ["persons"])
    assert weighting == "overall"
    counts = without_good["persons"].astype(str).value_counts()
    assert [w for _, w, _ in weighted] == pytest.approx(
        [counts[p] / len(without_good) for p in ("2", "4", "more")]
    )


def test_nothing_missing_means_no_weighting(car_rows: Rows) -> None:
    weighting, weighted = completion_weights(car_rows, {**QUESTION, "persons": "4"}, [])
    assert (weighting, weighted) == ("none", [({}, 1.0, 0)])


def test_support_of_the_question(car_rows: Rows) -> None:
    found = support(car_rows, QUESTION)
    assert not found.occurs
    assert found.exact == {f"persons={p}": dict.fromkeys(CLASSES, 0) for p in ("2", "4", "more")}
    assert found.distance == 1
    assert found.nearest_prices == {"low": 3, "med": 3, "high": 3, "vhigh": 3}
    seen = sorted(
        (n.row["persons"], n.row["class"], n.row["buying"], tuple(n.differs))
        for n in found.neighbours
    )
    assert seen == sorted(
        [
            ("2", "unacc", "vhigh", ("class",)),
            ("2", "unacc", "high", ("class",)),
            ("2", "unacc", "med", ("class",)),
            ("2", "unacc", "low", ("class",)),
            ("4", "unacc", "vhigh", ("class",)),
            ("4", "acc", "high", ("class",)),
            ("4", "acc", "med", ("class",)),
            ("4", "vgood", "low", ("class",)),
            ("more", "unacc", "vhigh", ("class",)),
            ("more", "acc", "high", ("class",)),
            ("more", "acc", "med", ("class",)),
            ("more", "vgood", "low", ("class",)),
        ]
    )


def test_support_counts_exact_rows(car_rows: Rows) -> None:
    found = support(car_rows, {**QUESTION, "class": "acc"})
    assert found.occurs
    assert found.distance == 0
    assert found.exact["persons=4"] == {"low": 0, "med": 1, "high": 1, "vhigh": 0}


def test_support_limits_listed_rows_but_counts_all(car_rows: Rows) -> None:
    found = support(car_rows, {"maint": "vhigh"}, limit=5)
    assert len(found.neighbours) == 5
    assert sum(found.nearest_prices.values()) == 432


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"colour": "red"},
            "unknown attribute 'colour', expected one of: "
            "maint, doors, persons, lug_boot, safety, class",
        ),
        ({"doors": "7"}, "doors cannot be '7', expected one of: 2, 3, 4, 5more"),
        (
            {"buying": "low"},
            "unknown attribute 'buying', expected one of: "
            "maint, doors, persons, lug_boot, safety, class",
        ),
    ],
)
def test_check_query_rejects_bad_values(query: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_query(query)
    assert str(caught.value) == message


def test_probabilities_follow_price_order(boosting: Scorer, car_rows: Rows) -> None:
    answer = predict(boosting, car_rows, {**QUESTION, "persons": "4"})
    assert list(answer.probabilities) == ["low", "med", "high", "vhigh"]
    assert np.isclose(sum(answer.probabilities.values()), 1.0)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.fixed_dictionaries(
        {},
        optional={name: st.sampled_from(LEVELS[name]) for name in FEATURES},
    )
)
def test_any_partial_query_gives_a_distribution(
    boosting: Scorer, car_rows: Rows, query: dict[str, str]
) -> None:
    answer = predict(boosting, car_rows, query)
    assert answer.missing == [name for name in FEATURES if name not in query]
    assert sum(c.weight for c in answer.completions) == pytest.approx(1.0)
    assert all(c.weight >= 0 for c in answer.completions)
    assert sum(answer.probabilities.values()) == pytest.approx(1.0)
    assert min(answer.probabilities.values()) >= 0.0
    found = support(car_rows, query)
    if found.occurs:
        assert answer.weighting in {"exact", "none"}
