"""The lookup-table ceiling and the majority baseline, by hand and on the real table."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from shopdata.carprice.ceiling import compute_ceiling
from shopdata.carprice.data import CLASSES, FEATURES, TARGET


def test_ceiling_on_a_tiny_hand_made_table() -> None:
    # a=x: p, p, q | a=z: q | a=w: p, q (a tie, broken towards p, the first class)
    table = pd.DataFrame({"a": ["x", "x", "x", "z", "w", "w"], "y": ["p", "p", "q", "q", "p", "q"]})
    ceiling = compute_ceiling(table, "y", ["a"], ["p", "q"])
    assert ceiling.rows == 6
    assert ceiling.groups == 3
    assert ceiling.ambiguous_groups == 2
    assert ceiling.best.accuracy == pytest.approx(4 / 6)
    expected_loss = (-(2 * math.log(2 / 3) + math.log(1 / 3)) + 2 * math.log(2)) / 6
    assert ceiling.best.log_loss == pytest.approx(expected_loss)
    # lookup predicts x->p, z->q, w->p: F1(p) = 6/8, F1(q) = 2/4
    assert ceiling.best.macro_f1 == pytest.approx((0.75 + 0.5) / 2)
    # majority: p and q tie at 3 each, p wins the tie
    assert ceiling.majority.accuracy == pytest.approx(0.5)
    assert ceiling.majority.log_loss == pytest.approx(math.log(2))
    assert ceiling.majority.macro_f1 == pytest.approx((2 / 3 + 0) / 2)


def test_a_deterministic_table_has_a_perfect_ceiling() -> None:
    table = pd.DataFrame({"a": ["x", "y", "y"], "b": ["1", "1", "2"], "t": ["p", "q", "p"]})
    ceiling = compute_ceiling(table, "t", ["a", "b"], ["p", "q"])
    assert (ceiling.best.accuracy, ceiling.best.macro_f1, ceiling.best.log_loss) == (1.0, 1.0, 0)
    assert ceiling.ambiguous_groups == 0


def test_car_table_ceiling(cars: pd.DataFrame) -> None:
    ceiling = compute_ceiling(cars, TARGET, FEATURES, CLASSES)
    # every group holds distinct prices (each full combination occurs once), so the best
    # classifier gets exactly one row per group right
    assert ceiling.groups == 619
    assert ceiling.ambiguous_groups == 537
    assert ceiling.best.accuracy == pytest.approx(619 / 1728)
    sizes = cars.groupby(list(FEATURES), observed=True).size()
    assert ceiling.best.log_loss == pytest.approx(float((sizes * sizes.map(math.log)).sum()) / 1728)
    assert ceiling.best.log_loss == pytest.approx(1.1136378979755)
    assert ceiling.majority.accuracy == 0.25
    assert ceiling.majority.log_loss == pytest.approx(math.log(4))
    assert ceiling.majority.macro_f1 == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (pd.DataFrame({"a": [], "y": []}), "cannot compute a ceiling on an empty table"),
        (pd.DataFrame({"a": ["x"], "y": ["r"]}), "target values not in classes: r"),
    ],
)
def test_ceiling_rejects_bad_input(table: pd.DataFrame, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        compute_ceiling(table, "y", ["a"], ["p", "q"])
    assert str(caught.value) == message
