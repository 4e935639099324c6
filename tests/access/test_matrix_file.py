"""The matrix file: docs rendered from it are up to date, and a malformed one is refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
from access_docs import (
    GENERATED_BEGIN,
    GENERATED_END,
    main,
    render_markdown,
    render_png,
    splice_markdown,
)

from shopdata.access.matrix import MATRIX_PATH, MatrixError, load_matrix

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_committed_docs_match_the_matrix() -> None:
    """docs/access.md holds exactly what the matrix renders to (regenerate with
    ``python tools/access_docs.py docs``)."""
    document = (DOCS / "access.md").read_text(encoding="utf-8")
    start = document.index(GENERATED_BEGIN)
    end = document.index(GENERATED_END) + len(GENERATED_END)
    assert document[start:end] == render_markdown(load_matrix())


def test_committed_picture_has_the_matrix_shape(tmp_path: Path) -> None:
    """The PNG is regenerated from the same matrix (pixels may differ across matplotlib
    versions; its size follows the number of rows, so a stale picture shows)."""
    import matplotlib.image

    fresh = tmp_path / "access-matrix.png"
    render_png(load_matrix(), fresh)
    committed = matplotlib.image.imread(DOCS / "access-matrix.png")
    assert committed.shape == matplotlib.image.imread(fresh).shape


def test_splice_replaces_only_the_generated_block() -> None:
    doc = f"intro\n{GENERATED_BEGIN}\nold\n{GENERATED_END}\noutro\n"
    assert splice_markdown(doc, "NEW") == "intro\nNEW\noutro\n"
    with pytest.raises(MatrixError) as raised:
        splice_markdown("no markers", "NEW")
    assert str(raised.value) == "docs/access.md: generated-block markers not found"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "matrix.yaml"
    path.write_text(text, encoding="utf-8")
    return path


BASE = """\
teams:
  ops: {description: runs things}
schemas:
  sales: {usage: [ops], why: w}
relations:
  sales.things:
    kind: table
    columns: [id, name]
    why: w
"""


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param(
            "    grants:\n      nobody: {select: true}\n",
            "relation sales.things: unknown team 'nobody'",
            id="unknown team",
        ),
        pytest.param(
            "    grants:\n      ops: {update: [id, colour]}\n",
            "relations.sales.things: ops.update names unknown column(s) colour",
            id="unknown column",
        ),
        pytest.param(
            "    grants:\n      ops: {select: true, drop: true}\n",
            "relations.sales.things.grants.ops.drop: Extra inputs are not permitted",
            id="unknown operation",
        ),
        pytest.param(
            "    grants:\n      ops: {delete: [id]}\n",
            "relations.sales.things.grants.ops.delete: Input should be a valid boolean",
            id="column list for delete",
        ),
    ],
)
def test_malformed_matrix_is_refused(tmp_path: Path, extra: str, message: str) -> None:
    path = _write(tmp_path, BASE + extra)
    with pytest.raises(MatrixError) as raised:
        load_matrix(path)
    assert str(raised.value) == f"{path}: {message}"


def test_views_are_read_only(tmp_path: Path) -> None:
    text = BASE.replace("kind: table", "kind: view") + "    grants:\n      ops: {insert: true}\n"
    path = _write(tmp_path, text)
    with pytest.raises(MatrixError) as raised:
        load_matrix(path)
    assert str(raised.value) == (
        f"{path}: relations.sales.things: ops: views are read-only in this policy"
    )


def test_unqualified_relation_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE.replace("sales.things:", "things:"))
    with pytest.raises(MatrixError) as raised:
        load_matrix(path)
    assert str(raised.value) == (
        f"{path}: relation 'things' must be schema-qualified with a listed schema"
    )


def test_missing_and_unparsable_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(MatrixError) as raised:
        load_matrix(missing)
    assert str(raised.value) == f"{missing}: file not found"
    broken = _write(tmp_path, "teams: [unclosed\n")
    with pytest.raises(MatrixError) as raised:
        load_matrix(broken)
    assert str(raised.value) == f"{broken}: not valid YAML (ParserError)"


def test_docs_command_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert capsys.readouterr().err == "usage: python tools/access_docs.py DOCS_DIR\n"


def test_docs_command_regenerates_into_a_folder(tmp_path: Path) -> None:
    (tmp_path / "access.md").write_text(
        f"# x\n{GENERATED_BEGIN}\n{GENERATED_END}\n", encoding="utf-8"
    )
    assert main([str(tmp_path)]) == 0
    text = (tmp_path / "access.md").read_text(encoding="utf-8")
    assert text == "# x\n" + render_markdown(load_matrix()) + "\n"
    assert (tmp_path / "access-matrix.png").stat().st_size > 10_000


def test_the_real_matrix_loads() -> None:
    matrix = load_matrix(MATRIX_PATH)
    assert list(matrix.teams) == ["logistics", "analytics", "sales"]
