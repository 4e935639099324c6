"""The bundled snapshot: Johns Hopkins CSSE's final Singapore series (see ``data/SOURCE.md``).

It is what the dashboard shows when no live API is configured or answering, so it ships inside
the package and loads with the standard library only (the page must start fast).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from importlib import resources

from shopdata.covid.schema import DayCount, MalformedDataError, check_series

SNAPSHOT_FILE = "singapore_confirmed_jhu.csv"
API_SHAPED_FILE = "covid19api_dayone_singapore_confirmed.json"
SNAPSHOT_LABEL = "Johns Hopkins University CSSE COVID-19 Data Repository (bundled snapshot)"
SNAPSHOT_URL = "https://github.com/CSSEGISandData/COVID-19"
SNAPSHOT_LICENSE = "CC BY 4.0"


def read_text(name: str) -> str:
    """A bundled data file's text."""
    return resources.files("shopdata.covid").joinpath("data", name).read_text(encoding="utf-8")


def parse_csv(text: str, origin: str) -> tuple[DayCount, ...]:
    """Parse ``date,cumulative_confirmed`` rows (ISO dates, integers)."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header != ["date", "cumulative_confirmed"]:
        raise MalformedDataError(
            f"{origin}: expected header date,cumulative_confirmed, got {','.join(header or [])}"
        )
    days: list[DayCount] = []
    for line, row in enumerate(reader, start=2):
        if len(row) != 2:
            raise MalformedDataError(f"{origin}: line {line}: expected 2 fields, got {len(row)}")
        try:
            days.append(DayCount(dt.date.fromisoformat(row[0]), int(row[1])))
        except ValueError:
            raise MalformedDataError(
                f"{origin}: line {line}: expected an ISO date and an integer, got {row!r}"
            ) from None
    return check_series(days, origin)


def load_snapshot() -> tuple[DayCount, ...]:
    """The bundled series, 2020-01-22 to 2023-03-09."""
    return parse_csv(read_text(SNAPSHOT_FILE), SNAPSHOT_FILE)
