"""Settings of the car price model (part of :class:`shopdata.config.Settings`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class CarPriceSettings(BaseModel):
    """Where the model and its metrics are written, and how thoroughly it is evaluated.

    Environment: ``SHOPDATA_CARPRICE__MODEL_DIR``, ``..._SEED``, ``..._FOLDS``, ``..._REPEATS``,
    ``..._JOBS``, ``..._TIE_MARGIN``; the matching ``train`` and ``predict`` options override them.
    """

    model_dir: Path = Field(Path("var/carprice"), description="Folder for the model and metrics.")
    seed: int = Field(42, description="Random seed for training and cross-validation.")
    folds: int = Field(5, ge=2, description="Folds per cross-validation repeat.")
    repeats: int = Field(10, ge=1, description="Repeats of the stratified K-fold split.")
    jobs: int = Field(2, ge=1, description="Folds fitted in parallel processes.")
    tie_margin: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        description="`predict` gives no clear answer when the top two probabilities are closer.",
    )
