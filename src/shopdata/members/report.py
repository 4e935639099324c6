"""The run report: what one run of the pipeline did, as a typed document.

The same model writes ``reports/.../run_<run_id>.json``, prints ``shopdata members run --json``
and reads either back (:meth:`RunDocument.read`), so a field is named once, here. Only the fields
a run set are written: a run that found nothing to do writes its recoveries and ``totals.files``
only, a quarantined file has an ``error`` and no row counts, and the report file written before
the inputs are moved has no ``left_in_landing`` (the ``--json`` output, printed after, has it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Totals(_Part):
    """Counts over the whole run."""

    files: int = 0
    files_processed: int = 0
    files_quarantined: int = 0
    files_duplicate: int = 0
    rows_in: int = 0
    successful: int = 0
    unsuccessful: int = 0
    duplicate_applications: int = 0


class FileDetail(_Part):
    """One landed file: its row counts when processed, else why it was not."""

    name: str
    sha256: str
    status: str  # processed | quarantined | duplicate
    moved_to: str
    rows: int | None = None
    successful: int | None = None
    unsuccessful: int | None = None
    error: str | None = None


class Outputs(_Part):
    """Paths of the run's published outputs, relative to the output folder."""

    successful: str
    unsuccessful: str
    report: str


class RecoveredRun(_Part):
    """A run that crashed before and that this run finished or undid."""

    run_id: str
    action: Literal["rolled forward", "rolled back"]


class Skipped(_Part):
    """A landed file left for a later run, and why."""

    name: str
    reason: str


class RunDocument(_Part):
    """The report of one run (also of a run that found nothing to do: no ``run_id`` then)."""

    run_id: str | None = None
    started_at: str | None = None
    partition_started_at: str | None = None
    clock_note: str | None = None
    duration_seconds: float | None = None
    landing: str | None = None
    output: str | None = None
    totals: Totals = Field(default_factory=Totals)
    unsuccessful_by_reason: dict[str, int] = Field(default_factory=dict)
    files_detail: list[FileDetail] = Field(default_factory=list)
    outputs: Outputs | None = None
    recovered_runs: list[RecoveredRun] = Field(default_factory=list)
    removed_orphans: list[str] = Field(default_factory=list)
    skipped: list[Skipped] = Field(default_factory=list)
    left_in_landing: list[str] | None = None

    @property
    def files_needing_attention(self) -> int:
        """Files that went to quarantine (malformed or duplicate content)."""
        return self.totals.files_quarantined + self.totals.files_duplicate

    def to_json(self) -> dict[str, Any]:
        """The JSON document: the fields this run set, in the order above."""
        return self.model_dump(mode="json", exclude_unset=True)

    @classmethod
    def read(cls, path: Path) -> RunDocument:
        """A report file written by :meth:`to_json` (raises ``pydantic.ValidationError``)."""
        return cls.model_validate_json(path.read_bytes())
