"""Settings of the membership pipeline (part of :class:`shopdata.config.Settings`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import BaseModel, Field


class MembersSettings(BaseModel):
    """Where the pipeline reads and writes, and the business rules' parameters."""

    landing_dir: Path = Field(
        Path("var/landing"), description="Folder the website drops CSVs into."
    )
    output_dir: Path = Field(Path("var/members"), description="Root of all pipeline outputs.")
    reference_date: dt.date = Field(
        dt.date(2022, 1, 1), description="Date on which applicants must be 18 or older."
    )
    minimum_age: int = Field(18, ge=0, description="Minimum age in whole years on reference_date.")
    email_domain_suffixes: tuple[str, ...] = Field(
        (".com", ".net"), description="Allowed endings of the e-mail domain (case-insensitive)."
    )
    settle_seconds: float = Field(
        5.0,
        ge=0,
        description="A landed file modified less than this many seconds ago waits for a later run.",
    )
    archive_watch_seconds: float = Field(
        86_400.0,
        ge=0,
        description="Files archived this recently are checked for lines a writer appended since.",
    )
    file_mode: int = Field(
        0o640, ge=0, le=0o777, description="Permissions of every output file (personal data)."
    )
    dir_mode: int = Field(
        0o750,
        ge=0,
        le=0o777,
        description="Permissions of every output folder the pipeline creates.",
    )
    batch_rows: int = Field(
        500_000,
        ge=1,
        description="Applications evaluated and written at a time: bounds memory (about 0.6 KiB "
        "a row), never changes the outputs.",
    )
    read_piece_bytes: int = Field(
        32 * 1024 * 1024,
        ge=1024,
        description="A landed file larger than this is read in pieces of this size, never whole "
        "(bounds memory; the outputs are the same).",
    )
    schedule_minute: int = Field(
        0, ge=0, le=59, description="Minute past each hour of the Dagster backstop schedule."
    )
    schedule_interval_minutes: int = Field(
        60,
        ge=1,
        description="Minutes between the Dagster backstop schedule's runs (a divisor of 60, or a "
        "multiple of 60 that divides 1440).",
    )
