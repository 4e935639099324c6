"""What `shopdata carprice predict` loads at start-up, and that the shortcut loses no setting.

With no ``SHOPDATA_*`` variable and no ``.env`` file the settings hold only defaults, so
``predict`` builds its section without pydantic-settings, and the root command imports only the
component it runs. A ``.env`` file or a variable in any spelling must still be honoured.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys
from shopdata.cli import app
try:
    app(['carprice', 'predict', '--class', 'vgood', '--json', '--model-dir', sys.argv[1]])
except SystemExit as stop:
    assert stop.code in (0, None), stop.code
watched = {'pydantic_settings', 'shopdata.config', 'shopdata.members.cli',
           'shopdata.salesdb.cli', 'shopdata.covid.cli'}
print(sorted(watched & set(sys.modules)))
"""


def _predict(trained_dir: Path, cwd: Path, extra: dict[str, str]) -> tuple[dict[str, object], str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.upper().startswith("SHOPDATA_")
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(trained_dir)],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={**env, **extra},
    )
    assert done.returncode == 0, done.stderr
    answer, _, loaded = done.stdout.rpartition("\n[")
    return json.loads(answer), "[" + loaded.strip()


def test_a_silent_environment_loads_neither_pydantic_settings_nor_other_components(
    trained_dir: Path, tmp_path: Path
) -> None:
    answer, loaded = _predict(trained_dir, tmp_path, {})
    assert loaded == "[]"
    assert answer["margin"] == 0.05
    assert answer["answer"] == "low"


def test_a_dotenv_file_still_sets_the_margin(trained_dir: Path, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SHOPDATA_CARPRICE__TIE_MARGIN=0.5\n")
    answer, loaded = _predict(trained_dir, tmp_path, {})
    assert answer["margin"] == 0.5
    assert answer["answer"] is None  # 0.629 vs 0.333 is closer than 0.5
    assert loaded == "['pydantic_settings', 'shopdata.config']"


def test_a_lower_case_variable_still_sets_the_margin(trained_dir: Path, tmp_path: Path) -> None:
    # pydantic-settings reads variable names case-insensitively; so must the shortcut's check
    answer, _ = _predict(trained_dir, tmp_path, {"shopdata_carprice__tie_margin": "0.5"})
    assert answer["margin"] == 0.5
    assert answer["answer"] is None
