"""Settings of the COVID-19 dashboard (part of :class:`shopdata.config.Settings`)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CovidSettings(BaseModel):
    """Live API (optional), cache and web server settings."""

    api_base_url: str | None = Field(
        None, description="covid19api.com-shaped API; unset = offline."
    )
    host: str = Field("127.0.0.1", description="Address the dashboard binds to.")
    port: int = Field(8050, ge=1, le=65535, description="Port the dashboard listens on.")
