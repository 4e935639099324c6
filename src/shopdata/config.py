"""The one typed settings object of shopdata.

Values come, in increasing priority, from the defaults below, a ``.env`` file, environment
variables and finally CLI options. Environment variables use the ``SHOPDATA_`` prefix and ``__``
between a section and its field, for example ``SHOPDATA_MEMBERS__REFERENCE_DATE=2022-01-01``.
``DATABASE_URL`` (no prefix) selects an existing PostgreSQL server instead of the embedded one.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from shopdata.carprice.settings import CarPriceSettings
from shopdata.covid.settings import CovidSettings
from shopdata.errors import SettingsError
from shopdata.members.settings import MembersSettings
from shopdata.orchestration.settings import OrchestrationSettings
from shopdata.salesdb.settings import SalesDbSettings


class Settings(BaseSettings):
    """All settings, one section per component."""

    model_config = SettingsConfigDict(
        env_prefix="SHOPDATA_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    database_url: str | None = Field(
        None,
        validation_alias=AliasChoices("DATABASE_URL", "SHOPDATA_DATABASE_URL"),
        description="PostgreSQL URL; unset = the embedded server under db.data_dir.",
    )
    members: MembersSettings = Field(default_factory=MembersSettings)
    db: SalesDbSettings = Field(default_factory=SalesDbSettings)
    covid: CovidSettings = Field(default_factory=CovidSettings)
    carprice: CarPriceSettings = Field(default_factory=CarPriceSettings)
    orchestration: OrchestrationSettings = Field(default_factory=OrchestrationSettings)


def describe_invalid(error: ValidationError) -> str:
    """One line naming the first invalid setting, the variable that set it and why."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    variable = "SHOPDATA_" + "__".join(str(part).upper() for part in first["loc"])
    return f"invalid setting {where} ({variable}={first.get('input')!r}): {first['msg']}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once; :class:`SettingsError` (one line) if one is invalid."""
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(describe_invalid(error)) from None
