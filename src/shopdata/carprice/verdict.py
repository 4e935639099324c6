"""The answer with its spread: how strongly the families and the table support one price.

One model's probability is one extrapolation among several. The verdict puts next to the chosen
model's answer every other family's probabilities for the same query and the data-only
estimate (see :func:`shopdata.carprice.predict.data_estimate`), and says

* the answer: the chosen model's most probable price, or **no clear answer** when its top two
  levels are within ``margin`` of each other (the model's calibration error reaches 0.03 per
  level, so closer levels cannot be told apart);
* how strongly it is supported: by how many families and by the data, with the range of its
  probability across them;
* in one line, why the answer is uncertain at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shopdata.carprice.data import CLASSES, Row
from shopdata.carprice.predict import (
    Prediction,
    Scorer,
    Support,
    data_estimate,
    never_together,
    predict_many,
    support,
    top_level,
)

DEFAULT_MARGIN = 0.05
"""Top two probabilities closer than this give no clear answer (settings: tie_margin)."""


@dataclass(frozen=True)
class Verdict:
    """The chosen model's answer weighed against the other families and the data."""

    answer: str | None
    """The price level, or ``None`` for no clear answer."""
    leader: str
    runner_up: str
    gap: float
    margin: float
    tops: dict[str, str | None]
    """Per family, and ``data`` for the data-only estimate: its clear first level or ``None``."""
    low: float
    """Lowest probability of the leader over the families."""
    high: float
    """Highest probability of the leader over the families."""
    data: float
    """Probability of the leader by the data alone."""
    strength: str
    """``strongly``, ``moderately`` or ``weakly`` supported (see :func:`judge`)."""
    reason: str
    """One line: why the answer is uncertain."""


def clear_top(probabilities: Mapping[str, float], margin: float) -> str | None:
    """The most probable level, or ``None`` when the runner-up is within ``margin`` of it."""
    first = top_level(probabilities)
    second = top_level({**probabilities, first: float("-inf")})
    return None if probabilities[first] - probabilities[second] < margin else first


def reason(given: Mapping[str, str], found: Support, rows: Sequence[Row]) -> str:
    """Why any answer to this query is uncertain, in one line."""
    if not given:
        return (
            f"nothing was given, so the answer averages over all {len(rows):,} cars of the "
            "table; it describes the whole table, not a car"
        )
    if not found.occurs:
        apart = never_together(rows, given)
        if apart:
            pairs = "; ".join(f"{a} with {b}" for a, b in apart)
            return (
                f"no row of the table has {pairs}, so the rules behind the table exclude this "
                "car: every figure extrapolates beyond them"
            )
        return (
            f"no row has all the given values (the nearest rows differ in {found.distance} "
            "given attribute(s)), so every figure extrapolates beyond the table"
        )
    counts = {level: sum(c[level] for c in found.exact.values()) for level in CLASSES}
    present = {level: n for level, n in counts.items() if n}
    total = sum(present.values())
    listed = ", ".join(f"{level} {n}" for level, n in present.items())
    if len(present) > 1:
        return (
            f"{total} row(s) of the table have these values, at {len(present)} different "
            f"prices ({listed}): these attributes do not fix the price"
        )
    return (
        f"{total} row(s) of the table have these values, all at buying {next(iter(present))}; "
        "the models generalise from similar cars, so they need not agree with them"
    )


def judge(
    answers: Mapping[str, Prediction],
    chosen: str,
    data: Mapping[str, float],
    found: Support,
    rows: Sequence[Row],
    margin: float = DEFAULT_MARGIN,
) -> Verdict:
    """Weigh the chosen family's answer against every family in ``answers`` and the data."""
    mine = answers[chosen].probabilities
    leader = top_level(mine)
    runner_up = top_level({**mine, leader: float("-inf")})
    tops: dict[str, str | None] = {
        name: clear_top(answer.probabilities, margin) for name, answer in answers.items()
    }
    tops["data"] = clear_top(data, margin)
    answer = tops[chosen]
    chances = [a.probabilities[leader] for a in answers.values()]
    agree = all(top == leader for top in tops.values())
    if answer is None or not agree:
        strength = "weakly"
    elif min(*chances, data[leader]) >= 0.8:
        strength = "strongly"
    elif min(*chances, data[leader]) >= 0.5:
        strength = "moderately"
    else:
        strength = "weakly"
    return Verdict(
        answer=answer,
        leader=leader,
        runner_up=runner_up,
        gap=mine[leader] - mine[runner_up],
        margin=margin,
        tops=tops,
        low=min(chances),
        high=max(chances),
        data=data[leader],
        strength=strength,
        reason=reason(answers[chosen].given, found, rows),
    )


def headline(verdict: Verdict, labels: Mapping[str, str], chosen: str) -> str:
    """The ``answer:`` line: the price, how strongly it is supported, and by whom."""
    if verdict.answer is None:
        return (
            f"answer: no clear answer: {verdict.leader} and {verdict.runner_up} are "
            f"{verdict.gap:.3f} apart for {labels[chosen]}, less than the margin "
            f"{verdict.margin:.2f}"
        )
    level = verdict.answer
    families = [name for name in verdict.tops if name != "data"]
    backing = [name for name in families if verdict.tops[name] == level]
    others = [
        f"{labels[name]}: {verdict.tops[name] or 'no clear answer'}"
        for name in families
        if name not in backing
    ]
    data = verdict.tops["data"]
    if len(backing) == len(families) and data == level:
        who = f"every family ({len(families)}) and the data alone put it first"
    else:
        who = (
            f"every family ({len(families)}) puts it first"
            if len(backing) == len(families)
            else f"{len(backing)} of {len(families)} families put it first ({'; '.join(others)})"
        )
        if data == level:
            who += " and so does the data alone"
        else:
            who += (
                f"; the data alone {'puts ' + data + ' first' if data else 'has no clear answer'}"
            )
    spread = f"{verdict.low:.3f}"
    if verdict.high != verdict.low:
        spread += f"-{verdict.high:.3f}"
    return (
        f"answer: {level}, {verdict.strength} supported: {who}; P({level}) {spread} by family, "
        f"{verdict.data:.3f} by the data alone"
    )


@dataclass(frozen=True)
class QueryAnswer:
    """Everything ``predict`` reports for one query."""

    chosen: str
    answers: dict[str, Prediction]
    """Every tabulated family's (marginalised) prediction, the chosen one included."""
    data_rule: str
    """Rule of the data-only estimate: ``exact``, ``independence`` or ``overall``."""
    data: dict[str, float]
    found: Support
    verdict: Verdict

    @property
    def prediction(self) -> Prediction:
        """The chosen family's prediction."""
        return self.answers[self.chosen]


def answer_query(
    scorers: Mapping[str, Scorer],
    chosen: str,
    rows: Sequence[Row],
    given: Mapping[str, str],
    margin: float = DEFAULT_MARGIN,
) -> QueryAnswer:
    """Predict ``given`` with every scorer, estimate it from the data, and judge the answer."""
    answers = predict_many(scorers, rows, given)
    rule, data = data_estimate(rows, given)
    found = support(rows, given)
    return QueryAnswer(
        chosen=chosen,
        answers=answers,
        data_rule=rule,
        data=data,
        found=found,
        verdict=judge(answers, chosen, data, found, rows, margin),
    )
