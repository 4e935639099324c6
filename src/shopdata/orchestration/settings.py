"""Settings of the Dagster orchestration (part of :class:`shopdata.config.Settings`).

Environment: ``SHOPDATA_ORCHESTRATION__PORT=3001``, ``..._SUCCESSFUL_SHARE_MIN=0.1`` and so on.
The hourly backstop of the membership runs keeps using ``members.schedule_minute`` and
``members.schedule_interval_minutes``; the landing folder and settle window are the members'.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, model_validator


class OrchestrationSettings(BaseModel):
    """Where Dagster keeps its state, how it is served, and the quality checks' thresholds."""

    dagster_home: Path = Field(
        Path("var/dagster"),
        description="DAGSTER_HOME: dagster.yaml, run history and logs (SQLite unless configured).",
    )
    host: str = Field("127.0.0.1", description="Address the Dagster UI binds to.")
    port: int = Field(3000, ge=1, le=65535, description="Port of the Dagster UI.")
    sensor_interval_s: int = Field(
        30, ge=5, description="How often the landing-folder sensor looks for ready files."
    )
    covid_cron: str = Field(
        "15 6 * * *", description="When the COVID series cache is refreshed (cron, UTC)."
    )
    analytics_cron: str = Field(
        "30 * * * *",
        description="When the dbt models of the analytics layer are refreshed on their own "
        "(cron, UTC); each membership load refreshes them too.",
    )
    analytics_full_refresh_cron: str = Field(
        "0 3 * * 0",
        description="When the dbt models are rebuilt from scratch (--full-refresh; cron, UTC).",
    )
    max_retries: int = Field(
        3, ge=0, le=10, description="Retries of a step that failed on a transient error."
    )
    retry_delay_s: float = Field(
        10.0, ge=0, description="First retry delay; doubles on each retry (exponential back-off)."
    )
    carprice_models: tuple[str, ...] = Field(
        (),
        description="Model families the carprice_model asset compares (empty: all of them, as "
        "`carprice train`).",
    )
    successful_share_min: float = Field(
        0.05,
        ge=0,
        le=1,
        description="Asset check: a run whose successful share falls below this fails the check.",
    )
    successful_share_max: float = Field(
        0.60,
        ge=0,
        le=1,
        description="Asset check: a run whose successful share rises above this fails the check.",
    )

    @model_validator(mode="after")
    def _band_in_order(self) -> OrchestrationSettings:
        if self.successful_share_min > self.successful_share_max:
            raise ValueError(
                f"successful_share_min ({self.successful_share_min}) is above "
                f"successful_share_max ({self.successful_share_max})"
            )
        return self
