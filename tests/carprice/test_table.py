"""The probability table `train` writes and `predict` answers from, without scikit-learn."""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from shopdata.carprice.cli import app
from shopdata.carprice.data import FEATURES, LEVELS
from shopdata.carprice.persist import ModelError, load_model, read_manifest
from shopdata.carprice.table import TABLE_FILE, combinations, load_table, position
from shopdata.carprice.train import fit_family

runner = CliRunner()


def test_combinations_cover_the_input_space_once() -> None:
    every = combinations()
    assert len(every) == 4 * 4 * 3 * 3 * 3 * 4 == 1728
    assert len({tuple(c.items()) for c in every}) == 1728
    assert every[0] == {name: LEVELS[name][0] for name in FEATURES}
    assert every[-1] == {name: LEVELS[name][-1] for name in FEATURES}
    assert [position(c) for c in every] == list(range(1728))


def test_table_equals_the_saved_models_predict_proba(trained_dir: Path) -> None:
    table, manifest = load_table(trained_dir)
    model, _ = load_model(trained_dir)
    frame = pd.DataFrame(combinations())
    expected = model.predict_proba(frame)
    np.testing.assert_array_equal(np.array(table.families[manifest.model]), expected)
    # and row by row, as a single query would ask (same values, up to the last bit or two)
    for index in range(0, 1728, 97):
        one = model.predict_proba(frame.iloc[[index]])
        np.testing.assert_allclose(table.families[manifest.model][index], one[0], rtol=1e-12)


def test_table_holds_every_family_but_the_prior(trained_dir: Path, cars: pd.DataFrame) -> None:
    table, manifest = load_table(trained_dir)
    assert table.chosen == manifest.model == "gradient_boosting"
    assert list(table.families) == ["naive_bayes", "logistic", "decision_tree", "gradient_boosting"]
    frame = pd.DataFrame(combinations())
    for name in ("naive_bayes", "decision_tree"):
        refit = fit_family(cars, name, manifest.seed).predict_proba(frame)
        np.testing.assert_array_equal(np.array(table.families[name]), refit)


def test_table_and_manifest_record_each_others_hashes(trained_dir: Path) -> None:
    manifest = read_manifest(trained_dir)
    payload = (trained_dir / TABLE_FILE).read_bytes()
    assert manifest.table_sha256 == hashlib.sha256(payload).hexdigest()
    raw = json.loads(payload)
    assert raw["model_sha256"] == manifest.sha256
    assert raw["chosen"] == "gradient_boosting"
    assert raw["features"] == list(FEATURES)
    assert raw["classes"] == ["low", "med", "high", "vhigh"]


def _copy(trained_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "model"
    shutil.copytree(trained_dir, copy)
    return copy


def test_a_changed_table_is_refused(trained_dir: Path, tmp_path: Path) -> None:
    copy = _copy(trained_dir, tmp_path)
    path = copy / TABLE_FILE
    text = path.read_text()
    changed = text.replace("0.", "0.1", 1)
    path.write_text(changed)
    digest = hashlib.sha256(changed.encode()).hexdigest()
    with pytest.raises(ModelError) as caught:
        load_table(copy)
    assert str(caught.value) == (
        f"refusing to use {path}: its SHA-256 is {digest}, but model.json records "
        f"{read_manifest(copy).table_sha256}, so it changed after training; "
        "run `shopdata carprice train` again"
    )
    result = runner.invoke(app, ["predict", "--model-dir", str(copy)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: {caught.value}\n"


def test_a_missing_table_says_to_train_again(trained_dir: Path, tmp_path: Path) -> None:
    copy = _copy(trained_dir, tmp_path)
    (copy / TABLE_FILE).unlink()
    result = runner.invoke(app, ["predict", "--class", "good", "--model-dir", str(copy)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: no probability table {copy / TABLE_FILE} for this model (older `train`); "
        "run `shopdata carprice train` again\n"
    )


def test_a_model_from_before_the_table_says_to_train_again(
    trained_dir: Path, tmp_path: Path
) -> None:
    copy = _copy(trained_dir, tmp_path)
    manifest = json.loads((copy / "model.json").read_text())
    del manifest["table_sha256"]
    (copy / "model.json").write_text(json.dumps(manifest))
    result = runner.invoke(app, ["predict", "--model-dir", str(copy)])
    assert result.exit_code == 1
    assert "no probability table" in result.stderr


def test_a_table_for_another_model_is_refused(trained_dir: Path, tmp_path: Path) -> None:
    copy = _copy(trained_dir, tmp_path)
    path = copy / TABLE_FILE
    raw = json.loads(path.read_text())
    raw["model_sha256"] = "0" * 64
    payload = json.dumps(raw).encode()
    path.write_bytes(payload)
    manifest = json.loads((copy / "model.json").read_text())
    manifest["table_sha256"] = hashlib.sha256(payload).hexdigest()
    (copy / "model.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError) as caught:
        load_table(copy)
    assert str(caught.value) == (
        f"refusing to use {path}: it was written for another model than model.json describes; "
        "run `shopdata carprice train` again"
    )


def test_a_truncated_table_is_refused(trained_dir: Path, tmp_path: Path) -> None:
    copy = _copy(trained_dir, tmp_path)
    path = copy / TABLE_FILE
    raw = json.loads(path.read_text())
    raw["families"]["logistic"] = raw["families"]["logistic"][:-1]
    payload = json.dumps(raw).encode()
    path.write_bytes(payload)
    manifest = json.loads((copy / "model.json").read_text())
    manifest["table_sha256"] = hashlib.sha256(payload).hexdigest()
    (copy / "model.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError) as caught:
        load_table(copy)
    assert str(caught.value) == (
        f"refusing to use {path}: family logistic does not hold 1728 rows of 4; "
        "run `shopdata carprice train` again"
    )


def test_predict_imports_no_model_library(trained_dir: Path) -> None:
    # the point of the table: `predict` needs neither scikit-learn nor skops, nor numpy/pandas
    script = (
        "import sys\n"
        "from shopdata.cli import app\n"
        "try:\n"
        "    app(['carprice', 'predict', '--class', 'good', '--model-dir', sys.argv[1]])\n"
        "except SystemExit as stop:\n"
        "    assert stop.code in (0, None), stop.code\n"
        "heavy = {'sklearn', 'skops', 'numpy', 'pandas', 'scipy', 'joblib'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(trained_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "query: class=good"
    assert done.stdout.splitlines()[-1] == "[]"


def test_marginals_from_the_table_equal_the_models(trained_dir: Path, cars: pd.DataFrame) -> None:
    from shopdata.carprice.predict import model_scorer, predict

    table, manifest = load_table(trained_dir)
    model, _ = load_model(trained_dir)
    rows = tuple(tuple(str(v) for v in row) for row in cars.itertuples(index=False))
    for names in itertools.combinations(FEATURES, 2):
        query = {name: LEVELS[name][-1] for name in names}
        fast = predict(table.scorer(manifest.model), rows, query)
        slow = predict(model_scorer(model), rows, query)
        assert fast.probabilities == pytest.approx(slow.probabilities, abs=1e-12)
        assert fast.weighting == slow.weighting
