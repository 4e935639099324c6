"""Settings of the COVID-19 dashboard (part of :class:`shopdata.config.Settings`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class CovidSettings(BaseModel):
    """Live API (optional), cache, data treatment and web server settings.

    The dashboard works with no setting at all: it then shows the bundled JHU CSSE snapshot.
    """

    api_base_url: str | None = Field(
        None, description="covid19api.com-shaped API; unset = offline (cache or bundled snapshot)."
    )
    country: str = Field(
        "singapore", pattern=r"^[a-z0-9-]+$", description="Country slug of the API routes."
    )
    timeout_s: float = Field(10.0, gt=0, description="Timeout of one HTTP request, seconds.")
    max_retries: int = Field(
        3, ge=0, le=10, description="Retries after a 429, a 5xx, a timeout or a refused connection."
    )
    backoff_s: float = Field(
        0.5, ge=0, description="First retry delay; doubles on each retry (capped at 8 s)."
    )
    deadline_s: float = Field(
        15.0,
        gt=0,
        description=(
            "One overall deadline for getting live data (all attempts, back-off and reading "
            "the body), seconds; `covid fetch` and the dashboard's background fetch obey it."
        ),
    )
    refresh_s: float = Field(
        3600.0,
        ge=0,
        description=(
            "How often the running dashboard fetches live data again, seconds "
            "(0 = only once, right after start-up)."
        ),
    )
    page_poll_s: float = Field(
        30.0,
        gt=0,
        description="How often an open page checks for newer data and updates the data's age.",
    )
    cache_dir: Path = Field(Path("var/covid"), description="Where `covid fetch` keeps the data.")
    pause_min_daily_mean: float = Field(
        5.0,
        ge=0,
        description=(
            "A run of days with no new cases is a reporting pause when the 7 days before it "
            "averaged at least this many new cases a day."
        ),
    )
    host: str = Field("127.0.0.1", description="Address the dashboard binds to.")
    port: int = Field(8050, ge=1, le=65535, description="Port the dashboard listens on.")
