"""Settings of the sales database (part of :class:`shopdata.config.Settings`).

Environment variables: ``SHOPDATA_DB__PORT=55432``, ``SHOPDATA_DB__SERVER_SETTINGS='{"work_mem":
"128MB"}'``; ``DATABASE_URL`` (top level) replaces the embedded server altogether.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class SalesDbSettings(BaseModel):
    """Where the embedded PostgreSQL lives, or which server to use instead, and seed defaults."""

    data_dir: Path = Field(Path("var/pgdata"), description="Embedded server's data directory.")
    dbt_dir: Path = Field(
        Path("var/dbt"),
        description="Where `refresh-analytics` has dbt write its target/ (manifest, run results, "
        "docs) and logs/ (the dbt project itself ships inside the package).",
    )
    port: int = Field(
        54329, ge=1024, le=65535, description="TCP port of the embedded server (127.0.0.1 only)."
    )
    database: str = Field(
        "shopdata",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="Database the commands use on the embedded server.",
    )
    server_settings: dict[str, str] = Field(
        default_factory=dict,
        description="Extra postgresql.conf settings for the embedded server (override the "
        "analytical defaults in shopdata.salesdb.server.ANALYTICS_SETTINGS).",
    )
    seed: int = Field(20240601, description="Random seed of `shopdata db seed`.")
    seed_members: int = Field(2_000, ge=0, le=1_048_576, description="Synthetic members.")
    seed_items: int = Field(200, ge=1, description="Items in the synthetic catalogue.")
    seed_transactions: int = Field(20_000, ge=0, description="Synthetic transactions.")
