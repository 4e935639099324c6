"""One run of the membership pipeline: landing folder in, partitioned outputs and bookkeeping out.

The order of a run is what makes it exactly-once under kill -9, and what keeps every output
invisible until the run counts:

1. take the lock; roll back or finish any run that crashed before (its manifest tells), and delete
   the temporary files dead runs left;
2. read every landed regular file through one descriptor (never following a link), hash and
   parse it (a large one a piece at a time, never whole, its parsed pieces spilled to the staging
   folder);
3. write the manifest, then apply the rules and issue IDs a batch of rows at a time (vectorised),
   appending each batch to the outputs in ``_state/staging/<run_id>/`` (each made durable);
4. commit the bookkeeping (one SQLite transaction): from here on the run is done;
5. move each input to ``archive/`` or ``quarantine/`` if its path still names the same unchanged
   file, publish the staged outputs (renames), write the ``committed/<run_id>.json`` marker and
   drop the manifest.

A crash before 4 is rolled back by the next run (staged outputs deleted, inputs never moved, so
processed again; nothing of it was ever visible); a crash after 4 is rolled forward (inputs moved,
outputs published, marker written). Downstream readers read the runs named in ``committed/``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import shutil
import signal
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
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
from shopdata.members.ids import REGISTRY_SCHEMA, assign_ids, birthday_hash5, id_stem
from shopdata.members.ingest import (
    BOM,
    FIELD_LIMIT,
    LINE,
    RECORD_LIMIT,
    BadFile,
    ParsedFile,
    check_utf8,
    content_hash,
    first_lone_cr,
    first_record_end,
    has_controls,
    parse_applications,
    parse_piece,
)
from shopdata.members.landing import (
    Entry,
    Identity,
    NotReadable,
    RecordTooLong,
    StillChanging,
    bounded_name,
    display_name,
    hash_regular,
    read_pieces,
    read_regular,
    regular_identity,
    scan,
    still_same,
)
from shopdata.members.report import (
    FileDetail,
    Outputs,
    RecoveredRun,
    RunDocument,
    Skipped,
    Totals,
)
from shopdata.members.rules import apply_rules
from shopdata.members.state import FileRecord, StateStore
from shopdata.members.write import (
    DEFAULT_DIR_MODE,
    DEFAULT_FILE_MODE,
    StagedCsv,
    defuse_formulas,
    make_dirs,
    move_durably,
    publish,
    write_json_atomic,
    write_parquet_atomic,
    write_text_atomic,
)

Progress = Callable[[int, int, str], None]
ERROR_SUFFIX = ".error.txt"
COMMITTED = "committed"
# Rows evaluated and written at a time: what bounds a run's memory (about 0.6 KiB per row).
DEFAULT_BATCH_ROWS = 500_000
# A landed file larger than this is read a piece of this size at a time, once (each piece hashed,
# checked and parsed, its rows spilled to the staging folder until evaluated), never held whole.
DEFAULT_PIECE_BYTES = 32 * 1024 * 1024
# The folder of a run's staging folder where large files' parsed pieces wait to be evaluated.
SPILL_FOLDER = "spill"


@dataclass(frozen=True)
class RuleConfig:
    """The business rules' parameters (from settings)."""

    reference_date: dt.date = dt.date(2022, 1, 1)
    minimum_age: int = 18
    email_suffixes: Sequence[str] = (".com", ".net")


@dataclass(frozen=True)
class RunOptions:
    """How a run treats its folders (from settings; the CLI passes them).

    ``settle_seconds``: a landed file modified less than this long ago waits for a later run
    (0 here, so that library callers see every file; the settings default is 5 seconds).
    ``archive_watch_seconds``: a writer that kept a file open after it was archived appends to
    the archived file; files archived this recently are checked, and lines added to them read.
    ``file_mode``/``dir_mode``: permissions of every output file and folder the run creates.
    ``batch_rows``: rows evaluated and written at a time; bounds memory, never changes outputs.
    ``piece_bytes``: a landed file larger than this is read in pieces of this size, never whole.
    """

    settle_seconds: float = 0.0
    archive_watch_seconds: float = 86_400.0
    file_mode: int = DEFAULT_FILE_MODE
    dir_mode: int = DEFAULT_DIR_MODE
    batch_rows: int = DEFAULT_BATCH_ROWS
    piece_bytes: int = DEFAULT_PIECE_BYTES


@dataclass
class RunReport:
    """What a run did; ``document`` is also written as JSON next to its outputs."""

    run_id: str | None
    document: RunDocument = field(default_factory=RunDocument)
    stages: dict[str, float] = field(default_factory=dict)  # wall seconds per stage (bench/)
    stages_cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per stage (bench/)

    @property
    def files_needing_attention(self) -> int:
        """Files that went to quarantine (malformed or duplicate content)."""
        return self.document.files_needing_attention


