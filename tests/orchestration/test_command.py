"""``shopdata orchestrate``: its options, its DAGSTER_HOME, and a database that is not there."""

import re
import socket
import stat
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopdata.cli import app
from shopdata.config import Settings, get_settings
from shopdata.orchestration.serve import dagster_home, dev_command, environment


def test_help_names_the_settings() -> None:
    result = CliRunner().invoke(app, ["orchestrate", "--help"])
    assert result.exit_code == 0
    assert "Start the Dagster UI and daemon" in result.output
    assert "orchestration.dagster_home" in result.output


def test_a_bad_port_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["orchestrate", "--port", "0"])
    assert result.exit_code == 2
    text = re.sub(r"[│╭╮╰╯─\s]+", " ", result.output)
    assert "Error Invalid value for '--port': Input should be greater than or equal to 1" in text


def test_dagster_home_gets_telemetry_off_and_keeps_an_operators_file(tmp_path: Path) -> None:
    settings = Settings(orchestration={"dagster_home": tmp_path / "dagster"})  # type: ignore[arg-type]
    home = dagster_home(settings)
    assert home == (tmp_path / "dagster").resolve()
    text = (home / "dagster.yaml").read_text()
    assert "telemetry:\n  enabled: false\n" in text
    (home / "dagster.yaml").write_text("storage:\n  postgres: {}\n")
    dagster_home(settings)
    assert (home / "dagster.yaml").read_text() == "storage:\n  postgres: {}\n"
    assert environment(settings)["DAGSTER_HOME"] == str(home)


def test_dagster_home_is_closed_to_other_users(tmp_path: Path) -> None:
    """The run history holds the top members' names and membership IDs: other OS users must not
    read it (the files Dagster writes under it follow the umask, 0644 by default)."""
    settings = Settings(orchestration={"dagster_home": tmp_path / "var" / "dagster"})  # type: ignore[arg-type]
    home = dagster_home(settings)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    home.chmod(0o755)  # left open by an earlier version, or by hand
    dagster_home(settings)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


def test_dev_command_binds_where_asked() -> None:
    assert dev_command("127.0.0.1", 3001, Path("/srv/shopdata")) == [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "-m",
        "shopdata.orchestration.definitions",
        "-d",
        "/srv/shopdata",
        "-h",
        "127.0.0.1",
        "-p",
        "3001",
    ]


def test_an_unreachable_database_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(
        "DATABASE_URL", f"postgresql://nobody@127.0.0.1:{port}/sales?connect_timeout=1"
    )
    monkeypatch.setenv("SHOPDATA_ORCHESTRATION__DAGSTER_HOME", str(tmp_path / "dagster"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["orchestrate"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: the sales database is not available: ")


def test_a_setting_the_definitions_refuse_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the check, dagster dev started and showed the error only in the UI: no sensor and
    no schedule ran, and nothing said so where the operator typed the command."""
    monkeypatch.setenv("SHOPDATA_MEMBERS__SCHEDULE_INTERVAL_MINUTES", "90")
    monkeypatch.setenv("SHOPDATA_ORCHESTRATION__DAGSTER_HOME", str(tmp_path / "dagster"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["orchestrate"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: the Dagster definitions do not load: ValueError: "
        "members.schedule_interval_minutes=90 does not divide an hour or a day into whole slots; "
        "use a divisor of 60 or of 1440 that is a multiple of 60"
    ]
