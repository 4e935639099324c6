"""The UCI Car Evaluation data: its attributes, their order, and a strict loader.

The data set is bundled in the package (``shopdata/carprice/data/car.data``, CC BY 4.0, see
``SOURCE.md`` next to it) so training never downloads anything. Every attribute is an *ordered*
category; the orders below are the single source of truth for encoders, the CLI choices and the
reports, always listed from the lowest to the highest level.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas costs 0.3 s to import; `predict` answers without it
    import pandas as pd

TARGET = "buying"
"""The attribute the model predicts."""

LEVELS: dict[str, tuple[str, ...]] = {
    "buying": ("low", "med", "high", "vhigh"),
    "maint": ("low", "med", "high", "vhigh"),
    "doors": ("2", "3", "4", "5more"),
    "persons": ("2", "4", "more"),
    "lug_boot": ("small", "med", "big"),
    "safety": ("low", "med", "high"),
    "class": ("unacc", "acc", "good", "vgood"),
}
"""Each attribute's levels in increasing order (price: cheapest first; class: worst first)."""

COLUMNS: tuple[str, ...] = ("buying", "maint", "doors", "persons", "lug_boot", "safety", "class")
"""Column order of ``car.data`` (the file has no header)."""

FEATURES: tuple[str, ...] = tuple(c for c in COLUMNS if c != TARGET)
"""The attributes the model predicts from, in file order."""

CLASSES: tuple[str, ...] = LEVELS[TARGET]
"""The price levels, in the order the models' probability columns use."""


class CarDataError(ValueError):
    """A malformed ``car.data`` file; the message names the line and the problem."""


Row = tuple[str, ...]
"""One row of the table, values in :data:`COLUMNS` order."""


@dataclass(frozen=True)
class CarData:
    """The loaded table plus where it came from, so metrics can record its checksum."""

    rows: tuple[Row, ...]
    source: str
    sha256: str

    @cached_property
    def frame(self) -> pd.DataFrame:
        """The rows as a frame of ordered categoricals (imports pandas)."""
        return rows_frame(self.rows)


def bundled_path() -> Path:
    """Path of the bundled ``car.data`` inside the installed package."""
    return Path(str(resources.files("shopdata.carprice") / "data" / "car.data"))


def parse_car_data(text: str) -> pd.DataFrame:
    """Parse the text of ``car.data`` into a frame of ordered categoricals (see parse_rows)."""
    return rows_frame(parse_rows(text))


def rows_frame(rows: tuple[Row, ...] | list[Row]) -> pd.DataFrame:
    """A frame of ordered categoricals, one column per attribute, from parsed rows."""
    import pandas as pd

    frame = pd.DataFrame(list(rows), columns=list(COLUMNS))
    for column in COLUMNS:
        frame[column] = pd.Categorical(frame[column], categories=LEVELS[column], ordered=True)
    return frame


def parse_rows(text: str) -> tuple[Row, ...]:
    """Parse the text of ``car.data`` into rows of strings, checked value by value.

    Rejects, with the 1-based line number, a wrong number of fields, a value outside an
    attribute's levels and a repeated row: a silently mangled row would bias the ceiling
    computation, which relies on every combination occurring once.
    """
    rows: list[Row] = []
    seen: dict[Row, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != len(COLUMNS):
            raise CarDataError(
                f"line {number}: expected {len(COLUMNS)} comma-separated values "
                f"({', '.join(COLUMNS)}), got {len(fields)}"
            )
        for column, value in zip(COLUMNS, fields, strict=True):
            if value not in LEVELS[column]:
                valid = ", ".join(LEVELS[column])
                raise CarDataError(
                    f"line {number}: {column} is {value!r}, expected one of: {valid}"
                )
        key = tuple(fields)
        if key in seen:
            raise CarDataError(f"line {number}: repeats line {seen[key]} ({line})")
        seen[key] = number
        rows.append(key)
    if not rows:
        raise CarDataError("no rows")
    return tuple(rows)


def load_car_data(path: Path | None = None) -> CarData:
    """Load ``path`` (default: the bundled file) and record its SHA-256."""
    source = path if path is not None else bundled_path()
    try:
        payload = source.read_bytes()
    except FileNotFoundError:
        raise CarDataError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise CarDataError(f"{source}: is a directory, expected the car.data file") from None
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CarDataError(f"{source}: not UTF-8 text ({error.reason})") from None
    try:
        rows = parse_rows(text)
    except CarDataError as error:
        raise CarDataError(f"{source}: {error}") from None
    label = "shopdata/carprice/data/car.data (bundled)" if path is None else str(source)
    return CarData(rows=rows, source=label, sha256=hashlib.sha256(payload).hexdigest())
