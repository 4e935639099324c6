"""The model card's pictures, drawn with matplotlib's Agg backend (no display needed).

* ``comparison.png``: every family's cross-validated log-loss and accuracy (mean ± std over
  folds) under both schemes, against the lookup-table ceiling and the majority baseline.
* ``reliability.png``: for the chosen family, out-of-fold probabilities on grouped folds: a
  reliability diagram per price level and the row-normalised confusion matrix.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from shopdata.carprice.data import CLASSES
from shopdata.carprice.metrics import Bound, FamilyScores, Metrics, Spread


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def comparison_plot(metrics: Metrics, path: Path) -> Path:
    """Log-loss and accuracy per family and scheme, with the two reference lines."""
    plt = _pyplot()
    names = list(metrics.models)
    labels = [metrics.models[n] for n in names]
    fig, axes = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
    panels: tuple[tuple[Callable[[FamilyScores | Bound], Any], str], ...] = (
        (lambda scores: scores.log_loss, "log-loss (lower is better)"),
        (lambda scores: scores.accuracy, "accuracy (higher is better)"),
    )
    ypos = np.arange(len(names))
    styles = {"grouped": ("o", "tab:blue", -0.15), "stratified": ("s", "tab:orange", 0.15)}
    for ax, (metric, title) in zip(axes, panels, strict=True):
        for scheme in metrics.cross_validation.schemes:
            marker, color, offset = styles.get(scheme, ("^", "tab:gray", 0.0))
            spreads: list[Spread] = [metric(metrics.scores[scheme][n]) for n in names]
            means = [spread.mean for spread in spreads]
            stds = [spread.std for spread in spreads]
            ax.errorbar(
                means,
                ypos + offset,
                xerr=stds,
                fmt=marker,
                color=color,
                capsize=3,
                label=f"{scheme} folds (mean ± std)",
            )
        best: float = metric(metrics.ceiling.best)
        majority: float = metric(metrics.ceiling.majority)
        ax.axvline(best, color="tab:green", linestyle="--", label="ceiling: lookup table")
        ax.axvline(majority, color="tab:red", linestyle=":", label="majority class")
        for value, color in ((best, "tab:green"), (majority, "tab:red")):
            ax.annotate(
                f"{value:.3f}",
                (value, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                color=color,
                fontsize=8,
            )
        ax.set_title(title, pad=14)
        ax.grid(axis="x", alpha=0.3)
    handles, names_ = axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        names_,
        loc="lower center",
        ncol=len(handles),
        fontsize=9,
        frameon=False,
    )
    axes[0].set_yticks(ypos, labels)
    axes[0].invert_yaxis()
    chosen = metrics.models[metrics.selection.chosen]
    cv = metrics.cross_validation
    fig.suptitle(
        f"Car buying price: {cv.repeats}x{cv.folds}-fold CV, seed {metrics.seed}; chosen: {chosen}"
    )
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def reliability_plot(
    oof: npt.NDArray[np.float64],
    y: npt.NDArray[np.int64],
    title: str,
    path: Path,
    bins: int = 8,
) -> Path:
    """Reliability per price level (quantile bins, pooled over repeats) and confusion matrix.

    ``oof`` has shape (repeats, rows, classes); ``y`` holds the true level codes.
    """
    plt = _pyplot()
    repeats = oof.shape[0]
    proba = oof.reshape(-1, oof.shape[2])
    truth = np.tile(y, repeats)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.8))
    left.plot([0, 1], [0, 1], color="gray", linestyle="--", linewidth=1, label="perfect")
    for k, level in enumerate(CLASSES):
        p = proba[:, k]
        hit = (truth == k).astype(np.float64)
        edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1)))
        which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
        xs = [p[which == b].mean() for b in range(len(edges) - 1) if np.any(which == b)]
        ys = [hit[which == b].mean() for b in range(len(edges) - 1) if np.any(which == b)]
        left.plot(xs, ys, marker="o", label=level)
    left.set_xlim(0, 1)
    left.set_ylim(0, 1)
    left.set_xlabel("predicted probability")
    left.set_ylabel("observed frequency")
    left.set_title("reliability (out-of-fold, quantile bins)")
    left.legend(title="buying", fontsize=8)
    left.grid(alpha=0.3)

    predicted = proba.argmax(axis=1)
    counts = np.zeros((len(CLASSES), len(CLASSES)))
    np.add.at(counts, (truth, predicted), 1)
    share = counts / counts.sum(axis=1, keepdims=True)
    image = right.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(CLASSES)):
        for j in range(len(CLASSES)):
            color = "white" if share[i, j] > 0.5 else "black"
            right.text(j, i, f"{share[i, j]:.2f}", ha="center", va="center", color=color)
    right.set_xticks(range(len(CLASSES)), CLASSES)
    right.set_yticks(range(len(CLASSES)), CLASSES)
    right.set_xlabel("predicted buying")
    right.set_ylabel("true buying")
    right.set_title("confusion matrix (share of each true level)")
    fig.colorbar(image, ax=right, fraction=0.046)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def spread_plot(
    rows: list[tuple[str, dict[str, float]]], title: str, margin: float, path: Path
) -> Path:
    """Stacked bars, one per family and one for the data alone: the spread of one answer."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(11, 0.55 * len(rows) + 1.6))
    colors = {"low": "tab:green", "med": "tab:olive", "high": "tab:orange", "vhigh": "tab:red"}
    ypos = np.arange(len(rows))[::-1]
    left = np.zeros(len(rows))
    for level in CLASSES:
        widths = np.array([probabilities[level] for _, probabilities in rows])
        ax.barh(ypos, widths, left=left, color=colors[level], label=level, height=0.6)
        for y, x, w in zip(ypos, left, widths, strict=True):
            if w >= 0.06:
                ax.text(x + w / 2, y, f"{w:.3f}", ha="center", va="center", fontsize=9)
        left += widths
    ax.set_yticks(ypos, [label for label, _ in rows])
    ax.set_xlim(0, 1)
    ax.set_xlabel(
        f"probability of each buying price (no clear answer: top two within {margin:.2f})"
    )
    ax.set_title(title, fontsize=10)
    ax.legend(ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.22), frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
