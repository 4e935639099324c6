"""The shape of the data: covid19api.com records in, one cumulative count per day out.

Everything that enters the component (live API, cache, bundled snapshot) goes through
:func:`parse_api_records` or :func:`check_series`, so the chart code can rely on one invariant:
one count per calendar day, strictly increasing dates, non-negative integers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class MalformedDataError(ValueError):
    """The data does not have the expected shape; the message is one line for the user."""


class DayCount(NamedTuple):
    """Cumulative confirmed cases reported up to and including ``date``."""

    date: dt.date
    cumulative: int


class ApiRecord(BaseModel):
    """One element of ``GET /dayone/country/{slug}/status/confirmed``.

    Extra fields (the later ``ID``) are allowed; the fields we use are strict, so a string
    ``"12"`` in ``Cases`` is an error rather than a silent conversion.
    """

    model_config = ConfigDict(extra="allow", strict=True)

    Country: str
    CountryCode: str = ""
    Province: str = ""
    City: str = ""
    CityCode: str = ""
    Lat: str = ""
    Lon: str = ""
    Cases: int = Field(ge=0)
    Status: Literal["confirmed"]
    Date: dt.datetime = Field(strict=False)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in err["loc"]) or "record"
    return f"{where}: {err['msg']} (got {err['input']!r})"


def parse_api_records(payload: Any, origin: str) -> tuple[DayCount, ...]:
    """Validate a decoded API response and turn it into daily cumulative counts.

    ``origin`` names where the payload came from (a URL or a file) for the error message.
    Raises :class:`MalformedDataError` on anything unexpected, including an empty array: an
    empty answer is a broken source, not "no cases", and must not replace good data.
    """
    if not isinstance(payload, list):
        raise MalformedDataError(
            f"{origin}: expected a JSON array of daily records, got {type(payload).__name__}"
        )
    if not payload:
        raise MalformedDataError(f"{origin}: the API returned an empty array (no records)")
    days: list[DayCount] = []
    for index, item in enumerate(payload):
        if not isinstance(item, dict):
            raise MalformedDataError(
                f"{origin}: item {index}: expected an object, got {type(item).__name__}"
            )
        try:
            record = ApiRecord.model_validate(item)
        except ValidationError as exc:
            raise MalformedDataError(f"{origin}: item {index}: {_first_error(exc)}") from None
        if record.Province or record.City:
            raise MalformedDataError(
                f"{origin}: item {index}: expected country-level records, got province "
                f"{record.Province!r} city {record.City!r}"
            )
        days.append(DayCount(_utc_date(record.Date), record.Cases))
    return check_series(days, origin)


def _utc_date(value: dt.datetime) -> dt.date:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.date()


def check_series(days: list[DayCount], origin: str) -> tuple[DayCount, ...]:
    """Check that dates strictly increase and counts are non-negative; return a tuple."""
    if not days:
        raise MalformedDataError(f"{origin}: no data rows")
    for index, day in enumerate(days):
        if day.cumulative < 0:
            raise MalformedDataError(
                f"{origin}: {day.date.isoformat()}: negative cumulative count {day.cumulative}"
            )
        if index and day.date <= days[index - 1].date:
            kind = "duplicate" if day.date == days[index - 1].date else "out-of-order"
            raise MalformedDataError(
                f"{origin}: item {index}: {kind} date {day.date.isoformat()} "
                f"after {days[index - 1].date.isoformat()}"
            )
    return tuple(days)
