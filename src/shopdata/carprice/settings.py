"""Settings of the car price model (part of :class:`shopdata.config.Settings`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class CarPriceSettings(BaseModel):
    """Where the model and its metrics are written."""

    model_dir: Path = Field(Path("var/carprice"), description="Folder for the model and metrics.")
    seed: int = Field(42, description="Random seed for training and cross-validation.")
