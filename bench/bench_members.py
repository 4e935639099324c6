"""Benchmark: the membership pipeline as a whole process, side by side with its yardsticks.

Generates N synthetic applications in F files whose columns are resampled from the bundled sample
batches (so names with honorifics/suffixes, the four date formats, short and spaced mobiles and the
.org/.info/.biz domains come in the sample's proportions), with unique emails and birthdays spread
over 1950-2012. ``--names unique`` replaces the resampled names by random syllables (every name
distinct, honorifics and suffixes kept in the sample's proportions), so that nothing that works
"once per distinct name" can look faster here than it would in production.

Three processes run in turn, their order rotating each round, each a fresh interpreter timed whole
(start-up included): the floor (Polars reads the files as text), the yardstick (the fastest public
solution of the same challenge, ``../shared/yardsticks/members_peer.py``: it does less and gets
rules wrong, a speed reference only) and ``shopdata members run``. Wall seconds, CPU seconds
(user + system of the child) and peak RSS come from ``wait4``. Then one in-process run prints the
pipeline's per-stage table.

    python bench/bench_members.py                          # 1,000,000 rows in 10 files, 5 rounds,
                                                           # sample names, then unique names
    python bench/bench_members.py --names unique --markdown  # one input; tables for the docs
    python bench/bench_members.py --rows 100000 --files 4 --repeats 1
    python bench/bench_members.py --one-file-gb 1          # one big file: peak RSS and rows/s
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parents[1]
SAMPLES = sorted((REPO / "data" / "applications").glob("*.csv"))
# ../shared/yardsticks beside the main clone (../../shared from an engineer's clone under wt/).
YARDSTICK = Path(
    os.environ.get("SHOPDATA_MEMBERS_YARDSTICK", "")
    or next(
        (
            folder / "shared/yardsticks/members_peer.py"
            for folder in REPO.parents
            if (folder / "shared/yardsticks/members_peer.py").is_file()
        ),
        REPO.parent / "shared/yardsticks/members_peer.py",
    )
)
BIN = Path(sys.executable).parent

FLOOR = """
import sys
from pathlib import Path
import polars as pl
files = sorted(Path(sys.argv[1]).glob("*.csv"))
print(sum(pl.read_csv(f, infer_schema=False).height for f in files))
"""

STAGES = """
import json, sys
from pathlib import Path
from shopdata.members.pipeline import RuleConfig, run_pipeline
report = run_pipeline(Path(sys.argv[1]), Path(sys.argv[2]), RuleConfig())
print(json.dumps({"wall": report.stages, "cpu": report.stages_cpu}))
"""

_SYLLABLES = np.array(
    [
        "ka",
        "lo",
        "mi",
        "ra",
        "ne",
        "shi",
        "to",
        "va",
        "lu",
        "be",
        "xo",
        "da",
        "fi",
        "ge",
        "hu",
        "jo",
        "ki",
        "le",
        "mo",
        "nu",
        "pa",
        "ro",
        "sa",
        "te",
        "vi",
        "wa",
        "ya",
        "zu",
    ]
)


@dataclass(frozen=True)
class Measured:
    """One whole process: wall and CPU seconds, peak resident memory."""

    wall: float
    cpu: float
    peak_mib: float


def _words(rng: np.random.Generator, rows: int, syllables: int) -> pl.Series:
    parts = [_SYLLABLES[rng.integers(0, _SYLLABLES.size, rows)] for _ in range(syllables)]
    joined = parts[0]
    for part in parts[1:]:
        joined = np.char.add(joined, part)
    return pl.Series(joined.astype(str))


def _spelled(numbers: np.ndarray) -> pl.Series:
    """Each number spelled in syllables (base 28): distinct numbers give distinct words."""
    base = _SYLLABLES.size
    digits = []
    rest = numbers.copy()
    for _ in range(6):
        digits.append(_SYLLABLES[rest % base])
        rest //= base
    joined = digits[0]
    for part in digits[1:]:
        joined = np.char.add(part, joined)
    return pl.Series(joined.astype(str))


def unique_names(rng: np.random.Generator, template: pl.Series, first_row: int) -> pl.Series:
    """Random-syllable names, all distinct; honorifics and suffixes where ``template`` has them."""
    rows = template.len()
    first = _words(rng, rows, 3).str.to_titlecase()
    last = (
        _words(rng, rows, 1) + _spelled(np.arange(first_row, first_row + rows))
    ).str.to_titlecase()
    honorific = template.str.extract(r"^((?:Mr|Mrs|Ms|Miss|Dr)\.? )", 1).fill_null("")
    suffix = template.str.extract(r"( (?:Jr|Sr|II|III|IV|MD|DDS|DVM|PhD)\.?)$", 1).fill_null("")
    return honorific + first + " " + last + suffix


def applications(rows: int, seed: int, names: str, first_row: int = 0) -> pl.DataFrame:
    """``rows`` synthetic applications (emails unique across chunks through ``first_row``)."""
    sample = pl.concat([pl.read_csv(path, infer_schema=False) for path in SAMPLES])
    rng = np.random.default_rng(seed)
    pick = lambda column: sample[column].gather(rng.integers(0, sample.height, rows))  # noqa: E731
    days = rng.integers(
        0, (np.datetime64("2012-12-31") - np.datetime64("1950-01-01")).item().days, rows
    )
    birthdays = pl.Series("d", np.datetime64("1950-01-01") + days.astype("timedelta64[D]")).cast(
        pl.Date
    )
    fmt = rng.integers(0, 4, rows)
    domains = pick("email").str.split("@").list.last()
    name = pick("name")
    if names == "unique":
        name = unique_names(rng, name, first_row)
    return pl.DataFrame(
        {
            "name": name,
            "fmt": fmt,
            "birthday": birthdays,
            "mobile_no": pick("mobile_no"),
            "domain": domains,
            "i": np.arange(first_row, first_row + rows),
        }
    ).select(
        "name",
        email=pl.col("name").str.replace_all(r"[^A-Za-z]", "_")
        + pl.col("i").cast(pl.String)
        + "@"
        + pl.col("domain"),
        date_of_birth=pl.when(pl.col("fmt") == 0)
        .then(pl.col("birthday").dt.strftime("%Y-%m-%d"))
        .when(pl.col("fmt") == 1)
        .then(pl.col("birthday").dt.strftime("%Y/%m/%d"))
        .when(pl.col("fmt") == 2)
        .then(pl.col("birthday").dt.strftime("%m/%d/%Y"))
        .otherwise(pl.col("birthday").dt.strftime("%d-%m-%Y")),
        mobile_no="mobile_no",
    )


def generate(rows: int, files: int, folder: Path, seed: int = 7, names: str = "sample") -> int:
    """Write ``rows`` applications into ``files`` CSVs; return the total size in bytes."""
    frame = applications(rows, seed, names)
    folder.mkdir(parents=True, exist_ok=True)
    size = 0
    for index, chunk in enumerate(frame.iter_slices(-(-rows // files))):
        path = folder / f"applications_{index:03d}.csv"
        chunk.write_csv(path)
        size += path.stat().st_size
    return size


def generate_big(gigabytes: float, path: Path, names: str, chunk_rows: int = 1_000_000) -> int:
    """One CSV of about ``gigabytes`` GB, written a chunk at a time; return its rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with open(path, "wb") as handle:
        while handle.tell() < gigabytes * 1e9:
            chunk = applications(chunk_rows, 7 + rows, names, first_row=rows)
            chunk.write_csv(handle, include_header=rows == 0)
            rows += chunk.height
    return rows


