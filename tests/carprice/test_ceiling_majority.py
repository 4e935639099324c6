"""The ceiling's lookup table predicts each group's most common price, not the first in order.

Added for mutmut survivors in carprice/ceiling.py: in every earlier table the most common price
of each group was also the first class in order, so picking ``min(counts)`` passed; and no table
had a class that is neither true nor predicted anywhere, which scores 0 in the macro average.
The last two tests were added for the survivors of the next run: the metrics JSON's bounds, and
an error naming more than one unknown price.
"""

from __future__ import annotations

import pandas as pd
import pytest

from shopdata.carprice.ceiling import Bound, compute_ceiling


def test_each_group_predicts_its_most_common_price() -> None:
    # a=x: q, q, p -> q (the later class); a=z: r, r, p -> r
    table = pd.DataFrame({"a": ["x", "x", "x", "z", "z", "z"], "y": ["q", "p", "q", "r", "r", "p"]})
    ceiling = compute_ceiling(table, "y", ["a"], ["p", "q", "r"])
    assert ceiling.best.accuracy == pytest.approx(4 / 6)
    # predictions q, q, q, r, r, r: F1(p) = 0, F1(q) = 2*2/(3+2) = 0.8, F1(r) = 2*2/(3+2) = 0.8
    assert ceiling.best.macro_f1 == pytest.approx((0 + 0.8 + 0.8) / 3)


def test_a_class_never_seen_nor_predicted_scores_zero_in_macro_f1() -> None:
    table = pd.DataFrame({"a": ["x", "z"], "y": ["p", "q"]})
    ceiling = compute_ceiling(table, "y", ["a"], ["p", "q", "s"])
    assert ceiling.best.accuracy == 1.0
    assert ceiling.best.macro_f1 == pytest.approx(2 / 3)


def test_a_bound_is_written_as_its_three_scores() -> None:
    bound = Bound(accuracy=0.5, macro_f1=0.25, log_loss=1.5)
    assert bound.as_dict() == {"accuracy": 0.5, "macro_f1": 0.25, "log_loss": 1.5}
    table = pd.DataFrame({"a": ["x", "x"], "y": ["p", "q"]})
    assert list(compute_ceiling(table, "y", ["a"], ["p", "q"]).best.as_dict()) == [
        "accuracy",
        "macro_f1",
        "log_loss",
    ]


def test_every_unknown_price_is_named_once_in_order() -> None:
    table = pd.DataFrame({"a": ["x", "x", "z", "z"], "y": ["t", "p", "s", "t"]})
    with pytest.raises(ValueError) as caught:
        compute_ceiling(table, "y", ["a"], ["p", "q"])
    assert str(caught.value) == "target values not in classes: s, t"
