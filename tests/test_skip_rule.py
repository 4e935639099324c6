"""The suite's one skip rule (tests/conftest.py): with ``CI`` set to any value, nothing skips.

Each case runs a real pytest subprocess on a throw-away test folder whose conftest is the
project's own ``tests/conftest.py``, and reads its exit code and summary line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CONFTEST = Path(__file__).resolve().parent / "conftest.py"
#: The plugin module the conftest registers (pytest_plugins) travels with it.
PLUGIN = Path(__file__).resolve().parent / "plugin_helpers.py"

SKIPPING = """
import pytest

def test_needs_a_missing_tool():
    pytest.skip("frobnicator not installed")

@pytest.mark.xfail(reason="known bug", strict=True)
def test_known_bug():
    assert False

def test_passes():
    assert True
"""

MODULE_SKIP = """
import pytest

pytest.importorskip("a_module_that_does_not_exist_anywhere")

def test_never_collected():
    assert True
"""


def run_pytest(tmp_path: Path, source: str, ci: str | None) -> subprocess.CompletedProcess[str]:
    shutil.copy(CONFTEST, tmp_path / "conftest.py")
    shutil.copy(PLUGIN, tmp_path / PLUGIN.name)
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "test_sample.py").write_text(source, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:warnings",
            "-rfs",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )


def summary(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout.strip().splitlines()[-1].split(" in ")[0]


def test_outside_ci_a_missing_tool_skips(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, SKIPPING, ci=None)
    assert (result.returncode, summary(result)) == (0, "1 passed, 1 skipped, 1 xfailed"), (
        result.stdout
    )


@pytest.mark.parametrize("value", ["true", "1", "yes", "false", ""])
def test_any_ci_value_turns_a_skip_into_a_failure(tmp_path: Path, value: str) -> None:
    result = run_pytest(tmp_path, SKIPPING, ci=value)
    assert (result.returncode, summary(result)) == (1, "1 failed, 1 passed, 1 xfailed"), (
        result.stdout
    )
    assert (
        f"CI is set (CI={value!r}): nothing may be skipped in CI, but "
        "test_sample.py::test_needs_a_missing_tool was: frobnicator not installed"
    ) in result.stdout


def test_in_ci_a_module_skipped_at_collection_fails(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, MODULE_SKIP, ci="1")
    assert result.returncode == 2, result.stdout
    assert summary(result) == "1 error"
    assert "nothing may be skipped in CI, but test_sample.py was: could not import" in (
        result.stdout
    )


def test_outside_ci_a_module_skipped_at_collection_skips(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, MODULE_SKIP, ci=None)
    assert (result.returncode, summary(result)) == (5, "1 skipped"), result.stdout
