"""The comparison table and the prediction report, as plain text or markdown.

Pure formatting of the metrics JSON and of :class:`~shopdata.carprice.predict.Prediction`, so
``evaluate`` needs no refit and the docs table is produced by the same code the CLI prints.
"""

from __future__ import annotations

from typing import Any

from shopdata.carprice.data import CLASSES
from shopdata.carprice.metrics import Metrics
from shopdata.carprice.persist import Manifest
from shopdata.carprice.verdict import QueryAnswer, headline

_HEADERS = ("model", "accuracy", "macro-F1", "log-loss")


def comparison_rows(metrics: Metrics, scheme: str) -> list[tuple[str, str, str, str]]:
    """Model rows (mean ± std over folds), then the two whole-table reference rows."""
    rows: list[tuple[str, str, str, str]] = []
    chosen = metrics.selection.chosen
    for name, label in metrics.models.items():
        scores = metrics.scores[scheme][name]
        mark = " *" if name == chosen else ""
        cells = tuple(
            f"{spread.mean:.3f} ± {spread.std:.3f}"
            for spread in (scores.accuracy, scores.macro_f1, scores.log_loss)
        )
        rows.append((label + mark, cells[0], cells[1], cells[2]))
    best = metrics.ceiling.best
    majority = metrics.ceiling.majority
    rows.append(
        (
            "ceiling: lookup table on all rows",
            f"{best.accuracy:.3f}",
            f"({best.macro_f1:.3f})",
            f"{best.log_loss:.3f}",
        )
    )
    rows.append(
        (
            "majority class on all rows",
            f"{majority.accuracy:.3f}",
            f"{majority.macro_f1:.3f}",
            f"{majority.log_loss:.3f}",
        )
    )
    return rows


