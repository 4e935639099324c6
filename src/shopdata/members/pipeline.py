"""One run of the membership pipeline: landing folder in, partitioned outputs and bookkeeping out.

The order of a run is what makes it exactly-once under kill -9:

1. take the lock; roll back or finish any run that crashed before (its manifest tells);
2. read and parse every landed file, apply the rules, issue IDs (all in memory, vectorised);
3. write the manifest, then every output to a temporary name, each renamed atomically into place;
4. commit the bookkeeping (one SQLite transaction): from here on the run is done;
5. move the inputs to ``archive/`` or ``quarantine/`` and drop the manifest.

A crash before 4 is rolled back by the next run (outputs deleted, inputs never moved, so processed
again); a crash after 4 is rolled forward (inputs moved). Outputs exist if and only if the run
counts.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from shopdata.members.contract import (
    DERIVED_COLUMNS,
    REASON_SEPARATOR,
    REQUIRED_COLUMNS,
    SUCCESSFUL_COLUMNS,
    UNSUCCESSFUL_LEADING_COLUMNS,
    Reason,
)
from shopdata.members.ids import assign_ids
from shopdata.members.ingest import BadFile, ParsedFile, content_hash, parse_applications
from shopdata.members.rules import apply_rules
from shopdata.members.state import FileRecord, StateStore
from shopdata.members.write import (
    defuse_formulas,
    move_durably,
    write_csv_atomic,
    write_json_atomic,
    write_parquet_atomic,
    write_text_atomic,
)

Progress = Callable[[int, int, str], None]

# Files a producer is still writing must not be picked up: producers write under a hidden or
# temporary name and rename when done (documented in docs/members.md).
_IN_FLIGHT_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload")


@dataclass(frozen=True)
class RuleConfig:
    """The business rules' parameters (from settings)."""

    reference_date: dt.date = dt.date(2022, 1, 1)
    minimum_age: int = 18
    email_suffixes: Sequence[str] = (".com", ".net")


@dataclass
class RunReport:
    """What a run did; also written as JSON next to its outputs."""

    run_id: str | None
    document: dict[str, Any] = field(default_factory=dict)

    @property
    def files_needing_attention(self) -> int:
        """Files that went to quarantine (malformed or duplicate content)."""
        totals = self.document.get("totals", {})
        return int(totals.get("files_quarantined", 0)) + int(totals.get("files_duplicate", 0))