class _Stopwatch:
    """Wall and CPU seconds (all threads of the process) per named stage, in order.

    The benchmark's per-stage table; CPU time is the steady figure on a shared machine.
    """

    def __init__(self) -> None:
        self.stages: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._last = time.perf_counter()
        self._last_cpu = time.process_time()

    def lap(self, stage: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        self.stages[stage] = round(self.stages.get(stage, 0.0) + now - self._last, 4)
        self.cpu[stage] = round(self.cpu.get(stage, 0.0) + cpu - self._last_cpu, 4)
        self._last, self._last_cpu = now, cpu


def _crash_point(name: str) -> None:
    """Fault injection for the crash tests: die by SIGKILL at the named step when asked to."""
    if os.environ.get("SHOPDATA_MEMBERS_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _landing_name(record: FileRecord) -> str:
    return os.fsdecode(bytes.fromhex(record.landing_name_hex))


def _move_inputs(
    landing: Path, output: Path, records: list[FileRecord], options: RunOptions
) -> list[str]:
    """Move each input out of landing if its path still names what was read; return the rest."""
    left: list[str] = []
    for record in records:
        source = landing / _landing_name(record)
        target = output / record.moved_to
        if record.inode:  # a regular file that was read
            identity = Identity(
                record.device, record.inode, record.size, record.mtime_ns, record.ctime_ns
            )
            if not still_same(source, identity):
                if not os.path.lexists(target):
                    left.append(record.name)
                continue
        elif not os.path.lexists(source) or os.path.lexists(target):
            continue
        try:
            move_durably(source, target, options.file_mode, options.dir_mode)
        except PermissionError:  # the run has committed: it must finish; the file stays
            left.append(record.name)
    return left


def _publish_staged(store: StateStore, run_id: str, outputs: list[str], dir_mode: int) -> None:
    staging = store.staging_path(run_id)
    for relative in outputs:
        staged = staging / relative
        if staged.exists():
            publish(staged, store.output_dir / relative, dir_mode)


def _finish(
    store: StateStore,
    landing: Path,
    manifest: dict[str, Any],
    records: list[FileRecord],
    options: RunOptions,
) -> list[str]:
    """Everything after the commit; repeatable, so that a crash in it is rolled forward."""
    run_id = manifest["run_id"]
    left = _move_inputs(landing, store.output_dir, records, options)
    _crash_point("after_moves")
    _publish_staged(store, run_id, manifest["outputs"], options.dir_mode)
    write_json_atomic(
        {
            "run_id": run_id,
            "outputs": manifest["published"],
            "left_in_landing": left,
        },
        store.output_dir / COMMITTED / f"{run_id}.json",
        options.file_mode,
        options.dir_mode,
    )
    shutil.rmtree(store.staging_path(run_id), ignore_errors=True)
    store.drop_manifest(run_id)
    return left


def _committed_despite(store: StateStore, run_id: str) -> bool:
    try:
        return store.is_committed(run_id)
    except Exception:  # cannot tell: leave the manifest for the next run's recovery
        return True


def _roll_back(store: StateStore, manifest: dict[str, Any]) -> None:
    """Forget a run that did not commit: its staged outputs, registry segment and manifest."""
    run_id = manifest["run_id"]
    shutil.rmtree(store.staging_path(run_id), ignore_errors=True)
    if manifest.get("registry_segment"):
        segment = store.output_dir / manifest["registry_segment"]
        segment.unlink(missing_ok=True)
        for tmp in segment.parent.glob(f".{segment.name}.*.tmp"):
            tmp.unlink(missing_ok=True)
    store.drop_manifest(run_id)


def _recover_legacy(
    store: StateStore, manifest: dict[str, Any], options: RunOptions
) -> RecoveredRun:
    """Finish a run crashed under the previous layout (outputs renamed into place before commit)."""
    run_id = manifest["run_id"]
    if store.is_committed(run_id):
        landing = Path(manifest["landing"])
        for item in manifest["files"]:
            source = landing / item["name"]
            if (
                source.is_file()
                and not source.is_symlink()
                and content_hash(source.read_bytes()) == item["sha256"]
            ):
                move_durably(source, store.output_dir / item["moved_to"], *_modes(options))
        published = {
            kind: relative
            for relative in manifest["outputs"]
            for kind in ("successful", "unsuccessful", "reports")
            if relative.startswith(kind + "/")
        }
        published["report"] = published.pop("reports", "")
        write_json_atomic(
            {"run_id": run_id, "outputs": published, "left_in_landing": []},
            store.output_dir / COMMITTED / f"{run_id}.json",
            *_modes(options),
        )
        store.drop_manifest(run_id)
        return RecoveredRun(run_id=run_id, action="rolled forward")
    for relative in manifest["outputs"]:
        (store.output_dir / relative).unlink(missing_ok=True)
    store.drop_manifest(run_id)
    return RecoveredRun(run_id=run_id, action="rolled back")


def _modes(options: RunOptions) -> tuple[int, int]:
    return options.file_mode, options.dir_mode


def recover(store: StateStore, options: RunOptions | None = None) -> list[RecoveredRun]:
    """Roll crashed runs back or forward according to whether their bookkeeping committed."""
    options = options or RunOptions()
    recovered = []
    for manifest in store.pending_manifests():
        run_id = manifest["run_id"]
        if "published" not in manifest:  # left by a version that wrote outputs in place
            recovered.append(_recover_legacy(store, manifest, options))
            continue
        if store.is_committed(run_id):
            records = [FileRecord(**item) for item in manifest["files"]]
            _finish(store, Path(manifest["landing"]), manifest, records, options)
            recovered.append(RecoveredRun(run_id=run_id, action="rolled forward"))
        else:
            _roll_back(store, manifest)
            recovered.append(RecoveredRun(run_id=run_id, action="rolled back"))
    return recovered


def new_run_id(now: dt.datetime) -> str:
    """Sortable by start time, unique: ``20261124T070001.123456Z-3f9a1c``."""
    return f"{now:%Y%m%dT%H%M%S.%fZ}-{secrets.token_hex(3)}"


def _partition_time(started: dt.datetime, store: StateStore) -> tuple[dt.datetime, str | None]:
    """Partitions never go back in time: a clock behind the last committed run uses its time."""
    last = store.last_started_at()
    if last is None:
        return started, None
    latest = dt.datetime.fromisoformat(last)
    if started >= latest:
        return started, None
    return latest, (
        f"clock reads {started.isoformat()}, earlier than the last committed run's start "
        f"{latest.isoformat()}: outputs go to that run's partition"
    )


def run_pipeline(
    landing: Path,
    output: Path,
    rules: RuleConfig,
    *,
    options: RunOptions | None = None,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Process every file in ``landing`` now. Raises :class:`~shopdata.members.state.LockBusy`."""
    options = options or RunOptions()
    clock = time.perf_counter()
    watch = _Stopwatch()
    started = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    store = StateStore(output, options.dir_mode, options.file_mode)
    with store.lock():
        recovered = recover(store, options)
        removed = store.sweep_orphans()
        entries = scan(landing, settle_seconds=options.settle_seconds)
        grown = _grown_archives(store, started, options)
        if not entries and not grown:
            return RunReport(
                None,
                RunDocument(
                    recovered_runs=recovered, removed_orphans=removed, totals=Totals(files=0)
                ),
            )
        effective, clock_note = _partition_time(started, store)
        run_id = new_run_id(effective)
        partition = f"date={effective:%Y-%m-%d}/hour={effective:%H}"
        watch.lap("recover, scan")
        try:
            records, frames, per_file, skipped, controls = _read_files(
                landing,
                entries,
                store,
                run_id,
                partition,
                progress,
                grown,
                options.piece_bytes,
                (options.file_mode, options.dir_mode),
                # Rows of files read whole stay in memory up to two batches (the 1M benchmark's
                # ten files at the defaults); more wait in the staging folder.
                2 * options.batch_rows,
            )
        except BaseException:
            shutil.rmtree(store.staging_path(run_id), ignore_errors=True)
            raise
        watch.lap("read, hash, parse")
        if not records:
            shutil.rmtree(store.staging_path(run_id), ignore_errors=True)
            return RunReport(
                None,
                RunDocument(
                    recovered_runs=recovered,
                    removed_orphans=removed,
                    skipped=[Skipped.model_validate(s) for s in skipped],
                    totals=Totals(files=0),
                ),
            )
        successful_rel = f"successful/{partition}/successful_{run_id}.csv"
        unsuccessful_rel = f"unsuccessful/{partition}/unsuccessful_{run_id}.csv"
        report_rel = f"reports/{partition}/run_{run_id}.json"
        segment = store.registry_segment_path(run_id)
        # Named before the outputs exist (so that a roll-back finds it); committed only if used.
        segment_rel: str | None = str(segment.relative_to(output))
        errors = {r.moved_to + ERROR_SUFFIX: r.detail for r in records if r.status != "processed"}
        outputs = [successful_rel, unsuccessful_rel, report_rel, *errors]
        published = Outputs(
            successful=successful_rel, unsuccessful=unsuccessful_rel, report=report_rel
        )
        manifest = {
            "run_id": run_id,
            "landing": str(landing.resolve()),
            "outputs": outputs,
            "published": published.model_dump(),
            "registry_segment": segment_rel,
            "files": [vars(r) for r in records],
        }
        store.write_manifest(run_id, manifest)
        watch.lap("manifest")
        try:
            _crash_point("after_manifest")

            staging = store.staging_path(run_id)
            modes = (options.file_mode, options.dir_mode)
            result = _stage_outputs(
                frames,
                rules,
                store,
                (staging / successful_rel, staging / unsuccessful_rel),
                options,
                check_name_controls=controls,
                watch=watch,
                issued_spill=staging / SPILL_FOLDER / "issued",
            )
            for relative, detail in errors.items():
                write_text_atomic(detail + "\n", staging / relative, *modes)
            if result.issued.height > result.issued.heights[0]:
                write_parquet_atomic(result.issued.issued(), segment, *modes)
            else:
                segment_rel = None
            document = _report(
                run_id=run_id,
                started=started,
                effective=effective,
                clock_note=clock_note,
                duration=time.perf_counter() - clock,
                landing=landing,
                output=output,
                records=records,
                per_file=per_file,
                result=result,
                outputs=published,
                recovered=recovered,
                removed=removed,
                skipped=skipped,
            )
            write_json_atomic(document.to_json(), staging / report_rel, *modes)
            watch.lap("registry segment, report")
            _crash_point("after_outputs")
        except Exception:
            _roll_back(store, manifest)  # a failed run frees what it wrote (a full disk, say)
            raise

        try:
            store.commit_run(
                run_id=run_id,
                started_at=effective.isoformat(),
                committed_at=dt.datetime.now(dt.UTC).isoformat(),
                report_path=report_rel,
                registry_segment=segment_rel,
                files=records,
            )
        except Exception:
            if not _committed_despite(store, run_id):
                _roll_back(store, manifest)
            raise
        watch.lap("commit bookkeeping")
        _crash_point("after_commit")
        left = _finish(store, landing, manifest, records, options)
        document.left_in_landing = left
        watch.lap("archive inputs, publish")
        return RunReport(run_id, document, watch.stages, watch.cpu)


@dataclass(frozen=True)
class _Loaded:
    data: bytes
    identity: Identity
    sha256: str
    parsed: ParsedFile | BadFile | _Streamed


@dataclass(frozen=True)
class _Streamed:
    """A file larger than a piece, checked piece by piece (pass 1) and not kept in memory.

    With ``spilled`` (the pipeline's way), pass 1 wrote each piece's parsed rows to the run's
    staging folder, and :meth:`frames` reads them back, deleting each: the rows evaluated are
    those of the bytes hashed, and the file is read and parsed once. Without, :meth:`frames` reads
    the file again, piece by piece (pass 2), and fails the run (rolled back, nothing lost) if the
    bytes are not the ones hashed in pass 1.
    """

    path: Path
    identity: Identity
    sha256: str
    piece_bytes: int
    header: bytes
    bom: bool
    rows: int
    columns: tuple[str, ...]
    has_controls: bool
    spilled: tuple[Path, ...] = ()

    def frames(self, source_file: str) -> Iterator[pl.DataFrame]:
        if self.spilled:  # pass 1 kept its parsed pieces: no second read, no second parse
            yield from _read_back(self.spilled, source_file)
            return
        digest = hashlib.sha256()
        line, offset = 1, 0
        for index, piece in enumerate(read_pieces(self.path, self.identity, self.piece_bytes)):
            digest.update(piece)
            if index == 0:
                frame = parse_applications(piece).frame
            else:
                frame = parse_piece(self.header, piece, line, offset - 3 * self.bom)
            line += piece.count(b"\n")
            offset += len(piece)
            if frame.height:
                yield frame.with_columns(source_file=pl.lit(source_file))
        if digest.hexdigest() != self.sha256:
            raise StillChanging(f"{display_name(str(self.path))} changed between two reads")


def _read_back(paths: tuple[Path, ...], source_file: str) -> Iterator[pl.DataFrame]:
    """A file's spilled rows, a spilled frame at a time, each deleted once read."""
    for path in paths:
        frame = pl.read_ipc(path)
        path.unlink()
        yield frame.with_columns(source_file=pl.lit(source_file))


@dataclass(frozen=True)
class Spill:
    """Where a large file's parsed pieces wait, from its check until its rows are evaluated.

    A folder of the run's staging folder: deleted with it (published, rolled back or swept).
    Each piece is an uncompressed Arrow IPC file with ``file_mode`` (it holds personal data).
    """

    folder: Path
    file_mode: int = DEFAULT_FILE_MODE
    dir_mode: int = DEFAULT_DIR_MODE

    def write(self, index: int, frame: pl.DataFrame) -> Path:
        make_dirs(self.folder, self.dir_mode)
        path = self.folder / f"{index:06d}.arrow"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        with open(os.open(path, flags, self.file_mode), "wb") as handle:
            frame.write_ipc(handle, compression="uncompressed")
        return path

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _stream_load(
    path: Path, piece_bytes: int, spill: Spill | None = None
) -> _Loaded | NotReadable | StillChanging | None:
    """Pass 1 over a large file, a piece at a time: hash, structure, row count. None: read whole.

    With ``spill``, each piece's parsed rows are kept there for the evaluation (see
    :class:`_Streamed`); they are deleted again if the file is not processed after all.
    """
    try:
        loaded = _stream_check(path, piece_bytes, spill)
    except BaseException:
        if spill is not None:
            spill.discard()
        raise
    if spill is not None and not (
        isinstance(loaded, _Loaded) and isinstance(loaded.parsed, _Streamed)
    ):
        spill.discard()
    return loaded


def _stream_check(
    path: Path, piece_bytes: int, spill: Spill | None
) -> _Loaded | NotReadable | StillChanging | None:
    spilled: list[Path] = []
    try:
        identity = regular_identity(path)
        if identity.size <= piece_bytes:
            return None
        digest = hashlib.sha256()
        header, bom, rows, controls = b"", False, 0, False
        columns: tuple[str, ...] = ()
        problems: list[BadFile] = []
        head = b""  # the file's start, until it holds the header and a record
        line, offset = 1, 0
        cut_short = False  # a problem stopped the read before the end (see hash_regular)
        try:
            for index, piece in enumerate(read_pieces(path, identity, piece_bytes, RECORD_LIMIT)):
                digest.update(piece)
                lone_cr = first_lone_cr(piece)
                if lone_cr >= 0:  # a line break to the CSV parser, where pieces are not cut
                    at_line = line + head.count(b"\n") + piece.count(b"\n", 0, lone_cr)
                    problems = [_lone_cr(at_line, offset + len(head) + lone_cr, piece_bytes)]
                    cut_short = True
                    break
                at_start = not header and not problems
                if at_start:
                    # A record longer than a piece leaves the header alone in the first one, which
                    # would read as "header only": the file's start grows until it holds a record.
                    piece = head + piece
                    head = b""
                try:
                    if not at_start and header:
                        frame = parse_piece(header, piece, line, offset - 3 * bom)
                    elif at_start:
                        bom = piece.startswith(BOM)
                        body = piece[3:] if bom else piece
                        header = body[: first_record_end(body)]
                        try:
                            first = parse_applications(piece)
                        except BadFile as bad:  # later pieces are parsed only to count ragged rows
                            if bad.kind not in ("ragged_rows", "field_too_long"):
                                header = b""
                            raise
                        columns, frame = tuple(first.frame.columns), first.frame
                    else:  # no header to parse with: a whole read would still name bad UTF-8 first
                        frame = pl.DataFrame()
                        check_utf8(piece, offset - 3 * bom)
                except BadFile as bad:
                    if bad.kind == "header_only" and at_start:
                        head = piece
                        continue
                    problems.append(bad)
                except Exception as exc:  # as _parse: one bad file never stops the batch
                    why = f"the file could not be parsed ({type(exc).__name__})"
                    problems.append(BadFile("unparseable", why))
                else:  # outside the try: a full disk fails the run, never the file
                    rows += frame.height
                    controls = controls or has_controls(piece)
                    if spill is not None and frame.height and not problems:
                        spilled.append(spill.write(index, frame))
                    del frame
                line += piece.count(b"\n")
                offset += len(piece)
        except RecordTooLong as long:  # never held whole: the file cannot be valid anyway
            cut_short = True
            if long.lone_cr >= 0:  # old Mac line ends, say: not held whole either
                at_line = line + head.count(b"\n") + long.lines_before
                at = offset + len(head) + long.lone_cr
                problems = [_lone_cr(at_line, at, piece_bytes)]
            else:
                line += head.count(b"\n")  # a header waiting for its first record
                problems.append(
                    BadFile(
                        "field_too_long",
                        f"field too long: the record at line {line} runs over {long.limit:,} "
                        f"bytes without ending; the limit is {FIELD_LIMIT:,} characters a field",
                    )
                )
        if head and not cut_short:  # the whole file is a header and blank lines
            try:
                parse_applications(head)
            except BadFile as bad:
                problems.append(bad)
        sha = hash_regular(path, identity, piece_bytes) if cut_short else digest.hexdigest()
    except (NotReadable, StillChanging) as trouble:
        return trouble
    parsed: _Streamed | BadFile = _first_problem(problems) or _Streamed(
        path,
        identity,
        sha,
        piece_bytes,
        header,
        bom,
        rows,
        columns,
        controls,
        tuple(spilled),
    )
    return _Loaded(b"", identity, sha, parsed)


def _lone_cr(line: int, offset: int, piece_bytes: int) -> BadFile:
    """Why a file over a piece with a lone CR is quarantined rather than read whole (issue 14).

    The CSV parser reads a lone CR as a line break, but pieces are cut after line feeds only;
    reading such a file whole instead would let one stray CR defeat the memory bound.
    """
    return BadFile(
        "cr_line_ends",
        f"a lone CR (old Mac/Excel line end) at line {line} (offset {offset}); a file over "
        f"{piece_bytes:,} bytes (read_piece_bytes) is read in pieces cut after line feeds only: "
        "convert CR to LF (save as CSV UTF-8 with LF or CRLF)",
    )


# Which problem a whole read of a file names when its pieces have several: bad UTF-8 anywhere
# first, then whatever the header has, an error of the CSV parser, ragged rows (all counted),
# and last a field too long.
_PROBLEM_ORDER = ("not_utf8", "unparseable", "malformed_csv", "ragged_rows", "field_too_long")


def _first_problem(problems: list[BadFile]) -> BadFile | None:
    """The problem a whole read of the file reports, from the first problem of each piece."""
    if not problems:
        return None

    def rank(problem: BadFile) -> int:
        if problem is problems[0] and problem.kind not in _PROBLEM_ORDER:
            return -1  # the header's (a later piece is parsed only with a good header)
        if problem.kind in _PROBLEM_ORDER:
            return _PROBLEM_ORDER.index(problem.kind)
        return len(_PROBLEM_ORDER)

    first = min(problems, key=rank)  # min keeps the earliest of equal rank
    if first.kind == "ragged_rows" and first.records:
        total = sum(p.records for p in problems if p.kind == "ragged_rows")
        return BadFile(
            first.kind,
            first.message.replace(f"{first.records} record(s)", f"{total} record(s)", 1),
            total,
        )
    return first


def _load(
    path: Path, piece_bytes: int | None = None, spill: Spill | None = None
) -> _Loaded | NotReadable | StillChanging:
    """A landed file read through one descriptor: identity, hash, applications or why not.

    A file larger than ``piece_bytes`` is checked a piece at a time instead (:func:`_stream_load`),
    its parsed pieces kept in ``spill`` when given.
    """
    if piece_bytes is not None:
        streamed = _stream_load(path, piece_bytes, spill)
        if streamed is not None:
            return streamed
    try:
        data, identity = read_regular(path)
    except (NotReadable, StillChanging) as problem:
        return problem
    sha = content_hash(data)
    return _Loaded(data, identity, sha, _parse(data))


def _parse(data: bytes) -> ParsedFile | BadFile:
    """Parse one file; whatever goes wrong in it is that file's problem, never the batch's.

    An error the parser did not foresee is quarantined as ``unparseable`` with only its type
    named (a library's message may quote the file's content).
    """
    try:
        return parse_applications(data)
    except BadFile as bad:
        return bad
    except Exception as exc:  # one bad file never stops the batch
        return BadFile("unparseable", f"the file could not be parsed ({type(exc).__name__})")


def _continuation(loaded: _Loaded, store: StateStore, name: str) -> ParsedFile | BadFile | None:
    """A file that grew after its first part was processed: parse only the new lines."""
    data = loaded.data
    for sha, size in store.processed_prefix(name, loaded.identity.device, loaded.identity.inode):
        prefix = data[:size]
        if size >= len(data) or not prefix.endswith(b"\n") or content_hash(prefix) != sha:
            continue
        header_end = data.find(b"\n") + 1
        parsed = _parse(data[:header_end] + data[size:])
        if isinstance(parsed, BadFile):
            return parsed
        offset = prefix.count(b"\n") - 1
        frame = parsed.frame.with_columns(pl.col(LINE) + offset)
        return ParsedFile(frame, parsed.extra_columns, parsed.has_controls)
    return None


def _grown_archives(
    store: StateStore, started: dt.datetime, options: RunOptions
) -> list[tuple[str, str]]:
    """``(name, archived path)`` of recently archived files that grew since they were read.

    A writer that still held a file open when it was archived (say, it paused longer than the
    settle window) appends to the archived file: those lines are read by a later run from there.
    """
    since = (started - dt.timedelta(seconds=options.archive_watch_seconds)).isoformat()
    grown = []
    for name, moved_to, device, inode, size in store.recently_archived(since):
        try:
            info = os.lstat(store.output_dir / moved_to)
        except FileNotFoundError:
            continue
        if (
            stat.S_ISREG(info.st_mode)
            and (info.st_dev, info.st_ino) == (device, inode)
            and info.st_size > size
            and time.time() - info.st_mtime >= options.settle_seconds
        ):
            grown.append((name, moved_to))
    return grown


def _unique(name: str, used: set[str]) -> str:
    candidate, index = name, 1
    while candidate in used:
        index += 1
        candidate = f"{name}~{index}"
    used.add(candidate)
    return candidate


def _quarantine_name(name: str, used: set[str]) -> str:
    """A quarantine name that is neither taken nor another file's ``.error.txt`` (both reserved).

    A landed ``a.csv.error.txt`` quarantined beside a quarantined ``a.csv`` must not be
    overwritten by ``a.csv``'s error text.
    """
    candidate, index = name, 1
    while candidate in used or candidate + ERROR_SUFFIX in used:
        index += 1
        candidate = f"{name}~{index}"
    used.update((candidate, candidate + ERROR_SUFFIX))
    return candidate


def _read_files(
    landing: Path,
    entries: list[Entry],
    store: StateStore,
    run_id: str,
    partition: str,
    progress: Progress | None,
    grown: Sequence[tuple[str, str]] = (),
    piece_bytes: int | None = None,
    modes: tuple[int, int] = (DEFAULT_FILE_MODE, DEFAULT_DIR_MODE),
    hold_rows: int | None = None,
) -> tuple[list[FileRecord], list[Rows], dict[str, int], list[dict[str, str]], bool]:
    """Read, hash and parse each entry; also whether any processed file holds a control byte.

    A file larger than ``piece_bytes`` is not kept in memory: its parsed pieces wait in the run's
    staging folder (``modes``: file and folder permissions) until its rows are evaluated. Nor are
    many smaller ones: once ``hold_rows`` rows of files read whole are held, the rows of the next
    ones wait there too, so that memory is bounded by the settings, not by the batch of files.
    """
    records: list[FileRecord] = []
    frames: list[Rows] = []
    rows: dict[str, int] = {}
    seen: dict[str, str] = {}
    skipped: list[dict[str, str]] = []
    used_names: set[str] = set()
    controls = False
    held = 0  # rows of files read whole, held in memory
    # Lines appended to already archived files come first: their earlier lines came first too.
    for original, moved_to in grown:
        loaded = _load(store.output_dir / moved_to)
        if not isinstance(loaded, _Loaded):
            continue  # still changing, or gone: a later run looks again
        parsed = _continuation(loaded, store, original)
        if not isinstance(parsed, ParsedFile):
            skipped.append(
                {"name": moved_to, "reason": "archived file changed other than by appending"}
            )
            continue
        name = _unique(original, used_names)
        ident = loaded.identity
        records.append(
            FileRecord(
                loaded.sha256,
                name,
                "processed",
                moved_to,
                device=ident.device,
                inode=ident.inode,
                size=ident.size,
                mtime_ns=ident.mtime_ns,
                ctime_ns=ident.ctime_ns,
                landing_name_hex=os.fsencode(original).hex(),
            )
        )
        frames.append(parsed.frame.with_columns(source_file=pl.lit(name)))
        rows[name] = parsed.frame.height
        controls = controls or parsed.has_controls
    used_quarantine: set[str] = set()
    used_archive: set[str] = set()
    reserve = len(run_id) + 2 + len(ERROR_SUFFIX) + 4  # "<run_id>__" ... "~NN" ".error.txt"
    regular = [entry for entry in entries if entry.kind is None]
    # Two files are read, hashed and parsed at a time: Polars, NumPy and hashlib release the GIL,
    # so one file's serial steps overlap the other's parse. Bookkeeping stays in name order, and
    # each file's progress line comes before its result is awaited (so a crash names the file).
    spill_root = store.staging_path(run_id) / SPILL_FOLDER
    spills = {
        entry.name: Spill(spill_root / str(index), *modes) for index, entry in enumerate(regular)
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending = {
            entry.name: pool.submit(_load, landing / entry.name, piece_bytes, spills[entry.name])
            for entry in regular
        }
        for index, entry in enumerate(entries, start=1):
            name = _unique(display_name(entry.name), used_names)
            hex_name = os.fsencode(entry.name).hex()
            shown = _quarantine_name(bounded_name(name, reserve), used_quarantine)
            quarantined = f"quarantine/{run_id}__{shown}"
            if progress:
                progress(index, len(entries), name)
            if entry.kind is not None:
                detail = f"not_regular_file: {entry.kind}; the pipeline never opens or follows it"
                records.append(
                    FileRecord(
                        "", name, "quarantined", quarantined, detail, landing_name_hex=hex_name
                    )
                )
                continue
            loaded = pending.pop(entry.name).result()  # its bytes are freed once parsed
            if isinstance(loaded, StillChanging):
                skipped.append({"name": name, "reason": "changed while read; left for a later run"})
                continue
            if isinstance(loaded, NotReadable):
                if loaded.kind == "vanished":
                    skipped.append({"name": name, "reason": "vanished before it could be read"})
                    continue
                records.append(
                    FileRecord(
                        "",
                        name,
                        "quarantined",
                        quarantined,
                        f"{loaded.kind}: {loaded.message}",
                        landing_name_hex=hex_name,
                    )
                )
                continue
            if isinstance(loaded.parsed, _Streamed) and store.processed_prefix(
                name, loaded.identity.device, loaded.identity.inode
            ):  # a file that grew since a run read its start: only the new lines count
                reloaded = _load(landing / entry.name)
                if not isinstance(reloaded, _Loaded):
                    skipped.append({"name": name, "reason": "changed while read; left for later"})
                    continue
                loaded = reloaded
            sha = loaded.sha256
            ident = loaded.identity
            base = FileRecord(
                sha,
                name,
                "quarantined",
                quarantined,
                device=ident.device,
                inode=ident.inode,
                size=ident.size,
                mtime_ns=ident.mtime_ns,
                ctime_ns=ident.ctime_ns,
                landing_name_hex=hex_name,
            )
            earlier = store.processed_file(sha)
            if earlier or sha in seen:
                first = f"{earlier[0]} (run {earlier[1]})" if earlier else f"{seen[sha]} (this run)"
                detail = (
                    f"duplicate file: same content (sha256 {sha}) as {first}; not processed again"
                )
                records.append(replace(base, status="duplicate", detail=detail))
                continue
            found = _continuation(loaded, store, name) or loaded.parsed
            if isinstance(found, BadFile):
                records.append(replace(base, detail=f"{found.kind}: {found.message}"))
                continue
            seen[sha] = name
            archived = (
                f"archive/{partition}/run={run_id}/{_unique(bounded_name(name, 4), used_archive)}"
            )
            records.append(replace(base, status="processed", moved_to=archived))
            if isinstance(found, _Streamed):
                frames.append(Deferred((*found.columns, "source_file"), found.frames, name))
                rows[name] = found.rows
                spills.pop(entry.name)  # kept: its pieces are the file's rows
            elif hold_rows is not None and held + found.frame.height > hold_rows:
                spill = spills.pop(entry.name)
                spill.discard()  # the pieces of a file re-read whole since
                spilled = (spill.write(0, found.frame),)
                frames.append(
                    Deferred(
                        (*found.frame.columns, "source_file"), partial(_read_back, spilled), name
                    )
                )
                rows[name] = found.frame.height
            else:
                frames.append(found.frame.with_columns(source_file=pl.lit(name)))
                rows[name] = found.frame.height
                held += found.frame.height
            controls = controls or found.has_controls
    for unused in spills.values():  # duplicates, files re-read whole, files not processed
        unused.discard()
    return records, frames, rows, skipped, controls


@dataclass
class _Evaluated:
    """What a run's batches added up to (the outputs themselves are already staged)."""

    issued: _Known  # the registry, then the IDs the run issued (``issued()``)
    successful: int = 0
    unsuccessful: int = 0
    reason_counts: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    rows_in: int = 0
    per_file: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Batch:
    successful: pl.DataFrame
    unsuccessful: pl.DataFrame
    issued: pl.DataFrame
    reason_counts: dict[str, int]
    duplicates: int
    per_file: pl.DataFrame


_LINEAGE = ("line_number", "source_file")
# Unsuccessful columns that can never start a formula: reason codes, digits, IDs.
_SAFE_UNSUCCESSFUL = ("reasons", "derived_date_of_birth", "derived_mobile_no", "duplicate_of")


def _empty_raw() -> pl.DataFrame:
    return pl.DataFrame(
        schema={"line_number": pl.Int64, **dict.fromkeys(REQUIRED_COLUMNS, pl.String)}
    ).with_columns(source_file=pl.lit(None, dtype=pl.String))


@dataclass(frozen=True)
class Deferred:
    """A large file's rows, produced a piece at a time when they are evaluated."""

    columns: tuple[str, ...]
    produce: Callable[[str], Iterator[pl.DataFrame]]
    source_file: str


Rows = pl.DataFrame | Deferred


def _extra_columns(frames: Sequence[Rows]) -> list[str]:
    """Every extra column of the run, in order of first appearance (as a diagonal concat has)."""
    known = {*REQUIRED_COLUMNS, *_LINEAGE}
    extras: dict[str, None] = {}
    for frame in frames:
        extras.update((c, None) for c in frame.columns if c not in known)
    return list(extras)


def batches(frames: list[Rows], batch_rows: int, columns: Sequence[str]) -> Iterator[pl.DataFrame]:
    """Consecutive slices of at most ``batch_rows`` rows over ``frames`` in order, with ``columns``.

    ``frames`` is consumed (emptied) as it goes, so that each file's rows are freed once batched.
    Yields at least one (maybe empty) batch.
    """
    pending: list[pl.DataFrame] = []
    held = 0
    yielded = False

    def joined() -> pl.DataFrame:
        frame = pl.concat(pending, how="diagonal") if pending else _empty_raw()
        missing = [c for c in columns if c not in frame.columns]
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing)
        return frame.select(columns)

    while frames:
        item = frames.pop(0)
        parts = item.produce(item.source_file) if isinstance(item, Deferred) else iter([item])
        for frame in parts:
            offset = 0
            while offset < frame.height:
                take = min(batch_rows - held, frame.height - offset)
                pending.append(frame.slice(offset, take))
                held += take
                offset += take
                if held == batch_rows:
                    yield joined()
                    yielded = True
                    pending, held = [], 0
            del frame
        del item, parts
    if pending or not yielded:
        yield joined()


def _evaluate(
    frames: list[Rows],
    rules: RuleConfig,
    store: StateStore,
    sink: Callable[[pl.DataFrame, pl.DataFrame], None],
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    check_name_controls: bool = True,
    watch: _Stopwatch | None = None,
    spill: Spill | None = None,
) -> _Evaluated:
    """Evaluate the run's rows ``batch_rows`` at a time; ``sink`` writes each batch's outputs.

    Memory is bounded by the batch, not by the run: rows are evaluated, written and freed batch by
    batch. The outputs are the same row for row whatever the batch size: IDs issued by earlier
    batches join the registry for later ones, which is what "earlier in the run" means. With
    ``spill``, those IDs wait there (see :class:`_Known`), not in memory.
    """
    watch = watch or _Stopwatch()
    extras = _extra_columns(frames)
    columns = ["line_number", *REQUIRED_COLUMNS, *extras, "source_file"]
    registry = store.registry()
    known = _Known(spill)
    known.add(registry, keep=True)
    total = _Evaluated(issued=known)
    for raw in batches(frames, batch_rows, columns):
        batch = _evaluate_batch(
            raw, rules, known, extras, check_name_controls=check_name_controls, watch=watch
        )
        known.add(batch.issued)
        sink(batch.successful, batch.unsuccessful)
        watch.lap("write both outputs")
        total.successful += batch.successful.height
        total.unsuccessful += batch.unsuccessful.height
        total.duplicates += batch.duplicates
        total.rows_in += raw.height
        for reason, count in batch.reason_counts.items():
            total.reason_counts[reason] = total.reason_counts.get(reason, 0) + count
        for name, ok, not_ok in batch.per_file.iter_rows():
            counts = total.per_file.setdefault(name, {"successful": 0, "unsuccessful": 0})
            counts["successful"] += int(ok)
            counts["unsuccessful"] += int(not_ok)
        del raw, batch
    total.reason_counts = dict(sorted(total.reason_counts.items()))
    return total


@dataclass
class _Known:
    """Every ID issued before a batch: the registry of earlier runs, then the run's earlier batches.

    In memory: 64-bit hashes of each row's email and formula ID (16 bytes a row), so that a batch
    finds the rows that can matter to it by comparing integers, not strings. The rows themselves
    are the chunks they came in, never copied again; with ``spill``, the run's chunks wait in its
    staging folder (Arrow IPC), so that memory does not grow with the IDs a long run issues.
    """

    spill: Spill | None = None
    sources: list[pl.DataFrame | Path] = field(default_factory=list)
    heights: list[int] = field(default_factory=list)
    email_hashes: pl.Series = field(default_factory=lambda: pl.Series(dtype=pl.UInt64))
    base_hashes: pl.Series = field(default_factory=lambda: pl.Series(dtype=pl.UInt64))
    schema: pl.Schema = field(default_factory=lambda: pl.Schema(REGISTRY_SCHEMA))

    def add(self, issued: pl.DataFrame, *, keep: bool = False) -> None:
        """Append IDs issued (``membership_id, email_key, base_id``); ``keep``: in memory."""
        self.schema = issued.schema
        index = len(self.sources)
        spilled = not keep and self.spill is not None and issued.height
        self.sources.append(self.spill.write(index, issued) if spilled and self.spill else issued)
        self.heights.append(issued.height)
        self.email_hashes.append(issued["email_key"].hash())
        self.base_hashes.append(issued["base_id"].hash())

    @property
    def height(self) -> int:
        return self.email_hashes.len()

    def _rows(self, index: int) -> pl.DataFrame:
        source = self.sources[index]
        return pl.read_ipc(source) if isinstance(source, Path) else source

    def frame(self) -> pl.DataFrame:
        """Every known row (read back from the spill: for a small registry only)."""
        chunks = [self._rows(index) for index in range(len(self.sources))]
        return pl.concat(chunks, rechunk=False) if chunks else pl.DataFrame(schema=self.schema)

    def issued(self, first: int = 1) -> pl.LazyFrame:
        """The rows of chunks ``first`` onwards (the run's, after the registry), lazily."""
        parts = [
            pl.scan_ipc(source) if isinstance(source, Path) else source.lazy()
            for source in self.sources[first:]
        ]
        return pl.concat(parts) if parts else pl.LazyFrame(schema=self.schema)

    def relevant(self, emails: pl.Series, candidates: pl.DataFrame) -> pl.DataFrame:
        """The rows that can matter to a batch: its emails, or its candidates' formula IDs.

        Every ID ever issued would otherwise be joined and grouped again for each batch. This
        keeps all rows of each email and of each formula ID the batch has (and, rarely, a row
        whose hash alone matches, which changes nothing), so what :func:`assign_ids` and the
        owners join decide is unchanged. A registry no larger than the batch is returned whole:
        the filter would cost more than it saves.
        """
        if self.height <= emails.len():
            return self.frame()
        base_ids = candidates.join(
            birthday_hash5(candidates["birthday_key"]), on="birthday_key", how="left"
        ).select(base_id=id_stem(pl.col("last_name")) + "_" + pl.col("hash5"))["base_id"]
        hits = (
            self.email_hashes.is_in(emails.hash().unique().implode())
            | self.base_hashes.is_in(base_ids.hash().unique().implode())
        ).arg_true()
        parts, start = [], 0
        for index, height in enumerate(self.heights):
            local = hits.filter((hits >= start) & (hits < start + height)) - start
            if local.len():
                parts.append(self._rows(index)[local])
            start += height
        return pl.concat(parts) if parts else pl.DataFrame(schema=self.schema)


def _evaluate_batch(
    raw: pl.DataFrame,
    rules: RuleConfig,
    known: _Known,
    extras: Sequence[str],
    *,
    check_name_controls: bool,
    watch: _Stopwatch,
) -> _Batch:
    evaluated = apply_rules(
        raw,
        reference_date=rules.reference_date,
        minimum_age=rules.minimum_age,
        email_suffixes=rules.email_suffixes,
        check_name_controls=check_name_controls,
    ).collect()
    watch.lap("rules")
    # Only valid applications can get an ID: IDs are issued on that subset and scattered back by
    # position, so the batch keeps its order without a sort or a join over every row.
    is_candidate = evaluated["reasons"] == ""
    positions = is_candidate.arg_true()
    candidates = evaluated.filter(is_candidate).select("last_name", "birthday_key", "email_key")
    registry = known.relevant(evaluated["email_key"], candidates)
    assigned = assign_ids(candidates, registry)
    issued = assigned.filter(pl.col("membership_id").is_not_null()).select(
        "membership_id", "email_key", "base_id"
    )
    # Invalid applications are duplicates only of an earlier application: one of an earlier run,
    # or one issued an ID in this run at an earlier position (files in name order, then lines).
    issued_at = pl.DataFrame(
        {
            "email_key": assigned["email_key"],
            "owner": assigned["membership_id"],
            "_owner_at": positions.cast(pl.Int64),
        }
    ).filter(pl.col("owner").is_not_null())
    owners = pl.concat(
        [
            registry.select(
                "email_key", owner=pl.col("membership_id"), _owner_at=pl.lit(-1, dtype=pl.Int64)
            ),
            issued_at,
        ]
    )
    # Joined on the one column, then put beside the rest: a join of the whole batch would gather
    # every column again.
    owned = (
        evaluated.select("email_key")
        .join(owners, on="email_key", how="left", maintain_order="left")
        .select("owner", "_owner_at")
    )
    evaluated = evaluated.with_row_index("_at").hstack(owned.get_columns())

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
        .when(pl.col("_owner_at") < pl.col("_at").cast(pl.Int64))
        .then(pl.col("owner")),
    )
    watch.lap("issue IDs")
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
    watch.lap("select outputs, counts")
    reason_counts: dict[str, int] = {}
    for combination, count in combinations_df.iter_rows():
        for reason in combination.split(REASON_SEPARATOR):
            reason_counts[reason] = reason_counts.get(reason, 0) + count
    # Derived digits, reason codes and IDs cannot start a formula: only the other columns are
    # scanned (the delivered IDs still are, as the check that none would change).
    delivered = defuse_formulas(successful_df, safe=("mobile_no", "date_of_birth"))
    if not delivered["membership_id"].equals(successful_df["membership_id"]):
        raise AssertionError("a membership ID would change when written; none was issued")
    unsuccessful_delivered = defuse_formulas(unsuccessful_df, safe=_SAFE_UNSUCCESSFUL)
    watch.lap("escape formulas")
    return _Batch(
        successful=delivered,
        unsuccessful=unsuccessful_delivered,
        issued=issued,
        reason_counts=reason_counts,
        duplicates=int(unsuccessful_df.select(is_duplicate.sum()).item()),
        per_file=per_file_df.select("source_file", "successful", "unsuccessful"),
    )


def _stage_outputs(
    frames: list[Rows],
    rules: RuleConfig,
    store: StateStore,
    paths: tuple[Path, Path],
    options: RunOptions,
    *,
    check_name_controls: bool,
    watch: _Stopwatch,
    issued_spill: Path | None = None,
) -> _Evaluated:
    """Evaluate the run batch by batch into the two staged CSVs; publish them durably at the end."""
    successful = StagedCsv(paths[0], options.file_mode, options.dir_mode)
    unsuccessful = StagedCsv(paths[1], options.file_mode, options.dir_mode)
    try:

        def sink(ok: pl.DataFrame, not_ok: pl.DataFrame) -> None:
            successful.write(ok)
            unsuccessful.write(not_ok)

        result = _evaluate(
            frames,
            rules,
            store,
            sink,
            batch_rows=options.batch_rows,
            check_name_controls=check_name_controls,
            watch=watch,
            spill=Spill(issued_spill, *_modes(options)) if issued_spill else None,
        )
        successful.close()
        unsuccessful.close()
        watch.lap("fsync both outputs")
    except BaseException:
        successful.discard()
        unsuccessful.discard()
        raise
    return result


def _report(
    *,
    run_id: str,
    started: dt.datetime,
    effective: dt.datetime,
    clock_note: str | None,
    duration: float,
    landing: Path,
    output: Path,
    records: list[FileRecord],
    per_file: dict[str, int],
    result: _Evaluated,
    outputs: Outputs,
    recovered: list[RecoveredRun],
    removed: list[str],
    skipped: list[dict[str, str]],
) -> RunDocument:
    counts = result.per_file
    files = []
    for record in records:
        known = FileDetail(
            name=record.name, sha256=record.sha256, status=record.status, moved_to=record.moved_to
        )
        if record.status == "processed":
            known.rows = per_file[record.name]
            known.successful = int(counts[record.name]["successful"])
            known.unsuccessful = int(counts[record.name]["unsuccessful"])
        else:
            known.error = record.detail
        files.append(known)
    status = [r.status for r in records]
    return RunDocument(
        run_id=run_id,
        started_at=started.isoformat(),
        partition_started_at=effective.isoformat(),
        clock_note=clock_note,
        duration_seconds=round(duration, 3),
        landing=display_name(str(landing)),
        output=display_name(str(output)),
        totals=Totals(
            files=len(records),
            files_processed=status.count("processed"),
            files_quarantined=status.count("quarantined"),
            files_duplicate=status.count("duplicate"),
            rows_in=result.rows_in,
            successful=result.successful,
            unsuccessful=result.unsuccessful,
            duplicate_applications=result.duplicates,
        ),
        unsuccessful_by_reason={k: int(v) for k, v in result.reason_counts.items()},
        files_detail=files,
        outputs=outputs,
        recovered_runs=recovered,
        removed_orphans=removed,
        skipped=[Skipped.model_validate(s) for s in skipped],
    )