def comparison_text(metrics: Metrics, scheme: str) -> str:
    """Fixed-width table for the terminal."""
    rows = [_HEADERS, *comparison_rows(metrics, scheme)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADERS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def comparison_markdown(metrics: Metrics, scheme: str) -> str:
    """GitHub markdown table for the model card."""
    lines = ["| " + " | ".join(_HEADERS) + " |", "|---|---:|---:|---:|"]
    lines += ["| " + " | ".join(row) + " |" for row in comparison_rows(metrics, scheme)]
    return "\n".join(lines)


def evaluation_text(metrics: Metrics) -> str:
    """Both schemes, the ceiling and the choice, as ``shopdata carprice evaluate`` prints."""
    cv = metrics.cross_validation
    selection = metrics.selection
    gap = selection.log_loss_gap_to_runner_up
    ceiling = metrics.ceiling
    data = metrics.data
    parts = [
        f"data: {data.source} ({data.rows} rows, "
        f"sha256 {data.sha256[:12]}…), seed {metrics.seed}, "
        f"{cv.repeats}x{cv.folds}-fold CV, "
        f"scikit-learn {metrics.versions['scikit-learn']}",
        f"ceiling: {ceiling.groups} predictor combinations, {ceiling.ambiguous_groups} of "
        "them with more than one price, so no classifier can beat the ceiling rows below",
    ]
    for scheme in cv.schemes:
        title = {
            "grouped": "grouped folds (unseen attribute combinations; used to choose)",
            "stratified": "stratified folds over rows",
        }.get(scheme, scheme)
        parts += ["", f"{title}:", comparison_text(metrics, scheme)]
    parts += [
        "",
        f"chosen (*): {metrics.models[selection.chosen]}, lowest mean log-loss on "
        f"{selection.scheme} folds; runner-up {metrics.models[selection.runner_up]} is "
        f"{gap.mean:.3f} ± {gap.std:.3f} worse per fold (paired)",
        "macro-F1 of the ceiling row is the lookup table's score, not a bound",
    ]
    bins = selection.top_label_reliability
    if bins:
        parts += ["", "top-label reliability of the chosen family (out-of-fold, grouped folds):"]
        parts.append("  top probability   predictions  mean probability  share right")
        for b in bins:
            span = f"{b.from_:.1f}-{b.to:.1f}"
            if b.predictions and b.confidence is not None and b.accuracy is not None:
                parts.append(
                    f"  {span:<16}  {b.predictions:>11}  {b.confidence:>16.3f}  {b.accuracy:>11.3f}"
                )
            else:
                parts.append(f"  {span:<16}  {0:>11}")
    return "\n".join(parts)


def _format_values(values: dict[str, str]) -> str:
    return ", ".join(f"{name}={value}" for name, value in values.items()) or "(nothing)"


def _labels(names: list[str]) -> dict[str, str]:
    from shopdata.carprice.families import MODEL_LABELS

    return {name: MODEL_LABELS.get(name, name) for name in names}


def spread_rows(result: QueryAnswer) -> list[tuple[str, dict[str, float]]]:
    """(label, probabilities) per family, the chosen one marked, then the data alone."""
    labels = _labels(list(result.answers))
    rows = [
        (labels[name] + (" *" if name == result.chosen else ""), answer.probabilities)
        for name, answer in result.answers.items()
    ]
    return [*rows, (f"data alone ({result.data_rule} rule)", result.data)]


def spread_title(result: QueryAnswer) -> str:
    """The picture's title: the query and the answer's first line."""
    answer = result.verdict.answer or "no clear answer"
    return (
        f"{_format_values(result.prediction.given)}\nanswer: {answer}, "
        f"{result.verdict.strength} supported (* = the chosen model)"
    )


def spread_text(result: QueryAnswer) -> list[str]:
    """One line per family and one for the data alone: the spread of the answer."""
    labels = _labels(list(result.answers))
    rows = [
        (labels[name] + (" *" if name == result.chosen else ""), answer.probabilities, name)
        for name, answer in result.answers.items()
    ]
    rows.append((f"data alone ({result.data_rule} rule)", result.data, "data"))
    width = max(len(label) for label, _, _ in rows) + 2
    lines = ["  " + "".ljust(width) + "".join(f"{c:>7}" for c in CLASSES) + "  first"]
    for label, probabilities, name in rows:
        probs = "".join(f"{probabilities[c]:>7.3f}" for c in CLASSES)
        lines.append(f"  {label.ljust(width)}{probs}  {result.verdict.tops[name] or '-'}")
    lines.append(
        f"  (* = the chosen model; first = the most probable price, '-' when the top two are "
        f"within {result.verdict.margin:.2f})"
    )
    return lines


def prediction_text(result: QueryAnswer, checked_max: float = 1.0) -> str:
    """What ``shopdata carprice predict`` prints.

    ``checked_max`` is the highest probability the family gave any held-out row in
    cross-validation; a larger probability here has never been checked for calibration.
    """
    prediction = result.prediction
    found = result.found
    lines = [
        f"query: {_format_values(prediction.given)}",
        headline(result.verdict, _labels(list(result.answers)), result.chosen),
        f"why uncertain: {result.verdict.reason}",
        *spread_text(result),
    ]
    top = max(prediction.probabilities.values())
    if top > checked_max:
        lines.append(
            f"  caution: {top:.3f} is above every probability this model gave a held-out row "
            f"in cross-validation (at most {checked_max:.3f}), so its calibration is unchecked"
        )
    if prediction.missing:
        rule = {
            "exact": "share of the rows with all given values that have it",
            "independence": (
                "no row has all given values; weight ∝ P(value) * Π P(given value | value), "
                "from the table"
            ),
            "overall": "no usable co-occurrence; overall frequency in the table",
        }[prediction.weighting]
        lines.append(
            f"not given: {', '.join(prediction.missing)}; each family averages over "
            f"{len(prediction.completions)} completion(s), weights = {rule}"
        )
        shown = sorted(prediction.completions, key=lambda c: -c.weight)[:12]
        for completion in shown:
            probs = " ".join(f"{c} {completion.probabilities[c]:.3f}" for c in CLASSES)
            lines.append(
                f"  {_format_values(completion.values):<24} weight {completion.weight:.3f}  "
                f"({probs})"
            )
        if len(prediction.completions) > len(shown):
            lines.append(f"  … {len(prediction.completions) - len(shown)} more completions")
    lines.append("in the data:")
    for label, counts in found.exact.items():
        total = sum(counts.values())
        prices = ", ".join(f"{c} {n}" for c, n in counts.items() if n) or "-"
        lines.append(f"  {label:<14} {total} row(s) with all given values (buying: {prices})")
    if not prediction.given:
        lines.append("  nothing given: the prediction averages over every car in the table")
    elif found.occurs:
        lines.append("  the combination occurs in the table: the prediction interpolates")
    else:
        prices = ", ".join(f"{c} {n}" for c, n in found.nearest_prices.items() if n)
        lines.append(
            f"  the combination never occurs: the prediction extrapolates. Nearest rows differ "
            f"in {found.distance} given attribute(s), {sum(found.nearest_prices.values())} "
            f"rows (buying: {prices}):"
        )
        for neighbour in found.neighbours:
            row = neighbour.row
            differs = ", ".join(f"{name}={row[name]}" for name in neighbour.differs)
            rest = ", ".join(f"{name}={row[name]}" for name in prediction.missing if name in row)
            lines.append(
                f"    buying={row['buying']:<6} differs: {differs}" + (f"; {rest}" if rest else "")
            )
    return "\n".join(lines)


def prediction_json(result: QueryAnswer, manifest: Manifest) -> dict[str, Any]:
    """Machine-readable form of the answer, its spread, weights and support in the table."""
    prediction = result.prediction
    found = result.found
    verdict = result.verdict
    return {
        "model": manifest.model,
        "model_sha256": manifest.sha256,
        "checked_max_probability": manifest.checked_max_probability,
        "query": prediction.given,
        "missing": prediction.missing,
        "weighting": prediction.weighting,
        "completions": [
            {
                "values": c.values,
                "weight": c.weight,
                "rows": c.rows,
                "probabilities": c.probabilities,
            }
            for c in prediction.completions
        ],
        "predicted": prediction.predicted,
        "probabilities": prediction.probabilities,
        "answer": verdict.answer,
        "margin": verdict.margin,
        "supported": verdict.strength,
        "why_uncertain": verdict.reason,
        "families": {name: a.probabilities for name, a in result.answers.items()},
        "data_only": {"rule": result.data_rule, "probabilities": result.data},
        "in_data": {
            "occurs": found.occurs,
            "exact": found.exact,
            "nearest_distance": found.distance,
            "nearest_prices": found.nearest_prices,
            "nearest_rows": [{"row": n.row, "differs": n.differs} for n in found.neighbours],
        },
    }
