"""Every generated doc and picture is what its generator makes from the code as it is now.

One test, over the list in tools/make_docs.py: each generator writes into a scratch copy of
``docs/`` (its hand-written Markdown around the generated blocks included), and each file it
writes must equal the committed one. Text must be equal exactly. Pictures are compared pixel by
pixel: same size, and at most ``MAX_CHANGED`` of the pixels may differ by more than
``PIXEL_TOLERANCE`` in any channel. On the machine the pictures were drawn on, regenerating
gives 0 changed pixels; the tolerance leaves room for anti-aliasing and font hinting of another
build of Graphviz, matplotlib or Chromium, and is still below the smallest real change (one cell
of the access matrix flipped: 0.07 % of its pixels, tested below). A failure names ``make docs``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import generated  # tools/generated.py
import numpy as np
import pytest
from make_docs import GENERATORS, Generator  # tools/make_docs.py

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
TOOLS = REPO / "tools"
PIXEL_TOLERANCE = 0.10  # of the channel's full range
MAX_CHANGED = 0.0002  # share of pixels: one access-matrix cell is 0.07 %, one ERD column more
#: And never more pixels than this, whatever the picture's size: a share alone let a large picture
#: hide a real change (two letters taken out of the 7.3-megapixel architecture diagram's labels
#: changed 1,125 pixels, under 0.02 % of it); one letter of a label changes some 300.
MAX_CHANGED_PIXELS = 100
PICTURE = ".png"

OUTPUTS = [
    pytest.param(
        generator,
        output,
        id=output,
        marks=[pytest.mark.browser] if generator.needs == "browser" else [],
    )
    for generator in GENERATORS
    for output in generator.outputs
]


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
    mask = np.abs(old - new).max(axis=2) > PIXEL_TOLERANCE
    changed = float(np.mean(mask))
    if changed > MAX_CHANGED:
        return f"{changed:.2%} of the pixels differ (tolerance {MAX_CHANGED:.2%})"
    if int(mask.sum()) > MAX_CHANGED_PIXELS:
        return f"{int(mask.sum()):,} pixels differ (tolerance {MAX_CHANGED_PIXELS})"
    return None


def text_difference(committed: Path, fresh: Path) -> str | None:
    """None when the two texts are equal, else the first line that differs."""
    old = committed.read_text(encoding="utf-8").splitlines()
    new = fresh.read_text(encoding="utf-8").splitlines()
    for number, (was, now) in enumerate(zip(old, new, strict=False), start=1):
        if was != now:
            return f"line {number} is {was!r} committed, {now!r} now"
    if len(old) != len(new):
        return f"{len(old)} lines committed, {len(new)} now"
    return None


@pytest.fixture(scope="module")
def scratch_docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the committed Markdown (the text around the generated blocks)."""
    out = tmp_path_factory.mktemp("docs")
    for document in DOCS.rglob("*.md"):
        target = out / document.relative_to(DOCS)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(document, target)
    return out


_RUN: set[str] = set()


