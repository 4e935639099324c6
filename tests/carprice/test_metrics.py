"""metrics.json is one typed model: what train writes reads back into the same bytes, and a file of
another layout is refused with one line naming the first field it lacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopdata.carprice.cli import app
from shopdata.carprice.metrics import Metrics, MetricsError


def test_written_metrics_read_back_into_the_same_bytes(trained_dir: Path) -> None:
    path = trained_dir / "metrics.json"
    metrics = Metrics.read(path)
    assert metrics.to_text() == path.read_text(encoding="utf-8")
    assert metrics.selection.chosen == "gradient_boosting"
    assert list(metrics.scores["grouped"]) == list(metrics.models)
    first = metrics.selection.top_label_reliability[0]
    assert (first.from_, first.to) == (0.0, 0.3)
    assert '"from": 0.0' in path.read_text(encoding="utf-8")  # the alias is what is written


def _broken(trained_dir: Path, tmp_path: Path, change: str) -> Path:
    document = json.loads((trained_dir / "metrics.json").read_text(encoding="utf-8"))
    if change == "family missing":
        del document["scores"]["grouped"]["logistic"]
    elif change == "scheme missing":
        del document["scores"]["stratified"]
    elif change == "chosen unknown":
        document["selection"]["chosen"] = "forest"
    elif change == "wrong type":
        document["cross_validation"]["folds"] = "three"
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "lacks"),
    [
        ("family missing", "scores.grouped.logistic"),
        ("scheme missing", "scores.stratified"),
        ("chosen unknown", "models.forest"),
        ("wrong type", "cross_validation.folds"),
    ],
)
def test_metrics_of_another_layout_are_refused_naming_the_field(
    trained_dir: Path, tmp_path: Path, change: str, lacks: str
) -> None:
    path = _broken(trained_dir, tmp_path, change)
    message = f"{path} lacks {lacks!r} or has another layout; run `shopdata carprice train` again"
    with pytest.raises(MetricsError) as raised:
        Metrics.read(path)
    assert str(raised.value) == message
    result = CliRunner().invoke(app, ["evaluate", "--model-dir", str(tmp_path)])
    assert (result.exit_code, result.stderr, result.stdout) == (1, f"Error: {message}\n", "")