def _crash_point(name: str) -> None:
    """Fault injection for the crash tests: die by SIGKILL at the named step when asked to."""
    if os.environ.get("SHOPDATA_MEMBERS_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def landed_files(landing: Path) -> list[Path]:
    """Files ready in the landing folder, in name order (the order IDs are issued in)."""
    if not landing.is_dir():
        return []
    return sorted(
        path
        for path in landing.iterdir()
        if path.is_file()
        and not path.name.startswith(".")
        and not path.name.lower().endswith(_IN_FLIGHT_SUFFIXES)
    )


def recover(store: StateStore) -> list[dict[str, Any]]:
    """Roll crashed runs back or forward according to whether their bookkeeping committed."""
    recovered = []
    for manifest in store.pending_manifests():
        run_id = manifest["run_id"]
        if store.is_committed(run_id):
            landing = Path(manifest["landing"])
            for item in manifest["files"]:
                source = landing / item["name"]
                if source.is_file() and content_hash(source.read_bytes()) == item["sha256"]:
                    move_durably(source, store.output_dir / item["moved_to"])
            action = "rolled forward"
        else:
            for relative in manifest["outputs"]:
                (store.output_dir / relative).unlink(missing_ok=True)
            action = "rolled back"
        store.drop_manifest(run_id)
        recovered.append({"run_id": run_id, "action": action})
    return recovered


def new_run_id(now: dt.datetime) -> str:
    """Sortable by start time, unique: ``20261124T070001.123456Z-3f9a1c``."""
    return f"{now:%Y%m%dT%H%M%S.%fZ}-{secrets.token_hex(3)}"


def run_pipeline(
    landing: Path,
    output: Path,
    rules: RuleConfig,
    *,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Process every file in ``landing`` now. Raises :class:`~shopdata.members.state.LockBusy`."""
    clock = time.perf_counter()
    started = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    store = StateStore(output)
    with store.lock():
        recovered = recover(store)
        files = landed_files(landing)
        if not files:
            return RunReport(None, {"recovered_runs": recovered, "totals": {"files": 0}})
        run_id = new_run_id(started)
        partition = f"date={started:%Y-%m-%d}/hour={started:%H}"
        records, frames, per_file = _read_files(files, store, run_id, partition, progress)
        result = _evaluate(frames, rules, store)

        successful_rel = f"successful/{partition}/successful_{run_id}.csv"
        unsuccessful_rel = f"unsuccessful/{partition}/unsuccessful_{run_id}.csv"
        report_rel = f"reports/{partition}/run_{run_id}.json"
        segment = store.registry_segment_path(run_id)
        segment_rel = str(segment.relative_to(output)) if result.issued.height else None
        errors = {r.moved_to + ".error.txt": r.detail for r in records if r.status != "processed"}
        outputs = [successful_rel, unsuccessful_rel, report_rel, *errors]
        if segment_rel:
            outputs.append(segment_rel)
        store.write_manifest(
            run_id,
            {
                "run_id": run_id,
                "landing": str(landing.resolve()),
                "outputs": outputs,
                "files": [vars(r) for r in records],
            },
        )
        _crash_point("after_manifest")

        write_csv_atomic(result.successful, output / successful_rel)
        write_csv_atomic(result.unsuccessful, output / unsuccessful_rel)
        for relative, detail in errors.items():
            write_text_atomic(detail + "\n", output / relative)
        if segment_rel:
            write_parquet_atomic(result.issued, segment)
        document = _report(
            run_id=run_id,
            started=started,
            duration=time.perf_counter() - clock,
            landing=landing,
            output=output,
            records=records,
            per_file=per_file,
            result=result,
            outputs={
                "successful": successful_rel,
                "unsuccessful": unsuccessful_rel,
                "report": report_rel,
            },
            recovered=recovered,
        )
        write_json_atomic(document, output / report_rel)
        _crash_point("after_outputs")

        store.commit_run(
            run_id=run_id,
            started_at=started.isoformat(),
            committed_at=dt.datetime.now(dt.UTC).isoformat(),
            report_path=report_rel,
            registry_segment=segment_rel,
            files=records,
        )
        _crash_point("after_commit")

        for record in records:
            move_durably(landing / record.name, output / record.moved_to)
        store.drop_manifest(run_id)
        return RunReport(run_id, document)


@dataclass(frozen=True)
class _Evaluated:
    successful: pl.DataFrame
    unsuccessful: pl.DataFrame
    issued: pl.DataFrame
    reason_counts: dict[str, int]
    duplicates: int
    rows_in: int
    per_file: pl.DataFrame


def _load(path: Path) -> tuple[str, ParsedFile | BadFile]:
    """A landed file's content hash, and its applications or why it breaks the contract."""
    data = path.read_bytes()
    sha = content_hash(data)
    try:
        return sha, parse_applications(data)
    except BadFile as bad:
        return sha, bad


def _read_files(
    files: list[Path],
    store: StateStore,
    run_id: str,
    partition: str,
    progress: Progress | None,
) -> tuple[list[FileRecord], list[pl.DataFrame], dict[str, int]]:
    records: list[FileRecord] = []
    frames: list[pl.DataFrame] = []
    rows: dict[str, int] = {}
    seen: dict[str, str] = {}
    # Two files are read, hashed and parsed at a time: Polars, NumPy and hashlib release the GIL,
    # so one file's serial steps overlap the other's parse. Bookkeeping stays in name order, and
    # each file's progress line comes before its result is awaited (so a crash names the file).
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending = [pool.submit(_load, path) for path in files]
        for index, (path, future) in enumerate(zip(files, pending, strict=True), start=1):
            if progress:
                progress(index, len(files), path.name)
            sha, parsed = future.result()
            quarantined = f"quarantine/{run_id}__{path.name}"
            earlier = store.processed_file(sha)
            if earlier or sha in seen:
                first = f"{earlier[0]} (run {earlier[1]})" if earlier else f"{seen[sha]} (this run)"
                detail = (
                    f"duplicate file: same content (sha256 {sha}) as {first}; not processed again"
                )
                records.append(FileRecord(sha, path.name, "duplicate", quarantined, detail))
                continue
            if isinstance(parsed, BadFile):
                detail = f"{parsed.kind}: {parsed.message}"
                records.append(FileRecord(sha, path.name, "quarantined", quarantined, detail))
                continue
            seen[sha] = path.name
            archived = f"archive/{partition}/run={run_id}/{path.name}"
            records.append(FileRecord(sha, path.name, "processed", archived))
            frames.append(parsed.frame.with_columns(source_file=pl.lit(path.name)))
            rows[path.name] = parsed.frame.height
    return records, frames, rows


def _evaluate(frames: list[pl.DataFrame], rules: RuleConfig, store: StateStore) -> _Evaluated:
    if frames:
        raw = pl.concat(frames, how="diagonal")
    else:
        raw = pl.DataFrame(
            schema={"line_number": pl.Int64, **dict.fromkeys(REQUIRED_COLUMNS, pl.String)}
        ).with_columns(source_file=pl.lit(None, dtype=pl.String))
    lineage = {"line_number", "source_file"}
    extras = [c for c in raw.columns if c not in {*REQUIRED_COLUMNS, *lineage}]
    evaluated = apply_rules(
        raw,
        reference_date=rules.reference_date,
        minimum_age=rules.minimum_age,
        email_suffixes=rules.email_suffixes,
    ).collect()
    registry = store.registry()
    # Only valid applications can get an ID: IDs are issued on that subset and scattered back by
    # position, so the batch keeps its order without a sort or a join over every row.
    is_candidate = evaluated["reasons"] == ""
    positions = is_candidate.arg_true()
    assigned = assign_ids(
        evaluated.filter(is_candidate).select("last_name", "birthday_key", "email_key"), registry
    )
    issued = assigned.filter(pl.col("membership_id").is_not_null()).select(
        "membership_id", "email_key", "base_id"
    )
    # Invalid applications only need to know whether their email already belongs to a member.
    owners = pl.concat(
        [registry.select("email_key", "membership_id"), issued.select("email_key", "membership_id")]
    ).rename({"membership_id": "owner"})
    evaluated = evaluated.join(owners, on="email_key", how="left", maintain_order="left")

    def scattered(values: pl.Series) -> pl.Series:  # Series.scatter works in place: a new one
        return (
            pl.Series(dtype=pl.String)
            .extend_constant(None, evaluated.height)
            .scatter(positions, values)
        )

    evaluated = evaluated.with_columns(
        membership_id=scattered(assigned["membership_id"]),
        duplicate_of=pl.when(is_candidate)
        .then(scattered(assigned["duplicate_of"]))
        .otherwise(pl.col("owner")),
    )
    ok = pl.col("membership_id").is_not_null()
    is_duplicate = pl.col("duplicate_of").is_not_null()
    # Lazily, so that each output gathers only its own columns, and all four are computed together.
    plan = evaluated.lazy()
    successful = plan.filter(ok).select(
        "membership_id",
        "first_name",
        "last_name",
        "email",
        mobile_no=pl.col("mobile"),
        date_of_birth=pl.col("birthday_key"),
        above_18=pl.col("above_18"),
    )
    unsuccessful = plan.filter(~ok).select(
        "source_file",
        "line_number",
        pl.when(is_duplicate)
        .then(
            pl.concat_str(
                pl.col("reasons").replace("", None),
                pl.lit(str(Reason.DUPLICATE_APPLICATION)),
                separator=REASON_SEPARATOR,
                ignore_nulls=True,
            )
        )
        .otherwise(pl.col("reasons"))
        .alias("reasons"),
        *REQUIRED_COLUMNS,
        *extras,
        derived_first_name=pl.col("first_name"),
        derived_last_name=pl.col("last_name"),
        derived_date_of_birth=pl.col("birthday_key"),
        derived_mobile_no=pl.col("mobile"),
        derived_above_18=pl.col("above_18"),
        duplicate_of=pl.col("duplicate_of"),
    )
    per_file = plan.group_by("source_file").agg(successful=ok.sum(), unsuccessful=(~ok).sum())
    # Few distinct combinations of reasons: count those, then split each combination once.
    combinations = unsuccessful.group_by("reasons").len()
    successful_df, unsuccessful_df, per_file_df, combinations_df = pl.collect_all(
        [successful, unsuccessful, per_file, combinations]
    )
    assert tuple(successful_df.columns) == SUCCESSFUL_COLUMNS
    assert tuple(unsuccessful_df.columns[: len(UNSUCCESSFUL_LEADING_COLUMNS)]) == (
        UNSUCCESSFUL_LEADING_COLUMNS
    )
    assert tuple(unsuccessful_df.columns[-len(DERIVED_COLUMNS) :]) == DERIVED_COLUMNS
    reason_counts: dict[str, int] = {}
    for combination, count in combinations_df.iter_rows():
        for reason in combination.split(REASON_SEPARATOR):
            reason_counts[reason] = reason_counts.get(reason, 0) + count
    return _Evaluated(
        successful=defuse_formulas(successful_df),
        unsuccessful=defuse_formulas(unsuccessful_df),
        issued=issued,
        reason_counts=dict(sorted(reason_counts.items())),
        duplicates=int(unsuccessful_df.select(is_duplicate.sum()).item()),
        rows_in=evaluated.height,
        per_file=per_file_df,
    )


def _report(
    *,
    run_id: str,
    started: dt.datetime,
    duration: float,
    landing: Path,
    output: Path,
    records: list[FileRecord],
    per_file: dict[str, int],
    result: _Evaluated,
    outputs: dict[str, str],
    recovered: list[dict[str, Any]],
) -> dict[str, Any]:
    counts = {row["source_file"]: row for row in result.per_file.to_dicts()}
    files = []
    for record in records:
        entry: dict[str, Any] = {
            "name": record.name,
            "sha256": record.sha256,
            "status": record.status,
            "moved_to": record.moved_to,
        }
        if record.status == "processed":
            entry["rows"] = per_file[record.name]
            entry["successful"] = int(counts[record.name]["successful"])
            entry["unsuccessful"] = int(counts[record.name]["unsuccessful"])
        else:
            entry["error"] = record.detail
        files.append(entry)
    status = [r.status for r in records]
    return {
        "run_id": run_id,
        "started_at": started.isoformat(),
        "duration_seconds": round(duration, 3),
        "landing": str(landing),
        "output": str(output),
        "totals": {
            "files": len(records),
            "files_processed": status.count("processed"),
            "files_quarantined": status.count("quarantined"),
            "files_duplicate": status.count("duplicate"),
            "rows_in": result.rows_in,
            "successful": result.successful.height,
            "unsuccessful": result.unsuccessful.height,
            "duplicate_applications": result.duplicates,
        },
        "unsuccessful_by_reason": {k: int(v) for k, v in result.reason_counts.items()},
        "files_detail": files,
        "outputs": outputs,
        "recovered_runs": recovered,
    }