def _generate(generator: Generator, docs: Path, request: pytest.FixtureRequest) -> None:
    """Run ``generator`` into ``docs`` once per session."""
    if generator.tool in _RUN:
        return
    if generator.needs == "database":
        # tools/erd.py builds a scratch database on the configured server; the tests have theirs.
        import erd  # tools/erd.py

        erd.write(docs, request.getfixturevalue("sales_db"))
    else:
        done = subprocess.run(
            [sys.executable, str(TOOLS / f"{generator.tool}.py"), str(docs)],
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        assert done.returncode == 0, f"tools/{generator.tool}.py failed: {done.stderr}"
    _RUN.add(generator.tool)


@pytest.mark.parametrize(("generator", "output"), OUTPUTS)
def test_generated_file_is_current(
    generator: Generator, output: str, scratch_docs: Path, request: pytest.FixtureRequest
) -> None:
    _generate(generator, scratch_docs, request)
    committed, fresh = DOCS / output, scratch_docs / output
    assert committed.is_file(), f"docs/{output} is missing: run `make docs` and commit it"
    compare = picture_difference if output.endswith(PICTURE) else text_difference
    difference = compare(committed, fresh)
    assert difference is None, (
        f"docs/{output} is stale ({difference}): run `make docs` and commit it"
    )


def test_every_generated_block_and_picture_is_listed() -> None:
    """A generated block or a picture under docs/ that no generator writes would never be checked."""
    listed = {output for generator in GENERATORS for output in generator.outputs}
    tools = {generator.tool for generator in GENERATORS}
    for document in sorted(DOCS.rglob("*.md")):
        relative = str(document.relative_to(DOCS))
        for tool in generated.tools_named(document.read_text(encoding="utf-8")):
            assert tool in tools, f"docs/{relative}: block of tools/{tool}.py, not in make_docs"
            assert relative in listed, f"docs/{relative} holds a block of tools/{tool}.py"
    pictures = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.png")}
    # The car-price model card's plots come from a full training run (`shopdata carprice train
    # --plots-dir docs/carprice`, minutes of CPU): documented in docs/carprice.md, not regenerated.
    # The Dagster screenshots show a live run (its times and run ids change every run): they are
    # taken by tests/orchestration/test_ui.py, which asserts what each one shows, not compared.
    # The dbt lineage picture is written by `make analytics-docs` (a prerequisite of `make docs`,
    # not one of its generators: it needs a throw-away database and dbt docs generate).
    unlisted = sorted(
        p
        for p in pictures - listed
        if not p.startswith(("carprice/", "screenshots/dagster-")) and p != "analytics-lineage.png"
    )
    assert unlisted == []


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
    from access_docs import render_png  # tools/access_docs.py

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


def test_a_label_edited_in_a_large_diagram_makes_the_picture_stale(tmp_path: Path) -> None:
    """The architecture diagram drawn with "read image" shortened to "read imag" and "OpsAlarms"
    to "OpsAlarm": a stale picture the share tolerance alone did not see (1,125 of 7.3 M)."""
    source = (TOOLS / "architecture_diagrams.py").read_text(encoding="utf-8")
    edited = source.replace('label="read image"', 'label="read imag"').replace(
        '"OpsAlarms"', '"OpsAlarm"'
    )
    assert edited.count('read imag"') == 1 and edited.count('"OpsAlarm"') == 1
    tool = tmp_path / "tools" / "architecture_diagrams.py"
    tool.parent.mkdir()
    tool.write_text(edited, encoding="utf-8")
    shutil.copy(TOOLS / "generated.py", tool.parent / "generated.py")
    done = subprocess.run(
        [sys.executable, str(tool), str(tmp_path / "docs")],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    name = "architecture/image-processing.png"
    difference = picture_difference(DOCS / name, tmp_path / "docs" / name)
    assert difference is not None
    assert difference.endswith("pixels differ (tolerance 100)")


def test_text_comparison_names_the_first_changed_line(tmp_path: Path) -> None:
    committed = tmp_path / "committed.md"
    committed.write_text("a\nb\nc\n", encoding="utf-8")
    for name, text, expected in [
        ("same.md", "a\nb\nc\n", None),
        ("edited.md", "a\nB\nc\n", "line 2 is 'b' committed, 'B' now"),
        ("longer.md", "a\nb\nc\nd\n", "3 lines committed, 4 now"),
    ]:
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert text_difference(committed, tmp_path / name) == expected


# --- the marker convention ---------------------------------------------------------------------


def test_splice_replaces_only_the_tools_block() -> None:
    document = f"intro\n{generated.wrap('a', 'old')}\nmiddle\n{generated.wrap('b', 'keep')}\nend\n"
    assert generated.splice(document, "a", "new\n") == (
        "intro\n<!-- generated by tools/a.py: do not edit, run `make docs` -->\nnew\n"
        "<!-- end generated -->\nmiddle\n"
        f"{generated.wrap('b', 'keep')}\nend\n"
    )
    assert generated.tools_named(document) == ["a", "b"]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("no block here\n", "expected one block opened by {begin!r}, found 0"),
        (
            "{begin}\nx\n{end}\n{begin}\ny\n{end}\n",
            "expected one block opened by {begin!r}, found 2",
        ),
        ("{begin}\nnever closed\n", "the block opened by {begin!r} has no {end!r}"),
    ],
)
def test_splice_refuses_a_document_without_exactly_one_closed_block(
    document: str, message: str
) -> None:
    begin, end = generated.begin("a"), generated.END
    with pytest.raises(ValueError) as raised:
        generated.splice(document.format(begin=begin, end=end), "a", "new")
    assert str(raised.value) == message.format(begin=begin, end=end)
