"""The bundled table and the loader's refusal of malformed files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from shopdata.carprice.data import COLUMNS, CarDataError, load_car_data, parse_car_data

CAR_DATA_SHA256 = "b703a9ac69f11e64ce8c223c0a40de4d2e9d769f7fb20be5f8f2e8a619893d83"


def test_bundled_table_is_the_full_factorial_design(cars: pd.DataFrame) -> None:
    assert len(cars) == 1728
    assert list(cars.columns) == list(COLUMNS)
    assert not cars.duplicated(subset=list(COLUMNS[:-1])).any()
    assert Counter(cars["class"].astype(str)) == {
        "unacc": 1210,
        "acc": 384,
        "good": 69,
        "vgood": 65,
    }
    assert Counter(cars["buying"].astype(str)) == {
        "low": 432,
        "med": 432,
        "high": 432,
        "vhigh": 432,
    }


def test_bundled_table_checksum_and_order() -> None:
    data = load_car_data()
    assert data.sha256 == CAR_DATA_SHA256
    assert data.source == "shopdata/carprice/data/car.data (bundled)"
    assert list(data.frame["buying"].cat.categories) == ["low", "med", "high", "vhigh"]
    assert data.frame["buying"].cat.ordered


def test_bundled_attribution_is_kept() -> None:
    source = Path(__file__).parents[2] / "src/shopdata/carprice/data/SOURCE.md"
    text = source.read_text()
    assert "CC BY 4.0" in text
    assert "https://doi.org/10.24432/C5JP48" in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "vhigh,vhigh,2,2,small,low\n",
            "line 1: expected 7 comma-separated values "
            "(buying, maint, doors, persons, lug_boot, safety, class), got 6",
        ),
        (
            "vhigh,vhigh,2,2,small,low,unacc\nvhigh,cheap,2,2,small,low,unacc\n",
            "line 2: maint is 'cheap', expected one of: low, med, high, vhigh",
        ),
        (
            "vhigh,vhigh,6,2,small,low,unacc\n",
            "line 1: doors is '6', expected one of: 2, 3, 4, 5more",
        ),
        (
            "low,low,2,2,small,low,unacc\n\nlow,low,2,2,small,low,unacc\n",
            "line 3: repeats line 1 (low,low,2,2,small,low,unacc)",
        ),
        ("\n\n", "no rows"),
    ],
)
def test_malformed_text_is_refused_with_line_number(text: str, message: str) -> None:
    with pytest.raises(CarDataError) as caught:
        parse_car_data(text)
    assert str(caught.value) == message


def test_missing_and_binary_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CarDataError) as caught:
        load_car_data(tmp_path / "nope.data")
    assert str(caught.value) == f"{tmp_path / 'nope.data'}: no such file"
    binary = tmp_path / "car.data"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(CarDataError) as caught:
        load_car_data(binary)
    assert str(caught.value) == f"{binary}: not UTF-8 text (invalid start byte)"
