"""The real Dagster UI (dagster-webserver on 127.0.0.1) in headless Chromium: the asset graph
and a finished run of the membership job, with its failing quarantine check.

Screenshots go to a temporary folder, or to ``$SHOPDATA_SCREENSHOTS_DIR`` when it is set (that
is how docs/screenshots/dagster-*.png are made: see docs/orchestration.md).
"""

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from shopdata.covid.browser import free_port, launch_chromium, wait_for_http
from shopdata.orchestration.assets import ASSETS, membership_runs, sales_members
from shopdata.orchestration.checks import CHECKS
from shopdata.orchestration.serve import CODE_LOCATION, webserver_command

from .conftest import MALFORMED_NAME, World

pytestmark = pytest.mark.browser

GROUPS = ("members", "sales", "analytics", "covid", "carprice")
JOB_NODES = ("membership_runs", "sales_members", "top_members", "top_items")


@pytest.fixture(scope="module")
def finished_run(world: World) -> str:
    with dg.DagsterInstance.get() as instance:
        result = dg.materialize(
            [*ASSETS, *CHECKS],
            selection=dg.AssetSelection.assets(membership_runs, sales_members),
            instance=instance,
            raise_on_error=False,
        )
    assert result.success
    return result.run_id


@pytest.fixture(scope="module")
def ui(world: World, finished_run: str) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        webserver_command("127.0.0.1", port, Path.cwd()),
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/server_info", 180, process)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("SHOPDATA_SCREENSHOTS_DIR")
    return Path(folder) if folder else tmp_path_factory.mktemp("screenshots")


def visible(page: Any, text: str) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_text(text, exact=True).first).to_be_visible(timeout=90_000)


def skip_welcome(page: Any) -> None:
    """The first visit of an instance shows a newsletter dialog: dismiss it when it is there."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=3_000)
    except Exception:
        return
    skip.click()


def test_ui_shows_the_asset_graph_and_a_finished_run(
    ui: str, finished_run: str, shots: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"{ui}/asset-groups")
            for group in GROUPS:  # the global lineage: one box per group, members -> sales
                visible(page, group)
            skip_welcome(page)
            page.screenshot(path=shots / "dagster-lineage.png")

            page.goto(f"{ui}/locations/{CODE_LOCATION}/jobs/membership_job")
            visible(page, "View as Asset Graph")
            page.get_by_text("View as Asset Graph", exact=True).click()  # every step, expanded
            for node in JOB_NODES:
                visible(page, node)
            skip_welcome(page)
            page.screenshot(path=shots / "dagster-membership-job.png")

            page.goto(f"{ui}/runs/{finished_run}")
            visible(page, "Success")
            visible(page, "membership_runs")
            skip_welcome(page)
            page.screenshot(path=shots / "dagster-run.png")

            page.goto(f"{ui}/assets/membership_runs?view=checks")
            visible(page, "no_quarantined_files")
            visible(page, "Failed")  # the WARN check on the malformed file
            expect(
                page.get_by_text(f"1 of 3 files quarantined: {MALFORMED_NAME}").first
            ).to_be_visible()
            visible(page, "successful_share_in_band")
            skip_welcome(page)
            page.screenshot(path=shots / "dagster-checks.png")
        finally:
            browser.close()
    assert sorted(p.name for p in shots.glob("dagster-*.png")) == [
        "dagster-checks.png",
        "dagster-lineage.png",
        "dagster-membership-job.png",
        "dagster-run.png",
    ]
