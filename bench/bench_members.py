"""Benchmark: the membership pipeline end to end against the floor (Polars merely reading the CSVs).

Generates N synthetic applications in F files whose columns are resampled from the bundled sample
batches (so names with honorifics/suffixes, the four date formats, short and spaced mobiles and the
.org/.info/.biz domains come in the sample's proportions), with unique emails and birthdays spread
over 1950-2012. Each measurement runs in a fresh process; peak memory is that process's max RSS.

    python bench/bench_members.py                 # 1,000,000 rows in 10 files, 3 repeats
    python bench/bench_members.py --rows 100000 --files 4 --repeats 1
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parents[1]
SAMPLES = sorted((REPO / "data" / "applications").glob("*.csv"))

FLOOR = """
import resource, sys, time
from pathlib import Path
import polars as pl
files = sorted(Path(sys.argv[1]).glob("*.csv"))
start = time.perf_counter()
rows = sum(pl.read_csv(f, infer_schema=False).height for f in files)
elapsed = time.perf_counter() - start
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, rows)
"""

PIPELINE = """
import resource, sys, time
from pathlib import Path
from shopdata.members.pipeline import RuleConfig, run_pipeline
start = time.perf_counter()
report = run_pipeline(Path(sys.argv[1]), Path(sys.argv[2]), RuleConfig())
elapsed = time.perf_counter() - start
rows = report.document.totals.rows_in
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, rows)
"""


def generate(rows: int, files: int, folder: Path, seed: int = 7) -> int:
    """Write ``rows`` applications into ``files`` CSVs; return the total size in bytes."""
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
    frame = pl.DataFrame(
        {
            "name": pick("name"),
            "fmt": fmt,
            "birthday": birthdays,
            "mobile_no": pick("mobile_no"),
            "domain": domains,
            "i": np.arange(rows),
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
    folder.mkdir(parents=True, exist_ok=True)
    size = 0
    for index, chunk in enumerate(frame.iter_slices(-(-rows // files))):
        path = folder / f"applications_{index:03d}.csv"
        chunk.write_csv(path)
        size += path.stat().st_size
    return size


def measure(script: str, *args: str) -> tuple[float, float, int]:
    """Run ``script`` in a fresh interpreter; return (seconds, peak MiB, rows)."""
    out = subprocess.run(
        [sys.executable, "-c", script, *args], check=True, capture_output=True, text=True
    ).stdout.split()
    return float(out[0]), int(out[1]) / 1024, int(out[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=REPO / "var" if (REPO / "var").exists() else None) as tmp:
        root = Path(tmp)
        source = root / "source"
        size = generate(args.rows, args.files, source)
        print(f"generated {args.rows:,} applications in {args.files} files, {size / 1e6:.1f} MB")
        floors, runs = [], []
        for repeat in range(args.repeats):
            floors.append(measure(FLOOR, str(source)))
            landing, output = root / f"landing{repeat}", root / f"output{repeat}"
            shutil.copytree(source, landing)
            runs.append(measure(PIPELINE, str(landing), str(output)))
        floor_s = statistics.median(f[0] for f in floors)
        run_s = statistics.median(r[0] for r in runs)
        result = {
            "rows": args.rows,
            "files": args.files,
            "megabytes": round(size / 1e6, 1),
            "floor_seconds_median": round(floor_s, 3),
            "pipeline_seconds_median": round(run_s, 3),
            "ratio_to_floor": round(run_s / floor_s, 2),
            "floor_peak_mib": round(max(f[1] for f in floors)),
            "pipeline_peak_mib": round(max(r[1] for r in runs)),
            "rows_per_second": round(args.rows / run_s),
            "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores, "
            f"Python {platform.python_version()}, Polars {pl.__version__}",
        }
        assert all(r[2] == args.rows for r in runs), "the pipeline did not see every row"
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
