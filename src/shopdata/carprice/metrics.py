"""``metrics.json``: what ``train`` measured, as a typed document.

``train`` writes it, ``evaluate``, the comparison table and the comparison plot read it; all
through :class:`Metrics`, so a field is named once, here. The file is written by
:meth:`Metrics.write` (indented, no timestamp: the same data, seed and libraries give the same
bytes) and read by :meth:`Metrics.read`, which raises :class:`MetricsError` with one line naming
the first field that is missing or of another type.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class MetricsError(Exception):
    """metrics.json is missing, not JSON, or not of this layout; the message is one line."""


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Spread(_Part):
    """Mean and sample standard deviation over the folds of all repeats."""

    mean: float
    std: float


class FamilyScores(_Part):
    """One family's cross-validated scores under one scheme (the names of ``evaluate.METRICS``)."""

    accuracy: Spread
    macro_f1: Spread
    log_loss: Spread


class Bound(_Part):
    """Scores of a reference classifier on the whole table (no cross-validation)."""

    accuracy: float
    macro_f1: float
    log_loss: float


class DataSet(_Part):
    source: str
    sha256: str
    rows: int


class CrossValidation(_Part):
    folds: int
    repeats: int
    schemes: list[str]


class CeilingScores(_Part):
    """The lookup-table bound, the class prior, and the facts that explain the bound."""

    rows: int
    groups: int
    ambiguous_groups: int
    best: Bound
    majority: Bound


class ReliabilityBin(_Part):
    """Out-of-fold predictions whose top probability fell in ``[from, to)``."""

    from_: float = Field(alias="from")
    to: float
    predictions: int
    confidence: float | None
    accuracy: float | None


class Selection(_Part):
    scheme: str
    metric: str
    chosen: str
    runner_up: str
    log_loss_gap_to_runner_up: Spread
    checked_max_probability: float
    top_label_reliability: list[ReliabilityBin]


class Metrics(_Part):
    """Everything ``train`` measured; ``models`` maps family names to labels, in table order."""

    data: DataSet
    target: str
    classes: list[str]
    features: list[str]
    seed: int
    cross_validation: CrossValidation
    versions: dict[str, str]
    ceiling: CeilingScores
    models: dict[str, str]
    scores: dict[str, dict[str, FamilyScores]]
    selection: Selection

    def first_gap(self) -> str | None:
        """The first score the tables need but the document lacks (dotted), or None."""
        for name in (self.selection.chosen, self.selection.runner_up):
            if name not in self.models:
                return f"models.{name}"
        for scheme in self.cross_validation.schemes:
            if scheme not in self.scores:
                return f"scores.{scheme}"
            for name in self.models:
                if name not in self.scores[scheme]:
                    return f"scores.{scheme}.{name}"
        return None

    def to_text(self) -> str:
        """The file's content."""
        return json.dumps(self.model_dump(mode="json", by_alias=True), indent=2) + "\n"

    def write(self, path: Path) -> None:
        path.write_text(self.to_text(), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> Metrics:
        """The metrics at ``path``; :class:`MetricsError` when there are none or not these."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise MetricsError(
                f"no metrics in {path}; run `shopdata carprice train` first"
            ) from None
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise MetricsError(
                f"{path} is not valid JSON ({error.msg}); run `shopdata carprice train` again"
            ) from None
        try:
            metrics = cls.model_validate(document)
        except ValidationError as error:
            first = error.errors()[0]
            gap: str | None = ".".join(str(part) for part in first["loc"]) or "its top level"
        else:
            gap = metrics.first_gap()
            if gap is None:
                return metrics
        raise MetricsError(
            f"{path} lacks {gap!r} or has another layout; run `shopdata carprice train` again"
        )
