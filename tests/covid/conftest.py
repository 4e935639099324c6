"""A real HTTP server on 127.0.0.1 that plays a scripted covid19api.com.

Each test queues the responses the route should give, in order; the last one repeats. The
server records every request so tests can assert the exact number of attempts.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from shopdata.covid.snapshot import API_SHAPED_FILE, read_text

ROUTE = "/dayone/country/singapore/status/confirmed"


@dataclass
class Reply:
    """One scripted answer."""

    status: int = 200
    body: bytes = b"[]"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    trickle_bps: int = 0
    """When set, the body is sent at this many bytes a second (headers at once)."""


def json_reply(payload: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(payload).encode())


def api_records(*counts: tuple[str, int]) -> list[dict[str, Any]]:
    """API-shaped records for (ISO date, cumulative) pairs."""
    return [
        {
            "Country": "Singapore",
            "CountryCode": "SG",
            "Province": "",
            "City": "",
            "CityCode": "",
            "Lat": "1.35",
            "Lon": "103.82",
            "Cases": cases,
            "Status": "confirmed",
            "Date": f"{date}T00:00:00Z",
        }
        for date, cases in counts
    ]


class FakeCovidApi:
    """Script and request log of the server."""

    def __init__(self) -> None:
        self.replies: list[Reply] = [Reply(200, read_text(API_SHAPED_FILE).encode())]
        self.requests: list[str] = []
        self.base_url = ""
        self.stopped = threading.Event()
        """Set when the test ends, so that hanging and trickling replies stop."""

    def script(self, *replies: Reply) -> None:
        self.replies = list(replies)

    def next_reply(self, path: str) -> Reply:
        self.requests.append(path)
        if path != ROUTE:
            return Reply(404, b'{"message":"Not Found"}')
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


@pytest.fixture
def fake_api() -> Iterator[FakeCovidApi]:
    api = FakeCovidApi()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            reply = api.next_reply(self.path)
            if reply.delay_s and api.stopped.wait(reply.delay_s):
                return
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if reply.trickle_bps:
                    for at in range(0, len(reply.body), reply.trickle_bps):
                        self.wfile.write(reply.body[at : at + reply.trickle_bps])
                        self.wfile.flush()
                        if api.stopped.wait(1.0):
                            return
                else:
                    self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    api.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        api.stopped.set()
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def covid_env(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Fresh settings per test: no live API, fast backoff, a private cache folder."""
    from shopdata.config import get_settings

    for name in ("SHOPDATA_COVID__API_BASE_URL", "SHOPDATA_COVID__CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHOPDATA_COVID__BACKOFF_S", "0.01")
    monkeypatch.setenv("SHOPDATA_COVID__CACHE_DIR", str(tmp_path / "covid-cache"))
    get_settings.cache_clear()
    yield tmp_path / "covid-cache"
    get_settings.cache_clear()
