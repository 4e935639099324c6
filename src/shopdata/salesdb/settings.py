"""Settings of the sales database (part of :class:`shopdata.config.Settings`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class SalesDbSettings(BaseModel):
    """Where the embedded PostgreSQL lives, or which server to use instead."""

    data_dir: Path = Field(Path("var/pgdata"), description="Embedded server's data directory.")
