"""Every committed picture is what its generator draws from the code as it is now.

Each picture is regenerated into a temporary folder and compared with the committed one pixel by
pixel: same size, and at most ``MAX_CHANGED`` of the pixels may differ by more than
``PIXEL_TOLERANCE`` in any channel. On the machine the pictures were drawn on, regenerating
gives 0 changed pixels; the tolerance leaves room for anti-aliasing and font hinting of another
build of Graphviz or matplotlib, and is still below the smallest real change (one cell of the
access matrix flipped: 0.07 % of its pixels, tested below). A failure names the command that
regenerates the picture.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
PIXEL_TOLERANCE = 0.10  # of the channel's full range
MAX_CHANGED = 0.0002  # share of pixels: one access-matrix cell is 0.07 %, one ERD column more


def _read(path: Path) -> np.ndarray:
    import matplotlib.image

    image = np.asarray(matplotlib.image.imread(path), dtype=np.float64)
    if image.ndim == 2:
        image = image[:, :, np.newaxis].repeat(3, axis=2)
    return image[:, :, :3]  # compare colour; an alpha channel does not change what one sees


def picture_difference(committed: Path, fresh: Path) -> str | None:
    """None when the two pictures are the same within the tolerance, else what differs."""
    old, new = _read(committed), _read(fresh)
    if old.shape != new.shape:
        return f"size {old.shape[1]}x{old.shape[0]} committed, {new.shape[1]}x{new.shape[0]} now"
    changed = float(np.mean(np.abs(old - new).max(axis=2) > PIXEL_TOLERANCE))
    if changed > MAX_CHANGED:
        return f"{changed:.2%} of the pixels differ (tolerance {MAX_CHANGED:.2%})"
    return None


def assert_same_picture(committed: Path, fresh: Path, regenerate: str) -> None:
    difference = picture_difference(committed, fresh)
    assert difference is None, (
        f"{committed.relative_to(REPO)} is stale ({difference}): run `{regenerate}` and commit it"
    )


def test_erd_picture_matches_the_live_schema(sales_db: str, tmp_path: Path) -> None:
    from shopdata.salesdb import erd

    fresh = tmp_path / "erd.png"
    erd.write_png(erd.render_dot(erd.introspect(sales_db)), fresh)
    assert_same_picture(DOCS / "erd.png", fresh, "make erd")


def test_access_matrix_picture_matches_the_matrix(tmp_path: Path) -> None:
    from access_docs import render_png

    from shopdata.access.matrix import load_matrix

    fresh = tmp_path / "access-matrix.png"
    render_png(load_matrix(), fresh)
    assert_same_picture(DOCS / "access-matrix.png", fresh, "python tools/access_docs.py docs")


@pytest.fixture(scope="module")
def fresh_architecture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("architecture")
    result = subprocess.run(
        [sys.executable, str(REPO / "infra" / "diagrams" / "image_processing.py"), str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.parametrize("name", ["image-processing.png", "image-processing-delivery.png"])
def test_architecture_pictures_match_the_code(fresh_architecture: Path, name: str) -> None:
    assert_same_picture(DOCS / "architecture" / name, fresh_architecture / name, "make diagrams")


# --- the comparison itself ---------------------------------------------------------------------


def _write(path: Path, pixels: np.ndarray) -> Path:
    import matplotlib.image

    matplotlib.image.imsave(path, pixels)
    return path


def test_comparison_tolerates_a_few_edge_pixels_and_catches_a_new_shape(tmp_path: Path) -> None:
    base = np.ones((400, 500, 3))
    base[50:60, 20:480] = 0.0  # a black bar
    committed = _write(tmp_path / "base.png", base)
    assert picture_difference(committed, _write(tmp_path / "same.png", base)) is None

    noisy = base.copy()
    noisy[0, :30] = 0.5  # 30 of 200,000 pixels (0.015 %): an anti-aliasing-sized change
    assert picture_difference(committed, _write(tmp_path / "noisy.png", noisy)) is None

    faint = base.copy()
    faint[100:200, 100:200] = 0.95  # a 5 % shade is below the per-pixel tolerance
    assert picture_difference(committed, _write(tmp_path / "faint.png", faint)) is None

    boxed = base.copy()
    boxed[100:120, 100:140] = 0.0  # a new 20x40 box: 800 pixels (0.40 %)
    assert picture_difference(committed, _write(tmp_path / "boxed.png", boxed)) == (
        "0.40% of the pixels differ (tolerance 0.02%)"
    )
    taller = np.ones((410, 500, 3))
    assert picture_difference(committed, _write(tmp_path / "taller.png", taller)) == (
        "size 500x400 committed, 500x410 now"
    )


def test_one_flipped_access_cell_makes_the_picture_stale(tmp_path: Path) -> None:
    """Logistics losing SELECT on members.mobile_no changes one cell: the comparison sees it."""
    from access_docs import render_png

    from shopdata.access.matrix import MATRIX_PATH, load_matrix

    text = MATRIX_PATH.read_text(encoding="utf-8")
    granted = "        select: [first_name, last_name, mobile_no, member_key]\n"
    assert text.count(granted) == 1
    changed = tmp_path / "matrix.yaml"
    changed.write_text(text.replace(granted, granted.replace(", mobile_no", "")), "utf-8")
    render_png(load_matrix(changed), tmp_path / "access-matrix.png")
    difference = picture_difference(DOCS / "access-matrix.png", tmp_path / "access-matrix.png")
    assert difference is not None
    assert difference.endswith("of the pixels differ (tolerance 0.02%)")
