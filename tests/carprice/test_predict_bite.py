"""Every field of a prediction and of its support, on a fixed scorer and small hand-made tables.

Added for mutmut survivors in carprice/predict.py: the fields of the answer (completions, their
weights, rows and scores, the support's distance and neighbours) were read only by the CLI tests,
which train a model per session and are too slow to run per mutant. Here the scorer is a plain
function of the row (no model) and every expected number is worked out by hand in a comment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from shopdata.carprice.data import CLASSES, FEATURES
from shopdata.carprice.predict import (
    Completion,
    Neighbour,
    Prediction,
    check_query,
    data_estimate,
    never_together,
    predict,
    predict_many,
    support,
    top_level,
    weigh,
)

Rows = tuple[tuple[str, ...], ...]
QUESTION = {"maint": "high", "doors": "4", "lug_boot": "big", "safety": "high", "class": "good"}

BY_PERSONS: dict[str, tuple[float, ...]] = {
    "2": (0.1, 0.2, 0.3, 0.4),
    "4": (0.5, 0.3, 0.15, 0.05),
    "more": (0.2, 0.6, 0.1, 0.1),
}
"""The fixed scorer's price probabilities (low, med, high, vhigh) by the row's persons."""


class RecordingScorer:
    """A scorer that depends only on ``persons`` and records the rows it was asked about."""

    def __init__(self, table: Mapping[str, tuple[float, ...]] = BY_PERSONS) -> None:
        self.table = table
        self.calls: list[list[dict[str, str]]] = []

    def __call__(self, rows: Sequence[Mapping[str, str]]) -> list[Sequence[float]]:
        self.calls.append([dict(row) for row in rows])
        return [self.table[row["persons"]] for row in rows]


def row(
    buying: str = "low",
    maint: str = "low",
    doors: str = "2",
    persons: str = "2",
    lug_boot: str = "small",
    safety: str = "low",
    klass: str = "unacc",
) -> tuple[str, ...]:
    """One table row in column order (buying, maint, doors, persons, lug_boot, safety, class)."""
    return (buying, maint, doors, persons, lug_boot, safety, klass)


# Six rows for the independence rule: no row has maint=low with doors=2.
SMALL: Rows = (
    row(persons="2", maint="low", doors="3"),
    row(persons="2", maint="high", doors="2"),
    row(persons="4", maint="low", doors="3"),
    row(persons="4", maint="low", doors="4"),
    row(persons="4", maint="high", doors="2"),
    row(persons="more", maint="med", doors="4"),
)


def test_a_prediction_lists_every_completion_with_its_weight_rows_and_scores(
    car_rows: Rows,
) -> None:
    scorer = RecordingScorer()
    # given in reverse order: the answer lists them in feature order
    query = dict(reversed(list({**QUESTION, "class": "acc"}.items())))
    answer = predict(scorer, car_rows, query)
    assert answer == Prediction(
        given={"maint": "high", "doors": "4", "lug_boot": "big", "safety": "high", "class": "acc"},
        missing=["persons"],
        weighting="exact",
        completions=[
            Completion(
                values={"persons": "2"},
                weight=0.0,
                probabilities=dict(zip(CLASSES, BY_PERSONS["2"], strict=True)),
                rows=0,
            ),
            Completion(
                values={"persons": "4"},
                weight=0.5,
                probabilities=dict(zip(CLASSES, BY_PERSONS["4"], strict=True)),
                rows=2,
            ),
            Completion(
                values={"persons": "more"},
                weight=0.5,
                probabilities=dict(zip(CLASSES, BY_PERSONS["more"], strict=True)),
                rows=2,
            ),
        ],
        probabilities=pytest.approx(
            # 0.5 * (0.5, 0.3, 0.15, 0.05) + 0.5 * (0.2, 0.6, 0.1, 0.1)
            {"low": 0.35, "med": 0.45, "high": 0.125, "vhigh": 0.075},
            abs=1e-12,
        ),
    )
    assert answer.predicted == "med"
    # the scorer is asked once, about complete rows: the given values plus each completion
    base = {"maint": "high", "doors": "4", "lug_boot": "big", "safety": "high", "class": "acc"}
    assert scorer.calls == [[{**base, "persons": p} for p in ("2", "4", "more")]]
    assert [list(r) for r in scorer.calls[0]] == [
        ["maint", "doors", "lug_boot", "safety", "class", "persons"]
    ] * 3


def test_a_complete_query_is_scored_once_as_it_is(car_rows: Rows) -> None:
    scorer = RecordingScorer()
    query = {**QUESTION, "class": "acc", "persons": "4"}
    answer = predict(scorer, car_rows, query)
    assert (answer.missing, answer.weighting) == ([], "none")
    assert answer.completions == [
        Completion(
            values={},
            weight=1.0,
            probabilities=dict(zip(CLASSES, BY_PERSONS["4"], strict=True)),
            rows=2,
        )
    ]
    assert answer.probabilities == dict(zip(CLASSES, BY_PERSONS["4"], strict=True))
    assert scorer.calls == [[check_query(query)]]


def test_every_scorer_gets_the_same_weights_and_rows() -> None:
    first = RecordingScorer()
    second = RecordingScorer({p: tuple(reversed(v)) for p, v in BY_PERSONS.items()})
    # every row has lug_boot=small, safety=low, class=unacc: only persons is left out, and the
    # weights are those of test_independence_multiplies_each_given_attribute_given_the_completion
    query = {"maint": "low", "doors": "2", "lug_boot": "small", "safety": "low", "class": "unacc"}
    answers = predict_many({"a": first, "b": second}, SMALL, query)
    assert list(answers) == ["a", "b"]
    assert first.calls == second.calls
    assert len(first.calls) == 1
    for name, scorer in (("a", first), ("b", second)):
        answer = answers[name]
        assert answer.weighting == "independence"
        assert [c.weight for c in answer.completions] == pytest.approx([3 / 7, 4 / 7, 0.0])
        expected = {
            level: 3 / 7 * scorer.table["2"][k] + 4 / 7 * scorer.table["4"][k]
            for k, level in enumerate(CLASSES)
        }
        assert answer.probabilities == pytest.approx(expected, abs=1e-12)
    assert answers["a"].predicted == "low"  # 3/7*0.1 + 4/7*0.5 = 0.329 beats med, 0.257
    assert answers["b"].predicted == "vhigh"


def test_independence_multiplies_each_given_attribute_given_the_completion() -> None:
    # no row has maint=low and doors=2, so the exact rule has nothing; over the six rows:
    #   persons:          2     4     more
    #   P(persons)        2/6   3/6   1/6
    #   P(maint=low | .)  1/2   2/3   0
    #   P(doors=2 | .)    1/2   1/3   0
    #   product           1/12  1/9   0     -> normalised 3/7, 4/7, 0
    rule, weighted = weigh(SMALL, {"maint": "low", "doors": "2"}, ["persons"])
    assert rule == "independence"
    assert [values for values, _, _ in weighted] == [
        {"persons": "2"},
        {"persons": "4"},
        {"persons": "more"},
    ]
    assert [w for _, w, _ in weighted] == pytest.approx([3 / 7, 4 / 7, 0.0], abs=1e-12)
    assert [n for _, _, n in weighted] == [0, 0, 0]


def test_one_given_attribute_alone_weighs_by_its_conditional_frequency() -> None:
    # doors=5more occurs in no row; with doors=3 (rows 1 and 3) the exact rule applies
    rule, weighted = weigh(SMALL, {"doors": "3"}, ["persons"])
    assert rule == "exact"
    assert [(v["persons"], w, n) for v, w, n in weighted] == [
        ("2", 0.5, 1),
        ("4", 0.5, 1),
        ("more", 0.0, 0),
    ]


def test_overall_frequency_when_every_completion_contradicts_a_given_value() -> None:
    # maint=med occurs only with persons=more, doors=2 never with persons=more: every product
    # is 0, so the weights are the overall frequencies 2/6, 3/6, 1/6
    rule, weighted = weigh(SMALL, {"maint": "med", "doors": "2"}, ["persons"])
    assert rule == "overall"
    assert [w for _, w, _ in weighted] == pytest.approx([2 / 6, 3 / 6, 1 / 6], abs=1e-12)
    assert [n for _, _, n in weighted] == [0, 0, 0]


def test_nothing_over_counts_the_rows_with_every_given_value() -> None:
    assert weigh(SMALL, {"maint": "low"}, []) == ("none", [({}, 1.0, 3)])
    assert weigh(SMALL, {"maint": "low", "doors": "3"}, []) == ("none", [({}, 1.0, 2)])


def test_two_attributes_over_are_weighed_together() -> None:
    # maint=low: rows (persons 2, doors 3), (4, 3), (4, 4): each of 3 combinations has 1/3
    rule, weighted = weigh(SMALL, {"maint": "low"}, ["persons", "doors"])
    assert rule == "exact"
    nonzero = {(v["persons"], v["doors"]): (w, n) for v, w, n in weighted if n}
    assert nonzero == {
        ("2", "3"): pytest.approx((1 / 3, 1)),
        ("4", "3"): pytest.approx((1 / 3, 1)),
        ("4", "4"): pytest.approx((1 / 3, 1)),
    }
    assert len(weighted) == 3 * 4


def test_counts_follow_the_table_asked_about() -> None:
    # the same query against two different tables (the count cache is per table)
    other = (*SMALL, row(persons="4", maint="low", doors="2"))
    assert weigh(SMALL, {"maint": "low", "doors": "2"}, [])[1][0][2] == 0
    assert weigh(other, {"maint": "low", "doors": "2"}, [])[1][0][2] == 1
    many = [tuple(SMALL[: k + 1]) for k in range(6)]
    assert [weigh(t, {"maint": "low"}, [])[1][0][2] for t in many] == [1, 1, 2, 3, 3, 3]
    assert [weigh(t, {"maint": "low"}, [])[1][0][2] for t in many] == [1, 1, 2, 3, 3, 3]


def test_data_estimate_is_keyed_by_price_level() -> None:
    table = (
        row(buying="med", maint="low"),
        row(buying="med", maint="low"),
        row(buying="vhigh", maint="low"),
        row(buying="low", maint="high"),
    )
    rule, estimate = data_estimate(table, {"maint": "low"})
    assert rule == "exact"
    assert estimate == {"low": 0.0, "med": 2 / 3, "high": 0.0, "vhigh": 1 / 3}
    assert list(estimate) == list(CLASSES)


@pytest.mark.parametrize(
    ("probabilities", "top"),
    [
        ({"low": 0.1, "med": 0.2, "high": 0.6, "vhigh": 0.1}, "high"),
        ({"low": 0.25, "med": 0.25, "high": 0.25, "vhigh": 0.25}, "low"),
        ({"low": 0.1, "med": 0.4, "high": 0.4, "vhigh": 0.1}, "med"),
        ({"low": 0.0, "med": 0.0, "high": 0.5, "vhigh": 0.5}, "high"),
        ({"low": 0.0, "med": 0.0, "high": 0.0, "vhigh": 1.0}, "vhigh"),
    ],
)
def test_the_most_probable_level_wins_and_a_tie_goes_to_the_cheaper(
    probabilities: dict[str, float], top: str
) -> None:
    assert top_level(probabilities) == top
    prediction = Prediction(
        given={}, missing=[], weighting="none", completions=[], probabilities=probabilities
    )
    assert prediction.predicted == top


def test_never_together_names_each_pair_in_feature_order() -> None:
    # rows have (maint, doors): (low, 3), (high, 2), (low, 3), (low, 4), (high, 2), (med, 4)
    assert never_together(SMALL, {"doors": "2", "maint": "low", "persons": "more"}) == [
        ("maint=low", "doors=2"),
        ("maint=low", "persons=more"),
        ("doors=2", "persons=more"),
    ]
    assert never_together(SMALL, {"maint": "low", "doors": "3"}) == []
    assert never_together(SMALL, {"maint": "low"}) == []


def test_support_splits_on_the_first_missing_attribute(car_rows: Rows) -> None:
    # full factorial: 1,728 rows; maint=vhigh leaves doors first: 108 rows a door level,
    # 27 of each price
    found = support(car_rows, {"maint": "vhigh", "class": "unacc"})
    assert list(found.exact) == ["doors=2", "doors=3", "doors=4", "doors=5more"]
    assert found.occurs
    assert found.distance == 0
    counted = found.exact
    for door in ("2", "3", "4", "5more"):
        expected = {
            level: sum(
                1
                for r in car_rows
                if r[0] == level and r[1] == "vhigh" and r[2] == door and r[6] == "unacc"
            )
            for level in CLASSES
        }
        assert counted[f"doors={door}"] == expected
        assert list(counted[f"doors={door}"]) == list(CLASSES)


def test_support_of_a_complete_query_is_all_given(car_rows: Rows) -> None:
    query = {**QUESTION, "class": "acc", "persons": "4"}
    found = support(car_rows, query)
    assert found.exact == {"all given": {"low": 0, "med": 1, "high": 1, "vhigh": 0}}
    assert found.occurs
    assert found.distance == 0
    assert found.nearest_prices == {"low": 0, "med": 1, "high": 1, "vhigh": 0}
    assert found.neighbours == [
        Neighbour(
            row={
                "buying": price,
                "maint": "high",
                "doors": "4",
                "persons": "4",
                "lug_boot": "big",
                "safety": "high",
                "class": "acc",
            },
            differs=[],
        )
        for price in ("high", "med")  # table order: the file lists vhigh, high, med, low
    ]
    assert [list(n.row) for n in found.neighbours] == [["buying", *FEATURES]] * 2


def test_support_of_an_empty_query_lists_no_neighbours() -> None:
    found = support(SMALL, {})
    assert found.exact == {
        "maint=low": {"low": 3, "med": 0, "high": 0, "vhigh": 0},
        "maint=med": {"low": 1, "med": 0, "high": 0, "vhigh": 0},
        "maint=high": {"low": 2, "med": 0, "high": 0, "vhigh": 0},
        "maint=vhigh": {"low": 0, "med": 0, "high": 0, "vhigh": 0},
    }
    assert (found.distance, found.neighbours, found.nearest_prices) == (0, [], {})
    assert found.occurs


def test_support_lists_the_nearest_rows_in_table_order_up_to_the_limit() -> None:
    table = (
        row(buying="vhigh", maint="low", doors="2"),  # differs in maint and doors: 2
        row(buying="high", maint="high", doors="3"),  # differs in doors: 1
        row(buying="med", maint="med", doors="4"),  # differs in maint: 1
        row(buying="low", maint="med", doors="2"),  # differs in maint and doors: 2
        row(buying="high", maint="high", doors="5more"),  # differs in doors: 1
    )
    query = {"maint": "high", "doors": "4"}
    found = support(table, query, limit=2)
    assert not found.occurs
    assert found.exact == {f"persons={p}": dict.fromkeys(CLASSES, 0) for p in ("2", "4", "more")}
    assert found.distance == 1
    assert found.nearest_prices == {"low": 0, "med": 1, "high": 2, "vhigh": 0}
    assert [
        (n.row["buying"], n.row["maint"], n.row["doors"], n.differs) for n in found.neighbours
    ] == [
        ("high", "high", "3", ["doors"]),
        ("med", "med", "4", ["maint"]),
    ]
    everything = support(table, query, limit=12)
    assert [n.row["doors"] for n in everything.neighbours] == ["3", "4", "5more"]
    assert support(table, query).neighbours == everything.neighbours  # the default is 12
    farther = support(table, {"maint": "vhigh", "doors": "3"})
    # row 2 differs in maint only; every other row differs in both
    assert farther.distance == 1
    assert [n.differs for n in farther.neighbours] == [["maint"]]
    farthest = support(table, {"maint": "vhigh", "doors": "5more", "persons": "4"})
    # every row has persons 2: rows 1-4 differ in all three, row 5 in maint and persons
    assert farthest.distance == 2
    assert [n.differs for n in farthest.neighbours] == [["maint", "persons"]]


def test_the_default_limit_is_twelve_rows() -> None:
    table = tuple(row(buying=CLASSES[k % 4], maint="low") for k in range(15))
    found = support(table, {"maint": "high"})
    assert len(found.neighbours) == 12
    assert sum(found.nearest_prices.values()) == 15
    assert found.nearest_prices == {"low": 4, "med": 4, "high": 4, "vhigh": 3}


def test_a_query_is_checked_and_put_in_feature_order() -> None:
    assert list(check_query({"class": "acc", "maint": "low", "doors": "2"})) == [
        "maint",
        "doors",
        "class",
    ]
    assert check_query({}) == {}
    with pytest.raises(ValueError, match=r"^persons cannot be '3', expected one of: 2, 4, more$"):
        check_query({"maint": "low", "persons": "3"})


def test_a_level_the_table_never_has_gets_weight_zero() -> None:
    # without the persons=more row, persons=more occurs nowhere: its weight is 0, not an error
    rule, weighted = weigh(SMALL[:5], {"maint": "low", "doors": "2"}, ["persons"])
    assert rule == "independence"
    assert [w for _, w, _ in weighted] == pytest.approx([3 / 7, 4 / 7, 0.0], abs=1e-12)
