"""Shared helpers to run the dashboard as a real server and drive it with headless Chromium.

Used by ``tools/screenshots.py`` (``make docs``), the browser test and the benchmark, so all
three exercise the same start-up path a user gets (``python -m shopdata.cli covid dashboard``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
)
GRAPH_SELECTOR = "#cases-graph .js-plotly-plot"

# Bars drawn in the SVG (one <g class="point"> per bar) and the 7-day-average points.
COUNT_BARS_JS = "() => document.querySelectorAll('#cases-graph g.trace.bars g.point').length"
CHART_STATE_JS = """() => {
  const gd = document.querySelector('#cases-graph .js-plotly-plot');
  if (!gd || !gd.data || !gd._fullLayout) return null;
  return {
    bars: document.querySelectorAll('#cases-graph g.trace.bars g.point').length,
    traces: gd.data.map(t => [t.name, t.x.length]),
    title: document.querySelector('#chart-title').textContent,
    yType: gd._fullLayout.yaxis.type,
  };
}"""


# Every text the chart draws, with its box in page pixels: legend entries, axis titles, tick
# labels and (visible) pause labels. Used to assert that no two overlap at any screen size.
TEXT_BOXES_JS = """() => {
  const root = document.querySelector('#cases-graph .js-plotly-plot');
  const groups = {
    legend: '.legend .legendtext', xtitle: '.g-xtitle text', ytitle: '.g-ytitle text',
    y2title: '.g-y2title text', xtick: '.xtick text', ytick: '.ytick text',
    y2tick: '.y2tick text', note: '.annotation-text-g text',
  };
  const out = [];
  for (const [group, selector] of Object.entries(groups)) {
    root.querySelectorAll(selector).forEach(node => {
      const box = node.getBoundingClientRect();
      const hidden = node.closest('[visibility="hidden"], [style*="display: none"]');
      if (box.width > 0 && box.height > 0 && !hidden && node.textContent.trim()) {
        out.push({group, text: node.textContent,
                  x: box.left, y: box.top, w: box.width, h: box.height});
      }
    });
  }
  return out;
}"""
PLOT_GEOMETRY_JS = """() => {
  const gd = document.querySelector('#cases-graph .js-plotly-plot');
  const size = gd._fullLayout._size;
  return {chart: gd._fullLayout.width, plot: size.w, left: size.l, right: size.r,
          page: document.documentElement.scrollWidth};
}"""


def overlapping(boxes: Sequence[Mapping[str, Any]], slack: float = 0.5) -> list[tuple[str, str]]:
    """Pairs of texts (``"group:text"``) whose boxes intersect by more than ``slack`` px."""
    pairs: list[tuple[str, str]] = []
    for index, a in enumerate(boxes):
        for b in boxes[index + 1 :]:
            dx = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
            dy = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
            if dx > slack and dy > slack:
                pairs.append((f"{a['group']}:{a['text']}", f"{b['group']}:{b['text']}"))
    return pairs


def chromium_executable() -> str | None:
    """The system Chromium, or ``None`` when it is not installed."""
    if os.path.exists(CHROMIUM_PATH):
        return CHROMIUM_PATH
    return shutil.which("chromium") or shutil.which("chromium-browser")


def launch_chromium(playwright: Playwright) -> Browser:
    """Headless system Chromium (Playwright cannot download its own here)."""
    executable = chromium_executable()
    if executable is None:
        raise RuntimeError(f"Chromium not found at {CHROMIUM_PATH}; run `make system-deps`")
    return playwright.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_http(url: str, timeout_s: float, process: subprocess.Popen[Any] | None = None) -> None:
    """Poll ``url`` until it answers 200; fail early if ``process`` exits."""
    deadline = time.monotonic() + timeout_s
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"dashboard exited with code {process.returncode} before serving")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout_s:g} s")
        time.sleep(0.02)


@contextmanager
def running_dashboard(
    port: int,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout_s: float = 30.0,
) -> Iterator[str]:
    """Start ``shopdata covid dashboard`` on 127.0.0.1:``port``; yield its URL; stop it."""
    command = [
        sys.executable,
        "-m",
        "shopdata.cli",
        "covid",
        "dashboard",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *extra_args,
    ]
    process = subprocess.Popen(
        command,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        try:
            wait_for_http(url + "_dash-layout", timeout_s, process)
        except RuntimeError:
            _, stderr = process.communicate(timeout=5)
            raise RuntimeError(f"dashboard failed to start: {stderr.strip()}") from None
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            process.kill()
            process.wait()


def wait_for_bars(
    page: Page, expected: int, timeout_ms: float = 30_000, polling: float | Literal["raf"] = "raf"
) -> None:
    """Wait until the chart has drawn exactly ``expected`` bars.

    ``polling`` is Playwright's: every animation frame, or every N ms (cheaper; the benchmark
    uses it so that the measuring does not compete with the page for the CPU).
    """
    page.wait_for_function(
        f"n => ({COUNT_BARS_JS})() === n", arg=expected, timeout=timeout_ms, polling=polling
    )


def chart_state(page: Page) -> dict[str, Any]:
    """Bars drawn, points per trace, title and y-axis type of the chart."""
    state: dict[str, Any] | None = page.evaluate(CHART_STATE_JS)
    if state is None:
        raise RuntimeError("the chart is not on the page")
    return state
