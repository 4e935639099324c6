"""PNGs of the dashboard for the docs, taken with headless Chromium (part of ``make docs``).

Usage: ``python tools/screenshots.py DOCS_DIR`` writes ``DOCS_DIR/screenshots/``. Starts the real
server on a free port (offline: the bundled snapshot), loads it at 1366x768 (a common laptop
screen) and captures the full period, 2023 with its reporting pauses, and the log scale; then the
full period and 2023 on a phone (390x844, the whole page scrolled into one image).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from shopdata.covid.browser import launch_chromium, running_dashboard, wait_for_bars

VIEWPORT_WIDTH, VIEWPORT_HEIGHT = 1366, 768
PHONE_WIDTH, PHONE_HEIGHT = 390, 844
FULL_BARS = 1142  # 1,143 days; the last day (not reported) has no bar
BARS_2023 = 67  # 2023-01-01..2023-03-09 minus the unreported last day


def take(out_dir: Path, port: int | None = None) -> list[Path]:
    """Write the screenshots into ``out_dir``; return their paths."""
    from playwright.sync_api import sync_playwright

    from shopdata.covid.browser import free_port

    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with (
        tempfile.TemporaryDirectory() as cache_dir,
        running_dashboard(port or free_port(), ["--offline", "--cache-dir", cache_dir]) as url,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        page = browser.new_page(
            viewport={"width": VIEWPORT_WIDTH, "height": VIEWPORT_HEIGHT}, device_scale_factor=1
        )
        page.goto(url)
        wait_for_bars(page, FULL_BARS)
        page.mouse.move(900, 400)
        page.wait_for_timeout(300)
        written.append(out_dir / "covid-dashboard.png")
        page.screenshot(path=str(written[-1]))

        page.mouse.move(5, 5)
        page.click("#preset-2023")
        wait_for_bars(page, BARS_2023)
        page.mouse.move(760, 400)
        page.wait_for_timeout(300)
        written.append(out_dir / "covid-2023-reporting-pauses.png")
        page.screenshot(path=str(written[-1]))

        page.mouse.move(5, 5)
        page.click("#preset-all")
        wait_for_bars(page, FULL_BARS)
        page.click("text=Log")
        page.wait_for_function(
            "() => document.querySelector('#cases-graph .js-plotly-plot')"
            "._fullLayout.yaxis.type === 'log'"
        )
        page.wait_for_timeout(200)
        written.append(out_dir / "covid-log-scale.png")
        page.screenshot(path=str(written[-1]))
        page.close()

        phone = browser.new_page(
            viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT}, device_scale_factor=1
        )
        phone.goto(url)
        wait_for_bars(phone, FULL_BARS)
        phone.wait_for_timeout(300)
        written.append(out_dir / "covid-phone.png")
        phone.screenshot(path=str(written[-1]), full_page=True)
        phone.click("#preset-2023")
        wait_for_bars(phone, BARS_2023)
        phone.wait_for_timeout(300)
        written.append(out_dir / "covid-phone-2023.png")
        phone.screenshot(path=str(written[-1]), full_page=True)
        browser.close()
    return written


def main(argv: list[str]) -> int:
    """Entry point of ``python tools/screenshots.py DOCS_DIR``."""
    if len(argv) != 1:
        print("usage: tools/screenshots.py DOCS_DIR", file=sys.stderr)
        return 2
    for path in take(Path(argv[0]) / "screenshots"):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
