"""The project's own promises: the README's quickstart, CI calling the README's test command, and
the README pointing at the one CLI reference."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_readme_starts_with_the_two_commands() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    first_block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()]
    assert commands == ["make demo", "make test"]


def test_ci_runs_the_readme_test_command() -> None:
    lines = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert lines[-1] == "make test"


def test_readme_links_the_cli_reference() -> None:
    """The reference itself is docs/cli.md (checked by tests/test_generated_docs.py)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert "[docs/cli.md](docs/cli.md)" in text
    assert "### `shopdata" not in text  # no second, hand-kept copy of any command's help
