"""One shared world for the orchestration tests: folders, a database, a COVID API, settings.

``world`` (module scope) lays out a landing folder with both bundled samples plus one malformed
file, a fresh copy of the sales database (the suite's PostgreSQL), a real HTTP server on
127.0.0.1 playing the COVID API with the bundled API-shaped series, and the settings pointing at
all of them (environment variables, as an operator would set them), with a DAGSTER_HOME of its
own so that runs are kept and can be shown by the real UI.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from shopdata.config import get_settings
from shopdata.covid.snapshot import API_SHAPED_FILE, read_text

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "data" / "applications"
COVID_ROUTE = "/dayone/country/singapore/status/confirmed"
#: Not a membership CSV: its header lacks the required columns, so the run quarantines it.
MALFORMED_NAME = "zz_broken.csv"
MALFORMED = "customer,amount\nAlice,12\n"


@dataclass
class World:
    root: Path
    landing: Path
    output: Path
    database_url: str
    covid_url: str
    dagster_home: Path
    env: dict[str, str]


def settled(path: Path) -> None:
    """Date a landed file back past the settle window."""
    past = time.time() - 120
    os.utime(path, (past, past))


def land_samples(landing: Path, *, malformed: bool = True) -> None:
    landing.mkdir(parents=True, exist_ok=True)
    for sample in sorted(SAMPLES.glob("*.csv")):
        settled(Path(shutil.copy(sample, landing / sample.name)))
    if malformed:
        path = landing / MALFORMED_NAME
        path.write_text(MALFORMED, encoding="utf-8")
        settled(path)


@pytest.fixture(scope="module")
def covid_api() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 answering the dayone route with the bundled series."""
    body = read_text(API_SHAPED_FILE).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            ok = self.path == COVID_ROUTE
            payload = body if ok else b'{"message":"Not Found"}'
            self.send_response(200 if ok else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def settings_env(root: Path, database_url: str, covid_url: str) -> dict[str, str]:
    """The settings of a world under ``root``, as environment variables."""
    return {
        "DATABASE_URL": database_url,
        "SHOPDATA_MEMBERS__LANDING_DIR": str(root / "landing"),
        "SHOPDATA_MEMBERS__OUTPUT_DIR": str(root / "members"),
        "SHOPDATA_MEMBERS__SETTLE_SECONDS": "5",
        "SHOPDATA_COVID__API_BASE_URL": covid_url,
        "SHOPDATA_COVID__CACHE_DIR": str(root / "covid"),
        "SHOPDATA_COVID__BACKOFF_S": "0.01",
        "SHOPDATA_CARPRICE__MODEL_DIR": str(root / "carprice"),
        "SHOPDATA_CARPRICE__FOLDS": "2",
        "SHOPDATA_CARPRICE__REPEATS": "1",
        "SHOPDATA_CARPRICE__JOBS": "1",
        "SHOPDATA_ORCHESTRATION__CARPRICE_MODELS": '["naive_bayes", "decision_tree"]',
        "SHOPDATA_ORCHESTRATION__DAGSTER_HOME": str(root / "dagster"),
        "SHOPDATA_DB__DBT_DIR": str(root / "dbt"),
        "DAGSTER_HOME": str(root / "dagster"),
    }


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, pg_server: Any, sales_template: str, covid_api: str
) -> Iterator[World]:
    root = tmp_path_factory.mktemp("orchestration")
    name = pg_server.unique_name("orchestration")
    url = pg_server.create_database(name, template=sales_template)
    (root / "dagster").mkdir()
    (root / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = settings_env(root, url, covid_api)
    land_samples(root / "landing")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        get_settings.cache_clear()
        try:
            yield World(
                root, root / "landing", root / "members", url, covid_api, root / "dagster", env
            )
        finally:
            get_settings.cache_clear()
            pg_server.drop_database(name)
