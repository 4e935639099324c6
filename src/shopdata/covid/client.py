"""Client of a covid19api.com-shaped API (the public service stopped on 2023-05-15).

Only the route the dashboard needs: ``GET {base}/dayone/country/{slug}/status/confirmed``.
Transient failures (HTTP 429, any 5xx, a timeout, a refused or dropped connection) are retried
with exponential backoff; ``Retry-After`` on a 429 is honoured up to the backoff cap. Anything
else (a 404, malformed JSON, a response that fails the schema) fails at once with a one-line
:class:`ApiError`, because retrying cannot fix it.

``timeout_s`` bounds one read, so on its own a server that trickles bytes (or a hang plus
retries and back-off) could hold a caller for minutes. ``deadline_s`` is one overall budget for
all attempts, back-off and reading together: each request's timeout is cut to what is left, the
body is read in chunks with the clock checked after each, and a back-off that would end past the
deadline gives up at once.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from shopdata.covid.schema import DayCount, MalformedDataError, parse_api_records

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 8.0


class ApiError(RuntimeError):
    """The live API did not deliver usable data; the message is one line for the user."""


class _DeadlineError(Exception):
    """The overall deadline passed while reading a body."""


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A validated answer and how it was obtained."""

    url: str
    days: tuple[DayCount, ...]
    attempts: int
    retries: tuple[str, ...] = field(default=())
    """One line per failed attempt that was retried, e.g. ``"HTTP 500"``."""


def confirmed_url(base_url: str, country: str) -> str:
    """The dayone route for ``country``."""
    return f"{base_url.rstrip('/')}/dayone/country/{country}/status/confirmed"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class CovidApiClient:
    """Fetches one country's confirmed series; see the module docstring for the retry rules."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 10.0,
        max_retries: int = 3,
        backoff_s: float = 0.5,
        deadline_s: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.deadline_s = deadline_s
        self._sleep = sleep
        self._clock = clock

    def _delay(self, retry: int, response: httpx.Response | None) -> float:
        delay: float = min(MAX_BACKOFF_S, self.backoff_s * 2.0**retry)
        if response is not None and response.status_code == 429:
            after = _retry_after(response)
            if after is not None:
                delay = min(MAX_BACKOFF_S, max(delay, after))
        return delay

    def fetch_confirmed(self, country: str = "singapore") -> FetchResult:
        """GET, retry transient failures, validate; raise :class:`ApiError` otherwise.

        Returns or raises within ``deadline_s`` (plus one chunk's read) when it is set.
        """
        url = confirmed_url(self.base_url, country)
        attempts = self.max_retries + 1
        retries: list[str] = []
        ends_at = math.inf if self.deadline_s is None else self._clock() + self.deadline_s

        def left() -> float:
            return ends_at - self._clock()

        def past_deadline(detail: str) -> ApiError:
            return ApiError(
                f"GET {url}: no answer within the {self.deadline_s:g} s deadline ({detail})"
            )

        with httpx.Client(headers={"Accept": "application/json"}) as http:
            for attempt in range(1, attempts + 1):
                timeout = min(self.timeout_s, left())
                if timeout <= 0:
                    raise past_deadline(f"{attempt - 1} attempt(s) made")
                response: httpx.Response | None = None
                try:
                    with http.stream("GET", url, timeout=timeout) as response:
                        body = self._read(response, left) if response.status_code == 200 else b""
                except _DeadlineError as exc:
                    raise past_deadline(str(exc)) from None
                except httpx.TimeoutException:
                    if left() <= 0:
                        raise past_deadline(f"attempt {attempt} timed out") from None
                    problem = f"timed out after {self.timeout_s:g} s"
                except httpx.TransportError as exc:
                    problem = f"connection failed ({type(exc).__name__}: {exc})"
                else:
                    if response.status_code == 200:
                        days = self._decode(url, body)
                        return FetchResult(url, days, attempt, tuple(retries))
                    problem = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
                    if response.status_code != 429 and response.status_code < 500:
                        raise ApiError(f"GET {url}: {problem}")
                if attempt == attempts:
                    tries = f"{attempts} attempt{'s' if attempts > 1 else ''}"
                    raise ApiError(f"GET {url}: {problem} (gave up after {tries})")
                delay = self._delay(attempt - 1, response)
                if delay >= left():
                    raise past_deadline(
                        f"attempt {attempt}: {problem}; no time left to retry in {delay:g} s"
                    )
                retries.append(problem)
                log.warning("GET %s: %s; retry %d in %.2f s", url, problem, attempt, delay)
                self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _read(response: httpx.Response, left: Callable[[], float]) -> bytes:
        """The body, chunk by chunk, checking the deadline after each chunk."""
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if left() <= 0:
                raise _DeadlineError(f"{size:,} bytes of the body received")
        return b"".join(chunks)

    @staticmethod
    def _decode(url: str, content: bytes) -> tuple[DayCount, ...]:
        try:
            payload = json.loads(content)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            detail = (
                f"{exc.msg} at line {exc.lineno} column {exc.colno}"
                if isinstance(exc, json.JSONDecodeError)
                else "not UTF-8"
            )
            raise ApiError(f"GET {url}: response is not valid JSON ({detail})") from None
        try:
            return parse_api_records(payload, f"GET {url}")
        except MalformedDataError as exc:
            raise ApiError(str(exc)) from None
