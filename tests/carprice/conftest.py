"""Shared fixtures: the bundled table, and one small real training run per test session.

Training runs the real CLI (3-fold, 1 repeat, every family) once into a temporary folder;
the full 10x5 run is for ``shopdata carprice train`` and the model card, not for tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from shopdata.carprice.cli import app
from shopdata.carprice.data import load_car_data
from shopdata.config import get_settings


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Settings read once per test: a test that sets SHOPDATA_* variables (monkeypatch undoes
    them after the test) must not leave its values cached for the next one."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def cars() -> pd.DataFrame:
    """The bundled UCI car table."""
    return load_car_data().frame


@pytest.fixture(scope="session")
def car_rows() -> tuple[tuple[str, ...], ...]:
    """The bundled UCI car table as rows of strings (what `predict` works on)."""
    return load_car_data().rows


@pytest.fixture(scope="session")
def trained_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model folder written by `shopdata carprice train` with a small CV."""
    target = tmp_path_factory.mktemp("carprice")
    result = CliRunner().invoke(
        app,
        ["train", "--model-dir", str(target), "--folds", "3", "--repeats", "1", "--seed", "42"],
    )
    assert result.exit_code == 0, result.output
    return target
