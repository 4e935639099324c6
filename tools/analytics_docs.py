"""Regenerate dbt's documentation site of the analytics layer and its lineage screenshot.

    .venv/bin/python tools/analytics_docs.py [DOCS_DIR]    # `make analytics-docs` (docs/)

Starts a throw-away embedded PostgreSQL 18 (var/analytics-docs-pg), builds a database from the
init files, runs ``dbt build`` and ``dbt docs generate`` there (the site lands in
var/dbt/docs/target: index.html, manifest.json, catalog.json; ``dbt docs serve`` serves it), then
serves it on 127.0.0.1 and photographs the full lineage graph with headless Chromium into
docs/analytics-lineage.png. Everything but the picture is removed afterwards.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import sys
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

from shopdata.analytics.dbt import WORK_DIR, run_dbt
from shopdata.covid.browser import free_port, launch_chromium
from shopdata.salesdb import server as pg

REPO = Path(__file__).resolve().parents[1]
PICTURE = REPO / "docs" / "analytics-lineage.png"


def build_site(work_dir: Path) -> Path:
    """dbt build + docs generate against a fresh database; returns the site's folder."""
    data_dir = REPO / "var" / "analytics-docs-pg"
    embedded = pg.EmbeddedServer(data_dir, port=free_port())
    embedded.stop()
    shutil.rmtree(data_dir, ignore_errors=True)
    embedded.start()
    try:
        url = pg.create_database_from_init(embedded.url(), "analytics_docs")
        run_dbt(url, ["build"], work_dir=work_dir)
        run_dbt(url, ["docs", "generate"], work_dir=work_dir)
    finally:
        embedded.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    return work_dir / "target"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No access log on stderr."""


def screenshot(site: Path, picture: Path) -> None:
    """Serve ``site`` on 127.0.0.1 and save the full lineage graph as ``picture``."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1800, "height": 900})
            page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/index.html#!/overview?g_v=1")
            page.wait_for_selector("canvas", timeout=60_000)
            page.wait_for_timeout(3_000)  # the graph's layout animation
            picture.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(picture))
            browser.close()
    finally:
        httpd.shutdown()


def main(argv: list[str]) -> int:
    picture = (Path(argv[0]) if argv else REPO / "docs") / PICTURE.name
    site = build_site(WORK_DIR / "docs")
    screenshot(site, picture)
    print(f"dbt docs site: {site}/index.html; lineage: {picture}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
