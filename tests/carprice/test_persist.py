"""The model file: round trip, and refusal of changed files, other versions, untrusted types."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from shopdata.carprice.evaluate import encode
from shopdata.carprice.persist import ModelError, load_model, read_manifest, save_model
from shopdata.carprice.train import fit_family

FIELDS = {
    "model": "logistic",
    "data_source": "x",
    "data_sha256": "y",
    "seed": 42,
    "checked_max_probability": 0.5,
}


@pytest.fixture(scope="module")
def logistic(cars: pd.DataFrame) -> Any:
    return fit_family(cars, "logistic", 42)


def test_round_trip_gives_identical_probabilities(
    logistic: Any, cars: pd.DataFrame, tmp_path: Path
) -> None:
    manifest = save_model(logistic, tmp_path, FIELDS)
    loaded, read = load_model(tmp_path)
    assert read == manifest
    assert read.sklearn_version == sklearn.__version__
    x, _ = encode(cars)
    np.testing.assert_array_equal(loaded.predict_proba(x), logistic.predict_proba(x))


def test_changed_file_is_refused(logistic: Any, tmp_path: Path) -> None:
    manifest = save_model(logistic, tmp_path, FIELDS)
    path = tmp_path / "model.skops"
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ModelError) as caught:
        load_model(tmp_path)
    import hashlib

    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    assert str(caught.value) == (
        f"refusing to load {path}: its SHA-256 is {actual}, but model.json records "
        f"{manifest.sha256}; the file changed after training, run `shopdata carprice train` again"
    )


def test_other_sklearn_version_is_refused(logistic: Any, tmp_path: Path) -> None:
    save_model(logistic, tmp_path, FIELDS)
    manifest_path = tmp_path / "model.json"
    raw = json.loads(manifest_path.read_text())
    raw["sklearn_version"] = "1.5.0"
    manifest_path.write_text(json.dumps(raw))
    with pytest.raises(ModelError) as caught:
        load_model(tmp_path)
    assert str(caught.value) == (
        f"refusing to load {tmp_path / 'model.skops'}: it was written with scikit-learn 1.5.0, "
        f"this is scikit-learn {sklearn.__version__}; run `shopdata carprice train` again"
    )


def test_untrusted_type_is_refused(tmp_path: Path) -> None:
    hostile = Pipeline([("run", FunctionTransformer(func=os.system))])
    save_model(hostile, tmp_path, FIELDS)
    with pytest.raises(ModelError) as caught:
        load_model(tmp_path)
    assert str(caught.value) == (
        f"refusing to load {tmp_path / 'model.skops'}: it contains types outside the trusted "
        f"list: {os.system.__module__}.system"
    )


def test_missing_model_says_to_train(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as caught:
        read_manifest(tmp_path)
    assert str(caught.value) == (
        f"no trained model in {tmp_path} (expected model.skops and model.json); "
        "run `shopdata carprice train` first"
    )


def test_broken_manifest_is_refused(logistic: Any, tmp_path: Path) -> None:
    save_model(logistic, tmp_path, FIELDS)
    (tmp_path / "model.json").write_text('{"model": "logistic"}')
    with pytest.raises(ModelError) as caught:
        read_manifest(tmp_path)
    assert str(caught.value).startswith(f"{tmp_path / 'model.json'} is not a valid model manifest")
    assert str(caught.value).endswith("run `shopdata carprice train` to rewrite it")


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (
            b'{"model": "\xe9"}',
            "'utf-8' codec can't decode byte 0xe9 in position 11: invalid continuation byte",
        ),
        (b"[1, 2]", "it holds a JSON list, not an object"),
        (b'"model"', "it holds a JSON str, not an object"),
    ],
)
def test_unreadable_manifest_is_refused_in_one_line(
    logistic: Any, tmp_path: Path, payload: bytes, problem: str
) -> None:
    save_model(logistic, tmp_path, FIELDS)
    (tmp_path / "model.json").write_bytes(payload)
    with pytest.raises(ModelError) as caught:
        read_manifest(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'model.json'} is not a valid model manifest ({problem}); "
        "run `shopdata carprice train` to rewrite it"
    )


def test_manifest_that_is_a_folder_is_refused(logistic: Any, tmp_path: Path) -> None:
    save_model(logistic, tmp_path, FIELDS)
    (tmp_path / "model.json").unlink()
    (tmp_path / "model.json").mkdir()
    with pytest.raises(ModelError, match=r"is not a valid model manifest .*Is a directory"):
        read_manifest(tmp_path)


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("checked_max_probability", "abc", "'abc', expected a float or int"),
        ("seed", True, "True, expected a int"),
        ("seed", 4.5, "4.5, expected a int"),
        ("model", None, "None, expected a str"),
        ("sha256", 7, "7, expected a str"),
    ],
)
def test_manifest_fields_of_the_wrong_type_are_refused(
    logistic: Any, tmp_path: Path, field: str, value: object, shown: str
) -> None:
    # predict compared checked_max_probability 'abc' with a float and died with a TypeError
    save_model(logistic, tmp_path, FIELDS)
    path = tmp_path / "model.json"
    raw = json.loads(path.read_text())
    raw[field] = value
    path.write_text(json.dumps(raw))
    with pytest.raises(ModelError) as caught:
        read_manifest(tmp_path)
    assert str(caught.value) == (
        f"{path} is not a valid model manifest ({field} is {shown}); "
        "run `shopdata carprice train` to rewrite it"
    )


def test_recorded_data_overwritten_falls_back_to_the_bundled_copy(
    logistic: Any, tmp_path: Path
) -> None:
    from shopdata.carprice.data import bundled_path, load_car_data
    from shopdata.carprice.persist import training_data

    bundled = load_car_data()
    copy = tmp_path / "cars.data"
    copy.write_bytes(bundled_path().read_bytes())
    fields = {**FIELDS, "data_source": str(copy), "data_sha256": bundled.sha256}
    manifest = save_model(logistic, tmp_path / "m", fields)
    copy.write_text("not,a,car\n")  # the recorded file now fails to load at all
    assert training_data(manifest) == bundled.rows