def measure(command: list[str]) -> Measured:
    """Run ``command`` as a fresh process; wall time, CPU time and peak RSS from ``wait4``."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}")
    return Measured(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def pipeline_command(landing: Path, output: Path) -> list[str]:
    return [
        str(BIN / "shopdata"),
        "members",
        "run",
        "--landing",
        str(landing),
        "--output",
        str(output),
        "--settle-seconds",
        "0",
        "--quiet",
    ]


def _summary(runs: list[Measured]) -> dict[str, float]:
    walls = [r.wall for r in runs]
    cpus = [r.cpu for r in runs]
    return {
        "wall_median": round(statistics.median(walls), 3),
        "wall_min": round(min(walls), 3),
        "wall_max": round(max(walls), 3),
        "cpu_median": round(statistics.median(cpus), 3),
        "cpu_min": round(min(cpus), 3),
        "cpu_max": round(max(cpus), 3),
        "peak_mib": round(max(r.peak_mib for r in runs)),
    }


def side_by_side(source: Path, root: Path, repeats: int) -> dict[str, dict[str, float]]:
    """Floor, yardstick and pipeline in rotating order, ``repeats`` rounds."""
    runs: dict[str, list[Measured]] = {"floor": [], "yardstick": [], "pipeline": []}
    for repeat in range(repeats):
        landing, output = root / f"landing{repeat}", root / f"output{repeat}"
        shutil.copytree(source, landing)  # the pipeline archives its inputs: a fresh copy each
        commands = {
            "floor": [sys.executable, "-c", FLOOR, str(source)],
            "yardstick": [sys.executable, str(YARDSTICK), str(source), str(root / "peer")],
            "pipeline": pipeline_command(landing, output),
        }
        order = list(commands)
        order = order[repeat % 3 :] + order[: repeat % 3]
        for name in order:
            runs[name].append(measure(commands[name]))
        shutil.rmtree(output)
        shutil.rmtree(landing)
        shutil.rmtree(root / "peer", ignore_errors=True)
    return {name: _summary(measured) for name, measured in runs.items()}


def stages(source: Path, root: Path) -> dict[str, dict[str, float]]:
    """One in-process run: wall and CPU seconds per stage of the pipeline."""
    landing, output = root / "landing_stages", root / "output_stages"
    shutil.copytree(source, landing)
    out = subprocess.run(
        [sys.executable, "-c", STAGES, str(landing), str(output)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    shutil.rmtree(output)
    shutil.rmtree(landing, ignore_errors=True)
    stage_seconds: dict[str, dict[str, float]] = json.loads(out)
    return stage_seconds


def _cell(summary: dict[str, float], what: str) -> str:
    low, high = summary[what + "_min"], summary[what + "_max"]
    return f"{summary[what + '_median']:.2f} ({low:.2f}-{high:.2f})"


def markdown(result: dict[str, Any]) -> str:
    """The docs' tables for one input: processes side by side, ratios, stages."""
    names = {
        "floor": "floor: Polars reads the files as text",
        "yardstick": "yardstick (`members_peer.py`)",
        "pipeline": "`shopdata members run`",
    }
    lines = [
        f"{result['rows']:,} rows in {result['files']} files ({result['names']} names, "
        f"{result['megabytes']} MB), median of {result['rounds']} rounds (min-max); "
        f"{result['machine']}; {result['date']}",
        "",
        "| process | wall s | CPU s | peak MiB |",
        "| --- | ---: | ---: | ---: |",
    ]
    for key, label in names.items():
        row = result[key]
        lines.append(
            f"| {label} | {_cell(row, 'wall')} | {_cell(row, 'cpu')} | {row['peak_mib']} |"
        )
    lines += [
        f"| ratio pipeline / yardstick | {result['wall_ratio_to_yardstick']} | "
        f"{result['cpu_ratio_to_yardstick']} | |",
        f"| ratio pipeline / floor | {result['wall_ratio_to_floor']} | "
        f"{result['cpu_ratio_to_floor']} | |",
        "",
        "| stage (one in-process run) | wall s | CPU s |",
        "| --- | ---: | ---: |",
    ]
    for stage, wall in result["stages_seconds"]["wall"].items():
        lines.append(f"| {stage} | {wall:.3f} | {result['stages_seconds']['cpu'][stage]:.3f} |")
    return "\n".join(lines)


