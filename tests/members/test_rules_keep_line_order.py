"""The rules keep the applications in line order, so the first applicant gets the plain ID.

docs/members.md: "The first person to reach a formula ID gets it as is; the n-th different person
gets ``<formula ID>_<n>`` ... within a run files by name, then by line." The pipeline runs
``apply_rules`` and then ``assign_ids`` on its output, so ``apply_rules`` must return the rows in
the order it was given them. Polars keeps the order of a lazy join only when asked: without
``maintain_order="left"`` (mutmut's ``apply_rules`` 35 and 40, once recorded as equivalent) the
rows come back shuffled as soon as Polars runs more than one thread, even for 3,000 rows.

``make mutation`` runs with ``POLARS_MAX_THREADS=1``, which hides exactly this, so the check runs
in a child Python with four Polars threads (the thread count is fixed when Polars is imported).
It imports the same ``shopdata`` as this process (``sys.path`` is passed on), and under mutmut the
child inherits ``MUTANT_UNDER_TEST``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from collections import Counter

ROWS = 3000
WILLIAMSON_BIRTHDAY = dt.date(1954, 3, 10)

# Runs in the child: applications in line order in, (email, membership_id) in the order returned.
CHILD = r"""
import datetime as dt, json, sys
import polars as pl
from shopdata.members.ids import assign_ids, empty_registry
from shopdata.members.rules import apply_rules

applications = pl.DataFrame(
    json.loads(sys.stdin.read()), schema=["name", "email", "date_of_birth", "mobile_no"],
    orient="row",
)
evaluated = apply_rules(
    applications, reference_date=dt.date(2025, 1, 1), minimum_age=18, email_suffixes=(".com",)
).collect()
valid = evaluated.filter(pl.col("reasons") == "")
issued = assign_ids(valid.select("last_name", "birthday_key", "email_key"), empty_registry())
print(json.dumps({
    "threads": pl.thread_pool_size(),
    "evaluated": evaluated["email"].to_list(),
    "issued": issued.select("email_key", "membership_id").rows(),
}))
"""


def _written(day: dt.date, style: int) -> str:
    """One of the four accepted birthday formats."""
    return (
        day.strftime("%Y-%m-%d"),
        day.strftime("%Y/%m/%d"),
        day.strftime("%m/%d/%Y"),
        day.strftime("%d-%m-%Y"),
    )[style % 4]


def _applications() -> list[tuple[str, str, str, str]]:
    """Williamsons only: every third born on the sample's shared birthday, the rest on 40 others;
    every 7th application is invalid (an impossible birthday), so valid rows are not every row."""
    rows = []
    for line in range(ROWS):
        day = (
            WILLIAMSON_BIRTHDAY
            if line % 3 == 0
            else WILLIAMSON_BIRTHDAY + dt.timedelta(days=1 + line % 40)
        )
        birthday = "1954-02-30" if line % 7 == 6 else _written(day, line)
        rows.append((f"Person{line} Williamson", f"p{line}@example.com", birthday, "81234567"))
    return rows


def _expected_ids(rows: list[tuple[str, str, str, str]]) -> list[tuple[str, str]]:
    """The documented policy in plain Python: per formula ID, the n-th applicant in line order
    gets ``_<n>`` (n > 1)."""
    seen: Counter[str] = Counter()
    expected = []
    for line, (_, email, birthday, _) in enumerate(rows):
        if birthday == "1954-02-30":
            continue
        day = (
            WILLIAMSON_BIRTHDAY
            if line % 3 == 0
            else WILLIAMSON_BIRTHDAY + dt.timedelta(days=1 + line % 40)
        )
        key = day.strftime("%Y%m%d")
        base = "Williamson_" + hashlib.sha256(key.encode("ascii")).hexdigest()[:5]
        seen[base] += 1
        expected.append((email, base if seen[base] == 1 else f"{base}_{seen[base]}"))
    return expected


def test_rules_return_the_applications_in_line_order_so_ids_follow_the_line_order() -> None:
    rows = _applications()
    env = {**os.environ, "POLARS_MAX_THREADS": "4", "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.run(
        [sys.executable, "-c", CHILD],
        input=json.dumps(rows),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    answer = json.loads(child.stdout)
    assert answer["threads"] == 4
    assert answer["evaluated"] == [email for _, email, _, _ in rows]
    issued = [tuple(pair) for pair in answer["issued"]]
    expected = _expected_ids(rows)
    assert len(expected) == ROWS - ROWS // 7  # 428 impossible birthdays refused
    # The first shared-birthday applicant (line 0) gets the plain formula ID, line 3 gets _2 ...
    assert expected[0] == ("p0@example.com", "Williamson_" + _hash("19540310"))
    assert expected[3] == ("p3@example.com", "Williamson_" + _hash("19540310") + "_2")
    assert issued == expected


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()[:5]