def run_input(args: argparse.Namespace, root: Path, names: str) -> dict[str, Any]:
    """Generate one input, run the three processes side by side, then the stages."""
    source = root / f"source_{names}"
    size = generate(args.rows, args.files, source, names=names)
    print(
        f"generated {args.rows:,} applications ({names} names) in {args.files} files, "
        f"{size / 1e6:.1f} MB",
        file=sys.stderr,
    )
    result = side_by_side(source, root, args.repeats)
    pipeline, yardstick, floor = result["pipeline"], result["yardstick"], result["floor"]
    summary: dict[str, Any] = {
        "rows": args.rows,
        "files": args.files,
        "names": names,
        "megabytes": round(size / 1e6, 1),
        "rounds": args.repeats,
        **result,
        "wall_ratio_to_yardstick": round(pipeline["wall_median"] / yardstick["wall_median"], 2),
        "cpu_ratio_to_yardstick": round(pipeline["cpu_median"] / yardstick["cpu_median"], 2),
        "wall_ratio_to_floor": round(pipeline["wall_median"] / floor["wall_median"], 2),
        "cpu_ratio_to_floor": round(pipeline["cpu_median"] / floor["cpu_median"], 2),
        "rows_per_second": round(args.rows / pipeline["wall_median"]),
        "stages_seconds": stages(source, root),
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    shutil.rmtree(source)
    return summary


def machine() -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"Polars {pl.__version__}, load average {os.getloadavg()[0]:.1f} at the start"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--names", choices=("sample", "unique", "both"), default="both")
    parser.add_argument(
        "--one-file-gb", type=float, default=None, help="Run one generated file of this size."
    )
    parser.add_argument(
        "--markdown", action="store_true", help="Print the docs' tables instead of JSON."
    )
    args = parser.parse_args()
    var = REPO / "var"
    var.mkdir(exist_ok=True)
    print(f"machine: {machine()}", file=sys.stderr)
    with tempfile.TemporaryDirectory(dir=var) as tmp:
        root = Path(tmp)
        if args.one_file_gb is not None:
            one_file(args, root)
            return
        inputs = ("sample", "unique") if args.names == "both" else (args.names,)
        for names in inputs:
            summary = run_input(args, root, names)
            print(markdown(summary) if args.markdown else json.dumps(summary, indent=2))
            print()


def one_file(args: argparse.Namespace, root: Path) -> None:
    """One big landed file through ``shopdata members run``: peak RSS and rows/s."""
    landing = root / "landing"
    rows = generate_big(args.one_file_gb, landing / "big.csv", args.names)
    size = (landing / "big.csv").stat().st_size
    print(f"generated {rows:,} applications in one file, {size / 1e9:.2f} GB", file=sys.stderr)
    measured = measure(pipeline_command(landing, root / "output"))
    print(
        json.dumps(
            {
                "rows": rows,
                "gigabytes": round(size / 1e9, 2),
                "wall_seconds": round(measured.wall, 2),
                "cpu_seconds": round(measured.cpu, 2),
                "peak_mib": round(measured.peak_mib),
                "rows_per_second": round(rows / measured.wall),
                "machine": machine(),
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
